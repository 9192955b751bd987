// `mission:` (docs/faults.md, "Lifetime"): the campaign expands into one point per checkpoint,
// every trial's failed units accumulate over the checkpoints, their marginal at time t is
// 1 - exp(-lambda t), and the failure times follow the truncated exponential (a Kolmogorov-
// Smirnov test on the draws).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "core/strings.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/random_network.h"
#include "testbench/campaign/campaign_config.h"
#include "tests/common/temp_dir.h"

namespace nfsim::tb {
namespace {

const char* kHead = R"(model: {generate: {widths: [30, 40, 40, 3], activation: relu, sigma: 2, mu: 0.1, seed: 1}}
inputs: {type: random, count: 4, seed: 7}
trials: 100
)";

std::vector<CampaignConfig> points_of(const std::string& text) {
  test::TempDir dir;
  test::write_file(dir.file("c.yaml"), text);
  return load_campaign_points(dir.file("c.yaml"));
}

std::string error_of(const std::string& text) {
  try {
    points_of(text);
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Mission, ExpandsIntoOnePointPerCheckpointAtTheFailureProbabilityOfItsTime) {
  const auto points =
      points_of(std::string(kHead) + "mission: {hours: 1000, checkpoints: 4}\nfaults:\n  - {kind: neuron_crash, layers: [1, 2], fit: 300000}\n");
  ASSERT_EQ(points.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    const double t = 250.0 * static_cast<double>(k + 1);
    const faults::FaultSpec& f = points[k].faults[0];
    EXPECT_EQ(points[k].sweep_point, (std::vector<std::pair<std::string, std::string>>{{"mission.at_hours", core::format_double(t)}}));
    EXPECT_DOUBLE_EQ(f.mission_hours, t);
    EXPECT_DOUBLE_EQ(f.probability, -std::expm1(-300000e-9 * t));
    EXPECT_EQ(f.lifetime_end_hours, 1000.0);
    EXPECT_EQ(f.lifetime_fit, 300000.0);
    EXPECT_EQ(f.persistence, faults::Persistence::permanent);
  }
}

TEST(Mission, RefusesWhatItCannotMean) {
  const std::string fit = "faults:\n  - {kind: neuron_crash, layers: [1], fit: 1000}\n";
  EXPECT_NE(error_of(std::string(kHead) + "mission: {hours: 100}\nfaults:\n  - {kind: neuron_crash, layers: [1], probability: 0.1}\n")
                .find("key 'mission': no fault spec has a FIT rate"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "mission: {hours: 0}\n" + fit).find("hours in (0, 1e7]"), std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "mission: {hours: 10, checkpoints: 0}\n" + fit).find("mission.checkpoints"), std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "mission: {hours: 10, years: 2}\n" + fit).find("years"), std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "mission: {hours: 10}\nfaults:\n  - {kind: neuron_crash, layers: [1], fit: 1000, mission_hours: 5}\n")
                .find("the mission's hours apply"),
            std::string::npos);
}

struct Sampled {
  models::Network net = models::make_random_network({{30, 400, 400, 3}, {models::ActivationKind::relu}, {}, 2.0, 0.1, 1});
  static constexpr double kFit = 2e6, kEnd = 100.0;  // lambda H = 0.2: p_end = 0.181
  faults::FaultSpec spec(double at) const {
    faults::FaultSpec s{faults::FaultKind::neuron_crash, {1, 2}, -std::expm1(-kFit * 1e-9 * at)};
    s.persistence = faults::Persistence::permanent;
    s.mission_hours = at;
    s.lifetime_end_hours = kEnd;
    s.lifetime_fit = kFit;
    return s;
  }
};

TEST(Mission, FailuresAccumulateAndHaveTheMarginalOfTheirTime) {
  const Sampled s;
  const std::vector<double> times{10, 35, 70, 100};
  std::vector<faults::FaultPlan> plans;
  for (double t : times) plans.emplace_back(std::vector<faults::FaultSpec>{s.spec(t)}, s.net);
  std::vector<faults::FaultSampler> samplers;
  for (const auto& p : plans) samplers.emplace_back(p, s.net, 42);
  const double units = 800;
  std::vector<double> failed(times.size(), 0);
  const int trials = 400;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<std::uint64_t> before;
    for (std::size_t k = 0; k < times.size(); ++k) {
      std::vector<std::uint64_t> now;
      samplers[k].draw_units(0, static_cast<std::uint64_t>(trial), faults::FaultSampler::kPermanentSlot, now);
      // The units failed at an earlier checkpoint are still failed.
      EXPECT_TRUE(std::includes(now.begin(), now.end(), before.begin(), before.end())) << "trial " << trial << " t " << times[k];
      failed[k] += static_cast<double>(now.size());
      before = now;
    }
  }
  for (std::size_t k = 0; k < times.size(); ++k) {
    const double p = plans[k].specs()[0].probability, n = units * trials;
    const double z = (failed[k] - n * p) / std::sqrt(n * p * (1 - p));
    EXPECT_LT(std::abs(z), 4.0) << "t " << times[k] << ": " << failed[k] / n << " failed, expected " << p;
  }
}

TEST(Mission, FailureTimesFollowTheTruncatedExponential) {
  const Sampled s;
  const faults::FaultPlan plan({s.spec(Sampled::kEnd)}, s.net);
  const faults::FaultSampler sampler(plan, s.net, 7);
  std::vector<double> t;
  std::vector<std::uint64_t> units;
  for (std::uint64_t trial = 0; trial < 60; ++trial) {
    sampler.draw_units(0, trial, faults::FaultSampler::kPermanentSlot, units);
    for (std::uint64_t u : units) t.push_back(sampler.failure_hours(0, trial, u));
  }
  ASSERT_GT(t.size(), 5000u);
  std::sort(t.begin(), t.end());
  const double lambda = Sampled::kFit * 1e-9, norm = -std::expm1(-lambda * Sampled::kEnd);
  double d = 0;
  const double n = static_cast<double>(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_GT(t[i], 0.0);
    EXPECT_LE(t[i], Sampled::kEnd);
    const double F = -std::expm1(-lambda * t[i]) / norm;
    d = std::max({d, F - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - F});
  }
  // Kolmogorov-Smirnov at the 1% level: D < 1.628 / sqrt(n).
  EXPECT_LT(d, 1.628 / std::sqrt(n)) << "D = " << d << " over " << t.size() << " failure times";
}

}  // namespace
}  // namespace nfsim::tb
