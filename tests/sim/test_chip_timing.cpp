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
#include "sim/chip/chip_engine.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"
#include "tests/common/temp_dir.h"

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
  for (const char* name : {"inference", "busy", "output_0", "active_faults_0_neuron_crash", "$enddefinitions"}) {
    EXPECT_NE(vcd.find(name), std::string::npos) << name;
  }
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
