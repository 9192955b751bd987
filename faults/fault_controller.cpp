#include "faults/fault_controller.h"

namespace nfsim::faults {

FaultController::FaultController(sc_core::sc_module_name name, const FaultPlan& plan, const models::Network& network,
                                 std::uint64_t seed, IFaultTarget& target)
    : sc_core::sc_module(name), plan_(plan), sampler_(plan, network, seed), target_(target) {}

std::size_t FaultController::begin_inference(std::uint64_t trial, std::uint32_t input) {
  target_.clear_faults();
  std::size_t applied = 0;
  const double now_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
  for (std::size_t s = 0; s < plan_.size(); ++s) {
    const bool permanent = plan_.specs()[s].persistence == Persistence::permanent;
    sampler_.draw_units(s, trial, permanent ? FaultSampler::kPermanentSlot : input, units_);
    for (std::uint64_t u : units_) {
      target_.apply_fault(s, u);
      if (log_.size() < log_limit_) log_.push_back({now_ns, trial, input, s, u});
    }
    applied += units_.size();
  }
  return applied;
}

void FaultController::write_log(std::ostream& out) const {
  for (const auto& e : log_) {
    const FaultSpec& spec = plan_.specs()[e.spec];
    out << "{\"time_ns\": " << e.time_ns << ", \"trial\": " << e.trial << ", \"input\": " << e.input
        << ", \"spec\": " << e.spec << ", \"kind\": \"" << (spec.physical_kind.empty() ? to_string(spec.kind) : spec.physical_kind)
        << "\", \"unit\": " << e.unit << "}\n";
  }
}

}  // namespace nfsim::faults
