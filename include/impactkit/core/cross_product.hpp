#pragma once
// The kernel under every "Σ_i z_i z_iᵀ" in impactkit (Gram matrices, sandwich meats): the lower
// triangle of the cross-product of p columns over a block of rows that fits in cache, computed as
// 2×2 register tiles of dot products (one load per multiply-add instead of two) with SIMD
// reductions. For k ≈ 10 this is about twice Eigen's rankUpdate, whose packing dominates at such
// small widths. The summation order depends only on the block, never on the thread count.
#include <Eigen/Core>

namespace impactkit::detail {

/// acc(a, b) += Σ_{i<len} col[a][i]·col[b][i] for a ≥ b; acc is p×p column-major (lower triangle).
inline void accumulate_cross_product(const double* const* col, Eigen::Index p, Eigen::Index len, double* acc) {
  Eigen::Index a = 0;
  for (; a + 1 < p; a += 2) {
    const double* xa0 = col[a];
    const double* xa1 = col[a + 1];
    for (Eigen::Index b = 0; b <= a; b += 2) {
      const double* xb0 = col[b];
      const double* xb1 = col[b + 1];
      double s00 = 0, s01 = 0, s10 = 0, s11 = 0;
#pragma omp simd reduction(+ : s00, s01, s10, s11)
      for (Eigen::Index i = 0; i < len; ++i) {
        s00 += xa0[i] * xb0[i];
        s01 += xa0[i] * xb1[i];
        s10 += xa1[i] * xb0[i];
        s11 += xa1[i] * xb1[i];
      }
      acc[a + b * p] += s00;
      acc[a + (b + 1) * p] += s01;  // (a, a+1) when b = a: upper triangle, ignored by callers
      acc[a + 1 + b * p] += s10;
      acc[a + 1 + (b + 1) * p] += s11;
    }
  }
  if (a < p) {
    const double* xa = col[a];
    for (Eigen::Index b = 0; b <= a; ++b) {
      const double* xb = col[b];
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (Eigen::Index i = 0; i < len; ++i) s += xa[i] * xb[i];
      acc[a + b * p] += s;
    }
  }
}

/// The full symmetric matrix from an accumulator filled by accumulate_cross_product.
inline Eigen::MatrixXd symmetric_from_lower(const Eigen::MatrixXd& acc) {
  return acc.selfadjointView<Eigen::Lower>();
}

}  // namespace impactkit::detail
