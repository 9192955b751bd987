#include "testbench/campaign/campaign_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "sim/engine/i_engine.h"
#include "core/yaml_file.h"
#include "core/yaml_reader.h"
#include "testbench/campaign/requirements.h"
#include "core/input_file.h"
#include "core/strings.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"

namespace nfsim::tb {
namespace {

// An override is "KEY=VALUE" from --set, "--FLAG=VALUE" from a command-line flag that sets the
// campaign key FLAG (--trials, --seed, --engine), or "sweep:KEY=VALUE" for a sweep point's value:
// the key it sets, and how to name it in a message, as the user wrote it.
constexpr const char* kSweepPrefix = "sweep:";
std::string override_key(const std::string& text) {
  std::string key = core::trim(text.substr(0, text.find('=')));
  if (key.rfind("--", 0) == 0) key.erase(0, 2);
  if (key.rfind(kSweepPrefix, 0) == 0) key.erase(0, std::string(kSweepPrefix).size());
  return key;
}
std::string override_label(const std::string& text) {
  if (text.rfind(kSweepPrefix, 0) == 0) return "sweep value " + text.substr(std::string(kSweepPrefix).size());
  if (text.rfind("--", 0) != 0) return "--set " + text;
  const auto eq = text.find('=');
  return eq == std::string::npos ? text : text.substr(0, eq) + " " + text.substr(eq + 1);
}

// The campaign's overrides as the reader names them in messages.
std::vector<core::YamlReader::Override> reader_overrides(const std::vector<std::string>& overrides) {
  std::vector<core::YamlReader::Override> out;
  for (const std::string& o : overrides) out.push_back({override_key(o), override_label(o)});
  return out;
}

using Reader = core::YamlReader;

// Two keys name the same value or one holds the other: faults[0] and faults[0].probability.
bool keys_overlap(const std::string& a, const std::string& b) {
  auto within = [](const std::string& inner, const std::string& outer) {
    return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
           (inner[outer.size()] == '.' || inner[outer.size()] == '[');
  };
  return a == b || within(a, b) || within(b, a);
}

models::RandomNetworkSpec read_generate(const Reader& r, const YAML::Node& g) {
  r.check_keys(g, "model.generate",
               {"widths", "input", "layers", "activation", "output_activation", "activation_scale", "sigma", "mu", "seed"});
  models::RandomNetworkSpec spec;
  const YAML::Node w = g["widths"];
  if (g["layers"] || g["input"]) {
    // A convolutional network: `input: 1x28x28` and `layers: "conv:16:3:p=1,maxpool:2,dense:10"`.
    if (w) r.fail(w, "model.generate.widths", "given with layers", "either widths (a dense network) or input and layers");
    if (!g["layers"]) r.missing(g, "model.generate.layers", "missing", "a layer list like \"conv:8:3:p=1,maxpool:2,dense:10\"");
    if (!g["input"]) r.missing(g, "model.generate.input", "missing", "an input shape like 1x28x28");
    spec.input_shape = r.wrap(g["input"], "model.generate.input",
                              [&] { return models::parse_input_shape(r.text(g["input"], "model.generate.input")); });
    spec.layers = r.wrap(g["layers"], "model.generate.layers",
                         [&] { return models::parse_random_layers(r.text(g["layers"], "model.generate.layers")); });
  } else {
    if (!w || !w.IsSequence() || w.size() < 2) {
      if (!w) r.missing(g, "model.generate.widths", "missing", "a list of at least 2 widths");
      r.fail(w, "model.generate.widths", "too short or not a list", "a list of at least 2 widths");
    }
    for (std::size_t i = 0; i < w.size(); ++i) {
      spec.widths.push_back(static_cast<int>(r.integer(w[i], "model.generate.widths[" + std::to_string(i) + "]", 1, 1000000)));
    }
  }
  if (g["activation"]) {
    spec.activation.kind = r.wrap(g["activation"], "model.generate.activation",
                                  [&] { return models::parse_activation_kind(r.text(g["activation"], "model.generate.activation")); });
  }
  if (g["output_activation"]) {
    spec.output_activation.kind = r.wrap(g["output_activation"], "model.generate.output_activation", [&] {
      return models::parse_activation_kind(r.text(g["output_activation"], "model.generate.output_activation"));
    });
  }
  if (g["activation_scale"]) spec.activation.scale = r.number(g["activation_scale"], "model.generate.activation_scale");
  if (g["sigma"]) spec.sigma = r.number(g["sigma"], "model.generate.sigma");
  if (spec.sigma < 0) r.fail(g["sigma"], "model.generate.sigma", "negative", "sigma >= 0");
  if (g["mu"]) spec.mu = r.number(g["mu"], "model.generate.mu");
  if (g["seed"]) spec.seed = static_cast<std::uint64_t>(r.integer(g["seed"], "model.generate.seed", 0, std::numeric_limits<long long>::max()));
  return spec;
}

models::InputSpec read_inputs(const Reader& r, const YAML::Node& n, const std::string& key = "inputs") {
  r.check_keys(n, key, {"type", "path", "count", "scale", "shift", "seed", "labels"});
  models::InputSpec spec;
  std::string type;
  if (n["type"]) type = r.text(n["type"], key + ".type");
  if (n["path"]) {
    spec.path = r.path(n["path"], key + ".path");
    if (type.empty()) {
      spec.kind = r.wrap(n["path"], key + ".path", [&] { return models::parse_input_spec(spec.path).kind; });
    }
  }
  if (!type.empty()) {
    static const std::vector<std::string> kinds{"idx", "csv", "npy", "random"};
    const auto it = std::find(kinds.begin(), kinds.end(), type);
    if (it == kinds.end()) r.fail(n["type"], key + ".type", "unknown input type", "one of idx, csv, npy, random");
    spec.kind = static_cast<models::InputSpec::Kind>(it - kinds.begin());
  } else if (!n["path"]) {
    r.missing(n, key, "neither type nor path given", "type: random (with count) or a path");
  }
  if (spec.kind != models::InputSpec::Kind::random && spec.path.empty()) r.missing(n, key + ".path", "missing", "a data file path");
  if (n["count"]) spec.count = r.integer(n["count"], key + ".count", 1, std::int64_t{1} << 28);
  if (spec.kind == models::InputSpec::Kind::random && !spec.count) r.missing(n, key + ".count", "missing for random inputs", "a count >= 1");
  if (n["scale"]) spec.scale = r.number(n["scale"], key + ".scale");
  if (n["shift"]) spec.shift = r.number(n["shift"], key + ".shift");
  if (n["seed"]) spec.seed = static_cast<std::uint64_t>(r.integer(n["seed"], key + ".seed", 0, std::numeric_limits<long long>::max()));
  // Keys that would change nothing are refused rather than ignored (a --set on them too).
  if (type == "random" && n["path"]) r.fail(n["path"], key + ".path", "does not apply to type: random", "no path, or the file's type");
  if (spec.kind != models::InputSpec::Kind::random && n["seed"]) {
    r.fail(n["seed"], key + ".seed", "does not apply to inputs read from a file", "seed only with type: random");
  }
  if (n["labels"]) spec.labels_path = r.path(n["labels"], key + ".labels");
  return spec;
}

// `spiking:` (docs/spiking.md): the hidden layers run as integrate-and-fire arrays.
models::SpikingConfig read_spiking(const Reader& r, const YAML::Node& n, std::optional<models::InputSpec>& calibration,
                                   std::optional<double>& dt, bool nir) {
  r.check_keys(n, "spiking", {"neuron", "time_steps", "threshold", "leak", "reset", "refractory_steps", "input_coding",
                              "readout", "percentile", "calibration", "dt"});
  if (nir) {
    // A NIR file gives the network's dynamics and weights as they are: nothing to convert.
    for (const char* key : {"neuron", "threshold", "leak", "reset", "refractory_steps", "readout", "percentile", "calibration"}) {
      if (n[key]) {
        r.fail(n[key], std::string("spiking.") + key, "does not apply to a NIR model (the file gives its neurons, weights and readout)",
               "only time_steps, dt and input_coding with a .nir model");
      }
    }
    if (!n["dt"]) r.missing(n, "spiking.dt", "missing for a NIR model", "the time step in seconds its neurons are discretised with, e.g. dt: 0.001");
  } else if (n["dt"]) {
    r.fail(n["dt"], "spiking.dt", "applies to NIR models only (an ONNX model is converted, with no time constants)",
           "no dt:, or model: FILE.nir");
  }
  if (n["dt"]) {
    dt = r.number(n["dt"], "spiking.dt");
    if (!(*dt > 0 && *dt <= 1e3)) r.fail(n["dt"], "spiking.dt", "out of range", "a time step in (0, 1000] seconds");
  }
  models::SpikingConfig c;
  auto choose = [&](const char* key, const std::vector<std::string>& names) -> std::size_t {
    const std::string text = r.text(n[key], std::string("spiking.") + key);
    const auto it = std::find(names.begin(), names.end(), text);
    if (it == names.end()) r.fail(n[key], std::string("spiking.") + key, "unknown value", core::join(names, " or "));
    return static_cast<std::size_t>(it - names.begin());
  };
  if (n["neuron"]) c.neuron = choose("neuron", {"if", "lif"}) == 0 ? models::SpikingNeuron::if_neuron : models::SpikingNeuron::lif;
  if (n["reset"]) c.reset = choose("reset", {"subtract", "zero"}) == 0 ? models::SpikeReset::subtract : models::SpikeReset::zero;
  if (n["input_coding"]) {
    c.coding = choose("input_coding", {"regular", "bernoulli"}) == 0 ? models::SpikeCoding::regular : models::SpikeCoding::bernoulli;
  }
  if (n["readout"]) c.readout = choose("readout", {"membrane", "rate"}) == 0 ? models::SpikeReadout::membrane : models::SpikeReadout::rate;
  if (n["time_steps"]) c.time_steps = static_cast<int>(r.integer(n["time_steps"], "spiking.time_steps", 1, 100000));
  if (n["threshold"]) {
    c.threshold = r.number(n["threshold"], "spiking.threshold");
    if (!(c.threshold > 0)) r.fail(n["threshold"], "spiking.threshold", "not positive", "a threshold > 0");
  }
  if (n["leak"]) {
    c.leak = r.number(n["leak"], "spiking.leak");
    if (!(c.leak > 0 && c.leak <= 1)) r.fail(n["leak"], "spiking.leak", "out of range", "a factor in (0, 1] kept of the membrane each step");
    if (c.neuron != models::SpikingNeuron::lif) {
      r.fail(n["leak"], "spiking.leak", "applies to neuron: lif only (an if neuron has no leak)", "neuron: lif with leak:");
    }
  }
  if (n["refractory_steps"]) c.refractory_steps = static_cast<int>(r.integer(n["refractory_steps"], "spiking.refractory_steps", 0, 100000));
  if (n["percentile"]) {
    c.percentile = r.number(n["percentile"], "spiking.percentile");
    if (!(c.percentile > 0 && c.percentile <= 100)) r.fail(n["percentile"], "spiking.percentile", "out of range", "a percentile in (0, 100]");
  }
  if (n["calibration"]) calibration = read_inputs(r, n["calibration"], "spiking.calibration");
  return c;
}

faults::FaultSpec read_fault(const Reader& r, const YAML::Node& n, const std::string& key, const std::optional<Mission>& mission) {
  r.check_keys(n, key, {"kind", "layers", "probability", "fit", "mission_hours", "persistence", "value", "bit", "format",
                        "groups", "onset_ns", "onset_step", "factor", "drop_probability"});
  faults::FaultSpec spec;
  spec.origin = r.context(n, key).with_key({}).prefix();
  std::vector<std::string> all_kinds = faults::fault_kind_names();
  for (const auto& k : faults::physical_kind_names()) all_kinds.push_back(k);
  if (!n["kind"]) r.missing(n, key + ".kind", "missing", "one of " + core::join(all_kinds, ", "));
  const std::string kind = r.text(n["kind"], key + ".kind");
  if (faults::is_physical_kind(kind)) {
    spec.kind = faults::FaultKind::group_crash;
    spec.physical_kind = kind;
  } else if (std::find(all_kinds.begin(), all_kinds.end(), kind) == all_kinds.end()) {
    r.fail(n["kind"], key + ".kind", "unknown fault kind", "one of " + core::join(all_kinds, ", "));
  } else {
    spec.kind = faults::parse_fault_kind(kind);
  }
  if (n["fit"]) {
    // A FIT rate (failures per 10^9 device-hours per unit) over a mission: the units that have
    // failed by the end of the mission, a Poisson process's marginal, as permanent faults.
    if (n["probability"]) r.fail(n["fit"], key + ".fit", "both fit and probability given", "one of them");
    const double fit = r.number(n["fit"], key + ".fit");
    if (fit < 0) r.fail(n["fit"], key + ".fit", "negative FIT rate", "failures per 10^9 device-hours >= 0");
    double hours = 0;
    if (mission) {
      // The campaign's mission: failure times over mission.hours, this point at mission.at_hours.
      if (n["mission_hours"]) {
        r.fail(n["mission_hours"], key + ".mission_hours", "given in a campaign with mission:",
               "no mission_hours: the mission's hours apply (mission.hours)");
      }
      hours = mission->at_hours;
      spec.lifetime_fit = fit;
      spec.lifetime_end_hours = mission->hours;
    } else {
      if (!n["mission_hours"]) r.missing(n, key + ".mission_hours", "missing (needed with fit)", "the mission time in hours");
      hours = r.number(n["mission_hours"], key + ".mission_hours");
      if (hours < 0) r.fail(n["mission_hours"], key + ".mission_hours", "negative", "hours >= 0");
    }
    spec.probability = -std::expm1(-fit * 1e-9 * hours);
    spec.mission_hours = hours;
    spec.persistence = faults::Persistence::permanent;
    if (n["persistence"] && r.text(n["persistence"], key + ".persistence") != "permanent") {
      r.fail(n["persistence"], key + ".persistence", "FIT faults accumulate", "permanent");
    }
  } else {
    if (!n["probability"]) r.missing(n, key + ".probability", "missing", "a number in [0, 1] (or fit + mission_hours)");
    spec.probability = r.number(n["probability"], key + ".probability");
  }
  if (n["onset_ns"]) spec.onset_ns = r.number(n["onset_ns"], key + ".onset_ns");
  if (n["onset_step"]) spec.onset_step = static_cast<int>(r.integer(n["onset_step"], key + ".onset_step", 0, faults::kMaxOnsetStep));
  if (n["persistence"]) {
    spec.persistence = r.wrap(n["persistence"], key + ".persistence",
                              [&] { return faults::parse_persistence(r.text(n["persistence"], key + ".persistence")); });
  }
  if (!spec.physical_kind.empty()) {
    // Physical units: optionally restricted to the tiles/arrays of some layers.
    if (const YAML::Node layers = n["layers"]) {
      if (layers.IsScalar()) {
        spec.layers.push_back(static_cast<int>(r.integer(layers, key + ".layers", 1, 1000000)));
      } else if (!layers.IsSequence()) {
        r.fail(layers, key + ".layers", "wrong type", "a layer index or a list of them");
      } else {
        for (std::size_t i = 0; i < layers.size(); ++i) spec.layers.push_back(static_cast<int>(r.integer(layers[i], key + ".layers", 1, 1000000)));
      }
    }
  } else if (spec.kind == faults::FaultKind::group_crash) {
    const YAML::Node groups = n["groups"];
    if (!groups || !groups.IsSequence() || groups.size() == 0) {
      const std::string expected = "a list of {name, neurons: [[layer, index]...], synapses: [[layer, row, col]...]}";
      if (!groups) r.missing(n, key + ".groups", "missing", expected);
      r.fail(groups, key + ".groups", "empty or not a list", expected);
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const std::string gk = key + ".groups[" + std::to_string(g) + "]";
      r.check_keys(groups[g], gk, {"name", "neurons", "synapses"});
      faults::FaultGroup group;
      group.name = groups[g]["name"] ? r.text(groups[g]["name"], gk + ".name") : "group" + std::to_string(g);
      if (const YAML::Node ns = groups[g]["neurons"]) {
        if (!ns.IsSequence()) r.fail(ns, gk + ".neurons", "wrong type", "a list of [layer, index] pairs");
        for (std::size_t i = 0; i < ns.size(); ++i) {
          if (!ns[i].IsSequence() || ns[i].size() != 2) r.fail(ns[i], gk + ".neurons", "wrong shape", "[layer, index]");
          group.neurons.push_back({static_cast<int>(r.integer(ns[i][0], gk + ".neurons", 0, 1000000)),
                                   static_cast<int>(r.integer(ns[i][1], gk + ".neurons", 0, 100000000))});
        }
      }
      if (const YAML::Node ss = groups[g]["synapses"]) {
        if (!ss.IsSequence()) r.fail(ss, gk + ".synapses", "wrong type", "a list of [layer, row, col] triples");
        for (std::size_t i = 0; i < ss.size(); ++i) {
          if (!ss[i].IsSequence() || ss[i].size() != 3) r.fail(ss[i], gk + ".synapses", "wrong shape", "[layer, row, col]");
          group.synapses.push_back({static_cast<int>(r.integer(ss[i][0], gk + ".synapses", 1, 1000000)),
                                    static_cast<int>(r.integer(ss[i][1], gk + ".synapses", 0, 100000000)),
                                    static_cast<int>(r.integer(ss[i][2], gk + ".synapses", 0, 100000000))});
        }
      }
      spec.groups.push_back(std::move(group));
    }
  } else if (const YAML::Node layers = n["layers"]; !layers) {
    r.missing(n, key + ".layers", "missing", "a layer index or a list of them (0 = input)");
  } else if (layers.IsScalar()) {
    spec.layers.push_back(static_cast<int>(r.integer(layers, key + ".layers", 0, 1000000)));
  } else if (layers.IsSequence()) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      spec.layers.push_back(static_cast<int>(r.integer(layers[i], key + ".layers[" + std::to_string(i) + "]", 0, 1000000)));
    }
  } else {
    r.fail(layers, key + ".layers", "wrong type", "a layer index or a list of them");
  }
  if (n["value"]) spec.value = r.number(n["value"], key + ".value");
  if (n["factor"]) spec.factor = r.number(n["factor"], key + ".factor");
  if (n["drop_probability"]) spec.drop_probability = r.number(n["drop_probability"], key + ".drop_probability");
  if (n["bit"]) spec.bit = static_cast<int>(r.integer(n["bit"], key + ".bit", 0, 1000000));
  if (const YAML::Node f = n["format"]) {
    if (f.IsMap()) {
      r.check_keys(f, key + ".format", {"total_bits", "frac_bits"});
      if (f["total_bits"]) spec.format.total_bits = static_cast<int>(r.integer(f["total_bits"], key + ".format.total_bits", 0, 1000000));
      if (f["frac_bits"]) spec.format.frac_bits = static_cast<int>(r.integer(f["frac_bits"], key + ".format.frac_bits", 0, 1000000));
    } else {
      const auto parts = core::split(r.text(f, key + ".format"), '.');
      if (parts.size() != 2) r.fail(f, key + ".format", "wrong format", "TOTAL.FRAC bits like 8.6, or {total_bits, frac_bits}");
      spec.format.total_bits = static_cast<int>(r.wrap(f, key + ".format", [&] { return core::parse_int(parts[0], "total bits", 0, 1000000); }));
      spec.format.frac_bits = static_cast<int>(r.wrap(f, key + ".format", [&] { return core::parse_int(parts[1], "fraction bits", 0, 1000000); }));
    }
  }
  // The rules of a spec (ranges, fields that apply to its kind) are faults::validate_fault_spec's.
  std::set<std::string> given;
  for (const auto& kv : n) given.insert(kv.first.Scalar());
  if (given.count("fit")) given.erase("probability");
  faults::validate_fault_spec(spec, given, [&](const std::string& field, const std::string& what, const std::string& expected) {
    const YAML::Node at = n[field] ? n[field] : field == "probability" && n["fit"] ? n["fit"] : n;
    if (!n[field] && !(field == "probability" && n["fit"])) r.missing(n, key + "." + field, what, expected);  // no value to show
    r.fail(at, key + "." + field, what, expected);
  });
  return spec;
}

// Applies "a.b[2].c=VALUE" (or "--flag=VALUE") to the tree (creating missing map keys).
void apply_override(YAML::Node root, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw core::InputError("--set '" + text + "': expected KEY=VALUE, e.g. faults[0].probability=0.05");
  }
  const std::string path = override_key(text);
  const std::string label = override_label(text);
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw core::InputError("'" + label + "': the value is not valid YAML: " + e.msg);
  }
  // Split into tokens: names and [index].
  std::vector<std::string> tokens;
  std::string cur;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.') {
      // A dot ends a name or follows an [index]; "a..b", ".a" and "a." name nothing.
      const bool after_index = cur.empty() && i > 0 && path[i - 1] == ']';
      if ((cur.empty() && !after_index) || i + 1 == path.size()) {
        throw core::InputError("'" + label + "': empty name in the key; expected names joined by single dots, e.g. stopping.max_trials");
      }
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
    } else if (c == '[') {
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
      const auto close = path.find(']', i);
      if (close == std::string::npos) throw core::InputError("'" + label + "': unclosed '[' in the key");
      tokens.push_back("[" + path.substr(i + 1, close - i - 1) + "]");
      i = close;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) tokens.push_back(cur);
  if (tokens.empty()) throw core::InputError("'" + label + "': empty key");
  std::vector<YAML::Node> chain{root};
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    YAML::Node node = chain.back();
    const std::string& tok = tokens[t];
    const bool last = t + 1 == tokens.size();
    if (tok.front() == '[') {
      const long long idx = core::parse_int(tok.substr(1, tok.size() - 2), "'" + label + "' index", 0, 1000000);
      if (!node.IsSequence() || static_cast<std::size_t>(idx) >= node.size()) {
        throw core::InputError("'" + label + "': no element " + tok + " (the list has " +
                               std::to_string(node.IsSequence() ? node.size() : 0) + " elements)");
      }
      if (last) {
        node[static_cast<std::size_t>(idx)] = value;
        return;
      }
      chain.push_back(node[static_cast<std::size_t>(idx)]);
    } else {
      if (!node.IsMap() && !node.IsNull()) {
        // What holds the key is a value (or a list): nothing inside it can be named by a key.
        std::string parent;
        for (std::size_t u = 0; u < t; ++u) parent += (u && tokens[u].front() != '[' ? "." : "") + tokens[u];
        std::string why = "'" + tok + "' is not inside a mapping";
        if (node.IsScalar()) {
          why = "'" + parent + "' is the value '" + node.Scalar() + "', not a mapping, so it has no key '" + tok + "'";
          if (parent == "chip" || parent == "model") {
            why += " (a file's keys cannot be set from the campaign; set " + parent + " itself to another file, or write it inline)";
          }
        } else if (node.IsSequence()) {
          why = "'" + parent + "' is a list: name an element, e.g. " + parent + "[0]." + tok;
        }
        throw core::InputError("'" + label + "': " + why);
      }
      if (last) {
        node[tok] = value;
        return;
      }
      if (!node[tok]) node[tok] = YAML::Node(YAML::NodeType::Map);  // --set stopping.max_trials=... creates stopping:
      chain.push_back(node[tok]);
    }
  }
}

// `fault_log: {max_lines: N}` and `criticality: {top: N, verify: K, trials: T}` (docs/report.md).
void read_fault_log_and_criticality(const Reader& r, const YAML::Node& root, CampaignConfig& c) {
  if (const YAML::Node f = root["fault_log"]) {
    if (!f.IsMap()) r.fail(f, "fault_log", "wrong type", "a mapping such as {max_lines: 10000}");
    r.check_keys(f, "fault_log", {"max_lines"});
    if (f["max_lines"]) c.fault_log_max_lines = static_cast<std::size_t>(r.integer(f["max_lines"], "fault_log.max_lines", 0, 100000000));
  }
  if (const YAML::Node k = root["criticality"]) {
    CriticalityOptions o;
    if (!k.IsMap()) r.fail(k, "criticality", "wrong type", "a mapping such as {top: 20, verify: 5}");
    r.check_keys(k, "criticality", {"top", "verify", "trials"});
    if (k["top"]) o.top = static_cast<std::size_t>(r.integer(k["top"], "criticality.top", 1, 100000));
    if (k["verify"]) o.verify = static_cast<std::size_t>(r.integer(k["verify"], "criticality.verify", 0, 100000));
    if (k["trials"]) o.trials = static_cast<std::uint64_t>(r.integer(k["trials"], "criticality.trials", 1, 1000000));
    if (o.verify > o.top) r.fail(k["verify"], "criticality.verify", "more than top (" + std::to_string(o.top) + ")", "at most criticality.top units to verify");
    c.criticality = o;
  }
}

}  // namespace

const std::vector<std::string>& requirement_conditions() {
  static const std::vector<std::string> names{"max_median_rel_err", "min_pearson", "max_rank_loss", "min_inside_ci", "holds"};
  return names;
}

std::string Requirement::describe() const {
  if (condition == "holds") return bound + " holds";
  std::string text = bound + " " + condition + " " + core::format_double(threshold);
  if (bound == "error") text += output < 0 ? " all outputs" : " output " + std::to_string(output);
  if (!judged_on.empty()) text += " (judged on " + judged_on + ")";
  return text;
}

bool ModelSource::nir() const {
  return !generate && path.size() >= 4 && path.compare(path.size() - 4, 4, ".nir") == 0;
}

std::string ModelSource::describe() const {
  if (!generate) return path;
  std::vector<std::string> w;
  for (int x : generate->widths) w.push_back(std::to_string(x));
  return "generate(widths=[" + core::join(w, ",") + "], activation=" + generate->activation.describe() +
         ", sigma=" + core::format_double(generate->sigma) + ", mu=" + core::format_double(generate->mu) +
         ", seed=" + std::to_string(generate->seed) + ")";
}

const std::vector<std::string>& bound_family_names() {
  static const std::vector<std::string> names{"b1", "b2", "b3", "b4", "worst_case", "sum_norms"};
  return names;
}

CampaignConfig parse_campaign(const std::string& yaml_text, const std::string& source, const std::string& base_dir,
                              const std::vector<std::string>& overrides) {
  YAML::Node root = core::parse_yaml(yaml_text, source);
  if (root.IsNull()) throw core::InputError(source + ": empty campaign file; expected at least model:, inputs: and faults:");
  for (const auto& o : overrides) {
    try {
      apply_override(root, o);
    } catch (const core::InputError& e) {
      throw core::InputError(source + ": " + e.what());
    }
  }
  const Reader r(source, base_dir, reader_overrides(overrides));
  r.check_keys(root, "", {"model", "inputs", "faults", "chip", "engine", "trials", "seed", "bounds", "block_trials",
                          "batch_trials", "confidence", "stopping", "require", "sweep", "plugins", "fault_log", "criticality",
                          "protection", "replicas", "mission", "deadline_ns", "stream", "chip_simulation", "estimator",
                          "spiking"});
  CampaignConfig c;
  c.file = source;
  // Plug-ins first: the chip's component types may come from them.
  if (const YAML::Node plugins = root["plugins"]) c.plugins = core::load_plugins_key(r, plugins);
  const YAML::Node model = root["model"];
  if (!model) r.missing(root, "model", "missing", "a path to an ONNX file or {generate: {...}}");
  if (model.IsMap()) {
    r.check_keys(model, "model", {"generate", "path"});
    if (model["generate"] && model["path"]) {
      // One network: a path beside generate would be ignored without a word.
      r.fail(model["path"], "model.path", "given with model.generate (the network is either a file or generated)",
             "model.path or model.generate, not both");
    }
    if (model["generate"]) {
      c.model.generate = read_generate(r, model["generate"]);
    } else if (model["path"]) {
      c.model.path = r.path(model["path"], "model.path");
    } else {
      r.missing(model, "model", "neither path nor generate", "model: FILE.onnx or model: {generate: {...}}");
    }
  } else {
    c.model.path = r.path(model, "model");
  }
  if (!root["inputs"]) r.missing(root, "inputs", "missing", "an inputs: section");
  c.inputs = read_inputs(r, root["inputs"]);
  const YAML::Node faults = root["faults"];
  if (!faults || !faults.IsSequence() || faults.size() == 0) {
    if (!faults) r.missing(root, "faults", "missing", "a list of fault specs {kind, layers, probability}");
    r.fail(faults, "faults", "empty or not a list", "a list of fault specs {kind, layers, probability}");
  }
  if (const YAML::Node m = root["mission"]) {
    r.check_keys(m, "mission", {"hours", "checkpoints", "at_hours"});
    Mission mission;
    if (!m["hours"]) r.missing(m, "mission.hours", "missing", "the mission time in hours, in (0, 1e7]");
    mission.hours = r.number(m["hours"], "mission.hours");
    if (!(mission.hours > 0 && mission.hours <= 1e7)) r.fail(m["hours"], "mission.hours", "out of range", "hours in (0, 1e7]");
    if (m["checkpoints"]) mission.checkpoints = r.integer(m["checkpoints"], "mission.checkpoints", 1, 1000);
    mission.at_hours = mission.hours;
    if (m["at_hours"]) {
      mission.at_hours = r.number(m["at_hours"], "mission.at_hours");
      if (!(mission.at_hours > 0 && mission.at_hours <= mission.hours)) {
        r.fail(m["at_hours"], "mission.at_hours", "outside the mission", "a time in (0, mission.hours]");
      }
    }
    c.mission = mission;
  }
  for (std::size_t i = 0; i < faults.size(); ++i) {
    c.faults.push_back(read_fault(r, faults[i], "faults[" + std::to_string(i) + "]", c.mission));
  }
  if (c.mission && std::none_of(c.faults.begin(), c.faults.end(), [](const faults::FaultSpec& f) { return f.lifetime_fit > 0; })) {
    r.missing(root["mission"], "mission", "no fault spec has a FIT rate",
              "at least one fault spec with fit: (failures per 10^9 device-hours per unit)");
  }
  if (const YAML::Node chip = root["chip"]) {
    if (chip.IsScalar()) {
      c.chip = sim::load_topology(r.path(chip, "chip"));
    } else {
      c.chip = sim::parse_topology(chip, source);
    }
  }
  if (root["engine"]) {
    c.engine = r.text(root["engine"], "engine");
    const auto& engines = sim::EngineRegistry::instance();
    if (!engines.has(c.engine)) {
      const std::string guess = core::closest_match(c.engine, engines.names());
      r.fail(root["engine"], "engine", "unknown engine" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)"),
             engines.names_with([](const sim::EngineCapabilities&) { return true; }, " or "));
    }
  }
  const sim::EngineCapabilities& engine = sim::EngineRegistry::instance().get(c.engine, "engine").capabilities;
  if (engine.needs_chip && !c.chip) {
    r.missing(root, "chip", "missing (the " + c.engine + " engine needs a topology)", "chip: PATH or an inline chip: section");
  }
  for (std::size_t i = 0; i < c.faults.size(); ++i) {
    if (!c.faults[i].physical_kind.empty() && !c.chip) {
      r.fail(faults[i], "faults[" + std::to_string(i) + "].kind", "physical fault kind '" + c.faults[i].physical_kind + "' needs a chip",
             "chip: PATH (a topology file) in the campaign");
    }
    if (c.faults[i].onset_ns > 0 && !engine.onset_times) {
      const YAML::Node onset = faults[i].IsMap() && faults[i]["onset_ns"] ? faults[i]["onset_ns"] : faults[i];
      r.fail(onset, "faults[" + std::to_string(i) + "].onset_ns",
             "an onset time needs simulated time, which engine '" + c.engine + "' does not model",
             "engine: " + sim::EngineRegistry::instance().names_with([](const sim::EngineCapabilities& e) { return e.onset_times; }, " or "));
    }
  }
  if (const YAML::Node pr = root["protection"]) c.protection = read_protection(r, pr, c.faults, c.chip.has_value());
  if (c.mission && !c.protection.tmr.empty()) {
    r.fail(root["protection"]["tmr"], "protection.tmr", "TMR with a mission",
           "no tmr (a mission draws one failure time per unit, not TMR's 3p^2 - 2p^3)");
  }
  if (c.mission && (c.protection.spare_rows > 0 || c.protection.spare_columns > 0)) {
    // Spares repair the lowest-numbered failed units, not the first to fail: a unit repaired at
    // one checkpoint could be unrepaired at the next, which no chip does.
    r.fail(root["protection"], "protection", "spares with a mission",
           "no spares (they are assigned by unit index, not by failure time)");
  }
  if (const YAML::Node rep = root["replicas"]) c.replicas = read_replicas(r, rep);
  if (c.model.nir() && !root["spiking"]) {
    r.missing(root, "spiking", "missing for a NIR model (" + c.model.path + ")",
              "spiking: {dt: SECONDS, time_steps: T} (docs/nir.md)");
  }
  if (const YAML::Node sp = root["spiking"]) {
    c.spiking = read_spiking(r, sp, c.spiking_calibration, c.spiking_dt, c.model.nir());
    // What the spiking model does not run (docs/spiking.md, "Limits").
    auto refuse = [&](const std::string& what, const std::string& expected) { r.fail(sp, "spiking", what, expected); };
    if (c.engine == "chip" && c.spiking->coding == models::SpikeCoding::bernoulli) {
      refuse("the chip's spiking arrays take regular input trains (Bernoulli trains run on the functional engine)",
             "input_coding: regular with engine: chip");
    }
    if (root["deadline_ns"]) refuse("deadline_ns is not modelled on spiking arrays", "no deadline_ns with spiking:");
    if (root["stream"]) refuse("stream: is not modelled on spiking arrays", "no stream: with spiking:");
    if (c.replicas.count > 1) refuse("replicas: are not run on spiking networks", "no replicas: with spiking:");
    if (c.mission) refuse("mission: is not run on spiking networks", "no mission: with spiking:");
    if (root["criticality"]) refuse("criticality: ranks units on the rate engine, which does not run spiking networks", "no criticality: with spiking:");
    // The bounds are the rate equivalent's: a prediction of the spiking error, not a guarantee.
    if (const YAML::Node req = root["require"]; req && req.IsMap()) {
      for (const auto& kv : req) {
        const bool holds = (kv.second.IsScalar() && kv.second.Scalar() == "holds") || (kv.second.IsMap() && kv.second["holds"]);
        if (holds) {
          r.fail(kv.second, "require." + kv.first.Scalar(), "a bound's 'holds' on a spiking network: the bounds are its rate "
                 "equivalent's, a prediction of the spiking error, not a bound of it (docs/spiking.md)",
                 "max_median_rel_err, min_pearson or min_inside_ci, or no spiking:");
        }
      }
    }
  }
  if (root["trials"]) {
    if (root["trials"].IsScalar() && root["trials"].Scalar() == "auto") {
      c.stopping.automatic = true;
    } else {
      c.trials = static_cast<std::uint64_t>(r.integer(root["trials"], "trials", 1, std::int64_t{1} << 32));
    }
  }
  // The stopping rule serves trials: auto only; one set from outside (--set, a sweep) for fixed
  // trials would change nothing.
  for (const auto& o : overrides) {
    const std::string key = override_key(o);
    if (!c.stopping.automatic && (key == "stopping" || key.rfind("stopping.", 0) == 0)) {
      core::throw_input_error(r.context(YAML::Node(), key), "the stopping rule applies to trials: auto only",
                              "trials " + std::to_string(c.trials), "trials: auto (--trials auto) with it, or no stopping override");
    }
  }
  if (const YAML::Node st = root["stopping"]) {
    r.check_keys(st, "stopping", {"rel_half_width", "min_trials", "max_trials"});
    if (st["rel_half_width"]) {
      c.stopping.rel_half_width = r.number(st["rel_half_width"], "stopping.rel_half_width");
      if (!(c.stopping.rel_half_width > 0)) r.fail(st["rel_half_width"], "stopping.rel_half_width", "out of range", "a positive fraction, e.g. 0.02");
    }
    if (st["min_trials"]) c.stopping.min_trials = static_cast<std::uint64_t>(r.integer(st["min_trials"], "stopping.min_trials", 1, std::int64_t{1} << 32));
    if (st["max_trials"]) c.stopping.max_trials = static_cast<std::uint64_t>(r.integer(st["max_trials"], "stopping.max_trials", 1, std::int64_t{1} << 32));
    if (c.stopping.min_trials > c.stopping.max_trials) r.fail(st, "stopping", "min_trials above max_trials", "min_trials <= max_trials");
  }
  if (c.stopping.automatic) c.trials = c.stopping.max_trials;
  if (root["seed"]) c.seed = static_cast<std::uint64_t>(r.integer(root["seed"], "seed", 0, std::numeric_limits<long long>::max()));
  read_fault_log_and_criticality(r, root, c);
  if (root["block_trials"]) c.block_trials = static_cast<std::uint32_t>(r.integer(root["block_trials"], "block_trials", 1, 1 << 20));
  if (root["batch_trials"]) c.batch_trials = static_cast<std::uint32_t>(r.integer(root["batch_trials"], "batch_trials", 1, 1 << 20));
  if (root["confidence"]) {
    c.confidence = r.number(root["confidence"], "confidence");
    if (!(c.confidence > 0 && c.confidence < 1)) r.fail(root["confidence"], "confidence", "out of range", "a number in (0, 1), e.g. 0.95");
  }
  if (const YAML::Node b = root["bounds"]) {
    if (!b.IsSequence()) r.fail(b, "bounds", "wrong type", "a list of " + core::join(bound_family_names(), ", "));
    for (std::size_t i = 0; i < b.size(); ++i) {
      const std::string name = r.text(b[i], "bounds[" + std::to_string(i) + "]");
      const auto& names = bound_family_names();
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        r.fail(b[i], "bounds[" + std::to_string(i) + "]", "unknown bound", "one of " + core::join(names, ", "));
      }
      c.bounds.push_back(name);
    }
  }
  // b1, b2 and worst_case are defined for neuron crashes only (docs/bounds.md): asked for explicitly
  // with other faults they are an error; by default they are left out.
  const bool only_crashes = std::all_of(c.faults.begin(), c.faults.end(), [](const faults::FaultSpec& f) {
    return f.kind == faults::FaultKind::neuron_crash && f.physical_kind.empty();
  });
  c.bounds_listed = static_cast<bool>(root["bounds"]);
  if (root["bounds"]) {
    for (std::size_t i = 0; i < c.bounds.size(); ++i) {
      const std::string& b = c.bounds[i];
      if (!only_crashes && (b == "b1" || b == "b2" || b == "worst_case")) {
        r.fail(root["bounds"][i], "bounds[" + std::to_string(i) + "]", "'" + b + "' is defined for neuron crashes only",
               "b3, b4 and sum_norms for these faults");
      }
    }
  } else {
    for (const auto& b : bound_family_names()) {
      if (only_crashes || (b != "b1" && b != "b2" && b != "worst_case")) c.bounds.push_back(b);
    }
  }
  // Timing faults and deadlines change outputs through time, which no bound models: none by
  // default, and any asked for is refused rather than reported as if it held.
  if (root["deadline_ns"]) {
    c.deadline_ns = r.number(root["deadline_ns"], "deadline_ns");
    if (!(*c.deadline_ns > 0 && *c.deadline_ns <= 1e15)) {
      r.fail(root["deadline_ns"], "deadline_ns", "out of range", "a time in (0, 1e15] ns after the start of each inference");
    }
  }
  if (const YAML::Node stream = root["stream"]) {
    if (!stream.IsMap()) r.fail(stream, "stream", "wrong type", "a mapping {interval_ns: T} or {rate_per_us: R}");
    r.check_keys(stream, "stream", {"interval_ns", "rate_per_us"});
    if (stream["interval_ns"] && stream["rate_per_us"]) {
      r.fail(stream, "stream", "both interval_ns and rate_per_us given", "one of them (interval_ns = 1000 / rate_per_us)");
    }
    if (stream["interval_ns"]) {
      c.stream_interval_ns = r.number_in(stream["interval_ns"], "stream.interval_ns", 1.0, 1e9);
    } else if (stream["rate_per_us"]) {
      c.stream_interval_ns = 1000.0 / r.number_in(stream["rate_per_us"], "stream.rate_per_us", 1e-6, 1000.0);
    } else {
      r.fail(stream, "stream", "empty", "{interval_ns: T} or {rate_per_us: R}");
    }
    for (std::size_t i = 0; i < c.faults.size(); ++i) {
      if (c.faults[i].onset_ns > 0) {
        r.fail(stream, "stream", "streamed inferences overlap in time, which fault onsets (faults[" + std::to_string(i) +
                                     "].onset_ns, from the start of each inference) do not model",
               "no onset_ns with stream:");
      }
    }
  }
  if (const YAML::Node sim = root["chip_simulation"]) {
    const std::string mode = r.text(sim, "chip_simulation");
    if (mode != "differential" && mode != "full") r.fail(sim, "chip_simulation", "unknown mode", "differential or full");
    if (!engine.needs_chip) {
      r.fail(sim, "chip_simulation", "applies to the chip engine only (engine '" + c.engine + "' simulates no chip)",
             "no chip_simulation: with this engine, or engine: chip");
    }
    c.chip_differential = mode == "differential";
  }
  if (const YAML::Node est = root["estimator"]) {
    c.estimator = r.text(est, "estimator");
    if (c.estimator != "plain" && c.estimator != "control_variate") r.fail(est, "estimator", "unknown estimator", "plain or control_variate");
    if (c.control_variate()) {
      // What the first-order expansion cannot take: its moments are exact only for units that
      // fail independently with a known probability and act on values (ControlVariate::unsupported).
      auto refuse = [&](const std::string& what, const std::string& expected) {
        r.fail(est, "estimator", "control_variate needs " + what, expected + ", or estimator: plain");
      };
      for (std::size_t i = 0; i < c.faults.size(); ++i) {
        const faults::FaultSpec& f = c.faults[i];
        const std::string at = "faults[" + std::to_string(i) + "] (" + f.kind_name() + ")";
        if (f.is_timing()) refuse("single-fault value effects, which " + at + " has not (a timing fault changes when values arrive)", "no timing faults");
        if (f.acts_through_time()) refuse("single-fault value effects, which " + at + " has not (dead routers drop or detour traffic together)", "no router faults");
        if (f.onset_ns > 0) refuse("every drawn fault to act, which " + at + " does not (onset_ns " + core::format_double(f.onset_ns) + ")", "no onset_ns");
      }
      if (c.mission) refuse("units failing with fixed probabilities, which mission: (failure times over a lifetime) replaces", "no mission:");
      if (c.protection.spare_columns > 0 || c.protection.spare_rows > 0) refuse("independent failures, which spares (protection.spares) repair away in pools", "no spares");
      if (c.replicas.count > 1) refuse("one network per inference, which replicas: (" + std::to_string(c.replicas.count) + " copies, a median at the host) is not", "no replicas:");
      if (c.deadline_ns) refuse("outputs that depend on values only, which a deadline (deadline_ns) does not give", "no deadline_ns");
      if (c.stream_interval_ns) refuse("one inference at a time, which stream: does not give", "no stream:");
      if (c.spiking) refuse("the single-fault effects of the network it runs, which are the rate equivalent's, not the spiking network's", "no spiking:");
    }
  }
  // Onsets in time steps (docs/spiking.md, "Onsets in time steps"): spiking campaigns only, not
  // with onset_ns elsewhere in the plan (the chip re-applies a step's faults in plan order, which
  // a fault due at a simulated time inside the step would not follow), and no rate bound models a
  // fault that acts on part of an inference.
  for (std::size_t i = 0; i < c.faults.size(); ++i) {
    if (c.faults[i].onset_step == 0) continue;
    const YAML::Node at = root["faults"][i]["onset_step"];
    const std::string key = "faults[" + std::to_string(i) + "].onset_step";
    if (!c.spiking) r.fail(at, key, "an onset in time steps needs a spiking network", "spiking: with it, or onset_ns on the chip engine");
    for (std::size_t j = 0; j < c.faults.size(); ++j) {
      if (c.faults[j].onset_ns > 0) {
        r.fail(at, key, "given with faults[" + std::to_string(j) + "].onset_ns", "onsets in time steps only (onset_step) in a spiking plan that has any");
      }
    }
    if (c.bounds_listed && !c.bounds.empty()) {
      r.fail(root["bounds"], "bounds", "the bounds model faults that act on the whole inference (" + key + " " +
                                           std::to_string(c.faults[i].onset_step) + ")",
             "bounds: [] with onset_step");
    }
    c.bounds.clear();
  }
  // Threshold and leak deviations act on spiking neurons, lossy routers and links drop spikes, and
  // the rate bounds have no term for them.
  for (std::size_t i = 0; i < c.faults.size(); ++i) {
    if (!c.faults[i].spiking_only()) continue;
    const YAML::Node at = root["faults"][i];
    const std::string key = "faults[" + std::to_string(i) + "]";
    const bool drops = c.faults[i].drops_spikes();
    if (!c.spiking) {
      r.fail(at, key, c.faults[i].kind_name() + (drops ? " drops spikes" : " acts on spiking neurons' thresholds and leaks"),
             "spiking: with it");
    }
    if (c.bounds_listed && !c.bounds.empty()) {
      r.fail(root["bounds"], "bounds",
             (drops ? "the bounds do not model dropped spikes (" : "the bounds do not model a spiking neuron's threshold or leak (") + key +
                 ", " + c.faults[i].kind_name() + ")",
             drops ? "bounds: [] with lossy_router or lossy_link" : "bounds: [] with threshold_deviation or leak_deviation");
    }
    c.bounds.clear();
  }
  const bool timing = c.deadline_ns || std::any_of(c.faults.begin(), c.faults.end(), [](const faults::FaultSpec& f) {
                        return f.is_timing();
                      });
  if (timing && root["criticality"]) {
    r.fail(root["criticality"], "criticality", "ranks units by b4, which does not model timing faults or deadlines",
           "no criticality: with slow_tile, slow_array, slow_link or deadline_ns");
  }
  if (timing && !c.bounds.empty()) {
    if (c.bounds_listed) {
      r.fail(root["bounds"], "bounds", "bounds do not model timing faults or deadlines (slow_tile, slow_array, slow_link, deadline_ns)",
             "bounds: [] with timing faults or a deadline");
    }
    c.bounds.clear();
  }
  // Requirements are checked here, not after the run: a bound that will not be computed, a
  // condition that does not apply to it or a threshold that cannot be met is bad input.
  if (const YAML::Node req = root["require"]) {
    if (!req.IsMap()) r.fail(req, "require", "wrong type", "a mapping like {b4: {max_median_rel_err: 0.05}, worst_case: holds}");
    const std::vector<std::string> magnitude{"b1_1", "b1_2", "b1_inf", "b1_paper_1", "b1_paper_2", "b1_paper_inf", "b2", "worst_case"};
    std::vector<std::string> judged = magnitude;
    judged.insert(judged.end(), {"b3", "b4", "programming", "accuracy", "error"});
    for (const auto& kv : req) {
      if (!kv.first.IsScalar()) r.fail(kv.first, "require", "a key that is not a plain name", "one of " + core::join(judged, ", "));
      const std::string bound = kv.first.Scalar();
      const std::string key = "require." + bound;
      // Not bounds: budgets on what the faulty network measures (requirements.cpp).
      if (is_budget(bound)) {
        read_budget(r, bound, kv.first, kv.second, c, c.require);
        continue;
      }
      // Not a bound: what programming the crossbars may change before any fault.
      if (bound == "programming") {
        const std::vector<std::string> conditions{"max_abs_output_error", "max_abs_weight_error"};
        if (!kv.second.IsMap()) r.fail(kv.second, key, "wrong type", "a mapping like {max_abs_output_error: 0.1}");
        if (!c.chip) r.fail(kv.first, key, "nothing to program (the campaign has no chip)", "a chip: section (programming happens on its crossbars)");
        r.check_keys(kv.second, key, conditions);
        for (const auto& cond : kv.second) {
          const std::string name = cond.first.as<std::string>();
          const double t = r.number(cond.second, key + "." + name);
          if (!(t >= 0)) r.fail(cond.second, key + "." + name, "threshold out of range", "a number >= 0");
          c.require.push_back({bound, name, t, -1, {}, {}});
        }
        continue;
      }
      if (std::find(judged.begin(), judged.end(), bound) == judged.end()) {
        const std::string best = core::closest_match(bound, judged);
        r.fail(kv.first, key, "unknown bound" + (best.empty() ? std::string() : " (did you mean '" + best + "'?)"),
               "one of " + core::join(judged, ", "));
      }
      const std::string family = bound.substr(0, bound.find('_') == 2 ? 2 : bound.size());
      if (std::find(c.bounds.begin(), c.bounds.end(), family) == c.bounds.end()) {
        r.fail(kv.first, key, "bound '" + family + "' is not computed by this campaign", "it in bounds: (now " + core::join(c.bounds, ", ") + ")");
      }
      const bool is_magnitude = std::find(magnitude.begin(), magnitude.end(), bound) != magnitude.end();
      auto add = [&](const std::string& name, const YAML::Node& value) {
        if (name == "holds") {
          if (!is_magnitude) r.fail(value, key, "'holds' applies to magnitude bounds only", "one of " + core::join(magnitude, ", "));
          c.require.push_back({bound, "holds", 0, -1, {}, {}});
          return;
        }
        const double t = r.number(value, key + "." + name);
        const bool ok = name == "min_pearson" ? (t >= -1 && t <= 1)
                        : name == "max_rank_loss" ? (t >= 0 && t <= 0.5)
                        : name == "min_inside_ci" ? (t >= 0 && t <= 1)
                                                  : t >= 0;  // max_median_rel_err
        if (!ok) {
          r.fail(value, key + "." + name, "threshold out of range",
                 name == "min_pearson" ? "a number in [-1, 1]" : name == "max_rank_loss" ? "a number in [0, 0.5]"
                 : name == "min_inside_ci" ? "a fraction in [0, 1]" : "a number >= 0");
        }
        c.require.push_back({bound, name, t, -1, {}, {}});
      };
      if (kv.second.IsScalar()) {
        if (kv.second.Scalar() != "holds") r.fail(kv.second, key, "unknown requirement", "holds, or a mapping of conditions");
        add("holds", kv.second);
        continue;
      }
      r.check_keys(kv.second, key, requirement_conditions());
      for (const auto& cond : kv.second) add(cond.first.as<std::string>(), cond.second);
    }
  }
  return c;
}

namespace {

std::string read_campaign_text(const std::string& path) {
  return core::read_input_file(path, "a campaign YAML file", core::kMaxTextFileBytes);
}

}  // namespace

std::vector<CampaignConfig> load_campaign_points(const std::string& path, const std::vector<std::string>& overrides) {
  const std::string text = read_campaign_text(path);
  const std::string base = std::filesystem::path(path).parent_path().string();
  // The sweep is read after the overrides: --set sweep.values=[...] (or sweep.key, or a whole
  // sweep=...) changes the points; an override that fails is reported as parse_campaign would.
  YAML::Node root = core::parse_yaml(text, path);
  if (root.IsMap()) {
    for (const auto& o : overrides) {
      try {
        apply_override(root, o);
      } catch (const core::InputError& e) {
        throw core::InputError(path + ": " + e.what());
      }
    }
  }
  const Reader r(path, base, reader_overrides(overrides));
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
  // sweep: null (--set sweep=null) runs the campaign without its sweep.
  if (root.IsMap() && root["sweep"] && !root["sweep"].IsNull()) {
    const YAML::Node sweep = root["sweep"];
    std::vector<YAML::Node> list;
    if (sweep.IsMap()) {
      list.push_back(sweep);
    } else if (sweep.IsSequence()) {
      for (const auto& n : sweep) list.push_back(n);
    } else {
      r.fail(sweep, "sweep", "wrong type", "{key: KEY, values: [...]} or a list of them (a grid)");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string key = "sweep" + (sweep.IsSequence() ? "[" + std::to_string(i) + "]" : std::string());
      r.check_keys(list[i], key, {"key", "values"});
      if (!list[i]["key"] || !list[i]["values"] || !list[i]["values"].IsSequence() || list[i]["values"].size() == 0) {
        r.missing(list[i], key, "needs key and a non-empty values list", "{key: faults[0].probability, values: [0.001, 0.01]}");
      }
      std::vector<std::string> values;
      for (const auto& v : list[i]["values"]) {
        YAML::Emitter e;
        e << YAML::Flow << v;
        values.push_back(e.c_str());
      }
      // key: a list of keys moves them together (they all take each value).
      std::string keys;
      if (list[i]["key"].IsSequence()) {
        for (std::size_t k = 0; k < list[i]["key"].size(); ++k) {
          keys += (k ? "&" : "") + r.text(list[i]["key"][k], key + ".key[" + std::to_string(k) + "]");
        }
      } else {
        keys = r.text(list[i]["key"], key + ".key");
      }
      for (const auto& k : core::split(keys, '&')) {
        if (k == "sweep" || k.rfind("sweep.", 0) == 0 || k.rfind("sweep[", 0) == 0) {
          r.fail(list[i]["key"], key + ".key", "a sweep cannot sweep itself", "a campaign key such as faults[0].probability");
        }
        if (k == "mission" || k.rfind("mission.", 0) == 0) {
          r.fail(list[i]["key"], key + ".key", "the mission's checkpoints are an axis of their own",
                 "a key outside mission: (one campaign per mission length)");
        }
        for (const auto& [other, unused] : axes) {
          const auto others = core::split(other, '&');
          if (std::find(others.begin(), others.end(), k) != others.end()) {
            r.fail(list[i]["key"], key + ".key", "key '" + k + "' swept twice (the later axis would override the earlier)",
                   "each key in one axis only (a list of keys moves them together)");
          }
        }
      }
      axes.emplace_back(keys, values);
    }
  }
  // mission: one point per checkpoint, the last (fastest) axis.
  if (root.IsMap() && root["mission"] && root["mission"].IsMap() && root["mission"]["hours"]) {
    const YAML::Node m = root["mission"];
    const double hours = r.number(m["hours"], "mission.hours");
    const std::int64_t k = m["checkpoints"] ? r.integer(m["checkpoints"], "mission.checkpoints", 1, 1000) : 10;
    if (hours > 0 && hours <= 1e7) {
      std::vector<std::string> values;
      for (std::int64_t i = 1; i <= k; ++i) values.push_back(core::format_double(i == k ? hours : hours * static_cast<double>(i) / static_cast<double>(k)));
      axes.emplace_back("mission.at_hours", values);
    }
  }
  // An override of a key the sweep varies would be replaced by each point's value: refused.
  for (const auto& o : overrides) {
    const std::string set = override_key(o);
    if (set == "sweep" || set.rfind("sweep.", 0) == 0 || set.rfind("sweep[", 0) == 0) continue;
    for (const auto& [keys, unused] : axes) {
      for (const auto& k : core::split(keys, '&')) {
        if (!keys_overlap(set, k)) continue;
        core::throw_input_error(r.context(YAML::Node(), set),
                                set == k ? "the sweep varies this key, so each point would replace the value set here"
                                         : "the sweep varies '" + k + "', so each point would replace what is set here",
                                "", "--set 'sweep.values=[...]' to change the swept values, or a key the sweep does not vary");
      }
    }
  }
  std::vector<CampaignConfig> points;
  std::vector<std::size_t> index(axes.size(), 0);
  while (true) {
    std::vector<std::string> point_overrides = overrides;
    std::vector<std::pair<std::string, std::string>> labels;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      for (const auto& k : core::split(axes[a].first, '&')) point_overrides.push_back(kSweepPrefix + k + "=" + axes[a].second[index[a]]);
      labels.emplace_back(axes[a].first, axes[a].second[index[a]]);
    }
    CampaignConfig c;
    try {
      c = parse_campaign(text, path, base, point_overrides);
    } catch (const core::InputError& e) {
      if (labels.empty()) throw;
      std::string where;
      for (const auto& [k, v] : labels) where += (where.empty() ? "" : ", ") + k + "=" + v;
      throw core::InputError(std::string(e.what()) + " (at sweep point " + where + ")");
    }
    c.sweep_point = labels;
    points.push_back(std::move(c));
    std::size_t a = axes.size();
    while (a > 0) {
      --a;
      if (++index[a] < axes[a].second.size()) break;
      index[a] = 0;
      if (a == 0) return points;
    }
    if (axes.empty()) return points;
  }
}

CampaignConfig load_single_point(const std::string& path, const std::vector<std::string>& overrides, const std::string& command) {
  std::vector<CampaignConfig> points = load_campaign_points(path, overrides);
  if (points.size() != 1) {
    throw core::InputError(path + ": sweep: " + std::to_string(points.size()) + " points; expected one point for " + command +
                           " (keep one value with --set 'sweep.values=[V]', or drop the sweep with --set sweep=null)");
  }
  if (points.front().spiking) {
    throw core::InputError(path + ": spiking: nfsim " + command + " does not run spiking networks yet (its searches run the "
                           "rate engines); expected a campaign without spiking:, or nfsim run with a sweep of the probability");
  }
  // The single-point commands (tolerate, harden, criticality) run their own Monte Carlo of |Delta|
  // and accuracy, which the control variate does not estimate: said once, not silently ignored.
  if (points.front().control_variate()) {
    std::fprintf(stderr, "nfsim %s: note: %s: estimator: control_variate applies to nfsim run (the mean and std of Delta); "
                         "%s's Monte Carlo is plain\n", command.c_str(), path.c_str(), command.c_str());
  }
  return std::move(points.front());
}

CampaignConfig load_campaign(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_campaign(read_campaign_text(path), path, std::filesystem::path(path).parent_path().string(), overrides);
}

}  // namespace nfsim::tb
