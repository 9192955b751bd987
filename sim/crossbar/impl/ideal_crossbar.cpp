#include "sim/crossbar/i_crossbar_model.h"

namespace nfsim::sim {
namespace {

// Cells hold the weights exactly.
class IdealCrossbar : public ICrossbarModel {
 public:
  double program(double w) const override { return w; }
  std::string describe() const override { return "ideal"; }
};

const CrossbarRegistrar kRegistered{{"ideal", "cells hold the weights exactly", {},
                                     [](const core::Params&) { return std::make_unique<IdealCrossbar>(); }}};

}  // namespace
}  // namespace nfsim::sim
