#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "models/layer/dense_layer.h"
#include "models/network.h"
#include "models/random_network.h"

namespace nfsim::models {
namespace {

Network tiny_network() {
  DenseParams l1{(Eigen::MatrixXd(2, 3) << 1, -1, 0.5, 2, 0, -1).finished(), Eigen::Vector2d(0.1, -0.2),
                 Activation{ActivationKind::relu}};
  DenseParams l2{(Eigen::MatrixXd(1, 2) << 3, -2).finished(), Eigen::VectorXd::Constant(1, 0.5),
                 Activation{ActivationKind::identity}};
  return dense_network({l1, l2});
}

Network random_network(ActivationKind kind, double scale, std::vector<int> widths, std::uint64_t seed) {
  RandomNetworkSpec spec;
  spec.widths = std::move(widths);
  spec.activation = Activation{kind, scale, 0.2};
  spec.output_activation = Activation{ActivationKind::tanh};  // a nonlinear output checks its factor too
  spec.sigma = 3.0;
  spec.mu = 0.1;
  spec.seed = seed;
  return make_random_network(spec);
}

TEST(Network, ForwardByHand) {
  const Network net = tiny_network();
  Eigen::Vector3d x(1.0, 2.0, 4.0);
  // z1 = [1-2+2+0.1, 2-4-0.2] = [1.1, -2.2] -> relu [1.1, 0]; out = 3.3 + 0.5 = 3.8
  EXPECT_NEAR(net.forward(x)[0], 3.8, 1e-12);
  const ForwardTrace t = net.trace(x);
  EXPECT_NEAR(t.z[1][1], -2.2, 1e-12);
  EXPECT_EQ(t.y[1][1], 0.0);
  EXPECT_EQ(t.y[0], x);
  EXPECT_EQ(net.width(0), 3);
  EXPECT_EQ(net.width(1), 2);
  EXPECT_EQ(net.parameter_count(), 6u + 2u + 2u + 1u);
  EXPECT_EQ(net.describe(), "3-2(relu)-1(identity)");
}

TEST(Network, BatchEqualsPerInputAndTraceAgrees) {
  const Network net = random_network(ActivationKind::sigmoid, 4.0, {6, 9, 7, 3}, 5);
  Eigen::MatrixXd x = Eigen::MatrixXd::Random(6, 11);
  const Eigen::MatrixXd out = net.forward_batch(x);
  const BatchTrace bt = net.trace_batch(x);
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    const Eigen::VectorXd single = net.forward(x.col(c));
    EXPECT_TRUE(out.col(c).isApprox(single, 1e-14));
    const ForwardTrace t = net.trace(x.col(c));
    for (int l = 1; l <= net.num_layers(); ++l) {
      EXPECT_TRUE(bt.y[l].col(c).isApprox(t.y[l], 1e-14));
      EXPECT_TRUE(bt.z[l].col(c).isApprox(t.z[l], 1e-14));
      EXPECT_TRUE(net.forward_from(l, t.y[l]).isApprox(single, 1e-14));
    }
  }
}

// Central finite differences of the output w.r.t. y_l (and z_l) against reverse mode.
void check_jacobians(const Network& net, const Eigen::VectorXd& x, bool through_softmax) {
  const ForwardTrace t = net.trace(x);
  const double h = 1e-6;
  auto output_from_y = [&](int l, const Eigen::VectorXd& y) {
    const Eigen::VectorXd out = net.forward_from(l, y);
    return (through_softmax && net.softmax_output()) ? softmax(out) : out;
  };
  for (int l = 0; l <= net.num_layers(); ++l) {
    const Eigen::MatrixXd g = net.jacobian_wrt_activations(t, l, through_softmax);
    ASSERT_EQ(g.rows(), net.output_size());
    ASSERT_EQ(g.cols(), net.width(l));
    for (Eigen::Index i = 0; i < net.width(l); ++i) {
      Eigen::VectorXd yp = t.y[l], ym = t.y[l];
      yp[i] += h;
      ym[i] -= h;
      const Eigen::VectorXd fd = (output_from_y(l, yp) - output_from_y(l, ym)) / (2 * h);
      for (Eigen::Index k = 0; k < fd.size(); ++k) {
        EXPECT_NEAR(g(k, i), fd[k], 1e-3 * std::max(1e-2, std::abs(fd[k]))) << "layer " << l << " unit " << i;
      }
    }
    if (l == 0) continue;
    const Eigen::MatrixXd hz = net.jacobian_wrt_preactivations(t, l, through_softmax);
    const Activation& act = net.layer(l).activation();
    for (Eigen::Index i = 0; i < net.width(l); ++i) {
      Eigen::VectorXd zp = t.z[l], zm = t.z[l];
      zp[i] += h;
      zm[i] -= h;
      const Eigen::VectorXd fd = (output_from_y(l, act.apply(zp)) - output_from_y(l, act.apply(zm))) / (2 * h);
      for (Eigen::Index k = 0; k < fd.size(); ++k) {
        EXPECT_NEAR(hz(k, i), fd[k], 1e-3 * std::max(1e-2, std::abs(fd[k]))) << "z layer " << l << " unit " << i;
      }
    }
  }
}

class JacobianPerActivation : public ::testing::TestWithParam<std::string> {};

TEST_P(JacobianPerActivation, MatchesFiniteDifferences) {
  const ActivationKind kind = parse_activation_kind(GetParam());
  for (double scale : {1.0, 4.0}) {
    const Network net = random_network(kind, scale, {5, 8, 6, 3}, 11);
    Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(5, -1.3, 1.7);
    check_jacobians(net, x, false);
  }
}

INSTANTIATE_TEST_SUITE_P(AllActivations, JacobianPerActivation,
                         ::testing::Values("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"));

TEST(Network, JacobianThroughSoftmax) {
  Network base = random_network(ActivationKind::tanh, 1.0, {4, 6, 3}, 3);
  const Network net = dense_network(dense_params(base, "test"), true);
  check_jacobians(net, Eigen::Vector4d(0.3, -0.2, 1.0, 0.5), true);
  // Without through_softmax it is the pre-softmax Jacobian.
  const ForwardTrace t = net.trace(Eigen::Vector4d(0.3, -0.2, 1.0, 0.5));
  EXPECT_TRUE(net.jacobian_wrt_activations(t, 1).isApprox(base.jacobian_wrt_activations(base.trace(t.y[0]), 1)));
}

TEST(Network, LinearNetworkJacobianIsTheWeightProduct) {
  RandomNetworkSpec spec{{4, 5, 3}, Activation{ActivationKind::identity}, Activation{ActivationKind::identity}, 2.0, 0.0, 9};
  const Network net = make_random_network(spec);
  const ForwardTrace t = net.trace(Eigen::Vector4d(1, 2, 3, 4));
  EXPECT_TRUE(net.jacobian_wrt_activations(t, 0).isApprox(
      as_dense(net.layer(2), "test").weights() * as_dense(net.layer(1), "test").weights(), 1e-14));
}

TEST(Network, RejectsBadShapesAndValues) {
  DenseParams good{Eigen::MatrixXd::Ones(2, 3), Eigen::VectorXd::Zero(2), {}};
  DenseParams wrong_cols{Eigen::MatrixXd::Ones(1, 4), Eigen::VectorXd::Zero(1), {}};
  try {
    dense_network({good, wrong_cols});
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1x4"), std::string::npos) << e.what();
  }
  DenseParams nan = good;
  nan.weights(1, 2) = std::nan("");
  try {
    dense_network({nan});
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("W[1,2]"), std::string::npos) << e.what();
  }
  DenseParams bad_bias{Eigen::MatrixXd::Ones(2, 3), Eigen::VectorXd::Zero(3), {}};
  EXPECT_THROW(dense_network({bad_bias}), core::InputError);
  EXPECT_THROW(dense_network(std::vector<DenseParams>{}), core::InputError);
  const Network net = dense_network({good});
  EXPECT_THROW(net.forward(Eigen::VectorXd::Zero(4)), core::InputError);
  EXPECT_THROW(net.layer(2), core::InputError);
}

TEST(RandomNetwork, DeterministicAndDistributedAsThePaperSays) {
  RandomNetworkSpec spec{{400, 300, 1}, Activation{ActivationKind::relu}, Activation{}, 3.0, 0.1, 1};
  const Network a = make_random_network(spec), b = make_random_network(spec);
  EXPECT_EQ(as_dense(a.layer(1), "test").weights(), as_dense(b.layer(1), "test").weights());
  EXPECT_EQ(a.layer(2).bias(), b.layer(2).bias());
  spec.seed = 2;
  EXPECT_NE(as_dense(make_random_network(spec).layer(1), "test").weights(), as_dense(a.layer(1), "test").weights());
  const Eigen::MatrixXd& w = as_dense(a.layer(1), "test").weights();  // N(0.1, (3/400)^2), 120000 samples
  const double mean = w.mean();
  const double sd = std::sqrt((w.array() - mean).square().mean());
  EXPECT_NEAR(mean, 0.1, 5 * (3.0 / 400) / std::sqrt(w.size()));
  EXPECT_NEAR(sd, 3.0 / 400, 0.02 * 3.0 / 400);
  EXPECT_EQ(a.layer(1).activation().kind, ActivationKind::relu);
  EXPECT_EQ(a.layer(2).activation().kind, ActivationKind::identity);
  EXPECT_THROW(make_random_network({{5}, {}, {}, 1, 0, 1}), core::InputError);
  EXPECT_THROW(make_random_network({{5, 0, 1}, {}, {}, 1, 0, 1}), core::InputError);
  EXPECT_THROW(make_random_network({{5, 1}, {}, {}, -1, 0, 1}), core::InputError);
}

}  // namespace
}  // namespace nfsim::models
