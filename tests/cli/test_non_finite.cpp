// No silent non-finite numbers (issue 13; docs/faults.md, "Non-finite numbers"): a fault value,
// weight or input scale that would put inf, NaN or a value beyond the statistics' safe magnitude
// (1e60) into a result stops the command with exit 2, naming the fault spec / input / layer and
// the value, and writes nothing; what is finite by construction (fixed-point bit flips) runs to a
// report whose every number is finite.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t lines_in(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// Every number under `j` (recursively) that the report keeps as measured values or bounds.
void expect_all_numbers(const nlohmann::json& j, const std::string& where) {
  if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) expect_all_numbers(j[i], where + "[" + std::to_string(i) + "]");
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) expect_all_numbers(it.value(), where + "." + it.key());
  } else {
    EXPECT_TRUE(j.is_number()) << where << " = " << j.dump();
    if (j.is_number()) EXPECT_TRUE(std::isfinite(j.get<double>())) << where;
  }
}

class NonFinite : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(nfsim("gen-network --widths 4,3,2 --out " + d.file("m.onnx"), d).code, 0);
    // Weights of about 1e15 / fan-in: a stuck-at value of 1e50 becomes outputs near 1e64.
    ASSERT_EQ(nfsim("gen-network --widths 4,3,2 --sigma 1e15 --out " + d.file("big.onnx"), d).code, 0);
  }
  TempDir d;
};

// Acceptance: a huge stuck-at value. 1e300 is refused where it is written; 1e50, finite and below
// the limit itself, is refused when the weights carry the outputs beyond 1e60, naming the spec.
TEST_F(NonFinite, HugeStuckAtValueIsRefusedNamingTheSpec) {
  write_file(d.file("huge.yaml"), "model: m.onnx\ninputs: {type: random, count: 2}\nfaults:\n"
                                  "  - {kind: neuron_stuck_at, layers: [1], probability: 0.1, value: 1e300}\ntrials: 100\n");
  CliRun r = nfsim("run " + d.file("huge.yaml") + " --out " + d.file("o1"), d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "faults[0].value") && has(r.err, "1e300") && has(r.err, "1e60")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("o1")));

  const std::string amplified = "model: big.onnx\ninputs: {type: random, count: 3}\nfaults:\n"
                                "  - {kind: synapse_crash, layers: [2], probability: 0.2}\n"
                                "  - {kind: neuron_stuck_at, layers: [1], probability: 0.2, value: -1e50}\n"
                                "  - {kind: neuron_crash, layers: [1], probability: 0.1}\ntrials: 200\n";
  write_file(d.file("amp.yaml"), amplified);
  for (const std::string engine : {"functional", "exact"}) {
    SCOPED_TRACE(engine);
    r = nfsim("run " + d.file("amp.yaml") + " --engine " + engine + " --threads 2 --out " + d.file("o2"), d);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(lines_in(r.err), 1u) << r.err;
    EXPECT_TRUE(has(r.err, "amp.yaml:5: fault spec faults[1] (neuron_stuck_at")) << r.err;
    EXPECT_FALSE(has(r.err, "faults[0] (") || has(r.err, "faults[2] (")) << "only the culprit is named: " << r.err;
    EXPECT_TRUE(has(r.err, "1e60")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("o2")));
  }
}

// The block named is the lowest that breaks the rule, whatever the thread count.
TEST_F(NonFinite, TheMessageDoesNotDependOnThreads) {
  write_file(d.file("t.yaml"), "model: big.onnx\ninputs: {type: random, count: 2}\nfaults:\n"
                               "  - {kind: neuron_crash, layers: [1], probability: 0.1}\n"
                               "  - {kind: neuron_stuck_at, layers: [1], probability: 0.01, value: 1e50}\n"
                               "trials: 2000\nblock_trials: 16\n");
  const CliRun one = nfsim("run " + d.file("t.yaml") + " --threads 1 --out " + d.file("o"), d);
  EXPECT_EQ(one.code, 2) << one.err;
  EXPECT_TRUE(has(one.err, "fault spec faults[1]")) << one.err;
  for (const char* threads : {"2", "4"}) {
    const CliRun many = nfsim("run " + d.file("t.yaml") + " --threads " + threads + " --out " + d.file("o"), d);
    EXPECT_EQ(many.code, 2);
    EXPECT_EQ(many.err, one.err) << threads << " threads";
  }
}

// The same culprit on the chip engine (one SystemC session per process): the spec is found by
// rerunning the block with each spec alone on the functional engine, which draws the same faults.
TEST_F(NonFinite, ChipEngineNamesTheCulpritToo) {
#if defined(__SANITIZE_ADDRESS__)
  // The chip's non-finite block throws from a SystemC coroutine stack: AddressSanitizer then reports
  // a false stack-use-after-scope (google/sanitizers#189; see tests/sim/test_chip.cpp). Plain builds run it.
  GTEST_SKIP() << "AddressSanitizer cannot follow exceptions thrown on SystemC's coroutine stacks";
#endif
  write_file(d.file("chip.yaml"), "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
                                  "  crossbar: {type: ideal, rows: 4, cols: 4}\n  neuron_array: {type: rate, size: 4}\n"
                                  "  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n");
  write_file(d.file("c.yaml"), "model: big.onnx\nchip: chip.yaml\nengine: chip\ninputs: {type: random, count: 2}\nfaults:\n"
                               "  - {kind: neuron_crash, layers: [1], probability: 0.1}\n"
                               "  - {kind: neuron_stuck_at, layers: [1], probability: 0.3, value: 1e50}\ntrials: 20\n");
  const CliRun r = nfsim("run " + d.file("c.yaml") + " --out " + d.file("o"), d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "fault spec faults[1] (neuron_stuck_at")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("o")));
  // Blocks in worker processes (--threads): the failing block is computed again in the main
  // process, which names it and its culprit the same way.
  std::string first;
  for (const char* workers : {"1", "2", "3"}) {
    const CliRun w = nfsim("run " + d.file("c.yaml") + " --set block_trials=2 --threads " + workers + " --out " + d.file("o"), d);
    EXPECT_EQ(w.code, 2) << w.err;
    EXPECT_TRUE(has(w.err, "fault spec faults[1] (neuron_stuck_at")) << w.err;
    if (first.empty()) first = w.err;
    EXPECT_EQ(w.err, first) << workers << " workers";
    EXPECT_FALSE(std::filesystem::exists(d.file("o")));
  }
}

// Acceptance: an "inf weight introduced by a bit flip". Bit flips act on the weight stored in
// two's-complement fixed point (at most 32 bits): the flipped weight is an integer times 2^-frac
// of magnitude at most 2^31, so a flip cannot make a weight infinite. The worst flip there is
// (the sign bit of a 32-bit integer format, on half the output weights) runs to a report whose every measured
// value and bound is a finite number, and the error it measures is the flip's (about 2^31).
TEST_F(NonFinite, BitFlipCannotMakeAnInfiniteWeight) {
  write_file(d.file("flip.yaml"), "model: m.onnx\ninputs: {type: random, count: 2}\nfaults:\n"
                                  "  - {kind: weight_bit_flip, layers: [2], probability: 0.5, bit: 31, format: 32.0}\n"
                                  "trials: 50\nbounds: [b3, b4]\n");
  for (const std::string engine : {"functional", "exact"}) {
    SCOPED_TRACE(engine);
    const std::string out = d.file("o_" + engine);
    const CliRun r = nfsim("run " + d.file("flip.yaml") + " --engine " + engine + " --out " + out, d);
    ASSERT_EQ(r.code, 0) << r.err;
    const nlohmann::json rep = nlohmann::json::parse(read_file(out + "/report.json"));
    double largest = 0;
    for (const auto& in : rep["points"][0]["inputs"]) {
      for (const char* k : {"mean", "std", "mean_abs", "max_abs"}) expect_all_numbers(in["measured"][k], k);
      expect_all_numbers(in["bounds"], "bounds");
      for (const auto& v : in["measured"]["max_abs"]) largest = std::max(largest, v.get<double>());
    }
    EXPECT_GT(largest, 1e6) << "the flipped sign bit should make weights of -2^31";
    EXPECT_LT(largest, 1e12);
  }
  // nfsim bounds on the same flips: finite numbers in bounds.json.
  const CliRun b = nfsim("bounds " + d.file("m.onnx") + " --inputs random:2 --fault weight_bit_flip:layers=1:p=0.5:bit=31:format=32.0 --out " +
                             d.file("b.json"),
                         d);
  ASSERT_EQ(b.code, 0) << b.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(d.file("b.json")));
  for (const auto& in : j["points"][0]["inputs"]) expect_all_numbers(in["bounds"], "bounds");
}

// Acceptance: an input scale that overflows, in each command that takes inputs, and a file input
// with --scale: refused naming the input, and no output.
TEST_F(NonFinite, OverflowingInputScaleIsRefusedNamingTheInput) {
  write_file(d.file("x.csv"), "1,2,3,4\n0.5,0.25,-1,2\n");
  const std::string model = d.file("m.onnx");
  write_file(d.file("c.yaml"), "model: m.onnx\ninputs: {type: random, count: 2, scale: 1e300}\nfaults:\n"
                               "  - {kind: neuron_crash, layers: [1], probability: 0.1}\ntrials: 10\n");
  const std::string commands[] = {
      "eval " + model + " --inputs random:3:1e300 --out " + d.file("o.csv"),
      "eval " + model + " --inputs " + d.file("x.csv") + " --scale 1e300 --out " + d.file("o.csv"),
      "bounds " + model + " --inputs " + d.file("x.csv") + " --scale 1e300 --fault neuron_crash:layers=1:p=0.1 --out " + d.file("o.csv"),
      "run " + d.file("c.yaml") + " --out " + d.file("o"),
  };
  for (const std::string& cmd : commands) {
    SCOPED_TRACE(cmd);
    const CliRun r = nfsim(cmd, d);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(lines_in(r.err), 1u) << r.err;
    EXPECT_TRUE(has(r.err, "input ") && has(r.err, "fault-free output") && has(r.err, "1e60")) << r.err;
    EXPECT_TRUE(has(r.err, "x.csv") || has(r.err, "random:")) << "names the inputs: " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(std::filesystem::exists(d.file("o.csv")));
    EXPECT_FALSE(std::filesystem::exists(d.file("o")));
  }
  // A large scale that keeps every value within the limit is not refused.
  const CliRun ok = nfsim("eval " + model + " --inputs " + d.file("x.csv") + " --scale 1e20", d);
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// A sweep whose probability reaches 0 on a large (but accepted) stuck-at value: the p = 0 point
// has zero bounds (not 0 * a huge effect) and every point's report is finite.
TEST_F(NonFinite, ZeroProbabilityPointsOfALargeStuckAtStayFinite) {
  write_file(d.file("s.yaml"), "model: m.onnx\ninputs: {type: random, count: 2}\nfaults:\n"
                               "  - {kind: neuron_stuck_at, layers: [1], probability: 0.1, value: 1e55}\ntrials: 40\n"
                               "bounds: [b3, b4]\nsweep: {key: 'faults[0].probability', values: [0, 0.2]}\n");
  const CliRun r = nfsim("run " + d.file("s.yaml") + " --out " + d.file("o"), d);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json rep = nlohmann::json::parse(read_file(d.file("o/report.json")));
  ASSERT_EQ(rep["points"].size(), 2u);
  for (const auto& point : rep["points"]) {
    for (const auto& in : point["inputs"]) {
      expect_all_numbers(in["bounds"], "bounds");
      for (const char* k : {"mean", "std", "max_abs"}) expect_all_numbers(in["measured"][k], k);
    }
  }
  for (const auto& v : rep["points"][0]["inputs"][0]["bounds"]["b4"]["std"]) EXPECT_EQ(v.get<double>(), 0.0);
  EXPECT_GT(rep["points"][1]["inputs"][0]["measured"]["max_abs"][0].get<double>() +
                rep["points"][1]["inputs"][0]["measured"]["max_abs"][1].get<double>(),
            1e40);
}

}  // namespace
}  // namespace nfsim::test
