#pragma once

#include <systemc>

#include <memory>
#include <vector>

#include "sim/interconnect/i_interconnect_model.h"

namespace nfsim::sim {

// The network-on-chip as a module: carries vector messages between cores with the model's
// latency, counts messages and hops. Fault hook: a failed router drops every message that crosses
// it; the receiver sees zeros for the values it carried.
class Interconnect : public sc_core::sc_module {
 public:
  Interconnect(sc_core::sc_module_name name, const IInterconnectModel& model);

  // Adds the message's latency to `delay`; false when a failed router dropped it.
  bool send(int src_core, int dst_core, std::size_t bytes, sc_core::sc_time& delay);

  void fail_router(int router);
  void clear_faults();
  std::uint64_t hops() const { return hops_; }
  std::uint64_t messages() const { return messages_; }
  void reset_counters() { hops_ = messages_ = 0; }

 private:
  const IInterconnectModel& model_;
  std::vector<char> dead_;
  bool any_dead_ = false;
  std::uint64_t hops_ = 0, messages_ = 0;
};

}  // namespace nfsim::sim
