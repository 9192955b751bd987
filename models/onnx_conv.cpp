#include "models/onnx_conv.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/strings.h"

namespace nfsim::models::onnx_conv {
namespace {

std::string str(std::int64_t v) { return std::to_string(v); }

std::string list(const std::vector<std::int64_t>& v) {
  std::vector<std::string> parts;
  for (auto x : v) parts.push_back(str(x));
  return "[" + core::join(parts, ", ") + "]";
}

std::string pads_text(const Pads& p) { return list({p[0], p[1], p[2], p[3]}); }

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw core::InputError(where + ": " + what); }

// A 2-entry INTS attribute with every value >= 1 (strides, dilations); {1, 1} when absent.
std::vector<std::int64_t> pair_attribute(const onnx::NodeProto& node, const std::string& where, const std::string& name) {
  std::vector<std::int64_t> v = ints_attribute(node, name);
  if (v.empty()) return {1, 1};
  if (v.size() != 2) {
    fail(where, "attribute '" + name + "' = " + list(v) + " has " + str(static_cast<std::int64_t>(v.size())) +
                    " values; expected 2 (a 2-D window)");
  }
  if (v[0] < 1 || v[1] < 1) fail(where, "attribute '" + name + "' = " + list(v) + "; expected values >= 1");
  return v;
}

}  // namespace

std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  }
  return {};
}

std::string string_attribute(const onnx::NodeProto& node, const std::string& name, const std::string& def) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return a.s();
  }
  return def;
}

Window read_window(const onnx::NodeProto& node, const std::string& where, Eigen::Index kh, Eigen::Index kw,
                   Eigen::Index h, Eigen::Index w, bool dilations_allowed, const Pads& extra, const std::string& what) {
  Window win;
  win.kh = kh;
  win.kw = kw;
  const auto strides = pair_attribute(node, where, "strides");
  win.stride_h = strides[0];
  win.stride_w = strides[1];
  const auto dilations = pair_attribute(node, where, "dilations");
  if (!dilations_allowed && (dilations[0] != 1 || dilations[1] != 1)) {
    fail(where, "attribute 'dilations' = " + list(dilations) + " is not supported; expected [1, 1] (no dilation)");
  }
  win.dil_h = dilations[0];
  win.dil_w = dilations[1];
  const std::vector<std::int64_t> pads = ints_attribute(node, "pads");
  if (!pads.empty()) {
    if (pads.size() != 4 || std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p < 0; })) {
      fail(where, "attribute 'pads' = " + list(pads) + "; expected 4 values [top, left, bottom, right], each >= 0");
    }
    win.pads = {pads[0], pads[1], pads[2], pads[3]};
  }
  std::string auto_pad = string_attribute(node, "auto_pad", "NOTSET");
  if (auto_pad.empty()) auto_pad = "NOTSET";
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") {
    fail(where, "attribute 'auto_pad' = '" + auto_pad + "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  }
  if (auto_pad != "NOTSET" && !pads.empty()) {
    fail(where, "attribute 'auto_pad' = '" + auto_pad + "' together with 'pads' = " + list(pads) +
                    "; expected one of them (auto_pad NOTSET or absent when pads are given)");
  }
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // The output keeps ceil(size / stride) positions; the extra pad goes at the end (UPPER) or
    // the start (LOWER).
    auto same = [&](Eigen::Index size, Eigen::Index k, Eigen::Index s, Eigen::Index d, Eigen::Index& begin,
                    Eigen::Index& end) {
      const Eigen::Index out = (size + s - 1) / s;
      const Eigen::Index total = std::max<Eigen::Index>((out - 1) * s + (k - 1) * d + 1 - size, 0);
      const Eigen::Index small = total / 2;
      begin = auto_pad == "SAME_UPPER" ? small : total - small;
      end = total - begin;
    };
    same(h, kh, win.stride_h, win.dil_h, win.pads[0], win.pads[2]);
    same(w, kw, win.stride_w, win.dil_w, win.pads[1], win.pads[3]);
  }
  for (int i = 0; i < 4; ++i) win.pads[static_cast<std::size_t>(i)] += extra[static_cast<std::size_t>(i)];
  const Eigen::Index span_h = h + win.pads[0] + win.pads[2] - ((kh - 1) * win.dil_h + 1);
  const Eigen::Index span_w = w + win.pads[1] + win.pads[3] - ((kw - 1) * win.dil_w + 1);
  if (span_h < 0 || span_w < 0) {
    fail(where, what + " " + str(kh) + "x" + str(kw) + " (dilation " + str(win.dil_h) + "x" + str(win.dil_w) +
                    ") does not fit the " + str(h) + "x" + str(w) + " input with pads " + pads_text(win.pads) +
                    "; expected a window no larger than the padded input");
  }
  win.out_h = span_h / win.stride_h + 1;
  win.out_w = span_w / win.stride_w + 1;
  return win;
}

Pads read_pad(const onnx::NodeProto& node, const std::string& where, std::int64_t opset,
              const std::vector<double>* pads_input, const std::vector<double>* value_input) {
  const std::string mode = string_attribute(node, "mode", "constant");
  if (mode != "constant") {
    fail(where, "attribute 'mode' = '" + mode +
                    "' is not supported; expected 'constant' with value 0 (zero padding, folded into the next Conv or "
                    "AveragePool)");
  }
  std::vector<std::int64_t> pads;
  double value = 0.0;
  if (opset < 11) {
    pads = ints_attribute(node, "pads");
    for (const auto& a : node.attribute()) {
      if (a.name() == "value") value = a.f();
    }
  } else {
    if (pads_input) {
      for (double v : *pads_input) pads.push_back(static_cast<std::int64_t>(v));
    }
    if (value_input) {
      if (value_input->size() != 1) {
        fail(where, "input 'constant_value' has " + str(static_cast<std::int64_t>(value_input->size())) +
                        " values; expected a scalar 0");
      }
      value = (*value_input)[0];
    }
  }
  if (pads.size() != 8) {
    fail(where, "pads = " + list(pads) + " has " + str(static_cast<std::int64_t>(pads.size())) +
                    " values; expected 8 (begin and end of each axis of a [N, C, H, W] value)");
  }
  if (pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0) {
    fail(where, "pads = " + list(pads) + " pad the batch or channel axis; expected padding on H and W only");
  }
  if (std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p < 0; })) {
    fail(where, "pads = " + list(pads) + "; expected pads >= 0 (cropping is not supported)");
  }
  if (value != 0.0) {
    fail(where, "constant value " + core::format_double(value) +
                    "; expected 0 (zero padding, folded into the next Conv or AveragePool)");
  }
  return {pads[2], pads[3], pads[6], pads[7]};
}

void fold_batch_norm(Eigen::MatrixXd& weights, Eigen::VectorXd& bias, double activation_scale,
                     const std::vector<double>& gamma, const std::vector<double>& beta, const std::vector<double>& mean,
                     const std::vector<double>& var, double epsilon, const std::string& where) {
  const auto n = static_cast<std::size_t>(weights.rows());
  const std::pair<const char*, const std::vector<double>*> inputs[] = {
      {"scale", &gamma}, {"B", &beta}, {"input_mean", &mean}, {"input_var", &var}};
  for (const auto& [name, values] : inputs) {
    if (values->size() != n) {
      fail(where, "input '" + std::string(name) + "' has " + str(static_cast<std::int64_t>(values->size())) +
                      " values; expected " + str(static_cast<std::int64_t>(n)) + " (one per channel of the " +
                      "Conv, Gemm or MatMul it follows)");
    }
  }
  for (std::size_t o = 0; o < n; ++o) {
    const double denom = var[o] + epsilon;
    if (!(denom > 0.0) || !std::isfinite(denom)) {
      fail(where, "input_var[" + str(static_cast<std::int64_t>(o)) + "] + epsilon = " + core::format_double(denom) +
                      "; expected a positive finite number");
    }
    const double s = gamma[o] / std::sqrt(denom);
    const auto r = static_cast<Eigen::Index>(o);
    weights.row(r) *= s;
    bias(r) = s * bias(r) + (beta[o] - s * mean[o]) / activation_scale;
  }
}

}  // namespace nfsim::models::onnx_conv
