#include "models/network.h"

#include <cmath>

#include "core/error.h"

namespace nfsim::models {
namespace {

std::string shape(Eigen::Index r, Eigen::Index c) { return std::to_string(r) + "x" + std::to_string(c); }

}  // namespace

Network::Network(std::vector<std::unique_ptr<ILayer>> layers, bool softmax_output) : softmax_output_(softmax_output) {
  if (layers.empty()) throw core::InputError("network: no dense layers; expected at least one");
  for (std::size_t k = 0; k < layers.size(); ++k) {
    if (!layers[k]) throw core::InternalError("network layer " + std::to_string(k + 1) + " is missing");
    if (k > 0 && layers[k]->input_size() != layers_.back()->output_size()) {
      const ILayer& layer = *layers[k];
      const std::string outputs = std::to_string(layers_.back()->output_size());
      const Eigen::MatrixXd& stored = layer.crossbar_matrix();
      throw core::InputError("network layer " + std::to_string(k + 1) + ": " + layer.kind() + " layer (stored matrix " +
                             shape(stored.rows(), stored.cols()) + ") reads " + std::to_string(layer.input_size()) +
                             " inputs but layer " + std::to_string(k) + " has " + outputs + " outputs; expected " +
                             outputs + " inputs");
    }
    layers_.push_back(std::shared_ptr<ILayer>(std::move(layers[k])));
  }
}

Eigen::Index Network::input_size() const { return layers_.empty() ? 0 : layers_.front()->input_size(); }
Eigen::Index Network::output_size() const { return layers_.empty() ? 0 : layers_.back()->output_size(); }

Eigen::Index Network::width(int l) const {
  check_layer_index(l, 0);
  return l == 0 ? input_size() : layers_[l - 1]->output_size();
}

ILayer& Network::mutable_layer(int l) {
  check_layer_index(l, 1);
  std::shared_ptr<ILayer>& layer = layers_[static_cast<std::size_t>(l - 1)];
  if (layer.use_count() > 1) layer = std::shared_ptr<ILayer>(layer->clone());
  return *layer;
}

std::size_t Network::parameter_count() const {
  std::size_t n = 0;
  for (const auto& layer : layers_) n += layer->parameter_count();
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
    const ILayer& layer = *layers_[m - 1];
    y = layer.activation().apply(layer.linear(y));
  }
  return y;
}

Eigen::MatrixXd Network::forward_from_batch(int l, const Eigen::MatrixXd& y_l) const {
  check_layer_index(l, 0);
  Eigen::MatrixXd y = y_l, z;
  for (int m = l + 1; m <= num_layers(); ++m) {
    const ILayer& layer = *layers_[m - 1];
    layer.linear_batch(y, z);
    y = layer.activation().apply(z);
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
    const ILayer& layer = *layers_[l - 1];
    t.z[l] = layer.linear(t.y[l - 1]);
    t.y[l] = layer.activation().apply(t.z[l]);
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
    const ILayer& layer = *layers_[l - 1];
    layer.linear_batch(t.y[l - 1], t.z[l]);
    t.y[l] = layer.activation().apply(t.z[l]);
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
    const ILayer& layer = *layers_[m - 1];
    // d out / d y_{m-1} = (d out / d y_m) diag(phi'(z_m)) A_m
    j = layer.vjp(j * layer.activation().derivative(trace.z[m]).asDiagonal());
  }
  return j;
}

Eigen::MatrixXd Network::jacobian_wrt_preactivations(const ForwardTrace& trace, int l, bool through_softmax) const {
  check_layer_index(l, 1);
  return jacobian_wrt_activations(trace, l, through_softmax) *
         layers_[l - 1]->activation().derivative(trace.z[l]).asDiagonal();
}

std::string Network::describe() const {
  std::string s = std::to_string(input_size());
  for (const auto& layer : layers_) s += "-" + layer->describe();
  if (softmax_output_) s += "+softmax";
  return s;
}

}  // namespace nfsim::models
