#pragma once

#include <string>
#include <vector>

namespace nfsim::faults {

// The logical fault kinds of docs/design.md ("Fault semantics every part shares").
enum class FaultKind {
  neuron_crash,      // post-activation output y_l,i -> 0 (no 1/(1-p) rescaling)
  synapse_crash,     // one weight W_l,ji -> 0
  neuron_stuck_at,   // y_l,i -> a fixed value
  synapse_stuck_at,  // W_l,ji -> a fixed value
  weight_bit_flip,   // one bit of a weight stored in fixed point flips
  group_crash,       // a named set of neurons/synapses crash together
  // Spiking arrays only (docs/spiking.md, "Faults on spiking arrays"): a neuron's firing
  // threshold, or its leak (the share of the membrane kept each step), multiplied by `factor`.
  threshold_deviation,
  leak_deviation,
};

// Transient: drawn afresh for every inference (the paper's model). Permanent: drawn once per
// trial, i.e. per faulty chip instance evaluated on all inputs.
enum class Persistence { transient, permanent };

const std::vector<std::string>& fault_kind_names();
std::string to_string(FaultKind kind);
std::string to_string(Persistence persistence);
// Throw InputError naming the text and the allowed names.
FaultKind parse_fault_kind(const std::string& name);
Persistence parse_persistence(const std::string& name);
// Throws InputError unless 0 <= p <= 1 (and finite); `what` names the key.
double checked_probability(double p, const std::string& what);

}  // namespace nfsim::faults
