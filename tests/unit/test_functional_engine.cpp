#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/running_stats.h"
#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "sim/functional/exact_oracle.h"
#include "sim/functional/functional_engine.h"
#include "tests/common/fault_cases.h"

namespace nfsim::sim {
namespace {

using faults::FaultKind;
using faults::FaultPlan;
using faults::FaultSpec;
using faults::Persistence;
using models::ActivationKind;

using test::kind_cases;
using test::tiny;

// Monte Carlo converges to the exact oracle: the exact mean lies inside the measured 99%
// interval for (almost) every input and output; all lie within 4.5 half-widths (z = 4.5 / 2.58).
TEST(FunctionalEngine, MonteCarloConvergesToTheExactOracle) {
  const double z99 = core::normal_quantile_two_sided(0.99);
  int checks = 0, outside = 0;
  for (auto kind : {ActivationKind::relu, ActivationKind::sigmoid, ActivationKind::tanh}) {
    const models::Network net = tiny(kind, kind == ActivationKind::sigmoid ? 4.0 : 1.0, 7);
    const Eigen::MatrixXd x = models::random_inputs(3, 3, 2.0, 0.1, 11);
    for (double p : {0.01, 0.1, 0.3}) {
      for (const FaultSpec& spec : kind_cases(p)) {
        const FaultPlan plan({spec}, net);
        const ExactMoments exact = exact_moments(net, x, plan);
        FunctionalOptions opt;
        opt.seed = 1234;
        const ErrorStats stats = FunctionalEngine(net, x, plan, opt).run(20000);
        for (Eigen::Index n = 0; n < x.cols(); ++n) {
          for (Eigen::Index k = 0; k < net.output_size(); ++k) {
            const core::RunningStats& s = stats.delta(n, k);
            const double hw = s.mean_half_width(z99) + 1e-12;
            const double gap = std::abs(s.mean() - exact.mean(k, n));
            ++checks;
            if (gap > hw) ++outside;
            EXPECT_LE(gap, hw * 4.5 / 2.58) << spec.describe() << " input " << n << " output " << k;
            const double std_gap = std::abs(s.std() - std::sqrt(exact.variance(k, n)));
            EXPECT_LE(std_gap, s.std_half_width(z99) * 4.5 / 2.58 + 1e-9) << spec.describe() << " std";
          }
        }
      }
    }
  }
  EXPECT_LE(outside, checks * 3 / 100) << outside << " of " << checks << " outside the 99% interval";
  std::printf("%d of %d exact means outside the measured 99%% interval\n", outside, checks);
}

TEST(FunctionalEngine, IdenticalForEveryBatchSizeAndBlockSplit) {
  const models::Network net = models::make_random_network({{8, 16, 12, 4}, {ActivationKind::tanh}, {}, 2.0, 0.0, 3});
  const Eigen::MatrixXd x = models::random_inputs(8, 5, 1.0, 0.0, 2);
  FaultSpec n{FaultKind::neuron_crash, {1, 2}, 0.05};
  FaultSpec w{FaultKind::synapse_crash, {2}, 0.02, Persistence::permanent};
  const FaultPlan plan({n, w}, net);
  for (bool fast : {true, false}) {
    std::vector<ErrorStats> results;
    for (std::uint32_t batch : {1u, 7u, 256u}) {
      FunctionalOptions opt;
      opt.seed = 5;
      opt.block_trials = 512;  // so that a batch of 256 trials is not clipped to the block
      opt.batch_trials = batch;
      opt.fast_path = fast;
      results.push_back(FunctionalEngine(net, x, plan, opt).run(1000));
    }
    for (std::size_t r = 1; r < results.size(); ++r) {
      for (Eigen::Index i = 0; i < x.cols(); ++i) {
        for (Eigen::Index k = 0; k < net.output_size(); ++k) {
          EXPECT_EQ(results[r].delta(i, k).mean(), results[0].delta(i, k).mean());
          EXPECT_EQ(results[r].delta(i, k).m2(), results[0].delta(i, k).m2());
          EXPECT_EQ(results[r].delta(i, k).m4(), results[0].delta(i, k).m4());
          EXPECT_EQ(results[r].abs_delta(i, k).mean(), results[0].abs_delta(i, k).mean());
        }
        EXPECT_EQ(results[r].norm(i, ErrorStats::norm_2).mean(), results[0].norm(i, ErrorStats::norm_2).mean());
      }
    }
  }
  // Blocks computed separately (as on several processes) and merged in order: the same bits.
  FunctionalOptions opt;
  opt.seed = 5;
  const FunctionalEngine engine(net, x, plan, opt);
  const ErrorStats whole = engine.run(1000);
  ErrorStats parts(x.cols(), net.output_size());
  std::vector<ErrorStats> blocks;
  for (std::uint64_t b = engine.block_count(1000); b-- > 0;) blocks.insert(blocks.begin(), engine.run_block(b, 1000));
  for (const auto& b : blocks) parts.merge(b);
  EXPECT_EQ(parts.delta(3, 2).m2(), whole.delta(3, 2).m2());
  EXPECT_EQ(parts.trials(), 1000u);
}

TEST(FunctionalEngine, FastPathEqualsDensePath) {
  const models::Network net = models::make_random_network({{10, 20, 15, 3}, {ActivationKind::softplus}, {}, 3.0, 0.1, 4});
  const Eigen::MatrixXd x = models::random_inputs(10, 4, 1.0, 0.0, 3);
  for (const FaultSpec& spec : kind_cases(0.1)) {
    if (spec.kind == FaultKind::group_crash) continue;  // groups are written for the 3-4-3-2 net
    FaultSpec s = spec;
    const FaultPlan plan({s}, net);
    FunctionalOptions fast, dense;
    dense.fast_path = false;
    const ErrorStats a = FunctionalEngine(net, x, plan, fast).run(500);
    const ErrorStats b = FunctionalEngine(net, x, plan, dense).run(500);
    for (Eigen::Index i = 0; i < x.cols(); ++i) {
      for (Eigen::Index k = 0; k < net.output_size(); ++k) {
        EXPECT_NEAR(a.delta(i, k).mean(), b.delta(i, k).mean(), 1e-12 * (1 + std::abs(b.delta(i, k).mean()))) << s.describe();
        EXPECT_NEAR(a.delta(i, k).std(), b.delta(i, k).std(), 1e-9 * (1 + b.delta(i, k).std())) << s.describe();
      }
    }
  }
}

// The fast path visits the inferences input by input, the dense path trial by trial: the
// per-trial accuracy (which needs every input of a trial) must come out the same.
TEST(FunctionalEngine, FastAndDensePathsCountTheSameAccuracy) {
  const models::Network net = models::make_random_network({{6, 12, 4}, {ActivationKind::tanh}, {}, 2.0, 0.0, 8});
  const Eigen::MatrixXd x = models::random_inputs(6, 7, 1.0, 0.0, 4);
  std::vector<int> labels;  // the clean predictions: faults can only lower the accuracy from 1
  const Eigen::MatrixXd clean = net.forward_batch(x);
  for (Eigen::Index n = 0; n < x.cols(); ++n) {
    Eigen::Index best = 0;
    clean.col(n).maxCoeff(&best);
    labels.push_back(static_cast<int>(best));
  }
  const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {0, 1}, 0.5}}, net);
  FunctionalOptions fast, dense;
  dense.fast_path = false;
  const ErrorStats a = FunctionalEngine(net, x, plan, fast, labels).run(300);
  const ErrorStats b = FunctionalEngine(net, x, plan, dense, labels).run(300);
  ASSERT_EQ(a.accuracy().count(), 300u);
  EXPECT_EQ(b.accuracy().count(), 300u);
  EXPECT_DOUBLE_EQ(a.accuracy().mean(), b.accuracy().mean());
  EXPECT_DOUBLE_EQ(a.accuracy().variance(), b.accuracy().variance());
  EXPECT_GT(a.accuracy().variance(), 0.0);  // faults do change the accuracy from trial to trial
}

// ErrorStats::add_block (the fast path) against add() per trial: the same statistics to rounding,
// the same histogram samples.
TEST(ErrorStats, BlockAddEqualsPerTrialAdd) {
  const Eigen::Index K = 3;
  const std::size_t T = 50;
  Eigen::MatrixXd d = Eigen::MatrixXd::Random(K, static_cast<Eigen::Index>(T));
  d.col(7).setZero();
  ErrorStats per_trial(2, K), block(2, K);
  for (std::size_t t = 0; t < T; ++t) per_trial.add(0, d.col(static_cast<Eigen::Index>(t)).data());
  block.add_block(0, d.data(), T);
  for (Eigen::Index k = 0; k < K; ++k) {
    EXPECT_NEAR(block.delta(0, k).mean(), per_trial.delta(0, k).mean(), 1e-15);
    EXPECT_NEAR(block.delta(0, k).m2(), per_trial.delta(0, k).m2(), 1e-13);
    EXPECT_NEAR(block.abs_delta(0, k).m4(), per_trial.abs_delta(0, k).m4(), 1e-13);
  }
  for (auto norm : {ErrorStats::norm_1, ErrorStats::norm_2, ErrorStats::norm_inf}) {
    EXPECT_NEAR(block.norm(0, norm).mean(), per_trial.norm(0, norm).mean(), 1e-14);
    EXPECT_NEAR(block.norm(0, norm).m2(), per_trial.norm(0, norm).m2(), 1e-13);
  }
  EXPECT_EQ(block.samples(), per_trial.samples());
  EXPECT_EQ(block.trials(), T);
}

TEST(FunctionalEngine, NoFaultsMeansNoError) {
  const models::Network net = tiny(ActivationKind::relu, 1, 1);
  const Eigen::MatrixXd x = models::random_inputs(3, 2, 1.0, 0.0, 1);
  const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.0}}, net);
  const ErrorStats s = FunctionalEngine(net, x, plan, {}).run(100);
  EXPECT_EQ(s.trials(), 100u);
  EXPECT_EQ(s.delta(1, 1).mean(), 0.0);
  EXPECT_EQ(s.delta(1, 1).std(), 0.0);
  const Eigen::MatrixXd out = FunctionalEngine(net, x, plan, {}).trial_outputs(3);
  EXPECT_EQ(out, net.forward_batch(x));
}

TEST(FunctionalEngine, TrialOutputsApplyTheDrawnFaults) {
  // p = 1 neuron crash at the output layer: every output is 0.
  const models::Network net = tiny(ActivationKind::relu, 1, 1);
  const Eigen::MatrixXd x = models::random_inputs(3, 2, 1.0, 0.0, 1);
  const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {3}, 1.0}}, net);
  EXPECT_TRUE(FunctionalEngine(net, x, plan, {}).trial_outputs(0).isZero());
  // p = 1 synapse crash on W_1: the first layer sees only its bias.
  const FaultPlan w1({FaultSpec{FaultKind::synapse_crash, {1}, 1.0}}, net);
  const Eigen::VectorXd zero_input = Eigen::VectorXd::Zero(3);
  const Eigen::MatrixXd out = FunctionalEngine(net, x, w1, {}).trial_outputs(0);
  EXPECT_TRUE(out.col(0).isApprox(net.forward(zero_input), 1e-14));
}

}  // namespace
}  // namespace nfsim::sim
