// Spiking networks through the command line (docs/spiking.md): `nfsim eval --spiking` against the
// independent numpy reference (scripts/make_spiking_reference.py) and on the whole Fashion-MNIST
// test set, and a spiking campaign's report: its spiking section, the zero-fault invariant and
// the rate bounds beside the spiking Monte Carlo.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "models/dataset.h"
#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kSource = NFSIM_SOURCE_DIR;
const std::string kData = "/usr/share/datasets/fashion-mnist";
// The neuron-array type of the spiking chips below.
constexpr const char* kSpikingArray = "lif";

// The outputs in an `nfsim eval` CSV (index column dropped): one row per input.
Eigen::MatrixXd read_eval_csv(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> row;
    std::getline(ss, cell, ',');  // index
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), rows.empty() ? 0 : static_cast<Eigen::Index>(rows[0].size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t j = 0; j < rows[i].size(); ++j) m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  }
  return m;
}

// Every case of tests/fixtures/spiking_ref/cases.txt: nfsim eval with the case's flags gives the
// numpy reference's outputs (its own conversion and a dense step-by-step simulation).
TEST(SpikingCli, EvalMatchesTheIndependentReference) {
  TempDir dir;
  std::ifstream cases(kSource + "/tests/fixtures/spiking_ref/cases.txt");
  std::string line;
  int checked = 0;
  while (std::getline(cases, line)) {
    if (line.empty()) continue;
    const std::string name = line.substr(0, line.find(' ')), flags = line.substr(line.find(' ') + 1);
    const CliRun r = nfsim("eval " + kSource + "/examples/models/fmnist_mlp.onnx --inputs " + kData +
                               "/t10k-images-idx3-ubyte.gz --count 40 --scale 0.00392156862745098 --precision 17 " + flags +
                               " --out " + dir.file(name + ".csv"),
                           dir);
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    const Eigen::MatrixXd got = read_eval_csv(dir.file(name + ".csv"));
    // The reference is stored as 40 x 10 (one row per input); read_npy_matrix gives columns.
    const Eigen::MatrixXd want = models::read_npy_matrix(kSource + "/tests/fixtures/spiking_ref/" + name + ".npy", 1000).transpose();
    ASSERT_EQ(got.rows(), want.rows()) << name;
    ASSERT_EQ(got.cols(), want.cols()) << name;
    EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-12) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

// The converted MLP on the whole test set at T = 16: at least 85% (docs/spiking.md gives the
// measured accuracy per T), next to the rate equivalent's, which equals the model's.
TEST(SpikingCli, ConvertedMlpReachesItsAccuracyOnTheTestSet) {
  TempDir dir;
  const CliRun r = nfsim("eval " + kSource + "/examples/models/fmnist_mlp.onnx --inputs " + kData + "/t10k-images-idx3-ubyte.gz --labels " +
                             kData + "/t10k-labels-idx1-ubyte.gz --scale 0.00392156862745098 --spiking 16 --calibration " + kData +
                             "/train-images-idx3-ubyte.gz --calibration-count 2000 --out " + dir.file("o.csv"),
                         dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto value_after = [&](const std::string& key) {
    const auto at = r.err.find("\n" + key);
    EXPECT_NE(at, std::string::npos) << r.err;
    return std::stod(r.err.substr(at + key.size() + 1));
  };
  const double accuracy = value_after("accuracy: "), rate = value_after("rate equivalent accuracy: ");
  EXPECT_GE(accuracy, 0.85) << r.err;
  EXPECT_NEAR(rate, 0.8748, 1e-4) << r.err;  // examples/models/accuracy.json
  EXPECT_NE(r.err.find("spikes per inference, layers 0..2: "), std::string::npos) << r.err;
}

// `nfsim eval --spiking --chip`: the SystemC chip's spiking arrays give the functional engine's
// readouts (the bundled MLP on the 4x4 mesh, 30 test images, T = 8).
TEST(SpikingCli, EvalOnTheChipEqualsTheFunctionalEngine) {
  TempDir dir;
  const std::string common = "eval " + kSource + "/examples/models/fmnist_mlp.onnx --inputs " + kData +
                             "/t10k-images-idx3-ubyte.gz --labels " + kData + "/t10k-labels-idx1-ubyte.gz --count 30 "
                             "--scale 0.00392156862745098 --spiking 8 --precision 17 ";
  const CliRun chip = nfsim(common + "--chip " + kSource + "/examples/chips/mesh4x4_lif.yaml --out " + dir.file("chip.csv"), dir);
  ASSERT_EQ(chip.code, 0) << chip.err;
  EXPECT_NE(chip.err.find("engine chip (mesh4x4"), std::string::npos) << chip.err;
  const CliRun functional = nfsim(common + "--out " + dir.file("functional.csv"), dir);
  ASSERT_EQ(functional.code, 0) << functional.err;
  const Eigen::MatrixXd a = read_eval_csv(dir.file("chip.csv")), b = read_eval_csv(dir.file("functional.csv"));
  ASSERT_EQ(a.rows(), 30);
  EXPECT_LT((a - b).cwiseAbs().maxCoeff(), 1e-9);
}

// A NIR model (docs/nir.md) through the command line: `nfsim eval --spiking T --dt` reproduces
// the fixture script's independent simulation, and a campaign runs it under faults on both
// engines with the same outputs per trial.
TEST(SpikingCli, NirModelThroughEvalAndACampaignOnBothEngines) {
  TempDir dir;
  const std::string nir = kSource + "/tests/fixtures/nir/";
  const CliRun e = nfsim("eval " + nir + "mlp_lif.nir --inputs " + nir + "mlp_lif_inputs.npy --spiking 40 --dt 0.001 --precision 17 --out " +
                             dir.file("e.csv"),
                         dir);
  ASSERT_EQ(e.code, 0) << e.err;
  const Eigen::MatrixXd got = read_eval_csv(dir.file("e.csv"));
  const Eigen::MatrixXd want = models::read_npy_matrix(nir + "mlp_lif_expected.npy", 1000).transpose();
  ASSERT_EQ(got.rows(), want.rows());
  EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-12);
  write_file(dir.file("c.yaml"), "model: " + nir + "mlp_lif.nir\ninputs: {path: " + nir + "mlp_lif_inputs.npy}\n"
                                 "spiking: {time_steps: 40, dt: 0.001}\n"
                                 "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.1}\n"
                                 "  - {kind: threshold_deviation, layers: [1, 2], probability: 0.1, factor: 0.8}\n"
                                 "trials: 20\nseed: 2\n"
                                 "chip:\n  cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}\n"
                                 "  crossbar: {type: ideal, rows: 8, cols: 8}\n  neuron_array: {type: lif, size: 8}\n"
                                 "  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n");
  const CliRun a = nfsim("run " + dir.file("c.yaml") + " --engine functional --trial-outputs 20 --out " + dir.file("f"), dir);
  ASSERT_EQ(a.code, 0) << a.err;
  const CliRun b = nfsim("run " + dir.file("c.yaml") + " --engine chip --trial-outputs 20 --out " + dir.file("c"), dir);
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(read_file(dir.file("f/trial_outputs_0.csv")).size() > 100, true);
  std::ifstream fa(dir.file("f/trial_outputs_0.csv")), fb(dir.file("c/trial_outputs_0.csv"));
  std::string la, lb;
  int rows = 0, changed = 0;
  std::getline(fa, la);
  std::getline(fb, lb);
  while (std::getline(fa, la) && std::getline(fb, lb)) {
    std::stringstream sa(la), sb(lb);
    std::string xa, xb;
    while (std::getline(sa, xa, ',') && std::getline(sb, xb, ',')) EXPECT_NEAR(std::stod(xa), std::stod(xb), 1e-9) << la;
    ++rows;
  }
  EXPECT_EQ(rows, 20 * 6);
  const nlohmann::json p = nlohmann::json::parse(read_file(dir.file("f/report.json")))["points"][0];
  EXPECT_EQ(p["spiking"]["neuron"], "nir");
  EXPECT_FALSE(p["summary"].contains("b4"));  // threshold deviations: the bounds are left out
  for (const auto& in : p["inputs"]) {
    for (const auto& v : in["measured"]["max_abs"]) changed += v.get<double>() > 0;
  }
  EXPECT_GT(changed, 0);
}

// Four inputs of 12 spike rates in [0, 1] (the campaigns' inputs), next to the campaign file.
void write_rates(const TempDir& dir) {
  std::string csv;
  for (int n = 0; n < 4; ++n) {
    for (int i = 0; i < 12; ++i) csv += (i ? "," : "") + std::to_string(((i * 7 + n * 3) % 11) / 10.0);
    csv += "\n";
  }
  write_file(dir.file("rates.csv"), csv);
}

// Runs dir/c.yaml for `trials` trials on the chip engine (into dir/chip) and the functional engine
// (into dir/f) with their trial outputs, and expects them equal (1e-9) for every trial and input
// (the campaigns' four inputs).
void run_on_both_engines(const TempDir& dir, int trials) {
  const std::string n = std::to_string(trials);
  const CliRun a = nfsim("run " + dir.file("c.yaml") + " --engine chip --trials " + n + " --trial-outputs " + n + " --out " + dir.file("chip"), dir);
  ASSERT_EQ(a.code, 0) << a.err;
  const CliRun b = nfsim("run " + dir.file("c.yaml") + " --engine functional --trials " + n + " --trial-outputs " + n + " --out " + dir.file("f"), dir);
  ASSERT_EQ(b.code, 0) << b.err;
  std::ifstream ca(dir.file("chip/trial_outputs_0.csv")), cb(dir.file("f/trial_outputs_0.csv"));
  std::string la, lb;
  std::getline(ca, la);
  std::getline(cb, lb);
  int rows = 0;
  while (std::getline(ca, la) && std::getline(cb, lb)) {
    std::stringstream sa(la), sb(lb);
    std::string xa, xb;
    while (std::getline(sa, xa, ',') && std::getline(sb, xb, ',')) EXPECT_NEAR(std::stod(xa), std::stod(xb), 1e-9) << la;
    ++rows;
  }
  EXPECT_EQ(rows, trials * 4);
}

const std::string kCampaign =
    "model: {generate: {widths: [12, 10, 8, 3], activation: relu, sigma: 3.0, mu: 0.2, seed: 4}}\n"
    "inputs: {path: rates.csv}\n"
    "faults:\n"
    "  - {kind: neuron_crash, layers: [1, 2], probability: 0.1}\n"
    "  - {kind: synapse_crash, layers: [2], probability: 0.05, persistence: permanent}\n"
    "spiking: {time_steps: 32, percentile: 100}\n"
    "trials: 400\n"
    "seed: 3\n"
    "bounds: [b3, b4]\n";

TEST(SpikingCli, CampaignReportsTheSpikingSectionBesideTheRateBounds) {
  TempDir dir;
  write_rates(dir);
  write_file(dir.file("c.yaml"), kCampaign);
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("point 0 spiking: if, T = 32"), std::string::npos) << r.out;
  const nlohmann::json p = nlohmann::json::parse(read_file(dir.file("o/report.json")))["points"][0];
  const nlohmann::json& s = p["spiking"];
  EXPECT_EQ(s["neuron"], "if");
  EXPECT_EQ(s["time_steps"], 32);
  EXPECT_EQ(s["conversion"]["lambdas"].size(), 4u);
  EXPECT_EQ(s["spikes_per_inference"].size(), 3u);
  EXPECT_GT(s["spikes_per_inference"][1].get<double>(), 0.0);
  // With Bernoulli trains the counts are those of the engine's own (seeded) fault-free run: the
  // input layer's count is what `nfsim eval --seed` counts for the same seed.
  const CliRun b3 = nfsim("run " + dir.file("c.yaml") + " --set spiking.input_coding=bernoulli --seed 3 --trials 5 --out " + dir.file("b3"), dir);
  ASSERT_EQ(b3.code, 0) << b3.err;
  const CliRun b4 = nfsim("run " + dir.file("c.yaml") + " --set spiking.input_coding=bernoulli --seed 4 --trials 5 --out " + dir.file("b4"), dir);
  ASSERT_EQ(b4.code, 0) << b4.err;
  const double s3 = nlohmann::json::parse(read_file(dir.file("b3/report.json")))["points"][0]["spiking"]["spikes_per_inference"][0];
  const double s4 = nlohmann::json::parse(read_file(dir.file("b4/report.json")))["points"][0]["spiking"]["spikes_per_inference"][0];
  EXPECT_NE(s3, s4);
  // The rate bounds are computed (on the rate equivalent) and compared with the spiking error.
  EXPECT_TRUE(p["summary"].contains("b4"));
  EXPECT_TRUE(p["summary"]["b4"]["std"]["pearson"].is_number());
  double largest = 0;
  for (const auto& in : p["inputs"]) {
    for (const auto& v : in["measured"]["std"]) largest = std::max(largest, v.get<double>());
  }
  EXPECT_GT(largest, 0.0);
}

// The same campaign on the chip engine (a small chip: split layers, a 3x3 mesh): the same faults
// and the same outputs per trial as the functional engine, every inference simulated in full
// (the report says why), and the spike messages' traffic in the chip section.
TEST(SpikingCli, ChipEngineGivesTheFunctionalEnginesTrials) {
  TempDir dir;
  const std::string chip =
      "chip:\n  cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}\n  crossbar: {type: ideal, rows: 8, cols: 8}\n"
      "  neuron_array: {type: lif, size: 8}\n  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n";
  write_rates(dir);
  write_file(dir.file("c.yaml"), kCampaign + chip);
  run_on_both_engines(dir, 30);
  if (::testing::Test::HasFatalFailure()) return;
  const nlohmann::json c = nlohmann::json::parse(read_file(dir.file("chip/report.json")))["points"][0]["chip"];
  EXPECT_EQ(c["simulation"]["mode"], "full");
  EXPECT_NE(c["simulation"]["full_reason"].get<std::string>().find("spiking arrays"), std::string::npos);
  EXPECT_GT(c["inference_latency_ns"]["mean"].get<double>(), 0.0);
  // The spike counts are each engine's own (the chip's counted by its arrays): equal here.
  const nlohmann::json sa = nlohmann::json::parse(read_file(dir.file("chip/report.json")))["points"][0]["spiking"]["spikes_per_inference"];
  const nlohmann::json sb = nlohmann::json::parse(read_file(dir.file("f/report.json")))["points"][0]["spiking"]["spikes_per_inference"];
  ASSERT_EQ(sa.size(), 3u);
  ASSERT_EQ(sb.size(), 3u);
  for (std::size_t l = 0; l < 3; ++l) EXPECT_NEAR(sa[l].get<double>(), sb[l].get<double>(), 1e-9) << "layer " << l;
  EXPECT_GT(sa[1].get<double>(), 0.0);
}

// The chip's neuron-array type decides which engines run a spiking campaign: the functional
// engine models the built-in lif and if dynamics (it runs the lif chip above), a plug-in's
// spiking type runs on the chip engine only, where its own step() gives its own spikes.
TEST(SpikingCli, APluginSpikingTypeRunsOnTheChipEngineOnly) {
  TempDir dir;
  const std::string chip = std::string("chip:\n  cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}\n") +
                           "  crossbar: {type: ideal, rows: 8, cols: 8}\n  neuron_array: {type: TYPE, size: 8}\n";
  const auto with = [&](const std::string& type) {
    std::string c = chip;
    c.replace(c.find("TYPE"), 4, type);
    return kCampaign + c;
  };
  write_rates(dir);
  write_file(dir.file("plugin.yaml"), with("test_threshold"));
  write_file(dir.file("lif.yaml"), with("lif"));
  const std::string plugin = std::string(" --plugin ") + NFSIM_THRESHOLD_NEURON_PLUGIN;
  const CliRun f = nfsim("run " + dir.file("plugin.yaml") + plugin + " --engine functional --trials 10 --out " + dir.file("f"), dir);
  EXPECT_EQ(f.code, 2) << f.err;
  EXPECT_NE(f.err.find("engine 'functional' cannot honour neuron-array type 'test_threshold'"), std::string::npos) << f.err;
  EXPECT_NE(f.err.find("expected engine: chip"), std::string::npos) << f.err;
  const CliRun c = nfsim("run " + dir.file("plugin.yaml") + plugin + " --engine chip --trials 10 --out " + dir.file("c"), dir);
  ASSERT_EQ(c.code, 0) << c.err;
  const CliRun l = nfsim("run " + dir.file("lif.yaml") + " --engine chip --trials 10 --out " + dir.file("l"), dir);
  ASSERT_EQ(l.code, 0) << l.err;
  const nlohmann::json pc = nlohmann::json::parse(read_file(dir.file("c/report.json")))["points"][0];
  const nlohmann::json pl = nlohmann::json::parse(read_file(dir.file("l/report.json")))["points"][0];
  EXPECT_EQ(pc["chip"]["components"]["neuron_array"]["type"], "test_threshold");
  EXPECT_EQ(pl["chip"]["components"]["neuron_array"]["type"], "lif");
  // Memoryless neurons keep no charge between steps: other fault-free readouts than lif's.
  EXPECT_NE(pc["chip"]["fault_free_max_abs_output_error"].get<double>(), pl["chip"]["fault_free_max_abs_output_error"].get<double>());
  // The report's spike counts are the plug-in's own (counted by the chip's arrays), not what the
  // built-in lif dynamics would have spiked: the hidden layers' counts differ, the inputs' do not.
  const nlohmann::json& kc = pc["spiking"]["spikes_per_inference"];
  const nlohmann::json& kl = pl["spiking"]["spikes_per_inference"];
  EXPECT_EQ(kc[0].get<double>(), kl[0].get<double>());
  EXPECT_NE(kc[1].get<double>(), kl[1].get<double>());
}

// TMR on spiking neurons protects them against every neuron kind, the threshold and leak
// deviations included: the protected neurons are drawn with 3p^2 - 2p^3 for each spec.
TEST(SpikingCli, TmrProtectsNeuronsAgainstDeviations) {
  TempDir dir;
  write_rates(dir);
  write_file(dir.file("c.yaml"), "model: {generate: {widths: [12, 10, 8, 3], activation: relu, sigma: 3.0, mu: 0.2, seed: 4}}\n"
                                 "inputs: {path: rates.csv}\nspiking: {time_steps: 16}\ntrials: 20\nbounds: []\n"
                                 "faults:\n  - {kind: neuron_crash, layers: [1], probability: 0.1}\n"
                                 "  - {kind: threshold_deviation, layers: [1, 2], probability: 0.1, factor: 0.5}\n"
                                 "protection: {tmr: [{neurons: [[1, 0], [1, 3], [2, 2]]}]}\n");
  const CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("o"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json f = nlohmann::json::parse(read_file(dir.file("o/report.json")))["points"][0]["faults"];
  EXPECT_EQ(f[0]["tmr_units"], 2);  // the crash spec lists layer 1 only
  EXPECT_EQ(f[1]["tmr_units"], 3);  // the deviation spec lists layers 1 and 2
}

// With every probability at 0, Delta is exactly 0 for every coding and readout, on both engines.
TEST(SpikingCli, ZeroProbabilityGivesZeroDelta) {
  TempDir dir;
  write_rates(dir);
  write_file(dir.file("c.yaml"), kCampaign);
  write_file(dir.file("labels.csv"), "0\n1\n2\n0\n");
  for (const std::string extra : {"", " --set spiking.input_coding=bernoulli --set spiking.readout=rate",
                                  " --set spiking.neuron=lif --set spiking.leak=0.8 --set spiking.reset=zero --set spiking.refractory_steps=1"}) {
    const CliRun r = nfsim("run " + dir.file("c.yaml") + " --set faults[0].probability=0 --set faults[1].probability=0 --trials 20" +
                               " --set inputs.labels=labels.csv" + extra + " --out " + dir.file("z"),
                           dir);
    ASSERT_EQ(r.code, 0) << extra << ": " << r.err;
    const nlohmann::json p = nlohmann::json::parse(read_file(dir.file("z/report.json")))["points"][0];
    for (const auto& in : p["inputs"]) {
      for (const auto& v : in["measured"]["mean"]) EXPECT_EQ(v.get<double>(), 0.0) << extra;
      for (const auto& v : in["measured"]["max_abs"]) EXPECT_EQ(v.get<double>(), 0.0) << extra;
    }
    // No fault, no accuracy drop: with Bernoulli trains too, where each trial draws its own
    // input spikes and the fault-free accuracy is that of the same trials.
    EXPECT_EQ(p["accuracy"]["drop"].get<double>(), 0.0) << extra;
  }
  // And on the chip engine's spiking arrays.
  write_file(dir.file("chip.yaml"), kCampaign +
                                        "chip:\n  cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}\n"
                                        "  crossbar: {type: ideal, rows: 8, cols: 8}\n  neuron_array: {type: lif, size: 8}\n"
                                        "  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\nengine: chip\n");
  const CliRun r = nfsim("run " + dir.file("chip.yaml") + " --set faults[0].probability=0 --set faults[1].probability=0 --trials 10 --out " +
                             dir.file("zc"),
                         dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json p = nlohmann::json::parse(read_file(dir.file("zc/report.json")))["points"][0];
  for (const auto& in : p["inputs"]) {
    for (const auto& v : in["measured"]["max_abs"]) EXPECT_EQ(v.get<double>(), 0.0) << "chip";
  }
}

// The same campaign gives the same numbers with any thread count and block split, for regular and
// Bernoulli trains.
TEST(SpikingCli, NumbersDoNotDependOnThreads) {
  TempDir dir;
  write_rates(dir);
  write_file(dir.file("c.yaml"), kCampaign + "block_trials: 16\n");
  for (const std::string coding : {"regular", "bernoulli"}) {
    const std::string set = " --set spiking.input_coding=" + coding;
    ASSERT_EQ(nfsim("run " + dir.file("c.yaml") + set + " --threads 1 --out " + dir.file("a"), dir).code, 0);
    ASSERT_EQ(nfsim("run " + dir.file("c.yaml") + set + " --threads 2 --out " + dir.file("b"), dir).code, 0);
    ASSERT_EQ(nfsim("run " + dir.file("c.yaml") + set + " --threads 2 --set block_trials=7 --out " + dir.file("c"), dir).code, 0);
    const nlohmann::json a = nlohmann::json::parse(read_file(dir.file("a/report.json"))),
                         b = nlohmann::json::parse(read_file(dir.file("b/report.json"))),
                         c = nlohmann::json::parse(read_file(dir.file("c/report.json")));
    EXPECT_EQ(a["points"][0]["inputs"], b["points"][0]["inputs"]) << coding;
    // Another block split: the same trials, merged differently (equal up to rounding).
    const auto& ia = a["points"][0]["inputs"];
    const auto& ic = c["points"][0]["inputs"];
    for (std::size_t n = 0; n < ia.size(); ++n) {
      for (std::size_t k = 0; k < ia[n]["measured"]["mean"].size(); ++k) {
        EXPECT_NEAR(ia[n]["measured"]["mean"][k].get<double>(), ic[n]["measured"]["mean"][k].get<double>(), 1e-12) << coding;
        EXPECT_NEAR(ia[n]["measured"]["std"][k].get<double>(), ic[n]["measured"]["std"][k].get<double>(), 1e-12) << coding;
      }
    }
  }
}

// Lossy routers and links (docs/spiking.md, "Dropped spikes") and a fault with an onset in time
// steps through the CLI: the chip engine drops the same spikes and starts the same fault at the
// same step as the functional engine, trial by trial; the chip section counts the
// spikes per link and those dropped; with the probabilities at 0 nothing is dropped and Delta is 0.
TEST(SpikingCli, LossyRoutersAndLinksDropTheSameSpikesOnBothEngines) {
  TempDir dir;
  write_rates(dir);
  const std::string campaign =
      "model: {generate: {widths: [12, 10, 8, 3], activation: relu, sigma: 3.0, mu: 0.2, seed: 4}}\n"
      "inputs: {path: rates.csv}\n"
      "faults:\n"
      "  - {kind: lossy_router, probability: 0.3, drop_probability: 0.5}\n"
      "  - {kind: lossy_link, probability: 0.2, drop_probability: 1, persistence: permanent}\n"
      "  - {kind: neuron_crash, layers: [1], probability: 0.05}\n"
      "  - {kind: neuron_stuck_at, layers: [2], value: 1, probability: 0.1, onset_step: 6}\n"
      "spiking: {time_steps: 16, percentile: 100}\n"
      "seed: 8\nbounds: []\n"
      "chip:\n  cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}\n  crossbar: {type: ideal, rows: 8, cols: 8}\n"
      "  neuron_array: {type: " + std::string(kSpikingArray) + ", size: 8}\n  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n";
  write_file(dir.file("c.yaml"), campaign);
  run_on_both_engines(dir, 20);
  if (::testing::Test::HasFatalFailure()) return;
  const nlohmann::json p = nlohmann::json::parse(read_file(dir.file("chip/report.json")))["points"][0];
  EXPECT_GT(p["chip"]["spikes_dropped_per_inference"].get<double>(), 0.0);
  ASSERT_GT(p["chip"]["spikes_per_link_per_inference"].size(), 0u);
  EXPECT_GT(p["chip"]["spikes_per_link_per_inference"][0]["spikes"].get<double>(), 0.0);
  EXPECT_FALSE(p["summary"].contains("b4"));  // no rate bound models dropped spikes
  double largest = 0;
  for (const auto& in : p["inputs"]) {
    for (const auto& v : in["measured"]["std"]) largest = std::max(largest, v.get<double>());
  }
  EXPECT_GT(largest, 0.0);
  // Every probability at 0: nothing dropped, Delta exactly 0.
  const CliRun z = nfsim("run " + dir.file("c.yaml") + " --engine chip --trials 5 --set faults[0].probability=0 --set "
                         "faults[1].probability=0 --set faults[2].probability=0 --set faults[3].probability=0 --out " + dir.file("z"), dir);
  ASSERT_EQ(z.code, 0) << z.err;
  const nlohmann::json pz = nlohmann::json::parse(read_file(dir.file("z/report.json")))["points"][0];
  EXPECT_EQ(pz["chip"]["spikes_dropped_per_inference"].get<double>(), 0.0);
  for (const auto& in : pz["inputs"]) {
    for (const auto& v : in["measured"]["max_abs"]) EXPECT_EQ(v.get<double>(), 0.0);
  }
}

}  // namespace
}  // namespace nfsim::test
