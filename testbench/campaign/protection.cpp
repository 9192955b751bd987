// Protection of a campaign's units: TMR and spare rows/columns (docs/faults.md, "Protection").
#include "testbench/campaign/protection.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "core/strings.h"
#include "core/yaml_reader.h"
#include "faults/physical_kind.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"

namespace nfsim::tb {

Protection read_protection(const core::YamlReader& r, const YAML::Node& node, const std::vector<faults::FaultSpec>& faults,
                           bool has_chip) {
  Protection out;
  if (!node.IsMap()) r.fail(node, "protection", "wrong type", "a mapping with tmr: and/or spares:");
  r.check_keys(node, "protection", {"tmr", "spares"});
  if (const YAML::Node tmr = node["tmr"]) {
    if (!tmr.IsSequence() || tmr.size() == 0) {
      r.fail(tmr, "protection.tmr", "not a non-empty list", "a list of {spec: S, units: [...]}, {neurons: [[layer, index], ...]} or {synapses: [[layer, row, col], ...]}");
    }
    for (std::size_t i = 0; i < tmr.size(); ++i) {
      const std::string key = "protection.tmr[" + std::to_string(i) + "]";
      const YAML::Node e = tmr[i];
      if (!e.IsMap()) r.fail(e, key, "wrong type", "{spec: S, units: [...]}, {neurons: [[layer, index], ...]} or {synapses: [[layer, row, col], ...]}");
      r.check_keys(e, key, {"spec", "units", "neurons", "synapses"});
      TmrEntry entry;
      entry.where = r.context(e, key);
      const int forms = (e["units"] ? 1 : 0) + (e["neurons"] ? 1 : 0) + (e["synapses"] ? 1 : 0);
      if (forms != 1) r.fail(e, key, forms == 0 ? "names no units" : "more than one of units, neurons, synapses", "exactly one of units (with spec), neurons or synapses");
      if (e["units"]) {
        if (!e["spec"]) r.fail(e, key + ".spec", "missing (units are numbered per spec)", "spec: the index of a faults: entry");
        entry.spec = static_cast<int>(r.integer(e["spec"], key + ".spec", 0, static_cast<long long>(faults.size()) - 1));
        const YAML::Node u = e["units"];
        if (!u.IsSequence() || u.size() == 0) r.fail(u, key + ".units", "not a non-empty list", "a list of unit numbers of faults[" + std::to_string(entry.spec) + "]");
        for (std::size_t k = 0; k < u.size(); ++k) {
          entry.units.push_back(static_cast<std::uint64_t>(r.integer(u[k], key + ".units[" + std::to_string(k) + "]", 0, (1ll << 32) - 1)));
        }
      } else if (e["spec"]) {
        r.fail(e["spec"], key + ".spec", "given without units", "spec: S together with units: [...] (neurons and synapses apply to every spec of their kind)");
      }
      if (const YAML::Node ns = e["neurons"]) {
        if (!ns.IsSequence() || ns.size() == 0) r.fail(ns, key + ".neurons", "not a non-empty list", "a list of [layer, index] pairs");
        for (std::size_t k = 0; k < ns.size(); ++k) {
          const std::string nk = key + ".neurons[" + std::to_string(k) + "]";
          if (!ns[k].IsSequence() || ns[k].size() != 2) r.fail(ns[k], nk, "wrong shape", "[layer, index]");
          entry.neurons.push_back({static_cast<int>(r.integer(ns[k][0], nk, 0, 1000000)), static_cast<int>(r.integer(ns[k][1], nk, 0, 100000000))});
        }
      }
      if (const YAML::Node ss = e["synapses"]) {
        if (!ss.IsSequence() || ss.size() == 0) r.fail(ss, key + ".synapses", "not a non-empty list", "a list of [layer, row, col] triples");
        for (std::size_t k = 0; k < ss.size(); ++k) {
          const std::string sk = key + ".synapses[" + std::to_string(k) + "]";
          if (!ss[k].IsSequence() || ss[k].size() != 3) r.fail(ss[k], sk, "wrong shape", "[layer, row, col]");
          entry.synapses.push_back({static_cast<int>(r.integer(ss[k][0], sk, 1, 1000000)), static_cast<int>(r.integer(ss[k][1], sk, 0, 100000000)),
                                    static_cast<int>(r.integer(ss[k][2], sk, 0, 100000000))});
        }
      }
      out.tmr.push_back(std::move(entry));
    }
  }
  if (const YAML::Node sp = node["spares"]) {
    if (!sp.IsMap()) r.fail(sp, "protection.spares", "wrong type", "{columns: N, rows: M} (spares per crossbar tile)");
    r.check_keys(sp, "protection.spares", {"columns", "rows"});
    out.spares_where = r.context(sp, "protection.spares");
    if (sp["columns"]) out.spare_columns = static_cast<std::uint32_t>(r.integer(sp["columns"], "protection.spares.columns", 0, 1 << 20));
    if (sp["rows"]) out.spare_rows = static_cast<std::uint32_t>(r.integer(sp["rows"], "protection.spares.rows", 0, 1 << 20));
    if (!has_chip && (out.spare_columns > 0 || out.spare_rows > 0)) {
      r.fail(sp, "protection.spares", "spares are per crossbar tile and the campaign has no chip", "a chip: section (or no spares)");
    }
    for (const char* kind : {"crossbar_column", "crossbar_row"}) {
      const bool wanted = std::string(kind) == "crossbar_column" ? out.spare_columns > 0 : out.spare_rows > 0;
      const auto n = std::count_if(faults.begin(), faults.end(), [&](const faults::FaultSpec& f) { return f.physical_kind == kind; });
      if (wanted && n > 1) {
        r.fail(sp, "protection.spares", std::to_string(n) + " " + kind + " specs (a tile's spares would have to pool their draws)",
               "at most one " + std::string(kind) + " spec in a campaign with spares");
      }
    }
  }
  return out;
}

Replicas read_replicas(const core::YamlReader& r, const YAML::Node& node) {
  Replicas out;
  if (!node.IsMap()) r.fail(node, "replicas", "wrong type", "{count: R, aggregate: median}");
  r.check_keys(node, "replicas", {"count", "aggregate"});
  if (!node["count"]) r.fail(node, "replicas.count", "missing", "the number of replicas R >= 1");
  out.count = static_cast<std::uint32_t>(r.integer(node["count"], "replicas.count", 1, 1000));
  if (node["aggregate"]) {
    out.aggregate = r.text(node["aggregate"], "replicas.aggregate");
    if (out.aggregate != "median") r.fail(node["aggregate"], "replicas.aggregate", "unknown aggregate", "median (the seed paper's Algorithm 1)");
  }
  return out;
}

namespace {

void add_unit(faults::FaultSpec& spec, std::uint64_t u) { spec.tmr_units.push_back(u); }

}  // namespace

void apply_protection(const Protection& pr, std::vector<faults::FaultSpec>& specs, const models::Network& net,
                      const sim::MappedChip* chip) {
  auto units_of = [&](const faults::FaultSpec& spec) -> std::uint64_t {
    if (spec.kind == faults::FaultKind::group_crash) return spec.groups.size();
    std::uint64_t n = 0;
    for (int l : spec.layers) {
      if (l < 0 || l > net.num_layers()) return 0;  // FaultPlan names it
      n += spec.acts_on_neurons() || spec.acts_on_neuron_parameters() ? static_cast<std::uint64_t>(net.width(l))
                                                                       : (l >= 1 ? net.layer(l).synapse_count() : 0);
    }
    return n;
  };
  // The unit of a neuron or synapse in a logical spec, or -1 when the spec does not act on it.
  auto neuron_unit = [&](const faults::FaultSpec& spec, const faults::NeuronRef& nr) -> long long {
    // A voter masks one replica's wrong output whatever made it wrong: a crash, a stuck value or
    // a deviated threshold or leak.
    if (spec.kind == faults::FaultKind::group_crash || !(spec.acts_on_neurons() || spec.acts_on_neuron_parameters())) return -1;
    long long base = 0;
    for (int l : spec.layers) {
      if (l == nr.layer) return base + nr.index;
      base += net.width(l);
    }
    return -1;
  };
  auto synapse_unit = [&](const faults::FaultSpec& spec, const faults::SynapseRef& sr) -> long long {
    if (spec.kind == faults::FaultKind::group_crash || !spec.acts_on_synapses()) return -1;
    long long base = 0;
    for (int l : spec.layers) {
      if (l == sr.layer) return base + static_cast<long long>(net.layer(l).synapse_at(sr.row, sr.col));
      base += static_cast<long long>(net.layer(l).synapse_count());
    }
    return -1;
  };
  for (const TmrEntry& e : pr.tmr) {
    if (e.spec >= 0) {
      faults::FaultSpec& spec = specs[static_cast<std::size_t>(e.spec)];
      const std::uint64_t n = units_of(spec);
      for (std::uint64_t u : e.units) {
        if (u >= n) {
          core::throw_input_error(e.where, "unit " + std::to_string(u) + " of faults[" + std::to_string(e.spec) + "] (" + spec.kind_name() + ") does not exist",
                                  "", "a unit below " + std::to_string(n) + " (the spec's units are numbered as docs/faults.md says)");
        }
        add_unit(spec, u);
      }
      continue;
    }
    for (const faults::NeuronRef& nr : e.neurons) {
      if (nr.layer > net.num_layers() || nr.index >= net.width(nr.layer)) {
        core::throw_input_error(e.where, "neuron [" + std::to_string(nr.layer) + ", " + std::to_string(nr.index) + "] does not exist", "",
                                "layer 0.." + std::to_string(net.num_layers()) + " and an index below its width");
      }
      bool hit = false;
      for (auto& spec : specs) {
        const long long u = neuron_unit(spec, nr);
        if (u >= 0) add_unit(spec, static_cast<std::uint64_t>(u)), hit = true;
      }
      if (!hit) {
        core::throw_input_error(e.where, "neuron [" + std::to_string(nr.layer) + ", " + std::to_string(nr.index) + "] is hit by no neuron fault spec",
                                "", "a neuron of a layer that a neuron_crash, neuron_stuck_at, threshold_deviation or leak_deviation spec lists");
      }
    }
    for (const faults::SynapseRef& sr : e.synapses) {
      const std::string name = "synapse [" + std::to_string(sr.layer) + ", " + std::to_string(sr.row) + ", " + std::to_string(sr.col) + "]";
      if (sr.layer > net.num_layers() || sr.row >= net.layer(sr.layer).crossbar_matrix().rows() ||
          sr.col >= net.layer(sr.layer).crossbar_matrix().cols()) {
        core::throw_input_error(e.where, name + " does not exist", "", "a cell [layer 1.." + std::to_string(net.num_layers()) + ", row, col] of a layer's weight matrix");
      }
      bool hit = false;
      for (auto& spec : specs) {
        const long long u = synapse_unit(spec, sr);
        if (u >= 0) add_unit(spec, static_cast<std::uint64_t>(u)), hit = true;
      }
      if (!hit) core::throw_input_error(e.where, name + " is hit by no synapse fault spec", "", "a synapse of a layer that a synapse spec lists");
    }
  }
  for (auto& spec : specs) {
    std::sort(spec.tmr_units.begin(), spec.tmr_units.end());
    spec.tmr_units.erase(std::unique(spec.tmr_units.begin(), spec.tmr_units.end()), spec.tmr_units.end());
  }
  if ((pr.spare_columns > 0 || pr.spare_rows > 0) && chip) {
    for (auto& spec : specs) {
      const bool columns = spec.physical_kind == "crossbar_column", rows = spec.physical_kind == "crossbar_row";
      if ((!columns || pr.spare_columns == 0) && (!rows || pr.spare_rows == 0)) continue;
      const auto units = sim::physical_units(faults::parse_physical_kind(spec.physical_kind), spec.layers, chip->mapping, *chip->interconnect);
      spec.spare_pool.clear();
      for (const auto& u : units) spec.spare_pool.push_back(static_cast<std::uint32_t>(u.tile));
      spec.spares = columns ? pr.spare_columns : pr.spare_rows;
    }
  }
}

}  // namespace nfsim::tb
