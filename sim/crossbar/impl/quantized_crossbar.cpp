#include <algorithm>
#include <cmath>

#include "core/strings.h"
#include "sim/crossbar/i_crossbar_model.h"

namespace nfsim::sim {
namespace {

// Cells hold 2^bits evenly spaced levels on [-range, range]: weights are rounded to the nearest
// level and clipped to the range.
class QuantizedCrossbar : public ICrossbarModel {
 public:
  QuantizedCrossbar(int bits, double range) : bits_(bits), range_(range), step_(2.0 * range / ((1 << bits) - 1)) {}
  double program(double w) const override {
    const double clipped = std::clamp(w, -range_, range_);
    return -range_ + std::nearbyint((clipped + range_) / step_) * step_;
  }
  std::optional<double> clip_limit() const override { return range_; }
  std::string describe() const override {
    return "quantized(" + std::to_string(bits_) + " bits, range +-" + core::format_double(range_) + ")";
  }

 private:
  int bits_;
  double range_, step_;
};

const CrossbarRegistrar kRegistered{
    {"quantized",
     "cells hold 2^weight_bits levels evenly spaced on [-weight_range, weight_range]",
     {{"weight_bits", "int", "bits", "8", "bits per cell (levels = 2^bits)"},
      {"weight_range", "double", "", "1.0", "largest representable |weight|"}},
     [](const core::Params& p) {
       const long long bits = p.integer("weight_bits");
       if (bits < 1 || bits > 24) p.fail("weight_bits", "an integer in [1, 24]");
       const double range = p.number("weight_range");
       if (!(range > 0)) p.fail("weight_range", "a positive number");
       return std::make_unique<QuantizedCrossbar>(static_cast<int>(bits), range);
     }}};

}  // namespace
}  // namespace nfsim::sim
