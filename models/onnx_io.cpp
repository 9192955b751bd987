#include "models/onnx_io.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_file.h"
#include "core/strings.h"
#include "models/layer/conv2d_layer.h"
#include "models/layer/dense_layer.h"
#include "models/layer/pool2d.h"
#include "models/onnx_check.h"
#include "models/onnx_conv.h"

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

// A linear op (Gemm / MatMul / Conv [+ Add] [BatchNormalization] [* scale]) waiting for its
// activation; also what a finished layer keeps until the network is built.
struct PendingLayer {
  Eigen::MatrixXd weights;  // dense: outputs x inputs; conv: C_out x taps (Conv2dParams::weights)
  Eigen::VectorXd bias;
  double activation_scale = 1.0;
  std::string node;  // the node that created it, for messages
  std::optional<Conv2dParams> conv;  // a convolution's geometry (its weights and bias are the above)
  Activation activation;             // set when the layer is finished
};

// A pooling read between a linear op and its activation (Conv -> MaxPool -> Relu), applied after
// the activation once it is known.
struct PendingPool {
  std::shared_ptr<const Pool2d> pool;
  const onnx::NodeProto* node = nullptr;
  double scale_before = 1.0;  // the layer's activation scale when the pooling was read
};

std::string shape_text(const std::vector<Eigen::Index>& shape) {
  std::vector<std::string> d;
  for (auto v : shape) d.push_back(std::to_string(v));
  return core::join(d, "x");
}

Eigen::Index product(const std::vector<Eigen::Index>& shape) {
  Eigen::Index n = 1;
  for (auto v : shape) n *= v;
  return n;
}

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
    if (pad_) {
      fail_node(*pad_, "is the last operation; expected a zero Pad only right before a Conv or AveragePool (it is "
                       "folded into their pads)");
    }
    finalize_pending(ActivationKind::identity, 0.0);
    if (pre_scale_ != 1.0) apply_trailing_scale();
    if (layers_.empty()) fail("the graph has no Conv, Gemm or MatMul node; expected at least one layer");
    if (stages_.size() > layers_.size() && stages_[layers_.size()]) {
      fail(stage_nodes_[layers_.size()] + ": pools the output of the last layer ('" + layers_.back().node +
           "'); expected a Conv, Gemm or MatMul after every pooling (nfsim pools between layers, in the neuron "
           "arrays)");
    }
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
      network.emplace(build_network());
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
      fail("opset " + std::to_string(opset_) + " is not supported; expected opset 7..17 (17 is the newest opset of the "
           "ONNX library nfsim is built with, libonnx 1.12, and of torch 1.13's exporter)");
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
      std::vector<std::string> dims_text;
      for (int d = 0; d < shape.dim_size(); ++d) {
        const auto& dim = shape.dim(d);
        dims_text.push_back(dim.has_dim_value() ? std::to_string(dim.dim_value())
                                                : (dim.dim_param().empty() ? "?" : dim.dim_param()));
        if (d == 0) continue;
        if (dim.has_dim_value() && dim.dim_value() > 0) {
          features *= dim.dim_value();
        } else {
          known = false;
        }
      }
      input_dims_text_ = "[" + core::join(dims_text, ", ") + "]";
      if (known) {
        input_features_ = features;
        for (int d = 1; d < shape.dim_size(); ++d) shape_.push_back(shape.dim(d).dim_value());
        input_shape_ = shape_;
      }
    }
  }

  void check_input_shape() const {
    if (layers_.front().conv || stage_at(0)) return;  // convolutions and poolings check their input when read
    if (input_features_ && *input_features_ != layers_.front().weights.cols()) {
      fail("graph input '" + input_name_ + "' has " + std::to_string(*input_features_) +
           " features per sample but the first dense layer expects " +
           std::to_string(layers_.front().weights.cols()));
    }
  }

  const Pool2d* stage_at(std::size_t l) const { return l < stages_.size() ? stages_[l].get() : nullptr; }

  Network build_network() {
    const bool dense = std::none_of(layers_.begin(), layers_.end(), [](const PendingLayer& l) { return bool(l.conv); }) &&
                       std::none_of(stages_.begin(), stages_.end(), [](const auto& s) { return bool(s); });
    if (dense) {
      std::vector<DenseParams> params;
      for (auto& l : layers_) params.push_back(DenseParams{std::move(l.weights), std::move(l.bias), l.activation});
      return dense_network(std::move(params), softmax_);
    }
    std::vector<std::unique_ptr<ILayer>> built;
    for (auto& l : layers_) {
      const std::string where = "the layer of node '" + l.node + "'";
      if (l.conv) {
        Conv2dParams p = *l.conv;
        p.weights = std::move(l.weights);
        p.bias = std::move(l.bias);
        p.activation = l.activation;
        built.push_back(std::make_unique<Conv2dLayer>(std::move(p), where));
      } else {
        built.push_back(std::make_unique<DenseLayer>(DenseParams{std::move(l.weights), std::move(l.bias), l.activation}, where));
      }
    }
    std::vector<std::shared_ptr<const Pool2d>> stages = stages_;
    stages.resize(layers_.size());
    return Network(std::move(built), std::move(stages), softmax_,
                   input_shape_.size() == 3 ? input_shape_ : std::vector<Eigen::Index>{});
  }

  // The current value as C x H x W, for a node that needs it (Conv, pooling, Pad).
  void require_spatial(const onnx::NodeProto& node) const {
    if (shape_.size() == 3) return;
    if (shape_.empty()) {
      fail_node(node, "needs its input's static shape [N, C, H, W]; the graph input '" + input_name_ + "' is " +
                          (input_dims_text_.empty() ? std::string("not declared") : input_dims_text_) +
                          "; expected C, H and W fixed (only the batch may be symbolic)");
    }
    fail_node(node, "reads a value of shape [N, " + core::join([&] {
                std::vector<std::string> d;
                for (auto v : shape_) d.push_back(std::to_string(v));
                return d;
              }(), ", ") + "]; expected a 2-D image batch [N, C, H, W]");
  }

  // The single non-constant input of a node, which must be the current chain value.
  void check_chain(const onnx::NodeProto& node) {
    std::vector<std::string> data_inputs;
    for (const auto& in : node.input()) {
      if (!in.empty() && !constants_.count(in)) data_inputs.push_back(in);
    }
    if (data_inputs.size() > 1) {
      fail_node(node, "combines " + std::to_string(data_inputs.size()) + " computed values {" + core::join(data_inputs, ", ") +
                          "} (a residual connection or a merge), which nfsim does not import; expected a single chain "
                          "of layers, each node reading the previous one and constants; supported operators: " +
                          core::join(supported_onnx_ops(), ", "));
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
    if (pad_ && op != "Conv" && op != "AveragePool") {
      fail_node(*pad_, "is followed by " + onnx_check::node_label(node) +
                           "; expected a zero Pad only right before a Conv or AveragePool (it is folded into their pads)");
    }
    check_chain(node);
    if (op == "Gemm") {
      check_flat(node);
      visit_gemm(node);
    } else if (op == "MatMul") {
      check_flat(node);
      const ConstTensor& b = constant_input(node, 1, "weights B");
      if (node.input(0) != current_) fail_node(node, "expected the data as the first operand (x @ W)");
      if (b.dims.size() != 2) fail_node(node, "weights have shape " + b.shape_text() + "; expected a 2-D matrix");
      start_linear(node, matrix(b, /*transpose=*/true), Eigen::VectorXd::Zero(b.dims[1]));
    } else if (op == "Conv") {
      visit_conv(node);
    } else if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool") {
      visit_pool(node);
    } else if (op == "Pad") {
      visit_pad(node);
    } else if (op == "BatchNormalization") {
      visit_batch_norm(node);
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
      if (shape_.size() > 1) {
        fail_node(node, "reads a value of shape [N, " + shape_text(shape_) +
                            "]; expected [batch, features] (a Flatten before the Softmax)");
      }
      finalize_pending(ActivationKind::identity, 0.0);
      if (layers_.empty()) fail_node(node, "comes before any dense layer");
      if (stage_at(layers_.size())) {
        fail(stage_nodes_[layers_.size()] + ": pools the output of the last layer ('" + layers_.back().node +
             "'); expected a Conv, Gemm or MatMul after every pooling (nfsim pools between layers, in the neuron "
             "arrays)");
      }
      softmax_ = true;
    } else if (op == "Flatten") {
      const std::int64_t axis = int_attr(node, "axis", 1);
      check_axis(node, axis, tracked_rank(), tracked_rank());
      if (axis != 1 && axis != 1 - tracked_rank()) fail_node(node, "attribute 'axis' = " + std::to_string(axis) + "; expected 1 (keep the batch axis)");
      if (!shape_.empty()) shape_ = {product(shape_)};
    } else if (op == "Reshape") {
      visit_reshape(node);
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
    if (op == "Gemm" || op == "MatMul" || op == "Flatten") rank_ = 2;
    if (op == "Conv" || op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool") rank_ = 4;
    current_ = node.output(0);
  }

  // The rank of the chain's current value: from its tracked shape, else the graph input's
  // declared rank until a layer or a Flatten/Reshape makes it 2-D (2 when the input does not
  // declare one).
  std::int64_t tracked_rank() const {
    if (!shape_.empty()) return static_cast<std::int64_t>(shape_.size()) + 1;
    return rank_ > 0 ? rank_ : 2;
  }

  // Gemm and MatMul read [batch, features].
  void check_flat(const onnx::NodeProto& node) const {
    if (shape_.size() > 1) {
      fail_node(node, "reads a value of shape [N, " + shape_text(shape_) + "] (" + std::to_string(shape_.size() + 1) +
                          "-D); expected [batch, features]: a Flatten (axis 1) or Reshape to [batch, features] before it");
    }
  }

  // A constant Reshape to [batch, features] or [batch, C, H, W]: 0 copies the input's dimension
  // (allowzero 0), -1 takes what is left; the batch entry may be -1, 0 or a number.
  void visit_reshape(const onnx::NodeProto& node) {
    const bool allowzero = check_flag(node, "allowzero") != 0;
    const ConstTensor& target = constant_input(node, 1, "shape");
    const std::size_t n = target.values.size();
    if (n != 2 && n != 4) {
      fail_node(node, "reshapes to " + std::to_string(n) +
                          " dimensions; expected 2-D [batch, features] or 4-D [batch, C, H, W]");
    }
    rank_ = static_cast<std::int64_t>(n);
    if (shape_.empty()) {
      if (n == 4) require_spatial(node);
      return;  // nothing to check against: the next layer's weights say what it reads
    }
    const Eigen::Index total = product(shape_);
    std::vector<std::string> target_text;
    for (double v : target.values) target_text.push_back(core::format_double(v));
    const std::string target_str = "[" + core::join(target_text, ", ") + "]";
    std::vector<Eigen::Index> out;
    int infer = -1;
    Eigen::Index known = 1;
    for (std::size_t i = 1; i < n; ++i) {
      auto v = static_cast<Eigen::Index>(target.values[i]);
      if (v == 0 && !allowzero) {
        if (i - 1 >= shape_.size()) fail_node(node, "shape entry " + std::to_string(i) + " is 0 (copy) past the input's rank");
        v = shape_[i - 1];
      }
      if (v == -1 && infer < 0) {
        infer = static_cast<int>(out.size());
        out.push_back(-1);
        continue;
      }
      if (v < 1) {
        fail_node(node, "shape " + target_str + " entry " + std::to_string(i) + " is " + std::to_string(v) +
                            "; expected a positive size, 0 (copy) or one -1 after the batch");
      }
      known *= v;
      out.push_back(v);
    }
    if (infer >= 0) {
      if (total % known != 0) {
        fail_node(node, "cannot reshape the " + shape_text(shape_) + " value (" + std::to_string(total) +
                            " per sample) to " + target_str + "; expected sizes whose product divides it");
      }
      out[static_cast<std::size_t>(infer)] = total / known;
    } else if (known != total) {
      fail_node(node, "reshapes the " + shape_text(shape_) + " value (" + std::to_string(total) + " per sample) to " +
                          target_str + " (" + std::to_string(known) +
                          " per sample); expected the same number of values per sample");
    }
    shape_ = out;
  }

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
      fail_node(node, "adds a constant to something that is not a Conv/Gemm/MatMul output; expected Add only as a bias");
    }
    std::string cname;
    for (const auto& in : node.input()) {
      if (constants_.count(in)) cname = in;
    }
    if (cname.empty()) fail_node(node, "has no constant operand; expected a bias initializer");
    const ConstTensor& c = constants_.at(cname);
    Eigen::VectorXd add;
    if (pending_->conv) {
      // A per-channel bias broadcast over H and W: [C, 1, 1], [1, C, 1, 1] or a scalar.
      const Eigen::Index n = pending_->weights.rows();
      const bool channel = c.values.size() == static_cast<std::size_t>(n) && c.dims.size() >= 3 &&
                           c.dims[c.dims.size() - 1] == 1 && c.dims[c.dims.size() - 2] == 1 &&
                           c.dims[c.dims.size() - 3] == n;
      if (!channel && c.values.size() != 1) {
        fail_node(node, "bias has shape " + c.shape_text() + "; expected [" + std::to_string(n) + ", 1, 1], [1, " +
                            std::to_string(n) + ", 1, 1] or a scalar (one value per output channel of '" + pending_->node +
                            "')");
      }
      add = c.values.size() == 1 ? Eigen::VectorXd::Constant(n, c.values[0])
                                 : Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(c.values.data(), n));
    } else {
      add = bias_vector(node, c, pending_->weights.rows());
    }
    // z was already scaled by activation_scale: scale * (W y + b) + c = scale * (W y + b + c / scale).
    pending_->bias += add / pending_->activation_scale;
  }

  void start_linear(const onnx::NodeProto& node, Eigen::MatrixXd w, Eigen::VectorXd bias,
                    std::optional<Conv2dParams> conv = std::nullopt) {
    finalize_pending(ActivationKind::identity, 0.0);
    if (!conv) {
      const Eigen::Index expected =
          !shape_.empty() ? product(shape_) : (layers_.empty() ? (input_features_ ? *input_features_ : w.cols()) : layers_.back().weights.rows());
      if (w.cols() != expected) {
        fail_node(node, "weights take " + std::to_string(w.cols()) + " inputs but the previous " +
                            (layers_.empty() ? std::string("graph input has ") : std::string("layer has ")) +
                            std::to_string(expected) + " features; expected matching dimensions");
      }
      shape_ = {w.rows()};
    }
    if (pre_scale_ != 1.0) {
      w *= pre_scale_;
      pre_scale_ = 1.0;
    }
    pending_ = PendingLayer{std::move(w), std::move(bias), 1.0, node.name(), std::move(conv), Activation{}};
  }

  void finish_with(const onnx::NodeProto& node, ActivationKind kind, double alpha) {
    if (!pending_) {
      fail_node(node, "activation is not applied to a Conv, Gemm or MatMul output; expected each activation right "
                      "after a layer (a pooling may come between, it is applied after the activation)");
    }
    finalize_pending(kind, alpha, &node);
  }

  void finalize_pending(ActivationKind kind, double alpha, const onnx::NodeProto* act_node = nullptr) {
    if (!pending_) return;
    PendingLayer layer = std::move(*pending_);
    pending_.reset();
    layer.activation.kind = kind;
    layer.activation.scale = layer.activation_scale;
    if (kind == ActivationKind::leaky_relu) layer.activation.alpha = alpha;
    if (pool_) {
      // Linear op -> pooling -> activation: nfsim pools after the activation, the same thing for
      // a max pooling (every activation is non-decreasing) when what multiplies the pooled value
      // is positive.
      const bool max = pool_->pool->params().kind == Pool2dParams::Kind::max;
      if (!max && kind != ActivationKind::identity) {
        fail_node(*pool_->node, "comes before the activation " + onnx_check::node_label(*act_node) +
                                    "; expected the activation before the average pooling (swap them: an average does "
                                    "not commute with a nonlinear activation, a max does)");
      }
      const double after = layer.activation_scale / pool_->scale_before;
      if (max && !(after > 0.0)) {
        fail_node(*pool_->node, "is followed by a multiplication by " + core::format_double(after) +
                                    " before the activation; expected a positive factor (a max pooling commutes only "
                                    "with non-decreasing maps)");
      }
    }
    layers_.push_back(std::move(layer));
    if (pool_) {
      set_stage(layers_.size(), pool_->pool, onnx_check::node_label(*pool_->node));
      pool_.reset();
    }
  }

  void set_stage(std::size_t l, std::shared_ptr<const Pool2d> pool, const std::string& label) {
    if (stages_.size() <= l) {
      stages_.resize(l + 1);
      stage_nodes_.resize(l + 1);
    }
    if (stages_[l]) {
      fail(label + ": a second pooling after " + (l == 0 ? std::string("the input") : "'" + layers_[l - 1].node + "'") +
           " (" + stage_nodes_[l] + " is the first); expected at most one pooling between two layers");
    }
    stages_[l] = std::move(pool);
    stage_nodes_[l] = label;
  }

  std::string where(const onnx::NodeProto& node) const { return source_ + ": " + onnx_check::node_label(node); }

  void visit_conv(const onnx::NodeProto& node) {
    const ConstTensor& w = constant_input(node, 1, "weights W");
    if (w.dims.size() != 4) {
      fail_node(node, "weights have shape " + w.shape_text() +
                          "; expected a 2-D convolution (weights [C_out, C_in/group, kH, kW]); 1-D and 3-D "
                          "convolutions are not supported");
    }
    require_spatial(node);
    const Eigen::Index in_c = shape_[0], in_h = shape_[1], in_w = shape_[2];
    const Eigen::Index out_c = w.dims[0], group_c = w.dims[1], kh = w.dims[2], kw = w.dims[3];
    const std::int64_t group = int_attr(node, "group", 1);
    if (group < 1) fail_node(node, "attribute 'group' = " + std::to_string(group) + "; expected an integer >= 1");
    if (in_c % group != 0 || out_c % group != 0) {
      fail_node(node, "attribute 'group' = " + std::to_string(group) + " does not divide the " + std::to_string(in_c) +
                          " input channels and the " + std::to_string(out_c) +
                          " output channels; expected a divisor of both");
    }
    if (group_c * group != in_c) {
      fail_node(node, "weights " + w.shape_text() + " read " + std::to_string(group_c * group) + " input channels (" +
                          std::to_string(group_c) + " per group, group " + std::to_string(group) + "); the input has " +
                          std::to_string(in_c) + " (" + shape_text(shape_) + "); expected matching channels");
    }
    const auto kernel = onnx_conv::ints_attribute(node, "kernel_shape");
    if (!kernel.empty() && (kernel.size() != 2 || kernel[0] != kh || kernel[1] != kw)) {
      std::vector<std::string> k;
      for (auto v : kernel) k.push_back(std::to_string(v));
      fail_node(node, "attribute 'kernel_shape' = [" + core::join(k, ", ") + "]; expected the weights' [" +
                          std::to_string(kh) + ", " + std::to_string(kw) + "]");
    }
    const onnx_conv::Window win =
        onnx_conv::read_window(node, where(node), kh, kw, in_h, in_w, true, take_pad(), "kernel");
    Conv2dParams p;
    p.in_c = in_c;
    p.in_h = in_h;
    p.in_w = in_w;
    p.out_c = out_c;
    p.kh = kh;
    p.kw = kw;
    p.stride_h = win.stride_h;
    p.stride_w = win.stride_w;
    p.dil_h = win.dil_h;
    p.dil_w = win.dil_w;
    p.pad_t = win.pads[0];
    p.pad_l = win.pads[1];
    p.pad_b = win.pads[2];
    p.pad_r = win.pads[3];
    p.groups = group;
    // Row o is W[o] flattened (c, ky, kx): ONNX's row-major layout as is.
    const Eigen::Index taps = group_c * kh * kw;
    Eigen::MatrixXd weights(out_c, taps);
    for (Eigen::Index o = 0; o < out_c; ++o) {
      for (Eigen::Index t = 0; t < taps; ++t) weights(o, t) = w.values[static_cast<std::size_t>(o * taps + t)];
    }
    Eigen::VectorXd bias = Eigen::VectorXd::Zero(out_c);
    if (node.input_size() > 2 && !node.input(2).empty()) {
      const ConstTensor& b = constant_input(node, 2, "bias B");
      if (b.dims.size() != 1 || b.dims[0] != out_c) {
        fail_node(node, "bias B has shape " + b.shape_text() + "; expected [" + std::to_string(out_c) + "] (one per output channel)");
      }
      bias = Eigen::Map<const Eigen::VectorXd>(b.values.data(), out_c);
    }
    start_linear(node, std::move(weights), std::move(bias), std::move(p));
    shape_ = {out_c, win.out_h, win.out_w};
  }

  // The pads of a Pad node right before, taken (zero when there is none).
  onnx_conv::Pads take_pad() {
    onnx_conv::Pads pads = pad_pads_;
    pad_ = nullptr;
    pad_pads_ = {0, 0, 0, 0};
    return pads;
  }

  void visit_pad(const onnx::NodeProto& node) {
    require_spatial(node);
    const std::vector<double>* pads = nullptr;
    const std::vector<double>* value = nullptr;
    if (opset_ >= 11) {
      pads = &constant_input(node, 1, "pads").values;
      if (node.input_size() > 2 && !node.input(2).empty()) value = &constant_input(node, 2, "constant_value").values;
    }
    pad_pads_ = onnx_conv::read_pad(node, where(node), opset_, pads, value);
    pad_ = &node;
  }

  void visit_pool(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    require_spatial(node);
    const Eigen::Index c = shape_[0], h = shape_[1], w = shape_[2];
    Pool2dParams p;
    p.c = c;
    p.h = h;
    p.w = w;
    if (op == "GlobalAveragePool") {
      p.kind = Pool2dParams::Kind::average;
      p.kh = p.stride_h = h;  // one window: the stride is immaterial; kernel = stride is how describe() shows it
      p.kw = p.stride_w = w;
    } else {
      p.kind = op == "MaxPool" ? Pool2dParams::Kind::max : Pool2dParams::Kind::average;
      if (int_attr(node, "ceil_mode", 0) != 0) {
        fail_node(node, "attribute 'ceil_mode' = " + std::to_string(int_attr(node, "ceil_mode", 0)) +
                            " is not supported; expected 0 (floor: windows that run past the padded input are dropped)");
      }
      if (op == "MaxPool") {
        if (int_attr(node, "storage_order", 0) != 0) {
          fail_node(node, "attribute 'storage_order' = " + std::to_string(int_attr(node, "storage_order", 0)) +
                              " is not supported; expected 0 (nfsim reads the pooled values, not their indices)");
        }
        if (node.output_size() > 1 && !node.output(1).empty()) {
          fail_node(node, "has a second output 'Indices' ('" + node.output(1) +
                              "'); expected the pooled values only (nfsim reads no indices)");
        }
      }
      const auto kernel = onnx_conv::ints_attribute(node, "kernel_shape");
      if (kernel.size() != 2 || kernel[0] < 1 || kernel[1] < 1) {
        std::vector<std::string> k;
        for (auto v : kernel) k.push_back(std::to_string(v));
        fail_node(node, "attribute 'kernel_shape' = [" + core::join(k, ", ") + "]; expected 2 sizes >= 1 (a 2-D window)");
      }
      bool include_pad = op == "AveragePool" && check_flag(node, "count_include_pad") != 0;
      const bool folded = pad_ != nullptr;
      if (folded && op == "AveragePool" && !include_pad && !onnx_conv::ints_attribute(node, "pads").empty()) {
        for (auto v : onnx_conv::ints_attribute(node, "pads")) {
          if (v != 0) {
            fail_node(node, "has its own pads with count_include_pad = 0 after the zero Pad " +
                                onnx_check::node_label(*pad_) +
                                ", whose pads the average counts; expected count_include_pad = 1 or no pads of its own");
          }
        }
      }
      const onnx_conv::Window win = onnx_conv::read_window(node, where(node), kernel[0], kernel[1], h, w,
                                                           /*dilations_allowed=*/false, take_pad(), "pooling window");
      if (folded) include_pad = true;  // PyTorch's count_include_pad=True with padding: Pad + AveragePool
      p.kh = win.kh;
      p.kw = win.kw;
      p.stride_h = win.stride_h;
      p.stride_w = win.stride_w;
      p.pad_t = win.pads[0];
      p.pad_l = win.pads[1];
      p.pad_b = win.pads[2];
      p.pad_r = win.pads[3];
      p.count_include_pad = include_pad;
    }
    auto pool = std::make_shared<const Pool2d>(p, where(node));  // its messages name the file and the node
    if (p.kind == Pool2dParams::Kind::max && !pending_ && pre_scale_ < 0.0) {
      fail_node(node, "follows a multiplication by " + core::format_double(pre_scale_) +
                          "; expected a positive factor before a max pooling (nfsim folds the factor into the next layer)");
    }
    if (pending_) {
      if (pool_) {
        fail_node(node, "is a second pooling after '" + pending_->node + "' (" + onnx_check::node_label(*pool_->node) +
                            " is the first); expected at most one pooling between two layers");
      }
      pool_ = PendingPool{std::move(pool), &node, pending_->activation_scale};
    } else {
      set_stage(layers_.size(), std::move(pool), onnx_check::node_label(node));
    }
    shape_ = {c, pool_ ? pool_->pool->out_h() : stages_[layers_.size()]->out_h(),
              pool_ ? pool_->pool->out_w() : stages_[layers_.size()]->out_w()};
  }

  void visit_batch_norm(const onnx::NodeProto& node) {
    if (!pending_ || pool_) {
      fail_node(node, "does not directly follow a Conv, Gemm or MatMul; expected BatchNormalization right after one "
                      "(before the activation and any pooling) to be folded into its weights");
    }
    if (int_attr(node, "training_mode", 0) != 0) {
      fail_node(node, "attribute 'training_mode' = " + std::to_string(int_attr(node, "training_mode", 0)) +
                          "; expected 0 (inference: nfsim folds the running statistics into the weights)");
    }
    if (opset_ < 9 && int_attr(node, "spatial", 1) != 1) {
      fail_node(node, "attribute 'spatial' = " + std::to_string(int_attr(node, "spatial", 1)) +
                          "; expected 1 (statistics per channel)");
    }
    int outputs = 0;
    for (const auto& out : node.output()) outputs += out.empty() ? 0 : 1;
    if (outputs != 1) {
      fail_node(node, "has " + std::to_string(outputs) +
                          " outputs (the training statistics); expected one output (the inference form)");
    }
    const double epsilon = float_attr(node, "epsilon", 1e-5);
    onnx_conv::fold_batch_norm(pending_->weights, pending_->bias, pending_->activation_scale,
                               constant_input(node, 1, "scale").values, constant_input(node, 2, "B").values,
                               constant_input(node, 3, "input_mean").values, constant_input(node, 4, "input_var").values,
                               epsilon, where(node));
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
  // The chain value's shape without the batch ({F} or {C, H, W}); empty while not known (an
  // input that does not declare it).
  std::vector<Eigen::Index> shape_;
  std::vector<Eigen::Index> input_shape_;  // the graph input's, when static
  std::string input_dims_text_;            // as declared, e.g. "[N, 1, h, w]"
  std::map<std::string, ConstTensor> constants_;
  std::string current_, input_name_;
  std::optional<std::int64_t> input_features_;
  std::vector<PendingLayer> layers_;  // finished layers
  std::vector<std::shared_ptr<const Pool2d>> stages_;  // stages_[l]: the pooling after layer l (0 = the input)
  std::vector<std::string> stage_nodes_;               // the node of each, for messages
  std::optional<PendingLayer> pending_;
  std::optional<PendingPool> pool_;        // a pooling between pending_ and its activation
  const onnx::NodeProto* pad_ = nullptr;   // a Pad to fold into the next Conv or AveragePool
  onnx_conv::Pads pad_pads_{0, 0, 0, 0};
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

// [batch, dims...] with a symbolic batch.
void set_value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<Eigen::Index>& dims, OnnxDType dtype) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype == OnnxDType::float64 ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
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

void add_int(onnx::NodeProto* n, const std::string& name, std::int64_t value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void add_ints(onnx::NodeProto* n, const std::string& name, const std::vector<Eigen::Index>& values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

// The output stage of a layer: GlobalAveragePool for an unpadded average over the whole map,
// else MaxPool / AveragePool.
std::string add_pool(onnx::GraphProto* g, const Pool2d& pool, const std::string& prefix, const std::string& input) {
  const Pool2dParams& p = pool.params();
  const bool average = p.kind == Pool2dParams::Kind::average;
  const bool unpadded = p.pad_t == 0 && p.pad_l == 0 && p.pad_b == 0 && p.pad_r == 0;
  if (average && unpadded && p.kh == p.h && p.kw == p.w) {
    add_node(g, "GlobalAveragePool", prefix + ".pool", {input}, prefix + ".u");
    return prefix + ".u";
  }
  auto* n = add_node(g, average ? "AveragePool" : "MaxPool", prefix + ".pool", {input}, prefix + ".u");
  add_ints(n, "kernel_shape", {p.kh, p.kw});
  add_ints(n, "strides", {p.stride_h, p.stride_w});
  add_ints(n, "pads", {p.pad_t, p.pad_l, p.pad_b, p.pad_r});
  if (average && p.count_include_pad) add_int(n, "count_include_pad", 1);
  return prefix + ".u";
}

std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) v[static_cast<std::size_t>(r * m.cols() + c)] = m(r, c);
  }
  return v;
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
  // The value's shape without the batch: the input's C x H x W for an image network, else {n}.
  std::vector<Eigen::Index> shape =
      net.input_shape().size() == 3 ? net.input_shape() : std::vector<Eigen::Index>{net.input_size()};
  set_value_info(g->add_input(), "input", shape, options.dtype);
  std::string cur = "input";
  auto flatten = [&](const std::string& name) {
    auto* n = add_node(g, "Flatten", name, {cur}, name + ".out");
    add_int(n, "axis", 1);
    cur = name + ".out";
    shape = {product(shape)};
  };
  for (int l = 1; l <= net.num_layers(); ++l) {
    if (const Pool2d* stage = net.stage(l - 1)) {
      cur = add_pool(g, *stage, "stage" + std::to_string(l - 1), cur);
      shape = stage->output_shape();
    }
    const ILayer& layer = net.layer(l);
    const std::string p = "layer" + std::to_string(l);
    if (const auto* conv = dynamic_cast<const Conv2dLayer*>(&layer)) {
      const Conv2dParams& c = conv->params();
      set_tensor(g->add_initializer(), p + ".weight", {c.out_c, c.in_c / c.groups, c.kh, c.kw}, row_major(c.weights),
                 options.dtype);
      set_tensor(g->add_initializer(), p + ".bias", {c.out_c},
                 std::vector<double>(c.bias.data(), c.bias.data() + c.bias.size()), options.dtype);
      auto* n = add_node(g, "Conv", p + ".conv", {cur, p + ".weight", p + ".bias"}, p + ".z");
      add_ints(n, "kernel_shape", {c.kh, c.kw});
      add_ints(n, "strides", {c.stride_h, c.stride_w});
      add_ints(n, "pads", {c.pad_t, c.pad_l, c.pad_b, c.pad_r});
      add_ints(n, "dilations", {c.dil_h, c.dil_w});
      add_int(n, "group", c.groups);
      shape = conv->output_shape();
    } else {
      if (shape.size() > 1) flatten(p + ".flatten");
      const DenseParams& dense = as_dense(layer, "ONNX export").params();
      set_tensor(g->add_initializer(), p + ".weight", {dense.weights.rows(), dense.weights.cols()},
                 row_major(dense.weights), options.dtype);
      set_tensor(g->add_initializer(), p + ".bias", {dense.bias.size()},
                 std::vector<double>(dense.bias.data(), dense.bias.data() + dense.bias.size()), options.dtype);
      auto* gemm = add_node(g, "Gemm", p + ".gemm", {cur, p + ".weight", p + ".bias"}, p + ".z");
      add_int(gemm, "transB", 1);
      shape = {dense.weights.rows()};
    }
    cur = p + ".z";
    const Activation& act = layer.activation();
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
  if (shape.size() > 1) flatten("output.flatten");  // a network ending in a convolution outputs [batch, n_L]
  if (net.softmax_output()) {
    auto* n = add_node(g, "Softmax", "softmax", {cur}, "probabilities");
    add_int(n, "axis", 1);
    cur = "probabilities";
  }
  set_value_info(g->add_output(), cur, {net.output_size()}, options.dtype);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw core::InternalError(std::string("ONNX export produced a model that onnx::checker rejects: ") + e.what());
  }
  return model;
}

}  // namespace

const std::vector<std::string>& supported_onnx_ops() {
  static const std::vector<std::string> ops{
      "Gemm",    "MatMul",  "Conv",    "Add",      "Mul",     "Div",      "Relu",
      "LeakyRelu", "Sigmoid", "Tanh",  "Softplus", "Softmax", "MaxPool",  "AveragePool",
      "GlobalAveragePool", "BatchNormalization", "Pad", "Flatten", "Reshape", "Identity", "Dropout",
      "Constant"};
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
