// Protection in the fault layer (docs/faults.md, "Protection"): TMR units drawn with
// q = 3p^2 - 2p^3 from their own stream (the other units' draws unchanged), replica 0 is the
// unreplicated draw, spares repair the lowest units of each pool first, and the bounds'
// dead-and-not-repaired probabilities match an enumeration.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "faults/fault_plan.h"
#include "faults/fault_sampler.h"
#include "models/random_network.h"

namespace nfsim::faults {
namespace {

models::Network small_network() {
  models::RandomNetworkSpec spec;
  spec.widths = {4, 10, 3};
  spec.seed = 2;
  return models::make_random_network(spec);
}

FaultSpec crash(double p) {
  FaultSpec s;
  s.kind = FaultKind::neuron_crash;
  s.layers = {1};
  s.probability = p;
  return s;
}

TEST(Tmr, ProtectedUnitsFailWithQAndTheOthersAsBefore) {
  const models::Network net = small_network();
  FaultSpec protected_spec = crash(0.2);
  protected_spec.tmr_units = {1, 5};
  const FaultPlan plain({crash(0.2)}, net), prot({protected_spec}, net);
  const FaultSampler a(plain, net, 11), b(prot, net, 11);
  EXPECT_DOUBLE_EQ(prot.unit_probability(0, 1), 3 * 0.04 - 2 * 0.008);
  EXPECT_DOUBLE_EQ(prot.unit_probability(0, 0), 0.2);
  const int trials = 40000;
  std::vector<int> hits(10, 0);
  std::vector<std::uint64_t> ua, ub;
  for (int t = 0; t < trials; ++t) {
    a.draw_units(0, static_cast<std::uint64_t>(t), 0, ua);
    b.draw_units(0, static_cast<std::uint64_t>(t), 0, ub);
    ASSERT_TRUE(std::is_sorted(ub.begin(), ub.end()));
    std::vector<std::uint64_t> fa, fb;  // the unprotected units: identical draws
    for (auto u : ua) if (u != 1 && u != 5) fa.push_back(u);
    for (auto u : ub) {
      ++hits[u];
      if (u != 1 && u != 5) fb.push_back(u);
    }
    ASSERT_EQ(fa, fb) << "trial " << t;
  }
  const double q = 3 * 0.04 - 2 * 0.008;
  for (int u = 0; u < 10; ++u) {
    const double p = (u == 1 || u == 5) ? q : 0.2;
    const double sd = std::sqrt(p * (1 - p) / trials);
    EXPECT_NEAR(hits[u] / static_cast<double>(trials), p, 4.5 * sd) << "unit " << u;
  }
}

TEST(Replicas, ReplicaZeroIsTheUnreplicatedDrawAndOthersDiffer) {
  const models::Network net = small_network();
  const FaultPlan plan({crash(0.3)}, net);
  const FaultSampler s(plan, net, 5);
  std::vector<std::uint64_t> plain, r0, r1;
  int differ = 0;
  for (std::uint64_t t = 0; t < 200; ++t) {
    s.draw_units(0, t, 2, plain);
    s.draw_units(0, t, 2, r0, 0);
    s.draw_units(0, t, 2, r1, 1);
    EXPECT_EQ(plain, r0);
    differ += plain != r1;
  }
  EXPECT_GT(differ, 100);
}

TEST(Spares, RepairTheLowestUnitsOfEachPoolFirst) {
  const models::Network net = small_network();
  FaultSpec spec = crash(0.5);
  spec.spare_pool = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
  spec.spares = 1;
  const FaultPlan plan({spec}, net);
  std::vector<std::uint64_t> failed{0, 2, 3, 5, 6, 9};
  plan.repair(0, failed);
  EXPECT_EQ(failed, (std::vector<std::uint64_t>{2, 3, 6}));
  // Enumeration of every subset against effective_probabilities (pools of 4, 3 and 3 units,
  // one unit under TMR).
  spec.tmr_units = {2};
  const FaultPlan tmr({spec}, net);
  std::vector<double> dead(10, 0.0);
  for (std::uint32_t mask = 0; mask < 1024; ++mask) {
    double prob = 1;
    std::vector<std::uint64_t> f;
    for (std::uint64_t u = 0; u < 10; ++u) {
      const double p = tmr.unit_probability(0, u);
      const bool fails = (mask >> u) & 1u;
      prob *= fails ? p : 1 - p;
      if (fails) f.push_back(u);
    }
    tmr.repair(0, f);
    for (auto u : f) dead[u] += prob;
  }
  const std::vector<double> eff = tmr.effective_probabilities(0);
  for (std::size_t u = 0; u < 10; ++u) EXPECT_NEAR(eff[u], dead[u], 1e-12) << u;
  EXPECT_EQ(eff[0], 0.0);  // the lowest unit of a pool is always repaired with one spare
}

TEST(Tmr, PlanRefusesUnitsThatDoNotExist) {
  const models::Network net = small_network();
  FaultSpec spec = crash(0.1);
  spec.tmr_units = {3, 10};
  EXPECT_THROW(FaultPlan(std::vector<FaultSpec>{spec}, net), nfsim::core::InputError);
}

}  // namespace
}  // namespace nfsim::faults
