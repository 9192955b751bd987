#include "sim/topology/chip_topology.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/registry.h"
#include "core/yaml_file.h"
#include "core/yaml_reader.h"
#include "sim/crossbar/i_crossbar_model.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/interconnect/tlm_interconnect.h"
#include "sim/neuron/i_neuron_model.h"
#include "sim/topology/mapping.h"
#include "core/input_file.h"
#include "core/strings.h"

namespace nfsim::sim {
namespace {

// A component section: its type (default `def_type`) and its node, with the keys the topology
// reads for every type of it (`shared`), which are not the type's own parameters.
ComponentSection section(const core::YamlReader& r, const YAML::Node& chip, const std::string& name, const std::string& def_type,
                         std::vector<std::string> shared) {
  ComponentSection s;
  s.key = "chip." + name;
  // A missing section is an empty mapping (all defaults); never keep an undefined node, which
  // yaml-cpp refuses to copy-assign.
  s.node = chip[name] ? chip[name] : YAML::Node(YAML::NodeType::Map);
  s.type = def_type;
  s.shared_keys = std::move(shared);
  s.shared_keys.insert(s.shared_keys.begin(), "type");
  if (!s.node.IsMap()) r.fail(s.node, s.key, "expected a mapping", "{type: NAME, ...}");
  if (s.node["type"]) {
    if (!s.node["type"].IsScalar()) r.fail(s.node["type"], s.key + ".type", "wrong type", "a registered type name (see nfsim list)");
    s.type = s.node["type"].Scalar();
  }
  return s;
}

// The section's registered type and its own parameters, validated against the type's declaration.
template <typename Registry>
void resolve(ComponentSection& s, const std::string& file) {
  const auto& e = Registry::instance().get(s.type, file + ": " + s.key + ".type");
  s.params = core::Params(e.name, e.params, s.node, file, s.key, s.shared_keys);
}

long long integer_or(const core::YamlReader& r, const YAML::Node& map, const std::string& name, const std::string& key, long long def,
                     long long min, long long max) {
  return map[name] ? r.integer(map[name], key + "." + name, min, max) : def;
}

double number_or(const core::YamlReader& r, const YAML::Node& map, const std::string& name, const std::string& key, double def,
                 double min, double max) {
  return map[name] ? r.number_in(map[name], key + "." + name, min, max) : def;
}

ChipTopology read_topology(const core::YamlReader& r, const YAML::Node& chip) {
  r.check_keys(chip, "chip", {"name", "cores", "crossbar", "neuron_array", "interconnect", "tlm_interconnect", "mapping"});
  ChipTopology t;
  t.file = r.file();
  if (chip["name"]) t.name = r.text(chip["name"], "chip.name");
  if (const YAML::Node cores = chip["cores"]) {
    r.check_keys(cores, "chip.cores", {"count", "layout"});
    t.cores = static_cast<int>(integer_or(r, cores, "count", "chip.cores", 1, 1, 1 << 20));
    t.mesh_width = t.cores;
    t.mesh_height = 1;
    if (const YAML::Node layout = cores["layout"]) {
      r.check_keys(layout, "chip.cores.layout", {"type", "width", "height"});
      const std::string type = layout["type"] ? r.text(layout["type"], "chip.cores.layout.type") : "mesh";
      if (type != "mesh" && type != "line") r.fail(layout["type"], "chip.cores.layout.type", "unknown layout", "mesh or line");
      if (type == "mesh") {
        t.mesh_width = static_cast<int>(integer_or(r, layout, "width", "chip.cores.layout", t.cores, 1, 1 << 20));
        t.mesh_height = static_cast<int>(integer_or(r, layout, "height", "chip.cores.layout", 1, 1, 1 << 20));
        if (static_cast<long long>(t.mesh_width) * t.mesh_height > (1LL << 20)) {
          r.fail(layout, "chip.cores.layout", "mesh too large", "width * height <= 1048576");
        }
        if (t.mesh_width * t.mesh_height < t.cores) {
          r.fail(layout, "chip.cores.layout", "a " + std::to_string(t.mesh_width) + " x " + std::to_string(t.mesh_height) +
                                                   " mesh cannot place " + std::to_string(t.cores) + " cores",
                 "width * height >= cores.count");
        }
      }
    }
  }
  t.crossbar = section(r, chip, "crossbar", "ideal", {"rows", "cols", "read_latency_ns"});
  t.crossbar_rows = static_cast<int>(integer_or(r, t.crossbar.node, "rows", "chip.crossbar", 256, 1, 1 << 16));
  t.crossbar_cols = static_cast<int>(integer_or(r, t.crossbar.node, "cols", "chip.crossbar", 256, 1, 1 << 16));
  t.read_latency_ns = number_or(r, t.crossbar.node, "read_latency_ns", "chip.crossbar", 100.0, 0.0, core::kMaxLatencyNs);
  t.neuron_array = section(r, chip, "neuron_array", "rate", {"size", "update_latency_ns"});
  t.neuron_array_size = static_cast<int>(integer_or(r, t.neuron_array.node, "size", "chip.neuron_array", 256, 1, 1 << 20));
  t.update_latency_ns = number_or(r, t.neuron_array.node, "update_latency_ns", "chip.neuron_array", 10.0, 0.0, core::kMaxLatencyNs);
  t.interconnect = section(r, chip, "interconnect", "bus", {});
  if (chip["tlm_interconnect"]) {
    if (chip["interconnect"]) {
      r.fail(chip["tlm_interconnect"], "chip.tlm_interconnect", "given together with chip.interconnect",
             "one of interconnect (a built-in or plug-in model) or tlm_interconnect (a TLM-2.0 module)");
    }
    t.tlm_interconnect = section(r, chip, "tlm_interconnect", "", {});
    if (t.tlm_interconnect->type.empty()) {
      r.fail(chip["tlm_interconnect"], "chip.tlm_interconnect.type", "missing", "a registered TLM-2.0 module type (see nfsim list)");
    }
    t.interconnect.type = "bus";  // the stand-in model's registry entry is never used
  }
  t.mapping = section(r, chip, "mapping", "greedy", {});
  // Each component's type and parameters, checked once, now: a bad topology fails before anything runs.
  resolve<CrossbarRegistry>(t.crossbar, t.file);
  resolve<NeuronRegistry>(t.neuron_array, t.file);
  if (t.tlm_interconnect) {
    resolve<TlmInterconnectRegistry>(*t.tlm_interconnect, t.file);
  } else {
    resolve<InterconnectRegistry>(t.interconnect, t.file);
  }
  resolve<MapperRegistry>(t.mapping, t.file);
  return t;
}

}  // namespace

ChipTopology parse_topology(const YAML::Node& chip, const std::string& file) {
  return read_topology(core::YamlReader(file, std::filesystem::path(file).parent_path().string()), chip);
}

ChipTopology load_topology(const std::string& path) {
  const std::string text = core::read_input_file(path, "a chip topology YAML file", core::kMaxTextFileBytes);
  const YAML::Node root = core::parse_yaml(text, path);
  if (!root || !root.IsMap() || !root["chip"]) throw core::InputError(path + ": no 'chip:' section; expected a chip topology");
  const core::YamlReader r(path, std::filesystem::path(path).parent_path().string());
  r.check_keys(root, "", {"chip", "plugins"});
  // Plug-ins first: the chip's component types may come from them.
  std::vector<std::string> plugins;
  if (const YAML::Node p = root["plugins"]) plugins = core::load_plugins_key(r, p);
  ChipTopology t = read_topology(r, root["chip"]);
  t.plugins = std::move(plugins);
  return t;
}

}  // namespace nfsim::sim
