#include "core/strings.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/topology/chip_topology.h"

namespace nfsim::sim {
namespace {

// A shared bus: every message takes the same fixed latency; there are no routers to fail.
class Bus : public IInterconnectModel {
 public:
  Bus(double latency_ns, double bandwidth) : latency_ns_(latency_ns), bandwidth_(bandwidth) {}
  std::vector<int> route(int, int) const override { return {}; }
  double latency_ns(const std::vector<int>&, std::size_t) const override { return latency_ns_; }
  int router_count() const override { return 0; }
  double bandwidth_bytes_per_ns() const override { return bandwidth_; }
  std::string describe() const override {
    return "bus(" + core::format_double(latency_ns_) + " ns" +
           (bandwidth_ > 0 ? ", " + core::format_double(bandwidth_) + " B/ns" : "") + ")";
  }

 private:
  double latency_ns_;
  double bandwidth_;
};

const InterconnectRegistrar kRegistered{{"bus",
                                         "shared bus with a fixed latency per message",
                                         {{"latency_ns", "double", "ns", "10", "latency of every message"},
                                          {"bandwidth_bytes_per_ns", "double", "bytes/ns", "0",
                                           "bytes the bus carries per ns; messages are serialised on it (0: unlimited, "
                                           "no contention)"}},
                                         [](const core::Params& p, const ChipTopology&) {
                                           const double l = p.number("latency_ns");
                                           if (l < 0) p.fail("latency_ns", "a number >= 0");
                                           const double bw = p.number("bandwidth_bytes_per_ns");
                                           if (!(bw >= 0 && bw <= 1e6)) {
                                             p.fail("bandwidth_bytes_per_ns", "a number in [0, 1e6] (0: unlimited)");
                                           }
                                           return std::make_unique<Bus>(l, bw);
                                         }}};

}  // namespace
}  // namespace nfsim::sim
