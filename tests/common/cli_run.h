#pragma once
// Runs the nfsim executable for end-to-end tests (tests/cli/*; NFSIM_EXE is set there).
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "tests/common/temp_dir.h"

namespace nfsim::test {

struct CliRun {
  int code = -1;
  std::string out, err;
};

// Runs the shell command CMD with stdout and stderr captured to DIR/STEM.out and DIR/STEM.err;
// a killed command's code is 128 + the signal.
inline CliRun run_captured(const std::string& cmd, const TempDir& dir, const std::string& stem) {
  const std::string out = dir.file(stem + ".out"), err = dir.file(stem + ".err");
  const std::string full = cmd + " >" + out + " 2>" + err;
  const int status = std::system(full.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// Runs `nfsim ARGS` through the shell with stdout and stderr captured to files in `dir`; a run
// longer than `timeout_s` is killed (exit code 124), so a hang fails the test instead of CI.
inline CliRun nfsim(const std::string& args, const TempDir& dir, int timeout_s = 600) {
  return run_captured("timeout -k 5 " + std::to_string(timeout_s) + " " + std::string(NFSIM_EXE) + " " + args, dir, "nfsim");
}

}  // namespace nfsim::test
