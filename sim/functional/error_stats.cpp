#include "sim/functional/error_stats.h"

#include <cmath>

#include "core/error.h"

namespace nfsim::sim {

ErrorStats::ErrorStats(Eigen::Index inputs, Eigen::Index outputs)
    : inputs_(inputs),
      outputs_(outputs),
      delta_(static_cast<std::size_t>(inputs * outputs)),
      abs_(static_cast<std::size_t>(inputs * outputs)),
      norms_(static_cast<std::size_t>(inputs * 3)) {}

void ErrorStats::add(Eigen::Index input, const double* d) {
  double n1 = 0, n2 = 0, ninf = 0;
  for (Eigen::Index k = 0; k < outputs_; ++k) {
    const double a = std::abs(d[k]);
    delta_[at(input, k)].add(d[k]);
    abs_[at(input, k)].add(a);
    n1 += a;
    n2 += a * a;
    ninf = std::max(ninf, a);
  }
  norms_[input * 3 + norm_1].add(n1);
  norms_[input * 3 + norm_2].add(std::sqrt(n2));
  norms_[input * 3 + norm_inf].add(ninf);
}

void ErrorStats::add_zeros(Eigen::Index input, std::uint64_t count) {
  if (count == 0) return;
  const core::RunningStats zeros = core::RunningStats::from_moments(count, 0, 0, 0, 0, 0, 0);
  for (Eigen::Index k = 0; k < outputs_; ++k) {
    delta_[at(input, k)].merge(zeros);
    abs_[at(input, k)].merge(zeros);
  }
  for (int n = 0; n < 3; ++n) norms_[input * 3 + n].merge(zeros);
}

void ErrorStats::merge(const ErrorStats& later) {
  if (later.inputs_ != inputs_ || later.outputs_ != outputs_) {
    throw core::InternalError("ErrorStats::merge: shapes differ");
  }
  for (std::size_t i = 0; i < delta_.size(); ++i) {
    delta_[i].merge(later.delta_[i]);
    abs_[i].merge(later.abs_[i]);
  }
  for (std::size_t i = 0; i < norms_.size(); ++i) norms_[i].merge(later.norms_[i]);
}

}  // namespace nfsim::sim
