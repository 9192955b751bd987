// Unit names with coordinates (sim/topology/unit_location.h): checked against the mapping itself.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "models/random_network.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"
#include "sim/topology/unit_location.h"

namespace nfsim::sim {
namespace {

using faults::FaultKind;
using faults::FaultSpec;

struct Fixture {
  models::Network net = models::make_random_network({{20, 17, 12, 5}, {models::ActivationKind::relu}, {}, 2.0, 0.1, 2});
  MappedChip chip =
      map_network(net, parse_topology(YAML::Load("cores: {count: 20, layout: {type: mesh, width: 5, height: 4}}\n"
                                                 "crossbar: {rows: 8, cols: 8}\nneuron_array: {size: 8}\n"
                                                 "interconnect: {type: mesh}\n"),
                                      "t.yaml"));
};

FaultSpec physical(const std::string& kind, std::vector<int> layers = {}) {
  FaultSpec s{FaultKind::group_crash, std::move(layers), 0.1};
  s.physical_kind = kind;
  return s;
}

TEST(UnitLocation, LogicalUnitsWithAndWithoutAChip) {
  Fixture f;
  const faults::FaultPlan plan({{FaultKind::neuron_crash, {1, 2}, 0.1}, {FaultKind::synapse_crash, {2}, 0.1}}, f.net);
  // Layer 1 has 17 neurons: unit 17 + 9 of spec 0 is neuron 9 of layer 2, on layer 2's second array.
  const UnitLocation a = unit_location(plan, 0, 17 + 9, f.net, &f.chip);
  EXPECT_EQ(a.kind, "neuron");
  EXPECT_EQ(a.layer, 2);
  const auto arrays2 = f.chip.mapping.arrays_of(2);
  ASSERT_EQ(arrays2.size(), 2u);  // neurons 0..7 and 8..11
  EXPECT_EQ(a.array, arrays2[1]);
  EXPECT_EQ(a.core, f.chip.mapping.arrays[arrays2[1]].core);
  EXPECT_EQ(a.x, a.core % 5);
  EXPECT_EQ(a.y, a.core / 5);
  EXPECT_EQ(a.name, "layer 2, neuron 9 (array " + std::to_string(a.array) + ", core " + std::to_string(a.core) + ")");
  EXPECT_EQ(unit_location(plan, 0, 3, f.net, nullptr).name, "layer 1, neuron 3");

  // Synapse s of layer 2 is the cell (s / 17, s % 17) of its 12 x 17 matrix: output 5, input 10
  // sits on the tile whose rows carry inputs 8..15 and columns outputs 0..7.
  const std::uint64_t s = 5 * 17 + 10;
  const UnitLocation syn = unit_location(plan, 1, s, f.net, &f.chip);
  EXPECT_EQ(syn.kind, "synapse");
  EXPECT_EQ(syn.row, 5);
  EXPECT_EQ(syn.column, 10);
  ASSERT_GE(syn.tile, 0);
  const TileMap& t = f.chip.mapping.tiles[syn.tile];
  EXPECT_EQ(t.layer, 2);
  EXPECT_EQ(t.row_begin, 8);
  EXPECT_EQ(t.col_begin, 0);
  EXPECT_EQ(syn.name, "layer 2, synapse [row 5, col 10] (tile " + std::to_string(syn.tile) + ", core " +
                          std::to_string(t.core) + ")");
  EXPECT_EQ(unit_location(plan, 1, s, f.net, nullptr).name, "layer 2, synapse [row 5, col 10]");
}

TEST(UnitLocation, PhysicalUnitsFollowTheEnginesNumbering) {
  Fixture f;
  const std::vector<FaultSpec> specs =
      expand_physical_faults({physical("crossbar_column", {2}), physical("router"), physical("neuron_array"),
                              physical("crossbar_tile"), physical("crossbar_row")},
                             f.chip);
  const faults::FaultPlan plan(specs, f.net);
  const UnitLocator loc(plan, f.net, &f.chip);
  // Every unit of every spec: the coordinates match the unit physical_units() lists at that index.
  for (std::size_t s = 0; s < specs.size(); ++s) {
    const auto units = physical_units(faults::parse_physical_kind(specs[s].physical_kind), specs[s].layers,
                                      f.chip.mapping, *f.chip.interconnect);
    ASSERT_EQ(units.size(), plan.unit_count(s));
    for (std::size_t u = 0; u < units.size(); ++u) {
      const UnitLocation l = loc.locate(s, u);
      EXPECT_EQ(l.kind, specs[s].physical_kind);
      EXPECT_EQ(l.tile, units[u].tile);
      EXPECT_EQ(l.array, units[u].array);
      EXPECT_EQ(l.router, units[u].router);
      if (l.kind == "crossbar_row") EXPECT_EQ(l.row, units[u].index);
      if (l.kind == "crossbar_column") EXPECT_EQ(l.column, units[u].index);
      EXPECT_GE(l.core, 0);
      EXPECT_EQ(l.x + 5 * l.y, l.core);
    }
  }
  const UnitLocation col = loc.locate(0, 9);  // layer 2's first tile has 8 columns: unit 9 is column 1 of its second
  const TileMap& t = f.chip.mapping.tiles[col.tile];
  EXPECT_EQ(t.layer, 2);
  EXPECT_EQ(col.name, "layer 2, tile " + std::to_string(col.tile) + " (core " + std::to_string(t.core) + "), column 1");
  EXPECT_EQ(loc.locate(1, 7).name, "router 7 (x 2, y 1)");
  const UnitLocation tile = loc.locate(3, 0);
  EXPECT_EQ(tile.name, "layer 1, tile 0 (core " + std::to_string(f.chip.mapping.tiles[0].core) + ")");
  EXPECT_EQ(loc.locate(4, 2).name,
            "layer 1, tile 0 (core " + std::to_string(f.chip.mapping.tiles[0].core) + "), row 2");
}

TEST(UnitLocation, NamedGroupsKeepTheirNames) {
  Fixture f;
  FaultSpec g{FaultKind::group_crash, {}, 0.1};
  g.groups = {{"bank A", {{1, 3}}, {}}, {"bank B", {}, {{2, 1, 1}}}};
  const faults::FaultPlan plan({g}, f.net);
  EXPECT_EQ(unit_location(plan, 0, 1, f.net, &f.chip).name, "group 'bank B'");
  EXPECT_EQ(unit_location(plan, 0, 0, f.net, nullptr).kind, "group");
}

}  // namespace
}  // namespace nfsim::sim
