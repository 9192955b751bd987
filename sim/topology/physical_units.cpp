#include "sim/topology/physical_units.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"

namespace nfsim::sim {

namespace {

// Cells (row_n x col_n from (row_b, col_b)) of tile t, as synapses of its layer.
void tile_synapses(const TileMap& t, int row_b, int row_n, int col_b, int col_n, faults::FaultGroup& g) {
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
}

}  // namespace

void add_transfer_group(const Mapping& m, const Transfer& tr, faults::FaultGroup& g) {
  switch (tr.kind) {
    case Transfer::Kind::input_to_tile:
    case Transfer::Kind::array_to_tile: {
      const TileMap& t = m.tiles[tr.tile];
      tile_synapses(t, tr.begin, tr.count, t.col_begin, t.col_count, g);
      break;
    }
    case Transfer::Kind::tile_to_array: {
      const TileMap& t = m.tiles[tr.tile];
      tile_synapses(t, t.row_begin, t.row_count, tr.begin, tr.count, g);
      break;
    }
    case Transfer::Kind::array_to_host: {
      const int positions = m.arrays[tr.array].positions;
      for (int j = tr.begin * positions; j < (tr.begin + tr.count) * positions; ++j) g.neurons.push_back({tr.layer, j});
      break;
    }
  }
}

std::vector<PhysicalUnit> physical_units(faults::PhysicalKind kind, const std::vector<int>& layers, const Mapping& m,
                                         const IInterconnectModel& ic) {
  auto layer_ok = [&](int l) { return layers.empty() || std::find(layers.begin(), layers.end(), l) != layers.end(); };
  std::vector<PhysicalUnit> units;
  const std::string kind_name = faults::physical_kind_names()[static_cast<std::size_t>(kind)];
  if (kind == faults::PhysicalKind::neuron_array || kind == faults::PhysicalKind::slow_array) {
    for (std::size_t a = 0; a < m.arrays.size(); ++a) {
      const ArrayMap& arr = m.arrays[a];
      if (!layer_ok(arr.layer)) continue;
      PhysicalUnit u{kind, -1, static_cast<int>(a), -1, 0, {kind_name + "[" + std::to_string(a) + "]", {}, {}, {}}};
      if (kind == faults::PhysicalKind::slow_array) {  // a timing fault: nothing taken down
        units.push_back(std::move(u));
        continue;
      }
      for (int j = arr.neuron_begin(); j < arr.neuron_begin() + arr.neuron_count(); ++j) u.group.neurons.push_back({arr.layer, j});
      units.push_back(std::move(u));
    }
    return units;
  }
  // The spike messages whose fixed route crosses a lossy unit (`hit`), as its spike paths.
  auto add_spike_paths = [&](PhysicalUnit& u, const auto& hit) {
    for (std::size_t k = 0; k < m.transfers.size(); ++k) {
      const Transfer& tr = m.transfers[k];
      if (!tr.neuron_values) continue;  // partial sums, pooled values, feature maps, outputs: no spikes dropped
      if (!hit(ic.route(tr.src_core, tr.dst_core))) continue;
      const TileMap& t = m.tiles[tr.tile];
      u.group.spike_paths.push_back({tr.layer, static_cast<int>(k), tr.begin, tr.count, t.col_begin, t.col_count});
    }
  };
  if (kind == faults::PhysicalKind::slow_link || kind == faults::PhysicalKind::lossy_link) {
    // Directed links between neighbouring routers, by router then neighbour in the model's order;
    // a slow link is a timing fault (nothing taken down), a lossy one drops the spikes crossing it.
    const auto links = ic.router_links();
    for (std::size_t r = 0; r < links.size(); ++r) {
      for (int q : links[r]) {
        PhysicalUnit u{kind, -1, -1, static_cast<int>(r), q, {"link[" + std::to_string(r) + "->" + std::to_string(q) + "]", {}, {}, {}}};
        if (kind == faults::PhysicalKind::lossy_link) {
          add_spike_paths(u, [&](const std::vector<int>& route) {
            for (std::size_t i = 1; i < route.size(); ++i) {
              if (route[i - 1] == static_cast<int>(r) && route[i] == q) return true;
            }
            return false;
          });
        }
        units.push_back(std::move(u));
      }
    }
    return units;
  }
  if (kind == faults::PhysicalKind::lossy_router) {
    // A lossy router drops, with drop_probability each, the spikes of the messages that cross it
    // (their fixed routes: lossy units are refused with dead routers that reroute).
    for (int r = 0; r < ic.router_count(); ++r) {
      PhysicalUnit u{kind, -1, -1, r, 0, {"router[" + std::to_string(r) + "]", {}, {}, {}}};
      add_spike_paths(u, [&](const std::vector<int>& route) { return std::find(route.begin(), route.end(), r) != route.end(); });
      units.push_back(std::move(u));
    }
    return units;
  }
  if (kind == faults::PhysicalKind::router) {
    // A dead router takes down the messages that cross it (XY routing), or, when the
    // interconnect routes around dead routers, the messages that start or end at it (what it
    // takes down together with other dead routers is FaultSpec::joint_effect).
    const bool reroutes = ic.reroutes();
    for (int r = 0; r < ic.router_count(); ++r) {
      PhysicalUnit u{kind, -1, -1, r, 0, {"router[" + std::to_string(r) + "]", {}, {}, {}}};
      for (const Transfer& tr : m.transfers) {
        const auto route = ic.route(tr.src_core, tr.dst_core);
        if (route.empty()) continue;  // no routers on the way
        const bool hit = reroutes ? route.front() == r || route.back() == r : std::find(route.begin(), route.end(), r) != route.end();
        if (hit) add_transfer_group(m, tr, u.group);
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
      PhysicalUnit u{kind, static_cast<int>(k), -1, -1, 0, {"tile[" + std::to_string(k) + "]", {}, {}, {}}};
      // A slow tile is a timing fault: nothing taken down.
      if (kind == faults::PhysicalKind::crossbar_tile) tile_synapses(t, t.row_begin, t.row_count, t.col_begin, t.col_count, u.group);
      units.push_back(std::move(u));
    } else if (kind == faults::PhysicalKind::crossbar_row) {
      for (int r = 0; r < t.row_count; ++r) {
        PhysicalUnit u{kind, static_cast<int>(k), -1, -1, r, {"tile[" + std::to_string(k) + "].row[" + std::to_string(r) + "]", {}, {}, {}}};
        tile_synapses(t, t.row_begin + r, 1, t.col_begin, t.col_count, u.group);
        units.push_back(std::move(u));
      }
    } else {
      for (int c = 0; c < t.col_count; ++c) {
        PhysicalUnit u{kind, static_cast<int>(k), -1, -1, c, {"tile[" + std::to_string(k) + "].col[" + std::to_string(c) + "]", {}, {}, {}}};
        tile_synapses(t, t.row_begin, t.row_count, t.col_begin + c, 1, u.group);
        units.push_back(std::move(u));
      }
    }
  }
  return units;
}

namespace {

// The joint effect of dead routers under fault-tolerant routing: a message whose end routers are
// alive is lost when no path over live routers joins them, i.e. when its ends lie in different
// connected parts of the live routers (what Interconnect finds with the model's route_around).
// Messages with a dead end router are in that router's own group already.
std::function<void(const std::vector<std::uint64_t>&, std::vector<const faults::FaultGroup*>&)> cut_off_traffic(
    const MappedChip& chip) {
  struct Data {
    std::vector<std::vector<int>> links;
    std::vector<int> src, dst;  // per transfer: its end routers
    std::vector<faults::FaultGroup> groups;  // per transfer: what it carries
  };
  auto d = std::make_shared<Data>();
  d->links = chip.interconnect->router_links();
  if (d->links.size() != static_cast<std::size_t>(chip.interconnect->router_count())) {
    throw core::InternalError("interconnect: a model that reroutes must list the links of every router");
  }
  for (const Transfer& tr : chip.mapping.transfers) {
    const auto route = chip.interconnect->route(tr.src_core, tr.dst_core);
    if (route.empty()) throw core::InternalError("interconnect: a model that reroutes gave a message no routers");
    d->src.push_back(route.front());
    d->dst.push_back(route.back());
    d->groups.emplace_back();
    add_transfer_group(chip.mapping, tr, d->groups.back());
  }
  return [d](const std::vector<std::uint64_t>& failed, std::vector<const faults::FaultGroup*>& also) {
    const std::size_t n = d->links.size();
    thread_local std::vector<int> part;
    thread_local std::vector<int> stack;
    part.assign(n, -1);
    for (std::uint64_t r : failed) part[static_cast<std::size_t>(r)] = -2;  // dead
    int parts = 0;
    for (std::size_t r0 = 0; r0 < n; ++r0) {
      if (part[r0] != -1) continue;
      part[r0] = parts;
      stack.assign(1, static_cast<int>(r0));
      while (!stack.empty()) {
        const int r = stack.back();
        stack.pop_back();
        for (int q : d->links[static_cast<std::size_t>(r)]) {
          if (part[static_cast<std::size_t>(q)] != -1) continue;
          part[static_cast<std::size_t>(q)] = parts;
          stack.push_back(q);
        }
      }
      ++parts;
    }
    if (parts < 2) return;
    for (std::size_t t = 0; t < d->groups.size(); ++t) {
      const int a = part[static_cast<std::size_t>(d->src[t])], b = part[static_cast<std::size_t>(d->dst[t])];
      if (a >= 0 && b >= 0 && a != b) also.push_back(&d->groups[t]);
    }
  };
}

}  // namespace

std::vector<faults::FaultSpec> expand_physical_faults(const std::vector<faults::FaultSpec>& specs, const MappedChip& chip) {
  // Lossy units drop the spikes of the messages their fixed routes cross; detours around dead
  // routers would take messages over other units, which the functional engine does not follow.
  if (chip.interconnect->reroutes()) {
    std::optional<std::size_t> lossy, dead;
    for (std::size_t s = 0; s < specs.size(); ++s) {
      if (specs[s].drops_spikes() && !lossy) lossy = s;
      if (specs[s].physical_kind == "router" && !dead) dead = s;
    }
    if (lossy && dead) {
      throw core::InputError("faults[" + std::to_string(*lossy) + "] (" + specs[*lossy].kind_name() + ") with faults[" +
                             std::to_string(*dead) + "] (router) on an interconnect that routes around dead routers (" +
                             chip.interconnect->describe() +
                             "): detours would take spikes over other lossy units; expected lossy units with dead routers only on "
                             "an interconnect with fixed routes");
    }
  }
  std::vector<faults::FaultSpec> out = specs;
  for (auto& spec : out) {
    if (spec.physical_kind.empty()) continue;
    spec.kind = faults::FaultKind::group_crash;
    spec.groups.clear();
    const faults::PhysicalKind kind = faults::parse_physical_kind(spec.physical_kind);
    for (auto& u : physical_units(kind, spec.layers, chip.mapping, *chip.interconnect)) spec.groups.push_back(std::move(u.group));
    if (kind == faults::PhysicalKind::router && chip.interconnect->reroutes()) spec.joint_effect = cut_off_traffic(chip);
  }
  return out;
}

}  // namespace nfsim::sim
