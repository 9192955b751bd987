#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/registry.h"

namespace nfsim::sim {

// The device model of a crossbar tile: what a cell holds once programmed with a weight.
// Implementations register with CrossbarRegistry and are selected by `crossbar: {type: NAME}`.
class ICrossbarModel {
 public:
  // Names this interface's registry in messages and provenance.
  static constexpr const char* kRegistryKind = "crossbar";
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
  // Read noise: called on the partial sums of every read of tile `tile_index` when noisy_reads()
  // is true (never otherwise); `read_index` counts that tile's reads. The default adds nothing. A
  // model that adds noise must say so in noisy_reads(): only the chip engine models it, and only
  // in full simulation (a chip with noisy reads is never simulated differentially, docs/chip.md).
  virtual void perturb_read(Eigen::VectorXd& partial, int tile_index, std::uint64_t read_index) const {
    (void)partial;
    (void)tile_index;
    (void)read_index;
  }
  virtual bool noisy_reads() const { return false; }
  // The largest |weight| a cell holds, when the model clips weights beyond it (none: it does not
  // clip). Only counts what programming did (ProgrammingStats); program() does the clipping.
  virtual std::optional<double> clip_limit() const { return std::nullopt; }
  // One line for `nfsim map` and reports.
  virtual std::string describe() const = 0;
};

using CrossbarRegistry = core::Registry<ICrossbarModel>;
using CrossbarRegistrar = core::Registrar<ICrossbarModel>;

}  // namespace nfsim::sim
