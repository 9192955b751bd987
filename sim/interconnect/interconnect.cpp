#include "sim/interconnect/interconnect.h"

#include <algorithm>

namespace nfsim::sim {

Interconnect::Interconnect(sc_core::sc_module_name name, const IInterconnectModel& model)
    : sc_core::sc_module(name), model_(model), dead_(static_cast<std::size_t>(model.router_count()), 0) {}

bool Interconnect::send(int src_core, int dst_core, std::size_t bytes, sc_core::sc_time& delay) {
  const std::vector<int> route = model_.route(src_core, dst_core);
  delay += sc_core::sc_time(model_.latency_ns(route, bytes), sc_core::SC_NS);
  hops_ += route.size();
  ++messages_;
  if (any_dead_) {
    for (int r : route) {
      if (dead_[static_cast<std::size_t>(r)]) return false;
    }
  }
  return true;
}

void Interconnect::fail_router(int router) {
  dead_[static_cast<std::size_t>(router)] = 1;
  any_dead_ = true;
}

void Interconnect::clear_faults() {
  if (any_dead_) std::fill(dead_.begin(), dead_.end(), 0);
  any_dead_ = false;
}

}  // namespace nfsim::sim
