#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/network.h"
#include "sim/functional/error_stats.h"
#include "sim/functional/exact_oracle.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/report/report.h"
#include "testbench/scoreboard/scoreboard.h"

namespace nfsim::tb {

// Everything one campaign point measured and predicted.
struct CampaignResult {
  CampaignConfig config;
  models::Network network;
  models::Dataset data;
  std::vector<faults::FaultSpec> faults;
  sim::ErrorStats stats;                            // Monte-Carlo engines
  std::optional<sim::ExactResult> exact;            // exact engines (stats stays empty)
  Eigen::MatrixXd fault_free_outputs;               // the engine's, that Delta is measured against
  std::vector<Measured> measured;                   // per input, at the campaign's confidence
  std::vector<models::bounds::BoundSet> bounds;     // per input, the requested bound families
  std::optional<models::bounds::NetworkProfile> profile;  // when a bound is asked for
  std::vector<std::pair<std::string, double>> variance_by_term;  // predicted variance (b4) per fault term
  std::optional<SpikingReport> spiking;  // `spiking:` (docs/spiking.md)
  std::string spiking_signature;  // the dynamics the engine ran (SpikingConfig::signature), for the checkpoint
  std::optional<ChipReport> chip;  // topology, mapping and (chip engine) simulated latency and traffic
  double fault_free_accuracy = -1;                  // with labels
  std::uint64_t trials_done = 0;
  std::string stop_reason;  // "trials", "target", "max_trials", "interrupted", "exact"
  double seconds_monte_carlo = 0, seconds_bounds = 0;
  std::optional<CriticalityReport> criticality;  // `criticality:` asked for
  unsigned threads = 1;  // engine threads used
};

struct RunOptions {
  std::string out_dir;         // the output directory: checkpoints go here (where --resume looks)
  // Where the report files go (report.json, summary.csv, report.html, trial outputs): the
  // staging directory of an OutputDirGuard, whose commit() moves them into out_dir (and then
  // removes a finished run's checkpoint: remove_checkpoint). Empty: out_dir itself, and a
  // finished run's checkpoint is removed here.
  std::string report_dir;
  std::string vcd_path;        // chip engine: VCD trace
  std::string fault_log_path;  // the faults each point drew, as JSON lines (cap: fault_log.max_lines)
  std::string campaign_file;            // for the checkpoint (resume), as the user named it
  std::string campaign_file_absolute;   // where to find it again
  std::vector<std::string> overrides;   // for the checkpoint (resume)
  bool resume = false;                  // continue from out_dir/checkpoint.*
  std::uint64_t trial_outputs = 0;      // write the outputs of the first N trials of each point (engine agreement checks)
  // Threads per process for engines that run blocks in parallel (functional); 0 = auto (every
  // core with one process, 1 per rank under mpirun). The chip engine (SystemC) runs on one
  // thread. The numbers never depend on it.
  unsigned threads = 0;
  // Progress after every merged block: (point, points, trials done, trials planned).
  std::function<void(std::size_t, std::size_t, std::uint64_t, std::uint64_t)> progress;
};

// The outcome of a whole campaign (all sweep points). Only rank 0 of an MPI run has reports.
struct CampaignOutcome {
  Report report;                  // empty on MPI ranks other than 0
  bool complete = true;
  bool requirements_met = true;
  bool is_root = true;
  std::vector<CampaignResult> results;  // the points run in this process (rank 0)
};

// Runs every point (MPI-aware: with more than one rank, blocks are dealt out in rounds and merged
// in block order on rank 0, so the numbers do not depend on the rank count), writes report.json,
// summary.csv (into options.report_dir, or out_dir) and, on interruption, a checkpoint into
// options.out_dir.
CampaignOutcome run_campaign_points(const std::vector<CampaignConfig>& points, const RunOptions& options);

// One point in this process (no MPI, no checkpoint): for tests and `nfsim tolerate`.
CampaignResult run_campaign(const CampaignConfig& config, const RunOptions& options = {});

}  // namespace nfsim::tb

// The parts of a run, for callers that used to find them here.
#include "testbench/campaign/prepare.h"
#include "testbench/campaign/requirements.h"
#include "testbench/campaign/scheduler.h"
#include "testbench/report/point_report.h"
#include "testbench/report/summary_table.h"
