#include <algorithm>

#include "core/error.h"
#include "core/plugin.h"
#include "core/strings.h"
#include "sim/engine/i_engine.h"
#include "sim/topology/mapping.h"

namespace nfsim::sim {

EngineRegistry& EngineRegistry::instance() {
  static EngineRegistry registry;
  return registry;
}

// Registration runs in static initialisers (also inside dlopen, where throwing would abort): like
// the component registries, a name registered twice is kept out and refused by the plug-in
// loader (core::load_plugin), naming both libraries; a plug-in that registers an engine has
// registered something.
void EngineRegistry::add(Entry entry) {
  const auto owner = owners_.find(entry.name);
  const std::string library =
      core::detail::note_registration("engine", entry.name, owner == owners_.end() ? std::string() : owner->second);
  if (owner != owners_.end()) return;
  owners_[entry.name] = library;
  const std::string name = entry.name;
  entries_.emplace(name, std::move(entry));
}

const EngineRegistry::Entry& EngineRegistry::get(const std::string& name, const std::string& where) const {
  const auto it = entries_.find(name);
  if (it != entries_.end()) return it->second;
  const std::string guess = core::closest_match(name, this->names());
  throw core::InputError(where + ": unknown engine '" + name + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                         "; expected " + names_with([](const EngineCapabilities&) { return true; }));
}

std::vector<const EngineRegistry::Entry*> EngineRegistry::entries() const {
  std::vector<const Entry*> out;
  for (const auto& [n, e] : entries_) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(), [](const Entry* a, const Entry* b) { return a->rank < b->rank; });
  return out;
}

std::vector<std::string> EngineRegistry::names() const {
  std::vector<std::string> out;
  for (const Entry* e : entries()) out.push_back(e->name);
  return out;
}

std::string EngineRegistry::names_with(const std::function<bool(const EngineCapabilities&)>& has, const std::string& last_sep) const {
  std::vector<std::string> names;
  for (const Entry* e : entries()) {
    if (has(e->capabilities)) names.push_back(e->name);
  }
  if (names.empty()) return "none";
  std::string out = names.front();
  for (std::size_t i = 1; i < names.size(); ++i) out += (i + 1 == names.size() ? last_sep : ", ") + names[i];
  return out;
}

EngineNeeds engine_needs(const faults::FaultPlan* plan, const MappedChip* chip) {
  EngineNeeds needs;
  for (std::size_t s = 0; plan && s < plan->size(); ++s) {
    const auto& spec = plan->specs()[s];
    needs.onset_times = needs.onset_times || spec.onset_ns > 0;
    needs.timing = needs.timing || spec.is_timing();
    needs.physical_faults = needs.physical_faults || !spec.physical_kind.empty();
  }
  if (plan) needs.fault_units = uncertain_units(*plan);
  if (chip) {
    needs.has_chip = true;
    needs.read_noise = chip->noisy_reads;
    needs.neuron_type = chip->topology.neuron_array.type;
    needs.crossbar_type = chip->topology.crossbar.type;
    needs.chip_file = chip->topology.file;
  }
  return needs;
}

void check_engine_can(const EngineRegistry::Entry& engine, const EngineNeeds& needs) {
  const auto& caps = engine.capabilities;
  const EngineRegistry& registry = EngineRegistry::instance();
  // "engine 'functional' cannot honour X, which only the chip engine models; expected engine: chip"
  auto refuse = [&](const std::string& feature, const std::function<bool(const EngineCapabilities&)>& has) {
    const std::string names = registry.names_with(has);
    const bool one = names.find(' ') == std::string::npos;
    throw core::InputError((needs.chip_file.empty() ? "" : needs.chip_file + ": ") + "engine '" + engine.name + "' cannot honour " +
                           feature + ", which only " + (one ? "the " + names + " engine models" : "engines " + names + " model") +
                           "; expected engine: " + names);
  };
  if (caps.needs_chip && !needs.has_chip) {
    throw core::InputError("engine '" + engine.name + "' needs a chip topology (chip: PATH or an inline chip: section)");
  }
  if (needs.onset_times && !caps.onset_times) {
    refuse("fault onset times (onset_ns > 0): they need simulated time", [](const EngineCapabilities& c) { return c.onset_times; });
  }
  if (needs.timing && !caps.onset_times) {
    refuse("timing faults, deadlines and streams (slow_tile, slow_array, slow_link, deadline_ns, stream): they act through simulated time",
           [](const EngineCapabilities& c) { return c.onset_times; });
  }
  if (needs.read_noise && !caps.read_noise) {
    refuse("crossbar type '" + needs.crossbar_type + "': it adds read noise", [](const EngineCapabilities& c) { return c.read_noise; });
  }
  // The functional model has rate units and, under spiking:, SpikingModel's integrate-and-fire
  // dynamics, which are the built-in lif and if arrays' (a rate campaign on those is refused by
  // the campaign's checks). Any other type, a plug-in's spiking one included, is the chip's.
  const bool builtin_neurons = needs.neuron_type == "rate" || needs.neuron_type == "lif" || needs.neuron_type == "if";
  if (!needs.neuron_type.empty() && !builtin_neurons && !caps.custom_neurons) {
    refuse("neuron-array type '" + needs.neuron_type + "' (a neuron model other than the built-in rate, lif and if)",
           [](const EngineCapabilities& c) { return c.custom_neurons; });
  }
  if (needs.physical_faults && !caps.physical_faults) {
    refuse("physical faults (crossbar rows, columns, tiles, neuron arrays, routers): they need a mapped chip",
           [](const EngineCapabilities& c) { return c.physical_faults; });
  }
  if (needs.replicas > 1 && !caps.replicas) {
    refuse("replicas (" + std::to_string(needs.replicas) + " copies of the network with a median at the host: the seed paper's "
           "Algorithm 1)", [](const EngineCapabilities& c) { return c.replicas; });
  }
  if (needs.spiking && !caps.spiking) {
    refuse("spiking: (integrate-and-fire arrays, time-stepped)", [](const EngineCapabilities& c) { return c.spiking; });
  }
  if (needs.control_variate && !caps.control_variate) {
    refuse("estimator: control_variate (the first-order expansion as a control variate, split off every Monte-Carlo trial)",
           [](const EngineCapabilities& c) { return c.control_variate; });
  }
  if (caps.max_fault_units > 0 && needs.fault_units > caps.max_fault_units) {
    throw core::InputError("engine '" + engine.name + "' enumerates every subset of the failing units and accepts at most " +
                           std::to_string(caps.max_fault_units) + " units; the fault plan has " +
                           std::to_string(needs.fault_units) + " (use fewer layers or a smaller network, or engine: " +
                           registry.names_with([](const EngineCapabilities& c) { return !c.exact; }) + " for Monte Carlo)");
  }
}

std::string describe_capabilities(const EngineCapabilities& caps) {
  std::vector<std::string> words;
  if (caps.exact) words.push_back("exact (every fault subset, at most " + std::to_string(caps.max_fault_units) + " units)");
  if (!caps.exact) words.push_back("Monte Carlo");
  if (caps.onset_times) words.push_back("onset times");
  if (caps.read_noise) words.push_back("read noise");
  words.push_back(caps.custom_neurons ? "any neuron model" : "built-in neurons only (rate, lif, if)");
  if (caps.physical_faults) words.push_back("physical faults");
  if (caps.needs_chip) words.push_back("needs a chip");
  if (caps.parallel_blocks) words.push_back("threads");
  if (caps.replicas) words.push_back("replicas");
  if (caps.control_variate) words.push_back("control variate");
  if (caps.spiking) words.push_back("spiking");
  return core::join(words, ", ");
}

}  // namespace nfsim::sim
