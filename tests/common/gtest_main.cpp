// The main() of every nfsim test binary. Fails when a run selects no test, so that a wrongly
// linked or filtered binary cannot pass silently.
#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  if (GTEST_FLAG_GET(list_tests)) return rc;
  if (::testing::UnitTest::GetInstance()->test_to_run_count() == 0) {
    std::fprintf(stderr, "no test was selected to run\n");
    return 1;
  }
  return rc;
}
