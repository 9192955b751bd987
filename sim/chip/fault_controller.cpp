#include "sim/chip/fault_controller.h"

#include <algorithm>

#include "sim/engine/fault_log.h"

namespace nfsim::sim {

using faults::FaultPlan;
using faults::FaultSampler;
using faults::FaultSpec;

FaultController::FaultController(sc_core::sc_module_name name, const FaultPlan& plan, const models::Network& network,
                                 std::uint64_t seed, IFaultTarget& target)
    : sc_core::sc_module(name),
      plan_(&plan),
      sampler_(std::make_unique<FaultSampler>(plan, network, seed)),
      seed_(seed),
      active_(plan.size(), 0),
      target_(target) {
  cache_kinds();
  SC_HAS_PROCESS(FaultController);
  SC_METHOD(apply_due);
  sensitive << onset_event_;
  dont_initialize();
}

void FaultController::set_plan(const FaultPlan& plan, const models::Network& network, std::uint64_t seed) {
  plan_ = &plan;
  sampler_ = std::make_unique<FaultSampler>(plan, network, seed);
  seed_ = seed;
  active_.assign(plan.size(), 0);
  cache_kinds();
  pending_.clear();
  next_pending_ = 0;
  onset_event_.cancel();
  // A new point: its log starts empty (entries are labelled with this plan's specs).
  log_.clear();
  log_left_out_ = 0;
  logged_permanent_.clear();
}

void FaultController::begin_trial() { logged_permanent_.clear(); }

void FaultController::cache_kinds() {
  acts_through_time_.assign(plan_->size(), 0);
  for (std::size_t s = 0; s < plan_->size(); ++s) acts_through_time_[s] = plan_->specs()[s].acts_through_time();
}

void FaultController::apply(std::size_t spec, std::uint64_t unit, std::uint64_t trial, std::uint32_t input,
                            const sc_core::sc_time& at) {
  target_.apply_fault(spec, unit);
  ++active_[spec];
  if (!log_limit_) return;
  // A permanent fault is one fault per trial: logged the first time it acts in the trial (with
  // the trial's first inference, or later when its onset came after the end of earlier ones).
  if (plan_->specs()[spec].persistence == faults::Persistence::permanent && !logged_permanent_.insert({spec, unit}).second) return;
  if (log_.size() < *log_limit_) {
    log_.push_back({(at - inference_start_).to_seconds() * 1e9, trial, input, spec, unit});
  } else {
    ++log_left_out_;
  }
}

std::size_t FaultController::begin_inference(std::uint64_t trial, std::uint32_t input) {
  target_.clear_faults();
  target_.begin_draws(seed_, trial, input);
  std::fill(active_.begin(), active_.end(), 0);
  pending_.clear();
  next_pending_ = 0;
  onset_event_.cancel();
  std::size_t drawn = 0;
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  inference_start_ = now;
  drew_timing_ = false;
  drawn_.clear();
  stepped_ = false;
  trial_ = trial;
  input_ = input;
  sampler_->for_each_failed(trial, input, units_, [&](std::size_t s, std::uint64_t u) {
    const FaultSpec& spec = plan_->specs()[s];
    drew_timing_ = drew_timing_ || acts_through_time_[s];
    drawn_.emplace_back(s, u);
    if (spec.onset_step > 0) {
      stepped_ = true;  // applied by begin_step
    } else if (spec.onset_ns > 0) {
      pending_.push_back({now + sc_core::sc_time(spec.onset_ns, sc_core::SC_NS), s, u, trial, input});
    } else {
      apply(s, u, trial, input, now);
    }
    ++drawn;
  });
  if (!pending_.empty()) {
    // Stable: equal onsets keep plan order, so later specs still win.
    std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) { return a.at < b.at; });
    onset_event_.notify(pending_.front().at - now);
  }
  return drawn;
}

void FaultController::apply_due() {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  while (next_pending_ < pending_.size() && pending_[next_pending_].at <= now) {
    const Pending& p = pending_[next_pending_++];
    apply(p.spec, p.unit, p.trial, p.input, p.at);
  }
  if (next_pending_ < pending_.size()) onset_event_.notify(pending_[next_pending_].at - now);
}

// The differential chip applies a fault whose onset equals a phase's start before that phase, as
// the full simulation does on the reference SystemC kernel, which runs the methods of a time step
// (apply_due) before its threads (the chip's); IEEE 1666 leaves that order open, so another kernel
// could differ at exactly equal times (tests/sim/test_chip_differential.cpp checks this one).
void FaultController::apply_until(const sc_core::sc_time& offset) {
  const sc_core::sc_time until = inference_start_ + offset;
  while (next_pending_ < pending_.size() && pending_[next_pending_].at <= until) {
    const Pending& p = pending_[next_pending_++];
    apply(p.spec, p.unit, p.trial, p.input, p.at);
  }
}

void FaultController::begin_step(int step) {
  if (!stepped_ || step == 0) return;
  bool starts = false;
  for (const auto& [s, u] : drawn_) starts = starts || plan_->specs()[s].onset_step == step;
  if (!starts) return;
  target_.clear_faults();
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  for (const auto& [s, u] : drawn_) {
    const int onset = plan_->specs()[s].onset_step;
    if (onset < step) {
      target_.apply_fault(s, u);  // acting already: applied again, logged when it started
    } else if (onset == step) {
      apply(s, u, trial_, input_, now);
    }
  }
}

void FaultController::end_inference() {
  onset_event_.cancel();
  pending_.clear();
  next_pending_ = 0;
}

void FaultController::write_log(FaultLogWriter& writer) const {
  for (const auto& e : log_) writer.add(e.trial, e.input, e.spec, e.unit, e.time_ns);
  writer.add_left_out(log_left_out_);
}

}  // namespace nfsim::sim
