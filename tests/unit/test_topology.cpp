#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "models/layer/dense_layer.h"
#include "models/random_network.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"
#include "tests/common/temp_dir.h"

namespace nfsim::sim {
namespace {

models::Network net_20_17_12_5() {
  return models::make_random_network({{20, 17, 12, 5}, {models::ActivationKind::relu}, {}, 2.0, 0.1, 2});
}

std::string error_of_topology(const std::string& yaml, const models::Network& net) {
  test::TempDir dir;
  test::write_file(dir.file("chip.yaml"), yaml);
  try {
    map_network(net, load_topology(dir.file("chip.yaml")));
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Topology, MalformedFilesNameFileLineKeyAndAllowedValues) {
  const models::Network net = net_20_17_12_5();
  std::string e = error_of_topology("chip:\n  cores: {count: 4}\n  crossbar: {type: ideal, rowz: 8}\n", net);
  EXPECT_NE(e.find("chip.yaml:3"), std::string::npos) << e;
  EXPECT_NE(e.find("'rowz'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'rows'"), std::string::npos) << e;
  EXPECT_NE(e.find("rows"), std::string::npos) << e;
  e = error_of_topology("chip:\n  cores: {count: 4}\n  crossbar: {type: memristive}\n", net);
  EXPECT_NE(e.find("unknown type 'memristive'"), std::string::npos) << e;
  EXPECT_NE(e.find("ideal, noisy, quantized"), std::string::npos) << e;
  e = error_of_topology("chip:\n  cores: {count: 4}\n  crossbar: {type: quantized, weight_bits: many}\n", net);
  EXPECT_NE(e.find("chip.yaml:3: key 'chip.crossbar.weight_bits'"), std::string::npos) << e;
  EXPECT_NE(e.find("'many'"), std::string::npos) << e;
  e = error_of_topology("chip:\n  cores: {count: 4}\n  crossbar: {type: quantized, weight_bits: 40}\n", net);
  EXPECT_NE(e.find("[1, 24]"), std::string::npos) << e;
  e = error_of_topology("chip:\n  cores: {count: 4}\n  interconnect: {type: mesh, hop_latency_ns: -1}\n", net);
  EXPECT_NE(e.find("hop_latency_ns"), std::string::npos) << e;
  e = error_of_topology("chip:\n  cores: {count: 4, layout: {type: mesh, width: 1, height: 2}}\n", net);
  EXPECT_NE(e.find("cannot place 4 cores"), std::string::npos) << e;
  e = error_of_topology("chip:\n  cores: {count: 0}\n", net);
  EXPECT_NE(e.find("chip.cores.count"), std::string::npos) << e;
  e = error_of_topology("chip:\n  colour: blue\n", net);
  EXPECT_NE(e.find("'colour'"), std::string::npos) << e;
  e = error_of_topology("chip:\n  crossbars: {rows: 8}\n", net);
  EXPECT_NE(e.find("did you mean 'crossbar'"), std::string::npos) << e;
  e = error_of_topology("chip:\n  interconnect: {type: meshh}\n", net);
  EXPECT_NE(e.find("did you mean 'mesh'"), std::string::npos) << e;
  e = error_of_topology("chip: [1, 2\n", net);
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  e = error_of_topology("nochip: {}\n", net);
  EXPECT_NE(e.find("no 'chip:' section"), std::string::npos) << e;
  EXPECT_THROW(load_topology("/no/such/chip.yaml"), core::InputError);
}

TEST(Topology, NetworkThatDoesNotFitSaysWhatItNeeds) {
  const std::string e = error_of_topology(
      "chip:\n  cores: {count: 3}\n  crossbar: {rows: 8, cols: 8}\n  neuron_array: {size: 8}\n", net_20_17_12_5());
  EXPECT_NE(e.find("does not fit"), std::string::npos) << e;
  EXPECT_NE(e.find("17 crossbar tiles of 8x8"), std::string::npos) << e;
  EXPECT_NE(e.find("6 neuron arrays"), std::string::npos) << e;
  EXPECT_NE(e.find("3 cores"), std::string::npos) << e;
}

TEST(Mapping, SplitsLayersIntoRowAndColumnBlocks) {
  const models::Network net = net_20_17_12_5();
  const MappedChip chip = map_network(
      net, parse_topology(YAML::Load("cores: {count: 20, layout: {type: mesh, width: 5, height: 4}}\n"
                                     "crossbar: {rows: 8, cols: 8}\nneuron_array: {size: 8}\ninterconnect: {type: mesh}\n"),
                          "t.yaml"));
  const Mapping& m = chip.mapping;
  EXPECT_EQ(m.tiles_of(1).size(), 9u);  // 3 row blocks (20 inputs) x 3 column blocks (17 outputs)
  EXPECT_EQ(m.tiles_of(2).size(), 6u);
  EXPECT_EQ(m.tiles_of(3).size(), 2u);
  EXPECT_EQ(m.arrays.size(), 6u);
  // Every weight is on exactly one tile.
  for (int l = 1; l <= 3; ++l) {
    Eigen::MatrixXi cover = Eigen::MatrixXi::Zero(net.width(l), net.width(l - 1));
    for (int k : m.tiles_of(l)) {
      const TileMap& t = m.tiles[k];
      cover.block(t.col_begin, t.row_begin, t.col_count, t.row_count).array() += 1;
    }
    EXPECT_TRUE((cover.array() == 1).all()) << "layer " << l;
  }
  // Physical units and their groups.
  const auto rows = physical_units(faults::PhysicalKind::crossbar_row, {}, m, *chip.interconnect);
  std::size_t expected_rows = 0;
  for (const auto& t : m.tiles) expected_rows += static_cast<std::size_t>(t.row_count);
  EXPECT_EQ(rows.size(), expected_rows);
  EXPECT_EQ(rows[0].group.synapses.size(), static_cast<std::size_t>(m.tiles[0].col_count));
  const auto routers = physical_units(faults::PhysicalKind::router, {}, m, *chip.interconnect);
  EXPECT_EQ(routers.size(), 20u);
  EXPECT_FALSE(routers[0].group.synapses.empty());  // the host sits at router 0: every input crosses it
  const auto layer2_arrays = physical_units(faults::PhysicalKind::neuron_array, {2}, m, *chip.interconnect);
  EXPECT_EQ(layer2_arrays.size(), 2u);
  EXPECT_EQ(layer2_arrays[1].group.neurons.front().index, 8);
}

// A message's bytes are the values it carries, 8 each (the chip checks every message against
// them): a dense tile's message its rows' inputs, also after a conv layer; a conv tile's message
// the whole feature maps of every channel its taps touch, also when a tile's rows start or end
// inside a channel's taps.
TEST(Mapping, MessageBytesAreTheValuesCarried) {
  models::RandomNetworkSpec spec;
  spec.input_shape = {2, 8, 8};
  spec.layers = models::parse_random_layers("conv:4:3:p=1,maxpool:2,conv:6:3,dense:5");
  spec.seed = 3;
  const models::Network net = models::make_random_network(spec);
  // Rows of 10 split layer 2's taps (4 channels x 9) at 10, 20, 30: inside channels.
  const MappedChip chip = map_network(
      net, parse_topology(YAML::Load("cores: {count: 64, layout: {type: mesh, width: 8, height: 8}}\n"
                                     "crossbar: {rows: 10, cols: 4}\nneuron_array: {size: 4}\ninterconnect: {type: mesh}\n"),
                          "t.yaml"));
  int checked_conv = 0, checked_dense_after_conv = 0;
  for (const Transfer& t : chip.mapping.transfers) {
    if (t.kind == Transfer::Kind::tile_to_array || t.kind == Transfer::Kind::array_to_host) continue;
    if (t.layer == 3) {
      EXPECT_EQ(t.bytes, static_cast<std::size_t>(t.count) * 8) << "dense rows " << t.begin << "+" << t.count;
      ++checked_dense_after_conv;
      continue;
    }
    const int maps = t.layer == 1 ? 64 : 16;  // 8x8 input; 4x4 after the pooling
    const int channels = (t.begin + t.count - 1) / 9 - t.begin / 9 + 1;
    EXPECT_EQ(t.bytes, static_cast<std::size_t>(channels * maps) * 8) << "layer " << t.layer << " taps " << t.begin << "+" << t.count;
    if (t.layer == 2 && t.begin % 9 != 0) ++checked_conv;
  }
  EXPECT_GT(checked_conv, 0);
  EXPECT_GT(checked_dense_after_conv, 0);
}

TEST(Mapping, QuantizedCrossbarsProgramTheWeights) {
  const models::Network net = net_20_17_12_5();
  const MappedChip chip = map_network(
      net, parse_topology(YAML::Load("cores: {count: 20}\ncrossbar: {type: quantized, rows: 32, cols: 32, weight_bits: 3, weight_range: 0.5}\n"),
                          "t.yaml"));
  const models::Network p = programmed_network(net, chip);
  const double step = 1.0 / 7.0;
  for (Eigen::Index i = 0; i < models::as_dense(p.layer(1), "test").weights().size(); ++i) {
    const double w = models::as_dense(p.layer(1), "test").weights().data()[i];
    EXPECT_LE(std::abs(w), 0.5 + 1e-12);
    EXPECT_NEAR(std::remainder(w + 0.5, step), 0.0, 1e-12);
  }
  EXPECT_EQ(p.layer(1).bias(), net.layer(1).bias());
}

// The stats count each cell against the model's weights: clipped beyond the range, quantised
// inside it when the stored level differs, and the errors are those of the stored values.
TEST(Mapping, ProgrammingStatsCountClippedAndQuantisedWeights) {
  const models::Network net = net_20_17_12_5();
  const MappedChip chip = map_network(
      net, parse_topology(YAML::Load("cores: {count: 20}\ncrossbar: {type: quantized, rows: 32, cols: 32, weight_bits: 3, weight_range: 0.1}\n"),
                          "t.yaml"));
  ProgrammingStats stats;
  const models::Network p = programmed_network(net, chip, &stats);
  std::size_t weights = 0, clipped = 0, changed = 0;
  double max_error = 0, sum_error = 0;
  for (int l = 1; l <= net.num_layers(); ++l) {
    const Eigen::MatrixXd& w = net.layer(l).crossbar_matrix();
    const Eigen::MatrixXd& q = p.layer(l).crossbar_matrix();
    for (Eigen::Index i = 0; i < w.size(); ++i) {
      const double error = std::abs(q.data()[i] - w.data()[i]);
      ++weights;
      clipped += std::abs(w.data()[i]) > 0.1;
      changed += error > 0;
      max_error = std::max(max_error, error);
      sum_error += error;
    }
  }
  ASSERT_TRUE(stats.clip_limit.has_value());
  EXPECT_EQ(*stats.clip_limit, 0.1);
  EXPECT_EQ(stats.weights, weights);
  EXPECT_GT(clipped, 0u);  // sigma 2: many weights beyond 0.1
  EXPECT_EQ(stats.clipped, clipped);
  EXPECT_EQ(stats.quantised, changed - clipped);  // every clipped weight changed too
  EXPECT_DOUBLE_EQ(stats.max_abs_weight_error, max_error);
  EXPECT_NEAR(stats.mean_abs_weight_error, sum_error / static_cast<double>(weights), 1e-15);

  // An ideal crossbar changes nothing and has no limit.
  const MappedChip ideal = map_network(net, parse_topology(YAML::Load("cores: {count: 20}\ncrossbar: {type: ideal, rows: 32, cols: 32}\n"), "t.yaml"));
  ProgrammingStats none;
  programmed_network(net, ideal, &none);
  EXPECT_FALSE(none.clip_limit.has_value());
  EXPECT_EQ(none.weights, weights);
  EXPECT_EQ(none.clipped + none.quantised, 0u);
  EXPECT_EQ(none.max_abs_weight_error, 0.0);
}

TEST(Mapping, PhysicalFaultsNeedUnitsThatExist) {
  const models::Network net = net_20_17_12_5();
  const MappedChip chip = map_network(net, parse_topology(YAML::Load("cores: {count: 4}\ninterconnect: {type: bus}\n"), "t.yaml"));
  faults::FaultSpec router{faults::FaultKind::group_crash, {}, 0.1};
  router.physical_kind = "router";
  const auto specs = expand_physical_faults({router}, chip);
  try {
    faults::FaultPlan(specs, net);
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("routers and links exist only on a mesh"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nfsim::sim
