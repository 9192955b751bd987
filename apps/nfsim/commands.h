#pragma once

#include <boost/program_options/variables_map.hpp>
#include <string>
#include <vector>

namespace nfsim::app {

// Each command takes its own arguments (without the command name) and returns the exit code.
// Errors are thrown (core::InputError & co.); main() maps them to exit codes.
int cmd_info(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_gen_network(const std::vector<std::string>& args);
int cmd_bounds(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_map(const std::vector<std::string>& args);
int cmd_tolerate(const std::vector<std::string>& args);
int cmd_harden(const std::vector<std::string>& args);
int cmd_list(const std::vector<std::string>& args);
int cmd_criticality(const std::vector<std::string>& args);  // cmd_criticality.cpp

// The campaign overrides of the repeatable --set key=value option, in the order given (none
// without it): what every command that reads a campaign passes on (commands.cpp).
std::vector<std::string> set_overrides(const boost::program_options::variables_map& vm);

}  // namespace nfsim::app
