#include "faults/fault_sampler.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "core/rng.h"

namespace nfsim::faults {

double spike_drop_uniform(std::uint64_t seed, std::size_t spec, std::uint64_t unit, std::uint64_t trial, std::uint32_t input,
                          int step, int transfer, int source) {
  // The key: (seed, spec, unit, trial) mixed into 64 bits in the drops' own key space (seed ^
  // "DROPS"); the counter: (input, step, transfer, source), each below 2^32.
  auto mix = [](std::uint64_t x) {  // splitmix64's finaliser
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  };
  std::uint64_t k = mix(seed ^ 0x44524f5053ull);
  k = mix(k ^ static_cast<std::uint64_t>(spec));
  k = mix(k ^ unit);
  k = mix(k ^ trial);
  const core::PhiloxCounter c{input, static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(transfer), static_cast<std::uint32_t>(source)};
  const core::PhiloxCounter r = core::philox4x32_10(c, {static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(k >> 32)});
  return core::to_open_unit((static_cast<std::uint64_t>(r[0]) << 32) | r[1]);
}

void FaultInstance::reset(int num_layers) {
  const std::size_t size = static_cast<std::size_t>(num_layers) + 1;
  if (neurons.size() != size) neurons.resize(size);
  if (weights.size() != size) weights.resize(size);
  if (parameters.size() != size) parameters.resize(size);
  if (drops.size() != size) drops.resize(size);
  for (auto& v : drops) v.clear();
  for (auto& v : neurons) v.clear();
  for (auto& v : weights) v.clear();
  for (auto& v : parameters) v.clear();
  fault_count = 0;
}

void FaultInstance::resolve_duplicates() {
  // Stable sort by unit, then keep per unit the last dominant entry (a physical fault's crash)
  // if there is one, else the last entry: the latest spec wins, but not over dead hardware.
  for (auto& list : neurons) {
    if (list.size() < 2) continue;
    std::stable_sort(list.begin(), list.end(), [](const NeuronOverride& a, const NeuronOverride& b) { return a.index < b.index; });
    std::vector<NeuronOverride> kept;
    for (std::size_t i = 0; i < list.size();) {
      std::size_t end = i, pick = i;
      for (; end < list.size() && list[end].index == list[i].index; ++end) {
        if (list[end].dominant || !list[pick].dominant) pick = end;
      }
      kept.push_back(list[pick]);
      i = end;
    }
    list.swap(kept);
  }
  for (auto& list : weights) {
    if (list.size() < 2) continue;
    std::stable_sort(list.begin(), list.end(),
                     [](const WeightOverride& a, const WeightOverride& b) { return a.synapse < b.synapse; });
    std::vector<WeightOverride> kept;
    for (std::size_t i = 0; i < list.size();) {
      std::size_t end = i;
      // Over every position: the last dominant entry, else the last one.
      std::ptrdiff_t full = -1;
      bool ranged = false;
      for (; end < list.size() && list[end].synapse == list[i].synapse; ++end) {
        if (list[end].pos_count > 0) {
          ranged = true;
        } else if (full < 0 || list[end].dominant || !list[static_cast<std::size_t>(full)].dominant) {
          full = static_cast<std::ptrdiff_t>(end);
        }
      }
      if (full >= 0) kept.push_back(list[static_cast<std::size_t>(full)]);
      if (ranged && !(full >= 0 && list[static_cast<std::size_t>(full)].dominant)) {
        // Replicas' crashes, each at its positions, on top of the full override's value.
        const std::size_t first_ranged = kept.size();
        for (std::size_t k = i; k < end; ++k) {
          if (list[k].pos_count == 0) continue;
          WeightOverride o = list[k];
          if (full >= 0) o.base = list[static_cast<std::size_t>(full)].value;
          bool same = false;
          for (std::size_t q = first_ranged; q < kept.size(); ++q) {
            if (kept[q].pos_begin == o.pos_begin && kept[q].pos_count == o.pos_count) {
              if (o.dominant || !kept[q].dominant) kept[q] = o;
              same = true;
            } else if (kept[q].pos_begin < o.pos_begin + o.pos_count && o.pos_begin < kept[q].pos_begin + kept[q].pos_count) {
              throw core::InternalError("fault sampler: synapse " + std::to_string(o.synapse) +
                                        " has crashes at overlapping, different position ranges");
            }
          }
          if (!same) kept.push_back(o);
        }
      }
      i = end;
    }
    list.swap(kept);
  }
  for (auto& list : parameters) {
    if (list.size() < 2) continue;
    // Per neuron and parameter, the latest spec's factor.
    std::stable_sort(list.begin(), list.end(), [](const ParameterOverride& a, const ParameterOverride& b) {
      return a.index != b.index ? a.index < b.index : a.which < b.which;
    });
    std::vector<ParameterOverride> kept;
    for (const ParameterOverride& o : list) {
      if (!kept.empty() && kept.back().index == o.index && kept.back().which == o.which) {
        kept.back() = o;
      } else {
        kept.push_back(o);
      }
    }
    list.swap(kept);
  }
}

bool FaultInstance::empty() const {
  if (fault_count == 0) return true;
  for (const auto& l : neurons) {
    if (!l.empty()) return false;
  }
  for (const auto& l : weights) {
    if (!l.empty()) return false;
  }
  for (const auto& l : parameters) {
    if (!l.empty()) return false;
  }
  for (const auto& l : drops) {
    if (!l.empty()) return false;
  }
  return true;
}

int FaultInstance::first_layer() const {
  const int L = static_cast<int>(neurons.size()) - 1;
  for (int l = 0; l <= L; ++l) {
    if (!neurons[l].empty() || (l >= 1 && !weights[l].empty()) || (l < static_cast<int>(parameters.size()) && !parameters[l].empty()) ||
        (l < static_cast<int>(drops.size()) && !drops[l].empty())) {
      return l;
    }
  }
  return L + 1;
}

FaultSampler::FaultSampler(const FaultPlan& plan, const models::Network& network, std::uint64_t seed)
    : plan_(plan), net_(network), stored_cols_(static_cast<std::size_t>(network.num_layers()) + 1, 0), seed_(seed) {
  for (int l = 1; l <= network.num_layers(); ++l) stored_cols_[l] = network.layer(l).crossbar_matrix().cols();
  for (const FaultSpec& spec : plan.specs()) {
    if (spec.onset_step > 0) onset_steps_.push_back(spec.onset_step);
  }
  std::sort(onset_steps_.begin(), onset_steps_.end());
  onset_steps_.erase(std::unique(onset_steps_.begin(), onset_steps_.end()), onset_steps_.end());
  for (std::size_t s = 0; s < plan.size(); ++s) {
    // A per-spec key derived from the campaign seed, so specs draw independently.
    spec_keys_.push_back(stream_key(s, 0, 0));
    if (plan.specs()[s].kind == FaultKind::group_crash && plan.specs()[s].groups.size() > 1) may_overlap_ = true;
    if (plan.specs()[s].joint_effect) {
      may_overlap_ = true;
      if (!joint_spec_) joint_spec_ = s;
    }
  }
  if (plan.size() > 1) may_overlap_ = true;
}

std::uint64_t FaultSampler::stream_key(std::size_t s, std::uint32_t replica, std::uint32_t which) const {
  const auto k = core::philox4x32_10({static_cast<std::uint32_t>(s), 0x5EEDF417u, replica, which},
                                     {static_cast<std::uint32_t>(seed_), static_cast<std::uint32_t>(seed_ >> 32)});
  return (static_cast<std::uint64_t>(k[0]) << 32) | k[1];
}

void FaultSampler::skip_draw(std::uint64_t key, std::uint64_t stream, double p, std::uint64_t n, std::vector<std::uint64_t>& units) {
  core::RandomStream rng(key, stream);
  const double log_q = std::log1p(-p);
  std::uint64_t u = 0;
  while (true) {
    const double gap = std::floor(std::log(rng.uniform()) / log_q);
    if (gap >= static_cast<double>(n - u)) break;
    u += static_cast<std::uint64_t>(gap);
    units.push_back(u);
    ++u;
    if (u >= n) break;
  }
}

double FaultSampler::lifetime_uniform(std::uint64_t key, std::uint64_t trial, std::uint64_t unit) {
  const auto k = core::philox4x32_10({static_cast<std::uint32_t>(unit), static_cast<std::uint32_t>(unit >> 32),
                                      static_cast<std::uint32_t>(trial), static_cast<std::uint32_t>(trial >> 32)},
                                     {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)});
  // 53 random bits in (0, 1).
  const std::uint64_t bits = ((static_cast<std::uint64_t>(k[0]) << 32) | k[1]) >> 11;
  return (static_cast<double>(bits) + 0.5) * 0x1.0p-53;
}

double FaultSampler::failure_hours(std::size_t s, std::uint64_t trial, std::uint64_t unit) const {
  const FaultSpec& spec = plan_.specs()[s];
  const double lambda = spec.lifetime_fit * 1e-9;
  const double p_end = -std::expm1(-lambda * spec.lifetime_end_hours);
  return -std::log1p(-lifetime_uniform(stream_key(s, 0, 2), trial, unit) * p_end) / lambda;
}

void FaultSampler::draw_units(std::size_t s, std::uint64_t trial, std::uint32_t slot, std::vector<std::uint64_t>& units,
                              std::uint32_t replica) const {
  units.clear();
  const FaultSpec& spec = plan_.specs()[s];
  const double p = spec.probability;
  const std::uint64_t n = plan_.unit_count(s);
  if (p <= 0.0 || n == 0) return;
  const std::uint64_t stream = (trial << 32) | slot;
  const auto& tmr = spec.tmr_units;
  if (p >= 1.0) {
    for (std::uint64_t u = 0; u < n; ++u) units.push_back(u);  // q = 1 too
  } else {
    if (spec.lifetime_end_hours > 0) {
      // A mission: the units failed by its end (skip draws at p_end, the same for every
      // checkpoint), each with its failure time given that it fails by the end (truncated
      // exponential, drawn by inversion from its own counter): it has failed by this point's time
      // t iff V p_end <= 1 - exp(-lambda t) = p. Nested over t, and P(failed by t) = p.
      const double p_end = -std::expm1(-spec.lifetime_fit * 1e-9 * spec.lifetime_end_hours);
      skip_draw(replica == 0 ? spec_keys_[s] : stream_key(s, replica, 0), stream, p_end, n, units);
      const std::uint64_t time_key = stream_key(s, replica, 2);
      std::size_t kept = 0;
      for (std::uint64_t u : units) {
        if (lifetime_uniform(time_key, trial, u) * p_end <= p) units[kept++] = u;
      }
      units.resize(kept);
    } else {
      skip_draw(replica == 0 ? spec_keys_[s] : stream_key(s, replica, 0), stream, p, n, units);
    }
    if (!tmr.empty()) {
      // Protected units are drawn from their own stream with q; their draws above are dropped.
      std::size_t kept = 0;
      for (std::uint64_t u : units) {
        if (!std::binary_search(tmr.begin(), tmr.end(), u)) units[kept++] = u;
      }
      units.resize(kept);
      thread_local std::vector<std::uint64_t> picked;
      picked.clear();
      skip_draw(stream_key(s, replica, 1), stream, tmr_probability(p), tmr.size(), picked);
      if (!picked.empty()) {
        const std::size_t before = units.size();
        for (std::uint64_t k : picked) units.push_back(tmr[k]);
        std::inplace_merge(units.begin(), units.begin() + static_cast<std::ptrdiff_t>(before), units.end());
      }
    }
  }
  plan_.repair(s, units);
}

void FaultSampler::apply_unit(std::size_t s, std::uint64_t unit, FaultInstance& out) const {
  const FaultSpec& spec = plan_.specs()[s];
  ++out.fault_count;
  // A physical spec's units are dead hardware: their crashes dominate logical faults.
  const bool dominant = !spec.physical_kind.empty();
  auto set_neuron = [&](int layer, int index, double value) { out.neurons[layer].push_back({index, value, dominant}); };
  auto set_weight = [&](int layer, std::uint64_t synapse, double value, int pos_begin = 0, int pos_count = 0) {
    out.weights[layer].push_back(
        {synapse, value, dominant, pos_begin, pos_count, pos_count > 0 ? net_.layer(layer).synapse(synapse) : 0.0});
  };
  if (spec.kind == FaultKind::group_crash) {
    const FaultGroup& g = spec.groups[unit];
    for (const SpikePath& sp : g.spike_paths) {
      out.drops[static_cast<std::size_t>(sp.layer)].push_back(
          {s, unit, sp.transfer, sp.src_begin, sp.src_count, sp.out_begin, sp.out_count, spec.drop_probability});
    }
    for (const NeuronRef& n : g.neurons) set_neuron(n.layer, n.index, 0.0);
    for (const SynapseRef& w : g.synapses) {
      set_weight(w.layer, models::ILayer::cell_synapse(w.row, w.col, stored_cols_[w.layer]), 0.0, w.pos_begin, w.pos_count);
    }
    return;
  }
  if (spec.acts_on_neuron_parameters()) {
    int layer = 0;
    std::uint64_t pos = 0;
    plan_.locate(s, unit, layer, pos);
    const auto which = spec.kind == FaultKind::threshold_deviation ? ParameterOverride::Which::threshold : ParameterOverride::Which::leak;
    out.parameters[static_cast<std::size_t>(layer)].push_back({static_cast<int>(pos), which, spec.factor});
    return;
  }
  const FaultPlan::UnitFault f = plan_.unit_fault(s, unit, net_);
  if (f.neuron) {
    set_neuron(f.layer, f.index, f.value);
  } else {
    set_weight(f.layer, f.synapse, f.value);
  }
}

void FaultSampler::apply_units(std::size_t s, const std::vector<std::uint64_t>& units, FaultInstance& out,
                               std::vector<std::uint64_t>& joint) const {
  for (std::uint64_t u : units) apply_unit(s, u, out);
  if (plan_.specs()[s].joint_effect) joint.insert(joint.end(), units.begin(), units.end());
}

void FaultSampler::apply_joint(std::vector<std::uint64_t>& joint, FaultInstance& out) const {
  if (joint.empty() || !joint_spec_) return;
  // Every spec with a joint effect numbers the same units (a chip's routers), and the effect
  // depends on all of them together, whichever spec failed them.
  std::sort(joint.begin(), joint.end());
  joint.erase(std::unique(joint.begin(), joint.end()), joint.end());
  thread_local std::vector<const FaultGroup*> also;
  also.clear();
  plan_.specs()[*joint_spec_].joint_effect(joint, also);
  for (const FaultGroup* g : also) {
    for (const NeuronRef& n : g->neurons) out.neurons[n.layer].push_back({n.index, 0.0, true});
    for (const SynapseRef& w : g->synapses) {
      out.weights[w.layer].push_back({models::ILayer::cell_synapse(w.row, w.col, stored_cols_[w.layer]), 0.0, true, w.pos_begin,
                                      w.pos_count,
                                      w.pos_count > 0 ? net_.layer(w.layer).synapse(
                                                            models::ILayer::cell_synapse(w.row, w.col, stored_cols_[w.layer]))
                                                      : 0.0});
    }
  }
}

void FaultSampler::realize(std::uint64_t trial, std::uint32_t input, FaultInstance& out, std::uint32_t replica,
                           std::optional<int> at_step) const {
  // One scratch list per thread: realize() is called concurrently by the engine's threads, and
  // keeps no allocation per call once the list has grown.
  thread_local std::vector<std::uint64_t> units, joint;
  out.reset(net_.num_layers());
  joint.clear();
  for (std::size_t s = 0; s < plan_.size(); ++s) {
    if (at_step && plan_.specs()[s].onset_step > *at_step) continue;  // not acting yet
    const bool permanent = plan_.specs()[s].persistence == Persistence::permanent;
    draw_units(s, trial, permanent ? kPermanentSlot : input, units, replica);
    apply_units(s, units, out, joint);
  }
  apply_joint(joint, out);
  // Overlapping specs, or groups sharing members (two routers on one path), put a unit in twice;
  // the engines add weight corrections, so each unit must appear once.
  if (may_overlap_) out.resolve_duplicates();
}

}  // namespace nfsim::faults
