#pragma once

#include <array>
#include <cstdint>

namespace nfsim::core {

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator. The output is a pure function of (key, counter), so the random numbers
// for any (seed, trial, spec, unit) can be computed directly, in any order, on any process.
// It is the generator of Random123 and of cuRAND's Philox; ten rounds pass BigCrush.
using PhiloxCounter = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

// Maps 64 random bits to a double uniform on the open interval (0, 1) (52-bit resolution).
double to_open_unit(std::uint64_t bits);

// Uniform (0, 1) that is a pure function of (seed, a, b, c): the faults of trial t are drawn as
// uniform_at(seed, t, spec, unit). Independent of call order, batch size, threads and MPI ranks.
double uniform_at(std::uint64_t seed, std::uint64_t a, std::uint32_t b, std::uint32_t c);

// A sequential stream over the counter space of (seed, stream): the n-th draw uses counter n.
// Used where a reproducible sequence is wanted (random weights, random inputs).
class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint64_t stream);

  std::uint64_t next_u64();
  double uniform();          // on (0, 1)
  double normal();           // standard normal, Box-Muller (portable: no std:: distributions)

 private:
  PhiloxKey key_;
  std::uint64_t stream_;
  std::uint64_t counter_ = 0;
  std::array<std::uint32_t, 4> block_{};
  int used_ = 4;  // 32-bit words of block_ consumed
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace nfsim::core
