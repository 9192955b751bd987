#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

namespace nfsim::models {

enum class ActivationKind { identity, relu, leaky_relu, sigmoid, tanh, softplus };

// An elementwise activation phi(z) = g(scale * z), where g is the kind. `scale` is the paper's
// input scale (sigmoid(4 K z) has scale 4K); `alpha` is leaky_relu's negative slope.
struct Activation {
  ActivationKind kind = ActivationKind::identity;
  double scale = 1.0;
  double alpha = 0.01;

  double apply(double z) const;
  Eigen::VectorXd apply(const Eigen::VectorXd& z) const;
  Eigen::MatrixXd apply(const Eigen::MatrixXd& z) const;
  // y[i] = phi(z[i]) for i < n, without allocating (y may equal z).
  void apply_to(const double* z, double* y, Eigen::Index n) const;
  // d phi / d z, elementwise.
  Eigen::VectorXd derivative(const Eigen::VectorXd& z) const;
  // Lipschitz constant of phi (sup |phi'|).
  double lipschitz() const;
  // "relu", "sigmoid(scale=4)", "leaky_relu(alpha=0.2)".
  std::string describe() const;
};

std::string to_string(ActivationKind kind);
// Throws InputError naming the text and the allowed names.
ActivationKind parse_activation_kind(const std::string& name);
const std::vector<std::string>& activation_names();

// Numerically stable softmax of one vector / of every column.
Eigen::VectorXd softmax(const Eigen::VectorXd& z);
Eigen::MatrixXd softmax_columns(const Eigen::MatrixXd& z);

}  // namespace nfsim::models
