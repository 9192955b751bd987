#include "testbench/campaign/requirements.h"

#include <cmath>

namespace nfsim::tb {

std::vector<RequirementResult> check_requirements(const std::vector<Requirement>& require, const PointReport& point) {
  std::vector<RequirementResult> out;
  for (const Requirement& q : require) {
    RequirementResult e;
    e.requirement = q.describe();
    const auto it = point.summary.find(q.bound);
    if (q.bound == "programming") {
      const ProgrammingReport* p = point.chip && point.chip->programming ? &*point.chip->programming : nullptr;
      if (!p) {
        e.note = "no chip programmed";
      } else if (q.condition == "max_abs_output_error") {
        e.value = p->max_abs_output_error;
        e.met = p->max_abs_output_error && *p->max_abs_output_error <= q.threshold;
      } else if (q.condition == "max_abs_weight_error") {
        e.value = p->max_abs_weight_error;
        e.met = p->max_abs_weight_error <= q.threshold;
      }
    } else if (it == point.summary.end()) {
      e.note = "bound not computed (is it in bounds:, and defined for these faults?)";
    } else {
      const BoundSummary& s = it->second;
      // NaN (undefined agreement) fails every comparison.
      if (q.condition == "holds") {
        e.value = s.fraction_holding;
        e.met = s.fraction_holding && *s.fraction_holding >= 1.0;
        if (!s.fraction_holding) e.note = "not a magnitude bound";
      } else if (q.condition == "max_median_rel_err") {
        e.value = s.mean.median_rel_err;
        e.met = s.mean.median_rel_err <= q.threshold;
      } else if (q.condition == "min_pearson") {
        e.value = s.mean.pearson;
        e.met = s.mean.pearson >= q.threshold;
      } else if (q.condition == "max_rank_loss") {
        e.value = s.mean.rank_loss;
        e.met = s.mean.rank_loss <= q.threshold;
      } else if (q.condition == "min_inside_ci") {
        // Fraction of (input, output) whose predicted mean lies inside the measured interval.
        std::size_t inside = 0, total = 0;
        for (const auto& in : point.inputs) {
          const auto v = in.verdicts.find(q.bound);
          if (v == in.verdicts.end()) continue;
          for (bool b : v->second.mean_inside_ci) {
            ++total;
            inside += b;
          }
        }
        e.value = total ? static_cast<double>(inside) / static_cast<double>(total) : 0.0;
        e.met = total && *e.value >= q.threshold;
      }
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace nfsim::tb
