// BoundCalculator::unit_effects against brute force: for every unit of every term, one forward
// pass of the network with that unit alone failed (a copy of the network for synapses, a faulty
// forward for neurons and groups), and b4 as the sums of those columns.
#include <gtest/gtest.h>

#include "faults/bound_model.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/random_network.h"

namespace nfsim::models::bounds {
namespace {

using faults::FaultKind;
using faults::FaultPlan;
using faults::FaultSpec;

// The network's output with the given neurons forced (crash: 0, else `value`) and the given
// synapses replaced, by plain forward passes, one layer at a time.
Eigen::VectorXd faulty_forward(const Network& net, const Eigen::VectorXd& x, const std::vector<std::array<int, 2>>& neurons,
                               bool crash, double value, const std::vector<std::pair<std::array<int, 3>, double>>& synapses) {
  Network copy = net;
  for (const auto& [cell, w] : synapses) {
    ILayer& layer = copy.mutable_layer(cell[0]);
    layer.set_synapse(layer.synapse_at(cell[1], cell[2]), w);
  }
  auto force = [&](int l, Eigen::VectorXd& y) {
    for (const auto& n : neurons) {
      if (n[0] == l) y[n[1]] = crash ? 0.0 : value;
    }
  };
  Eigen::VectorXd y = x;
  force(0, y);
  for (int l = 1; l <= copy.num_layers(); ++l) {
    y = copy.layer(l).activation().apply(copy.layer(l).linear(y));
    force(l, y);
  }
  return y;
}

// Compares every column with brute force, and b4 with the columns' sums.
void check_against_brute_force(const Network& net, const std::vector<FaultSpec>& specs, const Eigen::VectorXd& x) {
  const FaultPlan plan(specs, net);
  const FaultModel model = faults::to_bound_model(plan);
  const BoundCalculator calc(net, model);
  const std::vector<TermEffects> effects = calc.unit_effects(x);
  ASSERT_EQ(effects.size(), model.neurons.size() + model.synapses.size() + model.groups.size());
  const Eigen::VectorXd clean = net.forward(x);
  const double tol = 1e-10 * (1.0 + clean.cwiseAbs().maxCoeff());
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(clean.size()), var = mean;
  std::size_t k = 0;
  int nonzero = 0;
  auto check_column = [&](const TermEffects& te, Eigen::Index u, const Eigen::VectorXd& brute) {
    const Eigen::VectorXd e = te.effects.col(u);
    EXPECT_LE((e - brute).cwiseAbs().maxCoeff(), tol) << te.term << " unit " << u << ": " << e.transpose() << " vs " << brute.transpose();
    nonzero += e.cwiseAbs().maxCoeff() > 0;
    mean += te.probability * e;
    var += te.probability * e.cwiseAbs2();
  };
  for (const NeuronTerm& t : model.neurons) {
    const TermEffects& te = effects[k++];
    EXPECT_EQ(te.term, BoundCalculator::term_label(t));
    EXPECT_EQ(te.layer, t.layer);
    EXPECT_EQ(te.probability, t.probability);
    ASSERT_EQ(te.effects.cols(), net.width(t.layer));
    for (Eigen::Index i = 0; i < te.effects.cols(); ++i)
      check_column(te, i, faulty_forward(net, x, {{t.layer, static_cast<int>(i)}}, t.crash, t.value, {}) - clean);
  }
  for (const SynapseTerm& t : model.synapses) {
    const TermEffects& te = effects[k++];
    EXPECT_EQ(te.term, BoundCalculator::term_label(t));
    EXPECT_EQ(te.layer, t.layer);
    const ILayer& layer = net.layer(t.layer);
    ASSERT_EQ(te.effects.cols(), static_cast<Eigen::Index>(layer.synapse_count()));
    for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
      const std::array<int, 3> cell{t.layer, static_cast<int>(layer.synapse_row(s)), static_cast<int>(layer.synapse_col(s))};
      check_column(te, static_cast<Eigen::Index>(s), faulty_forward(net, x, {}, true, 0, {{cell, t.replace(layer.synapse(s))}}) - clean);
    }
  }
  for (const GroupTerm& g : model.groups) {
    const TermEffects& te = effects[k++];
    EXPECT_EQ(te.term, g.name);
    EXPECT_EQ(te.layer, -1);
    ASSERT_EQ(te.effects.cols(), 1);
    std::vector<std::pair<std::array<int, 3>, double>> cells;
    for (const auto& s : g.synapses) {
      EXPECT_EQ(s[4], 0) << "a position range in a test without replicas";
      cells.push_back({{s[0], s[1], s[2]}, 0.0});
    }
    check_column(te, 0, faulty_forward(net, x, g.neurons, true, 0, cells) - clean);
  }
  EXPECT_GT(nonzero, 0);
  const BoundSet b = calc.compute(x, {"b4"});
  EXPECT_LE((b.at("b4").mean - mean).cwiseAbs().maxCoeff(), 1e-9 * (1.0 + mean.cwiseAbs().maxCoeff()));
  EXPECT_LE((b.at("b4").std - var.cwiseSqrt()).cwiseAbs().maxCoeff(), 1e-9 * (1.0 + var.cwiseSqrt().maxCoeff()));
}

std::vector<std::vector<FaultSpec>> every_kind() {
  FaultSpec stuck{FaultKind::neuron_stuck_at, {0, 2}, 0.03};
  stuck.value = 0.7;
  FaultSpec synapse_stuck{FaultKind::synapse_stuck_at, {1, 3}, 0.01};
  synapse_stuck.value = -1.5;
  FaultSpec flip{FaultKind::weight_bit_flip, {1, 2}, 0.02};
  flip.bit = 6;
  flip.format = {8, 5};
  FaultSpec group{FaultKind::group_crash, {}, 0.01};
  group.groups.push_back({"row", {{1, 2}, {1, 3}}, {{1, 0, 0}, {1, 1, 3}}});
  group.groups.push_back({"deep", {{2, 1}}, {{3, 0, 1}, {3, 0, 1}}});  // a member listed twice fails once
  group.groups.push_back({"inputs", {{0, 1}, {0, 4}}, {{1, 2, 1}, {1, 2, 2}, {2, 0, 0}}});
  group.groups.push_back({"synapses", {}, {{2, 1, 0}, {2, 1, 1}, {2, 3, 6}}});
  group.groups.push_back({"out", {{3, 1}}, {}});
  return {{FaultSpec{FaultKind::neuron_crash, {0, 1, 2, 3}, 0.02}},
          {stuck},
          {FaultSpec{FaultKind::synapse_crash, {1, 2, 3}, 0.01}},
          {synapse_stuck},
          {flip},
          {group},
          {FaultSpec{FaultKind::neuron_crash, {1}, 0.02}, FaultSpec{FaultKind::synapse_crash, {2}, 0.01}, group}};
}

TEST(UnitEffects, EqualBruteForceForEveryKindSmoothActivations) {
  const Network net = make_random_network({{6, 8, 7, 3}, {ActivationKind::tanh}, {}, 2.0, 0.1, 5});
  const Eigen::MatrixXd x = random_inputs(6, 2, 1.0, 0.0, 7);
  for (const auto& specs : every_kind()) {
    SCOPED_TRACE(specs[0].describe());
    for (Eigen::Index c = 0; c < x.cols(); ++c) check_against_brute_force(net, specs, x.col(c));
  }
}

// relu networks take the piecewise-linear path for synapse terms (more changes than neurons):
// effects within the radius of linearity are dy G[:, j], the others partial forward passes. A
// large stuck-at value and an input with exact zeros exercise both and the skipped units.
TEST(UnitEffects, EqualBruteForceForEveryKindPiecewiseLinearActivations) {
  for (const ActivationKind kind : {ActivationKind::relu, ActivationKind::leaky_relu}) {
    const Network net = make_random_network({{6, 8, 7, 3}, {kind}, {ActivationKind::relu}, 2.0, 0.1, 11});
    Eigen::MatrixXd x = random_inputs(6, 3, 1.0, 0.2, 4);
    x(0, 1) = 0.0;
    x(3, 1) = 0.0;
    for (const auto& specs : every_kind()) {
      SCOPED_TRACE(specs[0].describe() + " " + to_string(kind));
      for (Eigen::Index c = 0; c < x.cols(); ++c) check_against_brute_force(net, specs, x.col(c));
    }
  }
}

// A wide layer: more columns than one chunk of the batched passes.
TEST(UnitEffects, SynapseTermLargerThanOneChunk) {
  for (const ActivationKind kind : {ActivationKind::tanh, ActivationKind::relu}) {
    const Network net = make_random_network({{60, 50, 6, 4}, {kind}, {}, 2.0, 0.1, 3});
    const Eigen::VectorXd x = random_inputs(60, 1, 1.0, 0.0, 9).col(0);
    check_against_brute_force(net, {FaultSpec{FaultKind::synapse_crash, {1}, 0.001}}, x);
  }
}

}  // namespace
}  // namespace nfsim::models::bounds
