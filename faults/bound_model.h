#pragma once

#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"

namespace nfsim::faults {

// The bounds' view of a fault plan: one term per (spec, layer), one per group. Persistence does
// not enter: each inference sees the same marginal fault distribution either way.
models::bounds::FaultModel to_bound_model(const FaultPlan& plan);

}  // namespace nfsim::faults
