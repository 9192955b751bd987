#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nfsim::test {

// How a test tensor stores its values: raw_data (little-endian) or the typed repeated fields.
enum class Storage { raw_f32, raw_f64, typed_f32, typed_f64, raw_i64 };

struct Attr {
  std::string name;
  enum class Type { i, f, ints, s } type;
  std::int64_t i = 0;
  float f = 0.0f;
  std::vector<std::int64_t> ints = {};
  std::string s = {};
  static Attr Int(std::string n, std::int64_t v) { return {std::move(n), Type::i, v, 0.0f}; }
  static Attr Float(std::string n, float v) { return {std::move(n), Type::f, 0, v}; }
  static Attr Ints(std::string n, std::vector<std::int64_t> v) { return {std::move(n), Type::ints, 0, 0.0f, std::move(v)}; }
  static Attr String(std::string n, std::string v) { return {std::move(n), Type::s, 0, 0.0f, {}, std::move(v)}; }
};

// Builds small ONNX models by hand for importer tests (valid and deliberately broken ones).
class OnnxBuilder {
 public:
  explicit OnnxBuilder(int opset = 13);
  // dims: 0 means a symbolic (dynamic) dimension.
  OnnxBuilder& input(const std::string& name, const std::vector<std::int64_t>& dims);
  OnnxBuilder& initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                           const std::vector<double>& values, Storage storage = Storage::raw_f32);
  OnnxBuilder& node(const std::string& op, const std::vector<std::string>& inputs,
                    const std::vector<std::string>& outputs, const std::vector<Attr>& attrs = {},
                    const std::string& name = "");
  // Declares a float output of shape [N, M] (both symbolic).
  OnnxBuilder& output(const std::string& name);
  onnx::ModelProto& model() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  onnx::ModelProto model_;
  int node_count_ = 0;
};

}  // namespace nfsim::test
