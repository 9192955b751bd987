#pragma once

#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"

namespace nfsim::faults {

// The bounds' view of a fault plan: one term per (spec, layer), one per group. Persistence does
// not enter: each inference sees the same marginal fault distribution either way.
models::bounds::FaultModel to_bound_model(const FaultPlan& plan);

// One unit of a plan: its spec and its index within the spec.
struct EffectSlot {
  std::size_t spec;
  std::uint64_t unit;
};
// The units in the order BoundCalculator::unit_effects() gives their columns (concatenated over
// its terms): to_bound_model() makes one term per (neuron spec, layer), then per (synapse spec,
// layer), then one per group, each in plan order, and a spec numbers its units layer by layer in
// its `layers` order. So the units of one spec are consecutive columns. `net`: the network the
// plan was checked against.
std::vector<EffectSlot> effect_slots(const FaultPlan& plan, const models::Network& net);

}  // namespace nfsim::faults
