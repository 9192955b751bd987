#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "models/activation.h"
#include "models/layer/i_layer.h"
#include "models/network.h"

namespace nfsim::models {

// The parameters of one dense layer as importers, generators and tests build them: z = W y + b,
// W is n_l x n_{l-1}.
struct DenseParams {
  Eigen::MatrixXd weights;
  Eigen::VectorXd bias;
  Activation activation;
};

// A fully connected layer: z = W y_prev + b. Synapse s = j * n_{l-1} + i is W(j, i), read by the
// single connection (output j, input i); the crossbar matrix is W itself (one position). The
// numbering is the one fault plans have always drawn from, so random draws do not change.
class DenseLayer final : public ILayer {
 public:
  // Checks shapes and values; InputError messages start with `where` ("network layer 2").
  explicit DenseLayer(DenseParams params, const std::string& where = "dense layer");

  std::string kind() const override { return "dense"; }
  Eigen::Index input_size() const override { return params_.weights.cols(); }
  Eigen::Index output_size() const override { return params_.weights.rows(); }
  std::vector<Eigen::Index> output_shape() const override { return {output_size()}; }
  const Activation& activation() const override { return params_.activation; }
  const Eigen::VectorXd& bias() const override { return params_.bias; }
  std::size_t parameter_count() const override {
    return static_cast<std::size_t>(params_.weights.size() + params_.bias.size());
  }

  Eigen::VectorXd linear(const Eigen::VectorXd& y_prev) const override;
  void linear_batch(const Eigen::MatrixXd& y_prev, Eigen::MatrixXd& z) const override;
  Eigen::MatrixXd vjp(const Eigen::MatrixXd& g) const override;
  Eigen::VectorXd jvp(const Eigen::VectorXd& dy) const override;
  void add_input_changes(const Eigen::Index* inputs, const double* dy, std::size_t count, double* z) const override;
  void add_synapse_change(std::uint64_t s, double value, const double* y_prev, double* z) const override;

  std::uint64_t synapse_count() const override { return static_cast<std::uint64_t>(params_.weights.size()); }
  double synapse(std::uint64_t s) const override { return params_.weights(row_of(s), col_of(s)); }
  void set_synapse(std::uint64_t s, double value) override { params_.weights(row_of(s), col_of(s)) = value; }
  int connection_count(std::uint64_t) const override { return 1; }
  Connection connection(std::uint64_t s, int) const override { return {row_of(s), col_of(s)}; }
  std::string synapse_name(std::uint64_t s) const override;

  const Eigen::MatrixXd& crossbar_matrix() const override { return params_.weights; }
  Eigen::Index crossbar_positions() const override { return 1; }

  std::unique_ptr<ILayer> clone() const override { return std::make_unique<DenseLayer>(*this); }
  std::string describe() const override;

  // The dense-only view, for code that needs W itself (ONNX export, tests).
  const Eigen::MatrixXd& weights() const { return params_.weights; }
  const DenseParams& params() const { return params_; }

 private:
  // synapse_row() / synapse_col() without the virtual call (engines call these per fault).
  Eigen::Index row_of(std::uint64_t s) const {
    return static_cast<Eigen::Index>(s / static_cast<std::uint64_t>(params_.weights.cols()));
  }
  Eigen::Index col_of(std::uint64_t s) const {
    return static_cast<Eigen::Index>(s % static_cast<std::uint64_t>(params_.weights.cols()));
  }

  DenseParams params_;
};

// `layer` as a DenseLayer; throws InputError naming `what` (the caller: "ONNX export") and the
// layer's kind when it is another kind.
const DenseLayer& as_dense(const ILayer& layer, const std::string& what);

// A network of dense layers (layer l + 1 reads layer l's outputs); throws InputError naming the
// layer and the problem.
Network dense_network(std::vector<DenseParams> layers, bool softmax_output = false);
// The parameters of every layer of a network of dense layers, in order (`what` as for as_dense).
std::vector<DenseParams> dense_params(const Network& network, const std::string& what);

}  // namespace nfsim::models
