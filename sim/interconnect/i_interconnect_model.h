#pragma once

#include <string>
#include <vector>

#include "core/registry.h"

namespace nfsim::sim {

struct ChipTopology;

// The network-on-chip: which routers a message between two cores crosses and how long it takes.
// Registered with InterconnectRegistry, selected by `interconnect: {type: NAME}`.
class IInterconnectModel {
 public:
  // Names this interface's registry in messages and provenance.
  static constexpr const char* kRegistryKind = "interconnect";
  virtual ~IInterconnectModel() = default;
  // Routers crossed from core `src` to core `dst`, in order (empty for a bus). The host sits at
  // core 0's position.
  virtual std::vector<int> route(int src_core, int dst_core) const = 0;
  // Latency of a message of `bytes` bytes over `route`.
  virtual double latency_ns(const std::vector<int>& route, std::size_t bytes) const = 0;
  virtual int router_count() const = 0;
  // Bytes per ns a link (the bus: the bus) carries; 0: unlimited, messages never wait for one
  // another. With a bandwidth, the Interconnect serialises messages that share a link
  // (docs/chip.md, "Traffic and contention").
  virtual double bandwidth_bytes_per_ns() const { return 0.0; }
  virtual std::string describe() const = 0;
};

using InterconnectRegistry = core::Registry<IInterconnectModel, const ChipTopology&>;
using InterconnectRegistrar = core::Registrar<IInterconnectModel, const ChipTopology&>;

}  // namespace nfsim::sim
