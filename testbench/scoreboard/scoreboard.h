#pragma once

#include <Eigen/Dense>
#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "models/bounds/bounds.h"
#include "sim/functional/error_stats.h"
#include "testbench/report/report.h"

namespace nfsim::tb {

// The measured error of one input, with confidence-interval half-widths at the campaign's level.
struct Measured {
  Eigen::VectorXd mean, std, mean_abs, max_abs;
  Eigen::VectorXd mean_hw, std_hw, mean_abs_hw;
  double norm_mean[3] = {0, 0, 0}, norm_hw[3] = {0, 0, 0};  // of ||Delta||_1, _2, _inf over trials
  std::uint64_t trials = 0;
};
Measured measure(const sim::ErrorStats& stats, Eigen::Index input, double z);

// Judges every bound for one input (docs/bounds.md "How a bound is judged"):
// - b3, b4 (estimates): per output, relative error of mean and std against the measurement and
//   whether the prediction lies inside the measurement's interval;
// - magnitude bounds against the measured mean absolute error, upper confidence limit:
//   b1_<ord> against E||Delta||_ord (the mean over trials of the error vector's norm),
//   b2 and worst_case per output against E|Delta_k|; tightness = bound / measured.
std::map<std::string, Verdict> judge(const Measured& m, const models::bounds::BoundSet& bounds);

// Across inputs (and outputs, pooled), each estimate's agreement with the measurement.
double pearson(const std::vector<double>& a, const std::vector<double>& b);
// Fraction of pairs that `a` orders differently from `b` (ties skipped), folded to <= 0.5.
// Above 4000 points an evenly strided subsample of 4000 is used (deterministic).
double rank_loss(const std::vector<double>& a, const std::vector<double>& b);
double median_relative_error(const std::vector<double>& predicted, const std::vector<double>& measured);

std::map<std::string, BoundSummary> summarize(const std::vector<Measured>& measured, const std::vector<models::bounds::BoundSet>& bounds);

// JSON helpers: vectors as arrays, non-finite numbers as null.
nlohmann::json to_json(const Eigen::VectorXd& v);
nlohmann::json number_or_null(double v);

}  // namespace nfsim::tb
