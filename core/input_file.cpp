#include "core/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace nfsim::core {

void check_input_file(const std::string& path, const std::string& expected, std::uintmax_t max_bytes) {
  if (path.empty()) throw InputError("empty file name; expected " + expected);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw InputError(path + ": cannot open (" + std::strerror(err) + "); expected " + expected);
  }
  if (S_ISDIR(st.st_mode)) throw InputError(path + ": is a directory; expected " + expected);
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket" : "a device";
    throw InputError(path + ": is " + kind + ", not a regular file; expected " + expected);
  }
  if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) {
    throw InputError(path + ": is " + std::to_string(st.st_size) + " bytes; expected " + expected + " of at most " +
                     std::to_string(max_bytes) + " bytes");
  }
  std::ifstream probe(path, std::ios::binary);
  if (!probe) {
    const int err = errno;
    throw InputError(path + ": cannot open (" + std::strerror(err) + "); expected " + expected);
  }
}

std::string read_input_file(const std::string& path, const std::string& expected, std::uintmax_t max_bytes) {
  check_input_file(path, expected, max_bytes);
  // Read in chunks up to the limit: a file may hold more than stat said (files under /proc
  // report size 0) and may fail mid-read (EIO: istream::read sets badbit, errno says why).
  std::string bytes;
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  while (in) {
    const std::size_t have = bytes.size();
    bytes.resize(have + kChunk);
    in.read(&bytes[have], static_cast<std::streamsize>(kChunk));
    bytes.resize(have + static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > max_bytes) {
      throw InputError(path + ": holds more than " + std::to_string(max_bytes) + " bytes; expected " + expected + " of at most " +
                       std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) {
    const int err = errno;
    throw InputError(path + ": read error" + (err ? std::string(" (") + std::strerror(err) + ")" : std::string()) + "; expected " +
                     expected);
  }
  return bytes;
}

}  // namespace nfsim::core
