#include "core/yaml_reader.h"

#include <algorithm>
#include <filesystem>

#include "core/plugin.h"
#include "core/strings.h"

namespace nfsim::core {

ErrorContext YamlReader::context(const YAML::Node& node, const std::string& key) const {
  const bool unwritten = !node || node.Mark().is_null();  // not in the file: made by an override
  ErrorContext ctx{file_, unwritten ? 0 : node.Mark().line + 1, key};
  for (const Override& o : overrides_) {
    // The override's own key, or a key inside the value it set (--set 'require={b4: ...}'), or
    // a mapping the override made to hold its key (--set sweep.key=... on a file without sweep:).
    if (key == o.key || key.rfind(o.key + ".", 0) == 0 || key.rfind(o.key + "[", 0) == 0 ||
        (unwritten && !key.empty() && (o.key.rfind(key + ".", 0) == 0 || o.key.rfind(key + "[", 0) == 0))) {
      ctx = ErrorContext{file_ + " (" + o.label + ")", 0, key};
    }
  }
  return ctx;
}

void YamlReader::fail(const YAML::Node& node, const std::string& key, const std::string& what,
                      const std::string& expected) const {
  std::string got;
  if (node && node.IsScalar())
    got = "'" + node.Scalar() + "'";
  else if (node && node.IsSequence())
    got = "a list";
  else if (node && node.IsMap())
    got = "a mapping";
  throw_input_error(context(node, key), what, got, expected);
}

void YamlReader::missing(const YAML::Node& parent, const std::string& key, const std::string& what,
                         const std::string& expected) const {
  throw_input_error(context(parent, key), what, "", expected);
}

void YamlReader::check_keys(const YAML::Node& map, const std::string& key, const std::vector<std::string>& allowed,
                            const std::string& unknown) const {
  if (!map || !map.IsMap()) fail(map, key, "wrong type", "a mapping with keys " + join(allowed, ", "));
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) fail(kv.first, key, "a key that is not a plain name", "one of " + join(allowed, ", "));
    const std::string k = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    const std::string best = closest_match(k, allowed);
    throw_input_error(context(kv.first, key.empty() ? k : key + "." + k),
                      unknown + (best.empty() ? std::string() : " (did you mean '" + best + "'?)"), "'" + k + "'",
                      allowed.empty() ? "no parameters" : "one of " + join(allowed, ", "));
  }
}

double YamlReader::number(const YAML::Node& n, const std::string& key) const {
  if (!n.IsScalar()) fail(n, key, "wrong type", "a number");
  try {
    return parse_double(n.Scalar(), key);
  } catch (const InputError&) {
    fail(n, key, "not a finite number", "a number");
  }
}

double YamlReader::number_in(const YAML::Node& n, const std::string& key, double min, double max) const {
  const std::string range = "a number in [" + format_double(min) + ", " + format_double(max) + "]";
  if (!n.IsScalar()) fail(n, key, "wrong type", range);
  double v = 0;
  try {
    v = parse_double(n.Scalar(), key);
  } catch (const InputError&) {
    fail(n, key, "not a finite number", range);
  }
  if (v < min || v > max) fail(n, key, "out of range", range);
  return v;
}

long long YamlReader::integer(const YAML::Node& n, const std::string& key, long long min, long long max) const {
  if (!n.IsScalar()) fail(n, key, "wrong type", "an integer");
  try {
    return parse_int(n.Scalar(), key, min, max);
  } catch (const InputError&) {
    fail(n, key, "not a valid integer", "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
}

std::string YamlReader::text(const YAML::Node& n, const std::string& key) const {
  if (!n.IsScalar()) fail(n, key, "wrong type", "a string");
  return n.Scalar();
}

double YamlReader::probability(const YAML::Node& n, const std::string& key) const {
  const double p = number(n, key);
  if (p < 0.0 || p > 1.0) fail(n, key, "probability out of range", "a number in [0, 1]");
  return p;
}

std::string YamlReader::path(const YAML::Node& n, const std::string& key) const {
  const std::string p = text(n, key);
  if (p.empty()) fail(n, key, "empty path", "a file path");
  std::filesystem::path fp(p);
  if (fp.is_relative() && !base_dir_.empty()) fp = std::filesystem::path(base_dir_) / fp;
  return fp.lexically_normal().string();
}

std::vector<std::pair<std::string, YAML::Node>> YamlReader::paths(const YAML::Node& n, const std::string& key) const {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (n.IsScalar()) {
    out.emplace_back(path(n, key), n);
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i) out.emplace_back(path(n[i], key + "[" + std::to_string(i) + "]"), n[i]);
  } else {
    fail(n, key, "wrong type", "a path or a list of paths");
  }
  return out;
}

std::vector<std::string> load_plugins_key(const YamlReader& reader, const YAML::Node& plugins, const std::string& key) {
  std::vector<std::string> loaded;
  const auto list = reader.paths(plugins, key);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string k = plugins.IsSequence() ? key + "[" + std::to_string(i) + "]" : key;
    // A bare name is relative to the file like any other path: "libmy.so" is the file's neighbour.
    loaded.push_back(
        load_plugin(list[i].first, reader.context(list[i].second, k).prefix(), list[i].second.Scalar()).resolved_path);
  }
  return loaded;
}

}  // namespace nfsim::core
