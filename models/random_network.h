#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "models/network.h"

namespace nfsim::models {

// One entry of a random convolutional network's layer list (gen-network --layers).
struct RandomLayerSpec {
  enum class Kind { conv, dense, maxpool, avgpool, global_avgpool };
  Kind kind = Kind::dense;
  Eigen::Index size = 1;  // output channels (conv), outputs (dense), window (pooling)
  Eigen::Index kernel = 3, stride = 0 /* conv: 1; pooling: the window */, pad = 0, dilation = 1, groups = 1;
};

// Parses "conv:16:3:s=1:p=1:d=1:g=1,maxpool:2:s=2,avgpool:2,gap,dense:10" (options after the
// sizes in any order; conv:C:K, maxpool:K, avgpool:K, gap, dense:N). Throws InputError naming the
// entry and what was expected.
std::vector<RandomLayerSpec> parse_random_layers(const std::string& text);
// Parses "1x28x28" (C x H x W) or "784".
std::vector<Eigen::Index> parse_input_shape(const std::string& text);

// The paper's random networks: W_l ~ N(mu, (sigma / n_{l-1})^2), b_l ~ N(mu, (sigma / n_l)^2),
// hidden layers with `activation`, the output layer with `output_activation` (linear in the paper).
struct RandomNetworkSpec {
  std::vector<int> widths;  // n_0 (inputs), n_1, ..., n_L; at least two entries
  Activation activation{ActivationKind::relu};
  Activation output_activation{ActivationKind::identity};
  double sigma = 1.0;
  double mu = 0.0;
  std::uint64_t seed = 1;
  // Instead of widths: an input shape ({C, H, W} or {n_0}) and a layer list with convolutions
  // and poolings (a pooling is the output stage of the layer before it). Conv weights are
  // N(mu, (sigma / fan_in)^2) with fan_in = C_in / groups * K * K, biases N(mu, (sigma / C_out)^2).
  std::vector<Eigen::Index> input_shape;
  std::vector<RandomLayerSpec> layers;
};

// Throws InputError for fewer than two widths (or a layer list that does not fit its input), a width < 1, or a non-finite / negative sigma.
// Deterministic: the same spec gives bit-identical weights on every platform (Philox + Box-Muller).
Network make_random_network(const RandomNetworkSpec& spec);

}  // namespace nfsim::models
