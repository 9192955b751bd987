#include "models/layer/dense_layer.h"

#include <cmath>

#include "core/error.h"

namespace nfsim::models {
namespace {

std::string shape(Eigen::Index r, Eigen::Index c) { return std::to_string(r) + "x" + std::to_string(c); }

}  // namespace

DenseLayer::DenseLayer(DenseParams params, const std::string& where) : params_(std::move(params)) {
  const Eigen::MatrixXd& w = params_.weights;
  const Eigen::VectorXd& b = params_.bias;
  if (w.rows() == 0 || w.cols() == 0)
    throw core::InputError(where + ": empty weight matrix " + shape(w.rows(), w.cols()));
  if (b.size() != w.rows()) {
    throw core::InputError(where + ": bias has " + std::to_string(b.size()) + " entries; expected " +
                           std::to_string(w.rows()) + " (the weight matrix is " + shape(w.rows(), w.cols()) + ")");
  }
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w.data()[i])) {
      const Eigen::Index r = i % w.rows(), c = i / w.rows();
      throw core::InputError(where + ": weight W[" + std::to_string(r) + "," + std::to_string(c) + "] is " +
                             std::to_string(w.data()[i]) + "; expected a finite number");
    }
  }
  for (Eigen::Index i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b[i])) {
      throw core::InputError(where + ": bias b[" + std::to_string(i) + "] is " + std::to_string(b[i]) +
                             "; expected a finite number");
    }
  }
  if (!std::isfinite(params_.activation.scale) || !std::isfinite(params_.activation.alpha)) {
    throw core::InputError(where + ": activation parameters must be finite");
  }
}

Eigen::VectorXd DenseLayer::linear(const Eigen::VectorXd& y_prev) const {
  return Eigen::VectorXd(params_.weights * y_prev + params_.bias);
}

void DenseLayer::linear_batch(const Eigen::MatrixXd& y_prev, Eigen::MatrixXd& z) const {
  z.noalias() = params_.weights * y_prev;
  z.colwise() += params_.bias;
}

Eigen::MatrixXd DenseLayer::vjp(const Eigen::MatrixXd& g) const { return g * params_.weights; }

Eigen::VectorXd DenseLayer::jvp(const Eigen::VectorXd& dy) const { return params_.weights * dy; }

void DenseLayer::add_input_changes(const Eigen::Index* i, const double* v, std::size_t count, double* z_out) const {
  const Eigen::MatrixXd& w = params_.weights;
  Eigen::Map<Eigen::VectorXd> z(z_out, w.rows());
  std::size_t j = 0;
  // Four columns per pass over z: one load and store of z instead of four.
  for (; j + 4 <= count; j += 4) {
    z.noalias() +=
        w.col(i[j]) * v[j] + w.col(i[j + 1]) * v[j + 1] + w.col(i[j + 2]) * v[j + 2] + w.col(i[j + 3]) * v[j + 3];
  }
  for (; j < count; ++j) z.noalias() += w.col(i[j]) * v[j];
}

void DenseLayer::add_synapse_change(std::uint64_t s, double value, const double* y_prev, double* z) const {
  const Eigen::Index row = row_of(s), col = col_of(s);
  z[row] += (value - params_.weights(row, col)) * y_prev[col];
}

std::string DenseLayer::synapse_name(std::uint64_t s) const {
  return "W[" + std::to_string(row_of(s)) + "," + std::to_string(col_of(s)) + "]";
}

std::string DenseLayer::describe() const {
  return std::to_string(output_size()) + "(" + params_.activation.describe() + ")";
}

const DenseLayer& as_dense(const ILayer& layer, const std::string& what) {
  const auto* dense = dynamic_cast<const DenseLayer*>(&layer);
  if (!dense)
    throw core::InputError(what + ": supports dense layers only; this network has a " + layer.kind() + " layer");
  return *dense;
}

Network dense_network(std::vector<DenseParams> layers, bool softmax_output) {
  std::vector<std::unique_ptr<ILayer>> built;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    built.push_back(std::make_unique<DenseLayer>(std::move(layers[l]), "network layer " + std::to_string(l + 1)));
  }
  return Network(std::move(built), softmax_output);
}

std::vector<DenseParams> dense_params(const Network& network, const std::string& what) {
  std::vector<DenseParams> out;
  for (int l = 1; l <= network.num_layers(); ++l) out.push_back(as_dense(network.layer(l), what).params());
  return out;
}

}  // namespace nfsim::models
