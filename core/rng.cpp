#include "core/rng.h"

#include <cmath>

namespace nfsim::core {
namespace {

constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kPhiloxRounds = 10;

inline void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

PhiloxKey key_of(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

}  // namespace

PhiloxCounter philox4x32_10(PhiloxCounter ctr, PhiloxKey key) {
  for (int round = 0; round < kPhiloxRounds; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kPhiloxM0, ctr[0], hi0, lo0);
    mulhilo(kPhiloxM1, ctr[2], hi1, lo1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
    key[0] += kPhiloxW0;
    key[1] += kPhiloxW1;
  }
  return ctr;
}

double to_open_unit(std::uint64_t bits) {
  // (k + 0.5) / 2^52 for the top 52 bits: never 0, never 1 (the largest is 1 - 2^-53, exact).
  return (static_cast<double>(bits >> 12) + 0.5) * 0x1.0p-52;
}

double uniform_at(std::uint64_t seed, std::uint64_t a, std::uint32_t b, std::uint32_t c) {
  const PhiloxCounter out = philox4x32_10(
      {static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(a >> 32), b, c}, key_of(seed));
  return to_open_unit((static_cast<std::uint64_t>(out[0]) << 32) | out[1]);
}

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t stream) : key_(key_of(seed)), stream_(stream) {}

std::uint64_t RandomStream::next_u64() {
  if (used_ > 2) {
    block_ = philox4x32_10({static_cast<std::uint32_t>(counter_), static_cast<std::uint32_t>(counter_ >> 32),
                            static_cast<std::uint32_t>(stream_), static_cast<std::uint32_t>(stream_ >> 32)},
                           key_);
    ++counter_;
    used_ = 0;
  }
  const std::uint64_t v = (static_cast<std::uint64_t>(block_[used_]) << 32) | block_[used_ + 1];
  used_ += 2;
  return v;
}

double RandomStream::uniform() { return to_open_unit(next_u64()); }

double RandomStream::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  const double u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_normal_ = r * std::sin(theta);
  has_spare_normal_ = true;
  return r * std::cos(theta);
}

}  // namespace nfsim::core
