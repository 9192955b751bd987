#include "testbench/report/point_report.h"

#include "core/running_stats.h"
#include <cmath>

#include "testbench/campaign/requirements.h"
#include "testbench/campaign/scheduler.h"
#include "testbench/scoreboard/scoreboard.h"

namespace nfsim::tb {

std::vector<FaultReport> fault_reports(const std::vector<faults::FaultSpec>& specs) {
  std::vector<FaultReport> out;
  for (const auto& s : specs) {
    FaultReport f;
    f.kind = s.kind_name();
    f.probability = s.probability;
    f.persistence = faults::to_string(s.persistence);
    if (!s.physical_kind.empty()) {
      f.units = s.groups.size();
      if (!s.layers.empty()) f.layers = s.layers;
    } else if (s.kind == faults::FaultKind::group_crash) {
      f.groups.emplace();
      for (const auto& g : s.groups) f.groups->push_back({g.name, g.neurons.size(), g.synapses.size()});
    } else {
      f.layers = s.layers;
    }
    if (s.kind == faults::FaultKind::neuron_stuck_at || s.kind == faults::FaultKind::synapse_stuck_at) f.value = s.value;
    if (s.kind == faults::FaultKind::weight_bit_flip) {
      f.bit = s.bit;
      f.total_bits = s.format.total_bits;
      f.frac_bits = s.format.frac_bits;
    }
    if (s.onset_ns > 0) f.onset_ns = s.onset_ns;
    if (!s.tmr_units.empty()) f.tmr_units = s.tmr_units.size();
    if (!s.spare_pool.empty() && s.spares > 0) f.spares = s.spares;
    out.push_back(f);
  }
  return out;
}

EstimatorReport estimator_report(const CampaignResult& r, double z) {
  EstimatorReport e;
  if (r.exact) {
    e.name = "exact";
    return e;
  }
  const auto finite = [](double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; };
  e.name = r.stats.control_variate().empty() ? "plain" : "control_variate";
  e.rel_half_width_std = finite(worst_relative_half_width(r.stats, z));
  if (e.name == "plain") return e;
  e.plain_rel_half_width_std = finite(worst_relative_half_width(r.stats, z, true));
  const double n = static_cast<double>(r.stats.trials());
  if (e.rel_half_width_std && e.plain_rel_half_width_std && *e.rel_half_width_std > 0) {
    const double ratio = *e.plain_rel_half_width_std / *e.rel_half_width_std;
    e.plain_trials_for_same_width = std::round(n * ratio * ratio);
    e.trials_saved = *e.plain_trials_for_same_width - n;
  }
  const auto& multi = r.stats.control_variate().multi_fault;
  double sum = 0;
  for (std::uint64_t m : multi) sum += static_cast<double>(m);
  if (n > 0 && !multi.empty()) e.multi_fault_share = sum / (n * static_cast<double>(multi.size()));
  if (!multi.empty()) e.multi_fault_trials_min = static_cast<double>(r.stats.control_variate().min_multi_fault());
  double plain_cells = 0;
  for (Eigen::Index i = 0; i < r.stats.inputs(); ++i) {
    for (Eigen::Index k = 0; k < r.stats.outputs(); ++k) plain_cells += r.stats.estimate(i, k, z).plain_std ? 1 : 0;
  }
  e.plain_std_cells = plain_cells;
  return e;
}

nlohmann::json faults_to_json(const std::vector<faults::FaultSpec>& specs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& f : fault_reports(specs)) a.push_back(to_json(f));
  return a;
}

PointReport make_point_report(const CampaignResult& r) {
  const double z95 = core::normal_quantile_two_sided(0.95);
  PointReport point;
  for (Eigen::Index n = 0; n < r.data.count(); ++n) {
    const Measured& m = r.measured[static_cast<std::size_t>(n)];
    const Measured m95 = r.config.confidence == 0.95 || r.exact ? m : measure(r.stats, n, z95);
    InputReport in;
    in.index = static_cast<long>(n);
    if (!r.data.labels.empty()) in.label = r.data.labels[static_cast<std::size_t>(n)];
    in.measured.mean = m.mean;
    in.measured.std = m.std;
    in.measured.mean_abs = m.mean_abs;
    in.measured.max_abs = m.max_abs;
    in.measured.ci95_mean = {m95.mean - m95.mean_hw, m95.mean + m95.mean_hw};
    in.measured.ci95_std = {m95.std - m95.std_hw, m95.std + m95.std_hw};
    in.measured.ci95_mean_abs = {m95.mean_abs - m95.mean_abs_hw, m95.mean_abs + m95.mean_abs_hw};
    in.measured.trials = m.trials;
    in.bounds = r.bounds[static_cast<std::size_t>(n)];
    in.verdicts = judge(m, in.bounds);
    point.inputs.push_back(std::move(in));
  }
  point.sweep = r.config.sweep_point;
  point.criticality = r.criticality;
  point.faults = fault_reports(r.faults);
  if (r.config.replicas.count > 1) point.replicas = r.config.replicas.count;
  point.trials = r.trials_done;
  point.stopping.reached = r.stop_reason;
  if (r.exact) {
    point.stopping.rule = "exact";
    point.stopping.units_enumerated = r.exact->units;
    point.stopping.subsets = r.exact->subsets;
  } else {
    point.stopping.rule = r.config.stopping.automatic ? "auto" : "fixed";
    if (r.config.stopping.automatic) point.stopping.target_rel_half_width = r.config.stopping.rel_half_width;
    point.stopping.max_trials = r.config.trials;
  }
  point.estimator = estimator_report(r, z95);
  point.summary = summarize(r.measured, r.bounds);
  point.variance_by_term = r.variance_by_term;
  point.histogram_delta = r.stats.samples();
  if (r.fault_free_accuracy >= 0) {
    const auto& a = r.stats.accuracy();
    const double mean = r.exact ? r.exact->accuracy_mean : a.mean();
    const double hw = r.exact ? 0.0 : a.mean_half_width(z95);
    point.accuracy = AccuracyReport{r.fault_free_accuracy, mean, mean - hw, mean + hw, r.fault_free_accuracy - mean};
  }
  point.chip = r.chip;
  point.spiking = r.spiking;
  point.requirements = check_requirements(r.config.require, point, budget_evidence(r));
  point.timing = {r.seconds_monte_carlo, r.seconds_bounds, r.threads};
  return point;
}

}  // namespace nfsim::tb
