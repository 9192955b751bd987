#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/network.h"
#include "sim/engine/i_engine.h"
#include "sim/topology/mapping.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/report/report.h"

namespace nfsim::tb {

// A campaign point made concrete: the network as the chip stores it (or the model), the inputs,
// the fault plan with physical faults expanded to groups, and the engine that will run it,
// already checked to be able to honour everything the point asks for.
struct PreparedPoint {
  models::Network model, network;
  models::Dataset data;
  std::optional<sim::MappedChip> mapped;
  std::unique_ptr<faults::FaultPlan> plan;
  std::optional<ChipReport> chip;  // topology and mapping for the report
  const sim::EngineRegistry::Entry* engine = nullptr;
  // With a chip: a hash of the model's weights, the chip's components, parameters, shapes and
  // latencies, and the input values: what the chip engine's session must keep across points.
  std::string chip_key;
  // `spiking:` the configuration the engine runs (with the calibration named), the conversion's
  // lambda_0..lambda_L, and the model as imported (model and network are then the converted one).
  std::optional<models::SpikingConfig> spiking;
  std::vector<double> spiking_lambdas;
  models::Network rate_model;
};
// Throws InputError for anything the engine cannot honour (before any trial).
PreparedPoint prepare_point(const CampaignConfig& config);

// A leak other than 1 in the dynamics spiking arrays would run (layers 1..layers-1, and the
// output layer with the rate readout), said for a message ("c.yaml: spiking.leak is 0.9 (neuron
// lif)", or the NIR file's neuron and value), or empty when every leak is 1: what arrays of type
// `if` refuse. `leak_key` names the leak setting, `nir_path` the NIR file its per-neuron leaks
// come from.
std::string first_leak_other_than_one(const models::SpikingConfig& s, int layers, const std::string& leak_key,
                                      const std::string& nir_path);

// The same without the engine's state, for `nfsim tolerate` and tools.
struct PreparedCampaign {
  models::Network network;
  models::Dataset data;
  std::vector<faults::FaultSpec> specs;
};
PreparedCampaign prepare_campaign(const CampaignConfig& config);

// Loads the network a campaign names (ONNX file or generator).
models::Network load_campaign_model(const ModelSource& source);

// Keeps the bounds of the requested families (b1 -> b1_paper_* and b1_*; sum_norms -> sum_norms_*).
models::bounds::BoundSet select_bounds(const models::bounds::BoundSet& all, const std::vector<std::string>& families);

// What programming did to a network (`programmed` = programmed_network(model, ..., &stats)): the
// stats, and with `data` the largest output change on its inputs and, with labels, the
// fault-free accuracy before and after programming.
ProgrammingReport programming_report(const sim::ProgrammingStats& stats, const models::Network& model,
                                     const models::Network& programmed, const models::Dataset* data);

// Fraction of inputs whose argmax of `outputs` (one column per input) is the label.
double accuracy_of(const Eigen::MatrixXd& outputs, const std::vector<int>& labels);

}  // namespace nfsim::tb
