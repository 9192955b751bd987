#include <cmath>

#include "core/rng.h"
#include "core/strings.h"
#include "sim/crossbar/i_crossbar_model.h"

namespace nfsim::sim {
namespace {

// Ideal cells read through noisy sense amplifiers: every read adds independent Gaussian noise of
// standard deviation read_noise_std to each column's partial sum. The noise of read r of tile t,
// column c is a pure function of (seed, t, r, c) (Philox), so a campaign is reproducible. Only
// the chip engine models read noise.
class NoisyCrossbar : public ICrossbarModel {
 public:
  NoisyCrossbar(double noise_std, std::uint64_t seed) : noise_std_(noise_std), seed_(seed) {}
  double program(double w) const override { return w; }
  void perturb_read(Eigen::VectorXd& partial, int tile, std::uint64_t read) const override {
    if (noise_std_ == 0.0) return;
    core::RandomStream rng(seed_ ^ (static_cast<std::uint64_t>(tile) << 40), read);
    for (Eigen::Index c = 0; c < partial.size(); ++c) partial[c] += noise_std_ * rng.normal();
  }
  bool noisy_reads() const override { return noise_std_ > 0.0; }
  std::string describe() const override { return "noisy(read noise std " + core::format_double(noise_std_) + ")"; }

 private:
  double noise_std_;
  std::uint64_t seed_;
};

const CrossbarRegistrar kRegistered{
    {"noisy",
     "ideal cells, Gaussian read noise on every partial sum (seeded; chip engine only)",
     {{"read_noise_std", "double", "", "0.01", "standard deviation of the noise added to each partial sum per read"},
      {"seed", "int", "", "1", "seed of the read noise"}},
     [](const core::Params& p) {
       const double s = p.number("read_noise_std");
       if (s < 0) p.fail("read_noise_std", "a number >= 0");
       return std::make_unique<NoisyCrossbar>(s, static_cast<std::uint64_t>(p.integer("seed")));
     }}};

}  // namespace
}  // namespace nfsim::sim
