#include "core/strings.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/topology/chip_topology.h"

namespace nfsim::sim {
namespace {

// A shared bus: every message takes the same fixed latency; there are no routers to fail.
class Bus : public IInterconnectModel {
 public:
  explicit Bus(double latency_ns) : latency_ns_(latency_ns) {}
  std::vector<int> route(int, int) const override { return {}; }
  double latency_ns(const std::vector<int>&, std::size_t) const override { return latency_ns_; }
  int router_count() const override { return 0; }
  std::string describe() const override { return "bus(" + core::format_double(latency_ns_) + " ns)"; }

 private:
  double latency_ns_;
};

const InterconnectRegistrar kRegistered{{"bus",
                                         "shared bus with a fixed latency per message",
                                         {{"latency_ns", "double", "ns", "10", "latency of every message"}},
                                         [](const core::Params& p, const ChipTopology&) {
                                           const double l = p.number("latency_ns");
                                           if (l < 0) p.fail("latency_ns", "a number >= 0");
                                           return std::make_unique<Bus>(l);
                                         }}};

}  // namespace
}  // namespace nfsim::sim
