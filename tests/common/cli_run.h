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

// Runs `nfsim ARGS` through the shell with stdout and stderr captured to files in `dir`; a run
// longer than `timeout_s` is killed (exit code 124), so a hang fails the test instead of CI.
inline CliRun nfsim(const std::string& args, const TempDir& dir, int timeout_s = 600) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string cmd = "timeout -k 5 " + std::to_string(timeout_s) + " " + std::string(NFSIM_EXE) + " " + args + " >" + out +
                          " 2>" + err;
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

}  // namespace nfsim::test
