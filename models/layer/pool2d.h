#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

namespace nfsim::models {

// A 2-D pooling (ONNX MaxPool / AveragePool / GlobalAveragePool, floor mode, no dilation) over
// a C x H x W tensor, flattened NCHW.
struct Pool2dParams {
  enum class Kind { max, average };
  Kind kind = Kind::max;
  Eigen::Index c = 1, h = 1, w = 1;  // the input
  Eigen::Index kh = 1, kw = 1, stride_h = 1, stride_w = 1;
  Eigen::Index pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  // Average pooling: divide by the whole window (padding counted as zeros) instead of by the
  // inputs inside it.
  bool count_include_pad = false;
};

// The output stage of a layer (docs/faults.md, "Convolutional layers"): u_l = S_l(y_l), done in
// the neuron arrays after the activation. It has no neurons and no weights, so it is not a
// layer: Network holds it next to the layer whose outputs it pools. Max pooling reads padding as
// -infinity (every window holds at least one input); average pooling reads it as 0.
class Pool2d {
 public:
  // Checks the window fits; InputError messages start with `where`.
  explicit Pool2d(Pool2dParams params, const std::string& where = "pooling");

  const Pool2dParams& params() const { return p_; }
  Eigen::Index input_size() const { return p_.c * p_.h * p_.w; }
  Eigen::Index output_size() const { return p_.c * out_h_ * out_w_; }
  std::vector<Eigen::Index> input_shape() const { return {p_.c, p_.h, p_.w}; }
  std::vector<Eigen::Index> output_shape() const { return {p_.c, out_h_, out_w_}; }
  Eigen::Index out_h() const { return out_h_; }
  Eigen::Index out_w() const { return out_w_; }

  // u = S(y) for one input (y: input_size(), u: output_size(); no aliasing).
  void forward(const double* y, double* u) const;
  Eigen::VectorXd forward(const Eigen::VectorXd& y) const;
  // Every column.
  void forward_batch(const Eigen::MatrixXd& y, Eigen::MatrixXd& u) const;
  // g dS/dy at y (rows x input_size() for g rows x output_size()). Max pooling sends each
  // window's gradient to its first maximum in row-major order (PyTorch's convention).
  Eigen::MatrixXd vjp(const Eigen::MatrixXd& g, const Eigen::VectorXd& y) const;
  // dS/dy dy at y.
  Eigen::VectorXd jvp(const Eigen::VectorXd& dy, const Eigen::VectorXd& y) const;
  // The value of output window q (channel, oy, ox flattened) from y.
  double window(const double* y, Eigen::Index q) const;
  // The outputs whose window contains input i: channel c's output rows [y_lo, y_hi) x columns
  // [x_lo, x_hi).
  void windows_of(Eigen::Index i, Eigen::Index& c, Eigen::Index& y_lo, Eigen::Index& y_hi, Eigen::Index& x_lo,
                  Eigen::Index& x_hi) const;

  // The distinct output windows that hold any of the inputs inputs[0..count), ascending, into
  // `windows` (cleared first). `mark` is the caller's scratch of output_size() zeros, zero again
  // on return: the sparse update of a pooling after a few of its inputs changed.
  void touched_windows(const Eigen::Index* inputs, std::size_t count, std::vector<char>& mark,
                       std::vector<Eigen::Index>& windows) const;

  // "maxpool2x2/2", "avgpool3x3/1/p1", "avgpool7x7" (global).
  std::string describe() const;

 private:
  Pool2dParams p_;
  Eigen::Index out_h_ = 0, out_w_ = 0;
};

}  // namespace nfsim::models
