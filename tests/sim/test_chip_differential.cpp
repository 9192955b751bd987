// Differential against full chip simulation (docs/chip.md, "Differential simulation"): on one
// elaborated chip, the same trials run both ways give the same outputs (1e-12 of the outputs'
// scale), the same fault log, latencies and traffic, for every fault kind, transient and
// permanent, with and without onsets (some exactly at a phase's start), on four topologies (a
// multi-hop mesh, a bus, a mesh with contended links, a CNN on a mesh).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <yaml-cpp/yaml.h>

#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "sim/chip/chip_engine.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"
#include "tests/common/test_networks.h"

namespace nfsim::sim {
namespace {

using faults::FaultKind;
using faults::FaultSpec;
using faults::Persistence;

struct Topology {
  const char* name;
  const char* yaml;
  bool conv;
};

// A 20-17-12-5 MLP split into 8x8 blocks on a 5x4 mesh (multi-hop routes); the same MLP whole on
// 64x64 crossbars behind a bus (tiles of 20, 17 and 12 rows: delta reads); a 48-40-24-6 MLP on
// 32x32 crossbars with contended mesh links; the CNN of tests/common/test_networks.h on a 4x4 mesh.
const Topology kTopologies[] = {
    {"split_mesh", R"(
cores: {count: 20, layout: {type: mesh, width: 5, height: 4}}
crossbar: {type: ideal, rows: 8, cols: 8, read_latency_ns: 50}
neuron_array: {type: rate, size: 8, update_latency_ns: 5}
interconnect: {type: mesh, hop_latency_ns: 2, flit_bytes: 16}
)",
     false},
    {"bus", R"(
cores: {count: 3}
crossbar: {type: ideal, rows: 64, cols: 64, read_latency_ns: 100}
neuron_array: {type: rate, size: 64, update_latency_ns: 10}
interconnect: {type: bus, latency_ns: 7}
)",
     false},
    {"contended_mesh", R"(
cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}
crossbar: {type: quantized, rows: 32, cols: 32, weight_bits: 6, weight_range: 1.5, read_latency_ns: 20}
neuron_array: {type: rate, size: 16, update_latency_ns: 4}
interconnect: {type: mesh, hop_latency_ns: 3, flit_bytes: 16, link_bandwidth_bytes_per_ns: 4}
)",
     false},
    {"conv_mesh", R"(
cores: {count: 16, layout: {type: mesh, width: 4, height: 4}}
crossbar: {type: ideal, rows: 8, cols: 3, read_latency_ns: 10}
neuron_array: {type: rate, size: 3, update_latency_ns: 5}
interconnect: {type: mesh, hop_latency_ns: 2, flit_bytes: 16}
)",
     true},
};

models::Network network_for(const Topology& t) {
  if (t.conv) return test::small_cnn();
  if (std::string(t.name) == "contended_mesh") {
    return models::make_random_network({{48, 40, 24, 6}, {models::ActivationKind::relu}, {}, 1.5, 0.05, 31});
  }
  return test::small_mlp();
}

// Every kind, as one spec (probabilities high enough that most inferences draw faults).
std::vector<std::pair<std::string, FaultSpec>> kinds() {
  std::vector<std::pair<std::string, FaultSpec>> out;
  out.emplace_back("neuron_crash", FaultSpec{FaultKind::neuron_crash, {0, 1, 2, 3}, 0.08});
  FaultSpec stuck{FaultKind::neuron_stuck_at, {1, 2, 3}, 0.08};
  stuck.value = 0.7;
  out.emplace_back("neuron_stuck_at", stuck);
  out.emplace_back("synapse_crash", FaultSpec{FaultKind::synapse_crash, {1, 2, 3}, 0.03});
  FaultSpec wstuck{FaultKind::synapse_stuck_at, {1, 2}, 0.03};
  wstuck.value = -0.9;
  out.emplace_back("synapse_stuck_at", wstuck);
  FaultSpec flip{FaultKind::weight_bit_flip, {1, 3}, 0.03};
  flip.bit = 6;
  flip.format = {8, 6};
  out.emplace_back("weight_bit_flip", flip);
  FaultSpec group{FaultKind::group_crash, {}, 0.3};
  group.groups.push_back({"a", {{1, 3}, {2, 0}}, {{3, 1, 2}}});
  group.groups.push_back({"b", {}, {{1, 0, 0}, {2, 4, 3}}});
  out.emplace_back("group_crash", group);
  for (const char* physical :
       {"crossbar_row", "crossbar_column", "crossbar_tile", "neuron_array", "router", "slow_tile", "slow_array", "slow_link"}) {
    const std::string k = physical;
    FaultSpec p{FaultKind::group_crash, {}, k == "crossbar_row" || k == "crossbar_column" ? 0.05 : 0.15};
    p.physical_kind = physical;
    if (k == "slow_tile" || k == "slow_array" || k == "slow_link") p.factor = 3.0;
    out.emplace_back(k, p);
  }
  return out;
}

struct Case {
  std::string name;
  int topology;
  std::vector<FaultSpec> specs;  // before expansion; onsets set per case below
  bool onsets;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (int t = 0; t < 4; ++t) {
    const Topology& topo = kTopologies[t];
    for (const auto& [kind, spec] : kinds()) {
      if (topo.conv && kind == "group_crash") continue;  // its groups name MLP units
      if (!topo.conv && kind == "slow_array") continue;  // one slow kind per topology is enough
      if (topo.conv && kind == "slow_tile") continue;
      if (std::string(topo.name) == "bus" && (kind == "router" || kind == "slow_link")) continue;  // a bus has no routers
      FaultSpec transient = spec, permanent = spec;
      transient.persistence = Persistence::transient;
      permanent.persistence = Persistence::permanent;
      out.push_back({std::string(topo.name) + "_" + kind + "_transient", t, {transient}, false});
      out.push_back({std::string(topo.name) + "_" + kind + "_permanent_onsets", t, {permanent}, true});
    }
    // Value and timing kinds together, later specs overriding earlier ones on shared units.
    std::vector<FaultSpec> all;
    for (const auto& [kind, spec] : kinds()) {
      if (topo.conv && kind == "group_crash") continue;
      if (std::string(topo.name) == "bus" && (kind == "router" || kind == "slow_link")) continue;
      FaultSpec s = spec;
      s.probability *= 0.5;
      all.push_back(s);
    }
    out.push_back({std::string(topo.name) + "_every_kind", t, all, false});
    out.push_back({std::string(topo.name) + "_every_kind_onsets", t, all, true});
  }
  return out;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// What a run of the trials gives, to compare one way against the other.
struct Outcome {
  std::vector<Eigen::MatrixXd> outputs;
  ErrorStats stats{1, 1};
  std::vector<FaultLogEntry> log;
  std::map<std::uint64_t, std::uint64_t> latencies;
  std::uint64_t messages = 0, hops = 0;
  double wait_ns = 0;
  std::vector<Interconnect::LinkBusy> links;
  ChipSimulationCounts simulation;
};

// Runs the same trials both ways on `engine` under `plan` and holds them together: outputs,
// statistics, fault log, latencies, traffic, and which inferences went which way.
void expect_same_both_ways(ChipEngine& engine, const faults::FaultPlan& plan, const std::string& name) {
  auto run = [&](bool differential) {
    engine.set_plan(plan, 5, 16);
    engine.set_differential(differential);
    Outcome r;
    for (std::uint64_t t = 0; t < 10; ++t) r.outputs.push_back(engine.trial_outputs(t));
    r.stats = engine.run_block(1, 32);
    r.log = engine.controller().log();
    r.latencies = engine.latency_counts_ps();
    r.messages = engine.chip().messages_sent();
    r.hops = engine.chip().interconnect().hops();
    r.wait_ns = engine.chip().interconnect().wait_ns();
    r.links = engine.chip().interconnect().link_busy();
    r.simulation = engine.simulation();
    return r;
  };
  const Outcome diff = run(true);
  const Outcome full = run(false);

  // The outputs, trial by trial, within 1e-12 of the larger of the fault-free outputs' and this
  // trial's outputs' magnitudes (the order of additions differs).
  const Eigen::MatrixXd& clean = engine.reference_outputs();
  const double clean_scale = std::max(1.0, clean.cwiseAbs().maxCoeff());
  int faulty = 0;
  for (std::size_t t = 0; t < diff.outputs.size(); ++t) {
    if (!full.outputs[t].isApprox(clean, 1e-12)) ++faulty;
    const double scale = std::max(clean_scale, full.outputs[t].cwiseAbs().maxCoeff());
    for (Eigen::Index i = 0; i < clean.size(); ++i) {
      ASSERT_NEAR(diff.outputs[t].data()[i], full.outputs[t].data()[i], 1e-12 * scale) << name << " trial " << t << " value " << i;
    }
  }
  // Not vacuous: faults changed outputs, or (slow units alone) latencies.
  const bool slow_only = std::all_of(plan.specs().begin(), plan.specs().end(), [](const FaultSpec& s) { return s.is_timing(); });
  if (slow_only) {
    EXPECT_GT(full.latencies.size(), 1u) << name << ": no trial changed a latency: the comparison would be vacuous";
  } else {
    EXPECT_GT(faulty, 0) << name << ": no trial changed an output: the comparison would be vacuous";
  }
  const double scale = std::max(clean_scale, 1.0);
  for (Eigen::Index n = 0; n < diff.stats.inputs(); ++n) {
    for (Eigen::Index k = 0; k < diff.stats.outputs(); ++k) {
      EXPECT_NEAR(diff.stats.delta(n, k).mean(), full.stats.delta(n, k).mean(), 1e-12 * std::max(scale, diff.stats.delta(n, k).max()));
      EXPECT_NEAR(diff.stats.delta(n, k).std(), full.stats.delta(n, k).std(), 1e-12 * std::max(scale, diff.stats.delta(n, k).max()));
    }
  }
  EXPECT_EQ(diff.stats.trials(), full.stats.trials());

  // The same faults at the same simulated times, the same latencies and traffic.
  ASSERT_EQ(diff.log.size(), full.log.size()) << name;
  for (std::size_t i = 0; i < diff.log.size(); ++i) {
    EXPECT_EQ(diff.log[i].time_ns, full.log[i].time_ns) << name << " " << i;
    EXPECT_EQ(diff.log[i].trial, full.log[i].trial) << name << " " << i;
    EXPECT_EQ(diff.log[i].input, full.log[i].input) << name << " " << i;
    EXPECT_EQ(diff.log[i].spec, full.log[i].spec) << name << " " << i;
    EXPECT_EQ(diff.log[i].unit, full.log[i].unit) << name << " " << i;
  }
  EXPECT_EQ(diff.latencies, full.latencies) << name;
  EXPECT_EQ(diff.messages, full.messages) << name;
  EXPECT_EQ(diff.hops, full.hops) << name;
  EXPECT_EQ(diff.wait_ns, full.wait_ns) << name;
  ASSERT_EQ(diff.links.size(), full.links.size()) << name;
  for (std::size_t i = 0; i < diff.links.size(); ++i) {
    EXPECT_EQ(diff.links[i].name, full.links[i].name);
    EXPECT_EQ(diff.links[i].busy_ns, full.links[i].busy_ns);
  }

  // Which way each inference went: exactly those that drew a unit acting through time (a dead
  // router, a slow unit) in full, the others differentially (drawn again here).
  const faults::FaultSampler sampler(plan, engine.chip().programmed_network(), 5);
  std::vector<std::uint64_t> scratch;
  std::uint64_t timed = 0, all = 0;
  auto count = [&](std::uint64_t t) {
    for (std::uint32_t n = 0; n < static_cast<std::uint32_t>(engine.reference_outputs().cols()); ++n, ++all) {
      bool drew = false;
      sampler.for_each_failed(t, n, scratch, [&](std::size_t s, std::uint64_t) { drew = drew || plan.specs()[s].acts_through_time(); });
      timed += drew;
    }
  };
  for (std::uint64_t t = 0; t < 10; ++t) count(t);
  for (std::uint64_t t = 16; t < 32; ++t) count(t);
  EXPECT_TRUE(diff.simulation.differential) << diff.simulation.full_reason;
  EXPECT_EQ(diff.simulation.full_inferences, timed) << name;
  EXPECT_EQ(diff.simulation.differential_inferences, all - timed) << name;
  EXPECT_FALSE(full.simulation.differential);
  EXPECT_EQ(full.simulation.differential_inferences, 0u);
  EXPECT_EQ(full.simulation.full_inferences, all);
  EXPECT_EQ(full.simulation.full_reason, "chip_simulation: full");
}

ChipEngineOptions test_options() {
  ChipEngineOptions options;
  options.seed = 5;
  options.block_trials = 16;
  options.fault_log_limit = 100000;
  return options;
}

class ChipDifferential : public ::testing::TestWithParam<Case> {};

TEST_P(ChipDifferential, GivesTheFullSimulationsOutputsLogAndTiming) {
  const Case& c = GetParam();
  const Topology& topo = kTopologies[c.topology];
  const models::Network net = network_for(topo);
  const Eigen::MatrixXd x = models::random_inputs(net.input_size(), 4, 1.0, 0.0, 7);
  const MappedChip chip = map_network(net, parse_topology(YAML::Load(topo.yaml), std::string(topo.name) + ".yaml"));
  const faults::FaultPlan first(expand_physical_faults(c.specs, chip), net);
  ChipEngine engine(net, x, chip, first, test_options());
  ASSERT_EQ(engine.references().size(), 4u) << "no references recorded";

  // Onsets, by the first input's reference (every input has the same times): exactly at layer 2's
  // reads, at layer 1's updates, 1 ns into layer 1's reads, exactly at the output layer's updates,
  // exactly at the end of the inference, and after it (a fault that never acts: not logged).
  std::vector<FaultSpec> listed = c.specs;
  if (c.onsets) {
    const Chip::Reference& ref = engine.references()[0];
    const auto ns = [](const sc_core::sc_time& t) { return t.to_seconds() * 1e9; };
    const int L = net.num_layers();
    const std::vector<double> onsets = {ns(ref.reads_start[2]),    ns(ref.updates_start[1]), ns(ref.reads_start[1]) + 1.0,
                                        ns(ref.updates_start[L]), ns(ref.latency),           ns(ref.latency) + 5.0};
    if (listed.size() == 1) {
      for (std::size_t i = 1; i < onsets.size(); ++i) listed.push_back(listed[0]);
    }
    for (std::size_t s = 0; s < listed.size(); ++s) listed[s].onset_ns = onsets[s % onsets.size()];
  }
  const faults::FaultPlan plan(expand_physical_faults(listed, chip), net);
  expect_same_both_ways(engine, plan, c.name);
}

// Random onsets anywhere in [0, 1.2 x latency] on every kind together (value and timing, transient
// and permanent, onsets falling inside phases, at their starts and after the end), on the
// contended mesh: 20 plans on one chip.
TEST(ChipDifferentialRandom, OnsetsAnywhere) {
  const Topology& topo = kTopologies[2];
  const models::Network net = network_for(topo);
  const Eigen::MatrixXd x = models::random_inputs(net.input_size(), 4, 1.0, 0.0, 7);
  const MappedChip chip = map_network(net, parse_topology(YAML::Load(topo.yaml), "contended.yaml"));
  const faults::FaultPlan first(expand_physical_faults({FaultSpec{FaultKind::neuron_crash, {1}, 0.1}}, chip), net);
  ChipEngine engine(net, x, chip, first, test_options());
  const Chip::Reference& ref = engine.references()[0];
  std::vector<double> phase_starts;
  for (std::size_t l = 1; l < ref.reads_start.size(); ++l) {
    phase_starts.push_back(ref.reads_start[l].to_seconds() * 1e9);
    phase_starts.push_back(ref.updates_start[l].to_seconds() * 1e9);
  }
  const double latency_ns = ref.latency.to_seconds() * 1e9;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int round = 0; round < 20; ++round) {
    std::vector<FaultSpec> specs;
    for (const auto& [kind, spec] : kinds()) {
      FaultSpec s = spec;
      s.probability *= 0.4;
      s.persistence = unit(rng) < 0.5 ? Persistence::transient : Persistence::permanent;
      // Half the onsets exactly at a phase's start, the others anywhere (some after the end).
      s.onset_ns = unit(rng) < 0.5 ? phase_starts[static_cast<std::size_t>(unit(rng) * static_cast<double>(phase_starts.size()))]
                                   : std::round(unit(rng) * 1.2 * latency_ns * 8) / 8;
      specs.push_back(s);
    }
    const faults::FaultPlan plan(expand_physical_faults(specs, chip), net);
    expect_same_both_ways(engine, plan, "round " + std::to_string(round));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, ChipDifferential, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// What keeps a chip from differential simulation is named: a crossbar model with read noise.
TEST(ChipDifferentialOff, NoisyReadsAreSimulatedInFull) {
  const models::Network net = models::make_random_network({{20, 17, 12, 5}, {models::ActivationKind::tanh}, {}, 2.0, 0.05, 21});
  const Eigen::MatrixXd x = models::random_inputs(net.input_size(), 2, 1.0, 0.0, 7);
  const MappedChip chip = map_network(net, parse_topology(YAML::Load(R"(
cores: {count: 3}
crossbar: {type: noisy, rows: 64, cols: 64, read_noise_std: 0.01}
neuron_array: {size: 64}
interconnect: {type: bus}
)"),
                                                          "noisy.yaml"));
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.1}}, net);
  ChipEngine engine(net, x, chip, plan, {});
  EXPECT_TRUE(engine.references().empty());
  engine.run_block(0, 4);
  const ChipSimulationCounts s = engine.simulation();
  EXPECT_FALSE(s.differential);
  EXPECT_NE(s.full_reason.find("read noise"), std::string::npos) << s.full_reason;
  EXPECT_EQ(s.differential_inferences, 0u);
  EXPECT_EQ(s.full_inferences, 8u);
}

}  // namespace
}  // namespace nfsim::sim
