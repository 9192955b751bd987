#include "core/plugin.h"

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/input_file.h"

namespace nfsim::core {
namespace {

constexpr const char* kBuiltIn = "built-in";

// What load_plugin learns from the registrations a library makes while dlopen runs it.
struct LoadState {
  std::string library;  // the library being loaded; empty outside load_plugin
  std::vector<std::string> registered;
  std::optional<std::string> conflict;  // the first name taken twice, as a message
};

LoadState& state() {
  static LoadState s;
  return s;
}

std::vector<LoadedPlugin>& plugins() {
  static std::vector<LoadedPlugin> list;
  return list;
}

// A library's own path once loaded (dlopen may have found a bare name on the library path).
std::string loaded_path(void* handle, const std::string& fallback) {
  struct link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name) return map->l_name;
  return fallback;
}

std::string canonical_or_same(const std::string& path) {
  std::error_code ec;
  const auto c = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

std::string fnv1a64_hex(const std::string& bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

namespace detail {
std::string note_registration(const std::string& kind, const std::string& name, const std::string& earlier) {
  LoadState& s = state();
  const std::string library = s.library.empty() ? kBuiltIn : s.library;
  if (!earlier.empty()) {
    if (!s.conflict) {
      s.conflict = kind + " type '" + name + "' is registered twice: by " + earlier + " and by " + library;
    }
    return library;
  }
  if (!s.library.empty()) s.registered.push_back(kind + " " + name);
  return library;
}
}  // namespace detail

const LoadedPlugin& load_plugin(const std::string& path, const std::string& origin, const std::string& given) {
  const std::string as_given = given.empty() ? path : given;
  const std::string where =
      origin == "--plugin" ? "--plugin '" + as_given + "'" : origin + ": plug-in '" + as_given + "'";
  if (path.empty()) throw InputError(where + ": empty path; expected a shared library (.so) built against nfsim");
  // dlopen searches the library path for a name without '/': a file of that name in the
  // current directory is what the user means.
  std::error_code ec;
  std::string to_open = path;
  if (std::filesystem::exists(path, ec)) {
    check_input_file(path, "a shared library (.so) built against nfsim", std::uintmax_t{1} << 34);
    to_open = std::filesystem::absolute(path).lexically_normal().string();
  }
  for (const LoadedPlugin& p : plugins()) {
    if (p.resolved_path == canonical_or_same(to_open)) return p;
  }
  LoadState& s = state();
  s = LoadState{to_open, {}, std::nullopt};
  void* handle = dlopen(to_open.c_str(), RTLD_NOW | RTLD_GLOBAL);
  LoadState done = s;
  s = LoadState{};
  if (!handle) {
    const char* err = dlerror();
    throw InputError(where + ": cannot load (" + std::string(err ? err : "unknown error") +
                     "); expected a shared library built against nfsim");
  }
  LoadedPlugin p;
  p.path = as_given;
  p.resolved_path = canonical_or_same(loaded_path(handle, to_open));
  p.origin = origin;
  for (const LoadedPlugin& q : plugins()) {
    if (q.resolved_path == p.resolved_path) return q;  // a bare name found on the library path, loaded before
  }
  if (done.conflict) {
    // The library's other types stay registered, but the run stops here: exit code 2.
    std::string message = *done.conflict;
    const std::string::size_type at = message.rfind(to_open);
    if (at != std::string::npos && to_open != p.resolved_path) message.replace(at, to_open.size(), p.resolved_path);
    throw InputError(where + ": " + message + "; expected type names that are unique (rename the plug-in's type)");
  }
  if (done.registered.empty()) {
    throw InputError(where + ": registers no component type (loaded from " + p.resolved_path +
                     "); expected a library whose static Registrar objects register a crossbar, neuron, interconnect "
                     "or mapper type");
  }
  p.registered = done.registered;
  p.fnv1a64 = fnv1a64_hex(
      read_input_file(p.resolved_path, "a shared library (.so) built against nfsim", std::uintmax_t{1} << 34));
  plugins().push_back(std::move(p));
  return plugins().back();
}

const std::vector<LoadedPlugin>& loaded_plugins() { return plugins(); }

std::vector<std::string> command_line_plugin_paths() {
  std::vector<std::string> out;
  for (const LoadedPlugin& p : plugins()) {
    if (p.origin.rfind("--plugin", 0) == 0) out.push_back(p.resolved_path);
  }
  return out;
}

}  // namespace nfsim::core
