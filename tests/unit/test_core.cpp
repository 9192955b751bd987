#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_file.h"
#include "core/rng.h"
#include "core/strings.h"
#include "tests/common/temp_dir.h"

namespace nfsim::core {
namespace {

// Known-answer vectors of Philox4x32-10 from Random123 (kat_vectors).
TEST(Philox, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}), (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, UniformAtIsAPureFunctionInTheOpenUnitInterval) {
  EXPECT_EQ(uniform_at(7, 3, 1, 2), uniform_at(7, 3, 1, 2));
  EXPECT_NE(uniform_at(7, 3, 1, 2), uniform_at(7, 3, 1, 3));
  EXPECT_NE(uniform_at(7, 3, 1, 2), uniform_at(8, 3, 1, 2));
  EXPECT_NE(uniform_at(7, 3, 1, 2), uniform_at(7, 3ull << 32, 1, 2));
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = uniform_at(1, static_cast<std::uint64_t>(i), 0, 0);
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / n, 0.5, 4 * std::sqrt(1.0 / 12 / n));
  EXPECT_GT(to_open_unit(0), 0.0);
  EXPECT_LT(to_open_unit(~0ull), 1.0);
}

TEST(RandomStream, IsReproducibleAndNormalHasUnitMoments) {
  RandomStream a(42, 5), b(42, 5), c(42, 6);
  for (int i = 0; i < 10; ++i) {
    const double x = a.normal();
    EXPECT_EQ(x, b.normal());
    EXPECT_NE(x, c.normal());
  }
  RandomStream s(1, 0);
  const int n = 200000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = s.normal();
    sum += x;
    sum2 += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sum2 / n, 1.0, 5.0 * std::sqrt(2.0 / n));
}

TEST(Strings, StrictNumberParsing) {
  EXPECT_EQ(parse_double(" 2.5 ", "x"), 2.5);
  EXPECT_THROW(parse_double("2.5abc", "x"), InputError);
  EXPECT_THROW(parse_double("nan", "x"), InputError);
  EXPECT_THROW(parse_double("", "x"), InputError);
  EXPECT_EQ(parse_int("12", "n", 0, 100), 12);
  EXPECT_THROW(parse_int("101", "n", 0, 100), InputError);
  EXPECT_THROW(parse_int("1.5", "n", 0, 100), InputError);
  try {
    parse_double("abc", "--scale");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--scale"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'abc'"), std::string::npos);
  }
}

TEST(Strings, FormatDoubleRoundTrips) {
  for (double v : {0.1, 1.0 / 3.0, 1e-300, 123456789.123, -2.5}) EXPECT_EQ(std::strtod(format_double(v).c_str(), nullptr), v);
  EXPECT_EQ(format_double(0.5), "0.5");
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
}

TEST(ErrorFormat, NamesFileLineKeyValueAndExpectation) {
  ErrorContext ctx{"chip.yaml", 3, "rows"};
  EXPECT_EQ(format_error(ctx, "bad size", "-1", "a positive integer"),
            "chip.yaml:3: key 'rows': bad size: got -1; expected a positive integer");
}

// The reader of every input file: refusals name the file, what went wrong and what was expected.
TEST(InputFile, ReadsWholeFilesAndRefusesWhatItCannotRead) {
  const test::TempDir dir;
  test::write_file(dir.file("a.txt"), std::string(100000, 'x'));
  EXPECT_EQ(read_input_file(dir.file("a.txt"), "a text", 100000).size(), 100000u);
  auto message = [](const std::string& path, std::uintmax_t max_bytes) {
    try {
      read_input_file(path, "a text", max_bytes);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(dir.file("a.txt"), 99999), dir.file("a.txt") + ": is 100000 bytes; expected a text of at most 99999 bytes");
  EXPECT_EQ(message(dir.path(), 10), dir.path() + ": is a directory; expected a text");
  // Files under /proc say size 0 in stat but hold more: the limit holds while reading.
  EXPECT_EQ(message("/proc/self/maps", 16), "/proc/self/maps: holds more than 16 bytes; expected a text of at most 16 bytes");
  // Its first page is unmapped: read() fails with EIO.
  EXPECT_EQ(message("/proc/self/mem", 16), "/proc/self/mem: read error (Input/output error); expected a text");
}

TEST(AtomicFile, WritesCompleteFilesOnly) {
  test::TempDir dir;
  const std::string path = dir.file("out.txt");
  write_file_atomically(path, [](std::ostream& out) { out << "first"; });
  EXPECT_EQ(test::read_file(path), "first");
  // A writer that fails half-way leaves the old content and no temporary file behind.
  EXPECT_THROW(write_file_atomically(path,
                                     [](std::ostream& out) {
                                       out << "partial";
                                       throw InputError("boom");
                                     }),
               InputError);
  EXPECT_EQ(test::read_file(path), "first");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
  EXPECT_THROW(write_file_atomically(dir.file("no/such/dir/out.txt"), [](std::ostream& out) { out << "x"; }),
               InputError);
}

}  // namespace
}  // namespace nfsim::core
