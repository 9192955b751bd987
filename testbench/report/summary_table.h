#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

namespace nfsim::tb {

// summary.csv: one row per (point, input, output) of the report.
void write_summary_csv(std::ostream& out, const nlohmann::json& report);
// The console table printed at the end of a run.
void print_summary(std::FILE* to, const nlohmann::json& report);

}  // namespace nfsim::tb
