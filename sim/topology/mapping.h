#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/registry.h"
#include "faults/fault_plan.h"
#include "models/network.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/topology/chip_topology.h"

namespace nfsim::sim {

// A block of a layer's crossbar matrix (models::ILayer::crossbar_matrix(); dense: W_layer) on one
// crossbar tile: crossbar rows carry the inputs i in [row_begin, row_begin + row_count), columns
// the outputs j in [col_begin, col_begin + col_count). A conv layer's matrix has one row per output
// channel and one column per kernel tap (c, ky, kx); its tile is read once per output position it
// computes, one position after another (weight-stationary, time-multiplexed), and a tile of a
// grouped conv holds the channels of one group only. A mapper may replicate a conv layer's tiles:
// replica r's copy of a block computes positions [pos_begin, pos_begin + positions) only, and the
// copies of a block split the layer's positions between them (computed in parallel).
struct TileMap {
  int layer = 1;
  int row_begin = 0, row_count = 0;
  int col_begin = 0, col_count = 0;
  int core = 0;
  int replica = 0;
  int pos_begin = 0;
  int positions = 0;         // reads per inference; 0 from a mapper: every position (add_transfers fills it in)
  bool replicated = false;   // computes only some of the layer's positions (set by add_transfers)
};

// Rows [begin, begin + count) of a layer's crossbar matrix on one neuron array: neurons of a dense
// layer; output channels of a conv layer, each with all its `positions` (the array's neurons are
// time-multiplexed over the positions and keep the feature map), so it holds neurons
// [begin * positions, (begin + count) * positions) and pools its channels (the layer's output
// stage) before sending them on.
struct ArrayMap {
  int layer = 1;
  int begin = 0, count = 0;
  int core = 0;
  int positions = 1;
  int neuron_begin() const { return begin * positions; }
  int neuron_count() const { return count * positions; }
  bool holds_neuron(int index) const { return index >= neuron_begin() && index < neuron_begin() + neuron_count(); }
};

// One vector message of an inference, in the order the chip sends them.
struct Transfer {
  enum class Kind { input_to_tile, array_to_tile, tile_to_array, array_to_host };
  Kind kind;
  int layer;      // the layer whose computation receives it (array_to_host: L)
  int tile = -1;  // tile index (source or destination)
  int array = -1; // array index (source or destination)
  // Logical indices carried: crossbar-matrix columns (dense inputs i, conv taps) to tiles; rows
  // (dense outputs j, conv output channels) from tiles and to the host. A conv tile receives the
  // input feature maps of its taps' channels (the tile unrolls them per position).
  int begin = 0, count = 0;
  int src_core = 0, dst_core = 0;
  std::size_t bytes = 0;
  // Into a dense layer, the sending layer's neuron outputs one for one (no pooling stage between):
  // in a spiking network its values are spikes, which lossy routers and links can drop
  // (begin + i is then the index of the sending neuron).
  bool neuron_values = false;
};

// Where every layer of a network sits on a chip, and the messages of one inference.
struct Mapping {
  std::vector<TileMap> tiles;
  std::vector<ArrayMap> arrays;
  std::vector<Transfer> transfers;
  int host_core = 0;
  int cores_used = 0;
  // Tiles (arrays) of one layer, as indices into tiles (arrays).
  std::vector<int> tiles_of(int layer) const;
  std::vector<int> arrays_of(int layer) const;
  std::string describe(const models::Network& net, const ChipTopology& topology) const;
};

// Places a network on a chip. Registered with MapperRegistry, selected by `mapping: {type: NAME}`.
class IMapper {
 public:
  // Names this interface's registry in messages and provenance.
  static constexpr const char* kRegistryKind = "mapper";
  virtual ~IMapper() = default;
  // Throws InputError when the network does not fit, saying what is needed and what the chip has.
  virtual Mapping map(const models::Network& network, const ChipTopology& topology) const = 0;
};
using MapperRegistry = core::Registry<IMapper>;
using MapperRegistrar = core::Registrar<IMapper>;

// Fills Mapping::transfers from the tiles and arrays (the dataflow every mapper shares).
void add_transfers(Mapping& mapping, const models::Network& network);

// A topology made concrete for a network: components built from their registries, the mapping.
struct MappedChip {
  ChipTopology topology;
  std::unique_ptr<IInterconnectModel> interconnect;
  Mapping mapping;
  bool noisy_reads = false;  // the crossbar model adds read noise (only the chip engine models it)
};
MappedChip map_network(const models::Network& network, const ChipTopology& topology);

// What programming the crossbars did to the weights, cell by cell (a cell holds one entry of a
// layer's crossbar matrix).
struct ProgrammingStats {
  std::size_t weights = 0;             // cells programmed
  std::optional<double> clip_limit;    // the crossbar model's (none: it does not clip)
  std::size_t clipped = 0;             // cells whose |weight| exceeds clip_limit
  std::size_t quantised = 0;           // other cells whose stored value differs from the weight
  double max_abs_weight_error = 0;     // max and mean over the cells of |stored - weight|
  double mean_abs_weight_error = 0;
};

// The network as the chip stores it: each tile's weights after its crossbar model's programming.
// With `stats`, also says how many weights programming clipped or changed and by how much.
models::Network programmed_network(const models::Network& network, const MappedChip& chip, ProgrammingStats* stats = nullptr);

}  // namespace nfsim::sim
