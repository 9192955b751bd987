#include "testbench/campaign/output_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace nfsim::tb {

OutputDirGuard::OutputDirGuard(const std::string& dir, const std::string& vcd_path)
    : dir_(dir), staging_(dir + "/.nfsim-staging-" + std::to_string(::getpid())), vcd_(vcd_path), uncaught_(std::uncaught_exceptions()) {
  vcd_existed_ = vcd_.empty() || std::filesystem::exists(vcd_);
  std::error_code ec;
  created_dir_ = std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) {
    throw core::InputError(dir_ + ": cannot create the output directory (" + ec.message() + "); expected a writable path");
  }
  // A staging directory of this pid left by a killed run is stale: start afresh.
  std::filesystem::remove_all(staging_, ec);
  if (!std::filesystem::create_directory(staging_, ec) || ec) {
    const std::string why = ec.message();
    if (created_dir_) std::filesystem::remove(dir_, ec);
    throw core::InputError(dir_ + ": cannot create the staging directory " + staging_ + " (" + why + "); expected a writable directory");
  }
}

std::string OutputDirGuard::staged_path(const std::string& path) const {
  std::error_code ec;
  const std::filesystem::path p(path);
  if (p.filename().empty() || std::filesystem::is_directory(p, ec)) return path;
  const auto parent = std::filesystem::weakly_canonical(std::filesystem::absolute(p).parent_path(), ec);
  if (ec) return path;
  const auto dir = std::filesystem::weakly_canonical(std::filesystem::absolute(dir_), ec);
  if (ec || parent != dir) return path;
  return staging_ + "/" + p.filename().string();
}

void OutputDirGuard::commit() {
  std::vector<std::filesystem::path> staged;
  for (const auto& e : std::filesystem::directory_iterator(staging_)) staged.push_back(e.path());
  std::sort(staged.begin(), staged.end());
  for (const auto& from : staged) {
    const std::string to = dir_ + "/" + from.filename().string();
    if (std::rename(from.c_str(), to.c_str()) != 0) {
      throw core::InputError(to + ": cannot move the report file into place (" + std::string(std::strerror(errno)) +
                             "); expected a writable output directory");
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(staging_, ec);
  committed_ = true;
}

OutputDirGuard::~OutputDirGuard() {
  std::error_code ec;
  if (!committed_) std::filesystem::remove_all(staging_, ec);
  if (std::uncaught_exceptions() > uncaught_ && !vcd_.empty() && !vcd_existed_) std::filesystem::remove(vcd_, ec);
  if (created_dir_ && std::filesystem::is_empty(dir_, ec) && !ec) std::filesystem::remove(dir_, ec);
}

}  // namespace nfsim::tb
