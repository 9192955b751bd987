#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "models/activation.h"
#include "models/layer/i_layer.h"
#include "models/layer/pool2d.h"

namespace nfsim::models {

// Every layer's pre-activations and activations for one input, in the paper's indexing:
// y[0] is the input, z[l] and y[l] belong to layer l = 1..L (z[0] is empty). u[l] is what layer
// l + 1 reads: y[l] after layer l's output stage (a pooling), or y[l] itself (u[L] = y[L]).
struct ForwardTrace {
  std::vector<Eigen::VectorXd> z;
  std::vector<Eigen::VectorXd> y;
  std::vector<Eigen::VectorXd> u;
};

// The same for a batch: one column per input.
struct BatchTrace {
  std::vector<Eigen::MatrixXd> z;
  std::vector<Eigen::MatrixXd> y;
  std::vector<Eigen::MatrixXd> u;
};

// A feed-forward chain of layers (any ILayer kind), with an optional final softmax kept apart:
// forward() and the Jacobians are on the pre-softmax output y_L unless asked otherwise, which is
// what the bounds are about. Layers are numbered as in the paper: 0 is the input, 1..L the layers.
// Layer l (0..L-1) may have an output stage S_l, a pooling done where its neurons are (the neuron
// arrays; the host for the input): y_l = phi_l(z_l), u_l = S_l(y_l), z_{l+1} = A_{l+1} u_l + b.
// Neurons are y_l, before the stage (docs/faults.md, "Convolutional layers").
// Copies share their layers (immutable through layer()); mutable_layer() copies a shared layer
// before the first write, so a copy is cheap and writing to it never changes the original.
class Network {
 public:
  Network() = default;
  // Checks that each layer reads as many inputs as the previous one has outputs; throws
  // InputError naming the layer and the problem. Layers check their own values when built.
  explicit Network(std::vector<std::unique_ptr<ILayer>> layers, bool softmax_output = false);
  // With output stages: stages[l] pools layer l's outputs (l = 0..L-1; null: none; fewer entries
  // than L: the rest none). `input_shape` is the input's tensor shape ({C, H, W}; empty: {n_0}).
  // Checks that each stage reads its layer's output shape and each layer reads the staged width.
  Network(std::vector<std::unique_ptr<ILayer>> layers, std::vector<std::shared_ptr<const Pool2d>> stages,
          bool softmax_output, std::vector<Eigen::Index> input_shape);

  int num_layers() const { return static_cast<int>(layers_.size()); }
  Eigen::Index input_size() const;
  Eigen::Index output_size() const;
  // n_l for l = 0..L.
  Eigen::Index width(int l) const;
  // Layer l = 1..L (inline: engines call it in their inner loops).
  const ILayer& layer(int l) const {
    if (l < 1 || l > num_layers()) check_layer_index(l, 1);  // throws
    return *layers_[static_cast<std::size_t>(l - 1)];
  }
  // Layer l's output stage (l = 0..L), null when it has none.
  const Pool2d* stage(int l) const {
    return l >= 0 && l < static_cast<int>(stages_.size()) ? stages_[static_cast<std::size_t>(l)].get() : nullptr;
  }
  bool has_stages() const;
  // The width of u_l, what layer l + 1 reads (width(l) without a stage).
  Eigen::Index staged_width(int l) const;
  // The tensor shape of y_l ({n_l} for a dense layer, {C, H, W} for a convolution or the image
  // input) and of u_l.
  std::vector<Eigen::Index> shape(int l) const;
  std::vector<Eigen::Index> staged_shape(int l) const;
  const std::vector<Eigen::Index>& input_shape() const { return input_shape_; }
  // u_l from y_l for every column (a copy without a stage).
  Eigen::MatrixXd staged_batch(int l, const Eigen::MatrixXd& y_l) const;
  Eigen::VectorXd staged(int l, const Eigen::VectorXd& y_l) const;
  // Layer l for writing (synapse values), unshared from other copies of this network first.
  ILayer& mutable_layer(int l);
  bool softmax_output() const { return softmax_output_; }
  std::size_t parameter_count() const;

  // Pre-softmax output y_L for one input / for every column of `inputs`.
  Eigen::VectorXd forward(const Eigen::VectorXd& input) const;
  Eigen::MatrixXd forward_batch(const Eigen::MatrixXd& inputs) const;
  // The model's own output: forward() followed by the softmax when the model has one.
  Eigen::MatrixXd output_batch(const Eigen::MatrixXd& inputs) const;

  ForwardTrace trace(const Eigen::VectorXd& input) const;
  BatchTrace trace_batch(const Eigen::MatrixXd& inputs) const;

  // Runs layer l's stage and layers l+1..L on the activations y_l of layer l (l = 0..L): the
  // "rest of the network" F_l of docs/bounds.md. Returns the pre-softmax output.
  Eigen::VectorXd forward_from(int l, const Eigen::VectorXd& y_l) const;
  Eigen::MatrixXd forward_from_batch(int l, const Eigen::MatrixXd& y_l) const;

  // G_l = d y_L / d y_l at the traced point (n_L x n_l), l = 0..L, by reverse mode.
  // With `through_softmax` (and a softmax model) the output is the softmax instead of y_L.
  Eigen::MatrixXd jacobian_wrt_activations(const ForwardTrace& trace, int l, bool through_softmax = false) const;
  // H_l = d y_L / d z_l (n_L x n_l), l = 1..L.
  Eigen::MatrixXd jacobian_wrt_preactivations(const ForwardTrace& trace, int l, bool through_softmax = false) const;

  // "784-256(relu)-10(identity)+softmax"; "1x28x28-16c3x3/p1(relu)+maxpool2x2-10(identity)".
  std::string describe() const;

 private:
  void check_layer_index(int l, int min) const;
  void check_input(Eigen::Index rows, const char* what) const;
  Eigen::MatrixXd output_seed(const ForwardTrace& trace, bool through_softmax) const;

  std::vector<std::shared_ptr<ILayer>> layers_;
  std::vector<std::shared_ptr<const Pool2d>> stages_;  // empty or L entries
  bool softmax_output_ = false;
  std::vector<Eigen::Index> input_shape_;
};

}  // namespace nfsim::models
