// gemm_abt (OpenBLAS's dgemm behind the conv layers) against Eigen's product, on blocks of larger
// matrices (leading dimensions bigger than the rows), with and without accumulation, and at the
// edges (empty and one-element shapes).
#include <gtest/gtest.h>

#include "models/layer/gemm.h"

namespace nfsim::models {
namespace {

void expect_matches_eigen(Eigen::Index m, Eigen::Index n, Eigen::Index k, bool accumulate) {
  // A is an m x k block of a taller matrix, B the n x k block two rows down a 9 x k matrix, C an
  // m x n block of a taller matrix whose other rows must stay untouched.
  const Eigen::MatrixXd a_all = Eigen::MatrixXd::Random(m + 3, k), b_all = Eigen::MatrixXd::Random(n + 5, k);
  const Eigen::MatrixXd c_start = Eigen::MatrixXd::Random(m + 4, n);
  Eigen::MatrixXd c_all = c_start;
  gemm_abt(m, n, k, a_all.data() + 1, a_all.rows(), b_all.data() + 2, b_all.rows(), c_all.data() + 3, c_all.rows(),
           accumulate);
  Eigen::MatrixXd want = a_all.middleRows(1, m) * b_all.middleRows(2, n).transpose();
  if (accumulate) want += c_start.middleRows(3, m);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < m; ++i) {
      EXPECT_NEAR(c_all(3 + i, j), want(i, j), 1e-13 * (1.0 + std::abs(want(i, j)))) << i << "," << j;
    }
  }
  // Rows outside the block are as they were.
  EXPECT_EQ(c_all.topRows(3), c_start.topRows(3));
  EXPECT_EQ(c_all.bottomRows(1), c_start.bottomRows(1));
}

TEST(Gemm, MatchesEigenOnBlocksWithAndWithoutAccumulation) {
  for (bool acc : {false, true}) {
    expect_matches_eigen(676, 16, 9, acc);   // the example CNN's first layer, one input
    expect_matches_eigen(121, 32, 144, acc);  // its second
    expect_matches_eigen(7, 3, 5, acc);
    expect_matches_eigen(1, 1, 1, acc);
  }
}

TEST(Gemm, EmptyShapesLeaveTheOutputAlone) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Constant(2, 2, 7.0);
  const Eigen::MatrixXd a(2, 0), b(2, 0);
  gemm_abt(2, 2, 0, a.data(), 2, b.data(), 2, c.data(), 2, true);  // k = 0, accumulate: C unchanged
  EXPECT_EQ(c, Eigen::MatrixXd::Constant(2, 2, 7.0));
  gemm_abt(2, 2, 0, a.data(), 2, b.data(), 2, c.data(), 2, false);  // k = 0: C = 0
  EXPECT_EQ(c, Eigen::MatrixXd::Zero(2, 2));
  gemm_abt(0, 2, 3, nullptr, 1, b.data(), 2, c.data(), 1, false);  // m = 0: nothing to write
}

TEST(Gemm, DescribesTheKernelItRuns) {
  const std::string d = blas_description();
  EXPECT_NE(d.find("OpenBLAS"), std::string::npos) << d;
  EXPECT_NE(d.find("; kernel "), std::string::npos) << d;
}

}  // namespace
}  // namespace nfsim::models
