#pragma once
// Strict reading of ONNX models: every node against the ONNX operator schema of the model's
// opset, then onnx::checker and shape inference on a copy of the model. Used by the importer
// (models/onnx_io.cpp); each function throws core::InputError naming the file (`source`), the
// node (name and op type), the attribute or value, what it holds and what is allowed.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

namespace nfsim::models::onnx_check {

// "node 'fc1' (Gemm)": how messages name a node.
std::string node_label(const onnx::NodeProto& node);

// The node's input and output counts, and its attributes: each known to the schema of
// (op_type, opset, domain), of the schema's type, given once, every required one present,
// none a reference (those belong in functions). Throws for an op the opset does not define.
void check_node_schema(const onnx::NodeProto& node, std::int64_t opset, const std::string& source);

// onnx::checker::check_model on the model, then shape inference (type checks on, node errors
// thrown) on a copy whose declared shapes were taken out; every declared shape of a graph
// output or value_info (and the graph input's) must agree with the inferred one: the same
// element type, the same rank, the same size wherever both give one.
void check_model_and_shapes(const onnx::ModelProto& model, const std::string& source);

}  // namespace nfsim::models::onnx_check
