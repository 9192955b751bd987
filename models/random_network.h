#pragma once

#include <cstdint>
#include <vector>

#include "models/network.h"

namespace nfsim::models {

// The paper's random networks: W_l ~ N(mu, (sigma / n_{l-1})^2), b_l ~ N(mu, (sigma / n_l)^2),
// hidden layers with `activation`, the output layer with `output_activation` (linear in the paper).
struct RandomNetworkSpec {
  std::vector<int> widths;  // n_0 (inputs), n_1, ..., n_L; at least two entries
  Activation activation{ActivationKind::relu};
  Activation output_activation{ActivationKind::identity};
  double sigma = 1.0;
  double mu = 0.0;
  std::uint64_t seed = 1;
};

// Throws InputError for fewer than two widths, a width < 1, or a non-finite / negative sigma.
// Deterministic: the same spec gives bit-identical weights on every platform (Philox + Box-Muller).
Network make_random_network(const RandomNetworkSpec& spec);

}  // namespace nfsim::models
