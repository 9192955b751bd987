#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <memory>
#include <vector>

#include "sim/interconnect/i_interconnect_model.h"

namespace nfsim::sim {

// The network-on-chip as a TLM-2.0 module (docs/chip.md, "TLM-2.0 protocol"): every sender binds
// its initiator socket to `in`, every receiver its target socket to `out` (target id = the order
// of binding). A message's route and latency come from the model (IInterconnectModel), from the
// extension's source to destination core; the interconnect adds the latency to `delay` and
// forwards the payload to its target with the address reduced to its offset. Fault hook: a failed
// router drops every message that crosses it (not forwarded, MessageExtension::delivered =
// false); the receiver keeps zeros for the values it carried. Counts messages and hops.
class Interconnect : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Interconnect> in;
  tlm_utils::multi_passthrough_initiator_socket<Interconnect> out;

  Interconnect(sc_core::sc_module_name name, const IInterconnectModel& model);

  void fail_router(int router);
  void clear_faults();
  std::uint64_t hops() const { return hops_; }
  std::uint64_t messages() const { return messages_; }
  void reset_counters() { hops_ = messages_ = 0; }

 private:
  void b_transport(int initiator, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  const IInterconnectModel& model_;
  std::vector<char> dead_;
  bool any_dead_ = false;
  std::uint64_t hops_ = 0, messages_ = 0;
};

}  // namespace nfsim::sim
