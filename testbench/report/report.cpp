#include "testbench/report/report.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "testbench/report/criticality_json.h"

namespace nfsim::tb {

nlohmann::json mission_to_json(const MissionReport& m);
namespace {

using json = nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double num_of(const json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); }

json vec(const Eigen::VectorXd& v) {
  json a = json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(num(v[i]));
  return a;
}
Eigen::VectorXd vec_of(const json& a) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(a.size()));
  for (std::size_t i = 0; i < a.size(); ++i) v[static_cast<Eigen::Index>(i)] = num_of(a[i]);
  return v;
}
json doubles(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(num(x));
  return a;
}
std::vector<double> doubles_of(const json& a) {
  std::vector<double> v;
  for (const auto& x : a) v.push_back(num_of(x));
  return v;
}
std::vector<bool> bools_of(const json& a) {
  std::vector<bool> v;
  for (const auto& x : a) v.push_back(x.get<bool>());
  return v;
}

json band(const Band& b) { return {{"lo", vec(b.lo)}, {"hi", vec(b.hi)}}; }
Band band_of(const json& j) { return {vec_of(j["lo"]), vec_of(j["hi"])}; }

json measured_to_json(const MeasuredReport& m) {
  return {{"mean", vec(m.mean)},
          {"std", vec(m.std)},
          {"mean_abs", vec(m.mean_abs)},
          {"max_abs", vec(m.max_abs)},
          {"ci95", {{"mean", band(m.ci95_mean)}, {"std", band(m.ci95_std)}, {"mean_abs", band(m.ci95_mean_abs)}}},
          {"trials", m.trials}};
}
MeasuredReport measured_of(const json& j) {
  MeasuredReport m;
  m.mean = vec_of(j["mean"]);
  m.std = vec_of(j["std"]);
  m.mean_abs = vec_of(j["mean_abs"]);
  m.max_abs = vec_of(j["max_abs"]);
  m.ci95_mean = band_of(j["ci95"]["mean"]);
  m.ci95_std = band_of(j["ci95"]["std"]);
  m.ci95_mean_abs = band_of(j["ci95"]["mean_abs"]);
  m.trials = j["trials"].get<std::uint64_t>();
  return m;
}

json verdict_to_json(const Verdict& v) {
  if (v.kind == Verdict::Kind::estimate) {
    return {{"kind", "estimate"},
            {"rel_err_mean", doubles(v.rel_err_mean)},
            {"rel_err_std", doubles(v.rel_err_std)},
            {"mean_inside_ci", v.mean_inside_ci},
            {"std_inside_ci", v.std_inside_ci}};
  }
  if (!v.per_output) {
    return {{"kind", "magnitude"}, {"measured", v.measured}, {"holds", v.holds.at(0)}, {"tightness", num(v.tightness.at(0))}};
  }
  return {{"kind", "magnitude"}, {"measured", v.measured}, {"holds", v.holds}, {"all_hold", v.all_hold}, {"tightness", doubles(v.tightness)}};
}
Verdict verdict_of(const json& j) {
  Verdict v;
  if (j["kind"] == "estimate") {
    v.kind = Verdict::Kind::estimate;
    v.rel_err_mean = doubles_of(j["rel_err_mean"]);
    v.rel_err_std = doubles_of(j["rel_err_std"]);
    v.mean_inside_ci = bools_of(j["mean_inside_ci"]);
    v.std_inside_ci = bools_of(j["std_inside_ci"]);
    return v;
  }
  v.kind = Verdict::Kind::magnitude;
  v.measured = j["measured"].get<std::string>();
  v.per_output = j["holds"].is_array();
  if (v.per_output) {
    v.holds = bools_of(j["holds"]);
    v.tightness = doubles_of(j["tightness"]);
    v.all_hold = j["all_hold"].get<bool>();
  } else {
    v.holds = {j["holds"].get<bool>()};
    v.tightness = {num_of(j["tightness"])};
  }
  return v;
}

json agreement_to_json(const Agreement& a) {
  return {{"pearson", num(a.pearson)}, {"rank_loss", num(a.rank_loss)}, {"median_rel_err", num(a.median_rel_err)}, {"points", a.points}};
}
Agreement agreement_of(const json& j) {
  return {num_of(j["pearson"]), num_of(j["rank_loss"]), num_of(j["median_rel_err"]), j["points"].get<std::size_t>()};
}

}  // namespace

nlohmann::json to_json(const FaultReport& f) {
  json j{{"kind", f.kind}, {"probability", f.probability}, {"persistence", f.persistence}};
  if (f.units) j["units"] = *f.units;
  if (f.layers) j["layers"] = *f.layers;
  if (f.groups) {
    json groups = json::array();
    for (const auto& g : *f.groups) groups.push_back({{"name", g.name}, {"neurons", g.neurons}, {"synapses", g.synapses}});
    j["groups"] = groups;
  }
  if (f.value) j["value"] = *f.value;
  if (f.bit) {
    j["bit"] = *f.bit;
    j["format"] = {{"total_bits", f.total_bits.value_or(0)}, {"frac_bits", f.frac_bits.value_or(0)}};
  }
  if (f.onset_ns) j["onset_ns"] = *f.onset_ns;
  if (f.tmr_units) j["tmr_units"] = *f.tmr_units;
  if (f.spares) j["spares"] = *f.spares;
  return j;
}
namespace {

FaultReport fault_of(const json& j) {
  FaultReport f;
  f.kind = j["kind"].get<std::string>();
  f.probability = j["probability"].get<double>();
  f.persistence = j["persistence"].get<std::string>();
  if (j.contains("units")) f.units = j["units"].get<std::size_t>();
  if (j.contains("layers")) f.layers = j["layers"].get<std::vector<int>>();
  if (j.contains("groups")) {
    f.groups.emplace();
    for (const auto& g : j["groups"]) {
      f.groups->push_back({g["name"].get<std::string>(), g["neurons"].get<std::size_t>(), g["synapses"].get<std::size_t>()});
    }
  }
  if (j.contains("value")) f.value = j["value"].get<double>();
  if (j.contains("bit")) {
    f.bit = j["bit"].get<int>();
    f.total_bits = j["format"]["total_bits"].get<int>();
    f.frac_bits = j["format"]["frac_bits"].get<int>();
  }
  if (j.contains("onset_ns")) f.onset_ns = j["onset_ns"].get<double>();
  if (j.contains("tmr_units")) f.tmr_units = j["tmr_units"].get<std::size_t>();
  if (j.contains("spares")) f.spares = j["spares"].get<std::uint32_t>();
  return f;
}

json chip_to_json(const ChipReport& c) {
  json j{{"name", c.name},
         {"file", c.file},
         {"cores", c.cores},
         {"cores_used", c.cores_used},
         {"tiles", c.tiles},
         {"neuron_arrays", c.neuron_arrays},
         {"crossbar", c.crossbar},
         {"interconnect", c.interconnect},
         {"programming_max_abs_output_error", c.programming_max_abs_output_error}};
  if (c.fault_free_max_abs_output_error) j["fault_free_max_abs_output_error"] = *c.fault_free_max_abs_output_error;
  if (c.programming) {
    const ProgrammingReport& p = *c.programming;
    json q{{"weights", p.weights},
           {"clip_limit", p.clip_limit ? num(*p.clip_limit) : json(nullptr)},
           {"clipped", p.clipped},
           {"quantised", p.quantised},
           {"max_abs_weight_error", num(p.max_abs_weight_error)},
           {"mean_abs_weight_error", num(p.mean_abs_weight_error)}};
    if (p.max_abs_output_error) q["max_abs_output_error"] = num(*p.max_abs_output_error);
    if (p.accuracy_before) q["accuracy_before"] = num(*p.accuracy_before);
    if (p.accuracy_after) q["accuracy_after"] = num(*p.accuracy_after);
    j["programming"] = q;
  }
  if (c.timing) {
    j["inference_latency_ns"] = {{"mean", c.timing->latency_mean_ns},     {"min", c.timing->latency_min_ns},
                                 {"median", c.timing->latency_median_ns}, {"p99", c.timing->latency_p99_ns},
                                 {"max", c.timing->latency_max_ns}};
    j["messages_per_inference"] = c.timing->messages_per_inference;
    j["router_hops_per_inference"] = c.timing->router_hops_per_inference;
    if (c.timing->link_wait_ns_per_inference) {
      j["link_wait_ns_per_inference"] = *c.timing->link_wait_ns_per_inference;
      nlohmann::json links = nlohmann::json::array();
      for (const auto& [name, u] : c.timing->link_utilisation) links.push_back({{"link", name}, {"utilisation", u}});
      j["link_utilisation"] = links;
    }
    if (c.timing->spikes_dropped_per_inference) {
      nlohmann::json links = nlohmann::json::array();
      for (const auto& [name, n] : c.timing->spikes_per_link_per_inference) links.push_back({{"link", name}, {"spikes", n}});
      j["spikes_per_link_per_inference"] = links;
      j["spikes_dropped_per_inference"] = *c.timing->spikes_dropped_per_inference;
    }
    if (c.timing->stream) {
      const auto& st = *c.timing->stream;
      j["stream"] = {{"interval_ns", st.interval_ns},
                     {"throughput_per_us", st.throughput_per_us},
                     {"bottleneck_throughput_per_us", st.bottleneck_throughput_per_us},
                     {"expected_throughput_per_us", st.expected_throughput_per_us},
                     {"backlog_growth_ns_per_input", st.backlog_growth_ns_per_input},
                     {"sustained", st.sustained}};
    }
    if (c.timing->rerouted_messages_per_inference) {
      j["rerouting_per_inference"] = {{"rerouted_messages", *c.timing->rerouted_messages_per_inference},
                                      {"detour_hops", c.timing->detour_hops_per_inference.value_or(0.0)},
                                      {"dropped_messages", c.timing->dropped_messages_per_inference.value_or(0.0)}};
    }
    if (c.timing->deadline_ns) {
      j["deadline_ns"] = *c.timing->deadline_ns;
      j["deadline_miss_rate"] = c.timing->deadline_miss_rate.value_or(0.0);
    }
    if (!c.timing->simulation.empty()) {
      json s = {{"mode", c.timing->simulation},
                {"differential_inferences", c.timing->differential_inferences},
                {"full_inferences", c.timing->full_inferences}};
      if (!c.timing->full_reason.empty()) s["full_reason"] = c.timing->full_reason;
      j["simulation"] = s;
    }
  }
  if (!c.components.is_null()) j["components"] = c.components;
  return j;
}
ChipReport chip_of(const json& j) {
  ChipReport c;
  c.name = j["name"].get<std::string>();
  c.file = j["file"].get<std::string>();
  c.cores = j["cores"].get<int>();
  c.cores_used = j["cores_used"].get<int>();
  c.tiles = j["tiles"].get<std::size_t>();
  c.neuron_arrays = j["neuron_arrays"].get<std::size_t>();
  c.crossbar = j["crossbar"].get<std::string>();
  c.interconnect = j["interconnect"].get<std::string>();
  c.programming_max_abs_output_error = num_of(j["programming_max_abs_output_error"]);
  if (j.contains("fault_free_max_abs_output_error")) c.fault_free_max_abs_output_error = num_of(j["fault_free_max_abs_output_error"]);
  if (j.contains("programming")) {
    const json& q = j["programming"];
    ProgrammingReport p;
    p.weights = q["weights"].get<std::size_t>();
    if (!q["clip_limit"].is_null()) p.clip_limit = num_of(q["clip_limit"]);
    p.clipped = q["clipped"].get<std::size_t>();
    p.quantised = q["quantised"].get<std::size_t>();
    p.max_abs_weight_error = num_of(q["max_abs_weight_error"]);
    p.mean_abs_weight_error = num_of(q["mean_abs_weight_error"]);
    if (q.contains("max_abs_output_error")) p.max_abs_output_error = num_of(q["max_abs_output_error"]);
    if (q.contains("accuracy_before")) p.accuracy_before = num_of(q["accuracy_before"]);
    if (q.contains("accuracy_after")) p.accuracy_after = num_of(q["accuracy_after"]);
    c.programming = p;
  }
  if (j.contains("inference_latency_ns")) {
    ChipReport::Timing t;
    t.latency_mean_ns = num_of(j["inference_latency_ns"]["mean"]);
    t.latency_min_ns = num_of(j["inference_latency_ns"]["min"]);
    t.latency_max_ns = num_of(j["inference_latency_ns"]["max"]);
    if (j["inference_latency_ns"].contains("median")) t.latency_median_ns = num_of(j["inference_latency_ns"]["median"]);
    if (j["inference_latency_ns"].contains("p99")) t.latency_p99_ns = num_of(j["inference_latency_ns"]["p99"]);
    if (j.contains("deadline_ns")) {
      t.deadline_ns = num_of(j["deadline_ns"]);
      t.deadline_miss_rate = num_of(j["deadline_miss_rate"]);
    }
    if (j.contains("stream")) {
      const json& q = j["stream"];
      t.stream = ChipReport::Timing::Stream{num_of(q["interval_ns"]),
                                            num_of(q["throughput_per_us"]),
                                            num_of(q["bottleneck_throughput_per_us"]),
                                            num_of(q["expected_throughput_per_us"]),
                                            num_of(q["backlog_growth_ns_per_input"]),
                                            q["sustained"].get<bool>()};
    }
    if (j.contains("rerouting_per_inference")) {
      const json& q = j["rerouting_per_inference"];
      t.rerouted_messages_per_inference = num_of(q["rerouted_messages"]);
      t.detour_hops_per_inference = num_of(q["detour_hops"]);
      t.dropped_messages_per_inference = num_of(q["dropped_messages"]);
    }
    if (j.contains("link_wait_ns_per_inference")) {
      t.link_wait_ns_per_inference = num_of(j["link_wait_ns_per_inference"]);
      for (const auto& l : j["link_utilisation"]) t.link_utilisation.emplace_back(l["link"].get<std::string>(), num_of(l["utilisation"]));
    }
    if (j.contains("spikes_dropped_per_inference")) {
      t.spikes_dropped_per_inference = num_of(j["spikes_dropped_per_inference"]);
      for (const auto& l : j["spikes_per_link_per_inference"]) {
        t.spikes_per_link_per_inference.emplace_back(l["link"].get<std::string>(), num_of(l["spikes"]));
      }
    }
    if (j.contains("simulation")) {
      const json& q = j["simulation"];
      t.simulation = q["mode"].get<std::string>();
      t.differential_inferences = q["differential_inferences"].get<std::uint64_t>();
      t.full_inferences = q["full_inferences"].get<std::uint64_t>();
      if (q.contains("full_reason")) t.full_reason = q["full_reason"].get<std::string>();
    }
    t.messages_per_inference = j["messages_per_inference"].get<std::uint64_t>();
    t.router_hops_per_inference = num_of(j["router_hops_per_inference"]);
    c.timing = t;
  }
  if (j.contains("components")) c.components = j["components"];
  return c;
}

json point_json(const PointReport& p, bool with_timing) {
  json inputs = json::array();
  for (const auto& in : p.inputs) {
    json bounds = json::object();
    for (const auto& [name, b] : in.bounds) {
      json v{{"mean", vec(b.mean)}};
      if (b.std.size()) v["std"] = vec(b.std);
      bounds[name] = v;
    }
    json verdicts = json::object();
    for (const auto& [name, v] : in.verdicts) verdicts[name] = verdict_to_json(v);
    json entry{{"index", in.index}, {"measured", measured_to_json(in.measured)}, {"bounds", bounds}, {"verdicts", verdicts}};
    if (in.label) entry["label"] = *in.label;
    inputs.push_back(entry);
  }
  json sweep = json::object();
  for (const auto& [k, v] : p.sweep) sweep[k] = v;
  json faults = json::array();
  for (const auto& f : p.faults) faults.push_back(to_json(f));
  json stopping;
  if (p.stopping.rule == "exact") {
    stopping = {{"rule", p.stopping.rule},
                {"reached", p.stopping.reached},
                {"units_enumerated", p.stopping.units_enumerated},
                {"subsets", p.stopping.subsets}};
  } else {
    stopping = {{"rule", p.stopping.rule},
                {"reached", p.stopping.reached},
                {"target_rel_half_width", p.stopping.target_rel_half_width ? json(*p.stopping.target_rel_half_width) : json(nullptr)},
                {"max_trials", p.stopping.max_trials}};
  }
  const auto opt = [](const std::optional<double>& v) { return v ? num(*v) : json(nullptr); };
  json estimator{{"name", p.estimator.name}};
  if (p.estimator.name != "exact") {
    estimator["rel_half_width_std"] = opt(p.estimator.rel_half_width_std);
  }
  if (p.estimator.name == "control_variate") {
    estimator["plain_rel_half_width_std"] = opt(p.estimator.plain_rel_half_width_std);
    estimator["plain_trials_for_same_width"] = opt(p.estimator.plain_trials_for_same_width);
    estimator["trials_saved"] = opt(p.estimator.trials_saved);
    estimator["multi_fault_share"] = opt(p.estimator.multi_fault_share);
    estimator["multi_fault_trials_min"] = opt(p.estimator.multi_fault_trials_min);
    estimator["plain_std_cells"] = opt(p.estimator.plain_std_cells);
  }
  json summary = json::object();
  for (const auto& [name, s] : p.summary) {
    json v{{"mean", agreement_to_json(s.mean)}};
    if (s.std) v["std"] = agreement_to_json(*s.std);
    if (s.fraction_holding) v["fraction_holding"] = *s.fraction_holding;
    summary[name] = v;
  }
  json terms = json::array();
  for (const auto& [label, v] : p.variance_by_term) terms.push_back({{"term", label}, {"predicted_variance", v}});
  json point{{"sweep", sweep},
             {"faults", faults},
             {"trials", p.trials},
             {"stopping", stopping},
             {"estimator", estimator},
             {"inputs", inputs},
             {"summary", summary},
             {"variance_by_term", terms},
             {"histogram_samples", {{"input", 0}, {"output", 0}, {"delta", p.histogram_delta}}}};
  if (p.replicas) point["replicas"] = *p.replicas;
  if (p.accuracy) {
    const AccuracyReport& a = *p.accuracy;
    point["fault_free_accuracy"] = a.fault_free;
    point["accuracy"] = {{"fault_free", a.fault_free},
                         {"faulty_mean", a.faulty_mean},
                         {"faulty_ci95", {{"lo", num(a.faulty_ci95_lo)}, {"hi", num(a.faulty_ci95_hi)}}},
                         {"drop", a.drop}};
  }
  if (p.chip) point["chip"] = chip_to_json(*p.chip);
  if (p.spiking) {
    const SpikingReport& k = *p.spiking;
    json lambdas = json::array(), spikes = json::array();
    for (double v : k.lambdas) lambdas.push_back(num(v));
    for (double v : k.spikes_per_inference) spikes.push_back(num(v));
    point["spiking"] = {{"neuron", k.neuron},
                        {"reset", k.reset},
                        {"input_coding", k.input_coding},
                        {"readout", k.readout},
                        {"time_steps", k.time_steps},
                        // A NIR model's neurons have their own thresholds and leaks (the file's): null here.
                        {"threshold", k.neuron == "nir" ? json(nullptr) : num(k.threshold)},
                        {"leak", k.neuron == "nir" ? json(nullptr) : num(k.leak)},
                        {"refractory_steps", k.refractory_steps},
                        {"conversion", {{"percentile", k.neuron == "nir" ? json(nullptr) : num(k.percentile)},
                                        {"calibration", k.calibration},
                                        {"lambdas", lambdas}}},
                        {"spikes_per_inference", spikes},
                        {"max_abs_output_vs_rate_equivalent", num(k.max_abs_output_vs_rate_equivalent)},
                        {"rate_equivalent_accuracy", k.rate_equivalent_accuracy ? num(*k.rate_equivalent_accuracy) : json(nullptr)}};
  }
  if (p.criticality) point["criticality"] = criticality_to_json(*p.criticality);
  json requirements = json::array();
  for (const auto& q : p.requirements) {
    json e{{"requirement", q.requirement}, {"value", q.value ? num(*q.value) : json(nullptr)}, {"met", q.met}};
    if (!q.note.empty()) e["note"] = q.note;
    if (q.limit) e["limit"] = num(*q.limit);
    if (q.estimate) e["estimate"] = num(*q.estimate);
    if (q.input) e["input"] = *q.input;
    if (q.output) e["output"] = *q.output;
    requirements.push_back(e);
  }
  point["requirements"] = requirements;
  if (with_timing) point["timing"] = {{"monte_carlo_s", p.timing.monte_carlo_s}, {"bounds_s", p.timing.bounds_s}, {"threads", p.timing.threads}};
  return point;
}

}  // namespace

bool PointReport::requirements_met() const {
  for (const auto& q : requirements) {
    if (!q.met) return false;
  }
  return true;
}

nlohmann::json point_to_json(const PointReport& point) { return point_json(point, true); }

PointReport point_from_json(const nlohmann::json& j) {
  try {
    PointReport p;
    for (const auto& [k, v] : j["sweep"].items()) p.sweep.emplace_back(k, v.get<std::string>());
    for (const auto& f : j["faults"]) p.faults.push_back(fault_of(f));
    if (j.contains("replicas")) p.replicas = j["replicas"].get<std::uint32_t>();
    p.trials = j["trials"].get<std::uint64_t>();
    const json& s = j["stopping"];
    p.stopping.rule = s["rule"].get<std::string>();
    p.stopping.reached = s["reached"].get<std::string>();
    if (p.stopping.rule == "exact") {
      p.stopping.units_enumerated = s["units_enumerated"].get<std::uint64_t>();
      p.stopping.subsets = s["subsets"].get<std::uint64_t>();
    } else {
      if (s["target_rel_half_width"].is_number()) p.stopping.target_rel_half_width = num_of(s["target_rel_half_width"]);
      p.stopping.max_trials = s["max_trials"].get<std::uint64_t>();
    }
    if (j.contains("estimator")) {
      const json& e = j["estimator"];
      p.estimator.name = e["name"].get<std::string>();
      const auto opt_of = [&e](const char* key) {
        return e.contains(key) && e[key].is_number() ? std::optional<double>(num_of(e[key])) : std::nullopt;
      };
      p.estimator.rel_half_width_std = opt_of("rel_half_width_std");
      p.estimator.plain_rel_half_width_std = opt_of("plain_rel_half_width_std");
      p.estimator.plain_trials_for_same_width = opt_of("plain_trials_for_same_width");
      p.estimator.trials_saved = opt_of("trials_saved");
      p.estimator.multi_fault_share = opt_of("multi_fault_share");
      p.estimator.multi_fault_trials_min = opt_of("multi_fault_trials_min");
      p.estimator.plain_std_cells = opt_of("plain_std_cells");
    }
    for (const auto& in : j["inputs"]) {
      InputReport r;
      r.index = in["index"].get<long>();
      if (in.contains("label")) r.label = in["label"].get<int>();
      r.measured = measured_of(in["measured"]);
      for (const auto& [name, b] : in["bounds"].items()) {
        models::bounds::BoundValue v;
        v.mean = vec_of(b["mean"]);
        if (b.contains("std")) v.std = vec_of(b["std"]);
        r.bounds[name] = v;
      }
      for (const auto& [name, v] : in["verdicts"].items()) r.verdicts[name] = verdict_of(v);
      p.inputs.push_back(std::move(r));
    }
    for (const auto& [name, v] : j["summary"].items()) {
      BoundSummary b;
      b.mean = agreement_of(v["mean"]);
      if (v.contains("std")) b.std = agreement_of(v["std"]);
      if (v.contains("fraction_holding")) b.fraction_holding = num_of(v["fraction_holding"]);
      p.summary[name] = b;
    }
    for (const auto& t : j["variance_by_term"]) p.variance_by_term.emplace_back(t["term"].get<std::string>(), num_of(t["predicted_variance"]));
    p.histogram_delta = doubles_of(j["histogram_samples"]["delta"]);
    if (j.contains("accuracy")) {
      const json& a = j["accuracy"];
      p.accuracy = AccuracyReport{num_of(a["fault_free"]), num_of(a["faulty_mean"]), num_of(a["faulty_ci95"]["lo"]),
                                  num_of(a["faulty_ci95"]["hi"]), num_of(a["drop"])};
    }
    if (j.contains("chip")) p.chip = chip_of(j["chip"]);
    if (j.contains("spiking")) {
      const json& k = j["spiking"];
      SpikingReport r;
      r.neuron = k["neuron"].get<std::string>();
      r.reset = k["reset"].get<std::string>();
      r.input_coding = k["input_coding"].get<std::string>();
      r.readout = k["readout"].get<std::string>();
      r.time_steps = k["time_steps"].get<std::int64_t>();
      if (k["threshold"].is_number()) r.threshold = num_of(k["threshold"]);
      if (k["leak"].is_number()) r.leak = num_of(k["leak"]);
      r.refractory_steps = k["refractory_steps"].get<std::int64_t>();
      if (k["conversion"]["percentile"].is_number()) r.percentile = num_of(k["conversion"]["percentile"]);
      r.calibration = k["conversion"]["calibration"].get<std::string>();
      r.lambdas = doubles_of(k["conversion"]["lambdas"]);
      r.spikes_per_inference = doubles_of(k["spikes_per_inference"]);
      r.max_abs_output_vs_rate_equivalent = num_of(k["max_abs_output_vs_rate_equivalent"]);
      if (k["rate_equivalent_accuracy"].is_number()) r.rate_equivalent_accuracy = num_of(k["rate_equivalent_accuracy"]);
      p.spiking = r;
    }
    if (j.contains("criticality")) p.criticality = criticality_from_json(j["criticality"]);
    for (const auto& q : j["requirements"]) {
      RequirementResult r;
      r.requirement = q["requirement"].get<std::string>();
      if (q["value"].is_number()) r.value = num_of(q["value"]);
      r.met = q["met"].get<bool>();
      if (q.contains("note")) r.note = q["note"].get<std::string>();
      if (q.contains("limit")) r.limit = num_of(q["limit"]);
      if (q.contains("estimate")) r.estimate = num_of(q["estimate"]);
      if (q.contains("input")) r.input = q["input"].get<long>();
      if (q.contains("output")) r.output = q["output"].get<int>();
      p.requirements.push_back(r);
    }
    if (j.contains("timing")) {
      p.timing.monte_carlo_s = num_of(j["timing"]["monte_carlo_s"]);
      p.timing.bounds_s = num_of(j["timing"]["bounds_s"]);
      p.timing.threads = j["timing"]["threads"].get<unsigned>();
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(std::string("a finished point of the checkpoint is not a report point: ") + e.what() +
                           "; expected the checkpoint.json nfsim wrote");
  }
}

nlohmann::json profile_to_json(const models::bounds::NetworkProfile& p) {
  json layers = json::array();
  for (const auto& l : p.layers) {
    json j{{"layer", l.layer}, {"mean_jacobian_fro", l.mean_jacobian_fro}, {"b3_variance_per_p", vec(l.b3_variance_per_p)}};
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

nlohmann::json to_json(const Report& r) {
  json points = json::array(), timing = json::array();
  for (const auto& p : r.points) {
    points.push_back(point_json(p, false));
    timing.push_back({{"monte_carlo_s", p.timing.monte_carlo_s}, {"bounds_s", p.timing.bounds_s}, {"threads", p.timing.threads}});
  }
  json report{{"nfsim_version", r.nfsim_version},
              {"complete", r.complete},
              {"campaign",
               {{"file", r.campaign.file},
                {"model", r.campaign.model},
                {"engine", r.campaign.engine},
                {"seed", r.campaign.seed},
                {"block_trials", r.campaign.block_trials},
                {"confidence", r.campaign.confidence},
                {"bounds", r.campaign.bounds},
                {"points", r.campaign.points}}},
              {"requirements_met", r.requirements_met},
              {"points", points},
              {"timing", {{"points", timing}, {"mpi_ranks", r.mpi_ranks}, {"peak_rss_kb", r.peak_rss_kb}}}};
  if (r.campaign.input_count) {
    report["campaign"]["inputs"] = r.campaign.inputs;
    report["campaign"]["input_count"] = *r.campaign.input_count;
  }
  if (r.network) {
    report["network"] = {{"description", r.network->description}, {"layers", r.network->layers}, {"parameters", r.network->parameters}};
  }
  if (r.profile) report["profile"] = profile_to_json(*r.profile);
  if (!r.plugins.is_null()) report["plugins"] = r.plugins;
  if (r.mission) report["mission"] = mission_to_json(*r.mission);
  return report;
}

MissionReport summarize_mission(const std::vector<PointReport>& points, double hours, std::int64_t checkpoints) {
  MissionReport m;
  m.hours = hours;
  m.checkpoints = checkpoints;
  const auto K = static_cast<std::size_t>(checkpoints);
  for (std::size_t first = 0; K > 0 && first + K <= points.size(); first += K) {
    MissionReport::Curve c;
    for (const auto& [key, value] : points[first].sweep) {
      if (key != "mission.at_hours") c.sweep += (c.sweep.empty() ? "" : ", ") + key + "=" + value;
    }
    for (std::size_t i = first; i < first + K; ++i) {
      const PointReport& pt = points[i];
      double at = 0;
      for (const auto& [key, value] : pt.sweep) {
        if (key == "mission.at_hours") at = std::strtod(value.c_str(), nullptr);
      }
      double measured = 0;
      std::map<std::string, double> bound;
      std::size_t n = 0;
      for (const auto& in : pt.inputs) {
        for (Eigen::Index k = 0; k < in.measured.std.size(); ++k) {
          measured += in.measured.std[k];
          for (const auto& [name, b] : in.bounds) {
            if (b.std.size()) bound[name] += b.std[k];
          }
          ++n;
        }
      }
      c.hours.push_back(at);
      c.measured_std.push_back(n ? measured / static_cast<double>(n) : 0.0);
      if (pt.accuracy) c.accuracy.push_back(pt.accuracy->faulty_mean);
      if (pt.chip && pt.chip->timing && pt.chip->timing->deadline_miss_rate) {
        c.deadline_miss_rate.push_back(*pt.chip->timing->deadline_miss_rate);
      }
      for (const auto& [name, v] : bound) c.bound_std[name].push_back(n ? v / static_cast<double>(n) : 0.0);
    }
    for (const auto& [name, series] : c.bound_std) {
      std::optional<double> r;
      if (series.size() == K && K >= 3) {
        const Eigen::Map<const Eigen::VectorXd> x(c.measured_std.data(), static_cast<Eigen::Index>(K));
        const Eigen::Map<const Eigen::VectorXd> y(series.data(), static_cast<Eigen::Index>(K));
        const Eigen::VectorXd dx = x.array() - x.mean(), dy = y.array() - y.mean();
        const double den = std::sqrt(dx.squaredNorm() * dy.squaredNorm());
        if (den > 0 && std::isfinite(den)) r = dx.dot(dy) / den;
      }
      c.pearson_std[name] = r;
    }
    m.curves.push_back(std::move(c));
  }
  return m;
}

nlohmann::json mission_to_json(const MissionReport& m) {
  nlohmann::json curves = nlohmann::json::array();
  for (const auto& c : m.curves) {
    nlohmann::json j = {{"sweep", c.sweep}, {"hours", c.hours}, {"measured_std", c.measured_std}};
    if (c.accuracy.size() == c.hours.size()) j["accuracy"] = c.accuracy;
    if (c.deadline_miss_rate.size() == c.hours.size()) j["deadline_miss_rate"] = c.deadline_miss_rate;
    nlohmann::json b = nlohmann::json::object(), r = nlohmann::json::object();
    for (const auto& [name, v] : c.bound_std) b[name] = v;
    for (const auto& [name, v] : c.pearson_std) r[name] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    j["bound_std"] = b;
    j["std_pearson"] = r;
    curves.push_back(j);
  }
  return {{"hours", m.hours}, {"checkpoints", m.checkpoints}, {"curves", curves}};
}

}  // namespace nfsim::tb
