#pragma once
// Reading VCD files in tests.
#include <sstream>
#include <string>

namespace nfsim::test {

// The identifier code of the VCD variable named `name` ("$var wire 1 <id> <name> $end"), or "".
inline std::string vcd_id(const std::string& vcd, const std::string& name) {
  std::istringstream in(vcd);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string var, type, width, id, ref;
    if (words >> var >> type >> width >> id >> ref && var == "$var" && ref == name) return id;
  }
  return {};
}

}  // namespace nfsim::test
