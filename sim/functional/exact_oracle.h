#pragma once

#include <Eigen/Dense>

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

}  // namespace nfsim::sim
