#pragma once

#include <vector>

#include "faults/fault_spec.h"
#include "faults/physical_kind.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/topology/mapping.h"

namespace nfsim::sim {

// One unit of a physical fault kind on a mapped chip: where it is (tile and row/column, array,
// router) and the logical neurons and synapses it takes down when it fails.
struct PhysicalUnit {
  faults::PhysicalKind kind;
  int tile = -1, array = -1, router = -1;
  int index = 0;  // row or column within the tile; slow_link: the link's far router (`router` the near one)
  faults::FaultGroup group;  // the logical neurons/synapses it takes down
};

// Units of a physical kind (restricted to `layers` when not empty), each with its logical group,
// in the order both engines number them.
std::vector<PhysicalUnit> physical_units(faults::PhysicalKind kind, const std::vector<int>& layers, const Mapping& mapping,
                                         const IInterconnectModel& interconnect);

// Adds to `g` what transfer `tr` carries: the cells whose inputs or partial sums it brings, or
// the output neurons it takes to the host (what is lost when it is dropped).
void add_transfer_group(const Mapping& mapping, const Transfer& tr, faults::FaultGroup& g);

// Fills in the groups of every physical fault spec (one group per unit, in physical_units()
// order) so that the functional engine and the bounds see them as group crashes; logical specs
// are returned unchanged. Spec positions are kept, so both engines draw the same units. Router
// specs on an interconnect that reroutes also get their joint effect (the traffic that dead
// routers together cut off).
std::vector<faults::FaultSpec> expand_physical_faults(const std::vector<faults::FaultSpec>& specs, const MappedChip& chip);

}  // namespace nfsim::sim
