#include "sim/topology/unit_location.h"

#include "faults/physical_kind.h"

namespace nfsim::sim {

using faults::PhysicalKind;

UnitLocator::UnitLocator(const faults::FaultPlan& plan, const models::Network& network, const MappedChip* chip)
    : plan_(plan), network_(network), chip_(chip) {}

void UnitLocator::place_core(UnitLocation& loc) const {
  if (!chip_ || loc.core < 0) return;
  const int w = std::max(1, chip_->topology.mesh_width);
  loc.x = loc.core % w;
  loc.y = loc.core / w;
}

UnitLocation UnitLocator::locate(std::size_t s, std::uint64_t unit) const {
  const faults::FaultSpec& spec = plan_.specs().at(s);
  UnitLocation loc;
  const std::string u = std::to_string(unit);
  if (spec.kind == faults::FaultKind::group_crash && !(chip_ && !spec.physical_kind.empty())) {
    loc.kind = "group";
    loc.name = unit < spec.groups.size() ? "group '" + spec.groups[unit].name + "'" : "group " + u;
    return loc;
  }
  if (spec.kind == faults::FaultKind::group_crash) {  // a physical unit of the chip
    auto it = physical_.find(s);
    if (it == physical_.end()) {
      auto units = physical_units(faults::parse_physical_kind(spec.physical_kind), spec.layers, chip_->mapping,
                                  *chip_->interconnect);
      for (auto& pu : units) pu.group = {};
      it = physical_.emplace(s, std::move(units)).first;
    }
    loc.kind = spec.physical_kind;
    if (unit >= it->second.size()) {
      loc.name = spec.physical_kind + " " + u;
      return loc;
    }
    const PhysicalUnit& pu = it->second[unit];
    const Mapping& m = chip_->mapping;
    switch (pu.kind) {
      case PhysicalKind::slow_link:
      case PhysicalKind::lossy_link: {
        loc.router = pu.router;
        loc.core = pu.router;
        place_core(loc);
        loc.name = "link router " + std::to_string(pu.router) + " -> router " + std::to_string(pu.index);
        return loc;
      }
      case PhysicalKind::router:
      case PhysicalKind::lossy_router: {
        loc.router = pu.router;
        loc.core = pu.router;  // one router per core position
        place_core(loc);
        loc.name = "router " + std::to_string(pu.router) + " (x " + std::to_string(loc.x) + ", y " +
                   std::to_string(loc.y) + ")";
        return loc;
      }
      case PhysicalKind::neuron_array:
      case PhysicalKind::slow_array: {
        const ArrayMap& a = m.arrays[pu.array];
        loc.array = pu.array;
        loc.layer = a.layer;
        loc.core = a.core;
        loc.name = "layer " + std::to_string(a.layer) + ", neuron array " + std::to_string(pu.array) + " (core " +
                   std::to_string(a.core) + ")";
        break;
      }
      default: {
        const TileMap& t = m.tiles[pu.tile];
        loc.tile = pu.tile;
        loc.layer = t.layer;
        loc.core = t.core;
        loc.name = "layer " + std::to_string(t.layer) + ", tile " + std::to_string(pu.tile) + " (core " +
                   std::to_string(t.core) + ")";
        if (pu.kind == PhysicalKind::crossbar_row) {
          loc.row = pu.index;
          loc.name += ", row " + std::to_string(pu.index);
        } else if (pu.kind == PhysicalKind::crossbar_column) {
          loc.column = pu.index;
          loc.name += ", column " + std::to_string(pu.index);
        }
      }
    }
    place_core(loc);
    return loc;
  }
  int layer = 0;
  std::uint64_t pos = 0;
  plan_.locate(s, unit, layer, pos);
  loc.layer = layer;
  const std::string where = "layer " + std::to_string(layer) + ", ";
  if (spec.acts_on_neurons() || spec.acts_on_neuron_parameters()) {
    loc.kind = "neuron";
    const int j = static_cast<int>(pos);
    loc.name = where + "neuron " + std::to_string(j);
    if (chip_) {
      if (layer == 0) {
        loc.name += " (input, host)";
        loc.core = chip_->mapping.host_core;
      }
      for (std::size_t a = 0; a < chip_->mapping.arrays.size(); ++a) {
        const ArrayMap& arr = chip_->mapping.arrays[a];
        if (arr.layer != layer || !arr.holds_neuron(j)) continue;
        loc.array = static_cast<int>(a);
        loc.core = arr.core;
        loc.name += " (array " + std::to_string(a) + ", core " + std::to_string(arr.core) + ")";
        break;
      }
    }
  } else {
    loc.kind = "synapse";
    const models::ILayer& L = network_.layer(layer);
    const int row = static_cast<int>(L.synapse_row(pos)), col = static_cast<int>(L.synapse_col(pos));
    loc.row = row;
    loc.column = col;
    loc.name = where + "synapse [row " + std::to_string(row) + ", col " + std::to_string(col) + "]";
    if (chip_) {
      // A tile's crossbar rows carry the inputs (the matrix's columns), its columns the outputs.
      for (std::size_t k = 0; k < chip_->mapping.tiles.size(); ++k) {
        const TileMap& t = chip_->mapping.tiles[k];
        if (t.layer != layer || col < t.row_begin || col >= t.row_begin + t.row_count || row < t.col_begin ||
            row >= t.col_begin + t.col_count)
          continue;
        loc.tile = static_cast<int>(k);
        loc.core = t.core;
        loc.name += " (tile " + std::to_string(k) + ", core " + std::to_string(t.core) + ")";
        break;
      }
    }
  }
  // Neuron or synapse: on a chip, its core's x and y too.
  place_core(loc);
  return loc;
}

UnitLocation unit_location(const faults::FaultPlan& plan, std::size_t spec, std::uint64_t unit,
                           const models::Network& network, const MappedChip* chip) {
  return UnitLocator(plan, network, chip).locate(spec, unit);
}

}  // namespace nfsim::sim
