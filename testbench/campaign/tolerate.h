#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "testbench/campaign/campaign_config.h"

namespace nfsim::tb {

struct TolerateOptions {
  double epsilon = 0.01;
  std::string metric = "mean_abs";  // mean_abs | accuracy_drop
  double confidence = 0.99;
  int spec = -1;                    // -1: scale every spec's probability together; else only this one
  std::uint64_t step_trials = 256;  // Monte-Carlo trials per round at one search point
  std::uint64_t max_trials = 200000; // trial budget of the whole search
  double rate_precision = 0.05;     // stop when hi / lo - 1 of the rate interval is at most this
  int max_rounds = 8;               // rounds (of step_trials) at most per point before it is called undecided
  std::string engine;               // engine of the search; empty: functional (campaign's if it is "campaign")
};

// Two answers for the largest failure rate at which the metric stays at most epsilon
// (docs/tolerate.md):
// - certified: the bounds' rate, b4 inverted through a distribution-free inequality (Jensen for
//   mean_abs, Cantelli for accuracy_drop): a guaranteed lower bound up to b4's first-order
//   approximation in p;
// - estimated: a Monte-Carlo search on log p from the certified rate (bracketing, then bisection,
//   common random numbers: round k of every point uses seed + k), with a confidence interval on the
//   rate itself: [largest rate whose metric's upper limit <= epsilon, smallest rate whose lower
//   limit >= epsilon].
// The varied quantity is one spec's probability (spec >= 0) or a scale a of all of them
// (p_s = min(1, a p_s0)). The result's "status" is "ok", "unreachable" (even rate 0 cannot meet
// epsilon: the caller exits 3) or "limit" (every rate up to the search limit is tolerated).
nlohmann::json tolerate(const CampaignConfig& config, const TolerateOptions& options);

// The console form of tolerate()'s result.
void print_tolerate(std::FILE* out, const nlohmann::json& result);

}  // namespace nfsim::tb
