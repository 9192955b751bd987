#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "models/activation.h"
#include "models/layer/i_layer.h"

namespace nfsim::models {

// Every layer's pre-activations and activations for one input, in the paper's indexing:
// y[0] is the input, z[l] and y[l] belong to layer l = 1..L (z[0] is empty).
struct ForwardTrace {
  std::vector<Eigen::VectorXd> z;
  std::vector<Eigen::VectorXd> y;
};

// The same for a batch: one column per input.
struct BatchTrace {
  std::vector<Eigen::MatrixXd> z;
  std::vector<Eigen::MatrixXd> y;
};

// A feed-forward chain of layers (any ILayer kind), with an optional final softmax kept apart:
// forward() and the Jacobians are on the pre-softmax output y_L unless asked otherwise, which is
// what the bounds are about. Layers are numbered as in the paper: 0 is the input, 1..L the layers.
// Copies share their layers (immutable through layer()); mutable_layer() copies a shared layer
// before the first write, so a copy is cheap and writing to it never changes the original.
class Network {
 public:
  Network() = default;
  // Checks that each layer reads as many inputs as the previous one has outputs; throws
  // InputError naming the layer and the problem. Layers check their own values when built.
  explicit Network(std::vector<std::unique_ptr<ILayer>> layers, bool softmax_output = false);

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

  // Runs layers l+1..L on the activations y_l of layer l (l = 0..L): the "rest of the network"
  // F_l of docs/bounds.md. Returns the pre-softmax output.
  Eigen::VectorXd forward_from(int l, const Eigen::VectorXd& y_l) const;
  Eigen::MatrixXd forward_from_batch(int l, const Eigen::MatrixXd& y_l) const;

  // G_l = d y_L / d y_l at the traced point (n_L x n_l), l = 0..L, by reverse mode.
  // With `through_softmax` (and a softmax model) the output is the softmax instead of y_L.
  Eigen::MatrixXd jacobian_wrt_activations(const ForwardTrace& trace, int l, bool through_softmax = false) const;
  // H_l = d y_L / d z_l (n_L x n_l), l = 1..L.
  Eigen::MatrixXd jacobian_wrt_preactivations(const ForwardTrace& trace, int l, bool through_softmax = false) const;

  // "784-256(relu)-10(identity)+softmax".
  std::string describe() const;

 private:
  void check_layer_index(int l, int min) const;
  void check_input(Eigen::Index rows, const char* what) const;
  Eigen::MatrixXd output_seed(const ForwardTrace& trace, bool through_softmax) const;

  std::vector<std::shared_ptr<ILayer>> layers_;
  bool softmax_output_ = false;
};

}  // namespace nfsim::models
