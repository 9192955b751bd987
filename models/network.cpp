#include "models/network.h"

#include <cmath>

#include "core/error.h"

namespace nfsim::models {
namespace {

std::string shape(Eigen::Index r, Eigen::Index c) { return std::to_string(r) + "x" + std::to_string(c); }

}  // namespace

Network::Network(std::vector<DenseLayer> layers, bool softmax_output)
    : layers_(std::move(layers)), softmax_output_(softmax_output) {
  if (layers_.empty()) throw core::InputError("network: no dense layers; expected at least one");
  for (int l = 1; l <= num_layers(); ++l) {
    const DenseLayer& layer = layers_[l - 1];
    const std::string where = "network layer " + std::to_string(l);
    if (layer.weights.rows() == 0 || layer.weights.cols() == 0) {
      throw core::InputError(where + ": empty weight matrix " + shape(layer.weights.rows(), layer.weights.cols()));
    }
    if (layer.bias.size() != layer.weights.rows()) {
      throw core::InputError(where + ": bias has " + std::to_string(layer.bias.size()) + " entries; expected " +
                             std::to_string(layer.weights.rows()) + " (the weight matrix is " +
                             shape(layer.weights.rows(), layer.weights.cols()) + ")");
    }
    if (l > 1 && layer.weights.cols() != layers_[l - 2].weights.rows()) {
      throw core::InputError(where + ": weight matrix is " + shape(layer.weights.rows(), layer.weights.cols()) +
                             " but layer " + std::to_string(l - 1) + " has " +
                             std::to_string(layers_[l - 2].weights.rows()) + " outputs; expected " +
                             std::to_string(layers_[l - 2].weights.rows()) + " columns");
    }
    for (Eigen::Index i = 0; i < layer.weights.size(); ++i) {
      if (!std::isfinite(layer.weights.data()[i])) {
        const Eigen::Index r = i % layer.weights.rows(), c = i / layer.weights.rows();
        throw core::InputError(where + ": weight W[" + std::to_string(r) + "," + std::to_string(c) + "] is " +
                               std::to_string(layer.weights.data()[i]) + "; expected a finite number");
      }
    }
    for (Eigen::Index i = 0; i < layer.bias.size(); ++i) {
      if (!std::isfinite(layer.bias[i])) {
        throw core::InputError(where + ": bias b[" + std::to_string(i) + "] is " + std::to_string(layer.bias[i]) +
                               "; expected a finite number");
      }
    }
    if (!std::isfinite(layer.activation.scale) || !std::isfinite(layer.activation.alpha)) {
      throw core::InputError(where + ": activation parameters must be finite");
    }
  }
}

Eigen::Index Network::input_size() const { return layers_.empty() ? 0 : layers_.front().weights.cols(); }
Eigen::Index Network::output_size() const { return layers_.empty() ? 0 : layers_.back().weights.rows(); }

Eigen::Index Network::width(int l) const {
  check_layer_index(l, 0);
  return l == 0 ? input_size() : layers_[l - 1].weights.rows();
}

std::size_t Network::parameter_count() const {
  std::size_t n = 0;
  for (const auto& layer : layers_) n += layer.weights.size() + layer.bias.size();
  return n;
}

void Network::check_layer_index(int l, int min) const {
  if (l < min || l > num_layers()) {
    throw core::InputError("layer index " + std::to_string(l) + " out of range; expected " + std::to_string(min) +
                           ".." + std::to_string(num_layers()));
  }
}

void Network::check_input(Eigen::Index rows, const char* what) const {
  if (rows != input_size()) {
    throw core::InputError(std::string(what) + " has " + std::to_string(rows) + " features; the network expects " +
                           std::to_string(input_size()));
  }
}

Eigen::VectorXd Network::forward(const Eigen::VectorXd& input) const {
  check_input(input.size(), "input");
  return forward_from(0, input);
}

Eigen::MatrixXd Network::forward_batch(const Eigen::MatrixXd& inputs) const {
  check_input(inputs.rows(), "input batch");
  return forward_from_batch(0, inputs);
}

Eigen::MatrixXd Network::output_batch(const Eigen::MatrixXd& inputs) const {
  Eigen::MatrixXd out = forward_batch(inputs);
  return softmax_output_ ? softmax_columns(out) : out;
}

Eigen::VectorXd Network::forward_from(int l, const Eigen::VectorXd& y_l) const {
  check_layer_index(l, 0);
  Eigen::VectorXd y = y_l;
  for (int m = l + 1; m <= num_layers(); ++m) {
    const DenseLayer& layer = layers_[m - 1];
    y = layer.activation.apply(Eigen::VectorXd(layer.weights * y + layer.bias));
  }
  return y;
}

Eigen::MatrixXd Network::forward_from_batch(int l, const Eigen::MatrixXd& y_l) const {
  check_layer_index(l, 0);
  Eigen::MatrixXd y = y_l;
  for (int m = l + 1; m <= num_layers(); ++m) {
    const DenseLayer& layer = layers_[m - 1];
    Eigen::MatrixXd z = layer.weights * y;
    z.colwise() += layer.bias;
    y = layer.activation.apply(z);
  }
  return y;
}

ForwardTrace Network::trace(const Eigen::VectorXd& input) const {
  check_input(input.size(), "input");
  ForwardTrace t;
  t.z.resize(num_layers() + 1);
  t.y.resize(num_layers() + 1);
  t.y[0] = input;
  for (int l = 1; l <= num_layers(); ++l) {
    const DenseLayer& layer = layers_[l - 1];
    t.z[l] = layer.weights * t.y[l - 1] + layer.bias;
    t.y[l] = layer.activation.apply(t.z[l]);
  }
  return t;
}

BatchTrace Network::trace_batch(const Eigen::MatrixXd& inputs) const {
  check_input(inputs.rows(), "input batch");
  BatchTrace t;
  t.z.resize(num_layers() + 1);
  t.y.resize(num_layers() + 1);
  t.y[0] = inputs;
  for (int l = 1; l <= num_layers(); ++l) {
    const DenseLayer& layer = layers_[l - 1];
    t.z[l] = layer.weights * t.y[l - 1];
    t.z[l].colwise() += layer.bias;
    t.y[l] = layer.activation.apply(t.z[l]);
  }
  return t;
}

Eigen::MatrixXd Network::output_seed(const ForwardTrace& trace, bool through_softmax) const {
  if (static_cast<int>(trace.y.size()) != num_layers() + 1) {
    throw core::InternalError("forward trace does not belong to this network");
  }
  if (!(through_softmax && softmax_output_)) return Eigen::MatrixXd::Identity(output_size(), output_size());
  const Eigen::VectorXd s = softmax(trace.y[num_layers()]);
  Eigen::MatrixXd j = -s * s.transpose();
  j.diagonal() += s;
  return j;
}

Eigen::MatrixXd Network::jacobian_wrt_activations(const ForwardTrace& trace, int l, bool through_softmax) const {
  check_layer_index(l, 0);
  Eigen::MatrixXd j = output_seed(trace, through_softmax);  // d out / d y_L
  for (int m = num_layers(); m > l; --m) {
    const DenseLayer& layer = layers_[m - 1];
    // d out / d y_{m-1} = (d out / d y_m) diag(phi'(z_m)) W_m
    j = (j * layer.activation.derivative(trace.z[m]).asDiagonal()) * layer.weights;
  }
  return j;
}

Eigen::MatrixXd Network::jacobian_wrt_preactivations(const ForwardTrace& trace, int l, bool through_softmax) const {
  check_layer_index(l, 1);
  return jacobian_wrt_activations(trace, l, through_softmax) * layers_[l - 1].activation.derivative(trace.z[l]).asDiagonal();
}

std::string Network::describe() const {
  std::string s = std::to_string(input_size());
  for (const auto& layer : layers_) s += "-" + std::to_string(layer.weights.rows()) + "(" + layer.activation.describe() + ")";
  if (softmax_output_) s += "+softmax";
  return s;
}

}  // namespace nfsim::models
