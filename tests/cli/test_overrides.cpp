// --set on every key, the sweep's included (issue 14 item 6), and frictions a user met (item 7):
// the interrupt hint names the real directory, --resume keeps the report's paths as written, and
// no message shows the VCD trace's temporary name. Refusals are in test_bad_input.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kTiny =
    "model: {generate: {widths: [3, 4, 3, 2], activation: tanh, sigma: 1.5, mu: 0.1, seed: 7}}\n"
    "inputs: {type: random, count: 3, scale: 1.0, shift: 0.0, seed: 5}\n"
    "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\n"
    "seed: 9\ntrials: 50\nbounds: [b4]\n";

std::vector<std::string> swept_values(const TempDir& dir, const std::string& out) {
  const nlohmann::json rep = nlohmann::json::parse(read_file(dir.file(out + "/report.json")));
  std::vector<std::string> values;
  for (const auto& p : rep["points"]) values.push_back(p["sweep"]["faults[0].probability"].get<std::string>());
  return values;
}

// --set sweep.values replaces the file's values; on a file without a sweep, sweep.key and
// sweep.values make one (both used to run the file's points, exit 0).
TEST(Overrides, SetReachesTheSweep) {
  TempDir dir;
  write_file(dir.file("s.yaml"), kTiny + "sweep: {key: 'faults[0].probability', values: [0.1, 0.2]}\n");
  CliRun r = nfsim("run " + dir.file("s.yaml") + " --set 'sweep.values=[0.03, 0.05, 0.07]' --out " + dir.file("a"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(swept_values(dir, "a"), (std::vector<std::string>{"0.03", "0.05", "0.07"}));
  write_file(dir.file("plain.yaml"), kTiny);
  r = nfsim("run " + dir.file("plain.yaml") + " --set 'sweep.key=faults[0].probability' --set 'sweep.values=[0.2, 0.4]' --out " +
                dir.file("b"),
            dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(swept_values(dir, "b"), (std::vector<std::string>{"0.2", "0.4"}));
  // Each point measures its own probability: the second loses more.
  const nlohmann::json rep = nlohmann::json::parse(read_file(dir.file("b/report.json")));
  EXPECT_EQ(rep["points"][1]["faults"][0]["probability"].get<double>(), 0.4);
  // A whole sweep set to null runs the file without it.
  r = nfsim("run " + dir.file("s.yaml") + " --set sweep=null --out " + dir.file("c"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_file(dir.file("c/report.json")))["points"].size(), 1u);
}

// The interrupt hint names the directory to resume, and --resume from where the run started
// keeps the paths the report names as the first run wrote them (they used to turn absolute).
TEST(Overrides, InterruptHintNamesTheDirectoryAndResumeKeepsRelativePaths) {
  TempDir dir;
  std::filesystem::copy_file(std::string(NFSIM_SOURCE_DIR) + "/examples/models/fmnist_mlp_small.onnx", dir.file("m.onnx"));
  write_file(dir.file("c.yaml"), "model: m.onnx\ninputs: {type: random, count: 2, scale: 0.3, shift: 0.3, seed: 2}\n"
                                 "faults: [{kind: neuron_crash, layers: [1], probability: 0.05}]\ntrials: 100000000\nbounds: [b4]\n");
  const std::string cmd = "cd " + dir.path() + " && { " + std::string(NFSIM_EXE) +
                          " run c.yaml --out cut > cut.log 2>&1 & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo $? > rc; }";
  ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
  const std::string log = read_file(dir.file("cut.log"));
  ASSERT_EQ(read_file(dir.file("rc")), "4\n") << log;
  EXPECT_NE(log.find("resume with nfsim run --resume cut\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("<out dir>"), std::string::npos) << log;
  const nlohmann::json cut = nlohmann::json::parse(read_file(dir.file("cut/report.json")));
  EXPECT_EQ(cut["campaign"]["model"], "m.onnx");
  // Resumed to the end (fewer trials would need a new run: interrupt it again instead).
  const std::string again = "cd " + dir.path() + " && { " + std::string(NFSIM_EXE) +
                            " run --resume cut > again.log 2>&1 & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo $? > rc2; }";
  ASSERT_EQ(std::system(("bash -c '" + again + "'").c_str()), 0);
  ASSERT_EQ(read_file(dir.file("rc2")), "4\n") << read_file(dir.file("again.log"));
  const nlohmann::json resumed = nlohmann::json::parse(read_file(dir.file("cut/report.json")));
  EXPECT_EQ(resumed["campaign"]["model"], "m.onnx");
  EXPECT_EQ(resumed["campaign"]["file"], cut["campaign"]["file"]);
  EXPECT_GT(resumed["points"][0]["trials"].get<std::uint64_t>(), cut["points"][0]["trials"].get<std::uint64_t>());
}

// A VCD trace in the output directory is staged like the report, and no message names a
// temporary file (SystemC's info line used to show out/trace.vcd.tmp.vcd).
TEST(Overrides, TheVcdTraceIsStagedAndNoMessageNamesATemporaryFile) {
  TempDir dir;
  write_file(dir.file("c.yaml"),
             kTiny + "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
                     "  crossbar: {type: ideal, rows: 4, cols: 4, read_latency_ns: 100}\n"
                     "  neuron_array: {type: rate, size: 4}\n"
                     "  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\nengine: chip\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out") + " --vcd " + dir.file("out/trace.vcd"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string& text : {r.out, r.err}) {
    EXPECT_EQ(text.find(".tmp"), std::string::npos) << text;
    EXPECT_EQ(text.find("staging"), std::string::npos) << text;
  }
  EXPECT_NE(read_file(dir.file("out/trace.vcd")).find("$enddefinitions"), std::string::npos);
  for (const auto& e : std::filesystem::directory_iterator(dir.file("out"))) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name.find("tmp") == std::string::npos && name.find("staging") == std::string::npos) << name;
  }
}

}  // namespace
}  // namespace nfsim::test
