#pragma once

#include <Eigen/Dense>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/bounds/bounds.h"
#include "sim/functional/error_stats.h"

namespace nfsim::tb {

// The measured error of one input, with confidence-interval half-widths at the campaign's level.
struct Measured {
  Eigen::VectorXd mean, std, mean_abs, max_abs;
  Eigen::VectorXd mean_hw, std_hw, mean_abs_hw;
  std::uint64_t trials = 0;
};
Measured measure(const sim::ErrorStats& stats, Eigen::Index input, double z);

// Judges every bound for one input (BOUNDS.md "How a bound is judged"):
// - b3, b4 (estimates): per output, relative error of mean and std against the measurement and
//   whether the prediction lies inside the measurement's interval;
// - b1_* (a bound on the norm of the mean error): holds if it is at least the norm of the
//   interval's upper ends |mean_k| + hw_k; tightness = bound / norm of |mean|;
// - b2 (a bound on |mean error| per output): holds if b2_k >= |mean_k| + hw_k;
// - worst_case (a bound on E|Delta_k|): holds if >= mean_abs_k + hw_k.
nlohmann::json judge(const Measured& m, const models::bounds::BoundSet& bounds);

// Across inputs (and outputs, pooled), each estimate's agreement with the measurement.
double pearson(const std::vector<double>& a, const std::vector<double>& b);
// Fraction of pairs that `a` orders differently from `b` (ties skipped), folded to <= 0.5.
// Above 4000 points an evenly strided subsample of 4000 is used (deterministic).
double rank_loss(const std::vector<double>& a, const std::vector<double>& b);
double median_relative_error(const std::vector<double>& predicted, const std::vector<double>& measured);

nlohmann::json summarize(const std::vector<Measured>& measured, const std::vector<models::bounds::BoundSet>& bounds);

// JSON helpers: vectors as arrays, non-finite numbers as null.
nlohmann::json to_json(const Eigen::VectorXd& v);
nlohmann::json number_or_null(double v);

}  // namespace nfsim::tb
