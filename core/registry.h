#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/plugin.h"
#include "core/strings.h"

namespace nfsim::core {

// The largest latency of one operation nfsim accepts (topology keys and every registered
// parameter in ns): more than a second is a typo (ns for ps?), and an inference's sum of them
// must stay inside SystemC's time range (2^64 ps, about 1.8e16 ns).
constexpr double kMaxLatencyNs = 1e9;

// One declared parameter of a registered component: drives validation, `nfsim list` and docs.
struct ParamSpec {
  std::string name;
  std::string type;           // "int", "double", "string", "bool"
  std::string unit;           // "ns", "bits", "" ...
  std::string default_value;  // empty: required
  std::string meaning;
};

// The validated parameters of one component instance, read from a YAML mapping against its
// declared ParamSpecs. Unknown keys, wrong types and missing required values are InputErrors
// naming the file, line, key, the component, the bad value and what was expected.
class Params {
 public:
  Params() = default;
  Params(const std::string& component, const std::vector<ParamSpec>& specs, const YAML::Node& node,
         const std::string& file, const std::string& key, const std::vector<std::string>& ignored_keys = {"type"});

  double number(const std::string& name) const;
  long long integer(const std::string& name) const;
  std::string text(const std::string& name) const;
  bool flag(const std::string& name) const;
  // Throws an InputError for `name` (with its file and line) stating `what` was expected.
  [[noreturn]] void fail(const std::string& name, const std::string& what) const;
  // Every declared parameter with its value as written or its default (for provenance).
  const std::vector<ParamSpec>& specs() const { return specs_; }
  const std::string& value_text(const std::string& name) const;

 private:
  const ParamSpec& spec(const std::string& name) const;
  std::string component_, file_, key_;
  std::vector<ParamSpec> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, int> lines_;
};

// A registry of named implementations of one interface. Implementations register themselves
// (static Registrar objects in their own .cpp); YAML selects them with `type: NAME`. A name is
// registered once: a second registration (a plug-in registering `ideal`) is kept out and
// refused by load_plugin, naming both libraries. `Product::kRegistryKind` names the registry
// in messages ("crossbar").
template <typename Product, typename... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Product>(const Params&, Args...)>;
  struct Entry {
    std::string name;
    std::string description;
    std::vector<ParamSpec> params;
    Factory make;
  };

  static Registry& instance() {
    static Registry registry;
    return registry;
  }
  void add(Entry entry) {
    const auto owner = owners_.find(entry.name);
    const std::string library =
        detail::note_registration(Product::kRegistryKind, entry.name, owner == owners_.end() ? std::string() : owner->second);
    if (owner != owners_.end()) return;
    owners_[entry.name] = library;
    entries_[entry.name] = std::move(entry);
  }
  // The library that registered `name` ("built-in" or the plug-in's resolved path).
  std::string library(const std::string& name) const {
    const auto it = owners_.find(name);
    return it == owners_.end() ? std::string() : it->second;
  }
  // Throws InputError naming `where`, the unknown name and the registered ones.
  const Entry& get(const std::string& name, const std::string& where) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string known;
      std::vector<std::string> names;
      for (const auto& [n, e] : entries_) {
        known += (known.empty() ? "" : ", ") + n;
        names.push_back(n);
      }
      const std::string guess = closest_match(name, names);
      throw InputError(where + ": unknown type '" + name + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                       "; expected one of " + known);
    }
    return it->second;
  }
  std::vector<const Entry*> entries() const {
    std::vector<const Entry*> out;
    for (const auto& [n, e] : entries_) out.push_back(&e);
    return out;
  }

 private:
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> owners_;
};

// `static Registrar<ICrossbarModel> reg{{"ideal", "...", {params}, factory}};`
template <typename Product, typename... Args>
struct Registrar {
  explicit Registrar(typename Registry<Product, Args...>::Entry entry) {
    Registry<Product, Args...>::instance().add(std::move(entry));
  }
};

}  // namespace nfsim::core
