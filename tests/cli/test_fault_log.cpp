// faults.jsonl through the command line (issue 14 item 3): units named with their coordinates,
// the sweep point on every line, a permanent fault once per trial, the same log from both engines,
// the chip's time since the start of the inference, and the cap with the count left out.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kMesh = std::string(NFSIM_SOURCE_DIR) + "/examples/chips/mesh4x4.yaml";
const std::string kModel = std::string(NFSIM_SOURCE_DIR) + "/examples/models/fmnist_mlp_small.onnx";

std::vector<nlohmann::json> lines_of(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::string campaign(const std::string& extra) {
  return "model: " + kModel + "\nchip: " + kMesh +
         "\ninputs: {type: random, count: 4, scale: 0.3, shift: 0.3, seed: 2}\nfaults:\n"
         "  - {kind: neuron_crash, layers: [1, 2], probability: 0.02}\n"
         "  - {kind: synapse_crash, layers: [2], probability: 0.001}\n"
         "  - {kind: crossbar_column, probability: 0.01, persistence: permanent}\n"
         "  - {kind: router, probability: 0.1, persistence: permanent, onset_ns: 40}\n"
         "trials: 12\nseed: 5\nbounds: []\n" +
         extra;
}

TEST(FaultLog, NamesUnitsWithCoordinatesLogsPermanentFaultsOncePerTrialAndAgreesAcrossEngines) {
  TempDir dir;
  write_file(dir.file("c.yaml"),
             campaign("fault_log: {max_lines: 100000}\nsweep: {key: 'faults[0].probability', values: [0.01, 0.02]}\n"));
  CliRun r = nfsim("run " + dir.file("c.yaml") + " --engine chip --out " + dir.file("chip"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  // The functional engine cannot honour onsets: the same campaign without one.
  std::string text = read_file(dir.file("c.yaml"));
  text.replace(text.find(", onset_ns: 40"), 14, "");
  write_file(dir.file("f.yaml"), text);
  r = nfsim("run " + dir.file("f.yaml") + " --engine functional --out " + dir.file("fun"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto chip = lines_of(dir.file("chip/faults.jsonl")), fun = lines_of(dir.file("fun/faults.jsonl"));
  ASSERT_EQ(chip.size(), fun.size());
  std::set<std::tuple<int, int, int, int>> permanent;  // (point, trial, spec, unit)
  std::map<int, std::size_t> summaries;
  std::map<std::string, std::size_t> kinds;
  for (std::size_t i = 0; i < chip.size(); ++i) {
    nlohmann::json c = chip[i];
    const int point = c["point"];
    EXPECT_EQ(c["sweep"]["faults[0].probability"], point == 0 ? "0.01" : "0.02") << c;
    if (c.contains("summary")) {
      ++summaries[point];
      EXPECT_EQ(c["faults_left_out"], 0) << c;
      EXPECT_EQ(c["trials"], 12);
      EXPECT_EQ(c, fun[i]);
      continue;
    }
    ++kinds[c["kind"]];
    // The chip's time is since the start of the inference: 0, or the onset of a delayed fault.
    EXPECT_DOUBLE_EQ(c["time_ns"].get<double>(), c["kind"] == "router" ? 40.0 : 0.0) << c;
    c.erase("time_ns");
    EXPECT_EQ(c, fun[i]);
    const std::string name = c["name"];
    if (c["persistence"] == "permanent") {
      EXPECT_FALSE(c.contains("input")) << c;
      EXPECT_TRUE(permanent.insert({point, c["trial"].get<int>(), c["spec"].get<int>(), c["unit"].get<int>()}).second)
          << "logged twice: " << c;
    } else {
      EXPECT_TRUE(c.contains("input")) << c;
    }
    // Coordinates, and the name built from them.
    if (c["kind"] == "router") {
      const int router = c["router"], x = c["x"], y = c["y"];
      EXPECT_EQ(router, x + 4 * y);
      EXPECT_EQ(name,
                "router " + std::to_string(router) + " (x " + std::to_string(x) + ", y " + std::to_string(y) + ")");
    } else if (c["kind"] == "crossbar_column") {
      EXPECT_EQ(name, "layer " + std::to_string(c["layer"].get<int>()) + ", tile " +
                          std::to_string(c["tile"].get<int>()) + " (core " + std::to_string(c["core"].get<int>()) +
                          "), column " + std::to_string(c["column"].get<int>()));
    } else if (c["kind"] == "neuron_crash") {
      EXPECT_EQ(c["unit_kind"], "neuron");
      EXPECT_NE(name.find("(array " + std::to_string(c["array"].get<int>()) + ", core " +
                          std::to_string(c["core"].get<int>()) + ")"),
                std::string::npos)
          << name;
    } else {
      EXPECT_EQ(c["unit_kind"], "synapse");
      EXPECT_EQ(c["layer"], 2);
      EXPECT_NE(name.find("layer 2, synapse [row " + std::to_string(c["row"].get<int>()) + ", col " +
                          std::to_string(c["column"].get<int>()) + "] (tile " + std::to_string(c["tile"].get<int>())),
                std::string::npos)
          << name;
    }
    EXPECT_EQ(c["core"].get<int>(), c["x"].get<int>() + 4 * c["y"].get<int>()) << c;
  }
  EXPECT_EQ(summaries, (std::map<int, std::size_t>{{0, 1}, {1, 1}}));
  for (const char* k : {"neuron_crash", "synapse_crash", "crossbar_column", "router"}) EXPECT_GT(kinds[k], 0u) << k;
  // Once per trial: 12 trials x 16 routers x p = 0.1 gives about 19 router faults per point,
  // where one line per inference would give four times as many.
  std::size_t routers = 0;
  for (const auto& c : chip) routers += c.value("kind", "") == "router" && c["point"] == 0;
  EXPECT_LT(routers, 45u);
}

TEST(FaultLog, TheCapKeepsTheFirstLinesAndCountsTheRest) {
  TempDir dir;
  write_file(dir.file("all.yaml"), campaign("engine: functional\n"));
  write_file(dir.file("cap.yaml"), campaign("engine: functional\nfault_log: {max_lines: 7}\n"));
  for (const char* c : {"all.yaml", "cap.yaml"}) {
    std::string text = read_file(dir.file(c));
    text.replace(text.find(", onset_ns: 40"), 14, "");
    write_file(dir.file(c), text);
  }
  ASSERT_EQ(nfsim("run " + dir.file("all.yaml") + " --out " + dir.file("all"), dir).code, 0);
  const CliRun r = nfsim("run " + dir.file("cap.yaml") + " --out " + dir.file("cap"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto all = lines_of(dir.file("all/faults.jsonl")), cap = lines_of(dir.file("cap/faults.jsonl"));
  ASSERT_GT(all.size(), 20u);
  ASSERT_EQ(cap.size(), 8u);
  for (std::size_t i = 0; i < 7; ++i) EXPECT_EQ(cap[i], all[i]);
  const nlohmann::json& summary = cap.back();
  EXPECT_TRUE(summary["truncated"].get<bool>());
  EXPECT_EQ(summary["max_lines"], 7);
  EXPECT_EQ(summary["faults_logged"], 7);
  EXPECT_EQ(summary["faults_left_out"].get<std::size_t>(),
            all.size() - 1 - 7);  // `all` has every fault and its summary
  EXPECT_EQ(all.back()["faults_left_out"], 0);
  EXPECT_FALSE(all.back()["truncated"].get<bool>());
}

// The chip engine keeps one SystemC session per process across sweep points: a swept cap must
// reach each point (it kept the first point's cap).
TEST(FaultLog, ASweptCapAppliesToEachPointOnTheChipEngine) {
  TempDir dir;
  write_file(dir.file("c.yaml"), campaign("engine: chip\nsweep: {key: fault_log.max_lines, values: [3, 9]}\n"));
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<int, std::size_t> faults;
  std::map<int, nlohmann::json> summary;
  for (const auto& line : lines_of(dir.file("out/faults.jsonl"))) {
    if (line.value("summary", false)) {
      summary[line["point"].get<int>()] = line;
    } else {
      ++faults[line["point"].get<int>()];
    }
  }
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0]["max_lines"], 3);
  EXPECT_EQ(summary[1]["max_lines"], 9);
  EXPECT_EQ(faults[0], 3u);
  EXPECT_EQ(faults[1], 9u);
  EXPECT_GT(summary[1]["faults_left_out"].get<std::size_t>(), 0u);
}

}  // namespace
}  // namespace nfsim::test
