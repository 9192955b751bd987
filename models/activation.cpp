#include "models/activation.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/strings.h"

namespace nfsim::models {
namespace {

double g(ActivationKind kind, double alpha, double u) {
  switch (kind) {
    case ActivationKind::identity: return u;
    case ActivationKind::relu: return u > 0 ? u : 0.0;
    case ActivationKind::leaky_relu: return u > 0 ? u : alpha * u;
    case ActivationKind::sigmoid: return u >= 0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u));
    case ActivationKind::tanh: return std::tanh(u);
    case ActivationKind::softplus: return u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u));
  }
  throw core::InternalError("unknown activation kind");
}

double g_prime(ActivationKind kind, double alpha, double u) {
  switch (kind) {
    case ActivationKind::identity: return 1.0;
    case ActivationKind::relu: return u > 0 ? 1.0 : 0.0;
    case ActivationKind::leaky_relu: return u > 0 ? 1.0 : alpha;
    case ActivationKind::sigmoid: {
      const double s = g(ActivationKind::sigmoid, alpha, u);
      return s * (1.0 - s);
    }
    case ActivationKind::tanh: {
      const double t = std::tanh(u);
      return 1.0 - t * t;
    }
    case ActivationKind::softplus: return g(ActivationKind::sigmoid, alpha, u);
  }
  throw core::InternalError("unknown activation kind");
}

}  // namespace

double Activation::apply(double z) const { return g(kind, alpha, scale * z); }

Eigen::VectorXd Activation::apply(const Eigen::VectorXd& z) const {
  if (kind == ActivationKind::identity && scale == 1.0) return z;
  Eigen::VectorXd y(z.size());
  for (Eigen::Index i = 0; i < z.size(); ++i) y[i] = g(kind, alpha, scale * z[i]);
  return y;
}

Eigen::MatrixXd Activation::apply(const Eigen::MatrixXd& z) const {
  if (kind == ActivationKind::identity && scale == 1.0) return z;
  if (kind == ActivationKind::relu && scale == 1.0) return z.cwiseMax(0.0);
  Eigen::MatrixXd y(z.rows(), z.cols());
  const double* in = z.data();
  double* out = y.data();
  for (Eigen::Index i = 0; i < z.size(); ++i) out[i] = g(kind, alpha, scale * in[i]);
  return y;
}

void Activation::apply_to(const double* z, double* y, Eigen::Index n) const {
  if (kind == ActivationKind::relu && scale == 1.0) {
    for (Eigen::Index i = 0; i < n; ++i) y[i] = z[i] > 0.0 ? z[i] : 0.0;
  } else if (kind == ActivationKind::identity && scale == 1.0) {
    if (y != z) std::copy(z, z + n, y);
  } else {
    for (Eigen::Index i = 0; i < n; ++i) y[i] = g(kind, alpha, scale * z[i]);
  }
}

Eigen::VectorXd Activation::derivative(const Eigen::VectorXd& z) const {
  Eigen::VectorXd d(z.size());
  for (Eigen::Index i = 0; i < z.size(); ++i) d[i] = scale * g_prime(kind, alpha, scale * z[i]);
  return d;
}

double Activation::lipschitz() const {
  const double s = std::abs(scale);
  switch (kind) {
    case ActivationKind::identity:
    case ActivationKind::relu:
    case ActivationKind::softplus:
    case ActivationKind::tanh: return s;
    case ActivationKind::leaky_relu: return s * std::max(1.0, std::abs(alpha));
    case ActivationKind::sigmoid: return s / 4.0;
  }
  throw core::InternalError("unknown activation kind");
}

std::string Activation::describe() const {
  std::vector<std::string> params;
  if (kind == ActivationKind::leaky_relu) params.push_back("alpha=" + core::format_double(alpha));
  if (scale != 1.0) params.push_back("scale=" + core::format_double(scale));
  std::string s = to_string(kind);
  if (!params.empty()) s += "(" + core::join(params, ", ") + ")";
  return s;
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names{"identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"};
  return names;
}

std::string to_string(ActivationKind kind) { return activation_names().at(static_cast<std::size_t>(kind)); }

ActivationKind parse_activation_kind(const std::string& name) {
  const auto& names = activation_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<ActivationKind>(i);
  }
  if (name == "linear") return ActivationKind::identity;
  throw core::InputError(
      core::format_error({}, "unknown activation", "'" + name + "'", "one of " + core::join(names, ", ")));
}

Eigen::VectorXd softmax(const Eigen::VectorXd& z) {
  const Eigen::VectorXd e = (z.array() - z.maxCoeff()).exp();
  return e / e.sum();
}

Eigen::MatrixXd softmax_columns(const Eigen::MatrixXd& z) {
  Eigen::MatrixXd out(z.rows(), z.cols());
  for (Eigen::Index c = 0; c < z.cols(); ++c) out.col(c) = softmax(z.col(c));
  return out;
}

}  // namespace nfsim::models
