#include "testbench/report/summary_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/strings.h"

namespace nfsim::tb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A finite number as the report writes it; empty for an undefined one.
std::string cell(double v) { return std::isfinite(v) ? core::format_double(v) : std::string(); }

std::string sweep_label(const PointReport& pt) {
  std::string sweep;
  for (const auto& [k, v] : pt.sweep) sweep += (sweep.empty() ? "" : ",") + k + "=" + v;
  return sweep.empty() ? std::string("-") : sweep;
}

// "value V[, limit L][, estimate E][, at input N output K][; note]" of a requirement's result.
std::string describe_requirement_value(const RequirementResult& q) {
  const auto num = [](const std::optional<double>& v) {
    return v && std::isfinite(*v) ? core::format_double(*v) : std::string("null");
  };
  std::string s = "value " + num(q.value);
  if (q.limit) s += ", limit " + num(q.limit);
  if (q.estimate) s += ", estimate " + num(q.estimate);
  if (q.input) s += ", at input " + std::to_string(*q.input) + (q.output ? " output " + std::to_string(*q.output) : std::string());
  if (!q.note.empty()) s += "; " + q.note;
  return s;
}

// A directory as a shell word: quoted when it holds anything but plain path characters.
std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string("/._-+,:@%").find(c) != std::string::npos;
  });
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void write_summary_csv(std::ostream& out, const Report& report) {
  const auto& points = report.points;
  const models::bounds::BoundSet* first = !points.empty() && !points[0].inputs.empty() ? &points[0].inputs[0].bounds : nullptr;
  out << "point,input,output,trials,mean,std,mean_abs,max_abs,mean_ci95_lo,mean_ci95_hi,std_ci95_lo,std_ci95_hi";
  if (first) {
    for (const auto& [name, b] : *first) {
      out << ',' << name << "_mean";
      if (b.std.size()) out << ',' << name << "_std";
    }
  }
  out << '\n';
  for (std::size_t p = 0; p < points.size(); ++p) {
    for (const auto& in : points[p].inputs) {
      const auto& m = in.measured;
      for (Eigen::Index k = 0; k < m.mean.size(); ++k) {
        out << p << ',' << in.index << ',' << k << ',' << m.trials;
        for (double v : {m.mean[k], m.std[k], m.mean_abs[k], m.max_abs[k], m.ci95_mean.lo[k], m.ci95_mean.hi[k], m.ci95_std.lo[k],
                         m.ci95_std.hi[k]}) {
          out << ',' << cell(v);
        }
        if (first) {
          for (const auto& [name, ignored] : *first) {
            const auto& b = in.bounds.at(name);
            out << ',' << cell(b.mean.size() == 1 ? b.mean[0] : b.mean[k]);
            if (b.std.size()) out << ',' << cell(b.std[k]);
          }
        }
        out << '\n';
      }
    }
  }
}

std::string describe_programming(const ProgrammingReport& p) {
  // Four significant digits: the line is read, the report keeps every digit.
  auto g = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return std::string(buf);
  };
  std::string s = "programming: " + std::to_string(p.weights) + " weights, " + std::to_string(p.clipped) + " clipped" +
                  (p.clip_limit ? " to +-" + g(*p.clip_limit) : std::string()) + ", " + std::to_string(p.quantised) +
                  " quantised; weight error max " + g(p.max_abs_weight_error) + ", mean " + g(p.mean_abs_weight_error);
  if (p.max_abs_output_error) s += "; output error max " + g(*p.max_abs_output_error);
  if (p.accuracy_before && p.accuracy_after) {
    s += "; fault-free accuracy " + g(*p.accuracy_before) + " before, " + g(*p.accuracy_after) + " after programming";
  }
  return s;
}

void print_summary(std::FILE* to, const Report& report, const std::string& out_dir) {
  if (report.network) {
    std::fprintf(to, "network %s, %ld inputs, engine %s, seed %llu\n", report.network->description.c_str(),
                 report.campaign.input_count.value_or(0L), report.campaign.engine.c_str(),
                 static_cast<unsigned long long>(report.campaign.seed));
  }
  const auto& points = report.points;
  int width = 5;
  for (const auto& pt : points) width = std::max(width, static_cast<int>(std::min<std::size_t>(80, sweep_label(pt).size())));
  std::fprintf(to, "\n%-5s %-*s %9s %-10s %11s %11s %9s %9s %9s %8s\n", "point", width, "sweep", "trials", "stopped", "mean std",
               "b4 std", "b4 r", "b4 medrel", "accuracy", "require");
  for (std::size_t p = 0; p < points.size(); ++p) {
    const auto& pt = points[p];
    const std::string sweep = sweep_label(pt);
    double mstd = 0, bstd = 0;
    std::size_t count = 0;
    for (const auto& in : pt.inputs) {
      const auto b4 = in.bounds.find("b4");
      for (Eigen::Index k = 0; k < in.measured.std.size(); ++k) {
        mstd += in.measured.std[k];
        if (b4 != in.bounds.end()) bstd += b4->second.std[k];
        ++count;
      }
    }
    const auto b4 = pt.summary.find("b4");
    const bool has_b4 = b4 != pt.summary.end();
    const std::string req = pt.requirements.empty() ? "-" : pt.requirements_met() ? "met" : "NOT met";
    char acc[32] = "-";
    if (pt.accuracy) std::snprintf(acc, sizeof acc, "%.4f", pt.accuracy->faulty_mean);
    // A bound the point did not compute (bounds: [], spiking-only faults) prints "-", not nan.
    auto shown = [](bool has, double v, const char* format) {
      if (!has || !std::isfinite(v)) return std::string("-");
      char text[32];
      std::snprintf(text, sizeof text, format, v);
      return std::string(text);
    };
    std::fprintf(to, "%-5zu %-*s %9llu %-10s %11.4e %11s %9s %9s %9s %8s\n", p, width, sweep.c_str(),
                 static_cast<unsigned long long>(pt.trials), pt.stopping.reached.c_str(), count ? mstd / static_cast<double>(count) : 0.0,
                 shown(has_b4 && count, count ? bstd / static_cast<double>(count) : 0.0, "%.4e").c_str(),
                 shown(has_b4 && b4->second.std, has_b4 && b4->second.std ? b4->second.std->pearson : 0.0, "%.4f").c_str(),
                 shown(has_b4, has_b4 ? b4->second.mean.median_rel_err : 0.0, "%.4f").c_str(), acc, req.c_str());
  }
  // What programming did to each chip point's network, before any fault.
  bool programming_header = false;
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (!points[p].chip || !points[p].chip->programming) continue;
    if (!programming_header) std::fprintf(to, "\n");
    programming_header = true;
    std::fprintf(to, "point %zu %s\n", p, describe_programming(*points[p].chip->programming).c_str());
  }
  // Control-variate points: the std interval's width, and the plain estimator's on the same trials.
  for (std::size_t p = 0; p < points.size(); ++p) {
    const EstimatorReport& e = points[p].estimator;
    if (e.name != "control_variate") continue;
    const auto pct = [](const std::optional<double>& v) {
      char b[32];
      std::snprintf(b, sizeof b, "%.3g%%", v ? 100.0 * *v : 0.0);
      return v ? std::string(b) : std::string("undefined");
    };
    std::fprintf(to, "point %zu estimator control_variate: std interval +-%s (plain estimator on the same trials: +-%s)", p,
                 pct(e.rel_half_width_std).c_str(), pct(e.plain_rel_half_width_std).c_str());
    if (e.plain_trials_for_same_width && e.trials_saved) {
      std::fprintf(to, "; plain needs about %.3g trials for this width (%.3g saved)", *e.plain_trials_for_same_width, *e.trials_saved);
    }
    std::fprintf(to, "\n");
  }
  // Spiking points: the dynamics, the fault-free spikes and the spiking network against its rate equivalent.
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (!points[p].spiking) continue;
    const SpikingReport& k = *points[p].spiking;
    std::string spikes;
    for (double v : k.spikes_per_inference) {
      char b[32];
      std::snprintf(b, sizeof b, "%s%.1f", spikes.empty() ? "" : ", ", v);
      spikes += b;
    }
    std::fprintf(to, "point %zu spiking: %s, T = %lld; fault-free spikes per inference (layers 0..%zu): %s; max |spiking - rate "
                     "equivalent| %s", p, k.neuron.c_str(), static_cast<long long>(k.time_steps), k.spikes_per_inference.size() - 1,
                 spikes.c_str(), core::format_double(k.max_abs_output_vs_rate_equivalent).c_str());
    if (k.rate_equivalent_accuracy && points[p].accuracy) {
      std::fprintf(to, "; accuracy %.4f (rate equivalent %.4f)", points[p].accuracy->fault_free, *k.rate_equivalent_accuracy);
    }
    std::fprintf(to, "\n");
  }
  // Streamed points: throughput against what the bottleneck allows, and whether the chip keeps up.
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (!points[p].chip || !points[p].chip->timing || !points[p].chip->timing->stream) continue;
    const auto& st = *points[p].chip->timing->stream;
    std::fprintf(to, "point %zu stream: one input every %s ns; %s inferences/us measured, %s expected (bottleneck %s/us); %s\n", p,
                 core::format_double(st.interval_ns).c_str(), core::format_double(st.throughput_per_us).c_str(),
                 core::format_double(st.expected_throughput_per_us).c_str(),
                 core::format_double(st.bottleneck_throughput_per_us).c_str(),
                 st.sustained ? "the chip keeps up"
                              : ("NOT SUSTAINED: the latency grows " + core::format_double(st.backlog_growth_ns_per_input) +
                                 " ns per input (a backlog)")
                                    .c_str());
  }
  if (report.mission) {
    std::fprintf(to, "\nmission: %lld checkpoints over %s h; measured error std against the bounds over the checkpoints "
                     "(mean over inputs and outputs):\n",
                 static_cast<long long>(report.mission->checkpoints), core::format_double(report.mission->hours).c_str());
    for (const auto& c : report.mission->curves) {
      std::string line = c.sweep.empty() ? std::string("  ") : "  " + c.sweep + ": ";
      for (const auto& [name, r] : c.pearson_std) {
        char value[32];
        std::snprintf(value, sizeof value, "%.4f", r.value_or(0.0));
        line += name + " Pearson " + (r ? std::string(value) : std::string("- (fewer than 3 checkpoints or a flat curve)")) + "; ";
      }
      std::fprintf(to, "%s\n", line.c_str());
    }
  }
  if (!points.empty()) {
    const auto& last = points.back();
    std::fprintf(to, "\nbounds at point %zu (across inputs and outputs):\n%-14s %9s %9s %9s %9s %9s\n", points.size() - 1, "bound",
                 "pearson", "rankloss", "med.rel", "std r", "holds");
    for (const auto& [name, v] : last.summary) {
      std::fprintf(to, "%-14s %9.4f %9.4f %9.4f %9.4f %9s\n", name.c_str(), v.mean.pearson, v.mean.rank_loss, v.mean.median_rel_err,
                   v.std ? v.std->pearson : kNaN, v.fraction_holding ? core::format_double(*v.fraction_holding).c_str() : "-");
    }
    // Every requirement of the last point, and those not met at the others (with their point).
    for (std::size_t p = 0; p < points.size(); ++p) {
      for (const auto& q : points[p].requirements) {
        if (q.met && p + 1 != points.size()) continue;
        std::string at = p + 1 == points.size() ? std::string() : "point " + std::to_string(p) + ": ";
        std::fprintf(to, "requirement %s%-40s %s (%s)\n", at.c_str(), q.requirement.c_str(), q.met ? "met" : "NOT MET",
                     describe_requirement_value(q).c_str());
      }
    }
  }
  if (!report.complete) std::fprintf(to, "\nINTERRUPTED: resume with nfsim run --resume %s\n", out_dir.empty() ? "<out dir>" : shell_word(out_dir).c_str());
}

}  // namespace nfsim::tb
