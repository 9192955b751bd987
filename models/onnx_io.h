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

// Reads an ONNX model made of a chain of layers: dense (Gemm, or MatMul + Add) and 2-D
// convolutions (Conv), the supported activations, poolings (MaxPool, AveragePool,
// GlobalAveragePool: the output stage of the layer before them), a zero Pad folded into the next
// Conv/AveragePool, BatchNormalization folded into the linear op before it, scalar Mul/Div, shape
// no-ops (Flatten, Reshape to [batch, F] or [batch, C, H, W], Identity, Dropout) and an optional
// final Softmax. A scalar Mul/Div between a linear op and its activation becomes the activation's
// input scale; elsewhere it is folded into the next layer's weights.
// Throws InputError naming the file, the node (name and op type) and what was expected.
Network load_onnx(const std::string& path);
// The same from bytes in memory; `source` names them in errors.
Network parse_onnx(const std::string& bytes, const std::string& source);

// Writes the network as ONNX (Gemm or Conv + activation per layer, the poolings, a Flatten before
// the first dense layer of a CNN, final Softmax if the model has one),
// checked with onnx::checker, atomically.
void save_onnx(const Network& network, const std::string& path, const OnnxExportOptions& options = {});
std::string serialize_onnx(const Network& network, const OnnxExportOptions& options = {});

}  // namespace nfsim::models
