#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "core/running_stats.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/network.h"

namespace nfsim::sim {

// The first-order expansion as a control variate (docs/report.md, "Estimators"; the math in
// docs/bounds.md, "The first-order expansion as a control variate").
//
// A trial's error on one input is split as Delta = L + R: L = sum of D_u over the units u that
// failed in that inference, D_u = F(x with u failed alone) - F(x) (the exact single-unit effects
// b4 is built from, BoundCalculator::unit_effects), and R the interaction remainder. The units
// fail independently, unit u with probability p_u (q under TMR), so L's moments are exact:
// E[L] = sum_u p_u D_u and Var[L] = sum_u p_u (1 - p_u) D_u^2, per input and output, transient
// or permanent alike (each inference sees the same marginal distribution). The trials measure
// only what L leaves: the mean of R, and of g = 2 (L - E[L]) R + R^2, with their co-moments.

// Running moments of R and of g (to the fourth) and their co-moment over trials, merged exactly
// (Chan et al., Pebay): deterministic for a fixed merge order.
struct PairMoments {
  core::RunningStats r, g;
  double c_rg = 0;  // sum of (R - mean R)(g - mean g)
  std::uint64_t count() const { return r.count(); }
  void add(double rv, double gv) { add(rv, gv, 1.0 / static_cast<double>(count() + 1)); }
  // The same with 1 / (count() + 1) computed by the caller (one division for all outputs).
  void add(double rv, double gv, double inv_new_count);
  void add_zeros(std::uint64_t count);  // `count` trials with R = g = 0
  void merge(const PairMoments& later);
};

// Below this many trials of an input in which two or more units failed (the only trials where the
// remainder R can be nonzero), the control variate's intervals are widened to at least the plain
// estimator's (ErrorStats::estimate): their central-limit approximation rests on the few trials
// that show interactions, and tests/unit/test_control_variate.cpp measured it undercovering there
// (95% intervals covering 86% of the time with about 30 such trials, 92-96% with about 130, 94%
// with about 500).
constexpr std::uint64_t kMinMultiFaultTrials = 200;

// The control variate's part of a block's statistics (ErrorStats::control_variate()).
struct ControlVariateStats {
  Eigen::Index inputs = 0, outputs = 0;
  // Per (input, output), input-major: E[L] and Var[L], exact (the same in every block).
  std::vector<double> mean_l, var_l;
  std::vector<PairMoments> pairs;           // per (input, output)
  std::vector<std::uint64_t> multi_fault;   // per input: trials in which 2 or more units failed
  bool empty() const { return pairs.empty(); }
  void merge(const ControlVariateStats& later);

  // The estimates for (input, output) and their half-widths at normal quantile z:
  //   mean = E[L] + mean(R)                                   (unbiased)
  //   var  = Var[L] + mean(g) - mean(R)^2 + s_R^2 / n         (unbiased; std = sqrt(max(var, 0)))
  //   mean half-width = t s_R / sqrt(n)
  //   variance half-width w = t sqrt(s_h^2 / n), h = g - 2 mean(R) R (the delta method), carried
  //   to the std as the larger of w / (2 std) and sqrt(var + w) - std (the interval on the
  //   variance's upper end, which stays honest where std is near 0)
  // t is Student's quantile at the level of z (Phi(z)) with the effective degrees of freedom of
  // the variance estimate, 2 n / (kurtosis - 1) (Satterthwaite: n for normal data, far fewer
  // when a handful of trials with interactions carry the remainder's variance, where the normal
  // quantile would give intervals that cover too rarely), rounded down; for the std, the smaller
  // of R's and g's; 1 where g's fourth moment overflows (errors beyond about 1e38). Half-widths
  // are infinite below 2 (mean) or 4 (std) trials, as the plain estimator's.
  // With `plain` (the same trials' plain statistics of Delta), what ErrorStats::estimate reports:
  // per quantity (mean, std) the plain estimate and interval where its interval is the narrower
  // (interactions dominate) or, for the std, where the variance estimate is not positive while the
  // plain std is; otherwise the control variate's, its interval widened to the plain one's while
  // the input has had fewer than kMinMultiFaultTrials trials with two or more failed units.
  struct Estimate {
    double mean = 0, std = 0, mean_half_width = 0, std_half_width = 0;
    bool plain_std = false;  // the std is the plain estimator's (with `plain`)
  };
  Estimate estimate(Eigen::Index input, Eigen::Index output, double z, const core::RunningStats* plain = nullptr) const;
  // The smallest number over inputs of trials with two or more failed units.
  std::uint64_t min_multi_fault() const;
};

// One campaign point's control variate: every unit's single-fault effect on every input, kept in
// memory (outputs x units doubles per input), and a sampler that redraws each trial's failed
// units exactly as the engines draw them (a pure function of seed, spec, trial and input).
class ControlVariate {
 public:
  // Throws InputError naming what is missing when the plan has a spec the estimator cannot take
  // (spares, missions, onsets, timing faults, routers; unsupported()).
  ControlVariate(const models::Network& network, const Eigen::MatrixXd& inputs, const faults::FaultPlan& plan,
                 std::uint64_t seed);

  // Why the plan's faults have no exact first-order moments, naming the spec and what it has
  // ("" when they do): a repair pool (spares: failures no longer independent), a mission's
  // failure times, an onset (a drawn unit may not act), a timing fault or a router (no
  // single-fault value effect).
  static std::string unsupported(const faults::FaultPlan& plan);
  // Bytes the single-fault effects take: 8 * outputs * units * inputs.
  static double effect_bytes(const faults::FaultPlan& plan, const models::Network& network, Eigen::Index inputs);
  // The most effect_bytes() a campaign may ask for.
  static constexpr double kMaxEffectBytes = 1024.0 * 1024.0 * 1024.0;

  // Statistics with the exact moments filled in and no trial.
  ControlVariateStats empty_stats() const;
  // `count` consecutive trials of `input` from `first_trial` on: their errors in `deltas`
  // (outputs x count, column-major), or all 0 when `deltas` is null. Runs of trials in which no
  // unit failed and the error is 0 (R = g = 0) are added at once.
  void observe(ControlVariateStats& stats, Eigen::Index input, std::uint64_t first_trial, const double* deltas,
               std::uint64_t count) const;

  // The single-fault effects of `input` (outputs x units, the units of spec s from column
  // first_column(s) on) and E[L], Var[L] (outputs x inputs), for tests.
  const Eigen::MatrixXd& effects(Eigen::Index input) const { return effects_[static_cast<std::size_t>(input)]; }
  std::uint64_t first_column(std::size_t spec) const { return first_column_[spec]; }
  const Eigen::MatrixXd& mean_l() const { return mean_l_; }
  const Eigen::MatrixXd& var_l() const { return var_l_; }

 private:
  // L for (input, trial) into `l`; returns the number of failed units.
  std::size_t linear_part(Eigen::Index input, std::uint64_t trial, Eigen::VectorXd& l) const;

  const faults::FaultPlan& plan_;
  faults::FaultSampler sampler_;
  Eigen::Index outputs_ = 0;
  std::vector<Eigen::MatrixXd> effects_;    // per input
  std::vector<std::uint64_t> first_column_;  // per spec
  Eigen::MatrixXd mean_l_, var_l_;           // outputs x inputs
};

}  // namespace nfsim::sim
