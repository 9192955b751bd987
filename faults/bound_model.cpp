#include "faults/bound_model.h"

namespace nfsim::faults {

models::bounds::FaultModel to_bound_model(const FaultPlan& plan) {
  models::bounds::FaultModel model;
  for (const FaultSpec& spec : plan.specs()) {
    switch (spec.kind) {
      case FaultKind::neuron_crash:
      case FaultKind::neuron_stuck_at:
        for (int l : spec.layers) {
          model.neurons.push_back({l, spec.probability, spec.kind == FaultKind::neuron_crash, spec.value});
        }
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
        break;
      case FaultKind::group_crash:
        for (const FaultGroup& g : spec.groups) {
          models::bounds::GroupTerm term;
          term.name = g.name;
          term.probability = spec.probability;
          for (const auto& n : g.neurons) term.neurons.push_back({n.layer, n.index});
          for (const auto& s : g.synapses) term.synapses.push_back({s.layer, s.row, s.col});
          model.groups.push_back(std::move(term));
        }
        break;
    }
  }
  return model;
}

}  // namespace nfsim::faults
