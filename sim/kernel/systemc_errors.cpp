#include "sim/kernel/systemc_errors.h"

#include <string>

namespace nfsim::sim {
std::string describe_report(const sc_core::sc_report& r) {
  std::string s = std::string("SystemC ") + (r.get_severity() == sc_core::SC_FATAL ? "fatal" : "error") + " [" +
                  r.get_msg_type() + "]: " + r.get_msg();
  if (r.get_file_name() && *r.get_file_name()) s += " (at " + std::string(r.get_file_name()) + ":" + std::to_string(r.get_line_number()) + ")";
  return s;
}

void install_systemc_error_bridge() {
  // Errors and fatals become exceptions (no abort, no duplicate console output): the caller
  // decides what to print.
  sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_THROW);
  sc_core::sc_report_handler::set_actions(sc_core::SC_FATAL, sc_core::SC_THROW);
}

}  // namespace nfsim::sim
