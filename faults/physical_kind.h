#pragma once

#include <string>
#include <vector>

namespace nfsim::faults {

// The physical fault kinds: a hardware unit of the chip that fails as a whole, taking down the
// logical neurons and synapses the mapping puts there (sim/topology/physical_units.h lists the
// units of a mapped chip). Names in this order, shared by both engines and the reader.
enum class PhysicalKind { crossbar_row, crossbar_column, crossbar_tile, neuron_array, router };

const std::vector<std::string>& physical_kind_names();
bool is_physical_kind(const std::string& name);
// Throws InputError naming the text and the physical kinds.
PhysicalKind parse_physical_kind(const std::string& name);

}  // namespace nfsim::faults
