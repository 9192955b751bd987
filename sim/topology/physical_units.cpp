#include "sim/topology/physical_units.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace nfsim::sim {

std::vector<PhysicalUnit> physical_units(faults::PhysicalKind kind, const std::vector<int>& layers, const Mapping& m,
                                         const IInterconnectModel& ic) {
  auto layer_ok = [&](int l) { return layers.empty() || std::find(layers.begin(), layers.end(), l) != layers.end(); };
  auto tile_synapses = [&](const TileMap& t, int row_b, int row_n, int col_b, int col_n, faults::FaultGroup& g) {
    for (int j = col_b; j < col_b + col_n; ++j) {
      for (int i = row_b; i < row_b + row_n; ++i) {
        // A replica takes the synapse down at the positions it computes only.
        if (t.replicated) {
          g.synapses.push_back({t.layer, j, i, t.pos_begin, t.positions});
        } else {
          g.synapses.push_back({t.layer, j, i});
        }
      }
    }
  };
  std::vector<PhysicalUnit> units;
  const std::string kind_name = faults::physical_kind_names()[static_cast<std::size_t>(kind)];
  if (kind == faults::PhysicalKind::neuron_array || kind == faults::PhysicalKind::slow_array) {
    for (std::size_t a = 0; a < m.arrays.size(); ++a) {
      const ArrayMap& arr = m.arrays[a];
      if (!layer_ok(arr.layer)) continue;
      PhysicalUnit u{kind, -1, static_cast<int>(a), -1, 0, {kind_name + "[" + std::to_string(a) + "]", {}, {}}};
      if (kind == faults::PhysicalKind::slow_array) {  // a timing fault: nothing taken down
        units.push_back(std::move(u));
        continue;
      }
      for (int j = arr.neuron_begin(); j < arr.neuron_begin() + arr.neuron_count(); ++j) u.group.neurons.push_back({arr.layer, j});
      units.push_back(std::move(u));
    }
    return units;
  }
  if (kind == faults::PhysicalKind::router) {
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
          case Transfer::Kind::array_to_host: {
            const int positions = m.arrays[tr.array].positions;
            for (int j = tr.begin * positions; j < (tr.begin + tr.count) * positions; ++j) u.group.neurons.push_back({tr.layer, j});
            break;
          }
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
    if (kind == faults::PhysicalKind::crossbar_tile || kind == faults::PhysicalKind::slow_tile) {
      PhysicalUnit u{kind, static_cast<int>(k), -1, -1, 0, {"tile[" + std::to_string(k) + "]", {}, {}}};
      // A slow tile is a timing fault: nothing taken down.
      if (kind == faults::PhysicalKind::crossbar_tile) tile_synapses(t, t.row_begin, t.row_count, t.col_begin, t.col_count, u.group);
      units.push_back(std::move(u));
    } else if (kind == faults::PhysicalKind::crossbar_row) {
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

std::vector<faults::FaultSpec> expand_physical_faults(const std::vector<faults::FaultSpec>& specs, const MappedChip& chip) {
  std::vector<faults::FaultSpec> out = specs;
  for (auto& spec : out) {
    if (spec.physical_kind.empty()) continue;
    spec.kind = faults::FaultKind::group_crash;
    spec.groups.clear();
    for (auto& u : physical_units(faults::parse_physical_kind(spec.physical_kind), spec.layers, chip.mapping, *chip.interconnect)) {
      spec.groups.push_back(std::move(u.group));
    }
  }
  return out;
}

}  // namespace nfsim::sim
