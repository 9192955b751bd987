#pragma once

#include <systemc>

#include <Eigen/Dense>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "core/running_stats.h"
#include "sim/chip/fault_controller.h"
#include "faults/fault_plan.h"
#include "models/network.h"
#include "sim/chip/chip.h"
#include "models/spiking.h"
#include "sim/functional/error_stats.h"
#include "sim/topology/mapping.h"

namespace nfsim::sim {

struct ChipEngineOptions {
  std::uint64_t seed = 1;
  std::uint32_t block_trials = 64;  // statistics blocks, merged in order (as the functional engine)
  std::optional<std::size_t> fault_log_limit;  // applied faults kept for the fault log (none: no log)
  // Write a VCD trace here (inference index, busy, per-output values, active faults per spec).
  // Tracing separates inferences by 1 ps so that `busy` shows every inference.
  std::string vcd_path;
  // Differential simulation (docs/chip.md, "Differential simulation"): inferences whose faults
  // change values only are computed from each input's recorded fault-free inference. False: every
  // inference simulated in full (the reference the tests hold it to).
  bool differential = true;
  // Spiking arrays (docs/spiking.md, "On the chip"): the dynamics, or null for rate arrays.
  const models::SpikingConfig* spiking = nullptr;
};

// The names of the chip engine's block tallies (ErrorStats::tallies(); sim/engine/impl/chip.cpp
// turns the merged ones into the report's chip metrics).
namespace chip_tally {
inline constexpr const char* inferences = "chip.inferences";
inline constexpr const char* messages = "chip.messages";
inline constexpr const char* hops = "chip.hops";
inline constexpr const char* dropped = "chip.dropped";
inline constexpr const char* rerouted = "chip.rerouted";
inline constexpr const char* detour_hops = "chip.detour_hops";
inline constexpr const char* wait_ps = "chip.wait_ps";
inline constexpr const char* link_busy_ps = "chip.link_busy_ps:";  // + the link's name
inline constexpr const char* link_spikes = "chip.link_spikes:";    // + the link's name (spiking chips)
inline constexpr const char* spikes_dropped = "chip.spikes_dropped";  // by lossy routers and links (spiking chips)
inline constexpr const char* deadline_misses = "chip.deadline_misses";
inline constexpr const char* differential = "chip.differential_inferences";
inline constexpr const char* full = "chip.full_inferences";
inline constexpr const char* latency_ps = "chip.latency_ps";  // histogram
inline constexpr const char* stream_throughput = "chip.stream_throughput_per_us";
inline constexpr const char* stream_growth = "chip.stream_growth_ns";
}  // namespace chip_tally

// How the chip engine simulated a point's inferences.
struct ChipSimulationCounts {
  bool differential = false;          // asked for and possible on this chip and point
  std::string full_reason;            // why not (empty when it is)
  std::uint64_t differential_inferences = 0, full_inferences = 0;
};

// The chip engine: elaborates the Chip, its FaultController and a driver thread once (SystemC
// allows one elaboration per process), then runs trials as successive inferences on the same
// chip: before each inference the controller applies that inference's faults, drawn exactly as
// the functional engine draws them. Delta is measured against the outputs of the same chip
// without faults (its crossbar and neuron models included, read noise off), computed once.
class ChipEngine {
 public:
  ChipEngine(const models::Network& network, const Eigen::MatrixXd& inputs, const MappedChip& mapped,
             const faults::FaultPlan& plan, const ChipEngineOptions& options, std::vector<int> labels = {});
  ~ChipEngine();

  // Runs the next sweep point on the same elaborated chip: another fault plan and seed (and
  // labels); the network, inputs and chip stay.
  // Each point starts with an empty fault log, latency statistics and traffic counters.
  void set_plan(const faults::FaultPlan& plan, std::uint64_t seed, std::uint32_t block_trials);

  ErrorStats run(std::uint64_t total_trials);
  // Statistics of trials [block * B, min((block + 1) * B, total_trials)), as the functional engine.
  ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials);
  Eigen::MatrixXd trial_outputs(std::uint64_t trial);
  // Fault-free chip outputs (n_L x inputs), for checking the chip against the network.
  Eigen::MatrixXd clean_outputs();
  // The same with read noise off: the reference Delta is measured against.
  Eigen::MatrixXd fault_free_outputs();

  // Closes the VCD trace (if any) and moves it into place; throws if that fails.
  void finish_trace();

  Chip& chip() { return *chip_; }
  const Chip& chip() const { return *chip_; }
  // The fault-free outputs Delta is measured against (n_L x inputs).
  const Eigen::MatrixXd& reference_outputs() const { return golden_; }
  // Spiking chips: the fault-free spikes per inference of layers 0..L-1 (mean over the inputs) as
  // the chip's neuron model emitted them, before any pooling stage; empty for rate chips.
  const std::vector<double>& reference_spikes_per_inference() const { return reference_spikes_; }
  FaultController& controller() { return *controller_; }
  const core::RunningStats& latency_ns() const { return latency_ns_; }
  // The point's deadline (none: no deadline); the fault-free reference is computed without one.
  void set_deadline(std::optional<double> deadline_ns);
  std::optional<double> deadline_ns() const { return deadline_ns_; }
  // Streamed inferences (none: one at a time): each trial's inputs enter the chip one every
  // interval (docs/chip.md, "Streamed inferences").
  void set_stream(std::optional<double> interval_ns);
  // The point's spiking dynamics (null: rate arrays); a change recomputes the fault-free outputs.
  void set_spiking(const models::SpikingConfig* config);
  std::optional<double> stream_interval_ns() const { return stream_interval_ns_; }
  // Per streamed trial: throughput (inputs per us, (N - 1) over the time from the first output
  // to the last) and the growth of the latency from the first input to the last, per input (ns).
  const core::RunningStats& stream_throughput_per_us() const { return stream_throughput_; }
  const core::RunningStats& stream_backlog_growth_ns() const { return stream_growth_; }
  // Differential simulation on (where it applies) or off (every later inference simulated in
  // full), on an engine that recorded its references: the tests compare the two on one chip.
  void set_differential(bool on) { force_full_ = !on; }
  // The point's control variate (estimator: control_variate), or null: each block's statistics
  // follow it (ErrorStats::follow). Must outlive the blocks run with it.
  void set_control_variate(const ControlVariate* cv) { control_variate_ = cv; }
  // Each input's recorded fault-free inference (empty when differential simulation is off).
  const std::vector<Chip::Reference>& references() const { return references_; }
  // Which inferences of the point were simulated differentially, and why none were when none
  // could be.
  ChipSimulationCounts simulation() const;
  // Inferences of the point that lost an output to the deadline.
  std::uint64_t deadline_misses() const { return deadline_misses_; }
  // How many inferences of the point took each latency (simulated time in ps: exact, and few
  // distinct values, so the memory does not grow with the trials), for its percentiles.
  const std::map<std::uint64_t, std::uint64_t>& latency_counts_ps() const { return latency_counts_ps_; }

 private:
  // golden_ and reference_spikes_ from a fault-free pass over the inputs (counters reset first).
  void record_reference();
  std::vector<double> reference_spikes_;
  struct Driver;
  struct Tracer;
  void execute(std::function<void()> job);
  void infer_traced(std::uint64_t index, const Eigen::VectorXd& input, Eigen::VectorXd& output);

  const models::Network& net_;
  const Eigen::MatrixXd& inputs_;
  const faults::FaultPlan* plan_;
  ChipEngineOptions options_;
  std::unique_ptr<Chip> chip_;
  std::unique_ptr<FaultController> controller_;
  std::unique_ptr<Driver> driver_;
  std::unique_ptr<Tracer> tracer_;
  std::uint64_t inference_count_ = 0;
  Eigen::MatrixXd golden_;
  std::string spiking_key_;  // the spiking dynamics the fault-free outputs were computed with ("": rate)
  std::vector<int> labels_;
  void accumulate_block(std::uint64_t first, std::uint64_t last, ErrorStats& block);
  core::RunningStats latency_ns_;
  std::map<std::uint64_t, std::uint64_t> latency_counts_ps_;
  std::optional<double> deadline_ns_;
  std::optional<double> stream_interval_ns_;
  core::RunningStats stream_throughput_, stream_growth_;
  // The block being accumulated (its tallies take the stream statistics), or null.
  ErrorStats* block_ = nullptr;
  // One trial's inferences: as a stream when set_stream() asked for one, recording its statistics.
  void run_trial(std::uint64_t trial, const std::function<void(Eigen::Index, const Eigen::VectorXd&)>& each);
  std::uint64_t deadline_misses_ = 0;
  // Differential simulation: each input's reference (empty: none recorded), why none was (the
  // chip's obstacle, the options, or the size), and the point's counts.
  std::vector<Chip::Reference> references_;
  std::string no_references_;
  std::uint64_t differential_inferences_ = 0, full_inferences_ = 0;
  bool force_full_ = false;
  const ControlVariate* control_variate_ = nullptr;
  // Why this point's inferences cannot be differential (no references, a deadline, a stream, a
  // trace), or empty.
  std::string differential_off_reason() const;
  // One inference of the trial under the faults the controller applied at its start.
  void infer_one(Eigen::Index n, Eigen::VectorXd& out);
};

// The memory the references may take (all inputs together); beyond it the engine simulates in full.
constexpr std::size_t kMaxReferenceBytes = std::size_t{1} << 30;

}  // namespace nfsim::sim
