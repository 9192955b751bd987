#include "testbench/campaign/tolerate.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "sim/engine/i_engine.h"
#include "core/running_stats.h"
#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "testbench/campaign/runner.h"

namespace nfsim::tb {
namespace {

// b4 mean and variance per input (columns) and output (rows) for one spec at probability 1.
struct Coefficients {
  Eigen::MatrixXd mean, var;
};

Coefficients coefficients(const models::Network& net, const Eigen::MatrixXd& inputs, faults::FaultSpec spec) {
  spec.probability = 1.0;
  const faults::FaultPlan plan({spec}, net);
  const models::bounds::BoundCalculator calc(net, faults::to_bound_model(plan));
  Coefficients c{Eigen::MatrixXd(net.output_size(), inputs.cols()), Eigen::MatrixXd(net.output_size(), inputs.cols())};
  for (Eigen::Index n = 0; n < inputs.cols(); ++n) {
    const auto b = calc.compute(inputs.col(n), {"b4"}).at("b4");
    c.mean.col(n) = b.mean;
    c.var.col(n) = b.std.cwiseAbs2();
  }
  return c;
}

}  // namespace

nlohmann::json tolerate(const CampaignConfig& config, const TolerateOptions& o) {
  if (!(o.epsilon > 0) || !std::isfinite(o.epsilon)) throw core::InputError("--epsilon " + std::to_string(o.epsilon) + ": expected a positive number");
  if (o.metric != "mean_abs" && o.metric != "accuracy_drop") {
    throw core::InputError("--metric '" + o.metric + "': expected mean_abs or accuracy_drop");
  }
  if (!(o.confidence > 0 && o.confidence < 1)) throw core::InputError("--confidence: expected a number in (0, 1)");
  // The rate is checked by a Monte-Carlo run and its upper confidence limit.
  if (sim::EngineRegistry::instance().get(config.engine, config.file + ": engine").capabilities.exact) {
    throw core::InputError(config.file + ": engine '" + config.engine + "': nfsim tolerate checks its rate by Monte Carlo and "
                           "the exact engine has no trials; expected engine: " +
                           sim::EngineRegistry::instance().names_with([](const sim::EngineCapabilities& c) { return !c.exact; }) +
                           " (--set engine=functional)");
  }
  const PreparedCampaign prepared = prepare_campaign(config);
  const models::Network& net = prepared.network;
  const Eigen::MatrixXd& x = prepared.data.inputs;
  if (o.metric == "accuracy_drop" && prepared.data.labels.empty()) {
    throw core::InputError(config.file + ": inputs.labels is needed for --metric accuracy_drop");
  }
  if (o.spec >= static_cast<int>(prepared.specs.size())) {
    throw core::InputError("--spec " + std::to_string(o.spec) + ": the campaign has " + std::to_string(prepared.specs.size()) + " fault specs");
  }
  for (const auto& s : prepared.specs) {
    if (s.onset_ns > 0) throw core::InputError("tolerate: onset times are not modelled by the bounds; remove onset_ns");
  }
  // Per-spec coefficients; the searched probability vector is p_s(a) = a * base_s for the varied
  // specs (base 1 for a single varied spec), fixed for the others.
  std::vector<Coefficients> coef;
  std::vector<double> base;
  for (std::size_t s = 0; s < prepared.specs.size(); ++s) {
    coef.push_back(coefficients(net, x, prepared.specs[s]));
    base.push_back(prepared.specs[s].probability);
  }
  const bool one = o.spec >= 0;
  auto probability = [&](std::size_t s, double a) {
    if (one) return static_cast<int>(s) == o.spec ? a : base[s];
    return std::min(1.0, a * base[s]);
  };
  double a_max = 1.0;
  if (!one) {
    double pmax = 0;
    for (double b : base) pmax = std::max(pmax, b);
    if (pmax <= 0) throw core::InputError(config.file + ": every fault probability is 0; nothing to scale");
    a_max = 1.0 / pmax;
  }
  const Eigen::MatrixXd clean = net.forward_batch(x);
  auto predicted = [&](double a) {
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(clean.rows(), clean.cols()), var = mean;
    for (std::size_t s = 0; s < coef.size(); ++s) {
      mean += probability(s, a) * coef[s].mean;
      var += probability(s, a) * coef[s].var;
    }
    if (o.metric == "mean_abs") return (mean.cwiseAbs2() + var).cwiseSqrt().maxCoeff();
    double drop = 0;
    for (Eigen::Index n = 0; n < clean.cols(); ++n) {
      Eigen::Index top = 0;
      clean.col(n).maxCoeff(&top);
      if (top != prepared.data.labels[static_cast<std::size_t>(n)]) continue;
      Eigen::Index second = top == 0 ? 1 : 0;
      for (Eigen::Index k = 0; k < clean.rows(); ++k) {
        if (k != top && clean(k, n) > clean(second, n)) second = k;
      }
      const double margin = clean(top, n) - clean(second, n);
      const double mu = mean(top, n) - mean(second, n);
      const double sd = std::sqrt(var(top, n)) + std::sqrt(var(second, n));  // Cauchy-Schwarz
      const double gap = margin + mu;
      drop += gap <= 0 ? 1.0 : (sd * sd) / (sd * sd + gap * gap);  // Cantelli
    }
    return drop / static_cast<double>(clean.cols());
  };
  // Bisection for the largest a with predicted(a) <= epsilon.
  double lo = 0, hi = a_max;
  if (predicted(0) > o.epsilon) {
    lo = hi = 0;
  } else if (predicted(a_max) <= o.epsilon) {
    lo = hi = a_max;
  } else {
    for (int it = 0; it < 60; ++it) {
      const double mid = 0.5 * (lo + hi);
      (predicted(mid) <= o.epsilon ? lo : hi) = mid;
    }
  }
  const double a = lo;
  // Monte-Carlo check at that probability.
  CampaignConfig check = config;
  for (std::size_t s = 0; s < check.faults.size(); ++s) check.faults[s].probability = probability(s, a);
  if (o.trials > 0) {
    check.trials = o.trials;
    check.stopping.automatic = false;
  }
  check.bounds = {"b4"};
  check.confidence = o.confidence;
  const CampaignResult r = run_campaign(check);
  const double z = core::normal_quantile_two_sided(o.confidence);
  double measured = 0, upper = 0;
  if (o.metric == "mean_abs") {
    for (Eigen::Index n = 0; n < r.stats.inputs(); ++n) {
      for (Eigen::Index k = 0; k < r.stats.outputs(); ++k) {
        const auto& s = r.stats.abs_delta(n, k);
        measured = std::max(measured, s.mean());
        upper = std::max(upper, s.mean() + s.mean_half_width(z));
      }
    }
  } else {
    const auto& acc = r.stats.accuracy();
    measured = r.fault_free_accuracy - acc.mean();
    upper = measured + acc.mean_half_width(z);
  }
  nlohmann::json probabilities = nlohmann::json::array();
  for (std::size_t s = 0; s < prepared.specs.size(); ++s) {
    const auto& spec = prepared.specs[s];
    probabilities.push_back({{"spec", s}, {"kind", spec.kind_name()},
                             {"probability", probability(s, a)}});
  }
  const bool agree = upper <= o.epsilon;
  return {{"metric", o.metric},
          {"epsilon", o.epsilon},
          {"confidence", o.confidence},
          {"varied", one ? nlohmann::json(o.spec) : nlohmann::json("all specs, scaled together")},
          {"scale", one ? nlohmann::json(nullptr) : nlohmann::json(a)},
          {"tolerated_probabilities", probabilities},
          {"predicted_metric", predicted(a)},
          {"monte_carlo", {{"trials", r.trials_done}, {"measured_metric", measured}, {"upper_confidence_limit", upper}}},
          {"agree", agree},
          {"at_search_limit", a >= a_max}};
}

}  // namespace nfsim::tb
