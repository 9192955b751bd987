#include "testbench/report/csv_table.h"

#include <cstdio>

#include "core/error.h"

namespace nfsim::tb {

void write_columns_csv(std::ostream& out, const Eigen::MatrixXd& values, const std::vector<std::string>& names,
                       int precision) {
  if (static_cast<Eigen::Index>(names.size()) != values.rows()) {
    throw core::InternalError("CSV table: " + std::to_string(names.size()) + " names for " +
                              std::to_string(values.rows()) + " values per row");
  }
  out << "index";
  for (const auto& n : names) out << ',' << n;
  out << '\n';
  char buf[40];
  for (Eigen::Index c = 0; c < values.cols(); ++c) {
    out << c;
    for (Eigen::Index r = 0; r < values.rows(); ++r) {
      std::snprintf(buf, sizeof buf, "%.*g", precision, values(r, c));
      out << ',' << buf;
    }
    out << '\n';
  }
}

std::vector<std::string> numbered_names(const std::string& prefix, Eigen::Index count) {
  std::vector<std::string> names;
  for (Eigen::Index i = 0; i < count; ++i) names.push_back(prefix + std::to_string(i));
  return names;
}

}  // namespace nfsim::tb
