#include <cstdlib>

#include "core/strings.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/topology/chip_topology.h"

namespace nfsim::sim {
namespace {

// A 2-D mesh with one router per core position and dimension-ordered (XY) routing: a message
// goes along x first, then along y, crossing every router on the way, ends included.
// Latency = routers crossed * hop_latency_ns + flits * flit_latency_ns, flits = ceil(bytes / flit_bytes).
class Mesh : public IInterconnectModel {
 public:
  Mesh(int width, int height, double hop_ns, int flit_bytes, double flit_ns, double bandwidth)
      : width_(width), height_(height), hop_ns_(hop_ns), flit_bytes_(flit_bytes), flit_ns_(flit_ns), bandwidth_(bandwidth) {}

  std::vector<int> route(int src, int dst) const override {
    int x = src % width_, y = src / width_;
    const int tx = dst % width_, ty = dst / width_;
    std::vector<int> r{y * width_ + x};
    while (x != tx) {
      x += tx > x ? 1 : -1;
      r.push_back(y * width_ + x);
    }
    while (y != ty) {
      y += ty > y ? 1 : -1;
      r.push_back(y * width_ + x);
    }
    return r;
  }
  double latency_ns(const std::vector<int>& route, std::size_t bytes) const override {
    const std::size_t flits = (bytes + static_cast<std::size_t>(flit_bytes_) - 1) / static_cast<std::size_t>(flit_bytes_);
    return static_cast<double>(route.size()) * hop_ns_ + static_cast<double>(flits) * flit_ns_;
  }
  int router_count() const override { return width_ * height_; }
  double bandwidth_bytes_per_ns() const override { return bandwidth_; }
  std::string describe() const override {
    return "mesh(" + std::to_string(width_) + "x" + std::to_string(height_) + ", " + core::format_double(hop_ns_) +
           " ns/hop, " + std::to_string(flit_bytes_) + " B flits" +
           (bandwidth_ > 0 ? ", links " + core::format_double(bandwidth_) + " B/ns" : "") + ")";
  }

 private:
  int width_, height_;
  double hop_ns_;
  int flit_bytes_;
  double flit_ns_;
  double bandwidth_;
};

const InterconnectRegistrar kRegistered{
    {"mesh",
     "2-D mesh, XY routing, one router per core position (cores.layout gives width and height)",
     {{"hop_latency_ns", "double", "ns", "5", "latency per router crossed"},
      {"flit_bytes", "int", "bytes", "32", "bytes per flit"},
      {"flit_latency_ns", "double", "ns", "1", "serialisation latency per flit"},
      {"link_bandwidth_bytes_per_ns", "double", "bytes/ns", "0",
       "bytes a link carries per ns; messages that share a link are serialised (0: unlimited, no contention)"}},
     [](const core::Params& p, const ChipTopology& t) {
       if (p.number("hop_latency_ns") < 0) p.fail("hop_latency_ns", "a number >= 0");
       if (p.integer("flit_bytes") < 1 || p.integer("flit_bytes") > (1 << 20)) p.fail("flit_bytes", "an integer in [1, 1048576]");
       if (p.number("flit_latency_ns") < 0) p.fail("flit_latency_ns", "a number >= 0");
       const double bw = p.number("link_bandwidth_bytes_per_ns");
       if (!(bw >= 0 && bw <= 1e6)) p.fail("link_bandwidth_bytes_per_ns", "a number in [0, 1e6] (0: unlimited)");
       return std::make_unique<Mesh>(t.mesh_width, t.mesh_height, p.number("hop_latency_ns"),
                                     static_cast<int>(p.integer("flit_bytes")), p.number("flit_latency_ns"), bw);
     }}};

}  // namespace
}  // namespace nfsim::sim
