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
  current->engine = std::make_unique<ChipEngine>(current->model, current->inputs, current->mapped, *s.plan, options, s.labels);
  current->engine->set_deadline(s.deadline_ns);  // after the fault-free reference, which has none
  current->engine->set_stream(s.stream_interval_ns);
  return *current->engine;
}

class ChipAdapter : public IEngine {
 public:
  explicit ChipAdapter(const EngineSetup& s) : engine_(engine_for(s)), plan_(s.plan) {}

  ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) override { return engine_.run_block(block, total_trials); }
  Eigen::MatrixXd trial_outputs(std::uint64_t trial) override { return engine_.trial_outputs(trial); }
  Eigen::MatrixXd clean_outputs() override { return engine_.reference_outputs(); }
  // The faults the controller applied, with their simulated times.
  // The faults the controller applied, with their simulated times. The controller kept at most
  // the limit the setup gave it; the writer's cap is the same number.
  void write_fault_log(std::ostream& out, const FaultLogContext& context) override {
    const ChipSession& s = *session();
    FaultLogWriter writer(out, context, *plan_, s.model, &s.mapped);
    engine_.controller().write_log(writer);
    writer.finish();
  }
  std::optional<ChipRunMetrics> chip_metrics() const override {
    ChipRunMetrics m;
    const auto& lat = engine_.latency_ns();
    const Chip& chip = engine_.chip();
    m.latency_mean_ns = lat.mean();
    m.latency_min_ns = lat.min();
    m.latency_max_ns = lat.max();
    const auto& counts = engine_.latency_counts_ps();
    std::uint64_t total = 0;
    for (const auto& [ps, n] : counts) total += n;
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
    m.latency_median_ns = nearest_rank(0.5);
    if (!counts.empty()) {  // the same exact values as the percentiles (ps), not their sum's rounding
      m.latency_min_ns = static_cast<double>(counts.begin()->first) * 1e-3;
      m.latency_max_ns = static_cast<double>(counts.rbegin()->first) * 1e-3;
    }
    if (engine_.deadline_ns()) {
      m.deadline_ns = engine_.deadline_ns();
      m.deadline_miss_rate = lat.count() ? static_cast<double>(engine_.deadline_misses()) / static_cast<double>(lat.count()) : 0.0;
    }
    m.latency_p99_ns = nearest_rank(0.99);
    const std::uint64_t inferences = chip.inferences();
    m.messages_per_inference = inferences ? chip.messages_sent() / inferences : 0;
    // A foreign interconnect module (tlm_interconnect:) has no routers nfsim knows of: 0 hops.
    m.router_hops_per_inference = inferences && chip.has_builtin_interconnect()
                                      ? static_cast<double>(chip.interconnect().hops()) / static_cast<double>(inferences)
                                      : 0.0;
    const ChipSimulationCounts sim = engine_.simulation();
    m.simulation = sim.differential ? "differential" : "full";
    m.full_reason = sim.full_reason;
    m.differential_inferences = sim.differential_inferences;
    m.full_inferences = sim.full_inferences;
    if (engine_.stream_interval_ns()) {
      ChipRunMetrics::Stream st;
      st.interval_ns = *engine_.stream_interval_ns();
      st.throughput_per_us = engine_.stream_throughput_per_us().mean();
      const double period_ns = chip.stream_period().to_double() / sc_core::sc_time(1, sc_core::SC_NS).to_double();
      st.bottleneck_per_us = period_ns > 0 ? 1e3 / period_ns : 0.0;
      st.expected_per_us = period_ns > 0 ? std::min(1e3 / st.interval_ns, st.bottleneck_per_us) : 1e3 / st.interval_ns;
      st.backlog_growth_ns_per_input = engine_.stream_backlog_growth_ns().mean();
      st.sustained = st.backlog_growth_ns_per_input <= 1e-3 * st.interval_ns;
      m.stream = st;
    }
    if (session()->mapped.interconnect->reroutes() && inferences > 0) {
      const double n = static_cast<double>(inferences);
      m.rerouting_per_inference = ChipRunMetrics::Rerouting{static_cast<double>(chip.interconnect().rerouted()) / n,
                                                            static_cast<double>(chip.interconnect().detour_hops()) / n,
                                                            static_cast<double>(chip.interconnect().dropped()) / n};
    }
    if (session()->mapped.interconnect->bandwidth_bytes_per_ns() > 0 && inferences > 0) {
      m.link_wait_ns_per_inference = chip.interconnect().wait_ns() / static_cast<double>(inferences);
      const double simulated_ns = lat.mean() * static_cast<double>(lat.count());
      for (const auto& l : chip.interconnect().link_busy()) {
        m.link_utilisation.emplace_back(l.name, simulated_ns > 0 ? l.busy_ns / simulated_ns : 0.0);
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
