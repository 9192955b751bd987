#pragma once

#include <set>
#include <string>

namespace nfsim::tb {

// The output directory of a run, made only once every option is valid. A run that fails (bad
// input found at a later sweep point, an output that cannot be written) takes back what it wrote:
// the files it added to the directory, the VCD trace if it made it, and the directory if it
// created it. An interrupted run (exit 4) or unmet requirements (exit 3) keep everything: only
// an exception leaving the guard's scope counts as a failure.
class OutputDirGuard {
 public:
  // Creates `dir` if needed; throws InputError when it cannot be made or is not a directory.
  OutputDirGuard(const std::string& dir, const std::string& vcd_path);
  ~OutputDirGuard();
  OutputDirGuard(const OutputDirGuard&) = delete;
  OutputDirGuard& operator=(const OutputDirGuard&) = delete;

 private:
  std::string dir_, vcd_;
  bool created_dir_ = false, vcd_existed_ = true;
  std::set<std::string> before_;
  int uncaught_;
};

}  // namespace nfsim::tb
