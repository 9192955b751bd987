// The SystemC chip engine behind the engine interface. SystemC elaborates once per process, so
// the chip, its fault controller and driver live in a session kept across the points of a
// campaign: later points reuse it with their own fault plan and seed, and must keep the model,
// chip and inputs.
#include <algorithm>
#include <cmath>
#include <ostream>

#include "core/error.h"
#include "sim/chip/chip_engine.h"
#include "sim/engine/fault_log.h"
#include "sim/engine/i_engine.h"
#include "sim/topology/mapping.h"

namespace nfsim::sim {
namespace {

struct ChipSession {
  std::string key;
  models::Network model;
  Eigen::MatrixXd inputs;
  MappedChip mapped;
  std::unique_ptr<ChipEngine> engine;
};

std::unique_ptr<ChipSession>& session() {
  static std::unique_ptr<ChipSession> s;
  return s;
}

ChipEngine& engine_for(const EngineSetup& s) {
  auto& current = session();
  if (current) {
    if (current->key != s.chip_key) {
      throw core::InputError("a chip-engine campaign can sweep fault and trial keys only: the chip is elaborated once per "
                             "process (SystemC), so the model, the chip (components, parameters, latencies) and the inputs "
                             "must stay the same at every point; this point changes them (run one campaign per chip instead)");
    }
    current->engine->set_plan(*s.plan, s.seed, s.block_trials);
    current->engine->controller().set_log_limit(s.fault_log_limit);  // each point its own cap (fault_log.max_lines)
    current->engine->set_deadline(s.deadline_ns);
    current->engine->set_stream(s.stream_interval_ns);
    current->engine->set_control_variate(s.control_variate);
    current->engine->set_spiking(s.spiking);
    return *current->engine;
  }
  current = std::make_unique<ChipSession>();
  current->key = s.chip_key;
  current->model = *s.model;
  current->inputs = *s.inputs;
  current->mapped = std::move(*s.chip);
  ChipEngineOptions options;
  options.seed = s.seed;
  options.block_trials = s.block_trials;
  options.fault_log_limit = s.fault_log_limit;
  options.vcd_path = s.vcd_path;
  options.differential = s.chip_differential;
  options.spiking = s.spiking;
  current->engine = std::make_unique<ChipEngine>(current->model, current->inputs, current->mapped, *s.plan, options, s.labels);
  current->engine->set_deadline(s.deadline_ns);  // after the fault-free reference, which has none
  current->engine->set_stream(s.stream_interval_ns);
  current->engine->set_control_variate(s.control_variate);
  return *current->engine;
}

class ChipAdapter : public IEngine {
 public:
  explicit ChipAdapter(const EngineSetup& s) : engine_(engine_for(s)), plan_(s.plan) {}

  ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) override { return engine_.run_block(block, total_trials); }
  Eigen::MatrixXd trial_outputs(std::uint64_t trial) override { return engine_.trial_outputs(trial); }
  Eigen::MatrixXd clean_outputs() override { return engine_.reference_outputs(); }
  std::optional<std::vector<double>> spikes_per_inference() const override {
    if (engine_.reference_spikes_per_inference().empty()) return std::nullopt;
    return engine_.reference_spikes_per_inference();
  }
  // The faults the controller applied, with their simulated times, as the merged blocks logged
  // them (whichever process ran each block): at most the limit the setup gave, the rest counted.
  void write_fault_log(std::ostream& out, const FaultLogContext& context, const ErrorStats& merged) override {
    const ChipSession& s = *session();
    FaultLogWriter writer(out, context, *plan_, s.model, &s.mapped);
    const BlockTallies& t = merged.tallies();
    for (const auto& f : t.log) writer.add(f.trial, f.input, static_cast<std::size_t>(f.spec), f.unit, f.time_ns);
    writer.add_left_out(t.log_left_out);
    writer.finish();
  }
  // Latency, traffic and the rest from the merged blocks' tallies (chip_tally): the same numbers
  // for any number of worker processes or MPI ranks, and after a resume.
  std::optional<ChipRunMetrics> chip_metrics(const ErrorStats& merged) const override {
    ChipRunMetrics m;
    const BlockTallies& t = merged.tallies();
    auto count = [&t](const std::string& name) {
      const auto it = t.counts.find(name);
      return it == t.counts.end() ? std::uint64_t{0} : it->second;
    };
    const Chip& chip = engine_.chip();
    static const std::map<std::uint64_t, std::uint64_t> none;
    const auto hist = t.histograms.find(chip_tally::latency_ps);
    const auto& counts = hist == t.histograms.end() ? none : hist->second;
    std::uint64_t total = 0;
    long double sum_ps = 0;
    for (const auto& [ps, n] : counts) {
      total += n;
      sum_ps += static_cast<long double>(ps) * static_cast<long double>(n);
    }
    // Nearest rank: the smallest latency with at least ceil(q total) inferences at or below it.
    auto nearest_rank = [&](double q) {
      const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))));
      std::uint64_t seen = 0;
      for (const auto& [ps, n] : counts) {
        seen += n;
        if (seen >= rank) return static_cast<double>(ps) * 1e-3;
      }
      return 0.0;
    };
    const double simulated_ns = static_cast<double>(sum_ps) * 1e-3;
    m.latency_mean_ns = total ? simulated_ns / static_cast<double>(total) : 0.0;
    m.latency_median_ns = nearest_rank(0.5);
    m.latency_p99_ns = nearest_rank(0.99);
    if (!counts.empty()) {
      m.latency_min_ns = static_cast<double>(counts.begin()->first) * 1e-3;
      m.latency_max_ns = static_cast<double>(counts.rbegin()->first) * 1e-3;
    }
    if (engine_.deadline_ns()) {
      m.deadline_ns = engine_.deadline_ns();
      m.deadline_miss_rate = total ? static_cast<double>(count(chip_tally::deadline_misses)) / static_cast<double>(total) : 0.0;
    }
    const std::uint64_t inferences = count(chip_tally::inferences);
    m.messages_per_inference = inferences ? count(chip_tally::messages) / inferences : 0;
    // A foreign interconnect module (tlm_interconnect:) has no routers nfsim knows of: 0 hops.
    m.router_hops_per_inference =
        inferences && chip.has_builtin_interconnect() ? static_cast<double>(count(chip_tally::hops)) / static_cast<double>(inferences) : 0.0;
    const ChipSimulationCounts sim = engine_.simulation();
    m.simulation = sim.differential ? "differential" : "full";
    m.full_reason = sim.full_reason;
    m.differential_inferences = count(chip_tally::differential);
    m.full_inferences = count(chip_tally::full);
    if (engine_.stream_interval_ns()) {
      ChipRunMetrics::Stream st;
      st.interval_ns = *engine_.stream_interval_ns();
      const auto mean_of = [&t](const char* name) {
        const auto it = t.stats.find(name);
        return it == t.stats.end() ? 0.0 : it->second.mean();
      };
      st.throughput_per_us = mean_of(chip_tally::stream_throughput);
      const double period_ns = chip.stream_period().to_double() / sc_core::sc_time(1, sc_core::SC_NS).to_double();
      st.bottleneck_per_us = period_ns > 0 ? 1e3 / period_ns : 0.0;
      st.expected_per_us = period_ns > 0 ? std::min(1e3 / st.interval_ns, st.bottleneck_per_us) : 1e3 / st.interval_ns;
      st.backlog_growth_ns_per_input = mean_of(chip_tally::stream_growth);
      st.sustained = st.backlog_growth_ns_per_input <= 1e-3 * st.interval_ns;
      m.stream = st;
    }
    if (session()->mapped.interconnect->reroutes() && inferences > 0) {
      const double n = static_cast<double>(inferences);
      m.rerouting_per_inference = ChipRunMetrics::Rerouting{static_cast<double>(count(chip_tally::rerouted)) / n,
                                                            static_cast<double>(count(chip_tally::detour_hops)) / n,
                                                            static_cast<double>(count(chip_tally::dropped)) / n};
    }
    if (t.counts.count(chip_tally::spikes_dropped) && inferences > 0) {
      const double n = static_cast<double>(inferences);
      m.spikes_dropped_per_inference = static_cast<double>(count(chip_tally::spikes_dropped)) / n;
      const std::string prefix = chip_tally::link_spikes;
      for (auto it = t.counts.lower_bound(prefix); it != t.counts.end() && it->first.rfind(prefix, 0) == 0; ++it) {
        m.spikes_per_link_per_inference.emplace_back(it->first.substr(prefix.size()), static_cast<double>(it->second) / n);
      }
      std::stable_sort(m.spikes_per_link_per_inference.begin(), m.spikes_per_link_per_inference.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
    }
    if (session()->mapped.interconnect->bandwidth_bytes_per_ns() > 0 && inferences > 0) {
      m.link_wait_ns_per_inference = static_cast<double>(count(chip_tally::wait_ps)) * 1e-3 / static_cast<double>(inferences);
      const std::string prefix = chip_tally::link_busy_ps;
      for (auto it = t.counts.lower_bound(prefix); it != t.counts.end() && it->first.rfind(prefix, 0) == 0; ++it) {
        const double busy_ns = static_cast<double>(it->second) * 1e-3;
        m.link_utilisation.emplace_back(it->first.substr(prefix.size()), simulated_ns > 0 ? busy_ns / simulated_ns : 0.0);
      }
      std::stable_sort(m.link_utilisation.begin(), m.link_utilisation.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
    }
    return m;
  }
  void finish() override { engine_.finish_trace(); }

 private:
  ChipEngine& engine_;
  const faults::FaultPlan* plan_;
};

EngineCapabilities chip_capabilities() {
  EngineCapabilities c;
  c.onset_times = true;
  c.read_noise = true;
  c.custom_neurons = true;
  c.physical_faults = true;
  c.needs_chip = true;
  c.single_session = true;
  c.process_workers = true;
  c.control_variate = true;
  c.spiking = true;  // spiking arrays: T passes of the dataflow per inference, spikes as address events
  return c;
}

const EngineRegistrar registrar{{"chip",
                                 "SystemC model of the mapped chip: crossbar tiles, neuron arrays, interconnect, "
                                 "simulated time (latency, traffic, onsets)",
                                 chip_capabilities(),
                                 [](const EngineSetup& s) { return std::make_unique<ChipAdapter>(s); },
                                 2}};

}  // namespace
}  // namespace nfsim::sim
