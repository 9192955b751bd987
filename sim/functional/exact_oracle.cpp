#include "sim/functional/exact_oracle.h"

#include "core/error.h"
#include "faults/fault_sampler.h"

namespace nfsim::sim {

ExactMoments exact_moments(const models::Network& net, const Eigen::MatrixXd& inputs, const faults::FaultPlan& plan,
                           int max_sites) {
  std::vector<std::pair<std::size_t, std::uint64_t>> sites;  // (spec, unit)
  for (std::size_t s = 0; s < plan.size(); ++s) {
    for (std::uint64_t u = 0; u < plan.unit_count(s); ++u) sites.emplace_back(s, u);
  }
  if (static_cast<int>(sites.size()) > max_sites) {
    throw core::InputError("exact oracle: " + std::to_string(sites.size()) + " fault sites; at most " +
                           std::to_string(max_sites) + " can be enumerated");
  }
  const faults::FaultSampler sampler(plan, net, 0);
  const int L = net.num_layers();
  const Eigen::MatrixXd clean = net.forward_batch(inputs);
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(clean.rows(), clean.cols());
  Eigen::MatrixXd second = mean;
  faults::FaultInstance f;
  const std::uint64_t subsets = std::uint64_t{1} << sites.size();
  for (std::uint64_t mask = 0; mask < subsets; ++mask) {
    double prob = 1.0;
    f.reset(L);
    for (std::size_t k = 0; k < sites.size(); ++k) {
      const double p = plan.specs()[sites[k].first].probability;
      if (mask & (std::uint64_t{1} << k)) {
        prob *= p;
        sampler.apply_unit(sites[k].first, sites[k].second, f);
      } else {
        prob *= 1.0 - p;
      }
    }
    if (prob == 0.0) continue;
    f.resolve_duplicates();
    // Plain faulty forward: weights with overrides written in, outputs overwritten.
    Eigen::MatrixXd y = inputs;
    for (const auto& o : f.neurons[0]) y.row(o.index).setConstant(o.value);
    Eigen::MatrixXd z;
    for (int m = 1; m <= L; ++m) {
      const models::ILayer* layer = &net.layer(m);
      std::unique_ptr<models::ILayer> faulty;
      if (!f.weights[m].empty()) {
        faulty = layer->clone();
        for (const auto& o : f.weights[m]) faulty->set_synapse(o.synapse, o.value);
        layer = faulty.get();
      }
      layer->linear_batch(y, z);
      y = layer->activation().apply(z);
      for (const auto& o : f.neurons[m]) y.row(o.index).setConstant(o.value);
    }
    const Eigen::MatrixXd delta = y - clean;
    mean += prob * delta;
    second += prob * delta.cwiseProduct(delta);
  }
  return {mean, second - mean.cwiseProduct(mean)};
}

}  // namespace nfsim::sim
