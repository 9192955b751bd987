#pragma once

#include <cstdint>
#include <limits>

namespace nfsim::core {

// The largest magnitude of a value (an output, an error Delta, a fault value) that nfsim accepts
// into its statistics. Derivation: a campaign has at most 2^32 trials per statistic, and the
// worst intermediate product of merge() is d^4 * na * nb * (na^2 - na nb + nb^2), with d the
// difference of two block means (|d| <= 2 * limit) and the count factor at most n^4 / 16 =
// 2^124 ~ 2.1e37 for n = 2^32; 16 * limit^4 * 2.1e37 must stay below DBL_MAX ~ 1.8e308, i.e.
// limit < 4.8e67. The fourth-power sum itself is at most n * (2 limit)^4 ~ 6.9e10 * limit^4.
// 1e60 leaves a factor of more than 1e29 to spare (for sums over many outputs in the norms).
// Values beyond it stop the run (docs/faults.md, "Non-finite numbers").
constexpr double kMaxStatisticMagnitude = 1e60;

// Streaming moments of one scalar (count, mean, central moments M2..M4, running max), updated
// one value at a time (Welford / Terriberry) and merged exactly (Chan et al., Pebay 2008). The
// merge is deterministic: merging the same blocks in the same order gives the same bits.
class RunningStats {
 public:
  void add(double x) { add(x, 1.0 / static_cast<double>(n_ + 1)); }
  // The same with 1 / (count() + 1) computed by the caller, who adds to many statistics of
  // equal count (one division instead of one per statistic; the same bits as add(x)).
  void add(double x, double inv_new_count);
  // Folds `other` (a later block of samples) into this one.
  void merge(const RunningStats& other);

  std::uint64_t count() const { return n_; }
  double mean() const { return mean_; }
  // Population variance (ddof = 0, as the paper's numpy.std) and sample variance (ddof = 1).
  double variance() const { return n_ > 0 ? m2_ / static_cast<double>(n_) : 0.0; }
  double sample_variance() const { return n_ > 1 ? m2_ / static_cast<double>(n_ - 1) : 0.0; }
  double std() const;
  double max() const { return max_; }
  double min() const { return min_; }
  double m2() const { return m2_; }
  double m3() const { return m3_; }
  double m4() const { return m4_; }

  // Half-width of the normal-approximation confidence interval on the mean: z * s / sqrt(n).
  double mean_half_width(double z) const;
  // Half-width of the interval on the standard deviation, distribution-free: the asymptotic
  // variance of the sample variance, Var(s^2) ~ (mu4 - sigma^4 (n-3)/(n-1)) / n, carried to s by
  // the delta method (Var(s) ~ Var(s^2) / (4 s^2)). Valid for any distribution with a finite
  // fourth moment (fault errors are far from normal, so the chi-square interval would be wrong).
  double std_half_width(double z) const;

  // The statistics of n values at once, in two passes (mean, then central moments): exact to
  // rounding, and several times cheaper than n calls of add() when the values are at hand.
  static RunningStats of_values(const double* x, std::size_t n);

  // Restores a state (for resumed campaigns and MPI); no validation beyond n >= 0.
  static RunningStats from_moments(std::uint64_t n, double mean, double m2, double m3, double m4, double min,
                                   double max);

 private:
  std::uint64_t n_ = 0;
  double mean_ = 0.0, m2_ = 0.0, m3_ = 0.0, m4_ = 0.0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

inline void RunningStats::add(double x, double inv_new_count) {
  const double n1 = static_cast<double>(n_);
  ++n_;
  const double n = static_cast<double>(n_);
  const double delta = x - mean_;
  const double delta_n = delta * inv_new_count;
  const double delta_n2 = delta_n * delta_n;
  const double term1 = delta * delta_n * n1;
  mean_ += delta_n;
  m4_ += term1 * delta_n2 * (n * n - 3 * n + 3) + 6 * delta_n2 * m2_ - 4 * delta_n * m3_;
  m3_ += term1 * delta_n * (n - 2) - 3 * delta_n * m2_;
  m2_ += term1;
  min_ = x < min_ ? x : min_;
  max_ = x > max_ ? x : max_;
}

// Two-sided standard-normal quantile for a confidence level in (0, 1): 0.95 -> 1.959964.
double normal_quantile_two_sided(double confidence);

}  // namespace nfsim::core
