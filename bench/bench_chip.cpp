// Chip engine against plain Eigen: one inference of a 784-512-256-10 network on 256x256 tiles
// (4x4 mesh, ideal crossbars; modules talking TLM-2.0, links of 32 bytes/ns with contention: one
// 32-byte flit per ns, the mesh's default flit latency) against one plain Eigen forward pass
// (matrix-vector per layer) of the same network. Both process the same 256 inputs one by one; the ratio of the two
// per-inference times is the target of issue 4 (<= 2x). Run: build/bench/nfsim_bench_chip.
#include <benchmark/benchmark.h>
#include <yaml-cpp/yaml.h>

#include <memory>

#include "faults/fault_plan.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "sim/chip/chip_engine.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"

namespace {

constexpr int kInputs = 256;

struct Setup {
  nfsim::models::Network net = nfsim::models::make_random_network(
      {{784, 512, 256, 10}, {nfsim::models::ActivationKind::relu}, {}, 1.0, 0.0, 1});
  Eigen::MatrixXd x = nfsim::models::random_inputs(784, kInputs, 1.0, 0.0, 2);
  nfsim::sim::MappedChip chip = nfsim::sim::map_network(
      net, nfsim::sim::parse_topology(YAML::Load("cores: {count: 16, layout: {type: mesh, width: 4, height: 4}}\n"
                                                 "crossbar: {type: ideal, rows: 256, cols: 256}\nneuron_array: {size: 256}\n"
                                                 "interconnect: {type: mesh, link_bandwidth_bytes_per_ns: 32}\n"),
                                      "bench"));
  nfsim::faults::FaultPlan plan{{nfsim::faults::FaultSpec{nfsim::faults::FaultKind::neuron_crash, {1}, 0.0}}, net};
  std::unique_ptr<nfsim::sim::ChipEngine> engine;  // one elaboration per process
};

Setup& setup() {
  static Setup s;
  if (!s.engine) s.engine = std::make_unique<nfsim::sim::ChipEngine>(s.net, s.x, s.chip, s.plan, nfsim::sim::ChipEngineOptions{});
  return s;
}

void BM_EigenForwardOneByOne(benchmark::State& state) {
  Setup& s = setup();
  Eigen::VectorXd out;
  for (auto _ : state) {
    for (int n = 0; n < kInputs; ++n) {
      out = s.net.forward(s.x.col(n));
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * kInputs);
}
BENCHMARK(BM_EigenForwardOneByOne)->Unit(benchmark::kMicrosecond);

void BM_ChipInference(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state) {
    const Eigen::MatrixXd out = s.engine->clean_outputs();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kInputs);
}
BENCHMARK(BM_ChipInference)->Unit(benchmark::kMicrosecond);

}  // namespace
