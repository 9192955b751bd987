#include "tests/common/onnx_builder.h"

#include <cstring>

namespace nfsim::test {

OnnxBuilder::OnnxBuilder(int opset) {
  model_.set_ir_version(opset >= 13 ? 7 : 4);
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model_.mutable_graph()->set_name("test");
}

OnnxBuilder& OnnxBuilder::input(const std::string& name, const std::vector<std::int64_t>& dims) {
  auto* v = model_.mutable_graph()->add_input();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d > 0) {
      dim->set_dim_value(d);
    } else {
      dim->set_dim_param("N");
    }
  }
  return *this;
}

OnnxBuilder& OnnxBuilder::initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                      const std::vector<double>& values, Storage storage) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  for (auto d : dims) t->add_dims(d);
  std::string raw;
  switch (storage) {
    case Storage::raw_f32: {
      t->set_data_type(onnx::TensorProto::FLOAT);
      std::vector<float> f(values.begin(), values.end());
      raw.assign(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float));
      t->set_raw_data(raw);
      break;
    }
    case Storage::raw_f64:
      t->set_data_type(onnx::TensorProto::DOUBLE);
      raw.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
      t->set_raw_data(raw);
      break;
    case Storage::raw_i64: {
      t->set_data_type(onnx::TensorProto::INT64);
      std::vector<std::int64_t> v(values.begin(), values.end());
      raw.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(std::int64_t));
      t->set_raw_data(raw);
      break;
    }
    case Storage::typed_f32:
      t->set_data_type(onnx::TensorProto::FLOAT);
      for (double v : values) t->add_float_data(static_cast<float>(v));
      break;
    case Storage::typed_f64:
      t->set_data_type(onnx::TensorProto::DOUBLE);
      for (double v : values) t->add_double_data(v);
      break;
  }
  return *this;
}

OnnxBuilder& OnnxBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                               const std::vector<std::string>& outputs, const std::vector<Attr>& attrs,
                               const std::string& name) {
  auto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name.empty() ? op + "_" + std::to_string(node_count_) : name);
  ++node_count_;
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  for (const auto& a : attrs) {
    auto* attr = n->add_attribute();
    attr->set_name(a.name);
    if (a.type == Attr::Type::i) {
      attr->set_type(onnx::AttributeProto::INT);
      attr->set_i(a.i);
    } else if (a.type == Attr::Type::ints) {
      attr->set_type(onnx::AttributeProto::INTS);
      for (auto v : a.ints) attr->add_ints(v);
    } else if (a.type == Attr::Type::s) {
      attr->set_type(onnx::AttributeProto::STRING);
      attr->set_s(a.s);
    } else {
      attr->set_type(onnx::AttributeProto::FLOAT);
      attr->set_f(a.f);
    }
  }
  return *this;
}

OnnxBuilder& OnnxBuilder::output(const std::string& name) {
  auto* v = model_.mutable_graph()->add_output();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  // onnx::checker wants a declared shape: [N, M] with both sizes symbolic, which agrees with
  // whatever the importer's shape inference finds for a 2-D [batch, features] output.
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_param("M");
  return *this;
}

}  // namespace nfsim::test
