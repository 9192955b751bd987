#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "core/registry.h"

namespace nfsim::sim {

// One component section of a topology file (crossbar, neuron_array, interconnect, mapping):
// the registered type it selects and its YAML node, for the component's own Params.
struct ComponentSection {
  std::string type;
  YAML::Node node;
  std::string key;  // "chip.crossbar"
  // Keys the topology reads for every type of this component ("type", "rows", ...): not the
  // type's own parameters. Stated once, where the topology reads them.
  std::vector<std::string> shared_keys;
  // The selected type's own parameters, validated against its registered declaration when the
  // topology is read (so the type's plug-in must be loaded by then: --plugin or plugins:).
  core::Params params;
};

// A chip description (a topology YAML file), validated: shapes and latencies common to every
// implementation are read here; type-specific parameters are read by the registered types.
struct ChipTopology {
  std::string file;
  std::string name = "chip";
  int cores = 1;
  int mesh_width = 1, mesh_height = 1;  // layout: cores placed row-major on a width x height grid
  int crossbar_rows = 256, crossbar_cols = 256;
  double read_latency_ns = 100.0;
  int neuron_array_size = 256;
  double update_latency_ns = 10.0;
  ComponentSection crossbar, neuron_array, interconnect, mapping;
  // `tlm_interconnect:` (docs/chip.md, "Foreign TLM-2.0 modules"): a TLM-2.0 module registered by
  // a plug-in (TlmInterconnectRegistry), bound in place of the built-in interconnect; then
  // `interconnect` is the stand-in model (no routers, no latency of its own).
  std::optional<ComponentSection> tlm_interconnect;
  std::vector<std::string> plugins;  // `plugins:` libraries of the topology file (resolved paths)
};

// Reads `chip:` from a topology file. Errors name file, line, key, bad value and allowed values.
ChipTopology load_topology(const std::string& path);
// From a YAML node holding the chip mapping (the content of `chip:`); `file` names it in errors.
ChipTopology parse_topology(const YAML::Node& chip, const std::string& file);

}  // namespace nfsim::sim
