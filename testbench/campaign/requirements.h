#pragma once

#include <yaml-cpp/yaml.h>

#include <Eigen/Dense>
#include <optional>
#include <string>
#include <vector>

#include "core/yaml_reader.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/report/report.h"

namespace nfsim::tb {

struct CampaignResult;

// What the budgets of `require:` (accuracy, error) are judged on: the measured intervals at the
// campaign's confidence (zero width from an exact engine), per input and output.
struct BudgetEvidence {
  double confidence = 0.95;
  std::vector<Eigen::VectorXd> mean_abs, mean_abs_hi, std, std_hi;  // per input, per output
  std::optional<double> fault_free_accuracy, accuracy_mean, accuracy_lo;  // with labels
};
BudgetEvidence budget_evidence(const CampaignResult& r);

// Judges the campaign's requirements on a point's report (its summary and verdicts) and, for
// the budgets, on `evidence`: one result per requirement in the order written.
std::vector<RequirementResult> check_requirements(const std::vector<Requirement>& require, const PointReport& point,
                                                  const BudgetEvidence& evidence = {});

// The budgets of `require:` that are not bounds: `accuracy: {max_drop: D}` / `{min: A}` and
// `error: {max_mean_abs: E, max_std: S, output: K or all}` (docs/report.md, "Requirements").
// True when `name` is one (or `deadline_miss`, refused as not yet available).
bool is_budget(const std::string& name);
// Reads `require.<name>` into `out`; refuses bad values (InputError naming the key).
void read_budget(const core::YamlReader& r, const std::string& name, const YAML::Node& key_node, const YAML::Node& value,
                 const CampaignConfig& c, std::vector<Requirement>& out);
// What needs the loaded model: an error budget's output index must name one of its outputs.
void check_budgets_fit(const CampaignConfig& c, Eigen::Index outputs);

}  // namespace nfsim::tb
