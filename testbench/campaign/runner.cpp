#include "testbench/campaign/runner.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/running_stats.h"
#include "core/strings.h"
#include "faults/bound_model.h"
#include "models/onnx_io.h"
#include "models/random_network.h"
#include "sim/chip/chip_engine.h"
#include "sim/functional/functional_engine.h"
#include "sim/topology/mapping.h"

namespace nfsim::tb {
namespace {

constexpr const char* kVersion = "0.1.0";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json interval(const Eigen::VectorXd& center, const Eigen::VectorXd& hw) {
  return {{"lo", to_json(center - hw)}, {"hi", to_json(center + hw)}};
}

}  // namespace

models::Network load_campaign_model(const ModelSource& source) {
  if (source.generate) return models::make_random_network(*source.generate);
  return models::load_onnx(source.path);
}

models::bounds::BoundSet select_bounds(const models::bounds::BoundSet& all, const std::vector<std::string>& families) {
  models::bounds::BoundSet out;
  for (const auto& [name, value] : all) {
    for (const auto& f : families) {
      const bool match = name == f || (f == "b1" && name.rfind("b1_", 0) == 0) || (f == "sum_norms" && name.rfind("sum_norms_", 0) == 0);
      if (match) out[name] = value;
    }
  }
  return out;
}

CampaignResult run_campaign(const CampaignConfig& config, const RunOptions& run_options) {
  CampaignResult r;
  r.config = config;
  const models::Network model = load_campaign_model(config.model);
  r.data = models::load_inputs(config.inputs, model.input_size());
  std::optional<sim::MappedChip> mapped;
  std::vector<faults::FaultSpec> specs = config.faults;
  if (config.chip) {
    mapped = sim::map_network(model, *config.chip);
    if (mapped->noisy_reads && config.engine != "chip") {
      throw core::InputError(mapped->topology.file + ": crossbar type '" + mapped->topology.crossbar.type +
                             "' adds read noise, which only the chip engine models; expected engine: chip");
    }
    r.network = sim::programmed_network(model, *mapped);
    specs = sim::expand_physical_faults(config.faults, *mapped);
    const Eigen::MatrixXd diff = r.network.forward_batch(r.data.inputs) - model.forward_batch(r.data.inputs);
    r.chip = {{"name", mapped->topology.name},
              {"file", mapped->topology.file},
              {"cores", mapped->topology.cores},
              {"cores_used", mapped->mapping.cores_used},
              {"tiles", mapped->mapping.tiles.size()},
              {"neuron_arrays", mapped->mapping.arrays.size()},
              {"crossbar", mapped->topology.crossbar.type},
              {"interconnect", mapped->interconnect->describe()},
              {"programming_max_abs_output_error", diff.size() ? diff.cwiseAbs().maxCoeff() : 0.0}};
  } else {
    r.network = model;
  }
  const faults::FaultPlan plan(specs, r.network);
  r.faults = plan.specs();
  if (!r.data.labels.empty()) {
    const Eigen::MatrixXd out = r.network.forward_batch(r.data.inputs);
    Eigen::Index correct = 0;
    for (Eigen::Index c = 0; c < out.cols(); ++c) {
      Eigen::Index best = 0;
      out.col(c).maxCoeff(&best);
      correct += best == r.data.labels[static_cast<std::size_t>(c)];
    }
    r.fault_free_accuracy = static_cast<double>(correct) / static_cast<double>(out.cols());
  }
  sim::FunctionalOptions options;
  options.seed = config.seed;
  options.block_trials = config.block_trials;
  options.batch_trials = config.batch_trials;
  auto t0 = std::chrono::steady_clock::now();
  if (config.engine == "chip") {
    sim::ChipEngineOptions copt;
    copt.seed = config.seed;
    copt.block_trials = config.block_trials;
    copt.fault_log_limit = run_options.fault_log_path.empty() ? 0 : run_options.fault_log_limit;
    copt.vcd_path = run_options.vcd_path;
    sim::ChipEngine engine(model, r.data.inputs, *mapped, plan, copt);
    r.stats = engine.run(config.trials);
    const auto& lat = engine.latency_ns();
    const auto& noc = engine.chip().interconnect();
    r.chip["inference_latency_ns"] = {{"mean", lat.mean()}, {"min", lat.min()}, {"max", lat.max()}};
    r.chip["inferences"] = engine.chip().inferences();
    r.chip["messages"] = noc.messages();
    r.chip["router_hops"] = noc.hops();
    r.chip["bytes"] = noc.bytes();
    r.chip["messages_dropped"] = noc.dropped();
    if (!run_options.fault_log_path.empty()) {
      core::write_file_atomically(run_options.fault_log_path, [&](std::ostream& o) { engine.controller().write_log(o); });
    }
  } else {
    const sim::FunctionalEngine engine(r.network, r.data.inputs, plan, options);
    r.stats = engine.run(config.trials);
  }
  r.seconds_monte_carlo = seconds_since(t0);
  const double z = core::normal_quantile_two_sided(config.confidence);
  for (Eigen::Index n = 0; n < r.data.count(); ++n) r.measured.push_back(measure(r.stats, n, z));
  t0 = std::chrono::steady_clock::now();
  const models::bounds::BoundCalculator calc(r.network, faults::to_bound_model(plan));
  for (Eigen::Index n = 0; n < r.data.count(); ++n) r.bounds.push_back(select_bounds(calc.compute(r.data.inputs.col(n)), config.bounds));
  r.profile = models::bounds::network_profile(r.network, r.data.inputs);
  r.seconds_bounds = seconds_since(t0);
  return r;
}

nlohmann::json faults_to_json(const std::vector<faults::FaultSpec>& specs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : specs) {
    nlohmann::json f{{"kind", faults::to_string(s.kind)}, {"probability", s.probability},
                     {"persistence", faults::to_string(s.persistence)}};
    if (s.kind == faults::FaultKind::group_crash) {
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

nlohmann::json make_report(const CampaignResult& r) {
  const double z95 = core::normal_quantile_two_sided(0.95);
  nlohmann::json inputs = nlohmann::json::array();
  for (Eigen::Index n = 0; n < r.data.count(); ++n) {
    const Measured m95 = measure(r.stats, n, z95);
    const Measured& m = r.measured[static_cast<std::size_t>(n)];
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
  nlohmann::json point{{"faults", faults_to_json(r.faults)}, {"inputs", inputs}, {"summary", summarize(r.measured, r.bounds)}};
  if (r.fault_free_accuracy >= 0) point["fault_free_accuracy"] = r.fault_free_accuracy;
  nlohmann::json report{
      {"nfsim_version", kVersion},
      {"complete", true},
      {"campaign",
       {{"file", r.config.file},
        {"model", r.config.model.describe()},
        {"inputs", r.data.source},
        {"input_count", r.data.count()},
        {"engine", r.config.engine},
        {"trials", r.config.trials},
        {"seed", r.config.seed},
        {"block_trials", r.config.block_trials},
        {"confidence", r.config.confidence},
        {"bounds", r.config.bounds}}},
      {"network", {{"description", r.network.describe()}, {"layers", r.network.num_layers()},
                   {"parameters", r.network.parameter_count()}}},
      {"chip", r.chip},
      {"profile", profile_to_json(r.profile)},
      {"points", nlohmann::json::array({point})},
      {"timing", {{"monte_carlo_s", r.seconds_monte_carlo}, {"bounds_s", r.seconds_bounds}}}};
  return report;
}

void write_summary_csv(std::ostream& out, const CampaignResult& r) {
  const double z95 = core::normal_quantile_two_sided(0.95);
  std::vector<std::string> names;
  if (!r.bounds.empty()) {
    for (const auto& [name, b] : r.bounds.front()) names.push_back(name);
  }
  out << "input,output,trials,mean,std,mean_abs,max_abs,mean_ci95_lo,mean_ci95_hi,std_ci95_lo,std_ci95_hi";
  for (const auto& name : names) {
    out << ',' << name << "_mean";
    if (r.bounds.front().at(name).std.size()) out << ',' << name << "_std";
  }
  out << '\n';
  for (Eigen::Index n = 0; n < r.data.count(); ++n) {
    const Measured m = measure(r.stats, n, z95);
    const auto& bs = r.bounds[static_cast<std::size_t>(n)];
    for (Eigen::Index k = 0; k < m.mean.size(); ++k) {
      out << n << ',' << k << ',' << m.trials;
      for (double v : {m.mean[k], m.std[k], m.mean_abs[k], m.max_abs[k], m.mean[k] - m.mean_hw[k], m.mean[k] + m.mean_hw[k],
                       m.std[k] - m.std_hw[k], m.std[k] + m.std_hw[k]}) {
        out << ',' << core::format_double(v);
      }
      for (const auto& name : names) {
        const auto& b = bs.at(name);
        out << ',' << core::format_double(b.mean.size() == 1 ? b.mean[0] : b.mean[k]);
        if (b.std.size()) out << ',' << core::format_double(b.std[k]);
      }
      out << '\n';
    }
  }
}

void write_campaign_outputs(const CampaignResult& r, const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec || !std::filesystem::is_directory(out_dir)) {
    throw core::InputError(out_dir + ": cannot create the output directory (" + ec.message() + "); expected a writable path");
  }
  const std::string json = make_report(r).dump(1) + "\n";
  core::write_file_atomically(out_dir + "/report.json", [&](std::ostream& o) { o << json; });
  core::write_file_atomically(out_dir + "/summary.csv", [&](std::ostream& o) { write_summary_csv(o, r); });
}

void print_summary(std::FILE* to, const CampaignResult& r) {
  std::fprintf(to, "network %s, %ld inputs, %llu trials, seed %llu\n", r.network.describe().c_str(),
               static_cast<long>(r.data.count()), static_cast<unsigned long long>(r.config.trials),
               static_cast<unsigned long long>(r.config.seed));
  for (const auto& f : r.faults) std::fprintf(to, "fault: %s\n", f.describe().c_str());
  if (r.fault_free_accuracy >= 0) std::fprintf(to, "fault-free accuracy: %.4f\n", r.fault_free_accuracy);
  std::fprintf(to, "\n%5s %4s %12s %11s %11s %11s %11s %11s %11s\n", "input", "out", "mean", "+-ci", "std", "b3 mean",
               "b3 std", "b4 mean", "b4 std");
  const Eigen::Index shown = std::min<Eigen::Index>(r.data.count(), 5);
  for (Eigen::Index n = 0; n < shown; ++n) {
    const Measured& m = r.measured[static_cast<std::size_t>(n)];
    const auto& b = r.bounds[static_cast<std::size_t>(n)];
    for (Eigen::Index k = 0; k < std::min<Eigen::Index>(m.mean.size(), 4); ++k) {
      auto val = [&](const char* name, bool stdv) {
        const auto it = b.find(name);
        if (it == b.end()) return std::numeric_limits<double>::quiet_NaN();
        return stdv ? it->second.std[k] : it->second.mean[k];
      };
      std::fprintf(to, "%5ld %4ld %12.4e %11.2e %11.4e %11.4e %11.4e %11.4e %11.4e\n", static_cast<long>(n),
                   static_cast<long>(k), m.mean[k], m.mean_hw[k], m.std[k], val("b3", false), val("b3", true),
                   val("b4", false), val("b4", true));
    }
  }
  if (r.data.count() > shown || (r.data.count() && r.measured[0].mean.size() > 4)) {
    std::fprintf(to, "(first %ld inputs, up to 4 outputs; all in summary.csv)\n", static_cast<long>(shown));
  }
  const nlohmann::json s = summarize(r.measured, r.bounds);
  std::fprintf(to, "\n%-14s %9s %9s %9s %9s %9s\n", "bound", "pearson", "rankloss", "med.rel", "std r", "holds");
  for (const auto& [name, v] : s.items()) {
    auto num = [](const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); };
    std::fprintf(to, "%-14s %9.4f %9.4f %9.4f %9.4f %9s\n", name.c_str(), num(v["mean"]["pearson"]), num(v["mean"]["rank_loss"]),
                 num(v["mean"]["median_rel_err"]), v.contains("std") ? num(v["std"]["pearson"]) : std::numeric_limits<double>::quiet_NaN(),
                 v.contains("fraction_holding") ? core::format_double(v["fraction_holding"].get<double>()).c_str() : "-");
  }
  std::fprintf(to, "\nMonte Carlo %.2f s, bounds %.2f s\n", r.seconds_monte_carlo, r.seconds_bounds);
}

}  // namespace nfsim::tb
