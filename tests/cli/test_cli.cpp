// End-to-end tests of the nfsim command line: exit codes, messages, outputs.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/strings.h"
#include "models/dataset.h"
#include "models/onnx_io.h"
#include "tests/common/cli_run.h"
#include "tests/common/html_check.h"
#include "tests/common/onnx_builder.h"
#include "tests/common/vcd.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kFixtures = NFSIM_FIXTURES_DIR;
const std::string kImages = std::string(NFSIM_FMNIST_DIR) + "/t10k-images-idx3-ubyte.gz";
const std::string kLabels = std::string(NFSIM_FMNIST_DIR) + "/t10k-labels-idx1-ubyte.gz";

Eigen::MatrixXd parse_csv_outputs(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  const auto header = core::split(line, ',');
  EXPECT_EQ(header.front(), "index");
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    auto cells = core::split(line, ',');
    std::vector<double> row;
    for (std::size_t c = 1; c < cells.size(); ++c) row.push_back(std::stod(cells[c]));
    rows.push_back(row);
  }
  Eigen::MatrixXd m(static_cast<Eigen::Index>(header.size() - 1), static_cast<Eigen::Index>(rows.size()));
  for (std::size_t s = 0; s < rows.size(); ++s) {
    for (std::size_t k = 0; k < rows[s].size(); ++k) m(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(s)) = rows[s][k];
  }
  return m;
}

TEST(Cli, HelpAndUsage) {
  TempDir dir;
  CliRun r = nfsim("--help", dir);
  EXPECT_EQ(r.code, 0);
  for (const char* cmd : {"info", "eval", "gen-network", "Exit codes"}) EXPECT_NE(r.out.find(cmd), std::string::npos);
  for (const char* cmd : {"info", "eval", "gen-network"}) {
    r = nfsim(std::string(cmd) + " --help", dir);
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage: nfsim " + std::string(cmd)), std::string::npos) << r.out;
  }
  EXPECT_EQ(nfsim("", dir).code, 2);
  r = nfsim("frobnicate", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  r = nfsim("eval --bogus", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bogus"), std::string::npos);
  r = nfsim("eval " + kFixtures + "/torch_mlp_opset17.onnx", dir);  // --inputs missing
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("inputs"), std::string::npos);
}

TEST(Cli, InfoDescribesTheModel) {
  TempDir dir;
  const CliRun r = nfsim("info " + kFixtures + "/torch_mlp_opset17.onnx", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("784-64(relu)-32(tanh(scale=0.5))-32(leaky_relu(alpha=0.1))-10(identity)+softmax"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters: 53706"), std::string::npos) << r.out;
}

TEST(Cli, EvalReproducesPyTorchOnFashionMnistWithAccuracy) {
  TempDir dir;
  const CliRun r = nfsim("eval " + kFixtures + "/torch_mlp_opset9.onnx --inputs " + kImages + " --labels " + kLabels +
                          " --count 100 --scale 0.00392156862745098 --precision 17",
                      dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const Eigen::MatrixXd out = parse_csv_outputs(r.out);
  const Eigen::MatrixXd expected = models::read_npy_matrix(kFixtures + "/torch_mlp_expected.npy", -1);
  ASSERT_EQ(out.rows(), 10);
  ASSERT_EQ(out.cols(), 100);
  for (Eigen::Index i = 0; i < out.size(); ++i) {
    EXPECT_NEAR(out.data()[i], expected.data()[i], 1e-5 * std::abs(expected.data()[i]) + 1e-12);
  }
  // The label line: argmax of PyTorch's outputs against the labels.
  const std::vector<int> labels = models::read_labels(kLabels, 100);
  int correct = 0;
  for (Eigen::Index c = 0; c < 100; ++c) {
    Eigen::Index k;
    expected.col(c).maxCoeff(&k);
    correct += (k == labels[static_cast<std::size_t>(c)]);
  }
  char line[64];
  std::snprintf(line, sizeof line, "accuracy: %.6f", correct / 100.0);
  EXPECT_NE(r.err.find(line), std::string::npos) << r.err;
  EXPECT_GT(correct, 70);  // the fixture model is trained (about 86% on the whole test set)
}

TEST(Cli, GenNetworkRoundTripsThroughOnnxExactly) {
  TempDir dir;
  CliRun r = nfsim("gen-network --widths 20,20,20,1 --activation relu --sigma 3 --mu 0.1 --seed 1 --out " + dir.file("net.onnx"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const models::Network net = models::load_onnx(dir.file("net.onnx"));
  EXPECT_EQ(net.describe(), "20-20(relu)-20(relu)-1(identity)");
  r = nfsim("eval " + dir.file("net.onnx") + " --inputs random:5:2:0.1:7 --precision 17", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const Eigen::MatrixXd out = parse_csv_outputs(r.out);
  const models::Dataset data = models::load_inputs(models::parse_input_spec("random:5:2:0.1:7"), 20);
  EXPECT_EQ(out, net.forward_batch(data.inputs));  // 17 digits: bit-exact through the CSV
  // Same seed, same bytes.
  ASSERT_EQ(nfsim("gen-network --widths 20,20,20,1 --sigma 3 --mu 0.1 --seed 1 --out " + dir.file("net2.onnx"), dir).code, 0);
  EXPECT_EQ(read_file(dir.file("net.onnx")), read_file(dir.file("net2.onnx")));
}

// Each bad input: exit code 2, one message naming the problem, no output file left behind.
TEST(Cli, BadInputsExitWithCode2AndANamedProblem) {
  TempDir dir;
  const std::string model = kFixtures + "/torch_mlp_opset17.onnx";
  const std::string bytes = read_file(model);
  write_file(dir.file("truncated.onnx"), bytes.substr(0, bytes.size() / 3));
  OnnxBuilder unsupported;
  unsupported.input("x", {0, 3}).node("Erf", {"x"}, {"y"}, {}, "erf0").output("y");
  write_file(dir.file("unsupported.onnx"), unsupported.bytes());
  OnnxBuilder nan;
  nan.input("x", {0, 2}).initializer("W", {1, 2}, {1.0, std::nan("")}).node("Gemm", {"x", "W"}, {"y"}, {Attr::Int("transB", 1)}).output("y");
  write_file(dir.file("nan.onnx"), nan.bytes());
  OnnxBuilder shapes;
  shapes.input("x", {0, 3})
      .initializer("W1", {2, 3}, {1, 2, 3, 4, 5, 6})
      .initializer("W2", {1, 5}, {1, 1, 1, 1, 1})
      .node("Gemm", {"x", "W1"}, {"h"}, {Attr::Int("transB", 1)}, "fc1")
      .node("Gemm", {"h", "W2"}, {"y"}, {Attr::Int("transB", 1)}, "fc2")
      .output("y");
  write_file(dir.file("shapes.onnx"), shapes.bytes());
  write_file(dir.file("bad-idx3-ubyte"), std::string("\x00\x01\x08\x03", 4) + std::string(16, '\0'));
  write_file(dir.file("x.csv"), "1,2,3\n");
  {
    std::string row;
    for (int i = 0; i < 784; ++i) row += (i ? ",1e10" : "1e10");
    write_file(dir.file("x784.csv"), row + "\n");
    std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 784), }";
    header += std::string(118 - header.size(), ' ') + "\n";
    write_file(dir.file("empty.npy"), std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header);
  }

  struct Case {
    std::string args;
    std::vector<std::string> fragments;
  };
  const std::string out = " --out " + dir.file("out.csv");
  const std::vector<Case> cases{
      {"info " + dir.file("truncated.onnx"), {"truncated.onnx", "not a valid ONNX model"}},
      {"info " + dir.file("unsupported.onnx"), {"unsupported.onnx", "node 'erf0' (Erf)", "supported operators"}},
      {"info " + dir.file("nan.onnx"), {"nan.onnx", "W[0,1]", "finite"}},
      {"info " + dir.file("shapes.onnx"), {"shapes.onnx", "node 'fc2'", "5 inputs"}},
      {"info " + dir.file("missing.onnx"), {"missing.onnx", "cannot open"}},
      {"eval " + model + " --inputs " + dir.file("bad-idx3-ubyte") + out, {"bad-idx3-ubyte", "magic number 0x00010803"}},
      {"eval " + model + " --inputs " + dir.file("x.csv") + out, {"x.csv", "3 features", "expects 784"}},
      {"eval " + model + " --inputs random:10 --count 0" + out, {"--count 0"}},
      {"eval " + model + " --inputs data.bin" + out, {"'data.bin'", "random:COUNT"}},
      {"eval " + model + " --inputs random:3 --labels " + dir.file("x.csv") + out, {"x.csv", "labels have 3 columns"}},
      {"eval " + model + " --inputs random:3 --out /nonexistent/dir/out.csv", {"/nonexistent/dir/out.csv", "cannot open"}},
      {"gen-network --widths 20,0,1 --out " + dir.file("g.onnx"), {"--widths", "'0'"}},
      {"gen-network --widths 20,1 --activation gelu --out " + dir.file("g.onnx"), {"'gelu'", "softplus"}},
      {"gen-network --widths 20,1 --sigma abc --out " + dir.file("g.onnx"), {"sigma"}},
      {"gen-network --widths 100000,100000,1 --out " + dir.file("g.onnx"), {"parameters", "at most"}},
      {"gen-network --widths 20,1 --seed -1 --out " + dir.file("g.onnx"), {"--seed -1"}},
      {"info " + dir.path(), {"is a directory"}},
      {"eval " + model + " --inputs " + dir.file("empty.npy") + out, {"empty.npy", "no samples"}},
      {"eval " + model + " --inputs " + dir.file("x784.csv") + " --scale 1e308 --shift 1e308" + out, {"overflow"}},
  };
  for (const Case& c : cases) {
    const CliRun r = nfsim(c.args, dir);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one message expected: " << r.err;
    for (const auto& f : c.fragments) EXPECT_NE(r.err.find(f), std::string::npos) << c.args << "\nmissing '" << f << "' in: " << r.err;
    EXPECT_FALSE(file_exists(dir.file("out.csv"))) << c.args;
    EXPECT_FALSE(file_exists(dir.file("g.onnx"))) << c.args;
  }
}

TEST(Cli, EvalWritesOutFileAtomically) {
  TempDir dir;
  const CliRun r = nfsim("eval " + kFixtures + "/torch_mlp_opset17.onnx --inputs random:3:0.5:0.5:1 --out " + dir.file("o.csv"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(parse_csv_outputs(read_file(dir.file("o.csv"))).cols(), 3);
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

const std::string kPaperCampaign = std::string(NFSIM_SOURCE_DIR) + "/examples/campaigns/paper_random.yaml";

nlohmann::json without_timing(const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(read_file(path));
  j.erase("timing");
  return j;
}

TEST(CliRun, WritesReportAndSummaryDeterministically) {
  TempDir dir;
  const std::string args = "run " + kPaperCampaign + " --trials 3000 --set inputs.count=4 --out ";
  CliRun r = nfsim(args + dir.file("a"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("b4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pearson"), std::string::npos) << r.out;
  const nlohmann::json rep = nlohmann::json::parse(read_file(dir.file("a/report.json")));
  EXPECT_TRUE(rep["complete"].get<bool>());
  const auto& point = rep["points"][0];
  EXPECT_EQ(point["faults"][0]["kind"], "neuron_crash");
  ASSERT_EQ(point["inputs"].size(), 4u);
  const auto& in0 = point["inputs"][0];
  EXPECT_EQ(in0["measured"]["trials"], 3000);
  for (const char* k : {"mean", "std", "mean_abs", "ci95"}) EXPECT_TRUE(in0["measured"].contains(k)) << k;
  for (const char* k : {"b1_2", "b1_paper_2", "b2", "b3", "b4", "worst_case"}) EXPECT_TRUE(in0["bounds"].contains(k)) << k;
  EXPECT_TRUE(in0["verdicts"]["b4"].contains("mean_inside_ci"));
  EXPECT_TRUE(point["summary"]["b3"]["mean"].contains("pearson"));
  const std::string csv = read_file(dir.file("a/summary.csv"));
  EXPECT_EQ(csv.rfind("point,input,output,trials,mean,std", 0), 0u) << csv.substr(0, 80);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 4);
  const std::string log = read_file(dir.file("a/faults.jsonl"));
  EXPECT_NE(log.find("\"kind\": \"neuron_crash\""), std::string::npos);
  // Same seed: the same report (timings aside); another batch size: the same numbers.
  ASSERT_EQ(nfsim(args + dir.file("b") + " --set batch_trials=7", dir).code, 0);
  EXPECT_EQ(without_timing(dir.file("a/report.json")), without_timing(dir.file("b/report.json")));
  ASSERT_EQ(nfsim(args + dir.file("c") + " --seed 2", dir).code, 0);
  EXPECT_NE(without_timing(dir.file("a/report.json")), without_timing(dir.file("c/report.json")));
  EXPECT_EQ(read_file(dir.file("a/summary.csv")), read_file(dir.file("b/summary.csv")));
}

TEST(CliRun, BadCampaignsExitWithCode2) {
  TempDir dir;
  write_file(dir.file("typo.yaml"), "model: x.onnx\ninputs: {type: random, count: 3}\nfaults:\n  - {kind: neuron_crash, layer: [1], probability: 0.1}\n");
  write_file(dir.file("prob.yaml"), "model: {generate: {widths: [4, 3, 1]}}\ninputs: {type: random, count: 3}\nfaults:\n  - {kind: neuron_crash, layers: [1], probability: 7}\n");
  write_file(dir.file("layer.yaml"), "model: {generate: {widths: [4, 3, 1]}}\ninputs: {type: random, count: 3}\nfaults:\n  - {kind: synapse_crash, layers: [5], probability: 0.1}\n");
  write_file(dir.file("nomodel.yaml"), "model: missing.onnx\ninputs: {type: random, count: 3}\nfaults:\n  - {kind: neuron_crash, layers: [1], probability: 0.1}\n");
  write_file(dir.file("syntax.yaml"), "model: {generate: [\n");
  struct Case {
    std::string args;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases{
      {"run " + dir.file("typo.yaml"), {"typo.yaml:4", "'layer'", "did you mean 'layers'"}},
      {"run " + dir.file("prob.yaml"), {"prob.yaml:4", "faults[0].probability", "'7'", "[0, 1]"}},
      {"run " + dir.file("layer.yaml"), {"faults[0]", "layer 5 out of range"}},
      {"run " + dir.file("nomodel.yaml"), {"missing.onnx", "cannot open"}},
      {"run " + dir.file("syntax.yaml"), {"syntax.yaml", "YAML syntax error"}},
      {"run " + dir.file("absent.yaml"), {"absent.yaml", "cannot open"}},
      {"run " + kPaperCampaign + " --set faults[0].probability=-1", {"faults[0].probability", "[0, 1]"}},
      {"run " + kPaperCampaign + " --set nonsense", {"KEY=VALUE"}},
      {"run " + kPaperCampaign + " --trials 10 --out /proc/nfsim-cannot-write", {"/proc/nfsim-cannot-write"}},
  };
  for (const Case& c : cases) {
    const CliRun r = nfsim(c.args + (c.args.find("--out") == std::string::npos ? " --out " + dir.file("out") : ""), dir);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const auto& f : c.fragments) EXPECT_NE(r.err.find(f), std::string::npos) << c.args << "\nmissing '" << f << "' in: " << r.err;
    EXPECT_FALSE(file_exists(dir.file("out/report.json"))) << c.args;
  }
}

TEST(CliBounds, PrintsTableAndWritesJson) {
  TempDir dir;
  CliRun r = nfsim("bounds " + kFixtures + "/torch_mlp_opset17.onnx --inputs random:2:0.3:0.3:1 --fault neuron_crash:layers=1,2:p=0.01 --out " +
                       dir.file("b.json"),
                   dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("b4 mean"), std::string::npos) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir.file("b.json")));
  const auto& b = j["points"][0]["inputs"][1]["bounds"];
  EXPECT_EQ(b["b4"]["mean"].size(), 10u);
  EXPECT_TRUE(b.contains("worst_case"));
  EXPECT_EQ(j["profile"]["layers"].size(), 5u);
  r = nfsim("bounds " + kFixtures + "/torch_mlp_opset17.onnx --inputs random:2 --fault neuron_crash:layers=9:p=0.01 --out " + dir.file("c.json"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("layer 9 out of range"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.file("c.json")));
  r = nfsim("bounds " + kFixtures + "/torch_mlp_opset17.onnx --inputs random:2 --fault neuron_crash:layers=1:p=0.01 --bounds b9 --out " + dir.file("c.json"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'b9'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

const std::string kMesh = std::string(NFSIM_SOURCE_DIR) + "/examples/chips/mesh4x4.yaml";
const std::string kModel = std::string(NFSIM_SOURCE_DIR) + "/examples/models/fmnist_mlp_small.onnx";
// The small MLP on the example mesh with three random inputs: the head of the chip campaigns below.
const std::string kMeshCampaignHead =
    "model: " + kModel + "\nchip: " + kMesh + "\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\n";

TEST(CliChip, ListShowsEveryRegisteredTypeWithItsParameters) {
  TempDir dir;
  const CliRun r = nfsim("list", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"ideal", "quantized", "weight_bits", "rate", "bus", "mesh", "hop_latency_ns", "greedy", "crossbar_row", "router",
                        "weight_bit_flip"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  // The spiking neuron-array types, each on its own line with its description.
  EXPECT_NE(r.out.find("  lif "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  if "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("leaky integrate-and-fire"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("integrate-and-fire without leak"), std::string::npos) << r.out;
}

TEST(CliChip, MapPrintsPlacementAndRefusesWhatDoesNotFit) {
  TempDir dir;
  CliRun r = nfsim("map " + kModel + " --chip " + kMesh, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("layer 1: W 64x784 on 4 tile(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("utilisation"), std::string::npos) << r.out;
  write_file(dir.file("tiny.yaml"), "chip:\n  cores: {count: 2}\n  crossbar: {rows: 64, cols: 64}\n");
  r = nfsim("map " + kModel + " --chip " + dir.file("tiny.yaml"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("does not fit: it needs 16 crossbar tiles of 64x64"), std::string::npos) << r.err;
  write_file(dir.file("typo.yaml"), "chip:\n  cores: {count: 16}\n  interconnect: {type: torus}\n");
  r = nfsim("map " + kModel + " --chip " + dir.file("typo.yaml"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("typo.yaml: chip.interconnect.type: unknown type 'torus'; expected one of bus, mesh"), std::string::npos) << r.err;
}

// Contention changes timing, never values: the same campaign on the example mesh with narrow
// links gives the same statistics, longer latencies, and the report's link utilisation (each in
// (0, 1], busiest first) and latency percentiles.
TEST(CliChip, ContentionChangesLatencyNotOutputs) {
  TempDir dir;
  std::string narrow = read_file(kMesh);
  const std::string flit = "flit_bytes: 32}";
  ASSERT_NE(narrow.find(flit), std::string::npos);
  narrow.replace(narrow.find(flit), flit.size(), "flit_bytes: 32, link_bandwidth_bytes_per_ns: 2}");
  write_file(dir.file("narrow.yaml"), narrow);
  const std::string campaign = "model: " + kModel +
                               "\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\nfaults:\n"
                               "  - {kind: neuron_crash, layers: [1, 2], probability: 0.02}\n"
                               "  - {kind: router, probability: 0.01}\n"
                               "trials: 50\nseed: 5\nbounds: []\nengine: chip\n";
  write_file(dir.file("wide.yaml"), "chip: " + kMesh + "\n" + campaign);
  write_file(dir.file("narrow_c.yaml"), "chip: narrow.yaml\n" + campaign);
  CliRun r = nfsim("run " + dir.file("wide.yaml") + " --out " + dir.file("wide"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = nfsim("run " + dir.file("narrow_c.yaml") + " --out " + dir.file("narrow"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json a = nlohmann::json::parse(read_file(dir.file("wide/report.json")))["points"][0];
  const nlohmann::json b = nlohmann::json::parse(read_file(dir.file("narrow/report.json")))["points"][0];
  EXPECT_EQ(a["inputs"], b["inputs"]);
  EXPECT_FALSE(a["chip"].contains("link_utilisation"));
  const auto& lat = b["chip"]["inference_latency_ns"];
  EXPECT_GT(lat["mean"].get<double>(), a["chip"]["inference_latency_ns"]["mean"].get<double>());
  EXPECT_LE(lat["min"].get<double>(), lat["median"].get<double>());
  EXPECT_LE(lat["median"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["max"].get<double>());
  EXPECT_GT(b["chip"]["link_wait_ns_per_inference"].get<double>(), 0.0);
  const auto& links = b["chip"]["link_utilisation"];
  ASSERT_FALSE(links.empty());
  double previous = 1.0;
  for (const auto& l : links) {
    const double u = l["utilisation"].get<double>();
    EXPECT_GT(u, 0.0) << l;
    EXPECT_LE(u, previous) << l;
    previous = u;
    EXPECT_EQ(l["link"].get<std::string>().rfind("router ", 0), 0u) << l;
  }
}

// Differential and full chip simulation through the CLI (docs/chip.md, "Differential
// simulation"): the same statistics (1e-12), latencies and traffic; the report says how each
// point was simulated, and why in full.
TEST(CliChip, DifferentialAndFullSimulationGiveTheSameReport) {
  TempDir dir;
  const std::string campaign = kMeshCampaignHead +
                               "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.05}\n"
                               "  - {kind: synapse_crash, layers: [2], probability: 0.02, onset_ns: 120}\n"
                               "trials: 40\nseed: 3\nbounds: [b4]\nengine: chip\n";
  write_file(dir.file("differential.yaml"), campaign);
  write_file(dir.file("full.yaml"), campaign + "chip_simulation: full\n");
  for (const char* name : {"differential", "full"}) {
    const CliRun r = nfsim(std::string("run ") + dir.file(std::string(name) + ".yaml") + " --out " + dir.file(name), dir);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const nlohmann::json d = nlohmann::json::parse(read_file(dir.file("differential/report.json")))["points"][0];
  const nlohmann::json f = nlohmann::json::parse(read_file(dir.file("full/report.json")))["points"][0];
  EXPECT_EQ(d["chip"]["simulation"]["mode"], "differential");
  EXPECT_EQ(d["chip"]["simulation"]["full_inferences"], 0);
  EXPECT_GT(d["chip"]["simulation"]["differential_inferences"].get<int>(), 0);
  EXPECT_EQ(f["chip"]["simulation"]["mode"], "full");
  EXPECT_EQ(f["chip"]["simulation"]["full_reason"], "chip_simulation: full");
  for (const char* key : {"inference_latency_ns", "messages_per_inference", "router_hops_per_inference"}) {
    EXPECT_EQ(d["chip"][key], f["chip"][key]) << key;
  }
  ASSERT_EQ(d["inputs"].size(), f["inputs"].size());
  for (std::size_t n = 0; n < d["inputs"].size(); ++n) {
    for (const char* stat : {"mean", "std"}) {
      const auto& a = d["inputs"][n]["measured"][stat];
      const auto& b = f["inputs"][n]["measured"][stat];
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k].get<double>(), b[k].get<double>(), 1e-12) << stat << " " << n << " " << k;
    }
  }
  EXPECT_NE(read_file(dir.file("full/report.html")).find("full (chip_simulation: full)"), std::string::npos);
  // What makes a point run in full is named: a deadline, a stream, a VCD trace.
  write_file(dir.file("deadline.yaml"), campaign + "deadline_ns: 100000\n");
  write_file(dir.file("stream.yaml"), kMeshCampaignHead + "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.05}\n"
                                                          "trials: 4\nseed: 3\nbounds: [b4]\nengine: chip\nstream: {interval_ns: 500}\n");
  const std::vector<std::pair<std::string, std::string>> why = {
      {"run " + dir.file("deadline.yaml") + " --set bounds=[] --out " + dir.file("deadline"), "deadline_ns"},
      {"run " + dir.file("stream.yaml") + " --out " + dir.file("stream"), "stream"},
      {"run " + dir.file("differential.yaml") + " --trials 2 --vcd " + dir.file("t.vcd") + " --out " + dir.file("vcd"), "--vcd"}};
  for (const auto& [args, reason] : why) {
    const CliRun r = nfsim(args, dir);
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string out = args.substr(args.rfind(' ') + 1);
    const nlohmann::json sim = nlohmann::json::parse(read_file(out + "/report.json"))["points"][0]["chip"]["simulation"];
    EXPECT_EQ(sim["mode"], "full") << reason;
    EXPECT_EQ(sim["differential_inferences"], 0) << reason;
    EXPECT_EQ(sim["full_reason"].get<std::string>().rfind(reason, 0), 0u) << sim;
    // One process writes the trace: no worker processes with --vcd.
    if (reason == "--vcd") EXPECT_EQ(nlohmann::json::parse(read_file(out + "/report.json"))["timing"]["points"][0]["threads"], 1);
  }
}

// Streamed inferences through the CLI on the example mesh (tiles read in 100 ns, the bottleneck:
// 10 inferences per us): at 50 inputs per us the report gives the bottleneck's rate (measured
// within 5% of it) and says the chip does not keep up; at 2 per us it keeps up at the input
// rate. The statistics are those of single inferences (streaming moves times only), simulated in
// full like the stream (differential simulation gives them to rounding: ChipDifferential).
TEST(CliChip, StreamedInferencesReportThroughputAndBacklog) {
  TempDir dir;
  const std::string campaign = kMeshCampaignHead +
                               "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.05}\n"
                               "trials: 20\nseed: 3\nbounds: [b4]\nengine: chip\n";
  write_file(dir.file("single.yaml"), campaign + "chip_simulation: full\n");
  write_file(dir.file("fast.yaml"), campaign + "stream: {rate_per_us: 50}\n");
  write_file(dir.file("slow.yaml"), campaign + "stream: {interval_ns: 500}\n");
  CliRun r = nfsim("run " + dir.file("single.yaml") + " --out " + dir.file("single"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = nfsim("run " + dir.file("fast.yaml") + " --out " + dir.file("fast"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("point 0 stream: one input every 20 ns; 10 inferences/us measured, 10 expected (bottleneck 10/us)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NOT SUSTAINED: the latency grows"), std::string::npos) << r.out;
  const nlohmann::json single = nlohmann::json::parse(read_file(dir.file("single/report.json")))["points"][0];
  const nlohmann::json fast = nlohmann::json::parse(read_file(dir.file("fast/report.json")))["points"][0];
  EXPECT_EQ(single["inputs"], fast["inputs"]);
  const auto& st = fast["chip"]["stream"];
  EXPECT_DOUBLE_EQ(st["bottleneck_throughput_per_us"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(st["expected_throughput_per_us"].get<double>(), 10.0);
  EXPECT_NEAR(st["throughput_per_us"].get<double>(), 10.0, 0.5) << st;
  EXPECT_GT(st["backlog_growth_ns_per_input"].get<double>(), 0.0);
  EXPECT_FALSE(st["sustained"].get<bool>());
  EXPECT_NE(read_file(dir.file("fast/report.html")).find("does not sustain this rate"), std::string::npos);
  r = nfsim("run " + dir.file("slow.yaml") + " --out " + dir.file("slow"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("the chip keeps up"), std::string::npos) << r.out;
  const nlohmann::json slow = nlohmann::json::parse(read_file(dir.file("slow/report.json")))["points"][0]["chip"];
  EXPECT_NEAR(slow["stream"]["throughput_per_us"].get<double>(), 2.0, 1e-9) << slow["stream"];
  EXPECT_TRUE(slow["stream"]["sustained"].get<bool>());
  EXPECT_EQ(slow["inference_latency_ns"]["max"], single["chip"]["inference_latency_ns"]["max"]);
}

// Fault-tolerant routing through the CLI: the report counts detours and drops, report.html shows
// them, and the functional engine (endpoint groups plus the joint effect) gives the chip's
// statistics.
TEST(CliChip, FaultTolerantRoutingIsReportedAndTheEnginesAgree) {
  TempDir dir;
  std::string mesh = read_file(kMesh);
  const std::string flit = "flit_bytes: 32}";
  ASSERT_NE(mesh.find(flit), std::string::npos);
  mesh.replace(mesh.find(flit), flit.size(), "flit_bytes: 32, routing: fault_tolerant}");
  write_file(dir.file("ft.yaml"), mesh);
  const std::string campaign = "model: " + kModel +
                               "\nchip: ft.yaml\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\nfaults:\n"
                               "  - {kind: router, probability: 0.3, persistence: permanent}\n"
                               "trials: 40\nseed: 5\nbounds: []\n";
  write_file(dir.file("chip.yaml"), campaign + "engine: chip\n");
  write_file(dir.file("functional.yaml"), campaign + "engine: functional\n");
  CliRun r = nfsim("run " + dir.file("chip.yaml") + " --out " + dir.file("chip"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = nfsim("run " + dir.file("functional.yaml") + " --out " + dir.file("functional"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json a = nlohmann::json::parse(read_file(dir.file("chip/report.json")))["points"][0];
  const nlohmann::json b = nlohmann::json::parse(read_file(dir.file("functional/report.json")))["points"][0];
  const auto& rr = a["chip"]["rerouting_per_inference"];
  EXPECT_GT(rr["rerouted_messages"].get<double>(), 0.0) << rr;
  EXPECT_GT(rr["detour_hops"].get<double>(), 0.0) << rr;
  EXPECT_GT(rr["dropped_messages"].get<double>(), 0.0) << rr;
  ASSERT_EQ(a["inputs"].size(), b["inputs"].size());
  for (std::size_t n = 0; n < a["inputs"].size(); ++n) {
    const auto& sa = a["inputs"][n]["measured"]["std"];
    const auto& sb = b["inputs"][n]["measured"]["std"];
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t k = 0; k < sa.size(); ++k) EXPECT_NEAR(sa[k].get<double>(), sb[k].get<double>(), 1e-9) << n << " " << k;
  }
  EXPECT_NE(read_file(dir.file("chip/report.html")).find("routing around dead routers"), std::string::npos);
}

// Slow tiles and a deadline through the CLI: the report gives the deadline and the share of
// inferences that missed it, the late outputs count as errors, and no bound is claimed.
TEST(CliChip, DeadlineMissesAreReportedAndCountAsErrors) {
  TempDir dir;
  write_file(dir.file("d.yaml"), kMeshCampaignHead +
                                     "faults:\n  - {kind: slow_tile, factor: 3, probability: 0.1}\n"
                                     "deadline_ns: 800\nengine: chip\ntrials: 100\nseed: 3\n");
  const CliRun r = nfsim("run " + dir.file("d.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir.file("o/report.json")));
  const auto& chip = j["points"][0]["chip"];
  EXPECT_EQ(chip["deadline_ns"].get<double>(), 800.0);
  const double miss = chip["deadline_miss_rate"].get<double>();
  EXPECT_GT(miss, 0.0);
  EXPECT_LT(miss, 1.0);
  EXPECT_LE(chip["inference_latency_ns"]["min"].get<double>(), 800.0);  // the fault-free chip meets it
  EXPECT_GT(chip["inference_latency_ns"]["max"].get<double>(), 800.0);
  EXPECT_TRUE(j["campaign"]["bounds"].empty());
  EXPECT_GT(j["points"][0]["inputs"][0]["measured"]["std"][0].get<double>(), 0.0);  // lost outputs are errors
  EXPECT_NE(read_file(dir.file("o/report.html")).find("of inferences lost an output to it"), std::string::npos);
}

// A mission with physical and logical FIT specs: both engines draw the same failure times, so
// every checkpoint's statistics agree (to the chip's rounding), and the summary says so.
TEST(CliChip, MissionOnTheChipAgreesWithTheFunctionalEngine) {
  TempDir dir;
  write_file(dir.file("m.yaml"), kMeshCampaignHead +
                                     "mission: {hours: 10000, checkpoints: 3}\nfaults:\n"
                                     "  - {kind: crossbar_column, fit: 5000}\n  - {kind: neuron_crash, layers: [1], fit: 2000}\n"
                                     "trials: 100\nseed: 3\nbounds: [b4]\n");
  CliRun r = nfsim("run " + dir.file("m.yaml") + " --engine chip --out " + dir.file("chip"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("mission: 3 checkpoints over 10000 h"), std::string::npos) << r.out;
  r = nfsim("run " + dir.file("m.yaml") + " --engine functional --out " + dir.file("fun"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json a = nlohmann::json::parse(read_file(dir.file("chip/report.json")));
  const nlohmann::json b = nlohmann::json::parse(read_file(dir.file("fun/report.json")));
  ASSERT_EQ(a["points"].size(), 3u);
  for (std::size_t p = 0; p < 3; ++p) {
    for (int n = 0; n < 3; ++n) {
      const auto& ma = a["points"][p]["inputs"][n]["measured"];
      const auto& mb = b["points"][p]["inputs"][n]["measured"];
      for (int k = 0; k < 10; ++k) EXPECT_NEAR(ma["std"][k].get<double>(), mb["std"][k].get<double>(), 1e-9) << p << " " << n;
    }
  }
  EXPECT_EQ(a["mission"]["curves"][0]["hours"], b["mission"]["curves"][0]["hours"]);
}

// Slow tiles that arrive over a mission, against a deadline: a chip instance's slow tiles only
// accumulate, so the deadline-miss rate can only grow from checkpoint to checkpoint.
TEST(CliChip, MissionDeadlineMissesGrowOverTheMission) {
  TempDir dir;
  write_file(dir.file("m.yaml"), kMeshCampaignHead +
                                     "mission: {hours: 10000, checkpoints: 4}\ndeadline_ns: 800\nengine: chip\nfaults:\n"
                                     "  - {kind: slow_tile, factor: 3, fit: 10000}\ntrials: 100\nseed: 3\n");
  const CliRun r = nfsim("run " + dir.file("m.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto curve = nlohmann::json::parse(read_file(dir.file("o/report.json")))["mission"]["curves"][0];
  ASSERT_EQ(curve["deadline_miss_rate"].size(), 4u) << curve;
  for (std::size_t k = 1; k < 4; ++k) {
    EXPECT_GE(curve["deadline_miss_rate"][k].get<double>(), curve["deadline_miss_rate"][k - 1].get<double>()) << curve;
  }
  EXPECT_GT(curve["deadline_miss_rate"][3].get<double>(), 0.0) << curve;
  EXPECT_TRUE(curve["std_pearson"].empty());  // no bound with timing faults
}

// Point 0 of two reports measures the same (every input and output of `fields`, to 1e-9).
void expect_same_measurements(const nlohmann::json& a, const nlohmann::json& b, const std::vector<std::string>& fields) {
  const auto& ia = a["points"][0]["inputs"];
  const auto& ib = b["points"][0]["inputs"];
  ASSERT_EQ(ia.size(), ib.size());
  for (std::size_t n = 0; n < ia.size(); ++n) {
    for (const std::string& f : fields) {
      const auto& va = ia[n]["measured"][f];
      const auto& vb = ib[n]["measured"][f];
      ASSERT_EQ(va.size(), vb.size());
      for (std::size_t k = 0; k < va.size(); ++k) EXPECT_NEAR(va[k].get<double>(), vb[k].get<double>(), 1e-9) << f << " input " << n << " output " << k;
    }
  }
}

// Both engines through the CLI on the same chip campaign: the same statistics (the chip adds
// its partial sums tile by tile, so to rounding only), and the chip run writes its fault log.
TEST(CliChip, ChipAndFunctionalEnginesAgreeEndToEnd) {
  TempDir dir;
  write_file(dir.file("c.yaml"),
             "model: " + kModel + "\nchip: " + kMesh +
                 "\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\nfaults:\n"
                 "  - {kind: neuron_crash, layers: [1, 2], probability: 0.02}\n"
                 "  - {kind: crossbar_column, probability: 0.01, persistence: permanent}\n"
                 "  - {kind: router, probability: 0.01}\n"
                 "trials: 400\nseed: 5\nbounds: [b3, b4]\n");
  CliRun r = nfsim("run " + dir.file("c.yaml") + " --engine chip --out " + dir.file("chip") + " --vcd " + dir.file("t.vcd"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = nfsim("run " + dir.file("c.yaml") + " --engine functional --out " + dir.file("fun"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json a = nlohmann::json::parse(read_file(dir.file("chip/report.json")));
  const nlohmann::json b = nlohmann::json::parse(read_file(dir.file("fun/report.json")));
  EXPECT_GT(a["points"][0]["chip"]["inference_latency_ns"]["mean"].get<double>(), 0.0);
  EXPECT_GT(a["points"][0]["chip"]["messages_per_inference"].get<int>(), 10);
  expect_same_measurements(a, b, {"mean", "std"});
  EXPECT_NE(read_file(dir.file("chip/faults.jsonl")).find("\"kind\": \"crossbar_column\""), std::string::npos);
  // The trace shows routers and links busy: each goes high (a message crossing it) and low again.
  const std::string vcd = read_file(dir.file("t.vcd"));
  ASSERT_NE(vcd.find("$enddefinitions"), std::string::npos);
  const std::string dump = vcd.substr(vcd.find("$enddefinitions"));
  for (const char* name : {"router_0", "router_1", "link_0_1", "link_1_0"}) {
    const std::string id = vcd_id(vcd, name);
    ASSERT_FALSE(id.empty()) << name;
    EXPECT_NE(dump.find("\n1" + id + "\n"), std::string::npos) << name;
    EXPECT_NE(dump.find("\n0" + id + "\n"), std::string::npos) << name;
  }
  // Physical faults without a chip, onsets without the chip engine: refused.
  write_file(dir.file("nochip.yaml"), "model: " + kModel + "\ninputs: {type: random, count: 2}\nfaults: [{kind: router, probability: 0.1}]\n");
  r = nfsim("run " + dir.file("nochip.yaml") + " --out " + dir.file("x"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs a chip"), std::string::npos) << r.err;
  r = nfsim("run " + dir.file("c.yaml") + " --set faults[0].onset_ns=50 --engine functional --out " + dir.file("x"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("engine: chip"), std::string::npos) << r.err;
  write_file(dir.file("noisy.yaml"), "chip:\n  cores: {count: 16}\n  crossbar: {type: noisy, read_noise_std: 0.01}\n");
  r = nfsim("run " + dir.file("c.yaml") + " --set chip=" + dir.file("noisy.yaml") + " --set faults[1].probability=0 --set faults[2].probability=0 --engine functional --out " + dir.file("x"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("only the chip engine models"), std::string::npos) << r.err;
  r = nfsim("run " + dir.file("c.yaml") + " --engine chip --vcd /nonexistent/dir/t.vcd --out " + dir.file("x"), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/dir/t.vcd"), std::string::npos) << r.err;
  r = nfsim("run " + dir.file("c.yaml") + " --engine functional --vcd " + dir.file("v.vcd") + " --out " + dir.file("x"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--vcd needs the chip engine"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

const std::string kMpiEnv = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 ";

TEST(CliCampaign, SweepGridRunsEveryPointInOrder) {
  TempDir dir;
  write_file(dir.file("s.yaml"), read_file(kPaperCampaign) +
                                     "sweep:\n  - {key: 'faults[0].probability', values: [0.001, 0.05]}\n"
                                     "  - {key: inputs.count, values: [2, 3]}\n");
  const CliRun r = nfsim("run " + dir.file("s.yaml") + " --trials 500 --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json rep = nlohmann::json::parse(read_file(dir.file("o/report.json")));
  ASSERT_EQ(rep["points"].size(), 4u);
  EXPECT_EQ(rep["points"][0]["sweep"]["faults[0].probability"], "0.001");
  EXPECT_EQ(rep["points"][1]["sweep"]["inputs.count"], "3");
  EXPECT_EQ(rep["points"][2]["sweep"]["faults[0].probability"], "0.05");
  EXPECT_EQ(rep["points"][3]["inputs"].size(), 3u);
  EXPECT_DOUBLE_EQ(rep["points"][3]["faults"][0]["probability"].get<double>(), 0.05);
  // The error grows with p.
  EXPECT_GT(rep["points"][2]["inputs"][0]["measured"]["std"][0].get<double>(),
            rep["points"][0]["inputs"][0]["measured"]["std"][0].get<double>());
  EXPECT_NE(r.out.find("faults[0].probability=0.05"), std::string::npos) << r.out;
  write_file(dir.file("bad.yaml"), read_file(kPaperCampaign) + "sweep:\n  key: faults[0].probability\n  values: [0.01, 7]\n");
  const CliRun b = nfsim("run " + dir.file("bad.yaml") + " --trials 10 --out " + dir.file("b"), dir);
  EXPECT_EQ(b.code, 2);
  EXPECT_NE(b.err.find("at sweep point faults[0].probability=7"), std::string::npos) << b.err;
}

TEST(CliCampaign, AutoTrialsStopAtTheTargetOrTheMaximum) {
  TempDir dir;
  CliRun r = nfsim("run " + kPaperCampaign + " --set inputs.count=2 --trials auto --set stopping.rel_half_width=0.1 "
                   "--set stopping.min_trials=256 --set stopping.max_trials=1000000 --out " + dir.file("a"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json p = nlohmann::json::parse(read_file(dir.file("a/report.json")))["points"][0];
  EXPECT_EQ(p["stopping"]["reached"], "target");
  EXPECT_LT(p["trials"].get<std::uint64_t>(), 1000000u);
  EXPECT_GE(p["trials"].get<std::uint64_t>(), 256u);
  // Every std's relative half-width is within the target.
  for (const auto& in : p["inputs"]) {
    const double s = in["measured"]["std"][0].get<double>();
    const double hw = (in["measured"]["ci95"]["std"]["hi"][0].get<double>() - in["measured"]["ci95"]["std"]["lo"][0].get<double>()) / 2;
    if (s > 0) EXPECT_LE(hw / s, 0.1 + 1e-12);
  }
  r = nfsim("run " + kPaperCampaign + " --set inputs.count=2 --trials auto --set stopping.rel_half_width=1e-6 "
            "--set stopping.min_trials=100 --set stopping.max_trials=2000 --out " + dir.file("b"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  p = nlohmann::json::parse(read_file(dir.file("b/report.json")))["points"][0];
  EXPECT_EQ(p["stopping"]["reached"], "max_trials");
  EXPECT_EQ(p["trials"], 2000);
}

TEST(CliCampaign, RequirementsSetTheExitCode) {
  TempDir dir;
  const std::string base = "run " + kPaperCampaign + " --set inputs.count=5 --trials 20000 ";
  CliRun r = nfsim(base + "--set 'require={b4: {max_median_rel_err: 0.5, min_pearson: 0.9}, worst_case: holds}' --out " + dir.file("a"), dir);
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  nlohmann::json rep = nlohmann::json::parse(read_file(dir.file("a/report.json")));
  EXPECT_TRUE(rep["requirements_met"].get<bool>());
  EXPECT_EQ(rep["points"][0]["requirements"].size(), 3u);
  r = nfsim(base + "--set 'require={b4: {max_median_rel_err: 1e-9}}' --out " + dir.file("b"), dir);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.out.find("NOT MET"), std::string::npos) << r.out;
  rep = nlohmann::json::parse(read_file(dir.file("b/report.json")));
  EXPECT_FALSE(rep["requirements_met"].get<bool>());
  r = nfsim(base + "--set 'require={b4: {max_typo: 1}}' --out " + dir.file("c"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("max_typo"), std::string::npos) << r.err;
}

TEST(CliCampaign, MpiRanksGiveBitIdenticalReports) {
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  const std::string args = " run " + kPaperCampaign + " --set inputs.count=3 --trials 3000 --set block_trials=16 --out ";
  ASSERT_EQ(nfsim(args.substr(1) + dir.file("r1"), dir).code, 0);
  for (int np : {1, 2, 3}) {
    const std::string out = dir.file("mpi" + std::to_string(np));
    const std::string cmd = kMpiEnv + "mpirun -np " + std::to_string(np) + " " + NFSIM_EXE + args + out + " > " + dir.file("mpi.log") + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.file("mpi.log"));
    nlohmann::json a = nlohmann::json::parse(read_file(dir.file("r1/report.json")));
    nlohmann::json b = nlohmann::json::parse(read_file(out + "/report.json"));
    EXPECT_EQ(b["timing"]["mpi_ranks"], np);
    a.erase("timing");
    b.erase("timing");
    EXPECT_EQ(a.dump(), b.dump()) << np << " ranks";
  }
  // The stopping rule decides at the same block whatever the rank count.
  const std::string auto_args = " run " + kPaperCampaign + " --set inputs.count=2 --trials auto --set stopping.rel_half_width=0.1 "
                                "--set stopping.min_trials=64 --set block_trials=16 --out ";
  ASSERT_EQ(nfsim(auto_args.substr(1) + dir.file("auto1"), dir).code, 0);
  const std::string cmd = kMpiEnv + "mpirun -np 3 " + NFSIM_EXE + auto_args + dir.file("auto3") + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  nlohmann::json a = nlohmann::json::parse(read_file(dir.file("auto1/report.json")));
  nlohmann::json b = nlohmann::json::parse(read_file(dir.file("auto3/report.json")));
  a.erase("timing");
  b.erase("timing");
  EXPECT_EQ(a.dump(), b.dump());
}

// A chip campaign with contended links, dead routers (inferences simulated in full) and onsets.
const std::string kContendedChipCampaign =
    "model: " + kModel + "\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\n"
    "chip:\n  cores: {count: 16, layout: {type: mesh, width: 4, height: 4}}\n"
    "  crossbar: {type: ideal, rows: 64, cols: 64, read_latency_ns: 20}\n"
    "  neuron_array: {type: rate, size: 32, update_latency_ns: 5}\n"
    "  interconnect: {type: mesh, hop_latency_ns: 3, flit_bytes: 16, link_bandwidth_bytes_per_ns: 8}\n"
    "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.03}\n"
    "  - {kind: synapse_crash, layers: [2], probability: 0.02, onset_ns: 150}\n"
    "  - {kind: router, probability: 0.02}\n"
    "engine: chip\nseed: 4\nbounds: [b4]\n";

// The chip engine's worker processes (--threads) and MPI ranks split its blocks: the report (Delta
// statistics, latencies, traffic, link utilisation, how inferences were simulated) and the fault
// log are the same bits for 1, 2 and 3 workers and for 1, 2 and 3 ranks, with a fixed trial count
// and with the stopping rule. The campaign has contended links, dead routers (inferences
// simulated in full) and onsets.
TEST(CliChip, WorkerProcessesAndMpiRanksGiveBitIdenticalReports) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kContendedChipCampaign + "block_trials: 8\n");
  const bool mpi = std::system("command -v mpirun > /dev/null 2>&1") == 0;
  for (const std::string trials : {"--trials 100", "--trials auto --set stopping.rel_half_width=0.2 --set stopping.min_trials=16"}) {
    const std::string args = " run " + dir.file("c.yaml") + " " + trials + " --out ";
    std::string first_report, first_log;
    auto check = [&](const std::string& out, const std::string& what) {
      nlohmann::json r = nlohmann::json::parse(read_file(out + "/report.json"));
      r.erase("timing");
      const std::string log = read_file(out + "/faults.jsonl");
      if (first_report.empty()) {
        first_report = r.dump();
        first_log = log;
        EXPECT_GT(r["points"][0]["chip"]["simulation"]["full_inferences"].get<int>(), 0) << "no dead router drawn";
        EXPECT_FALSE(r["points"][0]["chip"]["link_utilisation"].empty());
        return;
      }
      EXPECT_EQ(r.dump(), first_report) << what << ", " << trials;
      EXPECT_EQ(log, first_log) << what << ", " << trials;
    };
    for (int workers : {1, 2, 3}) {
      const std::string out = dir.file("w" + std::to_string(workers));
      const CliRun r = nfsim(args.substr(1) + out + " --threads " + std::to_string(workers), dir);
      ASSERT_EQ(r.code, 0) << r.err;
      check(out, std::to_string(workers) + " workers");
      EXPECT_EQ(nlohmann::json::parse(read_file(out + "/report.json"))["timing"]["points"][0]["threads"], workers);
    }
    if (!mpi) continue;
    for (int np : {1, 2, 3}) {
      const std::string out = dir.file("mpi" + std::to_string(np));
      const std::string cmd = kMpiEnv + "mpirun -np " + std::to_string(np) + " " + NFSIM_EXE + args + out + " > " + dir.file("mpi.log") + " 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.file("mpi.log"));
      check(out, std::to_string(np) + " ranks");
      // Under mpirun the ranks are the workers: no process is forked, even with one rank.
      EXPECT_EQ(nlohmann::json::parse(read_file(out + "/report.json"))["timing"]["points"][0]["threads"], 1) << np << " ranks";
    }
  }
}

// Threads split the blocks of the functional engine: the report is the same bits for any count,
// with a fixed trial count and with the stopping rule.
TEST(CliCampaign, ThreadCountGivesBitIdenticalReports) {
  TempDir dir;
  for (const std::string trials : {"--trials 3000", "--trials auto --set stopping.rel_half_width=0.1 --set stopping.min_trials=64"}) {
    const std::string args = "run " + kPaperCampaign + " --set inputs.count=3 --set block_trials=16 " + trials + " --out ";
    nlohmann::json first;
    for (int threads : {1, 2, 3}) {
      const std::string out = dir.file("t" + std::to_string(threads));
      const CliRun r = nfsim(args + out + " --threads " + std::to_string(threads), dir);
      ASSERT_EQ(r.code, 0) << r.err;
      nlohmann::json rep = nlohmann::json::parse(read_file(out + "/report.json"));
      EXPECT_EQ(rep["timing"]["points"][0]["threads"], threads);
      rep.erase("timing");
      if (threads == 1) {
        first = rep;
      } else {
        EXPECT_EQ(rep.dump(), first.dump()) << threads << " threads, " << trials;
      }
    }
  }
  const CliRun bad = nfsim("run " + kPaperCampaign + " --threads 0 --out " + dir.file("bad"), dir);
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--threads"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad")));
}

// Resumes DIR/cut and expects DIR/full's report (timing aside) and fault log.
void expect_resume_gives_the_full_run(TempDir& dir) {
  const CliRun r = nfsim("run --resume " + dir.file("cut"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json a = nlohmann::json::parse(read_file(dir.file("full/report.json")));
  nlohmann::json b = nlohmann::json::parse(read_file(dir.file("cut/report.json")));
  a.erase("timing");
  b.erase("timing");
  EXPECT_EQ(a.dump(), b.dump());
  EXPECT_EQ(read_file(dir.file("full/faults.jsonl")), read_file(dir.file("cut/faults.jsonl")));
}

// SIGINT finishes the block, writes a resumable report (exit 4); --resume ends with the numbers
// of an uninterrupted run, and with its fault log: the lines of the point finished before the
// interruption are kept (a sweep whose first point is short, so the signal lands in the second).
TEST(CliCampaign, InterruptThenResumeEqualsAnUninterruptedRun) {
  TempDir dir;
  // One thread: the first point takes milliseconds, the second seconds (about 4 s on a 2026
  // 2-core machine in a Release build, 5M trials/s), so the signal at 1 s lands inside it.
  const std::string args = "run " + kPaperCampaign + " --threads 1 --set inputs.count=2 --set 'sweep={key: trials, values: [640, 20000000]}' --out ";
  ASSERT_EQ(nfsim(args + dir.file("full"), dir).code, 0);
  write_file(dir.file("cut.sh"), std::string(NFSIM_EXE) + " " + args + dir.file("cut") + " > " + dir.file("cut.log") +
                                     " 2>&1 & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo $? > " + dir.file("rc") + "\n");
  ASSERT_EQ(std::system(("bash " + dir.file("cut.sh")).c_str()), 0);
  ASSERT_EQ(read_file(dir.file("rc")), "4\n") << read_file(dir.file("cut.log"));
  nlohmann::json cut = nlohmann::json::parse(read_file(dir.file("cut/report.json")));
  EXPECT_FALSE(cut["complete"].get<bool>());
  ASSERT_EQ(cut["points"].size(), 2u) << "the interrupt should land in the second point";
  EXPECT_EQ(cut["points"][1]["stopping"]["reached"], "interrupted");
  EXPECT_LT(cut["points"][1]["trials"].get<std::uint64_t>(), 20000000u);
  EXPECT_TRUE(file_exists(dir.file("cut/checkpoint.json")));
  expect_resume_gives_the_full_run(dir);
  EXPECT_FALSE(file_exists(dir.file("cut/checkpoint.json")));
  EXPECT_EQ(nfsim("run --resume " + dir.file("full"), dir).code, 2);
}

// The same on the chip engine with two worker processes, stopped by SIGTERM to its whole process
// group (as timeout, a batch scheduler or kill -- -PGID do; the workers ignore it and the main
// process finishes the round): the chip's metrics and its fault log travel in the checkpoint's
// statistics (block tallies), so the resumed report and faults.jsonl are those of an
// uninterrupted run with one worker.
TEST(CliChip, InterruptThenResumeEqualsAnUninterruptedRun) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kContendedChipCampaign + "fault_log: {max_lines: 5000}\nsweep: {key: trials, values: [640, 150000]}\n");
  // The second point takes about 4 s with two workers (40,000 trials/s in 2026, Release), so the
  // signal at 1 s lands inside it.
  const std::string args = "run " + dir.file("c.yaml") + " --threads 2 --out ";
  ASSERT_EQ(nfsim("run " + dir.file("c.yaml") + " --threads 1 --out " + dir.file("full"), dir).code, 0);
  write_file(dir.file("cut.sh"), "setsid " + std::string(NFSIM_EXE) + " " + args + dir.file("cut") + " > " + dir.file("cut.log") +
                                     " 2>&1 & pid=$!; sleep 1; kill -TERM -- -$pid; wait $pid; echo $? > " + dir.file("rc") + "\n");
  ASSERT_EQ(std::system(("bash " + dir.file("cut.sh")).c_str()), 0);
  ASSERT_EQ(read_file(dir.file("rc")), "4\n") << read_file(dir.file("cut.log"));
  nlohmann::json cut = nlohmann::json::parse(read_file(dir.file("cut/report.json")));
  ASSERT_EQ(cut["points"].size(), 2u) << "the interrupt should land in the second point";
  EXPECT_EQ(cut["points"][1]["stopping"]["reached"], "interrupted");
  expect_resume_gives_the_full_run(dir);
}

// A checkpoint resumes only the run it came from: edited files, or a campaign whose inputs
// changed since, are refused (exit 2) instead of merging statistics of two experiments.
TEST(CliCampaign, ResumeRefusesACheckpointThatDoesNotMatch) {
  TempDir dir;
  write_file(dir.file("c.yaml"), read_file(kPaperCampaign));
  const std::string cmd = std::string(NFSIM_EXE) + " run " + dir.file("c.yaml") + " --set inputs.count=2 --trials 10000000 --out " +
                          dir.file("cut") + " > /dev/null 2>&1 & pid=$!; sleep 0.5; kill -INT $pid; wait $pid; echo $? > " + dir.file("rc");
  ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
  ASSERT_EQ(read_file(dir.file("rc")), "4\n");
  const nlohmann::json meta = nlohmann::json::parse(read_file(dir.file("cut/checkpoint.json")));
  auto resume_edited = [&](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    const std::string d = dir.file(name);
    std::filesystem::copy(dir.file("cut"), d, std::filesystem::copy_options::recursive);
    nlohmann::json m = meta;
    edit(m);
    write_file(d + "/checkpoint.json", m.dump());
    return nfsim("run --resume " + d, dir);
  };
  CliRun r = resume_edited("more_blocks", [](nlohmann::json& m) { m["blocks_done"] = m["blocks_done"].get<std::uint64_t>() + 1; });
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("does not match checkpoint.stats"), std::string::npos) << r.err;
  r = resume_edited("negative_blocks", [](nlohmann::json& m) { m["blocks_done"] = -5; });
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("'blocks_done' is -5; expected a non-negative integer"), std::string::npos) << r.err;
  r = resume_edited("bad_points", [](nlohmann::json& m) { m["completed_points"] = {0, 1}; });
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("'completed_points'"), std::string::npos) << r.err;
  // The campaign file changes under the checkpoint: other inputs, same shapes.
  std::string text = read_file(dir.file("c.yaml"));
  const auto at = text.find("seed: 7");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 7, "seed: 8");
  write_file(dir.file("c.yaml"), text);
  r = nfsim("run --resume " + dir.file("cut"), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("does not match the campaign's"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// A run killed with SIGKILL at any moment leaves only complete files.
TEST(CliCampaign, KilledRunLeavesNoPartialFile) {
  TempDir dir;
  for (const char* delay : {"0.05", "0.2", "0.4"}) {
    const std::string out = dir.file(std::string("k") + delay);
    const std::string cmd = std::string(NFSIM_EXE) + " run " + kPaperCampaign + " --set inputs.count=20 --trials 400000 --out " + out +
                            " > /dev/null 2>&1 & pid=$!; sleep " + delay + "; kill -KILL $pid; wait $pid; true";
    ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
    if (!std::filesystem::exists(out)) continue;
    for (const auto& e : std::filesystem::directory_iterator(out)) {
      const std::string name = e.path().filename().string();
      EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
      if (name == "report.json") EXPECT_NO_THROW(nlohmann::json::parse(read_file(e.path().string())));
    }
  }
}

// Streaming statistics: 10^7 trials use the same memory as 10^5.
TEST(CliCampaign, MemoryStaysFlatInTheNumberOfTrials) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's quarantine holds freed memory: RSS says nothing here";
#endif
  TempDir dir;
  long rss[2];
  int i = 0;
  for (const char* trials : {"100000", "10000000"}) {
    const CliRun r = nfsim("run " + kPaperCampaign + " --set inputs.count=2 --trials " + std::string(trials) + " --out " + dir.file(trials), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    rss[i++] = nlohmann::json::parse(read_file(dir.file(std::string(trials) + "/report.json")))["timing"]["peak_rss_kb"].get<long>();
  }
  EXPECT_LE(rss[1], rss[0] * 11 / 10) << rss[0] << " kB vs " << rss[1] << " kB";
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

TEST(CliTolerate, FindsTheProbabilityAndChecksItByMonteCarlo) {
  TempDir dir;
  CliRun r = nfsim("tolerate " + kPaperCampaign + " --epsilon 0.05 --max-trials 40000 --rate-precision 0.2 --set inputs.count=5 --out " +
                       dir.file("t.json"),
                   dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json t = nlohmann::json::parse(read_file(dir.file("t.json")));
  ASSERT_EQ(t["status"], "ok") << t.dump(1);
  const double certified = t["certified"]["rate"].get<double>(), est = t["estimated"]["rate"].get<double>();
  EXPECT_GT(certified, 0.0);
  EXPECT_NEAR(t["certified"]["predicted_metric"].get<double>(), 0.05, 1e-6);  // the bound's search ends on the budget
  // Monte Carlo at the certified rate stays under epsilon (the bound is conservative here).
  EXPECT_LE(t["certified"]["measured"]["upper"].get<double>(), 0.05);
  EXPECT_LE(certified, est);
  EXPECT_LT(est, 1.0 / 0.01 + 1e-9);  // the search limit: p = 1
  // A tighter budget tolerates a lower rate, by both answers.
  r = nfsim("tolerate " + kPaperCampaign + " --epsilon 0.01 --max-trials 40000 --rate-precision 0.2 --set inputs.count=5 --out " +
                dir.file("u.json"),
            dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json u = nlohmann::json::parse(read_file(dir.file("u.json")));
  EXPECT_LT(u["certified"]["rate"].get<double>(), certified);
  EXPECT_LT(u["estimated"]["rate"].get<double>(), est);
  // Bad requests.
  r = nfsim("tolerate " + kPaperCampaign + " --epsilon 0.05 --metric accuracy_drop", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("labels"), std::string::npos) << r.err;
  r = nfsim("tolerate " + kPaperCampaign + " --epsilon -1", dir);
  EXPECT_EQ(r.code, 2);
  r = nfsim("tolerate " + kPaperCampaign + " --epsilon 0.1 --spec 4", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--spec 4"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

// report.html holds the plots (inline SVG) and headless Chromium renders it (scripts/render_report.sh).
TEST(CliReport, HtmlReportRendersItsPlotsInChromium) {
  TempDir dir;
  write_file(dir.file("s.yaml"), read_file(kPaperCampaign) + "sweep:\n  key: faults[0].probability\n  values: [0.003, 0.03]\n");
  const CliRun r = nfsim("run " + dir.file("s.yaml") + " --trials 2000 --set inputs.count=4 --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = read_file(dir.file("o/report.html"));
  EXPECT_EQ(svg_blocks(html).size(), 4u);  // error vs p, |Delta| vs p with bounds, variance by term, histogram
  for (const char* title : {"Error std vs fault probability", "b4 predicted", "Predicted variance by fault term", "Delta histogram"}) {
    EXPECT_NE(html.find(title), std::string::npos) << title;
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, static
  if (!have_chromium()) GTEST_SKIP() << "chromium not installed";
  expect_renders_in_chromium(dir.file("o/report.html"), dir.file("shot.png"));
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

std::vector<std::vector<double>> read_rows(const std::string& csv) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<double> row;
    for (const auto& cell : core::split(line, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

// End to end: `--engine chip` and `--engine functional` draw the same faults and give the same
// per-trial outputs (1e-5 relative), for every fault kind, logical and physical, transient and
// permanent, on a chip whose layers are split over tiles on a multi-hop mesh.
TEST(CliChip, EnginesAgreeTrialByTrialForEveryKind) {
  TempDir dir;
  const std::string base =
      "model: {generate: {widths: [20, 17, 12, 5], activation: tanh, sigma: 2, mu: 0.05, seed: 21}}\n"
      "inputs: {type: random, count: 3, seed: 5}\n"
      "chip:\n  cores: {count: 20, layout: {type: mesh, width: 5, height: 4}}\n  crossbar: {rows: 8, cols: 8}\n"
      "  neuron_array: {size: 8}\n  interconnect: {type: mesh}\n"
      "trials: 8\nseed: 99\nbounds: [b4]\n";
  const std::vector<std::string> kinds{
      "{kind: neuron_crash, layers: [0, 1, 2, 3], probability: 0.1}",
      "{kind: synapse_crash, layers: [1, 2, 3], probability: 0.05}",
      "{kind: neuron_stuck_at, layers: [1, 3], probability: 0.1, value: 0.7}",
      "{kind: synapse_stuck_at, layers: [2], probability: 0.05, value: -0.9}",
      "{kind: weight_bit_flip, layers: [1, 3], probability: 0.05, bit: 6, format: 8.6}",
      "{kind: group_crash, probability: 0.3, groups: [{name: a, neurons: [[1, 3], [2, 0]], synapses: [[3, 1, 2]]}]}",
      "{kind: crossbar_row, probability: 0.05}",
      "{kind: crossbar_column, probability: 0.05}",
      "{kind: crossbar_tile, probability: 0.15}",
      "{kind: neuron_array, probability: 0.15}",
      "{kind: router, probability: 0.15}"};
  int k = 0;
  for (const auto& kind : kinds) {
    for (const char* persistence : {"transient", "permanent"}) {
      std::string spec = kind;
      spec.insert(spec.size() - 1, ", persistence: " + std::string(persistence));
      const std::string name = "c" + std::to_string(k++);
      write_file(dir.file(name + ".yaml"), base + "faults: [" + spec + "]\n");
      std::vector<std::vector<double>> rows[2];
      int e = 0;
      for (const char* engine : {"chip", "functional"}) {
        const std::string out = dir.file(name + engine);
        const CliRun r = nfsim("run " + dir.file(name + ".yaml") + " --engine " + engine + " --trial-outputs 8 --out " + out, dir);
        ASSERT_EQ(r.code, 0) << spec << "\n" << r.err;
        rows[e++] = read_rows(read_file(out + "/trial_outputs_0.csv"));
      }
      ASSERT_EQ(rows[0].size(), 24u);
      ASSERT_EQ(rows[0].size(), rows[1].size());
      bool varies = false;
      for (std::size_t i = 0; i < rows[0].size(); ++i) {
        for (std::size_t c = 2; c < rows[0][i].size(); ++c) {
          EXPECT_NEAR(rows[0][i][c], rows[1][i][c], 1e-5 * std::abs(rows[1][i][c]) + 1e-9) << spec << " row " << i;
          if (i >= 3 && rows[1][i][c] != rows[1][i % 3][c]) varies = true;
        }
      }
      EXPECT_TRUE(varies) << spec << ": every trial gave the same outputs, the comparison would be vacuous";
    }
  }
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

// Progress goes to stderr only when it is a terminal: under `script` (a pseudo-terminal) it shows
// trials/s and the ETA; redirected to a file, nothing.
TEST(CliCampaign, ProgressOnlyOnATerminal) {
  if (std::system("command -v script > /dev/null 2>&1") != 0) GTEST_SKIP() << "script (bsdutils) not installed";
  TempDir dir;
  const std::string run = std::string(NFSIM_EXE) + " run " + kPaperCampaign + " --set inputs.count=2 --trials 200000 --out ";
  const std::string cmd = "script -qec \"" + run + dir.file("tty") + "\" /dev/null > " + dir.file("tty.log") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.file("tty.log"));
  EXPECT_NE(read_file(dir.file("tty.log")).find("trials/s"), std::string::npos) << read_file(dir.file("tty.log"));
  const CliRun r = nfsim("run " + kPaperCampaign + " --set inputs.count=2 --trials 200000 --out " + dir.file("file"), dir);
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.err.find("trials/s"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

// The bundled models reproduce the test accuracy the training script stated (accuracy.json),
// under nfsim eval on all 10000 Fashion-MNIST test images.
TEST(CliExamples, BundledModelsReproduceTheirStatedAccuracy) {
  TempDir dir;
  const std::string models = std::string(NFSIM_SOURCE_DIR) + "/examples/models/";
  const nlohmann::json stated = nlohmann::json::parse(read_file(models + "accuracy.json"));
  for (const char* name : {"fmnist_mlp", "fmnist_mlp_reg", "fmnist_tanh_mlp", "fmnist_cnn", "fmnist_cnn_reg"}) {
    const CliRun r = nfsim("eval " + models + name + ".onnx --inputs " + kImages + " --labels " + kLabels +
                               " --scale 0.00392156862745098 --out " + dir.file("o.csv"),
                           dir);
    ASSERT_EQ(r.code, 0) << r.err;
    const double acc = std::stod(r.err.substr(r.err.find("accuracy: ") + 10));
    const double expected = stated[name]["test_accuracy"].get<double>();
    EXPECT_NEAR(acc, expected, 0.0006) << name;  // PyTorch float32 vs nfsim float64: a few argmax ties may differ
    EXPECT_GE(acc, std::string(name).find("cnn") != std::string::npos ? 0.90 : 0.85) << name;
  }
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

// The bundled campaigns run (shortened here; `make run` runs the default one in full).
TEST(CliExamples, DefaultAndComparisonCampaignsRun) {
  TempDir dir;
  const std::string campaigns = std::string(NFSIM_SOURCE_DIR) + "/examples/campaigns/";
  CliRun r = nfsim("run " + campaigns + "default.yaml --set inputs.count=30 --set stopping.min_trials=64 --set stopping.max_trials=64 --out " + dir.file("d"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("b4 medrel"), std::string::npos);
  const nlohmann::json d = nlohmann::json::parse(read_file(dir.file("d/report.json")));
  EXPECT_EQ(d["points"].size(), 3u);
  EXPECT_EQ(d["campaign"]["engine"], "chip");
  EXPECT_TRUE(file_exists(dir.file("d/report.html")));
  r = nfsim("run " + campaigns + "compare_regularizer.yaml --set inputs.count=100 --trials 400 --out " + dir.file("c"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json c = nlohmann::json::parse(read_file(dir.file("c/report.json")));
  auto mean_std = [](const nlohmann::json& point, const char* field) {
    double s = 0;
    int n = 0;
    for (const auto& in : point["inputs"]) {
      const auto& v = std::string(field) == "measured" ? in["measured"]["std"] : in["bounds"]["b4"]["std"];
      for (const auto& x : v) {
        s += x.get<double>();
        ++n;
      }
    }
    return s / n;
  };
  // The regularised model's error spread is lower, measured and predicted (README's claim).
  EXPECT_LT(mean_std(c["points"][1], "measured"), 0.5 * mean_std(c["points"][0], "measured"));
  EXPECT_LT(mean_std(c["points"][1], "b4"), 0.5 * mean_std(c["points"][0], "b4"));
}

// The CNN chip campaign (make examples) runs on the chip engine, shortened: two points, the
// programming line, accuracy and b4 per point.
TEST(CliExamples, CnnChipCampaignRuns) {
  TempDir dir;
  const std::string campaigns = std::string(NFSIM_SOURCE_DIR) + "/examples/campaigns/";
  const CliRun r = nfsim("run " + campaigns + "fmnist_cnn_chip.yaml --set inputs.count=2 --trials 20 --out " + dir.file("c"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("point 0 programming: 20432 weights, 0 clipped"), std::string::npos) << r.out;
  const nlohmann::json c = nlohmann::json::parse(read_file(dir.file("c/report.json")));
  EXPECT_EQ(c["campaign"]["engine"], "chip");
  ASSERT_EQ(c["points"].size(), 2u);
  for (const auto& point : c["points"]) {
    EXPECT_TRUE(point["inputs"][0]["bounds"].contains("b4"));
    EXPECT_GT(point["inputs"][0]["measured"]["std"][0].get<double>(), 0.0);
  }
}

// The lifetime example (issue 16): ten checkpoints over ten years, failures accumulating per
// trial; the measured error std follows b4 at p(t) over the checkpoints (Pearson >= 0.99), and
// the report, the summary and report.html say so.
TEST(CliExamples, MissionCurveFollowsB4OverTheCheckpoints) {
  TempDir dir;
  const std::string campaigns = std::string(NFSIM_SOURCE_DIR) + "/examples/campaigns/";
  const CliRun r = nfsim("run " + campaigns + "fmnist_mission.yaml --trials 1000 --out " + dir.file("m"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("mission: 10 checkpoints over 87600 h"), std::string::npos) << r.out;
  const nlohmann::json m = nlohmann::json::parse(read_file(dir.file("m/report.json")));
  ASSERT_EQ(m["points"].size(), 10u);
  const auto& curve = m["mission"]["curves"][0];
  ASSERT_EQ(curve["hours"].size(), 10u);
  EXPECT_EQ(curve["hours"][0].get<double>(), 8760.0);
  EXPECT_EQ(curve["hours"][9].get<double>(), 87600.0);
  EXPECT_GE(curve["std_pearson"]["b4"].get<double>(), 0.99) << curve;
  ASSERT_EQ(curve["accuracy"].size(), 10u);  // the example has labels
  EXPECT_GT(curve["accuracy"][0].get<double>(), curve["accuracy"][9].get<double>());
  EXPECT_FALSE(curve.contains("deadline_miss_rate"));  // no deadline
  // Failures accumulate: the error grows checkpoint after checkpoint.
  for (std::size_t k = 1; k < 10; ++k) EXPECT_GT(curve["measured_std"][k].get<double>(), curve["measured_std"][k - 1].get<double>());
  // The last checkpoint is the end of the mission: p = 1 - exp(-2000e-9 * 87600).
  EXPECT_NEAR(m["points"][9]["faults"][0]["probability"].get<double>(), -std::expm1(-2000e-9 * 87600), 1e-15);
  EXPECT_NE(read_file(dir.file("m/report.html")).find("Mission: 10 checkpoints"), std::string::npos);
  EXPECT_NE(read_file(dir.file("m/report.html")).find("mission time (hours, mission.at_hours)"), std::string::npos);
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

// The control variate (estimator: control_variate) on the chip engine: the same report bit for bit
// for 1, 2 and 3 worker processes and under mpirun (its statistics travel with the blocks), the
// same numbers as the functional engine on the same chip (ideal crossbars: the same trials), and
// the report says which estimator ran and what it saved.
TEST(CliChip, ControlVariateIsTheSameForAnyWorkerCountAndOnBothEngines) {
  TempDir dir;
  write_file(dir.file("c.yaml"), "model: " + kModel + "\nchip: " + kMesh +
                                     "\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\nfaults:\n"
                                     "  - {kind: neuron_crash, layers: [1, 2], probability: 0.01}\n"
                                     "  - {kind: synapse_crash, layers: [2], probability: 0.002}\n"
                                     "  - {kind: crossbar_column, probability: 0.005, persistence: permanent}\n"
                                     "  - {kind: neuron_array, probability: 0.01, persistence: permanent}\n"
                                     "estimator: control_variate\nengine: chip\ntrials: 600\nblock_trials: 50\nseed: 4\nbounds: [b4]\n");
  const std::string args = "run " + dir.file("c.yaml") + " --out ";
  std::string first;
  auto same = [&](const std::string& out, const std::string& what) {
    nlohmann::json r = nlohmann::json::parse(read_file(out + "/report.json"));
    r.erase("timing");
    if (first.empty()) {
      first = r.dump();
      const auto& e = r["points"][0]["estimator"];
      EXPECT_EQ(e["name"], "control_variate");
      EXPECT_GT(e["trials_saved"].get<double>(), 0.0) << e.dump();
      EXPECT_GT(e["multi_fault_share"].get<double>(), 0.0) << e.dump();
      EXPECT_LT(e["rel_half_width_std"].get<double>(), e["plain_rel_half_width_std"].get<double>()) << e.dump();
      return;
    }
    EXPECT_EQ(r.dump(), first) << what;
  };
  for (int workers : {1, 2, 3}) {
    const std::string out = dir.file("w" + std::to_string(workers));
    const CliRun r = nfsim(args + out + " --threads " + std::to_string(workers), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("estimator control_variate: std interval"), std::string::npos) << r.out;
    EXPECT_NE(read_file(out + "/report.html").find("control variate: std +-"), std::string::npos);
    same(out, std::to_string(workers) + " workers");
  }
  if (std::system("command -v mpirun > /dev/null 2>&1") == 0) {
    const std::string out = dir.file("mpi2");
    const std::string cmd = kMpiEnv + "mpirun -np 2 " + NFSIM_EXE + " " + args + out + " > " + dir.file("mpi.log") + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.file("mpi.log"));
    same(out, "2 ranks");
  }
  const CliRun r = nfsim(args + dir.file("fun") + " --engine functional", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json a = nlohmann::json::parse(first);
  const nlohmann::json b = nlohmann::json::parse(read_file(dir.file("fun/report.json")));
  EXPECT_EQ(b["points"][0]["estimator"]["name"], "control_variate");
  expect_same_measurements(a, b, {"mean", "std"});
  for (int n = 0; n < 3; ++n) {
    for (int k = 0; k < 10; ++k) {
      EXPECT_NEAR(a["points"][0]["inputs"][n]["measured"]["ci95"]["std"]["hi"][k].get<double>(),
                  b["points"][0]["inputs"][n]["measured"]["ci95"]["std"]["hi"][k].get<double>(), 1e-9);
    }
  }
}

// On a chip whose crossbar reads add noise, the chip's outputs differ from the programmed
// network's that L's single-fault effects come from: R carries the difference in every trial, and
// the estimates stay unbiased (L's moments are exact whatever L is). The control variate's means
// and stds agree with plain Monte Carlo on the same trials within their intervals.
TEST(CliChip, ControlVariateStaysUnbiasedOnANoisyChip) {
  TempDir dir;
  write_file(dir.file("noisy.yaml"), "chip:\n  cores: {count: 16}\n  crossbar: {type: noisy, read_noise_std: 0.02}\n");
  write_file(dir.file("c.yaml"), "model: " + kModel + "\nchip: " + dir.file("noisy.yaml") +
                                     "\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\nfaults:\n"
                                     "  - {kind: neuron_crash, layers: [1, 2], probability: 0.01}\n"
                                     "  - {kind: synapse_crash, layers: [2], probability: 0.005}\n"
                                     "engine: chip\ntrials: 3000\nseed: 6\nbounds: []\n");
  CliRun r = nfsim("run " + dir.file("c.yaml") + " --set estimator=control_variate --out " + dir.file("cv"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("plain"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json a = nlohmann::json::parse(read_file(dir.file("cv/report.json")));
  const nlohmann::json b = nlohmann::json::parse(read_file(dir.file("plain/report.json")));
  EXPECT_EQ(a["points"][0]["estimator"]["name"], "control_variate");
  int checks = 0, outside = 0;
  for (int n = 0; n < 3; ++n) {
    const auto& ma = a["points"][0]["inputs"][n]["measured"];
    const auto& mb = b["points"][0]["inputs"][n]["measured"];
    for (int k = 0; k < 10; ++k) {
      for (const char* what : {"mean", "std"}) {
        const double hw_a = (ma["ci95"][what]["hi"][k].get<double>() - ma["ci95"][what]["lo"][k].get<double>()) / 2;
        const double hw_b = (mb["ci95"][what]["hi"][k].get<double>() - mb["ci95"][what]["lo"][k].get<double>()) / 2;
        const double gap = std::abs(ma[what][k].get<double>() - mb[what][k].get<double>());
        ++checks;
        outside += gap > std::hypot(hw_a, hw_b);
        EXPECT_LE(gap, 2.5 * std::hypot(hw_a, hw_b) + 1e-12) << what << " input " << n << " output " << k;
      }
    }
  }
  EXPECT_LE(outside, checks / 10) << outside << " of " << checks;
}

// Interrupted and resumed, a control-variate run ends with the numbers of an uninterrupted one
// (its statistics are in the checkpoint), and the stopping rule runs on its intervals.
TEST(CliCampaign, ControlVariateResumesAndStopsOnItsOwnIntervals) {
  TempDir dir;
  // The second point takes about 4 s with one thread (2 M trials/s in 2026, Release, with the
  // control variate), so the signal at 1 s lands inside it.
  const std::string args = "run " + kPaperCampaign + " --threads 1 --set inputs.count=2 --set estimator=control_variate "
                           "--set 'sweep={key: trials, values: [640, 8000000]}' --out ";
  ASSERT_EQ(nfsim(args + dir.file("full"), dir).code, 0);
  write_file(dir.file("cut.sh"), std::string(NFSIM_EXE) + " " + args + dir.file("cut") + " > " + dir.file("cut.log") +
                                     " 2>&1 & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo $? > " + dir.file("rc") + "\n");
  ASSERT_EQ(std::system(("bash " + dir.file("cut.sh")).c_str()), 0);
  ASSERT_EQ(read_file(dir.file("rc")), "4\n") << read_file(dir.file("cut.log"));
  const nlohmann::json cut = nlohmann::json::parse(read_file(dir.file("cut/report.json")));
  ASSERT_EQ(cut["points"].size(), 2u) << "the interrupt should land in the second point";
  EXPECT_EQ(cut["points"][1]["stopping"]["reached"], "interrupted");
  expect_resume_gives_the_full_run(dir);
  // The stopping rule: the control variate reaches a 1% target long before the plain estimator
  // would (here it needs the minimum of trials), and stops there.
  const std::string stop = " --threads 1 --set inputs.count=2 --trials auto --set stopping.rel_half_width=0.01 "
                           "--set stopping.min_trials=1000 --set stopping.max_trials=200000 --out ";
  CliRun r = nfsim("run " + kPaperCampaign + " --set estimator=control_variate" + stop + dir.file("cv"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = nfsim("run " + kPaperCampaign + stop + dir.file("plain"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json cv = nlohmann::json::parse(read_file(dir.file("cv/report.json")));
  const nlohmann::json plain = nlohmann::json::parse(read_file(dir.file("plain/report.json")));
  EXPECT_EQ(cv["points"][0]["stopping"]["reached"], "target");
  EXPECT_LE(cv["points"][0]["estimator"]["rel_half_width_std"].get<double>(), 0.01);
  EXPECT_EQ(plain["points"][0]["estimator"]["name"], "plain");
  EXPECT_LT(cv["points"][0]["trials"].get<std::uint64_t>() * 10, plain["points"][0]["trials"].get<std::uint64_t>());
}

}  // namespace
}  // namespace nfsim::test
