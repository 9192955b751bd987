#include "testbench/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "testbench/report/summary_table.h"

namespace nfsim::tb {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}


struct Series {
  std::string name, color;
  std::vector<double> x, y, lo, hi;  // lo/hi empty: no band
  bool dashed = false;
  bool markers = true;
};

// A small SVG chart: linear or log axes, lines with markers, optional interval bands, legend.
class Chart {
 public:
  Chart(std::string title, std::string xlabel, std::string ylabel, bool logx, bool logy)
      : title_(std::move(title)), xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)), logx_(logx), logy_(logy) {}
  void add(Series s) { series_.push_back(std::move(s)); }

  std::string svg() const {
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    auto ok_x = [&](double v) { return std::isfinite(v) && (!logx_ || v > 0); };
    auto ok_y = [&](double v) { return std::isfinite(v) && (!logy_ || v > 0); };
    for (const auto& s : series_) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!ok_x(s.x[i])) continue;
        x0 = std::min(x0, s.x[i]);
        x1 = std::max(x1, s.x[i]);
        for (double v : {s.y[i], s.lo.empty() ? s.y[i] : s.lo[i], s.hi.empty() ? s.y[i] : s.hi[i]}) {
          if (!ok_y(v)) continue;
          y0 = std::min(y0, v);
          y1 = std::max(y1, v);
        }
      }
    }
    std::ostringstream o;
    const int W = 560, H = 340, L = 70, R = 20, T = 36, B = 50;
    o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' class='plot'>";
    o << "<text x='" << W / 2 << "' y='20' text-anchor='middle' font-size='14' font-weight='bold'>" << esc(title_) << "</text>";
    if (x0 > x1 || y0 > y1) {
      o << "<text x='" << W / 2 << "' y='" << H / 2 << "' text-anchor='middle'>no data to plot</text></svg>";
      return o.str();
    }
    auto tx = [&](double v) { return logx_ ? std::log10(v) : v; };
    auto ty = [&](double v) { return logy_ ? std::log10(v) : v; };
    double ax0 = tx(x0), ax1 = tx(x1), ay0 = ty(y0), ay1 = ty(y1);
    if (ax1 - ax0 < 1e-12) { ax0 -= logx_ ? 0.5 : std::max(1e-12, std::abs(ax0) * 0.1); ax1 += logx_ ? 0.5 : std::max(1e-12, std::abs(ax1) * 0.1); }
    if (ay1 - ay0 < 1e-12) { ay0 -= logy_ ? 0.5 : std::max(1e-12, std::abs(ay0) * 0.1); ay1 += logy_ ? 0.5 : std::max(1e-12, std::abs(ay1) * 0.1); }
    const double pad_y = (ay1 - ay0) * 0.05;
    ay0 -= pad_y;
    ay1 += pad_y;
    auto px = [&](double v) { return L + (tx(v) - ax0) / (ax1 - ax0) * (W - L - R); };
    auto py = [&](double v) { return H - B - (ty(v) - ay0) / (ay1 - ay0) * (H - T - B); };
    o << "<rect x='" << L << "' y='" << T << "' width='" << W - L - R << "' height='" << H - T - B << "' fill='white' stroke='#888'/>";
    for (int i = 0; i <= 4; ++i) {  // ticks
      const double fx = ax0 + (ax1 - ax0) * i / 4, fy = ay0 + (ay1 - ay0) * i / 4;
      const double vx = logx_ ? std::pow(10, fx) : fx, vy = logy_ ? std::pow(10, fy) : fy;
      const double sx = L + (W - L - R) * i / 4.0, sy = H - B - (H - T - B) * i / 4.0;
      o << "<line x1='" << sx << "' y1='" << T << "' x2='" << sx << "' y2='" << H - B << "' stroke='#eee'/>";
      o << "<line x1='" << L << "' y1='" << sy << "' x2='" << W - R << "' y2='" << sy << "' stroke='#eee'/>";
      o << "<text x='" << sx << "' y='" << H - B + 16 << "' text-anchor='middle' font-size='11'>" << fmt(vx) << "</text>";
      o << "<text x='" << L - 6 << "' y='" << sy + 4 << "' text-anchor='end' font-size='11'>" << fmt(vy) << "</text>";
    }
    o << "<text x='" << (L + W - R) / 2 << "' y='" << H - 12 << "' text-anchor='middle' font-size='12'>" << esc(xlabel_)
      << (logx_ ? " (log)" : "") << "</text>";
    o << "<text x='16' y='" << (T + H - B) / 2 << "' text-anchor='middle' font-size='12' transform='rotate(-90 16 "
      << (T + H - B) / 2 << ")'>" << esc(ylabel_) << (logy_ ? " (log)" : "") << "</text>";
    int legend = 0;
    for (const auto& s : series_) {
      if (!s.lo.empty()) {  // band
        std::ostringstream up, down;
        for (std::size_t i = 0; i < s.x.size(); ++i) {
          if (ok_x(s.x[i]) && ok_y(s.hi[i])) up << px(s.x[i]) << ',' << py(s.hi[i]) << ' ';
        }
        for (std::size_t i = s.x.size(); i-- > 0;) {
          if (ok_x(s.x[i]) && ok_y(s.lo[i])) down << px(s.x[i]) << ',' << py(s.lo[i]) << ' ';
        }
        o << "<polygon points='" << up.str() << down.str() << "' fill='" << s.color << "' fill-opacity='0.18' stroke='none'/>";
      }
      std::ostringstream pts;
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (ok_x(s.x[i]) && ok_y(s.y[i])) pts << px(s.x[i]) << ',' << py(s.y[i]) << ' ';
      }
      o << "<polyline points='" << pts.str() << "' fill='none' stroke='" << s.color << "' stroke-width='2'"
        << (s.dashed ? " stroke-dasharray='6,4'" : "") << "/>";
      for (std::size_t i = 0; i < s.x.size() && s.markers; ++i) {
        if (ok_x(s.x[i]) && ok_y(s.y[i])) o << "<circle cx='" << px(s.x[i]) << "' cy='" << py(s.y[i]) << "' r='3.5' fill='" << s.color << "'/>";
      }
      o << "<rect x='" << L + 10 << "' y='" << T + 8 + 16 * legend << "' width='12' height='3' fill='" << s.color << "'/>";
      o << "<text x='" << L + 28 << "' y='" << T + 13 + 16 * legend << "' font-size='11'>" << esc(s.name) << "</text>";
      ++legend;
    }
    o << "</svg>";
    return o.str();
  }

 private:
  std::string title_, xlabel_, ylabel_;
  bool logx_, logy_;
  std::vector<Series> series_;
};

std::string bar_chart(const std::string& title, const std::vector<std::pair<std::string, double>>& bars) {
  std::ostringstream o;
  const int W = 560, row = 26, T = 36, L = 210;
  const int H = T + row * static_cast<int>(std::max<std::size_t>(1, bars.size())) + 20;
  double mx = 0;
  for (const auto& b : bars) mx = std::max(mx, b.second);
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' class='plot'>";
  o << "<text x='" << W / 2 << "' y='20' text-anchor='middle' font-size='14' font-weight='bold'>" << esc(title) << "</text>";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const double w = mx > 0 ? bars[i].second / mx * (W - L - 90) : 0;
    const int y = T + row * static_cast<int>(i);
    o << "<text x='" << L - 8 << "' y='" << y + 15 << "' text-anchor='end' font-size='11'>" << esc(bars[i].first) << "</text>";
    o << "<rect x='" << L << "' y='" << y + 4 << "' width='" << w << "' height='16' fill='#4c72b0'/>";
    o << "<text x='" << L + w + 6 << "' y='" << y + 16 << "' font-size='11'>" << fmt(bars[i].second) << "</text>";
  }
  if (bars.empty()) o << "<text x='" << W / 2 << "' y='" << T + 20 << "' text-anchor='middle'>no fault terms</text>";
  o << "</svg>";
  return o.str();
}

std::string histogram(const std::vector<double>& v) {
  Chart c("Delta histogram, input 0, output 0 (first trials, last point)", "Delta", "trials", false, false);
  if (v.empty()) return c.svg();
  const double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  const int bins = 40;
  const double w = hi > lo ? (hi - lo) / bins : 1.0;
  std::vector<double> counts(bins, 0.0);
  for (double x : v) counts[std::min(bins - 1, static_cast<int>((x - lo) / w))] += 1;
  Series s{"trials per bin (" + std::to_string(v.size()) + " trials)", "#55a868", {}, {}, {}, {}, false, false};
  for (int b = 0; b < bins; ++b) {  // step outline
    s.x.push_back(lo + b * w);
    s.y.push_back(counts[b]);
    s.x.push_back(lo + (b + 1) * w);
    s.y.push_back(counts[b]);
  }
  c.add(s);
  return c.svg();
}

// A JSON value in one cell: strings as they are, anything else as compact JSON.
std::string cell(const nlohmann::json& v) { return esc(v.is_string() ? v.get<std::string>() : v.dump()); }

// Every requirement of every point: what it was judged on, the value, the limit and the estimate
// (six significant digits: a budget's value must not round onto its limit).
std::string requirements_section(const Report& report) {
  bool any = false;
  for (const auto& pt : report.points) any = any || !pt.requirements.empty();
  if (!any) return {};
  auto num = [](const std::optional<double>& v) {
    if (!v || !std::isfinite(*v)) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", *v);
    return std::string(b);
  };
  std::ostringstream html;
  html << "<h2>Requirements</h2><table><tr><th>point</th><th>requirement</th><th>value</th><th>limit</th><th>estimate</th>"
          "<th>where</th><th>met</th></tr>";
  for (std::size_t i = 0; i < report.points.size(); ++i) {
    for (const auto& q : report.points[i].requirements) {
      std::string where = q.note;
      if (q.input) where = "input " + std::to_string(*q.input) + (q.output ? ", output " + std::to_string(*q.output) : std::string());
      html << "<tr><td>" << i << "</td><td style='text-align:left'>" << esc(q.requirement) << "</td><td>" << num(q.value) << "</td><td>"
           << num(q.limit) << "</td><td>" << num(q.estimate) << "</td><td>" << esc(where) << "</td><td class='" << (q.met ? "good" : "bad")
           << "'>" << (q.met ? "met" : "NOT met") << "</td></tr>";
    }
  }
  html << "</table>";
  return html.str();
}

// The chip of the last point and where its components came from: resolved types, libraries,
// parameter values (defaults filled in), describe(); and the plug-in libraries with their hashes.
std::string chip_section(const Report& report) {
  std::ostringstream html;
  const ChipReport* chip = nullptr;
  for (const auto& pt : report.points) {
    if (pt.chip) chip = &*pt.chip;
  }
  if (chip) {
    html << "<h2>Chip</h2><p><code>" << esc(chip->file) << "</code>: " << chip->cores_used << " of " << chip->cores
         << " cores used, " << chip->tiles << " crossbar tiles, " << chip->neuron_arrays << " neuron arrays, interconnect "
         << esc(chip->interconnect) << ". Programming error (max |programmed - model| output): "
         << fmt(chip->programming_max_abs_output_error);
    if (chip->fault_free_max_abs_output_error) {
      html << "; fault-free engine output vs model: " << fmt(*chip->fault_free_max_abs_output_error)
           << " (Delta is measured from the fault-free outputs)";
    }
    if (chip->timing) html << ". Inference latency " << fmt(chip->timing->latency_mean_ns) << " ns (mean)";
    html << ".</p>";
    if (chip->programming) html << "<p>" << esc(describe_programming(*chip->programming)) << ".</p>";
    if (chip->components.is_object()) {
      html << "<table class='prov'><tr><th>component</th><th>type</th><th>library</th><th>parameters</th><th>topology</th><th>describe()</th></tr>";
      for (const auto& [name, c] : chip->components.items()) {
        html << "<tr><td>" << esc(name) << "</td><td>" << cell(c.value("type", nlohmann::json(""))) << "</td><td>"
             << cell(c.value("library", nlohmann::json(""))) << "</td><td>" << cell(c.value("parameters", nlohmann::json::object()))
             << "</td><td>" << cell(c.value("topology", nlohmann::json::object())) << "</td><td>"
             << cell(c.value("describe", nlohmann::json("-"))) << "</td></tr>";
      }
      html << "</table>";
    }
  }
  if (report.plugins.is_array() && !report.plugins.empty()) {
    html << "<h2>Plug-ins</h2><table class='prov'><tr><th>path</th><th>resolved</th><th>FNV-1a 64</th><th>types registered</th></tr>";
    for (const auto& p : report.plugins) {
      html << "<tr><td>" << cell(p.value("path", nlohmann::json(""))) << "</td><td>" << cell(p.value("resolved_path", nlohmann::json("")))
           << "</td><td>" << cell(p.value("fnv1a64", nlohmann::json(""))) << "</td><td>"
           << cell(p.value("registered", nlohmann::json::array())) << "</td></tr>";
    }
    html << "</table>";
  }
  return html.str();
}

}  // namespace

std::string render_html_report(const Report& report) {
  const auto& points = report.points;
  // x: the first fault spec's probability at each point.
  std::vector<double> p;
  std::vector<double> mstd, mstd_lo, mstd_hi, mabs, mabs_lo, mabs_hi, acc, acc_lo, acc_hi, acc_clean;
  std::map<std::string, std::vector<double>> bound_std, bound_abs;
  for (const auto& pt : points) {
    p.push_back(pt.faults.empty() ? std::numeric_limits<double>::quiet_NaN() : pt.faults[0].probability);
    double s = 0, slo = 0, shi = 0, a = 0, alo = 0, ahi = 0;
    std::size_t n = 0;
    std::map<std::string, double> bs, ba;
    for (const auto& in : pt.inputs) {
      const auto& m = in.measured;
      for (Eigen::Index k = 0; k < m.std.size(); ++k) {
        s += m.std[k];
        slo += m.ci95_std.lo[k];
        shi += m.ci95_std.hi[k];
        a += m.mean_abs[k];
        alo += m.ci95_mean_abs.lo[k];
        ahi += m.ci95_mean_abs.hi[k];
        for (const char* b : {"b3", "b4", "b2"}) {
          const auto it = in.bounds.find(b);
          if (it != in.bounds.end() && it->second.std.size()) bs[b] += it->second.std[k];
        }
        for (const char* b : {"worst_case", "b2"}) {
          const auto it = in.bounds.find(b);
          if (it != in.bounds.end()) ba[b] += it->second.mean[k];
        }
        ++n;
      }
    }
    const double d = n ? static_cast<double>(n) : 1.0;
    mstd.push_back(s / d);
    mstd_lo.push_back(slo / d);
    mstd_hi.push_back(shi / d);
    mabs.push_back(a / d);
    mabs_lo.push_back(alo / d);
    mabs_hi.push_back(ahi / d);
    for (const auto& [b, v] : bs) bound_std[b].push_back(v / d);
    for (const auto& [b, v] : ba) bound_abs[b].push_back(v / d);
    if (pt.accuracy) {
      acc.push_back(pt.accuracy->faulty_mean);
      acc_lo.push_back(pt.accuracy->faulty_ci95_lo);
      acc_hi.push_back(pt.accuracy->faulty_ci95_hi);
      acc_clean.push_back(pt.accuracy->fault_free);
    }
  }
  static const char* colors[] = {"#dd8452", "#c44e52", "#8172b3", "#937860"};
  Chart err("Error std vs fault probability (mean over inputs and outputs)", "probability of faults[0]", "std of Delta", true, true);
  err.add({"measured (95% band)", "#4c72b0", p, mstd, mstd_lo, mstd_hi, false});
  int c = 0;
  for (const auto& [b, v] : bound_std) {
    if (v.size() == p.size()) err.add({b + " predicted", colors[c++ % 4], p, v, {}, {}, true});
  }
  Chart mag("Mean |Delta| vs fault probability, with magnitude bounds", "probability of faults[0]", "mean |Delta|", true, true);
  mag.add({"measured (95% band)", "#4c72b0", p, mabs, mabs_lo, mabs_hi, false});
  c = 0;
  for (const auto& [b, v] : bound_abs) {
    if (v.size() == p.size()) mag.add({b + " bound", colors[c++ % 4], p, v, {}, {}, true});
  }
  std::ostringstream html;
  html << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>nfsim report</title><style>"
          "body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
          ".grid{display:flex;flex-wrap:wrap;gap:18px}.plot{border:1px solid #ddd;background:#fafafa}"
          "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
          ".bad{color:#b00}.good{color:#070}.prov td{text-align:left;max-width:380px;word-break:break-all}</style></head><body>";
  html << "<h1>nfsim fault-injection report</h1><p>";
  if (report.network) html << "Network <b>" << esc(report.network->description) << "</b>, ";
  html << "engine <b>" << esc(report.campaign.engine) << "</b>, " << points.size() << " point(s), seed " << report.campaign.seed
       << ". Campaign <code>" << esc(report.campaign.file) << "</code>. "
       << (report.complete ? "" : "<b class='bad'>Interrupted: partial results.</b> ")
       << "Requirements: " << (report.requirements_met ? "<b class='good'>met</b>" : "<b class='bad'>NOT met</b>")
       << ".</p>";
  html << "<div class='grid'>" << err.svg() << mag.svg();
  if (!acc.empty() && acc.size() == p.size()) {
    Chart ac("Classification accuracy vs fault probability", "probability of faults[0]", "accuracy", true, false);
    ac.add({"faulty (95% band)", "#4c72b0", p, acc, acc_lo, acc_hi, false});
    ac.add({"fault-free", "#55a868", p, acc_clean, {}, {}, true});
    html << ac.svg();
  }
  std::vector<std::pair<std::string, double>> terms;
  if (!points.empty()) terms = points.back().variance_by_term;
  html << bar_chart("Predicted variance by fault term (b4, last point)", terms);
  std::vector<double> samples;
  if (!points.empty()) samples = points.back().histogram_delta;
  html << histogram(samples) << "</div>";
  html << "<h2>Points</h2><table><tr><th>point</th><th>sweep</th><th>trials</th><th>stopped</th><th>measured std</th>"
          "<th>b4 std</th><th>b4 Pearson (std)</th><th>requirements</th></tr>";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& pt = points[i];
    std::string sweep;
    for (const auto& [k, v] : pt.sweep) sweep += (sweep.empty() ? "" : ", ") + k + "=" + v;
    const bool met = pt.requirements_met();
    const auto b4 = pt.summary.find("b4");
    html << "<tr><td>" << i << "</td><td>" << esc(sweep.empty() ? "-" : sweep) << "</td><td>" << pt.trials << "</td><td>"
         << esc(pt.stopping.reached) << "</td><td>" << fmt(mstd[i]) << "</td><td>"
         << (bound_std.count("b4") && bound_std["b4"].size() == points.size() ? fmt(bound_std["b4"][i]) : "-") << "</td><td>"
         << (b4 != pt.summary.end() && b4->second.std ? fmt(b4->second.std->pearson) : "-") << "</td><td class='"
         << (met ? "good" : "bad") << "'>" << (pt.requirements.empty() ? "-" : (met ? "met" : "NOT met")) << "</td></tr>";
  }
  html << "</table>";
  html << requirements_section(report);
  html << chip_section(report);
  html << "<p style='font-size:11px;color:#777'>Generated by nfsim " << esc(report.nfsim_version)
       << ". Bands: 95% confidence intervals of the measurement. Dashed: analytic predictions (docs/bounds.md).</p></body></html>\n";
  return html.str();
}

}  // namespace nfsim::tb
