#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "models/activation.h"

namespace nfsim::sim {

// The per-neuron parameters of one spiking time step: arrays of the array's size, with any
// threshold or leak deviation already applied (the fault hooks stay in the array).
struct SpikingParameters {
  const double* threshold = nullptr;
  const double* leak = nullptr;  // the share of the membrane kept each step; 1: no leak
  bool subtract = true;          // after a spike: V -= threshold (true) or V = 0
  int refractory_steps = 0;      // steps after a spike without integrating or firing
};

// What a spiking array keeps from one time step to the next; the array zeroes it (membranes 0,
// no neuron refractory) at the start of every inference.
struct SpikingState {
  Eigen::VectorXd membrane;
  std::vector<int> refractory;  // per neuron: steps it still neither integrates nor fires
};

// The neuron model of a neuron array: turns the accumulated pre-activations into outputs.
// Registered with NeuronRegistry, selected by `neuron_array: {type: NAME}`.
// A model is a rate model (fire() only) unless spiking() says otherwise: a spiking model's arrays
// run step() once per time step of a spiking campaign (docs/spiking.md, "On the chip"), and a
// rate campaign refuses them.
class INeuronModel {
 public:
  // Names this interface's registry in messages and provenance.
  static constexpr const char* kRegistryKind = "neuron";
  virtual ~INeuronModel() = default;
  // Outputs of the neurons given their pre-activations z and the layer's activation: a pure
  // function of them (the chip's differential simulation reuses a fault-free call's outputs for
  // the same z: docs/chip.md, "Differential simulation"). A spiking model's arrays call it when
  // they do not spike: the output layer under the membrane readout, which passes its current on.
  virtual void fire(const Eigen::VectorXd& z, const models::Activation& activation, Eigen::VectorXd& y) const = 0;
  virtual std::string describe() const = 0;

  // Whether the arrays of this type are spiking arrays (step() below); rate units by default.
  virtual bool spiking() const { return false; }
  // Whether a spiking model's neurons leak: false refuses dynamics whose leak is not 1 (type if).
  virtual bool leaky() const { return true; }
  // One time step of a spiking array: integrates `current` (the step's partial sums plus the
  // bias) into `state` under `p`, and writes 1 into `spikes` (resized to current's size) where a
  // neuron fires, 0 elsewhere. Deterministic in its arguments: the chip must give the functional
  // engine's spikes (the built-in lif and if do SpikingModel::step_neurons' arithmetic).
  virtual void step(const Eigen::VectorXd& current, const SpikingParameters& p, SpikingState& state,
                    Eigen::VectorXd& spikes) const {
    (void)current;
    (void)p;
    (void)state;
    (void)spikes;
    throw core::InternalError("neuron model '" + describe() + "' is not a spiking model: step() called");
  }
};

using NeuronRegistry = core::Registry<INeuronModel>;
using NeuronRegistrar = core::Registrar<INeuronModel>;

}  // namespace nfsim::sim
