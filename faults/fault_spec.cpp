#include "faults/fault_spec.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/running_stats.h"
#include "core/strings.h"
#include "faults/physical_kind.h"

namespace nfsim::faults {

std::string FixedPointFormat::describe() const {
  return "Q" + std::to_string(total_bits - frac_bits - 1) + "." + std::to_string(frac_bits) + " (" +
         std::to_string(total_bits) + " bits)";
}

bool FaultSpec::is_timing() const { return is_physical_kind(physical_kind) && is_timing_kind(parse_physical_kind(physical_kind)); }

bool FaultSpec::acts_through_time() const {
  return is_timing() || (is_physical_kind(physical_kind) && parse_physical_kind(physical_kind) == PhysicalKind::router);
}

bool FaultSpec::acts_on_neurons() const {
  return kind == FaultKind::neuron_crash || kind == FaultKind::neuron_stuck_at;
}
bool FaultSpec::acts_on_neuron_parameters() const {
  return kind == FaultKind::threshold_deviation || kind == FaultKind::leak_deviation;
}
bool FaultSpec::drops_spikes() const {
  return is_physical_kind(physical_kind) && is_spike_loss_kind(parse_physical_kind(physical_kind));
}
bool FaultSpec::acts_on_synapses() const {
  return kind == FaultKind::synapse_crash || kind == FaultKind::synapse_stuck_at || kind == FaultKind::weight_bit_flip;
}

std::string FaultSpec::describe() const {
  std::string s = kind_name();
  if (!physical_kind.empty()) {
    s += " units=" + std::to_string(groups.size());
  } else if (kind == FaultKind::group_crash) {
    s += " groups=" + std::to_string(groups.size());
  } else {
    std::vector<std::string> ls;
    for (int l : layers) ls.push_back(std::to_string(l));
    s += " layers=[" + core::join(ls, ",") + "]";
  }
  s += " p=" + core::format_double(probability) + " " + to_string(persistence);
  if (kind == FaultKind::neuron_stuck_at || kind == FaultKind::synapse_stuck_at)
    s += " value=" + core::format_double(value);
  if (kind == FaultKind::weight_bit_flip) s += " bit=" + std::to_string(bit) + " format=" + format.describe();
  if (onset_ns > 0) s += " onset=" + core::format_double(onset_ns) + "ns";
  if (onset_step > 0) s += " onset_step=" + std::to_string(onset_step);
  if (factor > 0) s += " factor=" + core::format_double(factor);
  if (drop_probability > 0) s += " drop_probability=" + core::format_double(drop_probability);
  return s;
}

void validate_fault_spec(const FaultSpec& spec, const std::set<std::string>& given, const FaultFieldError& fail_at) {
  auto fail = [&](const std::string& field, const std::string& what, const std::string& expected) {
    fail_at(field, what, expected);
    throw core::InternalError("fault spec field error handler returned");
  };
  const std::string kind = spec.kind_name();
  const bool stuck = spec.kind == FaultKind::neuron_stuck_at || spec.kind == FaultKind::synapse_stuck_at;
  const bool flip = spec.kind == FaultKind::weight_bit_flip;
  const bool group = spec.kind == FaultKind::group_crash;
  // Fields that do not apply to the kind would be ignored silently: a crash with `value: 0.5`
  // is not a stuck-at fault.
  auto refuse = [&](const std::string& field, bool applies, const std::string& which) {
    if (given.count(field) && !applies)
      fail(field, "does not apply to " + kind + " faults", "'" + field + "' only on " + which);
  };
  refuse("value", stuck, "neuron_stuck_at and synapse_stuck_at");
  const bool slow = spec.is_timing();
  const bool deviation = spec.acts_on_neuron_parameters();
  refuse("factor", slow || deviation, "slow_tile, slow_array, slow_link, threshold_deviation and leak_deviation");
  if (slow && !given.count("factor")) fail("factor", "missing", "the factor the unit's latency is multiplied by, in [1, 1e6]");
  if (slow && !(spec.factor >= 1.0 && spec.factor <= 1e6)) fail("factor", "out of range", "a factor in [1, 1e6]");
  if (deviation && !given.count("factor")) {
    fail("factor", "missing", std::string("the factor the neuron's ") + (spec.kind == FaultKind::threshold_deviation ? "threshold" : "leak") +
                                  " is multiplied by, in (0, 1e6]");
  }
  if (deviation && !(spec.factor > 0.0 && spec.factor <= 1e6)) fail("factor", "out of range", "a factor in (0, 1e6]");
  if (deviation && std::find(spec.layers.begin(), spec.layers.end(), 0) != spec.layers.end()) {
    fail("layers", "layer 0 is the input, whose spike trains have no threshold or leak", "spiking layers 1..L");
  }
  const bool lossy = spec.drops_spikes();
  refuse("drop_probability", lossy, "lossy_router and lossy_link");
  if (lossy && !given.count("drop_probability")) {
    fail("drop_probability", "missing", "the probability that a failed unit drops each spike crossing it, in (0, 1]");
  }
  if (lossy && !(spec.drop_probability > 0.0 && spec.drop_probability <= 1.0)) {
    fail("drop_probability", "out of range", "a probability in (0, 1]");
  }
  refuse("bit", flip, "weight_bit_flip");
  refuse("format", flip, "weight_bit_flip");
  refuse("groups", group && spec.physical_kind.empty(), "group_crash (physical kinds take their units from the chip)");
  if (is_physical_kind(spec.physical_kind) &&
      (is_link_kind(parse_physical_kind(spec.physical_kind)) || is_router_kind(parse_physical_kind(spec.physical_kind)))) {
    refuse("layers", false, "logical kinds and the per-layer physical kinds (routers and links are not per layer)");
  } else {
    refuse("layers", !group || !spec.physical_kind.empty(),
           "logical kinds other than group_crash, and the per-layer physical kinds");
  }
  if (!std::isfinite(spec.probability) || spec.probability < 0.0 || spec.probability > 1.0) {
    fail("probability", "probability out of range", "a number in [0, 1]");
  }
  if (!std::isfinite(spec.onset_ns) || spec.onset_ns < 0 || spec.onset_ns > kMaxOnsetNs) {
    fail("onset_ns", "out of range", "a time in [0, 1e15] ns (inside SystemC's time range)");
  }
  if (spec.onset_step < 0 || spec.onset_step > kMaxOnsetStep) fail("onset_step", "out of range", "a time step in [0, 100000]");
  if (spec.onset_step > 0 && spec.onset_ns > 0) {
    fail("onset_step", "given with onset_ns", "one onset: onset_step (time steps of a spiking inference) or onset_ns");
  }
  if (!std::isfinite(spec.value)) fail("value", "not a finite number", "a finite number");
  // A stuck-at value beyond the statistics' safe magnitude would make every moment of a trial
  // that draws it overflow (core/running_stats.h, kMaxStatisticMagnitude).
  if (std::abs(spec.value) > core::kMaxStatisticMagnitude)
    fail("value", "magnitude beyond 1e60", "a finite number of magnitude <= 1e60 (larger values overflow the statistics)");
  if (flip) {
    if (spec.format.total_bits < 2 || spec.format.total_bits > 32 || spec.format.frac_bits < 0 ||
        spec.format.frac_bits >= spec.format.total_bits) {
      fail("format", "format out of range", "2..32 bits with fewer fraction bits, e.g. 8.6");
    }
    if (spec.bit < 0 || spec.bit >= spec.format.total_bits) {
      fail("bit", "bit out of range for the format",
           "a bit in 0.." + std::to_string(spec.format.total_bits - 1) + " (" + spec.format.describe() + ")");
    }
  }
  if (group && spec.physical_kind.empty()) {
    // Group names label the fault log and the report: two groups of one name cannot be told apart.
    std::set<std::string> names;
    for (const FaultGroup& g : spec.groups) {
      if (!names.insert(g.name).second)
        fail("groups", "group name '" + g.name + "' given twice", "each group name once");
    }
  }
}

std::set<std::string> fields_set(const FaultSpec& spec) {
  std::set<std::string> given;
  const FixedPointFormat default_format;
  if (spec.value != 0.0) given.insert("value");
  if (spec.factor != 0.0) given.insert("factor");
  if (spec.drop_probability != 0.0) given.insert("drop_probability");
  if (spec.onset_step != 0) given.insert("onset_step");
  if (spec.bit != 0) given.insert("bit");
  if (spec.format.total_bits != default_format.total_bits || spec.format.frac_bits != default_format.frac_bits)
    given.insert("format");
  if (!spec.layers.empty()) given.insert("layers");
  if (!spec.groups.empty() && spec.physical_kind.empty()) given.insert("groups");
  return given;
}

FaultSpec parse_fault_spec(const std::string& text) {
  const auto fields = core::split(text, ':');
  FaultSpec spec;
  const std::string where = "fault spec '" + text + "'";
  spec.origin = where;
  // The kind and persistence parsers do not know the spec: their errors get its text in front.
  auto naming_spec = [&where](auto parse) {
    try {
      return parse();
    } catch (const core::InputError& e) {
      throw core::InputError(where + ": " + e.what());
    }
  };
  spec.kind = naming_spec([&] { return parse_fault_kind(core::trim(fields[0])); });
  if (spec.kind == FaultKind::group_crash) {
    throw core::InputError(where +
                           ": group_crash needs explicit members; expected it in a campaign file's faults: section");
  }
  bool has_p = false;
  std::vector<std::string> seen;
  std::map<std::string, std::string> written;  // field of FaultSpec -> the text given for it
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const auto eq = fields[i].find('=');
    if (eq == std::string::npos) {
      throw core::InputError(where + ": field '" + fields[i] +
                             "' is not KEY=VALUE; expected layers=, p=, persistence=, value=, bit=, format=");
    }
    const std::string key = core::trim(fields[i].substr(0, eq)), val = core::trim(fields[i].substr(eq + 1));
    const std::string canonical = key == "layer" ? "layers" : key == "probability" ? "p" : key;
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) {
      throw core::InputError(where + ": field '" + key + "' given twice; expected each field once");
    }
    seen.push_back(canonical);
    if (key == "layers" || key == "layer") {
      for (const auto& l : core::split(val, ','))
        spec.layers.push_back(static_cast<int>(core::parse_int(l, where + " layers", 0, 1000000)));
      written["layers"] = val;
    } else if (key == "p" || key == "probability") {
      spec.probability = core::parse_double(val, where + " p");
      written["probability"] = val;
      has_p = true;
    } else if (key == "persistence") {
      spec.persistence = naming_spec([&] { return parse_persistence(val); });
    } else if (key == "value") {
      spec.value = core::parse_double(val, where + " value");
      written["value"] = val;
    } else if (key == "bit") {
      spec.bit = static_cast<int>(core::parse_int(val, where + " bit", 0, 1000000));
      written["bit"] = val;
    } else if (key == "format") {
      const auto parts = core::split(val, '.');
      if (parts.size() != 2)
        throw core::InputError(where + ": format '" + val + "'; expected TOTAL.FRAC bits, e.g. 8.6");
      spec.format.total_bits = static_cast<int>(core::parse_int(parts[0], where + " format total bits", 0, 1000000));
      spec.format.frac_bits = static_cast<int>(core::parse_int(parts[1], where + " format fraction bits", 0, 1000000));
      written["format"] = val;
    } else {
      throw core::InputError(where + ": unknown field '" + key +
                             "'; expected layers, p, persistence, value, bit or format");
    }
  }
  std::set<std::string> given;
  for (const auto& [field, val] : written) given.insert(field);
  validate_fault_spec(spec, given, [&](const std::string& field, const std::string& what, const std::string& expected) {
    const std::string shown = field == "probability" ? "p" : field;
    const auto it = written.find(field);
    core::throw_input_error({where, 0, shown}, what, it == written.end() ? std::string() : "'" + it->second + "'",
                            expected);
  });
  if (!has_p) throw core::InputError(where + ": missing p=PROBABILITY");
  if (spec.layers.empty()) throw core::InputError(where + ": missing layers=L[,L...]");
  return spec;
}

}  // namespace nfsim::faults
