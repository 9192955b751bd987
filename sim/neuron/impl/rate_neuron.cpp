#include "sim/neuron/i_neuron_model.h"

namespace nfsim::sim {
namespace {

// Rate-coded neurons: the output is the activation of the pre-activation, as in the network.
class RateNeuron : public INeuronModel {
 public:
  void fire(const Eigen::VectorXd& z, const models::Activation& activation, Eigen::VectorXd& y) const override {
    y.resize(z.size());
    activation.apply_to(z.data(), y.data(), z.size());
  }
  std::string describe() const override { return "rate"; }
};

const NeuronRegistrar kRegistered{{"rate", "rate-coded: output = the layer's activation of the pre-activation", {},
                                   [](const core::Params&) { return std::make_unique<RateNeuron>(); }}};

}  // namespace
}  // namespace nfsim::sim
