#include "core/error.h"

namespace nfsim::core {

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
