#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace nfsim::core {

// Writes `path` atomically: `write` fills a temporary file beside it, which is renamed over
// `path` only once it is complete and flushed. On any failure the temporary file is removed and
// `path` is left as it was, so no reader ever sees a half-written output.
// Throws InputError when the directory is missing or not writable.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace nfsim::core
