// report.html from hand-built reports: numbers, axes, legends, requirements, criticality, chip
// (issue 14 item 8). The CLI tests render real runs (tests/cli/test_cli.cpp, CliReport.*).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>

#include "testbench/report/html_report.h"
#include "tests/common/html_check.h"

namespace nfsim::tb {
namespace {

using test::non_finite_text;
using test::svg_blocks;
using test::xml_problem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One point at probability p with `inputs` inputs of two outputs, measured std ~ sqrt(p).
PointReport point(double p, const std::vector<std::string>& bounds = {"b4"}) {
  PointReport pt;
  pt.sweep = {{"faults[0].probability", html_number(p)}};
  pt.faults.push_back({"neuron_crash", p, "transient", std::vector<int>{1}, {}, {}, {}, {}, {}, {}, {}});
  pt.trials = 1000;
  pt.stopping = {"fixed", "trials", std::nullopt, 1000, 0, 0};
  for (int i = 0; i < 3; ++i) {
    InputReport in;
    in.index = i;
    const double s = std::sqrt(p) * (1 + 0.1 * i);
    in.measured.mean = Eigen::Vector2d(-0.1 * s, 0.05 * s);
    in.measured.std = Eigen::Vector2d(s, 0.5 * s);
    in.measured.mean_abs = Eigen::Vector2d(0.8 * s, 0.4 * s);
    in.measured.max_abs = Eigen::Vector2d(3 * s, 2 * s);
    in.measured.ci95_mean = {in.measured.mean * 1.1, in.measured.mean * 0.9};
    in.measured.ci95_std = {in.measured.std * 0.95, in.measured.std * 1.05};
    in.measured.ci95_mean_abs = {in.measured.mean_abs * 0.95, in.measured.mean_abs * 1.05};
    in.measured.trials = 1000;
    for (const auto& b : bounds) {
      models::bounds::BoundValue v;
      v.mean = b == "b4" ? Eigen::Vector2d(-0.1 * s, 0.05 * s) : Eigen::Vector2d(4 * s, 3 * s);
      if (b == "b4") v.std = Eigen::Vector2d(1.02 * s, 0.51 * s);
      in.bounds[b] = v;
    }
    pt.inputs.push_back(in);
  }
  pt.variance_by_term = {{"neuron_crash layer 1", 0.7 * p}, {"neuron_crash layer 2", 0.3 * p}};
  for (int t = 0; t < 200; ++t) pt.histogram_delta.push_back(t % 10 == 0 ? 0.01 * (t % 7) : 0.0);
  return pt;
}

Report report(const std::vector<double>& ps, const std::vector<std::string>& bounds = {"b4"}) {
  Report r;
  r.nfsim_version = "test";
  r.campaign.file = "c.yaml";
  r.campaign.engine = "functional";
  for (double p : ps) r.points.push_back(point(p, bounds));
  r.campaign.points = r.points.size();
  return r;
}

// Every svg well-formed, and no nan or inf text.
void expect_clean(const std::string& html) {
  const auto svgs = svg_blocks(html);
  std::size_t opened = 0;
  for (std::size_t pos = 0; (pos = html.find("<svg", pos)) != std::string::npos; ++pos) ++opened;
  std::size_t nested = 0;
  for (const auto& s : svgs) {
    EXPECT_EQ(xml_problem(s), "") << s.substr(0, 200);
    for (std::size_t pos = 1; (pos = s.find("<svg", pos)) != std::string::npos; ++pos) ++nested;
  }
  EXPECT_EQ(svgs.size() + nested, opened);
  EXPECT_EQ(non_finite_text(html), "");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no external resource
}

// Keeps a page where a reader can open or render it (scripts/render_report.sh):
// build/tests/tmp/html_report/<name>.html.
void keep(const std::string& name, const std::string& html) {
  const std::filesystem::path dir = std::filesystem::path(NFSIM_TEST_TMP) / "html_report";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / (name + ".html")) << html;
}

// The svg whose title holds `title`.
std::string svg_with(const std::string& html, const std::string& title) {
  for (const auto& s : svg_blocks(html)) {
    if (s.find(title) != std::string::npos) return s;
  }
  return "";
}

double attr(const std::string& element, const std::string& name) {
  const auto at = element.find(" " + name + "='");
  if (at == std::string::npos) return kNaN;
  return std::strtod(element.c_str() + at + name.size() + 3, nullptr);
}

// The tick labels of a chart's y axis (right-aligned texts left of the plot) and x axis.
std::vector<std::string> tick_texts(const std::string& svg, const std::string& anchor_and_size) {
  std::vector<std::string> out;
  const std::regex re("<text [^>]*" + anchor_and_size + "'>([^<]*)");
  for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) out.push_back((*it)[1]);
  return out;
}

TEST(HtmlReport, NumbersNeverShowAValueThatIsNotOneAsOne) {
  EXPECT_EQ(html_number(0.9995), "0.9995");
  EXPECT_EQ(html_number(0.99996), "0.99996");
  EXPECT_EQ(html_number(1.0), "1");
  EXPECT_EQ(html_number(0.00266), "0.00266");
  EXPECT_EQ(html_number(0.123456), "0.1235");
  EXPECT_EQ(html_number(0), "0");
  EXPECT_EQ(html_number(kNaN), "n/a");
  EXPECT_EQ(html_number(1 - 1e-9), "0.999999999");
  EXPECT_EQ(html_number(704.0000000000001), "704");  // floating-point noise, not a value
  EXPECT_EQ(html_number(1234.5), "1234.5");
  EXPECT_EQ(html_number_apart(0.010004, 0.01), "0.010004");  // a value beside its threshold
  EXPECT_EQ(html_number_apart(0.0312, 0.05), "0.0312");
  EXPECT_EQ(html_number_apart(0.05, 0.05), "0.05");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-11, 0);
  for (int i = 0; i < 20000; ++i) {
    const double v = i % 2 ? 1 - std::pow(10.0, u(rng)) : 1 + std::pow(10.0, u(rng));  // near 1, never 1
    if (v == 1.0) continue;
    const std::string s = html_number(v);
    EXPECT_NE(std::strtod(s.c_str(), nullptr), 1.0) << v << " shown as " << s;
    EXPECT_LE(std::abs(std::strtod(s.c_str(), nullptr) - v), 5e-4 * std::abs(v)) << s;
  }
}

// Log axes: ticks at powers of ten (then 2 and 5 times them); linear axes: 1-2-5 steps.
TEST(HtmlReport, AxisTicksAreRound) {
  auto mantissa = [](double t) { return t / std::pow(10.0, std::floor(std::log10(t) + 1e-9)); };
  double lo = 0.00266, hi = 0.31;
  auto t = nice_ticks(lo, hi, true);
  EXPECT_EQ(t, (std::vector<double>{0.005, 0.01, 0.02, 0.05, 0.1, 0.2}));  // two decades: 2 and 5 times them too
  lo = 1e-7, hi = 0.5;
  t = nice_ticks(lo, hi, true);
  ASSERT_GE(t.size(), 3u);
  EXPECT_LE(t.size(), 7u);
  for (double x : t) EXPECT_NEAR(mantissa(x), 1.0, 1e-9) << x;
  lo = 0.0026, hi = 0.009;  // less than a decade, one of 1, 2, 5 inside: every digit
  t = nice_ticks(lo, hi, true);
  ASSERT_GE(t.size(), 2u);
  for (double x : t) {
    EXPECT_NEAR(mantissa(x), std::round(mantissa(x)), 1e-9) << x;
    EXPECT_GE(x, lo * (1 - 1e-12));
    EXPECT_LE(x, hi * (1 + 1e-12));
  }
  lo = 0.0011, hi = 0.0061;  // 2 and 5 times a power of ten
  t = nice_ticks(lo, hi, true);
  EXPECT_EQ(t, (std::vector<double>{0.002, 0.005}));
  lo = -0.013, hi = 0.0371;
  t = nice_ticks(lo, hi, false);
  ASSERT_GE(t.size(), 3u);
  const double step = t[1] - t[0];
  EXPECT_NEAR(mantissa(step), std::round(mantissa(step)), 1e-9);
  EXPECT_TRUE(std::abs(mantissa(step) - 1) < 1e-9 || std::abs(mantissa(step) - 2) < 1e-9 || std::abs(mantissa(step) - 5) < 1e-9);
  EXPECT_LE(lo, -0.013);
  EXPECT_GE(hi, 0.0371);
  EXPECT_EQ(lo, t.front());
  EXPECT_EQ(hi, t.back());
  for (double x : t) EXPECT_NEAR(x / step, std::round(x / step), 1e-9);
}

TEST(HtmlReport, NoRequirementsIsSaidNeutrally) {
  const std::string html = render_html_report(report({0.001, 0.01}));
  expect_clean(html);
  EXPECT_EQ(html.find("Requirements: "), std::string::npos);
  EXPECT_EQ(html.find("class='good'"), std::string::npos);  // nothing green
  EXPECT_NE(html.find("No requirements"), std::string::npos);
}

TEST(HtmlReport, RequirementsTableShowsValueThresholdAndResult) {
  Report r = report({0.001, 0.01});
  r.points[0].requirements = {{"b4 max_median_rel_err 0.05", 0.0312, true, ""}};
  r.points[1].requirements = {{"b4 max_median_rel_err 0.05", 0.0712, false, ""},
                              {"b2 holds", std::nullopt, false, "bound not computed"},
                              {"b4 min_pearson 0.99", 0.98999, false, ""}};
  r.requirements_met = false;
  const std::string html = render_html_report(r);
  expect_clean(html);
  EXPECT_NE(html.find("Requirements: <b class='bad'>NOT met</b>"), std::string::npos);
  EXPECT_NE(html.find("<h2>Requirements</h2>"), std::string::npos);
  EXPECT_NE(html.find("<td>0.0712</td><td>&#8804; 0.05</td><td class='bad'>NOT met</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>0.0312</td><td>&#8804; 0.05</td><td class='good'>met</td>"), std::string::npos);
  EXPECT_NE(html.find("bound not computed"), std::string::npos);
  EXPECT_NE(html.find("<td>0.98999</td><td>&#8805; 0.99</td><td class='bad'>NOT met</td>"), std::string::npos);
}

TEST(HtmlReport, MagnitudePlotSaysWhenNoMagnitudeBoundWasRequested) {
  std::string html = render_html_report(report({0.001, 0.01}));
  EXPECT_EQ(html.find("with magnitude bounds"), std::string::npos);
  EXPECT_NE(html.find("no magnitude bound (b2, worst_case) was requested"), std::string::npos);
  html = render_html_report(report({0.001, 0.01}, {"b4", "worst_case"}));
  expect_clean(html);
  EXPECT_NE(html.find("with magnitude bounds"), std::string::npos);
  EXPECT_NE(html.find("worst_case bound"), std::string::npos);
}

// Legends below the plot area, never over a line; the histogram's count axis starts at 0.
TEST(HtmlReport, LegendsSitOutsideThePlotAndCountsStartAtZero) {
  const std::string html = render_html_report(report({0.0003, 0.001, 0.003, 0.01, 0.03}, {"b4", "worst_case"}));
  expect_clean(html);
  for (const char* title : {"Error std vs", "Mean |Delta| vs", "Delta histogram"}) {
    const std::string svg = svg_with(html, title);
    ASSERT_FALSE(svg.empty()) << title;
    const auto frame = svg.find("fill='white'");
    const std::string rect = svg.substr(svg.rfind("<rect", frame), 120);
    const double bottom = attr(rect, "y") + attr(rect, "height");
    for (const char* entry : {"measured (95% band)", "b4 predicted", "worst_case bound", "trials per bin"}) {
      const auto at = svg.find(std::string(">") + entry);
      if (at == std::string::npos) continue;
      EXPECT_GT(attr(svg.substr(svg.rfind("<text", at), at - svg.rfind("<text", at)), "y"), bottom + 20) << title << ": " << entry;
    }
  }
  const std::string hist = svg_with(html, "Delta histogram");
  const auto y_ticks = tick_texts(hist, "text-anchor='end' font-size='11");
  ASSERT_GE(y_ticks.size(), 3u);
  EXPECT_EQ(y_ticks.front(), "0");
  for (const auto& t : y_ticks) EXPECT_GE(std::strtod(t.c_str(), nullptr), 0.0) << t;
  // Log axes of the error plot: powers of ten, and 2 and 5 times them over two decades.
  const auto x_ticks = tick_texts(svg_with(html, "Error std vs"), "text-anchor='middle' font-size='11");
  EXPECT_EQ(x_ticks, (std::vector<std::string>{"0.0005", "0.001", "0.002", "0.005", "0.01", "0.02"}));
}

TEST(HtmlReport, MissionHoursSweepPlotsOverTime) {
  Report r = report({1e-4, 1e-3, 1e-2});
  const char* hours[] = {"100", "1000", "10000"};
  for (int i = 0; i < 3; ++i) r.points[i].sweep = {{"faults[0].mission_hours", hours[i]}};
  const std::string html = render_html_report(r);
  expect_clean(html);
  EXPECT_NE(html.find("Error std vs mission time"), std::string::npos);
  EXPECT_NE(html.find("mission time (hours, faults[0].mission_hours) (log)"), std::string::npos);
  const auto x_ticks = tick_texts(svg_with(html, "Error std vs"), "text-anchor='middle' font-size='11");
  EXPECT_EQ(x_ticks, (std::vector<std::string>{"100", "1000", "10"}));  // 10 with a superscript 4
  EXPECT_NE(html.find(">10<tspan dy='-5' font-size='8'>4</tspan></text>"), std::string::npos);
}

TEST(HtmlReport, ChipSectionNamesTheChipAndItsNumbers) {
  Report r = report({0.01});
  ChipReport chip;
  chip.name = "mesh4x4";
  chip.file = "chips/mesh4x4.yaml";
  chip.crossbar = "ideal";
  chip.interconnect = "mesh 4x4, xy routing";
  chip.cores = 16;
  chip.cores_used = 5;
  chip.tiles = 12;
  chip.neuron_arrays = 5;
  chip.programming_max_abs_output_error = 2.5e-7;
  chip.programming = ProgrammingReport{1000, 3, 997, 1.0, 0.002, 0.0004, 2.5e-7, 0.9995, 0.999};
  chip.timing = ChipReport::Timing{1234.5, 1200, 1210, 1290, 1300, 42, 97.5, 12.5, {{"router 1 -> router 2", 0.375}, {"bus <&>", 0.1}}};
  r.points[0].chip = chip;
  const std::string html = render_html_report(r);
  expect_clean(html);
  for (const char* s : {"<h2>Chip</h2>", "<b>mesh4x4</b>", "5 used of 16", "12, type ideal", "mesh 4x4, xy routing", "3 clipped",
                        "0.9995 (model), 0.999 (programmed)", "1234.5 ns mean", "median 1210, p99 1290, max 1300",
                        "42 messages, 97.5 router hops", "12.5 ns per inference waiting for links",
                        "router 1 -&gt; router 2 37.5%", "bus &lt;&amp;&gt; 10%"}) {
    EXPECT_NE(html.find(s), std::string::npos) << s;
  }
}

CriticalityReport criticality(int w, int h) {
  CriticalityReport c;
  c.units = 40;
  c.mesh_width = w;
  c.mesh_height = h;
  for (int i = 0; i < 5; ++i) {
    CriticalUnit u;
    u.name = "layer 1, neuron " + std::to_string(10 + i) + " (array 0, core " + std::to_string(i) + ")";
    u.kind = "neuron";
    u.spec = 0;
    u.variance = 1e-3 / (i + 1);
    if (i < 3) u.verified_variance = u.variance * 1.05;
    c.top.push_back(u);
  }
  c.spearman_top = 1.0;
  const int cores = w > 0 ? w * h : 4;
  for (int k = 0; k < cores; ++k) c.cores.push_back({k, w > 0 ? k % w : k, w > 0 ? k / w : 0, 1e-3 * (k + 1)});
  return c;
}

TEST(HtmlReport, CriticalityTableAndHeatMapOnTheMesh) {
  Report r = report({0.01});
  r.points[0].criticality = criticality(3, 2);
  const std::string html = render_html_report(r);
  keep("criticality_mesh", html);
  expect_clean(html);
  EXPECT_NE(html.find("<h2>Criticality</h2>"), std::string::npos);
  EXPECT_NE(html.find("<td>1</td><td class='name'>layer 1, neuron 10 (array 0, core 0)</td><td class='name'>neuron</td><td>faults[0]</td>"
                      "<td>0.001</td><td>0.00105</td><td>1.05</td>"),
            std::string::npos);
  const std::string map = svg_with(html, "Predicted variance per core");
  ASSERT_FALSE(map.empty());
  EXPECT_NE(map.find("mesh 3 x 2"), std::string::npos);
  // One coloured cell per core, the hottest darkest, and the scale from 0 to the maximum.
  const std::regex cell("<rect x='(\\d+)' y='(\\d+)' width='(\\d+)' height='\\d+' fill='(#[0-9a-f]{6})' stroke='#fff'><title>core (\\d+)");
  std::vector<std::string> fills;
  std::vector<std::pair<int, int>> xy;
  for (std::sregex_iterator it(map.begin(), map.end(), cell), end; it != end; ++it) {
    fills.push_back((*it)[4]);
    xy.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
  }
  ASSERT_EQ(fills.size(), 6u);
  EXPECT_EQ(fills.back(), "#7f0000");
  EXPECT_EQ(xy[4].second, xy[3].second);  // cores 3 and 4 on the second row
  EXPECT_GT(xy[3].second, xy[0].second);
  EXPECT_LT(xy[3].first, xy[4].first);
  EXPECT_NE(map.find("linearGradient"), std::string::npos);
  EXPECT_NE(map.find(">0.006</text>"), std::string::npos);  // the top of the scale
  // A line layout: one row.
  r.points[0].criticality = criticality(0, 0);
  keep("criticality_line", render_html_report(r));
  const std::string line = svg_with(render_html_report(r), "Predicted variance per core");
  EXPECT_NE(line.find("(line)"), std::string::npos);
  std::set<std::string> ys;
  for (std::sregex_iterator it(line.begin(), line.end(), cell), end; it != end; ++it) ys.insert((*it)[2]);
  EXPECT_EQ(ys.size(), 1u);
}

// A report full of numbers that are not finite still renders without nan or inf in the page.
TEST(HtmlReport, NonFiniteNumbersDoNotReachThePage) {
  Report r = report({0.001, 0.01});
  r.points[1].inputs[0].measured.std[0] = kNaN;
  r.points[1].variance_by_term[0].second = kNaN;
  r.points[1].histogram_delta.push_back(std::numeric_limits<double>::infinity());
  r.points[0].requirements = {{"b4 min_pearson 0.9", kNaN, false, ""}};
  const std::string html = render_html_report(r);
  expect_clean(html);
  EXPECT_NE(html.find("1 trial(s) with a Delta that is not finite left out"), std::string::npos);
}

}  // namespace
}  // namespace nfsim::tb
