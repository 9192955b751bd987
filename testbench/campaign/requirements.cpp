#include "testbench/campaign/requirements.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/running_stats.h"
#include "core/strings.h"
#include "sim/engine/i_engine.h"
#include "testbench/campaign/runner.h"

namespace nfsim::tb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// "95%" for 0.95 (at most 4 significant digits: 0.999 is "99.9%").
std::string percent(double confidence) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%%", confidence * 100.0);
  return buf;
}

// An accuracy or error budget judged on the conservative side of the measured interval.
RequirementResult check_budget(const Requirement& q, const BudgetEvidence& ev) {
  RequirementResult e;
  e.requirement = q.describe();
  e.limit = q.threshold;
  if (q.bound == "accuracy") {
    if (!ev.fault_free_accuracy || !ev.accuracy_lo || !ev.accuracy_mean) {
      e.note = "no accuracy (the inputs have no labels)";
      return e;
    }
    if (q.condition == "max_drop") {
      e.value = *ev.fault_free_accuracy - *ev.accuracy_lo;
      e.estimate = *ev.fault_free_accuracy - *ev.accuracy_mean;
      e.met = *e.value <= q.threshold;
    } else {  // min
      e.value = *ev.accuracy_lo;
      e.estimate = *ev.accuracy_mean;
      e.met = *e.value >= q.threshold;
    }
    return e;
  }
  // error: the largest upper limit over inputs (and outputs for all), with where it is.
  const bool by_std = q.condition == "max_std";
  const auto& hi = by_std ? ev.std_hi : ev.mean_abs_hi;
  const auto& point = by_std ? ev.std : ev.mean_abs;
  double worst = -std::numeric_limits<double>::infinity();
  bool undefined = false;
  for (std::size_t n = 0; n < hi.size(); ++n) {
    for (Eigen::Index k = 0; k < hi[n].size(); ++k) {
      if (q.output >= 0 && k != q.output) continue;
      if (!std::isfinite(hi[n][k])) {
        undefined = true;
        continue;
      }
      if (hi[n][k] > worst) {
        worst = hi[n][k];
        e.input = static_cast<long>(n);
        e.output = static_cast<int>(k);
        e.estimate = point[n][k];
      }
    }
  }
  if (undefined) {
    e.value = kNaN;
    e.note = "interval undefined for some input (too few trials)";
    return e;
  }
  if (!e.input) {
    e.note = "no measurement";
    return e;
  }
  e.value = worst;
  e.met = worst <= q.threshold;
  return e;
}

}  // namespace

bool is_budget(const std::string& name) { return name == "accuracy" || name == "error" || name == "deadline_miss"; }

void read_budget(const core::YamlReader& r, const std::string& name, const YAML::Node& key_node, const YAML::Node& value,
                 const CampaignConfig& c, std::vector<Requirement>& out) {
  const std::string key = "require." + name;
  if (name == "deadline_miss") {
    r.fail(key_node, key, "not yet available (a deadline budget needs per-inference deadlines, a later version)",
           "accuracy or error budgets, or a bound's conditions");
  }
  const bool exact = sim::EngineRegistry::instance().get(c.engine, "engine").capabilities.exact;
  const std::string conf = percent(c.confidence);
  auto upper = [&](const std::string& what) {
    return exact ? "the exact value of " + what + " (engine '" + c.engine + "')" : "the upper limit of the " + conf + " interval of " + what;
  };
  if (name == "accuracy") {
    const std::vector<std::string> conditions{"max_drop", "min"};
    if (!value.IsMap() || value.size() == 0) r.fail(value, key, "wrong type", "a mapping like {max_drop: 0.01} or {min: 0.9}");
    r.check_keys(value, key, conditions);
    for (const auto& cond : value) {
      const std::string cname = cond.first.Scalar();
      Requirement q{name, cname, r.number_in(cond.second, key + "." + cname, 0.0, 1.0), -1, {}, {}};
      q.judged_on = cname == "max_drop" ? upper("the accuracy drop")
                    : exact ? "the exact value of the faulty accuracy (engine '" + c.engine + "')"
                            : "the lower limit of the " + conf + " interval of the faulty accuracy";
      out.push_back(q);
    }
    if (c.inputs.labels_path.empty()) {
      r.missing(key_node, key, "an accuracy budget needs labelled inputs", "inputs.labels (a file of class labels)");
    }
    return;
  }
  // error
  const std::vector<std::string> conditions{"max_mean_abs", "max_std", "output"};
  if (!value.IsMap()) r.fail(value, key, "wrong type", "a mapping like {max_mean_abs: 0.05, max_std: 0.1, output: all}");
  r.check_keys(value, key, conditions);
  if (!value["max_mean_abs"] && !value["max_std"]) {
    r.missing(value, key, "no budget given", "max_mean_abs, max_std or both (with output: K or all)");
  }
  int output = -1;
  if (const YAML::Node o = value["output"]) {
    if (!(o.IsScalar() && o.Scalar() == "all")) {
      if (!o.IsScalar()) r.fail(o, key + ".output", "wrong type", "an output index >= 0 or all");
      try {
        output = static_cast<int>(core::parse_int(o.Scalar(), key + ".output", 0, 1 << 30));
      } catch (const core::InputError&) {
        r.fail(o, key + ".output", "not an output", "an output index >= 0 or all");
      }
      if (c.model.generate && output >= c.model.generate->widths.back()) {
        r.fail(o, key + ".output", "output index out of range",
               "an index below " + std::to_string(c.model.generate->widths.back()) + " (the network's outputs) or all");
      }
    }
  }
  const std::string over = output < 0 ? ", largest over inputs and outputs" : ", largest over inputs";
  for (const std::string cname : {"max_mean_abs", "max_std"}) {
    const YAML::Node t = value[cname];
    if (!t) continue;
    Requirement q{name, cname, r.number(t, key + "." + cname), -1, {}, {}};
    if (!(q.threshold >= 0)) r.fail(t, key + "." + cname, "threshold out of range", "a number >= 0");
    q.output = output;
    if (value["output"]) q.origin = r.context(value["output"], key + ".output").prefix();
    q.judged_on = upper(cname == "max_std" ? "std Delta" : "mean |Delta|") + over;
    out.push_back(q);
  }
}

void check_budgets_fit(const CampaignConfig& c, Eigen::Index outputs) {
  for (const Requirement& q : c.require) {
    if (q.bound == "error" && q.output >= outputs) {
      const core::ErrorContext where = q.origin.empty() ? core::ErrorContext{c.file, 0, "require.error.output"} : core::ErrorContext{q.origin, 0, {}};
      core::throw_input_error(where, "output index out of range",
                              "'" + std::to_string(q.output) + "'",
                              "an index below " + std::to_string(outputs) + " (the network's outputs) or all");
    }
  }
}

BudgetEvidence budget_evidence(const CampaignResult& r) {
  BudgetEvidence ev;
  ev.confidence = r.config.confidence;
  for (const Measured& m : r.measured) {
    ev.mean_abs.push_back(m.mean_abs);
    ev.mean_abs_hi.push_back(m.mean_abs + m.mean_abs_hw);
    ev.std.push_back(m.std);
    ev.std_hi.push_back(m.std + m.std_hw);
  }
  if (r.fault_free_accuracy >= 0) {
    const double z = core::normal_quantile_two_sided(r.config.confidence);
    const double mean = r.exact ? r.exact->accuracy_mean : r.stats.accuracy().mean();
    const double hw = r.exact ? 0.0 : r.stats.accuracy().mean_half_width(z);
    ev.fault_free_accuracy = r.fault_free_accuracy;
    ev.accuracy_mean = mean;
    ev.accuracy_lo = mean - hw;
  }
  return ev;
}

std::vector<RequirementResult> check_requirements(const std::vector<Requirement>& require, const PointReport& point,
                                                  const BudgetEvidence& evidence) {
  std::vector<RequirementResult> out;
  for (const Requirement& q : require) {
    if (q.bound == "accuracy" || q.bound == "error") {
      out.push_back(check_budget(q, evidence));
      continue;
    }
    RequirementResult e;
    e.requirement = q.describe();
    const auto it = point.summary.find(q.bound);
    if (q.bound == "programming") {
      const ProgrammingReport* p = point.chip && point.chip->programming ? &*point.chip->programming : nullptr;
      if (!p) {
        e.note = "no chip programmed";
      } else if (q.condition == "max_abs_output_error") {
        e.value = p->max_abs_output_error;
        e.met = p->max_abs_output_error && *p->max_abs_output_error <= q.threshold;
      } else if (q.condition == "max_abs_weight_error") {
        e.value = p->max_abs_weight_error;
        e.met = p->max_abs_weight_error <= q.threshold;
      }
    } else if (it == point.summary.end()) {
      e.note = "bound not computed (is it in bounds:, and defined for these faults?)";
    } else {
      const BoundSummary& s = it->second;
      // NaN (undefined agreement) fails every comparison.
      if (q.condition == "holds") {
        e.value = s.fraction_holding;
        e.met = s.fraction_holding && *s.fraction_holding >= 1.0;
        if (!s.fraction_holding) e.note = "not a magnitude bound";
      } else if (q.condition == "max_median_rel_err") {
        e.value = s.mean.median_rel_err;
        e.met = s.mean.median_rel_err <= q.threshold;
      } else if (q.condition == "min_pearson") {
        e.value = s.mean.pearson;
        e.met = s.mean.pearson >= q.threshold;
      } else if (q.condition == "max_rank_loss") {
        e.value = s.mean.rank_loss;
        e.met = s.mean.rank_loss <= q.threshold;
      } else if (q.condition == "min_inside_ci") {
        // Fraction of (input, output) whose predicted mean lies inside the measured interval.
        std::size_t inside = 0, total = 0;
        for (const auto& in : point.inputs) {
          const auto v = in.verdicts.find(q.bound);
          if (v == in.verdicts.end()) continue;
          for (bool b : v->second.mean_inside_ci) {
            ++total;
            inside += b;
          }
        }
        e.value = total ? static_cast<double>(inside) / static_cast<double>(total) : 0.0;
        e.met = total && *e.value >= q.threshold;
      }
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace nfsim::tb
