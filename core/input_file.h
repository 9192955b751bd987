#pragma once

#include <cstdint>
#include <string>

namespace nfsim::core {

// Largest text file (YAML, JSON, CSV) nfsim reads whole: bigger ones are refused before reading.
constexpr std::uintmax_t kMaxTextFileBytes = std::uintmax_t{256} << 20;

// Throws InputError naming `path` unless it is an existing, readable regular file of at most
// `max_bytes` bytes. A directory, FIFO, device or socket is refused before it is opened: reading
// one would fail obscurely, block forever (a FIFO with no writer) or never end (/dev/zero).
// `expected` completes the message: "...; expected <expected>".
void check_input_file(const std::string& path, const std::string& expected, std::uintmax_t max_bytes);

// check_input_file, then the whole file as bytes.
std::string read_input_file(const std::string& path, const std::string& expected, std::uintmax_t max_bytes);

}  // namespace nfsim::core
