// An engine from outside nfsim, for the tests: "test_zero" reports no error at all (every trial
// fault-free). It is what a third-party engine looks like to the registry and the runner.
#include <memory>
#include <ostream>

#include "sim/engine/i_engine.h"

namespace {

class ZeroEngine : public nfsim::sim::IEngine {
 public:
  explicit ZeroEngine(const nfsim::sim::EngineSetup& s) : setup_(s) {}
  nfsim::sim::ErrorStats run_block(std::uint64_t block, std::uint64_t total_trials) override {
    nfsim::sim::ErrorStats stats(setup_.inputs->cols(), setup_.network->output_size());
    const std::uint64_t first = block * setup_.block_trials;
    const std::uint64_t last = std::min(total_trials, first + setup_.block_trials);
    for (Eigen::Index n = 0; n < setup_.inputs->cols(); ++n) stats.add_zeros(n, last - first);
    return stats;
  }
  Eigen::MatrixXd trial_outputs(std::uint64_t) override { return clean_outputs(); }
  Eigen::MatrixXd clean_outputs() override { return setup_.network->forward_batch(*setup_.inputs); }
  void write_fault_log(std::ostream&, const nfsim::sim::FaultLogContext&, const nfsim::sim::ErrorStats&) override {}

 private:
  nfsim::sim::EngineSetup setup_;
};

const nfsim::sim::EngineRegistrar kRegistered{{"test_zero",
                                               "every trial fault-free (test plug-in)",
                                               nfsim::sim::EngineCapabilities{},
                                               [](const nfsim::sim::EngineSetup& s) { return std::make_unique<ZeroEngine>(s); }}};

}  // namespace
