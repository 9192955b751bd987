// The spiking arrays (docs/spiking.md): the neuron dynamics against hand-computed spike trains,
// the conversion against the rate network, the event-driven faulty run against a direct
// time-stepped simulation of the faulty network for every fault kind, and the engine's
// invariants. The independent numpy reference is checked through the CLI (tests/cli/test_spiking_cli.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/error.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/layer/dense_layer.h"
#include "models/random_network.h"
#include "models/spiking.h"
#include "sim/functional/spiking_engine.h"
#include "tests/common/fault_cases.h"

namespace nfsim {
namespace {

using models::SpikingConfig;

// A chain of 1-wide dense layers with the given weights (biases 0): relu hidden, identity output.
models::Network chain(const std::vector<double>& weights) {
  std::vector<std::unique_ptr<models::ILayer>> layers;
  for (std::size_t l = 0; l < weights.size(); ++l) {
    models::DenseParams p;
    p.weights = Eigen::MatrixXd::Constant(1, 1, weights[l]);
    p.bias = Eigen::VectorXd::Zero(1);
    p.activation.kind = l + 1 < weights.size() ? models::ActivationKind::relu : models::ActivationKind::identity;
    layers.push_back(std::make_unique<models::DenseLayer>(p));
  }
  return models::Network(std::move(layers));
}

// The steps at which layer l spiked.
std::vector<int> spike_steps(const sim::SpikeTrace& t, int l) {
  std::vector<int> steps;
  for (Eigen::Index s = 0; s < t.spikes[static_cast<std::size_t>(l)].cols(); ++s) {
    if (t.spikes[static_cast<std::size_t>(l)](0, s)) steps.push_back(static_cast<int>(s));
  }
  return steps;
}

TEST(Spiking, RegularTrainsHaveTheirRate) {
  for (double r : {0.0, 0.1, 0.25, 1.0 / 3.0, 0.5, 0.9, 1.0, 1.7, -0.2}) {
    for (int T : {1, 7, 64}) {
      int count = 0;
      for (int t = 0; t < T; ++t) count += models::regular_spike(r, t);
      const double clamped = std::min(std::max(r, 0.0), 1.0);
      EXPECT_EQ(count, static_cast<int>(std::floor(T * clamped + 1e-12))) << "rate " << r << " T " << T;
    }
  }
  // Rate 0.25: every fourth step, from step 3.
  std::vector<int> steps;
  for (int t = 0; t < 12; ++t) {
    if (models::regular_spike(0.25, t)) steps.push_back(t);
  }
  EXPECT_EQ(steps, (std::vector<int>{3, 7, 11}));
}

TEST(Spiking, HandComputedSpikeTrains) {
  const double x = 1.0;  // the input spikes at every step
  sim::SpikeTrace trace;
  {
    // if, reset by subtraction, w = 3/8 (exact in binary, as every value below): V = 0.375,
    // 0.75, 1.125 -> spike (V = 0.125), 0.5, 0.875, 1.25 -> spike (0.25), 0.625, 1.0 -> spike at
    // the threshold exactly (0), 0.375, 0.75: steps 2, 5, 7; the output (w = 1, membrane) is the
    // hidden spike count over T.
    const models::Network net = chain({0.375, 1.0});
    SpikingConfig c;
    c.time_steps = 10;
    sim::SpikingModel(net, c, 1).run_clean(&x, 0, 0, trace);
    EXPECT_EQ(spike_steps(trace, 1), (std::vector<int>{2, 5, 7}));
    EXPECT_EQ(trace.output[0], 3.0 / 10.0);
  }
  {
    // lif, leak 0.5, reset to zero, w = 0.6: V = 0.6, 0.9, 1.05 -> spike (0), and again: steps 2, 5, 8.
    const models::Network net = chain({0.6, 1.0});
    SpikingConfig c;
    c.time_steps = 10;
    c.neuron = models::SpikingNeuron::lif;
    c.leak = 0.5;
    c.reset = models::SpikeReset::zero;
    sim::SpikingModel(net, c, 1).run_clean(&x, 0, 0, trace);
    EXPECT_EQ(spike_steps(trace, 1), (std::vector<int>{2, 5, 8}));
    // The same with reset by subtraction: 0.6, 0.9, 1.05 -> 0.05, 0.625, 0.9125, 1.05625 -> 0.05625, ...
    c.reset = models::SpikeReset::subtract;
    sim::SpikingModel(net, c, 1).run_clean(&x, 0, 0, trace);
    EXPECT_EQ(spike_steps(trace, 1), (std::vector<int>{2, 5, 8}));
    // The leak alone never reaches the threshold with w = 0.45 (V tends to 0.9).
    const models::Network weak = chain({0.45, 1.0});
    sim::SpikingModel(weak, c, 1).run_clean(&x, 0, 0, trace);
    EXPECT_TRUE(spike_steps(trace, 1).empty());
    EXPECT_EQ(trace.output[0], 0.0);
  }
  {
    // if, reset to zero, refractory 2, w = 0.5: V = 0.5, 1.0 -> spike at the threshold exactly,
    // steps 2 and 3 held, 0.5, 1.0 -> spike: steps 1, 5, 9.
    const models::Network net = chain({0.5, 1.0});
    SpikingConfig c;
    c.time_steps = 10;
    c.reset = models::SpikeReset::zero;
    c.refractory_steps = 2;
    sim::SpikingModel(net, c, 1).run_clean(&x, 0, 0, trace);
    EXPECT_EQ(spike_steps(trace, 1), (std::vector<int>{1, 5, 9}));
  }
  {
    // The rate readout: the output layer spikes too, here on every hidden spike (w = 1).
    const models::Network net = chain({0.5, 1.0});
    SpikingConfig c;
    c.time_steps = 8;
    c.readout = models::SpikeReadout::rate;
    sim::SpikingModel(net, c, 1).run_clean(&x, 0, 0, trace);
    EXPECT_EQ(spike_steps(trace, 1), (std::vector<int>{1, 3, 5, 7}));
    EXPECT_EQ(trace.output[0], 0.5);
  }
  {
    // A threshold of 2 halves the rate.
    const models::Network net = chain({0.5, 1.0});
    SpikingConfig c;
    c.time_steps = 8;
    c.threshold = 2.0;
    sim::SpikingModel(net, c, 1).run_clean(&x, 0, 0, trace);
    EXPECT_EQ(spike_steps(trace, 1), (std::vector<int>{3, 7}));
  }
}

TEST(Spiking, ConversionKeepsTheRateEquivalentAndNormalisesEachLayer) {
  const models::Network net = models::make_random_network({{6, 8, 5, 3}, {models::ActivationKind::relu}, {}, 3.0, 0.2, 4});
  Eigen::MatrixXd x = (Eigen::MatrixXd::Random(6, 50).array() + 1.0) / 2.0;
  const models::Conversion c = models::convert_to_spiking(net, x, 100.0);
  // relu is positively homogeneous: the normalised network computes the same outputs.
  EXPECT_LT((c.network.forward_batch(x) - net.forward_batch(x)).cwiseAbs().maxCoeff(), 1e-12);
  const models::BatchTrace before = net.trace_batch(x), after = c.network.trace_batch(x);
  ASSERT_EQ(c.lambdas.size(), 4u);
  EXPECT_EQ(c.lambdas[0], 1.0);
  EXPECT_EQ(c.lambdas[3], 1.0);
  for (int l = 1; l <= 2; ++l) {
    EXPECT_EQ(c.lambdas[static_cast<std::size_t>(l)], before.y[static_cast<std::size_t>(l)].maxCoeff());
    // At the 100th percentile every calibration activation is a rate in [0, 1], the largest 1.
    EXPECT_NEAR(after.y[static_cast<std::size_t>(l)].maxCoeff(), 1.0, 1e-12);
  }
  // A lower percentile: lambda is the nearest-rank percentile of the positive activations.
  const models::Conversion half = models::convert_to_spiking(net, x, 50.0);
  std::vector<double> positive;
  for (Eigen::Index i = 0; i < before.y[1].size(); ++i) {
    if (before.y[1].data()[i] > 0) positive.push_back(before.y[1].data()[i]);
  }
  std::sort(positive.begin(), positive.end());
  EXPECT_EQ(half.lambdas[1], positive[static_cast<std::size_t>(std::ceil(0.5 * static_cast<double>(positive.size()))) - 1]);
  EXPECT_THROW(models::convert_to_spiking(net, x, 0.0), core::InputError);
  EXPECT_THROW(models::convert_to_spiking(net, x, 101.0), core::InputError);
}

TEST(Spiking, RefusesNetworksItCannotRun) {
  EXPECT_THROW(models::check_spiking_network(models::make_random_network({{3, 4, 2}, {models::ActivationKind::tanh}, {}, 1, 0, 1}), "net"),
               core::InputError);
  EXPECT_THROW(models::check_spiking_network(models::make_random_network({{3, 4, 2}, {models::ActivationKind::relu},
                                                                          {models::ActivationKind::sigmoid}, 1, 0, 1}),
                                             "net"),
               core::InputError);
  models::RandomNetworkSpec pooled;
  pooled.input_shape = {1, 4, 4};
  pooled.layers = models::parse_random_layers("conv:2:2,maxpool:2,dense:2");
  EXPECT_THROW(models::check_spiking_network(models::make_random_network(pooled), "net"), core::InputError);
  pooled.layers = models::parse_random_layers("conv:2:2,avgpool:2,dense:2");
  EXPECT_NO_THROW(models::check_spiking_network(models::make_random_network(pooled), "net"));
  try {
    models::check_spiking_network(models::make_random_network({{3, 4, 2}, {models::ActivationKind::tanh}, {}, 1, 0, 1}), "net.onnx");
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("net.onnx: layer 1 has activation tanh"), std::string::npos) << e.what();
  }
}

// A direct time-stepped simulation of the faulty network, written from the definition: every
// step computes each layer's whole current A u + b from the (faulty) spikes below through
// ILayer::linear on a copy of the network with the faulty synapse values, and forces the failed
// neurons' trains. No recorded fault-free run, no event-driven updates.
// With phases (onset_step): phases[p].second acts from step phases[p].first on (the first from 0).
Eigen::VectorXd direct_faulty(const models::Network& net, const SpikingConfig& c, const Eigen::VectorXd& x,
                              const std::vector<std::pair<int, faults::FaultInstance>>& phases, std::uint64_t seed, std::uint64_t trial,
                              std::uint32_t input) {
  const int L = net.num_layers();
  // Per phase: the network with its faulty synapse values.
  std::vector<models::Network> networks;
  for (const auto& [from, f] : phases) {
    networks.push_back(net);
    for (int l = 1; l <= L; ++l) {
      for (const faults::WeightOverride& w : f.weights[static_cast<std::size_t>(l)]) networks.back().mutable_layer(l).set_synapse(w.synapse, w.value);
    }
  }
  std::size_t phase = 0;
  auto forced = [&](int l, Eigen::VectorXd& s, int t) {
    for (const faults::NeuronOverride& o : phases[phase].second.neurons[static_cast<std::size_t>(l)]) s[o.index] = models::regular_spike(o.value, t);
  };
  std::vector<Eigen::VectorXd> v(static_cast<std::size_t>(L + 1));
  std::vector<std::vector<int>> refr(static_cast<std::size_t>(L + 1));
  for (int l = 1; l <= L; ++l) {
    v[static_cast<std::size_t>(l)] = Eigen::VectorXd::Zero(net.width(l));
    refr[static_cast<std::size_t>(l)].assign(static_cast<std::size_t>(net.width(l)), 0);
  }
  // Each neuron's threshold and leak, with the phase's deviations.
  std::vector<Eigen::VectorXd> theta(static_cast<std::size_t>(L + 1)), leak(static_cast<std::size_t>(L + 1));
  auto set_parameters = [&](const faults::FaultInstance& f) {
  for (int l = 1; l <= L; ++l) {
    theta[static_cast<std::size_t>(l)] = Eigen::VectorXd::Constant(net.width(l), c.threshold);
    leak[static_cast<std::size_t>(l)] = Eigen::VectorXd::Constant(net.width(l), c.neuron == models::SpikingNeuron::lif ? c.leak : 1.0);
    for (const faults::ParameterOverride& o : f.parameters[static_cast<std::size_t>(l)]) {
      if (o.which == faults::ParameterOverride::Which::threshold) {
        theta[static_cast<std::size_t>(l)][o.index] *= o.factor;
      } else {
        leak[static_cast<std::size_t>(l)][o.index] = std::min(1.0, leak[static_cast<std::size_t>(l)][o.index] * o.factor);
      }
    }
  }
  };
  set_parameters(phases[0].second);
  Eigen::VectorXd acc = Eigen::VectorXd::Zero(net.width(L));
  for (int t = 0; t < c.time_steps; ++t) {
    if (phase + 1 < phases.size() && t >= phases[phase + 1].first) {
      ++phase;
      set_parameters(phases[phase].second);
    }
    const faults::FaultInstance& f = phases[phase].second;
    const models::Network& faulty = networks[phase];
    Eigen::VectorXd s(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      s[i] = c.coding == models::SpikeCoding::regular ? models::regular_spike(x[i], t)
                                                      : models::bernoulli_spike(x[i], seed, trial, input, t, i);
    }
    forced(0, s, t);
    for (int l = 1; l <= L; ++l) {
      Eigen::VectorXd current = faulty.layer(l).linear(faulty.staged(l - 1, s));
      // Dropped spikes: a spike of message `transfer` is lost when any failed lossy unit on it
      // drops it; its synapses (their faulty values) then add nothing.
      std::map<std::pair<int, int>, const faults::SpikeDrop*> lost;  // (transfer, source) -> a drop on it
      for (const faults::SpikeDrop& d : f.drops[static_cast<std::size_t>(l)]) {
        for (int i = d.src_begin; i < d.src_begin + d.src_count; ++i) {
          if (s[i] != 0.0 && faults::spike_drop_uniform(seed, d.spec, d.unit, trial, input, t, d.transfer, i) < d.q) lost[{d.transfer, i}] = &d;
        }
      }
      for (const auto& [key, d] : lost) {
        for (int j = d->out_begin; j < d->out_begin + d->out_count; ++j) current[j] -= faulty.layer(l).crossbar_matrix()(j, key.second);
      }
      if (l == L && c.readout == models::SpikeReadout::membrane) {
        // A failed output neuron reads its override's value at the steps its fault acts.
        for (const faults::NeuronOverride& o : f.neurons[static_cast<std::size_t>(L)]) current[o.index] = o.value;
        acc += current;
        break;
      }
      Eigen::VectorXd out = Eigen::VectorXd::Zero(current.size());
      auto& V = v[static_cast<std::size_t>(l)];
      auto& R = refr[static_cast<std::size_t>(l)];
      for (Eigen::Index j = 0; j < current.size(); ++j) {
        if (R[static_cast<std::size_t>(j)] > 0) {
          --R[static_cast<std::size_t>(j)];
          continue;
        }
        const double th = theta[static_cast<std::size_t>(l)][j];
        V[j] = leak[static_cast<std::size_t>(l)][j] * V[j] + current[j];
        if (V[j] >= th) {
          out[j] = 1;
          V[j] = c.reset == models::SpikeReset::subtract ? V[j] - th : 0.0;
          R[static_cast<std::size_t>(j)] = c.refractory_steps;
        }
      }
      forced(l, out, t);
      if (l == L) acc += out;
      s = out;
    }
  }
  return acc / c.time_steps;
}

Eigen::VectorXd direct_faulty(const models::Network& net, const SpikingConfig& c, const Eigen::VectorXd& x,
                              const faults::FaultInstance& f, std::uint64_t seed, std::uint64_t trial, std::uint32_t input) {
  return direct_faulty(net, c, x, {{0, f}}, seed, trial, input);
}

std::vector<SpikingConfig> configs() {
  std::vector<SpikingConfig> out;
  SpikingConfig a;
  a.time_steps = 24;
  out.push_back(a);
  SpikingConfig b;
  b.time_steps = 17;
  b.neuron = models::SpikingNeuron::lif;
  b.leak = 0.8;
  b.reset = models::SpikeReset::zero;
  b.refractory_steps = 1;
  b.readout = models::SpikeReadout::rate;
  out.push_back(b);
  SpikingConfig c;
  c.time_steps = 20;
  c.coding = models::SpikeCoding::bernoulli;
  out.push_back(c);
  return out;
}

// The spiking-only kinds: thresholds and leaks scaled (a leak above 1 is kept at 1), on hidden
// layers and (for the rate readout) the output layer, and both on the same neurons.
std::vector<faults::FaultSpec> deviation_cases(double p) {
  faults::FaultSpec low{faults::FaultKind::threshold_deviation, {1, 2}, p};
  low.factor = 0.6;
  faults::FaultSpec high{faults::FaultKind::threshold_deviation, {2, 3}, p, faults::Persistence::permanent};
  high.factor = 1.7;
  faults::FaultSpec leak{faults::FaultKind::leak_deviation, {1, 2, 3}, p};
  leak.factor = 0.5;
  faults::FaultSpec leak_up{faults::FaultKind::leak_deviation, {2}, p, faults::Persistence::permanent};
  leak_up.factor = 1.5;
  return {low, high, leak, leak_up};
}

// For every configuration and plan: the engine's outputs of trials 0..trials-1 equal the direct
// simulation's (1e-12), with the faults of each inference realized per onset phase (`steps`: the
// phases' first steps, from 0; {0} when the plans have no onsets). `seen` gets each inference's
// phases, for the tests' counts of what the comparison saw.
void expect_engine_equals_direct(const models::Network& net, const Eigen::MatrixXd& x,
                                 const std::vector<std::vector<faults::FaultSpec>>& plans, std::uint64_t seed, std::uint64_t trials,
                                 const std::vector<int>& steps,
                                 const std::function<void(const std::vector<std::pair<int, faults::FaultInstance>>&)>& seen) {
  for (const SpikingConfig& c : configs()) {
    for (const auto& specs : plans) {
      const faults::FaultPlan plan(specs, net);
      sim::SpikingOptions o;
      o.seed = seed;
      const sim::SpikingEngine engine(net, c, x, plan, o);
      const faults::FaultSampler sampler(plan, net, o.seed);
      for (std::uint64_t trial = 0; trial < trials; ++trial) {
        const Eigen::MatrixXd got = engine.trial_outputs(trial);
        for (Eigen::Index n = 0; n < x.cols(); ++n) {
          std::vector<std::pair<int, faults::FaultInstance>> phases;
          for (int from : steps) {
            phases.emplace_back(from, faults::FaultInstance{});
            sampler.realize(trial, static_cast<std::uint32_t>(n), phases.back().second, 0, from);
          }
          seen(phases);
          const Eigen::VectorXd want = direct_faulty(net, c, x.col(n), phases, o.seed, trial, static_cast<std::uint32_t>(n));
          EXPECT_LT((got.col(n) - want).cwiseAbs().maxCoeff(), 1e-12)
              << specs.front().describe() << ", " << c.describe() << ", trial " << trial << ", input " << n;
        }
      }
    }
  }
}

// Every fault kind of tests/common/fault_cases.h (transient and permanent, neurons at the input,
// hidden and output layers, synapses, stuck-at, bit flips, groups) and the threshold and leak
// deviations, on three spiking configurations: the engine's event-driven faulty outputs equal
// the direct simulation's, trial by trial.
TEST(Spiking, FaultyRunsEqualTheDirectSimulationForEveryFaultKind) {
  const models::Network raw = test::tiny(models::ActivationKind::relu, 1.0, 7);
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(raw.input_size(), 4).array() + 1.0) / 1.5;  // some above 1
  const models::Network net = models::convert_to_spiking(raw, x, 99.0).network;
  std::size_t faulty_inferences = 0;
  std::vector<std::vector<faults::FaultSpec>> plans;
  for (const faults::FaultSpec& spec : test::kind_cases(0.3)) plans.push_back({spec});
  for (const faults::FaultSpec& spec : deviation_cases(0.3)) plans.push_back({spec});
  plans.push_back(deviation_cases(0.3));  // several deviations on one neuron: the later spec wins per parameter
  expect_engine_equals_direct(net, x, plans, 11, 6, {0}, [&](const auto& phases) { faulty_inferences += phases.back().second.empty() ? 0 : 1; });
  EXPECT_GT(faulty_inferences, 200u);  // the comparison saw faults
}

// The same on a small convolutional network with average pooling (a staged layer).
TEST(Spiking, FaultyRunsEqualTheDirectSimulationOnAConvNetwork) {
  models::RandomNetworkSpec spec;
  spec.input_shape = {1, 5, 5};
  spec.layers = models::parse_random_layers("conv:2:2,avgpool:2,dense:3");
  spec.sigma = 3.0;
  spec.mu = 0.2;
  spec.seed = 3;
  const models::Network raw = models::make_random_network(spec);
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(raw.input_size(), 3).array() + 1.0) / 2.0;
  const models::Network net = models::convert_to_spiking(raw, x, 100.0).network;
  std::vector<faults::FaultSpec> specs{{faults::FaultKind::neuron_crash, {0, 1, 2}, 0.2},
                                       {faults::FaultKind::synapse_crash, {1, 2}, 0.2, faults::Persistence::permanent}};
  const faults::FaultPlan plan(specs, net);
  SpikingConfig c;
  c.time_steps = 16;
  const sim::SpikingEngine engine(net, c, x, plan, {5, 8});
  const faults::FaultSampler sampler(plan, net, 5);
  for (std::uint64_t trial = 0; trial < 8; ++trial) {
    const Eigen::MatrixXd got = engine.trial_outputs(trial);
    for (Eigen::Index n = 0; n < x.cols(); ++n) {
      faults::FaultInstance f;
      sampler.realize(trial, static_cast<std::uint32_t>(n), f);
      EXPECT_LT((got.col(n) - direct_faulty(net, c, x.col(n), f, 5, trial, static_cast<std::uint32_t>(n))).cwiseAbs().maxCoeff(), 1e-12);
    }
  }
}

// A run's statistics are those of its trials' outputs: the block's mean Delta equals the mean
// of trial_outputs - clean_outputs over the same trials, and blocks merge to the same numbers.
TEST(Spiking, BlockStatisticsAreThoseOfTheTrials) {
  const models::Network raw = test::tiny(models::ActivationKind::relu, 1.0, 2);
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(raw.input_size(), 3).array() + 1.0) / 2.0;
  const models::Network net = models::convert_to_spiking(raw, x, 100.0).network;
  const faults::FaultPlan plan({{faults::FaultKind::neuron_crash, {1, 2}, 0.2}}, net);
  for (const SpikingConfig& c : configs()) {
    const sim::SpikingEngine engine(net, c, x, plan, {3, 5});
    sim::ErrorStats merged(x.cols(), net.output_size());
    for (std::uint64_t b = 0; b < 3; ++b) merged.merge(engine.run_block(b, 13));
    ASSERT_EQ(merged.trials(), 13u);
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(net.output_size(), x.cols());
    for (std::uint64_t t = 0; t < 13; ++t) {
      Eigen::MatrixXd clean(net.output_size(), x.cols());
      for (Eigen::Index n = 0; n < x.cols(); ++n) {
        // Bernoulli: the fault-free output of the trial's own input spikes.
        sim::SpikeTrace trace;
        engine.model().run_clean(x.col(n).data(), t, static_cast<std::uint32_t>(n), trace);
        clean.col(n) = trace.output;
      }
      sum += engine.trial_outputs(t) - clean;
    }
    for (Eigen::Index n = 0; n < x.cols(); ++n) {
      for (Eigen::Index k = 0; k < net.output_size(); ++k) EXPECT_NEAR(merged.delta(n, k).mean(), sum(k, n) / 13.0, 1e-12) << c.describe();
    }
  }
}

// Lossy units as sim::expand_physical_faults makes them, on the tiny 3-4-3-2 network: three
// units whose messages overlap (two units on one message: a spike is lost once, when either
// drops it), with drop probability q.
faults::FaultSpec lossy_units(double p, double q, faults::Persistence persistence = faults::Persistence::transient) {
  faults::FaultSpec spec{faults::FaultKind::group_crash, {}, p, persistence};
  spec.physical_kind = "lossy_router";
  spec.drop_probability = q;
  // {layer, transfer, src_begin, src_count, out_begin, out_count}
  spec.groups.push_back({"router[0]", {}, {}, {{1, 0, 0, 3, 0, 2}, {2, 2, 0, 4, 0, 3}}});
  spec.groups.push_back({"router[1]", {}, {}, {{1, 0, 0, 3, 0, 2}, {1, 1, 1, 2, 2, 2}}});
  spec.groups.push_back({"router[2]", {}, {}, {{3, 3, 0, 3, 0, 2}}});
  return spec;
}

// Dropped spikes, alone and with faults on the synapses and neurons they touch, on every
// configuration: the engine's differential outputs equal the direct simulation's.
TEST(Spiking, DroppedSpikesEqualTheDirectSimulation) {
  const models::Network raw = test::tiny(models::ActivationKind::relu, 1.0, 7);
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(raw.input_size(), 4).array() + 1.0) / 2.0;
  const models::Network net = models::convert_to_spiking(raw, x, 99.0).network;
  faults::FaultSpec stuck{faults::FaultKind::synapse_stuck_at, {1, 2, 3}, 0.3};
  stuck.value = 0.8;
  const std::vector<std::vector<faults::FaultSpec>> plans{
      {lossy_units(0.6, 0.5)},
      {lossy_units(0.6, 1.0, faults::Persistence::permanent)},
      {lossy_units(0.7, 0.4), stuck, {faults::FaultKind::synapse_crash, {1, 2}, 0.3}, {faults::FaultKind::neuron_crash, {0, 1, 2}, 0.2}}};
  std::size_t dropped_runs = 0;
  expect_engine_equals_direct(net, x, plans, 5, 8, {0}, [&](const auto& phases) {
    for (const auto& d : phases.back().second.drops) dropped_runs += d.empty() ? 0 : 1;
  });
  EXPECT_GT(dropped_runs, 100u);
}

// A unit that drops every spike (q = 1) takes away exactly what crashing the synapses its
// messages feed does (the same units fail: same spec index, unit count and seed).
TEST(Spiking, DroppingEverySpikeIsCrashingTheSynapsesItFeeds) {
  const models::Network raw = test::tiny(models::ActivationKind::relu, 1.0, 3);
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(raw.input_size(), 5).array() + 1.0) / 2.0;
  const models::Network net = models::convert_to_spiking(raw, x, 99.0).network;
  const faults::FaultSpec lossy = lossy_units(0.5, 1.0);
  faults::FaultSpec crash{faults::FaultKind::group_crash, {}, 0.5};
  for (const faults::FaultGroup& g : lossy.groups) {
    faults::FaultGroup cells{g.name, {}, {}, {}};
    for (const faults::SpikePath& sp : g.spike_paths) {
      for (int j = sp.out_begin; j < sp.out_begin + sp.out_count; ++j) {
        for (int i = sp.src_begin; i < sp.src_begin + sp.src_count; ++i) cells.synapses.push_back({sp.layer, j, i});
      }
    }
    crash.groups.push_back(cells);
  }
  for (const SpikingConfig& c : configs()) {
    const faults::FaultPlan a({lossy}, net), b({crash}, net);
    const sim::SpikingEngine ea(net, c, x, a, {9, 16}), eb(net, c, x, b, {9, 16});
    double changed = 0;
    for (std::uint64_t trial = 0; trial < 10; ++trial) {
      const Eigen::MatrixXd ya = ea.trial_outputs(trial), yb = eb.trial_outputs(trial);
      EXPECT_LT((ya - yb).cwiseAbs().maxCoeff(), 1e-12) << c.describe() << ", trial " << trial;
      changed += (ya - ea.clean_outputs()).cwiseAbs().sum();
    }
    EXPECT_GT(changed, 0.0) << c.describe();
  }
}

// Onsets in time steps: faults of several specs starting at steps 0, 3 and 7 (the same neurons
// hit by an early and a late spec: the later spec in the plan wins once both act), on every
// kind the plans above use; the engine's phased run equals the direct simulation that switches
// the faults at those steps.
TEST(Spiking, OnsetStepsEqualTheDirectSimulation) {
  const models::Network raw = test::tiny(models::ActivationKind::relu, 1.0, 7);
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(raw.input_size(), 4).array() + 1.0) / 2.0;
  const models::Network net = models::convert_to_spiking(raw, x, 99.0).network;
  std::vector<std::vector<faults::FaultSpec>> plans;
  for (faults::FaultSpec spec : test::kind_cases(0.4)) {
    faults::FaultSpec late = spec;
    late.onset_step = 7;
    spec.onset_step = 3;
    plans.push_back({spec});
    plans.push_back({late, faults::FaultSpec{faults::FaultKind::neuron_crash, {0, 1, 2, 3}, 0.3}});
  }
  std::vector<faults::FaultSpec> mixed = deviation_cases(0.4);
  mixed[0].onset_step = 5;
  mixed[2].onset_step = 2;
  mixed.push_back(lossy_units(0.6, 0.5));
  mixed.back().onset_step = 4;
  faults::FaultSpec stuck{faults::FaultKind::neuron_stuck_at, {1, 2, 3}, 0.4};
  stuck.value = 1.0;
  stuck.onset_step = 6;
  mixed.push_back(stuck);
  plans.push_back(mixed);
  std::size_t phased = 0;
  expect_engine_equals_direct(net, x, plans, 21, 6, {0, 2, 3, 4, 5, 6, 7}, [&](const auto& phases) {
    phased += phases.front().second.fault_count != phases.back().second.fault_count ? 1 : 0;
  });
  EXPECT_GT(phased, 100u);  // faults did start after step 0
}

// The drop draws: a pure function of their arguments, each of which changes them, uniform on
// (0, 1) (mean 1/2, P(u < 0.3) = 0.3, within 5 standard errors over 200,000 draws).
TEST(Spiking, SpikeDropDrawsArePureAndUniform) {
  const double u = faults::spike_drop_uniform(1, 2, 3, 4, 5, 6, 7, 8);
  EXPECT_EQ(u, faults::spike_drop_uniform(1, 2, 3, 4, 5, 6, 7, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(2, 2, 3, 4, 5, 6, 7, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(1, 3, 3, 4, 5, 6, 7, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(1, 2, 4, 4, 5, 6, 7, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(1, 2, 3, 5, 5, 6, 7, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(1, 2, 3, 4, 6, 6, 7, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(1, 2, 3, 4, 5, 7, 7, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(1, 2, 3, 4, 5, 6, 8, 8));
  EXPECT_NE(u, faults::spike_drop_uniform(1, 2, 3, 4, 5, 6, 7, 9));
  const int n = 200000;
  double sum = 0, below = 0;
  for (int k = 0; k < n; ++k) {
    const double v = faults::spike_drop_uniform(42, k % 3, k % 7, k / 1000, k % 11, k % 13, k % 5, k);
    ASSERT_GT(v, 0.0);
    ASSERT_LT(v, 1.0);
    sum += v;
    below += v < 0.3 ? 1 : 0;
  }
  EXPECT_NEAR(sum / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(below / n, 0.3, 5 * std::sqrt(0.21 / n));
}

TEST(Spiking, ZeroProbabilityGivesExactlyZeroDelta) {
  const models::Network raw = test::tiny(models::ActivationKind::relu, 1.0, 5);
  const Eigen::MatrixXd x = (Eigen::MatrixXd::Random(raw.input_size(), 3).array() + 1.0) / 2.0;
  const models::Network net = models::convert_to_spiking(raw, x, 100.0).network;
  std::vector<faults::FaultSpec> specs = test::kind_cases(0.0);
  for (const faults::FaultSpec& d : deviation_cases(0.0)) specs.push_back(d);
  specs.push_back(lossy_units(0.0, 1.0));
  for (const SpikingConfig& c : configs()) {
    for (const faults::FaultSpec& spec : specs) {
      const faults::FaultPlan plan({spec}, net);
      const sim::SpikingEngine engine(net, c, x, plan, {1, 16});
      const sim::ErrorStats s = engine.run_block(0, 16);
      for (Eigen::Index n = 0; n < x.cols(); ++n) {
        for (Eigen::Index k = 0; k < net.output_size(); ++k) {
          EXPECT_EQ(s.abs_delta(n, k).max(), 0.0) << spec.describe() << ", " << c.describe();
        }
      }
    }
  }
}

}  // namespace
}  // namespace nfsim
