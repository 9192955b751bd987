#include "sim/neuron/i_neuron_model.h"

namespace nfsim::sim {
namespace {

// Integrate-and-fire spiking neurons, leaky (lif) or not (if). The dynamics (thresholds, leaks,
// reset, refractory steps) are the campaign's spiking: section or the NIR file's, passed in per
// step, so that one chip runs any of them; the type says only that the arrays spike and whether
// they may leak. The arithmetic is SpikingModel::step_neurons' (sim/functional/spiking_engine.cpp),
// in the same order, so that the chip's spikes are the functional engine's bit for bit.
class IntegrateAndFire : public INeuronModel {
 public:
  explicit IntegrateAndFire(bool leaky) : leaky_(leaky) {}

  // Not spiking (the output layer under the membrane readout): the current passes on through the
  // layer's activation (the identity, for a converted network's output layer).
  void fire(const Eigen::VectorXd& z, const models::Activation& activation, Eigen::VectorXd& y) const override {
    y.resize(z.size());
    activation.apply_to(z.data(), y.data(), z.size());
  }
  std::string describe() const override { return leaky_ ? "lif" : "if"; }
  bool spiking() const override { return true; }
  bool leaky() const override { return leaky_; }

  void step(const Eigen::VectorXd& current, const SpikingParameters& p, SpikingState& state,
            Eigen::VectorXd& spikes) const override {
    const Eigen::Index n = current.size();
    spikes.resize(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      int& r = state.refractory[static_cast<std::size_t>(j)];
      if (r > 0) {  // neither integrates nor fires
        --r;
        spikes[j] = 0.0;
        continue;
      }
      // An if neuron's leak is 1 (prepare refuses other dynamics on it) unless a leak_deviation
      // fault gives it one; 1 * V is V exactly, so the same line serves both types.
      double& v = state.membrane[j];
      v = p.leak[j] * v + current[j];
      if (v >= p.threshold[j]) {
        spikes[j] = 1.0;
        v = p.subtract ? v - p.threshold[j] : 0.0;
        r = p.refractory_steps;
      } else {
        spikes[j] = 0.0;
      }
    }
  }

 private:
  bool leaky_;
};

const NeuronRegistrar kLif{
    {"lif",
     "leaky integrate-and-fire, spiking (campaigns with spiking:): V <- leak V + I, a spike where V >= "
     "threshold, reset and refractory steps as spiking: or the NIR file says",
     {},
     [](const core::Params&) { return std::make_unique<IntegrateAndFire>(true); }}};
const NeuronRegistrar kIf{
    {"if",
     "integrate-and-fire without leak, spiking (campaigns with spiking:): V <- V + I; dynamics with a "
     "leak other than 1 are refused",
     {},
     [](const core::Params&) { return std::make_unique<IntegrateAndFire>(false); }}};

}  // namespace
}  // namespace nfsim::sim
