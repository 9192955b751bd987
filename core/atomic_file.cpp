#include "core/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>

#include "core/error.h"

namespace nfsim::core {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) {
        throw_input_error(ErrorContext{path, 0, {}}, "cannot open output file for writing", std::strerror(errno),
                          "an existing, writable directory");
      }
      write(out);
      out.flush();
      if (!out) throw_input_error(ErrorContext{path, 0, {}}, "write failed", std::strerror(errno));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw_input_error(ErrorContext{path, 0, {}}, "cannot rename temporary output into place", std::strerror(errno));
    }
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace nfsim::core
