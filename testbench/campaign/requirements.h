#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "testbench/campaign/campaign_config.h"

namespace nfsim::tb {

// Checks the campaign's requirements against a point's report: [{requirement, value, met, note?}].
nlohmann::json check_requirements(const std::vector<Requirement>& require, const nlohmann::json& point);

}  // namespace nfsim::tb
