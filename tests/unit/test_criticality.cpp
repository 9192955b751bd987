// Per-unit criticality (testbench/campaign/criticality.h) against the exact engine's oracle.
#include <gtest/gtest.h>

#include <random>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <map>

#include "models/random_network.h"
#include "sim/functional/exact_oracle.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"
#include "testbench/campaign/criticality.h"

namespace nfsim::tb {
namespace {

using faults::FaultKind;
using faults::FaultSpec;

TEST(Spearman, RanksWithTies) {
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {10, 20, 30, 40}).value(), 1.0);
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {4, 3, 2, 1}).value(), -1.0);
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 2, 3, 4}).value(), 0.9486832980505138, 1e-12);  // average ranks for the tie
  EXPECT_FALSE(spearman({1, 1}, {1, 2}).has_value());  // one side constant: undefined, not 0
  EXPECT_FALSE(spearman({1}, {1}).has_value());
}

// A 3-4-3-2 tanh net with neuron crashes on layers 1 and 2 and synapse crashes on layer 3: 13
// units, few enough for the exact engine to enumerate every subset. The oracle for unit u's
// share of the variance is Var(all units fail at p) - Var(all but u), summed over outputs and
// averaged over inputs (exact, interactions included); the analysis predicts p (1 - p) |e_u|^2,
// exact to first order in p: its error relative to the oracle shrinks in proportion to p.
// Inputs uniform in [-1, 1] from a fixed seed: the same in every call and whatever tests ran
// before (Eigen's Random() draws from std::rand's global state).
Eigen::MatrixXd fixed_inputs(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Eigen::MatrixXd x(rows, cols);
  for (Eigen::Index c = 0; c < cols; ++c)
    for (Eigen::Index r = 0; r < rows; ++r) x(r, c) = u(gen);
  return x;
}

struct FirstOrderCheck {
  double spearman = 0, worst_rel = 0, sum_rel = 0;
};

FirstOrderCheck check_first_order(double p) {
  const models::Network net =
      models::make_random_network({{3, 4, 3, 2}, {models::ActivationKind::tanh}, {}, 1.5, 0.1, 11});
  const Eigen::MatrixXd inputs = fixed_inputs(3, 4, 11);
  const faults::FaultPlan plan({{FaultKind::neuron_crash, {1, 2}, p}, {FaultKind::synapse_crash, {3}, p}}, net);
  CriticalityInputs in;
  in.network = &net;
  in.plan = &plan;
  in.inputs = &inputs;
  CriticalityOptions o;
  o.top = 20;
  o.verify = 13;
  const CriticalityReport c = analyse_criticality(in, o);
  EXPECT_EQ(c.units, 13u);
  EXPECT_EQ(c.top.size(), 13u);
  // Every unit as its own group: the same faults, and a plan without any one of them. Spec 0
  // numbers layer 1's neurons then layer 2's, spec 1 layer 3's synapses row-major: this order.
  std::vector<faults::FaultGroup> groups;
  for (int l = 1; l <= 2; ++l) {
    for (int i = 0; i < net.width(l); ++i)
      groups.push_back({"n" + std::to_string(l) + "_" + std::to_string(i), {{l, i}}, {}});
  }
  for (int r = 0; r < 2; ++r) {
    for (int col = 0; col < 3; ++col)
      groups.push_back({"s" + std::to_string(r) + "_" + std::to_string(col), {}, {{3, r, col}}});
  }
  auto variance_of = [&](const std::vector<faults::FaultGroup>& g) {
    FaultSpec spec{FaultKind::group_crash, {}, p};
    spec.groups = g;
    const sim::ExactMoments m = sim::exact_moments(net, inputs, faults::FaultPlan({spec}, net), 22);
    return m.variance.sum() / static_cast<double>(inputs.cols());
  };
  const double all = variance_of(groups);
  std::vector<double> predicted, exact;
  double sum_predicted = 0;
  FirstOrderCheck out;
  for (const CriticalUnit& u : c.top) {
    const std::size_t g = u.spec == 0 ? static_cast<std::size_t>(u.unit) : 7 + static_cast<std::size_t>(u.unit);
    std::vector<faults::FaultGroup> without = groups;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(g));
    predicted.push_back(u.variance);
    exact.push_back(all - variance_of(without));
    sum_predicted += u.variance;
    out.worst_rel = std::max(out.worst_rel, std::abs(predicted.back() - exact.back()) / predicted.back());
    // The targeted run (the unit failed alone) reproduces the predicted share.
    EXPECT_TRUE(u.verified_variance.has_value()) << u.name;
    if (u.verified_variance) EXPECT_NEAR(*u.verified_variance, u.variance, 1e-9 * std::max(1.0, u.variance)) << u.name;
  }
  for (std::size_t i = 1; i < predicted.size(); ++i) EXPECT_GE(predicted[i - 1], predicted[i]);  // ranked
  EXPECT_TRUE(c.spearman_top.has_value());
  if (c.spearman_top) EXPECT_GE(*c.spearman_top, 0.95);
  out.spearman = spearman(predicted, exact).value_or(0.0);
  out.sum_rel = std::abs(sum_predicted - all) / all;
  return out;
}

TEST(Criticality, FirstOrderRankingMatchesTheExactLeaveOneOutVariance) {
  const FirstOrderCheck coarse = check_first_order(0.01), fine = check_first_order(0.005);
  // Ranking: Spearman >= 0.95 against the exact oracle.
  EXPECT_GE(fine.spearman, 0.95);
  // First order: halving p halves the error (up to O(p^2)), per unit and for the sum.
  EXPECT_LT(fine.worst_rel, 0.6 * coarse.worst_rel) << coarse.worst_rel << " " << fine.worst_rel;
  EXPECT_LT(fine.sum_rel, 0.6 * coarse.sum_rel) << coarse.sum_rel << " " << fine.sum_rel;
  if (std::getenv("CRIT_PRINT")) {
    for (const FirstOrderCheck& f : {coarse, fine})
      std::printf("spearman %.4f worst rel %.4f sum rel %.4f\n", f.spearman, f.worst_rel, f.sum_rel);
  }
}

// The chip tests' setup: a 20-17-12-5 tanh net on a 5 x 4 mesh of 20 cores with 8 x 8 crossbars
// and arrays of 8 neurons (layers split over tiles and arrays).
struct MeshChip {
  const models::Network net =
      models::make_random_network({{20, 17, 12, 5}, {models::ActivationKind::tanh}, {}, 1.5, 0.1, 2});
  const sim::MappedChip chip = sim::map_network(
      net, sim::parse_topology(
               YAML::Load("cores: {count: 20, layout: {type: mesh, width: 5, height: 4}}\n"
                          "crossbar: {rows: 8, cols: 8}\nneuron_array: {size: 8}\ninterconnect: {type: mesh}\n"),
               "t.yaml"));
};

// Every unit of `plan` ranked on the mesh (none left out of the top), on 3 fixed inputs; the
// first `verify` verified by the targeted run.
CriticalityReport analyse_on_mesh(const MeshChip& mesh, const faults::FaultPlan& plan, std::size_t verify) {
  const Eigen::MatrixXd inputs = fixed_inputs(20, 3, 5);
  CriticalityInputs in;
  in.network = &mesh.net;
  in.plan = &plan;
  in.inputs = &inputs;
  in.chip = &mesh.chip;
  CriticalityOptions o;
  o.top = 100000;
  o.verify = verify;
  return analyse_criticality(in, o);
}

// On a mesh chip: physical units named with coordinates, and the heat map sums every unit's
// variance on its core.
TEST(Criticality, PhysicalUnitsOnAMeshAndTheHeatMap) {
  const MeshChip mesh;
  FaultSpec rows{FaultKind::group_crash, {}, 0.01};
  rows.physical_kind = "crossbar_row";
  FaultSpec routers{FaultKind::group_crash, {}, 0.01};
  routers.physical_kind = "router";
  const auto specs = sim::expand_physical_faults({{FaultKind::neuron_crash, {2}, 0.01}, rows, routers}, mesh.chip);
  const faults::FaultPlan plan(specs, mesh.net);
  const CriticalityReport c = analyse_on_mesh(mesh, plan, 3);
  EXPECT_EQ(c.units, plan.unit_count(0) + plan.unit_count(1) + plan.unit_count(2));
  ASSERT_EQ(c.top.size(), c.units);
  EXPECT_EQ(c.mesh_width, 5);
  EXPECT_EQ(c.mesh_height, 4);
  ASSERT_EQ(c.cores.size(), 20u);
  double total = 0, heat = 0;
  for (const CriticalUnit& u : c.top) total += u.variance;
  for (const CoreHeat& h : c.cores) {
    heat += h.variance;
    EXPECT_EQ(h.x + 5 * h.y, h.core);
  }
  EXPECT_NEAR(heat, total, 1e-9 * total);
  std::size_t seen_router = 0, seen_row = 0;
  for (const CriticalUnit& u : c.top) {
    if (u.kind == "router") {
      ++seen_router;
      EXPECT_EQ(u.name.rfind("router " + std::to_string(u.router) + " (x ", 0), 0u) << u.name;
    } else if (u.kind == "crossbar_row") {
      ++seen_row;
      EXPECT_NE(u.name.find("tile " + std::to_string(u.tile) + " (core " + std::to_string(u.core) + "), row " +
                            std::to_string(u.row)),
                std::string::npos)
          << u.name;
    } else {
      EXPECT_EQ(u.kind, "neuron");
      EXPECT_NE(u.name.find("(array "), std::string::npos) << u.name;
    }
  }
  EXPECT_EQ(seen_router, 20u);
  EXPECT_EQ(seen_row, plan.unit_count(1));
  // Verified by the targeted run: the physical unit as its group of logical units, failed alone.
  for (std::size_t r = 0; r < 3; ++r) {
    ASSERT_TRUE(c.top[r].verified_variance.has_value());
    EXPECT_NEAR(*c.top[r].verified_variance, c.top[r].variance, 1e-9 * c.top[r].variance) << c.top[r].name;
  }
  EXPECT_FALSE(c.top[3].verified_variance.has_value());
  // The neuron shares summed per neuron array: layer 2's 12 neurons sit on two arrays.
  double arrays = 0, neurons = 0;
  for (const CriticalUnit& u : c.aggregated) arrays += u.kind == "neuron_array" ? u.variance : 0.0;
  for (const CriticalUnit& u : c.top) neurons += u.kind == "neuron" ? u.variance : 0.0;
  EXPECT_NEAR(arrays, neurons, 1e-12 + 1e-9 * neurons);
}

// Synapse shares summed per tile, per crossbar row (an input of the tile) and per column (an output).
TEST(Criticality, SynapseSharesAggregateToTilesRowsAndColumns) {
  const MeshChip mesh;
  const faults::FaultPlan plan({{FaultKind::synapse_crash, {2}, 0.01}}, mesh.net);
  const CriticalityReport c = analyse_on_mesh(mesh, plan, 0);
  ASSERT_EQ(c.top.size(), 12u * 17u);
  std::map<std::string, double> expected;  // by kind and tile (and row / column within it)
  double total = 0;
  for (const CriticalUnit& u : c.top) {
    const sim::TileMap& t = mesh.chip.mapping.tiles[static_cast<std::size_t>(u.tile)];
    expected["tile " + std::to_string(u.tile)] += u.variance;
    expected["row " + std::to_string(u.tile) + " " + std::to_string(u.column - t.row_begin)] += u.variance;
    expected["col " + std::to_string(u.tile) + " " + std::to_string(u.row - t.col_begin)] += u.variance;
    total += u.variance;
  }
  ASSERT_EQ(c.aggregated.size(), expected.size());
  for (std::size_t i = 0; i < c.aggregated.size(); ++i) {
    const CriticalUnit& a = c.aggregated[i];
    if (i > 0) EXPECT_GE(c.aggregated[i - 1].variance, a.variance);
    const std::string key = a.kind == "crossbar_tile"  ? "tile " + std::to_string(a.tile)
                            : a.kind == "crossbar_row" ? "row " + std::to_string(a.tile) + " " + std::to_string(a.row)
                                                       : "col " + std::to_string(a.tile) + " " + std::to_string(a.column);
    ASSERT_TRUE(expected.count(key)) << a.name;
    EXPECT_NEAR(a.variance, expected[key], 1e-12 + 1e-9 * expected[key]) << a.name;
    EXPECT_EQ(a.name.rfind("layer 2, tile " + std::to_string(a.tile) + " (core ", 0), 0u) << a.name;
  }
  double tiles = 0;
  for (const CriticalUnit& a : c.aggregated) tiles += a.kind == "crossbar_tile" ? a.variance : 0.0;
  EXPECT_NEAR(tiles, total, 1e-9 * total);
}

}  // namespace
}  // namespace nfsim::tb
