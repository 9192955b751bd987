#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/bounds/bounds.h"
#include "testbench/report/criticality_report.h"

namespace nfsim::tb {

// The typed report of a campaign: what `nfsim run` measured, predicted and judged. Everything
// that reads a report (requirements, console table, summary.csv, report.html, tests) reads these
// structs; JSON exists only at the edges: report.json is to_json(Report), and a checkpoint keeps
// its finished points as JSON read back with from_json. The schema is docs/report.md.
// Numbers that are not finite are written as null and read back as NaN.

// A confidence interval per output.
struct Band {
  Eigen::VectorXd lo, hi;
};

// The measured error of one input over the trials (or, from an exact engine, exactly).
struct MeasuredReport {
  Eigen::VectorXd mean, std, mean_abs, max_abs;  // per output
  Band ci95_mean, ci95_std, ci95_mean_abs;      // 95% intervals (zero width when exact)
  std::uint64_t trials = 0;
};

// A bound's verdict for one input (scoreboard's judge()).
struct Verdict {
  enum class Kind { estimate, magnitude };
  Kind kind = Kind::estimate;
  // estimate (b3, b4): per output; NaN where the relative error is undefined.
  std::vector<double> rel_err_mean, rel_err_std;
  std::vector<bool> mean_inside_ci, std_inside_ci;
  // magnitude: what the bound is held against; b1_<ord> hold or not as one scalar, b2 and
  // worst_case per output (with all_hold).
  std::string measured;
  bool per_output = false;
  std::vector<bool> holds;        // one entry when !per_output
  std::vector<double> tightness;  // bound / measured; one entry when !per_output
  bool all_hold = false;
};

struct InputReport {
  long index = 0;
  std::optional<int> label;
  MeasuredReport measured;
  models::bounds::BoundSet bounds;         // the requested families
  std::map<std::string, Verdict> verdicts;  // sum_norms is not judged per input
};

// How well a bound's predictions follow the measurements across inputs and outputs.
struct Agreement {
  double pearson = 0, rank_loss = 0, median_rel_err = 0;  // NaN when undefined
  std::size_t points = 0;
};
struct BoundSummary {
  Agreement mean;
  std::optional<Agreement> std;
  std::optional<double> fraction_holding;  // magnitude bounds
};

struct RequirementResult {
  std::string requirement;     // as written, e.g. "b4 max_median_rel_err 0.05"; a budget says what it is judged on
  std::optional<double> value;  // what was measured (none when it could not be); a budget's conservative limit
  bool met = false;
  std::string note;  // why there is no value
  // Budgets (accuracy, error): the threshold `value` was held against, the point estimate
  // beside it, and (error) the input and output where the largest limit was found.
  std::optional<double> limit, estimate;
  std::optional<long> input;
  std::optional<int> output;
};

// One fault spec as reported.
struct FaultReport {
  std::string kind;  // logical or physical kind name
  double probability = 0;
  std::string persistence;
  std::optional<std::vector<int>> layers;
  std::optional<std::size_t> units;  // physical kinds: units on this chip
  struct Group {
    std::string name;
    std::size_t neurons = 0, synapses = 0;
  };
  std::optional<std::vector<Group>> groups;  // group_crash
  std::optional<double> value;              // stuck-at
  std::optional<int> bit, total_bits, frac_bits;  // weight_bit_flip
  std::optional<double> onset_ns;
  std::optional<std::size_t> tmr_units;  // units under TMR (docs/faults.md, "Protection")
  std::optional<std::uint32_t> spares;   // spare rows or columns per tile repairing this spec
};

struct StoppingReport {
  std::string rule;     // fixed, auto, exact
  std::string reached;  // trials, target, max_trials, interrupted, exact
  std::optional<double> target_rel_half_width;  // auto (null for fixed)
  std::uint64_t max_trials = 0;                 // Monte Carlo
  std::uint64_t units_enumerated = 0, subsets = 0;  // exact
};

// Which estimator gave the point's mean and std (docs/report.md, "Estimators"), and, for the
// control variate, what it saved: the largest relative half-width of the std's interval over
// inputs and outputs (the stopping rule's quantity), the plain estimator's on the same trials, and
// the trials the plain estimator would need for the control variate's width, n (plain / cv)^2
// (the asymptotic 1/sqrt(n) scaling of both intervals): an extrapolation, stated as one.
struct EstimatorReport {
  std::string name = "plain";  // plain, control_variate or exact
  std::optional<double> rel_half_width_std, plain_rel_half_width_std;  // Monte Carlo (null: undefined)
  std::optional<double> plain_trials_for_same_width, trials_saved;     // control_variate
  std::optional<double> multi_fault_share;  // control_variate: inferences in which 2 or more units failed
  // control_variate: the fewest such trials of an input; below sim::kMinMultiFaultTrials that
  // input's intervals are widened to the plain estimator's.
  std::optional<double> multi_fault_trials_min;
  // control_variate: inputs x outputs whose std (and interval) is the plain estimator's, where its
  // interval was the narrower one or the control variate's variance estimate was not positive.
  std::optional<double> plain_std_cells;
};

struct AccuracyReport {
  double fault_free = 0, faulty_mean = 0, faulty_ci95_lo = 0, faulty_ci95_hi = 0, drop = 0;
};

// What programming the crossbars did to the network (sim::ProgrammingStats), and its effect on
// the outputs of the inputs and, with labels, on the fault-free accuracy.
struct ProgrammingReport {
  std::size_t weights = 0, clipped = 0, quantised = 0;
  std::optional<double> clip_limit;  // the crossbar model's (none: it does not clip)
  double max_abs_weight_error = 0, mean_abs_weight_error = 0;
  std::optional<double> max_abs_output_error;             // with inputs: programmed network vs model
  std::optional<double> accuracy_before, accuracy_after;  // with labels: model, programmed network
};

// The chip a point ran on: topology, mapping, programming, and (chip engine) simulated time and
// traffic.
struct ChipReport {
  std::string name, file, crossbar, interconnect;
  int cores = 0, cores_used = 0;
  std::size_t tiles = 0, neuron_arrays = 0;
  double programming_max_abs_output_error = 0;  // programmed network vs model
  std::optional<double> fault_free_max_abs_output_error;  // fault-free engine output vs model
  std::optional<ProgrammingReport> programming;
  struct Timing {
    double latency_mean_ns = 0, latency_min_ns = 0, latency_median_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
    std::uint64_t messages_per_inference = 0;
    double router_hops_per_inference = 0;
    // With link bandwidths (contention): wait for links per inference; per link its busy share
    // of the simulated time, busiest first.
    std::optional<double> link_wait_ns_per_inference;
    std::vector<std::pair<std::string, double>> link_utilisation;
    std::optional<double> deadline_ns, deadline_miss_rate;  // with deadline_ns
    // With fault-tolerant routing, per inference: messages that detoured, the routers the
    // detours added, messages lost for want of a live route.
    std::optional<double> rerouted_messages_per_inference, detour_hops_per_inference, dropped_messages_per_inference;
    // Streamed inferences (stream:): docs/chip.md, "Streamed inferences".
    struct Stream {
      double interval_ns = 0, throughput_per_us = 0, bottleneck_throughput_per_us = 0, expected_throughput_per_us = 0;
      double backlog_growth_ns_per_input = 0;
      bool sustained = true;
    };
    std::optional<Stream> stream;
    // How the chip engine simulated the inferences (docs/chip.md, "Differential simulation"):
    // "differential" or "full" (with the reason), and how many inferences each way.
    std::string simulation;
    std::string full_reason;
    std::uint64_t differential_inferences = 0, full_inferences = 0;
    // Spiking chips: spikes per inference on each link (busiest first) and dropped by lossy
    // routers and links, over the campaign's inferences (ChipRunMetrics).
    std::vector<std::pair<std::string, double>> spikes_per_link_per_inference;
    std::optional<double> spikes_dropped_per_inference;
  };
  std::optional<Timing> timing;
  // Provenance of the components (types, parameter values, describe()), as written.
  nlohmann::json components;
};

// A spiking point (`spiking:`; docs/spiking.md): the dynamics the engine ran, the conversion,
// and the fault-free spiking network against its rate equivalent (the converted network's relu
// forward pass, on which the bounds are computed).
struct SpikingReport {
  std::string neuron, reset, input_coding, readout;
  std::int64_t time_steps = 0, refractory_steps = 0;
  double threshold = 1, leak = 1, percentile = 100;
  std::string calibration;      // the inputs the conversion normalised each layer on
  std::vector<double> lambdas;  // lambda_0..lambda_L
  // Fault-free spikes per inference of layers 0..L-1 (mean over the inputs; layer 0: the input trains).
  std::vector<double> spikes_per_inference;
  // Fault-free: the largest |spiking output - rate equivalent output| over inputs and outputs,
  // and with labels the rate equivalent's accuracy (the spiking one is accuracy.fault_free).
  double max_abs_output_vs_rate_equivalent = 0;
  std::optional<double> rate_equivalent_accuracy;
};

struct PointTiming {
  double monte_carlo_s = 0, bounds_s = 0;
  unsigned threads = 1;
};

struct PointReport {
  std::vector<std::pair<std::string, std::string>> sweep;  // key -> value as written
  std::vector<FaultReport> faults;
  std::optional<std::uint32_t> replicas;  // `replicas:` (Algorithm 1): Delta is the median of this many copies
  std::uint64_t trials = 0;
  StoppingReport stopping;
  EstimatorReport estimator;
  std::vector<InputReport> inputs;
  std::map<std::string, BoundSummary> summary;
  std::vector<std::pair<std::string, double>> variance_by_term;  // predicted variance (b4) per term
  std::vector<double> histogram_delta;                           // Delta of input 0, output 0
  std::optional<AccuracyReport> accuracy;
  std::optional<ChipReport> chip;
  std::optional<SpikingReport> spiking;
  std::optional<CriticalityReport> criticality;  // when asked for (criticality: or nfsim criticality)
  std::vector<RequirementResult> requirements;
  PointTiming timing;
  bool requirements_met() const;
};

// A campaign's `mission:` (docs/faults.md, "Lifetime"): its checkpoints are the last axis of the
// points. Per run of checkpoints (one per combination of the other sweep axes) and per bound with
// a std prediction: the Pearson correlation over the checkpoints of the measured error std and
// the bound's prediction, each the mean over inputs and outputs (the "mean std" and "b4 std"
// columns of the summary). None with fewer than 3 checkpoints or a constant series.
struct MissionReport {
  double hours = 0;
  std::int64_t checkpoints = 0;
  struct Curve {
    std::string sweep;  // the other axes' values ("" without)
    std::vector<double> hours, measured_std;
    // Per checkpoint, when the points have them: the mean per-trial accuracy (labels) and the
    // share of inferences that missed the deadline (chip engine with deadline_ns).
    std::vector<double> accuracy, deadline_miss_rate;
    std::map<std::string, std::vector<double>> bound_std;
    std::map<std::string, std::optional<double>> pearson_std;
  };
  std::vector<Curve> curves;
};
// The curves of a mission over `points` (the last axis: `checkpoints` points per curve).
MissionReport summarize_mission(const std::vector<PointReport>& points, double hours, std::int64_t checkpoints);

struct Report {
  std::string nfsim_version;
  bool complete = true;
  struct Campaign {
    std::string file, model, engine, inputs;
    std::uint64_t seed = 0;
    std::uint32_t block_trials = 0;
    double confidence = 0.95;
    std::vector<std::string> bounds;
    std::size_t points = 0;
    std::optional<long> input_count;
  } campaign;
  bool requirements_met = true;
  std::vector<PointReport> points;
  struct Network {
    std::string description;
    int layers = 0;
    std::size_t parameters = 0;
  };
  std::optional<Network> network;
  std::optional<models::bounds::NetworkProfile> profile;
  // Plug-in libraries loaded for the run (paths, hashes, types registered), as written; null
  // when none was loaded.
  nlohmann::json plugins;
  int mpi_ranks = 1;
  long peak_rss_kb = 0;
  std::optional<MissionReport> mission;
};

nlohmann::json to_json(const Report& report);
// A point with its timing inside (the form a checkpoint keeps), and back.
nlohmann::json point_to_json(const PointReport& point);
PointReport point_from_json(const nlohmann::json& j);
nlohmann::json profile_to_json(const models::bounds::NetworkProfile& profile);
nlohmann::json to_json(const FaultReport& fault);

}  // namespace nfsim::tb
