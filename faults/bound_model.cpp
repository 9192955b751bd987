#include "faults/bound_model.h"

#include <algorithm>

#include "core/error.h"

namespace nfsim::faults {

models::bounds::FaultModel to_bound_model(const FaultPlan& plan) {
  models::bounds::FaultModel model;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    const FaultSpec& spec = plan.specs()[s];
    // TMR units of spec s, spread over its terms (one per layer, units numbered layer after
    // layer in the order of `layers:`): the term's unit index and q.
    auto add_tmr = [&](auto first_term) {
      if (spec.tmr_units.empty()) return;
      const double q = tmr_probability(spec.probability);
      for (std::uint64_t u : spec.tmr_units) {
        int layer = 0;
        std::uint64_t pos = 0;
        plan.locate(s, u, layer, pos);
        const auto k = std::find(spec.layers.begin(), spec.layers.end(), layer) - spec.layers.begin();
        (first_term + k)->unit_probability.emplace_back(pos, q);
      }
    };
    switch (spec.kind) {
      case FaultKind::neuron_crash:
      case FaultKind::neuron_stuck_at:
        for (int l : spec.layers) {
          model.neurons.push_back({l, spec.probability, spec.kind == FaultKind::neuron_crash, spec.value, {}});
        }
        add_tmr(model.neurons.end() - static_cast<std::ptrdiff_t>(spec.layers.size()));
        break;
      case FaultKind::synapse_crash:
      case FaultKind::synapse_stuck_at:
      case FaultKind::weight_bit_flip:
        for (int l : spec.layers) {
          models::bounds::SynapseTerm term;
          term.layer = l;
          term.probability = spec.probability;
          term.kind = to_string(spec.kind);
          if (spec.kind == FaultKind::synapse_crash) {
            term.replace = [](double) { return 0.0; };
          } else if (spec.kind == FaultKind::synapse_stuck_at) {
            const double v = spec.value;
            term.replace = [v](double) { return v; };
          } else {
            const int bit = spec.bit;
            const FixedPointFormat format = spec.format;
            term.replace = [bit, format](double w) { return flip_weight_bit(w, bit, format); };
          }
          model.synapses.push_back(std::move(term));
        }
        add_tmr(model.synapses.end() - static_cast<std::ptrdiff_t>(spec.layers.size()));
        break;
      case FaultKind::threshold_deviation:
      case FaultKind::leak_deviation:
        // No rate-model term: the campaign leaves the bounds out with these kinds (docs/spiking.md).
        throw core::InputError(spec.describe() + ": the bounds do not model a spiking neuron's threshold or leak; expected "
                               "bounds: [] with threshold_deviation or leak_deviation");
      case FaultKind::group_crash: {
        if (spec.drops_spikes()) {
          // No rate-model term: the campaign leaves the bounds out with these kinds (docs/spiking.md).
          throw core::InputError(spec.describe() + ": the bounds do not model dropped spikes; expected bounds: [] with " +
                                 spec.kind_name());
        }
        // Each group with its own probability: q under TMR, dead-and-not-repaired with spares.
        const std::vector<double> pg = plan.effective_probabilities(s);
        for (std::size_t k = 0; k < spec.groups.size(); ++k) {
          const FaultGroup& g = spec.groups[k];
          models::bounds::GroupTerm term;
          term.name = g.name;
          term.probability = spec.tmr_units.empty() && spec.spare_pool.empty() ? spec.probability : pg[k];
          for (const auto& n : g.neurons) term.neurons.push_back({n.layer, n.index});
          for (const auto& s : g.synapses) term.synapses.push_back({s.layer, s.row, s.col, s.pos_begin, s.pos_count});
          model.groups.push_back(std::move(term));
        }
        break;
      }
    }
  }
  return model;
}

std::vector<EffectSlot> effect_slots(const FaultPlan& plan, const models::Network& net) {
  std::vector<EffectSlot> neurons, synapses, groups;
  for (std::size_t s = 0; s < plan.size(); ++s) {
    const FaultSpec& spec = plan.specs()[s];
    if (spec.spiking_only()) continue;  // no single-unit effect in the rate model (to_bound_model refuses them)
    if (spec.kind == FaultKind::group_crash) {
      for (std::uint64_t g = 0; g < spec.groups.size(); ++g) groups.push_back({s, g});
      continue;
    }
    std::uint64_t offset = 0;
    for (int l : spec.layers) {
      const std::uint64_t n =
          spec.acts_on_neurons() ? static_cast<std::uint64_t>(net.width(l)) : net.layer(l).synapse_count();
      auto& out = spec.acts_on_neurons() ? neurons : synapses;
      for (std::uint64_t u = 0; u < n; ++u) out.push_back({s, offset + u});
      offset += n;
    }
  }
  neurons.insert(neurons.end(), synapses.begin(), synapses.end());
  neurons.insert(neurons.end(), groups.begin(), groups.end());
  return neurons;
}

}  // namespace nfsim::faults
