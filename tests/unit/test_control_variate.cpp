// The first-order expansion as a control variate (sim/functional/control_variate.h): the split
// Delta = L + R trial by trial, the estimator against the exact engine for every fault kind, the
// coverage of its intervals over repeated seeds, and its statistics' merge and serialization.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/running_stats.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/dataset.h"
#include "sim/functional/control_variate.h"
#include "sim/functional/exact_oracle.h"
#include "sim/functional/functional_engine.h"
#include "core/rng.h"
#include "tests/common/fault_cases.h"
#include "tests/common/test_networks.h"
#include "testbench/campaign/finite_check.h"

namespace nfsim::sim {
namespace {

using faults::FaultKind;
using faults::FaultPlan;
using faults::FaultSpec;
using faults::Persistence;
using models::ActivationKind;

ErrorStats run_with(const models::Network& net, const Eigen::MatrixXd& x, const FaultPlan& plan, const ControlVariate* cv,
                    std::uint64_t seed, std::uint64_t trials, std::uint32_t block_trials = 64) {
  FunctionalOptions opt;
  opt.seed = seed;
  opt.block_trials = block_trials;
  opt.control_variate = cv;
  return FunctionalEngine(net, x, plan, opt).run(trials);
}

// The same control-variate statistics (to rounding): counts exactly, estimates to 1e-12 / 1e-9.
void expect_same_control_variate(const ErrorStats& a, const ErrorStats& b) {
  ASSERT_FALSE(a.control_variate().empty());
  for (Eigen::Index n = 0; n < a.inputs(); ++n) {
    EXPECT_EQ(a.control_variate().multi_fault[static_cast<std::size_t>(n)], b.control_variate().multi_fault[static_cast<std::size_t>(n)]);
    for (Eigen::Index k = 0; k < a.outputs(); ++k) {
      const auto ea = a.estimate(n, k, 1.96), eb = b.estimate(n, k, 1.96);
      EXPECT_NEAR(ea.mean, eb.mean, 1e-12);
      EXPECT_NEAR(ea.std, eb.std, 1e-10);
      EXPECT_NEAR(ea.std_half_width, eb.std_half_width, 1e-9);
    }
  }
}

// A trial in which one unit failed has Delta = D_u exactly (to rounding): the sampler's (spec,
// unit) finds its own single-fault effect column, for every kind in one plan (neuron, synapse and
// group specs interleaved, so the columns of later specs are offset by the earlier ones), and L
// sums the columns of the failed units. On a dense network and on a CNN (shared conv synapses,
// max pooling, a grouped conv).
void expect_single_fault_trials_have_no_remainder(const models::Network& net, const Eigen::MatrixXd& x, const FaultPlan& plan,
                                                  int min_single, int min_several) {
  const std::uint64_t seed = 99;
  const ControlVariate cv(net, x, plan, seed);
  const faults::FaultSampler sampler(plan, net, seed);
  FunctionalOptions opt;
  opt.seed = seed;
  const FunctionalEngine engine(net, x, plan, opt);
  const Eigen::MatrixXd clean = engine.clean().y.back();
  std::vector<std::uint64_t> scratch;
  int single = 0, several = 0;
  std::vector<bool> spec_seen(plan.size(), false);
  for (std::uint64_t t = 0; t < 1000; ++t) {
    const Eigen::MatrixXd out = engine.trial_outputs(t);
    for (Eigen::Index n = 0; n < x.cols(); ++n) {
      Eigen::VectorXd l = Eigen::VectorXd::Zero(net.output_size());
      std::size_t failed = 0, last_spec = 0;
      sampler.for_each_failed(t, static_cast<std::uint32_t>(n), scratch, [&](std::size_t s, std::uint64_t u) {
        l += cv.effects(n).col(static_cast<Eigen::Index>(cv.first_column(s) + u));
        ++failed;
        last_spec = s;
      });
      const Eigen::VectorXd delta = out.col(n) - clean.col(n);
      if (failed == 1) {
        ++single;
        spec_seen[last_spec] = true;
        EXPECT_LE((delta - l).cwiseAbs().maxCoeff(), 1e-12 * (1.0 + delta.cwiseAbs().maxCoeff()))
            << "trial " << t << " input " << n << " spec " << plan.specs()[last_spec].describe();
      } else if (failed > 1) {
        ++several;
      }
    }
  }
  EXPECT_GE(single, min_single);
  EXPECT_GE(several, min_several);
  for (std::size_t s = 0; s < plan.size(); ++s) EXPECT_TRUE(spec_seen[s]) << "no single-fault trial of " << plan.specs()[s].describe();
}

TEST(ControlVariate, ATrialWithOneFailedUnitHasNoRemainder) {
  const models::Network net = test::tiny(ActivationKind::tanh, 1.0, 7);
  expect_single_fault_trials_have_no_remainder(net, models::random_inputs(3, 3, 2.0, 0.1, 11), FaultPlan(test::kind_cases(0.08), net),
                                               100, 100);
  const models::Network cnn = test::small_cnn();
  std::vector<FaultSpec> specs{{FaultKind::neuron_crash, {1, 2}, 0.002}, {FaultKind::synapse_crash, {1, 2}, 0.002}};
  FaultSpec stuck{FaultKind::neuron_stuck_at, {0, 3}, 0.002};
  stuck.value = 0.8;
  specs.push_back(stuck);
  FaultSpec flip{FaultKind::weight_bit_flip, {3}, 0.01};
  flip.bit = 6;
  flip.format = {8, 5};
  specs.push_back(flip);
  expect_single_fault_trials_have_no_remainder(cnn, models::random_inputs(cnn.input_size(), 2, 2.0, 0.1, 11), FaultPlan(specs, cnn), 50, 20);
}

// Under TMR a protected unit fails with q = 3p^2 - 2p^3 (drawn from a second stream): L's moments
// use it, and on a plan without interactions they are the exact engine's.
TEST(ControlVariate, TmrUnitsHaveTheirProbability) {
  const models::Network net = models::make_random_network({{3, 5, 2}, {ActivationKind::tanh}, {ActivationKind::identity}, 2.0, 0.1, 4});
  const Eigen::MatrixXd x = models::random_inputs(3, 4, 2.0, 0.1, 5);
  FaultSpec s{FaultKind::neuron_crash, {1}, 0.3};
  s.tmr_units = {0, 3};
  const FaultPlan plan({s}, net);
  const ControlVariate cv(net, x, plan, 3);
  const ExactMoments exact = exact_moments(net, x, plan);
  EXPECT_LE((cv.mean_l() - exact.mean).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LE((cv.var_l() - exact.variance).cwiseAbs().maxCoeff(), 1e-12);
  // Every trial's L is its Delta: the redraw saw the TMR stream's failures too.
  const ErrorStats stats = run_with(net, x, plan, &cv, 3, 4000);
  for (const PairMoments& p : stats.control_variate().pairs) EXPECT_LE(std::abs(p.r.mean()) + std::sqrt(p.r.sample_variance()), 1e-12);
}

// The functional engine's dense path (whole trials per batch, fault-free runs added as zeros)
// numbers the trials as its fast path does: the same control-variate statistics, to rounding.
TEST(ControlVariate, DensePathEqualsFastPath) {
  const models::Network net = test::tiny(ActivationKind::tanh, 1.0, 3);
  const Eigen::MatrixXd x = models::random_inputs(3, 4, 2.0, 0.1, 2);
  const FaultPlan plan(test::kind_cases(0.1), net);
  const ControlVariate cv(net, x, plan, 8);
  FunctionalOptions opt;
  opt.seed = 8;
  opt.control_variate = &cv;
  const ErrorStats fast = FunctionalEngine(net, x, plan, opt).run(3000);
  opt.fast_path = false;
  const ErrorStats dense = FunctionalEngine(net, x, plan, opt).run(3000);
  expect_same_control_variate(fast, dense);
}

// Where the outputs saturate, R cancels L and the variance estimate can come out at or below 0
// (10 units with D_u = 1 and Delta = 1 when any failed; true std sqrt(q (1 - q))). The estimate
// then falls back to the plain std and its interval, which cover as claimed; it is never a std
// of 0 with an interval of width 0.
TEST(ControlVariate, ANonPositiveVarianceEstimateFallsBackToThePlainStd) {
  const int units = 10;
  const double z = core::normal_quantile_two_sided(0.95);
  int non_positive = 0;
  for (double p : {0.2, 0.3}) {
    const double q = 1 - std::pow(1 - p, units), true_std = std::sqrt(q * (1 - q));
    int covered = 0;
    const int reps = 200;
    for (int rep = 0; rep < reps; ++rep) {
      core::RandomStream rng(50 + rep, 3);
      ControlVariateStats s;
      s.inputs = s.outputs = 1;
      s.mean_l = {units * p};
      s.var_l = {units * p * (1 - p)};
      s.pairs.resize(1);
      s.multi_fault = {0};
      core::RunningStats plain;
      for (int t = 0; t < 2000; ++t) {
        int failed = 0;
        for (int u = 0; u < units; ++u) failed += rng.uniform() < p;
        const double l = failed, delta = failed > 0 ? 1.0 : 0.0, r = delta - l;
        s.pairs[0].add(r, 2 * (l - units * p) * r + r * r);
        s.multi_fault[0] += failed >= 2;
        plain.add(delta);
      }
      non_positive += s.estimate(0, 0, z).std == 0.0;
      const auto e = s.estimate(0, 0, z, &plain);
      EXPECT_GT(e.std, 0.0);
      EXPECT_GT(e.std_half_width, 0.0);
      covered += std::abs(e.std - true_std) <= e.std_half_width;
    }
    std::printf("p = %g: variance estimates <= 0 so far %d; std covered %d of %d\n", p, non_positive, covered, reps);
    EXPECT_GE(covered / double(reps), 0.9) << "p = " << p;
  }
  EXPECT_GT(non_positive, 20) << "the case this test is about did not occur";
}

// E[L] = sum_u p_u D_u and Var[L] = sum_u p_u (1 - p_u) D_u^2, checked against the exact engine
// on a plan whose units cannot interact: crashes of the last hidden layer only, before a linear
// output layer (Delta = L in every trial), so the exact moments of Delta are L's.
TEST(ControlVariate, LinearPartHasTheExactMomentsOfDeltaWithoutInteractions) {
  const models::Network net = models::make_random_network({{3, 5, 2}, {ActivationKind::tanh}, {ActivationKind::identity}, 2.0, 0.1, 4});
  const Eigen::MatrixXd x = models::random_inputs(3, 4, 2.0, 0.1, 5);
  for (double p : {0.05, 0.3}) {
    const FaultPlan plan({{FaultKind::neuron_crash, {1}, p}}, net);
    const ControlVariate cv(net, x, plan, 3);
    const ExactMoments exact = exact_moments(net, x, plan);
    EXPECT_LE((cv.mean_l() - exact.mean).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LE((cv.var_l() - exact.variance).cwiseAbs().maxCoeff(), 1e-12);
    // The remainder is 0 in every trial: the estimates are exact, with zero-width intervals.
    const ErrorStats stats = run_with(net, x, plan, &cv, 3, 1000);
    for (Eigen::Index n = 0; n < x.cols(); ++n) {
      for (Eigen::Index k = 0; k < net.output_size(); ++k) {
        const auto e = stats.estimate(n, k, 1.96);
        EXPECT_NEAR(e.mean, exact.mean(k, n), 1e-12);
        EXPECT_NEAR(e.std, std::sqrt(exact.variance(k, n)), 1e-9);
        // Past the guard (kMinMultiFaultTrials), the intervals are the control variate's own: 0.
        if (stats.control_variate().min_multi_fault() >= kMinMultiFaultTrials) {
          EXPECT_LE(e.mean_half_width, 1e-12);
        } else {
          EXPECT_EQ(e.mean_half_width, stats.delta(n, k).mean_half_width(1.96));
        }
      }
    }
  }
}

// The estimator agrees with the exact engine for every fault kind, transient and permanent
// (neuron, synapse, stuck-at, bit-flip and group faults), on three activations and at small and
// large p: the exact mean and std lie inside the control variate's 99% intervals for (almost)
// every input and output, and all within 4.5 half-widths.
TEST(ControlVariate, AgreesWithTheExactEngineForEveryKind) {
  const double z99 = core::normal_quantile_two_sided(0.99);
  int checks = 0, outside = 0;
  for (auto kind : {ActivationKind::relu, ActivationKind::sigmoid, ActivationKind::tanh}) {
    const models::Network net = test::tiny(kind, kind == ActivationKind::sigmoid ? 4.0 : 1.0, 7);
    const Eigen::MatrixXd x = models::random_inputs(3, 3, 2.0, 0.1, 11);
    for (double p : {0.01, 0.1, 0.3}) {
      for (const FaultSpec& spec : test::kind_cases(p)) {
        for (Persistence persistence : {Persistence::transient, Persistence::permanent}) {
          FaultSpec s = spec;
          s.persistence = persistence;
          const FaultPlan plan({s}, net);
          const ExactMoments exact = exact_moments(net, x, plan);
          const ControlVariate cv(net, x, plan, 1234);
          const ErrorStats stats = run_with(net, x, plan, &cv, 1234, 5000);
          for (Eigen::Index n = 0; n < x.cols(); ++n) {
            for (Eigen::Index k = 0; k < net.output_size(); ++k) {
              const auto e = stats.estimate(n, k, z99);
              const double mean_gap = std::abs(e.mean - exact.mean(k, n));
              const double std_gap = std::abs(e.std - std::sqrt(exact.variance(k, n)));
              checks += 2;
              outside += (mean_gap > e.mean_half_width + 1e-12) + (std_gap > e.std_half_width + 1e-9);
              EXPECT_LE(mean_gap, e.mean_half_width * 4.5 / 2.58 + 1e-12) << s.describe() << " input " << n << " output " << k;
              EXPECT_LE(std_gap, e.std_half_width * 4.5 / 2.58 + 1e-9) << s.describe() << " input " << n << " output " << k;
            }
          }
        }
      }
    }
  }
  EXPECT_LE(outside, checks * 3 / 100) << outside << " of " << checks << " outside the 99% interval";
  std::printf("%d of %d exact means and stds outside the control variate's 99%% interval\n", outside, checks);
}

// Coverage: over repeated seeds the 95% intervals of the mean and the std cover the exact values
// about 95% of the time (as the plain intervals' coverage test, test_running_stats.cpp), where
// interactions are common (p = 0.1: about 1,100 of 2,000 trials have two or more failed units)
// and where they are rare (p = 0.01: about 1.6% of trials, so 16,000 trials give about 250, past
// kMinMultiFaultTrials). With fewer (2,000 trials at p = 0.01: about 30), the intervals are
// widened to the plain ones' and must cover at least as often as claimed.
TEST(ControlVariate, IntervalsHaveTheirCoverage) {
  const double z = core::normal_quantile_two_sided(0.95);
  const models::Network net = test::tiny(ActivationKind::tanh, 1.0, 7);
  const Eigen::MatrixXd x = models::random_inputs(3, 3, 2.0, 0.1, 11);
  struct Case {
    double p;
    std::uint64_t trials;
    int reps;
    bool guarded;
  };
  for (const Case c : {Case{0.1, 2000, 300, false}, Case{0.01, 16000, 300, false}, Case{0.01, 2000, 200, true}}) {
    const FaultPlan plan({{FaultKind::neuron_crash, {1, 2}, c.p}, {FaultKind::synapse_crash, {2}, c.p, Persistence::permanent}}, net);
    const ExactMoments exact = exact_moments(net, x, plan);
    int mean_hits = 0, std_hits = 0, cells = 0, guarded = 0;
    for (int r = 0; r < c.reps; ++r) {
      const ControlVariate cv(net, x, plan, 1000 + r);
      const ErrorStats stats = run_with(net, x, plan, &cv, 1000 + r, c.trials);
      // One (input, output) per seed: independent checks.
      const Eigen::Index n = r % x.cols(), k = (r / x.cols()) % net.output_size();
      const auto e = stats.estimate(n, k, z);
      if (exact.variance(k, n) <= 0) continue;
      ++cells;
      guarded += stats.control_variate().multi_fault[static_cast<std::size_t>(n)] < kMinMultiFaultTrials;
      mean_hits += std::abs(e.mean - exact.mean(k, n)) <= e.mean_half_width;
      std_hits += std::abs(e.std - std::sqrt(exact.variance(k, n))) <= e.std_half_width;
    }
    std::printf("p = %g, %llu trials: mean covered %d of %d, std covered %d of %d (%d widened to the plain intervals)\n", c.p,
                static_cast<unsigned long long>(c.trials), mean_hits, cells, std_hits, cells, guarded);
    if (c.guarded) {
      EXPECT_EQ(guarded, cells);
      EXPECT_GE(mean_hits / double(cells), 0.95 - 0.03) << "p = " << c.p;
      EXPECT_GE(std_hits / double(cells), 0.95 - 0.03) << "p = " << c.p;
    } else {
      EXPECT_LE(guarded, cells / 20);
      EXPECT_NEAR(mean_hits / double(cells), 0.95, 0.04) << "p = " << c.p;
      EXPECT_NEAR(std_hits / double(cells), 0.95, 0.05) << "p = " << c.p;
    }
  }
}

// The control variate's statistics do not depend on how the trials are split into blocks (to
// rounding), and serialize bit for bit.
TEST(ControlVariate, StatisticsMergeAcrossBlocksAndSerializeExactly) {
  const models::Network net = test::tiny(ActivationKind::tanh, 1.0, 3);
  const Eigen::MatrixXd x = models::random_inputs(3, 4, 2.0, 0.1, 2);
  const FaultPlan plan({{FaultKind::neuron_crash, {1, 2}, 0.2}, {FaultKind::synapse_crash, {3}, 0.1}}, net);
  const ControlVariate cv(net, x, plan, 8);
  const ErrorStats a = run_with(net, x, plan, &cv, 8, 3000, 64);
  const ErrorStats b = run_with(net, x, plan, &cv, 8, 3000, 1000);
  expect_same_control_variate(a, b);
  const std::string bytes = a.serialize();
  const ErrorStats back = ErrorStats::deserialize(bytes);
  EXPECT_EQ(back.serialize(), bytes);
  EXPECT_EQ(back.estimate(1, 1, 1.96).std, a.estimate(1, 1, 1.96).std);
  // Truncated anywhere in the control variate's section: refused, never read past the end.
  const std::string plain = run_with(net, x, plan, nullptr, 8, 64).serialize();
  for (std::size_t cut = plain.size(); cut < bytes.size(); cut += 97) {
    EXPECT_THROW(ErrorStats::deserialize(bytes.substr(0, cut + 1)), core::InputError) << cut;
  }
  // Blocks with and without the control variate are never merged.
  ErrorStats mixed = run_with(net, x, plan, nullptr, 8, 64);
  EXPECT_THROW(mixed.merge(a), core::InternalError);
}

// The control variate's terms are squares of errors (g ~ Delta^2, its fourth moment ~ Delta^8):
// with errors around 1e40, far inside the plain statistics' limit (1e60), g's fourth moment
// overflows. Its means and second moments stay finite (the runner's check,
// first_non_finite_control_variate, passes), and the intervals fall back to 1 degree of freedom
// (wide, finite) instead of treating the overflowed kurtosis as normal data's.
TEST(ControlVariate, LargeErrorsOverflowOnlyTheFourthMomentAndWidenTheInterval) {
  const models::Network net = models::make_random_network({{3, 5, 2}, {ActivationKind::identity}, {ActivationKind::identity}, 2.0, 0.1, 4});
  const Eigen::MatrixXd x = models::random_inputs(3, 2, 2.0, 0.1, 5);
  double relative_width[2] = {0, 0};
  int i = 0;
  for (double value : {1e10, 1e40}) {
    FaultSpec s{FaultKind::neuron_stuck_at, {0, 1}, 0.2};
    s.value = value;
    const FaultPlan plan({s}, net);
    const ControlVariate cv(net, x, plan, 3);
    const ErrorStats stats = run_with(net, x, plan, &cv, 3, 2000);
    EXPECT_FALSE(tb::first_non_finite(stats).has_value()) << value;
    const auto bad = tb::first_non_finite_control_variate(stats);
    EXPECT_FALSE(bad.has_value()) << *bad;
    EXPECT_EQ(std::isfinite(stats.control_variate().pairs[0].g.m4()), value < 1e20) << value;
    const auto e = stats.control_variate().estimate(0, 0, 1.96);
    ASSERT_TRUE(std::isfinite(e.std) && std::isfinite(e.std_half_width) && e.std > 0) << value;
    relative_width[i++] = e.std_half_width / e.std;
  }
  // The same trials scaled: only the degrees of freedom differ (t with 1 dof is 12.7, not ~2).
  EXPECT_GT(relative_width[1], 3 * relative_width[0]);
}

// With every probability 0 nothing fails: mean and std are exactly 0 (the registry-wide
// invariant, for the estimator too).
TEST(ControlVariate, NoFaultsMeansExactlyZero) {
  const models::Network net = test::tiny(ActivationKind::relu, 1.0, 3);
  const Eigen::MatrixXd x = models::random_inputs(3, 2, 2.0, 0.1, 2);
  std::vector<FaultSpec> specs = test::kind_cases(0.0);
  const FaultPlan plan(specs, net);
  const ControlVariate cv(net, x, plan, 5);
  const ErrorStats stats = run_with(net, x, plan, &cv, 5, 300);
  for (Eigen::Index n = 0; n < x.cols(); ++n) {
    for (Eigen::Index k = 0; k < net.output_size(); ++k) {
      const auto e = stats.estimate(n, k, 1.96);
      EXPECT_EQ(e.mean, 0.0);
      EXPECT_EQ(e.std, 0.0);
    }
  }
}

// What the estimator cannot take is named (the campaign file refuses it earlier, with its key).
TEST(ControlVariate, RefusesPlansWithoutExactFirstOrderMoments) {
  const models::Network net = test::tiny(ActivationKind::relu, 1.0, 3);
  const Eigen::MatrixXd x = models::random_inputs(3, 2, 2.0, 0.1, 2);
  FaultSpec onset{FaultKind::neuron_crash, {1}, 0.1};
  onset.onset_ns = 5;
  const FaultPlan plan({{FaultKind::neuron_crash, {2}, 0.1}, onset}, net);
  EXPECT_NE(ControlVariate::unsupported(plan).find("fault spec 2 (neuron_crash) has an onset"), std::string::npos)
      << ControlVariate::unsupported(plan);
  EXPECT_THROW(ControlVariate(net, x, plan, 1), core::InputError);
  EXPECT_EQ(ControlVariate::unsupported(FaultPlan({{FaultKind::neuron_crash, {2}, 0.1}}, net)), "");
}

}  // namespace
}  // namespace nfsim::sim
