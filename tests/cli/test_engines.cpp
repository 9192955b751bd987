// Engines through the command line: the registry listing, the exact engine against Monte Carlo and
// b4, refusals of what an engine cannot honour, and the zero-fault invariant over every engine and
// every registered component (built in and from plug-ins).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"
#include "tests/common/tiny_chip.h"

namespace nfsim::test {
namespace {

// Component types from outside nfsim: a neuron model other than rate (a test plug-in), and the two
// example plug-ins (a stuck-on crossbar and a saturating neuron array).
const std::string kPlugin = std::string("--plugin ") + NFSIM_SCALED_NEURON_PLUGIN + " --plugin " + NFSIM_STUCK_ON_PLUGIN +
                            " --plugin " + NFSIM_SATURATING_PLUGIN;

nlohmann::json report_of(const TempDir& dir, const std::string& out) {
  return nlohmann::json::parse(read_file(dir.file(out + "/report.json")));
}

std::size_t lines_in(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// A tiny tanh network and three random inputs: small enough to enumerate every fault subset.
const std::string kTinyHead =
    "model: {generate: {widths: [3, 4, 3, 2], activation: tanh, sigma: 1.5, mu: 0.1, seed: 7}}\n"
    "inputs: {type: random, count: 3, scale: 1.0, shift: 0.0, seed: 5}\n"
    "seed: 9\n"
    "bounds: [b4]\n";

TEST(Engines, ListShowsEachEngineAndWhatItHonours) {
  TempDir dir;
  const CliRun r = nfsim("list", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto at = r.out.find("engines (engine:");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string engines = r.out.substr(at);
  for (const char* name : {"exact", "functional", "chip"}) EXPECT_NE(engines.find(std::string("  ") + name + " "), std::string::npos) << name;
  EXPECT_NE(engines.find("at most 24 units"), std::string::npos) << engines;
  EXPECT_NE(engines.find("onset times, read noise, any neuron model, physical faults, needs a chip"), std::string::npos) << engines;
  EXPECT_NE(engines.find("built-in neurons only (rate, lif, if), physical faults, threads"), std::string::npos) << engines;
}

struct ExactCase {
  const char* name;
  std::string faults;  // one spec whose probability the test scales
  double p;
};

class ExactEngine : public ::testing::TestWithParam<ExactCase> {};

// Exact moments vs Monte Carlo (inside the 99.9% interval) and vs b4 (exact to first order in p:
// the error of b4's mean and variance shrinks like p^2, so halving p divides it by about 4).
TEST_P(ExactEngine, AgreesWithMonteCarloAndWithB4ToFirstOrder) {
  const ExactCase& c = GetParam();
  TempDir dir;
  write_file(dir.file("c.yaml"), kTinyHead + "faults:\n" + c.faults + "trials: 200000\nblock_trials: 4096\n");
  auto run = [&](const std::string& engine, double p, const std::string& out) {
    std::ostringstream prob;
    prob.precision(17);
    prob << p;
    const CliRun r = nfsim("run " + dir.file("c.yaml") + " --engine " + engine + " --set faults[0].probability=" + prob.str() +
                               " --out " + dir.file(out),
                           dir);
    EXPECT_EQ(r.code, 0) << r.err;
    return report_of(dir, out);
  };
  const nlohmann::json exact = run("exact", c.p, "exact");
  const nlohmann::json mc = run("functional", c.p, "mc");
  const nlohmann::json exact_half = run("exact", c.p / 2, "exact_half");
  const auto& stop = exact["points"][0]["stopping"];
  EXPECT_EQ(stop["rule"], "exact");
  EXPECT_GT(stop["units_enumerated"].get<int>(), 0);
  EXPECT_EQ(stop["subsets"].get<std::uint64_t>(), std::uint64_t{1} << stop["units_enumerated"].get<int>());
  const double widen = 3.2905267314918945 / 1.959963984540054;  // 95% -> 99.9% half-width
  double err_mean = 0, err_var = 0, err_mean_half = 0, err_var_half = 0;
  std::size_t compared = 0;
  for (std::size_t n = 0; n < exact["points"][0]["inputs"].size(); ++n) {
    const auto& e = exact["points"][0]["inputs"][n];
    const auto& m = mc["points"][0]["inputs"][n]["measured"];
    const auto& h = exact_half["points"][0]["inputs"][n];
    for (std::size_t k = 0; k < e["measured"]["mean"].size(); ++k) {
      const double em = e["measured"]["mean"][k], es = e["measured"]["std"][k];
      // Zero-width intervals for the exact engine.
      EXPECT_EQ(e["measured"]["ci95"]["mean"]["lo"][k].get<double>(), em);
      EXPECT_EQ(e["measured"]["ci95"]["std"]["hi"][k].get<double>(), es);
      const double mean_hw = widen * (m["ci95"]["mean"]["hi"][k].get<double>() - m["ci95"]["mean"]["lo"][k].get<double>()) / 2;
      const double std_hw = widen * (m["ci95"]["std"]["hi"][k].get<double>() - m["ci95"]["std"]["lo"][k].get<double>()) / 2;
      EXPECT_LE(std::abs(m["mean"][k].get<double>() - em), mean_hw) << c.name << " input " << n << " output " << k;
      EXPECT_LE(std::abs(m["std"][k].get<double>() - es), std_hw) << c.name << " input " << n << " output " << k;
      ++compared;
      const double b4m = e["bounds"]["b4"]["mean"][k], b4s = e["bounds"]["b4"]["std"][k];
      err_mean += std::abs(b4m - em);
      err_var += std::abs(b4s * b4s - es * es);
      const double hm = h["measured"]["mean"][k], hs = h["measured"]["std"][k];
      const double hb4m = h["bounds"]["b4"]["mean"][k], hb4s = h["bounds"]["b4"]["std"][k];
      err_mean_half += std::abs(hb4m - hm);
      err_var_half += std::abs(hb4s * hb4s - hs * hs);
    }
  }
  EXPECT_EQ(compared, 6u);
  // Second order: halving p divides the error by 4 (3 to 5 leaves room for the p^3 terms).
  EXPECT_GT(err_mean / err_mean_half, 3.0) << c.name << ": " << err_mean << " vs " << err_mean_half;
  EXPECT_LT(err_mean / err_mean_half, 5.0) << c.name;
  EXPECT_GT(err_var / err_var_half, 3.0) << c.name << ": " << err_var << " vs " << err_var_half;
  EXPECT_LT(err_var / err_var_half, 5.0) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ExactEngine,
    ::testing::Values(ExactCase{"neuron_crash", "  - {kind: neuron_crash, layers: [1, 2], probability: 0.05}\n", 0.05},
                      ExactCase{"synapse_crash", "  - {kind: synapse_crash, layers: [2], probability: 0.04}\n", 0.04},
                      ExactCase{"group_crash",
                                "  - kind: group_crash\n    probability: 0.08\n    persistence: permanent\n    groups:\n"
                                "      - {name: pair, neurons: [[1, 0], [1, 1]]}\n"
                                "      - {name: wires, synapses: [[2, 0, 1], [3, 1, 2]]}\n"
                                "      - {name: one, neurons: [[2, 2]]}\n",
                                0.08}),
    [](const ::testing::TestParamInfo<ExactCase>& i) { return std::string(i.param.name); });

TEST(Engines, ExactIsRefusedAboveItsUnitLimit) {
  TempDir dir;
  write_file(dir.file("c.yaml"),
             "model: {generate: {widths: [4, 30, 2], activation: relu, sigma: 1.0, mu: 0.0, seed: 1}}\n"
             "inputs: {type: random, count: 2, scale: 1.0, shift: 0.0, seed: 1}\n"
             "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.01}\n"
             "engine: exact\ntrials: 10\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("engine 'exact'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at most 24 units"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("has 30"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/report.json")));
}

// Each engine refuses, before any trial and with one message, what it cannot honour.
TEST(Engines, ComponentsAnEngineCannotHonourAreRefused) {
  TempDir dir;
  const std::string faults = "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.05}\ntrials: 20\n";
  write_file(dir.file("noisy.yaml"), tiny_chip("type: noisy, read_noise_std: 0.01", "type: rate"));
  write_file(dir.file("custom.yaml"), tiny_chip("type: ideal", "type: test_scaled"));
  write_file(dir.file("noisy_c.yaml"), kTinyHead + "chip: noisy.yaml\n" + faults);
  write_file(dir.file("custom_c.yaml"), kTinyHead + "chip: custom.yaml\n" + faults);
  write_file(dir.file("nochip_c.yaml"), kTinyHead + faults);
  struct Refusal {
    std::string engine, campaign, fragment;
  };
  const std::vector<Refusal> cases = {
      {"functional", "noisy_c.yaml", "crossbar type 'noisy': it adds read noise, which only the chip engine models"},
      {"exact", "noisy_c.yaml", "crossbar type 'noisy': it adds read noise, which only the chip engine models"},
      {"functional", "custom_c.yaml", "neuron-array type 'test_scaled'"},
      {"exact", "custom_c.yaml", "neuron-array type 'test_scaled'"},
      {"chip", "nochip_c.yaml", "the chip engine needs a topology"},
  };
  for (const auto& c : cases) {
    const CliRun r = nfsim(kPlugin + " run " + dir.file(c.campaign) + " --engine " + c.engine + " --out " + dir.file("out"), dir);
    EXPECT_EQ(r.code, 2) << c.engine << " " << c.campaign << ": " << r.err;
    EXPECT_EQ(lines_in(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.engine << ": " << r.err;
    if (c.engine != "chip") EXPECT_NE(r.err.find("engine '" + c.engine + "' cannot honour"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("out/report.json"))) << c.engine;
  }
  // The engine that can honour them runs them; the report names the components and plug-ins.
  for (const char* campaign : {"noisy_c.yaml", "custom_c.yaml"}) {
    const CliRun r = nfsim(kPlugin + " run " + dir.file(campaign) + " --engine chip --out " + dir.file("ok"), dir);
    EXPECT_EQ(r.code, 0) << campaign << ": " << r.err;
  }
  const std::string html = read_file(dir.file("ok/report.html"));
  EXPECT_NE(html.find("<h2>Chip</h2>"), std::string::npos);
  EXPECT_NE(html.find("test_scaled(gain=0.5)"), std::string::npos);  // describe() of the plug-in neuron model
  EXPECT_NE(html.find("<h2>Plug-ins</h2>"), std::string::npos);
  EXPECT_NE(html.find(NFSIM_SCALED_NEURON_PLUGIN), std::string::npos);
  const nlohmann::json report = report_of(dir, "ok");
  EXPECT_EQ(report["points"][0]["chip"]["components"]["neuron_array"]["type"], "test_scaled");
  EXPECT_EQ(report["plugins"].size(), 3u);
}

// The component types `nfsim list` shows under a section title (lines "  name  description").
std::vector<std::string> types_in_section(const std::string& listing, const std::string& title) {
  std::vector<std::string> names;
  std::istringstream in(listing.substr(listing.find(title)));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && line.rfind("  ", 0) == 0) {
    if (line.rfind("      ", 0) == 0) continue;  // a parameter line
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

// Every measured statistic of Delta (mean, std, mean and max |Delta|) of a report point is 0.
void expect_zero_delta(const nlohmann::json& point, const std::string& what) {
  for (const auto& in : point["inputs"]) {
    for (const char* stat : {"mean", "std", "mean_abs", "max_abs"}) {
      for (const auto& v : in["measured"][stat]) EXPECT_EQ(v.get<double>(), 0.0) << what << " " << stat;
    }
  }
}

// With every fault probability at 0, Delta is exactly 0 on every engine for every registered
// crossbar and neuron type (built in and from the test plug-in; spiking ones with a spiking
// campaign), every fault kind present; the components' own deviation from the network is
// reported apart, in the chip section.
TEST(Engines, ZeroFaultProbabilityGivesZeroDeltaOnEveryEngineForEveryComponent) {
  TempDir dir;
  const CliRun listing = nfsim(kPlugin + " list", dir);
  ASSERT_EQ(listing.code, 0) << listing.err;
  const auto crossbars = types_in_section(listing.out, "crossbar types");
  const auto neurons = types_in_section(listing.out, "neuron-array types");
  const auto engines = types_in_section(listing.out, "engines (");
  ASSERT_GE(crossbars.size(), 4u) << listing.out;  // ideal, noisy, quantized, stuck_on
  ASSERT_GE(neurons.size(), 5u) << listing.out;    // if, lif, rate, saturating, test_scaled
  ASSERT_GE(engines.size(), 3u) << listing.out;
  // Values for parameters a type requires, and the noise off (read noise is an error source of its
  // own: with read_noise_std > 0, Delta at p = 0 is that noise; see docs/chip.md).
  const std::map<std::string, std::string> settings = {{"noisy", ", read_noise_std: 0"}};
  const std::string zero_faults =
      "faults:\n"
      "  - {kind: neuron_crash, layers: [0, 1, 2, 3], probability: 0}\n"
      "  - {kind: synapse_crash, layers: [1, 2, 3], probability: 0}\n"
      "  - {kind: neuron_stuck_at, layers: [1], probability: 0, value: 1.5}\n"
      "  - {kind: synapse_stuck_at, layers: [2], probability: 0, value: -2}\n"
      "  - {kind: weight_bit_flip, layers: [1], probability: 0, bit: 3}\n"
      "  - {kind: group_crash, probability: 0, groups: [{name: g, neurons: [[1, 0]], synapses: [[2, 1, 1]]}]}\n"
      "  - {kind: crossbar_row, probability: 0}\n"
      "  - {kind: crossbar_column, probability: 0, persistence: permanent}\n"
      "  - {kind: crossbar_tile, probability: 0}\n"
      "  - {kind: neuron_array, probability: 0}\n"
      "  - {kind: router, probability: 0, persistence: permanent}\n"
      "trials: 40\n";
  // The spiking types (lif, if) run a spiking campaign (a rate one is refused on them): a relu
  // network, inputs that are spike rates.
  write_file(dir.file("rates.csv"), "0.1,0.5,0.9\n0,0.25,0.75\n1,0.6,0.3\n");
  const std::string spiking_head = "model: {generate: {widths: [3, 4, 3, 2], activation: relu, sigma: 1.5, mu: 0.1, seed: 7}}\n"
                                   "inputs: {path: rates.csv}\nspiking: {time_steps: 8}\nseed: 9\nbounds: [b4]\n";
  std::size_t ran = 0, refused = 0;
  for (const auto& crossbar : crossbars) {
    for (const auto& neuron : neurons) {
      const bool spiking = neuron == "lif" || neuron == "if";
      const std::string chip = crossbar + "_" + neuron + ".yaml";
      const auto extra = settings.find(crossbar);
      write_file(dir.file(chip), tiny_chip("type: " + crossbar + (extra == settings.end() ? "" : extra->second), "type: " + neuron));
      write_file(dir.file("c_" + chip), (spiking ? spiking_head : kTinyHead) + "chip: " + chip + "\n" + zero_faults);
      for (const auto& engine : engines) {
        const std::string what = engine + " / " + crossbar + " / " + neuron;
        const std::string out = "out_" + engine + "_" + crossbar + "_" + neuron;
        const CliRun r = nfsim(kPlugin + " run " + dir.file("c_" + chip) + " --engine " + engine + " --out " + dir.file(out), dir);
        if (r.code == 2 && r.err.find("cannot honour") != std::string::npos) {
          ++refused;  // refused before any trial: allowed, and tested above
          continue;
        }
        ASSERT_EQ(r.code, 0) << what << ": " << r.err;
        ++ran;
        const nlohmann::json report = report_of(dir, out);
        const auto& point = report["points"][0];
        expect_zero_delta(point, what);
        ASSERT_TRUE(point["chip"].contains("fault_free_max_abs_output_error")) << what;
        const double deviation = point["chip"]["fault_free_max_abs_output_error"];
        // A rate model other than rate changes the fault-free outputs; it shows there, not in Delta.
        if (neuron != "rate" && !spiking && engine == "chip") EXPECT_GT(deviation, 1e-3) << what;
      }
    }
  }
  EXPECT_GE(ran, crossbars.size() * neurons.size());  // the chip engine runs every combination
  EXPECT_GT(refused, 0u);
}

// The same invariant for every interconnect: each registered interconnect model (the mesh with
// both routings) and each TLM-2.0 interconnect module of the test plug-ins (the token-ring example
// and the module written from the protocol alone), on every engine.
TEST(Engines, ZeroFaultProbabilityGivesZeroDeltaOnEveryEngineForEveryInterconnect) {
  TempDir dir;
  const std::string plugins = std::string("--plugin ") + NFSIM_TOKEN_RING_PLUGIN + " --plugin " + NFSIM_DIRECT_TLM_PLUGIN;
  const CliRun listing = nfsim(plugins + " list", dir);
  ASSERT_EQ(listing.code, 0) << listing.err;
  const auto models = types_in_section(listing.out, "interconnect types");
  const auto modules = types_in_section(listing.out, "TLM-2.0 interconnect modules");
  const auto engines = types_in_section(listing.out, "engines (");
  ASSERT_GE(models.size(), 2u) << listing.out;   // bus, mesh
  ASSERT_GE(modules.size(), 3u) << listing.out;  // test_broken, test_direct, token_ring
  std::vector<std::pair<std::string, bool>> sections;  // the chip's interconnect line, whether it has routers
  for (const auto& m : models) {
    sections.push_back({"interconnect: {type: " + m + "}", m == "mesh"});
    if (m == "mesh") sections.push_back({"interconnect: {type: mesh, routing: fault_tolerant}", true});
  }
  for (const auto& m : modules) {
    if (m != "test_broken") sections.push_back({"tlm_interconnect: {type: " + m + "}", false});
  }
  const std::string faults =
      "faults:\n"
      "  - {kind: neuron_crash, layers: [0, 1, 2, 3], probability: 0}\n"
      "  - {kind: synapse_crash, layers: [1, 2, 3], probability: 0}\n"
      "  - {kind: crossbar_tile, probability: 0}\n"
      "  - {kind: neuron_array, probability: 0, persistence: permanent}\n";
  std::size_t ran = 0;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const std::string chip = "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
                             "  crossbar: {type: ideal, rows: 4, cols: 4}\n  neuron_array: {type: rate, size: 4}\n  " +
                             sections[i].first + "\n";
    const std::string name = "ic" + std::to_string(i);
    write_file(dir.file(name + ".yaml"), chip);
    write_file(dir.file(name + "_c.yaml"), kTinyHead + "chip: " + name + ".yaml\n" + faults +
                                               (sections[i].second ? "  - {kind: router, probability: 0}\n" : "") + "trials: 40\n");
    for (const auto& engine : engines) {
      const std::string what = engine + " / " + sections[i].first;
      const std::string out = "out_" + engine + "_" + name;
      const CliRun r = nfsim(plugins + " run " + dir.file(name + "_c.yaml") + " --engine " + engine + " --out " + dir.file(out), dir);
      ASSERT_EQ(r.code, 0) << what << ": " << r.err;
      ++ran;
      const nlohmann::json report = report_of(dir, out);
      const auto& point = report["points"][0];
      expect_zero_delta(point, what);
    }
  }
  EXPECT_EQ(ran, sections.size() * engines.size());
}

// An engine registered by a plug-in is listed, selected by name and run; a second library
// registering the same engine name is refused naming both.
TEST(Engines, AnEngineFromAPlugInRunsAndItsNameIsTakenOnce) {
  TempDir dir;
  const std::string plugin = std::string(" --plugin ") + NFSIM_ZERO_ENGINE_PLUGIN;
  CliRun r = nfsim(plugin + " list", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  test_zero "), std::string::npos) << r.out;
  write_file(dir.file("c.yaml"), kTinyHead + "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.3}\ntrials: 50\n");
  r = nfsim(plugin + " run " + dir.file("c.yaml") + " --engine test_zero --out " + dir.file("out"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json report = report_of(dir, "out");
  EXPECT_EQ(report["campaign"]["engine"], "test_zero");
  EXPECT_EQ(report["points"][0]["trials"].get<int>(), 50);
  for (const auto& v : report["points"][0]["inputs"][0]["measured"]["std"]) EXPECT_EQ(v.get<double>(), 0.0);
  r = nfsim(plugin + " --plugin " + NFSIM_ZERO_ENGINE_PLUGIN_COPY + " list", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("engine type 'test_zero' is registered twice"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nfsim_test_zero_engine_2"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nfsim::test
