// Campaign points through the command line: what a sweep may change on each engine, refusals
// before any trial, per-point logs and block sizes, interruption and resume of exact points and
// of chips whose components changed. Each test pins a defect found by review.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

std::size_t lines_in(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

nlohmann::json report_of(const TempDir& dir, const std::string& out) {
  return nlohmann::json::parse(read_file(dir.file(out + "/report.json")));
}

const std::string kTiny =
    "model: {generate: {widths: [3, 4, 3, 2], activation: tanh, sigma: 1.5, mu: 0.1, seed: 7}}\n"
    "inputs: {type: random, count: 3, scale: 1.0, shift: 0.0, seed: 5}\n"
    "seed: 9\n";

const std::string kTinyChip =
    "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
    "  crossbar: {type: ideal, rows: 4, cols: 4, read_latency_ns: 100}\n"
    "  neuron_array: {type: rate, size: 4}\n"
    "  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n";

// Runs `nfsim ARGS` in the background, sends SIGINT after `seconds`, returns the exit code.
int interrupted(const std::string& args, const TempDir& dir, const std::string& log, double seconds) {
  std::ostringstream cmd;
  cmd << NFSIM_EXE << " " << args << " > " << dir.file(log) << " 2>&1 & pid=$!; sleep " << seconds
      << "; kill -INT $pid; wait $pid; echo $? > " << dir.file(log + ".rc");
  EXPECT_EQ(std::system(("bash -c '" + cmd.str() + "'").c_str()), 0);
  return std::stoi(read_file(dir.file(log + ".rc")));
}

// The chip engine keeps one chip per process: a sweep that changes the chip or the inputs is
// refused before any trial (it used to run later points on the first point's chip, exit 0).
TEST(CampaignPoints, AChipSweepThatChangesTheChipOrTheInputsIsRefusedBeforeAnyTrial) {
  TempDir dir;
  for (const std::string sweep : {"chip.crossbar.read_latency_ns", "inputs.scale"}) {
    write_file(dir.file("c.yaml"), kTiny + kTinyChip + "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\n" +
                                       "engine: chip\ntrials: 20\nsweep: {key: " + sweep + ", values: [1.0, 2.0]}\n");
    const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir);
    EXPECT_EQ(r.code, 2) << sweep << ": " << r.err;
    EXPECT_EQ(lines_in(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("sweep point 1 (" + sweep + "=2"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("keeps one chip for the whole run"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("out/report.json")));
  }
  // Fault and trial keys may change: the same chip serves every point.
  write_file(dir.file("ok.yaml"), kTiny + kTinyChip + "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\n" +
                                      "engine: chip\ntrials: 20\nsweep: {key: 'faults[0].probability', values: [0.1, 0.2]}\n");
  EXPECT_EQ(nfsim("run " + dir.file("ok.yaml") + " --out " + dir.file("ok"), dir).code, 0);
}

// A point that its engine cannot honour stops the run before any trial, naming the point.
TEST(CampaignPoints, APointTheEngineCannotHonourIsRefusedBeforeTheFirstPointRuns) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kTiny + kTinyChip + "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\n" +
                                     "engine: functional\ntrials: 100000000\n"
                                     "sweep:\n  key: chip.crossbar\n  values:\n    - {type: ideal, rows: 4, cols: 4}\n"
                                     "    - {type: noisy, rows: 4, cols: 4, read_noise_std: 0.01}\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir, 60);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("sweep point 1 (chip.crossbar="), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot honour crossbar type 'noisy'"), std::string::npos) << r.err;
}

// Each point of a chip sweep runs the trials and the block size it asks for, and the fault log
// holds each point's own faults, labelled with the point (it used to keep the first point's
// block size and log, then only the last point's log).
TEST(CampaignPoints, ChipPointsKeepTheirOwnBlockSizeAndFaultLog) {
  TempDir dir;
  write_file(dir.file("b.yaml"), kTiny + kTinyChip + "faults: [{kind: router, probability: 0.5, persistence: permanent}]\n" +
                                     "engine: chip\ntrials: 200\nsweep: {key: block_trials, values: [10, 64]}\n");
  CliRun r = nfsim("run " + dir.file("b.yaml") + " --out " + dir.file("b"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json blocks = report_of(dir, "b");
  for (const auto& point : blocks["points"]) EXPECT_EQ(point["trials"].get<int>(), 200);
  // The log of a sweep ending at p = 0.5 equals that of the point run alone.
  write_file(dir.file("s.yaml"), kTiny + kTinyChip + "faults: [{kind: router, probability: 0.5, persistence: permanent}]\n" +
                                     "engine: chip\ntrials: 50\nsweep: {key: 'faults[0].probability', values: [0.2, 0.5]}\n");
  write_file(dir.file("one.yaml"), kTiny + kTinyChip + "faults: [{kind: router, probability: 0.5, persistence: permanent}]\n" +
                                       "engine: chip\ntrials: 50\n");
  ASSERT_EQ(nfsim("run " + dir.file("s.yaml") + " --out " + dir.file("s"), dir).code, 0);
  ASSERT_EQ(nfsim("run " + dir.file("one.yaml") + " --out " + dir.file("one"), dir).code, 0);
  const std::string sweep_log = read_file(dir.file("s/faults.jsonl")), one_log = read_file(dir.file("one/faults.jsonl"));
  EXPECT_GT(lines_in(one_log), 10u);
  // The sweep's point-1 lines are the lone point's lines, with the point and its sweep value.
  std::istringstream sweep_lines(sweep_log), one_lines(one_log);
  std::vector<nlohmann::json> point1, alone;
  for (std::string line; std::getline(sweep_lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j["point"] != 1) continue;
    EXPECT_EQ(j["sweep"]["faults[0].probability"], "0.5");
    j.erase("point");
    j.erase("sweep");
    point1.push_back(j);
  }
  for (std::string line; std::getline(one_lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    j.erase("point");
    j.erase("sweep");
    alone.push_back(j);
  }
  EXPECT_EQ(point1, alone);
  EXPECT_GT(lines_in(sweep_log), lines_in(one_log));  // point 0's faults are there too
  const nlohmann::json sweep = report_of(dir, "s"), one = report_of(dir, "one");
  EXPECT_EQ(sweep["points"][1]["inputs"], one["points"][0]["inputs"]);
}

// An interrupted exact point exits 4 and is enumerated again on resume, to the uninterrupted numbers.
TEST(CampaignPoints, AnExactPointIsInterruptibleAndResumes) {
  TempDir dir;
  write_file(dir.file("e.yaml"),
             "model: {generate: {widths: [4, 18, 2], activation: tanh, sigma: 1.0, mu: 0.0, seed: 2}}\n"
             "inputs: {type: random, count: 8, scale: 1.0, shift: 0.0, seed: 1}\n"
             "faults: [{kind: neuron_crash, layers: [1], probability: 0.05}]\nengine: exact\ntrials: 10\nbounds: [b4]\n");
  EXPECT_EQ(interrupted("run " + dir.file("e.yaml") + " --out " + dir.file("cut"), dir, "cut.log", 0.3), 4) << read_file(dir.file("cut.log"));
  const nlohmann::json cut = report_of(dir, "cut");
  EXPECT_EQ(cut["points"][0]["stopping"]["reached"], "interrupted");
  const CliRun resumed = nfsim("run --resume " + dir.file("cut"), dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  ASSERT_EQ(nfsim("run " + dir.file("e.yaml") + " --out " + dir.file("whole"), dir).code, 0);
  const nlohmann::json resumed_report = report_of(dir, "cut"), whole = report_of(dir, "whole");
  EXPECT_EQ(resumed_report["points"][0]["inputs"], whole["points"][0]["inputs"]);
  EXPECT_EQ(resumed_report["points"][0]["stopping"]["reached"], "exact");
}

// A resume after the chip's components changed is refused (it used to merge two chips' trials).
TEST(CampaignPoints, ResumingAfterTheChipsComponentsChangedIsRefused) {
  TempDir dir;
  auto campaign = [&](const std::string& neuron) {
    write_file(dir.file("c.yaml"), "plugins: [" + std::string(NFSIM_SCALED_NEURON_PLUGIN) + "]\n" + kTiny +
                                       "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
                                       "  crossbar: {type: ideal, rows: 4, cols: 4}\n  neuron_array: {type: " + neuron +
                                       ", size: 4}\n  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n"
                                       "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\nengine: chip\n"
                                       "trials: 100000000\n");
  };
  campaign("rate");
  ASSERT_EQ(interrupted("run " + dir.file("c.yaml") + " --out " + dir.file("cut"), dir, "cut.log", 1.0), 4) << read_file(dir.file("cut.log"));
  campaign("test_scaled");
  const CliRun r = nfsim("run --resume " + dir.file("cut"), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("does not match the campaign's"), std::string::npos) << r.err;
}

// What cannot apply to the exact engine is refused: nfsim tolerate's Monte-Carlo check, and a
// requirement on measured intervals (the exact engine has none).
TEST(CampaignPoints, TolerateAndIntervalRequirementsRefuseTheExactEngine) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kTiny + "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\nengine: exact\n"
                                         "trials: 10\nbounds: [b4]\n");
  CliRun r = nfsim("tolerate " + dir.file("c.yaml") + " --epsilon 0.05", dir);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("checks its rate by Monte Carlo"), std::string::npos) << r.err;
  r = nfsim("run " + dir.file("c.yaml") + " --set 'require={b4: {min_inside_ci: 0.9}}' --out " + dir.file("out"), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("no interval to fall inside"), std::string::npos) << r.err;
  r = nfsim("run " + dir.file("c.yaml") + " --set 'require={b4: {max_median_rel_err: 0.5}}' --out " + dir.file("ok"), dir);
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace nfsim::test
