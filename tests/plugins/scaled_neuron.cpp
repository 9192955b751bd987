// A neuron-array type for the tests: outputs `gain` times the activation, registered as
// "test_scaled" when nfsim loads the test plug-in (--plugin). It is what a third-party neuron
// model looks like to the engines: the chip engine honours it, the others must refuse it.
#include <memory>

#include "core/strings.h"
#include "sim/neuron/i_neuron_model.h"

namespace {

class ScaledNeuron : public nfsim::sim::INeuronModel {
 public:
  explicit ScaledNeuron(double gain) : gain_(gain) {}
  void fire(const Eigen::VectorXd& z, const nfsim::models::Activation& activation, Eigen::VectorXd& y) const override {
    y = gain_ * activation.apply(z);
  }
  std::string describe() const override { return "test_scaled(gain=" + nfsim::core::format_double(gain_) + ")"; }

 private:
  double gain_;
};

const nfsim::sim::NeuronRegistrar kRegistered{{"test_scaled",
                                               "rate units scaled by a gain (test plug-in)",
                                               {{"gain", "double", "", "0.5", "factor on every output"}},
                                               [](const nfsim::core::Params& p) { return std::make_unique<ScaledNeuron>(p.number("gain")); }}};

}  // namespace
