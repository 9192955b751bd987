#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/running_stats.h"
#include "sim/functional/control_variate.h"

namespace nfsim::sim {

// What an engine tallies per block besides Delta (the chip engine: latencies, traffic, deadline
// misses, the fault log), carried and merged with the block's statistics in block order, so that
// it too does not depend on threads, worker processes, MPI ranks or an interrupt-and-resume.
struct BlockTallies {
  std::map<std::string, core::RunningStats> stats;                              // merged in order
  std::map<std::string, std::uint64_t> counts;                                  // summed
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> histograms;    // value -> count, summed
  // Logged events (the chip's applied faults), in trial order: at most `log_limit` kept over all
  // merged blocks, the others counted in log_left_out.
  struct LoggedFault {
    double time_ns = 0;
    std::uint64_t trial = 0;
    std::uint32_t input = 0;
    std::uint64_t spec = 0, unit = 0;
  };
  std::vector<LoggedFault> log;
  std::uint64_t log_left_out = 0;
  std::uint64_t log_limit = 0;
  void merge(const BlockTallies& later);
  bool empty() const { return stats.empty() && counts.empty() && histograms.empty() && log.empty() && log_left_out == 0; }
};

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
  // The engine's own tallies of these trials (empty for engines that keep none).
  BlockTallies& tallies() { return tallies_; }
  const BlockTallies& tallies() const { return tallies_; }

  // The control variate (docs/report.md, "Estimators"): from here on every trial added is also
  // split into its first-order part and remainder by `cv`, the trials of each input numbered from
  // `first_trial` in the order they are added (every engine adds an input's trials in trial
  // order). `cv` must outlive the adds; it is not copied, merged or serialized (its statistics are).
  void follow(const ControlVariate& cv, std::uint64_t first_trial);
  // Empty without a control variate.
  const ControlVariateStats& control_variate() const { return cv_stats_; }
  // The mean and std of Delta for (input, output) and their half-widths at normal quantile z:
  // the control variate's estimates when the statistics have one (with its safeguards against
  // the plain statistics: ControlVariateStats::estimate), the plain ones otherwise.
  ControlVariateStats::Estimate estimate(Eigen::Index input, Eigen::Index output, double z) const;
  // The plain estimator's, whatever the statistics have (to compare the two on the same trials).
  ControlVariateStats::Estimate plain_estimate(Eigen::Index input, Eigen::Index output, double z) const;

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
  BlockTallies tallies_;
  ControlVariateStats cv_stats_;
  const ControlVariate* cv_ = nullptr;
  std::vector<std::uint64_t> next_trial_;  // per input, with cv_
  // Hands the control variate `count` trials of `input` (deltas outputs x count, or null: zeros).
  void observe(Eigen::Index input, const double* deltas, std::uint64_t count);
};

}  // namespace nfsim::sim
