// The registered neuron models' spiking interface (sim/neuron/i_neuron_model.h): the lif and if
// types' step() against spike trains and membranes computed by hand (exact binary fractions, so
// every comparison is exact), and what the rate type says about itself.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/error.h"
#include "sim/neuron/i_neuron_model.h"

namespace nfsim::sim {
namespace {

std::unique_ptr<INeuronModel> make(const std::string& type) {
  return NeuronRegistry::instance().get(type, "test").make(core::Params());
}

// Runs `steps` steps of `model` on a constant current per neuron; returns each neuron's spike
// train (one string of 0/1 per neuron) and leaves the final state in `state`.
std::vector<std::string> run(const INeuronModel& model, const Eigen::VectorXd& current, const SpikingParameters& p,
                             int steps, SpikingState& state) {
  state.membrane.setZero(current.size());
  state.refractory.assign(static_cast<std::size_t>(current.size()), 0);
  std::vector<std::string> trains(static_cast<std::size_t>(current.size()));
  Eigen::VectorXd spikes;
  for (int t = 0; t < steps; ++t) {
    model.step(current, p, state, spikes);
    EXPECT_EQ(spikes.size(), current.size());
    for (Eigen::Index j = 0; j < current.size(); ++j) {
      EXPECT_TRUE(spikes[j] == 0.0 || spikes[j] == 1.0) << spikes[j];
      trains[static_cast<std::size_t>(j)] += spikes[j] == 1.0 ? '1' : '0';
    }
  }
  return trains;
}

TEST(NeuronModels, TypesSayWhetherTheySpikeAndLeak) {
  EXPECT_FALSE(make("rate")->spiking());
  EXPECT_TRUE(make("lif")->spiking());
  EXPECT_TRUE(make("if")->spiking());
  EXPECT_TRUE(make("lif")->leaky());
  EXPECT_FALSE(make("if")->leaky());
  EXPECT_EQ(make("lif")->describe(), "lif");
  EXPECT_EQ(make("if")->describe(), "if");
  // A rate model has no step: calling it is a broken invariant, not a silent no-op.
  SpikingState state;
  Eigen::VectorXd spikes;
  EXPECT_THROW(make("rate")->step(Eigen::VectorXd::Zero(1), {}, state, spikes), core::InternalError);
}

// Not spiking (the output layer under the membrane readout), a spiking type passes its current on
// through the layer's activation.
TEST(NeuronModels, SpikingTypesPassTheirCurrentOnWhenNotSpiking) {
  Eigen::VectorXd z(3), y;
  z << -1.5, 0.25, 2.0;
  make("lif")->fire(z, models::Activation{models::ActivationKind::identity}, y);
  EXPECT_EQ(y, z);
  make("if")->fire(z, models::Activation{models::ActivationKind::relu}, y);
  EXPECT_EQ(y, Eigen::Vector3d(0.0, 0.25, 2.0));
}

// if, threshold 1, reset by subtraction: a current of 0.5 reaches the threshold exactly every
// second step (a spike at V == threshold); 0.75 leaves residues 0.5, 0.25, 0 after its spikes.
TEST(NeuronModels, IfCrossesTheThresholdAndResetsBySubtraction) {
  const auto model = make("if");
  const Eigen::Vector2d current(0.5, 0.75), threshold(1.0, 1.0), leak(1.0, 1.0);
  SpikingState state;
  const auto trains = run(*model, current, {threshold.data(), leak.data(), true, 0}, 6, state);
  EXPECT_EQ(trains[0], "010101");
  // 0.75, 1.5 -> 0.5, 1.25 -> 0.25, 1.0 -> 0, 0.75, 1.5 -> 0.5
  EXPECT_EQ(trains[1], "011101");
  EXPECT_EQ(state.membrane[0], 0.0);
  EXPECT_EQ(state.membrane[1], 0.5);
}

// Reset to zero loses the charge above the threshold: 0.75 spikes every second step.
TEST(NeuronModels, ResetToZero) {
  const auto model = make("if");
  const Eigen::Vector2d current(0.75, 1.25), threshold(1.0, 1.0), leak(1.0, 1.0);
  SpikingState state;
  const auto trains = run(*model, current, {threshold.data(), leak.data(), false, 0}, 6, state);
  EXPECT_EQ(trains[0], "010101");  // 0.75, 1.5 -> 0, ...
  EXPECT_EQ(trains[1], "111111");  // 1.25 -> 0 every step
  EXPECT_EQ(state.membrane[0], 0.0);
  EXPECT_EQ(state.membrane[1], 0.0);
}

// lif with leak 0.5: a current of 0.5 tends to 1 and never reaches it; 0.75 fires every second
// step, keeping what the leak leaves of its residue.
TEST(NeuronModels, LifLeaks) {
  const auto model = make("lif");
  const Eigen::Vector2d current(0.5, 0.75), threshold(1.0, 1.0), leak(0.5, 0.5);
  SpikingState state;
  const auto trains = run(*model, current, {threshold.data(), leak.data(), true, 0}, 6, state);
  // 0.5, 0.75, 0.875, 0.9375, 0.96875, 0.984375
  EXPECT_EQ(trains[0], "000000");
  EXPECT_EQ(state.membrane[0], 0.984375);
  // 0.75, 1.125 -> 0.125, 0.8125, 1.15625 -> 0.15625, 0.828125, 1.1640625 -> 0.1640625
  EXPECT_EQ(trains[1], "010101");
  EXPECT_EQ(state.membrane[1], 0.1640625);
}

// After a spike a neuron neither integrates nor fires for refractory_steps steps; per-neuron
// thresholds.
TEST(NeuronModels, RefractoryStepsAndPerNeuronThresholds) {
  const auto model = make("lif");
  const Eigen::Vector2d current(1.0, 0.75), threshold(1.0, 2.0), leak(1.0, 1.0);
  SpikingState state;
  const auto trains = run(*model, current, {threshold.data(), leak.data(), true, 2}, 7, state);
  EXPECT_EQ(trains[0], "1001001");  // 1 -> 0, two steps held, 1 -> 0, ...
  // 0.75, 1.5, 2.25 -> 0.25, held at 0.25 two steps, 1.0, 1.75
  EXPECT_EQ(trains[1], "0010000");
  EXPECT_EQ(state.refractory[0], 2);  // the spike of the last step
  EXPECT_EQ(state.membrane[1], 1.75);
  // Without the refractory period the second neuron fires at steps 2 and 5.
  const auto free = run(*model, current, {threshold.data(), leak.data(), true, 0}, 7, state);
  EXPECT_EQ(free[1], "0010010");
}

}  // namespace
}  // namespace nfsim::sim
