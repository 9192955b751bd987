#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "models/activation.h"
#include "models/layer/i_layer.h"

namespace nfsim::models {

// The parameters of one 2-D convolution, as the ONNX importer, generators and tests build them
// (ONNX Conv semantics, NCHW, cross-correlation): z[o, y, x] = b[o] + sum over c in o's group,
// ky, kx of W[o, c, ky, kx] * u[g*C_in/groups + c, y*stride_h - pad_t + ky*dil_h,
// x*stride_w - pad_l + kx*dil_w], reads outside the input being 0. auto_pad is resolved into the
// four pads by the importer.
struct Conv2dParams {
  Eigen::Index in_c = 1, in_h = 1, in_w = 1;  // the input this layer reads (the previous layer's staged output)
  Eigen::Index out_c = 1, kh = 1, kw = 1;
  Eigen::Index stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  Eigen::Index pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  Eigen::Index groups = 1;
  // out_c x (in_c / groups * kh * kw): row o is ONNX's W[o] flattened in (c, ky, kx) order, so
  // the row-major cell index is ONNX's flat weight index.
  Eigen::MatrixXd weights;
  Eigen::VectorXd bias;  // out_c entries
  Activation activation;
};

// A 2-D convolution layer (docs/faults.md, "Convolutional layers"). Neurons are the output
// activations, flattened NCHW: neuron (o, y, x) is o * P + y * out_w + x with P = out_h * out_w
// positions, so the neuron of crossbar row o at position p is o * P + p. Synapses are the kernel
// weights, synapse s = the flat ONNX index of W = cell (s / taps, s % taps) of the crossbar matrix
// (output channels x taps); each is read at every output position whose tap falls inside the
// input (a shared weight). A_l is never stored as a matrix: the products go through im2col.
class Conv2dLayer final : public ILayer {
 public:
  // Checks shapes, attributes and values; InputError messages start with `where`.
  explicit Conv2dLayer(Conv2dParams params, const std::string& where = "conv layer");

  std::string kind() const override { return "conv2d"; }
  Eigen::Index input_size() const override { return p_.in_c * p_.in_h * p_.in_w; }
  Eigen::Index output_size() const override { return p_.out_c * positions_; }
  std::vector<Eigen::Index> output_shape() const override { return {p_.out_c, out_h_, out_w_}; }
  const Activation& activation() const override { return p_.activation; }
  const Eigen::VectorXd& bias() const override { return bias_expanded_; }
  std::size_t parameter_count() const override {
    return static_cast<std::size_t>(p_.weights.size() + p_.bias.size());
  }

  Eigen::VectorXd linear(const Eigen::VectorXd& u_prev) const override;
  void linear_batch(const Eigen::MatrixXd& u_prev, Eigen::MatrixXd& z) const override;
  Eigen::MatrixXd vjp(const Eigen::MatrixXd& g) const override;
  Eigen::VectorXd jvp(const Eigen::VectorXd& du) const override;
  void add_input_changes(const Eigen::Index* inputs, const double* du, std::size_t count, double* z) const override;
  void add_synapse_change(std::uint64_t s, double value, const double* u_prev, double* z) const override;
  void add_synapse_delta(std::uint64_t s, double delta, const double* u_prev, double* z, Eigen::Index pos_begin,
                         Eigen::Index pos_count) const override;

  std::uint64_t synapse_count() const override { return static_cast<std::uint64_t>(p_.weights.size()); }
  double synapse(std::uint64_t s) const override { return p_.weights(row_of(s), col_of(s)); }
  void set_synapse(std::uint64_t s, double value) override { p_.weights(row_of(s), col_of(s)) = value; }
  int connection_count(std::uint64_t s) const override;
  Connection connection(std::uint64_t s, int k) const override;
  // "W[o,c,ky,kx]" (c counted within the output channel's group, as in ONNX).
  std::string synapse_name(std::uint64_t s) const override;

  const Eigen::MatrixXd& crossbar_matrix() const override { return p_.weights; }
  Eigen::Index crossbar_positions() const override { return positions_; }

  std::unique_ptr<ILayer> clone() const override { return std::make_unique<Conv2dLayer>(*this); }
  // "16c3x3(relu)", with "/s2", "/p1" (or "/p0,1,0,1"), "/d2" and "/g4" when not the default.
  std::string describe() const override;

  const Conv2dParams& params() const { return p_; }
  Eigen::Index out_h() const { return out_h_; }
  Eigen::Index out_w() const { return out_w_; }
  Eigen::Index taps() const { return p_.weights.cols(); }
  // Output channels per group (the crossbar rows that read one group's taps).
  Eigen::Index group_out() const { return p_.out_c / p_.groups; }
  // Im2col of group g for `count` inputs (columns of u, each input_size() long) into x, one row
  // per (input, position), one column per tap of the group: what a crossbar tile of the group
  // reads, one position after another.
  void im2col(const double* u, Eigen::Index count, Eigen::Index g, Eigen::MatrixXd& x) const;
  // The same into x, count * P x taps column-major, written whole.
  void im2col(const double* u, Eigen::Index count, Eigen::Index g, double* x) const;

 private:
  Eigen::Index row_of(std::uint64_t s) const {
    return static_cast<Eigen::Index>(s / static_cast<std::uint64_t>(p_.weights.cols()));
  }
  Eigen::Index col_of(std::uint64_t s) const {
    return static_cast<Eigen::Index>(s % static_cast<std::uint64_t>(p_.weights.cols()));
  }
  // The output rows (or columns) whose tap k (ky or kx) reads inside the input: [lo, hi).
  void valid_range(Eigen::Index k, bool vertical, Eigen::Index& lo, Eigen::Index& hi) const;
  // z (count columns of n_l) = A u, plus the bias when with_bias.
  void apply(const double* u, Eigen::Index count, double* z, bool with_bias) const;

  Conv2dParams p_;
  Eigen::Index out_h_ = 0, out_w_ = 0, positions_ = 0;
  Eigen::VectorXd bias_expanded_;
};

}  // namespace nfsim::models
