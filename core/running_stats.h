#pragma once

#include <cstdint>
#include <limits>

namespace nfsim::core {

// Streaming moments of one scalar (count, mean, central moments M2..M4, running max), updated
// one value at a time (Welford / Terriberry) and merged exactly (Chan et al., Pebay 2008). The
// merge is deterministic: merging the same blocks in the same order gives the same bits.
class RunningStats {
 public:
  void add(double x);
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

  // Restores a state (for resumed campaigns and MPI); no validation beyond n >= 0.
  static RunningStats from_moments(std::uint64_t n, double mean, double m2, double m3, double m4, double min,
                                   double max);

 private:
  std::uint64_t n_ = 0;
  double mean_ = 0.0, m2_ = 0.0, m3_ = 0.0, m4_ = 0.0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

// Two-sided standard-normal quantile for a confidence level in (0, 1): 0.95 -> 1.959964.
double normal_quantile_two_sided(double confidence);

}  // namespace nfsim::core
