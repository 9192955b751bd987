#include "tests/fuzz/harnesses.h"

#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "core/error.h"
#include "models/dataset.h"
#include "models/onnx_io.h"
#include "sim/topology/chip_topology.h"
#include "testbench/campaign/campaign_config.h"

namespace nfsim::fuzz {
namespace {

// The readers take paths, as users give them: the bytes go to a file of this process first.
std::string write_temp(const std::uint8_t* data, std::size_t size, const std::string& suffix) {
  static const std::string dir = [] {
    const char* env = std::getenv("TMPDIR");
    return std::string(env && *env ? env : "/tmp");
  }();
  const std::string path = dir + "/nfsim_fuzz_" + std::to_string(::getpid()) + suffix;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("fuzz harness: cannot write " + path);
  return path;
}

thread_local std::string refusal;

// Runs one reader; InputError (a clear refusal) is an answer, anything else escapes.
template <typename F>
bool attempt(F&& read) {
  try {
    read();
    return true;
  } catch (const core::InputError& e) {
    refusal = e.what();
    return false;
  }
}

bool onnx(const std::uint8_t* data, std::size_t size) {
  return attempt([&] { models::parse_onnx(std::string(reinterpret_cast<const char*>(data), size), "fuzz.onnx"); });
}

// --- onnx_attrs: attribute mutation on a valid model ----------------------------------------------
//
// Byte-level mutation of a protobuf rarely reaches the node attributes with a well-formed model
// around them; this harness does. It builds one valid model that uses every op the importer
// interprets (x [N,1,2,2] -> Flatten -> Gemm -> LeakyRelu -> Dropout -> Mul by a Constant ->
// Reshape -> Gemm -> Softmax), then reads the input as a script: byte 0 picks the opset (7..17),
// each following group of 4 bytes (operation, a, b, c) edits a node's attributes (add, replace,
// repeat, remove, retype, re-value, reference), its inputs or outputs, its op type, or the declared
// output shape. The edited model goes through parse_onnx like a file's bytes.

void add_tensor(onnx::GraphProto& g, const std::string& name, std::vector<std::int64_t> dims, std::vector<float> values) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::string& name,
                          std::vector<std::string> inputs, const std::string& output) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& i : inputs) n->add_input(i);
  n->add_output(output);
  return n;
}

void int_attribute(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void float_attribute(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

onnx::ModelProto attrs_base(std::int64_t opset) {
  onnx::ModelProto m;
  m.set_ir_version(opset >= 13 ? 7 : 4);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name("attrs");
  auto declare = [](onnx::ValueInfoProto* v, const std::string& name, std::vector<std::int64_t> dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) {
      if (d > 0) {
        tt->mutable_shape()->add_dim()->set_dim_value(d);
      } else {
        tt->mutable_shape()->add_dim()->set_dim_param("N");
      }
    }
  };
  declare(g.add_input(), "x", {0, 1, 2, 2});
  add_tensor(g, "W", {3, 4}, {0.1f, 0.2f, 0.3f, 0.4f, -0.1f, -0.2f, -0.3f, -0.4f, 0.5f, 0.5f, 0.5f, 0.5f});
  add_tensor(g, "b", {3}, {0.1f, 0.0f, -0.1f});
  add_tensor(g, "W2", {2, 3}, {1.0f, 0.0f, -1.0f, 0.5f, 0.5f, 0.5f});
  add_tensor(g, "b2", {2}, {0.0f, 0.25f});
  auto* shape = g.add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(-1);
  shape->add_int64_data(3);
  int_attribute(add_node(g, "Flatten", "flat", {"x"}, "xf"), "axis", 1);
  auto* fc = add_node(g, "Gemm", "fc", {"xf", "W", "b"}, "z");
  int_attribute(fc, "transB", 1);
  float_attribute(fc, "alpha", 1.0f);
  float_attribute(fc, "beta", 1.0f);
  float_attribute(add_node(g, "LeakyRelu", "act", {"z"}, "h"), "alpha", 0.1f);
  add_node(g, "Dropout", "drop", {"h"}, "hd");
  auto* k = add_node(g, "Constant", "k", {}, "two");
  auto* value = k->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  value->mutable_t()->add_float_data(2.0f);
  add_node(g, "Mul", "scale", {"hd", "two"}, "hs");
  add_node(g, "Reshape", "rs", {"hs", "shape"}, "hr");
  int_attribute(add_node(g, "Gemm", "fc2", {"hr", "W2", "b2"}, "z2"), "transB", 1);
  int_attribute(add_node(g, "Softmax", "sm", {"z2"}, "p"), "axis", 1);
  declare(g.add_output(), "p", {0, 2});
  return m;
}

bool onnx_attrs(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return false;
  onnx::ModelProto m = attrs_base(7 + data[0] % 11);
  onnx::GraphProto& g = *m.mutable_graph();
  static const char* const kNames[] = {"alpha", "beta", "transA", "transB", "axis", "allowzero", "ratio", "seed",
                                       "value", "value_float", "value_int", "value_floats", "value_ints", "broadcast",
                                       "is_test", "to", "foo", ""};
  static const char* const kValues[] = {"x", "xf", "W", "b", "z", "h", "two", "shape", "hr", "p", "", "nowhere"};
  static const char* const kOps[] = {"Gemm", "MatMul", "Add", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
                                     "Softplus", "Softmax", "Flatten", "Reshape", "Identity", "Dropout", "Constant",
                                     "Cast", "Conv"};
  static const int kTypes[] = {onnx::AttributeProto::INT,    onnx::AttributeProto::FLOAT, onnx::AttributeProto::STRING,
                               onnx::AttributeProto::INTS,   onnx::AttributeProto::FLOATS, onnx::AttributeProto::TENSOR,
                               onnx::AttributeProto::UNDEFINED, 99};
  static const std::int64_t kInts[] = {0, 1, 2, -1, -2, 3, 5, 13, std::numeric_limits<std::int64_t>::max(),
                                       std::numeric_limits<std::int64_t>::min()};
  static const float kFloats[] = {0.0f, 1.0f, 0.5f, -1.0f, NAN, INFINITY, -INFINITY, 1e38f, 1e-45f, -0.0f};
  auto pick = [](auto& array, std::uint8_t byte) -> decltype(auto) { return array[byte % std::size(array)]; };
  auto set_value = [&](onnx::AttributeProto* a, std::uint8_t c) {
    a->set_type(static_cast<onnx::AttributeProto::AttributeType>(pick(kTypes, c)));
    const std::uint8_t v = static_cast<std::uint8_t>(c / 8);
    switch (pick(kTypes, c)) {
      case onnx::AttributeProto::INT: a->set_i(pick(kInts, v)); break;
      case onnx::AttributeProto::FLOAT: a->set_f(pick(kFloats, v)); break;
      case onnx::AttributeProto::STRING: a->set_s(pick(kNames, v)); break;
      case onnx::AttributeProto::INTS: a->add_ints(pick(kInts, v)); break;
      case onnx::AttributeProto::FLOATS: a->add_floats(pick(kFloats, v)); break;
      case onnx::AttributeProto::TENSOR:
        a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
        if (v % 2) a->mutable_t()->add_dims(1);
        a->mutable_t()->add_float_data(pick(kFloats, v));
        break;
      default: a->set_i(pick(kInts, v)); break;
    }
  };
  const std::size_t steps = std::min<std::size_t>((size - 1) / 4, 64);
  for (std::size_t s = 0; s < steps; ++s) {
    const std::uint8_t* op = data + 1 + 4 * s;
    onnx::NodeProto* node = g.mutable_node(op[1] % g.node_size());
    const int n_attr = node->attribute_size();
    onnx::AttributeProto* attr = n_attr ? node->mutable_attribute(op[2] % n_attr) : nullptr;
    switch (op[0] % 11) {
      case 0: {  // set (replace or add) a named attribute
        const std::string name = pick(kNames, op[2]);
        onnx::AttributeProto* target = nullptr;
        for (auto& a : *node->mutable_attribute()) {
          if (a.name() == name) target = &a;
        }
        if (!target) target = node->add_attribute();
        target->Clear();
        target->set_name(name);
        set_value(target, op[3]);
        break;
      }
      case 1:
        if (attr) *node->add_attribute() = *attr;
        break;
      case 2:
        if (attr) node->mutable_attribute()->DeleteSubrange(op[2] % n_attr, 1);
        break;
      case 3:
        if (attr) attr->set_i(pick(kInts, op[3]));
        break;
      case 4:
        if (attr) attr->set_f(pick(kFloats, op[3]));
        break;
      case 5:
        if (attr) attr->set_type(static_cast<onnx::AttributeProto::AttributeType>(pick(kTypes, op[3])));
        break;
      case 6:
        if (attr) attr->set_ref_attr_name(pick(kNames, op[3]));
        break;
      case 7:  // inputs: add one, drop the last, or rename one
        if (op[3] % 3 == 0) {
          node->add_input(pick(kValues, op[2]));
        } else if (op[3] % 3 == 1 && node->input_size() > 0) {
          node->mutable_input()->RemoveLast();
        } else if (node->input_size() > 0) {
          node->set_input(op[2] % node->input_size(), pick(kValues, op[3] / 3));
        }
        break;
      case 8:  // outputs: add one or drop the last
        if (op[3] % 2 == 0) {
          node->add_output(std::string("extra") + std::to_string(s));
        } else if (node->output_size() > 0) {
          node->mutable_output()->RemoveLast();
        }
        break;
      case 9:
        node->set_op_type(pick(kOps, op[2]));
        break;
      default: {  // the declared output shape
        auto* shape = g.mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
        if (op[2] % 4 == 0) {
          shape->add_dim()->set_dim_value(op[3]);
        } else if (op[2] % 4 == 1 && shape->dim_size() > 0) {
          shape->mutable_dim()->RemoveLast();
        } else if (shape->dim_size() > 0) {
          shape->mutable_dim(op[2] % shape->dim_size())->set_dim_value(op[3] % 5);
        }
        break;
      }
    }
  }
  const std::string bytes = m.SerializeAsString();
  return attempt([&] { models::parse_onnx(bytes, "fuzz_attrs.onnx"); });
}

bool campaign(const std::uint8_t* data, std::size_t size) {
  // Relative paths in the campaign resolve next to the file (the temp dir: nothing there).
  const std::string path = write_temp(data, size, "_campaign.yaml");
  return attempt([&] { tb::load_campaign_points(path); });
}

bool topology(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_chip.yaml");
  return attempt([&] { sim::load_topology(path); });
}

// A data file is read as samples and as labels, as the campaign's inputs and labels keys would.
bool idx(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_data.idx");
  const bool samples = attempt([&] { models::read_idx_images(path, 100); });
  const bool labels = attempt([&] { models::read_idx_labels(path, 100); });
  return samples || labels;
}

bool npy(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_data.npy");
  const bool samples = attempt([&] { models::read_npy_matrix(path, 100); });
  const bool labels = attempt([&] { models::read_labels(path, 100); });
  return samples || labels;
}

bool csv(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_data.csv");
  const bool samples = attempt([&] { models::read_csv_matrix(path, 100); });
  const bool labels = attempt([&] { models::read_labels(path, 100); });
  return samples || labels;
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all{{"onnx", onnx}, {"campaign", campaign}, {"topology", topology},
                                       {"idx", idx},   {"npy", npy},           {"csv", csv},
                                       {"onnx_attrs", onnx_attrs}};
  return all;
}

const Target& target(const std::string& name) {
  for (const Target& t : targets()) {
    if (t.name == name) return t;
  }
  throw std::invalid_argument("no fuzz target '" + name + "'");
}

bool accepts(const Target& t, const std::uint8_t* data, std::size_t size) { return t.run(data, size); }

const std::string& last_refusal() { return refusal; }

}  // namespace nfsim::fuzz
