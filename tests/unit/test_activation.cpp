#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "models/activation.h"

namespace nfsim::models {
namespace {

std::vector<Activation> all_activations() {
  std::vector<Activation> acts;
  for (const auto& name : activation_names()) {
    for (double scale : {1.0, 4.0, 0.5}) {
      Activation a;
      a.kind = parse_activation_kind(name);
      a.scale = scale;
      a.alpha = 0.2;
      acts.push_back(a);
    }
  }
  return acts;
}

TEST(Activation, KnownValues) {
  Eigen::VectorXd z(3);
  z << -2.0, 0.5, 3.0;
  Activation relu{ActivationKind::relu};
  EXPECT_EQ(relu.apply(z), Eigen::Vector3d(0.0, 0.5, 3.0));
  Activation leaky{ActivationKind::leaky_relu, 1.0, 0.1};
  EXPECT_DOUBLE_EQ(leaky.apply(z)[0], -0.2);
  Activation sig{ActivationKind::sigmoid, 4.0};
  EXPECT_DOUBLE_EQ(sig.apply(z)[1], 1.0 / (1.0 + std::exp(-2.0)));
  Activation sp{ActivationKind::softplus};
  EXPECT_NEAR(sp.apply(z)[2], std::log1p(std::exp(3.0)), 1e-15);
  Activation th{ActivationKind::tanh};
  EXPECT_DOUBLE_EQ(th.apply(z)[0], std::tanh(-2.0));
  Activation id{ActivationKind::identity, 3.0};
  EXPECT_DOUBLE_EQ(id.apply(z)[2], 9.0);
  // Extreme inputs stay finite.
  Eigen::VectorXd big(2);
  big << -800.0, 800.0;
  EXPECT_TRUE(sig.apply(big).allFinite());
  EXPECT_TRUE(sp.apply(big).allFinite());
}

TEST(Activation, DerivativeMatchesCentralDifferences) {
  Eigen::VectorXd z = Eigen::VectorXd::LinSpaced(41, -3.05, 2.95);  // avoids the kink at 0
  const double h = 1e-6;
  for (const Activation& a : all_activations()) {
    const Eigen::VectorXd d = a.derivative(z);
    const Eigen::VectorXd fd = (a.apply(Eigen::VectorXd(z.array() + h)) - a.apply(Eigen::VectorXd(z.array() - h))) / (2 * h);
    for (Eigen::Index i = 0; i < z.size(); ++i) {
      EXPECT_NEAR(d[i], fd[i], 1e-3 * std::max(1.0, std::abs(fd[i]))) << a.describe() << " at z=" << z[i];
    }
  }
}

TEST(Activation, LipschitzBoundsTheDerivative) {
  Eigen::VectorXd z = Eigen::VectorXd::LinSpaced(2001, -10, 10);
  for (const Activation& a : all_activations()) {
    EXPECT_LE(a.derivative(z).cwiseAbs().maxCoeff(), a.lipschitz() + 1e-12) << a.describe();
  }
  EXPECT_DOUBLE_EQ((Activation{ActivationKind::sigmoid, 4.0}).lipschitz(), 1.0);  // the paper's sigmoid(4Kz), K=1
}

TEST(Activation, BatchApplyEqualsVectorApply) {
  Eigen::MatrixXd z = Eigen::MatrixXd::Random(5, 7) * 3;
  for (const Activation& a : all_activations()) {
    const Eigen::MatrixXd y = a.apply(z);
    for (Eigen::Index c = 0; c < z.cols(); ++c) EXPECT_EQ(y.col(c), a.apply(Eigen::VectorXd(z.col(c))));
  }
}

TEST(Activation, ParsingNamesTheAllowedValues) {
  EXPECT_EQ(parse_activation_kind("tanh"), ActivationKind::tanh);
  try {
    parse_activation_kind("gelu");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'gelu'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("softplus"), std::string::npos);
  }
  EXPECT_EQ((Activation{ActivationKind::leaky_relu, 2.0, 0.1}).describe(), "leaky_relu(alpha=0.1, scale=2)");
}

TEST(Softmax, SumsToOneAndIsStable) {
  Eigen::VectorXd z(3);
  z << 1000.0, 1001.0, 999.0;
  const Eigen::VectorXd s = softmax(z);
  EXPECT_NEAR(s.sum(), 1.0, 1e-15);
  EXPECT_TRUE(s.allFinite());
  EXPECT_GT(s[1], s[0]);
}

}  // namespace
}  // namespace nfsim::models
