#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "core/running_stats.h"

namespace nfsim::core {
namespace {

TEST(RunningStats, MatchesDirectMoments) {
  RandomStream rng(3, 0);
  std::vector<double> xs;
  RunningStats s;
  for (int i = 0; i < 1000; ++i) {
    const double x = rng.uniform() < 0.1 ? rng.normal() * 3 + 1 : 0.0;  // sparse, like fault errors
    xs.push_back(x);
    s.add(x);
  }
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= xs.size();
  double m2 = 0, m3 = 0, m4 = 0;
  for (double x : xs) {
    m2 += std::pow(x - mean, 2);
    m3 += std::pow(x - mean, 3);
    m4 += std::pow(x - mean, 4);
  }
  EXPECT_NEAR(s.mean(), mean, 1e-12);
  EXPECT_NEAR(s.m2(), m2, 1e-9 * m2);
  EXPECT_NEAR(s.m3(), m3, 1e-9 * std::abs(m3));
  EXPECT_NEAR(s.m4(), m4, 1e-9 * m4);
  EXPECT_EQ(s.count(), 1000u);
  EXPECT_NEAR(s.std(), std::sqrt(m2 / 1000), 1e-12);
}

TEST(RunningStats, MergeEqualsSequential) {
  RandomStream rng(4, 0);
  RunningStats all, a, b, c;
  for (int i = 0; i < 3000; ++i) {
    const double x = rng.normal() * 2 + 0.5;
    all.add(x);
    (i < 1000 ? a : i < 1700 ? b : c).add(x);
  }
  a.merge(b);
  a.merge(c);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_NEAR(a.mean(), all.mean(), 1e-12);
  EXPECT_NEAR(a.m2(), all.m2(), 1e-9 * all.m2());
  EXPECT_NEAR(a.m3(), all.m3(), 1e-7 * std::abs(all.m4()));
  EXPECT_NEAR(a.m4(), all.m4(), 1e-9 * all.m4());
  EXPECT_EQ(a.max(), all.max());
  RunningStats zeros = RunningStats::from_moments(5, 0, 0, 0, 0, 0, 0), direct;
  for (int i = 0; i < 5; ++i) direct.add(0.0);
  direct.add(2.0);
  zeros.add(2.0);
  EXPECT_DOUBLE_EQ(zeros.mean(), direct.mean());
  EXPECT_DOUBLE_EQ(zeros.m2(), direct.m2());
}

// The intervals cover the truth about as often as they claim, for a skewed, sparse variable.
TEST(RunningStats, IntervalsHaveTheirCoverage) {
  const double p = 0.2, z = normal_quantile_two_sided(0.95);
  // X = 3 * Bernoulli(p): mean 0.6, std 3 sqrt(p(1-p)) = 1.2.
  int mean_hits = 0, std_hits = 0;
  const int reps = 400;
  for (int r = 0; r < reps; ++r) {
    RandomStream rng(10 + r, 0);
    RunningStats s;
    for (int i = 0; i < 2000; ++i) s.add(rng.uniform() < p ? 3.0 : 0.0);
    mean_hits += std::abs(s.mean() - 0.6) <= s.mean_half_width(z);
    std_hits += std::abs(s.std() - 1.2) <= s.std_half_width(z);
  }
  EXPECT_NEAR(mean_hits / double(reps), 0.95, 0.04);
  EXPECT_NEAR(std_hits / double(reps), 0.95, 0.04);
}

// The two-pass block statistics equal the streaming ones (and a block merged into a running
// state equals streaming through both), to rounding.
TEST(RunningStats, BlockOfValuesEqualsStreaming) {
  RandomStream rng(3, 1);
  std::vector<double> x(777);
  for (double& v : x) v = rng.uniform() < 0.1 ? 5.0 + rng.uniform() : -0.25 * rng.uniform();
  RunningStats streamed;
  for (double v : x) streamed.add(v);
  const RunningStats block = RunningStats::of_values(x.data(), x.size());
  EXPECT_EQ(block.count(), streamed.count());
  EXPECT_NEAR(block.mean(), streamed.mean(), 1e-14);
  EXPECT_NEAR(block.m2(), streamed.m2(), 1e-12 * streamed.m2());
  EXPECT_NEAR(block.m3(), streamed.m3(), 1e-11 * std::abs(streamed.m3()));
  EXPECT_NEAR(block.m4(), streamed.m4(), 1e-11 * streamed.m4());
  EXPECT_EQ(block.min(), streamed.min());
  EXPECT_EQ(block.max(), streamed.max());
  RunningStats merged = RunningStats::of_values(x.data(), 300);
  merged.merge(RunningStats::of_values(x.data() + 300, x.size() - 300));
  EXPECT_NEAR(merged.m4(), streamed.m4(), 1e-11 * streamed.m4());
  EXPECT_EQ(RunningStats::of_values(x.data(), 0).count(), 0u);
}

TEST(NormalQuantile, KnownValues) {
  EXPECT_NEAR(normal_quantile_two_sided(0.95), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile_two_sided(0.99), 2.5758293035489, 1e-10);
  EXPECT_NEAR(normal_quantile_two_sided(0.6826894921370859), 1.0, 1e-10);
}

}  // namespace
}  // namespace nfsim::core
