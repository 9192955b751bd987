#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "faults/bound_model.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/layer/dense_layer.h"
#include "models/random_network.h"
#include "sim/functional/exact_oracle.h"
#include "sim/functional/functional_engine.h"

namespace nfsim::models::bounds {
namespace {

using faults::FaultKind;
using faults::FaultPlan;
using faults::FaultSpec;

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

BoundSet bounds_for(const Network& net, const std::vector<FaultSpec>& specs, const Eigen::VectorXd& x) {
  const FaultPlan plan(specs, net);
  return BoundCalculator(net, faults::to_bound_model(plan)).compute(x);
}

// b4 is exact to first order: its gap to the exact mean shrinks as p^2.
TEST(Bounds, B4GapToExactMeanIsSecondOrder) {
  const Network net = make_random_network({{3, 5, 4, 2}, {ActivationKind::sigmoid, 4.0}, {}, 3.0, 0.1, 8});
  const Eigen::MatrixXd x = random_inputs(3, 1, 2.0, 0.1, 3);
  std::vector<std::vector<FaultSpec>> plans;
  plans.push_back({FaultSpec{FaultKind::neuron_crash, {1, 2}, 0}});
  plans.push_back({FaultSpec{FaultKind::synapse_crash, {2}, 0}});
  FaultSpec group{FaultKind::group_crash, {}, 0};
  group.groups.push_back({"a", {{1, 0}, {1, 1}}, {}});
  group.groups.push_back({"b", {{2, 3}}, {{3, 0, 1}}});
  group.groups.push_back({"c", {}, {{2, 1, 0}, {2, 1, 1}}});
  plans.push_back({group});
  for (auto specs : plans) {
    double gaps[2][2];
    for (int i = 0; i < 2; ++i) {
      const double p = i == 0 ? 0.004 : 0.002;
      for (auto& s : specs) s.probability = p;
      const FaultPlan plan(specs, net);
      const sim::ExactMoments exact = sim::exact_moments(net, x, plan);
      const BoundSet b = BoundCalculator(net, faults::to_bound_model(plan)).compute(x.col(0));
      for (int k = 0; k < 2; ++k) gaps[i][k] = std::abs(b.at("b4").mean[k] - exact.mean(k, 0));
    }
    for (int k = 0; k < 2; ++k) {
      EXPECT_NEAR(gaps[0][k] / gaps[1][k], 4.0, 0.4) << specs[0].describe() << " output " << k;
    }
  }
}

TEST(Bounds, B3EqualsB4OnALinearNetwork) {
  const Network net = make_random_network({{4, 6, 5, 3}, {ActivationKind::identity}, {}, 2.0, 0.1, 2});
  const Eigen::VectorXd x = random_inputs(4, 1, 1.0, 0.0, 1).col(0);
  FaultSpec stuck{FaultKind::neuron_stuck_at, {0, 2}, 0.05};
  stuck.value = 0.3;
  FaultSpec group{FaultKind::group_crash, {}, 0.02};
  // Members in one layer (a crossbar row, an array): their effects add exactly in a linear net.
  group.groups.push_back({"g", {{1, 2}, {1, 3}}, {{1, 0, 0}, {1, 1, 3}}});
  group.groups.push_back({"h", {{2, 1}}, {}});
  for (const auto& specs : std::vector<std::vector<FaultSpec>>{{FaultSpec{FaultKind::neuron_crash, {0, 1, 2, 3}, 0.05}},
                                                               {FaultSpec{FaultKind::synapse_crash, {1, 2, 3}, 0.03}},
                                                               {stuck},
                                                               {group}}) {
    const BoundSet b = bounds_for(net, specs, x);
    EXPECT_TRUE(b.at("b3").mean.isApprox(b.at("b4").mean, 1e-10)) << specs[0].describe();
    EXPECT_TRUE(b.at("b3").std.isApprox(b.at("b4").std, 1e-10)) << specs[0].describe();
  }
}

// sum_ij W_ij df/dW_ij = sum_j a_j df/da_j with a = W y (the pre-activation without bias):
// weight gradients by central differences, H by reverse mode; and the synapse-crash b3 mean is
// -q times that sum.
TEST(Bounds, WeightGradientIdentityAndSynapseTaylor) {
  const Network net = make_random_network({{4, 5, 3, 2}, {ActivationKind::tanh}, {ActivationKind::sigmoid}, 2.0, 0.1, 6});
  const Eigen::VectorXd x = random_inputs(4, 1, 1.0, 0.0, 5).col(0);
  const ForwardTrace t = net.trace(x);
  for (int l = 1; l <= net.num_layers(); ++l) {
    Eigen::VectorXd lhs = Eigen::VectorXd::Zero(2);
    const double h = 1e-6;
    for (Eigen::Index j = 0; j < net.width(l); ++j) {
      for (Eigen::Index i = 0; i < net.width(l - 1); ++i) {
        std::vector<DenseParams> plus = dense_params(net, "test"), minus = plus;
        plus[l - 1].weights(j, i) += h;
        minus[l - 1].weights(j, i) -= h;
        const Eigen::VectorXd grad = (dense_network(plus).forward(x) - dense_network(minus).forward(x)) / (2 * h);
        lhs += as_dense(net.layer(l), "test").weights()(j, i) * grad;
      }
    }
    const Eigen::VectorXd a = t.z[l] - net.layer(l).bias();
    const Eigen::VectorXd rhs = net.jacobian_wrt_preactivations(t, l) * a;
    EXPECT_TRUE(lhs.isApprox(rhs, 1e-6)) << "layer " << l << ": " << lhs.transpose() << " vs " << rhs.transpose();
    const BoundSet b = bounds_for(net, {FaultSpec{FaultKind::synapse_crash, {l}, 0.01}}, x);
    EXPECT_TRUE(b.at("b3").mean.isApprox(-0.01 * rhs, 1e-10)) << "layer " << l;
  }
}

TEST(Bounds, PaperBoundsByHand) {
  const Network net = make_random_network({{3, 4, 2}, {ActivationKind::relu}, {}, 2.0, 0.1, 4});
  const Eigen::VectorXd x = random_inputs(3, 1, 1.0, 0.5, 2).col(0);
  const double p = 0.1;
  const BoundSet b = bounds_for(net, {FaultSpec{FaultKind::neuron_crash, {1}, p}}, x);
  const ForwardTrace t = net.trace(x);
  const Eigen::MatrixXd& w2 = as_dense(net.layer(2), "test").weights();
  EXPECT_NEAR(b.at("b1_paper_1").mean[0], p * w2.cwiseAbs().colwise().sum().maxCoeff() * x.lpNorm<1>(), 1e-12);
  EXPECT_NEAR(b.at("b1_inf").mean[0], p * w2.cwiseAbs().rowwise().sum().maxCoeff() * t.y[1].lpNorm<Eigen::Infinity>(), 1e-12);
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(w2);
  EXPECT_NEAR(b.at("b1_2").mean[0], p * svd.singularValues()[0] * t.y[1].norm(), 1e-12);
  EXPECT_TRUE(b.at("b2").mean.isApprox(p * w2.cwiseAbs() * t.y[1], 1e-12));
  EXPECT_TRUE(b.at("b2").std.isApprox((p * w2.cwiseProduct(w2) * t.y[1].cwiseProduct(t.y[1])).cwiseSqrt(), 1e-12));
  const double wc = p * 4 * t.y[1].maxCoeff() * w2.cwiseAbs().maxCoeff();
  EXPECT_NEAR(b.at("worst_case").mean[1], wc, 1e-12);
  EXPECT_NEAR(b.at("sum_norms_fro").mean[0], as_dense(net.layer(1), "test").weights().norm() + w2.norm(), 1e-12);
  // Only the paper's setting gets b1/b2/worst_case.
  EXPECT_EQ(bounds_for(net, {FaultSpec{FaultKind::synapse_crash, {1}, p}}, x).count("b2"), 0u);
}

// The magnitude bounds hold against Monte Carlo on a random network.
TEST(Bounds, MagnitudeBoundsHoldAgainstMonteCarlo) {
  const Network net = make_random_network({{10, 12, 8, 3}, {ActivationKind::sigmoid, 4.0}, {}, 3.0, 0.1, 3});
  const Eigen::MatrixXd x = random_inputs(10, 3, 2.0, 0.1, 4);
  const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1, 2}, 0.05}}, net);
  const sim::ErrorStats stats = sim::FunctionalEngine(net, x, plan, {}).run(20000);
  const BoundCalculator calc(net, faults::to_bound_model(plan));
  for (Eigen::Index n = 0; n < x.cols(); ++n) {
    const BoundSet b = calc.compute(x.col(n));
    double mean_norm1 = 0;
    for (Eigen::Index k = 0; k < 3; ++k) {
      EXPECT_LE(stats.abs_delta(n, k).mean(), b.at("worst_case").mean[k]);
      mean_norm1 += std::abs(stats.delta(n, k).mean());
    }
    EXPECT_LE(mean_norm1, b.at("b1_1").mean[0]);
  }
}

// Crashes in several layers add: p = 0.01 on every layer of a random relu [50, 51, 52, 53].
// Common random numbers: the joint plan has one spec per layer, and each single-layer run keeps
// the same four specs with the other probabilities at 0, so layer l fails in the same places in
// both; the difference then measures the interaction, not sampling noise.
TEST(Bounds, CrashesInSeveralLayersAdd) {
  const Network net = make_random_network({{50, 51, 52, 53}, {ActivationKind::relu}, {}, 3.0, 0.1, 1});
  const Eigen::MatrixXd x = random_inputs(50, 1, 2.0, 0.1, 2);
  const std::uint64_t trials = 200000;
  sim::FunctionalOptions opt;
  opt.seed = 77;
  auto plan_with = [&](int only) {
    std::vector<FaultSpec> specs;
    for (int l = 0; l <= 3; ++l) specs.push_back({FaultKind::neuron_crash, {l}, (only < 0 || only == l) ? 0.01 : 0.0});
    return FaultPlan(specs, net);
  };
  const FaultPlan all = plan_with(-1);
  const sim::ErrorStats joint = sim::FunctionalEngine(net, x, all, opt).run(trials);
  Eigen::VectorXd sum_mean = Eigen::VectorXd::Zero(53), sum_var = sum_mean, joint_mean = sum_mean, joint_var = sum_mean,
                  joint_se = sum_mean;
  for (int l = 0; l <= 3; ++l) {
    const FaultPlan one = plan_with(l);
    const sim::ErrorStats s = sim::FunctionalEngine(net, x, one, opt).run(trials);
    for (int k = 0; k < 53; ++k) {
      sum_mean[k] += s.delta(0, k).mean();
      sum_var[k] += s.delta(0, k).variance();
    }
  }
  for (int k = 0; k < 53; ++k) {
    joint_mean[k] = joint.delta(0, k).mean();
    joint_var[k] = joint.delta(0, k).variance();
    joint_se[k] = joint.delta(0, k).mean_half_width(1.0);
  }
  // The mean error is small beside its spread (crashes of opposite sign cancel), so mean
  // differences are measured against the error's RMS size sqrt(|E Delta|^2 + sum Var Delta).
  const double rms = std::sqrt(joint_mean.squaredNorm() + joint_var.sum());
  const double mean_rel = (joint_mean - sum_mean).norm() / rms;
  const double var_rel = std::abs(joint_var.sum() - sum_var.sum()) / sum_var.sum();
  std::printf("joint vs sum of single layers: mean %.4f of the RMS error (%.3f of |mean|), variance %.4f\n", mean_rel,
              (joint_mean - sum_mean).norm() / joint_mean.norm(), var_rel);
  EXPECT_LT(mean_rel, 0.05);
  EXPECT_LT(var_rel, 0.05);
  // The bounds' sums track the joint measurement: b4's mean within a few percent of the RMS
  // error and its variance within a few percent (b3 is first order in each unit's size: looser).
  const BoundSet b = BoundCalculator(net, faults::to_bound_model(all)).compute(x.col(0));
  const double b4_mean_rel = (b.at("b4").mean - joint_mean).norm() / rms;
  const double b4_var_rel = std::abs(b.at("b4").std.squaredNorm() - joint_var.sum()) / joint_var.sum();
  const double b3_var_rel = std::abs(b.at("b3").std.squaredNorm() - joint_var.sum()) / joint_var.sum();
  std::printf("bounds vs joint: b4 mean %.4f of the RMS error, b4 variance %.4f, b3 variance %.4f\n", b4_mean_rel,
              b4_var_rel, b3_var_rel);
  EXPECT_LT(b4_mean_rel, 0.05);
  EXPECT_LT(b4_var_rel, 0.05);
  EXPECT_LT(b3_var_rel, 0.2);
}

// The paper's experiment: 100 random networks [20, 20, 20, 1], relu, sigma = 3, mu = 0.1, one
// input 2 randn + 0.1 each, p = 0.01 at layer 1, 5 * 10^4 trials. b3 and b4 correlate with the
// experiment above 0.99, for the mean and for the std.
TEST(Bounds, PaperReproductionRandomNetworks) {
  std::vector<double> exp_mean, exp_std, b3_mean, b3_std, b4_mean, b4_std;
  for (int net_index = 0; net_index < 100; ++net_index) {
    const Network net = make_random_network({{20, 20, 20, 1}, {ActivationKind::relu}, {}, 3.0, 0.1,
                                             static_cast<std::uint64_t>(1000 + net_index)});
    const Eigen::MatrixXd x = random_inputs(20, 1, 2.0, 0.1, static_cast<std::uint64_t>(5000 + net_index));
    const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.01}}, net);
    sim::FunctionalOptions opt;
    opt.seed = static_cast<std::uint64_t>(net_index);
    const sim::ErrorStats s = sim::FunctionalEngine(net, x, plan, opt).run(50000);
    const BoundSet b = BoundCalculator(net, faults::to_bound_model(plan)).compute(x.col(0));
    exp_mean.push_back(s.delta(0, 0).mean());
    exp_std.push_back(s.delta(0, 0).std());
    b3_mean.push_back(b.at("b3").mean[0]);
    b3_std.push_back(b.at("b3").std[0]);
    b4_mean.push_back(b.at("b4").mean[0]);
    b4_std.push_back(b.at("b4").std[0]);
  }
  const double c[4] = {pearson(b3_mean, exp_mean), pearson(b3_std, exp_std), pearson(b4_mean, exp_mean),
                       pearson(b4_std, exp_std)};
  std::printf("Pearson vs experiment: b3 mean %.4f std %.4f, b4 mean %.4f std %.4f\n", c[0], c[1], c[2], c[3]);
  for (double v : c) EXPECT_GT(v, 0.99);
}

TEST(Bounds, NetworkProfile) {
  const Network net = make_random_network({{4, 5, 2}, {ActivationKind::sigmoid, 4.0}, {}, 2.0, 0.0, 1});
  const Eigen::MatrixXd x = random_inputs(4, 3, 1.0, 0.0, 1);
  const NetworkProfile prof = network_profile(net, x);
  ASSERT_EQ(prof.layers.size(), 3u);
  EXPECT_NEAR(prof.layers[1].norm_fro, as_dense(net.layer(1), "test").weights().norm(), 1e-12);
  EXPECT_NEAR(prof.lipschitz_product, prof.layers[1].norm_2 * prof.layers[2].norm_2, 1e-12);  // K = 4/4 = 1
  // The b3 variance per unit p is what b3 reports at p = 1, averaged over the inputs.
  const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 1.0}}, net);
  const BoundCalculator calc(net, faults::to_bound_model(plan));
  Eigen::VectorXd avg = Eigen::VectorXd::Zero(2);
  for (int c = 0; c < 3; ++c) avg += calc.compute(x.col(c)).at("b3").std.cwiseAbs2() / 3.0;
  EXPECT_TRUE(prof.layers[1].b3_variance_per_p.isApprox(avg, 1e-12));
}

// compute(x, families) does only the asked work and gives the same values as the full set.
TEST(Bounds, SelectedFamiliesEqualTheFullSet) {
  const Network net = make_random_network({{5, 7, 6, 3}, {ActivationKind::tanh}, {}, 2.0, 0.1, 2});
  const Eigen::MatrixXd x = random_inputs(5, 2, 1.0, 0.0, 3);
  const FaultPlan crashes({FaultSpec{FaultKind::neuron_crash, {0, 1, 2}, 0.05}}, net);
  const FaultPlan mixed({FaultSpec{FaultKind::neuron_crash, {1}, 0.05}, FaultSpec{FaultKind::synapse_crash, {2, 3}, 0.02}}, net);
  for (const FaultPlan* plan : {&crashes, &mixed}) {
    const BoundCalculator calc(net, faults::to_bound_model(*plan));
    const BoundSet all = calc.compute(x.col(1));
    for (const std::vector<std::string>& families : std::vector<std::vector<std::string>>{{"b3"}, {"b4"}, {"b3", "b4"}, {"sum_norms"}}) {
      const BoundSet some = calc.compute(x.col(1), families);
      ASSERT_FALSE(some.empty());
      for (const auto& [name, value] : some) {
        const bool asked = std::any_of(families.begin(), families.end(), [&](const std::string& f) { return name.rfind(f, 0) == 0; });
        EXPECT_TRUE(asked) << name << " computed but not asked for";
        ASSERT_TRUE(all.count(name)) << name;
        EXPECT_EQ(value.mean, all.at(name).mean) << name;
        EXPECT_EQ(value.std, all.at(name).std) << name;
      }
    }
  }
  const BoundCalculator calc(net, faults::to_bound_model(crashes));
  const BoundSet paper = calc.compute(x.col(0), {"b1"});
  EXPECT_TRUE(paper.count("b1_2") && paper.count("b1_paper_2") && !paper.count("b3"));
}

}  // namespace
}  // namespace nfsim::models::bounds
