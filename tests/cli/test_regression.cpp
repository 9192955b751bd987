// Golden regressions: each campaign of tests/regression/campaigns/ is run through `nfsim run` and
// its report.json, normalised, must equal tests/regression/golden/<name>.report.json byte for
// byte. The stored reports were made before the core refactor (issue 12) and prove that a change
// meant to keep behaviour changed no number. NFSIM_UPDATE_GOLDEN=1 rewrites the stored files
// instead of comparing (scripts/update_golden.sh; review the diff before committing it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kSourceDir = NFSIM_SOURCE_DIR;
const std::string kCampaignDir = kSourceDir + "/tests/regression/campaigns";
const std::string kGoldenDir = kSourceDir + "/tests/regression/golden";
const std::vector<std::string> kCampaigns{"paper_random", "chip_mesh3x3", "sweep_requirements", "control_variate_chip", "spiking_chip"};

// Replaces every occurrence of `from` in `s` by `to`.
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// What is stripped from report.json before it is stored or compared, and why:
// - every `timing` object (top level: seconds per point, MPI ranks, peak RSS in kB; and any nested
//   one): wall-clock times and memory use differ from run to run and machine to machine;
// - the repository's absolute path, wherever a string contains it (campaign.file, the model path
//   in campaign.model, chip.file, sweep values naming files): it is replaced by nothing, leaving
//   the path relative to the repository root, so the report does not depend on where the
//   repository is cloned.
// Nothing else is stripped: every number, verdict and name must stay as it was. The Fashion-MNIST
// path (/usr/share/datasets/fashion-mnist, as in every other test) is kept as written.
nlohmann::json normalise(const nlohmann::json& j, const std::vector<std::string>& roots) {
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "timing") out[it.key()] = normalise(it.value(), roots);
    }
    return out;
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(normalise(v, roots));
    return out;
  }
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    for (const auto& root : roots) s = replace_all(s, root + "/", "");
    return s;
  }
  return j;
}

// The repository root as the runner may print it: as given to the compiler and fully resolved
// (they differ when the path goes through a symbolic link), longest first.
std::vector<std::string> source_roots() {
  std::vector<std::string> roots{kSourceDir};
  std::error_code ec;
  const std::string canonical = std::filesystem::weakly_canonical(kSourceDir, ec).string();
  if (!ec && canonical != kSourceDir) roots.push_back(canonical);
  std::sort(roots.begin(), roots.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return roots;
}

// Same layout as report.json itself (runner.cpp: dump(1) plus a final newline).
std::string dump(const nlohmann::json& j) { return j.dump(1) + "\n"; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The first value that differs, as a JSON pointer with both values (empty when equal).
std::string first_difference(const nlohmann::json& want, const nlohmann::json& got, const std::string& at = "") {
  if (want.type() != got.type()) return (at.empty() ? "/" : at) + ": stored " + want.dump() + ", now " + got.dump();
  if (want.is_object()) {
    std::set<std::string> keys;
    for (auto it = want.begin(); it != want.end(); ++it) keys.insert(it.key());
    for (auto it = got.begin(); it != got.end(); ++it) keys.insert(it.key());
    for (const auto& k : keys) {
      if (!want.contains(k)) return at + "/" + k + ": not stored, now " + got[k].dump();
      if (!got.contains(k)) return at + "/" + k + ": stored " + want[k].dump() + ", now missing";
      const std::string d = first_difference(want[k], got[k], at + "/" + k);
      if (!d.empty()) return d;
    }
    return "";
  }
  if (want.is_array()) {
    for (std::size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
      const std::string d = first_difference(want[i], got[i], at + "/" + std::to_string(i));
      if (!d.empty()) return d;
    }
    if (want.size() != got.size()) {
      return at + ": stored " + std::to_string(want.size()) + " elements, now " + std::to_string(got.size());
    }
    return "";
  }
  return want == got ? "" : (at.empty() ? "/" : at) + ": stored " + want.dump() + ", now " + got.dump();
}

// A short diff: the lines between the common head and the common tail, at most `max_lines` of
// each side, with two lines of context before (enough to read a changed number in place).
std::string short_diff(const std::string& want, const std::string& got, std::size_t max_lines = 12) {
  const auto a = lines_of(want), b = lines_of(got);
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  std::ostringstream out;
  const std::size_t from = head >= 2 ? head - 2 : 0;
  out << "@@ stored lines " << head + 1 << ".." << a.size() - tail << ", new lines " << head + 1 << ".."
      << b.size() - tail << " @@\n";
  for (std::size_t i = from; i < head; ++i) out << "  " << a[i] << "\n";
  for (std::size_t i = head; i < a.size() - tail && i < head + max_lines; ++i) out << "- " << a[i] << "\n";
  if (a.size() - tail - head > max_lines) out << "- ... (" << a.size() - tail - head - max_lines << " more)\n";
  for (std::size_t i = head; i < b.size() - tail && i < head + max_lines; ++i) out << "+ " << b[i] << "\n";
  if (b.size() - tail - head > max_lines) out << "+ ... (" << b.size() - tail - head - max_lines << " more)\n";
  return out.str();
}

bool update_mode() {
  const char* v = std::getenv("NFSIM_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

// Runs one campaign and compares (or, in update mode, stores) its normalised report.
void check_golden(const std::string& name) {
  TempDir dir;
  const std::string campaign = kCampaignDir + "/" + name + ".yaml";
  const std::string golden = kGoldenDir + "/" + name + ".report.json";
  const std::string out_dir = dir.file("out");
  const CliRun r = nfsim("run " + campaign + " --out " + out_dir, dir, 300);
  // 0: every requirement met; 3: some requirement not met (a sweep campaign holds both verdicts).
  ASSERT_TRUE(r.code == 0 || r.code == 3) << "exit " << r.code << "\n" << r.err;
  ASSERT_TRUE(file_exists(out_dir + "/report.json")) << r.err;
  const nlohmann::json report = nlohmann::json::parse(read_file(out_dir + "/report.json"));
  ASSERT_TRUE(report.contains("requirements_met"));
  EXPECT_EQ(r.code, report["requirements_met"].get<bool>() ? 0 : 3) << "the exit code disagrees with requirements_met";
  const nlohmann::json got = normalise(report, source_roots());
  const std::string got_text = dump(got);
  ASSERT_EQ(got_text.find(kSourceDir), std::string::npos) << "a path into the repository survived normalisation";

  if (update_mode()) {
    std::filesystem::create_directories(kGoldenDir);
    write_file(golden, got_text);
    std::cout << "[ golden  ] wrote " << golden << "\n";
    return;
  }
  const std::string regenerate =
      "To accept the new output (after checking it is intended): scripts/update_golden.sh BUILD_DIR, or\n  "
      "NFSIM_UPDATE_GOLDEN=1 " +
      std::string(::testing::internal::GetArgvs().front()) + " --gtest_filter='GoldenReport.*'";
  ASSERT_TRUE(file_exists(golden)) << golden << " is missing.\n" << regenerate;
  const std::string want_text = read_file(golden);
  if (want_text == got_text) return;
  // Keep the new report next to the build for a full diff.
  const std::string kept = std::string(NFSIM_TEST_TMP) + "/" + name + ".report.json";
  std::filesystem::create_directories(NFSIM_TEST_TMP);
  write_file(kept, got_text);
  std::string first;
  try {
    first = first_difference(nlohmann::json::parse(want_text), got);
  } catch (const nlohmann::json::exception& e) {
    first = std::string("stored file is not JSON: ") + e.what();
  }
  ADD_FAILURE() << name << ": report.json differs from " << golden << "\n"
                << "first differing value: " << (first.empty() ? "(none: the layout differs)" : first) << "\n"
                << short_diff(want_text, got_text) << "full new report: " << kept << "\n"
                << "command: nfsim run " << campaign << " --out DIR\n"
                << regenerate;
}

TEST(GoldenReport, PaperRandomExperiment) { check_golden("paper_random"); }
TEST(GoldenReport, ChipWithPhysicalFaultsAndOnsets) { check_golden("chip_mesh3x3"); }
TEST(GoldenReport, SweepWithRequirements) { check_golden("sweep_requirements"); }
TEST(GoldenReport, ControlVariateOnTheChipWithTheStoppingRule) { check_golden("control_variate_chip"); }
TEST(GoldenReport, SpikingArraysOnTheChip) { check_golden("spiking_chip"); }

// Every stored campaign has its test and its golden file, and no golden file is left over.
TEST(GoldenReport, EveryCampaignIsChecked) {
  std::set<std::string> campaigns, goldens;
  for (const auto& e : std::filesystem::directory_iterator(kCampaignDir)) {
    if (e.path().extension() == ".yaml") campaigns.insert(e.path().stem().string());
  }
  for (const auto& e : std::filesystem::directory_iterator(kGoldenDir)) {
    const std::string f = e.path().filename().string();
    const std::string suffix = ".report.json";
    if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) {
      goldens.insert(f.substr(0, f.size() - suffix.size()));
    }
  }
  EXPECT_EQ(campaigns, std::set<std::string>(kCampaigns.begin(), kCampaigns.end()));
  EXPECT_EQ(goldens, campaigns);
}

// The normalisation removes timing at any depth and the repository prefix, and nothing else.
TEST(GoldenReport, NormalisationStripsOnlyTimingAndTheRepositoryPath) {
  const nlohmann::json in = {{"timing", {{"peak_rss_kb", 1}}},
                             {"campaign", {{"file", kSourceDir + "/tests/x.yaml"}, {"seed", 1}}},
                             {"points", {{{"timing", 2.0}, {"trials", 5}, {"note", "/usr/share/a"}}}}};
  const nlohmann::json want = {{"campaign", {{"file", "tests/x.yaml"}, {"seed", 1}}},
                               {"points", {{{"trials", 5}, {"note", "/usr/share/a"}}}}};
  EXPECT_EQ(normalise(in, {kSourceDir}), want);
  EXPECT_EQ(first_difference(want, want), "");
  nlohmann::json changed = want;
  changed["points"][0]["trials"] = 6;
  EXPECT_EQ(first_difference(want, changed), "/points/0/trials: stored 5, now 6");
}

}  // namespace
}  // namespace nfsim::test
