#include "models/spiking.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "core/rng.h"
#include "core/strings.h"
#include "models/layer/conv2d_layer.h"
#include "models/layer/dense_layer.h"

namespace nfsim::models {

const char* to_string(SpikingNeuron n) { return n == SpikingNeuron::lif ? "lif" : "if"; }
const char* to_string(SpikeReset r) { return r == SpikeReset::zero ? "zero" : "subtract"; }
const char* to_string(SpikeCoding c) { return c == SpikeCoding::bernoulli ? "bernoulli" : "regular"; }
const char* to_string(SpikeReadout r) { return r == SpikeReadout::rate ? "rate" : "membrane"; }

std::string SpikingConfig::describe() const {
  std::string s = std::string(to_string(neuron));
  if (neuron == SpikingNeuron::lif) s += " (leak " + core::format_double(leak) + ")";
  s += ", threshold " + core::format_double(threshold) + ", reset " + to_string(reset);
  if (refractory_steps > 0) s += ", refractory " + std::to_string(refractory_steps) + " steps";
  s += ", T = " + std::to_string(time_steps) + ", " + to_string(coding) + " input, " + to_string(readout) + " readout";
  return s;
}

std::string SpikingConfig::signature() const {
  std::uint64_t h = 1469598103934665603ull;
  auto add = [&h](const void* bytes, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(bytes);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  for (const auto* per_layer : {&layer_thresholds, &layer_leaks}) {
    const std::size_t layers = per_layer->size();
    add(&layers, sizeof layers);
    for (const Eigen::VectorXd& v : *per_layer) {
      const Eigen::Index n = v.size();
      add(&n, sizeof n);
      add(v.data(), static_cast<std::size_t>(n) * sizeof(double));
    }
  }
  return describe() + " |" + std::to_string(h);
}

void check_spiking_network(const Network& net, const std::string& where) {
  const int L = net.num_layers();
  if (L < 1) throw core::InputError(where + ": the network has no layers; expected at least one");
  for (int l = 1; l <= L; ++l) {
    const Activation& a = net.layer(l).activation();
    if (l < L && !(a.kind == ActivationKind::relu && a.scale == 1.0)) {
      throw core::InputError(where + ": layer " + std::to_string(l) + " has activation " + a.describe() +
                             "; spiking arrays need relu hidden layers (the rate an integrate-and-fire neuron "
                             "approximates)");
    }
    if (l == L && !(a.kind == ActivationKind::identity && a.scale == 1.0)) {
      throw core::InputError(where + ": the output layer " + std::to_string(l) + " has activation " + a.describe() +
                             "; spiking arrays need an identity output layer (read as its integrated current or "
                             "spike count)");
    }
  }
  for (int l = 0; l < L; ++l) {
    const Pool2d* s = net.stage(l);
    if (s && s->params().kind == Pool2dParams::Kind::max) {
      throw core::InputError(where + ": layer " + std::to_string(l) + " is followed by " + s->describe() +
                             "; spikes are pooled by summing, so spiking arrays take average pooling only");
    }
  }
}

namespace {

// The `percentile`-th percentile of the positive entries of m (1 when there are none).
double positive_percentile(const Eigen::MatrixXd& m, double percentile) {
  std::vector<double> v;
  v.reserve(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    if (m.data()[i] > 0.0) v.push_back(m.data()[i]);
  }
  if (v.empty()) return 1.0;
  // Nearest rank: the smallest value with at least `percentile` % of the values at or below it.
  const double rank = std::ceil(percentile / 100.0 * static_cast<double>(v.size()));
  const std::size_t k = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(v.size()))) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::unique_ptr<ILayer> scaled_layer(const ILayer& layer, double weight_factor, double bias_factor, int l) {
  if (const auto* d = dynamic_cast<const DenseLayer*>(&layer)) {
    DenseParams p = d->params();
    p.weights *= weight_factor;
    p.bias *= bias_factor;
    return std::make_unique<DenseLayer>(std::move(p), "converted layer " + std::to_string(l));
  }
  if (const auto* c = dynamic_cast<const Conv2dLayer*>(&layer)) {
    Conv2dParams p = c->params();
    p.weights *= weight_factor;
    p.bias *= bias_factor;
    return std::make_unique<Conv2dLayer>(std::move(p), "converted layer " + std::to_string(l));
  }
  throw core::InputError("spiking conversion: layer " + std::to_string(l) + " is a '" + layer.kind() +
                         "' layer; expected dense or conv2d");
}

}  // namespace

Conversion convert_to_spiking(const Network& net, const Eigen::MatrixXd& calibration, double percentile) {
  if (!(percentile > 0.0 && percentile <= 100.0)) {
    throw core::InputError("spiking conversion: percentile " + core::format_double(percentile) + ": expected a number in (0, 100]");
  }
  if (calibration.cols() < 1) throw core::InputError("spiking conversion: no calibration inputs; expected at least one");
  const int L = net.num_layers();
  const BatchTrace trace = net.trace_batch(calibration);
  Conversion c;
  c.lambdas.assign(static_cast<std::size_t>(L + 1), 1.0);
  for (int l = 1; l < L; ++l) c.lambdas[static_cast<std::size_t>(l)] = positive_percentile(trace.y[static_cast<std::size_t>(l)], percentile);
  std::vector<std::unique_ptr<ILayer>> layers;
  std::vector<std::shared_ptr<const Pool2d>> stages;
  for (int l = 1; l <= L; ++l) {
    const double prev = c.lambdas[static_cast<std::size_t>(l - 1)], self = c.lambdas[static_cast<std::size_t>(l)];
    layers.push_back(scaled_layer(net.layer(l), prev / self, 1.0 / self, l));
  }
  for (int l = 0; l < L; ++l) {
    const Pool2d* s = net.stage(l);
    stages.push_back(s ? std::make_shared<const Pool2d>(*s) : nullptr);
  }
  c.network = Network(std::move(layers), std::move(stages), net.softmax_output(), net.input_shape());
  return c;
}

void check_spike_rates(const Eigen::MatrixXd& inputs, const std::string& where) {
  for (Eigen::Index n = 0; n < inputs.cols(); ++n) {
    for (Eigen::Index i = 0; i < inputs.rows(); ++i) {
      const double x = inputs(i, n);
      if (!(x >= 0.0 && x <= 1.0)) {
        throw core::InputError(where + ": input " + std::to_string(n) + ", value " + std::to_string(i) + " is " + core::format_double(x) +
                               "; a spiking network reads its inputs as spike rates, expected every value in [0, 1] (scale "
                               "and shift the inputs, e.g. scale: 0.00392156862745098 for 0..255 pixels)");
      }
    }
  }
}

bool bernoulli_spike(double x, std::uint64_t seed, std::uint64_t trial, std::uint32_t input, int t, Eigen::Index i) {
  if (!(x > 0.0)) return false;
  if (x >= 1.0) return true;
  // Its own key space: the fault draws use (seed, spec); the input trains (seed ^ "SPIKES").
  const std::uint64_t key = seed ^ 0x5350494b4553ull;
  return core::uniform_at(key, (trial << 32) | input, static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(i)) < x;
}

}  // namespace nfsim::models
