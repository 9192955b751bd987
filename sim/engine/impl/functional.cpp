// The functional engine behind the engine interface: values without time, batched in Eigen.
#include <ostream>

#include "faults/fault_sampler.h"
#include "sim/engine/i_engine.h"
#include "sim/functional/functional_engine.h"

namespace nfsim::sim {
namespace {

class FunctionalAdapter : public IEngine {
 public:
  explicit FunctionalAdapter(const EngineSetup& s)
      : setup_(s), engine_(*s.network, *s.inputs, *s.plan, options(s), s.labels) {}

  ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) override { return engine_.run_block(block, total_trials); }
  Eigen::MatrixXd trial_outputs(std::uint64_t trial) override { return engine_.trial_outputs(trial); }
  Eigen::MatrixXd clean_outputs() override { return engine_.clean().y.back(); }

  // Faults are a pure function of (seed, trial, input, spec, unit): those of the first trials
  // are drawn again for the log.
  void write_fault_log(std::ostream& log, std::size_t limit, std::uint64_t trials_done) override {
    const faults::FaultPlan& plan = *setup_.plan;
    const faults::FaultSampler sampler(plan, *setup_.network, setup_.seed);
    std::vector<std::uint64_t> units;
    std::size_t lines = 0;
    const Eigen::Index inputs = setup_.inputs->cols();
    for (std::uint64_t t = 0; t < trials_done && lines < limit; ++t) {
      for (Eigen::Index n = 0; n < inputs && lines < limit; ++n) {
        sampler.for_each_failed(t, static_cast<std::uint32_t>(n), units, [&](std::size_t s, std::uint64_t u) {
          log << "{\"trial\": " << t << ", \"input\": " << n << ", \"spec\": " << s << ", \"kind\": \""
              << plan.specs()[s].kind_name() << "\", \"unit\": " << u << "}\n";
          ++lines;
        });
      }
    }
    if (lines >= limit) log << "{\"truncated\": true, \"faults_logged\": " << lines << "}\n";
  }

 private:
  static FunctionalOptions options(const EngineSetup& s) {
    FunctionalOptions o;
    o.seed = s.seed;
    o.block_trials = s.block_trials;
    o.batch_trials = s.batch_trials;
    o.replicas = s.replicas;
    return o;
  }
  EngineSetup setup_;
  FunctionalEngine engine_;
};

EngineCapabilities functional_capabilities() {
  EngineCapabilities c;
  c.physical_faults = true;  // as the groups of units the mapping puts on each physical unit
  c.parallel_blocks = true;
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
