#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faults/fault_plan.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "sim/topology/chip_topology.h"

namespace nfsim::tb {

// Where the campaign's network comes from: an ONNX file or the paper's random generator.
struct ModelSource {
  std::string path;  // resolved against the campaign file's directory
  std::optional<models::RandomNetworkSpec> generate;
  std::string describe() const;
};

// A validated campaign (campaign.yaml after --set overrides and command-line flags).
struct CampaignConfig {
  std::string file;  // the YAML file it came from (for messages and the report)
  ModelSource model;
  models::InputSpec inputs;
  std::vector<faults::FaultSpec> faults;
  std::optional<sim::ChipTopology> chip;  // `chip: PATH` or an inline `chip:` section
  std::string engine = "functional";      // functional | chip
  std::uint64_t trials = 10000;
  std::uint64_t seed = 1;
  std::vector<std::string> bounds;  // families: b1, b2, b3, b4, worst_case, sum_norms
  std::uint32_t block_trials = 64;
  std::uint32_t batch_trials = 64;
  double confidence = 0.95;
};

// The bound families a campaign may ask for.
const std::vector<std::string>& bound_family_names();

// Reads and validates a campaign file. `overrides` are "key.path[0].sub=VALUE" strings applied
// to the YAML tree before validation (VALUE is parsed as YAML). Errors name the file, line,
// key, bad value and what was expected; unknown keys get a "did you mean" suggestion.
CampaignConfig load_campaign(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from YAML text (tests); `base_dir` resolves relative paths.
CampaignConfig parse_campaign(const std::string& yaml_text, const std::string& source_name,
                              const std::string& base_dir, const std::vector<std::string>& overrides = {});

}  // namespace nfsim::tb
