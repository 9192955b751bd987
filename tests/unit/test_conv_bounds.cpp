// b3 and b4 on convolutional networks with pooling stages: unit_effects (the single-unit effects
// b4 sums) against brute-force faulty forward passes, b3 against finite differences, and the
// matrix-free norms against the unrolled matrix.
#include <gtest/gtest.h>

#include <cmath>

#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/random_network.h"

namespace nfsim::models::bounds {
namespace {

using faults::FaultKind;
using faults::FaultPlan;
using faults::FaultSpec;

Network cnn(const std::string& layers, ActivationKind act, std::uint64_t seed) {
  RandomNetworkSpec spec;
  spec.input_shape = {2, 7, 7};
  spec.layers = parse_random_layers(layers);
  spec.activation = Activation{act};
  spec.sigma = 3.0;
  spec.mu = 0.05;
  spec.seed = seed;
  return make_random_network(spec);
}

const char* kNets[] = {
    "conv:3:3:p=1,maxpool:2,conv:4:2,avgpool:2:s=1:p=1,dense:3",
    "maxpool:2:s=1,conv:4:3:s=2:p=1,conv:4:3:g=4:p=1,maxpool:3:s=2,dense:3",
};

// The output with neurons `crashed` (layer, index) at 0 and synapse (layer, s) set to `w`.
Eigen::VectorXd brute(const Network& net, const Eigen::VectorXd& x, const std::vector<std::array<Eigen::Index, 2>>& crashed,
                      const std::vector<std::pair<std::array<Eigen::Index, 2>, double>>& synapses) {
  Network copy = net;
  for (const auto& [ls, w] : synapses) copy.mutable_layer(static_cast<int>(ls[0])).set_synapse(static_cast<std::uint64_t>(ls[1]), w);
  Eigen::VectorXd y = x;
  for (int l = 0;; ++l) {
    for (const auto& c : crashed) {
      if (c[0] == l) y[c[1]] = 0.0;
    }
    if (l == copy.num_layers()) return y;
    y = copy.staged(l, y);
    y = copy.layer(l + 1).activation().apply(copy.layer(l + 1).linear(y));
  }
}

TEST(ConvBounds, UnitEffectsEqualBruteForceForEveryKind) {
  for (const char* layers : kNets) {
    for (auto act : {ActivationKind::relu, ActivationKind::tanh}) {
      const Network net = cnn(layers, act, 3);
      const Eigen::VectorXd x = random_inputs(net.input_size(), 1, 1.0, 0.0, 5).col(0);
      std::vector<FaultSpec> specs;
      specs.push_back({FaultKind::neuron_crash, {0, 1, 2, 3}, 0.01});
      specs.push_back({FaultKind::synapse_crash, {1, 2, 3}, 0.01});
      FaultSpec stuck{FaultKind::synapse_stuck_at, {2}, 0.02};
      stuck.value = 0.7;
      specs.push_back(stuck);
      FaultSpec group{FaultKind::group_crash, {}, 0.05};
      group.groups.push_back({"col", {}, {{1, 0, 0}, {1, 0, 1}, {1, 0, 2}}});
      group.groups.push_back({"channel", {{1, 0}, {1, 1}, {1, 5}}, {{2, 1, 0}}});
      group.groups.push_back({"late", {{2, 3}}, {{3, 0, 1}}});
      specs.push_back(group);
      const FaultPlan plan(specs, net);
      const FaultModel model = faults::to_bound_model(plan);
      const BoundCalculator calc(net, model);
      const std::vector<TermEffects> effects = calc.unit_effects(x);
      const Eigen::VectorXd clean = net.forward(x);
      const double tol = 1e-10 * (1.0 + clean.cwiseAbs().maxCoeff());
      std::size_t k = 0;
      int nonzero = 0;
      for (const NeuronTerm& t : model.neurons) {
        const TermEffects& te = effects[k++];
        for (Eigen::Index i = 0; i < net.width(t.layer); ++i) {
          const Eigen::VectorXd e = brute(net, x, {{t.layer, i}}, {}) - clean;
          ASSERT_LE((te.effects.col(i) - e).cwiseAbs().maxCoeff(), tol) << net.describe() << " " << te.term << " " << i;
          nonzero += e.cwiseAbs().maxCoeff() > 0;
        }
      }
      for (const SynapseTerm& t : model.synapses) {
        const TermEffects& te = effects[k++];
        const ILayer& layer = net.layer(t.layer);
        for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
          const Eigen::VectorXd e =
              brute(net, x, {}, {{{t.layer, static_cast<Eigen::Index>(s)}, t.replace(layer.synapse(s))}}) - clean;
          ASSERT_LE((te.effects.col(static_cast<Eigen::Index>(s)) - e).cwiseAbs().maxCoeff(), tol)
              << net.describe() << " " << te.term << " " << layer.synapse_name(s);
          nonzero += e.cwiseAbs().maxCoeff() > 0;
        }
      }
      for (const GroupTerm& g : model.groups) {
        const TermEffects& te = effects[k++];
        std::vector<std::array<Eigen::Index, 2>> crashed;
        for (const auto& n : g.neurons) crashed.push_back({n[0], n[1]});
        std::vector<std::pair<std::array<Eigen::Index, 2>, double>> zeroed;
        for (const auto& s : g.synapses) {
          zeroed.push_back({{s[0], static_cast<Eigen::Index>(net.layer(s[0]).synapse_at(s[1], s[2]))}, 0.0});
        }
        const Eigen::VectorXd e = brute(net, x, crashed, zeroed) - clean;
        ASSERT_LE((te.effects.col(0) - e).cwiseAbs().maxCoeff(), tol) << net.describe() << " group " << g.name;
      }
      EXPECT_GT(nonzero, 50) << net.describe();
      // b4 is the sum of those columns.
      const BoundSet b = calc.compute(x, {"b4"});
      Eigen::VectorXd mean = Eigen::VectorXd::Zero(clean.size());
      for (const TermEffects& te : effects) mean += te.probability * te.effects.rowwise().sum();
      EXPECT_LE((b.at("b4").mean - mean).cwiseAbs().maxCoeff(), 1e-12 * (1 + mean.cwiseAbs().maxCoeff()));
    }
  }
}

// b3 is first order: p times the sum over units of the directional derivative along each unit's
// change. Checked against central differences of the network (tanh: smooth; average pooling;
// max pooling away from ties).
TEST(ConvBounds, B3IsTheFirstOrderTermOfEachUnit) {
  const Network net = cnn("conv:3:3:p=1,avgpool:2,conv:4:2,maxpool:2:s=1,dense:3", ActivationKind::tanh, 4);
  const Eigen::VectorXd x = random_inputs(net.input_size(), 1, 1.0, 0.0, 6).col(0);
  const double p = 0.01, h = 1e-6;
  const Eigen::VectorXd clean = net.forward(x);
  for (int l = 1; l <= 2; ++l) {
    // Synapse crashes on layer l: e_s = d/dt F(w_s - t w_s) at t = 0.
    FaultSpec spec{FaultKind::synapse_crash, {l}, p};
    const FaultPlan plan({spec}, net);
    const BoundCalculator calc(net, faults::to_bound_model(plan));
    const BoundSet b = calc.compute(x, {"b3"});
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(3), var = mean;
    const ILayer& layer = net.layer(l);
    for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
      const double w = layer.synapse(s);
      const Eigen::Index ls = static_cast<Eigen::Index>(s);
      const Eigen::VectorXd e = (brute(net, x, {}, {{{l, ls}, w - h * w}}) - brute(net, x, {}, {{{l, ls}, w + h * w}})) / (2 * h);
      mean += p * e;
      var += p * e.cwiseAbs2();
    }
    EXPECT_LE((b.at("b3").mean - mean).cwiseAbs().maxCoeff(), 1e-6 * (1 + mean.cwiseAbs().maxCoeff())) << "layer " << l;
    EXPECT_LE((b.at("b3").std - var.cwiseSqrt()).cwiseAbs().maxCoeff(), 1e-6 * (1 + var.cwiseSqrt().maxCoeff())) << "layer " << l;
  }
}

TEST(ConvBounds, MatrixFreeNormsEqualTheUnrolledMatrixNorms) {
  for (const char* layers : kNets) {
    const Network net = cnn(layers, ActivationKind::relu, 8);
    for (int l = 1; l <= net.num_layers(); ++l) {
      const Eigen::MatrixXd a = linear_map(net.layer(l));
      const std::array<double, 4> n = layer_norms(net.layer(l));
      EXPECT_NEAR(n[0], induced_norm_1(a), 1e-12 * induced_norm_1(a)) << layers << " layer " << l;
      EXPECT_NEAR(n[2], induced_norm_inf(a), 1e-12 * induced_norm_inf(a)) << layers << " layer " << l;
      EXPECT_NEAR(n[3], a.norm(), 1e-12 * a.norm()) << layers << " layer " << l;
      EXPECT_NEAR(n[1], spectral_norm(a), 1e-9 * spectral_norm(a)) << layers << " layer " << l;
      EXPECT_LE(n[1], spectral_norm(a) * (1 + 1e-12)) << "an estimate from below";
    }
    EXPECT_FALSE(BoundCalculator::has_paper_bounds(net));
  }
}

}  // namespace
}  // namespace nfsim::models::bounds
