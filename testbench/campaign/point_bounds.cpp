#include "testbench/campaign/point_bounds.h"

#include <algorithm>
#include <exception>
#include <thread>

#include "faults/bound_model.h"
#include "testbench/campaign/finite_check.h"
#include "testbench/campaign/prepare.h"

namespace nfsim::tb {

std::size_t compute_point_bounds(CampaignResult& r, const faults::FaultPlan& plan, unsigned threads) {
  const Eigen::Index count = r.data.count();
  const std::vector<std::string>& families = r.config.bounds;
  r.bounds.assign(static_cast<std::size_t>(count), models::bounds::BoundSet{});
  r.profile.reset();
  r.variance_by_term.clear();
  if (families.empty()) return 0;
  const bool want_b4 = std::find(families.begin(), families.end(), "b4") != families.end();
  const models::bounds::BoundCalculator calc(r.network, faults::to_bound_model(plan));
  // Per-term variances of the first inputs only (variance_by_term's sample).
  const Eigen::Index sample = std::min<Eigen::Index>(count, 20);
  std::vector<std::vector<Eigen::VectorXd>> term_variance(static_cast<std::size_t>(sample));
  const unsigned workers = static_cast<unsigned>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(std::max(1u, threads), count)));
  std::vector<std::exception_ptr> errors(workers);
  auto work = [&](unsigned w) {
    try {
      for (Eigen::Index n = w; n < count; n += workers) {
        std::vector<Eigen::VectorXd>* terms = want_b4 && n < sample ? &term_variance[static_cast<std::size_t>(n)] : nullptr;
        r.bounds[static_cast<std::size_t>(n)] = select_bounds(calc.compute(r.data.inputs.col(n), families, terms), families);
      }
    } catch (...) {
      errors[w] = std::current_exception();
    }
  };
  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w) pool.emplace_back(work, w);
    for (auto& t : pool) t.join();
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::size_t calls = static_cast<std::size_t>(count);
  for (Eigen::Index n = 0; n < count; ++n) {
    if (const auto bad = first_non_finite(r.bounds[static_cast<std::size_t>(n)])) {
      const std::string culprit = name_culprit(r.faults, [&](std::size_t s) {
        const faults::FaultPlan alone(spec_alone(r.faults, s), r.network);
        const models::bounds::BoundCalculator c(r.network, faults::to_bound_model(alone));
        return first_non_finite(select_bounds(c.compute(r.data.inputs.col(n), families), families)).has_value();
      });
      refuse_non_finite("bounds of input " + std::to_string(n) + " of " + r.data.source, *bad, culprit);
    }
  }
  r.profile = models::bounds::network_profile(r.network, r.data.inputs);
  if (!want_b4) return calls;
  // Per-term contributions to the predicted variance (b4): one entry per neuron and synapse term,
  // the groups together.
  const models::bounds::FaultModel& model = calc.model();
  auto mean_of = [&](std::size_t first, std::size_t end) {
    double v = 0;
    for (const auto& terms : term_variance) {
      for (std::size_t k = first; k < end; ++k) v += terms[k].sum();
    }
    return v / static_cast<double>(std::max<Eigen::Index>(1, sample));
  };
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> labels;
  std::size_t k = 0;
  for (const auto& t : model.neurons) labels.push_back({models::bounds::BoundCalculator::term_label(t), {k, k + 1}}), ++k;
  for (const auto& t : model.synapses) labels.push_back({models::bounds::BoundCalculator::term_label(t), {k, k + 1}}), ++k;
  if (!model.groups.empty()) labels.push_back({"groups (" + std::to_string(model.groups.size()) + ")", {k, k + model.groups.size()}});
  for (const auto& [label, range] : labels) {
    r.variance_by_term.emplace_back(label, mean_of(range.first, range.second));
    if (!std::isfinite(r.variance_by_term.back().second)) {
      refuse_non_finite("predicted variance (b4) of the term " + label, describe_value(r.variance_by_term.back().second),
                        "that term's fault spec");
    }
  }
  return calls;
}

}  // namespace nfsim::tb
