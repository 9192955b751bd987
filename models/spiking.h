#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "models/network.h"

namespace nfsim::models {

// Spiking neuron arrays (docs/spiking.md). A spiking network is a Network whose hidden layers
// are read as integrate-and-fire neurons instead of rate units: the layer's linear part is the
// synaptic current, the activation is replaced by the neuron's dynamics, and an inference runs
// `time_steps` discrete steps. The Network's own (relu) activations are its rate equivalent, on
// which the analytic bounds are computed.

enum class SpikingNeuron { if_neuron, lif };   // "if": no leak; "lif": membrane multiplied by `leak` each step
enum class SpikeReset { subtract, zero };        // after a spike: V -= threshold, or V = 0
enum class SpikeCoding { regular, bernoulli };   // input intensity x -> a spike train of rate clamp(x, 0, 1)
enum class SpikeReadout { membrane, rate };      // output layer: integrated current / T, or spike count / T

struct SpikingConfig {
  SpikingNeuron neuron = SpikingNeuron::if_neuron;
  SpikeReset reset = SpikeReset::subtract;
  SpikeCoding coding = SpikeCoding::regular;
  SpikeReadout readout = SpikeReadout::membrane;
  int time_steps = 64;        // T, steps per inference
  double threshold = 1.0;     // the firing threshold of every hidden neuron (after conversion: 1)
  double leak = 1.0;          // lif: V <- leak * V + I each step, in (0, 1]; if: 1
  int refractory_steps = 0;   // steps after a spike in which the neuron neither integrates nor fires
  // ANN-to-SNN conversion: each hidden layer l is normalised by lambda_l, the `percentile`-th
  // percentile of its relu activations on the calibration inputs (100: the maximum).
  double percentile = 99.9;
  // The calibration inputs' description for the report ("the campaign's 100 inputs").
  std::string calibration;
  // Per-neuron dynamics of layers 1..L (entry l - 1, n_l values each), as a NIR file gives them:
  // empty, or an empty entry, means `threshold` and `leak` for every neuron of the layer. A leak
  // here applies whatever `neuron` says (a NIR IF layer has leak 1).
  std::vector<Eigen::VectorXd> layer_thresholds, layer_leaks;

  // "if, reset subtract, T = 64, regular input, membrane readout".
  std::string describe() const;
  // describe() and a hash of the per-neuron thresholds and leaks: equal for equal dynamics (what a
  // kept chip session and a checkpoint compare; a NIR file's neurons differ in those vectors only).
  std::string signature() const;
};

const char* to_string(SpikingNeuron n);
const char* to_string(SpikeReset r);
const char* to_string(SpikeCoding c);
const char* to_string(SpikeReadout r);

// Throws InputError naming `where` unless the network can run as spiking arrays: hidden layers
// with relu activations (the rate an integrate-and-fire neuron approximates), an output layer
// with the identity, and no max pooling (spikes are pooled by summing: average pooling only).
void check_spiking_network(const Network& net, const std::string& where);

// The ANN-to-SNN conversion by data-based normalisation (Diehl et al. 2015; Rueckauer et al.
// 2017): lambda_l is the percentile of layer l's activations on `calibration` (one column per
// input) for l = 1..L-1, lambda_0 = lambda_L = 1; layer l's weights are multiplied by
// lambda_{l-1} / lambda_l and its bias divided by lambda_l. With threshold 1, a neuron's spike
// rate approximates y_l / lambda_l, clamped to [0, 1], and the output layer's integrated
// current / T approximates the original network's pre-softmax output.
struct Conversion {
  Network network;              // the normalised network: its relu forward pass is the rate equivalent
  std::vector<double> lambdas;  // lambda_0..lambda_L
};
Conversion convert_to_spiking(const Network& net, const Eigen::MatrixXd& calibration, double percentile);

// Throws InputError naming `where` unless every value of `inputs` (one column per input) is a
// spike rate in [0, 1]: rate coding would clamp the others silently.
void check_spike_rates(const Eigen::MatrixXd& inputs, const std::string& where);

// Whether a regular spike train of rate r (clamped to [0, 1]) spikes at step t (0-based):
// floor((t + 1) r) > floor(t r). Rate 1 spikes at every step, rate 0 never.
inline bool regular_spike(double r, int t) {
  if (!(r > 0.0)) return false;
  if (r >= 1.0) return true;
  const double td = static_cast<double>(t);
  return static_cast<long long>((td + 1.0) * r) > static_cast<long long>(td * r);
}

// Whether input neuron i spikes at step t of inference (trial, input) under Bernoulli coding:
// a uniform draw below clamp(x, 0, 1), a pure function of (seed, trial, input, t, i).
bool bernoulli_spike(double x, std::uint64_t seed, std::uint64_t trial, std::uint32_t input, int t, Eigen::Index i);

}  // namespace nfsim::models
