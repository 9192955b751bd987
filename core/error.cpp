#include "core/error.h"

namespace nfsim::core {

std::string escape_control_characters(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7f) {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

InputError::InputError(const std::string& message) : Error(escape_control_characters(message)) {}

std::string ErrorContext::prefix() const {
  std::string p = file;
  if (line > 0) p += (p.empty() ? "line " : ":") + std::to_string(line);
  if (!key.empty()) p += (p.empty() ? "" : ": ") + std::string("key '") + key + "'";
  return p;
}

std::string format_error(const ErrorContext& ctx, const std::string& what, const std::string& got,
                         const std::string& expected) {
  std::string msg = ctx.prefix();
  if (!msg.empty()) msg += ": ";
  msg += what;
  if (!got.empty()) msg += ": got " + got;
  if (!expected.empty()) msg += (got.empty() ? ": expected " : "; expected ") + expected;
  return msg;
}

void throw_input_error(const ErrorContext& ctx, const std::string& what, const std::string& got,
                       const std::string& expected) {
  throw InputError(format_error(ctx, what, got, expected));
}

}  // namespace nfsim::core
