#include "models/onnx_io.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_file.h"
#include "core/strings.h"
#include "models/layer/dense_layer.h"
#include "models/onnx_check.h"

namespace nfsim::models {
namespace {

constexpr std::int64_t kMinOpset = 7;
constexpr std::int64_t kMaxOpset = 17;
constexpr std::size_t kMaxModelBytes = std::size_t{2} << 30;  // protobuf's own message limit
constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 31;

// A constant tensor (initializer or Constant node), values widened to double.
struct ConstTensor {
  std::vector<std::int64_t> dims;
  std::vector<double> values;
  std::string shape_text() const {
    std::vector<std::string> d;
    for (auto v : dims) d.push_back(std::to_string(v));
    return "[" + core::join(d, ", ") + "]";
  }
};

std::string dtype_name(int t) {
  switch (t) {
    case onnx::TensorProto::FLOAT: return "float32";
    case onnx::TensorProto::DOUBLE: return "float64";
    case onnx::TensorProto::INT64: return "int64";
    case onnx::TensorProto::INT32: return "int32";
    case onnx::TensorProto::FLOAT16: return "float16";
    case onnx::TensorProto::BFLOAT16: return "bfloat16";
    case onnx::TensorProto::BOOL: return "bool";
    default: return "data type " + std::to_string(t);
  }
}

template <typename T>
void read_raw(const std::string& raw, std::int64_t count, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));  // ONNX raw_data is little-endian, as is x86/ARM
    out[static_cast<std::size_t>(i)] = static_cast<double>(v);
  }
}

ConstTensor decode_tensor(const onnx::TensorProto& t, const std::string& where) {
  ConstTensor c;
  std::int64_t count = 1;
  for (auto d : t.dims()) {
    if (d < 0 || (d > 0 && count > kMaxTensorElements / d)) {
      throw core::InputError(where + ": tensor '" + t.name() + "' has invalid dimension " + std::to_string(d) +
                             "; expected non-negative dimensions with at most 2^31 elements in all");
    }
    c.dims.push_back(d);
    count *= d;
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    throw core::InputError(where + ": tensor '" + t.name() +
                           "' keeps its data in an external file; expected the data inside the model");
  }
  const int type = t.data_type();
  std::size_t elem = 0;
  switch (type) {
    case onnx::TensorProto::FLOAT: elem = 4; break;
    case onnx::TensorProto::DOUBLE: elem = 8; break;
    case onnx::TensorProto::INT64: elem = 8; break;
    case onnx::TensorProto::INT32: elem = 4; break;
    case onnx::TensorProto::BOOL: elem = 1; break;
    default:
      throw core::InputError(where + ": tensor '" + t.name() + "' has element type " + dtype_name(type) +
                             "; expected float32 or float64 (int64/int32 for shapes, bool for flags)");
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<std::size_t>(count) * elem) {
      throw core::InputError(where + ": tensor '" + t.name() + "' raw_data holds " +
                             std::to_string(t.raw_data().size()) + " bytes; expected " +
                             std::to_string(count * elem) + " for shape " + c.shape_text() + " of " +
                             dtype_name(type));
    }
    switch (type) {
      case onnx::TensorProto::FLOAT: read_raw<float>(t.raw_data(), count, c.values); break;
      case onnx::TensorProto::DOUBLE: read_raw<double>(t.raw_data(), count, c.values); break;
      case onnx::TensorProto::INT64: read_raw<std::int64_t>(t.raw_data(), count, c.values); break;
      case onnx::TensorProto::BOOL: read_raw<std::uint8_t>(t.raw_data(), count, c.values); break;
      default: read_raw<std::int32_t>(t.raw_data(), count, c.values); break;
    }
    return c;
  }
  std::int64_t have = 0;
  switch (type) {
    case onnx::TensorProto::FLOAT: have = t.float_data_size(); break;
    case onnx::TensorProto::DOUBLE: have = t.double_data_size(); break;
    case onnx::TensorProto::INT64: have = t.int64_data_size(); break;
    default: have = t.int32_data_size(); break;
  }
  if (have != count) {
    throw core::InputError(where + ": tensor '" + t.name() + "' holds " + std::to_string(have) + " values; expected " +
                           std::to_string(count) + " for shape " + c.shape_text());
  }
  c.values.resize(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    switch (type) {
      case onnx::TensorProto::FLOAT: c.values[i] = t.float_data(static_cast<int>(i)); break;
      case onnx::TensorProto::DOUBLE: c.values[i] = t.double_data(static_cast<int>(i)); break;
      case onnx::TensorProto::INT64: c.values[i] = static_cast<double>(t.int64_data(static_cast<int>(i))); break;
      default: c.values[i] = t.int32_data(static_cast<int>(i)); break;
    }
  }
  return c;
}

// A linear op (Gemm / MatMul [+ Add] [* scale]) waiting for its activation.
struct PendingLayer {
  Eigen::MatrixXd weights;
  Eigen::VectorXd bias;
  double activation_scale = 1.0;
  std::string node;  // the node that created it, for messages
};

class OnnxImporter {
 public:
  explicit OnnxImporter(std::string source) : source_(std::move(source)) {}

  Network run(const onnx::ModelProto& model) {
    check_opset(model);
    if (!model.has_graph() || model.graph().node_size() == 0) {
      fail("the model has no graph nodes; expected a graph of dense layers");
    }
    const onnx::GraphProto& graph = model.graph();
    for (const auto& init : graph.initializer()) {
      constants_[init.name()] = decode_tensor(init, source_ + ": initializer '" + init.name() + "'");
    }
    find_input(graph);
    for (const auto& node : graph.node()) visit(node);
    finalize_pending(ActivationKind::identity, 0.0);
    if (pre_scale_ != 1.0) apply_trailing_scale();
    if (layers_.empty()) fail("the graph has no Gemm or MatMul node; expected at least one dense layer");
    if (graph.output_size() != 1) {
      fail("the graph has " + std::to_string(graph.output_size()) + " outputs; expected exactly 1");
    }
    if (graph.output(0).name() != current_) {
      fail("the graph output '" + graph.output(0).name() + "' is not the end of the layer chain ('" + current_ +
           "'); expected a single chain of layers");
    }
    check_input_shape();
    std::optional<Network> network;
    try {
      network.emplace(dense_network(std::move(layers_), softmax_));
    } catch (const core::InputError& e) {
      fail(e.what());
    }
    // What nfsim read is also what ONNX says the graph is: the checker, and the declared shapes
    // against the inferred ones.
    onnx_check::check_model_and_shapes(model, source_);
    return std::move(*network);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw core::InputError(source_ + ": " + what); }

  [[noreturn]] void fail_node(const onnx::NodeProto& node, const std::string& what) const {
    fail("node '" + node.name() + "' (" + node.op_type() + "): " + what);
  }

  void check_opset(const onnx::ModelProto& model) {
    bool found = false;
    for (const auto& op : model.opset_import()) {
      if (op.domain().empty() || op.domain() == "ai.onnx") {
        found = true;
        opset_ = op.version();
      }
    }
    if (!found) fail("no ai.onnx opset_import (is this an ONNX model?); expected opset 7..17");
    if (opset_ < kMinOpset || opset_ > kMaxOpset) {
      fail("opset " + std::to_string(opset_) + " is not supported; expected opset 7..17");
    }
  }

  void find_input(const onnx::GraphProto& graph) {
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const auto& in : graph.input()) {
      if (!constants_.count(in.name())) inputs.push_back(&in);
    }
    if (inputs.size() != 1) {
      fail("the graph has " + std::to_string(inputs.size()) + " non-constant inputs; expected exactly 1");
    }
    current_ = inputs[0]->name();
    input_name_ = current_;
    const auto& type = inputs[0]->type();
    if (type.has_tensor_type() && type.tensor_type().has_shape()) {
      const auto& shape = type.tensor_type().shape();
      rank_ = shape.dim_size();
      std::int64_t features = 1;
      bool known = shape.dim_size() >= 2;
      for (int d = 1; d < shape.dim_size(); ++d) {
        if (shape.dim(d).has_dim_value() && shape.dim(d).dim_value() > 0) {
          features *= shape.dim(d).dim_value();
        } else {
          known = false;
        }
      }
      if (known) input_features_ = features;
    }
  }

  void check_input_shape() const {
    if (input_features_ && *input_features_ != layers_.front().weights.cols()) {
      fail("graph input '" + input_name_ + "' has " + std::to_string(*input_features_) +
           " features per sample but the first dense layer expects " +
           std::to_string(layers_.front().weights.cols()));
    }
  }

  // The single non-constant input of a node, which must be the current chain value.
  void check_chain(const onnx::NodeProto& node) {
    std::vector<std::string> data_inputs;
    for (const auto& in : node.input()) {
      if (!in.empty() && !constants_.count(in)) data_inputs.push_back(in);
    }
    if (data_inputs.size() != 1 || data_inputs[0] != current_) {
      fail_node(node, "reads {" + core::join(data_inputs, ", ") + "}; expected exactly the output of the previous " +
                          "layer ('" + current_ + "'): nfsim imports a single chain of dense layers");
    }
    if (node.output_size() < 1) fail_node(node, "has no output");
    if (softmax_ && node.op_type() != "Identity" && node.op_type() != "Dropout") {
      fail_node(node, "follows the Softmax; expected Softmax to be the last operation");
    }
  }

  const ConstTensor& constant_input(const onnx::NodeProto& node, int index, const std::string& role) const {
    if (index >= node.input_size() || node.input(index).empty()) {
      fail_node(node, "missing input " + std::to_string(index) + " (" + role + ")");
    }
    const auto it = constants_.find(node.input(index));
    if (it == constants_.end()) {
      fail_node(node, "input '" + node.input(index) + "' (" + role +
                          ") is not a constant initializer; expected trained weights stored in the model");
    }
    return it->second;
  }

  std::optional<const onnx::AttributeProto*> attribute(const onnx::NodeProto& node, const std::string& name) const {
    for (const auto& a : node.attribute()) {
      if (a.name() == name) return &a;
    }
    return std::nullopt;
  }
  std::int64_t int_attr(const onnx::NodeProto& node, const std::string& name, std::int64_t def) const {
    auto a = attribute(node, name);
    return a ? (*a)->i() : def;
  }
  // ONNX float attributes are float32; take the shortest decimal that reads back as that float
  // (0.1f -> 0.1), which is the value the model's author wrote.
  double float_attr(const onnx::NodeProto& node, const std::string& name, double def) const {
    auto a = attribute(node, name);
    if (!a) return def;
    const float f = (*a)->f();
    if (!std::isfinite(f)) {
      fail_node(node, "attribute '" + name + "' = " + core::format_double(static_cast<double>(f)) +
                          "; expected a finite number");
    }
    char buf[32];
    for (int precision = 1; precision <= 9; ++precision) {
      std::snprintf(buf, sizeof buf, "%.*g", precision, static_cast<double>(f));
      if (static_cast<float>(std::strtod(buf, nullptr)) == f) break;
    }
    return std::strtod(buf, nullptr);
  }

  double scalar_constant(const onnx::NodeProto& node) const {
    for (int i = 0; i < node.input_size(); ++i) {
      if (constants_.count(node.input(i))) {
        const ConstTensor& c = constants_.at(node.input(i));
        if (c.values.size() != 1) {
          fail_node(node, "constant '" + node.input(i) + "' has shape " + c.shape_text() +
                              "; expected a scalar (elementwise scaling by a vector is not supported)");
        }
        if (!std::isfinite(c.values[0])) fail_node(node, "constant is " + core::format_double(c.values[0]) + "; expected a finite number");
        return c.values[0];
      }
    }
    fail_node(node, "has no constant operand; expected multiplication by a scalar constant");
  }

  void visit(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      fail_node(node, "operator domain '" + node.domain() + "' is not supported; supported operators (ai.onnx): " +
                          core::join(supported_onnx_ops(), ", "));
    }
    const auto& ops = supported_onnx_ops();
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) {
      fail_node(node, "operator is not supported; supported operators: " + core::join(ops, ", "));
    }
    onnx_check::check_node_schema(node, opset_, source_);
    if (op == "Constant") return visit_constant(node);
    check_chain(node);
    if (op == "Gemm") {
      visit_gemm(node);
    } else if (op == "MatMul") {
      const ConstTensor& b = constant_input(node, 1, "weights B");
      if (node.input(0) != current_) fail_node(node, "expected the data as the first operand (x @ W)");
      if (b.dims.size() != 2) fail_node(node, "weights have shape " + b.shape_text() + "; expected a 2-D matrix");
      start_linear(node, matrix(b, /*transpose=*/true), Eigen::VectorXd::Zero(b.dims[1]));
    } else if (op == "Add") {
      visit_add(node);
    } else if (op == "Mul" || op == "Div") {
      double c = scalar_constant(node);
      if (op == "Div") {
        if (node.input(1) == current_) fail_node(node, "divides a constant by the data; expected data / constant");
        if (c == 0.0) fail_node(node, "divides by zero");
        c = 1.0 / c;
      }
      if (pending_) {
        pending_->activation_scale *= c;
      } else {
        pre_scale_ *= c;
      }
    } else if (op == "Relu") {
      finish_with(node, ActivationKind::relu, 0.0);
    } else if (op == "LeakyRelu") {
      finish_with(node, ActivationKind::leaky_relu, float_attr(node, "alpha", 0.01));
    } else if (op == "Sigmoid") {
      finish_with(node, ActivationKind::sigmoid, 0.0);
    } else if (op == "Tanh") {
      finish_with(node, ActivationKind::tanh, 0.0);
    } else if (op == "Softplus") {
      finish_with(node, ActivationKind::softplus, 0.0);
    } else if (op == "Softmax") {
      const std::int64_t axis = int_attr(node, "axis", opset_ >= 13 ? -1 : 1);
      check_axis(node, axis, tracked_rank(), tracked_rank() - 1);
      if (axis != 1 && axis != -1) {
        fail_node(node, "attribute 'axis' = " + std::to_string(axis) + "; expected the feature axis (1 or -1)");
      }
      finalize_pending(ActivationKind::identity, 0.0);
      if (layers_.empty()) fail_node(node, "comes before any dense layer");
      softmax_ = true;
    } else if (op == "Flatten") {
      const std::int64_t axis = int_attr(node, "axis", 1);
      check_axis(node, axis, tracked_rank(), tracked_rank());
      if (axis != 1 && axis != 1 - tracked_rank()) fail_node(node, "attribute 'axis' = " + std::to_string(axis) + "; expected 1 (keep the batch axis)");
    } else if (op == "Reshape") {
      check_flag(node, "allowzero");
      const ConstTensor& shape = constant_input(node, 1, "shape");
      if (shape.values.size() != 2) {
        fail_node(node, "reshapes to " + std::to_string(shape.values.size()) +
                            " dimensions; expected 2-D [batch, features]");
      }
    } else if (op == "Dropout" && node.input_size() > 2 && !node.input(2).empty()) {
      // Opset 12's training_mode: nfsim runs inference, where Dropout passes the value through.
      const ConstTensor& training = constant_input(node, 2, "training_mode");
      for (double v : training.values) {
        if (v != 0.0) {
          fail_node(node, "input 'training_mode' ('" + node.input(2) + "') is " + core::format_double(v) +
                              "; expected false or absent (nfsim runs the model in inference mode)");
        }
      }
    }
    // Identity and Dropout (inference) pass the value through.
    if (op == "Gemm" || op == "MatMul" || op == "Flatten" || op == "Reshape") rank_ = 2;
    current_ = node.output(0);
  }

  // The rank of the chain's current value: the graph input's declared rank until a layer or a
  // Flatten/Reshape makes it 2-D (2 when the input does not declare one).
  std::int64_t tracked_rank() const { return rank_ > 0 ? rank_ : 2; }

  // An axis attribute within -rank..max (ONNX's range for the op).
  void check_axis(const onnx::NodeProto& node, std::int64_t axis, std::int64_t rank, std::int64_t max) const {
    if (axis < -rank || axis > max) {
      fail_node(node, "attribute 'axis' = " + std::to_string(axis) + " is outside " + std::to_string(-rank) + ".." +
                          std::to_string(max) + " for its rank-" + std::to_string(rank) + " input");
    }
  }

  // An INT attribute that ONNX defines as 0 or 1.
  std::int64_t check_flag(const onnx::NodeProto& node, const std::string& name) const {
    const std::int64_t v = int_attr(node, name, 0);
    if (v != 0 && v != 1) {
      fail_node(node, "attribute '" + name + "' = " + std::to_string(v) + "; expected 0 or 1");
    }
    return v;
  }

  void visit_constant(const onnx::NodeProto& node) {
    if (node.output_size() != 1) fail_node(node, "expected exactly one output");
    if (node.attribute_size() != 1) {
      fail_node(node, "has " + std::to_string(node.attribute_size()) +
                          " attributes; expected exactly one value attribute (value, value_float(s) or value_int(s))");
    }
    for (const auto& a : node.attribute()) {
      ConstTensor c;
      if (a.name() == "value") {
        c = decode_tensor(a.t(), source_ + ": node '" + node.name() + "' (Constant)");
      } else if (a.name() == "value_float") {
        c.values = {a.f()};
      } else if (a.name() == "value_floats") {
        c.values.assign(a.floats().begin(), a.floats().end());
        c.dims = {static_cast<std::int64_t>(c.values.size())};
      } else if (a.name() == "value_int") {
        c.values = {static_cast<double>(a.i())};
      } else if (a.name() == "value_ints") {
        for (auto v : a.ints()) c.values.push_back(static_cast<double>(v));
        c.dims = {static_cast<std::int64_t>(c.values.size())};
      } else {
        fail_node(node, "attribute '" + a.name() + "' is not supported; expected value, value_float(s) or value_int(s)");
      }
      constants_[node.output(0)] = std::move(c);
      return;
    }
    fail_node(node, "has no value attribute");
  }

  Eigen::MatrixXd matrix(const ConstTensor& c, bool transpose) const {
    // c is row-major [d0, d1]; the result is W (outputs x inputs).
    const auto d0 = c.dims[0], d1 = c.dims[1];
    Eigen::MatrixXd m(transpose ? d1 : d0, transpose ? d0 : d1);
    for (std::int64_t r = 0; r < d0; ++r) {
      for (std::int64_t k = 0; k < d1; ++k) {
        const double v = c.values[static_cast<std::size_t>(r * d1 + k)];
        if (transpose) {
          m(k, r) = v;
        } else {
          m(r, k) = v;
        }
      }
    }
    return m;
  }

  void visit_gemm(const onnx::NodeProto& node) {
    if (node.input(0) != current_) fail_node(node, "expected the data as operand A");
    if (check_flag(node, "transA") != 0) {
      fail_node(node, "attribute 'transA' = 1 (A transposed) is not supported; expected transA = 0 (data as rows)");
    }
    const bool trans_b = check_flag(node, "transB") != 0;
    const double alpha = float_attr(node, "alpha", 1.0), beta = float_attr(node, "beta", 1.0);
    const ConstTensor& b = constant_input(node, 1, "weights B");
    if (b.dims.size() != 2) fail_node(node, "weights B have shape " + b.shape_text() + "; expected a 2-D matrix");
    Eigen::MatrixXd w = alpha * matrix(b, !trans_b);
    Eigen::VectorXd bias = Eigen::VectorXd::Zero(w.rows());
    if (node.input_size() > 2 && !node.input(2).empty()) bias = beta * bias_vector(node, constant_input(node, 2, "bias C"), w.rows());
    start_linear(node, std::move(w), std::move(bias));
  }

  Eigen::VectorXd bias_vector(const onnx::NodeProto& node, const ConstTensor& c, Eigen::Index n) const {
    std::int64_t inner = c.dims.empty() ? 1 : c.dims.back();
    const bool ok = (c.values.size() == static_cast<std::size_t>(n) && inner == n) || c.values.size() == 1;
    if (!ok) {
      fail_node(node, "bias has shape " + c.shape_text() + "; expected [" + std::to_string(n) + "], [1, " +
                          std::to_string(n) + "] or a scalar");
    }
    if (c.values.size() == 1) return Eigen::VectorXd::Constant(n, c.values[0]);
    return Eigen::Map<const Eigen::VectorXd>(c.values.data(), n);
  }

  void visit_add(const onnx::NodeProto& node) {
    if (!pending_) {
      fail_node(node, "adds a constant to something that is not a Gemm/MatMul output; expected Add only as a bias");
    }
    std::string cname;
    for (const auto& in : node.input()) {
      if (constants_.count(in)) cname = in;
    }
    if (cname.empty()) fail_node(node, "has no constant operand; expected a bias initializer");
    Eigen::VectorXd add = bias_vector(node, constants_.at(cname), pending_->weights.rows());
    // z was already scaled by activation_scale: scale * (W y + b) + c = scale * (W y + b + c / scale).
    pending_->bias += add / pending_->activation_scale;
  }

  void start_linear(const onnx::NodeProto& node, Eigen::MatrixXd w, Eigen::VectorXd bias) {
    finalize_pending(ActivationKind::identity, 0.0);
    const Eigen::Index expected = layers_.empty() ? (input_features_ ? *input_features_ : w.cols()) : layers_.back().weights.rows();
    if (w.cols() != expected) {
      fail_node(node, "weights take " + std::to_string(w.cols()) + " inputs but the previous " +
                          (layers_.empty() ? std::string("graph input has ") : std::string("layer has ")) +
                          std::to_string(expected) + " features; expected matching dimensions");
    }
    if (pre_scale_ != 1.0) {
      w *= pre_scale_;
      pre_scale_ = 1.0;
    }
    pending_ = PendingLayer{std::move(w), std::move(bias), 1.0, node.name()};
  }

  void finish_with(const onnx::NodeProto& node, ActivationKind kind, double alpha) {
    if (!pending_) {
      fail_node(node, "activation is not applied to a Gemm/MatMul output; expected each activation right after a "
                      "dense layer");
    }
    finalize_pending(kind, alpha);
  }

  void finalize_pending(ActivationKind kind, double alpha) {
    if (!pending_) return;
    DenseParams layer;
    layer.weights = std::move(pending_->weights);
    layer.bias = std::move(pending_->bias);
    layer.activation.kind = kind;
    layer.activation.scale = pending_->activation_scale;
    if (kind == ActivationKind::leaky_relu) layer.activation.alpha = alpha;
    layers_.push_back(std::move(layer));
    pending_.reset();
  }

  void apply_trailing_scale() {
    if (layers_.empty() || softmax_ || layers_.back().activation.kind != ActivationKind::identity) {
      fail("a scalar Mul/Div after the last activation is not supported; expected it before a dense layer or "
           "between a dense layer and its activation");
    }
    layers_.back().activation.scale *= pre_scale_;
    pre_scale_ = 1.0;
  }

  std::string source_;
  std::int64_t opset_ = 0;
  std::int64_t rank_ = 0;  // the chain value's rank; 0 = not declared
  std::map<std::string, ConstTensor> constants_;
  std::string current_, input_name_;
  std::optional<std::int64_t> input_features_;
  std::vector<DenseParams> layers_;
  std::optional<PendingLayer> pending_;
  double pre_scale_ = 1.0;
  bool softmax_ = false;
};

// --- export ---------------------------------------------------------------------------------

void set_tensor(onnx::TensorProto* t, const std::string& name, const std::vector<std::int64_t>& dims,
                const std::vector<double>& values, OnnxDType dtype) {
  t->set_name(name);
  for (auto d : dims) t->add_dims(d);
  std::string raw;
  if (dtype == OnnxDType::float64) {
    t->set_data_type(onnx::TensorProto::DOUBLE);
    raw.resize(values.size() * sizeof(double));
    std::memcpy(raw.data(), values.data(), raw.size());
  } else {
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (std::abs(values[i]) > static_cast<double>(std::numeric_limits<float>::max())) {
        throw core::InputError("tensor '" + name + "' value " + std::to_string(i) + " is " + core::format_double(values[i]) +
                               ", beyond float32's range; expected --dtype float64 or smaller weights");
      }
    }
    std::vector<float> f(values.begin(), values.end());
    raw.resize(f.size() * sizeof(float));
    std::memcpy(raw.data(), f.data(), raw.size());
  }
  t->set_raw_data(raw);
}

void set_value_info(onnx::ValueInfoProto* v, const std::string& name, Eigen::Index features, OnnxDType dtype) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype == OnnxDType::float64 ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(features);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          const std::vector<std::string>& inputs, const std::string& output) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& in : inputs) n->add_input(in);
  n->add_output(output);
  return n;
}

onnx::ModelProto build_model(const Network& net, const OnnxExportOptions& options) {
  if (options.opset < kMinOpset || options.opset > kMaxOpset) {
    throw core::InputError("ONNX export: opset " + std::to_string(options.opset) + "; expected 7..17");
  }
  onnx::ModelProto model;
  model.set_ir_version(options.opset >= 13 ? 7 : 4);
  model.set_producer_name("nfsim");
  model.set_producer_version("0.1");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("nfsim_network");
  set_value_info(g->add_input(), "input", net.input_size(), options.dtype);
  std::string cur = "input";
  for (int l = 1; l <= net.num_layers(); ++l) {
    const DenseParams& layer = as_dense(net.layer(l), "ONNX export").params();
    const std::string p = "layer" + std::to_string(l);
    std::vector<double> w(static_cast<std::size_t>(layer.weights.size()));
    for (Eigen::Index r = 0; r < layer.weights.rows(); ++r) {
      for (Eigen::Index c = 0; c < layer.weights.cols(); ++c) w[r * layer.weights.cols() + c] = layer.weights(r, c);
    }
    set_tensor(g->add_initializer(), p + ".weight", {layer.weights.rows(), layer.weights.cols()}, w, options.dtype);
    set_tensor(g->add_initializer(), p + ".bias", {layer.bias.size()},
               std::vector<double>(layer.bias.data(), layer.bias.data() + layer.bias.size()), options.dtype);
    auto* gemm = add_node(g, "Gemm", p + ".gemm", {cur, p + ".weight", p + ".bias"}, p + ".z");
    auto* trans_b = gemm->add_attribute();
    trans_b->set_name("transB");
    trans_b->set_type(onnx::AttributeProto::INT);
    trans_b->set_i(1);
    cur = p + ".z";
    const Activation& act = layer.activation;
    if (act.scale != 1.0) {
      set_tensor(g->add_initializer(), p + ".scale", {}, {act.scale}, options.dtype);
      add_node(g, "Mul", p + ".scale_mul", {cur, p + ".scale"}, p + ".scaled");
      cur = p + ".scaled";
    }
    static const char* kOps[] = {nullptr, "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus"};
    if (act.kind != ActivationKind::identity) {
      auto* n = add_node(g, kOps[static_cast<int>(act.kind)], p + ".act", {cur}, p + ".y");
      if (act.kind == ActivationKind::leaky_relu) {
        auto* a = n->add_attribute();
        a->set_name("alpha");
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(static_cast<float>(act.alpha));
      }
      cur = p + ".y";
    }
  }
  if (net.softmax_output()) {
    auto* n = add_node(g, "Softmax", "softmax", {cur}, "probabilities");
    auto* a = n->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(1);
    cur = "probabilities";
  }
  set_value_info(g->add_output(), cur, net.output_size(), options.dtype);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw core::InternalError(std::string("ONNX export produced a model that onnx::checker rejects: ") + e.what());
  }
  return model;
}

}  // namespace

const std::vector<std::string>& supported_onnx_ops() {
  static const std::vector<std::string> ops{"Gemm",    "MatMul",  "Add",     "Mul",      "Div",
                                            "Relu",    "LeakyRelu", "Sigmoid", "Tanh",   "Softplus",
                                            "Softmax", "Flatten", "Reshape", "Identity", "Dropout", "Constant"};
  return ops;
}

Network parse_onnx(const std::string& bytes, const std::string& source) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    throw core::InputError(source + ": not a valid ONNX model (protobuf parsing failed: truncated or not ONNX); "
                                    "expected an ONNX ModelProto file");
  }
  return OnnxImporter(source).run(model);
}

Network load_onnx(const std::string& path) {
  return parse_onnx(core::read_input_file(path, "an ONNX model file", kMaxModelBytes), path);
}

std::string serialize_onnx(const Network& network, const OnnxExportOptions& options) {
  return build_model(network, options).SerializeAsString();
}

void save_onnx(const Network& network, const std::string& path, const OnnxExportOptions& options) {
  const std::string bytes = serialize_onnx(network, options);
  core::write_file_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace nfsim::models
