#pragma once

#include <Eigen/Dense>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/network.h"
#include "models/spiking.h"
#include "sim/functional/error_stats.h"
#include "sim/functional/exact_oracle.h"

namespace nfsim::sim {

struct MappedChip;
struct FaultLogContext;

// What an engine can honour. The runner compares a campaign's needs with these before any trial
// and refuses, naming the engine, the feature and the engines that have it (never ignores).
struct EngineCapabilities {
  bool onset_times = false;      // fault specs with onset_ns > 0 (needs simulated time)
  bool read_noise = false;       // crossbar models whose reads add noise
  // Neuron-array types other than the built-in `rate`, `lif` and `if` (the functional model has
  // rate units and the built-in integrate-and-fire dynamics; a plug-in's type runs on the chip).
  bool custom_neurons = false;
  bool physical_faults = false;  // crossbar_row/column/tile, neuron_array, router
  bool needs_chip = false;       // the campaign must name a chip topology
  bool exact = false;            // enumerates every fault subset instead of sampling trials
  bool parallel_blocks = false;  // run_block may be called from several threads at once
  // Keeps one simulated chip for the whole process (SystemC elaborates once): every point of a
  // campaign must have the same model, chip and inputs (EngineSetup::chip_key).
  bool single_session = false;
  std::uint64_t max_fault_units = 0;  // most failing units it accepts (0: no limit)
  bool replicas = false;  // `replicas:` (R copies of the network, per-output median at the host)
  // Honours EngineSetup::control_variate (estimator: control_variate): every block's statistics
  // follow it (ErrorStats::follow), so that each trial is split into its first-order part and
  // remainder.
  bool control_variate = false;
  // Blocks may run in worker processes forked from this one (each with its own copy of the
  // engine, merged in block order): the chip engine, whose SystemC kernel is one per process.
  bool process_workers = false;
  // Runs spiking networks (`spiking:`, EngineSetup::spiking): integrate-and-fire arrays, time-stepped.
  bool spiking = false;
};

// Simulated time and traffic of a chip run, for the report.
struct ChipRunMetrics {
  // Inference latency in simulated time: median and p99 by nearest rank.
  double latency_mean_ns = 0, latency_min_ns = 0, latency_median_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
  std::uint64_t messages_per_inference = 0;
  double router_hops_per_inference = 0;
  // Contention (an interconnect with a bandwidth): time messages waited for links per inference,
  // and per link its busy time over the simulated inference time, busiest first.
  std::optional<double> link_wait_ns_per_inference;
  std::vector<std::pair<std::string, double>> link_utilisation;
  // Spiking chips, over the campaign's inferences (faults included): spikes per inference on each
  // link that carried any (busiest first; a message's spikes count on each link of its route up to
  // the lossy unit that drops them), and spikes dropped by lossy routers and links per inference.
  std::vector<std::pair<std::string, double>> spikes_per_link_per_inference;
  std::optional<double> spikes_dropped_per_inference;
  // With a deadline: the share of inferences that lost an output to it.
  std::optional<double> deadline_ns, deadline_miss_rate;
  // With fault-tolerant routing: per inference, messages that detoured around dead routers, the
  // routers their detours crossed beyond the fixed routes, and messages lost (no live route).
  struct Rerouting {
    double rerouted_messages = 0, detour_hops = 0, dropped_messages = 0;
  };
  std::optional<Rerouting> rerouting_per_inference;
  // Streamed inferences: the input interval; measured throughput (mean over trials); the
  // bottleneck's rate (1 / the longest per-inference busy time of a tile or array, fault-free)
  // and the rate the stream can have (the smaller of it and the input rate); the latency's growth
  // per input (mean over trials): > 0 when the chip does not sustain the rate (a backlog).
  struct Stream {
    double interval_ns = 0, throughput_per_us = 0, bottleneck_per_us = 0, expected_per_us = 0, backlog_growth_ns_per_input = 0;
    bool sustained = true;
  };
  std::optional<Stream> stream;
  // How the inferences were simulated (docs/chip.md, "Differential simulation"): "differential"
  // (those whose faults change values only; the others in full) or "full", with the reason.
  std::string simulation = "full", full_reason;
  std::uint64_t differential_inferences = 0, full_inferences = 0;
};

// Everything an engine is built from: one campaign point made concrete.
struct EngineSetup {
  const models::Network* model = nullptr;    // as imported
  const models::Network* network = nullptr;  // as the chip stores it (the model without a chip)
  const Eigen::MatrixXd* inputs = nullptr;   // one column per input
  std::vector<int> labels;                   // one per input, or empty
  const faults::FaultPlan* plan = nullptr;   // physical specs expanded to groups
  MappedChip* chip = nullptr;                // null without a chip; an engine may move from it
  // Identity of everything an engine that keeps state across points must not see change: the
  // model's weights, the chip (components with their parameters, shapes, latencies, placement)
  // and the input values (a hash; see prepare.cpp).
  std::string chip_key;
  std::uint64_t seed = 1;
  std::uint32_t block_trials = 64, batch_trials = 64;
  std::string vcd_path;               // chip engine: VCD trace
  std::optional<std::size_t> fault_log_limit;  // fault events kept for the fault log (none: no log)
  std::optional<double> deadline_ns;  // chip engine: outputs later than this are lost
  std::optional<double> stream_interval_ns;  // chip engine: each trial's inputs streamed one per interval
  bool chip_differential = true;  // chip engine: differential simulation where it applies (chip_simulation:)
  std::uint32_t replicas = 1;         // `replicas.count`: per-output median of R faulty copies
  // The point's control variate (estimator: control_variate), or null; outlives the engine.
  const ControlVariate* control_variate = nullptr;
  // `spiking:` the network's hidden layers run as integrate-and-fire arrays with this
  // configuration (`network` is then the converted network: its relu pass is the rate
  // equivalent); null: rate units. Outlives the engine.
  const models::SpikingConfig* spiking = nullptr;
  const std::atomic<bool>* interrupt = nullptr;  // set by SIGINT: engines that run long without blocks poll it
};

// One simulation engine for one campaign point. Monte-Carlo engines compute statistics block by
// block (trials [b*B, min((b+1)*B, total)), merged in block order by the runner, so the numbers
// do not depend on threads, ranks or resumes); exact engines compute the moments at once.
// Delta is always measured against the engine's own fault-free outputs (clean_outputs()).
class IEngine {
 public:
  virtual ~IEngine() = default;
  // Monte Carlo: statistics of block `block`.
  virtual ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) = 0;
  // Exact: the moments of Delta over every fault subset (null for Monte-Carlo engines).
  virtual const ExactResult* exact_result() { return nullptr; }
  // The faulty outputs (n_L x inputs) of one trial, to compare engines trial by trial.
  virtual Eigen::MatrixXd trial_outputs(std::uint64_t trial) = 0;
  // The fault-free outputs Delta is measured against (n_L x inputs).
  virtual Eigen::MatrixXd clean_outputs() = 0;
  // The faults of this point's trials as JSON lines (docs/report.md, "faults.jsonl"): at most
  // context.max_lines fault lines, then one summary line with the count left out (FaultLogWriter).
  // `merged`: the point's statistics as merged in block order (with the engine's tallies, which
  // hold what an engine that records its faults logged, whichever process ran each block).
  virtual void write_fault_log(std::ostream& out, const FaultLogContext& context, const ErrorStats& merged) = 0;
  // Simulated time and traffic, from the merged blocks' tallies (chip engine).
  virtual std::optional<ChipRunMetrics> chip_metrics(const ErrorStats& merged) const {
    (void)merged;
    return std::nullopt;
  }
  // A spiking engine: the fault-free spikes per inference of layers 0..L-1 (mean over the inputs)
  // as it simulated them (its own neuron model); none for rate engines.
  virtual std::optional<std::vector<double>> spikes_per_inference() const { return std::nullopt; }
  // After the last point: close traces (throws if that fails).
  virtual void finish() {}
};

// The engines, registered by name (`engine: NAME`). Like the component registries, each entry
// registers itself from its own .cpp (sim/engine/impl/, or a plug-in loaded with --plugin or a
// `plugins:` key); a name registered twice is refused by the plug-in loader.
class EngineRegistry {
 public:
  using Factory = std::function<std::unique_ptr<IEngine>(const EngineSetup&)>;
  struct Entry {
    std::string name;
    std::string description;
    EngineCapabilities capabilities;
    Factory make;
    // Listing order, from the most abstract engine to the most detailed (exact 0, functional 1,
    // chip 2; plug-ins default after them).
    int rank = 10;
  };
  static EngineRegistry& instance();
  void add(Entry entry);
  // Throws InputError naming `where`, the unknown name and the registered ones.
  const Entry& get(const std::string& name, const std::string& where) const;
  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  // In listing order (rank, then name).
  std::vector<const Entry*> entries() const;
  std::vector<std::string> names() const;
  // Names of the engines whose capabilities satisfy `has`, in listing order, joined with ", "
  // and `last_sep` before the last ("exact, functional or chip"); "none" when there is none.
  std::string names_with(const std::function<bool(const EngineCapabilities&)>& has, const std::string& last_sep = " or ") const;

 private:
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> owners_;  // name -> library that registered it
};

struct EngineRegistrar {
  explicit EngineRegistrar(EngineRegistry::Entry entry) { EngineRegistry::instance().add(std::move(entry)); }
};

// What a campaign point needs from its engine.
struct EngineNeeds {
  bool onset_times = false;
  bool timing = false;  // timing faults (slow_tile, slow_array, slow_link), a deadline or a stream (set by the caller)
  bool read_noise = false;
  std::string neuron_type;    // the chip's neuron-array type ("" without a chip)
  std::string crossbar_type;  // the chip's crossbar type
  std::string chip_file;      // the topology file, for messages
  bool physical_faults = false;
  bool has_chip = false;
  std::uint64_t fault_units = 0;
  std::uint32_t replicas = 1;  // `replicas.count` (set by the caller: not in the plan)
  bool control_variate = false;  // estimator: control_variate (set by the caller)
  bool spiking = false;          // spiking: (set by the caller)
};
// From the fault plan (null: not built yet) and the mapped chip (null: none).
EngineNeeds engine_needs(const faults::FaultPlan* plan, const MappedChip* chip);

// Throws InputError (one message: the engine, the feature it lacks, the engines that have it)
// when `engine` cannot honour `needs`.
void check_engine_can(const EngineRegistry::Entry& engine, const EngineNeeds& needs);

// Capabilities as words for `nfsim list`: "onset times, read noise, ...".
std::string describe_capabilities(const EngineCapabilities& caps);

}  // namespace nfsim::sim
