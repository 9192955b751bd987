#include "core/running_stats.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace nfsim::core {

void RunningStats::merge(const RunningStats& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(n_), nb = static_cast<double>(o.n_);
  const double n = na + nb;
  const double delta = o.mean_ - mean_;
  const double d2 = delta * delta, d3 = d2 * delta, d4 = d2 * d2;
  const double mean = mean_ + delta * nb / n;
  const double m2 = m2_ + o.m2_ + d2 * na * nb / n;
  const double m3 = m3_ + o.m3_ + d3 * na * nb * (na - nb) / (n * n) + 3.0 * delta * (na * o.m2_ - nb * m2_) / n;
  const double m4 = m4_ + o.m4_ + d4 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n) +
                    6.0 * d2 * (na * na * o.m2_ + nb * nb * m2_) / (n * n) + 4.0 * delta * (na * o.m3_ - nb * m3_) / n;
  n_ += o.n_;
  mean_ = mean;
  m2_ = m2;
  m3_ = m3;
  m4_ = m4;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

double RunningStats::std() const { return std::sqrt(std::max(0.0, variance())); }

double RunningStats::mean_half_width(double z) const {
  if (n_ < 2) return std::numeric_limits<double>::infinity();
  return z * std::sqrt(sample_variance() / static_cast<double>(n_));
}

double RunningStats::std_half_width(double z) const {
  if (n_ < 4) return std::numeric_limits<double>::infinity();
  const double n = static_cast<double>(n_);
  const double var = variance();
  if (var <= 0.0) return 0.0;
  const double mu4 = m4_ / n;
  const double var_of_var = std::max(0.0, (mu4 - var * var * (n - 3.0) / (n - 1.0)) / n);
  return z * std::sqrt(var_of_var) / (2.0 * std::sqrt(var));
}

RunningStats RunningStats::of_values(const double* x, std::size_t n) {
  RunningStats s;
  if (n == 0) return s;
  double sum = 0, lo = x[0], hi = x[0];
  for (std::size_t i = 0; i < n; ++i) {
    sum += x[i];
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  const double mean = sum / static_cast<double>(n);
  double m2 = 0, m3 = 0, m4 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = x[i] - mean, d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  s.n_ = n;
  s.mean_ = mean;
  s.m2_ = m2;
  s.m3_ = m3;
  s.m4_ = m4;
  s.min_ = lo;
  s.max_ = hi;
  return s;
}

RunningStats RunningStats::from_moments(std::uint64_t n, double mean, double m2, double m3, double m4, double min,
                                        double max) {
  RunningStats s;
  s.n_ = n;
  s.mean_ = mean;
  s.m2_ = m2;
  s.m3_ = m3;
  s.m4_ = m4;
  s.min_ = min;
  s.max_ = max;
  return s;
}

double normal_quantile_two_sided(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) {
    throw InputError("confidence level " + std::to_string(confidence) + "; expected a number in (0, 1)");
  }
  // Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9),
  // refined by one Newton step on erfc.
  const double p = 0.5 + confidence / 2.0;
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double x;
  if (p > 1 - 0.02425) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace nfsim::core
