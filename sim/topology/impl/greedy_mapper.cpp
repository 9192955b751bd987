#include <algorithm>

#include "core/error.h"
#include "sim/topology/mapping.h"

namespace nfsim::sim {
namespace {

// Tiles and arrays in layer order, each on the next free core: a core holds one crossbar tile
// and one neuron array. Layers wider than a crossbar are split into row blocks (partial sums
// added in the neuron arrays) and column blocks.
class GreedyMapper : public IMapper {
 public:
  Mapping map(const models::Network& net, const ChipTopology& t) const override {
    Mapping m;
    int next_tile_core = 0, next_array_core = 0;
    for (int l = 1; l <= net.num_layers(); ++l) {
      const models::ILayer& layer = net.layer(l);
      // The dataflow (add_transfers) sends neuron ranges to crossbar rows: one position only.
      if (layer.crossbar_positions() != 1) {
        throw core::InputError(t.file + ": layer " + std::to_string(l) + " (" + layer.kind() +
                               ") reuses its crossbar at " + std::to_string(layer.crossbar_positions()) +
                               " output positions; the greedy mapper places layers with one position (dense) only; run "
                               "convolutional networks without a chip (engine: functional or exact)");
      }
      const int n_in = static_cast<int>(layer.crossbar_matrix().cols()),
                n_out = static_cast<int>(layer.crossbar_matrix().rows());
      for (int cb = 0; cb < n_out; cb += t.crossbar_cols) {
        for (int rb = 0; rb < n_in; rb += t.crossbar_rows) {
          m.tiles.push_back({l, rb, std::min(t.crossbar_rows, n_in - rb), cb, std::min(t.crossbar_cols, n_out - cb), next_tile_core++});
        }
      }
      for (int b = 0; b < n_out; b += t.neuron_array_size) {
        m.arrays.push_back({l, b, std::min(t.neuron_array_size, n_out - b), next_array_core++});
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
};

const MapperRegistrar kGreedy{{"greedy", "tiles and arrays in layer order on consecutive cores (one of each per core)", {},
                               [](const core::Params&) { return std::make_unique<GreedyMapper>(); }}};

}  // namespace
}  // namespace nfsim::sim
