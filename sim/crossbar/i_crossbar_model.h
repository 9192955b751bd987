#pragma once

#include <Eigen/Dense>
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
  // Programs a whole tile (block(j, i) = the cell of output j and input i) of tile `tile_index`.
  // The default programs each cell with program(); models whose cells differ (stuck cells,
  // device variation) override this. Must be deterministic.
  virtual void program_block(Eigen::Ref<Eigen::MatrixXd> block, int tile_index) const {
    (void)tile_index;
    block = block.unaryExpr([this](double w) { return program(w); }).eval();
  }
  // One line for `nfsim map` and reports.
  virtual std::string describe() const = 0;
};

using CrossbarRegistry = core::Registry<ICrossbarModel>;
using CrossbarRegistrar = core::Registrar<ICrossbarModel>;

}  // namespace nfsim::sim
