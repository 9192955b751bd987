#include "testbench/report/report_json.h"

#include "core/running_stats.h"
#include "testbench/campaign/requirements.h"
#include "testbench/scoreboard/scoreboard.h"

namespace nfsim::tb {

nlohmann::json interval(const Eigen::VectorXd& center, const Eigen::VectorXd& hw) {
  return {{"lo", to_json(center - hw)}, {"hi", to_json(center + hw)}};
}

nlohmann::json faults_to_json(const std::vector<faults::FaultSpec>& specs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : specs) {
    nlohmann::json f{{"kind", s.physical_kind.empty() ? faults::to_string(s.kind) : s.physical_kind},
                     {"probability", s.probability},
                     {"persistence", faults::to_string(s.persistence)}};
    if (!s.physical_kind.empty()) {
      f["units"] = s.groups.size();
      if (!s.layers.empty()) f["layers"] = s.layers;
    } else if (s.kind == faults::FaultKind::group_crash) {
      nlohmann::json groups = nlohmann::json::array();
      for (const auto& g : s.groups) groups.push_back({{"name", g.name}, {"neurons", g.neurons.size()}, {"synapses", g.synapses.size()}});
      f["groups"] = groups;
    } else {
      f["layers"] = s.layers;
    }
    if (s.kind == faults::FaultKind::neuron_stuck_at || s.kind == faults::FaultKind::synapse_stuck_at) f["value"] = s.value;
    if (s.kind == faults::FaultKind::weight_bit_flip) {
      f["bit"] = s.bit;
      f["format"] = {{"total_bits", s.format.total_bits}, {"frac_bits", s.format.frac_bits}};
    }
    if (s.onset_ns > 0) f["onset_ns"] = s.onset_ns;
    a.push_back(f);
  }
  return a;
}

nlohmann::json profile_to_json(const models::bounds::NetworkProfile& p) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : p.layers) {
    nlohmann::json j{{"layer", l.layer}, {"mean_jacobian_fro", l.mean_jacobian_fro}, {"b3_variance_per_p", to_json(l.b3_variance_per_p)}};
    if (l.layer > 0) {
      j["norm_1"] = l.norm_1;
      j["norm_2"] = l.norm_2;
      j["norm_inf"] = l.norm_inf;
      j["norm_fro"] = l.norm_fro;
      j["lipschitz"] = l.lipschitz;
    }
    layers.push_back(j);
  }
  return {{"layers", layers}, {"lipschitz_product", p.lipschitz_product}};
}

nlohmann::json make_point_json(const CampaignResult& r) {
  const double z95 = core::normal_quantile_two_sided(0.95);
  nlohmann::json inputs = nlohmann::json::array();
  for (Eigen::Index n = 0; n < r.data.count(); ++n) {
    const Measured& m = r.measured[static_cast<std::size_t>(n)];
    const Measured m95 = r.config.confidence == 0.95 || r.exact ? m : measure(r.stats, n, z95);
    nlohmann::json measured{{"mean", to_json(m.mean)},
                            {"std", to_json(m.std)},
                            {"mean_abs", to_json(m.mean_abs)},
                            {"max_abs", to_json(m.max_abs)},
                            {"ci95", {{"mean", interval(m95.mean, m95.mean_hw)},
                                      {"std", interval(m95.std, m95.std_hw)},
                                      {"mean_abs", interval(m95.mean_abs, m95.mean_abs_hw)}}},
                            {"trials", m.trials}};
    nlohmann::json bounds = nlohmann::json::object();
    for (const auto& [name, b] : r.bounds[static_cast<std::size_t>(n)]) {
      nlohmann::json v{{"mean", to_json(b.mean)}};
      if (b.std.size()) v["std"] = to_json(b.std);
      bounds[name] = v;
    }
    nlohmann::json entry{{"index", n}, {"measured", measured}, {"bounds", bounds},
                         {"verdicts", judge(m, r.bounds[static_cast<std::size_t>(n)])}};
    if (!r.data.labels.empty()) entry["label"] = r.data.labels[static_cast<std::size_t>(n)];
    inputs.push_back(entry);
  }
  nlohmann::json sweep = nlohmann::json::object();
  for (const auto& [k, v] : r.config.sweep_point) sweep[k] = v;
  nlohmann::json terms = nlohmann::json::array();
  for (const auto& [label, v] : r.variance_by_term) terms.push_back({{"term", label}, {"predicted_variance", v}});
  nlohmann::json point{{"sweep", sweep},
                       {"faults", faults_to_json(r.faults)},
                       {"trials", r.trials_done},
                       {"stopping", r.exact ? nlohmann::json{{"rule", "exact"},
                                                              {"reached", r.stop_reason},
                                                              {"units_enumerated", r.exact->units},
                                                              {"subsets", r.exact->subsets}}
                                            : nlohmann::json{{"rule", r.config.stopping.automatic ? "auto" : "fixed"},
                                                              {"reached", r.stop_reason},
                                                              {"target_rel_half_width", r.config.stopping.automatic ? nlohmann::json(r.config.stopping.rel_half_width) : nlohmann::json(nullptr)},
                                                              {"max_trials", r.config.trials}}},
                       {"inputs", inputs},
                       {"summary", summarize(r.measured, r.bounds)},
                       {"variance_by_term", terms},
                       {"histogram_samples", {{"input", 0}, {"output", 0}, {"delta", r.stats.samples()}}}};
  if (r.fault_free_accuracy >= 0) {
    point["fault_free_accuracy"] = r.fault_free_accuracy;
    const auto& a = r.stats.accuracy();
    const double mean = r.exact ? r.exact->accuracy_mean : a.mean();
    const double hw = r.exact ? 0.0 : a.mean_half_width(core::normal_quantile_two_sided(0.95));
    point["accuracy"] = {{"fault_free", r.fault_free_accuracy},
                         {"faulty_mean", mean},
                         {"faulty_ci95", {{"lo", number_or_null(mean - hw)}, {"hi", number_or_null(mean + hw)}}},
                         {"drop", r.fault_free_accuracy - mean}};
  }
  if (!r.chip.is_null()) point["chip"] = r.chip;
  point["requirements"] = check_requirements(r.config.require, point);
  point["timing"] = {{"monte_carlo_s", r.seconds_monte_carlo}, {"bounds_s", r.seconds_bounds}, {"threads", r.threads}};
  return point;
}

}  // namespace nfsim::tb
