#pragma once
// No silent non-finite numbers (docs/faults.md, "Non-finite numbers"): every value a run measures,
// predicts or reports must be finite and of magnitude at most core::kMaxStatisticMagnitude (1e60),
// the magnitude up to which the streaming moments (fourth powers over 2^32 trials) stay finite.
// A value beyond it stops the run with an InputError (exit 2) naming the input, the tensor or
// layer, the fault spec that produced it and the value, before any report is written.

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "faults/fault_spec.h"
#include "models/bounds/bounds.h"
#include "models/network.h"
#include "sim/functional/error_stats.h"
#include "sim/functional/exact_oracle.h"

namespace nfsim::tb {

struct Report;

// Finite and |x| <= core::kMaxStatisticMagnitude.
bool within_limit(double x);
// "inf", "-inf", "nan" or the number (core::format_double).
std::string describe_value(double x);

// The fault-free outputs (outputs x inputs, one column per input of `inputs`) of `network`: the
// first input whose output leaves the limit is refused, naming the input (index and `source`),
// the output, its value and the first layer of a fault-free trace where the values leave the
// limit (0 = the input itself: an input scale that overflows).
void check_fault_free_outputs(const models::Network& network, const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& outputs,
                              const std::string& source);

// The first value outside the limit, described ("input 1 output 0: Delta max = inf"), or none.
std::optional<std::string> first_non_finite(const sim::ErrorStats& stats);
std::optional<std::string> first_non_finite(const sim::ExactResult& exact);
// The control variate's statistics of a block (empty: none) where they are not finite: its terms
// are squares and products of errors (g = 2 (L - E[L]) R + R^2), which overflow before the
// errors themselves reach the plain statistics' limit.
std::optional<std::string> first_non_finite_control_variate(const sim::ErrorStats& stats);
std::optional<std::string> first_non_finite(const models::bounds::BoundSet& bounds);
// A matrix of outputs, one column per input: "input 2 out1 = inf".
std::optional<std::string> first_non_finite_output(const Eigen::MatrixXd& outputs);

// Which fault spec makes a result non-finite: `alone(s)` recomputes it with spec s alone (every
// other spec at probability 0, so that spec s draws exactly the faults it drew in the run) and
// tells whether it is still non-finite; may throw to say it cannot tell. Returns
// "fault spec faults[s] (<describe>)" for the first such spec, else a sentence naming them all.
std::string name_culprit(const std::vector<faults::FaultSpec>& specs, const std::function<bool(std::size_t)>& alone);

// The specs with every probability but spec `s`'s set to 0.
std::vector<faults::FaultSpec> spec_alone(const std::vector<faults::FaultSpec>& specs, std::size_t s);

// Throws the InputError of a non-finite result: "<what>: <detail> (caused by <culprit>); expected ...".
[[noreturn]] void refuse_non_finite(const std::string& what, const std::string& detail, const std::string& culprit);

// Thrown by a block check inside the scheduler's threads; the runner names the culprit (on the
// calling thread) and turns it into an InputError.
struct NonFiniteBlock {
  std::uint64_t block = 0;
  std::string detail;
};

// The last guard before a report is written: every measured value, bound, predicted variance,
// histogram value, accuracy and profile number of every point is finite. (Confidence intervals
// are left alone: they are infinite, written as null, when too few trials give none, and NaN
// only where a mean or moment checked here already is; relative errors and agreements are null
// where undefined, as docs/report.md says.) Throws InputError naming the field and the value.
void check_finite(const Report& report);

}  // namespace nfsim::tb
