#pragma once

#include <Eigen/Dense>
#include <ostream>
#include <string>
#include <vector>

namespace nfsim::tb {

// Writes one row per column of `values` (one per input): "index,<name_0>,<name_1>,..." with a
// header row first. Values are printed with `precision` significant digits.
void write_columns_csv(std::ostream& out, const Eigen::MatrixXd& values, const std::vector<std::string>& names,
                       int precision = 9);

// "out0", "out1", ...
std::vector<std::string> numbered_names(const std::string& prefix, Eigen::Index count);

}  // namespace nfsim::tb
