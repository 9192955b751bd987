#include <cstdlib>
#include <deque>

#include "core/strings.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/topology/chip_topology.h"

namespace nfsim::sim {
namespace {

// A 2-D mesh with one router per core position and dimension-ordered (XY) routing: a message
// goes along x first, then along y, crossing every router on the way, ends included.
// Latency = routers crossed * hop_latency_ns + flits * flit_latency_ns, flits = ceil(bytes / flit_bytes).
// routing: fault_tolerant (docs/chip.md, "Routing around dead routers"): a message whose XY route
// crosses a dead router takes a shortest path over live routers instead; at each step it moves to
// a neighbour one step closer (over live routers) to the destination, preferring x towards it,
// then y towards it, then x away, then y away. Dropped only if its first or last router is dead
// or no live path exists.
class Mesh : public IInterconnectModel {
 public:
  Mesh(int width, int height, double hop_ns, int flit_bytes, double flit_ns, double bandwidth, bool fault_tolerant)
      : width_(width),
        height_(height),
        hop_ns_(hop_ns),
        flit_bytes_(flit_bytes),
        flit_ns_(flit_ns),
        bandwidth_(bandwidth),
        fault_tolerant_(fault_tolerant) {}

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
  bool reroutes() const override { return fault_tolerant_; }
  double hop_latency_ns() const override { return hop_ns_; }
  bool route_around(int src, int dst, const std::vector<char>& dead, std::vector<int>& out) const override {
    out = route(src, dst);
    bool blocked = false;
    for (int r : out) blocked = blocked || dead[static_cast<std::size_t>(r)] != 0;
    if (!blocked) return true;
    if (!fault_tolerant_ || dead[static_cast<std::size_t>(out.front())] || dead[static_cast<std::size_t>(out.back())]) return false;
    // Distances to the destination over live routers (breadth-first from it).
    const int n = width_ * height_, from = out.front(), to = out.back();
    std::vector<int> dist(static_cast<std::size_t>(n), -1);
    std::deque<int> queue{to};
    dist[static_cast<std::size_t>(to)] = 0;
    while (!queue.empty() && dist[static_cast<std::size_t>(from)] < 0) {
      const int r = queue.front();
      queue.pop_front();
      for (int q : neighbours(r)) {
        if (dead[static_cast<std::size_t>(q)] || dist[static_cast<std::size_t>(q)] >= 0) continue;
        dist[static_cast<std::size_t>(q)] = dist[static_cast<std::size_t>(r)] + 1;
        queue.push_back(q);
      }
    }
    if (dist[static_cast<std::size_t>(from)] < 0) return false;
    out.assign(1, from);
    const int tx = to % width_, ty = to / width_;
    for (int r = from; r != to;) {
      const int x = r % width_, y = r / width_;
      const int sx = tx > x ? 1 : -1, sy = ty > y ? 1 : -1;
      // Candidate steps in order of preference: x towards, y towards, x away, y away (on an
      // aligned axis, both ways: +1 first).
      std::vector<std::pair<int, int>> steps;
      if (x != tx) steps.emplace_back(sx, 0);
      if (y != ty) steps.emplace_back(0, sy);
      if (x != tx) {
        steps.emplace_back(-sx, 0);
      } else {
        steps.emplace_back(1, 0);
        steps.emplace_back(-1, 0);
      }
      if (y != ty) {
        steps.emplace_back(0, -sy);
      } else {
        steps.emplace_back(0, 1);
        steps.emplace_back(0, -1);
      }
      int next = -1;
      for (const auto& [dx, dy] : steps) {
        const int nx = x + dx, ny = y + dy;
        if (nx < 0 || nx >= width_ || ny < 0 || ny >= height_) continue;
        const int q = ny * width_ + nx;
        if (!dead[static_cast<std::size_t>(q)] && dist[static_cast<std::size_t>(q)] == dist[static_cast<std::size_t>(r)] - 1) {
          next = q;
          break;
        }
      }
      out.push_back(next);
      r = next;
    }
    return true;
  }
  std::vector<std::vector<int>> router_links() const override {
    std::vector<std::vector<int>> links(static_cast<std::size_t>(width_ * height_));
    for (int r = 0; r < width_ * height_; ++r) links[static_cast<std::size_t>(r)] = neighbours(r);
    return links;
  }
  double bandwidth_bytes_per_ns() const override { return bandwidth_; }
  std::string describe() const override {
    return "mesh(" + std::to_string(width_) + "x" + std::to_string(height_) + ", " + core::format_double(hop_ns_) +
           " ns/hop, " + std::to_string(flit_bytes_) + " B flits" +
           (bandwidth_ > 0 ? ", links " + core::format_double(bandwidth_) + " B/ns" : "") +
           (fault_tolerant_ ? ", fault-tolerant routing" : "") + ")";
  }

 private:
  int width_, height_;
  double hop_ns_;
  int flit_bytes_;
  double flit_ns_;
  double bandwidth_;
  bool fault_tolerant_;

  std::vector<int> neighbours(int r) const {
    const int x = r % width_, y = r / width_;
    std::vector<int> n;
    if (x + 1 < width_) n.push_back(r + 1);
    if (x > 0) n.push_back(r - 1);
    if (y + 1 < height_) n.push_back(r + width_);
    if (y > 0) n.push_back(r - width_);
    return n;
  }
};

const InterconnectRegistrar kRegistered{
    {"mesh",
     "2-D mesh, XY routing, one router per core position (cores.layout gives width and height)",
     {{"hop_latency_ns", "double", "ns", "5", "latency per router crossed"},
      {"flit_bytes", "int", "bytes", "32", "bytes per flit"},
      {"flit_latency_ns", "double", "ns", "1", "serialisation latency per flit"},
      {"link_bandwidth_bytes_per_ns", "double", "bytes/ns", "0",
       "bytes a link carries per ns; messages that share a link are serialised (0: unlimited, no contention)"},
      {"routing", "string", "", "xy",
       "xy: a dead router drops every message that crosses it; fault_tolerant: messages detour around dead routers over a "
       "shortest live path (dropped only if an end router is dead or no live path exists)"}},
     [](const core::Params& p, const ChipTopology& t) {
       if (p.number("hop_latency_ns") < 0) p.fail("hop_latency_ns", "a number >= 0");
       if (p.integer("flit_bytes") < 1 || p.integer("flit_bytes") > (1 << 20)) p.fail("flit_bytes", "an integer in [1, 1048576]");
       if (p.number("flit_latency_ns") < 0) p.fail("flit_latency_ns", "a number >= 0");
       const double bw = p.number("link_bandwidth_bytes_per_ns");
       if (!(bw >= 0 && bw <= 1e6)) p.fail("link_bandwidth_bytes_per_ns", "a number in [0, 1e6] (0: unlimited)");
       const std::string routing = p.text("routing");
       if (routing != "xy" && routing != "fault_tolerant") p.fail("routing", "xy or fault_tolerant");
       return std::make_unique<Mesh>(t.mesh_width, t.mesh_height, p.number("hop_latency_ns"),
                                     static_cast<int>(p.integer("flit_bytes")), p.number("flit_latency_ns"), bw,
                                     routing == "fault_tolerant");
     }}};

}  // namespace
}  // namespace nfsim::sim
