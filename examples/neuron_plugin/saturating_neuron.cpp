// A neuron array whose outputs saturate: each neuron fires the layer's activation of its
// pre-activation, clipped to [-limit, limit] (an analog neuron's output swing). Registered as
// neuron-array type "saturating" when nfsim loads this library (--plugin or a `plugins:` key);
// no nfsim file is edited. Honoured by the chip engine only (docs/plugins.md).
#include <memory>

#include "core/strings.h"
#include "sim/neuron/i_neuron_model.h"

namespace {

class SaturatingNeuron : public nfsim::sim::INeuronModel {
 public:
  explicit SaturatingNeuron(double limit) : limit_(limit) {}

  void fire(const Eigen::VectorXd& z, const nfsim::models::Activation& activation, Eigen::VectorXd& y) const override {
    y = activation.apply(z).cwiseMax(-limit_).cwiseMin(limit_);
  }

  std::string describe() const override { return "saturating(limit " + nfsim::core::format_double(limit_) + ")"; }

 private:
  double limit_;
};

const nfsim::sim::NeuronRegistrar kRegistered{
    {"saturating",
     "outputs clipped to [-limit, limit] after the layer's activation (example plug-in)",
     {{"limit", "double", "", "1.0", "largest output magnitude"}},
     [](const nfsim::core::Params& p) {
       const double limit = p.number("limit");
       if (!(limit > 0)) p.fail("limit", "a number > 0");
       return std::make_unique<SaturatingNeuron>(limit);
     }}};

}  // namespace
