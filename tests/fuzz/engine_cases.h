#pragma once
// Differential testing of the engines (issue 13, item 5). A byte string (from libFuzzer, or from
// a seed for the deterministic property test) is turned into a small random case: a dense
// network, inputs, a chip topology mapped onto it and a fault plan that uses every fault kind,
// logical and physical (crossbar_row/column/tile, neuron_array, router), transient and
// permanent, with groups, onsets off. Three checks hold the engines against each other:
//
//  (a) chip == functional, trial by trial (1e-9 relative to the trial's output magnitude), and
//      the statistics of a short run (several blocks merged); the functional engine's fast path
//      == its plain dense path as well;
//  (b) the functional engine's Monte-Carlo mean of Delta lies inside a Bernstein interval around
//      the exact engine's mean (variance and range from the exact engine; family-wise error rate
//      1e-9 over every (input, output) by Bonferroni);
//  (c) b4 equals the exact mean to first order: with every probability scaled by p, the error
//      e(p) = exact(p) - b4(p) is a polynomial whose p^2 part quarters when p halves; checked as
//      |e(p/2) - e(p)/4| <= T(p)/4 + T(p/2) (+ rounding), with T the proven bound of the p^3..
//      terms, and as e(p) / e(p/2) >= 3 wherever that inequality implies it.
//
// The chip engine elaborates SystemC, which a process can do once: check (a) runs the chip in a
// forked child that sends its outputs back through a pipe.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "faults/fault_spec.h"
#include "models/network.h"
#include "sim/topology/mapping.h"

namespace nfsim::fuzz {

struct EngineCase {
  models::Network network;     // as imported (the chip programs it)
  models::Network programmed;  // as the chip stores it: what the functional and exact engines, and b4, see
  Eigen::MatrixXd inputs;      // one column per input
  std::string topology_yaml;   // the `chip:` mapping, as a topology file would hold it
  sim::MappedChip chip;
  std::vector<faults::FaultSpec> specs;  // physical specs expanded to groups
  std::uint64_t seed = 1;
  std::uint64_t uncertain_units = 0;     // units with 0 < p < 1 (the exact engine's exponent)
  // Network, topology and plan in words, for a finding's message.
  std::string describe() const;
};

// At most this many units with 0 < p < 1 (2^units forward passes per exact evaluation).
constexpr std::uint64_t kMaxCaseUnits = 10;  // also bounds every unit of the plan (p 0 and 1 too)

// Any bytes make a valid case (missing bytes read as zeros); the same bytes, the same case.
EngineCase make_engine_case(const std::uint8_t* data, std::size_t size);
// The bytes the property test feeds make_engine_case for one seed (std::mt19937_64).
std::vector<std::uint8_t> seed_bytes(std::uint64_t seed, std::size_t size = 256);

// Each check returns "" when it holds, else a finding: what disagreed, by how much, and the case.
// (a): `trials` trials of the chip (in a forked child) and the functional engine; `faulty_trials`
// (may be null) counts the trials whose outputs differ from the fault-free ones.
std::string check_chip_matches_functional(const EngineCase& c, std::uint64_t trials = 6, int* faulty_trials = nullptr);
// (b): `trials` Monte-Carlo trials of the functional engine against the exact engine.
std::string check_monte_carlo_in_exact_interval(const EngineCase& c, std::uint64_t trials = 2000);
// (c): `ratio_checked` (may be null) counts the (input, output) pairs where e(p)/e(p/2) >= 3
// was implied and checked.
std::string check_b4_first_order(const EngineCase& c, int* ratio_checked = nullptr);

}  // namespace nfsim::fuzz
