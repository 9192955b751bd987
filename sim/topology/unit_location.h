#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/network.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"

namespace nfsim::sim {

// Where one failing unit of a fault spec sits, and its name with coordinates, e.g.
//   "layer 2, neuron 12 (array 0, core 1)"
//   "layer 1, synapse [row 3, col 17] (tile 2, core 5)"   (row, col: the cell of the layer's
//                                                          crossbar matrix: output j, input i)
//   "layer 2, tile 3 (core 5), column 17"                 (row / column: within the tile)
//   "layer 1, tile 4 (core 2)", "layer 2, neuron array 1 (core 4)"
//   "router 4 (x 0, y 1)", "group 'bank A'"
// Without a chip, logical units carry their layer and index only ("layer 2, neuron 12").
// Coordinates that do not apply are -1. x, y: the mesh position of the core (routers: of the
// router), row-major on the topology's layout.
struct UnitLocation {
  // neuron, synapse, crossbar_row, crossbar_column, crossbar_tile, neuron_array, router, group
  std::string kind;
  std::string name;
  int layer = -1, tile = -1, core = -1, array = -1, router = -1, row = -1, column = -1, x = -1, y = -1;
};

// Names the units of a plan's specs (the plan as the engines see it: physical specs expanded to
// groups, their `physical_kind` kept). Physical units are listed once per spec on first use, in
// the order both engines number them (physical_units()).
class UnitLocator {
 public:
  // `chip` may be null (logical names only); it must outlive the locator, as must plan and network.
  UnitLocator(const faults::FaultPlan& plan, const models::Network& network, const MappedChip* chip);
  UnitLocation locate(std::size_t spec, std::uint64_t unit) const;

 private:
  void place_core(UnitLocation& loc) const;
  const faults::FaultPlan& plan_;
  const models::Network& network_;
  const MappedChip* chip_;
  mutable std::map<std::size_t, std::vector<PhysicalUnit>> physical_;  // per physical spec (groups dropped)
};

// One unit, without keeping a locator (lists a physical spec's units on every call).
UnitLocation unit_location(const faults::FaultPlan& plan, std::size_t spec, std::uint64_t unit,
                           const models::Network& network, const MappedChip* chip);

}  // namespace nfsim::sim
