#include "testbench/campaign/requirements.h"

#include <limits>

namespace nfsim::tb {

nlohmann::json check_requirements(const std::vector<Requirement>& require, const nlohmann::json& point) {
  nlohmann::json out = nlohmann::json::array();
  const nlohmann::json& summary = point["summary"];
  for (const Requirement& q : require) {
    nlohmann::json v = nullptr;
    bool met = false;
    std::string note;
    if (!summary.contains(q.bound)) {
      note = "bound not computed (is it in bounds:, and defined for these faults?)";
    } else {
      const nlohmann::json& s = summary[q.bound];
      auto num = [](const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); };
      if (q.condition == "holds") {
        v = s.contains("fraction_holding") ? s["fraction_holding"] : nlohmann::json(nullptr);
        met = v.is_number() && v.get<double>() >= 1.0;
        if (!s.contains("fraction_holding")) note = "not a magnitude bound";
      } else if (q.condition == "max_median_rel_err") {
        v = s["mean"]["median_rel_err"];
        met = num(v) <= q.threshold;
      } else if (q.condition == "min_pearson") {
        v = s["mean"]["pearson"];
        met = num(v) >= q.threshold;
      } else if (q.condition == "max_rank_loss") {
        v = s["mean"]["rank_loss"];
        met = num(v) <= q.threshold;
      } else if (q.condition == "min_inside_ci") {
        // Fraction of (input, output) whose predicted mean lies inside the measured interval.
        std::size_t inside = 0, total = 0;
        for (const auto& in : point["inputs"]) {
          if (!in["verdicts"].contains(q.bound)) continue;
          for (const auto& b : in["verdicts"][q.bound]["mean_inside_ci"]) {
            ++total;
            inside += b.get<bool>();
          }
        }
        v = total ? static_cast<double>(inside) / static_cast<double>(total) : 0.0;
        met = total && v.get<double>() >= q.threshold;
      }
    }
    nlohmann::json e{{"requirement", q.describe()}, {"value", v}, {"met", met}};
    if (!note.empty()) e["note"] = note;
    out.push_back(e);
  }
  return out;
}

}  // namespace nfsim::tb
