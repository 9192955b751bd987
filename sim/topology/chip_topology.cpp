#include "sim/topology/chip_topology.h"

#include <algorithm>
#include <limits>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/registry.h"
#include "core/yaml_file.h"
#include "core/input_file.h"
#include "core/strings.h"

namespace nfsim::sim {
namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& key, const std::string& what,
                       const std::string& expected) {
  std::string got = n && n.IsScalar() ? "'" + n.Scalar() + "'" : std::string();
  core::throw_input_error({file, n ? n.Mark().line + 1 : 0, key}, what, got, expected);
}

void check_keys(const std::string& file, const YAML::Node& map, const std::string& key, const std::vector<std::string>& allowed,
                bool allow_others = false) {
  if (!map || !map.IsMap()) fail(file, map, key, "expected a mapping", "keys " + core::join(allowed, ", "));
  if (allow_others) return;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) fail(file, kv.first, key, "a key that is not a plain name", "one of " + core::join(allowed, ", "));
    const std::string k = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      const std::string guess = core::closest_match(k, allowed);
      core::throw_input_error({file, kv.first.Mark().line + 1, key + "." + k},
                              "unknown key" + (guess.empty() ? std::string() : " (did you mean '" + guess + "'?)"), "'" + k + "'",
                              "one of " + core::join(allowed, ", "));
    }
  }
}

long long get_int(const std::string& file, const YAML::Node& map, const std::string& name, const std::string& key,
                  long long def, long long min, long long max) {
  const YAML::Node n = map[name];
  if (!n) return def;
  try {
    return core::parse_int(n.IsScalar() ? n.Scalar() : "", key + "." + name, min, max);
  } catch (const core::InputError&) {
    fail(file, n, key + "." + name, "not a valid integer", "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
}

double get_double(const std::string& file, const YAML::Node& map, const std::string& name, const std::string& key,
                  double def, double min, double max = std::numeric_limits<double>::max()) {
  const YAML::Node n = map[name];
  if (!n) return def;
  double v = 0;
  try {
    v = core::parse_double(n.IsScalar() ? n.Scalar() : "", key + "." + name);
  } catch (const core::InputError&) {
    fail(file, n, key + "." + name, "not a number", "a number >= " + core::format_double(min));
  }
  if (v < min || v > max) {
    fail(file, n, key + "." + name, "out of range",
         max < std::numeric_limits<double>::max() ? "a number in [" + core::format_double(min) + ", " + core::format_double(max) + "]"
                                                  : "a number >= " + core::format_double(min));
  }
  return v;
}

std::string scalar_text(const std::string& file, const YAML::Node& n, const std::string& key, const std::string& expected) {
  if (!n.IsScalar()) fail(file, n, key, "wrong type", expected);
  return n.Scalar();
}

ComponentSection section(const std::string& file, const YAML::Node& chip, const std::string& name, const std::string& def_type) {
  ComponentSection s;
  s.key = "chip." + name;
  // A missing section is an empty mapping (all defaults); never keep an undefined node, which
  // yaml-cpp refuses to copy-assign.
  s.node = chip[name] ? chip[name] : YAML::Node(YAML::NodeType::Map);
  s.type = def_type;
  {
    if (!s.node.IsMap()) fail(file, s.node, s.key, "expected a mapping", "{type: NAME, ...}");
    if (s.node["type"]) s.type = scalar_text(file, s.node["type"], s.key + ".type", "a registered type name (see nfsim list)");
  }
  return s;
}

}  // namespace

ChipTopology parse_topology(const YAML::Node& chip, const std::string& file) {
  check_keys(file, chip, "chip", {"name", "cores", "crossbar", "neuron_array", "interconnect", "mapping"});
  ChipTopology t;
  t.file = file;
  if (chip["name"]) t.name = scalar_text(file, chip["name"], "chip.name", "a name");
  if (const YAML::Node cores = chip["cores"]) {
    check_keys(file, cores, "chip.cores", {"count", "layout"});
    t.cores = static_cast<int>(get_int(file, cores, "count", "chip.cores", 1, 1, 1 << 20));
    t.mesh_width = t.cores;
    t.mesh_height = 1;
    if (const YAML::Node layout = cores["layout"]) {
      check_keys(file, layout, "chip.cores.layout", {"type", "width", "height"});
      const std::string type = layout["type"] ? scalar_text(file, layout["type"], "chip.cores.layout.type", "mesh or line") : "mesh";
      if (type != "mesh" && type != "line") fail(file, layout["type"], "chip.cores.layout.type", "unknown layout", "mesh or line");
      if (type == "mesh") {
        t.mesh_width = static_cast<int>(get_int(file, layout, "width", "chip.cores.layout", t.cores, 1, 1 << 20));
        t.mesh_height = static_cast<int>(get_int(file, layout, "height", "chip.cores.layout", 1, 1, 1 << 20));
        if (static_cast<long long>(t.mesh_width) * t.mesh_height > (1LL << 20)) {
          fail(file, layout, "chip.cores.layout", "mesh too large", "width * height <= 1048576");
        }
        if (t.mesh_width * t.mesh_height < t.cores) {
          fail(file, layout, "chip.cores.layout", "a " + std::to_string(t.mesh_width) + " x " + std::to_string(t.mesh_height) +
                                                     " mesh cannot place " + std::to_string(t.cores) + " cores",
               "width * height >= cores.count");
        }
      }
    }
  }
  t.crossbar = section(file, chip, "crossbar", "ideal");
  if (t.crossbar.node) {
    t.crossbar_rows = static_cast<int>(get_int(file, t.crossbar.node, "rows", "chip.crossbar", 256, 1, 1 << 16));
    t.crossbar_cols = static_cast<int>(get_int(file, t.crossbar.node, "cols", "chip.crossbar", 256, 1, 1 << 16));
    t.read_latency_ns = get_double(file, t.crossbar.node, "read_latency_ns", "chip.crossbar", 100.0, 0.0, core::kMaxLatencyNs);
  }
  t.neuron_array = section(file, chip, "neuron_array", "rate");
  if (t.neuron_array.node) {
    t.neuron_array_size = static_cast<int>(get_int(file, t.neuron_array.node, "size", "chip.neuron_array", 256, 1, 1 << 20));
    t.update_latency_ns = get_double(file, t.neuron_array.node, "update_latency_ns", "chip.neuron_array", 10.0, 0.0, core::kMaxLatencyNs);
  }
  t.interconnect = section(file, chip, "interconnect", "bus");
  t.mapping = section(file, chip, "mapping", "greedy");
  return t;
}

ChipTopology load_topology(const std::string& path) {
  const std::string text = core::read_input_file(path, "a chip topology YAML file", core::kMaxTextFileBytes);
  const YAML::Node root = core::parse_yaml(text, path);
  if (!root || !root.IsMap() || !root["chip"]) throw core::InputError(path + ": no 'chip:' section; expected a chip topology");
  check_keys(path, root, "", {"chip"});
  return parse_topology(root["chip"], path);
}

}  // namespace nfsim::sim
