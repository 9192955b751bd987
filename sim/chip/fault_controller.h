#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <ostream>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"

namespace nfsim::sim {

// The fault hooks of a simulated chip: the controller tells it which unit of which spec fails;
// the chip maps that to its tiles, arrays and routers (crash/restore/stuck/flip by index).
class IFaultTarget {
 public:
  virtual ~IFaultTarget() = default;
  // Restore every unit to its fault-free state.
  virtual void clear_faults() = 0;
  // Unit `unit` of spec `spec` of the plan fails now (specs are applied in plan order, so a later
  // spec overrides an earlier one on the same unit).
  virtual void apply_fault(std::size_t spec, std::uint64_t unit) = 0;
  // The inference (trial, input) of the campaign seeded `seed` starts: what draws made during it
  // (dropped spikes: faults::spike_drop_uniform) are keyed by. Called before its faults apply.
  virtual void begin_draws(std::uint64_t /*seed*/, std::uint64_t /*trial*/, std::uint32_t /*input*/) {}
};

class FaultLogWriter;

// One applied fault, for the fault log: a transient fault at every inference it acts on, a
// permanent one at the first inference of each trial it acts on only (it is re-applied at every
// inference of the trial, as the chip clears its faults between inferences, but it is one fault;
// with an onset after the end of the trial's first inference it first acts later, if ever).
struct FaultLogEntry {
  double time_ns;  // simulated time since the start of that inference (onset_ns for delayed faults)
  std::uint64_t trial;
  std::uint32_t input;
  std::size_t spec;
  std::uint64_t unit;
};

// Draws the faults of each inference with the same counter-based FaultSampler as the functional
// engine (so the same seed and trial give the same logical faults in both engines) and applies
// them through the target's hooks at the current simulated time.
class FaultController : public sc_core::sc_module {
 public:
  FaultController(sc_core::sc_module_name name, const faults::FaultPlan& plan, const models::Network& network,
                  std::uint64_t seed, IFaultTarget& target);

  // Switches to another plan (a later sweep point on the same elaborated chip).
  void set_plan(const faults::FaultPlan& plan, const models::Network& network, std::uint64_t seed);

  // Clears the previous inference's faults and applies those of (trial, input): now, or for specs
  // with an onset, at now + onset_ns (a method wakes then and applies them). Returns how many
  // units failed (including those still to come).
  std::size_t begin_inference(std::uint64_t trial, std::uint32_t input);
  // A trial starts (its permanent faults are logged again, once each).
  void begin_trial();
  // Whether this inference drew a unit that acts through time (FaultSpec::acts_through_time):
  // the chip engine then simulates it fully.
  bool drew_timing_fault() const { return drew_timing_; }
  // Applies now the faults still to come whose onset is at most `offset` after the inference's
  // start, logged at their onsets (the differential chip calls it before each phase, as the full
  // simulation's method would have applied them by then: docs/chip.md, "Differential simulation").
  void apply_until(const sc_core::sc_time& offset);
  // A spiking inference's time step `step` starts (Chip::infer, before each pass): when faults
  // with that onset_step were drawn, the target's faults are cleared and every drawn fault acting
  // from this step on is applied again in plan order (so a later spec still wins on a unit), the
  // new ones logged at the current time.
  void begin_step(int step);
  // The inference is over: faults still to come never act on it and are dropped, not logged.
  void end_inference();
  // Faults currently applied, per spec (for traces).
  const std::vector<std::size_t>& active_per_spec() const { return active_; }

  // Keep at most this many log entries in memory (none: do not log); later ones are counted.
  void set_log_limit(std::optional<std::size_t> entries) { log_limit_ = entries; }
  std::optional<std::size_t> log_limit() const { return log_limit_; }
  const std::vector<FaultLogEntry>& log() const { return log_; }
  // Fault events beyond the limit (counted, not kept).
  std::uint64_t log_left_out() const { return log_left_out_; }
  // The kept entries and the count left out, as JSON lines through `writer`.
  void write_log(FaultLogWriter& writer) const;

 private:
  struct Pending {
    sc_core::sc_time at;
    std::size_t spec;
    std::uint64_t unit;
    std::uint64_t trial;
    std::uint32_t input;
  };
  // `at`: the simulated time it acts from (for the log).
  void apply(std::size_t spec, std::uint64_t unit, std::uint64_t trial, std::uint32_t input, const sc_core::sc_time& at);
  void apply_due();  // SC_METHOD on onset_event_

  const faults::FaultPlan* plan_;
  std::unique_ptr<faults::FaultSampler> sampler_;
  std::uint64_t seed_ = 0;
  std::vector<Pending> pending_;  // sorted by time
  // The inference's drawn units in plan order (spec, unit), and whether any has an onset_step.
  std::vector<std::pair<std::size_t, std::uint64_t>> drawn_;
  bool stepped_ = false;
  std::uint64_t trial_ = 0;
  std::uint32_t input_ = 0;
  std::size_t next_pending_ = 0;
  sc_core::sc_event onset_event_;
  std::vector<std::size_t> active_;
  IFaultTarget& target_;
  std::vector<std::uint64_t> units_;
  std::vector<FaultLogEntry> log_;
  std::uint64_t log_left_out_ = 0;
  std::optional<std::size_t> log_limit_;
  sc_core::sc_time inference_start_;        // when the current inference began
  bool drew_timing_ = false;
  std::vector<char> acts_through_time_;  // per spec (FaultSpec::acts_through_time, cached)
  void cache_kinds();
  // The permanent faults of the current trial already logged (each once per trial).
  std::set<std::pair<std::size_t, std::uint64_t>> logged_permanent_;
};

}  // namespace nfsim::sim
