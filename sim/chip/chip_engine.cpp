#include "sim/chip/chip_engine.h"

#include "core/error.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include "sim/kernel/systemc_errors.h"
#include "sysc/tracing/sc_tracing_ids.h"

namespace nfsim::sim {

// Runs jobs inside the simulation: each job is a function executed by this thread.
struct ChipEngine::Driver : sc_core::sc_module {
  sc_core::sc_event start;
  std::function<void()> job;
  std::exception_ptr error;
  // A SystemC report raised inside the job, as text: the exception object itself stays on this
  // thread's coroutine stack (rethrowing it on the main stack confuses AddressSanitizer).
  std::string report;

  explicit Driver(sc_core::sc_module_name name) : sc_core::sc_module(name) {
    SC_HAS_PROCESS(Driver);
    SC_THREAD(loop);
  }
  // Runs the pending job if any, then sleeps until the next one. The first job is set before the
  // first sc_start and runs during initialisation; later ones are woken by `start`.
  void loop() {
    while (true) {
      if (job) {
        try {
          job();
        } catch (const sc_core::sc_report& r) {
          report = "chip simulation at " + sc_core::sc_time_stamp().to_string() + ": " + describe_report(r);
        } catch (...) {
          error = std::current_exception();
        }
        job = nullptr;
      }
      sc_core::wait(start);
    }
  }
};

// Signals that exist only to be traced to a VCD file.
struct ChipEngine::Tracer {
  sc_core::sc_trace_file* file = nullptr;
  std::string path, tmp_base;
  sc_core::sc_signal<int> inference{"trace_inference"};
  sc_core::sc_signal<bool> busy{"trace_busy"};
  std::vector<std::unique_ptr<sc_core::sc_signal<double>>> outputs;
  std::vector<std::unique_ptr<sc_core::sc_signal<int>>> faults;

  Tracer(const std::string& vcd_path, Eigen::Index n_outputs, const faults::FaultPlan& plan) : path(vcd_path) {
    tmp_base = path + ".tmp";
    // SystemC does not report an unwritable trace file usefully: probe the place first.
    if (std::filesystem::is_directory(path)) throw core::InputError(path + ": is a directory; expected a VCD file path");
    {
      std::ofstream probe(tmp_base + ".vcd");
      if (!probe) throw core::InputError(path + ": cannot create the VCD file (missing directory or no permission)");
    }
    // SystemC's info lines about the time unit name the file it writes, which is the temporary
    // one: nfsim sets the unit itself (1 ps, below), so they say nothing the user needs.
    sc_core::sc_report_handler::set_actions(sc_core::SC_ID_TRACING_TIMESCALE_DEFAULT_, sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions(sc_core::SC_ID_TRACING_TIMESCALE_UNIT_, sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    file = sc_core::sc_create_vcd_trace_file(tmp_base.c_str());
    if (!file) throw core::InputError(path + ": cannot create the VCD file");
    file->set_time_unit(1, sc_core::SC_PS);
    sc_core::sc_trace(file, inference, "inference");
    sc_core::sc_trace(file, busy, "busy");
    for (Eigen::Index k = 0; k < n_outputs; ++k) {
      outputs.push_back(std::make_unique<sc_core::sc_signal<double>>(("trace_out" + std::to_string(k)).c_str()));
      sc_core::sc_trace(file, *outputs.back(), "output_" + std::to_string(k));
    }
    for (std::size_t s = 0; s < plan.size(); ++s) {
      const auto& spec = plan.specs()[s];
      const std::string kind = spec.kind_name();
      faults.push_back(std::make_unique<sc_core::sc_signal<int>>(("trace_faults" + std::to_string(s)).c_str()));
      sc_core::sc_trace(file, *faults.back(), "active_faults_" + std::to_string(s) + "_" + kind);
    }
  }
  // Closes the trace and moves it into place (SystemC appends ".vcd" to the base name).
  bool close() {
    if (!file) return true;
    sc_core::sc_close_vcd_trace_file(file);
    file = nullptr;
    return std::rename((tmp_base + ".vcd").c_str(), path.c_str()) == 0;
  }
  ~Tracer() { close(); }
};

ChipEngine::ChipEngine(const models::Network& network, const Eigen::MatrixXd& inputs, const MappedChip& mapped,
                       const faults::FaultPlan& plan, const ChipEngineOptions& options, std::vector<int> labels)
    : net_(network), inputs_(inputs), plan_(&plan), options_(options), labels_(std::move(labels)) {
  if (options_.block_trials == 0) throw core::InputError("block_trials must be >= 1");
  install_systemc_error_bridge();
  chip_ = std::make_unique<Chip>("chip", network, mapped);
  chip_->set_fault_plan(plan);
  controller_ = std::make_unique<FaultController>("faults", plan, chip_->programmed_network(), options.seed, *chip_);
  chip_->set_step_hook([this](int step) { controller_->begin_step(step); });
  controller_->set_log_limit(options.fault_log_limit);
  driver_ = std::make_unique<Driver>("driver");
  if (!options.vcd_path.empty()) {
    tracer_ = std::make_unique<Tracer>(options.vcd_path, network.output_size(), plan);
    chip_->trace_interconnect(tracer_->file);  // links and routers busy
  }
  if (options.spiking) {
    chip_->set_spiking(options.spiking);
    spiking_key_ = options.spiking->signature();
  }
  options_.spiking = nullptr;  // the chip keeps its own copy; the pointer lives for one point only
  if (!chip_->spiking()) plan.refuse_spiking_only("the chip engine's rate arrays");
  // Delta is the faults' effect only: it is measured against this chip's own fault-free outputs
  // (its crossbar and neuron models included, read noise off), not against the Eigen network.
  record_reference();
  if (!options_.differential) {
    no_references_ = "chip_simulation: full";
  } else if (std::string obstacle = chip_->differential_obstacle(); !obstacle.empty()) {
    no_references_ = obstacle;
  } else if (tracer_) {
    no_references_ = "--vcd (the trace follows every inference in simulated time)";
  } else {
    // Each input's fault-free inference, recorded (read noise is off: the chip has none).
    references_.resize(static_cast<std::size_t>(inputs_.cols()));
    chip_->set_read_noise(false);  // as the fault-free outputs (the chip has no noisy reads anyway)
    execute([&] {
      chip_->clear_faults();
      Eigen::VectorXd out;
      for (Eigen::Index n = 0; n < inputs_.cols(); ++n) {
        chip_->infer_reference(inputs_.col(n), out, references_[static_cast<std::size_t>(n)]);
        if (n == 0 && references_[0].bytes() * static_cast<std::size_t>(inputs_.cols()) > kMaxReferenceBytes) {
          no_references_ = "the fault-free references of the " + std::to_string(inputs_.cols()) + " inputs would take " +
                           std::to_string(references_[0].bytes() * static_cast<std::size_t>(inputs_.cols()) >> 20) +
                           " MiB (limit " + std::to_string(kMaxReferenceBytes >> 20) + " MiB)";
          break;
        }
        if (out != golden_.col(n)) throw core::InternalError("chip engine: a reference inference differs from the fault-free one");
      }
    });
    chip_->set_read_noise(true);
    if (!no_references_.empty()) references_.clear();
  }
  chip_->reset_counters();
}

std::string ChipEngine::differential_off_reason() const {
  if (references_.empty()) return no_references_;
  if (force_full_) return "chip_simulation: full";
  if (deadline_ns_) return "deadline_ns (lost outputs depend on arrival times)";
  if (stream_interval_ns_) return "stream (overlapping inferences)";
  return {};
}

ChipSimulationCounts ChipEngine::simulation() const {
  ChipSimulationCounts c;
  c.full_reason = differential_off_reason();
  c.differential = c.full_reason.empty();
  c.differential_inferences = differential_inferences_;
  c.full_inferences = full_inferences_;
  return c;
}

void ChipEngine::infer_one(Eigen::Index n, Eigen::VectorXd& out) {
  // An inference whose faults act on values only replays its reference; one with a unit that acts
  // through time (a dead router, a slow unit) is simulated in full.
  if (!controller_->drew_timing_fault() && differential_off_reason().empty()) {
    chip_->infer_differential(references_[static_cast<std::size_t>(n)], inputs_.col(n), out,
                              [this](const sc_core::sc_time& t) { controller_->apply_until(t); });
    ++differential_inferences_;
  } else {
    infer_traced(inference_count_, inputs_.col(n), out);
    ++full_inferences_;
  }
  ++inference_count_;
  controller_->end_inference();
}

void ChipEngine::set_plan(const faults::FaultPlan& plan, std::uint64_t seed, std::uint32_t block_trials) {
  if (block_trials == 0) throw core::InputError("block_trials must be >= 1");
  if (!chip_->spiking()) plan.refuse_spiking_only("the chip engine's rate arrays");
  plan_ = &plan;
  options_.seed = seed;
  options_.block_trials = block_trials;
  chip_->set_fault_plan(plan);
  controller_->set_plan(plan, chip_->programmed_network(), seed);
  latency_ns_ = core::RunningStats();
  latency_counts_ps_.clear();
  deadline_misses_ = 0;
  stream_throughput_ = core::RunningStats();
  stream_growth_ = core::RunningStats();
  differential_inferences_ = full_inferences_ = 0;
  chip_->reset_counters();
}

void ChipEngine::set_spiking(const models::SpikingConfig* config) {
  // The dynamics as a key (with a NIR model's per-neuron thresholds and leaks): an unchanged
  // configuration keeps the fault-free outputs.
  const std::string key = config ? config->signature() : std::string();
  if (key == spiking_key_) return;
  spiking_key_ = key;
  chip_->set_spiking(config);
  references_.clear();
  // The references are recorded once, at construction: a chip that changes its dynamics keeps
  // simulating in full (never indexes references it does not have).
  no_references_ = config ? chip_->differential_obstacle() : "the chip's dynamics changed after its references were recorded";
  record_reference();
  chip_->reset_counters();
}

void ChipEngine::set_stream(std::optional<double> interval_ns) {
  stream_interval_ns_ = interval_ns;
  stream_throughput_ = core::RunningStats();
  stream_growth_ = core::RunningStats();
}

void ChipEngine::run_trial(std::uint64_t trial, const std::function<void(Eigen::Index, const Eigen::VectorXd&)>& each) {
  const Eigen::Index N = inputs_.cols();
  Eigen::VectorXd out;
  if (stream_interval_ns_) chip_->begin_stream(sc_core::sc_time(*stream_interval_ns_, sc_core::SC_NS));
  // An error inside the stream leaves it (the session's chip is reused by the next point).
  struct Abandon {
    Chip& chip;
    bool armed;
    ~Abandon() {
      if (armed) chip.abandon_stream();
    }
  } abandon{*chip_, stream_interval_ns_.has_value()};
  sc_core::sc_time first_done, first_latency;
  controller_->begin_trial();
  for (Eigen::Index n = 0; n < N; ++n) {
    controller_->begin_inference(trial, static_cast<std::uint32_t>(n));
    infer_one(n, out);
    if (!chip_->protocol_error().empty()) return;  // execute() throws it
    if (stream_interval_ns_ && n == 0) {
      first_done = chip_->stream_completion();
      first_latency = chip_->last_latency();
    }
    each(n, out);
  }
  if (!stream_interval_ns_) return;
  abandon.armed = false;
  if (N >= 2) {
    // Times in ns from SystemC's integer ticks, so that exact rates come out exact.
    const auto ns = [](const sc_core::sc_time& t) { return t.to_double() / sc_core::sc_time(1, sc_core::SC_NS).to_double(); };
    const double span_ns = ns(chip_->stream_completion() - first_done);
    const double growth = (ns(chip_->last_latency()) - ns(first_latency)) / static_cast<double>(N - 1);
    if (span_ns > 0) {
      const double throughput = static_cast<double>(N - 1) * 1e3 / span_ns;
      stream_throughput_.add(throughput);
      if (block_) block_->tallies().stats[chip_tally::stream_throughput].add(throughput);
    }
    stream_growth_.add(growth);
    if (block_) block_->tallies().stats[chip_tally::stream_growth].add(growth);
  }
  chip_->end_stream();
}

void ChipEngine::set_deadline(std::optional<double> deadline_ns) {
  deadline_ns_ = deadline_ns;
  chip_->set_deadline(deadline_ns ? std::optional<sc_core::sc_time>(sc_core::sc_time(*deadline_ns, sc_core::SC_NS)) : std::nullopt);
}

ChipEngine::~ChipEngine() {
  if (tracer_) tracer_->close();
}

void ChipEngine::finish_trace() {
  if (tracer_ && !tracer_->close()) throw core::InputError(options_.vcd_path + ": cannot move the finished VCD trace into place");
}

void ChipEngine::infer_traced(std::uint64_t index, const Eigen::VectorXd& input, Eigen::VectorXd& output) {
  if (!tracer_) {
    chip_->infer(input, output);
    return;
  }
  tracer_->inference.write(static_cast<int>(index));
  tracer_->busy.write(true);
  for (std::size_t s = 0; s < tracer_->faults.size() && s < controller_->active_per_spec().size(); ++s) {
    tracer_->faults[s]->write(static_cast<int>(controller_->active_per_spec()[s]));
  }
  chip_->infer(input, output);
  controller_->end_inference();  // before the trace's 1 ps gap: later onsets never act on it
  for (Eigen::Index k = 0; k < output.size(); ++k) tracer_->outputs[static_cast<std::size_t>(k)]->write(output[k]);
  for (std::size_t s = 0; s < tracer_->faults.size() && s < controller_->active_per_spec().size(); ++s) {
    tracer_->faults[s]->write(static_cast<int>(controller_->active_per_spec()[s]));
  }
  tracer_->busy.write(false);
  sc_core::wait(1, sc_core::SC_PS);
}

void ChipEngine::execute(std::function<void()> job) {
  driver_->job = std::move(job);
  driver_->error = nullptr;
  driver_->report.clear();
  driver_->start.notify(sc_core::SC_ZERO_TIME);
  try {
    sc_core::sc_start();
  } catch (const sc_core::sc_report& r) {
    throw SimulationError("chip simulation at " + sc_core::sc_time_stamp().to_string() + ": " + describe_report(r));
  }
  // An error inside a process of the chip reaches the driver's thread, which keeps it here.
  if (!driver_->report.empty()) throw SimulationError(driver_->report);
  // A foreign interconnect module broke the protocol (recorded by the chip, thrown here, on the
  // main stack).
  if (!chip_->protocol_error().empty()) throw core::InputError(chip_->protocol_error());
  if (driver_->error) std::rethrow_exception(driver_->error);
}

void ChipEngine::accumulate_block(std::uint64_t first, std::uint64_t last, ErrorStats& block) {
  const Eigen::Index N = inputs_.cols();
  Eigen::VectorXd delta;
  // The block's tallies: what the engine's counters gained over it.
  BlockTallies& tallies = block.tallies();
  auto& latencies = tallies.histograms[chip_tally::latency_ps];
  const std::uint64_t inferences0 = chip_->inferences(), messages0 = chip_->messages_sent();
  const std::uint64_t differential0 = differential_inferences_, full0 = full_inferences_, misses0 = deadline_misses_;
  const std::size_t log0 = controller_->log().size();
  const std::uint64_t left_out0 = controller_->log_left_out();
  const Interconnect::Traffic traffic0 = chip_->has_builtin_interconnect() ? chip_->interconnect().traffic() : Interconnect::Traffic{};
  block_ = &block;
  struct Reset {
    ErrorStats*& block;
    ~Reset() { block = nullptr; }
  } reset{block_};
  for (std::uint64_t t = first; t < last; ++t) {
    std::size_t correct = 0;
    run_trial(t, [&](Eigen::Index n, const Eigen::VectorXd& out) {
      latency_ns_.add(chip_->last_latency().to_seconds() * 1e9);
      const auto ps = static_cast<std::uint64_t>(std::llround(chip_->last_latency().to_seconds() * 1e12));
      ++latency_counts_ps_[ps];
      ++latencies[ps];
      if (chip_->deadline_missed()) ++deadline_misses_;
      delta = out - golden_.col(n);
      block.add(n, delta.data());
      if (!labels_.empty()) {
        Eigen::Index best = 0;
        out.maxCoeff(&best);
        correct += static_cast<std::size_t>(best == labels_[static_cast<std::size_t>(n)]);
      }
    });
    if (!chip_->protocol_error().empty()) return;
    if (!labels_.empty()) block.add_trial_accuracy(static_cast<double>(correct) / static_cast<double>(N));
  }
  auto& c = tallies.counts;
  c[chip_tally::inferences] = chip_->inferences() - inferences0;
  c[chip_tally::messages] = chip_->messages_sent() - messages0;
  c[chip_tally::differential] = differential_inferences_ - differential0;
  c[chip_tally::full] = full_inferences_ - full0;
  if (deadline_ns_) c[chip_tally::deadline_misses] = deadline_misses_ - misses0;
  if (chip_->has_builtin_interconnect()) {
    const Interconnect& noc = chip_->interconnect();
    const Interconnect::Traffic d = Interconnect::difference(noc.traffic(), traffic0);
    const auto ps = [](const sc_core::sc_time& t) { return static_cast<std::uint64_t>(std::llround(t.to_seconds() * 1e12)); };
    c[chip_tally::hops] = d.hops;
    c[chip_tally::dropped] = d.dropped;
    c[chip_tally::rerouted] = d.rerouted;
    c[chip_tally::detour_hops] = d.detour_hops;
    c[chip_tally::wait_ps] = ps(d.wait);
    const std::vector<std::string> names = noc.link_names();
    for (std::size_t i = 0; i < d.link_busy.size(); ++i) {
      if (d.link_busy[i] != sc_core::SC_ZERO_TIME) c[chip_tally::link_busy_ps + names[i]] = ps(d.link_busy[i]);
    }
    if (chip_->spiking()) {
      c[chip_tally::spikes_dropped] = d.spikes_dropped;
      for (std::size_t i = 0; i < d.link_spikes.size(); ++i) {
        if (d.link_spikes[i] != 0) c[chip_tally::link_spikes + names[i]] = d.link_spikes[i];
      }
    }
  }
  // The faults applied in the block, in order (the controller kept at most its limit over the
  // point; a block that starts past it keeps none, as the merged log, in block order, would).
  if (const auto limit = controller_->log_limit()) {
    tallies.log_limit = *limit;
    const auto& log = controller_->log();
    for (std::size_t i = log0; i < log.size(); ++i) {
      tallies.log.push_back({log[i].time_ns, log[i].trial, log[i].input, log[i].spec, log[i].unit});
    }
    tallies.log_left_out = controller_->log_left_out() - left_out0;
  }
}

ErrorStats ChipEngine::run_block(std::uint64_t block_index, std::uint64_t total_trials) {
  ErrorStats block(inputs_.cols(), net_.output_size());
  const std::uint64_t first = block_index * options_.block_trials;
  const std::uint64_t last = std::min(total_trials, first + options_.block_trials);
  if (control_variate_) block.follow(*control_variate_, first);
  execute([&] {
    accumulate_block(first, last, block);
    chip_->clear_faults();
  });
  return block;
}

ErrorStats ChipEngine::run(std::uint64_t total_trials) {
  ErrorStats total(inputs_.cols(), net_.output_size());
  const std::uint64_t blocks = (total_trials + options_.block_trials - 1) / options_.block_trials;
  for (std::uint64_t b = 0; b < blocks; ++b) total.merge(run_block(b, total_trials));
  return total;
}

Eigen::MatrixXd ChipEngine::trial_outputs(std::uint64_t trial) {
  Eigen::MatrixXd outputs(net_.output_size(), inputs_.cols());
  execute([&] {
    run_trial(trial, [&](Eigen::Index n, const Eigen::VectorXd& out) { outputs.col(n) = out; });
    chip_->clear_faults();
  });
  return outputs;
}

void ChipEngine::record_reference() {
  chip_->reset_counters();
  golden_ = fault_free_outputs();
  reference_spikes_.clear();
  if (!chip_->spiking()) return;
  // The spikes of the fault-free inferences, as this chip's neuron model emitted them.
  const double n = static_cast<double>(std::max<Eigen::Index>(1, inputs_.cols()));
  for (std::uint64_t c : chip_->spikes_sent()) reference_spikes_.push_back(static_cast<double>(c) / n);
}

Eigen::MatrixXd ChipEngine::fault_free_outputs() {
  chip_->set_read_noise(false);
  Eigen::MatrixXd outputs = clean_outputs();
  chip_->set_read_noise(true);
  return outputs;
}

Eigen::MatrixXd ChipEngine::clean_outputs() {
  Eigen::MatrixXd outputs(net_.output_size(), inputs_.cols());
  execute([&] {
    chip_->clear_faults();
    Eigen::VectorXd out;
    for (Eigen::Index n = 0; n < inputs_.cols() && chip_->protocol_error().empty(); ++n) {
      chip_->infer(inputs_.col(n), out);
      outputs.col(n) = out;
    }
  });
  return outputs;
}

}  // namespace nfsim::sim
