#include "models/onnx_check.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <cctype>
#include <exception>
#include <map>
#include <set>
#include <vector>

#include "core/error.h"
#include "core/strings.h"

namespace nfsim::models::onnx_check {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw core::InputError(source + ": " + what);
}

std::string type_name(int type) {
  if (type == onnx::AttributeProto::UNDEFINED) return "UNDEFINED (no type)";
  if (onnx::AttributeProto::AttributeType_IsValid(type)) {
    return onnx::AttributeProto::AttributeType_Name(static_cast<onnx::AttributeProto::AttributeType>(type));
  }
  return "type " + std::to_string(type);
}

// What an attribute holds, for messages (lists are cut short).
std::string value_text(const onnx::AttributeProto& a) {
  auto list = [](const auto& values) {
    std::vector<std::string> parts;
    for (int i = 0; i < values.size() && i < 8; ++i)
      parts.push_back(core::format_double(static_cast<double>(values.Get(i))));
    if (values.size() > 8) parts.push_back("...");
    return "[" + core::join(parts, ", ") + "]";
  };
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      return std::to_string(a.i());
    case onnx::AttributeProto::FLOAT:
      return core::format_double(static_cast<double>(a.f()));
    case onnx::AttributeProto::STRING:
      return "'" + a.s().substr(0, 40) + "'";
    case onnx::AttributeProto::INTS:
      return list(a.ints());
    case onnx::AttributeProto::FLOATS:
      return list(a.floats());
    case onnx::AttributeProto::TENSOR:
      return "a tensor";
    default:
      return "a value of " + type_name(a.type());
  }
}

std::string collapse(std::string s) {
  std::string out;
  for (char c : s) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string element_name(int t) {
  if (onnx::TensorProto::DataType_IsValid(t)) {
    std::string n = onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t));
    for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n;
  }
  return "element type " + std::to_string(t);
}

std::string shape_text(const onnx::TensorShapeProto& shape) {
  std::vector<std::string> dims;
  for (const auto& d : shape.dim()) {
    dims.push_back(d.has_dim_value() ? std::to_string(d.dim_value()) : d.has_dim_param() ? d.dim_param() : "?");
  }
  return "[" + core::join(dims, ", ") + "]";
}

std::string type_text(const onnx::TypeProto& t) {
  if (!t.has_tensor_type()) return "a non-tensor value";
  const auto& tt = t.tensor_type();
  std::string s = tt.elem_type() ? element_name(tt.elem_type()) : "tensor";
  return tt.has_shape() ? s + " " + shape_text(tt.shape()) : s + " of unknown shape";
}

// Where the declared type of a value disagrees with the inferred one; empty when they agree.
std::string disagreement(const onnx::TypeProto& declared, const onnx::TypeProto& inferred) {
  if (!declared.has_tensor_type() || !inferred.has_tensor_type()) return {};
  const auto& d = declared.tensor_type();
  const auto& i = inferred.tensor_type();
  if (d.elem_type() != 0 && i.elem_type() != 0 && d.elem_type() != i.elem_type()) return "element type";
  if (!d.has_shape() || !i.has_shape()) return {};
  if (d.shape().dim_size() != i.shape().dim_size()) return "rank";
  for (int k = 0; k < d.shape().dim_size(); ++k) {
    const auto& dd = d.shape().dim(k);
    const auto& id = i.shape().dim(k);
    if (dd.has_dim_value() && id.has_dim_value() && dd.dim_value() != id.dim_value()) {
      return "dimension " + std::to_string(k);
    }
  }
  return {};
}

}  // namespace

std::string node_label(const onnx::NodeProto& node) { return "node '" + node.name() + "' (" + node.op_type() + ")"; }

void check_node_schema(const onnx::NodeProto& node, std::int64_t opset, const std::string& source) {
  const std::string domain = node.domain() == "ai.onnx" ? std::string() : node.domain();
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(opset), domain);
  const std::string where = source + ": " + node_label(node);
  if (schema == nullptr) {
    throw core::InputError(where + ": the operator is not defined in opset " + std::to_string(opset) +
                           "; expected an operator of that opset");
  }
  const std::string op_at = node.op_type() + "-" + std::to_string(schema->SinceVersion());
  auto arity = [&](const char* what, int have, int lo, int hi) {
    if (have >= lo && have <= hi) return;
    const std::string allowed = lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi);
    const std::string count = std::to_string(have) + " " + what + (have == 1 ? "" : "s");
    throw core::InputError(where + ": has " + count + "; " + op_at + " takes " + allowed);
  };
  arity("input", node.input_size(), schema->min_input(), schema->max_input());
  arity("output", node.output_size(), schema->min_output(), schema->max_output());
  for (int k = 0; k < node.output_size(); ++k) {
    if (k == 0 && node.output(k).empty())
      throw core::InputError(where + ": output 0 has an empty name; expected a value name");
  }
  const auto& known = schema->attributes();
  std::set<std::string> seen;
  for (const auto& a : node.attribute()) {
    const std::string attr = where + ": attribute '" + a.name() + "'";
    if (!seen.insert(a.name()).second) {
      throw core::InputError(attr + " is given twice; expected each attribute once");
    }
    const auto it = known.find(a.name());
    if (it == known.end()) {
      std::vector<std::string> names;
      for (const auto& [n, spec] : known) names.push_back(n);
      throw core::InputError(attr + " is not an attribute of " + op_at + "; expected " +
                             (names.empty() ? std::string("no attributes") : "one of " + core::join(names, ", ")));
    }
    if (!a.ref_attr_name().empty()) {
      throw core::InputError(attr + " refers to '" + a.ref_attr_name() +
                             "' (attribute references belong in functions); expected a value");
    }
    if (a.type() != it->second.type) {
      const std::string held = a.type() == onnx::AttributeProto::UNDEFINED ? "" : " (" + value_text(a) + ")";
      throw core::InputError(attr + " has type " + type_name(a.type()) + held + "; " + op_at + " expects " +
                             type_name(it->second.type));
    }
  }
  for (const auto& [name, spec] : known) {
    if (spec.required && !seen.count(name)) {
      throw core::InputError(where + ": required attribute '" + name + "' is missing; " + op_at + " needs it (" +
                             type_name(spec.type) + ")");
    }
  }
}

void check_model_and_shapes(const onnx::ModelProto& model, const std::string& source) {
  const onnx::GraphProto& graph = model.graph();
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : graph.node()) {
    for (const auto& o : n.output()) producer.emplace(o, &n);
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    fail(source, "onnx::checker refuses the model: " + collapse(e.what()) + "; expected a valid ONNX model");
  }
  // Inference on a copy whose declared output and intermediate types are taken out, so that what
  // the nodes compute can be compared with what the model says they compute. The copy leaves out
  // the weights' values (inference needs their types and shapes; integer tensors, which may be
  // shapes, are copied whole), so a large model is not held twice.
  onnx::ModelProto copy;
  copy.set_ir_version(model.ir_version());
  *copy.mutable_opset_import() = model.opset_import();
  *copy.mutable_functions() = model.functions();
  onnx::GraphProto& g = *copy.mutable_graph();
  g.set_name(graph.name());
  *g.mutable_node() = graph.node();
  *g.mutable_input() = graph.input();
  *g.mutable_sparse_initializer() = graph.sparse_initializer();
  for (const auto& out : graph.output()) g.add_output()->set_name(out.name());
  for (const auto& init : graph.initializer()) {
    const int t = init.data_type();
    if (t == onnx::TensorProto::FLOAT || t == onnx::TensorProto::DOUBLE || t == onnx::TensorProto::FLOAT16 ||
        t == onnx::TensorProto::BFLOAT16) {
      auto* stub = g.add_initializer();
      stub->set_name(init.name());
      stub->set_data_type(t);
      *stub->mutable_dims() = init.dims();
    } else {
      *g.add_initializer() = init;
    }
  }
  try {
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
  } catch (const std::exception& e) {
    fail(source, "shape inference fails: " + collapse(e.what()) + "; expected shapes and types that fit every node");
  }
  std::map<std::string, const onnx::TypeProto*> inferred;
  for (const auto& v : copy.graph().value_info()) inferred[v.name()] = &v.type();
  for (const auto& v : copy.graph().output()) {
    if (v.has_type()) inferred[v.name()] = &v.type();
  }
  auto compare = [&](const onnx::ValueInfoProto& declared, const std::string& role) {
    const auto it = inferred.find(declared.name());
    if (it == inferred.end() || !declared.has_type()) return;
    const std::string what = disagreement(declared.type(), *it->second);
    if (what.empty()) return;
    const auto p = producer.find(declared.name());
    const std::string by = p == producer.end() ? std::string("inference") : node_label(*p->second);
    fail(source, role + " '" + declared.name() + "' is declared " + type_text(declared.type()) + " but " + by +
                     " makes " + type_text(*it->second) + " (" + what + " differs); expected the declared " +
                     "type and shape to match what the graph computes");
  };
  for (const auto& v : graph.output()) compare(v, "graph output");
  for (const auto& v : graph.value_info()) compare(v, "value");
}

}  // namespace nfsim::models::onnx_check
