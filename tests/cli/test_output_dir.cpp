// The output directory of `nfsim run` (issue 13, items 4 and 6): report files are staged in
// DIR/.nfsim-staging-<pid> and moved into DIR at the end, so a run that fails, a full disk
// included, leaves a reused directory byte for byte as it was; exit 3 still replaces the report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

// Every entry under `dir` (hidden ones too) with its bytes.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string name = std::filesystem::relative(e.path(), dir).string();
    files[name] = e.is_directory() ? "<directory>" : read_file(e.path().string());
  }
  return files;
}

// Sets an environment variable for the nfsim processes a test starts, and unsets it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

void write_campaign(const TempDir& d) {
  ASSERT_EQ(nfsim("gen-network --widths 4,3,2 --out " + d.file("m.onnx"), d).code, 0);
  write_file(d.file("c.yaml"), "model: m.onnx\ninputs: {type: random, count: 3}\n"
                               "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.1}\ntrials: 50\nbounds: [b4]\n");
}

TEST(OutputDir, FullDiskLeavesAReusedDirectoryAsItWas) {
  const TempDir d;
  write_campaign(d);
  const std::string out = d.file("out");
  ASSERT_EQ(nfsim("run " + d.file("c.yaml") + " --out " + out, d).code, 0);
  write_file(out + "/notes.txt", "the user's own file\n");
  const auto before = snapshot(out);
  ASSERT_EQ(before.count("report.json"), 1u);
  // Each atomic write of the run in turn (faults.jsonl, report.json, summary.csv, report.html)
  // fails with ENOSPC; another seed, so that every file would change.
  for (int k = 1; k <= 4; ++k) {
    const ScopedEnv fail("NFSIM_TEST_FAIL_WRITE", std::to_string(k));
    const CliRun r = nfsim("run " + d.file("c.yaml") + " --seed 7 --out " + out, d);
    EXPECT_EQ(r.code, 2) << "write " << k << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("write failed (No space left on device)"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(snapshot(out), before) << "write " << k << " changed the directory";
  }
  // The same run without a full disk replaces the report (and keeps the user's file).
  const CliRun ok = nfsim("run " + d.file("c.yaml") + " --seed 7 --out " + out, d);
  ASSERT_EQ(ok.code, 0) << ok.err;
  const auto after = snapshot(out);
  EXPECT_NE(after.at("report.json"), before.at("report.json"));
  EXPECT_EQ(nlohmann::json::parse(after.at("report.json"))["campaign"]["seed"].get<int>(), 7);
  EXPECT_EQ(after.at("notes.txt"), before.at("notes.txt"));
  for (const auto& [name, bytes] : after) EXPECT_EQ(name.find(".nfsim-staging"), std::string::npos) << name;
}

// A full disk on a new directory leaves no directory behind.
TEST(OutputDir, FullDiskOnANewDirectoryLeavesNothing) {
  const TempDir d;
  write_campaign(d);
  const ScopedEnv fail("NFSIM_TEST_FAIL_WRITE", "2");
  const CliRun r = nfsim("run " + d.file("c.yaml") + " --out " + d.file("new"), d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("new")));
}

// Unmet requirements (exit 3) still replace the report: it is the run's result.
TEST(OutputDir, UnmetRequirementStillMovesTheReportIntoPlace) {
  const TempDir d;
  write_campaign(d);
  const std::string out = d.file("out");
  ASSERT_EQ(nfsim("run " + d.file("c.yaml") + " --out " + out, d).code, 0);
  const auto before = snapshot(out);
  const CliRun r = nfsim("run " + d.file("c.yaml") + " --set 'require={b4: {max_median_rel_err: 1e-12}}' --out " + out, d);
  ASSERT_EQ(r.code, 3) << r.err << r.out;
  const auto after = snapshot(out);
  EXPECT_NE(after.at("report.json"), before.at("report.json"));
  EXPECT_FALSE(nlohmann::json::parse(after.at("report.json"))["requirements_met"].get<bool>());
  EXPECT_EQ(after.size(), before.size());  // the same files, no staging directory
}

}  // namespace
}  // namespace nfsim::test
