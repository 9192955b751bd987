// Programming the crossbars changes the network visibly (issue 13, item 3): `nfsim map` and the
// run's console state how many weights a crossbar model clipped or quantised and by how much,
// report.json keeps it in chip.programming, and a campaign can bound it with a requirement.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/strings.h"
#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

// Writes m.onnx (weights of sigma 3: many beyond 0.05), labels.csv (the model's own argmax on
// random:40, so the accuracy before programming is 1) and chip.yaml (3-bit cells on +-0.05).
void write_fixtures(const TempDir& d) {
  ASSERT_EQ(nfsim("gen-network --widths 4,8,3 --sigma 3 --seed 5 --out " + d.file("m.onnx"), d).code, 0);
  const CliRun eval = nfsim("eval " + d.file("m.onnx") + " --inputs random:40", d);
  ASSERT_EQ(eval.code, 0) << eval.err;
  std::istringstream rows(eval.out);
  std::string line, labels;
  std::getline(rows, line);  // header
  while (std::getline(rows, line)) {
    const auto cells = core::split(line, ',');
    std::size_t best = 1;
    for (std::size_t c = 2; c < cells.size(); ++c) {
      if (std::stod(cells[c]) > std::stod(cells[best])) best = c;
    }
    labels += std::to_string(best - 1) + "\n";
  }
  write_file(d.file("labels.csv"), labels);
  write_file(d.file("chip.yaml"),
             "chip:\n  cores: {count: 4}\n  crossbar: {type: quantized, rows: 8, cols: 8, weight_bits: 3, weight_range: 0.05}\n"
             "  neuron_array: {size: 8}\n");
  write_file(d.file("c.yaml"), "model: m.onnx\nchip: chip.yaml\ninputs: {type: random, count: 40, labels: labels.csv}\n"
                               "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.01}\ntrials: 20\nbounds: [b4]\n");
}

TEST(CliProgramming, MapAndRunStateWhatProgrammingChanged) {
  const TempDir d;
  write_fixtures(d);
  const CliRun map = nfsim("map " + d.file("m.onnx") + " --chip " + d.file("chip.yaml") + " --inputs random:40 --labels " +
                               d.file("labels.csv"),
                           d);
  ASSERT_EQ(map.code, 0) << map.err;
  const auto at = map.out.find("programming: 56 weights, ");  // 4*8 + 8*3 cells
  ASSERT_NE(at, std::string::npos) << map.out;
  const std::string line = map.out.substr(at, map.out.find('\n', at) - at);
  EXPECT_NE(line.find("clipped to +-0.05"), std::string::npos) << line;
  EXPECT_NE(line.find("output error max"), std::string::npos) << line;
  EXPECT_NE(line.find("fault-free accuracy 1 before"), std::string::npos) << line;
  // Without inputs, only what happened to the weights.
  const CliRun bare = nfsim("map " + d.file("m.onnx") + " --chip " + d.file("chip.yaml"), d);
  ASSERT_EQ(bare.code, 0) << bare.err;
  EXPECT_NE(bare.out.find("programming: 56 weights"), std::string::npos) << bare.out;
  EXPECT_EQ(bare.out.find("output error"), std::string::npos) << bare.out;

  // The run reports the same numbers, and its fault-free accuracy is that after programming.
  const CliRun run = nfsim("run " + d.file("c.yaml") + " --out " + d.file("r"), d);
  ASSERT_EQ(run.code, 0) << run.err << run.out;
  EXPECT_NE(run.out.find("point 0 " + line), std::string::npos) << run.out;
  const nlohmann::json rep = nlohmann::json::parse(read_file(d.file("r/report.json")));
  const nlohmann::json& chip = rep["points"][0]["chip"];
  const nlohmann::json& p = chip["programming"];
  EXPECT_EQ(p["weights"].get<int>(), 56);
  EXPECT_EQ(p["clip_limit"].get<double>(), 0.05);
  EXPECT_GT(p["clipped"].get<int>(), 0);
  EXPECT_LE(p["clipped"].get<int>() + p["quantised"].get<int>(), 56);
  EXPECT_GT(p["max_abs_weight_error"].get<double>(), 0.0);
  EXPECT_LE(p["mean_abs_weight_error"].get<double>(), p["max_abs_weight_error"].get<double>());
  EXPECT_EQ(p["max_abs_output_error"].get<double>(), chip["programming_max_abs_output_error"].get<double>());
  EXPECT_EQ(p["accuracy_before"].get<double>(), 1.0);
  EXPECT_EQ(p["accuracy_after"].get<double>(), rep["points"][0]["accuracy"]["fault_free"].get<double>());
  EXPECT_NE(read_file(d.file("r/report.html")).find(line), std::string::npos);  // and report.html says it too
}

TEST(CliProgramming, ACampaignCanRequireAMaximumProgrammingError) {
  const TempDir d;
  write_fixtures(d);
  const std::string run = "run " + d.file("c.yaml") + " --set ";
  CliRun r = nfsim(run + "'require={programming: {max_abs_output_error: 1e-9}}' --out " + d.file("a"), d);
  EXPECT_EQ(r.code, 3) << r.err << r.out;
  EXPECT_NE(r.out.find("programming max_abs_output_error"), std::string::npos) << r.out;
  nlohmann::json rep = nlohmann::json::parse(read_file(d.file("a/report.json")));
  const nlohmann::json& q = rep["points"][0]["requirements"][0];
  EXPECT_FALSE(q["met"].get<bool>());
  EXPECT_EQ(q["value"].get<double>(), rep["points"][0]["chip"]["programming"]["max_abs_output_error"].get<double>());

  r = nfsim(run + "'require={programming: {max_abs_output_error: 1e9, max_abs_weight_error: 1e9}}' --out " + d.file("b"), d);
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  rep = nlohmann::json::parse(read_file(d.file("b/report.json")));
  EXPECT_TRUE(rep["requirements_met"].get<bool>());
  EXPECT_EQ(rep["points"][0]["requirements"].size(), 2u);
}

}  // namespace
}  // namespace nfsim::test
