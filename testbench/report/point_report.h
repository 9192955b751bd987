#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "faults/fault_plan.h"
#include "testbench/campaign/runner.h"
#include "testbench/report/report.h"

namespace nfsim::tb {

// The version written into reports and checkpoints and printed by --version: project(VERSION)
// of the top CMakeLists.txt, passed down by testbench/CMakeLists.txt.
inline constexpr const char* kNfsimVersion = NFSIM_VERSION_STRING;

// The report of one finished point: measurements at 95%, bounds, verdicts, summary,
// requirements (judged here), accuracy, chip, timing.
PointReport make_point_report(const CampaignResult& result);

// Which estimator gave the point's mean and std, and what the control variate saved (z: the
// normal quantile of the intervals compared; the ratio does not depend on it).
EstimatorReport estimator_report(const CampaignResult& result, double z);

// The fault specs as the report gives them (physical specs by kind and unit count).
std::vector<FaultReport> fault_reports(const std::vector<faults::FaultSpec>& faults);
nlohmann::json faults_to_json(const std::vector<faults::FaultSpec>& faults);

}  // namespace nfsim::tb
