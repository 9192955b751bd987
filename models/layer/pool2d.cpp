#include "models/layer/pool2d.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace nfsim::models {
namespace {

std::string str(Eigen::Index v) { return std::to_string(v); }

// The outputs o in [0, outs) whose window [o * s - pad, o * s - pad + k) holds input i: [lo, hi).
void range_of(Eigen::Index i, Eigen::Index k, Eigen::Index s, Eigen::Index pad, Eigen::Index outs, Eigen::Index& lo,
              Eigen::Index& hi) {
  // o * s - pad <= i  and  o * s - pad + k > i
  const Eigen::Index a = i + pad - k + 1;  // o * s >= a
  lo = a <= 0 ? 0 : (a + s - 1) / s;
  hi = std::min(outs, (i + pad) / s + 1);
  if (hi < lo) hi = lo;
}

}  // namespace

Pool2d::Pool2d(Pool2dParams params, const std::string& where) : p_(params) {
  const auto positive = [&](Eigen::Index v, const char* name) {
    if (v < 1) throw core::InputError(where + ": " + name + " = " + str(v) + "; expected an integer >= 1");
  };
  positive(p_.c, "channels");
  positive(p_.h, "input height");
  positive(p_.w, "input width");
  positive(p_.kh, "kernel height");
  positive(p_.kw, "kernel width");
  positive(p_.stride_h, "stride (height)");
  positive(p_.stride_w, "stride (width)");
  const std::string pads =
      "[" + str(p_.pad_t) + ", " + str(p_.pad_l) + ", " + str(p_.pad_b) + ", " + str(p_.pad_r) + "]";
  for (Eigen::Index pad : {p_.pad_t, p_.pad_l, p_.pad_b, p_.pad_r}) {
    if (pad < 0) throw core::InputError(where + ": pads " + pads + "; expected pads >= 0");
  }
  if (p_.pad_t >= p_.kh || p_.pad_b >= p_.kh || p_.pad_l >= p_.kw || p_.pad_r >= p_.kw) {
    throw core::InputError(where + ": pads " + pads + " for a " + str(p_.kh) + "x" + str(p_.kw) +
                           " window; expected each pad smaller than the window");
  }
  const Eigen::Index span_h = p_.h + p_.pad_t + p_.pad_b, span_w = p_.w + p_.pad_l + p_.pad_r;
  if (p_.kh > span_h || p_.kw > span_w) {
    throw core::InputError(where + ": window " + str(p_.kh) + "x" + str(p_.kw) + " does not fit the " + str(p_.h) +
                           "x" + str(p_.w) + " input with pads " + pads +
                           "; expected a window no larger than the padded input");
  }
  out_h_ = (span_h - p_.kh) / p_.stride_h + 1;
  out_w_ = (span_w - p_.kw) / p_.stride_w + 1;
}

double Pool2d::window(const double* y, Eigen::Index q) const {
  const Eigen::Index per = out_h_ * out_w_;
  const Eigen::Index c = q / per, oy = (q % per) / out_w_, ox = q % out_w_;
  const Eigen::Index y0 = oy * p_.stride_h - p_.pad_t, x0 = ox * p_.stride_w - p_.pad_l;
  const Eigen::Index ya = std::max<Eigen::Index>(0, y0), yb = std::min(p_.h, y0 + p_.kh);
  const Eigen::Index xa = std::max<Eigen::Index>(0, x0), xb = std::min(p_.w, x0 + p_.kw);
  const double* in = y + c * p_.h * p_.w;
  if (p_.kind == Pool2dParams::Kind::max) {
    double m = -std::numeric_limits<double>::infinity();
    for (Eigen::Index iy = ya; iy < yb; ++iy) {
      for (Eigen::Index ix = xa; ix < xb; ++ix) m = std::max(m, in[iy * p_.w + ix]);
    }
    return m;
  }
  double sum = 0;
  for (Eigen::Index iy = ya; iy < yb; ++iy) {
    for (Eigen::Index ix = xa; ix < xb; ++ix) sum += in[iy * p_.w + ix];
  }
  const Eigen::Index count = p_.count_include_pad
                                 ? (std::min(p_.h + p_.pad_b, y0 + p_.kh) - y0) *
                                       (std::min(p_.w + p_.pad_r, x0 + p_.kw) - x0)
                                 : (yb - ya) * (xb - xa);
  return sum / static_cast<double>(count);
}

void Pool2d::forward(const double* y, double* u) const {
  if (p_.kind != Pool2dParams::Kind::max) {
    const Eigen::Index n = output_size();
    for (Eigen::Index q = 0; q < n; ++q) u[q] = window(y, q);
    return;
  }
  // Max pooling, window by window as window() does (same comparisons, same result), without its
  // index arithmetic per window.
  for (Eigen::Index c = 0; c < p_.c; ++c) {
    const double* in = y + c * p_.h * p_.w;
    for (Eigen::Index oy = 0; oy < out_h_; ++oy) {
      const Eigen::Index y0 = oy * p_.stride_h - p_.pad_t;
      const Eigen::Index ya = std::max<Eigen::Index>(0, y0), yb = std::min(p_.h, y0 + p_.kh);
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        const Eigen::Index x0 = ox * p_.stride_w - p_.pad_l;
        const Eigen::Index xa = std::max<Eigen::Index>(0, x0), xb = std::min(p_.w, x0 + p_.kw);
        double m = -std::numeric_limits<double>::infinity();
        for (Eigen::Index iy = ya; iy < yb; ++iy) {
          for (Eigen::Index ix = xa; ix < xb; ++ix) m = std::max(m, in[iy * p_.w + ix]);
        }
        *u++ = m;
      }
    }
  }
}

void Pool2d::touched_windows(const Eigen::Index* inputs, std::size_t count, std::vector<char>& mark,
                             std::vector<Eigen::Index>& windows) const {
  windows.clear();
  for (std::size_t j = 0; j < count; ++j) {
    Eigen::Index c, y_lo, y_hi, x_lo, x_hi;
    windows_of(inputs[j], c, y_lo, y_hi, x_lo, x_hi);
    for (Eigen::Index oy = y_lo; oy < y_hi; ++oy) {
      for (Eigen::Index ox = x_lo; ox < x_hi; ++ox) {
        const Eigen::Index q = (c * out_h_ + oy) * out_w_ + ox;
        if (!mark[static_cast<std::size_t>(q)]) {
          mark[static_cast<std::size_t>(q)] = 1;
          windows.push_back(q);
        }
      }
    }
  }
  std::sort(windows.begin(), windows.end());
  for (Eigen::Index q : windows) mark[static_cast<std::size_t>(q)] = 0;
}

Eigen::VectorXd Pool2d::forward(const Eigen::VectorXd& y) const {
  Eigen::VectorXd u(output_size());
  forward(y.data(), u.data());
  return u;
}

void Pool2d::forward_batch(const Eigen::MatrixXd& y, Eigen::MatrixXd& u) const {
  u.resize(output_size(), y.cols());
  for (Eigen::Index n = 0; n < y.cols(); ++n) forward(y.col(n).data(), u.col(n).data());
}

// The partial derivatives of window q: (input index, weight) pairs.
template <class F>
static void window_weights(const Pool2dParams& p, Eigen::Index out_h, Eigen::Index out_w, const double* y,
                           Eigen::Index q, F&& f) {
  const Eigen::Index per = out_h * out_w;
  const Eigen::Index c = q / per, oy = (q % per) / out_w, ox = q % out_w;
  const Eigen::Index y0 = oy * p.stride_h - p.pad_t, x0 = ox * p.stride_w - p.pad_l;
  const Eigen::Index ya = std::max<Eigen::Index>(0, y0), yb = std::min(p.h, y0 + p.kh);
  const Eigen::Index xa = std::max<Eigen::Index>(0, x0), xb = std::min(p.w, x0 + p.kw);
  const Eigen::Index base = c * p.h * p.w;
  if (p.kind == Pool2dParams::Kind::max) {
    Eigen::Index arg = -1;
    double m = -std::numeric_limits<double>::infinity();
    for (Eigen::Index iy = ya; iy < yb; ++iy) {
      for (Eigen::Index ix = xa; ix < xb; ++ix) {
        const Eigen::Index i = base + iy * p.w + ix;
        if (arg < 0 || y[i] > m) {
          m = y[i];
          arg = i;
        }
      }
    }
    f(arg, 1.0);
    return;
  }
  const Eigen::Index count = p.count_include_pad
                                 ? (std::min(p.h + p.pad_b, y0 + p.kh) - y0) * (std::min(p.w + p.pad_r, x0 + p.kw) - x0)
                                 : (yb - ya) * (xb - xa);
  const double weight = 1.0 / static_cast<double>(count);
  for (Eigen::Index iy = ya; iy < yb; ++iy) {
    for (Eigen::Index ix = xa; ix < xb; ++ix) f(base + iy * p.w + ix, weight);
  }
}

Eigen::MatrixXd Pool2d::vjp(const Eigen::MatrixXd& g, const Eigen::VectorXd& y) const {
  Eigen::MatrixXd r = Eigen::MatrixXd::Zero(g.rows(), input_size());
  for (Eigen::Index q = 0; q < output_size(); ++q) {
    window_weights(p_, out_h_, out_w_, y.data(), q, [&](Eigen::Index i, double w) { r.col(i) += w * g.col(q); });
  }
  return r;
}

Eigen::VectorXd Pool2d::jvp(const Eigen::VectorXd& dy, const Eigen::VectorXd& y) const {
  Eigen::VectorXd r = Eigen::VectorXd::Zero(output_size());
  for (Eigen::Index q = 0; q < output_size(); ++q) {
    window_weights(p_, out_h_, out_w_, y.data(), q, [&](Eigen::Index i, double w) { r[q] += w * dy[i]; });
  }
  return r;
}

void Pool2d::windows_of(Eigen::Index i, Eigen::Index& c, Eigen::Index& y_lo, Eigen::Index& y_hi, Eigen::Index& x_lo,
                        Eigen::Index& x_hi) const {
  const Eigen::Index hw = p_.h * p_.w;
  c = i / hw;
  range_of((i % hw) / p_.w, p_.kh, p_.stride_h, p_.pad_t, out_h_, y_lo, y_hi);
  range_of(i % p_.w, p_.kw, p_.stride_w, p_.pad_l, out_w_, x_lo, x_hi);
}

std::string Pool2d::describe() const {
  std::string s = std::string(p_.kind == Pool2dParams::Kind::max ? "maxpool" : "avgpool") + str(p_.kh) + "x" + str(p_.kw);
  if (p_.stride_h != p_.kh || p_.stride_w != p_.kw)
    s += "/" + (p_.stride_h == p_.stride_w ? str(p_.stride_h) : str(p_.stride_h) + "," + str(p_.stride_w));
  if (p_.pad_t || p_.pad_l || p_.pad_b || p_.pad_r) {
    s += "/p" + str(p_.pad_t) + "," + str(p_.pad_l) + "," + str(p_.pad_b) + "," + str(p_.pad_r);
    if (p_.kind == Pool2dParams::Kind::average && p_.count_include_pad) s += "+pad";
  }
  return s;
}

}  // namespace nfsim::models
