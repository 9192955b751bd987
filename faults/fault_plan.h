#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "faults/fault_kind.h"
#include "faults/fault_spec.h"
#include "models/network.h"

namespace nfsim::faults {

// Stored value of `w` after quantisation (round to nearest, saturating) and flipping bit `bit`
// (0 = least significant; total_bits - 1 = sign).
double flip_weight_bit(double w, int bit, const FixedPointFormat& format);

// A unit under triple modular redundancy with a fault-free majority voter fails when at least two
// of its three replicas fail, each independently with p: 3p^2 - 2p^3.
double tmr_probability(double p);

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
  // Throws InputError when a spec acts on spiking networks only (threshold_deviation,
  // leak_deviation, lossy_router, lossy_link): `runner` ("the functional engine's rate model")
  // runs rate units.
  void refuse_spiking_only(const std::string& runner) const;
  // The probability with which unit `unit` of spec s fails in one draw before any repair: the
  // spec's p, or q = 3p^2 - 2p^3 for a unit under TMR (docs/faults.md, "Protection").
  double unit_probability(std::size_t s, std::uint64_t unit) const;
  bool is_tmr(std::size_t s, std::uint64_t unit) const;
  // Removes the units that spares repair from `failed` (spec s's failed units, ascending): per
  // repair pool, the first `spares` of them. No-op for a spec without spares.
  void repair(std::size_t s, std::vector<std::uint64_t>& failed) const;
  // Per unit of spec s, the probability that it is dead after repair (spares), assuming the
  // units fail independently with unit_probability(): p_i P(at least `spares` of the pool's
  // lower units failed). Equals unit_probability() without spares.
  std::vector<double> effective_probabilities(std::size_t s) const;
  // The same for given per-unit probabilities `p` (before repair) of units in ascending order,
  // `pool[i]` the repair pool of unit i and `spares` spares per pool.
  static std::vector<double> after_repair(std::vector<double> p, const std::vector<std::uint32_t>& pool, std::size_t spares);

 private:
  std::vector<FaultSpec> specs_;
  std::vector<std::vector<std::uint64_t>> unit_offsets_;  // per spec: prefix sums over its layers
};

}  // namespace nfsim::faults
