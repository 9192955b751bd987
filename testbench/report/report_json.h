#pragma once

#include <Eigen/Dense>
#include <nlohmann/json.hpp>
#include <vector>

#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "testbench/campaign/runner.h"

namespace nfsim::tb {

// The version written into reports and checkpoints.
inline constexpr const char* kNfsimVersion = "0.1.0";

// JSON pieces of the report (docs/report.md).
nlohmann::json make_point_json(const CampaignResult& result);
nlohmann::json faults_to_json(const std::vector<faults::FaultSpec>& faults);
nlohmann::json profile_to_json(const models::bounds::NetworkProfile& profile);
// {"lo": center - hw, "hi": center + hw}.
nlohmann::json interval(const Eigen::VectorXd& center, const Eigen::VectorXd& hw);

}  // namespace nfsim::tb
