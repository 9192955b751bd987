#pragma once

#include <Eigen/Core>
#include <string>

namespace nfsim::models {

// C = A * B^T, or C += A * B^T with accumulate: A is m x k, B is n x k, C is m x n, all
// column-major with leading dimensions lda, ldb and ldc (so a block of an Eigen matrix passes as
// its data pointer and outer stride).
//
// The products of convolution layers go through here, to OpenBLAS's dgemm: OpenBLAS picks a
// kernel for the CPU it runs on (AVX2/AVX-512 with FMA where there is one), about 3x Eigen's
// portable SSE2 kernel on these shapes (docs/performance.md). The price is that the last bits of a
// conv network's results depend on the CPU's kernel (differences at the 1e-16 relative level, far
// below every tolerance); on one machine they are deterministic. OpenBLAS runs on the calling
// thread: nfsim parallelises over trials itself, so OpenBLAS is set to one thread on first use.
void gemm_abt(Eigen::Index m, Eigen::Index n, Eigen::Index k, const double* a, Eigen::Index lda, const double* b,
              Eigen::Index ldb, double* c, Eigen::Index ldc, bool accumulate);

// "OpenBLAS <version> <build options>; kernel <core>": what gemm_abt runs on this machine.
std::string blas_description();

}  // namespace nfsim::models
