#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/error.h"

namespace nfsim::core {
namespace {

[[noreturn]] void write_failed(const std::string& path, int err) {
  throw InputError(path + ": write failed (" + std::strerror(err) +
                   "); expected a writable disk with free space (the file's previous version, if any, is left as it was)");
}

// Test hook: with NFSIM_TEST_FAIL_WRITE=N in the environment, the N-th write_file_atomically of
// the process (counting from 1) fails as a full disk does (ENOSPC from write()), so the tests can
// show what a full disk leaves behind without filling one.
bool inject_full_disk() {
  static const long fail_at = [] {
    const char* v = std::getenv("NFSIM_TEST_FAIL_WRITE");
    return v ? std::strtol(v, nullptr, 10) : 0L;
  }();
  static long calls = 0;
  return fail_at > 0 && ++calls == fail_at;
}

void write_all(int fd, const std::string& data, const std::string& path, bool full_disk) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = full_disk ? (errno = ENOSPC, -1) : ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      write_failed(path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (full_disk) write_failed(path, ENOSPC);  // empty data: the sync reports it
  if (::fsync(fd) != 0 && errno != EINVAL) write_failed(path, errno);
}

}  // namespace

void check_output_file(const std::string& path) {
  if (path.empty()) throw InputError("empty output file name; expected a file path");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_input_error(ErrorContext{path, 0, {}}, "is a directory; expected a file path");
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec)) {
    throw_input_error(ErrorContext{path, 0, {}}, "cannot open output file for writing", "no directory " + dir,
                      "an existing, writable directory");
  }
  // access() says yes to root everywhere (even /proc): create and remove a probe file instead.
  const std::string probe = path + ".probe." + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw_input_error(ErrorContext{path, 0, {}}, "cannot open output file for writing", std::strerror(errno),
                      "an existing, writable directory");
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

// The content is produced in memory first; then, where the filesystem supports it, written to an
// unnamed file (O_TMPFILE) that gets a name only once complete, so even a killed process leaves
// no partial file behind; elsewhere, to a temporary name that is renamed into place.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  std::ostringstream buffer;
  write(buffer);
  const std::string data = buffer.str();
  const bool full_disk = inject_full_disk();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_input_error(ErrorContext{path, 0, {}}, "is a directory; expected a file path");
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    try {
      write_all(fd, data, path, full_disk);
      const std::string proc = "/proc/self/fd/" + std::to_string(fd);
      ::unlink(tmp.c_str());
      if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        throw_input_error(ErrorContext{path, 0, {}}, "cannot name the output file", std::strerror(errno));
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  } else {
    if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EROFS) {
      throw_input_error(ErrorContext{path, 0, {}}, "cannot open output file for writing", std::strerror(errno),
                        "an existing, writable directory");
    }
    fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw_input_error(ErrorContext{path, 0, {}}, "cannot open output file for writing", std::strerror(errno),
                        "an existing, writable directory");
    }
    try {
      write_all(fd, data, path, full_disk);
    } catch (...) {
      ::close(fd);
      std::remove(tmp.c_str());
      throw;
    }
    ::close(fd);
  }
  // The temporary name holds a complete file; the rename is atomic.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw_input_error(ErrorContext{path, 0, {}}, "cannot rename temporary output into place", std::strerror(err));
  }
}

}  // namespace nfsim::core
