// The functional and exact engines on convolutional networks with pooling stages
// (docs/faults.md, "Convolutional layers"): the fast path (changes propagated through the
// pooling windows they reach) equals the dense path, Monte Carlo converges to the exact
// enumeration, and no faults give exactly no error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/running_stats.h"
#include "faults/fault_plan.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "sim/functional/exact_oracle.h"
#include "sim/functional/functional_engine.h"

namespace nfsim::sim {
namespace {

using faults::FaultKind;
using faults::FaultPlan;
using faults::FaultSpec;
using faults::Persistence;
using models::ActivationKind;

models::Network cnn(const std::string& input, const std::string& layers, ActivationKind act, std::uint64_t seed) {
  models::RandomNetworkSpec spec;
  spec.input_shape = models::parse_input_shape(input);
  spec.layers = models::parse_random_layers(layers);
  spec.activation = models::Activation{act};
  spec.sigma = 3.0;
  spec.mu = 0.05;
  spec.seed = seed;
  return models::make_random_network(spec);
}

// Every fault kind, on layers of `net` (conv layers 1 and 2, dense layer 3).
std::vector<FaultSpec> conv_kind_cases(double p) {
  std::vector<FaultSpec> cases;
  cases.push_back({FaultKind::neuron_crash, {1}, p});
  cases.push_back({FaultKind::neuron_crash, {0, 2}, p, Persistence::permanent});
  cases.push_back({FaultKind::synapse_crash, {1, 2}, p});
  FaultSpec stuck_n{FaultKind::neuron_stuck_at, {1, 2}, p};
  stuck_n.value = 0.8;
  cases.push_back(stuck_n);
  FaultSpec stuck_w{FaultKind::synapse_stuck_at, {2}, p, Persistence::permanent};
  stuck_w.value = -0.5;
  cases.push_back(stuck_w);
  FaultSpec flip{FaultKind::weight_bit_flip, {1}, p};
  flip.bit = 6;
  flip.format = {8, 5};
  cases.push_back(flip);
  FaultSpec group{FaultKind::group_crash, {}, p};
  // A crossbar column of conv layer 1 (output channel 0, every tap) and a neuron array's channel.
  group.groups.push_back({"col0", {}, {{1, 0, 0}, {1, 0, 1}, {1, 0, 2}, {1, 0, 3}}});
  group.groups.push_back({"channel", {{1, 0}, {1, 1}, {1, 2}}, {}});
  group.groups.push_back({"mixed", {{2, 1}}, {{2, 0, 1}, {3, 1, 1}}});
  cases.push_back(group);
  return cases;
}

// Identical statistics from the fast path and the dense path, for every kind, with max and
// average pooling (overlapping, padded windows included).
TEST(FunctionalConv, FastPathEqualsDensePath) {
  const std::vector<std::pair<std::string, std::string>> nets = {
      {"1x8x8", "conv:3:2:p=1,maxpool:2,conv:4:3:s=1,avgpool:2:s=1:p=1,dense:3"},
      {"2x7x7", "maxpool:2:s=1,conv:4:3:s=2:p=1,conv:4:3:g=4:p=1,maxpool:3:s=2,dense:3"},
  };
  for (const auto& [input, layers] : nets) {
    for (auto act : {ActivationKind::relu, ActivationKind::tanh}) {
      const models::Network net = cnn(input, layers, act, 5);
      const Eigen::MatrixXd x = models::random_inputs(net.input_size(), 4, 1.0, 0.0, 3);
      for (double p : {0.02, 0.3}) {
        for (const FaultSpec& spec : conv_kind_cases(p)) {
          const FaultPlan plan({spec}, net);
          FunctionalOptions fast, dense;
          dense.fast_path = false;
          const ErrorStats a = FunctionalEngine(net, x, plan, fast).run(300);
          const ErrorStats b = FunctionalEngine(net, x, plan, dense).run(300);
          for (Eigen::Index i = 0; i < x.cols(); ++i) {
            for (Eigen::Index k = 0; k < net.output_size(); ++k) {
              const double m = b.delta(i, k).mean(), s = b.delta(i, k).std();
              ASSERT_NEAR(a.delta(i, k).mean(), m, 1e-12 * (1 + std::abs(m))) << net.describe() << " " << spec.describe();
              ASSERT_NEAR(a.delta(i, k).std(), s, 1e-9 * (1 + s)) << net.describe() << " " << spec.describe();
            }
          }
        }
      }
    }
  }
}

// The tiny network of the exact check: a 1x4x4 input, conv 1->1 2x2 (9 neurons, 4 shared
// synapses), max pooling 2x2 stride 1, conv 1->2 2x2 over the pooled 2x2 (two outputs).
TEST(FunctionalConv, MonteCarloConvergesToTheExactOracle) {
  const double z99 = core::normal_quantile_two_sided(0.99);
  int checks = 0, outside = 0;
  for (auto act : {ActivationKind::relu, ActivationKind::tanh}) {
    const models::Network net = cnn("1x4x4", "conv:1:2,maxpool:2:s=1,conv:2:2", act, 9);
    ASSERT_EQ(net.width(1), 9);
    const Eigen::MatrixXd x = models::random_inputs(16, 3, 2.0, 0.1, 11);
    std::vector<FaultSpec> specs;
    specs.push_back({FaultKind::neuron_crash, {1}, 0.2});
    specs.push_back({FaultKind::synapse_crash, {1, 2}, 0.2});
    FaultSpec stuck{FaultKind::neuron_stuck_at, {1}, 0.1, Persistence::permanent};
    stuck.value = 2.0;
    specs.push_back(stuck);
    FaultSpec group{FaultKind::group_crash, {}, 0.3};
    group.groups.push_back({"tap", {}, {{1, 0, 0}, {1, 0, 3}}});
    group.groups.push_back({"corner", {{1, 0}, {1, 8}}, {{2, 1, 2}}});
    specs.push_back(group);
    for (const FaultSpec& spec : specs) {
      const FaultPlan plan({spec}, net);
      const ExactMoments exact = exact_moments(net, x, plan);
      FunctionalOptions opt;
      opt.seed = 77;
      const ErrorStats stats = FunctionalEngine(net, x, plan, opt).run(20000);
      for (Eigen::Index n = 0; n < x.cols(); ++n) {
        for (Eigen::Index k = 0; k < net.output_size(); ++k) {
          const core::RunningStats& s = stats.delta(n, k);
          const double gap = std::abs(s.mean() - exact.mean(k, n));
          const double hw = s.mean_half_width(z99) + 1e-12;
          ++checks;
          if (gap > hw) ++outside;
          EXPECT_LE(gap, hw * 4.5 / 2.58) << spec.describe() << " input " << n << " output " << k;
          const double std_gap = std::abs(s.std() - std::sqrt(exact.variance(k, n)));
          EXPECT_LE(std_gap, s.std_half_width(z99) * 4.5 / 2.58 + 1e-9) << spec.describe() << " std";
        }
      }
    }
  }
  EXPECT_LE(outside, checks * 5 / 100 + 1) << outside << " of " << checks << " outside the 99% interval";
  std::printf("%d of %d exact means outside the measured 99%% interval\n", outside, checks);
}

TEST(FunctionalConv, NoFaultsMeansExactlyNoError) {
  const models::Network net = cnn("1x8x8", "conv:3:2:p=1,maxpool:2,conv:4:3,avgpool:2:s=1:p=1,dense:3",
                                  ActivationKind::relu, 2);
  const Eigen::MatrixXd x = models::random_inputs(net.input_size(), 3, 1.0, 0.0, 4);
  for (const FaultSpec& spec : conv_kind_cases(0.0)) {
    const FaultPlan plan({spec}, net);
    for (bool fast : {true, false}) {
      FunctionalOptions opt;
      opt.fast_path = fast;
      const ErrorStats stats = FunctionalEngine(net, x, plan, opt).run(50);
      for (Eigen::Index n = 0; n < x.cols(); ++n) {
        for (Eigen::Index k = 0; k < net.output_size(); ++k) {
          EXPECT_EQ(stats.delta(n, k).mean(), 0.0) << spec.describe();
          EXPECT_EQ(stats.delta(n, k).std(), 0.0) << spec.describe();
        }
      }
    }
  }
}

}  // namespace
}  // namespace nfsim::sim
