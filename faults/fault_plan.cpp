#include "faults/fault_plan.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <cmath>

#include "core/error.h"
#include "core/strings.h"

namespace nfsim::faults {

double flip_weight_bit(double w, int bit, const FixedPointFormat& f) {
  const std::int64_t lo = -(std::int64_t{1} << (f.total_bits - 1));
  const std::int64_t hi = (std::int64_t{1} << (f.total_bits - 1)) - 1;
  const double scaled = std::nearbyint(std::ldexp(w, f.frac_bits));
  std::int64_t q = static_cast<std::int64_t>(std::clamp(scaled, static_cast<double>(lo), static_cast<double>(hi)));
  const std::uint64_t mask = (f.total_bits == 64) ? ~0ull : ((std::uint64_t{1} << f.total_bits) - 1);
  std::uint64_t u = static_cast<std::uint64_t>(q) & mask;
  u ^= std::uint64_t{1} << bit;
  // Sign-extend back from total_bits.
  if (u & (std::uint64_t{1} << (f.total_bits - 1))) u |= ~mask;
  q = static_cast<std::int64_t>(u);
  return std::ldexp(static_cast<double>(q), -f.frac_bits);
}

double tmr_probability(double p) { return p * p * (3.0 - 2.0 * p); }

FaultPlan::FaultPlan(std::vector<FaultSpec> specs, const models::Network& net) : specs_(std::move(specs)) {
  const int L = net.num_layers();
  for (std::size_t s = 0; s < specs_.size(); ++s) {
    FaultSpec& spec = specs_[s];
    const std::string origin = spec.origin.empty() ? std::string() : spec.origin + ": ";
    const std::string where = origin + "faults[" + std::to_string(s) + "] (" + to_string(spec.kind) + ")";
    validate_fault_spec(spec, fields_set(spec), [&](const std::string& field, const std::string& what, const std::string& expected) {
      const std::string got = field == "probability" ? core::format_double(spec.probability)
                              : field == "onset_ns"  ? core::format_double(spec.onset_ns)
                              : field == "value"     ? core::format_double(spec.value)
                              : field == "bit"       ? std::to_string(spec.bit)
                              : field == "format"    ? std::to_string(spec.format.total_bits) + "." + std::to_string(spec.format.frac_bits)
                                                     : std::string();
      core::throw_input_error({}, where + "." + field + ": " + what, got, expected);
    });
    std::vector<std::uint64_t> offsets{0};
    if (spec.kind == FaultKind::group_crash) {
      if (!spec.physical_kind.empty() && spec.groups.empty()) {
        throw core::InputError(origin + "faults[" + std::to_string(s) + "] (" + spec.physical_kind +
                               "): no such units on this chip (a physical fault needs a chip: topology with them; "
                               "routers and links exist only on a mesh interconnect)");
      }
      if (spec.groups.empty()) throw core::InputError(where + ": no groups; expected at least one group of members");
      for (FaultGroup& g : spec.groups) {
        // A member listed twice fails once.
        auto nkey = [](const NeuronRef& n) { return std::make_pair(n.layer, n.index); };
        auto skey = [](const SynapseRef& w) { return std::make_tuple(w.layer, w.row, w.col, w.pos_begin, w.pos_count); };
        std::sort(g.neurons.begin(), g.neurons.end(), [&](const NeuronRef& a, const NeuronRef& b) { return nkey(a) < nkey(b); });
        g.neurons.erase(std::unique(g.neurons.begin(), g.neurons.end(), [&](const NeuronRef& a, const NeuronRef& b) { return nkey(a) == nkey(b); }),
                        g.neurons.end());
        std::sort(g.synapses.begin(), g.synapses.end(), [&](const SynapseRef& a, const SynapseRef& b) { return skey(a) < skey(b); });
        g.synapses.erase(std::unique(g.synapses.begin(), g.synapses.end(), [&](const SynapseRef& a, const SynapseRef& b) { return skey(a) == skey(b); }),
                         g.synapses.end());
        if (g.neurons.empty() && g.synapses.empty() && spec.physical_kind.empty()) {
          throw core::InputError(where + ": group '" + g.name + "' has no members");
        }
        for (const NeuronRef& n : g.neurons) {
          if (n.layer < 0 || n.layer > L || n.index < 0 || n.index >= net.width(n.layer)) {
            throw core::InputError(where + ": group '" + g.name + "' neuron (" + std::to_string(n.layer) + ", " +
                                   std::to_string(n.index) + ") does not exist; expected layer 0.." + std::to_string(L) +
                                   " and an index below that layer's width");
          }
        }
        for (const SynapseRef& w : g.synapses) {
          if (w.layer < 1 || w.layer > L || w.row < 0 || w.row >= net.layer(w.layer).crossbar_matrix().rows() ||
              w.col < 0 || w.col >= net.layer(w.layer).crossbar_matrix().cols()) {
            throw core::InputError(where + ": group '" + g.name + "' synapse (" + std::to_string(w.layer) + ", " +
                                   std::to_string(w.row) + ", " + std::to_string(w.col) + ") does not exist");
          }
          const Eigen::Index positions = net.layer(w.layer).crossbar_positions();
          if (w.pos_begin < 0 || w.pos_count < 0 || w.pos_begin + w.pos_count > positions ||
              (w.pos_count == 0 && w.pos_begin != 0)) {
            throw core::InputError(where + ": group '" + g.name + "' synapse (" + std::to_string(w.layer) + ", " +
                                   std::to_string(w.row) + ", " + std::to_string(w.col) + ") at positions " +
                                   std::to_string(w.pos_begin) + " + " + std::to_string(w.pos_count) +
                                   ": outside the layer's " + std::to_string(positions) + " output positions");
          }
        }
        for (const SpikePath& sp : g.spike_paths) {
          // Filled in from a chip's mapping (sim::expand_physical_faults): a dense layer's block.
          const bool fits = sp.layer >= 1 && sp.layer <= L && net.layer(sp.layer).kind() == "dense" && sp.src_begin >= 0 &&
                            sp.src_count >= 0 && sp.src_begin + sp.src_count <= net.width(sp.layer - 1) && sp.out_begin >= 0 &&
                            sp.out_count >= 0 && sp.out_begin + sp.out_count <= net.width(sp.layer) && sp.transfer >= 0;
          if (!fits) {
            throw core::InputError(where + ": unit '" + g.name + "' carries spikes of layer " + std::to_string(sp.layer - 1) + " " +
                                   std::to_string(sp.src_begin) + " + " + std::to_string(sp.src_count) + " to outputs " +
                                   std::to_string(sp.out_begin) + " + " + std::to_string(sp.out_count) +
                                   " of layer " + std::to_string(sp.layer) + ", which the network does not have (a dense layer)");
          }
        }
      }
      offsets.push_back(spec.groups.size());
    } else {
      if (spec.layers.empty()) throw core::InputError(where + ".layers: empty; expected at least one layer");
      const bool neuronal = spec.acts_on_neurons() || spec.acts_on_neuron_parameters();
      const int min_layer = neuronal ? 0 : 1;
      for (int l : spec.layers) {
        if (l < min_layer || l > L) {
          throw core::InputError(where + ".layers: layer " + std::to_string(l) + " out of range; expected " +
                                 std::to_string(min_layer) + ".." + std::to_string(L) +
                                 (neuronal ? " (0 = input, " : " (weights W_1..W_L; ") +
                                 std::to_string(L) + " = output)");
        }
        if (std::count(spec.layers.begin(), spec.layers.end(), l) > 1) {
          throw core::InputError(where + ".layers: layer " + std::to_string(l) + " listed twice");
        }
        const std::uint64_t units =
            neuronal ? static_cast<std::uint64_t>(net.width(l)) : net.layer(l).synapse_count();
        offsets.push_back(offsets.back() + units);
      }
    }
    if (offsets.back() >= (std::uint64_t{1} << 32)) throw core::InputError(where + ": more than 2^32 units");
    for (std::size_t k = 0; k < spec.tmr_units.size(); ++k) {
      if (spec.tmr_units[k] >= offsets.back() || (k > 0 && spec.tmr_units[k] <= spec.tmr_units[k - 1])) {
        throw core::InputError(where + ": protected unit " + std::to_string(spec.tmr_units[k]) +
                               (spec.tmr_units[k] >= offsets.back() ? " does not exist; expected a unit below " + std::to_string(offsets.back())
                                                                    : " listed out of order; expected ascending unique units"));
      }
    }
    if (!spec.spare_pool.empty() && spec.spare_pool.size() != offsets.back()) {
      throw core::InternalError(where + ": spare pools for " + std::to_string(spec.spare_pool.size()) + " of " +
                                std::to_string(offsets.back()) + " units");
    }
    unit_offsets_.push_back(std::move(offsets));
  }
}

void FaultPlan::locate(std::size_t s, std::uint64_t unit, int& layer, std::uint64_t& position) const {
  const auto& off = unit_offsets_[s];
  if (specs_[s].kind == FaultKind::group_crash) {
    layer = -1;
    position = unit;
    return;
  }
  const auto it = std::upper_bound(off.begin(), off.end(), unit);
  const std::size_t k = static_cast<std::size_t>(it - off.begin()) - 1;
  layer = specs_[s].layers[k];
  position = unit - off[k];
}

FaultPlan::UnitFault FaultPlan::unit_fault(std::size_t s, std::uint64_t unit, const models::Network& net) const {
  const FaultSpec& spec = specs_[s];
  if (spec.acts_on_neuron_parameters()) {
    // No value is replaced: a caller that reads one would apply a factor as an output value.
    throw core::InternalError("fault plan: " + spec.kind_name() + " changes a spiking neuron's parameter, not a value");
  }
  UnitFault f;
  std::uint64_t pos = 0;
  locate(s, unit, f.layer, pos);
  if (spec.acts_on_neurons()) {
    f.index = static_cast<int>(pos);
    f.value = spec.kind == FaultKind::neuron_crash ? 0.0 : spec.value;
    return f;
  }
  f.neuron = false;
  f.synapse = pos;
  if (spec.kind == FaultKind::synapse_stuck_at) f.value = spec.value;
  if (spec.kind == FaultKind::weight_bit_flip)
    f.value = flip_weight_bit(net.layer(f.layer).synapse(pos), spec.bit, spec.format);
  return f;
}

void FaultPlan::refuse_spiking_only(const std::string& runner) const {
  for (std::size_t s = 0; s < specs_.size(); ++s) {
    if (specs_[s].spiking_only()) {
      const std::string acts = specs_[s].drops_spikes() ? "drops spikes" : "acts on spiking neurons' thresholds and leaks";
      throw core::InputError("faults[" + std::to_string(s) + "] (" + specs_[s].kind_name() + ") " + acts + ", and " + runner +
                             " runs rate units; expected spiking:");
    }
  }
}

bool FaultPlan::is_tmr(std::size_t s, std::uint64_t unit) const {
  const auto& t = specs_[s].tmr_units;
  return std::binary_search(t.begin(), t.end(), unit);
}

double FaultPlan::unit_probability(std::size_t s, std::uint64_t unit) const {
  const double p = specs_[s].probability;
  return is_tmr(s, unit) ? tmr_probability(p) : p;
}

void FaultPlan::repair(std::size_t s, std::vector<std::uint64_t>& failed) const {
  const FaultSpec& spec = specs_[s];
  if (spec.spare_pool.empty() || spec.spares == 0 || failed.empty()) return;
  // Pools are not assumed contiguous: count the failures seen so far per pool.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> used;  // (pool, repaired so far)
  std::size_t kept = 0;
  for (std::uint64_t u : failed) {
    const std::uint32_t pool = spec.spare_pool[u];
    auto it = std::find_if(used.begin(), used.end(), [pool](const auto& e) { return e.first == pool; });
    if (it == used.end()) {
      used.emplace_back(pool, 0);
      it = used.end() - 1;
    }
    if (it->second < spec.spares) {
      ++it->second;  // a spare takes this unit's place
      continue;
    }
    failed[kept++] = u;
  }
  failed.resize(kept);
}

std::vector<double> FaultPlan::effective_probabilities(std::size_t s) const {
  const FaultSpec& spec = specs_[s];
  const std::uint64_t n = unit_count(s);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::uint64_t u = 0; u < n; ++u) out[u] = unit_probability(s, u);
  if (spec.spare_pool.empty() || spec.spares == 0) return out;
  return after_repair(std::move(out), spec.spare_pool, spec.spares);
}

std::vector<double> FaultPlan::after_repair(std::vector<double> p, const std::vector<std::uint32_t>& pool, std::size_t spares) {
  if (spares == 0) return p;
  // Per pool, the distribution of the number of failures among its lower units, capped at
  // `spares` (the last entry holds P(at least spares)).
  const std::size_t cap = spares;
  std::map<std::uint32_t, std::vector<double>> dist;
  for (std::size_t u = 0; u < p.size(); ++u) {
    auto [it, fresh] = dist.try_emplace(pool[u], std::vector<double>(cap + 1, 0.0));
    std::vector<double>& d = it->second;
    if (fresh) d[0] = 1.0;
    const double pu = p[u];
    p[u] = pu * d[cap];
    for (std::size_t k = cap; k > 0; --k) d[k] = d[k] * (k == cap ? 1.0 : 1.0 - pu) + d[k - 1] * pu;
    d[0] *= 1.0 - pu;
  }
  return p;
}

}  // namespace nfsim::faults
