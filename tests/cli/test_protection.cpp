// Protection through the command line (docs/faults.md, "Protection"; docs/harden.md): TMR chosen
// by `nfsim harden` lowers the measured variance by what it predicts; the replica certificate of
// Algorithm 1 holds by Monte Carlo; spares repair what the docs say, with the exact engine as the
// oracle and the chip engine agreeing trial by trial; with every probability 0, Delta is 0.
#include <gtest/gtest.h>


#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

// The first number after `label` in `text` and, when `interval`, the two bounds of the
// "[lo, hi]" that follows it.
std::vector<double> numbers_after(const std::string& text, const std::string& label, std::size_t count) {
  const auto at = text.find(label);
  EXPECT_NE(at, std::string::npos) << "'" << label << "' not in:\n" << text;
  std::vector<double> out;
  if (at == std::string::npos) return std::vector<double>(count, NAN);
  const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  const std::string rest = text.substr(at + label.size());
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), number); it != std::sregex_iterator() && out.size() < count; ++it) {
    out.push_back(std::stod(it->str()));
  }
  return out;
}

// harden's predicted reduction is positive and inside the measured reduction's interval, widened
// on each side by `slack` times the prediction (what the first-order model leaves out).
void expect_predicted_reduction_measured(const CliRun& r, double slack) {
  const auto predicted = numbers_after(r.out, "predicted (first order)", 3);
  const auto reduction = numbers_after(r.out, "    reduction", 3);
  EXPECT_GT(predicted[2], 0.0) << r.out;
  EXPECT_GE(predicted[2], reduction[1] - slack * predicted[2]) << r.out;
  EXPECT_LE(predicted[2], reduction[2] + slack * predicted[2]) << r.out;
}

const std::string kSmall =
    "model: {generate: {widths: [6, 8, 8, 3], activation: tanh, seed: 3}}\n"
    "inputs: {type: random, count: 4, seed: 1}\n"
    "faults:\n"
    "  - {kind: neuron_crash, layers: [1, 2], probability: 0.02}\n"
    "  - {kind: synapse_crash, layers: [3], probability: 0.02}\n"
    "trials: 16384\n"
    "seed: 7\n";

// TMR on the N units harden picks: the measured reduction of the variance (before minus after,
// same seed, batch-means interval) contains the predicted one, and the measured variance after
// is below the one before.
TEST(Harden, TmrOnTheTopUnitsLowersTheMeasuredVarianceByThePrediction) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kSmall);
  const CliRun r = nfsim("harden " + dir.file("c.yaml") + " --budget 4 --confidence 0.99", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto predicted = numbers_after(r.out, "predicted (first order)", 3);  // before, after, reduction
  const auto before = numbers_after(r.out, "    before", 3), after = numbers_after(r.out, "    after", 3);
  const auto reduction = numbers_after(r.out, "    reduction", 3);
  EXPECT_NEAR(predicted[0] - predicted[1], predicted[2], 1e-5 * predicted[2]);  // printed to 6 digits
  EXPECT_GT(predicted[2], 0.0);
  EXPECT_GE(predicted[2], reduction[1]) << r.out;
  EXPECT_LE(predicted[2], reduction[2]) << r.out;
  EXPECT_LT(after[2], before[1]) << r.out;  // the whole interval after lies below the one before
  // The predicted levels are first order (b4 with p(1-p)): within 10% of the measured ones.
  EXPECT_NEAR(predicted[0], before[0], 0.1 * before[0]) << r.out;
  EXPECT_NEAR(predicted[1], after[0], 0.1 * after[0]) << r.out;
  // The printed protection: entry, pasted into the campaign, gives the "after" run's variance.
  const auto at = r.out.find("protection:");
  ASSERT_NE(at, std::string::npos) << r.out;
  write_file(dir.file("p.yaml"), kSmall + r.out.substr(at));
  const CliRun again = nfsim("harden " + dir.file("p.yaml") + " --budget 1 --confidence 0.99", dir);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NEAR(numbers_after(again.out, "predicted (first order)", 1)[0], predicted[1], 1e-5 * predicted[1]) << again.out;
  EXPECT_NEAR(numbers_after(again.out, "    before", 1)[0], after[0], 1e-12 + 1e-9 * after[0]) << again.out;
}

// The accuracy-drop metric ranks by accuracy lost and is measured on labelled inputs.
TEST(Harden, AccuracyDropMetricIsPredictedAndMeasured) {
  TempDir dir;
  const std::string head = "model: {generate: {widths: [6, 8, 3], activation: tanh, seed: 3}}\n";
  // Labels: the fault-free network's own classes (a trial at p = 0 gives the fault-free outputs).
  write_file(dir.file("clean.yaml"), head + "inputs: {type: random, count: 20, seed: 1}\n"
                                            "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0}\ntrials: 1\n");
  ASSERT_EQ(nfsim("run " + dir.file("clean.yaml") + " --trial-outputs 1 --out " + dir.file("clean"), dir).code, 0);
  std::istringstream csv(read_file(dir.file("clean/trial_outputs_0.csv")));
  std::string line, labels;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    std::vector<double> v;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) v.push_back(std::stod(cell));
    labels += std::to_string(std::max_element(v.begin() + 2, v.end()) - (v.begin() + 2)) + "\n";
  }
  write_file(dir.file("labels.csv"), labels);
  write_file(dir.file("c.yaml"), head + "inputs: {type: random, count: 20, seed: 1, labels: labels.csv}\n"
                                        "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.02}\ntrials: 32768\nseed: 3\n");
  const CliRun r = nfsim("harden " + dir.file("c.yaml") + " --budget 2 --metric accuracy_drop --confidence 0.99", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  // First order in p: at p = 0.02 the measured reduction is within its 99% interval, widened by
  // 5% of the prediction for the interactions of two faults (measured: docs/harden.md).
  expect_predicted_reduction_measured(r, 0.05);
}

// The paper's certificate: when Var/(eps - |mean|)^2 < 1/3 per replica (b4), the median of R
// replicas fails (|Delta_k| > eps) less often than the binomial tail bound nfsim prints, and one
// replica fails less often than Chebyshev's c; checked by Monte Carlo.
TEST(Harden, ReplicaCertificateHoldsByMonteCarlo) {
  TempDir dir;
  write_file(dir.file("c.yaml"),
             "model: {generate: {widths: [6, 8, 8, 3], activation: tanh, seed: 3}}\n"
             "inputs: {type: random, count: 4, seed: 1}\n"
             "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.05}\ntrials: 3000\nseed: 7\n");
  const CliRun r = nfsim("harden " + dir.file("c.yaml") + " --replicas --epsilon 0.08 --delta 0.01", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const double c = numbers_after(r.out, "Var/(eps - |mean|)^2 =", 1)[0];
  EXPECT_LT(c, 1.0 / 3.0) << r.out;
  EXPECT_NE(r.out.find("below 1/3"), std::string::npos) << r.out;
  const auto paper = numbers_after(r.out, "paper's R = ceil(2 ln(1/delta) / ln 3) =", 1);
  EXPECT_EQ(paper[0], std::ceil(2 * std::log(100.0) / std::log(3.0)));
  const double tail = numbers_after(r.out, "P(Bin(R, c) >= R/2) =", 1)[0];
  const auto single = numbers_after(r.out, "one replica    failure rate", 1);
  const auto median = numbers_after(r.out, "failure rate", 6);  // single, its upper; median R, rate, lo, hi
  EXPECT_GT(single[0], 0.0) << "the example should make single replicas fail sometimes: " << r.out;
  EXPECT_LE(single[0], c) << r.out;  // Chebyshev per replica
  EXPECT_LE(median[3], single[0]) << r.out;
  EXPECT_LE(median[4], tail) << r.out;
  EXPECT_NE(r.out.find("certificate holds"), std::string::npos) << r.out;
}

std::string tiny_chip(int cols) {
  return "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
         "  crossbar: {type: ideal, rows: 4, cols: " + std::to_string(cols) + "}\n"
         "  neuron_array: {type: rate, size: 4}\n"
         "  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n";
}

const std::string kTiny =
    "model: {generate: {widths: [3, 4, 3, 2], activation: tanh, sigma: 1.5, mu: 0.1, seed: 7}}\n"
    "inputs: {type: random, count: 3, scale: 1.0, shift: 0.0, seed: 5}\n"
    "seed: 9\nbounds: [b4]\nchip: chip.yaml\n";

nlohmann::json report(const TempDir& dir, const std::string& out) {
  return nlohmann::json::parse(read_file(dir.file(out + "/report.json")));
}

// With spares, a unit's gain is its tile's (the spare it no longer needs repairs another column):
// the predicted reduction is within the measured interval (widened by 10% of the prediction for
// the first-order model, which treats the columns of a tile as independent), as without spares.
TEST(Harden, SparedColumnsAreCreditedWithTheirTilesGain) {
  TempDir dir;
  write_file(dir.file("chip.yaml"), tiny_chip(4));
  write_file(dir.file("c.yaml"), kTiny + "faults:\n  - {kind: crossbar_column, probability: 0.1, persistence: permanent}\n"
                                         "protection: {spares: {columns: 1}}\ntrials: 65536\nblock_trials: 1024\nengine: functional\n");
  const CliRun r = nfsim("harden " + dir.file("c.yaml") + " --budget 2 --confidence 0.99", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(numbers_after(r.out, "    reduction", 3)[1], 0.0) << r.out;  // protecting the chosen columns helps, measurably
  expect_predicted_reduction_measured(r, 0.1);
}

// Spares on a tiny chip (tiles of 4, 3 and 2 columns): the exact engine enumerates every subset
// of dead columns with the repair applied; Monte Carlo (functional) agrees with it; the chip
// engine gives the functional engine's outputs trial by trial; enough spares for the widest tile
// repair everything (Delta exactly 0); and b4 with each column's dead-and-not-repaired
// probability is within the measured error of docs/bounds.md at p = 0.05.
TEST(Spares, RepairWhatTheDocsSayOnEveryEngine) {
  TempDir dir;
  write_file(dir.file("chip.yaml"), tiny_chip(4));
  auto campaign = [&](double p, int spares, const std::string& extra) {
    std::ostringstream s;
    s << kTiny << "faults:\n  - {kind: crossbar_column, probability: " << p << ", persistence: permanent}\n"
      << "protection: {spares: {columns: " << spares << "}}\n" << extra;
    return s.str();
  };
  auto run = [&](const std::string& yaml, const std::string& args, const std::string& out) {
    write_file(dir.file(out + ".yaml"), yaml);
    const CliRun r = nfsim("run " + dir.file(out + ".yaml") + " " + args + " --out " + dir.file(out), dir);
    EXPECT_EQ(r.code, 0) << r.err;
    return report(dir, out);
  };
  const auto exact = run(campaign(0.3, 1, ""), "--engine exact", "exact");
  const auto none = run(campaign(0.3, 0, ""), "--engine exact", "none");
  const auto mc = run(campaign(0.3, 1, "trials: 60000\nblock_trials: 4096\n"), "", "mc");
  const double widen = 3.2905267314918945 / 1.959963984540054;  // 95% -> 99.9%
  for (std::size_t n = 0; n < 3; ++n) {
    const auto& e = exact["points"][0]["inputs"][n]["measured"];
    const auto& m = mc["points"][0]["inputs"][n]["measured"];
    const auto& z = none["points"][0]["inputs"][n]["measured"];
    for (std::size_t k = 0; k < 2; ++k) {
      const double hw = widen * (m["ci95"]["std"]["hi"][k].get<double>() - m["ci95"]["std"]["lo"][k].get<double>()) / 2;
      const double mhw = widen * (m["ci95"]["mean"]["hi"][k].get<double>() - m["ci95"]["mean"]["lo"][k].get<double>()) / 2;
      EXPECT_NEAR(m["mean"][k].get<double>(), e["mean"][k].get<double>(), mhw) << n << " " << k;
      EXPECT_NEAR(m["std"][k].get<double>(), e["std"][k].get<double>(), hw) << n << " " << k;
      EXPECT_LT(e["std"][k].get<double>(), z["std"][k].get<double>()) << "a spare per tile must remove error";
    }
  }
  // Chip and functional engines: the same repaired faults, the same outputs trial by trial.
  const std::string few = campaign(0.3, 1, "trials: 40\n");
  run(few, "--engine chip --trial-outputs 40", "on_chip");
  run(few, "--engine functional --trial-outputs 40", "fun");
  const std::string a = read_file(dir.file("on_chip/trial_outputs_0.csv")), b = read_file(dir.file("fun/trial_outputs_0.csv"));
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  std::size_t rows = 0;
  std::getline(sa, la);
  std::getline(sb, lb);
  while (std::getline(sa, la) && std::getline(sb, lb)) {
    std::istringstream ca(la), cb(lb);
    std::string va, vb;
    for (int col = 0; std::getline(ca, va, ',') && std::getline(cb, vb, ','); ++col) {
      if (col >= 2) EXPECT_NEAR(std::stod(va), std::stod(vb), 1e-9 * (1 + std::abs(std::stod(vb)))) << la << " vs " << lb;
    }
    ++rows;
  }
  EXPECT_EQ(rows, 120u);
  // As many spares as the widest tile has columns: every dead column is repaired.
  for (const char* engine : {"exact", "functional", "chip"}) {
    const auto all = run(campaign(0.5, 4, "trials: 50\n"), std::string("--engine ") + engine, std::string("all_") + engine);
    for (const auto& in : all["points"][0]["inputs"]) {
      for (const auto& v : in["measured"]["max_abs"]) EXPECT_EQ(v.get<double>(), 0.0) << engine;
    }
  }
  // b4 against the exact engine at p = 0.05 (docs/bounds.md, "Protection"): mean within 2%,
  // variance within 5% (summed relative errors over inputs and outputs).
  const auto small = run(campaign(0.05, 1, ""), "--engine exact", "small");
  double dm = 0, m = 0, dv = 0, v = 0;
  for (const auto& in : small["points"][0]["inputs"]) {
    for (std::size_t k = 0; k < 2; ++k) {
      const double em = in["measured"]["mean"][k], es = in["measured"]["std"][k];
      const double bm = in["bounds"]["b4"]["mean"][k], bs = in["bounds"]["b4"]["std"][k];
      dm += std::abs(bm - em);
      m += std::abs(em);
      dv += std::abs(bs * bs - es * es);
      v += es * es;
    }
  }
  EXPECT_LT(dm / m, 0.02);
  EXPECT_LT(dv / v, 0.05);
}

// TMR: the exact engine enumerates protected units with q = 3p^2 - 2p^3 and the functional
// engine's Monte Carlo agrees with it; b4 uses q for them (to first order: within 10% at p = 0.1).
TEST(Tmr, ExactEngineMonteCarloAndB4Agree) {
  TempDir dir;
  const std::string yaml = kTiny.substr(0, kTiny.find("chip:")) +
                           "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.1}\n"
                           "  - {kind: synapse_crash, layers: [3], probability: 0.1}\n"
                           "protection:\n  tmr:\n    - {neurons: [[1, 0], [2, 1]]}\n    - {spec: 1, units: [0, 3, 4]}\n"
                           "trials: 60000\nblock_trials: 4096\n";
  write_file(dir.file("c.yaml"), yaml);
  ASSERT_EQ(nfsim("run " + dir.file("c.yaml") + " --engine exact --out " + dir.file("exact"), dir).code, 0);
  ASSERT_EQ(nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("mc"), dir).code, 0);
  write_file(dir.file("u.yaml"), yaml.substr(0, yaml.find("protection:")) + "trials: 10\n");
  ASSERT_EQ(nfsim("run " + dir.file("u.yaml") + " --engine exact --out " + dir.file("plain"), dir).code, 0);
  const auto e = report(dir, "exact"), m = report(dir, "mc"), u = report(dir, "plain");
  const double widen = 3.2905267314918945 / 1.959963984540054;
  double protected_var = 0, plain_var = 0;
  for (std::size_t n = 0; n < 3; ++n) {
    const auto& em = e["points"][0]["inputs"][n];
    const auto& mm = m["points"][0]["inputs"][n]["measured"];
    for (std::size_t k = 0; k < 2; ++k) {
      const double es = em["measured"]["std"][k];
      const double hw = widen * (mm["ci95"]["std"]["hi"][k].get<double>() - mm["ci95"]["std"]["lo"][k].get<double>()) / 2;
      EXPECT_NEAR(mm["std"][k].get<double>(), es, hw) << n << " " << k;
      protected_var += es * es;
      plain_var += std::pow(u["points"][0]["inputs"][n]["measured"]["std"][k].get<double>(), 2);
    }
  }
  EXPECT_LT(protected_var, plain_var);
  // b4 with q for the protected units, against the exact engine at p = 0.01: first order, within 10%
  // (measured: up to 3.3% on the variance and 7.8% on a mean; the loop read a freed temporary before, so this was unchecked).
  write_file(dir.file("s.yaml"), yaml.substr(0, yaml.find("trials:")) + "trials: 10\n");
  ASSERT_EQ(nfsim("run " + dir.file("s.yaml") + " --engine exact --set faults[0].probability=0.01 --set faults[1].probability=0.01 --out " +
                      dir.file("small"), dir).code, 0);
  const nlohmann::json small = report(dir, "small");  // kept alive: the loop reads into it
  for (const auto& in : small["points"][0]["inputs"]) {
    for (std::size_t k = 0; k < 2; ++k) {
      const double es = in["measured"]["std"][k], bs = in["bounds"]["b4"]["std"][k];
      const double em = in["measured"]["mean"][k], bm = in["bounds"]["b4"]["mean"][k];
      EXPECT_NEAR(bs * bs, es * es, 0.1 * es * es) << k;
      EXPECT_NEAR(bm, em, 0.1 * std::abs(em)) << k;
    }
  }
}

// With every probability 0, Delta is exactly 0 with TMR, spares and replicas on, on every engine
// that runs them (the exact and chip engines refuse replicas, tested in test_bad_input.cpp).
TEST(Protection, ZeroProbabilityGivesZeroDeltaWithProtectionOn) {
  TempDir dir;
  write_file(dir.file("chip.yaml"), tiny_chip(4));
  const std::string base = kTiny +
                           "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0}\n"
                           "  - {kind: synapse_crash, layers: [2], probability: 0}\n"
                           "  - {kind: crossbar_column, probability: 0, persistence: permanent}\n"
                           "  - {kind: crossbar_row, probability: 0}\n"
                           "protection:\n  tmr:\n    - {neurons: [[1, 0]]}\n    - {synapses: [[2, 1, 1]]}\n    - {spec: 2, units: [0, 2]}\n"
                           "  spares: {columns: 1, rows: 2}\n"
                           "trials: 64\n";
  for (const std::string engine : {"exact", "functional", "chip"}) {
    for (const std::string replicas : {"", "replicas: {count: 3}\n"}) {
      if (!replicas.empty() && engine != "functional") continue;
      write_file(dir.file("c.yaml"), base + replicas);
      const std::string out = "out_" + engine + (replicas.empty() ? "" : "_r");
      const CliRun r = nfsim("run " + dir.file("c.yaml") + " --engine " + engine + " --out " + dir.file(out), dir);
      ASSERT_EQ(r.code, 0) << engine << ": " << r.err;
      const nlohmann::json rep = report(dir, out);  // kept alive: the loop reads into it
      for (const auto& in : rep["points"][0]["inputs"]) {
        for (const char* stat : {"mean", "std", "max_abs"}) {
          for (const auto& v : in["measured"][stat]) EXPECT_EQ(v.get<double>(), 0.0) << engine << " " << stat;
        }
      }
      // The HTML report shows the protection: TMR units and spares per spec, the replicas.
      const std::string html = read_file(dir.file(out + "/report.html"));
      EXPECT_NE(html.find("<h2>Protection</h2>"), std::string::npos) << engine;
      EXPECT_NE(html.find("<td>faults[2]</td><td class='name'>crossbar_column</td><td>2 of "), std::string::npos) << engine;
      EXPECT_EQ(html.find("replicas (Algorithm 1)</td><td>-</td><td>-</td><td>3</td>") != std::string::npos, !replicas.empty()) << engine;
    }
  }
}

// Replicas with p = 1 on a neuron that every replica loses: the median is that output; with one
// replica failing in a way the others do not, the median hides it (the functional engine's
// median against a hand-made one on three replicas).
TEST(Replicas, MedianOfThreeHidesOneFailingReplica) {
  TempDir dir;
  const std::string head = kTiny.substr(0, kTiny.find("chip:"));
  // Every replica crashes every first-layer neuron: the median equals one replica's output.
  write_file(dir.file("all.yaml"), head + "faults:\n  - {kind: neuron_crash, layers: [1], probability: 1}\ntrials: 5\n");
  ASSERT_EQ(nfsim("run " + dir.file("all.yaml") + " --out " + dir.file("one"), dir).code, 0);
  write_file(dir.file("allr.yaml"), head + "faults:\n  - {kind: neuron_crash, layers: [1], probability: 1}\ntrials: 5\nreplicas: {count: 3}\n");
  ASSERT_EQ(nfsim("run " + dir.file("allr.yaml") + " --out " + dir.file("three"), dir).code, 0);
  const auto one = report(dir, "one"), three = report(dir, "three");
  for (std::size_t n = 0; n < 3; ++n) {
    EXPECT_EQ(one["points"][0]["inputs"][n]["measured"]["mean"], three["points"][0]["inputs"][n]["measured"]["mean"]);
  }
  // faults.jsonl logs every replica's faults, each line naming its replica (here every replica
  // loses every neuron: the unreplicated run's lines, three times).
  std::map<int, std::size_t> per_replica;
  std::size_t lines_one = 0;
  for (const auto& [out, count] : {std::pair<std::string, int>{"one", 1}, {"three", 3}}) {
    std::istringstream in(read_file(dir.file(out + "/faults.jsonl")));
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json j = nlohmann::json::parse(line);
      if (j.value("summary", false)) continue;
      if (count == 1) {
        EXPECT_FALSE(j.contains("replica")) << line;
        ++lines_one;
      } else {
        ++per_replica[j.at("replica").get<int>()];
      }
    }
  }
  ASSERT_GT(lines_one, 0u);
  EXPECT_EQ(per_replica.size(), 3u);
  for (const auto& [r, n] : per_replica) EXPECT_EQ(n, lines_one) << "replica " << r;
  // Rare faults: the median of 3 fails only when two replicas fail, so its variance is far
  // below one replica's (about 3p times it, to first order).
  write_file(dir.file("rare.yaml"), head + "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.02}\ntrials: 20000\n");
  write_file(dir.file("rarer.yaml"), head + "faults:\n  - {kind: neuron_crash, layers: [1, 2], probability: 0.02}\ntrials: 20000\n"
                                            "replicas: {count: 3, aggregate: median}\n");
  ASSERT_EQ(nfsim("run " + dir.file("rare.yaml") + " --out " + dir.file("r1"), dir).code, 0);
  ASSERT_EQ(nfsim("run " + dir.file("rarer.yaml") + " --out " + dir.file("r3"), dir).code, 0);
  double v1 = 0, v3 = 0;
  const auto r1 = report(dir, "r1"), r3 = report(dir, "r3");
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t k = 0; k < 2; ++k) {
      v1 += std::pow(r1["points"][0]["inputs"][n]["measured"]["std"][k].get<double>(), 2);
      v3 += std::pow(r3["points"][0]["inputs"][n]["measured"]["std"][k].get<double>(), 2);
    }
  }
  EXPECT_GT(v1, 0.0);
  EXPECT_LT(v3, 0.3 * v1) << v3 << " vs " << v1;
}

}  // namespace
}  // namespace nfsim::test
