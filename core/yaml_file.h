#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace nfsim::core {

// Parses YAML text read from `file` (named in messages) into one document. Throws InputError
// with the file and line for a syntax error, for a second document ("---" after the first: it
// would be ignored), and for a key given twice in one mapping (yaml-cpp would keep the first
// silently: "trials: 10" then "trials: 20" would run 10).
YAML::Node parse_yaml(const std::string& text, const std::string& file);

}  // namespace nfsim::core
