// A spiking neuron-array type for the tests, registered as "test_threshold" when nfsim loads the
// test plug-in (--plugin): memoryless neurons that spike at every step their current reaches the
// threshold (no membrane, no reset). It is what a third party's spiking neuron looks like to the
// engines: the chip engine runs its step(), the functional engine (which models the built-in lif
// and if only) must refuse it.
#include <memory>

#include "sim/neuron/i_neuron_model.h"

namespace {

class ThresholdNeuron : public nfsim::sim::INeuronModel {
 public:
  void fire(const Eigen::VectorXd& z, const nfsim::models::Activation& activation, Eigen::VectorXd& y) const override {
    y = activation.apply(z);
  }
  std::string describe() const override { return "test_threshold"; }
  bool spiking() const override { return true; }
  void step(const Eigen::VectorXd& current, const nfsim::sim::SpikingParameters& p, nfsim::sim::SpikingState& state,
            Eigen::VectorXd& spikes) const override {
    (void)state;
    spikes.resize(current.size());
    for (Eigen::Index j = 0; j < current.size(); ++j) spikes[j] = current[j] >= p.threshold[j] ? 1.0 : 0.0;
  }
};

const nfsim::sim::NeuronRegistrar kRegistered{
    {"test_threshold",
     "memoryless spiking neurons: a spike where the current reaches the threshold (test plug-in)",
     {},
     [](const nfsim::core::Params&) { return std::make_unique<ThresholdNeuron>(); }}};

}  // namespace
