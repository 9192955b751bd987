#include "sim/functional/exact_oracle.h"

#include <cmath>
#include <memory>

#include "core/error.h"
#include "faults/fault_sampler.h"

namespace nfsim::sim {
namespace {

// The faulty outputs of every input under the faults `f`: a plain full forward pass with the
// weight overrides written into a copy of each layer (a replica's crash at some positions added
// to z there), neuron overrides written over outputs, and
// each layer's output stage (pooling) applied after its neuron overrides.
Eigen::MatrixXd faulty_forward(const models::Network& net, const Eigen::MatrixXd& inputs, const faults::FaultInstance& f) {
  Eigen::MatrixXd y = inputs;
  for (const auto& o : f.neurons[0]) y.row(o.index).setConstant(o.value);
  Eigen::MatrixXd z;
  for (int m = 1; m <= net.num_layers(); ++m) {
    if (net.stage(m - 1)) y = net.staged_batch(m - 1, y);
    const models::ILayer* layer = &net.layer(m);
    std::unique_ptr<models::ILayer> faulty;
    bool ranged = false;
    if (!f.weights[m].empty()) {
      faulty = layer->clone();
      for (const auto& o : f.weights[m]) {
        if (o.pos_count == 0) faulty->set_synapse(o.synapse, o.value);
        ranged = ranged || o.pos_count > 0;
      }
      layer = faulty.get();
    }
    layer->linear_batch(y, z);
    // A replica's crash changes the synapse at its positions only: added to each input's z.
    for (Eigen::Index c = 0; ranged && c < y.cols(); ++c) {
      for (const auto& o : f.weights[m]) {
        if (o.pos_count > 0) layer->add_synapse_delta(o.synapse, o.value - o.base, y.col(c).data(), z.col(c).data(), o.pos_begin, o.pos_count);
      }
    }
    y = layer->activation().apply(z);
    for (const auto& o : f.neurons[m]) y.row(o.index).setConstant(o.value);
  }
  return y;
}

struct Site {
  std::size_t spec;
  std::uint64_t unit;
  double p;
};

// Every (spec, unit) that can fail, in plan order (later specs override earlier ones).
std::vector<Site> sites_of(const faults::FaultPlan& plan) {
  std::vector<Site> sites;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    if (plan.specs()[s].probability == 0.0) continue;
    for (std::uint64_t u = 0; u < plan.unit_count(s); ++u) sites.push_back({s, u, plan.unit_probability(s, u)});
  }
  return sites;
}

// Applies the failed sites to `f` spec by spec, after the repair by spares (the plan's rule,
// which FaultSampler::draw_units applies to every Monte-Carlo draw).
void apply_failed(const faults::FaultPlan& plan, const faults::FaultSampler& sampler, const std::vector<Site>& sites,
                  const std::vector<char>& fails, faults::FaultInstance& f) {
  std::vector<std::uint64_t> units, joint;
  for (std::size_t k = 0; k < sites.size();) {
    const std::size_t s = sites[k].spec;
    units.clear();
    for (; k < sites.size() && sites[k].spec == s; ++k) {
      if (fails[k]) units.push_back(sites[k].unit);
    }
    plan.repair(s, units);
    sampler.apply_units(s, units, f, joint);
  }
  sampler.apply_joint(joint, f);
}

}  // namespace

std::uint64_t uncertain_units(const faults::FaultPlan& plan) {
  std::uint64_t n = 0;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    const double p = plan.specs()[s].probability;
    if (p > 0.0 && p < 1.0) n += plan.unit_count(s);
  }
  return n;
}

ExactMoments exact_moments(const models::Network& net, const Eigen::MatrixXd& inputs, const faults::FaultPlan& plan,
                           int max_sites) {
  std::vector<Site> sites;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    for (std::uint64_t u = 0; u < plan.unit_count(s); ++u) sites.push_back({s, u, plan.unit_probability(s, u)});
  }
  if (static_cast<int>(sites.size()) > max_sites) {
    throw core::InputError("exact oracle: " + std::to_string(sites.size()) + " fault sites; at most " +
                           std::to_string(max_sites) + " can be enumerated");
  }
  const faults::FaultSampler sampler(plan, net, 0);
  const Eigen::MatrixXd clean = net.forward_batch(inputs);
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(clean.rows(), clean.cols());
  Eigen::MatrixXd second = mean;
  faults::FaultInstance f;
  const std::uint64_t subsets = std::uint64_t{1} << sites.size();
  for (std::uint64_t mask = 0; mask < subsets; ++mask) {
    double prob = 1.0;
    f.reset(net.num_layers());
    std::vector<char> fails(sites.size());
    for (std::size_t k = 0; k < sites.size(); ++k) {
      const double p = sites[k].p;
      fails[k] = (mask >> k) & 1u;
      prob *= fails[k] ? p : 1.0 - p;
    }
    if (prob == 0.0) continue;
    apply_failed(plan, sampler, sites, fails, f);
    f.resolve_duplicates();
    const Eigen::MatrixXd delta = faulty_forward(net, inputs, f) - clean;
    mean += prob * delta;
    second += prob * delta.cwiseProduct(delta);
  }
  return {mean, second - mean.cwiseProduct(mean)};
}

ExactResult exact_distribution(const models::Network& net, const Eigen::MatrixXd& inputs, const faults::FaultPlan& plan,
                               const Eigen::MatrixXd& reference, const std::vector<int>& labels, std::uint64_t max_units,
                               const std::atomic<bool>* stop) {
  plan.refuse_spiking_only("the exact engine");
  const std::vector<Site> sites = sites_of(plan);
  std::vector<std::size_t> uncertain;  // indices into sites
  for (std::size_t k = 0; k < sites.size(); ++k) {
    if (sites[k].p < 1.0) uncertain.push_back(k);
  }
  if (uncertain.size() > max_units || uncertain.size() >= 63) {
    throw core::InputError("exact engine: " + std::to_string(uncertain.size()) + " units with 0 < p < 1; at most " +
                           std::to_string(max_units) + " can be enumerated (2^units forward passes)");
  }
  const Eigen::Index K = reference.rows(), N = reference.cols();
  ExactResult r;
  r.units = uncertain.size();
  r.subsets = std::uint64_t{1} << uncertain.size();
  r.mean = Eigen::MatrixXd::Zero(K, N);
  Eigen::MatrixXd m2 = Eigen::MatrixXd::Zero(K, N);  // weighted sum of squared deviations (West's update)
  r.mean_abs = Eigen::MatrixXd::Zero(K, N);
  r.max_abs = Eigen::MatrixXd::Zero(K, N);
  r.norm_mean = Eigen::MatrixXd::Zero(3, N);
  double weight = 0, accuracy = 0;
  const faults::FaultSampler sampler(plan, net, 0);
  faults::FaultInstance f;
  std::vector<char> fails(sites.size());
  for (std::uint64_t mask = 0; mask < r.subsets; ++mask) {
    if (stop && (mask & 1023u) == 0 && stop->load()) throw EnumerationInterrupted{};
    double prob = 1.0;
    for (std::size_t k = 0; k < sites.size(); ++k) fails[k] = sites[k].p >= 1.0;
    for (std::size_t b = 0; b < uncertain.size(); ++b) {
      const std::size_t k = uncertain[b];
      const bool failed = (mask >> b) & 1u;
      fails[k] = failed;
      prob *= failed ? sites[k].p : 1.0 - sites[k].p;
    }
    if (prob == 0.0) continue;
    f.reset(net.num_layers());
    apply_failed(plan, sampler, sites, fails, f);
    f.resolve_duplicates();
    const Eigen::MatrixXd out = faulty_forward(net, inputs, f);
    const Eigen::MatrixXd delta = out - reference;
    weight += prob;
    const Eigen::MatrixXd before = r.mean;
    r.mean += (prob / weight) * (delta - r.mean);
    m2 += prob * (delta - before).cwiseProduct(delta - r.mean);
    const Eigen::MatrixXd abs = delta.cwiseAbs();
    r.mean_abs += prob * abs;
    r.max_abs = r.max_abs.cwiseMax(abs);
    r.norm_mean.row(0) += prob * abs.colwise().sum();
    r.norm_mean.row(1) += prob * delta.colwise().norm();
    r.norm_mean.row(2) += prob * abs.colwise().maxCoeff();
    if (!labels.empty()) {
      Eigen::Index correct = 0;
      for (Eigen::Index n = 0; n < N; ++n) {
        Eigen::Index best = 0;
        out.col(n).maxCoeff(&best);
        correct += best == labels[static_cast<std::size_t>(n)];
      }
      accuracy += prob * static_cast<double>(correct) / static_cast<double>(N);
    }
  }
  // The probabilities sum to 1 up to rounding; normalise by their sum.
  r.variance = (m2 / weight).cwiseMax(0.0);
  r.mean_abs /= weight;
  r.norm_mean /= weight;
  if (!labels.empty()) r.accuracy_mean = accuracy / weight;
  return r;
}

}  // namespace nfsim::sim
