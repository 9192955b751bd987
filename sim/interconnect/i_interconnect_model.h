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
  // Fault-tolerant routing (docs/chip.md, "Routing around dead routers"): whether messages take a
  // detour around dead routers instead of being dropped at the first one.
  virtual bool reroutes() const { return false; }
  // The route from `src_core` to `dst_core` given the dead routers (`dead[r]` != 0), into `out`;
  // false if the message cannot be delivered. Default: the fixed route, dropped if it crosses a
  // dead router. A model that reroutes overrides it, and then a message is dropped exactly when
  // its first or last router is dead or no path joins them over live routers and
  // router_links() (what the functional engine assumes to take the same messages down).
  virtual bool route_around(int src_core, int dst_core, const std::vector<char>& dead, std::vector<int>& out) const {
    out = route(src_core, dst_core);
    for (int r : out) {
      if (dead[static_cast<std::size_t>(r)]) return false;
    }
    return true;
  }
  // The latency of one hop (a router crossed), which a slow link (fault kind slow_link) multiplies
  // by its factor; 0 for a model without hops.
  virtual double hop_latency_ns() const { return 0.0; }
  // Per router, the routers it has a link to (used with reroutes(), and the units of slow_link).
  virtual std::vector<std::vector<int>> router_links() const { return {}; }
  // Bytes per ns a link (the bus: the bus) carries; 0: unlimited, messages never wait for one
  // another. With a bandwidth, the Interconnect serialises messages that share a link
  // (docs/chip.md, "Traffic and contention").
  virtual double bandwidth_bytes_per_ns() const { return 0.0; }
  virtual std::string describe() const = 0;
};

using InterconnectRegistry = core::Registry<IInterconnectModel, const ChipTopology&>;
using InterconnectRegistrar = core::Registrar<IInterconnectModel, const ChipTopology&>;

}  // namespace nfsim::sim
