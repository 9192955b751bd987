// report.html of real runs (issue 14 item 8): every svg well-formed, no nan/inf text, round axis
// ticks, the chip section, the requirements table, time on the x axis of a mission_hours sweep.
// Hand-built reports test the rest (tests/unit/test_html_report.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "tests/common/cli_run.h"
#include "tests/common/html_check.h"
#include "tests/common/temp_dir.h"
#include "tests/common/tiny_chip.h"

namespace nfsim::test {
namespace {

// A tiny tanh network, three random inputs.
const std::string kHead =
    "model: {generate: {widths: [3, 4, 3, 2], activation: tanh, sigma: 1.5, mu: 0.1, seed: 7}}\n"
    "inputs: {type: random, count: 3, scale: 1.0, shift: 0.0, seed: 5}\n"
    "seed: 9\n"
    "trials: 400\n";

void expect_well_formed(const std::string& html) {
  std::size_t opened = 0, nested = 0;
  for (std::size_t pos = 0; (pos = html.find("<svg", pos)) != std::string::npos; ++pos) ++opened;
  const auto svgs = svg_blocks(html);
  EXPECT_GE(svgs.size(), 4u);
  for (const auto& s : svgs) {
    EXPECT_EQ(xml_problem(s), "") << s.substr(0, 300);
    for (std::size_t pos = 1; (pos = s.find("<svg", pos)) != std::string::npos; ++pos) ++nested;
  }
  EXPECT_EQ(svgs.size() + nested, opened);
  EXPECT_EQ(non_finite_text(html), "");
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

// Tick labels along the x axis of the chart whose title holds `title`.
std::vector<std::string> x_ticks(const std::string& html, const std::string& title) {
  std::vector<std::string> out;
  for (const auto& s : svg_blocks(html)) {
    if (s.find(title) == std::string::npos) continue;
    const std::regex re("<text [^>]*text-anchor='middle' font-size='11'>([^<]*)");
    for (std::sregex_iterator it(s.begin(), s.end(), re), end; it != end; ++it) out.push_back((*it)[1]);
  }
  return out;
}

// A chip run: the chip section names the chip and its numbers, the page is well-formed, no
// requirement is shown as met, and the probability axis has its ticks at powers of ten (and 2 and 5
// times them: the points span two decades).
TEST(HtmlReportCli, ChipRunHasTheChipSectionAndRoundTicks) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kHead + tiny_chip("type: ideal", "type: rate") +
                                 "  name: tiny2x2\n"
                                 "engine: chip\nbounds: [b4]\n"
                                 "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.01}\n"
                                 "sweep:\n  key: faults[0].probability\n  values: [0.003, 0.03, 0.3]\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = read_file(dir.file("o/report.html"));
  expect_well_formed(html);
  EXPECT_EQ(html.find("Requirements: "), std::string::npos);
  EXPECT_NE(html.find("No requirements"), std::string::npos);
  EXPECT_EQ(html.find("with magnitude bounds"), std::string::npos);  // none requested
  for (const char* s : {"<h2>Chip</h2>", "<b>tiny2x2</b>", "used of 4", "type ideal", "inference latency", "router hops"}) {
    EXPECT_NE(html.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(x_ticks(html, "Error std vs fault probability"), (std::vector<std::string>{"0.005", "0.01", "0.02", "0.05", "0.1", "0.2"}));
}

// Requirements: each one's measured value, threshold and result; the page says NOT met (exit 3).
TEST(HtmlReportCli, RequirementsTableShowsWhatWasJudged) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kHead + "bounds: [b4, worst_case]\nfaults:\n  - {kind: neuron_crash, layers: [1], probability: 0.05}\n"
                                         "require:\n  b4: {max_median_rel_err: 0}\n  worst_case: holds\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 3) << r.err;
  const std::string html = read_file(dir.file("o/report.html"));
  expect_well_formed(html);
  EXPECT_NE(html.find("Requirements: <b class='bad'>NOT met</b>"), std::string::npos);
  EXPECT_NE(html.find("<td class='name'>b4 max_median_rel_err 0</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>&#8804; 0</td><td class='bad'>NOT met</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class='name'>worst_case holds</td>"), std::string::npos);
  EXPECT_NE(html.find("with magnitude bounds"), std::string::npos);
}

// A FIT campaign swept over mission_hours: the plots over sweep points have time on the x axis.
TEST(HtmlReportCli, MissionHoursSweepHasTimeOnTheXAxis) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kHead + "bounds: [b4]\nfaults:\n  - {kind: neuron_crash, layers: [1], fit: 1000000, mission_hours: 1}\n"
                                         "sweep:\n  key: faults[0].mission_hours\n  values: [10, 100, 1000]\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = read_file(dir.file("o/report.html"));
  expect_well_formed(html);
  EXPECT_NE(html.find("Error std vs mission time"), std::string::npos);
  EXPECT_NE(html.find("mission time (hours, faults[0].mission_hours) (log)"), std::string::npos);
  EXPECT_EQ(x_ticks(html, "Error std vs mission time"), (std::vector<std::string>{"10", "100", "1000"}));
}

}  // namespace
}  // namespace nfsim::test

namespace nfsim::test {
namespace {

// A chip campaign with `criticality:`: the page has the ranking table and the heat map of the
// 2x2 mesh (one cell per core, the scale), well-formed, and headless Chromium renders it.
TEST(HtmlReportCli, CriticalityTableAndHeatMapOfARealRun) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kHead + tiny_chip("type: ideal", "type: rate") +
                                 "engine: functional\nbounds: [b4]\ncriticality: {top: 6, verify: 3}\n"
                                 "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.02}\n"
                                 "  - {kind: router, probability: 0.01, persistence: permanent}\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = read_file(dir.file("o/report.html"));
  expect_well_formed(html);
  EXPECT_NE(html.find("<h2>Criticality</h2>"), std::string::npos);
  const auto json = nlohmann::json::parse(read_file(dir.file("o/report.json")));
  const auto& top = json["points"][0]["criticality"]["top"];
  ASSERT_EQ(top.size(), 6u);
  // The table lists the report's units in its order.
  std::size_t at = 0;
  for (const auto& u : top) {
    at = html.find("<td class='name'>" + u["name"].get<std::string>() + "</td>", at);
    ASSERT_NE(at, std::string::npos) << u["name"];
  }
  std::string map;
  for (const auto& s : svg_blocks(html)) {
    if (s.find("Predicted variance per core (mesh 2 x 2)") != std::string::npos) map = s;
  }
  ASSERT_FALSE(map.empty());
  std::size_t cells = 0;
  for (std::size_t pos = 0; (pos = map.find("<title>core ", pos)) != std::string::npos; ++pos) ++cells;
  EXPECT_EQ(cells, 4u);
  EXPECT_NE(map.find("linearGradient"), std::string::npos);
  if (!have_chromium()) GTEST_SKIP() << "chromium not installed";
  expect_renders_in_chromium(dir.file("o/report.html"), dir.file("shot.png"));
}

}  // namespace
}  // namespace nfsim::test
