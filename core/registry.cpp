#include "core/registry.h"

#include <algorithm>

#include "core/strings.h"
#include "core/yaml_reader.h"

namespace nfsim::core {

Params::Params(const std::string& component, const std::vector<ParamSpec>& specs, const YAML::Node& node,
               const std::string& file, const std::string& key, const std::vector<std::string>& ignored_keys)
    : component_(component), file_(file), key_(key), specs_(specs) {
  // A parameter named like a key the topology reads for every type (rows, size, ...) would never
  // see its value: the topology takes it first.
  for (const auto& s : specs_) {
    if (std::find(ignored_keys.begin(), ignored_keys.end(), s.name) != ignored_keys.end()) {
      throw_input_error({file, 0, key + "." + s.name}, "type '" + component + "' declares parameter '" + s.name +
                        "', which the topology reads for every type", {}, "a parameter name other than " + join(ignored_keys, ", "));
    }
  }
  const YamlReader r(file, "");
  if (node && !node.IsMap()) {
    throw_input_error(r.context(node, key), "expected a mapping of parameters for '" + component + "'");
  }
  if (node) {
    std::vector<std::string> names;
    for (const auto& s : specs_) names.push_back(s.name);
    for (const auto& k : ignored_keys) names.push_back(k);
    r.check_keys(node, key, names, "unknown parameter of '" + component + "'");
    for (const auto& kv : node) {
      const std::string k = kv.first.Scalar();
      if (std::find(ignored_keys.begin(), ignored_keys.end(), k) != ignored_keys.end()) continue;
      const auto it = std::find_if(specs_.begin(), specs_.end(), [&](const ParamSpec& s) { return s.name == k; });
      if (!kv.second.IsScalar()) r.fail(kv.second, key + "." + k, "wrong type", "a " + it->type + (it->unit.empty() ? "" : " in " + it->unit));
      values_[k] = kv.second.Scalar();
      lines_[k] = kv.second.Mark().line + 1;
    }
  }
  for (const auto& s : specs_) {
    if (!values_.count(s.name)) {
      if (s.default_value.empty()) {
        throw_input_error({file, node ? node.Mark().line + 1 : 0, key + "." + s.name},
                          "missing required parameter of '" + component + "'", {},
                          "a " + s.type + (s.unit.empty() ? "" : " in " + s.unit) + ": " + s.meaning);
      }
      values_[s.name] = s.default_value;
    }
    // Validate the type now, so errors surface at load time.
    if (s.type == "int") integer(s.name);
    if (s.type == "double") {
      const double v = number(s.name);
      if (s.unit == "ns" && !(v >= 0.0 && v <= kMaxLatencyNs)) fail(s.name, "a time in [0, 1e9] ns");
    }
    if (s.type == "bool") flag(s.name);
  }
}

const ParamSpec& Params::spec(const std::string& name) const {
  const auto it = std::find_if(specs_.begin(), specs_.end(), [&](const ParamSpec& s) { return s.name == name; });
  if (it == specs_.end()) throw InternalError("component '" + component_ + "' reads undeclared parameter '" + name + "'");
  return *it;
}

void Params::fail(const std::string& name, const std::string& what) const {
  const auto line = lines_.count(name) ? lines_.at(name) : 0;
  throw_input_error({file_, line, key_ + "." + name}, "bad value for '" + component_ + "'", "'" + values_.at(name) + "'", what);
}

const std::string& Params::value_text(const std::string& name) const {
  spec(name);
  return values_.at(name);
}

double Params::number(const std::string& name) const {
  spec(name);
  try {
    return parse_double(values_.at(name), name);
  } catch (const InputError&) {
    fail(name, "a number");
  }
}

long long Params::integer(const std::string& name) const {
  spec(name);
  try {
    return parse_int(values_.at(name), name, -(1LL << 62), 1LL << 62);
  } catch (const InputError&) {
    fail(name, "an integer");
  }
}

std::string Params::text(const std::string& name) const {
  spec(name);
  return values_.at(name);
}

bool Params::flag(const std::string& name) const {
  spec(name);
  const std::string v = values_.at(name);
  if (v == "true" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "no" || v == "off") return false;
  fail(name, "true or false");
}

}  // namespace nfsim::core
