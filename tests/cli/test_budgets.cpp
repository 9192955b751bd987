// Budgets in `require:` through the command line (issue 14 item 2): accuracy (max_drop, min) and
// error (max_mean_abs, max_std, per output or all) are judged on the conservative side of the
// measured interval at the campaign's confidence, exit 3 when unmet, and report the limit used.
// The oracle is the report's own measured intervals (and the exact engine, zero width).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

// A small labelled campaign whose accuracy varies from trial to trial (30 inputs, 2 classes; the
// labels are the fault-free network's classes, so its accuracy is 1 and the faults lower it).
std::string campaign(const TempDir& dir, const std::string& engine) {
  std::string labels;
  for (char c : std::string("010011011100011110011110101111")) labels += std::string(1, c) + "\n";
  write_file(dir.file("labels.csv"), labels);
  const std::string path = dir.file(engine + ".yaml");
  write_file(path, "model: {generate: {widths: [3, 8, 2], activation: tanh, sigma: 2, mu: 0, seed: 1}}\n"
                   "inputs: {type: random, count: 30, scale: 2.0, shift: 0.0, seed: 5, labels: labels.csv}\n"
                   "faults: [{kind: neuron_crash, layers: [1], probability: 0.3}]\n"
                   "engine: " + engine + "\ntrials: 400\nseed: 3\nbounds: [b4]\n");
  return path;
}

// A number as a --set value that reads back to the same double.
std::string exact_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

struct BudgetRun {
  CliRun cli;
  nlohmann::json point;  // points[0] of report.json
};

BudgetRun run(const TempDir& dir, const std::string& file, const std::string& require, const std::string& out,
        const std::string& extra = "") {
  BudgetRun r;
  r.cli = nfsim("run " + file + " --set 'require=" + require + "' " + extra + " --out " + dir.file(out), dir);
  if (r.cli.code == 0 || r.cli.code == 3) r.point = nlohmann::json::parse(read_file(dir.file(out + "/report.json")))["points"][0];
  return r;
}

// The largest upper limit over inputs (and outputs, when k < 0) of a measured ci95 band.
double max_hi(const nlohmann::json& point, const std::string& what, int k) {
  double worst = -std::numeric_limits<double>::infinity();
  for (const auto& in : point["inputs"]) {
    const auto& hi = in["measured"]["ci95"][what]["hi"];
    for (std::size_t j = 0; j < hi.size(); ++j) {
      if (k < 0 || static_cast<int>(j) == k) worst = std::max(worst, hi[j].get<double>());
    }
  }
  return worst;
}

TEST(Budgets, AccuracyIsJudgedOnTheConservativeSideOfItsInterval) {
  TempDir dir;
  const std::string file = campaign(dir, "functional");
  BudgetRun r = run(dir, file, "{accuracy: {max_drop: 1, min: 0}}", "loose");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err;
  const nlohmann::json acc = r.point["accuracy"];
  ASSERT_EQ(acc["fault_free"].get<double>(), 1.0);
  const double clean = acc["fault_free"].get<double>(), mean = acc["faulty_mean"].get<double>(), lo = acc["faulty_ci95"]["lo"].get<double>();
  const nlohmann::json drop = r.point["requirements"][0];
  const nlohmann::json min = r.point["requirements"][1];
  // The value judged is the upper limit of the drop, the estimate the measured drop.
  EXPECT_NEAR(drop["value"].get<double>(), clean - lo, 1e-12);
  EXPECT_NEAR(drop["estimate"].get<double>(), clean - mean, 1e-12);
  EXPECT_EQ(drop["limit"].get<double>(), 1.0);
  EXPECT_NE(drop["requirement"].get<std::string>().find("upper limit of the 95% interval of the accuracy drop"), std::string::npos)
      << drop["requirement"];
  EXPECT_NEAR(min["value"].get<double>(), lo, 1e-12);
  EXPECT_NE(min["requirement"].get<std::string>().find("lower limit of the 95% interval of the faulty accuracy"), std::string::npos);
  ASSERT_GT(clean - lo, clean - mean + 1e-4) << "the interval must have a width for this test";
  // A budget between the estimate and the upper limit is not met: the estimate alone would pass.
  const double between = (clean - lo + clean - mean) / 2;
  r = run(dir, file, "{accuracy: {max_drop: " + exact_text(between) + "}}", "tight");
  EXPECT_EQ(r.cli.code, 3) << r.cli.err;
  EXPECT_FALSE(r.point["requirements"][0]["met"].get<bool>());
  EXPECT_NE(r.cli.out.find("NOT MET"), std::string::npos) << r.cli.out;
  EXPECT_NE(r.cli.out.find("limit " + std::string(exact_text(between)).substr(0, 6)), std::string::npos) << r.cli.out;
  const std::string html = read_file(dir.file("tight/report.html"));
  EXPECT_NE(html.find("interval of the accuracy drop)</td>"), std::string::npos);
  EXPECT_NE(html.find("bad'>NOT met"), std::string::npos);
  // The threshold column shows the budget's limit (to the page's 4 significant digits).
  const auto at = html.find("<td>&#8804; ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NEAR(std::stod(html.substr(at + 12, 12)), between, 1e-3 * between);
  // The same for a minimum accuracy, and one just under the lower limit is met.
  r = run(dir, file, "{accuracy: {min: " + exact_text((lo + mean) / 2) + "}}", "min_tight");
  EXPECT_EQ(r.cli.code, 3) << r.cli.err;
  r = run(dir, file, "{accuracy: {min: " + exact_text(lo - 1e-9) + "}}", "min_ok");
  EXPECT_EQ(r.cli.code, 0) << r.cli.err;
  EXPECT_TRUE(r.point["requirements"][0]["met"].get<bool>());
}

TEST(Budgets, ErrorBudgetsTakeTheLargestUpperLimitOverInputsAndOutputs) {
  TempDir dir;
  const std::string file = campaign(dir, "functional");
  BudgetRun r = run(dir, file, "{error: {max_mean_abs: 100, max_std: 100}}", "all");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err;
  const nlohmann::json mean_abs = r.point["requirements"][0];
  const nlohmann::json std_q = r.point["requirements"][1];
  EXPECT_NEAR(mean_abs["value"].get<double>(), max_hi(r.point, "mean_abs", -1), 1e-12);
  EXPECT_NEAR(std_q["value"].get<double>(), max_hi(r.point, "std", -1), 1e-12);
  // Where it was found, and the estimate there.
  const nlohmann::json at = r.point["inputs"][mean_abs["input"].get<int>()]["measured"];
  const int k = mean_abs["output"].get<int>();
  EXPECT_NEAR(at["ci95"]["mean_abs"]["hi"][k].get<double>(), mean_abs["value"].get<double>(), 1e-15);
  EXPECT_NEAR(at["mean_abs"][k].get<double>(), mean_abs["estimate"].get<double>(), 1e-15);
  EXPECT_NE(mean_abs["requirement"].get<std::string>().find("all outputs"), std::string::npos);
  // One output: the maximum over inputs of that output only.
  r = run(dir, file, "{error: {max_std: 100, output: 1}}", "one");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err;
  EXPECT_NEAR(r.point["requirements"][0]["value"].get<double>(), max_hi(r.point, "std", 1), 1e-12);
  EXPECT_EQ(r.point["requirements"][0]["output"].get<int>(), 1);
  // Between the estimate and the upper limit: not met (exit 3).
  const double hi = std_q["value"].get<double>(), est = std_q["estimate"].get<double>();
  ASSERT_GT(hi, est);
  r = run(dir, file, "{error: {max_std: " + exact_text((hi + est) / 2) + "}}", "tight");
  EXPECT_EQ(r.cli.code, 3) << r.cli.err;
  EXPECT_FALSE(r.point["requirements"][0]["met"].get<bool>());
  // The campaign's confidence sets the interval: 99% is wider than the report's 95% band.
  r = run(dir, file, "{error: {max_std: 100}}", "c99", "--set confidence=0.99");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err;
  EXPECT_GT(r.point["requirements"][0]["value"].get<double>(), max_hi(r.point, "std", -1));
  EXPECT_NE(r.point["requirements"][0]["requirement"].get<std::string>().find("99% interval"), std::string::npos);
}

// The exact engine has zero-width intervals: the value judged is the exact one, met at equality.
TEST(Budgets, TheExactEngineIsJudgedOnTheExactValues) {
  TempDir dir;
  const std::string file = campaign(dir, "exact");
  BudgetRun r = run(dir, file, "{accuracy: {max_drop: 1}, error: {max_std: 100, output: 0}}", "loose");
  ASSERT_EQ(r.cli.code, 0) << r.cli.err;
  const nlohmann::json drop = r.point["requirements"][0];
  const double value = drop["value"].get<double>();
  EXPECT_EQ(value, drop["estimate"].get<double>());
  EXPECT_EQ(value, r.point["accuracy"]["drop"].get<double>());
  EXPECT_NE(drop["requirement"].get<std::string>().find("the exact value of the accuracy drop"), std::string::npos) << drop["requirement"];
  double std0 = 0;
  for (const auto& in : r.point["inputs"]) std0 = std::max(std0, in["measured"]["std"][0].get<double>());
  EXPECT_EQ(r.point["requirements"][1]["value"].get<double>(), std0);
  ASSERT_GT(value, 1e-6);
  EXPECT_EQ(run(dir, file, "{accuracy: {max_drop: " + exact_text(value) + "}}", "equal").cli.code, 0);
  EXPECT_EQ(run(dir, file, "{accuracy: {max_drop: " + exact_text(value * (1 - 1e-9)) + "}}", "under").cli.code, 3);
  EXPECT_EQ(run(dir, file, "{error: {max_std: " + exact_text(std0 * (1 - 1e-9)) + ", output: 0}}", "std_under").cli.code, 3);
}

}  // namespace
}  // namespace nfsim::test
