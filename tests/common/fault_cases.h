#pragma once
// A tiny network and every logical fault kind on it, each with few enough units for the exact
// engine to enumerate (tests only).
#include <vector>

#include "faults/fault_spec.h"
#include "models/random_network.h"

namespace nfsim::test {

// A 3-4-3-2 network with activation `kind`.
inline models::Network tiny(models::ActivationKind kind, double scale, std::uint64_t seed) {
  return models::make_random_network({{3, 4, 3, 2}, {kind, scale, 0.2}, {}, 3.0, 0.1, seed});
}

// Every fault kind on a tiny network, each with few enough sites to enumerate.
inline std::vector<faults::FaultSpec> kind_cases(double p) {
  std::vector<faults::FaultSpec> cases;
  cases.push_back({faults::FaultKind::neuron_crash, {1, 2}, p});
  cases.push_back({faults::FaultKind::neuron_crash, {0, 3}, p, faults::Persistence::permanent});
  cases.push_back({faults::FaultKind::synapse_crash, {2}, p});
  faults::FaultSpec stuck_n{faults::FaultKind::neuron_stuck_at, {1, 3}, p};
  stuck_n.value = 0.8;
  cases.push_back(stuck_n);
  faults::FaultSpec stuck_w{faults::FaultKind::synapse_stuck_at, {3}, p, faults::Persistence::permanent};
  stuck_w.value = -0.5;
  cases.push_back(stuck_w);
  faults::FaultSpec flip{faults::FaultKind::weight_bit_flip, {2}, p};
  flip.bit = 6;
  flip.format = {8, 5};
  cases.push_back(flip);
  faults::FaultSpec group{faults::FaultKind::group_crash, {}, p};
  group.groups.push_back({"row0", {}, {{2, 0, 0}, {2, 0, 1}, {2, 0, 2}, {2, 0, 3}}});
  group.groups.push_back({"array", {{1, 0}, {1, 1}}, {}});
  group.groups.push_back({"mixed", {{2, 2}}, {{3, 1, 1}}});
  // Overlapping groups and a member listed twice: each failed unit counts once.
  group.groups.push_back({"overlap", {{1, 0}, {1, 0}}, {{2, 0, 0}, {2, 0, 0}, {3, 1, 1}}});
  cases.push_back(group);
  return cases;
}

}  // namespace nfsim::test
