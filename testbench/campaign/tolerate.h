#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "testbench/campaign/campaign_config.h"

namespace nfsim::tb {

struct TolerateOptions {
  double epsilon = 0.01;
  std::string metric = "mean_abs";  // mean_abs | accuracy_drop
  double confidence = 0.99;
  int spec = -1;                    // -1: scale every spec's probability together; else only this one
  std::uint64_t trials = 0;         // Monte-Carlo check; 0: the campaign's trials
};

// The largest failure probability at which the bounds keep the metric under epsilon, and a
// Monte-Carlo check at that probability (docs/tolerate.md):
// - mean_abs: the predicted max over inputs and outputs of sqrt(b4_mean^2 + b4_var) (which bounds
//   E|Delta_k| by Jensen), against the measured max of mean |Delta_k| (upper confidence limit);
// - accuracy_drop: the predicted drop, per correctly classified input the Cantelli bound on the
//   probability that the top-two logit margin closes (b4 mean and std of both logits), against
//   the measured drop (upper confidence limit). Needs labels.
// b4's mean and variance are linear in each p, so the search evaluates them from per-spec
// coefficients; the probability is found by bisection. Returns the result as JSON.
nlohmann::json tolerate(const CampaignConfig& config, const TolerateOptions& options);

}  // namespace nfsim::tb
