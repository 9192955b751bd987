#pragma once

#include <Eigen/Dense>
#include <atomic>
#include <cstdint>
#include <vector>

#include "faults/fault_plan.h"
#include "models/network.h"

namespace nfsim::sim {

// Exact mean and variance of Delta (n_L x inputs), by enumerating every subset S of the plan's
// fault sites with probability prod_{s in S} p_s prod_{s not in S} (1 - p_s). An oracle for
// tests: it evaluates each subset with a plain full forward pass of a copy of the network
// (independent of the engines' code paths). Throws InputError above `max_sites` sites.
struct ExactMoments {
  Eigen::MatrixXd mean;
  Eigen::MatrixXd variance;
};

ExactMoments exact_moments(const models::Network& network, const Eigen::MatrixXd& inputs,
                           const faults::FaultPlan& plan, int max_sites = 22);

// The exact distribution's summaries that a report needs, per (output, input): what the `exact`
// engine reports in place of sampled statistics. Units with probability 0 never fail and units
// with probability 1 always do, so only units with 0 < p < 1 are enumerated (2^units subsets).
struct ExactResult {
  Eigen::MatrixXd mean, variance, mean_abs, max_abs;  // outputs x inputs
  Eigen::MatrixXd norm_mean;                          // 3 x inputs: E||Delta||_1, _2, _inf
  double accuracy_mean = -1;                          // with labels: E[trial accuracy]
  std::uint64_t units = 0;                            // units enumerated (0 < p < 1)
  std::uint64_t subsets = 0;                          // 2^units
};

// Thrown by exact_distribution when `stop` is set during the enumeration (SIGINT).
struct EnumerationInterrupted {};

// Counts the units that can fail or not (0 < p < 1): the enumeration's exponent.
std::uint64_t uncertain_units(const faults::FaultPlan& plan);

// Exact summaries of Delta against `reference` (n_L x inputs; the fault-free outputs), with
// `labels` (one per input, or empty) for the expected accuracy. Throws InputError above
// `max_units` uncertain units.
// `stop` (may be null) is polled every 1024 subsets; when set, EnumerationInterrupted is thrown.
ExactResult exact_distribution(const models::Network& network, const Eigen::MatrixXd& inputs,
                               const faults::FaultPlan& plan, const Eigen::MatrixXd& reference,
                               const std::vector<int>& labels, std::uint64_t max_units,
                               const std::atomic<bool>* stop = nullptr);

}  // namespace nfsim::sim
