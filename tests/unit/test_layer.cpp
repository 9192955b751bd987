#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/layer/dense_layer.h"
#include "models/network.h"
#include "models/onnx_io.h"
#include "models/random_network.h"
#include "sim/functional/functional_engine.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/mapping.h"

namespace nfsim::models {
namespace {

using faults::FaultKind;
using faults::FaultSpec;

// A layer kind the library does not have, written against ILayer only: a one-channel 1-D
// convolution (valid padding) whose k taps are shared by every output position. It proves that
// networks, fault plans, the sampler, the functional engine and the bounds reach neurons and
// synapses through the interface, shared weights included.
class Conv1dTestLayer final : public ILayer {
 public:
  Conv1dTestLayer(Eigen::Index inputs, Eigen::VectorXd taps, double bias, Activation activation)
      : inputs_(inputs),
        taps_(taps.transpose()),
        bias_(Eigen::VectorXd::Constant(inputs - taps.size() + 1, bias)),
        activation_(activation) {}

  std::string kind() const override { return "test_conv1d"; }
  Eigen::Index input_size() const override { return inputs_; }
  Eigen::Index output_size() const override { return bias_.size(); }
  std::vector<Eigen::Index> output_shape() const override { return {1, output_size()}; }
  const Activation& activation() const override { return activation_; }
  const Eigen::VectorXd& bias() const override { return bias_; }
  std::size_t parameter_count() const override { return static_cast<std::size_t>(taps_.size()) + 1; }

  Eigen::VectorXd linear(const Eigen::VectorXd& y) const override { return jvp(y) + bias_; }
  void linear_batch(const Eigen::MatrixXd& y, Eigen::MatrixXd& z) const override {
    z.resize(output_size(), y.cols());
    for (Eigen::Index c = 0; c < y.cols(); ++c) z.col(c) = linear(y.col(c));
  }
  Eigen::MatrixXd vjp(const Eigen::MatrixXd& g) const override {
    Eigen::MatrixXd r = Eigen::MatrixXd::Zero(g.rows(), inputs_);
    for (Eigen::Index j = 0; j < output_size(); ++j) {
      for (Eigen::Index t = 0; t < taps_.size(); ++t) r.col(j + t) += g.col(j) * taps_(0, t);
    }
    return r;
  }
  Eigen::VectorXd jvp(const Eigen::VectorXd& dy) const override {
    Eigen::VectorXd z = Eigen::VectorXd::Zero(output_size());
    for (Eigen::Index j = 0; j < output_size(); ++j) {
      for (Eigen::Index t = 0; t < taps_.size(); ++t) z[j] += taps_(0, t) * dy[j + t];
    }
    return z;
  }
  void add_input_changes(const Eigen::Index* inputs, const double* dy, std::size_t count, double* z) const override {
    for (std::size_t k = 0; k < count; ++k) {
      for (Eigen::Index t = 0; t < taps_.size(); ++t) {
        const Eigen::Index j = inputs[k] - t;
        if (j >= 0 && j < output_size()) z[j] += taps_(0, t) * dy[k];
      }
    }
  }
  void add_synapse_change(std::uint64_t s, double value, const double* y_prev, double* z) const override {
    const auto t = static_cast<Eigen::Index>(s);
    for (Eigen::Index j = 0; j < output_size(); ++j) z[j] += (value - taps_(0, t)) * y_prev[j + t];
  }
  std::uint64_t synapse_count() const override { return static_cast<std::uint64_t>(taps_.size()); }
  double synapse(std::uint64_t s) const override { return taps_(0, static_cast<Eigen::Index>(s)); }
  void set_synapse(std::uint64_t s, double value) override { taps_(0, static_cast<Eigen::Index>(s)) = value; }
  int connection_count(std::uint64_t) const override { return static_cast<int>(output_size()); }
  Connection connection(std::uint64_t s, int k) const override { return {k, k + static_cast<Eigen::Index>(s)}; }
  std::string synapse_name(std::uint64_t s) const override { return "w[" + std::to_string(s) + "]"; }
  const Eigen::MatrixXd& crossbar_matrix() const override { return taps_; }
  Eigen::Index crossbar_positions() const override { return output_size(); }
  std::unique_ptr<ILayer> clone() const override { return std::make_unique<Conv1dTestLayer>(*this); }
  std::string describe() const override { return std::to_string(output_size()) + "(conv1d)"; }

 private:
  Eigen::Index inputs_;
  Eigen::MatrixXd taps_;  // 1 x k: one channel, k taps
  Eigen::VectorXd bias_;
  Activation activation_;
};

// conv1d(6 -> 4, taps 0.5 -1 0.25, tanh) then dense 4 -> 2.
Network conv_network() {
  std::vector<std::unique_ptr<ILayer>> layers;
  layers.push_back(
      std::make_unique<Conv1dTestLayer>(6, Eigen::Vector3d(0.5, -1.0, 0.25), 0.1, Activation{ActivationKind::tanh}));
  layers.push_back(std::make_unique<DenseLayer>(DenseParams{
      (Eigen::MatrixXd(2, 4) << 1, -2, 0.5, 1, -1, 0.5, 2, -0.5).finished(), Eigen::Vector2d(0.2, -0.1), {}}));
  return Network(std::move(layers));
}

// The output of conv_network() computed by hand with taps `w`.
Eigen::VectorXd conv_forward_by_hand(const Eigen::VectorXd& x, const Eigen::Vector3d& w) {
  Eigen::VectorXd h(4);
  for (int j = 0; j < 4; ++j) h[j] = std::tanh(w[0] * x[j] + w[1] * x[j + 1] + w[2] * x[j + 2] + 0.1);
  const Eigen::MatrixXd w2 = (Eigen::MatrixXd(2, 4) << 1, -2, 0.5, 1, -1, 0.5, 2, -0.5).finished();
  return w2 * h + Eigen::Vector2d(0.2, -0.1);
}

TEST(DenseLayer, SynapsesAreRowMajorCellsOfWWithOneConnection) {
  const DenseLayer layer(
      DenseParams{(Eigen::MatrixXd(2, 3) << 1, 2, 3, 4, 5, 6).finished(), Eigen::Vector2d(0.5, -0.5), {}});
  EXPECT_EQ(layer.kind(), "dense");
  EXPECT_EQ(layer.synapse_count(), 6u);
  EXPECT_EQ(layer.synapse(4), 5.0);  // s = row * n_in + col = 1 * 3 + 1
  EXPECT_EQ(layer.synapse_at(1, 1), 4u);
  EXPECT_EQ(layer.synapse_row(4), 1);
  EXPECT_EQ(layer.synapse_col(4), 1);
  EXPECT_EQ(layer.connection_count(4), 1);
  EXPECT_EQ(layer.connection(5, 0).output, 1);
  EXPECT_EQ(layer.connection(5, 0).input, 2);
  EXPECT_EQ(layer.synapse_name(5), "W[1,2]");
  EXPECT_EQ(&layer.crossbar_matrix(), &layer.weights());
  EXPECT_EQ(layer.crossbar_positions(), 1);
  EXPECT_EQ(layer.output_shape(), std::vector<Eigen::Index>{2});
  EXPECT_EQ(layer.parameter_count(), 8u);
}

TEST(DenseLayer, ProductsAndSparseUpdatesMatchTheMatrix) {
  const Network net = make_random_network({{5, 4}, {ActivationKind::relu}, {}, 2.0, 0.1, 3});
  const ILayer& layer = net.layer(1);
  const Eigen::MatrixXd& w = as_dense(layer, "test").weights();
  const Eigen::VectorXd y = Eigen::VectorXd::LinSpaced(5, -1, 1);
  EXPECT_TRUE(layer.linear(y).isApprox(w * y + layer.bias(), 1e-15));
  EXPECT_TRUE(layer.jvp(y).isApprox(w * y, 1e-15));
  const Eigen::MatrixXd g = Eigen::MatrixXd::Random(3, 4);
  EXPECT_TRUE(layer.vjp(g).isApprox(g * w, 1e-15));
  // z + A[:, S] dy[S] for S = {0, 2, 3, 4, 1} (five: the unrolled loop and its tail).
  const Eigen::Index idx[] = {0, 2, 3, 4, 1};
  const double dy[] = {0.5, -1.0, 2.0, 0.25, -0.75};
  Eigen::VectorXd z = layer.linear(y), expected = z;
  for (int k = 0; k < 5; ++k) expected += w.col(idx[k]) * dy[k];
  layer.add_input_changes(idx, dy, 5, z.data());
  EXPECT_TRUE(z.isApprox(expected, 1e-14));
  // Synapse W[2,3] holding 7 instead: z_2 changes by (7 - w) y_3.
  Eigen::VectorXd z2 = layer.linear(y);
  const double before = z2[2];
  layer.add_synapse_change(layer.synapse_at(2, 3), 7.0, y.data(), z2.data());
  EXPECT_DOUBLE_EQ(z2[2] - before, (7.0 - w(2, 3)) * y[3]);
}

TEST(Network, CopiesShareLayersUntilOneIsWritten) {
  const Network net = make_random_network({{5, 4, 3}, {ActivationKind::relu}, {}, 2.0, 0.1, 3});
  Network copy = net;
  EXPECT_EQ(&copy.layer(1), &net.layer(1));
  copy.mutable_layer(1).set_synapse(0, 42.0);
  EXPECT_EQ(copy.layer(1).synapse(0), 42.0);
  EXPECT_NE(net.layer(1).synapse(0), 42.0);
  EXPECT_EQ(&copy.layer(2), &net.layer(2));  // untouched layers stay shared
  std::unique_ptr<ILayer> clone = net.layer(2).clone();
  clone->set_synapse(1, -5.0);
  EXPECT_NE(net.layer(2).synapse(1), -5.0);
}

TEST(Network, AnotherLayerKindRunsThroughTheInterface) {
  const Network net = conv_network();
  EXPECT_EQ(net.describe(), "6-4(conv1d)-2(identity)");
  EXPECT_EQ(net.parameter_count(), 4u + 10u);
  const Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(6, -1, 1.5);
  EXPECT_TRUE(net.forward(x).isApprox(conv_forward_by_hand(x, Eigen::Vector3d(0.5, -1.0, 0.25)), 1e-14));
  // Reverse-mode Jacobian against central differences.
  const ForwardTrace t = net.trace(x);
  const Eigen::MatrixXd j = net.jacobian_wrt_activations(t, 0);
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < 6; ++i) {
    Eigen::VectorXd xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    EXPECT_TRUE(j.col(i).isApprox((net.forward(xp) - net.forward(xm)) / (2 * h), 1e-7)) << i;
  }
  // Dense-only code refuses it, naming the kind.
  try {
    serialize_onnx(net);
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ONNX export"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test_conv1d"), std::string::npos) << e.what();
  }
}

TEST(Network, RejectsALayerThatDoesNotReadThePreviousOutputs) {
  std::vector<std::unique_ptr<ILayer>> layers;
  layers.push_back(std::make_unique<Conv1dTestLayer>(6, Eigen::Vector3d(0.5, -1.0, 0.25), 0.1, Activation{}));
  layers.push_back(std::make_unique<DenseLayer>(DenseParams{Eigen::MatrixXd::Ones(2, 5), Eigen::Vector2d::Zero(), {}}));
  try {
    Network(std::move(layers));
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2x5"), std::string::npos) << e.what();
  }
}

// A crashed shared weight changes every connection that reads it, on both engine paths.
TEST(Network, SharedSynapseFaultsReachEveryConnection) {
  const Network net = conv_network();
  const Eigen::MatrixXd x = random_inputs(6, 3, 1.0, 0.0, 4);
  const faults::FaultPlan plan({FaultSpec{FaultKind::synapse_crash, {1}, 1.0}}, net);
  EXPECT_EQ(plan.unit_count(0), 3u);  // three taps, not 4 x 6 connections
  for (bool fast : {true, false}) {
    sim::FunctionalOptions o;
    o.fast_path = fast;
    const sim::FunctionalEngine engine(net, x, plan, o);
    const Eigen::MatrixXd out = engine.trial_outputs(0);
    for (Eigen::Index n = 0; n < x.cols(); ++n) {
      EXPECT_TRUE(out.col(n).isApprox(conv_forward_by_hand(x.col(n), Eigen::Vector3d::Zero()), 1e-14)) << fast;
    }
  }
  // Stuck-at on tap 1 only (later specs win): the sampler addresses it by synapse index.
  const faults::FaultPlan stuck({FaultSpec{FaultKind::synapse_stuck_at, {1}, 1.0, faults::Persistence::transient, 2.0}},
                                net);
  const faults::FaultSampler sampler(stuck, net, 1);
  faults::FaultInstance f;
  sampler.realize(0, 0, f);
  ASSERT_EQ(f.weights[1].size(), 3u);
  EXPECT_EQ(f.weights[1][1].synapse, 1u);
  const sim::FunctionalEngine engine(net, x, stuck, {});
  EXPECT_TRUE(engine.trial_outputs(0).col(0).isApprox(conv_forward_by_hand(x.col(0), Eigen::Vector3d(2, 2, 2)), 1e-14));
}

TEST(Bounds, NeuronAndSharedSynapseTermsWorkOnAnyLayer) {
  const Network net = conv_network();
  const Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(6, -1, 1.5);
  const double p = 0.1;
  const faults::FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, p}}, net);
  const bounds::BoundCalculator calc(net, faults::to_bound_model(plan));
  const bounds::BoundSet b = calc.compute(x, {"b4"});
  // b4 = p * sum_i (F_1(y with y_i = 0) - F_1(y)).
  const ForwardTrace t = net.trace(x);
  Eigen::VectorXd expected = Eigen::VectorXd::Zero(2);
  for (Eigen::Index i = 0; i < 4; ++i) {
    Eigen::VectorXd y = t.y[1];
    y[i] = 0.0;
    expected += p * (net.forward_from(1, y) - t.y[2]);
  }
  EXPECT_TRUE(b.at("b4").mean.isApprox(expected, 1e-12));
  // A shared tap crashed: one unit, removed at every position that reads it.
  const faults::FaultPlan synapses({FaultSpec{FaultKind::synapse_crash, {1}, p}}, net);
  const bounds::BoundSet bs = bounds::BoundCalculator(net, faults::to_bound_model(synapses)).compute(x, {"b4"});
  const Eigen::Vector3d taps(0.5, -1.0, 0.25);
  Eigen::VectorXd shared = Eigen::VectorXd::Zero(2);
  for (int k = 0; k < 3; ++k) {
    Eigen::Vector3d w = taps;
    w[k] = 0.0;
    shared += p * (conv_forward_by_hand(x, w) - conv_forward_by_hand(x, taps));
  }
  EXPECT_TRUE(bs.at("b4").mean.isApprox(shared, 1e-12)) << bs.at("b4").mean.transpose() << " vs " << shared.transpose();
}

TEST(Mapping, RefusesALayerThatReusesItsCrossbar) {
  const Network net = conv_network();
  try {
    sim::map_network(net, sim::parse_topology(YAML::Load("cores: {count: 8}\n"), "t.yaml"));
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("test_conv1d"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 output positions"), std::string::npos) << e.what();
  }
}

// Whatever mapper placed it, the chip's dataflow refuses a layer other than a 2-D convolution
// that reuses its crossbar (it unrolls conv2d inputs only).
TEST(Mapping, TheDataflowRefusesALayerThatReusesItsCrossbarWhateverTheMapper) {
  const Network net = conv_network();
  sim::Mapping m;  // as a third-party mapper might leave it: one tile per layer
  for (int l = 1; l <= net.num_layers(); ++l) {
    const auto& a = net.layer(l).crossbar_matrix();
    m.tiles.push_back({l, 0, static_cast<int>(a.cols()), 0, static_cast<int>(a.rows()), 0});
    m.arrays.push_back({l, 0, static_cast<int>(net.layer(l).output_size()), 0});
  }
  try {
    sim::add_transfers(m, net);
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the chip's dataflow unrolls 2-D convolutions (conv2d) only"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 output positions"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nfsim::models
