#pragma once
// The convolution side of the ONNX importer (models/onnx_io.cpp): the window attributes of Conv,
// MaxPool and AveragePool (strides, dilations, pads, auto_pad), a zero Pad node folded into the
// next op, and the BatchNormalization fold. Each function throws core::InputError whose message
// starts with `where` ("model.onnx: node 'c1' (Conv)") and names the attribute, what it holds and
// what is allowed.
#include <onnx/onnx_pb.h>

#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace nfsim::models::onnx_conv {

// Pads on the two spatial axes, ONNX order [top, left, bottom, right].
using Pads = std::array<Eigen::Index, 4>;

// The geometry of a 2-D window op on an h x w input, auto_pad resolved into the pads.
struct Window {
  Eigen::Index kh = 1, kw = 1, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  Pads pads{0, 0, 0, 0};
  Eigen::Index out_h = 0, out_w = 0;
};

// An INTS attribute (empty when absent) and a STRING attribute (`def` when absent).
std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name);
std::string string_attribute(const onnx::NodeProto& node, const std::string& name, const std::string& def);

// Reads strides, dilations (only when `dilations_allowed`; otherwise any value but 1 is refused),
// pads and auto_pad for a kh x kw window over an h x w input, adds `extra` (a folded Pad node's
// pads) and checks that the window fits: an output of at least 1 x 1. `what` names the window in
// messages ("kernel", "pooling window").
Window read_window(const onnx::NodeProto& node, const std::string& where, Eigen::Index kh, Eigen::Index kw,
                   Eigen::Index h, Eigen::Index w, bool dilations_allowed, const Pads& extra, const std::string& what);

// The H/W pads of a Pad node on a rank-4 value: constant mode, value 0, N and C not padded, no
// negative pads. Opset < 11 passes the `pads` attribute (pads_input null); from 11 the pads and
// the constant value are inputs (value_input null when absent).
Pads read_pad(const onnx::NodeProto& node, const std::string& where, std::int64_t opset,
              const std::vector<double>* pads_input, const std::vector<double>* value_input);

// Folds an inference BatchNormalization into the linear op before it, per output row o (a dense
// layer's output or a conv's output channel): s = gamma / sqrt(var + eps), W' = s W, b' = s b +
// (beta - s mean) / activation_scale (the op's output was already multiplied by the scale).
// docs/faults.md, "Convolutional layers". Checks the lengths and var + eps > 0.
void fold_batch_norm(Eigen::MatrixXd& weights, Eigen::VectorXd& bias, double activation_scale,
                     const std::vector<double>& gamma, const std::vector<double>& beta, const std::vector<double>& mean,
                     const std::vector<double>& var, double epsilon, const std::string& where);

}  // namespace nfsim::models::onnx_conv
