#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/network.h"
#include "sim/functional/error_stats.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/scoreboard/scoreboard.h"

namespace nfsim::tb {

// Everything one campaign measured and predicted.
struct CampaignResult {
  CampaignConfig config;
  models::Network network;
  models::Dataset data;
  std::vector<faults::FaultSpec> faults;
  sim::ErrorStats stats;
  std::vector<Measured> measured;                   // per input, at the campaign's confidence
  std::vector<models::bounds::BoundSet> bounds;     // per input, the requested bound families
  models::bounds::NetworkProfile profile;
  nlohmann::json chip;  // topology, mapping and (chip engine) simulated latency and traffic; null without a chip
  double fault_free_accuracy = -1;                  // with labels
  double seconds_monte_carlo = 0, seconds_bounds = 0;
};

struct RunOptions {
  std::string vcd_path;        // chip engine: VCD trace
  std::string fault_log_path;  // chip engine: applied faults as JSON lines
  std::size_t fault_log_limit = 100000;
};

// Loads the model and inputs, maps them on the chip if the campaign has one (the network then
// is the one the chip stores: weights after programming), runs the engine for config.trials
// trials and computes the bounds.
CampaignResult run_campaign(const CampaignConfig& config, const RunOptions& options = {});

// Loads the network a campaign names (ONNX file or generator).
models::Network load_campaign_model(const ModelSource& source);

// Keeps the bounds of the requested families (b1 -> b1_paper_* and b1_*; sum_norms -> sum_norms_*).
models::bounds::BoundSet select_bounds(const models::bounds::BoundSet& all, const std::vector<std::string>& families);

// The report (docs/report.md): deterministic for a fixed seed except under "timing".
nlohmann::json make_report(const CampaignResult& result);
nlohmann::json faults_to_json(const std::vector<faults::FaultSpec>& faults);
nlohmann::json profile_to_json(const models::bounds::NetworkProfile& profile);
// One row per (input, output): measured statistics and every per-output bound.
void write_summary_csv(std::ostream& out, const CampaignResult& result);
// Writes DIR/report.json and DIR/summary.csv atomically (creating DIR).
void write_campaign_outputs(const CampaignResult& result, const std::string& out_dir);
// The console table printed at the end of a run.
void print_summary(std::FILE* to, const CampaignResult& result);

}  // namespace nfsim::tb
