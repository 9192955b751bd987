// The rules of a fault spec are stated once (faults::validate_fault_spec) and the three forms
// agree: the command-line --fault text, a campaign's faults: entry and a FaultPlan built in code
// accept and refuse the same specs.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "faults/fault_plan.h"
#include "faults/fault_spec.h"
#include "models/random_network.h"
#include "testbench/campaign/campaign_config.h"

namespace nfsim::faults {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "";
}

models::Network net_3_4_3_2() {
  return models::make_random_network({{3, 4, 3, 2}, {models::ActivationKind::relu}, {}, 2.0, 0.1, 5});
}

std::string campaign_error(const std::string& fault) {
  return error_of([&] {
    tb::parse_campaign("model: x.onnx\ninputs: {type: random, count: 5}\nfaults:\n  - " + fault + "\n", "c.yaml", "");
  });
}

TEST(FaultSpecRules, BitBelowTheFormatWidthInEveryForm) {
  const models::Network net = net_3_4_3_2();
  // Bit 7 of the default 8-bit format is its sign: valid everywhere.
  EXPECT_EQ(parse_fault_spec("weight_bit_flip:layers=1:p=0.1:bit=7").bit, 7);
  EXPECT_EQ(campaign_error("{kind: weight_bit_flip, layers: [1], probability: 0.1, bit: 7}"), "");
  FaultSpec flip{FaultKind::weight_bit_flip, {1}, 0.1};
  flip.bit = 7;
  EXPECT_NO_THROW(FaultPlan({flip}, net));
  // Bit 40 (accepted by the CLI's old 0..63 rule) and bit 8 (accepted by the YAML's old 0..31
  // rule) are beyond an 8-bit format in every form.
  for (const int bit : {8, 40}) {
    const std::string b = std::to_string(bit);
    const std::string cli = error_of([&] { parse_fault_spec("weight_bit_flip:layers=1:p=0.1:bit=" + b); });
    EXPECT_NE(cli.find("key 'bit': bit out of range for the format: got '" + b + "'; expected a bit in 0..7"),
              std::string::npos)
        << cli;
    const std::string yaml = campaign_error("{kind: weight_bit_flip, layers: [1], probability: 0.1, bit: " + b + "}");
    EXPECT_NE(yaml.find("c.yaml:4: key 'faults[0].bit': bit out of range for the format: got '" + b +
                        "'; expected a bit in 0..7"),
              std::string::npos)
        << yaml;
    flip.bit = bit;
    const std::string plan = error_of([&] { FaultPlan({flip}, net); });
    EXPECT_NE(plan.find("bit out of range for the format"), std::string::npos) << plan;
  }
  // A 16-bit format admits bit 15 in both text forms.
  EXPECT_EQ(parse_fault_spec("weight_bit_flip:layers=1:p=0.1:bit=15:format=16.8").bit, 15);
  EXPECT_EQ(campaign_error("{kind: weight_bit_flip, layers: [1], probability: 0.1, bit: 15, format: 16.8}"), "");
  EXPECT_NE(campaign_error("{kind: weight_bit_flip, layers: [1], probability: 0.1, format: 40.2}")
                .find("format out of range"),
            std::string::npos);
}

TEST(FaultSpecRules, FieldsThatDoNotApplyToTheKindAreRefused) {
  const std::string cli = error_of([] { parse_fault_spec("neuron_crash:layers=1:p=0.1:value=0.5"); });
  EXPECT_NE(cli.find("key 'value': does not apply to neuron_crash faults: got '0.5'"), std::string::npos) << cli;
  EXPECT_NE(error_of([] { parse_fault_spec("synapse_crash:layers=1:p=0.1:bit=3"); }).find("does not apply"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_fault_spec("neuron_stuck_at:layers=1:p=0.1:format=8.4"); }).find("does not apply"),
            std::string::npos);
  EXPECT_NE(campaign_error("{kind: neuron_crash, layers: [1], probability: 0.1, value: 0.5}")
                .find("key 'faults[0].value': does not apply"),
            std::string::npos);
  EXPECT_NE(campaign_error("{kind: synapse_crash, layers: [1], probability: 0.1, format: 8.4}")
                .find("key 'faults[0].format'"),
            std::string::npos);
  const std::string layers =
      campaign_error("{kind: group_crash, layers: [1], probability: 0.1, groups: [{neurons: [[1, 0]]}]}");
  EXPECT_NE(layers.find("key 'faults[0].layers': does not apply to group_crash faults"), std::string::npos) << layers;
  EXPECT_NE(campaign_error("{kind: neuron_crash, layers: [1], probability: 0.1, groups: [{neurons: [[1, 0]]}]}")
                .find("faults[0].groups"),
            std::string::npos);
  EXPECT_NE(campaign_error("{kind: router, layers: [1], probability: 0.1}").find("does not apply to router faults"),
            std::string::npos);
  // The kinds they belong to keep them.
  EXPECT_EQ(campaign_error("{kind: neuron_stuck_at, layers: [1], probability: 0.1, value: 0.5}"), "");
  EXPECT_EQ(campaign_error("{kind: crossbar_row, layers: [1], probability: 0.1}").find("does not apply"),
            std::string::npos);
  // In code, a crash given a stuck-at value is refused by FaultPlan too.
  FaultSpec crash{FaultKind::neuron_crash, {1}, 0.1};
  crash.value = 0.5;
  EXPECT_NE(error_of([&] { FaultPlan({crash}, net_3_4_3_2()); }).find("value: does not apply"), std::string::npos);
}

TEST(FaultSpecRules, GroupNamesAreUnique) {
  const std::string e = campaign_error(
      "{kind: group_crash, probability: 0.1, groups: [{name: a, neurons: [[1, 0]]}, {name: a, neurons: [[1, 1]]}]}");
  EXPECT_NE(e.find("key 'faults[0].groups': group name 'a' given twice"), std::string::npos) << e;
  // A default name ("group1") taken by an explicit one is a duplicate as well.
  EXPECT_NE(
      campaign_error(
          "{kind: group_crash, probability: 0.1, groups: [{name: group1, neurons: [[1, 0]]}, {neurons: [[1, 1]]}]}")
          .find("group name 'group1' given twice"),
      std::string::npos);
  FaultSpec group{FaultKind::group_crash, {}, 0.1};
  group.groups.push_back({"g", {{1, 0}}, {}});
  group.groups.push_back({"g", {{1, 1}}, {}});
  EXPECT_NE(error_of([&] { FaultPlan({group}, net_3_4_3_2()); }).find("group name 'g' given twice"), std::string::npos);
}

TEST(FaultSpecRules, ProbabilityAndOnsetRangesAreTheSameInEveryForm) {
  EXPECT_NE(error_of([] {
              parse_fault_spec("neuron_crash:layers=1:p=1.5");
            }).find("key 'p': probability out of range: got '1.5'"),
            std::string::npos);
  EXPECT_NE(campaign_error("{kind: neuron_crash, layers: [1], probability: 1.5}")
                .find("probability out of range: got '1.5'; expected a number in [0, 1]"),
            std::string::npos);
  EXPECT_NE(campaign_error("{kind: neuron_crash, layers: [1], probability: 0.1, onset_ns: 1e16}").find("[0, 1e15] ns"),
            std::string::npos);
  FaultSpec late{FaultKind::neuron_crash, {1}, 0.1};
  late.onset_ns = 1e16;
  EXPECT_NE(error_of([&] { FaultPlan({late}, net_3_4_3_2()); }).find("[0, 1e15] ns"), std::string::npos);
}

}  // namespace
}  // namespace nfsim::faults
