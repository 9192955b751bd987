#pragma once

#include <Eigen/Dense>
#include <optional>
#include <vector>

#include "faults/fault_plan.h"
#include "models/network.h"
#include "sim/topology/mapping.h"
#include "sim/topology/unit_location.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/campaign/prepare.h"
#include "testbench/report/criticality_report.h"

namespace nfsim::tb {

// A CriticalUnit with its name and coordinates from `loc` (variances left at 0).
CriticalUnit critical_unit(const sim::UnitLocation& loc, std::size_t spec, std::uint64_t unit);

// What the analysis reads: the network as the chip stores it, the fault plan the engines run
// (physical specs expanded to groups), the inputs (one column each), their labels (may be
// empty), and the mapped chip (null without one).
struct CriticalityInputs {
  const models::Network* network = nullptr;
  const faults::FaultPlan* plan = nullptr;
  const Eigen::MatrixXd* inputs = nullptr;
  std::vector<int> labels;
  const sim::MappedChip* chip = nullptr;
  std::uint64_t seed = 1;
};

// Per-unit criticality (docs/report.md, "criticality"). For every unit u of every spec, from the
// b4 single-unit effects e_u(x) = F(x with u failed alone) - F(x) (BoundCalculator::unit_effects):
//   variance_u = p (1 - p) mean_x |e_u(x)|^2          (its share of the output error variance,
//                                                      exact to first order in p)
//   accuracy_drop_u = p (flipped_u - fixed_u) / N      (with labels: inputs the failure alone turns
//                                                      from right to wrong, minus wrong to right)
// Ranked by the variance, the top `options.top` kept and named with coordinates; the first
// `options.verify` verified by targeted Monte Carlo: the functional engine on the same network
// with a plan holding that unit alone (a group_crash spec of its neurons and synapses) at
// probability 1, `options.trials` trials; verified_variance = p (1 - p) mean |Delta|^2 and
// spearman_top the rank correlation of predicted and verified over the verified units. Units of
// stuck-at and bit-flip specs are not verified (a group crash is not their fault). With a chip,
// the variance of every unit is summed per core for the heat map (a router at its core position).
CriticalityReport analyse_criticality(const CriticalityInputs& in, const CriticalityOptions& options);

// The analysis of a prepared campaign point (its programmed network, plan, inputs, chip).
CriticalityReport point_criticality(const PreparedPoint& point, const CampaignConfig& config);

// Spearman's rank correlation (average ranks for ties); none when it is undefined (fewer than two
// values, or either side constant).
std::optional<double> spearman(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace nfsim::tb
