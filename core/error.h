#pragma once

#include <stdexcept>
#include <string>

namespace nfsim::core {

// Base of every exception nfsim's libraries throw. `apps/` maps the kind to an exit code.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `text` with control characters written as escapes (\n, \r, \t, \x00): for one-line messages.
std::string escape_control_characters(const std::string& text);

// The user's input (a file, a flag, a value) is wrong: exit code 2 in the CLI.
// The message names the file (and line/key/node), the bad value and what was expected.
class InputError : public Error {
 public:
  // Control characters that a bad value brought in (a NUL, a CR) are escaped: the message stays
  // one readable line, and what() is not cut short at a NUL.
  explicit InputError(const std::string& message);
};

// A command line that cannot be understood (unknown flag, missing argument): exit code 2.
class UsageError : public InputError {
 public:
  using InputError::InputError;
};

// A broken invariant inside nfsim: a bug, exit code 1.
class InternalError : public Error {
 public:
  using Error::Error;
};

// Builds the one-line messages of InputError: "FILE:LINE: key 'K': got V; expected E".
// Every part is optional; empty parts are skipped.
struct ErrorContext {
  std::string file;
  int line = 0;  // 1-based; 0 = unknown
  std::string key;

  ErrorContext& at_line(int l) { line = l; return *this; }
  ErrorContext& with_key(std::string k) { key = std::move(k); return *this; }
  std::string prefix() const;
};

// Formats "<prefix>: <what>: got <got>; expected <expected>" (parts skipped when empty).
std::string format_error(const ErrorContext& ctx, const std::string& what, const std::string& got = {},
                         const std::string& expected = {});

[[noreturn]] void throw_input_error(const ErrorContext& ctx, const std::string& what,
                                    const std::string& got = {}, const std::string& expected = {});

}  // namespace nfsim::core
