// Replays the fuzzers' committed inputs through the same harnesses in every build (also under
// make test-sanitize): the seed corpus (valid inputs, each must be accepted) and the
// regressions (inputs that once crashed a reader; each must now be refused or accepted cleanly).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/harnesses.h"

namespace nfsim::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class FuzzReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzReplay, SeedCorpusIsAcceptedAndRegressionsDoNotCrash) {
  const Target& t = target(GetParam());
  const fs::path root(NFSIM_FUZZ_DIR);
  const auto seeds = files_in(root / "corpus" / t.name);
  ASSERT_FALSE(seeds.empty()) << "no seed corpus in " << (root / "corpus" / t.name);
  for (const auto& f : seeds) {
    const std::string bytes = read_bytes(f);
    EXPECT_TRUE(accepts(t, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()))
        << f << ": a seed should be a valid input; refused with: " << last_refusal();
  }
  for (const auto& f : files_in(root / "regressions" / t.name)) {
    const std::string bytes = read_bytes(f);
    EXPECT_NO_THROW(accepts(t, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())) << f;
  }
}

INSTANTIATE_TEST_SUITE_P(Readers, FuzzReplay, ::testing::Values("onnx", "campaign", "topology", "idx", "npy", "csv"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace nfsim::fuzz
