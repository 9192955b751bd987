#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "faults/fault_kind.h"
#include "models/network.h"

namespace nfsim::faults {

// A two's-complement fixed-point format for stored weights: `total_bits` bits of which
// `frac_bits` are fractional (value = integer * 2^-frac_bits).
struct FixedPointFormat {
  int total_bits = 8;
  int frac_bits = 6;
  std::string describe() const;  // "Q1.6 (8 bits)"
};

// Stored value of `w` after quantisation (round to nearest, saturating) and flipping bit `bit`
// (0 = least significant; total_bits - 1 = sign).
double flip_weight_bit(double w, int bit, const FixedPointFormat& format);

struct NeuronRef {
  int layer = 0;  // 0..L
  int index = 0;
};
// A synapse by the cell (row, col) of its layer's stored matrix (ILayer::crossbar_matrix(); dense:
// the weight W_layer(row, col)), the form groups are written in and the mapper fills in.
struct SynapseRef {
  int layer = 1;  // 1..L
  int row = 0;
  int col = 0;
};

// A named set of neurons and synapses that crash together (a physical unit).
struct FaultGroup {
  std::string name;
  std::vector<NeuronRef> neurons;
  std::vector<SynapseRef> synapses;
};

// One line of a fault plan: a kind, where it acts, how likely each unit fails, how long.
struct FaultSpec {
  FaultKind kind = FaultKind::neuron_crash;
  std::vector<int> layers;  // neuron kinds: 0..L; synapse kinds: 1..L; unused for group_crash
  double probability = 0.0;
  Persistence persistence = Persistence::transient;
  double value = 0.0;            // stuck-at value
  int bit = 0;                   // weight_bit_flip
  FixedPointFormat format;       // weight_bit_flip
  std::vector<FaultGroup> groups;  // group_crash: each group fails as one unit
  // A physical fault kind (crossbar_row, crossbar_column, crossbar_tile, neuron_array, router),
  // empty for logical kinds. A physical spec is a group_crash whose groups the chip's mapping
  // fills in (one group per physical unit, in the mapping's order).
  std::string physical_kind;
  // Time after the start of each inference from which the fault acts (chip engine only; 0 =
  // the whole inference). See docs/chip.md for which computations it reaches.
  double onset_ns = 0.0;
  // Where the spec was written, for messages ("campaign.yaml:4", "fault spec '...'"); may be empty.
  std::string origin;

  bool acts_on_neurons() const;
  bool acts_on_synapses() const;
  // "neuron_crash layers=[1] p=0.01 transient"
  std::string describe() const;
};

// Parses the CLI form "KIND:layers=1,2:p=0.01[:persistence=permanent][:value=V][:bit=B][:format=T.F]".
// Throws InputError naming the spec, the bad field and what was expected.
FaultSpec parse_fault_spec(const std::string& text);

// The fault specs of a campaign, checked against a network.
class FaultPlan {
 public:
  FaultPlan() = default;
  // Throws InputError naming the spec index, the key, the bad value and the valid range.
  FaultPlan(std::vector<FaultSpec> specs, const models::Network& network);

  const std::vector<FaultSpec>& specs() const { return specs_; }
  std::size_t size() const { return specs_.size(); }
  // Number of independently failing units of spec s (neurons, synapses or groups).
  std::uint64_t unit_count(std::size_t s) const { return unit_offsets_[s].back(); }
  // Unit u of spec s as (layer, position): for neurons position is the index; for synapses it
  // is the layer's synapse index (models::ILayer; dense: row * n_{layer-1} + col); for groups the
  // layer is -1 and the position is the group index.
  void locate(std::size_t s, std::uint64_t unit, int& layer, std::uint64_t& position) const;
  // What unit `unit` of a logical (non-group) spec s does when it fails: a neuron (layer, index)
  // or a synapse (layer, synapse index) takes `value` (crash 0, stuck-at v, the flipped stored
  // weight of `network`, the network as the chip stores it). Both engines apply faults through
  // this; they ask the layer which connections or crossbar cell the synapse is.
  struct UnitFault {
    bool neuron = true;
    int layer = 0;
    int index = 0;              // neuron
    std::uint64_t synapse = 0;  // synapse
    double value = 0.0;
  };
  UnitFault unit_fault(std::size_t s, std::uint64_t unit, const models::Network& network) const;

 private:
  std::vector<FaultSpec> specs_;
  std::vector<std::vector<std::uint64_t>> unit_offsets_;  // per spec: prefix sums over its layers
};

}  // namespace nfsim::faults
