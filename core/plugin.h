#pragma once

#include <string>
#include <vector>

namespace nfsim::core {

// A shared library loaded with --plugin or a `plugins:` key, as the report records it.
struct LoadedPlugin {
  std::string path;                     // as the user wrote it
  std::string resolved_path;            // the absolute path of the file that was loaded
  std::string origin;                   // "--plugin", or where the `plugins:` key was written ("c.yaml:3")
  std::string fnv1a64;                  // 64-bit FNV-1a hash of the file's bytes, 16 hex digits
  std::vector<std::string> registered;  // what it registered: "crossbar stuck_on", ...
};

// Loads the shared library at `path` so that its static initialisers register component types.
// `origin` says where the path was given, for messages and provenance. A relative path that
// exists is resolved against the current directory first (dlopen would search the library path
// for a bare name like libmy.so); a library already loaded from the same file is not loaded
// again. Throws InputError naming `origin` and the path when the path is empty, the library
// cannot be loaded, it registers nothing, or it registers a type name that is already taken
// (naming the library, or "built-in", that registered it first).
// `given` is the path as the user wrote it when `path` was resolved from it (a `plugins:` entry
// relative to its file); empty: `path` itself.
const LoadedPlugin& load_plugin(const std::string& path, const std::string& origin, const std::string& given = {});

// Every plug-in loaded so far, in load order.
const std::vector<LoadedPlugin>& loaded_plugins();

// The resolved paths of the plug-ins loaded from the command line (--plugin): what a checkpoint
// keeps so that `nfsim run --resume` loads them again (plug-ins of a `plugins:` key come back
// with the campaign file).
std::vector<std::string> command_line_plugin_paths();

// 64-bit FNV-1a of `bytes`, as 16 lower-case hex digits.
std::string fnv1a64_hex(const std::string& bytes);

namespace detail {
// Called by Registry::add for every registration: `kind` is the registry ("crossbar"), `name`
// the type name, `earlier` the library that registered the name before ("" when the name is
// new). Returns the library registering now ("built-in" outside load_plugin). A name taken
// twice is remembered and refused by load_plugin once the library's initialisers have run
// (an exception cannot cross dlopen).
std::string note_registration(const std::string& kind, const std::string& name, const std::string& earlier);
}  // namespace detail

}  // namespace nfsim::core
