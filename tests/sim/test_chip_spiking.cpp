// Spiking arrays on the SystemC chip (docs/spiking.md, "On the chip") against the functional
// spiking engine: per trial, for every fault kind the spiking model takes (logical and physical,
// transient and permanent), on a split MLP and a conv network with average pooling, for two sets
// of dynamics. Each test runs in its own process (gtest_discover_tests): one elaboration each.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "faults/fault_plan.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "models/spiking.h"
#include "sim/chip/chip_engine.h"
#include "sim/functional/spiking_engine.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"

namespace nfsim::sim {
namespace {

using faults::FaultKind;
using faults::FaultSpec;
using faults::Persistence;

// A 20-17-12-5 relu network on 8x8 crossbars and 8-neuron lif arrays (every layer split into row and
// column blocks) on a 5x4 mesh, and a conv network (conv 3 channels 3x3, average pooling 2x2,
// dense 4) on 3-column crossbars.
const char* kSplitMesh = R"(
name: split
cores: {count: 20, layout: {type: mesh, width: 5, height: 4}}
crossbar: {type: ideal, rows: 8, cols: 8, read_latency_ns: 50}
neuron_array: {type: lif, size: 8, update_latency_ns: 5}
interconnect: {type: mesh, hop_latency_ns: 2, flit_bytes: 16}
)";
const char* kConvMesh = R"(
name: conv
cores: {count: 16, layout: {type: mesh, width: 4, height: 4}}
crossbar: {type: ideal, rows: 8, cols: 3, read_latency_ns: 10}
neuron_array: {type: lif, size: 3, update_latency_ns: 5}
interconnect: {type: mesh, hop_latency_ns: 2, flit_bytes: 16}
)";

models::Network spiking_mlp(const Eigen::MatrixXd& x) {
  const models::Network raw = models::make_random_network({{20, 17, 12, 5}, {models::ActivationKind::relu}, {}, 3.0, 0.2, 4});
  return models::convert_to_spiking(raw, x, 99.0).network;
}

models::Network spiking_cnn(const Eigen::MatrixXd& x) {
  models::RandomNetworkSpec spec;
  spec.input_shape = {1, 6, 6};
  spec.layers = models::parse_random_layers("conv:3:3,avgpool:2,dense:4");
  spec.sigma = 3.0;
  spec.mu = 0.2;
  spec.seed = 7;
  return models::convert_to_spiking(models::make_random_network(spec), x, 99.0).network;
}

// kSplitMesh with 1 byte/ns links: a message holds its links for its wire bytes.
const char* kSplitMeshNarrow = R"(
name: split
cores: {count: 20, layout: {type: mesh, width: 5, height: 4}}
crossbar: {type: ideal, rows: 8, cols: 8, read_latency_ns: 50}
neuron_array: {type: lif, size: 8, update_latency_ns: 5}
interconnect: {type: mesh, hop_latency_ns: 2, flit_bytes: 16, link_bandwidth_bytes_per_ns: 1}
)";

MappedChip mapped(const models::Network& net, const char* yaml) { return map_network(net, parse_topology(YAML::Load(yaml), "test.yaml")); }

models::SpikingConfig dynamics(bool lif) {
  models::SpikingConfig c;
  c.time_steps = 12;
  if (lif) {
    c.neuron = models::SpikingNeuron::lif;
    c.leak = 0.85;
    c.reset = models::SpikeReset::zero;
    c.refractory_steps = 1;
    c.readout = models::SpikeReadout::rate;
  }
  return c;
}

struct SpikingCase {
  std::string name;
  FaultSpec spec;
  bool conv = false;
  bool lif = false;
  std::vector<FaultSpec> more;  // further specs of the plan, after `spec`
};

void PrintTo(const SpikingCase& c, std::ostream* os) { *os << c.name; }

std::vector<SpikingCase> cases() {
  std::vector<SpikingCase> out;
  for (bool lif : {false, true}) {
    for (Persistence persistence : {Persistence::transient, Persistence::permanent}) {
      const std::string suffix = std::string(lif ? "_lif" : "_if") + (persistence == Persistence::transient ? "_transient" : "_permanent");
      for (bool conv : {false, true}) {
        // A case: `s` and the further specs `more`, all with this persistence.
        auto add = [&](const std::string& name, FaultSpec s, std::vector<FaultSpec> more = {}) {
          s.persistence = persistence;
          for (FaultSpec& m : more) m.persistence = persistence;
          out.push_back({(conv ? "conv_" : "mlp_") + name + suffix, s, conv, lif, std::move(more)});
        };
        const int L = 3;
        std::vector<int> all_neurons{0, 1, 2, L}, synapse_layers{1, 2, L};
        if (conv) {
          all_neurons = {0, 1, 2};
          synapse_layers = {1, 2};
        }
        add("neuron_crash", {FaultKind::neuron_crash, all_neurons, 0.1});
        FaultSpec saturated{FaultKind::neuron_stuck_at, {1, 2}, 0.1};
        saturated.value = 1.0;  // spikes at every step
        add("neuron_saturated", saturated);
        FaultSpec stuck{FaultKind::neuron_stuck_at, conv ? std::vector<int>{0, 2} : std::vector<int>{0, 1, L}, 0.1};
        stuck.value = 0.4;
        add("neuron_stuck_at", stuck);
        add("synapse_crash", {FaultKind::synapse_crash, synapse_layers, 0.05});
        FaultSpec wstuck{FaultKind::synapse_stuck_at, {2}, 0.05};
        wstuck.value = -0.9;
        add("synapse_stuck_at", wstuck);
        FaultSpec flip{FaultKind::weight_bit_flip, {1, 2}, 0.05};
        flip.bit = 6;
        flip.format = {8, 6};
        add("weight_bit_flip", flip);
        FaultSpec group{FaultKind::group_crash, {}, 0.3};
        group.groups.push_back({"a", {{1, 3}, {2, 0}}, {{2, 1, 2}}});
        group.groups.push_back({"b", {{0, 5}}, {{1, 0, 0}, {1, 2, 3}}});
        add("group_crash", group);
        FaultSpec threshold{FaultKind::threshold_deviation, {1, 2}, 0.2};
        threshold.factor = 0.7;
        add("threshold_deviation", threshold);
        FaultSpec leak{FaultKind::leak_deviation, {1, 2}, 0.2};
        leak.factor = lif ? 0.5 : 0.9;  // an if neuron's leak of 1 becomes 0.9: it starts to forget
        add("leak_deviation", leak);
        if (!conv) {
          // Dropped spikes (dense layers only): lossy routers and links, each spike dropped with
          // drop_probability; with faults changing the synapses a dropped spike would have fed
          // (a dead crossbar row, stuck-at synapses) and the neurons sending it.
          for (const char* lossy : {"lossy_router", "lossy_link"}) {
            FaultSpec p{FaultKind::group_crash, {}, std::string(lossy) == "lossy_router" ? 0.3 : 0.2};
            p.physical_kind = lossy;
            p.drop_probability = 0.5;
            add(lossy, p);
            FaultSpec all = p;
            all.drop_probability = 1.0;
            add(std::string(lossy) + "_drops_all", all);
          }
          FaultSpec lossy{FaultKind::group_crash, {}, 0.3};
          lossy.physical_kind = "lossy_router";
          lossy.drop_probability = 0.6;
          FaultSpec row{FaultKind::group_crash, {}, 0.05};
          row.physical_kind = "crossbar_row";
          FaultSpec wstuck2{FaultKind::synapse_stuck_at, {1, 2, L}, 0.05};
          wstuck2.value = 0.7;
          FaultSpec crash{FaultKind::neuron_crash, {0, 1, 2}, 0.05};
          add("lossy_router_with_others", lossy, {row, wstuck2, crash});
          // With dead routers (a message crossing one is lost whole, before any draw) and dead
          // neuron arrays on the same routes.
          FaultSpec link{FaultKind::group_crash, {}, 0.3};
          link.physical_kind = "lossy_link";
          link.drop_probability = 0.7;
          FaultSpec dead_router{FaultKind::group_crash, {}, 0.1};
          dead_router.physical_kind = "router";
          FaultSpec dead_array{FaultKind::group_crash, {}, 0.1};
          dead_array.physical_kind = "neuron_array";
          add("lossy_link_with_dead_routers_and_arrays", link, {dead_router, dead_array});
        }
        // Onsets in time steps (T = 12): faults that start at step 5 of each inference, and an
        // early and a late spec on the same neurons (the later spec wins once both act).
        {
          FaultSpec crash5{FaultKind::neuron_crash, all_neurons, 0.15};
          crash5.onset_step = 5;
          add("neuron_crash_from_step_5", crash5);
          FaultSpec stuck5 = stuck;
          stuck5.onset_step = 5;
          add("neuron_stuck_at_from_step_5", stuck5);
          FaultSpec wstuck5 = wstuck;
          wstuck5.onset_step = 5;
          add("synapse_stuck_at_from_step_5", wstuck5);
          FaultSpec threshold5 = threshold;
          threshold5.onset_step = 5;
          add("threshold_deviation_from_step_5", threshold5);
          FaultSpec row5{FaultKind::group_crash, {}, 0.1};
          row5.physical_kind = "crossbar_row";
          row5.onset_step = 5;
          add("crossbar_row_from_step_5", row5);
          FaultSpec router5{FaultKind::group_crash, {}, 0.15};
          router5.physical_kind = conv ? "router" : "lossy_router";
          router5.drop_probability = conv ? 0.0 : 0.5;
          router5.onset_step = 5;
          add(std::string(router5.physical_kind) + "_from_step_5", router5);
          FaultSpec late{FaultKind::neuron_crash, {1, 2}, 0.3};
          late.onset_step = 8;
          FaultSpec early = saturated;
          early.probability = 0.3;
          add("late_crash_over_early_saturation", late, {early});
        }
        for (const char* physical : {"crossbar_row", "crossbar_column", "crossbar_tile", "neuron_array", "router"}) {
          FaultSpec p{FaultKind::group_crash, {}, std::string(physical) == "crossbar_row" || std::string(physical) == "crossbar_column" ? 0.05 : 0.15};
          p.physical_kind = physical;
          add(physical, p);
        }
      }
    }
  }
  return out;
}

class SpikingEnginesAgree : public ::testing::TestWithParam<SpikingCase> {};

// Same seed and trial: the chip's spiking arrays and the functional spiking engine draw the same
// faults and give the same readouts (1e-9 relative), trial by trial.
TEST_P(SpikingEnginesAgree, PerTrialOutputs) {
  const SpikingCase& c = GetParam();
  const Eigen::Index inputs = c.conv ? 36 : 20;
  const Eigen::MatrixXd x = models::random_inputs(inputs, 3, 0.5, 0.5, 5);  // intensities in [0, 1]
  const models::Network net = c.conv ? spiking_cnn(x) : spiking_mlp(x);
  const MappedChip chip = mapped(net, c.conv ? kConvMesh : kSplitMesh);
  std::vector<FaultSpec> specs{c.spec};
  specs.insert(specs.end(), c.more.begin(), c.more.end());
  const faults::FaultPlan plan(expand_physical_faults(specs, chip), net);
  const models::SpikingConfig config = dynamics(c.lif);
  ChipEngineOptions copt;
  copt.seed = 99;
  copt.fault_log_limit = 1000;
  copt.spiking = &config;
  ChipEngine chip_engine(net, x, chip, plan, copt);
  SpikingOptions fopt;
  fopt.seed = 99;
  const SpikingEngine functional(chip_engine.chip().programmed_network(), config, x, plan, fopt);
  // The fault-free readouts agree too (Delta is measured against each engine's own).
  EXPECT_LT((chip_engine.reference_outputs() - functional.clean_outputs()).cwiseAbs().maxCoeff(), 1e-9);
  int faulty_trials = 0;
  for (std::uint64_t t = 0; t < 10; ++t) {
    const Eigen::MatrixXd a = chip_engine.trial_outputs(t);
    const Eigen::MatrixXd b = functional.trial_outputs(t);
    if (!b.isApprox(functional.clean_outputs(), 1e-12)) ++faulty_trials;
    for (Eigen::Index i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(a.data()[i], b.data()[i], 1e-9 * std::abs(b.data()[i]) + 1e-12) << c.name << " trial " << t;
    }
  }
  EXPECT_GT(faulty_trials, 0) << "no trial changed an output: the comparison would be vacuous";
  EXPECT_EQ(chip_engine.simulation().differential_inferences, 0u);  // spiking arrays run in full
}

INSTANTIATE_TEST_SUITE_P(AllKinds, SpikingEnginesAgree, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<SpikingCase>& info) { return info.param.name; });

// Spikes travel as address events: the traffic follows the activity. On narrow links a silent
// input's inference (headers only on its spike messages) takes less simulated time than a bright
// one's (20 input spikes a step); with the payload's dense size on the wire they would be equal.
TEST(ChipSpiking, TrafficFollowsTheSpikes) {
  const Eigen::MatrixXd x = models::random_inputs(20, 2, 0.5, 0.5, 5);
  const models::Network net = spiking_mlp(x);
  const MappedChip chip = mapped(net, kSplitMeshNarrow);
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.0}}, net);
  models::SpikingConfig config = dynamics(false);
  Eigen::MatrixXd inputs(20, 2);
  inputs.col(0).setZero();
  inputs.col(1).setConstant(1.0);
  ChipEngineOptions copt;
  copt.spiking = &config;
  ChipEngine engine(net, inputs, chip, plan, copt);
  engine.chip().reset_counters();
  const std::uint64_t before = engine.chip().messages_sent();
  (void)engine.clean_outputs();
  const std::uint64_t messages = engine.chip().messages_sent() - before;
  // T passes per inference, every transfer of the mapping once per pass.
  EXPECT_EQ(messages, 2u * 12u * static_cast<std::uint64_t>(chip.mapping.transfers.size()));
  // The silent input: no spike anywhere (relu network with these biases may still fire: only
  // the input layer is checked); the bright one: 20 input spikes per step.
  const auto& spikes = engine.chip().spikes_sent();
  ASSERT_EQ(spikes.size(), 3u);
  EXPECT_EQ(spikes[0], 12u * 20u);
  (void)engine.run_block(0, 1);  // one trial: both inputs, their latencies recorded
  const auto& latencies = engine.latency_counts_ps();
  ASSERT_EQ(latencies.size(), 2u) << "the silent and the bright input took the same time";
  // The bright input's 20 x 12 extra input spikes cross at least one 1 byte/ns link each (4 bytes).
  EXPECT_GE(latencies.rbegin()->first - latencies.begin()->first, 4u * 20u * 1000u);
}

// The neuron-array type decides whether the arrays spike: the registered if type runs the same
// dynamics as the functional engine (leak 1), and rate arrays refuse spiking dynamics, naming the
// topology file and the key (campaigns refuse them earlier, naming their own file too).
TEST(ChipSpiking, IfArraysGiveTheFunctionalEnginesOutputs) {
  const Eigen::MatrixXd x = models::random_inputs(20, 3, 0.5, 0.5, 5);
  const models::Network net = spiking_mlp(x);
  std::string yaml = kSplitMesh;
  yaml.replace(yaml.find("type: lif"), 9, "type: if");
  const MappedChip chip = mapped(net, yaml.c_str());
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1, 2}, 0.1}}, net);
  const models::SpikingConfig config = dynamics(false);
  ChipEngineOptions copt;
  copt.seed = 4;
  copt.spiking = &config;
  ChipEngine engine(net, x, chip, plan, copt);
  SpikingOptions fopt;
  fopt.seed = 4;
  const SpikingEngine functional(engine.chip().programmed_network(), config, x, plan, fopt);
  EXPECT_LT((engine.reference_outputs() - functional.clean_outputs()).cwiseAbs().maxCoeff(), 1e-9);
  for (std::uint64_t t = 0; t < 5; ++t) EXPECT_LT((engine.trial_outputs(t) - functional.trial_outputs(t)).cwiseAbs().maxCoeff(), 1e-9);
}

TEST(ChipSpiking, RateArraysRefuseSpikingDynamics) {
  const Eigen::MatrixXd x = models::random_inputs(20, 2, 0.5, 0.5, 5);
  const models::Network net = spiking_mlp(x);
  std::string yaml = kSplitMesh;
  yaml.replace(yaml.find("type: lif"), 9, "type: rate");
  const MappedChip chip = mapped(net, yaml.c_str());
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.0}}, net);
  const models::SpikingConfig config = dynamics(false);
  ChipEngineOptions copt;
  copt.spiking = &config;
  try {
    ChipEngine engine(net, x, chip, plan, copt);
    FAIL() << "rate arrays ran spiking dynamics";
  } catch (const core::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("test.yaml: neuron_array: type 'rate' does not spike"), std::string::npos) << m;
    EXPECT_NE(m.find("{type: lif}"), std::string::npos) << m;
  }
}

// A kept chip session given other per-neuron thresholds (another NIR file of the same weights)
// recomputes its fault-free outputs with them: the key it compares includes the per-neuron vectors.
TEST(ChipSpiking, OtherPerNeuronThresholdsRecomputeTheFaultFreeOutputs) {
  const Eigen::MatrixXd x = models::random_inputs(20, 3, 0.5, 0.5, 5);
  const models::Network net = spiking_mlp(x);
  const MappedChip chip = mapped(net, kSplitMesh);
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.0}}, net);
  models::SpikingConfig a = dynamics(false);
  a.layer_thresholds = {Eigen::VectorXd::Constant(17, 1.0), Eigen::VectorXd::Constant(12, 1.0)};
  models::SpikingConfig b = a;
  b.layer_thresholds[0][4] = 0.5;
  b.layer_thresholds[1][2] = 1.7;
  ASSERT_EQ(a.describe(), b.describe());
  ASSERT_NE(a.signature(), b.signature());
  ChipEngineOptions copt;
  copt.spiking = &a;
  ChipEngine engine(net, x, chip, plan, copt);
  const Eigen::MatrixXd before = engine.reference_outputs();
  engine.set_spiking(&b);
  SpikingOptions fopt;
  const SpikingEngine want(engine.chip().programmed_network(), b, x, plan, fopt);
  EXPECT_GT((before - want.clean_outputs()).cwiseAbs().maxCoeff(), 1e-6);  // the thresholds matter here
  EXPECT_LT((engine.reference_outputs() - want.clean_outputs()).cwiseAbs().maxCoeff(), 1e-9);
}

}  // namespace
}  // namespace nfsim::sim
