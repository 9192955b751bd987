// Convolutional networks through the command line (docs/faults.md, "Convolutional layers"): the
// exact engine against Monte Carlo and b4 on a tiny conv network, the zero-fault invariant, the
// bounds a conv network gets (b1, b2 and worst_case left out, refused when asked for), the chip
// engine against the functional one, and a PyTorch-exported CNN run on Fashion-MNIST images.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

nlohmann::json report_of(const TempDir& dir, const std::string& out) {
  return nlohmann::json::parse(read_file(dir.file(out + "/report.json")));
}

// 1x4x4 input, conv 1->1 2x2 (9 neurons, 4 shared synapses), max pooling 2x2 stride 1, conv
// 1->2 2x2 (the two outputs).
const std::string kTinyConv =
    "model: {generate: {input: 1x4x4, layers: \"conv:1:2,maxpool:2:s=1,conv:2:2\", activation: tanh, sigma: 3.0, "
    "mu: 0.1, seed: 9}}\n"
    "inputs: {type: random, count: 3, scale: 2.0, shift: 0.1, seed: 5}\n"
    "seed: 4\n";

// Runs the campaign `yaml` (the tiny conv network: 3 inputs, 2 outputs) with the exact engine,
// which must enumerate `units` units, and with the Monte-Carlo `engine`: every mean and std
// within the Monte Carlo's 99.9% interval, and b4's std within a fifth of the exact one (b4 is
// exact to first order; at these rates the rest is small).
void expect_exact_agrees(const std::string& yaml, const std::string& engine, int units) {
  TempDir dir;
  write_file(dir.file("c.yaml"), yaml);
  const CliRun exact = nfsim("run " + dir.file("c.yaml") + " --engine exact --out " + dir.file("exact"), dir);
  ASSERT_EQ(exact.code, 0) << exact.err;
  const CliRun mc = nfsim("run " + dir.file("c.yaml") + " --engine " + engine + " --out " + dir.file("mc"), dir);
  ASSERT_EQ(mc.code, 0) << mc.err;
  const nlohmann::json e = report_of(dir, "exact"), m = report_of(dir, "mc");
  EXPECT_EQ(e["points"][0]["stopping"]["units_enumerated"].get<int>(), units);
  const double widen = 3.2905267314918945 / 1.959963984540054;  // 95% -> 99.9% half-width
  int compared = 0;
  for (std::size_t n = 0; n < 3; ++n) {
    const auto& ex = e["points"][0]["inputs"][n];
    const auto& me = m["points"][0]["inputs"][n]["measured"];
    for (std::size_t k = 0; k < 2; ++k) {
      const double em = ex["measured"]["mean"][k], es = ex["measured"]["std"][k];
      const double mean_hw = widen * (me["ci95"]["mean"]["hi"][k].get<double>() - me["ci95"]["mean"]["lo"][k].get<double>()) / 2;
      const double std_hw = widen * (me["ci95"]["std"]["hi"][k].get<double>() - me["ci95"]["std"]["lo"][k].get<double>()) / 2;
      EXPECT_GT(es, 0.0) << "input " << n << " output " << k;
      EXPECT_LE(std::abs(me["mean"][k].get<double>() - em), mean_hw) << "input " << n << " output " << k;
      EXPECT_LE(std::abs(me["std"][k].get<double>() - es), std_hw) << "input " << n << " output " << k;
      EXPECT_LE(std::abs(ex["bounds"]["b4"]["std"][k].get<double>() - es), 0.2 * es) << "input " << n << " output " << k;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6);
}

TEST(ConvCli, ExactEngineAgreesWithMonteCarloAndB4) {
  expect_exact_agrees(kTinyConv +
                          "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.1}\n"
                          "  - {kind: synapse_crash, layers: [1, 2], probability: 0.05}\n"
                          "bounds: [b3, b4]\ntrials: 100000\nblock_trials: 4096\n",
                      "functional", 9 + 4 + 8);
}

TEST(ConvCli, ZeroFaultProbabilityGivesZeroDeltaOnTheFunctionalAndExactEngines) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kTinyConv +
                                     "faults:\n  - {kind: neuron_crash, layers: [0, 1, 2], probability: 0}\n"
                                     "  - {kind: synapse_stuck_at, layers: [1, 2], probability: 0, value: 5}\n"
                                     "  - {kind: weight_bit_flip, layers: [2], probability: 0, bit: 3}\n"
                                     "trials: 200\n");
  for (const char* engine : {"functional", "exact"}) {
    const CliRun r = nfsim("run " + dir.file("c.yaml") + " --engine " + engine + " --out " + dir.file(engine), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    const nlohmann::json j = report_of(dir, engine);
    for (const auto& in : j["points"][0]["inputs"]) {
      for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(in["measured"]["mean"][k].get<double>(), 0.0) << engine;
        EXPECT_EQ(in["measured"]["std"][k].get<double>(), 0.0) << engine;
      }
    }
  }
}

TEST(ConvCli, PaperBoundsAreLeftOutByDefaultAndRefusedWhenListed) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kTinyConv + "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.05}\ntrials: 500\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json report = report_of(dir, "out");
  const auto& bounds = report["points"][0]["inputs"][0]["bounds"];
  EXPECT_TRUE(bounds.contains("b3")) << bounds.dump();
  EXPECT_TRUE(bounds.contains("b4")) << bounds.dump();
  EXPECT_TRUE(bounds.contains("sum_norms_2")) << bounds.dump();
  EXPECT_FALSE(bounds.contains("b2")) << bounds.dump();
  EXPECT_FALSE(bounds.contains("worst_case")) << bounds.dump();
  EXPECT_FALSE(bounds.contains("b1_2")) << bounds.dump();
  const CliRun listed = nfsim("run " + dir.file("c.yaml") + " --set bounds=[b4,worst_case] --out " + dir.file("o2"), dir);
  EXPECT_EQ(listed.code, 2) << listed.err;
  EXPECT_NE(listed.err.find("bounds: 'worst_case' is defined here for dense networks without pooling"), std::string::npos)
      << listed.err;
  EXPECT_FALSE(file_exists(dir.file("o2/report.json")));
}

// The conv network on a chip (bus8: 4-bit crossbars): the chip and functional engines give the
// same statistics for logical and physical faults, every fault probability at 0 gives Delta 0 on
// the chip, and `nfsim map` shows the conv layers' reads.
TEST(ConvCli, ChipEngineRunsAConvNetworkAndAgreesWithTheFunctionalEngine) {
  TempDir dir;
  const std::string chip = "chip: " + std::string(NFSIM_SOURCE_DIR) + "/examples/chips/bus8.yaml\n";
  write_file(dir.file("c.yaml"), kTinyConv + chip +
                                     "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.05}\n"
                                     "  - {kind: crossbar_column, probability: 0.2}\n"
                                     "  - {kind: synapse_crash, layers: [2], probability: 0.05}\n"
                                     "trials: 300\n");
  nlohmann::json j[2];
  const char* engines[] = {"chip", "functional"};
  for (int e = 0; e < 2; ++e) {
    const CliRun r = nfsim("run " + dir.file("c.yaml") + " --engine " + engines[e] + " --out " + dir.file(engines[e]), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    j[e] = report_of(dir, engines[e]);
  }
  int compared = 0;
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t k = 0; k < 2; ++k) {
      const double a = j[0]["points"][0]["inputs"][n]["measured"]["std"][k], b = j[1]["points"][0]["inputs"][n]["measured"]["std"][k];
      EXPECT_GT(b, 0.0);
      EXPECT_NEAR(a, b, 1e-9 * b) << "input " << n << " output " << k;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6);
  write_file(dir.file("z.yaml"), kTinyConv + chip +
                                     "faults:\n  - {kind: neuron_crash, layers: [0, 1, 2], probability: 0}\n"
                                     "  - {kind: crossbar_row, probability: 0}\n  - {kind: neuron_array, probability: 0}\n"
                                     "  - {kind: crossbar_tile, probability: 0}\n  - {kind: synapse_stuck_at, layers: [1], probability: 0, value: 3}\n"
                                     "engine: chip\ntrials: 20\n");
  const CliRun zero = nfsim("run " + dir.file("z.yaml") + " --out " + dir.file("zero"), dir);
  ASSERT_EQ(zero.code, 0) << zero.err;
  const nlohmann::json zero_report = report_of(dir, "zero");
  for (const auto& in : zero_report["points"][0]["inputs"]) {
    for (std::size_t k = 0; k < 2; ++k) EXPECT_EQ(in["measured"]["std"][k].get<double>(), 0.0);
  }
  const CliRun map = nfsim("map " + std::string(NFSIM_FIXTURES_DIR) + "/torch_cnn_small.onnx --chip " +
                               std::string(NFSIM_SOURCE_DIR) + "/examples/chips/bus8.yaml",
                           dir);
  ASSERT_EQ(map.code, 0) << map.err;
  EXPECT_NE(map.out.find("(channels x taps) on 1 tile(s), 1 replica(s), "), std::string::npos) << map.out;
  EXPECT_NE(map.out.find("reads per tile per inference"), std::string::npos) << map.out;
  EXPECT_NE(map.out.find("pooled there: maxpool"), std::string::npos) << map.out;
}

// Replicated conv tiles (3 copies of conv 1's tile, 3 positions each): a dead column or row of one
// copy acts at that copy's positions only. The exact engine (its groups, position ranges
// included), the chip engine's Monte Carlo (the dead modules) and b4 agree.
TEST(ConvCli, ReplicatedTilesExactChipAndB4Agree) {
  // Columns: 3 copies x 1 (conv 1) + 2 (conv 2); rows: 3 copies x 4 taps.
  expect_exact_agrees(kTinyConv +
                          "chip:\n  cores: {count: 8}\n  crossbar: {type: ideal, rows: 4, cols: 4}\n"
                          "  neuron_array: {type: rate, size: 4}\n  interconnect: {type: bus}\n"
                          "  mapping: {type: greedy, replicate: 3}\n"
                          "faults:\n  - {kind: crossbar_column, probability: 0.05}\n"
                          "  - {kind: crossbar_row, layers: [1], probability: 0.03}\n"
                          "bounds: [b3, b4]\ntrials: 40000\nblock_trials: 4096\n",
                      "chip", 5 + 12);
}

TEST(ConvCli, PyTorchCnnRunsOnFashionMnistImages) {
  TempDir dir;
  write_file(dir.file("c.yaml"),
             "model: " + std::string(NFSIM_FIXTURES_DIR) + "/torch_cnn_small.onnx\n"
             "inputs: {path: " + std::string(NFSIM_FMNIST_DIR) + "/t10k-images-idx3-ubyte.gz, count: 5, scale: 0.00392156862745098}\n"
             "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.01}\n"
             "  - {kind: synapse_crash, layers: [1], probability: 0.01}\n"
             "trials: 400\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = report_of(dir, "out");
  const auto& in = j["points"][0]["inputs"][0];
  for (const char* b : {"b3", "b4"}) {
    for (std::size_t k = 0; k < 10; ++k) EXPECT_TRUE(std::isfinite(in["bounds"][b]["std"][k].get<double>())) << b;
  }
  EXPECT_GT(in["measured"]["std"][0].get<double>(), 0.0);
  const CliRun info = nfsim("info " + std::string(NFSIM_FIXTURES_DIR) + "/torch_cnn_small.onnx", dir);
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("conv2d"), std::string::npos) << info.out;
}

}  // namespace
}  // namespace nfsim::test
