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

const std::vector<std::string>& physical_kind_names() {
  static const std::vector<std::string> names{"crossbar_row", "crossbar_column", "crossbar_tile", "neuron_array", "router"};
  return names;
}

bool is_physical_kind(const std::string& name) {
  const auto& n = physical_kind_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

std::vector<PhysicalUnit> physical_units(PhysicalKind kind, const std::vector<int>& layers, const Mapping& m,
                                         const IInterconnectModel& ic) {
  auto layer_ok = [&](int l) { return layers.empty() || std::find(layers.begin(), layers.end(), l) != layers.end(); };
  auto tile_synapses = [&](const TileMap& t, int row_b, int row_n, int col_b, int col_n, faults::FaultGroup& g) {
    for (int j = col_b; j < col_b + col_n; ++j) {
      for (int i = row_b; i < row_b + row_n; ++i) g.synapses.push_back({t.layer, j, i});
    }
  };
  std::vector<PhysicalUnit> units;
  const std::string kind_name = physical_kind_names()[static_cast<std::size_t>(kind)];
  if (kind == PhysicalKind::neuron_array) {
    for (std::size_t a = 0; a < m.arrays.size(); ++a) {
      const ArrayMap& arr = m.arrays[a];
      if (!layer_ok(arr.layer)) continue;
      PhysicalUnit u{kind, -1, static_cast<int>(a), -1, 0, {kind_name + "[" + std::to_string(a) + "]", {}, {}}};
      for (int j = arr.begin; j < arr.begin + arr.count; ++j) u.group.neurons.push_back({arr.layer, j});
      units.push_back(std::move(u));
    }
    return units;
  }
  if (kind == PhysicalKind::router) {
    for (int r = 0; r < ic.router_count(); ++r) {
      PhysicalUnit u{kind, -1, -1, r, 0, {"router[" + std::to_string(r) + "]", {}, {}}};
      for (const Transfer& tr : m.transfers) {
        const auto route = ic.route(tr.src_core, tr.dst_core);
        if (std::find(route.begin(), route.end(), r) == route.end()) continue;
        switch (tr.kind) {
          case Transfer::Kind::input_to_tile:
          case Transfer::Kind::array_to_tile: {
            const TileMap& t = m.tiles[tr.tile];
            tile_synapses(t, tr.begin, tr.count, t.col_begin, t.col_count, u.group);
            break;
          }
          case Transfer::Kind::tile_to_array: {
            const TileMap& t = m.tiles[tr.tile];
            tile_synapses(t, t.row_begin, t.row_count, tr.begin, tr.count, u.group);
            break;
          }
          case Transfer::Kind::array_to_host:
            for (int j = tr.begin; j < tr.begin + tr.count; ++j) u.group.neurons.push_back({tr.layer, j});
            break;
        }
      }
      // A router nothing crosses still fails (with no effect): keep unit numbering dense.
      units.push_back(std::move(u));
    }
    return units;
  }
  for (std::size_t k = 0; k < m.tiles.size(); ++k) {
    const TileMap& t = m.tiles[k];
    if (!layer_ok(t.layer)) continue;
    if (kind == PhysicalKind::crossbar_tile) {
      PhysicalUnit u{kind, static_cast<int>(k), -1, -1, 0, {"tile[" + std::to_string(k) + "]", {}, {}}};
      tile_synapses(t, t.row_begin, t.row_count, t.col_begin, t.col_count, u.group);
      units.push_back(std::move(u));
    } else if (kind == PhysicalKind::crossbar_row) {
      for (int r = 0; r < t.row_count; ++r) {
        PhysicalUnit u{kind, static_cast<int>(k), -1, -1, r, {"tile[" + std::to_string(k) + "].row[" + std::to_string(r) + "]", {}, {}}};
        tile_synapses(t, t.row_begin + r, 1, t.col_begin, t.col_count, u.group);
        units.push_back(std::move(u));
      }
    } else {
      for (int c = 0; c < t.col_count; ++c) {
        PhysicalUnit u{kind, static_cast<int>(k), -1, -1, c, {"tile[" + std::to_string(k) + "].col[" + std::to_string(c) + "]", {}, {}}};
        tile_synapses(t, t.row_begin, t.row_count, t.col_begin + c, 1, u.group);
        units.push_back(std::move(u));
      }
    }
  }
  return units;
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

models::Network programmed_network(const models::Network& net, const MappedChip& chip) {
  const ChipTopology& t = chip.topology;
  const auto model = make_crossbar_model(t);
  // Each tile's block of its layer's crossbar matrix, programmed and written back cell by cell
  // (the copy shares the layers it does not write).
  models::Network programmed = net;
  for (std::size_t k = 0; k < chip.mapping.tiles.size(); ++k) {
    const TileMap& tm = chip.mapping.tiles[k];
    Eigen::MatrixXd block =
        net.layer(tm.layer).crossbar_matrix().block(tm.col_begin, tm.row_begin, tm.col_count, tm.row_count);
    model->program_block(block, static_cast<int>(k));
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
  return programmed;
}

std::vector<faults::FaultSpec> expand_physical_faults(const std::vector<faults::FaultSpec>& specs, const MappedChip& chip) {
  std::vector<faults::FaultSpec> out = specs;
  const auto& names = physical_kind_names();
  for (auto& spec : out) {
    if (spec.physical_kind.empty()) continue;
    const auto it = std::find(names.begin(), names.end(), spec.physical_kind);
    if (it == names.end()) throw core::InputError("unknown physical fault kind '" + spec.physical_kind + "'");
    spec.kind = faults::FaultKind::group_crash;
    spec.groups.clear();
    for (auto& u : physical_units(static_cast<PhysicalKind>(it - names.begin()), spec.layers, chip.mapping, *chip.interconnect)) {
      spec.groups.push_back(std::move(u.group));
    }
  }
  return out;
}

}  // namespace nfsim::sim
