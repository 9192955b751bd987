#pragma once

#include <string>

#include "testbench/report/report.h"

namespace nfsim::tb {

// report.html: one self-contained page (inline SVG, no scripts, no external files) with the plots
// a reliability engineer reads: measured error against the fault probability with each bound's
// prediction (log axes, 95% interval bands), accuracy against probability, per-term contributions
// to the predicted variance, and the histogram of Delta for input 0, output 0. Built from the
// report alone, so a resumed run renders the same page.
std::string render_html_report(const Report& report);

}  // namespace nfsim::tb
