#pragma once

#include <memory>
#include <string>

#include "core/registry.h"

namespace nfsim::sim {

// The device model of a crossbar tile: what a cell holds once programmed with a weight.
// Implementations register with CrossbarRegistry and are selected by `crossbar: {type: NAME}`.
class ICrossbarModel {
 public:
  virtual ~ICrossbarModel() = default;
  // The conductance-equivalent weight a cell holds after programming `w`. Must be deterministic.
  virtual double program(double w) const = 0;
  // One line for `nfsim map` and reports.
  virtual std::string describe() const = 0;
};

using CrossbarRegistry = core::Registry<ICrossbarModel>;
using CrossbarRegistrar = core::Registrar<ICrossbarModel>;

}  // namespace nfsim::sim
