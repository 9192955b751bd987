// The typed report's JSON round trip, which checkpoints rely on to resume finished points.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "testbench/report/report.h"

namespace nfsim::tb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Numbers that are not finite are written as null and read back as NaN, wherever they sit
// (a stuck-at value of 1e308 makes them): a checkpoint with such a finished point resumes.
TEST(Report, APointWithNonFiniteNumbersSurvivesTheJsonRoundTrip) {
  PointReport p;
  p.sweep = {{"faults[0].probability", "0.1"}};
  p.faults.push_back({"neuron_stuck_at", 0.1, "transient", std::vector<int>{1}, {}, {}, 1e308, {}, {}, {}, {}});
  p.trials = 7;
  p.stopping = {"fixed", "trials", std::nullopt, 7, 0, 0};
  InputReport in;
  in.index = 0;
  in.measured.mean = Eigen::Vector2d(1.0, kNaN);
  in.measured.std = Eigen::Vector2d(kInf, 2.0);
  in.measured.mean_abs = in.measured.max_abs = Eigen::Vector2d(1.0, 2.0);
  in.measured.ci95_mean = in.measured.ci95_std = in.measured.ci95_mean_abs = {Eigen::Vector2d(0, kNaN), Eigen::Vector2d(kInf, 1)};
  in.measured.trials = 7;
  models::bounds::BoundValue b4;
  b4.mean = Eigen::Vector2d(kNaN, 1.0);
  b4.std = Eigen::Vector2d(1.0, kInf);
  in.bounds["b4"] = b4;
  Verdict v;
  v.rel_err_mean = {kNaN, 0.5};
  v.rel_err_std = {0.1, kNaN};
  v.mean_inside_ci = {true, false};
  v.std_inside_ci = {false, true};
  in.verdicts["b4"] = v;
  p.inputs.push_back(in);
  p.summary["b4"] = BoundSummary{{kNaN, 0.1, kInf, 2}, Agreement{0.5, kNaN, 0.2, 2}, kNaN};
  p.variance_by_term = {{"neuron_stuck_at layer 1", kInf}};
  p.histogram_delta = {1.0, kNaN, 3.0};
  p.accuracy = AccuracyReport{0.9, kNaN, kNaN, kNaN, kNaN};
  ChipReport chip;
  chip.name = "c";
  chip.programming_max_abs_output_error = kInf;
  chip.fault_free_max_abs_output_error = kNaN;
  chip.timing = ChipReport::Timing{kNaN, 1, 1.5, kInf, 2, 3, kInf, 0.25, {{"router 0 -> router 1", kNaN}, {"bus", 0.5}}};
  p.chip = chip;
  p.requirements = {{"b4 max_median_rel_err 0.1", kNaN, false, ""}};
  const std::string text = point_to_json(p).dump(1);
  const PointReport q = point_from_json(nlohmann::json::parse(text));
  EXPECT_EQ(point_to_json(q).dump(1), text);  // the same JSON again
  EXPECT_TRUE(std::isnan(q.inputs[0].measured.mean[1]));
  EXPECT_TRUE(std::isnan(q.inputs[0].measured.std[0]));  // inf is written as null, read as NaN
  EXPECT_TRUE(std::isnan(q.variance_by_term[0].second));
  EXPECT_TRUE(std::isnan(q.histogram_delta[1]));
  EXPECT_EQ(q.histogram_delta[2], 3.0);
  EXPECT_TRUE(std::isnan(q.accuracy->faulty_mean));
  EXPECT_TRUE(std::isnan(q.chip->programming_max_abs_output_error));
  EXPECT_TRUE(std::isnan(q.chip->timing->latency_mean_ns));
  EXPECT_EQ(q.chip->timing->messages_per_inference, 3u);
  EXPECT_EQ(q.chip->timing->latency_median_ns, 1.5);
  EXPECT_TRUE(std::isnan(q.chip->timing->latency_p99_ns));
  EXPECT_EQ(q.chip->timing->link_wait_ns_per_inference, 0.25);
  ASSERT_EQ(q.chip->timing->link_utilisation.size(), 2u);
  EXPECT_TRUE(std::isnan(q.chip->timing->link_utilisation[0].second));
  EXPECT_EQ(q.chip->timing->link_utilisation[1], (std::pair<std::string, double>{"bus", 0.5}));
  EXPECT_TRUE(std::isnan(*q.summary.at("b4").fraction_holding));
  EXPECT_EQ(q.faults[0].value, 1e308);
  EXPECT_EQ(q.inputs[0].verdicts.at("b4").std_inside_ci, (std::vector<bool>{false, true}));
}

// chip.programming goes into a checkpoint's finished points and comes back whole; what is not
// known (no clip limit, no labels) stays absent.
TEST(Report, ProgrammingRoundTrips) {
  PointReport p;
  ChipReport chip;
  chip.name = "c";
  ProgrammingReport with;
  with.weights = 100;
  with.clip_limit = 0.05;
  with.clipped = 40;
  with.quantised = 55;
  with.max_abs_weight_error = 0.6;
  with.mean_abs_weight_error = 0.03;
  with.max_abs_output_error = 7.19;
  with.accuracy_before = 0.86;
  with.accuracy_after = 0.83;
  chip.programming = with;
  p.chip = chip;
  const PointReport q = point_from_json(nlohmann::json::parse(point_to_json(p).dump()));
  ASSERT_TRUE(q.chip && q.chip->programming);
  const ProgrammingReport& r = *q.chip->programming;
  EXPECT_EQ(r.weights, 100u);
  EXPECT_EQ(r.clipped, 40u);
  EXPECT_EQ(r.quantised, 55u);
  EXPECT_EQ(r.clip_limit, 0.05);
  EXPECT_EQ(r.max_abs_output_error, 7.19);
  EXPECT_EQ(r.accuracy_before, 0.86);
  EXPECT_EQ(r.accuracy_after, 0.83);
  EXPECT_EQ(point_to_json(q).dump(), point_to_json(p).dump());

  chip.programming = ProgrammingReport{};
  p.chip = chip;
  const nlohmann::json j = point_to_json(p);
  EXPECT_TRUE(j["chip"]["programming"]["clip_limit"].is_null());
  EXPECT_FALSE(j["chip"]["programming"].contains("accuracy_before"));
  const PointReport b = point_from_json(j);
  EXPECT_FALSE(b.chip->programming->clip_limit.has_value());
  EXPECT_FALSE(b.chip->programming->accuracy_after.has_value());
}

}  // namespace
}  // namespace nfsim::tb
