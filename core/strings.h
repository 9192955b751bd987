#pragma once

#include <string>
#include <vector>

namespace nfsim::core {

std::vector<std::string> split(const std::string& text, char sep);
std::string trim(const std::string& text);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
bool ends_with(const std::string& text, const std::string& suffix);

// Strict number parsing: the whole string must be a finite number, else InputError naming
// `what` (e.g. "--scale") and the text.
double parse_double(const std::string& text, const std::string& what);
long long parse_int(const std::string& text, const std::string& what, long long min, long long max);

// The closest of `candidates` to `word` (edit distance <= 2), or "" when none is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// Shortest text that reads back as the same double.
std::string format_double(double value);

}  // namespace nfsim::core
