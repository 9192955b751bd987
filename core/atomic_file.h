#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace nfsim::core {

// Writes `path` atomically: `write` fills a buffer; the bytes go to an unnamed file (O_TMPFILE)
// beside `path` that is named and renamed over `path` only once complete and synced. On any
// failure, or if the process is killed, `path` is left as it was and no partial file remains.
// Throws InputError when the directory is missing or not writable.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Throws InputError unless write_file_atomically(path, ...) can create `path`: not empty, not a
// directory, in an existing writable directory. Commands call it before they compute, so a bad
// --out is refused before the work (and before anything reaches standard output).
void check_output_file(const std::string& path);

}  // namespace nfsim::core
