#include "sim/functional/error_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace nfsim::sim {

ErrorStats::ErrorStats(Eigen::Index inputs, Eigen::Index outputs)
    : inputs_(inputs),
      outputs_(outputs),
      delta_(static_cast<std::size_t>(inputs * outputs)),
      abs_(static_cast<std::size_t>(inputs * outputs)),
      norms_(static_cast<std::size_t>(inputs * 3)) {}

void ErrorStats::follow(const ControlVariate& cv, std::uint64_t first_trial) {
  cv_ = &cv;
  cv_stats_ = cv.empty_stats();
  if (cv_stats_.inputs != inputs_ || cv_stats_.outputs != outputs_) throw core::InternalError("ErrorStats::follow: shapes differ");
  next_trial_.assign(static_cast<std::size_t>(inputs_), first_trial);
}

ControlVariateStats::Estimate ErrorStats::plain_estimate(Eigen::Index input, Eigen::Index output, double z) const {
  const core::RunningStats& d = delta(input, output);
  return {d.mean(), d.std(), d.mean_half_width(z), d.std_half_width(z)};
}

ControlVariateStats::Estimate ErrorStats::estimate(Eigen::Index input, Eigen::Index output, double z) const {
  if (cv_stats_.empty()) return plain_estimate(input, output, z);
  return cv_stats_.estimate(input, output, z, &delta(input, output));
}

void ErrorStats::observe(Eigen::Index input, const double* deltas, std::uint64_t count) {
  std::uint64_t& next = next_trial_[static_cast<std::size_t>(input)];
  cv_->observe(cv_stats_, input, next, deltas, count);
  next += count;
}

void ErrorStats::add(Eigen::Index input, const double* d) {
  if (cv_) observe(input, d, 1);
  if (input == 0 && samples_.size() < sample_cap_) samples_.push_back(d[0]);
  double n1 = 0, n2 = 0, ninf = 0;
  // Every statistic of one input has seen the same number of trials: one division for all.
  const double inv = 1.0 / static_cast<double>(norms_[input * 3].count() + 1);
  for (Eigen::Index k = 0; k < outputs_; ++k) {
    const double a = std::abs(d[k]);
    delta_[at(input, k)].add(d[k], inv);
    abs_[at(input, k)].add(a, inv);
    n1 += a;
    n2 += a * a;
    ninf = std::max(ninf, a);
  }
  norms_[input * 3 + norm_1].add(n1, inv);
  norms_[input * 3 + norm_2].add(std::sqrt(n2), inv);
  norms_[input * 3 + norm_inf].add(ninf, inv);
}

void ErrorStats::add_block(Eigen::Index input, const double* deltas, std::size_t trials) {
  if (trials == 0) return;
  const std::size_t K = static_cast<std::size_t>(outputs_);
  if (cv_) observe(input, deltas, trials);
  if (input == 0) {
    for (std::size_t t = 0; t < trials && samples_.size() < sample_cap_; ++t) samples_.push_back(deltas[t * K]);
  }
  // Per output: the block's values (strided in `deltas`) gathered contiguously, then their moments.
  thread_local std::vector<double> scratch;  // no allocation per call once grown
  scratch.assign(5 * trials, 0.0);
  double* values = scratch.data();
  double* magnitudes = values + trials;
  double* norm1 = magnitudes + trials;
  double* norm2 = norm1 + trials;
  double* norminf = norm2 + trials;
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t t = 0; t < trials; ++t) {
      const double d = deltas[t * K + k], a = std::abs(d);
      values[t] = d;
      magnitudes[t] = a;
      norm1[t] += a;
      norm2[t] += a * a;
      norminf[t] = std::max(norminf[t], a);
    }
    delta_[at(input, static_cast<Eigen::Index>(k))].merge(core::RunningStats::of_values(values, trials));
    abs_[at(input, static_cast<Eigen::Index>(k))].merge(core::RunningStats::of_values(magnitudes, trials));
  }
  for (std::size_t t = 0; t < trials; ++t) norm2[t] = std::sqrt(norm2[t]);
  norms_[input * 3 + norm_1].merge(core::RunningStats::of_values(norm1, trials));
  norms_[input * 3 + norm_2].merge(core::RunningStats::of_values(norm2, trials));
  norms_[input * 3 + norm_inf].merge(core::RunningStats::of_values(norminf, trials));
}

void ErrorStats::add_zeros(Eigen::Index input, std::uint64_t count) {
  if (count == 0) return;
  if (cv_) observe(input, nullptr, count);
  if (input == 0) {
    const std::size_t room = sample_cap_ > samples_.size() ? sample_cap_ - samples_.size() : 0;
    samples_.insert(samples_.end(), std::min<std::size_t>(room, count), 0.0);
  }
  const core::RunningStats zeros = core::RunningStats::from_moments(count, 0, 0, 0, 0, 0, 0);
  for (Eigen::Index k = 0; k < outputs_; ++k) {
    delta_[at(input, k)].merge(zeros);
    abs_[at(input, k)].merge(zeros);
  }
  for (int n = 0; n < 3; ++n) norms_[input * 3 + n].merge(zeros);
}

void ErrorStats::merge(const ErrorStats& later) {
  if (later.inputs_ != inputs_ || later.outputs_ != outputs_) {
    throw core::InternalError("ErrorStats::merge: shapes differ");
  }
  // A point's blocks all have the control variate or none do.
  if (cv_stats_.empty() != later.cv_stats_.empty() && trials() > 0 && later.trials() > 0) {
    throw core::InternalError("ErrorStats::merge: statistics with and without the control variate");
  }
  for (std::size_t i = 0; i < delta_.size(); ++i) {
    delta_[i].merge(later.delta_[i]);
    abs_[i].merge(later.abs_[i]);
  }
  for (std::size_t i = 0; i < norms_.size(); ++i) norms_[i].merge(later.norms_[i]);
  accuracy_.merge(later.accuracy_);
  for (double v : later.samples_) {
    if (samples_.size() >= sample_cap_) break;
    samples_.push_back(v);
  }
  tallies_.merge(later.tallies_);
  cv_stats_.merge(later.cv_stats_);
}

void BlockTallies::merge(const BlockTallies& later) {
  for (const auto& [name, s] : later.stats) stats[name].merge(s);
  for (const auto& [name, n] : later.counts) counts[name] += n;
  for (const auto& [name, h] : later.histograms) {
    auto& mine = histograms[name];
    for (const auto& [value, n] : h) mine[value] += n;
  }
  log_limit = std::max(log_limit, later.log_limit);
  for (const LoggedFault& f : later.log) {
    if (log.size() < log_limit) {
      log.push_back(f);
    } else {
      ++log_left_out;
    }
  }
  log_left_out += later.log_left_out;
}

}  // namespace nfsim::sim

namespace nfsim::sim {
namespace {

void put(std::string& out, const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }

void put_stats(std::string& out, const core::RunningStats& s) {
  const std::uint64_t n = s.count();
  const double v[6] = {s.mean(), s.m2(), s.m3(), s.m4(), s.min(), s.max()};
  put(out, &n, sizeof n);
  put(out, v, sizeof v);
}

class Cursor {
 public:
  Cursor(const char* b, std::size_t size) : b_(b), size_(size) {}
  void get(void* p, std::size_t n) {
    if (n > size_ - pos_) throw core::InputError("statistics data is truncated or corrupt");
    if (n == 0) return;  // an empty vector's data() may be null, which memcpy must not get
    std::memcpy(p, b_ + pos_, n);
    pos_ += n;
  }
  core::RunningStats stats() {
    std::uint64_t n;
    double v[6];
    get(&n, sizeof n);
    get(v, sizeof v);
    return core::RunningStats::from_moments(n, v[0], v[1], v[2], v[3], v[4], v[5]);
  }
  bool done() const { return pos_ == size_; }
  std::size_t left() const { return size_ - pos_; }

 private:
  const char* b_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

constexpr std::uint64_t kMagic = 0x4E4653494D535431ull;  // "NFSIMST1"
constexpr std::uint64_t kTalliesMagic = 0x4E4653494D544131ull;  // "NFSIMTA1": engine tallies follow
constexpr std::uint64_t kControlVariateMagic = 0x4E4653494D435631ull;  // "NFSIMCV1": the control variate's statistics follow

}  // namespace

std::string ErrorStats::serialize() const {
  std::string out;
  serialize_to(out);
  return out;
}

void ErrorStats::serialize_to(std::string& out) const {
  const std::size_t stats_count = delta_.size() + abs_.size() + norms_.size() + 1;
  out.reserve(out.size() + 5 * sizeof(std::uint64_t) + stats_count * 7 * sizeof(double) + samples_.size() * sizeof(double));
  const std::uint64_t head[5] = {kMagic, static_cast<std::uint64_t>(inputs_), static_cast<std::uint64_t>(outputs_),
                                 static_cast<std::uint64_t>(sample_cap_), static_cast<std::uint64_t>(samples_.size())};
  put(out, head, sizeof head);
  for (const auto& s : delta_) put_stats(out, s);
  for (const auto& s : abs_) put_stats(out, s);
  for (const auto& s : norms_) put_stats(out, s);
  put_stats(out, accuracy_);
  put(out, samples_.data(), samples_.size() * sizeof(double));
  auto put_u64 = [&out](std::uint64_t v) { put(out, &v, sizeof v); };
  if (!cv_stats_.empty()) {  // the control variate's statistics follow only when there are any
    const ControlVariateStats& cv = cv_stats_;
    put_u64(kControlVariateMagic);
    put(out, cv.mean_l.data(), cv.mean_l.size() * sizeof(double));
    put(out, cv.var_l.data(), cv.var_l.size() * sizeof(double));
    for (const PairMoments& m : cv.pairs) {
      put_stats(out, m.r);
      put_stats(out, m.g);
      put(out, &m.c_rg, sizeof m.c_rg);
    }
    put(out, cv.multi_fault.data(), cv.multi_fault.size() * sizeof(std::uint64_t));
  }
  if (tallies_.empty() && tallies_.log_limit == 0) return;  // the tallies follow only when there are any
  auto put_name = [&](const std::string& name) {
    put_u64(name.size());
    put(out, name.data(), name.size());
  };
  const BlockTallies& t = tallies_;
  put_u64(kTalliesMagic);
  put_u64(t.stats.size());
  for (const auto& [name, s] : t.stats) {
    put_name(name);
    put_stats(out, s);
  }
  put_u64(t.counts.size());
  for (const auto& [name, n] : t.counts) {
    put_name(name);
    put_u64(n);
  }
  put_u64(t.histograms.size());
  for (const auto& [name, h] : t.histograms) {
    put_name(name);
    put_u64(h.size());
    for (const auto& [value, n] : h) {
      put_u64(value);
      put_u64(n);
    }
  }
  put_u64(t.log_limit);
  put_u64(t.log_left_out);
  put_u64(t.log.size());
  for (const auto& f : t.log) {
    put(out, &f.time_ns, sizeof f.time_ns);
    put_u64(f.trial);
    put_u64(f.input);
    put_u64(f.spec);
    put_u64(f.unit);
  }
}

ErrorStats ErrorStats::deserialize(const std::string& bytes) { return deserialize(bytes.data(), bytes.size()); }

ErrorStats ErrorStats::deserialize(const char* bytes, std::size_t size) {
  Cursor c(bytes, size);
  std::uint64_t head[5];
  c.get(head, sizeof head);
  if (head[0] != kMagic || head[1] > (1u << 30) || head[2] > (1u << 20) || head[4] > head[3]) {
    throw core::InputError("statistics data has a wrong header (not written by this nfsim version?)");
  }
  // What the header announces must be there before anything is allocated for it (a corrupt
  // header would otherwise ask for terabytes).
  const std::uint64_t stats_count = 2 * head[1] * head[2] + 3 * head[1] + 1;
  constexpr std::uint64_t kStatsBytes = sizeof(std::uint64_t) + 6 * sizeof(double);
  if (stats_count > c.left() / kStatsBytes || head[4] > (c.left() - stats_count * kStatsBytes) / sizeof(double)) {
    throw core::InputError("statistics data is truncated or corrupt");
  }
  ErrorStats s(static_cast<Eigen::Index>(head[1]), static_cast<Eigen::Index>(head[2]));
  s.sample_cap_ = static_cast<std::size_t>(head[3]);
  for (auto& x : s.delta_) x = c.stats();
  for (auto& x : s.abs_) x = c.stats();
  for (auto& x : s.norms_) x = c.stats();
  s.accuracy_ = c.stats();
  s.samples_.resize(static_cast<std::size_t>(head[4]));
  c.get(s.samples_.data(), s.samples_.size() * sizeof(double));
  // Every count is checked against the bytes left before anything is allocated for it.
  auto u64 = [&c]() {
    std::uint64_t v;
    c.get(&v, sizeof v);
    return v;
  };
  auto count = [&](std::size_t min_bytes_each) {
    const std::uint64_t n = u64();
    if (n > c.left() / min_bytes_each) throw core::InputError("statistics data is truncated or corrupt");
    return static_cast<std::size_t>(n);
  };
  auto name = [&]() {
    std::string text(count(1), '\0');
    c.get(text.data(), text.size());
    return text;
  };
  if (c.done()) return s;  // no control variate, no tallies
  std::uint64_t magic = u64();
  if (magic == kControlVariateMagic) {
    const std::size_t cells = static_cast<std::size_t>(head[1] * head[2]);
    constexpr std::size_t kCellBytes = 2 * sizeof(double) + 2 * kStatsBytes + sizeof(double);  // E[L], Var[L], R, g, c_rg
    if (cells > c.left() / kCellBytes || head[1] > (c.left() - cells * kCellBytes) / sizeof(std::uint64_t)) {
      throw core::InputError("statistics data is truncated or corrupt");
    }
    ControlVariateStats& cv = s.cv_stats_;
    cv.inputs = s.inputs_;
    cv.outputs = s.outputs_;
    cv.mean_l.resize(cells);
    cv.var_l.resize(cells);
    cv.pairs.resize(cells);
    cv.multi_fault.resize(static_cast<std::size_t>(head[1]));
    c.get(cv.mean_l.data(), cells * sizeof(double));
    c.get(cv.var_l.data(), cells * sizeof(double));
    for (PairMoments& m : cv.pairs) {
      m.r = c.stats();
      m.g = c.stats();
      c.get(&m.c_rg, sizeof m.c_rg);
    }
    c.get(cv.multi_fault.data(), cv.multi_fault.size() * sizeof(std::uint64_t));
    if (c.done()) return s;
    magic = u64();
  }
  if (magic != kTalliesMagic) throw core::InputError("statistics data has trailing bytes");
  BlockTallies& t = s.tallies_;
  for (std::size_t i = 0, n = count(8 + 56); i < n; ++i) {
    std::string key = name();
    t.stats[key] = c.stats();
  }
  for (std::size_t i = 0, n = count(16); i < n; ++i) {
    std::string key = name();
    t.counts[key] = u64();
  }
  for (std::size_t i = 0, n = count(16); i < n; ++i) {
    auto& h = t.histograms[name()];
    for (std::size_t j = 0, m = count(16); j < m; ++j) {
      const std::uint64_t value = u64();
      h[value] = u64();
    }
  }
  t.log_limit = u64();
  t.log_left_out = u64();
  t.log.resize(count(40));
  for (auto& f : t.log) {
    c.get(&f.time_ns, sizeof f.time_ns);
    f.trial = u64();
    const std::uint64_t input = u64();
    if (input > 0xffffffffu) throw core::InputError("statistics data is truncated or corrupt");
    f.input = static_cast<std::uint32_t>(input);
    f.spec = u64();
    f.unit = u64();
  }
  if (!c.done()) throw core::InputError("statistics data has trailing bytes");
  return s;
}

}  // namespace nfsim::sim
