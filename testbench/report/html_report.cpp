#include "testbench/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "testbench/report/summary_table.h"

namespace nfsim::tb {

namespace {

// html_number with at least `digits` significant digits.
std::string number_text(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "&#8734;" : "-&#8734;";
  if (v == 0) return "0";
  char b[40];
  // 4 significant digits, more where they would show a value that is not an integer as one
  // (0.99996 is not "1", 2.00004 is not "2"); large values keep their exponent form. Within
  // 1e-12 (relative) of the integer is floating-point noise (704.0000000000001), shown as it.
  for (int precision = digits; precision <= 17; ++precision) {
    std::snprintf(b, sizeof b, "%.*g", precision, v);
    const double shown = std::strtod(b, nullptr);
    if (std::abs(shown - v) <= 1e-12 * std::abs(v) || std::abs(v) >= 1e4 || shown != std::round(shown)) break;
  }
  return b;
}

}  // namespace

std::string html_number(double v) { return number_text(v, 4); }

std::string html_number_apart(double v, double from) {
  for (int digits = 4; digits < 17; ++digits) {
    const std::string a = number_text(v, digits);
    if (v == from || a != number_text(from, digits)) return a;
  }
  return number_text(v, 17);
}

std::vector<double> nice_ticks(double& lo, double& hi, bool log_scale) {
  std::vector<double> ticks;
  if (!(hi >= lo)) return ticks;
  if (log_scale) {
    // Powers of ten inside [lo, hi]; when fewer than three fit, 2 and 5 times them too; when
    // fewer than two, every digit.
    const double a = std::log10(lo), b = std::log10(hi);
    for (const std::vector<int>& mantissas : {std::vector<int>{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
      ticks.clear();
      for (int k = static_cast<int>(std::floor(a)) - 1; k <= static_cast<int>(std::ceil(b)); ++k) {
        for (int m : mantissas) {
          const double t = m * std::pow(10.0, k);
          if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push_back(t);
        }
      }
      if (ticks.size() >= (mantissas.size() == 1 ? 3u : 2u)) break;
    }
    if (ticks.size() > 7) {  // many decades: every second (third, ...) one
      const std::size_t stride = (ticks.size() + 5) / 6;
      std::vector<double> kept;
      for (std::size_t i = 0; i < ticks.size(); ++i) {
        const int k = static_cast<int>(std::lround(std::log10(ticks[i])));
        if (k % static_cast<int>(stride) == 0) kept.push_back(ticks[i]);
      }
      ticks = kept;
    }
    if (ticks.size() >= 2) return ticks;
    // A range narrower than one step between digits: round linear steps inside it.
    ticks.clear();
  }
  if (hi - lo <= 0) {
    const double d = lo != 0 ? std::abs(lo) * 0.1 : 1.0;
    lo -= d;
    hi += d;
  }
  const double raw = (hi - lo) / 5;
  const double e = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / e;
  const double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * e;
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  if (log_scale) {  // keep the range, ticks inside it
    for (double k = std::ceil(lo / step - 1e-9); k <= std::floor(hi / step + 1e-9); k += 1) ticks.push_back(k * step);
    return ticks;
  }
  lo = first * step;
  hi = last * step;
  for (double k = first; k <= last + 0.5; k += 1) ticks.push_back(std::abs(k) < 0.5 ? 0.0 : k * step);
  return ticks;
}

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string fmt(double v) { return html_number(v); }

// The control variate's line in a point's "stopped" cell: its std interval against the plain one.
std::string estimator_note(const EstimatorReport& e) {
  if (e.name != "control_variate") return "";
  const auto pct = [](const std::optional<double>& v) { return v ? fmt(100.0 * *v) + "%" : std::string("-"); };
  return "<br>control variate: std +-" + pct(e.rel_half_width_std) + " (plain on the same trials +-" + pct(e.plain_rel_half_width_std) + ")";
}

// SVG coordinates: one decimal is plenty and keeps the file small.
std::string c1(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

// A tick's label: the tick values are round, so %g says them exactly; powers of ten far from 1 as
// 10 with a superscript.
std::string tick_label(double v, bool log_scale) {
  if (v == 0) return "0";
  if (log_scale) {
    const double k = std::log10(std::abs(v));
    if (std::abs(k - std::round(k)) < 1e-9 && std::abs(k) > 3) {
      return std::string(v < 0 ? "-" : "") + "10<tspan dy='-5' font-size='8'>" + std::to_string(static_cast<int>(std::lround(k))) +
             "</tspan>";
    }
  }
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  std::string s = b;
  const auto e = s.find('e');  // 2e-05 -> 2e-5
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    const char sign = exp[0];
    exp = exp.substr(1);
    while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
    s = mant + "e" + (sign == '-' ? "-" : "") + exp;
  }
  return s;
}

struct Series {
  std::string name, color;
  std::vector<double> x, y, lo, hi;  // lo/hi empty: no band
  bool dashed = false;
  bool markers = true;
  bool fill = false;  // fill down to y = 0 (histogram)
};

// A small SVG chart: linear or log axes with round ticks (powers of ten, 1-2-5 steps), lines
// with markers, optional interval bands, and the legend below the plot area (never over a line).
class Chart {
 public:
  Chart(std::string title, std::string xlabel, std::string ylabel, bool logx, bool logy)
      : title_(std::move(title)), xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)), logx_(logx), logy_(logy) {}
  void add(Series s) { series_.push_back(std::move(s)); }
  void y_from_zero() { y_from_zero_ = true; }
  void note(std::string text) { note_ = std::move(text); }

  std::string svg() const {
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    auto ok_x = [&](double v) { return std::isfinite(v) && (!logx_ || v > 0); };
    auto ok_y = [&](double v) { return std::isfinite(v) && (!logy_ || v > 0); };
    for (const auto& s : series_) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!ok_x(s.x[i])) continue;
        bool any = false;
        for (double v : {s.y[i], s.lo.empty() ? s.y[i] : s.lo[i], s.hi.empty() ? s.y[i] : s.hi[i]}) {
          if (!ok_y(v)) continue;
          any = true;
          y0 = std::min(y0, v);
          y1 = std::max(y1, v);
        }
        if (!any) continue;
        x0 = std::min(x0, s.x[i]);
        x1 = std::max(x1, s.x[i]);
      }
    }
    const int W = 560, L = 74, R = 20, T = 36, plot_h = 254, B = 50;
    const int legend_rows = static_cast<int>((series_.size() + 1) / 2) + (note_.empty() ? 0 : 1);
    const int H = T + plot_h + B + 16 * legend_rows + 6;
    std::ostringstream o;
    o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' class='plot'>";
    o << "<text x='" << W / 2 << "' y='20' text-anchor='middle' font-size='14' font-weight='bold'>" << esc(title_) << "</text>";
    if (x0 > x1 || y0 > y1) {
      o << "<text x='" << W / 2 << "' y='" << T + plot_h / 2 << "' text-anchor='middle'>no data to plot</text>";
      if (!note_.empty()) o << "<text x='" << W / 2 << "' y='" << T + plot_h / 2 + 20 << "' text-anchor='middle' font-size='11' fill='#555'>" << esc(note_) << "</text>";
      o << "</svg>";
      return o.str();
    }
    if (y_from_zero_ && !logy_) y0 = std::min(y0, 0.0);
    // Axis ranges: a little room around the data (not below zero when the axis starts there).
    auto pad = [](double& a, double& b, bool log_scale, bool from_zero) {
      if (log_scale) {
        double la = std::log10(a), lb = std::log10(b);
        if (lb - la < 1e-9) { la -= 0.5; lb += 0.5; }
        const double m = (lb - la) * 0.04;
        a = std::pow(10.0, la - m);
        b = std::pow(10.0, lb + m);
      } else if (b - a > 0) {
        const double m = (b - a) * 0.04;
        if (!(from_zero && a == 0)) a -= m;
        b += m;
      }
    };
    pad(x0, x1, logx_, false);
    pad(y0, y1, logy_, y_from_zero_);
    const std::vector<double> xt = nice_ticks(x0, x1, logx_), yt = nice_ticks(y0, y1, logy_);
    auto tx = [&](double v) { return logx_ ? std::log10(v) : v; };
    auto ty = [&](double v) { return logy_ ? std::log10(v) : v; };
    const double ax0 = tx(x0), ax1 = tx(x1), ay0 = ty(y0), ay1 = ty(y1);
    const int bottom = T + plot_h;
    auto px = [&](double v) { return L + (tx(v) - ax0) / (ax1 - ax0) * (W - L - R); };
    auto py = [&](double v) { return bottom - (ty(v) - ay0) / (ay1 - ay0) * plot_h; };
    o << "<rect x='" << L << "' y='" << T << "' width='" << W - L - R << "' height='" << plot_h << "' fill='white' stroke='#888'/>";
    for (double t : xt) {
      const std::string sx = c1(px(t));
      o << "<line x1='" << sx << "' y1='" << T << "' x2='" << sx << "' y2='" << bottom << "' stroke='#eee'/>";
      o << "<line x1='" << sx << "' y1='" << bottom << "' x2='" << sx << "' y2='" << bottom + 4 << "' stroke='#888'/>";
      o << "<text x='" << sx << "' y='" << bottom + 17 << "' text-anchor='middle' font-size='11'>" << tick_label(t, logx_) << "</text>";
    }
    for (double t : yt) {
      const std::string sy = c1(py(t));
      o << "<line x1='" << L << "' y1='" << sy << "' x2='" << W - R << "' y2='" << sy << "' stroke='#eee'/>";
      o << "<line x1='" << L - 4 << "' y1='" << sy << "' x2='" << L << "' y2='" << sy << "' stroke='#888'/>";
      o << "<text x='" << L - 7 << "' y='" << c1(py(t) + 4) << "' text-anchor='end' font-size='11'>" << tick_label(t, logy_) << "</text>";
    }
    o << "<text x='" << (L + W - R) / 2 << "' y='" << bottom + 38 << "' text-anchor='middle' font-size='12'>" << esc(xlabel_)
      << (logx_ ? " (log)" : "") << "</text>";
    o << "<text x='16' y='" << (T + bottom) / 2 << "' text-anchor='middle' font-size='12' transform='rotate(-90 16 "
      << (T + bottom) / 2 << ")'>" << esc(ylabel_) << (logy_ ? " (log)" : "") << "</text>";
    o << "<svg x='" << L << "' y='" << T << "' width='" << W - L - R << "' height='" << plot_h << "' viewBox='" << L << ' ' << T << ' '
      << W - L - R << ' ' << plot_h << "' overflow='hidden'>";  // clip the lines to the plot area
    for (const auto& s : series_) {
      if (!s.lo.empty()) {  // band
        std::ostringstream up, down;
        for (std::size_t i = 0; i < s.x.size(); ++i) {
          if (ok_x(s.x[i]) && ok_y(s.hi[i])) up << c1(px(s.x[i])) << ',' << c1(py(s.hi[i])) << ' ';
        }
        for (std::size_t i = s.x.size(); i-- > 0;) {
          if (ok_x(s.x[i]) && ok_y(s.lo[i])) down << c1(px(s.x[i])) << ',' << c1(py(s.lo[i])) << ' ';
        }
        o << "<polygon points='" << up.str() << down.str() << "' fill='" << s.color << "' fill-opacity='0.18' stroke='none'/>";
        for (std::size_t i = 0; i < s.x.size(); ++i) {  // and an error bar at each point (a single point has no band)
          if (!ok_x(s.x[i]) || !ok_y(s.lo[i]) || !ok_y(s.hi[i])) continue;
          const std::string x = c1(px(s.x[i])), xl = c1(px(s.x[i]) - 4), xr = c1(px(s.x[i]) + 4);
          const std::string lo = c1(py(s.lo[i])), hi = c1(py(s.hi[i]));
          o << "<path d='M" << x << ' ' << lo << "V" << hi << "M" << xl << ' ' << lo << "H" << xr << "M" << xl << ' ' << hi << "H" << xr
            << "' stroke='" << s.color << "' stroke-width='1' fill='none'/>";
        }
      }
      std::ostringstream pts;
      double first_x = 0, last_x = 0;
      bool any = false;
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!ok_x(s.x[i]) || !ok_y(s.y[i])) continue;
        if (!any) first_x = px(s.x[i]);
        last_x = px(s.x[i]);
        any = true;
        pts << c1(px(s.x[i])) << ',' << c1(py(s.y[i])) << ' ';
      }
      if (s.fill && any) {
        const std::string base = c1(py(std::max(y0, 0.0)));
        o << "<polygon points='" << c1(first_x) << ',' << base << ' ' << pts.str() << c1(last_x) << ',' << base << "' fill='" << s.color
          << "' fill-opacity='0.5' stroke='" << s.color << "'/>";
      } else {
        o << "<polyline points='" << pts.str() << "' fill='none' stroke='" << s.color << "' stroke-width='2'"
          << (s.dashed ? " stroke-dasharray='6,4'" : "") << "/>";
      }
      for (std::size_t i = 0; i < s.x.size() && s.markers; ++i) {
        if (ok_x(s.x[i]) && ok_y(s.y[i])) o << "<circle cx='" << c1(px(s.x[i])) << "' cy='" << c1(py(s.y[i])) << "' r='3.5' fill='" << s.color << "'/>";
      }
    }
    o << "</svg>";
    // The legend, below the axis label: two entries a row.
    const int ly = bottom + 56;
    for (std::size_t i = 0; i < series_.size(); ++i) {
      const auto& s = series_[i];
      const int x = L + static_cast<int>(i % 2) * 240, y = ly + 16 * static_cast<int>(i / 2);
      o << "<line x1='" << x << "' y1='" << y - 4 << "' x2='" << x + 22 << "' y2='" << y - 4 << "' stroke='" << s.color
        << "' stroke-width='" << (s.fill ? 8 : 2) << "'" << (s.dashed ? " stroke-dasharray='6,4'" : "") << "/>";
      if (!s.lo.empty()) o << "<rect x='" << x << "' y='" << y - 10 << "' width='22' height='12' fill='" << s.color << "' fill-opacity='0.18'/>";
      o << "<text x='" << x + 28 << "' y='" << y << "' font-size='11'>" << esc(s.name) << "</text>";
    }
    if (!note_.empty()) {
      o << "<text x='" << L << "' y='" << ly + 16 * static_cast<int>((series_.size() + 1) / 2) << "' font-size='11' fill='#555' font-style='italic'>"
        << esc(note_) << "</text>";
    }
    o << "</svg>";
    return o.str();
  }

 private:
  std::string title_, xlabel_, ylabel_;
  bool logx_, logy_;
  bool y_from_zero_ = false;
  std::string note_;
  std::vector<Series> series_;
};

std::string bar_chart(const std::string& title, const std::vector<std::pair<std::string, double>>& bars) {
  std::ostringstream o;
  const int W = 560, row = 26, T = 36, L = 210;
  const int H = T + row * static_cast<int>(std::max<std::size_t>(1, bars.size())) + 20;
  double mx = 0;
  for (const auto& b : bars) {
    if (std::isfinite(b.second)) mx = std::max(mx, b.second);
  }
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' class='plot'>";
  o << "<text x='" << W / 2 << "' y='20' text-anchor='middle' font-size='14' font-weight='bold'>" << esc(title) << "</text>";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const double v = bars[i].second;
    const double w = mx > 0 && std::isfinite(v) && v > 0 ? v / mx * (W - L - 90) : 0;
    const int y = T + row * static_cast<int>(i);
    o << "<text x='" << L - 8 << "' y='" << y + 15 << "' text-anchor='end' font-size='11'>" << esc(bars[i].first) << "</text>";
    o << "<rect x='" << L << "' y='" << y + 4 << "' width='" << c1(w) << "' height='16' fill='#4c72b0'/>";
    o << "<text x='" << c1(L + w + 6) << "' y='" << y + 16 << "' font-size='11'>" << fmt(v) << "</text>";
  }
  if (bars.empty()) o << "<text x='" << W / 2 << "' y='" << T + 20 << "' text-anchor='middle'>no fault terms</text>";
  o << "</svg>";
  return o.str();
}

std::string histogram(const std::vector<double>& all) {
  Chart c("Delta histogram, input 0, output 0 (first trials, last point)", "Delta", "trials", false, false);
  c.y_from_zero();
  std::vector<double> v;
  for (double x : all) {
    if (std::isfinite(x)) v.push_back(x);
  }
  if (all.size() != v.size()) c.note(std::to_string(all.size() - v.size()) + " trial(s) with a Delta that is not finite left out");
  if (v.empty()) return c.svg();
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  const bool one_value = !(hi > lo);
  if (one_value) {
    c.note("all " + std::to_string(v.size()) + " trials gave Delta = " + html_number(lo));
    const double d = lo != 0 ? std::abs(lo) * 0.05 : 1e-3;
    lo -= d;
    hi += d;
  }
  const int bins = one_value ? 1 : 40;
  const double w = (hi - lo) / bins;
  std::vector<double> counts(bins, 0.0);
  for (double x : v) counts[std::clamp(static_cast<int>((x - lo) / w), 0, bins - 1)] += 1;
  Series s{"trials per bin (" + std::to_string(v.size()) + " trials, bin width " + html_number(w) + ")", "#55a868", {}, {}, {}, {}, false, false, true};
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

std::string row(const std::string& key, const std::string& value) { return "<tr><th>" + key + "</th><td>" + value + "</td></tr>"; }

// The chip of the last point and where its components came from: topology, mapping,
// programming, timing (chip engine), then the resolved component types and plug-ins.
std::string chip_section(const Report& report) {
  std::ostringstream html;
  const ChipReport* chip = nullptr;
  for (const auto& pt : report.points) {
    if (pt.chip) chip = &*pt.chip;
  }
  if (chip) {
    html << "<h2>Chip</h2><table class='kv'>";
    html << row("chip", "<b>" + esc(chip->name.empty() ? "-" : chip->name) + "</b>" + (chip->file.empty() ? "" : " (<code>" + esc(chip->file) + "</code>)"));
    html << row("cores", std::to_string(chip->cores_used) + " used of " + std::to_string(chip->cores));
    html << row("crossbar tiles", std::to_string(chip->tiles) + (chip->crossbar.empty() ? "" : ", type " + esc(chip->crossbar)));
    html << row("neuron arrays", std::to_string(chip->neuron_arrays));
    html << row("interconnect", esc(chip->interconnect.empty() ? "-" : chip->interconnect));
    html << row("programming error", "max |programmed - model| output " + fmt(chip->programming_max_abs_output_error));
    if (chip->programming) {
      const ProgrammingReport& p = *chip->programming;
      html << row("weights programmed", std::to_string(p.weights) + ", " + std::to_string(p.clipped) + " clipped" +
                                            (p.clip_limit ? " to &#177;" + fmt(*p.clip_limit) : std::string()) + ", " +
                                            std::to_string(p.quantised) + " quantised");
      html << row("weight error", "max " + fmt(p.max_abs_weight_error) + ", mean " + fmt(p.mean_abs_weight_error));
      if (p.accuracy_before && p.accuracy_after) {
        html << row("fault-free accuracy", fmt(*p.accuracy_before) + " (model), " + fmt(*p.accuracy_after) + " (programmed)");
      }
    }
    if (chip->fault_free_max_abs_output_error) {
      html << row("fault-free engine vs model", "max |output difference| " + fmt(*chip->fault_free_max_abs_output_error) +
                                                    " (Delta is measured from the fault-free outputs)");
    }
    if (chip->timing) {
      const auto& t = *chip->timing;
      html << row("inference latency", fmt(t.latency_mean_ns) + " ns mean (min " + fmt(t.latency_min_ns) + ", median " +
                                           fmt(t.latency_median_ns) + ", p99 " + fmt(t.latency_p99_ns) + ", max " +
                                           fmt(t.latency_max_ns) + ", simulated time)");
      if (t.deadline_ns) {
        html << row("deadline", fmt(*t.deadline_ns) + " ns: " + fmt(100 * t.deadline_miss_rate.value_or(0.0)) +
                                    "% of inferences lost an output to it (the host holds 0 for a late output)");
      }
      if (t.stream) {
        const auto& st = *t.stream;
        html << row("stream", "one input every " + fmt(st.interval_ns) + " ns: " + fmt(st.throughput_per_us) +
                                  " inferences per us measured, " + fmt(st.expected_throughput_per_us) +
                                  " expected (bottleneck stage " + fmt(st.bottleneck_throughput_per_us) + " per us); " +
                                  (st.sustained ? std::string("the chip keeps up")
                                                : "the chip does not sustain this rate: the latency grows " +
                                                      fmt(st.backlog_growth_ns_per_input) + " ns per input (a backlog)"));
      }
      if (!t.simulation.empty()) {
        const double all = static_cast<double>(t.differential_inferences + t.full_inferences);
        html << row("simulation", t.simulation == "differential"
                                      ? "differential: " + fmt(all > 0 ? 100 * static_cast<double>(t.differential_inferences) / all : 0.0) +
                                            "% of inferences replayed from their fault-free reference, the rest (units that act "
                                            "through time) simulated in full"
                                      : "full (" + esc(t.full_reason) + ")");
      }
      if (t.rerouted_messages_per_inference) {
        html << row("routing around dead routers",
                    fmt(*t.rerouted_messages_per_inference) + " messages per inference detoured (" +
                        fmt(t.detour_hops_per_inference.value_or(0.0)) + " extra router hops), " +
                        fmt(t.dropped_messages_per_inference.value_or(0.0)) + " lost with no live route");
      }
      if (t.link_wait_ns_per_inference) {
        std::string busiest;
        for (std::size_t i = 0; i < t.link_utilisation.size() && i < 5; ++i) {
          busiest += (i ? "; " : "") + esc(t.link_utilisation[i].first) + " " + fmt(100 * t.link_utilisation[i].second) + "%";
        }
        html << row("contention", fmt(*t.link_wait_ns_per_inference) + " ns per inference waiting for links; busiest links: " +
                                      (busiest.empty() ? "none" : busiest));
      }
      html << row("traffic per inference", std::to_string(t.messages_per_inference) + " messages, " +
                                               fmt(t.router_hops_per_inference) + " router hops");
      if (t.spikes_dropped_per_inference) {
        std::string busiest;
        for (std::size_t i = 0; i < t.spikes_per_link_per_inference.size() && i < 5; ++i) {
          busiest += (i ? "; " : "") + esc(t.spikes_per_link_per_inference[i].first) + " " + fmt(t.spikes_per_link_per_inference[i].second);
        }
        html << row("spikes per inference", "busiest links: " + (busiest.empty() ? std::string("none") : busiest) + "; " +
                                                fmt(*t.spikes_dropped_per_inference) + " dropped by lossy routers and links");
      }
    }
    html << "</table>";
    if (chip->programming) html << "<p class='small'>" << esc(describe_programming(*chip->programming)) << ".</p>";
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

// Sequential colour scale for the heat map: 0 pale, 1 dark red.
std::string heat_colour(double f) {
  static const double stops[][3] = {{255, 247, 236}, {253, 212, 158}, {252, 141, 89}, {215, 48, 31}, {127, 0, 0}};
  f = std::clamp(std::isfinite(f) ? f : 0.0, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(f));
  const double t = f - i;
  char b[16];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", static_cast<int>(std::lround(stops[i][0] + (stops[i + 1][0] - stops[i][0]) * t)),
                static_cast<int>(std::lround(stops[i][1] + (stops[i + 1][1] - stops[i][1]) * t)),
                static_cast<int>(std::lround(stops[i][2] + (stops[i + 1][2] - stops[i][2]) * t)));
  return b;
}

// The chip's cores on their mesh (or in one row for a line), each coloured by the predicted
// variance of the units on it, with the colour scale.
std::string heat_map(const CriticalityReport& c, int id) {
  int width = c.mesh_width, height = c.mesh_height;
  if (width <= 0 || height <= 0) {  // a line: x = core index
    width = 0;
    for (const auto& h : c.cores) width = std::max(width, h.x + 1);
    height = 1;
  }
  double mx = 0;
  for (const auto& h : c.cores) {
    if (std::isfinite(h.variance)) mx = std::max(mx, h.variance);
  }
  const int cell = std::clamp(480 / std::max(width, 1), 18, 72);
  const int L = 46, T = 40, legend_w = 110;
  const int sh = std::clamp(cell * height, 100, 200);  // the colour scale's height
  const int W = std::max(L + cell * width + 24 + legend_w, 360), H = T + std::max(cell * height + 24, sh + 30) + 10;
  const bool labels = cell >= 40;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' class='plot heatmap'>";
  o << "<text x='" << W / 2 << "' y='20' text-anchor='middle' font-size='14' font-weight='bold'>Predicted variance per core ("
    << (c.mesh_width > 0 && c.mesh_height > 0 ? "mesh " + std::to_string(width) + " x " + std::to_string(height) : std::string("line"))
    << ")</text>";
  o << "<defs><linearGradient id='heat" << id << "' x1='0' y1='1' x2='0' y2='0'>";
  for (int i = 0; i <= 4; ++i) o << "<stop offset='" << i * 25 << "%' stop-color='" << heat_colour(i / 4.0) << "'/>";
  o << "</linearGradient></defs>";
  // Empty grid first (cores without ranked units), then the cores that have some.
  for (int y = 0; y < height; ++y) {
    if (height > 1) o << "<text x='" << L - 6 << "' y='" << T + y * cell + cell / 2 + 4 << "' text-anchor='end' font-size='10'>y " << y << "</text>";
    for (int x = 0; x < width; ++x) {
      o << "<rect x='" << L + x * cell << "' y='" << T + y * cell << "' width='" << cell << "' height='" << cell
        << "' fill='#eee' stroke='#fff'/>";
    }
  }
  for (int x = 0; x < width; ++x) {
    if (cell >= 28 || x % 5 == 0) {
      o << "<text x='" << L + x * cell + cell / 2 << "' y='" << T + height * cell + 14 << "' text-anchor='middle' font-size='10'>x " << x << "</text>";
    }
  }
  for (const auto& h : c.cores) {
    if (h.x < 0 || h.y < 0 || h.x >= width || h.y >= height) continue;
    const int x = L + h.x * cell, y = T + h.y * cell;
    const double f = mx > 0 ? h.variance / mx : 0;
    o << "<rect x='" << x << "' y='" << y << "' width='" << cell << "' height='" << cell << "' fill='" << heat_colour(f)
      << "' stroke='#fff'><title>core " << h.core << " (x " << h.x << ", y " << h.y << "): variance " << fmt(h.variance) << "</title></rect>";
    if (labels) {
      const char* ink = f > 0.55 ? "#fff" : "#222";
      o << "<text x='" << x + cell / 2 << "' y='" << y + cell / 2 - 3 << "' text-anchor='middle' font-size='10' fill='" << ink << "'>core "
        << h.core << "</text><text x='" << x + cell / 2 << "' y='" << y + cell / 2 + 10 << "' text-anchor='middle' font-size='9' fill='" << ink
        << "'>" << fmt(h.variance) << "</text>";
    }
  }
  // Scale.
  const int sx = L + cell * width + 24, sy = T;
  o << "<rect x='" << sx << "' y='" << sy << "' width='16' height='" << sh << "' fill='url(#heat" << id << ")' stroke='#888'/>";
  for (int i = 0; i <= 4; ++i) {
    const int y = sy + sh - sh * i / 4;
    o << "<line x1='" << sx + 16 << "' y1='" << y << "' x2='" << sx + 20 << "' y2='" << y << "' stroke='#888'/>";
    o << "<text x='" << sx + 23 << "' y='" << y + 4 << "' font-size='10'>" << fmt(mx * i / 4) << "</text>";
  }
  o << "<rect x='" << sx << "' y='" << sy + sh + 12 << "' width='16' height='12' fill='#eee' stroke='#888'/><text x='" << sx + 23
    << "' y='" << sy + sh + 22 << "' font-size='10'>no ranked unit</text>";
  o << "</svg>";
  return o.str();
}

std::string criticality_section(const Report& report) {
  const CriticalityReport* c = nullptr;
  std::size_t at = 0;
  for (std::size_t i = 0; i < report.points.size(); ++i) {
    if (report.points[i].criticality) {
      c = &*report.points[i].criticality;
      at = i;
    }
  }
  if (!c) return "";
  std::ostringstream html;
  html << "<h2>Criticality</h2><p>The units whose failure alone changes the outputs most"
       << (report.points.size() > 1 ? " at point " + std::to_string(at) : std::string()) << ", ranked by predicted "
       << esc(c->metric == "accuracy_drop" ? "accuracy drop" : "output error variance") << " (first order in p, from the single-unit "
       << "b4 terms: docs/bounds.md) among " << c->units << " units; the top ones verified by targeted Monte Carlo (that unit failed alone)";
  if (c->spearman_top) html << ". Spearman rank correlation of predicted and verified: <b>" << fmt(*c->spearman_top) << "</b>";
  html << ".</p>";
  bool any_acc = false, any_verified = false;
  for (const auto& u : c->top) {
    any_acc = any_acc || u.accuracy_drop.has_value();
    any_verified = any_verified || u.verified_variance.has_value();
  }
  html << "<table class='crit'><tr><th>rank</th><th class='name'>unit</th><th class='name'>kind</th><th>spec</th><th>predicted variance</th>"
       << (any_acc ? "<th>predicted accuracy drop</th>" : "") << (any_verified ? "<th>verified variance (MC)</th><th>verified / predicted</th>" : "")
       << "</tr>";
  for (std::size_t i = 0; i < c->top.size(); ++i) {
    const CriticalUnit& u = c->top[i];
    html << "<tr><td>" << i + 1 << "</td><td class='name'>" << esc(u.name) << "</td><td class='name'>" << esc(u.kind) << "</td><td>"
         << (u.spec >= 0 ? "faults[" + std::to_string(u.spec) + "]" : "-") << "</td><td>" << fmt(u.variance) << "</td>";
    if (any_acc) html << "<td>" << (u.accuracy_drop ? fmt(*u.accuracy_drop) : "-") << "</td>";
    if (any_verified) {
      html << "<td>" << (u.verified_variance ? fmt(*u.verified_variance) : "-") << "</td><td>"
           << (u.verified_variance && u.variance > 0 ? fmt(*u.verified_variance / u.variance) : "-") << "</td>";
    }
    html << "</tr>";
  }
  if (c->top.empty()) html << "<tr><td colspan='5'>no unit ranked</td></tr>";
  html << "</table>";
  if (!c->cores.empty()) html << "<div class='grid heat'>" << heat_map(*c, static_cast<int>(at)) << "</div>";
  return html.str();
}

// "b4 max_median_rel_err 0.05" (bound, condition, threshold, then anything): the threshold and
// its comparison ("&#8804; "), when the text has them.
std::optional<std::pair<std::string, double>> threshold_of(const std::string& requirement) {
  std::istringstream words(requirement);
  std::string bound, condition, number;
  words >> bound >> condition >> number;
  char* end = nullptr;
  const double t = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0') return std::nullopt;
  return std::make_pair(std::string(condition.rfind("max", 0) == 0 ? "&#8804; " : condition.rfind("min", 0) == 0 ? "&#8805; " : ""), t);
}

std::string requirements_section(const Report& report) {
  bool any = false;
  for (const auto& pt : report.points) any = any || !pt.requirements.empty();
  if (!any) return "";
  std::ostringstream html;
  html << "<h2>Requirements</h2><table class='req'><tr><th>point</th><th class='name'>requirement</th><th>measured</th><th>threshold</th>"
          "<th>result</th><th class='name'>note</th></tr>";
  for (std::size_t i = 0; i < report.points.size(); ++i) {
    for (const auto& q : report.points[i].requirements) {
      // Budgets carry their limit (their text ends with what they are judged on), the point
      // estimate beside the conservative value, and where the largest one was found.
      std::optional<std::pair<std::string, double>> threshold = threshold_of(q.requirement);
      if (q.limit) threshold = std::make_pair(std::string(q.requirement.find(" min ") != std::string::npos ? "&#8805; " : "&#8804; "), *q.limit);
      std::string note = q.note;
      if (q.estimate) {
        note = "estimate " + fmt(*q.estimate) +
               (q.input ? " at input " + std::to_string(*q.input) + (q.output ? ", output " + std::to_string(*q.output) : std::string()) : std::string()) +
               (note.empty() ? "" : "; " + note);
      }
      // The value with enough digits not to read as its threshold (0.010004 is not 0.01).
      const std::string value = !q.value ? "-" : threshold ? html_number_apart(*q.value, threshold->second) : fmt(*q.value);
      html << "<tr><td>" << i << "</td><td class='name'>" << esc(q.requirement) << "</td><td>" << value << "</td><td>"
           << (threshold ? threshold->first + fmt(threshold->second) : "-") << "</td><td class='" << (q.met ? "good'>met" : "bad'>NOT met")
           << "</td><td class='name'>" << esc(note) << "</td></tr>";
    }
  }
  html << "</table>";
  return html.str();
}

// What the plots over sweep points have on their x axis: the first fault spec's probability, or
// the mission time when the sweep is over a FIT campaign's mission_hours.
struct XAxis {
  std::string label, title;  // "probability of faults[0]", "fault probability"
  std::vector<double> values;
  bool log = true;
};

XAxis x_axis_of(const Report& report) {
  XAxis a;
  const auto& points = report.points;
  if (!points.empty()) {
    for (const auto& [key, ignored] : points[0].sweep) {
      const std::string suffix = "mission_hours";
      const bool mission = key == "mission.at_hours";  // a campaign's mission: checkpoints
      if (!mission && (key.size() < suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0)) continue;
      std::vector<double> hours;
      for (const auto& pt : points) {
        for (const auto& [k, v] : pt.sweep) {
          if (k != key) continue;
          char* end = nullptr;
          const double h = std::strtod(v.c_str(), &end);
          if (end != v.c_str() && *end == '\0') hours.push_back(h);
        }
      }
      if (hours.size() != points.size()) continue;
      a.label = "mission time (hours, " + key + ")";
      a.title = "mission time";
      a.values = hours;
      const double lo = *std::min_element(hours.begin(), hours.end()), hi = *std::max_element(hours.begin(), hours.end());
      a.log = lo > 0 && hi / lo >= 10;
      return a;
    }
  }
  a.label = "probability of faults[0]";
  a.title = "fault probability";
  for (const auto& pt : points) a.values.push_back(pt.faults.empty() ? std::numeric_limits<double>::quiet_NaN() : pt.faults[0].probability);
  return a;
}

}  // namespace

namespace {

// Protection (docs/faults.md, "Protection"): the units under TMR and the spares per fault spec,
// and the replicas Delta is the median of, per point; nothing when no point is protected.
std::string protection_section(const Report& report) {
  std::ostringstream rows;
  bool any = false;
  for (std::size_t i = 0; i < report.points.size(); ++i) {
    const auto& pt = report.points[i];
    for (std::size_t s = 0; s < pt.faults.size(); ++s) {
      const auto& f = pt.faults[s];
      if (!f.tmr_units && !f.spares) continue;
      any = true;
      rows << "<tr><td>" << i << "</td><td>faults[" << s << "]</td><td class='name'>" << esc(f.kind) << "</td><td>"
           << (f.tmr_units ? std::to_string(*f.tmr_units) : "-") << (f.units ? " of " + std::to_string(*f.units) : "") << "</td><td>"
           << (f.spares ? std::to_string(*f.spares) : "-") << "</td><td>-</td></tr>";
    }
    if (pt.replicas) {
      any = true;
      rows << "<tr><td>" << i << "</td><td>all</td><td class='name'>replicas (Algorithm 1)</td><td>-</td><td>-</td><td>" << *pt.replicas
           << "</td></tr>";
    }
  }
  if (!any) return "";
  return "<h2>Protection</h2><p class='small'>Units under triple modular redundancy (a TMR unit fails only when two of its three "
         "copies fail), spare rows or columns per tile (a failed row or column is repaired while spares last), and the "
         "replicas whose median is the output (docs/faults.md, \"Protection\").</p>"
         "<table><tr><th>point</th><th>spec</th><th class='name'>kind</th><th>TMR units</th><th>spares per tile</th>"
         "<th>replicas</th></tr>" +
         rows.str() + "</table>";
}

}  // namespace

std::string render_html_report(const Report& report) {
  const auto& points = report.points;
  const XAxis xa = x_axis_of(report);
  const std::vector<double>& p = xa.values;
  std::vector<double> mstd, mstd_lo, mstd_hi, mabs, mabs_lo, mabs_hi, acc, acc_lo, acc_hi, acc_clean;
  std::map<std::string, std::vector<double>> bound_std, bound_abs;
  for (const auto& pt : points) {
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
    const double d = n ? static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
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
  Chart err("Error std vs " + xa.title + " (mean over inputs and outputs)", xa.label, "std of Delta", xa.log, true);
  err.add({"measured (95% band)", "#4c72b0", p, mstd, mstd_lo, mstd_hi, false});
  int c = 0;
  for (const auto& [b, v] : bound_std) {
    if (v.size() == p.size()) err.add({b + " predicted", colors[c++ % 4], p, v, {}, {}, true});
  }
  bool magnitude = false;
  for (const auto& [b, v] : bound_abs) magnitude = magnitude || v.size() == p.size();
  Chart mag(std::string("Mean |Delta| vs ") + xa.title + (magnitude ? ", with magnitude bounds" : ""), xa.label, "mean |Delta|", xa.log, true);
  mag.add({"measured (95% band)", "#4c72b0", p, mabs, mabs_lo, mabs_hi, false});
  if (!magnitude) mag.note("no magnitude bound (b2, worst_case) was requested");
  c = 0;
  for (const auto& [b, v] : bound_abs) {
    if (v.size() == p.size()) mag.add({b + " bound", colors[c++ % 4], p, v, {}, {}, true});
  }
  bool any_requirements = false;
  for (const auto& pt : points) any_requirements = any_requirements || !pt.requirements.empty();
  std::ostringstream html;
  html << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>nfsim report</title><style>"
          "body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
          ".grid{display:flex;flex-wrap:wrap;gap:18px}.plot{border:1px solid #ddd;background:#fafafa}"
          "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
          ".kv th{text-align:left;background:#f4f4f4}.kv td,td.name,th.name{text-align:left}.heat{margin-top:14px}"
          ".bad{color:#b00}.good{color:#070}.neutral{color:#555}.small{font-size:12px;color:#444}.prov td{text-align:left;max-width:380px;word-break:break-all}</style></head><body>";
  html << "<h1>nfsim fault-injection report</h1><p>";
  if (report.network) html << "Network <b>" << esc(report.network->description) << "</b>, ";
  html << "engine <b>" << esc(report.campaign.engine) << "</b>, " << points.size() << " point(s), seed " << report.campaign.seed
       << ". Campaign <code>" << esc(report.campaign.file) << "</code>. "
       << (report.complete ? "" : "<b class='bad'>Interrupted: partial results.</b> ");
  if (!any_requirements) {
    html << "<span class='neutral'>No requirements.</span>";
  } else {
    html << "Requirements: " << (report.requirements_met ? "<b class='good'>met</b>" : "<b class='bad'>NOT met</b>") << ".";
  }
  html << "</p>";
  html << "<div class='grid'>" << err.svg() << mag.svg();
  if (!acc.empty() && acc.size() == p.size()) {
    Chart ac("Classification accuracy vs " + xa.title, xa.label, "accuracy", xa.log, false);
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
  if (report.mission) {
    html << "<p>Mission: " << report.mission->checkpoints << " checkpoints over " << fmt(report.mission->hours)
         << " h, each trial one chip instance whose failures accumulate. Measured error std against each bound's prediction over "
            "the checkpoints (means over inputs and outputs), Pearson: ";
    for (const auto& c : report.mission->curves) {
      if (!c.sweep.empty()) html << esc(c.sweep) << ": ";
      for (const auto& [name, r] : c.pearson_std) html << esc(name) << " " << (r ? fmt(*r) : std::string("- (flat or too short)")) << "; ";
    }
    html << "</p>";
  }
  html << "<h2>Points</h2><table><tr><th>point</th><th class='name'>sweep</th><th>trials</th><th>stopped</th><th>measured std</th>"
          "<th>b4 std</th><th>b4 Pearson (std)</th>"
       << (xa.title == "fault probability" ? "" : "<th>p of faults[0]</th>") << (acc.empty() ? "" : "<th>accuracy (95% interval)</th><th>fault-free</th>") << (any_requirements ? "<th>requirements</th>" : "")
       << "</tr>";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& pt = points[i];
    std::string sweep;
    for (const auto& [k, v] : pt.sweep) sweep += (sweep.empty() ? "" : ", ") + k + "=" + v;
    const bool met = pt.requirements_met();
    const auto b4 = pt.summary.find("b4");
    html << "<tr><td>" << i << "</td><td class='name'>" << esc(sweep.empty() ? "-" : sweep) << "</td><td>" << pt.trials << "</td><td>"
         << esc(pt.stopping.reached) << estimator_note(pt.estimator) << "</td><td>" << fmt(mstd[i]) << "</td><td>"
         << (bound_std.count("b4") && bound_std["b4"].size() == points.size() ? fmt(bound_std["b4"][i]) : "-") << "</td><td>"
         << (b4 != pt.summary.end() && b4->second.std ? fmt(b4->second.std->pearson) : "-") << "</td>";
    if (xa.title != "fault probability") html << "<td>" << (pt.faults.empty() ? "-" : fmt(pt.faults[0].probability)) << "</td>";
    if (!acc.empty()) {
      if (pt.accuracy) {
        html << "<td>" << fmt(pt.accuracy->faulty_mean) << " (" << fmt(pt.accuracy->faulty_ci95_lo) << ", "
             << fmt(pt.accuracy->faulty_ci95_hi) << ")</td><td>" << fmt(pt.accuracy->fault_free) << "</td>";
      } else {
        html << "<td>-</td><td>-</td>";
      }
    }
    if (any_requirements) {
      if (pt.requirements.empty()) {
        html << "<td class='neutral'>none</td>";
      } else {
        html << "<td class='" << (met ? "good'>met" : "bad'>NOT met") << "</td>";
      }
    }
    html << "</tr>";
  }
  html << "</table>";
  html << requirements_section(report);
  html << criticality_section(report);
  html << protection_section(report);
  html << chip_section(report);
  html << "<p style='font-size:11px;color:#777'>Generated by nfsim " << esc(report.nfsim_version)
       << ". Bands: 95% confidence intervals of the measurement. Dashed: analytic predictions (docs/bounds.md). "
          "Numbers: 4 significant digits, more where 4 would show a value that is not an integer as one.</p></body></html>\n";
  return html.str();
}

}  // namespace nfsim::tb
