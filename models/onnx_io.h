#pragma once

#include <string>
#include <vector>

#include "models/network.h"

namespace nfsim::models {

enum class OnnxDType { float32, float64 };

struct OnnxExportOptions {
  // float64 keeps nfsim's weights bit-exact; float32 is what most runtimes expect.
  OnnxDType dtype = OnnxDType::float64;
  int opset = 13;
};

// The ONNX operators the importer understands (ai.onnx domain, opsets 7..17).
const std::vector<std::string>& supported_onnx_ops();

// Reads an ONNX model made of a chain of dense layers (Gemm, or MatMul + Add), the supported
// activations, scalar Mul/Div, shape no-ops (Flatten, Reshape to 2-D, Identity, Dropout) and an
// optional final Softmax. A scalar Mul/Div between a linear op and its activation becomes the
// activation's input scale; elsewhere it is folded into the next layer's weights.
// Throws InputError naming the file, the node (name and op type) and what was expected.
Network load_onnx(const std::string& path);
// The same from bytes in memory; `source` names them in errors.
Network parse_onnx(const std::string& bytes, const std::string& source);

// Writes the network as ONNX (Gemm + activation per layer, final Softmax if the model has one),
// checked with onnx::checker, atomically.
void save_onnx(const Network& network, const std::string& path, const OnnxExportOptions& options = {});
std::string serialize_onnx(const Network& network, const OnnxExportOptions& options = {});

}  // namespace nfsim::models
