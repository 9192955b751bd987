#pragma once

#include <string>
#include <vector>

#include "testbench/report/report.h"

namespace nfsim::tb {

// report.html: one self-contained page (inline SVG, no scripts, no external files) with the plots
// a reliability engineer reads: measured error against the fault probability (or, for a sweep
// over a FIT campaign's mission_hours, the mission time) with each bound's prediction (log axes,
// 95% interval bands), accuracy against it, per-term contributions to the predicted variance,
// the histogram of Delta for input 0, output 0; then the requirements (measured value,
// threshold, met), the criticality ranking with a heat map of the chip's cores, and the chip.
// Built from the report alone, so a resumed run renders the same page.
std::string render_html_report(const Report& report);

// A number as report.html shows it: 4 significant digits, more where 4 would show a value that
// is not an integer as one (0.99996 is "0.99996", never "1"; only floating-point noise, within
// 1e-12 relative of the integer, is shown as it); "n/a" for NaN, an infinity sign for infinities.
std::string html_number(double v);
// html_number(v) with as many more digits as it takes not to read as `from` (a requirement's
// value beside its threshold: 0.010004 is "0.010004" beside 0.01, not "0.01").
std::string html_number_apart(double v, double from);

// Round axis ticks for the range [lo, hi]: on a log axis the powers of ten inside it (with 2 and
// 5 times them when fewer than three fit, every digit when fewer than two; then round linear steps), on a linear
// axis 1-2-5 steps with lo and hi widened to the first and last tick.
std::vector<double> nice_ticks(double& lo, double& hi, bool log_scale);

}  // namespace nfsim::tb
