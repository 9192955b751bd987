#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/functional/error_stats.h"
#include "testbench/campaign/runner.h"
#include "testbench/report/report.h"

namespace nfsim::tb {

// The state of an interrupted run (checkpoint.json + the statistics file it names, checkpoint.stats
// or checkpoint.alt.stats, in the output directory): the point it stopped in, the blocks merged so
// far, the reports of the points before it.
struct Checkpoint {
  std::string stats_file;  // the statistics file checkpoint.json names
  std::string signature;  // point_signature of the interrupted point
  std::size_t point = 0;
  std::uint64_t blocks_done = 0;
  std::vector<PointReport> completed_points;  // the points finished before it
  std::optional<sim::ErrorStats> stats;
};

// What a resumed point must have in common with the interrupted one, as a 64-bit FNV-1a hash:
// the fault-free outputs of its network on its inputs (so the model and the inputs), the engine,
// the chip's components with their parameters and libraries, the loaded plug-ins' hashes, its
// fault plan, seed and block size. It is checked before the engine is built (no simulation runs
// for a checkpoint that does not fit). A checkpoint from another campaign, or one whose model or inputs
// changed since, would merge statistics of two different experiments.
// Computed only when a checkpoint is written or resumed (it costs a forward pass of every input).
std::string point_signature(const CampaignResult& r);

// Writes the checkpoints of one run straight into the real output directory (never a staging
// one: an interrupted run must leave them where --resume looks). checkpoint.json names its
// statistics file, written first and alternately checkpoint.stats and checkpoint.alt.stats:
// each file is written atomically, so a run killed between the two writes leaves the previous
// json naming the previous statistics, a consistent pair.
class CheckpointWriter {
 public:
  // `resumed_stats_file`: the statistics file of the checkpoint this run resumes ("" for none).
  CheckpointWriter(const RunOptions& o, std::string resumed_stats_file);
  void write(std::size_t point, std::uint64_t blocks_done, const std::vector<PointReport>& finished, const sim::ErrorStats& stats,
             const std::string& signature);
  // An MPI run's periodic checkpoint: written when NFSIM_MPI_CHECKPOINT_SECONDS have passed
  // since the last one (or the run started), or `now`.
  bool due(bool now) const;
  // The run completed: the checkpoint files go.
  void remove_files() const;
  std::string json_path() const { return options_.out_dir + "/checkpoint.json"; }

 private:
  const RunOptions& options_;
  std::string current_stats_file_;
  double interval_s_;
  std::chrono::steady_clock::time_point last_;
};
// Throws InputError naming the file and what is wrong.
Checkpoint read_checkpoint(const std::string& dir);

// What `nfsim run --resume DIR` needs before it can load the campaign: the campaign file as the
// user named it and where to find it again, and its overrides. The interrupted run's --plugin
// libraries are loaded here (resuming needs no --plugin flags). Throws InputError naming the file.
struct ResumeSource {
  std::string campaign_file, campaign_file_absolute;
  std::vector<std::string> overrides;
};
ResumeSource read_resume_source(const std::string& dir);
// A checkpoint's statistics fit the point they resume: same experiment (signature), same shape,
// and as many trials as the blocks it claims.
void check_resumed(const Checkpoint& cp, const CampaignResult& r, const CampaignConfig& config, const std::string& dir);

}  // namespace nfsim::tb
