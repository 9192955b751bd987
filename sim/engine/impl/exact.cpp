// The exact engine: enumerates every subset of the units that may fail (0 < p < 1) and weighs
// each by its probability, so mean, std, mean |Delta| and expected accuracy are exact (zero-width
// intervals). For small blocks and tests: the cost is 2^units full forward passes of every input,
// so it is refused above kMaxUnits (docs/design.md, "Engines").
#include <ostream>

#include "core/error.h"
#include "sim/engine/fault_log.h"
#include "sim/engine/i_engine.h"

namespace nfsim::sim {
namespace {

// 2^24 forward passes: tens of seconds on a tiny network; beyond that Monte Carlo is the tool.
constexpr std::uint64_t kMaxUnits = 24;

class ExactEngine : public IEngine {
 public:
  explicit ExactEngine(const EngineSetup& s) : setup_(s), reference_(s.network->forward_batch(*s.inputs)) {}

  ErrorStats run_block(std::uint64_t, std::uint64_t) override {
    throw core::InternalError("the exact engine computes moments, not blocks of trials");
  }
  const ExactResult* exact_result() override {
    if (!result_) {
      result_ = std::make_unique<ExactResult>(
          exact_distribution(*setup_.network, *setup_.inputs, *setup_.plan, reference_, setup_.labels, kMaxUnits, setup_.interrupt));
    }
    return result_.get();
  }
  Eigen::MatrixXd trial_outputs(std::uint64_t) override {
    throw core::InputError("--trial-outputs: the exact engine has no trials (it enumerates every fault subset); expected a "
                           "Monte-Carlo engine (functional or chip)");
  }
  Eigen::MatrixXd clean_outputs() override { return reference_; }
  void write_fault_log(std::ostream& out, const FaultLogContext& context, const ErrorStats&) override {
    out << "{\"point\": " << context.point << ", ";
    if (!result_) {  // interrupted before the enumeration finished
      out << "\"exact\": true, \"interrupted\": true}\n";
      return;
    }
    out << "\"exact\": true, \"units_enumerated\": " << result_->units << ", \"subsets\": " << result_->subsets << "}\n";
  }

 private:
  EngineSetup setup_;
  Eigen::MatrixXd reference_;
  std::unique_ptr<ExactResult> result_;
};

EngineCapabilities exact_capabilities() {
  EngineCapabilities c;
  c.exact = true;
  c.physical_faults = true;  // each physical unit is one group
  c.max_fault_units = kMaxUnits;
  return c;
}

const EngineRegistrar registrar{{"exact",
                                 "every subset of the failing units enumerated and weighted: exact mean, std, mean "
                                 "|Delta| and accuracy, for tiny networks and fault plans",
                                 exact_capabilities(),
                                 [](const EngineSetup& s) { return std::make_unique<ExactEngine>(s); },
                                 0}};

}  // namespace
}  // namespace nfsim::sim
