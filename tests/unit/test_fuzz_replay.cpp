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

// The attribute-mutation harness reaches the strict checks: a few edit scripts (byte 0: the opset,
// then groups of operation, node, attribute, value) and what the importer says to each.
TEST(FuzzOnnxAttrs, EditsReachTheAttributeChecks) {
  const Target& t = target("onnx_attrs");
  struct Script {
    std::vector<std::uint8_t> bytes;
    std::string refusal;  // empty: accepted
  };
  const std::vector<Script> scripts{
      {{6}, ""},                                          // opset 13, no edit
      {{6, 3, 1, 0, 2}, "node 'fc' (Gemm): attribute 'transB' = 2"},  // fc's first attribute (transB) := 2
      {{6, 5, 1, 0, 1}, "attribute 'transB' has type FLOAT"},          // ... retyped as FLOAT
      {{6, 1, 1, 0, 0}, "attribute 'transB' is given twice"},          // ... repeated
      {{6, 0, 3, 16, 17}, "node 'drop' (Dropout): attribute 'foo' is not an attribute of Dropout-13"},
      {{6, 4, 2, 0, 4}, "node 'act' (LeakyRelu): attribute 'alpha' = nan"},
      {{6, 7, 5, 0, 0}, "node 'scale' (Mul): has 3 inputs"},
      {{6, 10, 0, 3, 3}, "graph output 'p' is declared float [N, 3]"},
  };
  for (const auto& s : scripts) {
    const bool accepted = accepts(t, s.bytes.data(), s.bytes.size());
    if (s.refusal.empty()) {
      EXPECT_TRUE(accepted) << last_refusal();
    } else {
      EXPECT_FALSE(accepted) << s.refusal;
      EXPECT_NE(last_refusal().find(s.refusal), std::string::npos) << "want '" << s.refusal << "', got: " << last_refusal();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Readers, FuzzReplay, ::testing::Values("onnx", "campaign", "topology", "idx", "npy", "csv", "onnx_attrs"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace nfsim::fuzz
