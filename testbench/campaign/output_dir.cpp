#include "testbench/campaign/output_dir.h"

#include <exception>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace nfsim::tb {

OutputDirGuard::OutputDirGuard(const std::string& dir, const std::string& vcd_path)
    : dir_(dir), vcd_(vcd_path), uncaught_(std::uncaught_exceptions()) {
  vcd_existed_ = vcd_.empty() || std::filesystem::exists(vcd_);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) before_.insert(e.path().filename().string());
  created_dir_ = std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) {
    throw core::InputError(dir_ + ": cannot create the output directory (" + ec.message() + "); expected a writable path");
  }
}

OutputDirGuard::~OutputDirGuard() {
  std::error_code ec;
  if (std::uncaught_exceptions() > uncaught_) {
    std::vector<std::filesystem::path> added;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      if (!before_.count(e.path().filename().string())) added.push_back(e.path());
    }
    for (const auto& a : added) std::filesystem::remove_all(a, ec);
    if (!vcd_.empty() && !vcd_existed_) std::filesystem::remove(vcd_, ec);
  }
  if (created_dir_ && std::filesystem::is_empty(dir_, ec) && !ec) std::filesystem::remove(dir_, ec);
}

}  // namespace nfsim::tb
