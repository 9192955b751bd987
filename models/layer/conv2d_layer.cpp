#include "models/layer/conv2d_layer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "models/layer/gemm.h"

namespace nfsim::models {
namespace {

std::string str(Eigen::Index v) { return std::to_string(v); }

// Inputs per im2col chunk: about 2^16 doubles (512 KB) of unrolled taps, at least one input, so
// that the chunk stays in the L2 cache while its GEMMs read it (measured on the example CNN:
// 2^14 to 2^18 run within 3% of each other).
Eigen::Index chunk_inputs(Eigen::Index positions, Eigen::Index taps) {
  return std::max<Eigen::Index>(1, (Eigen::Index{1} << 16) / std::max<Eigen::Index>(1, positions * taps));
}

}  // namespace

Conv2dLayer::Conv2dLayer(Conv2dParams params, const std::string& where) : p_(std::move(params)) {
  const auto positive = [&](Eigen::Index v, const char* name) {
    if (v < 1) throw core::InputError(where + ": " + name + " = " + str(v) + "; expected an integer >= 1");
  };
  positive(p_.in_c, "input channels");
  positive(p_.in_h, "input height");
  positive(p_.in_w, "input width");
  positive(p_.out_c, "output channels");
  positive(p_.kh, "kernel height");
  positive(p_.kw, "kernel width");
  positive(p_.stride_h, "stride (height)");
  positive(p_.stride_w, "stride (width)");
  positive(p_.dil_h, "dilation (height)");
  positive(p_.dil_w, "dilation (width)");
  positive(p_.groups, "group");
  for (Eigen::Index pad : {p_.pad_t, p_.pad_l, p_.pad_b, p_.pad_r}) {
    if (pad < 0) throw core::InputError(where + ": pad " + str(pad) + "; expected pads >= 0");
  }
  if (p_.in_c % p_.groups != 0 || p_.out_c % p_.groups != 0) {
    throw core::InputError(where + ": group = " + str(p_.groups) + " does not divide the " + str(p_.in_c) +
                           " input channels and the " + str(p_.out_c) +
                           " output channels; expected a common divisor of both");
  }
  const Eigen::Index taps = p_.in_c / p_.groups * p_.kh * p_.kw;
  if (p_.weights.rows() != p_.out_c || p_.weights.cols() != taps) {
    throw core::InputError(where + ": weights are " + str(p_.weights.rows()) + "x" + str(p_.weights.cols()) +
                           "; expected " + str(p_.out_c) + "x" + str(taps) + " (output channels x input channels/group " +
                           "x kernel height x kernel width)");
  }
  if (p_.bias.size() != p_.out_c) {
    throw core::InputError(where + ": bias has " + str(p_.bias.size()) + " entries; expected " + str(p_.out_c) +
                           " (one per output channel)");
  }
  const Eigen::Index ext_h = (p_.kh - 1) * p_.dil_h + 1, ext_w = (p_.kw - 1) * p_.dil_w + 1;
  const Eigen::Index span_h = p_.in_h + p_.pad_t + p_.pad_b, span_w = p_.in_w + p_.pad_l + p_.pad_r;
  if (ext_h > span_h || ext_w > span_w) {
    throw core::InputError(where + ": kernel " + str(p_.kh) + "x" + str(p_.kw) + " (dilation " + str(p_.dil_h) + "x" +
                           str(p_.dil_w) + ") does not fit the " + str(p_.in_h) + "x" + str(p_.in_w) +
                           " input with pads [" + str(p_.pad_t) + ", " + str(p_.pad_l) + ", " + str(p_.pad_b) + ", " +
                           str(p_.pad_r) + "]; expected a kernel no larger than the padded input");
  }
  out_h_ = (span_h - ext_h) / p_.stride_h + 1;
  out_w_ = (span_w - ext_w) / p_.stride_w + 1;
  positions_ = out_h_ * out_w_;
  for (Eigen::Index i = 0; i < p_.weights.size(); ++i) {
    if (!std::isfinite(p_.weights.data()[i])) {
      const Eigen::Index r = i % p_.weights.rows(), c = i / p_.weights.rows();
      throw core::InputError(where + ": weight " + synapse_name(static_cast<std::uint64_t>(r * taps + c)) + " is " +
                             std::to_string(p_.weights.data()[i]) + "; expected a finite number");
    }
  }
  for (Eigen::Index i = 0; i < p_.bias.size(); ++i) {
    if (!std::isfinite(p_.bias[i])) {
      throw core::InputError(where + ": bias b[" + str(i) + "] is " + std::to_string(p_.bias[i]) +
                             "; expected a finite number");
    }
  }
  if (!std::isfinite(p_.activation.scale) || !std::isfinite(p_.activation.alpha)) {
    throw core::InputError(where + ": activation parameters must be finite");
  }
  bias_expanded_.resize(output_size());
  for (Eigen::Index o = 0; o < p_.out_c; ++o) bias_expanded_.segment(o * positions_, positions_).setConstant(p_.bias[o]);
}

void Conv2dLayer::valid_range(Eigen::Index k, bool vertical, Eigen::Index& lo, Eigen::Index& hi) const {
  const Eigen::Index s = vertical ? p_.stride_h : p_.stride_w;
  const Eigen::Index pad = vertical ? p_.pad_t : p_.pad_l;
  const Eigen::Index d = vertical ? p_.dil_h : p_.dil_w;
  const Eigen::Index size = vertical ? p_.in_h : p_.in_w;
  const Eigen::Index outs = vertical ? out_h_ : out_w_;
  // Output o reads input o * s - pad + k * d; it must lie in [0, size).
  const Eigen::Index a = pad - k * d;  // o * s >= a
  const Eigen::Index b = size - 1 + pad - k * d;  // o * s <= b
  lo = a <= 0 ? 0 : std::min(outs, (a + s - 1) / s);
  hi = b < 0 ? 0 : std::min(outs, b / s + 1);
  if (hi < lo) hi = lo;  // no valid output: an empty range inside [0, outs]
}

void Conv2dLayer::im2col(const double* u, Eigen::Index count, Eigen::Index g, Eigen::MatrixXd& x) const {
  x.resize(count * positions_, taps());
  im2col(u, count, g, x.data());
}

void Conv2dLayer::im2col(const double* u, Eigen::Index count, Eigen::Index g, double* x) const {
  const Eigen::Index cig = p_.in_c / p_.groups, hw = p_.in_h * p_.in_w, n_in = input_size();
  const Eigen::Index rows = count * positions_;
  for (Eigen::Index cl = 0; cl < cig; ++cl) {
    const Eigen::Index c = g * cig + cl;
    for (Eigen::Index ky = 0; ky < p_.kh; ++ky) {
      Eigen::Index y_lo, y_hi;
      valid_range(ky, true, y_lo, y_hi);
      for (Eigen::Index kx = 0; kx < p_.kw; ++kx) {
        Eigen::Index x_lo, x_hi;
        valid_range(kx, false, x_lo, x_hi);
        double* col = x + ((cl * p_.kh + ky) * p_.kw + kx) * rows;
        for (Eigen::Index n = 0; n < count; ++n) {
          const double* in = u + n * n_in + c * hw;
          double* out = col + n * positions_;
          for (Eigen::Index oy = 0; oy < out_h_; ++oy) {
            double* row = out + oy * out_w_;
            if (oy < y_lo || oy >= y_hi) {
              std::fill(row, row + out_w_, 0.0);
              continue;
            }
            const double* in_row = in + (oy * p_.stride_h - p_.pad_t + ky * p_.dil_h) * p_.in_w;
            std::fill(row, row + x_lo, 0.0);
            if (p_.stride_w == 1) {
              const double* from = in_row - p_.pad_l + kx * p_.dil_w;
              std::copy(from + x_lo, from + x_hi, row + x_lo);
            } else {
              for (Eigen::Index ox = x_lo; ox < x_hi; ++ox) {
                row[ox] = in_row[ox * p_.stride_w - p_.pad_l + kx * p_.dil_w];
              }
            }
            std::fill(row + x_hi, row + out_w_, 0.0);
          }
        }
      }
    }
  }
}

void Conv2dLayer::apply(const double* u, Eigen::Index count, double* z, bool with_bias) const {
  const Eigen::Index cog = group_out(), n_in = input_size(), n_out = output_size();
  const Eigen::Index chunk = chunk_inputs(positions_, taps());
  // Scratch kept per thread and never shrunk (layers are shared, const, across the engine's
  // threads): a few MB allocated anew per call cost more in page faults than the work done in them.
  thread_local std::vector<double> x_buf;
  const std::size_t x_size = static_cast<std::size_t>(std::min(chunk, count) * positions_ * taps());
  if (x_buf.size() < x_size) x_buf.resize(x_size);
  for (Eigen::Index n0 = 0; n0 < count; n0 += chunk) {
    const Eigen::Index cnt = std::min(chunk, count - n0);
    for (Eigen::Index g = 0; g < p_.groups; ++g) {
      im2col(u + n0 * n_in, cnt, g, x_buf.data());
      // Input n's outputs of group g, channel-major (o * P + p), are a P x cog column-major block
      // of z: one GEMM per input writes them in place, on top of the bias (or from zero).
      for (Eigen::Index n = 0; n < cnt; ++n) {
        double* zn = z + (n0 + n) * n_out + g * cog * positions_;
        if (with_bias) {
          for (Eigen::Index o = 0; o < cog; ++o) std::fill_n(zn + o * positions_, positions_, p_.bias[g * cog + o]);
        }
        gemm_abt(positions_, cog, taps(), x_buf.data() + n * positions_, cnt * positions_,
                 p_.weights.data() + g * cog, p_.weights.rows(), zn, positions_, with_bias);
      }
    }
  }
}

Eigen::VectorXd Conv2dLayer::linear(const Eigen::VectorXd& u_prev) const {
  Eigen::VectorXd z(output_size());
  apply(u_prev.data(), 1, z.data(), true);
  return z;
}

void Conv2dLayer::linear_batch(const Eigen::MatrixXd& u_prev, Eigen::MatrixXd& z) const {
  z.resize(output_size(), u_prev.cols());
  apply(u_prev.data(), u_prev.cols(), z.data(), true);
}

Eigen::VectorXd Conv2dLayer::jvp(const Eigen::VectorXd& du) const {
  Eigen::VectorXd z(output_size());
  apply(du.data(), 1, z.data(), false);
  return z;
}

Eigen::MatrixXd Conv2dLayer::vjp(const Eigen::MatrixXd& g) const {
  const Eigen::Index cog = group_out(), cig = p_.in_c / p_.groups, hw = p_.in_h * p_.in_w;
  Eigen::MatrixXd result = Eigen::MatrixXd::Zero(g.rows(), input_size());
  Eigen::VectorXd gr(output_size()), acc(input_size());
  Eigen::MatrixXd dx;
  for (Eigen::Index r = 0; r < g.rows(); ++r) {
    gr = g.row(r).transpose();
    acc.setZero();
    for (Eigen::Index grp = 0; grp < p_.groups; ++grp) {
      const Eigen::Map<const Eigen::MatrixXd> gm(gr.data() + grp * cog * positions_, positions_, cog);
      dx.noalias() = gm * p_.weights.middleRows(grp * cog, cog);  // P x taps
      for (Eigen::Index cl = 0; cl < cig; ++cl) {
        double* in = acc.data() + (grp * cig + cl) * hw;
        for (Eigen::Index ky = 0; ky < p_.kh; ++ky) {
          Eigen::Index y_lo, y_hi;
          valid_range(ky, true, y_lo, y_hi);
          for (Eigen::Index kx = 0; kx < p_.kw; ++kx) {
            Eigen::Index x_lo, x_hi;
            valid_range(kx, false, x_lo, x_hi);
            const double* col = dx.col((cl * p_.kh + ky) * p_.kw + kx).data();
            for (Eigen::Index oy = y_lo; oy < y_hi; ++oy) {
              double* in_row = in + (oy * p_.stride_h - p_.pad_t + ky * p_.dil_h) * p_.in_w;
              for (Eigen::Index ox = x_lo; ox < x_hi; ++ox) {
                in_row[ox * p_.stride_w - p_.pad_l + kx * p_.dil_w] += col[oy * out_w_ + ox];
              }
            }
          }
        }
      }
    }
    result.row(r) = acc.transpose();
  }
  return result;
}

void Conv2dLayer::add_input_changes(const Eigen::Index* inputs, const double* du, std::size_t count, double* z) const {
  const Eigen::Index cog = group_out(), cig = p_.in_c / p_.groups, hw = p_.in_h * p_.in_w;
  for (std::size_t k = 0; k < count; ++k) {
    const Eigen::Index i = inputs[k];
    const Eigen::Index c = i / hw, iy = (i % hw) / p_.in_w, ix = i % p_.in_w;
    const Eigen::Index grp = c / cig, cl = c % cig;
    for (Eigen::Index ky = 0; ky < p_.kh; ++ky) {
      const Eigen::Index ty = iy + p_.pad_t - ky * p_.dil_h;
      if (ty < 0 || ty % p_.stride_h != 0 || ty / p_.stride_h >= out_h_) continue;
      const Eigen::Index oy = ty / p_.stride_h;
      for (Eigen::Index kx = 0; kx < p_.kw; ++kx) {
        const Eigen::Index tx = ix + p_.pad_l - kx * p_.dil_w;
        if (tx < 0 || tx % p_.stride_w != 0 || tx / p_.stride_w >= out_w_) continue;
        const Eigen::Index pos = oy * out_w_ + tx / p_.stride_w;
        const Eigen::Index tap = (cl * p_.kh + ky) * p_.kw + kx;
        for (Eigen::Index o = grp * cog; o < (grp + 1) * cog; ++o) z[o * positions_ + pos] += p_.weights(o, tap) * du[k];
      }
    }
  }
}

void Conv2dLayer::add_synapse_change(std::uint64_t s, double value, const double* u_prev, double* z) const {
  add_synapse_delta(s, value - p_.weights(row_of(s), col_of(s)), u_prev, z, 0, positions_);
}

void Conv2dLayer::add_synapse_delta(std::uint64_t s, double delta, const double* u_prev, double* z, Eigen::Index pos_begin,
                                    Eigen::Index pos_count) const {
  const Eigen::Index o = row_of(s), tap = col_of(s);
  const Eigen::Index cl = tap / (p_.kh * p_.kw), ky = (tap / p_.kw) % p_.kh, kx = tap % p_.kw;
  const Eigen::Index c = (o / group_out()) * (p_.in_c / p_.groups) + cl;
  Eigen::Index y_lo, y_hi, x_lo, x_hi;
  valid_range(ky, true, y_lo, y_hi);
  valid_range(kx, false, x_lo, x_hi);
  // The positions [pos_begin, pos_end) cover output rows first_row..last_row, partly at the ends.
  const Eigen::Index pos_end = pos_begin + pos_count;
  y_lo = std::max(y_lo, pos_begin / out_w_);
  y_hi = std::min(y_hi, (pos_end + out_w_ - 1) / out_w_);
  const double* in = u_prev + c * p_.in_h * p_.in_w;
  double* out = z + o * positions_;
  for (Eigen::Index oy = y_lo; oy < y_hi; ++oy) {
    const double* in_row = in + (oy * p_.stride_h - p_.pad_t + ky * p_.dil_h) * p_.in_w;
    const Eigen::Index x_from = std::max(x_lo, pos_begin - oy * out_w_), x_to = std::min(x_hi, pos_end - oy * out_w_);
    for (Eigen::Index ox = x_from; ox < x_to; ++ox) {
      out[oy * out_w_ + ox] += delta * in_row[ox * p_.stride_w - p_.pad_l + kx * p_.dil_w];
    }
  }
}

int Conv2dLayer::connection_count(std::uint64_t s) const {
  const Eigen::Index tap = col_of(s), ky = (tap / p_.kw) % p_.kh, kx = tap % p_.kw;
  Eigen::Index y_lo, y_hi, x_lo, x_hi;
  valid_range(ky, true, y_lo, y_hi);
  valid_range(kx, false, x_lo, x_hi);
  return static_cast<int>((y_hi - y_lo) * (x_hi - x_lo));
}

Connection Conv2dLayer::connection(std::uint64_t s, int k) const {
  const Eigen::Index o = row_of(s), tap = col_of(s);
  const Eigen::Index cl = tap / (p_.kh * p_.kw), ky = (tap / p_.kw) % p_.kh, kx = tap % p_.kw;
  const Eigen::Index c = (o / group_out()) * (p_.in_c / p_.groups) + cl;
  Eigen::Index y_lo, y_hi, x_lo, x_hi;
  valid_range(ky, true, y_lo, y_hi);
  valid_range(kx, false, x_lo, x_hi);
  const Eigen::Index nx = x_hi - x_lo;
  if (k < 0 || nx <= 0 || k >= (y_hi - y_lo) * nx) {
    throw core::InternalError("conv connection " + std::to_string(k) + " of synapse " + synapse_name(s) +
                              " out of range");
  }
  const Eigen::Index oy = y_lo + k / nx, ox = x_lo + k % nx;
  const Eigen::Index iy = oy * p_.stride_h - p_.pad_t + ky * p_.dil_h, ix = ox * p_.stride_w - p_.pad_l + kx * p_.dil_w;
  return {o * positions_ + oy * out_w_ + ox, (c * p_.in_h + iy) * p_.in_w + ix};
}

std::string Conv2dLayer::synapse_name(std::uint64_t s) const {
  const Eigen::Index o = row_of(s), tap = col_of(s);
  const Eigen::Index cl = tap / (p_.kh * p_.kw), ky = (tap / p_.kw) % p_.kh, kx = tap % p_.kw;
  return "W[" + str(o) + "," + str(cl) + "," + str(ky) + "," + str(kx) + "]";
}

std::string Conv2dLayer::describe() const {
  std::string s = str(p_.out_c) + "c" + str(p_.kh) + "x" + str(p_.kw);
  if (p_.stride_h != 1 || p_.stride_w != 1)
    s += "/s" + (p_.stride_h == p_.stride_w ? str(p_.stride_h) : str(p_.stride_h) + "," + str(p_.stride_w));
  if (p_.pad_t || p_.pad_l || p_.pad_b || p_.pad_r) {
    const bool same = p_.pad_t == p_.pad_l && p_.pad_l == p_.pad_b && p_.pad_b == p_.pad_r;
    s += "/p" + (same ? str(p_.pad_t)
                      : str(p_.pad_t) + "," + str(p_.pad_l) + "," + str(p_.pad_b) + "," + str(p_.pad_r));
  }
  if (p_.dil_h != 1 || p_.dil_w != 1)
    s += "/d" + (p_.dil_h == p_.dil_w ? str(p_.dil_h) : str(p_.dil_h) + "," + str(p_.dil_w));
  if (p_.groups != 1) s += "/g" + str(p_.groups);
  return s + "(" + p_.activation.describe() + ")";
}

}  // namespace nfsim::models
