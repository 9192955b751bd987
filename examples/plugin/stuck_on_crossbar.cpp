// A crossbar whose faulty cells are stuck in the low-resistance (on) state: a fixed fraction of
// cells, chosen by a seeded hash of (tile, row, column), read as `on_value` whatever they were
// programmed with. Registered as crossbar type "stuck_on" when nfsim loads this library
// (--plugin libstuck_on_crossbar.so, or a `plugins:` key); no nfsim file is edited.
#include <cmath>
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "core/strings.h"
#include "sim/crossbar/i_crossbar_model.h"

namespace {

class StuckOnCrossbar : public nfsim::sim::ICrossbarModel {
 public:
  StuckOnCrossbar(double fraction, double on_value, std::uint64_t seed) : fraction_(fraction), on_value_(on_value), seed_(seed) {}

  double program(double w) const override { return w; }

  void program_block(Eigen::Ref<Eigen::MatrixXd> block, int tile) const override {
    for (Eigen::Index i = 0; i < block.cols(); ++i) {
      for (Eigen::Index j = 0; j < block.rows(); ++j) {
        const double u = nfsim::core::uniform_at(seed_, static_cast<std::uint64_t>(tile), static_cast<std::uint32_t>(j),
                                                 static_cast<std::uint32_t>(i));
        if (u < fraction_) block(j, i) = on_value_;
      }
    }
  }

  std::string describe() const override {
    return "stuck_on(" + nfsim::core::format_double(fraction_) + " of cells at " + nfsim::core::format_double(on_value_) + ")";
  }

 private:
  double fraction_, on_value_;
  std::uint64_t seed_;
};

const nfsim::sim::CrossbarRegistrar kRegistered{
    {"stuck_on",
     "cells stuck in the on state: a seeded fraction of cells reads on_value (example plug-in)",
     {{"fraction", "double", "", "0.01", "fraction of cells stuck on"},
      {"on_value", "double", "", "1.0", "weight a stuck-on cell reads as"},
      {"seed", "int", "", "1", "which cells are stuck"}},
     [](const nfsim::core::Params& p) {
       const double fraction = p.number("fraction");
       if (fraction < 0 || fraction > 1) p.fail("fraction", "a number in [0, 1]");
       return std::make_unique<StuckOnCrossbar>(fraction, p.number("on_value"), static_cast<std::uint64_t>(p.integer("seed")));
     }}};

}  // namespace
