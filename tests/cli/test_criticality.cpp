// nfsim criticality and the `criticality:` campaign key through the command line (issue 14 item 3).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kMesh = std::string(NFSIM_SOURCE_DIR) + "/examples/chips/mesh4x4.yaml";
const std::string kModel = std::string(NFSIM_SOURCE_DIR) + "/examples/models/fmnist_mlp_small.onnx";

const std::string kChipCampaign = "model: " + kModel + "\nchip: " + kMesh +
                                  "\ninputs: {type: random, count: 3, scale: 0.3, shift: 0.3, seed: 2}\nfaults:\n"
                                  "  - {kind: neuron_crash, layers: [1, 2], probability: 0.01}\n"
                                  "  - {kind: crossbar_column, probability: 0.001, persistence: permanent}\n"
                                  "  - {kind: router, probability: 0.002}\n"
                                  "trials: 50\nseed: 5\nbounds: [b4]\n";

TEST(CliCriticality, RanksUnitsWithCoordinatesAndVerifiesTheTop) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kChipCampaign);
  CliRun r = nfsim("criticality " + dir.file("c.yaml") + " --top 12 --verify 6 --json", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json c = nlohmann::json::parse(r.out);
  ASSERT_EQ(c["top"].size(), 12u);
  EXPECT_GT(c["units"].get<int>(), 300);
  double previous = 1e300;
  for (std::size_t i = 0; i < 12; ++i) {
    const auto& u = c["top"][i];
    EXPECT_LE(u["variance"].get<double>(), previous);
    previous = u["variance"].get<double>();
    EXPECT_EQ(u["verified_variance"].is_number(), i < 6) << u;
    EXPECT_TRUE(u.contains("core")) << u;  // every unit of a mapped chip sits on a core
    if (u["kind"] == "router") EXPECT_EQ(u["name"].get<std::string>().rfind("router ", 0), 0u);
  }
  ASSERT_TRUE(c["spearman_top"].is_number());
  EXPECT_GE(c["spearman_top"].get<double>(), 0.95);
  EXPECT_EQ(c["mesh_width"], 4);
  EXPECT_EQ(c["cores"].size(), 16u);
  // The table: rank, name with coordinates, predicted, verified.
  r = nfsim("criticality " + dir.file("c.yaml") + " --top 3 --verify 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(c["top"][0]["name"].get<std::string>()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Spearman"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first order in p"), std::string::npos) << r.out;
  // --help explains.
  r = nfsim("criticality --help", dir);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("targeted Monte Carlo"), std::string::npos);
}

TEST(CliCriticality, TheCampaignKeyPutsTheSectionIntoTheReportAndNothingWithoutIt) {
  TempDir dir;
  write_file(dir.file("c.yaml"), kChipCampaign + "engine: functional\ncriticality: {top: 5, verify: 3}\n");
  CliRun r = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("with"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json rep = nlohmann::json::parse(read_file(dir.file("with/report.json")));
  const auto& c = rep["points"][0]["criticality"];
  ASSERT_EQ(c["top"].size(), 5u);
  EXPECT_TRUE(c["top"][2]["verified_variance"].is_number());
  EXPECT_TRUE(c["top"][3]["verified_variance"].is_null());
  // The same numbers as the command.
  r = nfsim("criticality " + dir.file("c.yaml") + " --json", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), c);
  write_file(dir.file("n.yaml"), kChipCampaign + "engine: functional\n");
  ASSERT_EQ(nfsim("run " + dir.file("n.yaml") + " --out " + dir.file("without"), dir).code, 0);
  EXPECT_FALSE(nlohmann::json::parse(read_file(dir.file("without/report.json")))["points"][0].contains("criticality"));
}

}  // namespace
}  // namespace nfsim::test
