#include "testbench/campaign/finite_check.h"

#include <cmath>

#include "core/error.h"
#include "core/running_stats.h"
#include "core/strings.h"
#include "testbench/report/report.h"

namespace nfsim::tb {
namespace {

const char* const kExpected =
    "finite values of magnitude <= 1e60, which keep the statistics' fourth-power sums finite (docs/faults.md, "
    "\"Non-finite numbers\")";

// The first entry of `stats` (a RunningStats) outside the limit, as "<name> <moment> = <value>".
std::optional<std::string> first_bad_moments(const core::RunningStats& s, const std::string& name) {
  if (s.count() == 0) return std::nullopt;
  const std::pair<const char*, double> moments[] = {{"max", s.max()}, {"min", s.min()},   {"mean", s.mean()},
                                                    {"M2", s.m2()},   {"M3", s.m3()},     {"M4", s.m4()}};
  for (const auto& [moment, v] : moments) {
    // Extremes and mean are values of the kind the limit is about; the central moments only
    // have to be finite (they are powers of values within the limit).
    const bool value_like = moment[0] != 'M';
    if (value_like ? !within_limit(v) : !std::isfinite(v)) return name + " " + moment + " = " + describe_value(v);
  }
  return std::nullopt;
}

std::optional<std::string> first_bad_matrix(const Eigen::MatrixXd& m, const std::string& name, bool limit) {
  for (Eigen::Index n = 0; n < m.cols(); ++n) {
    for (Eigen::Index k = 0; k < m.rows(); ++k) {
      const double v = m(k, n);
      if (limit ? !within_limit(v) : !std::isfinite(v)) {
        return "input " + std::to_string(n) + " output " + std::to_string(k) + ": " + name + " = " + describe_value(v);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

bool within_limit(double x) { return std::isfinite(x) && std::abs(x) <= core::kMaxStatisticMagnitude; }

std::string describe_value(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return core::format_double(x);
}

void check_fault_free_outputs(const models::Network& network, const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& outputs,
                              const std::string& source) {
  for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
    Eigen::Index k = 0;
    for (; k < outputs.rows(); ++k) {
      if (!within_limit(outputs(k, n))) break;
    }
    if (k == outputs.rows()) continue;
    // Where the fault-free values leave the limit first (the trace of the model as imported;
    // a chip's programming changes the values, not where they grow).
    std::string where;
    if (n < inputs.cols() && inputs.rows() == network.input_size()) {
      const models::ForwardTrace t = network.trace(inputs.col(n));
      for (int l = 0; l <= network.num_layers() && where.empty(); ++l) {
        const Eigen::VectorXd* tensors[] = {l > 0 ? &t.z[l] : nullptr, &t.y[l]};
        for (int which = 0; which < 2 && where.empty(); ++which) {
          if (!tensors[which]) continue;
          for (Eigen::Index i = 0; i < tensors[which]->size(); ++i) {
            const double v = (*tensors[which])[i];
            if (!within_limit(v)) {
              where = l == 0 ? "the input value " + std::to_string(i) + " itself is " + describe_value(v) +
                                   " (an input scale that overflows?)"
                             : std::string("layer ") + std::to_string(l) + " (" + network.layer(l).kind() + ") " +
                                   (which == 0 ? "pre-activation z" : "activation y") + "[" + std::to_string(i) + "] = " +
                                   describe_value(v) + " first";
              break;
            }
          }
        }
      }
    }
    throw core::InputError("input " + std::to_string(n) + " of " + source + ": the fault-free output out" + std::to_string(k) +
                           " is " + describe_value(outputs(k, n)) + (where.empty() ? "" : "; " + where) + "; expected " +
                           kExpected + "; scale the inputs down or check the model's weights");
  }
}

namespace {
// The fast test of first_bad_moments (every block is checked: no string unless a value is bad).
bool moments_ok(const core::RunningStats& s) {
  return s.count() == 0 || (within_limit(s.max()) && within_limit(s.min()) && within_limit(s.mean()) && std::isfinite(s.m2()) &&
                            std::isfinite(s.m3()) && std::isfinite(s.m4()));
}
}  // namespace

std::optional<std::string> first_non_finite(const sim::ErrorStats& stats) {
  for (Eigen::Index n = 0; n < stats.inputs(); ++n) {
    for (Eigen::Index k = 0; k < stats.outputs(); ++k) {
      if (moments_ok(stats.delta(n, k)) && moments_ok(stats.abs_delta(n, k))) continue;
      const std::string at = "input " + std::to_string(n) + " output " + std::to_string(k) + ": ";
      if (auto bad = first_bad_moments(stats.delta(n, k), at + "Delta")) return bad;
      if (auto bad = first_bad_moments(stats.abs_delta(n, k), at + "|Delta|")) return bad;
    }
    static const char* const kNorms[] = {"||Delta||_1", "||Delta||_2", "||Delta||_inf"};
    for (int o = 0; o < 3; ++o) {
      if (moments_ok(stats.norm(n, static_cast<sim::ErrorStats::Norm>(o)))) continue;
      if (auto bad = first_bad_moments(stats.norm(n, static_cast<sim::ErrorStats::Norm>(o)), "input " + std::to_string(n) + ": " + kNorms[o]))
        return bad;
    }
  }
  if (auto bad = first_bad_moments(stats.accuracy(), "accuracy")) return bad;
  return std::nullopt;
}

std::optional<std::string> first_non_finite_control_variate(const sim::ErrorStats& stats) {
  const sim::ControlVariateStats& cv = stats.control_variate();
  for (std::size_t i = 0; i < cv.pairs.size(); ++i) {
    const sim::PairMoments& p = cv.pairs[i];
    const double values[] = {cv.mean_l[i], cv.var_l[i], p.r.mean(), p.r.m2(), p.g.mean(), p.g.m2(), p.c_rg};
    static const char* const kNames[] = {"E[L]", "Var[L]", "mean of R", "M2 of R", "mean of g", "M2 of g", "co-moment of R and g"};
    for (int j = 0; j < 7; ++j) {
      if (std::isfinite(values[j])) continue;
      const auto outputs = static_cast<std::size_t>(cv.outputs);
      return "input " + std::to_string(i / outputs) + " output " + std::to_string(i % outputs) + ": the control variate's " + kNames[j] +
             " = " + describe_value(values[j]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> first_non_finite(const sim::ExactResult& e) {
  if (auto bad = first_bad_matrix(e.mean, "mean of Delta", true)) return bad;
  if (auto bad = first_bad_matrix(e.mean_abs, "mean of |Delta|", true)) return bad;
  if (auto bad = first_bad_matrix(e.max_abs, "max |Delta|", true)) return bad;
  if (auto bad = first_bad_matrix(e.variance, "variance of Delta", false)) return bad;
  if (auto bad = first_bad_matrix(e.norm_mean.transpose(), "mean norm of Delta (1, 2, inf)", false)) return bad;
  return std::nullopt;
}

std::optional<std::string> first_non_finite(const models::bounds::BoundSet& bounds) {
  for (const auto& [name, v] : bounds) {
    for (Eigen::Index k = 0; k < v.mean.size(); ++k) {
      if (!std::isfinite(v.mean[k])) return name + " mean of output " + std::to_string(k) + " = " + describe_value(v.mean[k]);
    }
    for (Eigen::Index k = 0; k < v.std.size(); ++k) {
      if (!std::isfinite(v.std[k])) return name + " std of output " + std::to_string(k) + " = " + describe_value(v.std[k]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> first_non_finite_output(const Eigen::MatrixXd& outputs) {
  for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
    for (Eigen::Index k = 0; k < outputs.rows(); ++k) {
      if (!within_limit(outputs(k, n)))
        return "input " + std::to_string(n) + " out" + std::to_string(k) + " = " + describe_value(outputs(k, n));
    }
  }
  return std::nullopt;
}

std::vector<faults::FaultSpec> spec_alone(const std::vector<faults::FaultSpec>& specs, std::size_t s) {
  std::vector<faults::FaultSpec> alone = specs;
  for (std::size_t i = 0; i < alone.size(); ++i) {
    if (i != s) alone[i].probability = 0.0;
  }
  return alone;
}

std::string name_culprit(const std::vector<faults::FaultSpec>& specs, const std::function<bool(std::size_t)>& alone) {
  auto name = [&](std::size_t s) {
    const std::string origin = specs[s].origin.empty() ? "" : specs[s].origin + ": ";
    return origin + "fault spec faults[" + std::to_string(s) + "] (" + specs[s].describe() + ")";
  };
  if (specs.size() == 1) return name(0);
  std::string why_not;
  for (std::size_t s = 0; s < specs.size(); ++s) {
    try {
      if (alone(s)) return name(s);
    } catch (const std::exception& e) {
      why_not = std::string("; each spec alone could not be rerun: ") + e.what();
      break;
    }
  }
  std::string all;
  for (std::size_t s = 0; s < specs.size(); ++s) all += (s ? ", " : "") + name(s);
  return "the fault specs together, none alone (" + all + ")" + why_not;
}

void refuse_non_finite(const std::string& what, const std::string& detail, const std::string& culprit) {
  throw core::InputError(what + ": " + detail + " (caused by " + culprit + "); expected " + kExpected);
}

void check_finite(const Report& report) {
  auto fail = [](const std::string& where, double v) {
    throw core::InputError("report: " + where + " = " + describe_value(v) +
                           " is not finite; expected finite numbers in every report (nothing is written)");
  };
  auto vec = [&](const Eigen::VectorXd& v, const std::string& where) {
    for (Eigen::Index k = 0; k < v.size(); ++k) {
      if (!std::isfinite(v[k])) fail(where + "[" + std::to_string(k) + "]", v[k]);
    }
  };
  for (std::size_t p = 0; p < report.points.size(); ++p) {
    const PointReport& point = report.points[p];
    const std::string at = "points[" + std::to_string(p) + "]";
    for (const InputReport& in : point.inputs) {
      const std::string i = at + ".inputs[" + std::to_string(in.index) + "]";
      const MeasuredReport& m = in.measured;
      vec(m.mean, i + ".measured.mean");
      vec(m.std, i + ".measured.std");
      vec(m.mean_abs, i + ".measured.mean_abs");
      vec(m.max_abs, i + ".measured.max_abs");
      for (const auto& [name, b] : in.bounds) {
        vec(b.mean, i + ".bounds." + name + ".mean");
        vec(b.std, i + ".bounds." + name + ".std");
      }
    }
    for (const auto& [term, v] : point.variance_by_term) {
      if (!std::isfinite(v)) fail(at + ".variance_by_term['" + term + "']", v);
    }
    for (std::size_t h = 0; h < point.histogram_delta.size(); ++h) {
      if (!std::isfinite(point.histogram_delta[h])) fail(at + ".histogram_delta[" + std::to_string(h) + "]", point.histogram_delta[h]);
    }
    if (point.accuracy) {
      const AccuracyReport& a = *point.accuracy;
      for (const auto& [v, name] : {std::pair{a.fault_free, "fault_free"}, {a.faulty_mean, "faulty_mean"}, {a.drop, "drop"}}) {
        if (!std::isfinite(v)) fail(at + ".accuracy." + name, v);
      }
    }
    for (const FaultReport& f : point.faults) {
      if (f.value && !std::isfinite(*f.value)) fail(at + ".faults value", *f.value);
    }
  }
  if (report.profile) {
    for (const auto& lp : report.profile->layers) {
      const std::string at = "profile.layers[" + std::to_string(lp.layer) + "]";
      for (const auto& [v, name] : {std::pair{lp.norm_1, "norm_1"}, {lp.norm_2, "norm_2"}, {lp.norm_inf, "norm_inf"},
                                    {lp.norm_fro, "norm_fro"}, {lp.mean_jacobian_fro, "mean_jacobian_fro"}}) {
        if (!std::isfinite(v)) fail(at + "." + name, v);
      }
      vec(lp.b3_variance_per_p, at + ".b3_variance_per_p");
    }
  }
}

}  // namespace nfsim::tb
