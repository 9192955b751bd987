#pragma once
// The small networks the chip tests map (tests only).
#include "models/random_network.h"

namespace nfsim::test {

// A 20-17-12-5 tanh MLP.
inline models::Network small_mlp() {
  return models::make_random_network({{20, 17, 12, 5}, {models::ActivationKind::tanh}, {}, 2.0, 0.05, 21});
}

// A CNN with every part the chip maps: a padded conv whose taps (18) and channels (4) are split
// across 8x3 crossbars, max pooling in the arrays (3-channel arrays: a pooled layer split across
// two arrays), a grouped conv (one tile per group), global average pooling, a dense output.
inline models::Network small_cnn() {
  models::RandomNetworkSpec spec;
  spec.input_shape = models::parse_input_shape("2x7x7");
  spec.layers = models::parse_random_layers("conv:4:3:p=1,maxpool:2,conv:6:2:g=2,gap,dense:5");
  spec.activation = {models::ActivationKind::tanh};
  spec.sigma = 2.0;
  spec.mu = 0.05;
  spec.seed = 23;
  return models::make_random_network(spec);
}

}  // namespace nfsim::test
