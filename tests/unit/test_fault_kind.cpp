#include <gtest/gtest.h>

#include <limits>

#include "core/error.h"
#include "faults/fault_kind.h"

namespace nfsim::faults {
namespace {

TEST(FaultKind, NamesRoundTripAndUnknownNamesListTheAllowedOnes) {
  for (const auto& name : fault_kind_names()) EXPECT_EQ(to_string(parse_fault_kind(name)), name);
  try {
    parse_fault_kind("neuron_crashh");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'neuron_crashh'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("weight_bit_flip"), std::string::npos);
  }
  EXPECT_EQ(parse_persistence("permanent"), Persistence::permanent);
  EXPECT_THROW(parse_persistence("sometimes"), core::InputError);
}

TEST(FaultKind, ProbabilityMustLieInTheUnitInterval) {
  EXPECT_EQ(checked_probability(0.0, "p"), 0.0);
  EXPECT_EQ(checked_probability(1.0, "p"), 1.0);
  EXPECT_THROW(checked_probability(1.5, "faults[0].probability"), core::InputError);
  EXPECT_THROW(checked_probability(-0.1, "p"), core::InputError);
  EXPECT_THROW(checked_probability(std::numeric_limits<double>::quiet_NaN(), "p"), core::InputError);
  try {
    checked_probability(1.5, "faults[0].probability");
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("faults[0].probability"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[0, 1]"), std::string::npos);
  }
}

}  // namespace
}  // namespace nfsim::faults
