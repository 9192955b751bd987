#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "testbench/campaign/campaign_config.h"

namespace nfsim::tb {

// `nfsim harden CAMPAIGN.yaml --budget N` (docs/harden.md): the N units whose TMR lowers the
// predicted metric most, and the before/after Monte Carlo that checks it.
struct HardenOptions {
  std::uint64_t budget = 1;
  std::string metric = "variance";  // variance | accuracy_drop
  std::optional<std::uint64_t> trials;
  double confidence = 0.95;
};

// A value with a two-sided confidence interval (batch means over the statistics blocks).
struct Estimate {
  double value = 0, low = 0, high = 0;
};

struct HardenedUnit {
  std::size_t spec = 0;
  std::uint64_t unit = 0;
  std::string name;          // "faults[0] neuron_crash unit 11: layer 2, neuron 3 (array 0, core 1)" (sim::UnitLocator)
  double p = 0, q = 0;       // its probability, unprotected and under TMR
  double reduction = 0;      // predicted reduction of the metric (first order)
};

struct HardenResult {
  std::string metric;
  std::size_t candidates = 0;     // units that could be protected
  Eigen::Index inputs = 0;        // inputs ranked and measured (the first 20 of the campaign)
  std::vector<HardenedUnit> chosen;
  double predicted_before = 0, predicted_after = 0;  // first order (b4 with p(1-p))
  std::uint64_t trials = 0;
  std::uint64_t blocks = 0;
  Estimate measured_before, measured_after, measured_reduction;  // same seed: common random numbers
  std::string protection_yaml;    // the `protection:` entry that protects the chosen units
};

HardenResult harden(const CampaignConfig& config, const HardenOptions& options);

// `nfsim harden CAMPAIGN.yaml --replicas --epsilon E --delta D`: the seed paper's certificate for
// Algorithm 1 (median of R replicas), from b4, checked by Monte Carlo.
struct CertificateOptions {
  double epsilon = 0;
  double delta = 0.01;
  std::optional<std::uint64_t> trials;
  double confidence = 0.95;
};
struct CertificateResult {
  Eigen::Index inputs = 0;
  double chebyshev = 0;             // max over inputs and outputs of Var / (eps - |mean|)^2 (b4); inf if a mean >= eps
  Eigen::Index worst_input = 0, worst_output = 0;
  bool condition = false;           // chebyshev < 1/3: the paper's per-replica condition
  std::uint32_t r_paper = 0;        // ceil(2 ln(1/delta) / ln 3)
  double tail_at_r_paper = 1;       // P(Binomial(R, chebyshev) >= R/2): the median's failure bound at r_paper
  std::uint32_t r_binomial = 0;     // smallest R with that tail <= delta (0: none up to 1000)
  std::uint64_t trials = 0;
  // Measured failure rates (a failure: |Delta_k| > eps), the worst input and output, with the
  // upper confidence limit (Wilson): one replica, and the median of r_paper replicas.
  double rate_single = 0, rate_single_upper = 0;
  double rate_median = 0, rate_median_lower = 0, rate_median_upper = 0;
  // The Monte Carlo does not contradict the certificate: the median's measured rate (its lower
  // confidence limit) is at most tail_at_r_paper.
  bool holds = false;
};
CertificateResult replica_certificate(const CampaignConfig& config, const CertificateOptions& options);

}  // namespace nfsim::tb
