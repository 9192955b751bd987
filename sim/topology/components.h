#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "sim/crossbar/i_crossbar_model.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/interconnect/tlm_interconnect.h"
#include "sim/neuron/i_neuron_model.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"

namespace nfsim::sim {

// The components a topology selects, each built from its registry with its section's own
// parameters (the keys the topology reads for every type left out). The one place a component
// is built: map_network, programmed_network and the chip call these. Unknown types and bad
// parameters are InputErrors naming the topology file, line and key.
std::unique_ptr<ICrossbarModel> make_crossbar_model(const ChipTopology& topology);
std::unique_ptr<INeuronModel> make_neuron_model(const ChipTopology& topology);
std::unique_ptr<IInterconnectModel> make_interconnect(const ChipTopology& topology);
std::unique_ptr<IMapper> make_mapper(const ChipTopology& topology);
// The topology's foreign TLM-2.0 interconnect module (tlm_interconnect:), built during the
// chip's elaboration with instance name `name`; throws InputError naming the topology file and
// key when the factory gives no module or no sockets.
TlmInterconnect make_tlm_interconnect(const ChipTopology& topology, const char* name);

// Provenance of a mapped chip, for reports and `nfsim map`: for each component (crossbar,
// neuron_array, interconnect, mapping) its resolved type, the library that registered it
// ("built-in" or a plug-in's path), the registry's description of the type, its parameter values
// with defaults filled in, the topology's shared keys of it (rows, cols, ...) and describe() (the
// mapper has none).
nlohmann::json component_provenance(const MappedChip& chip);

// Every loaded plug-in (core::loaded_plugins()) as a JSON list: path as given, resolved path,
// where it was given, FNV-1a 64-bit hash of the file and the types it registered.
nlohmann::json plugin_provenance();

}  // namespace nfsim::sim
