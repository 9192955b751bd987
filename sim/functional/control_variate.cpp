#include "sim/functional/control_variate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <boost/math/distributions/students_t.hpp>

#include "core/error.h"
#include "core/strings.h"
#include "faults/bound_model.h"
#include "models/bounds/bounds.h"

namespace nfsim::sim {

void PairMoments::add(double rv, double gv, double inv) {
  // The co-moment first, from the means before this trial (Welford's bivariate update).
  c_rg += (rv - r.mean()) * (gv - g.mean()) * (static_cast<double>(r.count()) * inv);
  r.add(rv, inv);
  g.add(gv, inv);
}

void PairMoments::add_zeros(std::uint64_t count) {
  if (count == 0) return;
  PairMoments zeros;
  zeros.r = zeros.g = core::RunningStats::from_moments(count, 0, 0, 0, 0, 0, 0);
  merge(zeros);
}

void PairMoments::merge(const PairMoments& b) {
  if (b.count() == 0) return;
  if (count() == 0) {
    *this = b;
    return;
  }
  const double na = static_cast<double>(count()), nb = static_cast<double>(b.count());
  c_rg += b.c_rg + (b.r.mean() - r.mean()) * (b.g.mean() - g.mean()) * na * nb / (na + nb);
  r.merge(b.r);
  g.merge(b.g);
}

void ControlVariateStats::merge(const ControlVariateStats& later) {
  if (later.empty()) return;
  if (empty()) {
    *this = later;
    return;
  }
  if (later.pairs.size() != pairs.size()) throw core::InternalError("ControlVariateStats::merge: shapes differ");
  for (std::size_t i = 0; i < pairs.size(); ++i) pairs[i].merge(later.pairs[i]);
  for (std::size_t i = 0; i < multi_fault.size(); ++i) multi_fault[i] += later.multi_fault[i];
}

namespace {

// Effective degrees of freedom of a sample variance: 2 n / (kurtosis - 1), at least 1.
double effective_dof(const core::RunningStats& s) {
  const double n = static_cast<double>(s.count());
  if (s.m2() <= 0.0) return n;
  const double kurtosis = n * s.m4() / (s.m2() * s.m2());
  if (!std::isfinite(kurtosis)) return 1.0;  // the fourth moment overflowed: assume the worst
  return kurtosis > 1.0 ? std::max(1.0, std::min(n, 2.0 * n / (kurtosis - 1.0))) : n;
}

// Student's t quantile at the level of the normal quantile z, for the whole degrees of freedom
// below `dof` (rounding down widens the interval), remembered per thread: the stopping rule asks
// for it for every input and output after every block, and Boost's inverse is iterative.
double t_quantile(double z, double dof) {
  const double whole = std::floor(std::min(std::max(dof, 1.0), 1e7));
  thread_local std::map<std::pair<double, double>, double> known;
  const auto key = std::make_pair(z, whole);
  if (const auto it = known.find(key); it != known.end()) return it->second;
  const double level = 0.5 * std::erfc(-z / std::sqrt(2.0));
  const double t = boost::math::quantile(boost::math::students_t(whole), level);
  if (known.size() > 100000) known.clear();
  known.emplace(key, t);
  return t;
}

}  // namespace

ControlVariateStats::Estimate ControlVariateStats::estimate(Eigen::Index input, Eigen::Index output, double z,
                                                           const core::RunningStats* plain) const {
  const std::size_t i = static_cast<std::size_t>(input * outputs + output);
  const PairMoments& p = pairs[i];
  const std::uint64_t count = p.count();
  const double n = static_cast<double>(count);
  Estimate e;
  e.mean = mean_l[i] + p.r.mean();
  const double s2_r = p.r.sample_variance();
  const double var = count > 0 ? var_l[i] + p.g.mean() - p.r.mean() * p.r.mean() + s2_r / n : var_l[i];
  e.std = std::sqrt(std::max(var, 0.0));
  constexpr double inf = std::numeric_limits<double>::infinity();
  e.mean_half_width = count < 2 ? inf : s2_r > 0 ? t_quantile(z, effective_dof(p.r)) * std::sqrt(s2_r / n) : 0.0;
  if (count < 4) {
    e.std_half_width = inf;
  } else {
    // h = g - 2 mean(R) R: the influence of one trial on the variance estimate.
    const double s2_g = p.g.sample_variance(), c = p.c_rg / (n - 1), m = p.r.mean();
    const double s2_h = std::max(0.0, s2_g - 4.0 * m * c + 4.0 * m * m * s2_r);
    const double w = s2_h > 0 ? t_quantile(z, std::min(effective_dof(p.r), effective_dof(p.g))) * std::sqrt(s2_h / n) : 0.0;
    const double upper = std::sqrt(std::max(var + w, 0.0)) - e.std;
    e.std_half_width = e.std > 0 ? std::max(w / (2.0 * e.std), upper) : upper;
  }
  if (!plain) return e;
  // Per quantity, the plain estimator where its interval is the narrower one (where interactions
  // dominate the control variate is the worse of the two), or where the variance estimate is not
  // positive while the plain std is (the control variate cannot tell a std there).
  const double plain_mean_hw = plain->mean_half_width(z), plain_std_hw = plain->std_half_width(z);
  const bool under_guard = multi_fault[static_cast<std::size_t>(input)] < kMinMultiFaultTrials;
  if (plain_mean_hw < e.mean_half_width) {
    e.mean = plain->mean();
    e.mean_half_width = plain_mean_hw;
  } else if (under_guard) {
    e.mean_half_width = plain_mean_hw;  // too few trials showed interactions for its interval alone
  }
  if (plain_std_hw < e.std_half_width || (var <= 0.0 && plain->std() > 0.0)) {
    e.std = plain->std();
    e.std_half_width = plain_std_hw;
    e.plain_std = true;
  } else if (under_guard) {
    e.std_half_width = plain_std_hw;
  }
  return e;
}

std::uint64_t ControlVariateStats::min_multi_fault() const {
  return multi_fault.empty() ? 0 : *std::min_element(multi_fault.begin(), multi_fault.end());
}

std::string ControlVariate::unsupported(const faults::FaultPlan& plan) {
  for (std::size_t s = 0; s < plan.size(); ++s) {
    const faults::FaultSpec& spec = plan.specs()[s];
    const std::string name = "fault spec " + std::to_string(s + 1) + " (" + spec.kind_name() + ")";
    if (spec.is_timing()) return name + " is a timing fault: it changes when values arrive, and has no single-fault value effect";
    if (spec.acts_through_time()) return name + " changes how messages travel (dead routers detour or drop traffic together), which has no single-fault effect";
    if (spec.onset_ns > 0) return name + " has an onset (onset_ns " + core::format_double(spec.onset_ns) + "): a drawn unit may not act in its inference";
    if (spec.spares > 0) return name + " has spares: repaired failures are no longer independent";
    if (spec.lifetime_end_hours > 0) return name + " is part of a mission: its failures are drawn as failure times";
  }
  return "";
}

double ControlVariate::effect_bytes(const faults::FaultPlan& plan, const models::Network& network, Eigen::Index inputs) {
  double units = 0;
  for (std::size_t s = 0; s < plan.size(); ++s) units += static_cast<double>(plan.unit_count(s));
  return 8.0 * static_cast<double>(network.output_size()) * units * static_cast<double>(inputs);
}

ControlVariate::ControlVariate(const models::Network& network, const Eigen::MatrixXd& inputs, const faults::FaultPlan& plan,
                               std::uint64_t seed)
    : plan_(plan), sampler_(plan, network, seed), outputs_(network.output_size()) {
  if (const std::string why = unsupported(plan); !why.empty()) {
    throw core::InputError("estimator: control_variate: " + why + "; expected estimator: plain for this campaign");
  }
  // Spec s's units are consecutive columns of the concatenated unit_effects (effect_slots).
  const std::vector<faults::EffectSlot> slots = faults::effect_slots(plan, network);
  first_column_.assign(plan.size(), 0);
  std::vector<std::uint64_t> seen(plan.size(), 0);
  for (std::size_t c = 0; c < slots.size(); ++c) {
    const faults::EffectSlot& slot = slots[c];
    if (slot.unit != seen[slot.spec]) throw core::InternalError("control variate: the units of a spec are not consecutive effect columns");
    if (slot.unit == 0) first_column_[slot.spec] = c;
    ++seen[slot.spec];
  }
  for (std::size_t s = 0; s < plan.size(); ++s) {
    if (seen[s] != plan.unit_count(s)) {
      throw core::InternalError("control variate: spec " + std::to_string(s) + " has " + std::to_string(plan.unit_count(s)) +
                                " units and " + std::to_string(seen[s]) + " effect columns");
    }
  }
  std::vector<double> p(slots.size()), q(slots.size());
  for (std::size_t c = 0; c < slots.size(); ++c) {
    p[c] = plan.unit_probability(slots[c].spec, slots[c].unit);
    q[c] = p[c] * (1.0 - p[c]);
  }
  const Eigen::Map<const Eigen::VectorXd> pv(p.data(), static_cast<Eigen::Index>(p.size()));
  const Eigen::Map<const Eigen::VectorXd> qv(q.data(), static_cast<Eigen::Index>(q.size()));
  const models::bounds::BoundCalculator calc(network, faults::to_bound_model(plan));
  const Eigen::Index N = inputs.cols();
  effects_.resize(static_cast<std::size_t>(N));
  mean_l_.setZero(outputs_, N);
  var_l_.setZero(outputs_, N);
  for (Eigen::Index n = 0; n < N; ++n) {
    Eigen::MatrixXd& e = effects_[static_cast<std::size_t>(n)];
    e.resize(outputs_, static_cast<Eigen::Index>(slots.size()));
    Eigen::Index c = 0;
    for (const models::bounds::TermEffects& term : calc.unit_effects(inputs.col(n))) {
      if (c + term.effects.cols() > e.cols()) throw core::InternalError("control variate: more effect columns than units");
      e.middleCols(c, term.effects.cols()) = term.effects;
      c += term.effects.cols();
    }
    if (c != e.cols()) throw core::InternalError("control variate: fewer effect columns than units");
    mean_l_.col(n) = e * pv;
    var_l_.col(n) = e.cwiseAbs2() * qv;
  }
}

ControlVariateStats ControlVariate::empty_stats() const {
  ControlVariateStats s;
  s.inputs = mean_l_.cols();
  s.outputs = outputs_;
  s.mean_l.assign(mean_l_.data(), mean_l_.data() + mean_l_.size());  // column n = input n: input-major
  s.var_l.assign(var_l_.data(), var_l_.data() + var_l_.size());
  s.pairs.assign(static_cast<std::size_t>(mean_l_.size()), PairMoments{});
  s.multi_fault.assign(static_cast<std::size_t>(s.inputs), 0);
  return s;
}

std::size_t ControlVariate::linear_part(Eigen::Index input, std::uint64_t trial, Eigen::VectorXd& l) const {
  thread_local std::vector<std::uint64_t> scratch;
  l.setZero(outputs_);
  std::size_t failed = 0;
  const Eigen::MatrixXd& e = effects_[static_cast<std::size_t>(input)];
  sampler_.for_each_failed(trial, static_cast<std::uint32_t>(input), scratch, [&](std::size_t s, std::uint64_t u) {
    l += e.col(static_cast<Eigen::Index>(first_column_[s] + u));
    ++failed;
  });
  return failed;
}

void ControlVariate::observe(ControlVariateStats& stats, Eigen::Index input, std::uint64_t first_trial, const double* deltas,
                             std::uint64_t count) const {
  thread_local Eigen::VectorXd l;
  const std::size_t base = static_cast<std::size_t>(input * outputs_);
  PairMoments* pairs = stats.pairs.data() + base;
  const double* mean_l = stats.mean_l.data() + base;
  // Trials with R = g = 0 (no unit failed, no error), added at once after the others (the moments
  // do not depend on the order; a few are added one by one, cheaper than a merge).
  std::uint64_t zeros = 0;
  auto flush = [&] {
    if (zeros <= 4) {
      for (; zeros > 0; --zeros) {
        const double inv = 1.0 / static_cast<double>(pairs[0].count() + 1);
        for (Eigen::Index k = 0; k < outputs_; ++k) pairs[k].add(0.0, 0.0, inv);
      }
      return;
    }
    for (Eigen::Index k = 0; k < outputs_; ++k) pairs[k].add_zeros(zeros);
    zeros = 0;
  };
  for (std::uint64_t t = 0; t < count; ++t) {
    const double* delta = deltas ? deltas + t * static_cast<std::uint64_t>(outputs_) : nullptr;
    const std::size_t failed = linear_part(input, first_trial + t, l);
    if (failed == 0 && (!delta || std::all_of(delta, delta + outputs_, [](double d) { return d == 0.0; }))) {
      ++zeros;
      continue;
    }
    if (failed >= 2) ++stats.multi_fault[static_cast<std::size_t>(input)];
    const double inv = 1.0 / static_cast<double>(pairs[0].count() + 1);
    for (Eigen::Index k = 0; k < outputs_; ++k) {
      const double r = (delta ? delta[k] : 0.0) - l[k];
      pairs[k].add(r, 2.0 * (l[k] - mean_l[k]) * r + r * r, inv);
    }
  }
  flush();
}

}  // namespace nfsim::sim
