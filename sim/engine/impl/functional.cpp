// The functional engine behind the engine interface: values without time, batched in Eigen.
#include <algorithm>
#include <memory>
#include <ostream>

#include "faults/fault_sampler.h"
#include "sim/engine/fault_log.h"
#include "sim/engine/i_engine.h"
#include "sim/functional/functional_engine.h"
#include "sim/functional/spiking_engine.h"

namespace nfsim::sim {
namespace {

class FunctionalAdapter : public IEngine {
 public:
  // A spiking network (EngineSetup::spiking) runs on the time-stepped SpikingEngine, with the
  // same fault draws; a rate network on FunctionalEngine.
  explicit FunctionalAdapter(const EngineSetup& s) : setup_(s) {
    if (s.spiking) {
      SpikingOptions o;
      o.seed = s.seed;
      o.block_trials = s.block_trials;
      spiking_ = std::make_unique<SpikingEngine>(*s.network, *s.spiking, *s.inputs, *s.plan, o, s.labels);
    } else {
      engine_ = std::make_unique<FunctionalEngine>(*s.network, *s.inputs, *s.plan, options(s), s.labels);
    }
  }

  ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) override {
    return spiking_ ? spiking_->run_block(block, total_trials) : engine_->run_block(block, total_trials);
  }
  Eigen::MatrixXd trial_outputs(std::uint64_t trial) override {
    return spiking_ ? spiking_->trial_outputs(trial) : engine_->trial_outputs(trial);
  }
  Eigen::MatrixXd clean_outputs() override { return spiking_ ? spiking_->clean_outputs() : engine_->clean().y.back(); }
  std::optional<std::vector<double>> spikes_per_inference() const override {
    if (!spiking_) return std::nullopt;
    return spiking_->spikes_per_inference();
  }

  // Faults are a pure function of (seed, trial, input, spec, unit): those of every trial run are
  // drawn again for the log, in the chip engine's order (per trial and input, specs in plan
  // order; a permanent spec's units once per trial, with its first input). Past the cap the
  // draws are only counted (a cost proportional to the faults drawn, not to the units).
  void write_fault_log(std::ostream& log, const FaultLogContext& context, const ErrorStats&) override {
    const faults::FaultPlan& plan = *setup_.plan;
    const faults::FaultSampler sampler(plan, *setup_.network, setup_.seed);
    FaultLogWriter writer(log, context, plan, *setup_.network, setup_.chip);
    std::vector<std::uint64_t> units;
    const Eigen::Index inputs = setup_.inputs->cols();
    // With replicas, every replica's faults, each line naming its replica.
    const std::uint32_t replicas = std::max<std::uint32_t>(1, setup_.replicas);
    for (std::uint64_t t = 0; t < context.trials_done; ++t) {
      for (Eigen::Index n = 0; n < inputs; ++n) {
        for (std::uint32_t r = 0; r < replicas; ++r) {
          for (std::size_t s = 0; s < plan.size(); ++s) {
            const bool permanent = plan.specs()[s].persistence == faults::Persistence::permanent;
            if (permanent && n > 0) continue;
            sampler.draw_units(s, t, permanent ? faults::FaultSampler::kPermanentSlot : static_cast<std::uint32_t>(n), units, r);
            if (writer.full()) {
              writer.add_left_out(units.size());
              continue;
            }
            const std::optional<std::uint32_t> replica = replicas > 1 ? std::optional<std::uint32_t>(r) : std::nullopt;
            for (std::uint64_t u : units) writer.add(t, static_cast<std::uint32_t>(n), s, u, std::nullopt, replica);
          }
        }
      }
    }
    writer.finish();
  }

 private:
  static FunctionalOptions options(const EngineSetup& s) {
    FunctionalOptions o;
    o.seed = s.seed;
    o.block_trials = s.block_trials;
    o.batch_trials = s.batch_trials;
    o.replicas = s.replicas;
    o.control_variate = s.control_variate;
    return o;
  }
  EngineSetup setup_;
  std::unique_ptr<FunctionalEngine> engine_;
  std::unique_ptr<SpikingEngine> spiking_;
};

EngineCapabilities functional_capabilities() {
  EngineCapabilities c;
  c.physical_faults = true;  // as the groups of units the mapping puts on each physical unit
  c.parallel_blocks = true;
  c.control_variate = true;
  c.spiking = true;   // SpikingEngine: integrate-and-fire arrays, time-stepped, event-driven
  c.replicas = true;  // the per-output median of R faulty copies (Algorithm 1 of the seed paper)
  return c;
}

const EngineRegistrar registrar{{"functional",
                                 "batched Eigen model of the (programmed) network: values without time, for large "
                                 "Monte-Carlo campaigns",
                                 functional_capabilities(),
                                 [](const EngineSetup& s) { return std::make_unique<FunctionalAdapter>(s); },
                                 1}};

}  // namespace
}  // namespace nfsim::sim
