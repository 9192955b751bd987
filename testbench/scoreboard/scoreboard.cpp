#include "testbench/scoreboard/scoreboard.h"

#include <algorithm>
#include <cmath>

namespace nfsim::tb {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json to_json(const Eigen::VectorXd& v) {
  nlohmann::json a = nlohmann::json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(number_or_null(v[i]));
  return a;
}

Measured measure(const sim::ErrorStats& stats, Eigen::Index input, double z) {
  const Eigen::Index K = stats.outputs();
  Measured m;
  m.mean.resize(K);
  m.std.resize(K);
  m.mean_abs.resize(K);
  m.max_abs.resize(K);
  m.mean_hw.resize(K);
  m.std_hw.resize(K);
  m.mean_abs_hw.resize(K);
  for (Eigen::Index k = 0; k < K; ++k) {
    // Mean and std: the point's estimator (plain, or the control variate); |Delta| plain.
    const sim::ControlVariateStats::Estimate e = stats.estimate(input, k, z);
    const auto& a = stats.abs_delta(input, k);
    m.mean[k] = e.mean;
    m.std[k] = e.std;
    m.mean_abs[k] = a.mean();
    m.max_abs[k] = a.count() ? a.max() : 0.0;
    m.mean_hw[k] = e.mean_half_width;
    m.std_hw[k] = e.std_half_width;
    m.mean_abs_hw[k] = a.mean_half_width(z);
  }
  for (int o = 0; o < 3; ++o) {
    const auto& ns = stats.norm(input, static_cast<sim::ErrorStats::Norm>(o));
    m.norm_mean[o] = ns.mean();
    m.norm_hw[o] = ns.mean_half_width(z);
  }
  m.trials = stats.trials();
  return m;
}

namespace {

double rel_err(double predicted, double measured) {
  return measured != 0.0 ? std::abs(predicted - measured) / std::abs(measured)
                          : (predicted == 0.0 ? 0.0 : std::numeric_limits<double>::quiet_NaN());
}

int norm_index(const std::string& ord) { return ord == "1" ? 0 : ord == "2" ? 1 : 2; }

}  // namespace

std::map<std::string, Verdict> judge(const Measured& m, const models::bounds::BoundSet& bounds) {
  std::map<std::string, Verdict> out;
  const Eigen::Index K = m.mean.size();
  for (const auto& [name, b] : bounds) {
    Verdict v;
    if (name == "b3" || name == "b4") {
      v.kind = Verdict::Kind::estimate;
      for (Eigen::Index k = 0; k < K; ++k) {
        v.rel_err_mean.push_back(rel_err(b.mean[k], m.mean[k]));
        v.rel_err_std.push_back(rel_err(b.std[k], m.std[k]));
        v.mean_inside_ci.push_back(std::abs(b.mean[k] - m.mean[k]) <= m.mean_hw[k]);
        v.std_inside_ci.push_back(std::abs(b.std[k] - m.std[k]) <= m.std_hw[k]);
      }
    } else if (name.rfind("b1_", 0) == 0) {
      const int o = norm_index(name.substr(name.rfind('_') + 1));
      const double measured = m.norm_mean[o];
      v.kind = Verdict::Kind::magnitude;
      v.measured = "mean over trials of ||Delta||_" + name.substr(name.rfind('_') + 1);
      v.holds = {b.mean[0] >= measured + m.norm_hw[o]};
      v.tightness = {measured > 0 ? b.mean[0] / measured : std::numeric_limits<double>::infinity()};
    } else if (name == "b2" || name == "worst_case") {
      v.kind = Verdict::Kind::magnitude;
      v.measured = "mean |Delta| per output";
      v.per_output = true;
      v.all_hold = true;
      for (Eigen::Index k = 0; k < K; ++k) {
        const double meas = m.mean_abs[k];
        const double upper = meas + m.mean_abs_hw[k];
        const bool h = b.mean[k] >= upper;
        v.all_hold = v.all_hold && h;
        v.holds.push_back(h);
        v.tightness.push_back(meas > 0 ? b.mean[k] / meas : std::numeric_limits<double>::infinity());
      }
    } else {
      continue;  // sum_norms: a network-level figure, not judged per input
    }
    out[name] = v;
  }
  return out;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n = a.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa == 0 || sbb == 0) return std::numeric_limits<double>::quiet_NaN();
  return sab / std::sqrt(saa * sbb);
}

double rank_loss(const std::vector<double>& a_in, const std::vector<double>& b_in) {
  constexpr std::size_t kMaxPoints = 4000;
  std::vector<double> a, b;
  const std::size_t stride = a_in.size() > kMaxPoints ? (a_in.size() + kMaxPoints - 1) / kMaxPoints : 1;
  for (std::size_t i = 0; i < a_in.size(); i += stride) {
    a.push_back(a_in[i]);
    b.push_back(b_in[i]);
  }
  std::uint64_t pairs = 0, discordant = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 || db == 0) continue;
      ++pairs;
      if ((da > 0) != (db > 0)) ++discordant;
    }
  }
  if (pairs == 0) return std::numeric_limits<double>::quiet_NaN();
  const double loss = static_cast<double>(discordant) / static_cast<double>(pairs);
  return std::min(loss, 1.0 - loss);
}

double median_relative_error(const std::vector<double>& predicted, const std::vector<double>& measured) {
  std::vector<double> errs;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const double e = rel_err(predicted[i], measured[i]);
    if (std::isfinite(e)) errs.push_back(e);
  }
  if (errs.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(errs.begin(), errs.end());
  const std::size_t n = errs.size();
  return n % 2 ? errs[n / 2] : 0.5 * (errs[n / 2 - 1] + errs[n / 2]);
}

std::map<std::string, BoundSummary> summarize(const std::vector<Measured>& measured, const std::vector<models::bounds::BoundSet>& bounds) {
  std::map<std::string, BoundSummary> out;
  if (bounds.empty()) return out;
  auto agreement = [](const std::vector<double>& pred, const std::vector<double>& meas) {
    return Agreement{pearson(pred, meas), rank_loss(pred, meas), median_relative_error(pred, meas), pred.size()};
  };
  for (const auto& [name, first] : bounds.front()) {
    if (name.rfind("sum_norms", 0) == 0) continue;
    std::vector<double> pm, mm, ps, ms;
    std::size_t holds = 0, judged = 0;
    for (std::size_t n = 0; n < measured.size(); ++n) {
      const auto& b = bounds[n].at(name);
      const Measured& m = measured[n];
      if (name.rfind("b1_", 0) == 0) {
        const int o = norm_index(name.substr(name.rfind('_') + 1));
        pm.push_back(b.mean[0]);
        mm.push_back(m.norm_mean[o]);
        ++judged;
        holds += b.mean[0] >= m.norm_mean[o] + m.norm_hw[o];
        continue;
      }
      for (Eigen::Index k = 0; k < m.mean.size(); ++k) {
        if (name == "worst_case" || name == "b2") {
          pm.push_back(b.mean[k]);
          mm.push_back(m.mean_abs[k]);
        } else {
          pm.push_back(b.mean[k]);
          mm.push_back(m.mean[k]);
        }
        if (b.std.size()) {
          ps.push_back(b.std[k]);
          ms.push_back(m.std[k]);
        }
        if (name == "b2" || name == "worst_case") {
          ++judged;
          holds += pm.back() >= mm.back() + m.mean_abs_hw[k];
        }
      }
    }
    BoundSummary s;
    s.mean = agreement(pm, mm);
    if (!ps.empty()) s.std = agreement(ps, ms);
    if (judged) s.fraction_holding = static_cast<double>(holds) / static_cast<double>(judged);
    out[name] = s;
  }
  return out;
}

}  // namespace nfsim::tb
