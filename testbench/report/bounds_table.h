#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/network.h"

namespace nfsim::tb {

// `nfsim bounds`: the analytic bounds of the requested families for each input (summed over the
// plan's specs and layers), without a Monte Carlo.
struct BoundsTable {
  std::vector<models::bounds::BoundSet> per_input;
  Eigen::Index outputs = 0;
};
// Throws InputError for an unknown family.
BoundsTable compute_bounds_table(const models::Network& network, const models::Dataset& data, const faults::FaultPlan& plan,
                                 const std::vector<std::string>& families);
// Every bound finite, else an InputError naming the input, the bound, the value and the fault
// spec that makes it non-finite (testbench/campaign/finite_check.h).
void check_bounds_table(const BoundsTable& table, const models::Network& network, const models::Dataset& data,
                        const std::vector<faults::FaultSpec>& specs, const std::vector<std::string>& families);
// One row per (input, output), one column per bound's mean and std (sum_norms left out).
void print_bounds_table(std::FILE* to, const BoundsTable& table);
// bounds.json: the model, network, inputs, faults, the network's profile and the bounds per input.
nlohmann::json bounds_json(const BoundsTable& table, const std::string& model_path, const models::Network& network,
                           const models::Dataset& data, const faults::FaultPlan& plan);

}  // namespace nfsim::tb
