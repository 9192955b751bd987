#pragma once

#include <cstdio>
#include <ostream>
#include <string>

#include "testbench/report/report.h"

namespace nfsim::tb {

// summary.csv: one row per (point, input, output) of the report.
void write_summary_csv(std::ostream& out, const Report& report);
// One line saying what programming the crossbars did: "programming: N weights, C clipped to
// +-L, Q quantised; weight error max .., mean ..[; output error max ..][; fault-free accuracy
// A before, B after programming]".
std::string describe_programming(const ProgrammingReport& programming);
// The console table printed at the end of a run (and, per chip point, its programming line);
// an interrupted run's line names `out_dir` in its `--resume` hint.
void print_summary(std::FILE* to, const Report& report, const std::string& out_dir = {});

}  // namespace nfsim::tb
