#pragma once

#include <Eigen/Dense>
#include <string>

#include "core/registry.h"
#include "models/activation.h"

namespace nfsim::sim {

// The neuron model of a neuron array: turns the accumulated pre-activations into outputs.
// Registered with NeuronRegistry, selected by `neuron_array: {type: NAME}`.
class INeuronModel {
 public:
  // Names this interface's registry in messages and provenance.
  static constexpr const char* kRegistryKind = "neuron";
  virtual ~INeuronModel() = default;
  // Outputs of the neurons given their pre-activations z and the layer's activation: a pure
  // function of them (the chip's differential simulation reuses a fault-free call's outputs for
  // the same z: docs/chip.md, "Differential simulation").
  virtual void fire(const Eigen::VectorXd& z, const models::Activation& activation, Eigen::VectorXd& y) const = 0;
  virtual std::string describe() const = 0;
};

using NeuronRegistry = core::Registry<INeuronModel>;
using NeuronRegistrar = core::Registrar<INeuronModel>;

}  // namespace nfsim::sim
