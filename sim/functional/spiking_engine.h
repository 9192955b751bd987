#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/network.h"
#include "models/spiking.h"
#include "sim/functional/error_stats.h"

namespace nfsim::sim {

// One fault-free inference of a spiking network, recorded step by step: what a faulty inference
// of the same input (and, with Bernoulli coding, the same input spikes) differs from.
struct SpikeTrace {
  // spikes[l]: layer l's spikes (n_l x T, 0 or 1) for l = 0..L-1 (layer 0: the input trains).
  std::vector<Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>> spikes;
  // currents[l]: layer l's synaptic current I_l(t) = A_l u_{l-1}(t) + b_l (n_l x T), l = 1..L.
  std::vector<Eigen::MatrixXd> currents;
  Eigen::VectorXd output;  // y_L: the output layer's current summed over the steps / T, or its spike count / T
};

// The time-stepped spiking model of docs/spiking.md: integrate-and-fire arrays driven by the
// network's linear parts, event-driven (a spike adds its synapses' column of A_l to the next
// layer's current). A faulty inference is computed from the fault-free one's record: the layers
// below the first faulty one keep their recorded spikes, and each later layer's current is the
// recorded current plus the columns of the spikes that changed (and the changed synapses' terms).
class SpikingModel {
 public:
  SpikingModel(const models::Network& net, const models::SpikingConfig& config, std::uint64_t seed);

  // The fault-free inference of input x (n_0 values); `trial` and `input` key the Bernoulli input
  // spikes (unused with regular coding).
  void run_clean(const double* x, std::uint64_t trial, std::uint32_t input, SpikeTrace& out) const;
  // The faulty output y_L (n_L values into `out`) of the inference whose fault-free record is
  // `clean`, under faults `f` (neuron overrides: a neuron given value v fires a regular train of
  // rate clamp(v, 0, 1), an output neuron reads v; weight overrides: the synapse's value; spike
  // drops: each spike on a failed lossy unit's message dropped as faults::spike_drop_uniform
  // decides for inference (trial, input) of the model's seed).
  void run_faulty(const SpikeTrace& clean, const faults::FaultInstance& f, double* out, std::uint64_t trial = 0,
                  std::uint32_t input = 0) const;
  // The same with faults that start at different time steps (onset_step): phases[p] holds every
  // fault acting from step from[p] on (from[0] = 0, ascending), until the next phase's step.
  void run_faulty(const SpikeTrace& clean, const faults::FaultInstance* const* phases, const int* from, std::size_t phase_count,
                  double* out, std::uint64_t trial, std::uint32_t input) const;

  const models::Network& network() const { return net_; }
  const models::SpikingConfig& config() const { return config_; }

 private:
  // Advances one array of neurons by one step: V <- leak V + I, a spike where V >= threshold,
  // then the reset and the refractory count.
  void step_neurons(const double* current, Eigen::Index n, const double* threshold, const double* leak, double* v,
                    int* refractory, std::uint8_t* spikes) const;
  // Takes from layer l's current at step t the synapses of the spikes (of layer l - 1, `spikes`)
  // that f's failed lossy units drop (FaultInstance::drops).
  void drop_spikes(int l, const faults::FaultInstance& f, const std::uint8_t* spikes, int t, std::uint64_t trial, std::uint32_t input,
                   Eigen::VectorXd& current) const;
  // u_l(t) (dense) from layer l's spikes at step t: the staged (average-pooled) values or the spikes.
  void staged_input(int l, const std::uint8_t* spikes, Eigen::VectorXd& dense, Eigen::VectorXd& staged) const;

  const models::Network& net_;
  models::SpikingConfig config_;
  std::uint64_t seed_;
  // Per layer 1..L, each neuron's threshold and leak (the configuration's, or the layer's own).
  std::vector<Eigen::VectorXd> threshold_, leak_;
};

// With Bernoulli coding the fault-free output depends on the trial's input spikes: each block's
// tallies hold the fault-free accuracy of each of its trials under this name (merged in block
// order), which the report's accuracy.fault_free is then the mean of, over the same trials.
inline constexpr const char* kFaultFreeAccuracyTally = "spiking.fault_free_accuracy";
// The most memory the fault-free records of a point's inputs may take (regular coding).
inline constexpr double kMaxSpikeTraceBytes = 1024.0 * 1024.0 * 1024.0;

struct SpikingOptions {
  std::uint64_t seed = 1;
  std::uint32_t block_trials = 64;
};

// The functional engine for spiking networks: Monte Carlo over trials with the fault draws of
// FaultSampler (the same as the rate engines'), Delta = faulty minus fault-free output of the
// same input spikes. With regular coding each input's fault-free record is made once; with
// Bernoulli coding once per (trial, input) that has a fault.
class SpikingEngine {
 public:
  SpikingEngine(const models::Network& network, const models::SpikingConfig& config, const Eigen::MatrixXd& inputs,
                const faults::FaultPlan& plan, const SpikingOptions& options, std::vector<int> labels = {});

  ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) const;
  // The faulty outputs (n_L x inputs) of one trial.
  Eigen::MatrixXd trial_outputs(std::uint64_t trial) const;
  // The fault-free outputs (n_L x inputs); with Bernoulli coding those of trial 0's input spikes.
  const Eigen::MatrixXd& clean_outputs() const { return clean_out_; }
  // Fault-free spikes per inference of each layer 0..L-1 (mean over the inputs; trial 0's spikes
  // with Bernoulli coding).
  const std::vector<double>& spikes_per_inference() const { return spikes_per_inference_; }
  const SpikingModel& model() const { return model_; }

 private:
  // The faults of one inference by onset step: at[p] acts from step from[p] (from[0] = 0); the
  // last holds them all. One phase when no spec has an onset_step.
  struct PhasedFaults {
    std::vector<faults::FaultInstance> at;
    std::vector<int> from;
    std::vector<const faults::FaultInstance*> pointers;
    const faults::FaultInstance& all() const { return at.back(); }
  };
  void realize(std::uint64_t trial, std::uint32_t input, PhasedFaults& out) const;
  void run_faulty(const SpikeTrace& clean, const PhasedFaults& f, double* out, std::uint64_t trial, std::uint32_t input) const;
  // The fault-free record of (trial, n): the stored one with regular coding, else made in `scratch`.
  const SpikeTrace& clean_trace(std::uint64_t trial, Eigen::Index n, SpikeTrace& scratch) const;

  SpikingModel model_;
  const Eigen::MatrixXd& inputs_;
  SpikingOptions options_;
  faults::FaultSampler sampler_;
  std::vector<int> labels_;
  std::vector<SpikeTrace> traces_;  // per input (regular coding)
  Eigen::MatrixXd clean_out_;
  std::vector<double> spikes_per_inference_;
};

}  // namespace nfsim::sim
