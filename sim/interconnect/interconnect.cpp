#include "sim/interconnect/interconnect.h"

#include <algorithm>

#include "sim/tlm/protocol.h"

namespace nfsim::sim {

Interconnect::Interconnect(sc_core::sc_module_name name, const IInterconnectModel& model)
    : sc_core::sc_module(name), in("in"), out("out"), model_(model), dead_(static_cast<std::size_t>(model.router_count()), 0) {
  in.register_b_transport(this, &Interconnect::b_transport);
}

void Interconnect::b_transport(int, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  auto* ext = trans.get_extension<tlmx::MessageExtension>();
  const sc_dt::uint64 address = trans.get_address();
  const int target = tlmx::target_of(address);
  if (ext == nullptr) {
    trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return;
  }
  if (target < 0 || static_cast<unsigned>(target) >= out.size()) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const std::vector<int> route = model_.route(ext->src_core, ext->dst_core);
  delay += sc_core::sc_time(model_.latency_ns(route, trans.get_data_length()), sc_core::SC_NS);
  hops_ += route.size();
  ++messages_;
  if (any_dead_) {
    for (int r : route) {
      if (dead_[static_cast<std::size_t>(r)]) {
        ext->delivered = false;
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
      }
    }
  }
  trans.set_address(tlmx::offset_of(address));
  out[target]->b_transport(trans, delay);
  trans.set_address(address);
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
