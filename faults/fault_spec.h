#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "faults/fault_kind.h"

namespace nfsim::faults {

// A two's-complement fixed-point format for stored weights: `total_bits` bits of which
// `frac_bits` are fractional (value = integer * 2^-frac_bits).
struct FixedPointFormat {
  int total_bits = 8;
  int frac_bits = 6;
  std::string describe() const;  // "Q1.6 (8 bits)"
};

struct NeuronRef {
  int layer = 0;  // 0..L
  int index = 0;
};
// A synapse by the cell (row, col) of its layer's stored matrix (ILayer::crossbar_matrix(); dense:
// the weight W_layer(row, col)), the form groups are written in and the mapper fills in.
// A crossbar tile that computes only some output positions of a conv layer (a replica) takes the
// synapse down at those positions only: [pos_begin, pos_begin + pos_count); pos_count 0 (the
// default, and the only form a campaign file writes) means every position.
struct SynapseRef {
  int layer = 1;  // 1..L
  int row = 0;
  int col = 0;
  int pos_begin = 0;
  int pos_count = 0;
};

// The spikes one message of the chip's dataflow carries (a mapping's Transfer into a dense
// layer): the spikes of layer `layer - 1`'s neurons [src_begin, src_begin + src_count) to the
// crossbar tile that computes layer `layer`'s outputs [out_begin, out_begin + out_count).
// `transfer` is the message's index in the mapping, which keys its spike drops.
struct SpikePath {
  int layer = 1;
  int transfer = 0;
  int src_begin = 0, src_count = 0;
  int out_begin = 0, out_count = 0;
};

// A named set of neurons and synapses that crash together (a physical unit). A lossy router or
// link (lossy_router, lossy_link) instead lists the spike messages crossing it: when it fails,
// each spike on them is dropped with the spec's drop_probability.
struct FaultGroup {
  std::string name;
  std::vector<NeuronRef> neurons;
  std::vector<SynapseRef> synapses;
  std::vector<SpikePath> spike_paths;
};

// One line of a fault plan: a kind, where it acts, how likely each unit fails, how long.
struct FaultSpec {
  FaultKind kind = FaultKind::neuron_crash;
  std::vector<int> layers;  // neuron kinds: 0..L; synapse kinds: 1..L; unused for group_crash
  double probability = 0.0;
  Persistence persistence = Persistence::transient;
  double value = 0.0;              // stuck-at value
  int bit = 0;                     // weight_bit_flip
  FixedPointFormat format;         // weight_bit_flip
  std::vector<FaultGroup> groups;  // group_crash: each group fails as one unit
  // A physical fault kind (crossbar_row, crossbar_column, crossbar_tile, neuron_array, router),
  // empty for logical kinds. A physical spec is a group_crash whose groups the chip's mapping
  // fills in (one group per physical unit, in the mapping's order).
  std::string physical_kind;
  // Time after the start of each inference from which the fault acts (chip engine only; 0 =
  // the whole inference). See docs/chip.md for which computations it reaches.
  double onset_ns = 0.0;
  // Spiking networks: the time step of each inference from which the fault acts (0 = every step;
  // steps 0..onset_step-1 run fault-free). Both spiking engines honour it (docs/spiking.md,
  // "Onsets in time steps").
  int onset_step = 0;
  // slow_tile / slow_array: the factor its read or update latency is multiplied by (>= 1).
  double factor = 0.0;
  // lossy_router / lossy_link: the probability that a failed unit drops each spike crossing it,
  // in (0, 1] (each spike, message and step independently: faults::spike_drop_uniform).
  double drop_probability = 0.0;
  // Given as `fit` + `mission_hours`: the mission in hours (0 otherwise). The probability is then
  // 1 - exp(-FIT 1e-9 mission_hours), and a probability p stands for FIT -ln(1 - p) / (1e-9 hours).
  double mission_hours = 0.0;
  // A campaign's `mission:` (docs/faults.md, "Lifetime"): this FIT spec's units fail at Poisson
  // times over a mission of lifetime_end_hours, and the point looks at time mission_hours of it.
  // Each trial (chip instance) draws one failure time per unit, so the failed units of a trial at
  // an earlier time are a subset of those at a later one. 0: no mission.
  double lifetime_end_hours = 0.0;
  double lifetime_fit = 0.0;  // the FIT rate (failures per 10^9 device-hours per unit)
  // Where the spec was written, for messages ("campaign.yaml:4", "fault spec '...'"); may be empty.
  std::string origin;
  // Protection (docs/faults.md, "Protection"), filled in from the campaign's `protection:` once
  // the units are known. `tmr_units`: units of this spec under triple modular redundancy
  // (ascending, unique), each drawn with 3p^2 - 2p^3 in place of p. `spare_pool`: empty, or one
  // entry per unit naming its repair pool (the tile of a crossbar row or column); in each draw
  // the first `spares` failed units of each pool (lowest unit first) are repaired.
  std::vector<std::uint64_t> tmr_units;
  std::vector<std::uint32_t> spare_pool;
  std::uint32_t spares = 0;
  // A physical spec whose failed units take down more together than the union of their groups
  // (dead routers under fault-tolerant routing that, together, cut live routers apart: the
  // traffic between the parts is lost). Given the failed units of one draw (ascending, unique; of
  // every spec with a joint effect, which all number the same units), appends the further groups
  // they take down to `also`. Empty for every other spec. Filled in with the groups
  // (sim::expand_physical_faults); FaultSampler::apply_joint applies it.
  std::function<void(const std::vector<std::uint64_t>& failed, std::vector<const FaultGroup*>& also)> joint_effect;

  // A timing fault (slow_tile, slow_array, slow_link): it slows a unit down and takes nothing down.
  bool is_timing() const;
  // Whether a failed unit can change when messages arrive: a timing fault or a dead router
  // (traffic dropped or detoured). The chip engine simulates such an inference fully (docs/chip.md,
  // "Differential simulation").
  bool acts_through_time() const;
  // Whether a failed unit replaces a neuron's output value (crash, stuck-at).
  bool acts_on_neurons() const;
  // Whether a failed unit changes a spiking neuron's parameter instead (threshold_deviation,
  // leak_deviation): units are neurons, but no output value is replaced (FaultPlan::unit_fault
  // refuses them; FaultSampler puts them in FaultInstance::thresholds / leaks).
  bool acts_on_neuron_parameters() const;
  bool acts_on_synapses() const;
  // Whether a failed unit drops spikes (lossy_router, lossy_link).
  bool drops_spikes() const;
  // Whether the spec acts on spiking networks only (parameter deviations, dropped spikes): rate
  // engines and the bounds refuse it.
  bool spiking_only() const { return acts_on_neuron_parameters() || drops_spikes(); }
  // The kind as written: the physical kind for physical specs, else the logical kind's name.
  std::string kind_name() const { return physical_kind.empty() ? to_string(kind) : physical_kind; }
  // "neuron_crash layers=[1] p=0.01 transient"
  std::string describe() const;
};

// The largest onset nfsim accepts: inside SystemC's time range (2^64 ps, about 1.8e16 ns).
constexpr double kMaxOnsetNs = 1e15;
// The largest onset in time steps (spiking.time_steps is at most 100000).
constexpr int kMaxOnsetStep = 100000;

// Throws an InputError for `field` of a spec (a field name of FaultSpec: "probability", "bit",
// "format", "layers", "groups", "value", "onset_ns", "persistence") saying `what` is wrong and
// what was `expected`, located where the spec was written (file, line and key, or the --fault
// text). Must not return.
using FaultFieldError =
    std::function<void(const std::string& field, const std::string& what, const std::string& expected)>;

// Every rule of a fault spec that does not depend on the network, stated once and used by the
// command-line form, the campaign form and FaultPlan: probability in [0, 1]; onset in [0, 1e15]
// ns; a finite stuck-at value; a format of 2..32 bits with fewer fraction bits; a bit below the
// format's width; group names unique; and no field that does not apply to the kind (`value`
// outside the stuck-at kinds, `bit` and `format` outside weight_bit_flip, `layers` on
// group_crash or router, `groups` outside group_crash). `given` names the fields the user wrote
// (an unwritten field holds its default and is not refused).
void validate_fault_spec(const FaultSpec& spec, const std::set<std::string>& given, const FaultFieldError& fail);

// The fields of a spec built in code that differ from their defaults: what validate_fault_spec
// treats as given when no text says which fields were written.
std::set<std::string> fields_set(const FaultSpec& spec);

// Parses the CLI form "KIND:layers=1,2:p=0.01[:persistence=permanent][:value=V][:bit=B][:format=T.F]".
// Throws InputError naming the spec, the bad field and what was expected.
FaultSpec parse_fault_spec(const std::string& text);

}  // namespace nfsim::faults
