// The hot parts of a functional campaign, on the bundled Fashion-MNIST MLP (784-256-128-10) and
// 100 test images, neuron crashes at p = 0.01 on both hidden layers (the setting of benchmark 1
// in bench/compare.sh):
//   BM_EigenBatchedForward   plain Eigen batched forward (the limit for a dense engine)
//   BM_FunctionalDense       nfsim's dense Monte-Carlo path (fast_path off)
//   BM_FunctionalFast        nfsim's default path (clean activations reused, sparse updates)
//   BM_FaultDraw             drawing the faults of one inference
//   BM_BoundsB3B4            b3 and b4 for every faulty layer, one input
//   BM_BoundsSynapseB3B4     b3 and b4 for synapse crashes on layer 1 (200,704 synapses), one input
//   BM_StatsMerge            merging one block's statistics (100 inputs x 10 outputs)
//   BM_StatsSerializeRoundTrip  one block's statistics to bytes and back (an MPI message)
//   BM_CrossbarTileRead      one read of a 256x256 crossbar tile
// and on the bundled Fashion-MNIST CNN (conv 16 3x3, max pool, conv 32 3x3, max pool, dense 10),
// neuron crashes at p = 0.01 on both conv layers (benchmark 9):
//   BM_ConvForward           Network::forward_batch of the 100 images (im2col + GEMM), no faults
//   BM_ConvFunctionalDense   nfsim's dense Monte-Carlo path on the CNN (fast_path off)
//   BM_ConvFunctionalFast    nfsim's default path on the CNN (sparse updates through the pooling)
// items_per_second counts inferences (one input under one trial), inputs or reads.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/layer/dense_layer.h"
#include "models/onnx_io.h"
#include "sim/crossbar/crossbar.h"
#include "sim/functional/functional_engine.h"

#ifndef NFSIM_SOURCE_DIR
#error "NFSIM_SOURCE_DIR must point at the source tree (bench/CMakeLists.txt sets it)"
#endif

namespace {

constexpr const char* kImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
constexpr Eigen::Index kInputs = 100;
constexpr std::uint64_t kTrialsPerIteration = 64;  // one statistics block

struct Setup {
  nfsim::models::Network net = nfsim::models::load_onnx(std::string(NFSIM_SOURCE_DIR) + "/examples/models/fmnist_mlp.onnx");
  Eigen::MatrixXd x = nfsim::models::read_idx_images(kImages, kInputs) / 255.0;
  nfsim::faults::FaultPlan plan{{nfsim::faults::FaultSpec{nfsim::faults::FaultKind::neuron_crash, {1, 2}, 0.01}}, net};
};

Setup& setup() {
  static Setup s;
  return s;
}

// Plain Eigen: z = W y + b, y = relu(z) per layer, on a batch of columns; no faults.
void BM_EigenBatchedForward(benchmark::State& state) {
  Setup& s = setup();
  const Eigen::Index batch = state.range(0);
  Eigen::MatrixXd x(784, batch);
  for (Eigen::Index c = 0; c < batch; ++c) x.col(c) = s.x.col(c % kInputs);
  Eigen::MatrixXd y, z;
  for (auto _ : state) {
    y = x;
    for (int m = 1; m <= s.net.num_layers(); ++m) {
      z.noalias() = nfsim::models::as_dense(s.net.layer(m), "BM_EigenBatchedForward").weights() * y;
      z.colwise() += s.net.layer(m).bias();
      y = m < s.net.num_layers() ? Eigen::MatrixXd(z.cwiseMax(0.0)) : z;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_EigenBatchedForward)->Arg(64)->Unit(benchmark::kMicrosecond);

void run_engine(benchmark::State& state, bool fast) {
  Setup& s = setup();
  nfsim::sim::FunctionalOptions o;
  o.fast_path = fast;
  const nfsim::sim::FunctionalEngine engine(s.net, s.x, s.plan, o);
  std::uint64_t block = 0;
  for (auto _ : state) {
    nfsim::sim::ErrorStats stats = engine.run_block(block++, ~std::uint64_t{0});
    benchmark::DoNotOptimize(stats.delta(0, 0).mean());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kTrialsPerIteration) * kInputs);
}
void BM_FunctionalDense(benchmark::State& state) { run_engine(state, false); }
void BM_FunctionalFast(benchmark::State& state) { run_engine(state, true); }
BENCHMARK(BM_FunctionalDense)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FunctionalFast)->Unit(benchmark::kMillisecond);

struct CnnSetup {
  nfsim::models::Network net = nfsim::models::load_onnx(std::string(NFSIM_SOURCE_DIR) + "/examples/models/fmnist_cnn.onnx");
  Eigen::MatrixXd x = nfsim::models::read_idx_images(kImages, kInputs) / 255.0;
  nfsim::faults::FaultPlan plan{{nfsim::faults::FaultSpec{nfsim::faults::FaultKind::neuron_crash, {1, 2}, 0.01}}, net};
};

CnnSetup& cnn_setup() {
  static CnnSetup s;
  return s;
}

void BM_ConvForward(benchmark::State& state) {
  CnnSetup& s = cnn_setup();
  for (auto _ : state) {
    const Eigen::MatrixXd y = s.net.forward_batch(s.x);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kInputs);
}
BENCHMARK(BM_ConvForward)->Unit(benchmark::kMillisecond);

constexpr std::uint32_t kCnnTrialsPerIteration = 8;

void run_cnn_engine(benchmark::State& state, bool fast) {
  CnnSetup& s = cnn_setup();
  nfsim::sim::FunctionalOptions o;
  o.fast_path = fast;
  o.block_trials = kCnnTrialsPerIteration;
  const nfsim::sim::FunctionalEngine engine(s.net, s.x, s.plan, o);
  std::uint64_t block = 0;
  for (auto _ : state) {
    nfsim::sim::ErrorStats stats = engine.run_block(block++, ~std::uint64_t{0});
    benchmark::DoNotOptimize(stats.delta(0, 0).mean());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kCnnTrialsPerIteration) * kInputs);
}
void BM_ConvFunctionalDense(benchmark::State& state) { run_cnn_engine(state, false); }
void BM_ConvFunctionalFast(benchmark::State& state) { run_cnn_engine(state, true); }
BENCHMARK(BM_ConvFunctionalDense)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvFunctionalFast)->Unit(benchmark::kMillisecond);

void BM_FaultDraw(benchmark::State& state) {
  Setup& s = setup();
  const nfsim::faults::FaultSampler sampler(s.plan, s.net, 1);
  nfsim::faults::FaultInstance f;
  std::uint64_t trial = 0;
  for (auto _ : state) {
    for (std::uint32_t n = 0; n < kInputs; ++n) {
      sampler.realize(trial, n, f);
      benchmark::DoNotOptimize(f.fault_count);
    }
    ++trial;
  }
  state.SetItemsProcessed(state.iterations() * kInputs);
}
BENCHMARK(BM_FaultDraw)->Unit(benchmark::kMicrosecond);

// b3 and b4 (and the other bounds of the set) of `plan`, one input after the other: the cost per
// input of the analytic prediction that replaces the Monte Carlo.
void run_bounds(benchmark::State& state, const nfsim::faults::FaultPlan& plan) {
  Setup& s = setup();
  const nfsim::models::bounds::BoundCalculator calc(s.net, nfsim::faults::to_bound_model(plan));
  Eigen::Index n = 0;
  for (auto _ : state) {
    const auto b = calc.compute(s.x.col(n), {"b3", "b4"});
    benchmark::DoNotOptimize(b.at("b4").mean.data());
    n = (n + 1) % kInputs;
  }
  state.SetItemsProcessed(state.iterations());
}

// For neuron crashes at every hidden layer.
void BM_BoundsB3B4(benchmark::State& state) { run_bounds(state, setup().plan); }
BENCHMARK(BM_BoundsB3B4)->Unit(benchmark::kMicrosecond);

// For synapse crashes on the first layer at p = 0.01 (bench/campaigns/synapse.yaml): one
// single-fault effect per synapse that reads a nonzero pixel.
void BM_BoundsSynapseB3B4(benchmark::State& state) {
  const nfsim::faults::FaultPlan plan({nfsim::faults::FaultSpec{nfsim::faults::FaultKind::synapse_crash, {1}, 0.01}}, setup().net);
  run_bounds(state, plan);
}
BENCHMARK(BM_BoundsSynapseB3B4)->Unit(benchmark::kMicrosecond);

void BM_StatsMerge(benchmark::State& state) {
  Setup& s = setup();
  nfsim::sim::FunctionalOptions o;
  const nfsim::sim::FunctionalEngine engine(s.net, s.x, s.plan, o);
  const nfsim::sim::ErrorStats block = engine.run_block(1, ~std::uint64_t{0});
  const nfsim::sim::ErrorStats first = engine.run_block(0, ~std::uint64_t{0});
  for (auto _ : state) {
    nfsim::sim::ErrorStats acc = first;
    acc.merge(block);
    benchmark::DoNotOptimize(acc.delta(0, 0).mean());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StatsMerge)->Unit(benchmark::kMicrosecond);

// One block's statistics through the MPI message format and back (what each rank sends).
void BM_StatsSerializeRoundTrip(benchmark::State& state) {
  Setup& s = setup();
  const nfsim::sim::FunctionalEngine engine(s.net, s.x, s.plan, {});
  const nfsim::sim::ErrorStats block = engine.run_block(0, ~std::uint64_t{0});
  for (auto _ : state) {
    const nfsim::sim::ErrorStats back = nfsim::sim::ErrorStats::deserialize(block.serialize());
    benchmark::DoNotOptimize(back.delta(0, 0).mean());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StatsSerializeRoundTrip)->Unit(benchmark::kMicrosecond);

struct PassThrough : nfsim::sim::ICrossbarModel {
  double program(double w) const override { return w; }
  std::string describe() const override { return "ideal"; }
};

void BM_CrossbarTileRead(benchmark::State& state) {
  static nfsim::sim::Crossbar tile("bench_tile", Eigen::MatrixXd::Random(256, 256), std::make_unique<PassThrough>(), 0,
                                   sc_core::sc_time(10, sc_core::SC_NS));
  const Eigen::VectorXd in = Eigen::VectorXd::Random(256);
  Eigen::VectorXd partial;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  for (auto _ : state) {
    tile.read(in, partial, delay);
    benchmark::DoNotOptimize(partial.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CrossbarTileRead)->Unit(benchmark::kMicrosecond);

}  // namespace
