#pragma once

#include <cstdio>
#include <ostream>

#include "testbench/report/report.h"

namespace nfsim::tb {

// summary.csv: one row per (point, input, output) of the report.
void write_summary_csv(std::ostream& out, const Report& report);
// The console table printed at the end of a run.
void print_summary(std::FILE* to, const Report& report);

}  // namespace nfsim::tb
