#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "core/running_stats.h"

namespace nfsim::sim {

// Statistics of the error Delta = f_faulty(x) - f(x) over trials, per input and output: Delta
// itself and |Delta| (mean, variance, higher moments, max), and per input the 1-, 2- and
// inf-norms of the Delta vector. Mergeable block by block in a fixed order.
class ErrorStats {
 public:
  enum Norm { norm_1 = 0, norm_2 = 1, norm_inf = 2 };

  ErrorStats() = default;
  ErrorStats(Eigen::Index inputs, Eigen::Index outputs);

  Eigen::Index inputs() const { return inputs_; }
  Eigen::Index outputs() const { return outputs_; }

  // One trial's error for `input` (a vector of `outputs` values).
  void add(Eigen::Index input, const double* delta);
  // `trials` consecutive trials of `input` at once: deltas is outputs x trials, column-major
  // (one trial's error per column). Moments are taken over the block in two passes and merged:
  // much cheaper than add() per trial, equal to it up to rounding.
  void add_block(Eigen::Index input, const double* deltas, std::size_t trials);
  // `count` trials with zero error for `input` (cheaper than adding zeros one by one).
  void add_zeros(Eigen::Index input, std::uint64_t count);
  // Folds a later block into this one (deterministic for a fixed merge order).
  void merge(const ErrorStats& later);

  const core::RunningStats& delta(Eigen::Index input, Eigen::Index output) const { return delta_[at(input, output)]; }
  const core::RunningStats& abs_delta(Eigen::Index input, Eigen::Index output) const { return abs_[at(input, output)]; }
  const core::RunningStats& norm(Eigen::Index input, Norm which) const { return norms_[input * 3 + which]; }
  // Classification accuracy of each trial (fraction of inputs whose faulty argmax is the label),
  // when the campaign has labels.
  void add_trial_accuracy(double accuracy) { accuracy_.add(accuracy); }
  const core::RunningStats& accuracy() const { return accuracy_; }
  // The first 2000 values of Delta for (input 0, output 0) in trial order, for histograms.
  const std::vector<double>& samples() const { return samples_; }
  std::uint64_t trials() const { return delta_.empty() ? 0 : delta_[0].count(); }

  // Exact binary form (every double bit for bit) for checkpoints and MPI messages.
  std::string serialize() const;
  // Appends the same bytes to `out` (reuse one buffer for many blocks: no large allocation each).
  void serialize_to(std::string& out) const;
  static ErrorStats deserialize(const std::string& bytes);
  static ErrorStats deserialize(const char* bytes, std::size_t size);

 private:
  std::size_t at(Eigen::Index input, Eigen::Index output) const {
    return static_cast<std::size_t>(input * outputs_ + output);
  }
  Eigen::Index inputs_ = 0, outputs_ = 0;
  std::vector<core::RunningStats> delta_, abs_, norms_;
  core::RunningStats accuracy_;
  std::size_t sample_cap_ = 2000;
  std::vector<double> samples_;
};

}  // namespace nfsim::sim
