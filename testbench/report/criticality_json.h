#pragma once

#include <nlohmann/json.hpp>

#include "testbench/report/criticality_report.h"

namespace nfsim::tb {

// The `criticality` key of a point in report.json (docs/report.md), and back (checkpoints).
nlohmann::json criticality_to_json(const CriticalityReport& c);
CriticalityReport criticality_from_json(const nlohmann::json& j);

}  // namespace nfsim::tb
