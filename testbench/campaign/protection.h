#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "faults/fault_spec.h"
#include "models/network.h"

namespace YAML {
class Node;
}
namespace nfsim::core {
class YamlReader;
}
namespace nfsim::sim {
struct MappedChip;
}

namespace nfsim::tb {

// One entry of `protection.tmr` (docs/faults.md, "Protection"): units of one spec by number, or
// neurons / synapses by coordinates for every spec of the matching kind acting on them.
struct TmrEntry {
  int spec = -1;  // `spec: S` with `units:`
  std::vector<std::uint64_t> units;
  std::vector<faults::NeuronRef> neurons;
  std::vector<faults::SynapseRef> synapses;
  core::ErrorContext where;  // file, line and key, for messages once the units are known
};

// `protection:` of a campaign.
struct Protection {
  std::vector<TmrEntry> tmr;
  std::uint32_t spare_columns = 0, spare_rows = 0;  // per crossbar tile
  core::ErrorContext spares_where;
  bool any() const { return !tmr.empty() || spare_columns > 0 || spare_rows > 0; }
};

// `replicas: {count: R, aggregate: median}`: the seed paper's Algorithm 1 (R = 1: none).
struct Replicas {
  std::uint32_t count = 1;
  std::string aggregate = "median";
};

// Reads `protection:` (refusing unknown keys, bad shapes, spec indices beyond `fault_count`,
// spares without a chip or with two crossbar_column / crossbar_row specs).
Protection read_protection(const core::YamlReader& r, const YAML::Node& node, const std::vector<faults::FaultSpec>& faults,
                           bool has_chip);
Replicas read_replicas(const core::YamlReader& r, const YAML::Node& node);

// Fills in the specs' tmr_units, spare pools and spares from `protection` once the specs are
// expanded (physical units known) and the network is loaded. Throws InputError naming the
// protection entry for a unit that does not exist or that no spec of the matching kind hits.
void apply_protection(const Protection& protection, std::vector<faults::FaultSpec>& specs, const models::Network& network,
                      const sim::MappedChip* chip);

}  // namespace nfsim::tb
