#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace nfsim::core {

// Reads typed values out of the YAML tree of one file (parsed by parse_yaml) with errors that
// name the file, line, key path, the bad value and what was expected, and a did-you-mean for
// unknown keys. The one reader of every YAML input (campaigns, topologies, component
// parameters): each file's own rules are stated by its reader's caller, once.
class YamlReader {
 public:
  // A value set outside the file (a --set override, a sweep value): keys at or under `key` are
  // named by `label` in messages instead of a line of the file.
  struct Override {
    std::string key;
    std::string label;
  };

  YamlReader(std::string file, std::string base_dir, std::vector<Override> overrides = {})
      : file_(std::move(file)), base_dir_(std::move(base_dir)), overrides_(std::move(overrides)) {}

  // Where `node` (at `key`) was written: file and line, or the override it came from.
  ErrorContext context(const YAML::Node& node, const std::string& key) const;

  // Throws InputError: "<file>:<line>: key '<key>': <what>: got <node>; expected <expected>".
  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& what,
                         const std::string& expected = {}) const;

  // A key that is absent from `parent` (or must be given with others that are): the error is
  // located at the parent, without a "got" (the parent is not the bad value).
  [[noreturn]] void missing(const YAML::Node& parent, const std::string& key, const std::string& what,
                            const std::string& expected) const;

  // `map` must be a mapping whose keys are all in `allowed`; an unknown key is named with the
  // closest allowed one. `unknown` words the error ("unknown key").
  void check_keys(const YAML::Node& map, const std::string& key, const std::vector<std::string>& allowed,
                  const std::string& unknown = "unknown key") const;

  double number(const YAML::Node& n, const std::string& key) const;
  // A number in [min, max]; the expectation is written "a number in [min, max]".
  double number_in(const YAML::Node& n, const std::string& key, double min, double max) const;
  long long integer(const YAML::Node& n, const std::string& key, long long min, long long max) const;
  std::string text(const YAML::Node& n, const std::string& key) const;
  double probability(const YAML::Node& n, const std::string& key) const;
  // A path, resolved against the file's directory when relative.
  std::string path(const YAML::Node& n, const std::string& key) const;
  // A list of paths (or one path), each resolved against the file's directory.
  std::vector<std::pair<std::string, YAML::Node>> paths(const YAML::Node& n, const std::string& key) const;

  // Runs `fn`; an InputError it throws without a location is located at `n` (`key`).
  template <typename Fn>
  auto wrap(const YAML::Node& n, const std::string& key, Fn fn) const -> decltype(fn()) {
    try {
      return fn();
    } catch (const InputError& e) {
      if (std::string(e.what()).rfind(file_, 0) == 0) throw;  // already located
      fail(n, key, e.what());
    }
  }

  const std::string& file() const { return file_; }
  const std::string& base_dir() const { return base_dir_; }

 private:
  std::string file_, base_dir_;
  std::vector<Override> overrides_;
};

// Loads the plug-ins of a `plugins:` key (one path or a list, relative to the file), before the
// file's components are resolved: see core::load_plugin. Returns their resolved paths.
std::vector<std::string> load_plugins_key(const YamlReader& reader, const YAML::Node& plugins,
                                          const std::string& key = "plugins");

}  // namespace nfsim::core
