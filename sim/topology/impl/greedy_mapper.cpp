#include <algorithm>

#include "core/error.h"
#include "models/layer/conv2d_layer.h"
#include "sim/topology/mapping.h"

namespace nfsim::sim {
namespace {

// Tiles and arrays in layer order, each on the next free core: a core holds one crossbar tile
// and one neuron array. Layers wider than a crossbar are split into row blocks (partial sums
// added in the neuron arrays) and column blocks. A conv layer is its kernel matrix (output
// channels x taps) tiled the same way, one group at a time (a tile never mixes groups), read once
// per output position; its arrays hold whole channels. `replicate: R` places R copies of each
// conv layer's tiles (replica-major), copy r computing positions [r P / R, (r + 1) P / R).
class GreedyMapper : public IMapper {
 public:
  explicit GreedyMapper(int replicate) : replicate_(replicate) {}
  Mapping map(const models::Network& net, const ChipTopology& t) const override {
    Mapping m;
    int next_tile_core = 0, next_array_core = 0;
    for (int l = 1; l <= net.num_layers(); ++l) {
      const models::ILayer& layer = net.layer(l);
      const int n_in = static_cast<int>(layer.crossbar_matrix().cols()),
                n_out = static_cast<int>(layer.crossbar_matrix().rows()),
                positions = static_cast<int>(layer.crossbar_positions());
      const auto* conv = dynamic_cast<const models::Conv2dLayer*>(&layer);
      const int group_out = conv ? static_cast<int>(conv->group_out()) : n_out;
      // Copies of the layer's tiles, each computing a contiguous share of the positions.
      const int replicas = conv ? std::min(replicate_, positions) : 1;
      for (int r = 0; r < replicas; ++r) {
        const int pos_begin = static_cast<int>(static_cast<long long>(r) * positions / replicas);
        const int pos_end = static_cast<int>(static_cast<long long>(r + 1) * positions / replicas);
        for (int g0 = 0; g0 < n_out; g0 += group_out) {
          for (int cb = g0; cb < g0 + group_out; cb += t.crossbar_cols) {
            for (int rb = 0; rb < n_in; rb += t.crossbar_rows) {
              m.tiles.push_back({l, rb, std::min(t.crossbar_rows, n_in - rb), cb, std::min(t.crossbar_cols, g0 + group_out - cb),
                                 next_tile_core++, r, pos_begin, replicas > 1 ? pos_end - pos_begin : 0});
            }
          }
        }
      }
      for (int b = 0; b < n_out; b += t.neuron_array_size) {
        m.arrays.push_back({l, b, std::min(t.neuron_array_size, n_out - b), next_array_core++, positions});
      }
    }
    if (next_tile_core > t.cores || next_array_core > t.cores) {
      throw core::InputError(t.file + ": network " + net.describe() + " does not fit: it needs " +
                             std::to_string(m.tiles.size()) + " crossbar tiles of " + std::to_string(t.crossbar_rows) + "x" +
                             std::to_string(t.crossbar_cols) + " and " + std::to_string(m.arrays.size()) + " neuron arrays of " +
                             std::to_string(t.neuron_array_size) + " (one of each per core); the chip has " +
                             std::to_string(t.cores) + " cores");
    }
    m.cores_used = std::max(next_tile_core, next_array_core);
    return m;
  }

 private:
  int replicate_ = 1;
};

const MapperRegistrar kGreedy{
    {"greedy",
     "tiles and arrays in layer order on consecutive cores (one of each per core)",
     {{"replicate", "int", "", "1",
       "copies of each conv layer's tiles (at most its output positions); the copies split the positions and read in "
       "parallel"}},
     [](const core::Params& p) {
       const long long replicate = p.integer("replicate");
       if (replicate < 1 || replicate > 4096) p.fail("replicate", "an integer in [1, 4096]");
       return std::make_unique<GreedyMapper>(static_cast<int>(replicate));
     }}};

}  // namespace
}  // namespace nfsim::sim
