#pragma once

#include <string>

namespace nfsim::tb {

// The output directory of a run, made only once every option is valid. The run writes its
// report files (report.json, summary.csv, report.html, faults.jsonl, trial outputs) into a
// staging directory inside it, DIR/.nfsim-staging-<pid>, and commit() renames them into DIR at
// the end (also when a requirement is not met or the run was interrupted: exit 3 and 4 have a
// report). A run that fails before commit() (an exception leaving the guard's scope: bad input
// found at a later sweep point, a report that cannot be written, a full disk) removes the
// staging directory, the VCD trace if it made it, and DIR if it created it and left it empty, so
// a reused directory stays exactly as it was. Checkpoint files (checkpoint.json,
// checkpoint.stats) are not staged: they are written straight into DIR, where `--resume DIR`
// looks, and a failed or interrupted run leaves them there.
class OutputDirGuard {
 public:
  // Creates `dir` (if needed) and the staging directory; throws InputError when either cannot be
  // made or `dir` is not a directory.
  OutputDirGuard(const std::string& dir, const std::string& vcd_path);
  ~OutputDirGuard();
  OutputDirGuard(const OutputDirGuard&) = delete;
  OutputDirGuard& operator=(const OutputDirGuard&) = delete;

  // Where the run writes its report files.
  const std::string& staging_dir() const { return staging_; }
  // Where to write `path` so that commit() moves it into place: its name in the staging
  // directory when `path` is a file directly in the output directory (the VCD trace of --vcd
  // DIR/trace.vcd), else `path` itself (written in place, removed if the run fails).
  std::string staged_path(const std::string& path) const;
  // Renames every staged file into the output directory (replacing a file of the same name, each
  // rename atomic) and removes the staging directory. Throws InputError when a rename fails.
  void commit();

 private:
  std::string dir_, staging_, vcd_;
  bool created_dir_ = false, vcd_existed_ = true, committed_ = false;
  int uncaught_;
};

}  // namespace nfsim::tb
