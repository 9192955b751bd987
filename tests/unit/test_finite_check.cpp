// The non-finite guards (testbench/campaign/finite_check.h) and the magnitude limit they keep
// (core::kMaxStatisticMagnitude): statistics stay finite at the limit and overflow beyond it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/running_stats.h"
#include "faults/fault_plan.h"
#include "faults/fault_spec.h"
#include "models/bounds/bounds.h"
#include "models/random_network.h"
#include "sim/functional/error_stats.h"
#include "testbench/campaign/finite_check.h"
#include "testbench/report/report.h"

namespace nfsim::tb {
namespace {

bool finite_moments(const core::RunningStats& s) {
  return std::isfinite(s.mean()) && std::isfinite(s.m2()) && std::isfinite(s.m3()) && std::isfinite(s.m4());
}

// The worst merge of the derivation in core/running_stats.h: two halves of 2^32 trials at
// opposite ends of the limit (and an uneven split). Finite at 1e60; at 1e70 the fourth-moment
// term overflows, which is why the limit is needed at all.
TEST(FiniteLimit, MergeOfTwoTo32TrialsAtTheLimitIsFinite) {
  const double big = core::kMaxStatisticMagnitude;
  const std::uint64_t half = std::uint64_t{1} << 31;
  for (const auto& [na, nb] : {std::pair{half, half}, {(std::uint64_t{1} << 32) - 1, std::uint64_t{1}}}) {
    core::RunningStats a = core::RunningStats::from_moments(na, big, 0, 0, 0, big, big);
    const core::RunningStats b = core::RunningStats::from_moments(nb, -big, 0, 0, 0, -big, -big);
    a.merge(b);
    EXPECT_TRUE(finite_moments(a)) << a.m4();
    EXPECT_TRUE(std::isfinite(a.std_half_width(1.96)));
  }
  core::RunningStats a = core::RunningStats::from_moments(half, 1e70, 0, 0, 0, 1e70, 1e70);
  a.merge(core::RunningStats::from_moments(half, -1e70, 0, 0, 0, -1e70, -1e70));
  EXPECT_FALSE(finite_moments(a));
}

TEST(FiniteLimit, AddAndBlocksAtTheLimitAreFinite) {
  const double big = core::kMaxStatisticMagnitude;
  std::vector<double> xs;
  core::RunningStats s;
  for (int i = 0; i < 1000; ++i) {
    xs.push_back(i % 3 == 0 ? big : -big);
    s.add(xs.back());
  }
  EXPECT_TRUE(finite_moments(s));
  EXPECT_TRUE(finite_moments(core::RunningStats::of_values(xs.data(), xs.size())));
}

TEST(FiniteCheck, WithinLimitAndDescriptions) {
  EXPECT_TRUE(within_limit(0));
  EXPECT_TRUE(within_limit(-1e60));
  EXPECT_FALSE(within_limit(1.0000001e60));
  EXPECT_FALSE(within_limit(INFINITY));
  EXPECT_FALSE(within_limit(NAN));
  EXPECT_EQ(describe_value(INFINITY), "inf");
  EXPECT_EQ(describe_value(-INFINITY), "-inf");
  EXPECT_EQ(describe_value(NAN), "nan");
  EXPECT_EQ(describe_value(2.5), "2.5");
}

TEST(FiniteCheck, ErrorStatsNameTheInputOutputAndMoment) {
  sim::ErrorStats s(2, 3);
  const double ok[3] = {1, -2, 1e59};
  s.add(0, ok);
  s.add(1, ok);
  EXPECT_FALSE(first_non_finite(s).has_value());
  const double beyond[3] = {0, 3e60, 0};
  s.add(1, beyond);
  const auto bad = first_non_finite(s);
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->find("input 1 output 1"), std::string::npos) << *bad;
  EXPECT_NE(bad->find("3e+60"), std::string::npos) << *bad;
  sim::ErrorStats t(1, 1);
  const double inf[1] = {INFINITY};
  t.add(0, inf);
  ASSERT_TRUE(first_non_finite(t).has_value());
  EXPECT_NE(first_non_finite(t)->find("inf"), std::string::npos);
}

TEST(FiniteCheck, BoundsAndOutputsAreChecked) {
  models::bounds::BoundSet b;
  b["b3"] = {Eigen::VectorXd::Constant(2, 1e200), Eigen::VectorXd::Constant(2, 1.0)};  // finite: accepted
  EXPECT_FALSE(first_non_finite(b).has_value());
  b["b4"] = {Eigen::VectorXd::Zero(2), Eigen::VectorXd::Constant(2, NAN)};
  ASSERT_TRUE(first_non_finite(b).has_value());
  EXPECT_NE(first_non_finite(b)->find("b4 std of output 0 = nan"), std::string::npos) << *first_non_finite(b);
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(2, 3);
  EXPECT_FALSE(first_non_finite_output(out).has_value());
  out(1, 2) = -INFINITY;
  EXPECT_EQ(first_non_finite_output(out).value_or(""), "input 2 out1 = -inf");
}

TEST(FiniteCheck, FaultFreeOutputsNameTheInputAndLayer) {
  const models::Network net = models::make_random_network({{3, 4, 2}, {models::ActivationKind::relu}, {}, 1.0, 0.0, 3});
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(3, 2);
  EXPECT_NO_THROW(check_fault_free_outputs(net, x, net.forward_batch(x), "inputs.csv"));
  x.col(1) *= 1e300;
  try {
    check_fault_free_outputs(net, x, net.forward_batch(x), "inputs.csv");
    ADD_FAILURE() << "not refused";
  } catch (const core::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("input 1 of inputs.csv"), std::string::npos) << m;
    EXPECT_NE(m.find("the input value 0 itself is 1e+300"), std::string::npos) << m;
  }
}

TEST(FiniteCheck, CulpritIsTheFirstSpecThatFailsAlone) {
  std::vector<faults::FaultSpec> specs(3);
  specs[0].kind = faults::FaultKind::neuron_crash;
  specs[1].kind = faults::FaultKind::neuron_stuck_at;
  specs[1].value = 1e50;
  specs[1].origin = "c.yaml:7";
  specs[2].kind = faults::FaultKind::synapse_crash;
  for (auto& s : specs) {
    s.layers = {1};
    s.probability = 0.25;
  }
  std::vector<std::size_t> asked;
  const std::string named = name_culprit(specs, [&](std::size_t s) {
    asked.push_back(s);
    return s == 1;
  });
  EXPECT_EQ(asked, (std::vector<std::size_t>{0, 1}));
  EXPECT_NE(named.find("c.yaml:7: fault spec faults[1] (neuron_stuck_at"), std::string::npos) << named;
  const std::string together = name_culprit(specs, [](std::size_t) { return false; });
  EXPECT_NE(together.find("together"), std::string::npos) << together;
  EXPECT_NE(together.find("faults[2]"), std::string::npos) << together;
  const auto alone = spec_alone(specs, 1);
  EXPECT_EQ(alone[0].probability, 0.0);
  EXPECT_EQ(alone[1].probability, 0.25);
  EXPECT_EQ(alone[2].probability, 0.0);
  EXPECT_EQ(alone[1].value, 1e50);
}

TEST(FiniteCheck, ReportWithANonFiniteNumberIsRefused) {
  Report report;
  PointReport point;
  InputReport in;
  in.measured.mean = in.measured.std = in.measured.mean_abs = in.measured.max_abs = Eigen::VectorXd::Ones(2);
  in.measured.ci95_mean = {Eigen::VectorXd::Constant(2, -INFINITY), Eigen::VectorXd::Constant(2, INFINITY)};  // one trial: no interval
  in.bounds["b4"] = {Eigen::VectorXd::Ones(2), Eigen::VectorXd::Ones(2)};
  point.inputs.push_back(in);
  report.points.push_back(point);
  EXPECT_NO_THROW(check_finite(report));
  report.points[0].inputs[0].bounds["b4"].std[1] = NAN;
  try {
    check_finite(report);
    ADD_FAILURE() << "not refused";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("points[0].inputs[0].bounds.b4.std[1] = nan"), std::string::npos) << e.what();
  }
  report.points[0].inputs[0].bounds["b4"].std[1] = 1;
  report.points[0].variance_by_term.emplace_back("neuron_stuck_at layer 1", INFINITY);
  EXPECT_THROW(check_finite(report), core::InputError);
}

// A term that never fails adds exactly nothing, even when its effect would overflow (0 * inf).
TEST(FiniteCheck, ZeroProbabilityBoundTermsAreSkipped) {
  const models::Network net = models::make_random_network({{3, 4, 2}, {models::ActivationKind::relu}, {}, 1.0, 0.0, 3});
  models::bounds::FaultModel model;
  model.neurons.push_back({1, 0.0, false, 1e300});
  model.synapses.push_back({2, 0.0, [](double) { return 1e300; }, "synapse_stuck_at"});
  model.groups.push_back({"g", 0.0, {{1, 0}}, {}});
  const models::bounds::BoundCalculator calc(net, model);
  const auto b = calc.compute(Eigen::VectorXd::Ones(3), {"b3", "b4"});
  EXPECT_FALSE(first_non_finite(b).has_value());
  EXPECT_EQ(b.at("b3").mean.cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(b.at("b4").std.cwiseAbs().maxCoeff(), 0.0);
}

// A bit flip acts on a two's-complement integer of at most 32 bits: whatever the weight, the
// flipped value has magnitude at most 2^31 (docs/faults.md), so it cannot be infinite.
TEST(FiniteCheck, BitFlipsAreBoundedByTheirFormat) {
  for (int total : {2, 8, 16, 32}) {
    for (int frac : {0, total / 2, total - 1}) {
      const faults::FixedPointFormat f{total, frac};
      for (double w : {0.0, 1e300, -1e300, 3.75, -0.5}) {
        for (int bit = 0; bit < total; ++bit) {
          const double v = faults::flip_weight_bit(w, bit, f);
          EXPECT_TRUE(std::isfinite(v));
          EXPECT_LE(std::abs(v), std::ldexp(1.0, total - 1 - frac)) << total << "." << frac << " bit " << bit << " w " << w;
        }
      }
    }
  }
}

TEST(FiniteCheck, StuckAtValuesBeyondTheLimitAreRefusedWhereWritten) {
  EXPECT_NO_THROW(faults::parse_fault_spec("neuron_stuck_at:layers=1:p=0.1:value=-1e60"));
  EXPECT_THROW(faults::parse_fault_spec("neuron_stuck_at:layers=1:p=0.1:value=1.1e60"), core::InputError);
  EXPECT_THROW(faults::parse_fault_spec("synapse_stuck_at:layers=1:p=0.1:value=-1e300"), core::InputError);
}

}  // namespace
}  // namespace nfsim::tb
