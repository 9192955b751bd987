#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/network.h"
#include "sim/functional/control_variate.h"
#include "sim/functional/error_stats.h"

namespace nfsim::sim {

struct FunctionalOptions {
  std::uint64_t seed = 1;
  // Trials per statistics block. Blocks are accumulated separately and merged in block order,
  // so any split of whole blocks (threads, MPI ranks, resumed runs) gives the same bits.
  std::uint32_t block_trials = 64;
  // Dense path: trials evaluated together inside a block (at most about 4096 inferences);
  // changes speed and memory, never the numbers.
  std::uint32_t batch_trials = 64;
  // Reuse the fault-free activations below the first faulty layer and update pre-activations
  // by the sparse difference z' = z + A[:, S] (y'[S] - y[S]). Off: the plain dense path.
  bool fast_path = true;
  // The seed paper's Algorithm 1: each inference is run on `replicas` copies of the network,
  // replica r with its own faults (FaultSampler replica r), and the output is the per-output
  // median of the copies' outputs (even counts: the mean of the two middle values). 1: none.
  // Replicas always take the fast path.
  std::uint32_t replicas = 1;
  // The control variate (estimator: control_variate; not with replicas): each block's statistics
  // follow it (ErrorStats::follow). Must outlive the engine.
  const ControlVariate* control_variate = nullptr;
};

// The functional engine: a batched Eigen model of the faulty network, with the fault semantics
// of docs/design.md and the draws of FaultSampler, for Monte-Carlo campaigns. A trial is one chip
// instance evaluated on every input (transient faults are redrawn for each input, permanent ones
// are shared by the inputs of a trial).
class FunctionalEngine {
 public:
  // With `labels` (one per input), each trial's classification accuracy is recorded too.
  FunctionalEngine(const models::Network& network, const Eigen::MatrixXd& inputs, const faults::FaultPlan& plan,
                   const FunctionalOptions& options, std::vector<int> labels = {});

  // Statistics of the trials of block `block`: [block * B, min((block + 1) * B, total_trials)).
  ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) const;
  // Statistics of trials [0, total_trials), blocks merged in order.
  ErrorStats run(std::uint64_t total_trials) const;
  // The faulty outputs (n_L x inputs) of one trial, for engine-agreement tests.
  Eigen::MatrixXd trial_outputs(std::uint64_t trial) const;

  const models::BatchTrace& clean() const { return clean_; }
  const FunctionalOptions& options() const { return options_; }
  std::uint64_t block_count(std::uint64_t total_trials) const;

 private:
  // Buffers of one run_block() call, sized once: nothing is allocated per trial or inference.
  struct Workspace;
  // Faulty output minus clean output (n_L values into `delta`) of input n under faults f, by
  // sparse updates from the clean activations (fast path).
  void faulty_delta_fast(const faults::FaultInstance& f, Eigen::Index n, Workspace& ws, double* delta) const;
  // The same for up to kDenseChunk inferences (slots[begin, end) of the pool), every layer dense.
  void faulty_deltas_dense(Workspace& ws, std::size_t begin, std::size_t end) const;
  // Delta of the per-output median over the replicas of inference (trial, n).
  void median_delta(std::uint64_t trial, Eigen::Index n, Workspace& ws, double* delta) const;
  void apply_weight_overrides(int layer, const faults::FaultInstance& f, const double* y_prev, double* z) const;

  const models::Network& net_;
  const Eigen::MatrixXd& inputs_;
  FunctionalOptions options_;
  faults::FaultSampler sampler_;
  models::BatchTrace clean_;
  std::vector<int> labels_;
  std::vector<char> clean_correct_;
  // Row-major copies of each layer's matrix A (its crossbar matrix, when one position uses it,
  // as for dense layers; empty otherwise, and the layer computes z itself): the fast path's
  // matrix-vector products become dot products of contiguous rows, which suits the narrow last
  // layers (10 x 128) best.
  std::vector<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> rows_;
  // Per layer 1..L, what the fast path reads on every inference, asked of the layer once.
  struct LayerView {
    const models::ILayer* layer = nullptr;
    Eigen::Index rows = 0, width = 0;
    const models::Activation* activation = nullptr;
    const Eigen::VectorXd* bias = nullptr;
  };
  std::vector<LayerView> views_;
};

}  // namespace nfsim::sim
