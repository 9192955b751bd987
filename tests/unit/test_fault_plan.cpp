#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/random_network.h"

namespace nfsim::faults {
namespace {

models::Network net_3_4_3_2() {
  return models::make_random_network({{3, 4, 3, 2}, {models::ActivationKind::relu}, {}, 2.0, 0.1, 5});
}

TEST(BitFlip, FixedPointQuantiseFlipAndSaturate) {
  const FixedPointFormat q16{8, 6};  // Q1.6
  EXPECT_DOUBLE_EQ(flip_weight_bit(0.5, 7, q16), -1.5);       // 0b00100000 -> 0b10100000
  EXPECT_DOUBLE_EQ(flip_weight_bit(0.5, 0, q16), 0.515625);   // +1 LSB
  EXPECT_DOUBLE_EQ(flip_weight_bit(5.0, 0, q16), 1.96875);    // saturates at 127, then flips to 126
  EXPECT_DOUBLE_EQ(flip_weight_bit(-0.25, 7, q16), 1.75);     // 0b11110000 -> 0b01110000
  EXPECT_DOUBLE_EQ(flip_weight_bit(0.0, 6, q16), 1.0);
  EXPECT_EQ(q16.describe(), "Q1.6 (8 bits)");
}

TEST(FaultSpec, ParsesTheCliForm) {
  const FaultSpec s = parse_fault_spec("neuron_stuck_at:layers=1,2:p=0.05:persistence=permanent:value=0.5");
  EXPECT_EQ(s.kind, FaultKind::neuron_stuck_at);
  EXPECT_EQ(s.layers, (std::vector<int>{1, 2}));
  EXPECT_EQ(s.probability, 0.05);
  EXPECT_EQ(s.persistence, Persistence::permanent);
  EXPECT_EQ(s.value, 0.5);
  const FaultSpec b = parse_fault_spec("weight_bit_flip:layers=2:p=0.1:bit=3:format=8.4");
  EXPECT_EQ(b.format.total_bits, 8);
  EXPECT_EQ(b.format.frac_bits, 4);
  EXPECT_THROW(parse_fault_spec("neuron_crash:layers=1:p=1.5"), core::InputError);
  EXPECT_THROW(parse_fault_spec("neuron_crash:layers=1"), core::InputError);
  EXPECT_THROW(parse_fault_spec("neuron_crash:p=0.1"), core::InputError);
  EXPECT_THROW(parse_fault_spec("neuron_crash:layers=1:p=0.1:colour=red"), core::InputError);
  EXPECT_THROW(parse_fault_spec("cosmic_ray:layers=1:p=0.1"), core::InputError);
}

TEST(FaultPlan, ValidatesAgainstTheNetwork) {
  const models::Network net = net_3_4_3_2();
  FaultSpec ok{FaultKind::synapse_crash, {1, 3}, 0.1};
  const FaultPlan plan({ok}, net);
  EXPECT_EQ(plan.unit_count(0), 12u + 6u);
  int layer;
  std::uint64_t pos;
  plan.locate(0, 13, layer, pos);
  EXPECT_EQ(layer, 3);
  EXPECT_EQ(pos, 1u);
  try {
    FaultPlan({FaultSpec{FaultKind::synapse_crash, {0}, 0.1}}, net);
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("faults[0]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("layer 0 out of range"), std::string::npos);
  }
  EXPECT_THROW(FaultPlan({FaultSpec{FaultKind::neuron_crash, {4}, 0.1}}, net), core::InputError);
  EXPECT_THROW(FaultPlan({FaultSpec{FaultKind::neuron_crash, {1}, -0.1}}, net), core::InputError);
  FaultSpec flip{FaultKind::weight_bit_flip, {1}, 0.1};
  flip.bit = 8;
  EXPECT_THROW(FaultPlan({flip}, net), core::InputError);
  FaultSpec group{FaultKind::group_crash, {}, 0.1};
  group.groups.push_back({"g", {{1, 9}}, {}});
  EXPECT_THROW(FaultPlan({group}, net), core::InputError);
}

TEST(FaultSampler, DrawsArePureFunctionsWithTheRightRate) {
  const models::Network net = net_3_4_3_2();
  const FaultPlan plan({FaultSpec{FaultKind::synapse_crash, {1, 2, 3}, 0.1}}, net);
  const FaultSampler a(plan, net, 42), b(plan, net, 42), c(plan, net, 43);
  std::vector<std::uint64_t> u1, u2, u3;
  std::uint64_t total = 0;
  const int trials = 20000;
  for (int t = 0; t < trials; ++t) {
    a.draw_units(0, t, 0, u1);
    b.draw_units(0, t, 0, u2);
    EXPECT_EQ(u1, u2);
    EXPECT_TRUE(std::is_sorted(u1.begin(), u1.end()));
    EXPECT_EQ(std::set<std::uint64_t>(u1.begin(), u1.end()).size(), u1.size());
    total += u1.size();
  }
  const double units = static_cast<double>(plan.unit_count(0));
  EXPECT_NEAR(total / (trials * units), 0.1, 4 * std::sqrt(0.1 * 0.9 / (trials * units)));
  a.draw_units(0, 7, 0, u1);
  c.draw_units(0, 7, 0, u3);
  a.draw_units(0, 7, 1, u2);
  EXPECT_TRUE(u1 != u3 && u1 != u2);  // another seed, another slot: other draws
}

TEST(FaultSampler, PerUnitFrequenciesAreUniform) {
  const models::Network net = net_3_4_3_2();
  const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {1}, 0.3}}, net);
  const FaultSampler s(plan, net, 1);
  std::vector<int> hits(4, 0);
  std::vector<std::uint64_t> units;
  const int trials = 40000;
  for (int t = 0; t < trials; ++t) {
    s.draw_units(0, t, 0, units);
    for (auto u : units) ++hits[u];
  }
  for (int h : hits) EXPECT_NEAR(h / double(trials), 0.3, 4 * std::sqrt(0.3 * 0.7 / trials));
}

TEST(FaultSampler, PermanentFaultsAreSharedByTheInputsOfATrial) {
  const models::Network net = net_3_4_3_2();
  FaultSpec perm{FaultKind::neuron_crash, {1}, 0.5, Persistence::permanent};
  FaultSpec trans{FaultKind::neuron_crash, {2}, 0.5, Persistence::transient};
  const FaultPlan plan({perm, trans}, net);
  const FaultSampler s(plan, net, 9);
  FaultInstance a, b;
  int layer2_differs = 0;
  for (int t = 0; t < 50; ++t) {
    s.realize(t, 0, a);
    s.realize(t, 5, b);
    ASSERT_EQ(a.neurons[1].size(), b.neurons[1].size());
    for (std::size_t i = 0; i < a.neurons[1].size(); ++i) EXPECT_EQ(a.neurons[1][i].index, b.neurons[1][i].index);
    if (a.neurons[2].size() != b.neurons[2].size()) ++layer2_differs;
  }
  EXPECT_GT(layer2_differs, 5);
  // p = 1 and p = 0 are exact.
  const FaultPlan all({FaultSpec{FaultKind::neuron_crash, {1}, 1.0}, FaultSpec{FaultKind::neuron_crash, {2}, 0.0}}, net);
  FaultSampler(all, net, 1).realize(3, 0, a);
  EXPECT_EQ(a.neurons[1].size(), 4u);
  EXPECT_TRUE(a.neurons[2].empty());
  EXPECT_EQ(a.first_layer(), 1);
}

TEST(FaultSampler, LaterSpecsWinOnTheSameUnit) {
  const models::Network net = net_3_4_3_2();
  FaultSpec crash{FaultKind::neuron_crash, {1}, 1.0};
  FaultSpec stuck{FaultKind::neuron_stuck_at, {1}, 1.0};
  stuck.value = 0.7;
  const FaultPlan plan({crash, stuck}, net);
  FaultInstance f;
  FaultSampler(plan, net, 1).realize(0, 0, f);
  ASSERT_EQ(f.neurons[1].size(), 4u);
  for (const auto& o : f.neurons[1]) EXPECT_EQ(o.value, 0.7);
}

}  // namespace
}  // namespace nfsim::faults
