#include "sim/topology/mapping.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/strings.h"
#include "models/layer/conv2d_layer.h"
#include "sim/crossbar/i_crossbar_model.h"
#include "sim/neuron/i_neuron_model.h"
#include "sim/topology/components.h"

namespace nfsim::sim {

std::vector<int> Mapping::tiles_of(int layer) const {
  std::vector<int> out;
  for (std::size_t k = 0; k < tiles.size(); ++k) {
    if (tiles[k].layer == layer) out.push_back(static_cast<int>(k));
  }
  return out;
}

std::vector<int> Mapping::arrays_of(int layer) const {
  std::vector<int> out;
  for (std::size_t k = 0; k < arrays.size(); ++k) {
    if (arrays[k].layer == layer) out.push_back(static_cast<int>(k));
  }
  return out;
}

std::string Mapping::describe(const models::Network& net, const ChipTopology& t) const {
  std::string s;
  char line[512];
  std::snprintf(line, sizeof line, "chip %s: %d cores, %dx%d crossbars, %d-neuron arrays\n", t.name.c_str(), t.cores,
                t.crossbar_rows, t.crossbar_cols, t.neuron_array_size);
  s += line;
  std::size_t cells = 0, neurons = 0;
  for (int l = 1; l <= net.num_layers(); ++l) {
    const auto ts = tiles_of(l), as = arrays_of(l);
    const models::ILayer& layer = net.layer(l);
    const long positions = static_cast<long>(layer.crossbar_positions());
    int replicas = 1;
    long most_reads = 0;
    for (int k : ts) {
      replicas = std::max(replicas, tiles[k].replica + 1);
      most_reads = std::max(most_reads, static_cast<long>(tiles[k].positions));
    }
    if (positions == 1) {
      std::snprintf(line, sizeof line, "layer %d: W %ldx%ld on %zu tile(s), %ld neurons on %zu array(s)\n", l,
                    static_cast<long>(net.width(l)), static_cast<long>(layer.crossbar_matrix().cols()), ts.size(),
                    static_cast<long>(net.width(l)), as.size());
    } else {
      // A conv layer: its kernel matrix, read once per output position by each of its tiles.
      std::snprintf(line, sizeof line,
                    "layer %d: %s, kernel %ldx%ld (channels x taps) on %zu tile(s), %d replica(s), up to %ld reads per "
                    "tile per inference (%ld in all), %.1f%% of their cells used, %ld channels x %ld positions on %zu "
                    "array(s)%s\n",
                    l, layer.describe().c_str(), static_cast<long>(layer.crossbar_matrix().rows()),
                    static_cast<long>(layer.crossbar_matrix().cols()), ts.size(), replicas, most_reads,
                    positions * static_cast<long>(ts.size() / static_cast<std::size_t>(replicas)),
                    100.0 * static_cast<double>(layer.crossbar_matrix().size()) * replicas /
                        (static_cast<double>(ts.size()) * t.crossbar_rows * t.crossbar_cols),
                    static_cast<long>(layer.crossbar_matrix().rows()), positions, as.size(),
                    net.stage(l) ? (", pooled there: " + net.stage(l)->describe()).c_str() : "");
    }
    s += line;
    for (int k : ts) {
      const TileMap& m = tiles[k];
      const std::string share = m.replicated ? ", replica " + std::to_string(m.replica) + ": positions " +
                                                   std::to_string(m.pos_begin) + ".." +
                                                   std::to_string(m.pos_begin + m.positions - 1)
                                             : "";
      std::snprintf(line, sizeof line, "  tile %d on core %d: %s %d..%d x %s %d..%d (%.0f%% of cells)%s\n", k, m.core,
                    positions == 1 ? "inputs" : "taps", m.row_begin, m.row_begin + m.row_count - 1,
                    positions == 1 ? "outputs" : "channels", m.col_begin, m.col_begin + m.col_count - 1,
                    100.0 * m.row_count * m.col_count / (static_cast<double>(t.crossbar_rows) * t.crossbar_cols),
                    share.c_str());
      s += line;
      cells += static_cast<std::size_t>(m.row_count) * m.col_count;
    }
    for (int k : as) {
      const ArrayMap& a = arrays[k];
      if (positions == 1) {
        std::snprintf(line, sizeof line, "  array %d on core %d: neurons %d..%d\n", k, a.core, a.begin, a.begin + a.count - 1);
      } else {
        std::snprintf(line, sizeof line, "  array %d on core %d: channels %d..%d (neurons %d..%d)\n", k, a.core, a.begin,
                      a.begin + a.count - 1, a.neuron_begin(), a.neuron_begin() + a.neuron_count() - 1);
      }
      s += line;
      neurons += static_cast<std::size_t>(a.count);
    }
  }
  std::snprintf(line, sizeof line,
                "utilisation: %zu tiles, %zu arrays on %d of %d cores; crossbar cells %.1f%%, neurons %.1f%% of the used hardware\n",
                tiles.size(), arrays.size(), cores_used, t.cores,
                100.0 * static_cast<double>(cells) / (static_cast<double>(tiles.size()) * t.crossbar_rows * t.crossbar_cols),
                100.0 * static_cast<double>(neurons) / (static_cast<double>(arrays.size()) * t.neuron_array_size));
  s += line;
  return s;
}

namespace {

// Layer l's input channels (the previous layer's crossbar rows) and the values each carries
// per inference (its staged positions: after the previous layer's pooling; 1 for dense).
struct LayerInput {
  const models::Conv2dLayer* conv = nullptr;  // layer l, when a convolution
  int taps_per_channel = 1;                   // conv: kh * kw
  int channel_values = 1;                     // values per channel of u_{l-1}
};

LayerInput layer_input(const models::Network& net, int l) {
  LayerInput in;
  in.conv = dynamic_cast<const models::Conv2dLayer*>(&net.layer(l));
  const Eigen::Index channels = l == 1 ? 0 : net.layer(l - 1).crossbar_matrix().rows();
  if (in.conv) {
    const auto& p = in.conv->params();
    in.taps_per_channel = static_cast<int>(p.kh * p.kw);
    in.channel_values = static_cast<int>(p.in_h * p.in_w);
    if (l > 1 && channels != p.in_c) {
      throw core::InputError("layer " + std::to_string(l) + " (" + in.conv->describe() + ") reads " +
                             std::to_string(p.in_c) + " channels but layer " + std::to_string(l - 1) + " (" +
                             net.layer(l - 1).kind() + ") has " + std::to_string(channels) +
                             " output rows; the chip maps a convolution only after the input or another convolution");
    }
  } else if (l > 1) {
    in.channel_values = static_cast<int>(net.staged_width(l - 1) / channels);
  }
  return in;
}

}  // namespace

void add_transfers(Mapping& m, const models::Network& net) {
  m.transfers.clear();
  const int L = net.num_layers();
  // The dataflow (and Chip::infer) unrolls a layer's input per output position only for a 2-D
  // convolution (im2col): another layer kind that reuses its crossbar is refused, whatever
  // mapper placed it.
  for (int l = 1; l <= L; ++l) {
    const models::ILayer& layer = net.layer(l);
    if (layer.crossbar_positions() != 1 && !dynamic_cast<const models::Conv2dLayer*>(&layer)) {
      throw core::InputError("layer " + std::to_string(l) + " (" + layer.kind() + ") reuses its crossbar at " +
                             std::to_string(layer.crossbar_positions()) +
                             " output positions; the chip's dataflow unrolls 2-D convolutions (conv2d) only; run it "
                             "without a chip (engine: functional or exact)");
    }
  }
  // Reads per inference and groups follow from the network, whatever mapper placed the tiles;
  // the copies of a block must split its layer's positions exactly.
  std::map<std::tuple<int, int, int, int, int>, std::vector<std::pair<int, int>>> shares;
  for (TileMap& t : m.tiles) {
    const models::ILayer& layer = net.layer(t.layer);
    const int all = static_cast<int>(layer.crossbar_positions());
    if (t.positions == 0) {
      t.pos_begin = 0;
      t.positions = all;
    }
    if (t.pos_begin < 0 || t.positions < 1 || t.pos_begin + t.positions > all) {
      throw core::InputError("mapping: a tile of layer " + std::to_string(t.layer) + " computes positions " +
                             std::to_string(t.pos_begin) + " + " + std::to_string(t.positions) + "; the layer has " +
                             std::to_string(all) + " output positions");
    }
    t.replicated = t.positions < all;
    shares[{t.layer, t.row_begin, t.row_count, t.col_begin, t.col_count}].push_back({t.pos_begin, t.positions});
    if (const auto* conv = dynamic_cast<const models::Conv2dLayer*>(&layer)) {
      const int go = static_cast<int>(conv->group_out());
      if (t.col_begin / go != (t.col_begin + t.col_count - 1) / go) {
        throw core::InputError("mapping: a tile of layer " + std::to_string(t.layer) + " (" + conv->describe() +
                               ") holds output channels " + std::to_string(t.col_begin) + ".." +
                               std::to_string(t.col_begin + t.col_count - 1) + " of more than one group of " +
                               std::to_string(go) + "; a tile of a grouped convolution holds one group's channels");
      }
    }
  }
  for (auto& [block, ranges] : shares) {
    std::sort(ranges.begin(), ranges.end());
    int next = 0;
    for (const auto& [b, n] : ranges) {
      if (b != next) break;
      next = b + n;
    }
    const int all = static_cast<int>(net.layer(std::get<0>(block)).crossbar_positions());
    if (next != all) {
      throw core::InputError("mapping: the copies of layer " + std::to_string(std::get<0>(block)) + "'s tile at rows " +
                             std::to_string(std::get<1>(block)) + ", columns " + std::to_string(std::get<3>(block)) +
                             " do not split its " + std::to_string(all) +
                             " output positions into consecutive, non-overlapping shares");
    }
  }
  for (ArrayMap& a : m.arrays) a.positions = static_cast<int>(net.layer(a.layer).crossbar_positions());
  if (const models::Pool2d* stage = net.stage(L)) {
    throw core::InputError("the pooling after the output layer (" + stage->describe() + ") is not supported");
  }
  auto overlap = [](int b1, int n1, int b2, int n2, int& b, int& n) {
    b = std::max(b1, b2);
    n = std::min(b1 + n1, b2 + n2) - b;
    return n > 0;
  };
  constexpr std::size_t kValue = sizeof(double);
  for (int l = 1; l <= L; ++l) {
    const LayerInput in = layer_input(net, l);
    const bool neuron_values = !in.conv && net.stage(l - 1) == nullptr;
    for (int k : m.tiles_of(l)) {
      const TileMap& t = m.tiles[k];
      // The values a message for rows [b, b + n) carries: the dense inputs of those rows, or the
      // whole feature maps of the channels whose taps they are.
      auto bytes_for = [&](int b, int n) {
        if (!in.conv) return static_cast<std::size_t>(n) * kValue;
        const int channels = (b + n - 1) / in.taps_per_channel - b / in.taps_per_channel + 1;
        return static_cast<std::size_t>(channels) * static_cast<std::size_t>(in.channel_values) * kValue;
      };
      if (l == 1) {
        // The host holds u_0 (after layer 0's stage) and sends each tile the inputs of its rows.
        m.transfers.push_back({Transfer::Kind::input_to_tile, l, k, -1, t.row_begin, t.row_count, m.host_core, t.core,
                               bytes_for(t.row_begin, t.row_count), neuron_values});
        continue;
      }
      for (int a : m.arrays_of(l - 1)) {
        const ArrayMap& arr = m.arrays[a];
        // The tile rows the array's channels feed: dense inputs [begin, begin + count) * values
        // per channel; conv taps of the channels within the tile's group.
        int provided_begin = arr.begin * in.channel_values, provided_count = arr.count * in.channel_values;
        if (in.conv) {
          const int group = t.col_begin / static_cast<int>(in.conv->group_out());
          const int cig = static_cast<int>(in.conv->params().in_c / in.conv->params().groups);
          int cb, cn;
          if (!overlap(arr.begin - group * cig, arr.count, 0, cig, cb, cn)) continue;
          provided_begin = cb * in.taps_per_channel;
          provided_count = cn * in.taps_per_channel;
        }
        int b, n;
        if (overlap(t.row_begin, t.row_count, provided_begin, provided_count, b, n)) {
          m.transfers.push_back({Transfer::Kind::array_to_tile, l, k, a, b, n, arr.core, t.core, bytes_for(b, n), neuron_values});
        }
      }
    }
    for (int k : m.tiles_of(l)) {
      const TileMap& t = m.tiles[k];
      for (int a : m.arrays_of(l)) {
        int b, n;
        if (overlap(t.col_begin, t.col_count, m.arrays[a].begin, m.arrays[a].count, b, n)) {
          // Partial sums of n rows (channels) at every position.
          m.transfers.push_back({Transfer::Kind::tile_to_array, l, k, a, b, n, t.core, m.arrays[a].core,
                                 static_cast<std::size_t>(n) * t.positions * kValue});
        }
      }
    }
  }
  for (int a : m.arrays_of(L)) {
    const ArrayMap& arr = m.arrays[a];
    m.transfers.push_back({Transfer::Kind::array_to_host, L, -1, a, arr.begin, arr.count, arr.core, m.host_core,
                           static_cast<std::size_t>(arr.neuron_count()) * kValue});
  }
}

MappedChip map_network(const models::Network& net, const ChipTopology& topology) {
  MappedChip chip;
  chip.topology = topology;
  // Validate every component's parameters now, so a bad topology fails before anything runs.
  chip.noisy_reads = make_crossbar_model(topology)->noisy_reads();
  make_neuron_model(topology);
  chip.interconnect = make_interconnect(topology);
  const auto mapper = make_mapper(topology);
  chip.mapping = mapper->map(net, topology);
  add_transfers(chip.mapping, net);
  return chip;
}

models::Network programmed_network(const models::Network& net, const MappedChip& chip, ProgrammingStats* stats) {
  const ChipTopology& t = chip.topology;
  const auto model = make_crossbar_model(t);
  ProgrammingStats s;
  s.clip_limit = model->clip_limit();
  double sum_abs_error = 0;
  // Each tile's block of its layer's crossbar matrix, programmed and written back cell by cell
  // (the copy shares the layers it does not write).
  models::Network programmed = net;
  for (std::size_t k = 0; k < chip.mapping.tiles.size(); ++k) {
    const TileMap& tm = chip.mapping.tiles[k];
    Eigen::MatrixXd block =
        net.layer(tm.layer).crossbar_matrix().block(tm.col_begin, tm.row_begin, tm.col_count, tm.row_count);
    const Eigen::MatrixXd weights = block;
    model->program_block(block, static_cast<int>(k));
    for (Eigen::Index c = 0; c < block.cols(); ++c) {
      for (Eigen::Index r = 0; r < block.rows(); ++r) {
        const double w = weights(r, c), error = std::abs(block(r, c) - w);
        ++s.weights;
        if (s.clip_limit && std::abs(w) > *s.clip_limit) {
          ++s.clipped;
        } else if (error > 0) {
          ++s.quantised;
        }
        s.max_abs_weight_error = std::max(s.max_abs_weight_error, error);
        sum_abs_error += error;
      }
    }
    models::ILayer& layer = programmed.mutable_layer(tm.layer);
    for (int i = 0; i < tm.row_count; ++i) {
      for (int j = 0; j < tm.col_count; ++j)
        layer.set_synapse(layer.synapse_at(tm.col_begin + j, tm.row_begin + i), block(j, i));
    }
  }
  // A crossbar model that programs a non-finite value would make every later number wrong.
  for (int l = 1; l <= programmed.num_layers(); ++l) {
    const models::ILayer& layer = programmed.layer(l);
    const Eigen::MatrixXd& stored = layer.crossbar_matrix();
    for (Eigen::Index c = 0; c < stored.cols(); ++c) {
      for (Eigen::Index r = 0; r < stored.rows(); ++r) {
        if (!std::isfinite(stored(r, c))) {
          throw core::InputError("network layer " + std::to_string(l) + ": weight " +
                                 layer.synapse_name(layer.synapse_at(r, c)) + " is " + std::to_string(stored(r, c)) +
                                 "; expected a finite number");
        }
      }
    }
  }
  if (stats) {
    s.mean_abs_weight_error = s.weights ? sum_abs_error / static_cast<double>(s.weights) : 0.0;
    *stats = s;
  }
  return programmed;
}


}  // namespace nfsim::sim
