#pragma once

#include "faults/fault_plan.h"
#include "testbench/campaign/runner.h"

namespace nfsim::tb {

// The predictions of a finished point, computed only when something asks for them
// (docs/report.md, "What each bound costs"):
// - r.bounds: per input, the families of r.config.bounds (empty sets when none is asked for);
// - r.profile: the network's fault-tolerance profile, when any bound is asked for;
// - r.variance_by_term: b4's variance per fault term (summed over outputs, mean over the first 20
//   inputs), from the same b4 pass, when b4 is asked for.
// Inputs are spread over `threads` threads; each input's result goes to its own slot, so the
// numbers do not depend on the thread count. A non-finite bound is refused naming the input and
// the fault spec that causes it. Returns how many BoundCalculator::compute() calls were made (0
// when nothing is asked for).
std::size_t compute_point_bounds(CampaignResult& r, const faults::FaultPlan& plan, unsigned threads);

}  // namespace nfsim::tb
