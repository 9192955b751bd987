#include "sim/topology/mapping.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/error.h"
#include "core/strings.h"
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
  char line[256];
  std::snprintf(line, sizeof line, "chip %s: %d cores, %dx%d crossbars, %d-neuron arrays\n", t.name.c_str(), t.cores,
                t.crossbar_rows, t.crossbar_cols, t.neuron_array_size);
  s += line;
  std::size_t cells = 0, neurons = 0;
  for (int l = 1; l <= net.num_layers(); ++l) {
    const auto ts = tiles_of(l), as = arrays_of(l);
    std::snprintf(line, sizeof line, "layer %d: W %ldx%ld on %zu tile(s), %ld neurons on %zu array(s)\n", l,
                  static_cast<long>(net.width(l)), static_cast<long>(net.width(l - 1)), ts.size(),
                  static_cast<long>(net.width(l)), as.size());
    s += line;
    for (int k : ts) {
      const TileMap& m = tiles[k];
      std::snprintf(line, sizeof line, "  tile %d on core %d: inputs %d..%d x outputs %d..%d (%.0f%% of cells)\n", k, m.core,
                    m.row_begin, m.row_begin + m.row_count - 1, m.col_begin, m.col_begin + m.col_count - 1,
                    100.0 * m.row_count * m.col_count / (static_cast<double>(t.crossbar_rows) * t.crossbar_cols));
      s += line;
      cells += static_cast<std::size_t>(m.row_count) * m.col_count;
    }
    for (int k : as) {
      const ArrayMap& a = arrays[k];
      std::snprintf(line, sizeof line, "  array %d on core %d: neurons %d..%d\n", k, a.core, a.begin, a.begin + a.count - 1);
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

void add_transfers(Mapping& m, const models::Network& net) {
  m.transfers.clear();
  const int L = net.num_layers();
  // The dataflow below (and Chip::infer) sends neuron ranges to crossbar rows once per layer: a
  // layer that reuses its crossbar at several output positions would be computed wrongly, so it
  // is refused here, whatever mapper placed it.
  for (int l = 1; l <= L; ++l) {
    const models::ILayer& layer = net.layer(l);
    if (layer.crossbar_positions() != 1) {
      throw core::InputError("layer " + std::to_string(l) + " (" + layer.kind() + ") reuses its crossbar at " +
                             std::to_string(layer.crossbar_positions()) +
                             " output positions; the chip's dataflow places layers with one position (dense) only; "
                             "run convolutional networks without a chip (engine: functional or exact)");
    }
    if (const models::Pool2d* stage = net.stage(l - 1)) {
      throw core::InputError("the pooling after layer " + std::to_string(l - 1) + " (" + stage->describe() +
                             "): the chip's neuron arrays do not pool yet; run networks with pooling without a chip "
                             "(engine: functional or exact)");
    }
  }
  auto overlap = [](int b1, int n1, int b2, int n2, int& b, int& n) {
    b = std::max(b1, b2);
    n = std::min(b1 + n1, b2 + n2) - b;
    return n > 0;
  };
  for (int l = 1; l <= L; ++l) {
    for (int k : m.tiles_of(l)) {
      const TileMap& t = m.tiles[k];
      if (l == 1) {
        m.transfers.push_back({Transfer::Kind::input_to_tile, l, k, -1, t.row_begin, t.row_count, m.host_core, t.core,
                               static_cast<std::size_t>(t.row_count) * sizeof(double)});
      } else {
        for (int a : m.arrays_of(l - 1)) {
          int b, n;
          if (overlap(t.row_begin, t.row_count, m.arrays[a].begin, m.arrays[a].count, b, n)) {
            m.transfers.push_back({Transfer::Kind::array_to_tile, l, k, a, b, n, m.arrays[a].core, t.core,
                                   static_cast<std::size_t>(n) * sizeof(double)});
          }
        }
      }
    }
    for (int k : m.tiles_of(l)) {
      const TileMap& t = m.tiles[k];
      for (int a : m.arrays_of(l)) {
        int b, n;
        if (overlap(t.col_begin, t.col_count, m.arrays[a].begin, m.arrays[a].count, b, n)) {
          m.transfers.push_back({Transfer::Kind::tile_to_array, l, k, a, b, n, t.core, m.arrays[a].core,
                                 static_cast<std::size_t>(n) * sizeof(double)});
        }
      }
    }
  }
  for (int a : m.arrays_of(L)) {
    m.transfers.push_back({Transfer::Kind::array_to_host, L, -1, a, m.arrays[a].begin, m.arrays[a].count, m.arrays[a].core,
                           m.host_core, static_cast<std::size_t>(m.arrays[a].count) * sizeof(double)});
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
