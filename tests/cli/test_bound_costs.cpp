// Issue 14 item 5: nothing is computed that no requested bound needs (`bounds: []` costs
// nothing: no bounds, no profile, no per-term variance), variance_by_term comes from the same b4
// pass, and the bounds do not depend on the thread count they are computed on.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kCampaign =
    "model: {generate: {widths: [5, 6, 4, 3], activation: tanh, sigma: 1.5, mu: 0.1, seed: 7}}\n"
    "inputs: {type: random, count: 4, scale: 1.0, shift: 0.0, seed: 5}\n"
    "seed: 9\nengine: functional\ntrials: 50\n"
    "faults:\n"
    "  - {kind: neuron_crash, layers: [1], probability: 0.02}\n"
    "  - {kind: synapse_crash, layers: [2], probability: 0.01}\n"
    "  - {kind: group_crash, probability: 0.01, groups: [{name: g, neurons: [[1, 0]], synapses: [[2, 1, 1]]},"
    " {name: h, neurons: [[2, 3]]}]}\n";

nlohmann::json run(const std::string& bounds, const std::string& extra, TempDir& dir, const std::string& name) {
  write_file(dir.file(name + ".yaml"), kCampaign + "bounds: " + bounds + "\n");
  const CliRun r = nfsim("run " + dir.file(name + ".yaml") + " --out " + dir.file(name) + " " + extra, dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(read_file(dir.file(name + "/report.json")));
}

TEST(BoundCosts, OnlyWhatARequestedBoundNeedsIsComputed) {
  TempDir dir;
  // Nothing asked: no bound of any input, no profile, no per-term variance.
  const nlohmann::json none = run("[]", "", dir, "none");
  EXPECT_FALSE(none.contains("profile"));
  for (const auto& p : none["points"]) {
    EXPECT_TRUE(p["variance_by_term"].empty());
    for (const auto& in : p["inputs"]) {
      EXPECT_TRUE(in["bounds"].empty()) << in["bounds"].dump();
      EXPECT_TRUE(in["verdicts"].empty()) << in["verdicts"].dump();
    }
  }
  // b3 alone: its bound and the profile, no b4 and no per-term variance (b4's).
  const nlohmann::json b3 = run("[b3]", "", dir, "b3");
  EXPECT_TRUE(b3.contains("profile"));
  EXPECT_TRUE(b3["points"][0]["variance_by_term"].empty());
  for (const auto& in : b3["points"][0]["inputs"]) {
    EXPECT_TRUE(in["bounds"].contains("b3"));
    EXPECT_FALSE(in["bounds"].contains("b4"));
  }
  // b4: the per-term variances add up to b4's variance (summed over outputs, mean over inputs).
  const nlohmann::json b4 = run("[b4]", "", dir, "b4");
  const auto& point = b4["points"][0];
  ASSERT_EQ(point["variance_by_term"].size(), 3u) << point["variance_by_term"].dump();
  EXPECT_EQ(point["variance_by_term"][0]["term"], "neuron_crash layer 1");
  EXPECT_EQ(point["variance_by_term"][1]["term"], "synapse_crash layer 2");
  EXPECT_EQ(point["variance_by_term"][2]["term"], "groups (2)");
  double terms = 0, total = 0;
  for (const auto& t : point["variance_by_term"]) {
    EXPECT_GT(t["predicted_variance"].get<double>(), 0.0) << t.dump();
    terms += t["predicted_variance"].get<double>();
  }
  for (const auto& in : point["inputs"]) {
    for (const auto& s : in["bounds"]["b4"]["std"]) total += s.get<double>() * s.get<double>();
  }
  total /= static_cast<double>(point["inputs"].size());
  EXPECT_NEAR(terms, total, 1e-12 * total);
}

TEST(BoundCosts, BoundsDoNotDependOnTheThreadCount) {
  TempDir dir;
  const nlohmann::json one = run("[b3, b4]", "--threads 1", dir, "one");
  const nlohmann::json three = run("[b3, b4]", "--threads 3", dir, "three");
  ASSERT_EQ(one["points"].size(), three["points"].size());
  for (std::size_t p = 0; p < one["points"].size(); ++p) {
    EXPECT_EQ(one["points"][p]["variance_by_term"], three["points"][p]["variance_by_term"]);
    ASSERT_EQ(one["points"][p]["inputs"].size(), three["points"][p]["inputs"].size());
    for (std::size_t n = 0; n < one["points"][p]["inputs"].size(); ++n)
      EXPECT_EQ(one["points"][p]["inputs"][n]["bounds"], three["points"][p]["inputs"][n]["bounds"]) << "input " << n;
  }
}

}  // namespace
}  // namespace nfsim::test
