// Onset times and traces of the chip engine. Each test runs in its own process.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "faults/fault_plan.h"
#include "models/dataset.h"
#include "models/layer/dense_layer.h"
#include "models/random_network.h"
#include "core/plugin.h"
#include "faults/fault_sampler.h"
#include "sim/chip/chip_engine.h"
#include "sim/functional/functional_engine.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"
#include "tests/common/temp_dir.h"
#include "tests/common/vcd.h"

namespace nfsim::sim {
namespace {

using faults::FaultKind;
using faults::FaultSpec;

// Bus chip: every message 10 ns, tile read 100 ns, neuron update 20 ns. Layer l (starting at
// s = 140 (l - 1) ns): inputs arrive at s + 10, tiles read from s + 10 to s + 110, partial sums
// arrive at s + 120, arrays update from s + 120 to s + 140. Outputs reach the host at 430 ns.
const char* kBus = R"(
cores: {count: 4}
crossbar: {type: ideal, rows: 32, cols: 32, read_latency_ns: 100}
neuron_array: {type: rate, size: 32, update_latency_ns: 20}
interconnect: {type: bus, latency_ns: 10}
)";

struct Fixture {
  models::Network net = models::make_random_network({{6, 8, 7, 3}, {models::ActivationKind::tanh}, {}, 2.0, 0.1, 4});
  Eigen::MatrixXd x = models::random_inputs(6, 2, 1.0, 0.0, 2);
  MappedChip chip = map_network(net, parse_topology(YAML::Load(kBus), "bus.yaml"));
};

// The outputs of the network with the listed layers' outputs forced to zero.
Eigen::MatrixXd with_layers_dead(const models::Network& net, const Eigen::MatrixXd& x, std::vector<int> dead) {
  Eigen::MatrixXd y = x;
  for (int l = 1; l <= net.num_layers(); ++l) {
    Eigen::MatrixXd z = models::as_dense(net.layer(l), "test").weights() * y;
    z.colwise() += net.layer(l).bias();
    y = net.layer(l).activation().apply(z);
    if (std::find(dead.begin(), dead.end(), l) != dead.end()) y.setZero();
  }
  return y;
}

Eigen::MatrixXd run_with_onset(Fixture& f, int layer, double onset_ns) {
  FaultSpec spec{FaultKind::group_crash, {layer}, 1.0};
  spec.physical_kind = "neuron_array";
  spec.onset_ns = onset_ns;
  const faults::FaultPlan plan(expand_physical_faults({spec}, f.chip), f.net);
  ChipEngine engine(f.net, f.x, f.chip, plan, {});
  const Eigen::MatrixXd out = engine.trial_outputs(0);
  EXPECT_DOUBLE_EQ(engine.chip().last_latency().to_seconds() * 1e9, 3 * 140.0 + 10.0);
  return out;
}

// A neuron array of layer 2 that dies at 200 ns (during layer 2's tile reads, 150..250 ns) is
// dead when layer 2's arrays update at 260 ns: layer 2's outputs are lost.
TEST(ChipOnset, ArrayDyingDuringLayerTwoLosesLayerTwo) {
  Fixture f;
  const Eigen::MatrixXd out = run_with_onset(f, 2, 200.0);
  EXPECT_TRUE(out.isApprox(with_layers_dead(f.net, f.x, {2}), 1e-12));
}

TEST(ChipOnset, ArrayDyingAfterItsLayerHasNoEffect) {
  Fixture f;
  const Eigen::MatrixXd out = run_with_onset(f, 1, 200.0);  // layer 1's arrays updated at 120 ns
  EXPECT_TRUE(out.isApprox(f.net.forward_batch(f.x), 1e-12));
}

TEST(ChipOnset, FaultAfterTheInferenceHasNoEffect) {
  Fixture f;
  const Eigen::MatrixXd out = run_with_onset(f, 3, 1e6);
  EXPECT_TRUE(out.isApprox(f.net.forward_batch(f.x), 1e-12));
}

TEST(ChipOnset, FaultFromTheStartActsOnTheWholeInference) {
  Fixture f;
  const Eigen::MatrixXd out = run_with_onset(f, 1, 0.0);
  EXPECT_TRUE(out.isApprox(with_layers_dead(f.net, f.x, {1}), 1e-12));
}

// Deadlines and slow units (docs/chip.md, "Deadlines and slow units"). On the bus chip the
// outputs reach the host at 430 ns; a tile twice as slow adds one read (100 ns).
faults::FaultPlan slow_tiles(Fixture& f, std::vector<int> layers, double p, double factor) {
  FaultSpec spec{FaultKind::group_crash, std::move(layers), p};
  spec.physical_kind = "slow_tile";
  spec.factor = factor;
  return faults::FaultPlan(expand_physical_faults({spec}, f.chip), f.net);
}

TEST(ChipDeadline, ASlowTilePastTheDeadlineLosesTheOutputs) {
  Fixture f;
  const faults::FaultPlan plan = slow_tiles(f, {2}, 1.0, 2.0);
  ChipEngine engine(f.net, f.x, f.chip, plan, {});
  // Slow but in time: the same outputs, 100 ns later.
  engine.set_deadline(600.0);
  EXPECT_TRUE(engine.trial_outputs(0).isApprox(f.net.forward_batch(f.x), 1e-12));
  EXPECT_DOUBLE_EQ(engine.chip().last_latency().to_seconds() * 1e9, 530.0);
  EXPECT_FALSE(engine.chip().deadline_missed());
  // Past a 450 ns deadline: the host holds zeros for every output (docs/chip.md).
  engine.set_deadline(450.0);
  EXPECT_EQ(engine.trial_outputs(0), Eigen::MatrixXd::Zero(3, f.x.cols()));
  EXPECT_TRUE(engine.chip().deadline_missed());
  // A deadline the fault-free chip meets, without slow units: nothing lost.
  const faults::FaultPlan none = slow_tiles(f, {2}, 0.0, 2.0);
  engine.set_plan(none, 1, 64);
  EXPECT_TRUE(engine.trial_outputs(0).isApprox(f.net.forward_batch(f.x), 1e-12));
  EXPECT_FALSE(engine.chip().deadline_missed());
}

// Each of the three tiles (one per layer) is slow with p = 0.2 per inference; any slow tile
// pushes the outputs to 530 ns or later, past a 450 ns deadline: the miss rate is 1 - 0.8^3.
TEST(ChipDeadline, MissRateMatchesTheSlowFaultProbability) {
  Fixture f;
  const faults::FaultPlan plan = slow_tiles(f, {}, 0.2, 2.0);
  ChipEngine engine(f.net, f.x, f.chip, plan, {});
  engine.set_deadline(450.0);
  const std::uint64_t trials = 1000;
  engine.run(trials);
  const double n = static_cast<double>(trials * static_cast<std::uint64_t>(f.x.cols()));
  const double rate = static_cast<double>(engine.deadline_misses()) / n, want = 1 - 0.8 * 0.8 * 0.8;
  EXPECT_LT(std::abs(rate - want), 4 * std::sqrt(want * (1 - want) / n)) << rate << " against " << want;
}

// Streamed inferences (docs/chip.md, "Streamed inferences") on the bus chip: one inference alone
// takes 430 ns; the bottleneck stage is a tile's 100 ns read, so the chip completes at most one
// inference per 100 ns (10 per us). Input n arrives at n * interval.
struct StreamFixture : Fixture {
  StreamFixture() { x = models::random_inputs(6, 12, 1.0, 0.0, 8); }
};

// Inputs every 50 ns, faster than the bottleneck: the tiles of layer 1 read input n from
// 10 + 100 n ns, every later stage follows 100 ns apart, so input n completes at 430 + 100 n:
// 10 per us, and its latency 430 + 50 n grows 50 ns per input (a backlog). The outputs are those
// of single inferences; a 600 ns deadline loses the inputs from n = 4 on (latency 630 ns).
TEST(ChipStream, FasterThanTheBottleneckRunsAtTheBottlenecksRateWithABacklog) {
  StreamFixture f;
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.0}}, f.net);
  ChipEngine engine(f.net, f.x, f.chip, plan, {});
  EXPECT_DOUBLE_EQ(engine.chip().stream_period().to_seconds() * 1e9, 100.0);
  engine.set_stream(50.0);
  EXPECT_TRUE(engine.trial_outputs(0).isApprox(f.net.forward_batch(f.x), 1e-12));
  EXPECT_DOUBLE_EQ(engine.chip().last_latency().to_seconds() * 1e9, 430.0 + 50.0 * 11);
  engine.set_stream(50.0);
  engine.set_deadline(600.0);
  engine.run(3);
  EXPECT_EQ(engine.stream_throughput_per_us().count(), 3u);
  EXPECT_NEAR(engine.stream_throughput_per_us().mean(), 10.0, 1e-9);
  EXPECT_NEAR(engine.stream_backlog_growth_ns().mean(), 50.0, 1e-9);
  EXPECT_EQ(engine.deadline_misses(), 3u * 8u);
  EXPECT_DOUBLE_EQ(engine.latency_ns().min(), 430.0);
  EXPECT_DOUBLE_EQ(engine.latency_ns().max(), 430.0 + 50.0 * 11);
}

// Inputs every 200 ns, slower than the bottleneck: the stream runs at the input rate (5 per us),
// every inference takes 430 ns as alone, although up to three are in flight at once.
TEST(ChipStream, SlowerThanTheBottleneckKeepsUpAtTheInputRate) {
  StreamFixture f;
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.0}}, f.net);
  ChipEngine engine(f.net, f.x, f.chip, plan, {});
  engine.set_stream(200.0);
  engine.run(2);
  EXPECT_NEAR(engine.stream_throughput_per_us().mean(), 5.0, 1e-9);
  EXPECT_NEAR(engine.stream_backlog_growth_ns().mean(), 0.0, 1e-9);
  EXPECT_DOUBLE_EQ(engine.latency_ns().min(), 430.0);
  EXPECT_DOUBLE_EQ(engine.latency_ns().max(), 430.0);
}

// Fault-tolerant routing (docs/chip.md, "Routing around dead routers"). The network on a 3x3
// mesh with layer 1 on core 0, layer 2 on core 2 and layer 3 on core 8 (the host at core 0):
// layer 2's inputs go 0 -> 2 (XY: routers 0, 1, 2), layer 3's 2 -> 8 (2, 5, 8), the outputs
// 8 -> 0 (8, 7, 6, 3, 0). Routers 4, 1, 7 and 3, 6 carry traffic but hold no unit.
MappedChip spread_on_mesh(const models::Network& net, const std::string& routing) {
  const std::string yaml = "cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}\n"
                           "crossbar: {type: ideal, rows: 32, cols: 32, read_latency_ns: 100}\n"
                           "neuron_array: {type: rate, size: 32, update_latency_ns: 20}\n"
                           "interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 64, flit_latency_ns: 1, routing: " +
                           routing + "}\n";
  MappedChip c = map_network(net, parse_topology(YAML::Load(yaml), "mesh.yaml"));
  const int core_of_layer[] = {0, 0, 2, 8};
  for (auto& t : c.mapping.tiles) t.core = core_of_layer[t.layer];
  for (auto& a : c.mapping.arrays) a.core = core_of_layer[a.layer];
  c.mapping.transfers.clear();
  add_transfers(c.mapping, net);
  return c;
}

// Router faults with p = 0.2, permanent: one draw per trial.
faults::FaultPlan dead_routers(const Fixture& f, const MappedChip& chip) {
  FaultSpec spec{FaultKind::group_crash, {}, 0.2};
  spec.physical_kind = "router";
  spec.persistence = faults::Persistence::permanent;
  return faults::FaultPlan(expand_physical_faults({spec}, chip), f.net);
}

// The first trial (seed 1, the engines' default) whose routers `dead` fail, and no others.
std::uint64_t trial_with_dead(const faults::FaultPlan& plan, const models::Network& net, std::vector<std::uint64_t> dead) {
  const faults::FaultSampler sampler(plan, net, 1);
  std::vector<std::uint64_t> units;
  for (std::uint64_t t = 0; t < 100000; ++t) {
    sampler.draw_units(0, t, faults::FaultSampler::kPermanentSlot, units);
    if (units == dead) return t;
  }
  ADD_FAILURE() << "no trial fails exactly those routers";
  return 0;
}

double latency_ns(const ChipEngine& e) { return e.chip().last_latency().to_seconds() * 1e9; }

// A dead router 1 on the route 0 -> 2 that has a detour: the message goes 0, 3, 4, 5, 2 (two
// routers more), the outputs are the fault-free ones and the latency grows by 2 hops (10 ns).
// Dead router 7: the route 8 -> 0 detours over 8, 5, 4, 3, 0, as long as the XY route: no delay.
TEST(ChipRerouting, ADetourKeepsTheOutputsAndAddsItsExtraHops) {
  Fixture f;
  const MappedChip chip = spread_on_mesh(f.net, "fault_tolerant");
  const faults::FaultPlan plan = dead_routers(f, chip);
  ChipEngine engine(f.net, f.x, chip, plan, {});
  const Eigen::MatrixXd clean = f.net.forward_batch(f.x);
  EXPECT_TRUE(engine.clean_outputs().isApprox(clean, 1e-12));
  const double fault_free = latency_ns(engine);
  engine.chip().reset_counters();
  EXPECT_TRUE(engine.trial_outputs(trial_with_dead(plan, f.net, {1})).isApprox(clean, 1e-12));
  EXPECT_DOUBLE_EQ(latency_ns(engine), fault_free + 2 * 5.0);
  EXPECT_EQ(engine.chip().interconnect().dropped(), 0u);
  EXPECT_EQ(engine.chip().interconnect().rerouted(), static_cast<std::uint64_t>(f.x.cols()));  // one message per input
  EXPECT_EQ(engine.chip().interconnect().detour_hops(), 2u * static_cast<std::uint64_t>(f.x.cols()));
  EXPECT_TRUE(engine.trial_outputs(trial_with_dead(plan, f.net, {7})).isApprox(clean, 1e-12));
  EXPECT_DOUBLE_EQ(latency_ns(engine), fault_free);
}

// With XY routing the same dead router drops layer 2's inputs.
TEST(ChipRerouting, WithXyRoutingTheSameRouterDrops) {
  Fixture f;
  const Eigen::MatrixXd clean = f.net.forward_batch(f.x);
  const MappedChip xy = spread_on_mesh(f.net, "xy");
  const faults::FaultPlan xy_plan = dead_routers(f, xy);
  ChipEngine xy_engine(f.net, f.x, xy, xy_plan, {});
  EXPECT_FALSE(xy_engine.trial_outputs(trial_with_dead(xy_plan, f.net, {1})).isApprox(clean, 1e-6));
  EXPECT_GT(xy_engine.chip().interconnect().dropped(), 0u);
}

// A slow link (fault kind slow_link, factor 3) on link 0 -> 1 of the same chip: layer 2's inputs
// (0 -> 1 -> 2) take two hop latencies (10 ns) more; the outputs are the fault-free ones. Link
// units are numbered by router, then neighbour (+x, -x, +y, -y): unit 0 is 0 -> 1.
TEST(ChipSlowLink, ASlowLinkDelaysTheMessagesCrossingIt) {
  Fixture f;
  const MappedChip chip = spread_on_mesh(f.net, "xy");
  FaultSpec spec{FaultKind::group_crash, {}, 0.2};
  spec.physical_kind = "slow_link";
  spec.factor = 3.0;
  spec.persistence = faults::Persistence::permanent;
  const faults::FaultPlan plan(expand_physical_faults({spec}, chip), f.net);
  ASSERT_EQ(plan.specs()[0].groups.size(), 24u);  // 12 neighbour pairs, both ways
  EXPECT_EQ(plan.specs()[0].groups[0].name, "link[0->1]");
  ChipEngine engine(f.net, f.x, chip, plan, {});
  const Eigen::MatrixXd clean = f.net.forward_batch(f.x);
  engine.clean_outputs();
  const double fault_free = latency_ns(engine);
  EXPECT_TRUE(engine.trial_outputs(trial_with_dead(plan, f.net, {0})).isApprox(clean, 1e-12));
  EXPECT_DOUBLE_EQ(latency_ns(engine), fault_free + 2 * 5.0);
  // Link 1 -> 0 (unit 3: router 1 links to 2, 0, 4) carries nothing: no delay.
  EXPECT_EQ(plan.specs()[0].groups[3].name, "link[1->0]");
  EXPECT_TRUE(engine.trial_outputs(trial_with_dead(plan, f.net, {3})).isApprox(clean, 1e-12));
  EXPECT_DOUBLE_EQ(latency_ns(engine), fault_free);
}

// What cannot be routed is dropped, as with XY routing: a dead end router (router 2 holds layer
// 2), or live routers cut apart (routers 1 and 3 dead: router 0, with layer 1 and the host, is
// cut off from the rest). The functional engine, which knows the same rule (the endpoint groups
// and FaultSpec::joint_effect), gives the same outputs.
TEST(ChipRerouting, WhatCannotBeRoutedIsDroppedAsTheFunctionalEngineSays) {
  Fixture f;
  const MappedChip chip = spread_on_mesh(f.net, "fault_tolerant");
  const faults::FaultPlan plan = dead_routers(f, chip);
  // Routers 1 and 3 are no message's end: their own groups are empty; only together do they
  // take something down.
  EXPECT_TRUE(plan.specs()[0].groups[1].synapses.empty() && plan.specs()[0].groups[1].neurons.empty());
  EXPECT_TRUE(plan.specs()[0].groups[3].synapses.empty() && plan.specs()[0].groups[3].neurons.empty());
  ASSERT_TRUE(plan.specs()[0].joint_effect);
  ChipEngine engine(f.net, f.x, chip, plan, {});
  const FunctionalEngine functional(engine.chip().programmed_network(), f.x, plan, {});
  const Eigen::MatrixXd clean = f.net.forward_batch(f.x);
  for (const std::vector<std::uint64_t>& dead : {std::vector<std::uint64_t>{2}, std::vector<std::uint64_t>{1, 3}}) {
    const std::uint64_t t = trial_with_dead(plan, f.net, dead);
    engine.chip().reset_counters();
    const Eigen::MatrixXd a = engine.trial_outputs(t);
    EXPECT_GT(engine.chip().interconnect().dropped(), 0u) << dead.size();
    EXPECT_FALSE(a.isApprox(clean, 1e-6)) << dead.size();
    EXPECT_TRUE(a.isApprox(functional.trial_outputs(t), 1e-12)) << dead.size();
  }
  // {1, 3}: every message into and out of router 0 is lost, so the host holds zeros.
  EXPECT_EQ(engine.trial_outputs(trial_with_dead(plan, f.net, {1, 3})), Eigen::MatrixXd::Zero(3, f.x.cols()));
}

// Foreign TLM-2.0 interconnect modules (docs/chip.md, "Foreign TLM-2.0 modules"), loaded as
// plug-ins. The network on 4 cores, layer l on core l - 1, the host at core 0.
MappedChip on_foreign_interconnect(const Fixture& f, const char* plugin, const std::string& section) {
  core::load_plugin(plugin, "test");
  return map_network(f.net, parse_topology(YAML::Load("cores: {count: 4}\n"
                                                      "crossbar: {type: ideal, rows: 32, cols: 32, read_latency_ns: 100}\n"
                                                      "neuron_array: {type: rate, size: 32, update_latency_ns: 20}\n"
                                                      "tlm_interconnect: " + section + "\n"),
                                           "ring.yaml"));
}

// The token ring of examples/tlm_ring (2 ns per hop, 16 B/ns, the token 1 ns per station), by
// hand. Messages within a core (host -> tile 0, each tile -> its array) arrive at once. Layer 1:
// reads 0..100, updates 100..120. Layer 2's 8 inputs (64 B) from core 0 to core 1: the ring is
// idle, the token at station 0 (the sender): 1 hop + 64/16 = 6 ns, arriving at 126; reads
// 126..226, updates 226..246. Layer 3's 7 inputs (56 B) from core 1 to 2: the token comes from
// station 0 (1 ns), 1 hop + 3.5 ns: 252.5; reads to 352.5, updates to 372.5. The 3 outputs (24 B)
// from core 2 to the host at core 0: token 2 ns, 2 hops (4 ns) + 1.5 ns: 380 ns.
TEST(ChipForeignModule, TokenRingGivesTheHandComputedLatencyAndTheNetworksOutputs) {
  Fixture f;
  const MappedChip chip =
      on_foreign_interconnect(f, NFSIM_TOKEN_RING_PLUGIN, "{type: token_ring, hop_latency_ns: 2, bytes_per_ns: 16, token_hop_ns: 1}");
  EXPECT_EQ(chip.interconnect->router_count(), 0);
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.0}}, f.net);
  ChipEngine engine(f.net, f.x, chip, plan, {});
  EXPECT_FALSE(engine.chip().has_builtin_interconnect());
  engine.chip().reset_counters();
  EXPECT_TRUE(engine.clean_outputs().isApprox(f.net.forward_batch(f.x), 1e-12));
  EXPECT_DOUBLE_EQ(latency_ns(engine), 380.0);
  EXPECT_EQ(engine.chip().messages_sent(), 7u * static_cast<std::uint64_t>(f.x.cols()));
}

// A module written from the protocol section alone (tests/plugins/direct_tlm.cpp: every message
// 10 ns) behaves as the built-in bus with 10 ns per message: the bus fixture's 430 ns, the same
// outputs, and under neuron faults the same outputs trial by trial.
TEST(ChipForeignModule, AModuleWrittenFromTheProtocolAloneWorksAsTheBuiltInBus) {
  Fixture f;
  const MappedChip chip = on_foreign_interconnect(f, NFSIM_DIRECT_TLM_PLUGIN, "{type: test_direct, latency_ns: 10}");
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1, 2}, 0.3}}, f.net);
  ChipEngine engine(f.net, f.x, chip, plan, {});
  EXPECT_TRUE(engine.clean_outputs().isApprox(f.net.forward_batch(f.x), 1e-12));
  EXPECT_DOUBLE_EQ(latency_ns(engine), 430.0);
  const FunctionalEngine functional(engine.chip().programmed_network(), f.x, plan, {});
  int faulty = 0;
  for (std::uint64_t t = 0; t < 10; ++t) {
    const Eigen::MatrixXd a = engine.trial_outputs(t), b = functional.trial_outputs(t);
    faulty += !b.isApprox(f.net.forward_batch(f.x), 1e-12);
    EXPECT_TRUE(a.isApprox(b, 1e-12)) << t;
    EXPECT_DOUBLE_EQ(latency_ns(engine), 430.0);
  }
  EXPECT_GT(faulty, 0);
}

TEST(ChipTrace, VcdIsWrittenAndAcceptedByVcd2fst) {
  test::TempDir dir;
  Fixture f;
  FaultSpec spec{FaultKind::neuron_crash, {1, 2}, 0.2};
  const faults::FaultPlan plan({spec}, f.net);
  ChipEngineOptions opt;
  opt.vcd_path = dir.file("trace.vcd");
  {
    ChipEngine engine(f.net, f.x, f.chip, plan, opt);
    engine.run(5);
  }
  const std::string vcd = test::read_file(dir.file("trace.vcd"));
  ASSERT_FALSE(vcd.empty());
  for (const char* name : {"inference", "busy", "output_0", "active_faults_0_neuron_crash", "bus", "$enddefinitions"}) {
    EXPECT_NE(vcd.find(name), std::string::npos) << name;
  }
  // The bus is busy during every message: its signal goes high and low again in the dump.
  const std::string id = test::vcd_id(vcd, "bus");
  ASSERT_FALSE(id.empty());
  const std::string dump = vcd.substr(vcd.find("$enddefinitions"));
  EXPECT_NE(dump.find("\n1" + id + "\n"), std::string::npos) << id;
  EXPECT_NE(dump.find("\n0" + id + "\n"), std::string::npos) << id;
  EXPECT_FALSE(test::file_exists(dir.file("trace.vcd.tmp.vcd")));
  if (std::system("command -v vcd2fst > /dev/null 2>&1") == 0) {
    const std::string cmd = "vcd2fst " + dir.file("trace.vcd") + " " + dir.file("trace.fst") + " > /dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "vcd2fst rejected the trace";
  } else {
    GTEST_SKIP() << "vcd2fst (gtkwave) not installed: run scripts/install-deps.sh";
  }
}

}  // namespace
}  // namespace nfsim::sim
