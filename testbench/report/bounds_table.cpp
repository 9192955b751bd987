#include "testbench/report/bounds_table.h"

#include <algorithm>

#include "core/error.h"
#include "core/strings.h"
#include "faults/bound_model.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/campaign/finite_check.h"
#include "testbench/campaign/prepare.h"
#include "testbench/report/point_report.h"
#include "testbench/report/report.h"
#include "testbench/scoreboard/scoreboard.h"

namespace nfsim::tb {

BoundsTable compute_bounds_table(const models::Network& net, const models::Dataset& data, const faults::FaultPlan& plan,
                                 const std::vector<std::string>& families) {
  for (const auto& f : families) {
    const auto& names = bound_family_names();
    if (std::find(names.begin(), names.end(), f) == names.end()) {
      throw core::InputError("--bounds: unknown bound '" + f + "'; expected a comma-separated subset of " + core::join(names, ","));
    }
  }
  const models::bounds::BoundCalculator calc(net, faults::to_bound_model(plan));
  BoundsTable t;
  t.outputs = net.output_size();
  for (Eigen::Index n = 0; n < data.count(); ++n) t.per_input.push_back(select_bounds(calc.compute(data.inputs.col(n), families), families));
  return t;
}

void check_bounds_table(const BoundsTable& t, const models::Network& net, const models::Dataset& data,
                        const std::vector<faults::FaultSpec>& specs, const std::vector<std::string>& families) {
  check_fault_free_outputs(net, data.inputs, net.forward_batch(data.inputs), data.source);
  for (std::size_t n = 0; n < t.per_input.size(); ++n) {
    const auto bad = first_non_finite(t.per_input[n]);
    if (!bad) continue;
    const Eigen::VectorXd x = data.inputs.col(static_cast<Eigen::Index>(n));
    refuse_non_finite("bounds of input " + std::to_string(n) + " of " + data.source, *bad, name_culprit(specs, [&](std::size_t s) {
                        const faults::FaultPlan alone(spec_alone(specs, s), net);
                        const models::bounds::BoundCalculator c(net, faults::to_bound_model(alone));
                        return first_non_finite(select_bounds(c.compute(x, families), families)).has_value();
                      }));
  }
}

void print_bounds_table(std::FILE* to, const BoundsTable& t) {
  std::fprintf(to, "%5s %4s", "input", "out");
  if (!t.per_input.empty()) {
    for (const auto& [name, v] : t.per_input.front()) {
      if (name.rfind("sum_norms", 0) == 0) continue;
      std::fprintf(to, " %13s", (name + " mean").c_str());
      if (v.std.size()) std::fprintf(to, " %13s", (name + " std").c_str());
    }
  }
  std::fprintf(to, "\n");
  for (std::size_t n = 0; n < t.per_input.size(); ++n) {
    for (Eigen::Index k = 0; k < t.outputs; ++k) {
      std::fprintf(to, "%5ld %4ld", static_cast<long>(n), static_cast<long>(k));
      for (const auto& [name, v] : t.per_input[n]) {
        if (name.rfind("sum_norms", 0) == 0) continue;
        std::fprintf(to, " %13.5e", v.mean.size() == 1 ? v.mean[0] : v.mean[k]);
        if (v.std.size()) std::fprintf(to, " %13.5e", v.std[k]);
      }
      std::fprintf(to, "\n");
    }
  }
}

nlohmann::json bounds_json(const BoundsTable& t, const std::string& model_path, const models::Network& net,
                           const models::Dataset& data, const faults::FaultPlan& plan) {
  nlohmann::json inputs = nlohmann::json::array();
  for (std::size_t n = 0; n < t.per_input.size(); ++n) {
    nlohmann::json bj = nlohmann::json::object();
    for (const auto& [name, v] : t.per_input[n]) {
      nlohmann::json e{{"mean", to_json(v.mean)}};
      if (v.std.size()) e["std"] = to_json(v.std);
      bj[name] = e;
    }
    inputs.push_back({{"index", n}, {"bounds", bj}});
  }
  return {{"model", model_path},
          {"network", net.describe()},
          {"inputs", data.source},
          {"faults", faults_to_json(plan.specs())},
          {"profile", profile_to_json(models::bounds::network_profile(net, data.inputs))},
          {"points", nlohmann::json::array({{{"faults", faults_to_json(plan.specs())}, {"inputs", inputs}}})}};
}

}  // namespace nfsim::tb
