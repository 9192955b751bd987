#include "faults/physical_kind.h"

#include <algorithm>

#include "core/error.h"
#include "core/strings.h"

namespace nfsim::faults {

const std::vector<std::string>& physical_kind_names() {
  static const std::vector<std::string> names{"crossbar_row", "crossbar_column", "crossbar_tile", "neuron_array",
                                              "router",       "slow_tile",       "slow_array",   "slow_link",
                                              "lossy_router", "lossy_link"};
  return names;
}

bool is_timing_kind(PhysicalKind kind) {
  return kind == PhysicalKind::slow_tile || kind == PhysicalKind::slow_array || kind == PhysicalKind::slow_link;
}

bool is_spike_loss_kind(PhysicalKind kind) { return kind == PhysicalKind::lossy_router || kind == PhysicalKind::lossy_link; }
bool is_link_kind(PhysicalKind kind) { return kind == PhysicalKind::slow_link || kind == PhysicalKind::lossy_link; }
bool is_router_kind(PhysicalKind kind) { return kind == PhysicalKind::router || kind == PhysicalKind::lossy_router; }

bool is_physical_kind(const std::string& name) {
  const auto& n = physical_kind_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

PhysicalKind parse_physical_kind(const std::string& name) {
  const auto& n = physical_kind_names();
  const auto it = std::find(n.begin(), n.end(), name);
  if (it == n.end()) {
    throw core::InputError("unknown physical fault kind '" + name + "'; expected one of " + core::join(n, ", "));
  }
  return static_cast<PhysicalKind>(it - n.begin());
}

}  // namespace nfsim::faults
