#include "faults/fault_kind.h"

#include <cmath>

#include "core/error.h"
#include "core/strings.h"

namespace nfsim::faults {

const std::vector<std::string>& fault_kind_names() {
  static const std::vector<std::string> names{"neuron_crash",     "synapse_crash",   "neuron_stuck_at",
                                              "synapse_stuck_at", "weight_bit_flip", "group_crash",
                                              "threshold_deviation", "leak_deviation"};
  return names;
}

std::string to_string(FaultKind kind) { return fault_kind_names().at(static_cast<std::size_t>(kind)); }

std::string to_string(Persistence persistence) {
  return persistence == Persistence::transient ? "transient" : "permanent";
}

FaultKind parse_fault_kind(const std::string& name) {
  const auto& names = fault_kind_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<FaultKind>(i);
  }
  throw core::InputError(
      core::format_error({}, "unknown fault kind", "'" + name + "'", "one of " + core::join(names, ", ")));
}

Persistence parse_persistence(const std::string& name) {
  if (name == "transient") return Persistence::transient;
  if (name == "permanent") return Persistence::permanent;
  throw core::InputError(core::format_error({}, "unknown persistence", "'" + name + "'", "transient or permanent"));
}

double checked_probability(double p, const std::string& what) {
  if (!std::isfinite(p) || p < 0.0 || p > 1.0) {
    throw core::InputError(core::format_error({}, what + ": probability out of range", core::format_double(p),
                                              "a number in [0, 1]"));
  }
  return p;
}

}  // namespace nfsim::faults
