#include "models/network.h"

#include <cmath>

#include "core/error.h"

namespace nfsim::models {
namespace {

std::string matrix_shape(Eigen::Index r, Eigen::Index c) { return std::to_string(r) + "x" + std::to_string(c); }

std::string shape_text(const std::vector<Eigen::Index>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

}  // namespace

Network::Network(std::vector<std::unique_ptr<ILayer>> layers, bool softmax_output)
    : Network(std::move(layers), {}, softmax_output, {}) {}

Network::Network(std::vector<std::unique_ptr<ILayer>> layers, std::vector<std::shared_ptr<const Pool2d>> stages,
                 bool softmax_output, std::vector<Eigen::Index> input_shape)
    : softmax_output_(softmax_output), input_shape_(std::move(input_shape)) {
  if (layers.empty()) throw core::InputError("network: no layers; expected at least one weighted layer");
  if (stages.size() > layers.size()) {
    throw core::InputError("network: a pooling after the output layer (layer " + std::to_string(layers.size()) +
                           "); expected pooling only between layers");
  }
  for (std::size_t k = 0; k < layers.size(); ++k) {
    if (!layers[k]) throw core::InternalError("network layer " + std::to_string(k + 1) + " is missing");
  }
  // n_0: what the input stage pools, or what layer 1 reads.
  const Eigen::Index n0 = !stages.empty() && stages.front() ? stages.front()->input_size() : layers.front()->input_size();
  if (input_shape_.empty()) input_shape_ = {n0};
  Eigen::Index product = 1;
  for (Eigen::Index d : input_shape_) product *= d;
  if (product != n0) {
    throw core::InputError("network: the input shape " + shape_text(input_shape_) + " has " + std::to_string(product) +
                           " values but " + (!stages.empty() && stages.front() ? "the input's pooling" : "layer 1") +
                           " reads " + std::to_string(n0) + "; expected " + std::to_string(n0));
  }
  bool any_stage = false;
  for (const auto& s : stages) any_stage = any_stage || s != nullptr;
  if (any_stage) {
    stages.resize(layers.size());
    stages_ = std::move(stages);
  }
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const ILayer& layer = *layers[k];
    // What layer k + 1 reads: u_k, the output of layer k (the input for k = 0) after its stage.
    const std::vector<Eigen::Index> produced = k == 0 ? input_shape_ : layers_.back()->output_shape();
    std::vector<Eigen::Index> staged = produced;
    if (const Pool2d* s = stage(static_cast<int>(k))) {
      if (s->input_shape() != produced) {
        throw core::InputError("network: the pooling after layer " + std::to_string(k) + " (" + s->describe() +
                               ") reads a " + shape_text(s->input_shape()) + " tensor but layer " + std::to_string(k) +
                               " gives " + shape_text(produced) + "; expected " + shape_text(produced));
      }
      staged = s->output_shape();
    }
    Eigen::Index width = 1;
    for (Eigen::Index d : staged) width *= d;
    if (layer.input_size() != width) {
      const Eigen::MatrixXd& stored = layer.crossbar_matrix();
      throw core::InputError("network layer " + std::to_string(k + 1) + ": " + layer.kind() + " layer (stored matrix " +
                             matrix_shape(stored.rows(), stored.cols()) + ") reads " + std::to_string(layer.input_size()) +
                             " inputs but layer " + std::to_string(k) + " has " + std::to_string(width) +
                             " outputs" + (stage(static_cast<int>(k)) ? " after its pooling" : "") + "; expected " +
                             std::to_string(width) + " inputs");
    }
    layers_.push_back(std::shared_ptr<ILayer>(std::move(layers[k])));
  }
}

bool Network::has_stages() const { return !stages_.empty(); }

Eigen::Index Network::staged_width(int l) const {
  check_layer_index(l, 0);
  const Pool2d* s = stage(l);
  return s ? s->output_size() : width(l);
}

std::vector<Eigen::Index> Network::shape(int l) const {
  check_layer_index(l, 0);
  return l == 0 ? input_shape_ : layers_[static_cast<std::size_t>(l - 1)]->output_shape();
}

std::vector<Eigen::Index> Network::staged_shape(int l) const {
  const Pool2d* s = stage(l);
  return s ? s->output_shape() : shape(l);
}

Eigen::MatrixXd Network::staged_batch(int l, const Eigen::MatrixXd& y_l) const {
  const Pool2d* s = stage(l);
  if (!s) return y_l;
  Eigen::MatrixXd u;
  s->forward_batch(y_l, u);
  return u;
}

Eigen::VectorXd Network::staged(int l, const Eigen::VectorXd& y_l) const {
  const Pool2d* s = stage(l);
  return s ? s->forward(y_l) : y_l;
}

Eigen::Index Network::input_size() const {
  if (const Pool2d* s = stage(0)) return s->input_size();
  return layers_.empty() ? 0 : layers_.front()->input_size();
}
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
    if (const Pool2d* s = stage(m - 1)) y = s->forward(y);
    y = layer.activation().apply(layer.linear(y));
  }
  return y;
}

Eigen::MatrixXd Network::forward_from_batch(int l, const Eigen::MatrixXd& y_l) const {
  check_layer_index(l, 0);
  Eigen::MatrixXd y = y_l, z, u;
  for (int m = l + 1; m <= num_layers(); ++m) {
    const ILayer& layer = *layers_[m - 1];
    if (const Pool2d* s = stage(m - 1)) {
      s->forward_batch(y, u);
      layer.linear_batch(u, z);
    } else {
      layer.linear_batch(y, z);
    }
    y = layer.activation().apply(z);
  }
  return y;
}

ForwardTrace Network::trace(const Eigen::VectorXd& input) const {
  check_input(input.size(), "input");
  ForwardTrace t;
  t.z.resize(num_layers() + 1);
  t.y.resize(num_layers() + 1);
  t.u.resize(num_layers() + 1);
  t.y[0] = input;
  t.u[0] = staged(0, t.y[0]);
  for (int l = 1; l <= num_layers(); ++l) {
    const ILayer& layer = *layers_[l - 1];
    t.z[l] = layer.linear(t.u[l - 1]);
    t.y[l] = layer.activation().apply(t.z[l]);
    t.u[l] = staged(l, t.y[l]);
  }
  return t;
}

BatchTrace Network::trace_batch(const Eigen::MatrixXd& inputs) const {
  check_input(inputs.rows(), "input batch");
  BatchTrace t;
  t.z.resize(num_layers() + 1);
  t.y.resize(num_layers() + 1);
  t.u.resize(num_layers() + 1);
  t.y[0] = inputs;
  t.u[0] = staged_batch(0, t.y[0]);
  for (int l = 1; l <= num_layers(); ++l) {
    const ILayer& layer = *layers_[l - 1];
    layer.linear_batch(t.u[l - 1], t.z[l]);
    t.y[l] = layer.activation().apply(t.z[l]);
    t.u[l] = staged_batch(l, t.y[l]);
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
    // d out / d y_{m-1} = (d out / d y_m) diag(phi'(z_m)) A_m dS_{m-1}/dy_{m-1}
    j = layer.vjp(j * layer.activation().derivative(trace.z[m]).asDiagonal());
    if (const Pool2d* s = stage(m - 1)) j = s->vjp(j, trace.y[m - 1]);
  }
  return j;
}

Eigen::MatrixXd Network::jacobian_wrt_preactivations(const ForwardTrace& trace, int l, bool through_softmax) const {
  check_layer_index(l, 1);
  return jacobian_wrt_activations(trace, l, through_softmax) *
         layers_[l - 1]->activation().derivative(trace.z[l]).asDiagonal();
}

std::string Network::describe() const {
  std::string s = shape_text(input_shape_);
  if (stage(0)) s += "+" + stage(0)->describe();
  for (int l = 1; l <= num_layers(); ++l) {
    s += "-" + layers_[static_cast<std::size_t>(l - 1)]->describe();
    if (stage(l)) s += "+" + stage(l)->describe();
  }
  if (softmax_output_) s += "+softmax";
  return s;
}

}  // namespace nfsim::models
