// The engine tallies a block of statistics carries (ErrorStats::tallies(): the chip engine's
// latencies, traffic and fault log), merged in block order and sent between processes and ranks
// and into checkpoints as exact bytes.
#include <gtest/gtest.h>

#include "core/error.h"
#include "sim/functional/error_stats.h"

namespace nfsim::sim {
namespace {

ErrorStats block_with_tallies(std::uint64_t first_trial, std::size_t logged, std::uint64_t limit) {
  ErrorStats s(2, 3);
  const double d[3] = {0.5 + static_cast<double>(first_trial), -1.0, 2.0};
  s.add(0, d);
  s.add(1, d);
  BlockTallies& t = s.tallies();
  t.counts["chip.inferences"] = 2;
  t.counts["chip.link_busy_ps:router 0 -> router 1"] = 1234;
  t.histograms["chip.latency_ps"][430000] = 2;
  t.stats["chip.stream_growth_ns"].add(1.5 + static_cast<double>(first_trial));
  t.log_limit = limit;
  for (std::size_t i = 0; i < logged; ++i) t.log.push_back({12.5, first_trial, static_cast<std::uint32_t>(i), 1, 7 + i});
  t.log_left_out = 1;
  return s;
}

TEST(BlockTallies, SerializeRoundTripIsExact) {
  const ErrorStats s = block_with_tallies(3, 4, 100);
  const std::string bytes = s.serialize();
  const ErrorStats back = ErrorStats::deserialize(bytes);
  EXPECT_EQ(back.serialize(), bytes);
  const BlockTallies& t = back.tallies();
  EXPECT_EQ(t.counts.at("chip.inferences"), 2u);
  EXPECT_EQ(t.counts.at("chip.link_busy_ps:router 0 -> router 1"), 1234u);
  EXPECT_EQ(t.histograms.at("chip.latency_ps").at(430000), 2u);
  EXPECT_EQ(t.stats.at("chip.stream_growth_ns").mean(), 4.5);
  ASSERT_EQ(t.log.size(), 4u);
  EXPECT_EQ(t.log[2].input, 2u);
  EXPECT_EQ(t.log[3].unit, 10u);
  EXPECT_EQ(t.log[0].time_ns, 12.5);
  EXPECT_EQ(t.log_left_out, 1u);
  EXPECT_EQ(t.log_limit, 100u);
}

// Statistics without tallies are written as before (checkpoints of engines that keep none, and
// those written by earlier versions, read the same).
TEST(BlockTallies, NoTalliesNoBytes) {
  ErrorStats plain(1, 2);
  const double d[2] = {1.0, 2.0};
  plain.add(0, d);
  const std::string bytes = plain.serialize();
  ErrorStats with = plain;
  with.tallies().counts["x"] = 1;
  EXPECT_GT(with.serialize().size(), bytes.size());
  EXPECT_EQ(with.serialize().substr(0, bytes.size()), bytes);
  EXPECT_TRUE(ErrorStats::deserialize(bytes).tallies().empty());
}

// Merging in block order keeps the first `limit` log entries over all blocks and counts the rest;
// counts and histograms add; statistics merge.
TEST(BlockTallies, MergeKeepsTheFirstLogEntriesInBlockOrder) {
  ErrorStats acc(2, 3);
  acc.merge(block_with_tallies(0, 3, 5));
  acc.merge(block_with_tallies(1, 4, 5));
  acc.merge(block_with_tallies(2, 2, 5));
  const BlockTallies& t = acc.tallies();
  ASSERT_EQ(t.log.size(), 5u);
  EXPECT_EQ(t.log[0].trial, 0u);
  EXPECT_EQ(t.log[2].trial, 0u);
  EXPECT_EQ(t.log[3].trial, 1u);
  EXPECT_EQ(t.log[4].trial, 1u);
  EXPECT_EQ(t.log[4].input, 1u);
  EXPECT_EQ(t.log_left_out, 3u + 2u + 2u);  // each block's own 1, then 2 of block 1 and both of block 2
  EXPECT_EQ(t.counts.at("chip.inferences"), 6u);
  EXPECT_EQ(t.histograms.at("chip.latency_ps").at(430000), 6u);
  EXPECT_EQ(t.stats.at("chip.stream_growth_ns").count(), 3u);
  EXPECT_DOUBLE_EQ(t.stats.at("chip.stream_growth_ns").mean(), 2.5);
  EXPECT_EQ(acc.trials(), 3u);
}

// Corrupt tallies are refused with an input error, never a huge allocation or a crash.
TEST(BlockTallies, CorruptBytesAreRefused) {
  const std::string bytes = block_with_tallies(0, 2, 10).serialize();
  for (std::size_t cut = 1; cut < 120 && cut < bytes.size(); ++cut) {
    EXPECT_THROW(ErrorStats::deserialize(bytes.substr(0, bytes.size() - cut)), core::InputError) << cut;
  }
  // A count of 2^60 log entries where a few bytes remain.
  std::string huge = block_with_tallies(0, 0, 10).serialize();
  const std::uint64_t n = std::uint64_t{1} << 60;
  huge.replace(huge.size() - sizeof n, sizeof n, reinterpret_cast<const char*>(&n), sizeof n);
  EXPECT_THROW(ErrorStats::deserialize(huge), core::InputError);
  EXPECT_THROW(ErrorStats::deserialize(bytes + "x"), core::InputError);
}

}  // namespace
}  // namespace nfsim::sim
