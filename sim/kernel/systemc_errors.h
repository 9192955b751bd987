#pragma once

#include <systemc>

#include <string>

#include "core/error.h"

namespace nfsim::sim {

// An error reported by the SystemC kernel or a module (SC_REPORT_ERROR / SC_REPORT_FATAL).
class SimulationError : public core::Error {
 public:
  using core::Error::Error;
};

// Makes SystemC errors and fatals throw instead of printing and aborting, so that they reach
// nfsim's callers as SimulationError with the report's id, message and source location.
// Idempotent; call before elaboration.
void install_systemc_error_bridge();

// "SystemC error [id]: message (at file:line)" for a report.
std::string describe_report(const sc_core::sc_report& report);

}  // namespace nfsim::sim
