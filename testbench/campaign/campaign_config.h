#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "models/spiking.h"
#include "sim/topology/chip_topology.h"
#include "testbench/campaign/protection.h"

namespace nfsim::tb {

// Where the campaign's network comes from: an ONNX file or the paper's random generator.
struct ModelSource {
  std::string path;  // resolved against the campaign file's directory
  std::optional<models::RandomNetworkSpec> generate;
  std::string describe() const;
  // A NIR file (`.nir`, docs/nir.md): a spiking network as it is, read with the campaign's
  // spiking.dt; otherwise an ONNX file or a generated network.
  bool nir() const;
};

// A requirement a campaign states on a bound's verdicts, e.g. `require: {b4: {max_median_rel_err:
// 0.05}, worst_case: holds}`. Checked on every sweep point; unmet requirements make `nfsim run`
// exit with code 3.
// `require: {programming: {max_abs_output_error: 0.1}}` bounds what programming the chip's
// crossbars changes before any fault (bound "programming"; conditions max_abs_output_error and
// max_abs_weight_error).
// Budgets (not bounds): `require: {accuracy: {max_drop: 0.01}}` or `{min: 0.9}`, and
// `require: {error: {max_mean_abs: 0.05, max_std: 0.1, output: 3}}` (output: an index or all),
// judged on the conservative side of the measured interval (`judged_on` says which).
struct Requirement {
  std::string bound;      // b3, b4, b2, worst_case, b1_2, ..., programming, accuracy or error
  std::string condition;  // max_median_rel_err, min_pearson, max_rank_loss, min_inside_ci, holds;
                          // max_drop, min (accuracy); max_mean_abs, max_std (error)
  double threshold = 0;   // unused for holds
  int output = -1;        // error budgets: the output judged, -1 for all
  std::string judged_on;  // budgets: which side of which interval, as printed
  std::string origin;     // error budgets with an output: where it was written (for a later check)
  std::string describe() const;
};
const std::vector<std::string>& requirement_conditions();

// `trials: auto`: run blocks until the largest relative half-width of the std's interval (over
// inputs and outputs with a nonzero std) is at most `rel_half_width`, between min and max trials.
struct StoppingRule {
  bool automatic = false;
  double rel_half_width = 0.05;
  std::uint64_t min_trials = 1000;
  std::uint64_t max_trials = 1000000;
};

// `criticality:` (docs/report.md, "criticality"): rank every unit of every spec by its share of
// the output error variance (b4 single-unit terms), keep the top ones, verify some by targeted
// Monte Carlo (that unit failed alone).
struct CriticalityOptions {
  std::size_t top = 20;          // units kept in the ranking
  std::size_t verify = 5;        // of those, verified by targeted Monte Carlo (the highest first)
  std::uint64_t trials = 1;      // trials per verified unit (more only matter with read noise on the chip)
};

// A validated campaign (campaign.yaml after --set overrides and command-line flags).
// `mission: {hours: H, checkpoints: K}` (docs/faults.md, "Lifetime"): the campaign's FIT specs
// fail at Poisson times over a mission of H hours, and the campaign is evaluated at K checkpoints
// t_k = k H / K (one point each, the last axis of the sweep), every trial one chip instance whose
// failed units accumulate. `at_hours` is the point's checkpoint (set by the expansion).
struct Mission {
  double hours = 0;
  std::int64_t checkpoints = 10;
  double at_hours = 0;
};

struct CampaignConfig {
  std::string file;  // the YAML file it came from (for messages and the report)
  std::vector<std::string> plugins;  // `plugins:` libraries (resolved paths), loaded while reading the file
  ModelSource model;
  models::InputSpec inputs;
  std::vector<faults::FaultSpec> faults;
  std::optional<sim::ChipTopology> chip;  // `chip: PATH` or an inline `chip:` section
  std::string engine = "functional";      // functional | chip
  std::uint64_t trials = 10000;
  std::uint64_t seed = 1;
  std::vector<std::string> bounds;  // families: b1, b2, b3, b4, worst_case, sum_norms
  bool bounds_listed = false;       // `bounds:` given (else the defaults for the faults)
  std::uint32_t block_trials = 64;
  std::uint32_t batch_trials = 64;
  double confidence = 0.95;
  StoppingRule stopping;
  std::vector<Requirement> require;
  std::size_t fault_log_max_lines = 10000;  // `fault_log: {max_lines}`: fault lines per point in faults.jsonl
  std::optional<CriticalityOptions> criticality;  // `criticality:`; none: not computed
  Protection protection;  // `protection:` (TMR, spares): docs/faults.md, "Protection"
  Replicas replicas;      // `replicas:` (the seed paper's Algorithm 1)
  std::optional<Mission> mission;  // `mission:`
  // `deadline_ns`: an output that reaches the host later than this after the start of its
  // inference is lost (docs/chip.md, "Deadlines and slow units"); chip engine only.
  std::optional<double> deadline_ns;
  // `stream: {interval_ns: T}` or `{rate_per_us: R}` (T = 1000 / R): each trial's inputs stream
  // into the chip one every T ns and the inferences pipeline (docs/chip.md, "Streamed
  // inferences"); chip engine only. None: one inference at a time.
  std::optional<double> stream_interval_ns;
  // `chip_simulation`: differential (default: inferences whose faults change values only are
  // computed from recorded fault-free ones) or full (every inference simulated); chip engine only
  // (docs/chip.md, "Differential simulation").
  bool chip_differential = true;
  // `estimator`: plain (default: the sample mean and std of Delta) or control_variate (the
  // first-order expansion as a control variate: docs/report.md, "Estimators").
  std::string estimator = "plain";
  bool control_variate() const { return estimator == "control_variate"; }
  // `spiking:` the hidden layers run as integrate-and-fire arrays for `time_steps` steps per
  // inference, converted from the (relu) model by data-based normalisation (docs/spiking.md);
  // none: rate units. `spiking.calibration`: the inputs the conversion is normalised on (none:
  // the campaign's inputs).
  std::optional<models::SpikingConfig> spiking;
  std::optional<models::InputSpec> spiking_calibration;
  // `spiking.dt`: a NIR model's time step in seconds (its continuous-time neurons discretised with
  // it); only for NIR models, and required for them.
  std::optional<double> spiking_dt;
  // The sweep values of this point (empty without a sweep): key -> value as written.
  std::vector<std::pair<std::string, std::string>> sweep_point;
};

// A campaign file expanded over its sweep (one config per point, the grid's cartesian product in
// the order the keys are listed, last key fastest). Without `sweep:` a single point.
std::vector<CampaignConfig> load_campaign_points(const std::string& path, const std::vector<std::string>& overrides = {});
// The campaign's one point, for commands that take no sweep (`command`: tolerate, harden): a sweep
// of more than one point is refused (InputError naming the file, the point count and how to keep one).
CampaignConfig load_single_point(const std::string& path, const std::vector<std::string>& overrides, const std::string& command);

// The bound families a campaign may ask for.
const std::vector<std::string>& bound_family_names();

// Reads and validates a campaign file. `overrides` are "key.path[0].sub=VALUE" strings applied
// to the YAML tree before validation (VALUE is parsed as YAML); "--flag=VALUE" sets key `flag`
// and names the command-line flag in messages (--trials, --seed, --engine). Errors name the file, line,
// key, bad value and what was expected; unknown keys get a "did you mean" suggestion.
CampaignConfig load_campaign(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from YAML text (tests); `base_dir` resolves relative paths.
CampaignConfig parse_campaign(const std::string& yaml_text, const std::string& source_name,
                              const std::string& base_dir, const std::vector<std::string>& overrides = {});

}  // namespace nfsim::tb
