// Runs campaign points: prepare (prepare.cpp), build the engine the campaign names (the engine
// registry, sim/engine/), schedule its blocks over threads and MPI ranks (scheduler.cpp), keep
// checkpoints (checkpoint.cpp), compute bounds, and write the report (testbench/report/).
#include "testbench/campaign/runner.h"

#include "sim/functional/spiking_engine.h"

#include "sim/engine/fault_log.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/plugin.h"
#include "sim/topology/components.h"
#include "core/running_stats.h"
#include "core/strings.h"
#include "faults/bound_model.h"
#include "sim/engine/fault_log.h"
#include "testbench/campaign/checkpoint.h"
#include "testbench/campaign/criticality.h"
#include "testbench/campaign/finite_check.h"
#include "testbench/campaign/point_bounds.h"
#include "testbench/campaign/prepare.h"
#include "testbench/campaign/scheduler.h"
#include "testbench/report/html_report.h"
#include "testbench/report/point_report.h"
#include "testbench/report/summary_table.h"

namespace nfsim::tb {
namespace {

long peak_rss_kb() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The measured error of one input from an exact engine: the moments themselves, zero-width
// intervals.
Measured measure_exact(const sim::ExactResult& e, Eigen::Index n) {
  Measured m;
  m.mean = e.mean.col(n);
  m.std = e.variance.col(n).cwiseSqrt();
  m.mean_abs = e.mean_abs.col(n);
  m.max_abs = e.max_abs.col(n);
  m.mean_hw = m.std_hw = m.mean_abs_hw = Eigen::VectorXd::Zero(m.mean.size());
  for (int o = 0; o < 3; ++o) m.norm_mean[o] = e.norm_mean(o, n);
  m.trials = 0;
  return m;
}

const std::string& report_dir_of(const RunOptions& options) {
  return options.report_dir.empty() ? options.out_dir : options.report_dir;
}

// Measurements, bounds, profile and per-term predicted variance of a finished point (bounds on
// `threads` threads).
void finish_point(CampaignResult& r, const PreparedPoint& p, unsigned threads) {
  const auto t0 = std::chrono::steady_clock::now();
  const double z = core::normal_quantile_two_sided(r.config.confidence);
  r.measured.clear();
  for (Eigen::Index n = 0; n < r.data.count(); ++n) r.measured.push_back(r.exact ? measure_exact(*r.exact, n) : measure(r.stats, n, z));
  compute_point_bounds(r, *p.plan, threads);  // only what a requested bound needs (point_bounds.h)
  r.seconds_bounds = seconds_since(t0);
}

// --trial-outputs: the faulty outputs of the first trials, one row per (trial, input), to
// compare engines trial by trial.
void write_trial_outputs(sim::IEngine& engine, const RunOptions& options, std::size_t point_index, Eigen::Index outputs) {
  std::ostringstream csv;
  csv << "trial,input";
  for (Eigen::Index k = 0; k < outputs; ++k) csv << ",out" << k;
  csv << '\n';
  char buf[32];
  for (std::uint64_t t = 0; t < options.trial_outputs; ++t) {
    const Eigen::MatrixXd out = engine.trial_outputs(t);
    if (const auto bad = first_non_finite_output(out)) {
      refuse_non_finite("--trial-outputs: trial " + std::to_string(t) + " of point " + std::to_string(point_index), *bad,
                        "the point's fault specs");
    }
    for (Eigen::Index n = 0; n < out.cols(); ++n) {
      csv << t << ',' << n;
      for (Eigen::Index k = 0; k < out.rows(); ++k) {
        std::snprintf(buf, sizeof buf, "%.17g", out(k, n));
        csv << ',' << buf;
      }
      csv << '\n';
    }
  }
  const std::string text = csv.str();
  core::write_file_atomically(report_dir_of(options) + "/trial_outputs_" + std::to_string(point_index) + ".csv",
                              [&](std::ostream& o) { o << text; });
}

// The spiking section of a point: its configuration and conversion, the fault-free spikes per
// inference (a fault-free pass of the spiking model: trial 0's input spikes with Bernoulli
// coding, as the engine's fault-free outputs), and the fault-free outputs against the rate
// equivalent's.
SpikingReport spiking_report(const PreparedPoint& p, const Eigen::MatrixXd& fault_free, std::uint64_t seed, const sim::IEngine& engine) {
  const models::SpikingConfig& c = *p.spiking;
  SpikingReport k;
  // A NIR model's neurons have their own thresholds and leaks (the file's): "nir".
  k.neuron = c.layer_thresholds.empty() && c.layer_leaks.empty() ? models::to_string(c.neuron) : "nir";
  k.reset = models::to_string(c.reset);
  k.input_coding = models::to_string(c.coding);
  k.readout = models::to_string(c.readout);
  k.time_steps = c.time_steps;
  k.threshold = c.threshold;
  k.leak = c.neuron == models::SpikingNeuron::lif ? c.leak : 1.0;
  k.refractory_steps = c.refractory_steps;
  k.percentile = c.percentile;
  k.calibration = c.calibration;
  k.lambdas = p.spiking_lambdas;
  if (auto counted = engine.spikes_per_inference()) {
    k.spikes_per_inference = std::move(*counted);  // as the engine's own neuron model spiked
  } else {
    const sim::SpikingModel model(p.network, c, seed);  // the engine's seed: the same Bernoulli trains
    const Eigen::Index N = p.data.inputs.cols();
    k.spikes_per_inference.assign(static_cast<std::size_t>(p.network.num_layers()), 0.0);
    sim::SpikeTrace trace;
    for (Eigen::Index n = 0; n < N; ++n) {
      model.run_clean(p.data.inputs.col(n).data(), 0, static_cast<std::uint32_t>(n), trace);
      for (std::size_t l = 0; l < k.spikes_per_inference.size(); ++l) {
        k.spikes_per_inference[l] += trace.spikes[l].cast<double>().sum() / static_cast<double>(N);
      }
    }
  }
  const Eigen::MatrixXd rate = p.network.forward_batch(p.data.inputs);
  k.max_abs_output_vs_rate_equivalent = rate.size() ? (fault_free - rate).cwiseAbs().maxCoeff() : 0.0;
  if (!p.data.labels.empty()) k.rate_equivalent_accuracy = accuracy_of(rate, p.data.labels);
  return k;
}

// Runs one point on its engine. `resume`: the checkpoint of an interrupted run of this point (its
// statistics are moved from), or null. The engine is handed back so that the caller can finish
// it after the last point (the chip engine's trace spans every point).
// `writer`, `finished`: rank 0 of an MPI run keeps periodic checkpoints of this point (after the
// points in `finished`), or null.
CampaignResult run_point(const CampaignConfig& config, const RunOptions& options, Checkpoint* resume, std::size_t point_index,
                         std::size_t point_count, std::uint64_t& blocks_done, std::unique_ptr<sim::IEngine>& engine_out,
                         CheckpointWriter* writer = nullptr, const std::vector<PointReport>* finished = nullptr) {
  PreparedPoint p = prepare_point(config);
  CampaignResult r;
  r.config = config;
  r.network = p.network;
  r.data = p.data;
  r.faults = p.plan->specs();
  r.chip = p.chip;
  if (p.spiking) {
    // The conversion's lambdas now: the checkpoint signature reads them (the rest of the
    // section comes with the fault-free outputs, below).
    r.spiking = SpikingReport{};
    r.spiking->lambdas = p.spiking_lambdas;
    r.spiking_signature = p.spiking->signature();
  }
  // --trial-outputs keeps N x inputs x outputs values in memory and in one CSV: bounded here,
  // before the trials run, rather than after minutes of work.
  constexpr double kMaxTrialOutputValues = 5e7;  // about 400 MB of doubles
  const double trial_values = static_cast<double>(options.trial_outputs) * static_cast<double>(r.data.count()) *
                              static_cast<double>(r.network.output_size());
  if (trial_values > kMaxTrialOutputValues) {
    throw core::InputError("--trial-outputs " + std::to_string(options.trial_outputs) + ": " + core::format_double(trial_values) +
                           " values for " + std::to_string(r.data.count()) + " inputs x " + std::to_string(r.network.output_size()) +
                           " outputs; expected at most 5e7 (fewer trials or inputs)");
  }
  if (options.trial_outputs > 0 && p.engine->capabilities.exact) {
    throw core::InputError("--trial-outputs: engine '" + config.engine + "' has no trials (it enumerates every fault subset); expected " +
                           "a Monte-Carlo engine (" +
                           sim::EngineRegistry::instance().names_with([](const sim::EngineCapabilities& c) { return !c.exact; }) + ")");
  }
  // A checkpoint that does not fit this point is refused before anything is simulated.
  if (resume) check_resumed(*resume, r, config, options.out_dir);
  sim::EngineSetup setup;
  setup.model = &p.model;
  setup.network = &r.network;
  setup.inputs = &r.data.inputs;
  setup.labels = r.data.labels;
  setup.plan = p.plan.get();
  setup.chip = p.mapped ? &*p.mapped : nullptr;
  setup.chip_key = p.chip_key;
  setup.seed = config.seed;
  setup.block_trials = config.block_trials;
  setup.batch_trials = config.batch_trials;
  setup.vcd_path = options.vcd_path;
  if (!options.fault_log_path.empty()) setup.fault_log_limit = config.fault_log_max_lines;
  setup.interrupt = &interrupt_requested;
  setup.replicas = config.replicas.count;
  setup.deadline_ns = config.deadline_ns;
  setup.stream_interval_ns = config.stream_interval_ns;
  setup.chip_differential = config.chip_differential;
  setup.spiking = p.spiking ? &*p.spiking : nullptr;
  // The control variate: every unit's single-fault effect on every input, kept for the point.
  std::unique_ptr<sim::ControlVariate> control_variate;
  double control_variate_s = 0;  // building it is part of the Monte Carlo's time
  if (config.control_variate() && !p.engine->capabilities.exact) {
    const auto built = std::chrono::steady_clock::now();
    const double bytes = sim::ControlVariate::effect_bytes(*p.plan, r.network, r.data.count());
    if (bytes > sim::ControlVariate::kMaxEffectBytes) {
      throw core::InputError(config.file + ": estimator: control_variate keeps every fault unit's effect on every output of every "
                             "input: " + std::to_string(std::llround(bytes / 1048576.0)) + " MiB here (" + std::to_string(r.data.count()) +
                             " inputs); expected at most 1024 MiB (fewer inputs or fault units, or estimator: plain)");
    }
    control_variate = std::make_unique<sim::ControlVariate>(r.network, r.data.inputs, *p.plan, config.seed);
    setup.control_variate = control_variate.get();
    control_variate_s = seconds_since(built);
  }
  // Asked for only (criticality:): before the engine, which may take the mapped chip.
  if (config.criticality && mpi_rank() == 0) r.criticality = point_criticality(p, config);
  std::unique_ptr<sim::IEngine> engine = p.engine->make(setup);
  const Eigen::MatrixXd& fault_free = r.fault_free_outputs = engine->clean_outputs();
  check_fault_free_outputs(r.network, r.data.inputs, fault_free, r.data.source);
  // Which spec makes a result non-finite: the same computation with that spec alone (the others
  // at probability 0, so it draws exactly the faults it drew here), on a fresh engine of the same
  // kind, or the functional engine for an engine that keeps one session per process.
  auto engine_alone = [&](std::size_t s) {
    const sim::EngineRegistry::Entry* entry = p.engine;
    if (entry->capabilities.single_session) entry = &sim::EngineRegistry::instance().get("functional", "rerun");
    auto plan = std::make_shared<faults::FaultPlan>(spec_alone(r.faults, s), r.network);
    sim::EngineSetup one = setup;
    one.plan = plan.get();
    one.chip = nullptr;
    one.vcd_path.clear();
    one.fault_log_limit.reset();
    one.control_variate = nullptr;  // made for the whole plan; finiteness is all that is asked here
    return std::make_pair(plan, entry->make(one));
  };
  if (!r.data.labels.empty()) r.fault_free_accuracy = accuracy_of(fault_free, r.data.labels);
  if (p.spiking) r.spiking = spiking_report(p, fault_free, config.seed, *engine);
  if (r.chip) {
    // What the chip's components change before any fault (programming, neuron models): reported
    // beside the programming error; Delta is measured from these fault-free outputs.
    const Eigen::MatrixXd diff = fault_free - p.model.forward_batch(r.data.inputs);
    r.chip->fault_free_max_abs_output_error = diff.size() ? diff.cwiseAbs().maxCoeff() : 0.0;
  }

  const std::uint64_t total = config.trials;
  const auto t0 = std::chrono::steady_clock::now();
  // Threads, or for the chip engine worker processes: none under mpirun (the ranks are its workers
  // there, and forking after MPI_Init is unsafe with some transports), none with --vcd (one
  // process writes the trace).
  const bool process_workers = p.engine->capabilities.process_workers && !mpi_initialized() && options.vcd_path.empty();
  r.threads = p.engine->capabilities.parallel_blocks || process_workers ? effective_threads(options.threads) : 1;
  if (p.engine->capabilities.exact) {
    // An exact point has no blocks: interrupted, it is enumerated again from the start on resume
    // (the checkpoint keeps its signature and empty statistics).
    blocks_done = 0;
    try {
      r.exact = *engine->exact_result();
      r.stop_reason = "exact";
      if (const auto bad = first_non_finite(*r.exact)) {
        refuse_non_finite("exact engine, " + r.data.source, *bad, name_culprit(r.faults, [&](std::size_t s) {
                            auto [plan, one] = engine_alone(s);
                            return first_non_finite(*one->exact_result()).has_value();
                          }));
      }
    } catch (const sim::EnumerationInterrupted&) {
      r.stop_reason = "interrupted";
      r.stats = sim::ErrorStats(r.data.count(), r.network.output_size());
    }
  } else {
    const std::uint64_t nblocks = (total + config.block_trials - 1) / config.block_trials;
    const std::uint64_t start_block = resume ? resume->blocks_done : 0;
    // The chip engine's latencies, traffic and fault log travel in the statistics' tallies; a
    // checkpoint written before they did would resume into a report that leaves its blocks out.
    if (resume && p.engine->capabilities.process_workers && resume->stats->trials() > 0 && resume->stats->tallies().empty()) {
      throw core::InputError(options.out_dir + ": the checkpoint's chip-engine statistics carry no latency, traffic or fault "
                             "log of their blocks (written by an earlier nfsim); expected a checkpoint of this version: run "
                             "the campaign again without --resume");
    }
    sim::ErrorStats acc = resume ? std::move(*resume->stats) : sim::ErrorStats(r.data.count(), r.network.output_size());
    auto progress = [&](std::uint64_t trials) {
      if (options.progress) options.progress(point_index, point_count, trials, total);
    };
    sim::IEngine& e = *engine;
    SaveFn save;
    std::string signature;
    if (writer && finished && mpi_size() > 1 && mpi_rank() == 0) {
      save = [&](std::uint64_t blocks, const sim::ErrorStats& merged, bool now) {
        if (!writer->due(now)) return;
        if (signature.empty()) signature = point_signature(r);
        writer->write(point_index, blocks, *finished, merged, signature);
      };
    }
    // Each block is checked where it is computed (any thread or rank); the culprit is named here.
    auto checked_block = [&e, total](std::uint64_t b) {
      sim::ErrorStats block = e.run_block(b, total);
      if (auto bad = first_non_finite(block)) throw NonFiniteBlock{b, *bad};
      if (auto bad = first_non_finite_control_variate(block)) {
        throw core::InputError("estimator: control_variate: " + *bad + " (block " + std::to_string(b) +
                               "): the errors are too large for its squared terms; expected estimator: plain for this campaign");
      }
      return block;
    };
    try {
      blocks_done = run_blocks(checked_block, start_block, nblocks, config.block_trials, total, config, acc, r.stop_reason,
                               progress, r.threads, save, process_workers);
    } catch (const NonFiniteBlock& nf) {
      refuse_non_finite("trials of block " + std::to_string(nf.block) + " (" + r.data.source + ")", nf.detail,
                        name_culprit(r.faults, [&](std::size_t s) {
                          auto [plan, one] = engine_alone(s);
                          return first_non_finite(one->run_block(nf.block, total)).has_value();
                        }));
    } catch (const PeerFailure& f) {
      if (!save) throw;
      throw PeerFailure(std::string(f.what()) + "; " + writer->json_path() + " keeps the " + std::to_string(f.blocks_done()) +
                            " of " + std::to_string(nblocks) + " blocks merged before (point " + std::to_string(point_index + 1) +
                            " of " + std::to_string(point_count) + ")",
                        f.blocks_done());
    }
    // Blocks within the limit merge to finite moments (core/running_stats.h); a resumed
    // checkpoint's statistics are checked here too.
    if (const auto bad = first_non_finite(acc)) refuse_non_finite("merged trials (" + r.data.source + ")", *bad, "the point's fault specs");
    r.stats = std::move(acc);
    r.trials_done = r.stats.trials();
    // Bernoulli input trains: the fault-free accuracy of the same trials' input spikes (paired
    // with the faulty one), not that of one draw of them.
    const auto& tally = r.stats.tallies().stats;
    if (const auto it = tally.find(sim::kFaultFreeAccuracyTally); it != tally.end() && it->second.count() > 0) {
      r.fault_free_accuracy = it->second.mean();
    }
  }
  r.seconds_monte_carlo = seconds_since(t0) + control_variate_s;  // the trials (and the control variate), not the logs below
  if (mpi_rank() == 0 && !options.fault_log_path.empty()) {
    // One file for the whole campaign: each point appends its lines (and its summary line).
    std::ostringstream log;
    if (point_index > 0) {
      std::ifstream previous(options.fault_log_path);
      if (previous) log << previous.rdbuf();
    }
    sim::FaultLogContext context;
    context.max_lines = config.fault_log_max_lines;
    context.trials_done = r.trials_done;
    context.point = point_index;
    context.sweep = config.sweep_point;
    engine->write_fault_log(log, context, r.stats);
    const std::string text = log.str();
    core::write_file_atomically(options.fault_log_path, [&](std::ostream& o) { o << text; });
  }
  if (options.trial_outputs > 0 && mpi_rank() == 0 && !options.out_dir.empty()) {
    write_trial_outputs(*engine, options, point_index, r.network.output_size());
  }
  if (const auto m = engine->chip_metrics(r.stats); m && r.chip && mpi_rank() == 0) {
    r.chip->timing = ChipReport::Timing{m->latency_mean_ns,
                                        m->latency_min_ns,
                                        m->latency_median_ns,
                                        m->latency_p99_ns,
                                        m->latency_max_ns,
                                        m->messages_per_inference,
                                        m->router_hops_per_inference,
                                        m->link_wait_ns_per_inference,
                                        m->link_utilisation,
                                        m->deadline_ns,
                                        m->deadline_miss_rate,
                                        std::nullopt,
                                        std::nullopt,
                                        std::nullopt,
                                        std::nullopt,
                                        {},
                                        {},
                                        0,
                                        0,
                                        {},
                                        std::nullopt};
    if (m->stream) {
      r.chip->timing->stream = ChipReport::Timing::Stream{m->stream->interval_ns,       m->stream->throughput_per_us,
                                                          m->stream->bottleneck_per_us, m->stream->expected_per_us,
                                                          m->stream->backlog_growth_ns_per_input, m->stream->sustained};
    }
    r.chip->timing->simulation = m->simulation;
    r.chip->timing->full_reason = m->full_reason;
    r.chip->timing->differential_inferences = m->differential_inferences;
    r.chip->timing->full_inferences = m->full_inferences;
    r.chip->timing->spikes_per_link_per_inference = m->spikes_per_link_per_inference;
    r.chip->timing->spikes_dropped_per_inference = m->spikes_dropped_per_inference;
    if (m->rerouting_per_inference) {
      r.chip->timing->rerouted_messages_per_inference = m->rerouting_per_inference->rerouted_messages;
      r.chip->timing->detour_hops_per_inference = m->rerouting_per_inference->detour_hops;
      r.chip->timing->dropped_messages_per_inference = m->rerouting_per_inference->dropped_messages;
    }
  }
  if (mpi_rank() == 0) finish_point(r, p, effective_threads(options.threads));
  engine_out = std::move(engine);
  return r;
}

}  // namespace

CampaignResult run_campaign(const CampaignConfig& config, const RunOptions& options) {
  std::uint64_t blocks = 0;
  std::unique_ptr<sim::IEngine> engine;
  CampaignResult r = run_point(config, options, nullptr, 0, 1, blocks, engine);
  engine->finish();
  return r;
}

namespace {

// On --resume: the fault lines (and summary lines) of the points the interrupted run finished,
// from its faults.jsonl in the output directory into this run's log, which the later points then
// append to. A missing file carries nothing; a line that is not a JSON object with a point is an
// input error (the directory was edited).
void carry_fault_log(const std::string& previous, std::size_t finished_points, const std::string& log_path) {
  std::ifstream in(previous);
  if (!in) return;
  std::ostringstream kept;
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
    }
    if (!j.is_object() || !j.contains("point") || !j["point"].is_number_unsigned()) {
      throw core::InputError(previous + " line " + std::to_string(number) + ": not a fault-log line; expected a JSON object with a \"point\" " +
                             "(the fault log of the interrupted run, as nfsim wrote it)");
    }
    if (j["point"].get<std::size_t>() < finished_points) kept << line << "\n";
  }
  const std::string text = kept.str();
  core::write_file_atomically(log_path, [&](std::ostream& o) { o << text; });
}

}  // namespace

CampaignOutcome run_campaign_points(const std::vector<CampaignConfig>& points, const RunOptions& options) {
  CampaignOutcome outcome;
  outcome.is_root = mpi_rank() == 0;
  Checkpoint cp;
  if (options.resume) cp = read_checkpoint(options.out_dir);
  if (cp.point > points.size()) throw core::InputError(options.out_dir + "/checkpoint.json: point index beyond the campaign");
  // Every later point is made concrete and checked against its engine before any trial, so a
  // point the engine cannot honour stops the run at once, naming the point, not after hours.
  if (points.size() - cp.point > 1) {
    std::string first_key;  // an engine with one session: every point must keep its chip
    for (std::size_t i = cp.point; i < points.size(); ++i) {
      std::string sweep;
      for (const auto& [k, v] : points[i].sweep_point) sweep += (sweep.empty() ? "" : ", ") + k + "=" + v;
      const std::string where = "sweep point " + std::to_string(i) + (sweep.empty() ? "" : " (" + sweep + ")") + ": ";
      std::string key;
      bool single_session = false;
      try {
        const PreparedPoint p = prepare_point(points[i]);
        key = p.chip_key;
        single_session = p.engine->capabilities.single_session;
      } catch (const core::InputError& e) {
        throw core::InputError(where + e.what());
      }
      if (!single_session) continue;
      if (first_key.empty()) first_key = key;
      if (key != first_key) {
        throw core::InputError(where + "engine '" + points[i].engine + "' keeps one chip for the whole run (SystemC elaborates once per "
                               "process), so a sweep may change fault and trial keys only; this point changes the model, the chip "
                               "(components, parameters, latencies) or the inputs; expected one campaign per chip");
      }
    }
  }
  if (options.resume && outcome.is_root && cp.point > 0 && !options.fault_log_path.empty()) {
    carry_fault_log(options.out_dir + "/faults.jsonl", cp.point, options.fault_log_path);
  }
  Report& report = outcome.report;
  report.points = std::move(cp.completed_points);
  CheckpointWriter writer(options, cp.stats_file);
  std::unique_ptr<sim::IEngine> engine;
  for (std::size_t i = cp.point; i < points.size(); ++i) {
    std::uint64_t blocks_done = 0;
    const bool resuming_this = options.resume && i == cp.point;
    CampaignResult r = run_point(points[i], options, resuming_this ? &cp : nullptr, i, points.size(), blocks_done, engine,
                                 options.out_dir.empty() ? nullptr : &writer, &report.points);
    if (!outcome.is_root) continue;
    if (r.stop_reason == "interrupted") {
      outcome.complete = false;
      writer.write(i, blocks_done, report.points, r.stats, point_signature(r));
      report.points.push_back(make_point_report(r));
      outcome.results.push_back(std::move(r));
      break;
    }
    report.points.push_back(make_point_report(r));
    outcome.results.push_back(std::move(r));
  }
  if (engine) engine->finish();
  if (!outcome.is_root) return outcome;
  for (const auto& p : report.points) outcome.requirements_met = outcome.requirements_met && p.requirements_met();
  const CampaignConfig& first = points.front();
  report.nfsim_version = kNfsimVersion;
  report.complete = outcome.complete;
  report.campaign.file = first.file;
  report.campaign.model = first.model.describe();
  report.campaign.engine = first.engine;
  report.campaign.seed = first.seed;
  report.campaign.block_trials = first.block_trials;
  report.campaign.confidence = first.confidence;
  report.campaign.bounds = first.bounds;
  report.campaign.points = points.size();
  report.requirements_met = outcome.requirements_met;
  report.mpi_ranks = mpi_size();
  report.peak_rss_kb = peak_rss_kb();
  if (!outcome.results.empty()) {
    const CampaignResult& any = outcome.results.front();
    report.campaign.inputs = any.data.source;
    report.campaign.input_count = static_cast<long>(any.data.count());
    report.network = Report::Network{any.network.describe(), any.network.num_layers(), any.network.parameter_count()};
    report.profile = any.profile;
  }
  if (!core::loaded_plugins().empty()) report.plugins = sim::plugin_provenance();  // paths, hashes, types
  if (first.mission && outcome.complete) report.mission = summarize_mission(report.points, first.mission->hours, first.mission->checkpoints);
  check_finite(report);  // no report with a non-finite number is written
  if (!options.out_dir.empty()) {
    const std::string& dir = report_dir_of(options);
    const std::string json = to_json(report).dump(1) + "\n";
    core::write_file_atomically(dir + "/report.json", [&](std::ostream& o) { o << json; });
    core::write_file_atomically(dir + "/summary.csv", [&](std::ostream& o) { write_summary_csv(o, report); });
    const std::string html = render_html_report(report);
    core::write_file_atomically(dir + "/report.html", [&](std::ostream& o) { o << html; });
    // Staged: the checkpoint goes only once the report is in place (the caller's commit).
    if (outcome.complete && options.report_dir.empty()) writer.remove_files();
  }
  return outcome;
}

}  // namespace nfsim::tb
