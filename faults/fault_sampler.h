#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "faults/fault_plan.h"
#include "models/network.h"

namespace nfsim::faults {

// One changed neuron output or weight, as the faulty chip sees it. `dominant` marks the units a
// physical fault (a dead crossbar row, column or tile, neuron array or router) takes down: the
// hardware that would compute or carry the value is gone, so no logical fault on the same unit
// can give it another value, whatever the plan order (the chip zeroes them in the module).
struct NeuronOverride {
  int index;
  double value;
  bool dominant = false;
};
struct WeightOverride {
  std::uint64_t synapse;  // the layer's synapse index (models::ILayer)
  double value;
  bool dominant = false;
  // A replica's crash acts at output positions [pos_begin, pos_begin + pos_count) only (pos_count
  // 0: everywhere), where the synapse had the value `base` before it (the stored weight, or the
  // value a logical fault gave it everywhere): the change there is value - base.
  int pos_begin = 0;
  int pos_count = 0;
  double base = 0.0;
};

struct ParameterOverride {
  enum class Which { threshold, leak };
  int index;
  Which which;
  double factor;
};

// A failed lossy router or link on one spike message (a SpikePath): each spike of the message
// is dropped with probability q, drawn by spike_drop_uniform with (spec, unit) and the message's
// transfer index.
struct SpikeDrop {
  std::size_t spec;
  std::uint64_t unit;
  int transfer;
  int src_begin, src_count;
  int out_begin, out_count;
  double q;
};

// The uniform (0, 1) draw that decides whether unit `unit` of spec `spec` drops the spike of
// source neuron `source` (an index into the sending layer) on message `transfer` at time step
// `step` of inference (trial, input): dropped when it is < the spec's drop_probability. A pure
// function of its arguments (Philox4x32-10, its own key space), shared by both engines.
double spike_drop_uniform(std::uint64_t seed, std::size_t spec, std::uint64_t unit, std::uint64_t trial, std::uint32_t input,
                          int step, int transfer, int source);

// The faults acting on one inference: per layer, the neuron outputs and weights that differ from
// the fault-free network. Later specs of the plan override earlier ones on the same unit, except
// that a physical fault's crash (a dominant override) wins over any logical fault.
struct FaultInstance {
  std::vector<std::vector<NeuronOverride>> neurons;  // index 0..L
  std::vector<std::vector<WeightOverride>> weights;  // index 1..L (0 unused)
  // A spiking neuron's threshold or leak multiplied by `factor` (threshold_deviation,
  // leak_deviation), index 0..L (0 unused): only the spiking engines read these, and only
  // spiking campaigns have them (the rate engines refuse plans with such specs).
  std::vector<std::vector<ParameterOverride>> parameters;
  // Failed lossy routers and links, per receiving layer 1..L (0 unused): only the spiking
  // engines read these (the rate engines refuse plans with such specs).
  std::vector<std::vector<SpikeDrop>> drops;
  std::size_t fault_count = 0;                       // units drawn as failed (groups count once)

  void reset(int num_layers);
  // Keeps one override per unit: the last dominant one if the unit has any, else the one added
  // last (later specs win; a unit a physical fault took down stays down). A synapse's ranged
  // crashes (replicas, each at its own positions) stay next to its one full override unless that
  // is dominant, with their base set to its value; identical ranges are kept once.
  void resolve_duplicates();
  // No override at all (no unit failed, or only units with no effect, such as a router that no
  // message crosses).
  bool empty() const;
  // The lowest layer whose computation differs: a neuron override at layer l or a weight
  // override, a parameter override or a spike drop at layer l (which first changes z_l). L + 1
  // when empty.
  int first_layer() const;
};

// Draws the faults of (trial, inference). The failed units of a spec are a pure function of
// (seed, spec index, trial, inference slot): a Philox4x32-10 stream keyed by the seed and spec,
// with stream id trial * 2^32 + slot, where slot is the input index for transient specs and
// 2^32 - 1 for permanent ones (one draw per trial, shared by all inputs). Units are visited by
// geometric skipping: gap = floor(log(u) / log(1 - p)), which visits each unit independently
// with probability p at a cost proportional to the number of failures, not of units.
// Identical in both engines, for any batch size, thread count or split of trials.
class FaultSampler {
 public:
  static constexpr std::uint32_t kPermanentSlot = 0xFFFFFFFFu;

  FaultSampler(const FaultPlan& plan, const models::Network& network, std::uint64_t seed);

  // The failed unit indices of spec s, ascending, in replica `replica` (0 without replicas):
  // unprotected units with p, TMR units with 3p^2 - 2p^3 from a second stream, then the units
  // that spares repair removed (docs/faults.md, "Protection"). A mission spec's units are those
  // failed by the end of the mission whose failure time is at most the point's mission_hours.
  void draw_units(std::size_t spec, std::uint64_t trial, std::uint32_t slot, std::vector<std::uint64_t>& units,
                  std::uint32_t replica = 0) const;
  // The one draw loop of every engine: calls f(spec, unit) for each unit that fails in inference
  // `input` of trial `trial`, specs in plan order, units ascending (permanent specs draw once per
  // trial, transient ones once per inference). `scratch` holds the units of one spec.
  template <typename F>
  void for_each_failed(std::uint64_t trial, std::uint32_t input, std::vector<std::uint64_t>& scratch, F&& f,
                       std::uint32_t replica = 0) const {
    for (std::size_t s = 0; s < plan_.size(); ++s) {
      const bool permanent = plan_.specs()[s].persistence == Persistence::permanent;
      draw_units(s, trial, permanent ? kPermanentSlot : input, scratch, replica);
      for (std::uint64_t u : scratch) f(s, u);
    }
  }
  // A mission spec (FaultSpec::lifetime_end_hours > 0): the failure time in hours of `unit` in
  // `trial` given that it fails by the mission's end, which draw_units compares with the point's
  // time (replica 0). Truncated exponential: P(T <= t) = (1 - e^{-lambda t}) / (1 - e^{-lambda H}).
  double failure_hours(std::size_t spec, std::uint64_t trial, std::uint64_t unit) const;
  // All faults acting on inference `input` of trial `trial`; with `at_step`, those of specs
  // whose onset_step is at most it (what acts at that time step of a spiking inference).
  void realize(std::uint64_t trial, std::uint32_t input, FaultInstance& out, std::uint32_t replica = 0,
               std::optional<int> at_step = std::nullopt) const;
  // The distinct nonzero onset_step values of the plan, ascending (empty: every fault acts on
  // every step).
  const std::vector<int>& onset_steps() const { return onset_steps_; }
  // Adds the effect of unit `unit` of spec `spec` to `out` (also used by the exact oracle);
  // call out.resolve_duplicates() once all units are in when specs may overlap.
  void apply_unit(std::size_t spec, std::uint64_t unit, FaultInstance& out) const;
  // Adds the effect of the failed units `units` of spec `spec` (one draw), unit by unit, and
  // appends them to `joint` when the spec has a joint effect (FaultSpec::joint_effect). Once
  // every spec's units are in, apply_joint(joint, out) adds what they take down together (the
  // units of all such specs at once: dead routers cut the mesh whichever spec failed them).
  // Call out.resolve_duplicates() afterwards when specs may overlap.
  void apply_units(std::size_t spec, const std::vector<std::uint64_t>& units, FaultInstance& out,
                   std::vector<std::uint64_t>& joint) const;
  void apply_joint(std::vector<std::uint64_t>& joint, FaultInstance& out) const;

  const FaultPlan& plan() const { return plan_; }

 private:
  const FaultPlan& plan_;
  const models::Network& net_;
  std::vector<Eigen::Index> stored_cols_;  // per layer 1..L: columns of its crossbar matrix
  // Key of spec s's stream for replica r: word 1 = 0 for the spec's units, 1 for its TMR units.
  std::uint64_t stream_key(std::size_t s, std::uint32_t replica, std::uint32_t which) const;
  // Geometric skipping over n units with probability p (0 < p < 1), appending unit indices.
  static void skip_draw(std::uint64_t key, std::uint64_t stream, double p, std::uint64_t n, std::vector<std::uint64_t>& out);
  // A uniform in (0, 1) per (key, trial, unit): the failure time of a mission's unit.
  static double lifetime_uniform(std::uint64_t key, std::uint64_t trial, std::uint64_t unit);
  std::uint64_t seed_ = 0;
  std::vector<std::uint64_t> spec_keys_;
  std::vector<int> onset_steps_;
  bool may_overlap_ = false;
  std::optional<std::size_t> joint_spec_;  // the first spec with a joint effect
};

}  // namespace nfsim::faults
