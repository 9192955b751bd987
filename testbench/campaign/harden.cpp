// `nfsim harden`: which units to protect with TMR, and the seed paper's replica certificate
// (docs/harden.md). Predictions are first order (single-unit effects, as b4); every prediction
// is checked by Monte Carlo on the campaign's engine with the campaign's seed.
#include "testbench/campaign/harden.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/running_stats.h"
#include "core/strings.h"
#include "faults/bound_model.h"
#include "sim/topology/unit_location.h"
#include "models/bounds/bounds.h"
#include "testbench/campaign/prepare.h"

namespace nfsim::tb {
namespace {

// Inputs ranked and measured: the first ones of the campaign (as the report's variance_by_term).
constexpr Eigen::Index kMaxInputs = 20;

// Mean and interval of per-block values (batch means).
Estimate batch_mean(const std::vector<double>& v, double z) {
  Estimate e;
  if (v.empty()) return e;
  const core::RunningStats st = core::RunningStats::of_values(v.data(), v.size());
  e.value = st.mean();
  const double hw = v.size() > 1 ? z * std::sqrt(st.sample_variance() / static_cast<double>(v.size())) : INFINITY;
  e.low = e.value - hw;
  e.high = e.value + hw;
  return e;
}

// The metric of one block of trials: mean over inputs of the sum over outputs of the (unbiased)
// variance of Delta, or the accuracy drop from the fault-free accuracy.
double block_metric(const sim::ErrorStats& st, const std::string& metric, double clean_accuracy) {
  if (metric == "accuracy_drop") return clean_accuracy - st.accuracy().mean();
  double v = 0;
  for (Eigen::Index n = 0; n < st.inputs(); ++n) {
    for (Eigen::Index k = 0; k < st.outputs(); ++k) v += st.delta(n, k).sample_variance();
  }
  return v / static_cast<double>(st.inputs());
}

// A campaign point restricted to its first inputs, ready to build engines from.
struct Point {
  PreparedPoint p;
  Eigen::MatrixXd inputs;
  std::vector<int> labels;
};

Point prepare_first_inputs(const CampaignConfig& config) {
  Point pt{prepare_point(config), {}, {}};
  const Eigen::Index m = std::min<Eigen::Index>(pt.p.data.count(), kMaxInputs);
  pt.inputs = pt.p.data.inputs.leftCols(m);
  if (!pt.p.data.labels.empty()) pt.labels.assign(pt.p.data.labels.begin(), pt.p.data.labels.begin() + m);
  return pt;
}

std::unique_ptr<sim::IEngine> make_engine(Point& pt, const CampaignConfig& config) {
  sim::EngineSetup setup;
  setup.model = &pt.p.model;
  setup.network = &pt.p.network;
  setup.inputs = &pt.inputs;
  setup.labels = pt.labels;
  setup.plan = pt.p.plan.get();
  setup.chip = pt.p.mapped ? &*pt.p.mapped : nullptr;
  setup.chip_key = pt.p.chip_key;
  setup.seed = config.seed;
  setup.block_trials = config.block_trials;
  setup.batch_trials = config.batch_trials;
  setup.replicas = config.replicas.count;
  return pt.p.engine->make(setup);
}

void require_monte_carlo(const CampaignConfig& config, const sim::EngineRegistry::Entry& engine) {
  if (engine.capabilities.exact) {
    throw core::InputError(config.file + ": engine: 'harden' checks its predictions by Monte Carlo and engine '" + config.engine +
                           "' enumerates instead; expected engine: " +
                           sim::EngineRegistry::instance().names_with([](const sim::EngineCapabilities& c) { return !c.exact; }));
  }
}

std::uint64_t trials_of(const CampaignConfig& config, const std::optional<std::uint64_t>& t) { return t ? *t : config.trials; }

}  // namespace

HardenResult harden(const CampaignConfig& config_in, const HardenOptions& o) {
  if (o.metric != "variance" && o.metric != "accuracy_drop") {
    throw core::InputError("--metric '" + o.metric + "': expected variance or accuracy_drop");
  }
  if (o.budget < 1) throw core::InputError("--budget " + std::to_string(o.budget) + ": expected an integer >= 1");
  CampaignConfig config = config_in;
  if (config.replicas.count > 1) {
    throw core::InputError(config.file + ": replicas: 'harden --budget' ranks units of one network; expected no replicas: key (or harden --replicas)");
  }
  if (config.deadline_ns) {
    throw core::InputError(config.file + ": deadline_ns: 'harden' ranks units by the bounds' predictions, which do not model "
                           "deadlines; expected no deadline_ns");
  }
  for (std::size_t s = 0; s < config.faults.size(); ++s) {
    const std::string& pk = config.faults[s].physical_kind;
    if (config.faults[s].is_timing()) {
      throw core::InputError(config.file + ": faults[" + std::to_string(s) + "].kind " + pk +
                             ": 'harden' ranks units by the bounds' predictions, which do not model timing faults; expected a "
                             "fault kind that takes units down");
    }
  }
  Point before = prepare_first_inputs(config);
  require_monte_carlo(config, *before.p.engine);
  const faults::FaultPlan& plan = *before.p.plan;
  const models::Network& net = before.p.network;
  if (o.metric == "accuracy_drop" && before.labels.empty()) {
    throw core::InputError("--metric accuracy_drop: the campaign's inputs have no labels; expected inputs.labels or --metric variance");
  }
  HardenResult r;
  r.metric = o.metric;
  r.inputs = before.inputs.cols();
  const Eigen::MatrixXd clean = net.forward_batch(before.inputs);
  auto correct_of = [&](const Eigen::MatrixXd& out) {
    Eigen::VectorXd c(out.cols());
    for (Eigen::Index n = 0; n < out.cols(); ++n) {
      Eigen::Index best = 0;
      out.col(n).maxCoeff(&best);
      c[n] = best == before.labels[static_cast<std::size_t>(n)] ? 1.0 : 0.0;
    }
    return c;
  };
  const Eigen::VectorXd clean_correct = before.labels.empty() ? Eigen::VectorXd() : correct_of(clean);
  // Single-unit effects (BoundCalculator::unit_effects, the columns b4 is built from): the
  // metric's first-order contribution of each unit per unit of failure probability (variance:
  // mean over inputs of |e_u|^2; accuracy: the mean accuracy lost when u alone fails).
  const models::bounds::BoundCalculator calc(net, faults::to_bound_model(plan));
  // unit_effects' terms in order (neuron terms, synapse terms, groups; to_bound_model makes them
  // spec by spec): the spec of each and the spec's unit of its first column.
  struct TermUnits {
    std::size_t spec;
    std::uint64_t first;
  };
  std::vector<TermUnits> neuron_terms, synapse_terms, group_terms;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    const faults::FaultSpec& spec = plan.specs()[s];
    if (spec.kind == faults::FaultKind::group_crash) {
      for (std::uint64_t g = 0; g < spec.groups.size(); ++g) group_terms.push_back({s, g});
      continue;
    }
    std::uint64_t first = 0;
    for (int l : spec.layers) {
      (spec.acts_on_neurons() ? neuron_terms : synapse_terms).push_back({s, first});
      first += spec.acts_on_neurons() ? static_cast<std::uint64_t>(net.width(l)) : net.layer(l).synapse_count();
    }
  }
  std::vector<TermUnits> terms = neuron_terms;
  terms.insert(terms.end(), synapse_terms.begin(), synapse_terms.end());
  terms.insert(terms.end(), group_terms.begin(), group_terms.end());
  std::vector<std::vector<double>> effect(plan.size());
  for (std::size_t s = 0; s < plan.size(); ++s) effect[s].assign(static_cast<std::size_t>(plan.unit_count(s)), 0.0);
  for (Eigen::Index n = 0; n < r.inputs; ++n) {
    const std::vector<models::bounds::TermEffects> effects = calc.unit_effects(before.inputs.col(n));
    if (effects.size() != terms.size()) throw core::InternalError("harden: unit_effects gave " + std::to_string(effects.size()) + " terms, expected " + std::to_string(terms.size()));
    for (std::size_t k = 0; k < terms.size(); ++k) {
      const Eigen::MatrixXd& e = effects[k].effects;
      std::vector<double>& out = effect[terms[k].spec];
      for (Eigen::Index c = 0; c < e.cols(); ++c) {
        double v = 0;
        if (o.metric == "variance") {
          v = e.col(c).squaredNorm();
        } else {
          Eigen::Index best = 0;
          (clean.col(n) + e.col(c)).maxCoeff(&best);
          v = clean_correct[n] - (best == before.labels[static_cast<std::size_t>(n)] ? 1.0 : 0.0);
        }
        out[static_cast<std::size_t>(terms[k].first) + static_cast<std::size_t>(c)] += v / static_cast<double>(r.inputs);
      }
    }
  }
  // A unit failing with probability x adds v(x) times its single-fault effect (first order).
  auto v = [&](double x) { return o.metric == "variance" ? x * (1 - x) : x; };
  std::vector<HardenedUnit> candidates;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    const faults::FaultSpec& spec = plan.specs()[s];
    const double p = spec.probability;
    // With spares, a column's probability of being dead after repair (docs/bounds.md).
    const std::vector<double> pe = plan.effective_probabilities(s);
    const bool spared = !spec.spare_pool.empty() && spec.spares > 0;
    // Spared specs: each pool's units, ascending; TMR on one of them also frees the spare it
    // would have taken for the units above it, so its gain is the pool's, recomputed with q.
    std::map<std::uint32_t, std::vector<std::uint64_t>> pools;
    if (spared) {
      for (std::uint64_t u = 0; u < plan.unit_count(s); ++u) pools[spec.spare_pool[static_cast<std::size_t>(u)]].push_back(u);
    }
    for (std::uint64_t u = 0; u < plan.unit_count(s); ++u) {
      const double pu = pe[static_cast<std::size_t>(u)];
      const double eff = effect[s][static_cast<std::size_t>(u)];
      r.predicted_before += v(pu) * eff;
      if (p <= 0.0 || p >= 1.0 || plan.is_tmr(s, u)) continue;  // nothing to gain, or already protected
      HardenedUnit h;
      h.spec = s;
      h.unit = u;
      h.p = p;
      h.q = faults::tmr_probability(p);
      if (!spared) {
        h.reduction = (v(p) - v(h.q)) * eff;
      } else {
        const std::vector<std::uint64_t>& members = pools[spec.spare_pool[static_cast<std::size_t>(u)]];
        std::vector<double> before_repair(members.size());
        for (std::size_t i = 0; i < members.size(); ++i) {
          before_repair[i] = members[i] == u ? h.q : plan.unit_probability(s, members[i]);
        }
        const std::vector<double> after = faults::FaultPlan::after_repair(before_repair, std::vector<std::uint32_t>(members.size(), 0), spec.spares);
        h.reduction = 0;
        for (std::size_t i = 0; i < members.size(); ++i) {
          const auto w = static_cast<std::size_t>(members[i]);
          h.reduction += (v(pe[w]) - v(after[i])) * effect[s][w];
        }
      }
      candidates.push_back(h);
    }
  }
  r.candidates = candidates.size();
  if (candidates.empty()) throw core::InputError(config.file + ": no unit to protect (every spec has p = 0 or 1, or its units are protected already)");
  std::stable_sort(candidates.begin(), candidates.end(), [](const HardenedUnit& a, const HardenedUnit& b) { return a.reduction > b.reduction; });
  candidates.resize(std::min<std::size_t>(candidates.size(), o.budget));
  r.predicted_after = r.predicted_before;
  const sim::UnitLocator locator(plan, net, before.p.mapped ? &*before.p.mapped : nullptr);
  for (HardenedUnit& h : candidates) {
    h.name = "faults[" + std::to_string(h.spec) + "] " + plan.specs()[h.spec].kind_name() + " unit " + std::to_string(h.unit) + ": " +
             locator.locate(h.spec, h.unit).name;
    r.predicted_after -= h.reduction;
  }
  r.chosen = candidates;
  // The protection that does it, added to the campaign's own.
  std::map<std::size_t, std::vector<std::uint64_t>> by_spec;
  for (const HardenedUnit& h : r.chosen) by_spec[h.spec].push_back(h.unit);
  std::ostringstream yaml;
  yaml << "protection:\n  tmr:\n";
  CampaignConfig after_config = config;
  for (auto& [s, units] : by_spec) {
    std::sort(units.begin(), units.end());
    TmrEntry e;
    e.spec = static_cast<int>(s);
    e.units = units;
    e.where.key = "harden";
    after_config.protection.tmr.push_back(e);
    std::vector<std::string> words;
    for (auto u : units) words.push_back(std::to_string(u));
    yaml << "    - {spec: " << s << ", units: [" << core::join(words, ", ") << "]}\n";
  }
  r.protection_yaml = yaml.str();
  // Monte Carlo before and after, the same seed: the unprotected units fail in the same trials.
  Point after = prepare_first_inputs(after_config);
  // The prediction after, from the protected plan's own dead-after-repair probabilities: two
  // chosen units of one spare pool would count the spare they free twice in the summed reductions.
  {
    const faults::FaultPlan& plan_after = *after.p.plan;
    double predicted = 0;
    for (std::size_t s = 0; s < plan_after.size(); ++s) {
      const std::vector<double> pe = plan_after.effective_probabilities(s);
      for (std::size_t u = 0; u < pe.size(); ++u) predicted += v(pe[u]) * effect[s][u];
    }
    r.predicted_after = predicted;
  }
  std::unique_ptr<sim::IEngine> eb = make_engine(before, config);
  const double clean_accuracy = before.labels.empty() ? 0.0 : clean_correct.mean();
  std::vector<double> vb, va, vd;
  r.trials = trials_of(config, o.trials);
  r.blocks = (r.trials + config.block_trials - 1) / config.block_trials;
  for (std::uint64_t b = 0; b < r.blocks; ++b) vb.push_back(block_metric(eb->run_block(b, r.trials), o.metric, clean_accuracy));
  eb->finish();
  eb.reset();
  std::unique_ptr<sim::IEngine> ea = make_engine(after, after_config);
  for (std::uint64_t b = 0; b < r.blocks; ++b) {
    va.push_back(block_metric(ea->run_block(b, r.trials), o.metric, clean_accuracy));
    vd.push_back(vb[b] - va[b]);
  }
  ea->finish();
  const double z = core::normal_quantile_two_sided(o.confidence);
  r.measured_before = batch_mean(vb, z);
  r.measured_after = batch_mean(va, z);
  r.measured_reduction = batch_mean(vd, z);
  return r;
}

namespace {

// P(Binomial(n, p) >= k).
double binomial_tail(std::uint32_t n, double p, std::uint32_t k) {
  if (k == 0) return 1.0;
  if (p <= 0) return 0.0;
  if (p >= 1) return 1.0;
  double sum = 0;
  for (std::uint32_t i = k; i <= n; ++i) {
    const double log_term = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) + i * std::log(p) + (n - i) * std::log1p(-p);
    sum += std::exp(log_term);
  }
  return std::min(1.0, sum);
}

// Wilson score interval of a binomial proportion.
std::pair<double, double> wilson(double successes, double n, double z) {
  if (n <= 0) return {0.0, 1.0};
  const double ph = successes / n, z2 = z * z;
  const double centre = (ph + z2 / (2 * n)) / (1 + z2 / n);
  const double hw = z * std::sqrt(ph * (1 - ph) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, centre - hw), std::min(1.0, centre + hw)};
}

// The largest failure frequency over inputs and outputs of |Delta| > eps over `trials` trials,
// and its count.
std::pair<double, double> worst_failures(sim::IEngine& e, const Eigen::MatrixXd& clean, std::uint64_t trials, double eps) {
  Eigen::MatrixXd count = Eigen::MatrixXd::Zero(clean.rows(), clean.cols());
  for (std::uint64_t t = 0; t < trials; ++t) count += ((e.trial_outputs(t) - clean).cwiseAbs().array() > eps).cast<double>().matrix();
  const double worst = count.size() ? count.maxCoeff() : 0.0;
  return {worst / static_cast<double>(trials), worst};
}

}  // namespace

CertificateResult replica_certificate(const CampaignConfig& config_in, const CertificateOptions& o) {
  if (!(o.epsilon > 0) || !std::isfinite(o.epsilon)) throw core::InputError("--epsilon " + core::format_double(o.epsilon) + ": expected a number > 0");
  if (!(o.delta > 0 && o.delta < 1)) throw core::InputError("--delta " + core::format_double(o.delta) + ": expected a probability in (0, 1)");
  CampaignConfig config = config_in;
  config.replicas = Replicas{};  // one replica: what the bounds describe
  Point one = prepare_first_inputs(config);
  require_monte_carlo(config, *one.p.engine);
  CertificateResult r;
  r.inputs = one.inputs.cols();
  const models::Network& net = one.p.network;
  const models::bounds::BoundCalculator calc(net, faults::to_bound_model(*one.p.plan));
  r.chebyshev = 0;
  for (Eigen::Index n = 0; n < r.inputs; ++n) {
    const models::bounds::BoundValue b4 = calc.compute(one.inputs.col(n), {"b4"}).at("b4");
    for (Eigen::Index k = 0; k < b4.mean.size(); ++k) {
      const double margin = o.epsilon - std::abs(b4.mean[k]);
      const double c = margin > 0 ? b4.std[k] * b4.std[k] / (margin * margin) : INFINITY;
      if (n == 0 && k == 0 ? true : c > r.chebyshev) {
        r.chebyshev = c;
        r.worst_input = n;
        r.worst_output = k;
      }
    }
  }
  r.condition = r.chebyshev < 1.0 / 3.0;
  r.r_paper = static_cast<std::uint32_t>(std::ceil(2.0 * std::log(1.0 / o.delta) / std::log(3.0)));
  const double c = std::min(1.0, r.chebyshev);
  r.tail_at_r_paper = binomial_tail(r.r_paper, c, (r.r_paper + 1) / 2);
  r.r_binomial = 0;
  for (std::uint32_t R = 1; R <= 1000 && c < 0.5; ++R) {
    if (binomial_tail(R, c, (R + 1) / 2) <= o.delta) {
      r.r_binomial = R;
      break;
    }
  }
  // Monte Carlo: one replica, then the median of r_paper replicas, the same seed.
  r.trials = trials_of(config, o.trials);
  const double z = core::normal_quantile_two_sided(o.confidence);
  std::unique_ptr<sim::IEngine> e1 = make_engine(one, config);
  const Eigen::MatrixXd clean = e1->clean_outputs();
  const auto [single, single_count] = worst_failures(*e1, clean, r.trials, o.epsilon);
  e1->finish();
  e1.reset();
  r.rate_single = single;
  r.rate_single_upper = wilson(single_count, static_cast<double>(r.trials), z).second;
  CampaignConfig replicated = config;
  replicated.replicas.count = r.r_paper;
  Point many = prepare_first_inputs(replicated);
  std::unique_ptr<sim::IEngine> er = make_engine(many, replicated);
  const auto [median, median_count] = worst_failures(*er, clean, r.trials, o.epsilon);
  er->finish();
  r.rate_median = median;
  const auto ci = wilson(median_count, static_cast<double>(r.trials), z);
  r.rate_median_lower = ci.first;
  r.rate_median_upper = ci.second;
  r.holds = r.rate_median_lower <= r.tail_at_r_paper;
  return r;
}

}  // namespace nfsim::tb
