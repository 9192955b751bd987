#pragma once

#include <vector>

#include "testbench/campaign/campaign_config.h"
#include "testbench/report/report.h"

namespace nfsim::tb {

// Judges the campaign's requirements on a point's report (its summary and verdicts), one result
// per requirement in the order written.
std::vector<RequirementResult> check_requirements(const std::vector<Requirement>& require, const PointReport& point);

}  // namespace nfsim::tb
