#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/activation.h"

namespace nfsim::models {

// One use of a synapse by a layer's linear part: z[output] += w * y_prev[input].
struct Connection {
  Eigen::Index output = 0;  // neuron j of this layer
  Eigen::Index input = 0;   // neuron i of the previous layer
};

// One layer l of a network chain, behind which every kind of layer (dense today; convolution,
// pooling and spiking arrays later) sits. A layer owns its linear part z_l = A_l y_{l-1} + b_l and
// its activation phi_l; the Network applies y_l = phi_l(z_l) and chains the layers, so the
// activation derivative, the Jacobians and the softmax stay in Network.
//
// Neurons are the n_l = output_size() entries of z_l / y_l (flattened from output_shape()).
// Synapses are the layer's stored weights, addressed by an index s in [0, synapse_count()): by
// contract synapse s is cell (s / cols, s % cols) of crossbar_matrix(), i.e. the cells in
// row-major order. A synapse may be read by several connections (a shared convolution weight is
// read once per output position); a fault on a synapse changes every connection that reads it.
// The bias is not a synapse.
//
// Everything that addresses neurons or synapses (fault plan, sampler, bounds, the functional
// engine's fast path, the mapper and the chip) goes through this interface, so a new layer kind
// is its own files (an ILayer implementation) plus the code that builds it (ONNX import).
//
// Design notes. The crossbar matrix keeps W's orientation (outputs x inputs), the one Crossbar
// tiles and ICrossbarModel::program_block use, so programming a tile needs no transpose. Layers
// are not registered by name: only the ONNX importer builds them, and a registry pays off once a
// file can select among kinds. Parts that still serve dense layers only, and say so when given
// another kind: the greedy mapper and the chip's dataflow (one crossbar position per layer), the
// bounds' synapse terms (one connection per synapse), ONNX export (as_dense()).
class ILayer {
 public:
  virtual ~ILayer() = default;

  // "dense".
  virtual std::string kind() const = 0;
  // n_{l-1} and n_l.
  virtual Eigen::Index input_size() const = 0;
  virtual Eigen::Index output_size() const = 0;
  // The shape the neurons are flattened from, last index fastest (dense: {n_l}; a convolution
  // will give {C, H, W}).
  virtual std::vector<Eigen::Index> output_shape() const = 0;
  virtual const Activation& activation() const = 0;
  // b_l, one entry per neuron.
  virtual const Eigen::VectorXd& bias() const = 0;
  // Stored parameters: synapses and biases.
  virtual std::size_t parameter_count() const = 0;

  // z = A y_prev + b for one input.
  virtual Eigen::VectorXd linear(const Eigen::VectorXd& y_prev) const = 0;
  // The same for every column of y_prev; `z` (resized) must not alias y_prev.
  virtual void linear_batch(const Eigen::MatrixXd& y_prev, Eigen::MatrixXd& z) const = 0;
  // The products of the linear part the bounds need (no activation derivative: Network applies
  // it). Vector-Jacobian, one row per cotangent: g A (rows x n_{l-1}) for g (rows x n_l).
  virtual Eigen::MatrixXd vjp(const Eigen::MatrixXd& g) const = 0;
  // Jacobian-vector: A dy (n_l) for dy (n_{l-1}).
  virtual Eigen::VectorXd jvp(const Eigen::VectorXd& dy) const = 0;

  // Sparse updates for engines that keep the fault-free activations: adds A[:, S] dy[S] to z
  // (n_l entries) for the `count` inputs S = inputs[0..count) with changes dy[0..count).
  virtual void add_input_changes(const Eigen::Index* inputs, const double* dy, std::size_t count, double* z) const = 0;
  // Adds to z the change that synapse s holding `value` instead of its stored value makes, for
  // the previous layer's activations y_prev (every connection that reads s).
  virtual void add_synapse_change(std::uint64_t s, double value, const double* y_prev, double* z) const = 0;
  // Adds to z the change `delta` of synapse s at output positions [pos_begin, pos_begin +
  // pos_count) only (a replicated crossbar tile that computes those positions lost it). Only a
  // layer with several crossbar positions has ranges; this default refuses them.
  virtual void add_synapse_delta(std::uint64_t s, double delta, const double* y_prev, double* z, Eigen::Index pos_begin,
                                 Eigen::Index pos_count) const;

  // Synapses: count, value, the connections that read one, a name for messages ("W[3,17]").
  virtual std::uint64_t synapse_count() const = 0;
  virtual double synapse(std::uint64_t s) const = 0;
  virtual void set_synapse(std::uint64_t s, double value) = 0;
  virtual int connection_count(std::uint64_t s) const = 0;
  virtual Connection connection(std::uint64_t s, int k) const = 0;
  virtual std::string synapse_name(std::uint64_t s) const = 0;

  // What the mapper places on crossbars: the stored matrix, one row per output neuron or channel
  // and one column per input or kernel tap (the orientation of a Crossbar tile and of
  // ICrossbarModel::program_block), and how many output positions reuse it (dense: 1). With one
  // position the crossbar matrix is A itself, n_l x n_{l-1}.
  virtual const Eigen::MatrixXd& crossbar_matrix() const = 0;
  virtual Eigen::Index crossbar_positions() const = 0;
  // The crossbar cell of synapse s, and the synapse of a cell (see the numbering above).
  Eigen::Index synapse_row(std::uint64_t s) const { return static_cast<Eigen::Index>(s / crossbar_cols()); }
  Eigen::Index synapse_col(std::uint64_t s) const { return static_cast<Eigen::Index>(s % crossbar_cols()); }
  std::uint64_t synapse_at(Eigen::Index row, Eigen::Index col) const {
    return cell_synapse(row, col, static_cast<Eigen::Index>(crossbar_cols()));
  }
  // The numbering itself, for callers that keep the column count (hot loops over group members).
  static std::uint64_t cell_synapse(Eigen::Index row, Eigen::Index col, Eigen::Index cols) {
    return static_cast<std::uint64_t>(row) * static_cast<std::uint64_t>(cols) + static_cast<std::uint64_t>(col);
  }

  virtual std::unique_ptr<ILayer> clone() const = 0;
  // The layer's part of Network::describe(): "256(relu)".
  virtual std::string describe() const = 0;

 private:
  std::uint64_t crossbar_cols() const { return static_cast<std::uint64_t>(crossbar_matrix().cols()); }
};

}  // namespace nfsim::models
