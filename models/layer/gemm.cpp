#include "models/layer/gemm.h"

#include <cblas.h>

#include <climits>
#include <mutex>

#include "core/error.h"

namespace nfsim::models {
namespace {

void one_blas_thread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

int blas_int(Eigen::Index v, const char* what) {
  if (v < 0 || v > INT_MAX) {
    throw core::InternalError(std::string("gemm_abt: ") + what + " = " + std::to_string(v) +
                              " does not fit BLAS's 32-bit integers");
  }
  return static_cast<int>(v);
}

}  // namespace

void gemm_abt(Eigen::Index m, Eigen::Index n, Eigen::Index k, const double* a, Eigen::Index lda, const double* b,
              Eigen::Index ldb, double* c, Eigen::Index ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  one_blas_thread();
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, blas_int(m, "m"), blas_int(n, "n"), blas_int(k, "k"), 1.0, a,
              blas_int(std::max<Eigen::Index>(1, lda), "lda"), b, blas_int(std::max<Eigen::Index>(1, ldb), "ldb"),
              accumulate ? 1.0 : 0.0, c, blas_int(std::max<Eigen::Index>(1, ldc), "ldc"));
}

std::string blas_description() {
  // openblas_get_config() starts with "OpenBLAS <version>" and lists the build options.
  return std::string(openblas_get_config()) + "; kernel " + openblas_get_corename();
}

}  // namespace nfsim::models
