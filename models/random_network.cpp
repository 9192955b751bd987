#include "models/random_network.h"

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "models/layer/dense_layer.h"

namespace nfsim::models {

Network make_random_network(const RandomNetworkSpec& spec) {
  if (spec.widths.size() < 2) {
    throw core::InputError("random network: widths has " + std::to_string(spec.widths.size()) +
                           " entries; expected at least 2 (inputs and outputs)");
  }
  for (std::size_t i = 0; i < spec.widths.size(); ++i) {
    if (spec.widths[i] < 1 || spec.widths[i] > 1'000'000) {
      throw core::InputError("random network: widths[" + std::to_string(i) + "] = " + std::to_string(spec.widths[i]) +
                             "; expected an integer in [1, 1000000]");
    }
  }
  double parameters = 0;
  for (std::size_t l = 1; l < spec.widths.size(); ++l) {
    parameters += (static_cast<double>(spec.widths[l - 1]) + 1.0) * static_cast<double>(spec.widths[l]);
  }
  constexpr double kMaxParameters = 1u << 28;
  if (parameters > kMaxParameters) {
    throw core::InputError("random network: widths give " + std::to_string(static_cast<long long>(parameters)) +
                           " parameters; expected at most 268435456 (2 GiB of weights)");
  }
  if (!std::isfinite(spec.sigma) || spec.sigma < 0) {
    throw core::InputError("random network: sigma = " + std::to_string(spec.sigma) + "; expected a finite value >= 0");
  }
  if (!std::isfinite(spec.mu)) throw core::InputError("random network: mu must be finite");

  std::vector<DenseParams> layers;
  const int num_layers = static_cast<int>(spec.widths.size()) - 1;
  for (int l = 1; l <= num_layers; ++l) {
    const int n_in = spec.widths[l - 1], n_out = spec.widths[l];
    // One stream per layer and tensor, so adding a layer does not change the earlier ones.
    core::RandomStream w_rng(spec.seed, 2 * static_cast<std::uint64_t>(l));
    core::RandomStream b_rng(spec.seed, 2 * static_cast<std::uint64_t>(l) + 1);
    DenseParams layer;
    layer.weights.resize(n_out, n_in);
    for (int j = 0; j < n_out; ++j) {
      for (int i = 0; i < n_in; ++i) layer.weights(j, i) = spec.mu + (spec.sigma / n_in) * w_rng.normal();
    }
    layer.bias.resize(n_out);
    for (int j = 0; j < n_out; ++j) layer.bias[j] = spec.mu + (spec.sigma / n_out) * b_rng.normal();
    layer.activation = l == num_layers ? spec.output_activation : spec.activation;
    layers.push_back(std::move(layer));
  }
  return dense_network(std::move(layers));
}

}  // namespace nfsim::models
