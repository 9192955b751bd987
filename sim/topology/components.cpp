#include "sim/topology/components.h"

#include "core/error.h"
#include "core/plugin.h"

namespace nfsim::sim {
namespace {

template <typename Registry>
const typename Registry::Entry& entry_of(const ChipTopology& t, const ComponentSection& s) {
  return Registry::instance().get(s.type, t.file + ": " + s.key + ".type");
}

// A parameter's value in its declared type, as JSON.
nlohmann::json typed_value(const core::Params& p, const core::ParamSpec& spec) {
  if (spec.type == "int") return p.integer(spec.name);
  if (spec.type == "double") return p.number(spec.name);
  if (spec.type == "bool") return p.flag(spec.name);
  return p.text(spec.name);
}

template <typename Registry>
nlohmann::json section_json(const ChipTopology& t, const ComponentSection& s, const std::string& describe) {
  const auto& e = entry_of<Registry>(t, s);
  const core::Params& p = s.params;
  nlohmann::json params = nlohmann::json::object();
  for (const auto& spec : p.specs()) params[spec.name] = typed_value(p, spec);
  nlohmann::json j{{"type", e.name},
                   {"library", Registry::instance().library(e.name)},
                   {"description", e.description},
                   {"parameters", params}};
  if (!describe.empty()) j["describe"] = describe;
  return j;
}

}  // namespace

std::unique_ptr<ICrossbarModel> make_crossbar_model(const ChipTopology& t) {
  const auto& e = entry_of<CrossbarRegistry>(t, t.crossbar);
  return e.make(t.crossbar.params);
}

std::unique_ptr<INeuronModel> make_neuron_model(const ChipTopology& t) {
  const auto& e = entry_of<NeuronRegistry>(t, t.neuron_array);
  return e.make(t.neuron_array.params);
}

namespace {

// The interconnect model of a chip whose interconnect is a foreign TLM-2.0 module: the module
// routes and times messages itself; for everything else (router faults, the functional engine's
// routes, link bandwidths) there are no routers and no links.
class ForeignInterconnect : public IInterconnectModel {
 public:
  explicit ForeignInterconnect(std::string what) : what_(std::move(what)) {}
  std::vector<int> route(int, int) const override { return {}; }
  double latency_ns(const std::vector<int>&, std::size_t) const override { return 0.0; }
  int router_count() const override { return 0; }
  std::string describe() const override { return what_; }

 private:
  std::string what_;
};

}  // namespace

std::unique_ptr<IInterconnectModel> make_interconnect(const ChipTopology& t) {
  if (t.tlm_interconnect) {
    const std::string library = TlmInterconnectRegistry::instance().library(t.tlm_interconnect->type);
    return std::make_unique<ForeignInterconnect>("TLM-2.0 module '" + t.tlm_interconnect->type + "' (" + library + ")");
  }
  const auto& e = entry_of<InterconnectRegistry>(t, t.interconnect);
  return e.make(t.interconnect.params, t);
}

TlmInterconnect make_tlm_interconnect(const ChipTopology& t, const char* name) {
  const ComponentSection& s = *t.tlm_interconnect;
  const auto& e = entry_of<TlmInterconnectRegistry>(t, s);
  std::unique_ptr<TlmInterconnect> made = e.make(s.params, t, name);
  const std::string who = t.file + ": " + s.key + ".type: TLM-2.0 module '" + e.name + "' (" +
                          TlmInterconnectRegistry::instance().library(e.name) + ")";
  if (!made || !made->module) throw core::InputError(who + " made no module; expected its factory to return the sc_module");
  if (made->in == nullptr || made->out == nullptr) {
    throw core::InputError(who + " gave no " + std::string(made->in == nullptr ? "'in' (target)" : "'out' (initiator)") +
                           " socket; expected both sockets of docs/chip.md, \"Foreign TLM-2.0 modules\"");
  }
  return std::move(*made);
}

std::unique_ptr<IMapper> make_mapper(const ChipTopology& t) {
  const auto& e = entry_of<MapperRegistry>(t, t.mapping);
  return e.make(t.mapping.params);
}

nlohmann::json component_provenance(const MappedChip& chip) {
  const ChipTopology& t = chip.topology;
  nlohmann::json j;
  j["crossbar"] = section_json<CrossbarRegistry>(t, t.crossbar, make_crossbar_model(t)->describe());
  j["crossbar"]["topology"] = {
      {"rows", t.crossbar_rows}, {"cols", t.crossbar_cols}, {"read_latency_ns", t.read_latency_ns}};
  j["neuron_array"] = section_json<NeuronRegistry>(t, t.neuron_array, make_neuron_model(t)->describe());
  j["neuron_array"]["topology"] = {{"size", t.neuron_array_size}, {"update_latency_ns", t.update_latency_ns}};
  if (t.tlm_interconnect) {
    j["interconnect"] = section_json<TlmInterconnectRegistry>(t, *t.tlm_interconnect, chip.interconnect->describe());
  } else {
    j["interconnect"] = section_json<InterconnectRegistry>(t, t.interconnect, chip.interconnect->describe());
  }
  j["mapping"] = section_json<MapperRegistry>(t, t.mapping, "");
  return j;
}

nlohmann::json plugin_provenance() {
  nlohmann::json list = nlohmann::json::array();
  for (const core::LoadedPlugin& p : core::loaded_plugins()) {
    list.push_back({{"path", p.path},
                    {"resolved_path", p.resolved_path},
                    {"origin", p.origin},
                    {"fnv1a64", p.fnv1a64},
                    {"registered", p.registered}});
  }
  return list;
}

}  // namespace nfsim::sim
