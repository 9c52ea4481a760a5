#pragma once
// The kernels under every "Σ_i d_i z_i z_iᵀ" in impactkit (Gram matrices, sandwich meats) and under
// the residual passes y − Xb: the lower triangle of the (optionally diagonally weighted)
// cross-product of p columns over a block of rows that fits in cache.
//
// Two implementations, chosen once at run time:
//   portable  2×2 register tiles of dot products with `omp simd` reductions (whatever the compiler
//             targets by default, SSE2 on x86-64);
//   AVX2+FMA  (x86-64 with GCC or Clang, when the CPU has both) 4×2 tiles of 4-wide vectors: eight
//             independent fused multiply-add chains, enough to hide the FMA latency, with the
//             4 "a" columns held in registers and each "b" vector loaded once per 8 FMAs.
// For k ≈ 10 the portable kernel is bound by its add latency (about one vector op per cycle); the
// AVX2 kernel does the same work in about a quarter of the time and leaves the pass memory bound.
// Within one implementation the summation order depends only on the block, never on the thread
// count or on the alignment of the data, so results are reproducible (DESIGN.md §3). The two
// implementations round differently (FMA, vector width): results agree to a few ulps per sum.
#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IMPACTKIT_HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#endif

namespace impactkit::detail {

// ---- portable kernels ---------------------------------------------------------------------------

/// acc(a, b) += Σ_{i<len} d_i·col[a][i]·col[b][i] for a ≥ b (d null: d ≡ 1); see accumulate_cross_product.
inline void accumulate_cross_product_portable(const double* const* col, Eigen::Index p, Eigen::Index len, double* acc,
                                              const double* d = nullptr) {
  Eigen::Index a = 0;
  for (; a + 1 < p; a += 2) {
    const double* xa0 = col[a];
    const double* xa1 = col[a + 1];
    for (Eigen::Index b = 0; b <= a; b += 2) {
      const double* xb0 = col[b];
      const double* xb1 = col[b + 1];
      double s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      if (d) {
#pragma omp simd reduction(+ : s00, s01, s10, s11)
        for (Eigen::Index i = 0; i < len; ++i) {
          const double t0 = d[i] * xa0[i], t1 = d[i] * xa1[i];
          s00 += t0 * xb0[i];
          s01 += t0 * xb1[i];
          s10 += t1 * xb0[i];
          s11 += t1 * xb1[i];
        }
      } else {
#pragma omp simd reduction(+ : s00, s01, s10, s11)
        for (Eigen::Index i = 0; i < len; ++i) {
          s00 += xa0[i] * xb0[i];
          s01 += xa0[i] * xb1[i];
          s10 += xa1[i] * xb0[i];
          s11 += xa1[i] * xb1[i];
        }
      }
      acc[a + b * p] += s00;
      if (b < a) acc[a + (b + 1) * p] += s01;  // b = a: (a, a+1) is in the upper triangle
      acc[a + 1 + b * p] += s10;
      acc[a + 1 + (b + 1) * p] += s11;
    }
  }
  if (a < p) {
    const double* xa = col[a];
    for (Eigen::Index b = 0; b <= a; ++b) {
      const double* xb = col[b];
      double s = 0;
      if (d) {
#pragma omp simd reduction(+ : s)
        for (Eigen::Index i = 0; i < len; ++i) s += d[i] * xa[i] * xb[i];
      } else {
#pragma omp simd reduction(+ : s)
        for (Eigen::Index i = 0; i < len; ++i) s += xa[i] * xb[i];
      }
      acc[a + b * p] += s;
    }
  }
}

/// e[i] = y[i] − Σ_j coef[j]·col[j][i] for i < len, the columns subtracted in order j = 0..p−1.
inline void residual_block_portable(const double* const* col, const double* coef, Eigen::Index p, Eigen::Index len, const double* y,
                                    double* e) {
  for (Eigen::Index i = 0; i < len; ++i) e[i] = y[i];
  for (Eigen::Index j = 0; j < p; ++j) {
    const double* x = col[j];
    const double c = coef[j];
    for (Eigen::Index i = 0; i < len; ++i) e[i] -= c * x[i];
  }
}

// ---- AVX2 + FMA kernels -------------------------------------------------------------------------
#ifdef IMPACTKIT_HAVE_AVX2_KERNEL

/// Sum of the four lanes in a fixed order: (v0 + v2) + (v1 + v3).
__attribute__((target("avx2,fma"))) inline double horizontal_sum_avx2(__m256d v) {
  const __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  const __m128d s = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/// One MA×MB tile: acc(A+a, B+b) += Σ_i d_i x_{A+a}[i] x_{B+b}[i] for the pairs with A+a ≥ B+b.
template <int MA, int MB, bool Weighted>
__attribute__((target("avx2,fma"))) inline void cross_product_tile_avx2(const double* const* col, Eigen::Index p, Eigen::Index len,
                                                                       double* acc, const double* d, Eigen::Index A, Eigen::Index B) {
  const double* xa[MA];
  const double* xb[MB];
#pragma GCC unroll 4
  for (int a = 0; a < MA; ++a) xa[a] = col[A + a];
#pragma GCC unroll 4
  for (int b = 0; b < MB; ++b) xb[b] = col[B + b];
  __m256d s[MA][MB];
#pragma GCC unroll 4
  for (int a = 0; a < MA; ++a)
#pragma GCC unroll 4
    for (int b = 0; b < MB; ++b) s[a][b] = _mm256_setzero_pd();
  const Eigen::Index len4 = len - len % 4;
  for (Eigen::Index i = 0; i < len4; i += 4) {
    __m256d va[MA];
#pragma GCC unroll 4
    for (int a = 0; a < MA; ++a) va[a] = _mm256_loadu_pd(xa[a] + i);
    if constexpr (Weighted) {
      const __m256d vd = _mm256_loadu_pd(d + i);
#pragma GCC unroll 4
      for (int a = 0; a < MA; ++a) va[a] = _mm256_mul_pd(va[a], vd);
    }
#pragma GCC unroll 4
    for (int b = 0; b < MB; ++b) {
      const __m256d vb = _mm256_loadu_pd(xb[b] + i);
#pragma GCC unroll 4
      for (int a = 0; a < MA; ++a) s[a][b] = _mm256_fmadd_pd(va[a], vb, s[a][b]);
    }
  }
#pragma GCC unroll 4
  for (int a = 0; a < MA; ++a)
#pragma GCC unroll 4
    for (int b = 0; b < MB; ++b) {
      if (A + a < B + b) continue;  // upper triangle: computed by the tile, never stored
      double t = horizontal_sum_avx2(s[a][b]);
      for (Eigen::Index i = len4; i < len; ++i) t += (Weighted ? d[i] * xa[a][i] : xa[a][i]) * xb[b][i];
      acc[(A + a) + (B + b) * p] += t;
    }
}

template <int MA, bool Weighted>
__attribute__((target("avx2,fma"))) inline void cross_product_row_avx2(const double* const* col, Eigen::Index p, Eigen::Index len,
                                                                      double* acc, const double* d, Eigen::Index A) {
  const Eigen::Index b_end = A + MA;  // b ≤ a < A + MA
  Eigen::Index B = 0;
  for (; B + 2 <= b_end; B += 2) cross_product_tile_avx2<MA, 2, Weighted>(col, p, len, acc, d, A, B);
  if (B < b_end) cross_product_tile_avx2<MA, 1, Weighted>(col, p, len, acc, d, A, B);
}

template <bool Weighted>
__attribute__((target("avx2,fma"))) inline void accumulate_cross_product_avx2_impl(const double* const* col, Eigen::Index p,
                                                                                  Eigen::Index len, double* acc, const double* d) {
  Eigen::Index A = 0;
  for (; A + 4 <= p; A += 4) cross_product_row_avx2<4, Weighted>(col, p, len, acc, d, A);
  switch (p - A) {
    case 3: cross_product_row_avx2<3, Weighted>(col, p, len, acc, d, A); break;
    case 2: cross_product_row_avx2<2, Weighted>(col, p, len, acc, d, A); break;
    case 1: cross_product_row_avx2<1, Weighted>(col, p, len, acc, d, A); break;
    default: break;
  }
}

/// The AVX2+FMA version of accumulate_cross_product_portable (call only when the CPU has both).
__attribute__((target("avx2,fma"))) inline void accumulate_cross_product_avx2(const double* const* col, Eigen::Index p, Eigen::Index len,
                                                                             double* acc, const double* d = nullptr) {
  if (d)
    accumulate_cross_product_avx2_impl<true>(col, p, len, acc, d);
  else
    accumulate_cross_product_avx2_impl<false>(col, p, len, acc, nullptr);
}

/// e[i] = src[i] − Σ_{q<M} c[q]·x[q][i], subtracting in order q = 0..M−1 with fused multiply-adds.
template <int M>
__attribute__((target("avx2,fma"))) inline void residual_sweep_avx2(const double* const* x, const double* c, Eigen::Index len,
                                                                   const double* src, double* e) {
  __m256d vc[M];
#pragma GCC unroll 4
  for (int q = 0; q < M; ++q) vc[q] = _mm256_set1_pd(c[q]);
  const Eigen::Index len4 = len - len % 4;
  for (Eigen::Index i = 0; i < len4; i += 4) {
    __m256d r = _mm256_loadu_pd(src + i);
#pragma GCC unroll 4
    for (int q = 0; q < M; ++q) r = _mm256_fnmadd_pd(vc[q], _mm256_loadu_pd(x[q] + i), r);
    _mm256_storeu_pd(e + i, r);
  }
  for (Eigen::Index i = len4; i < len; ++i) {
    double r = src[i];
    for (int q = 0; q < M; ++q) r = std::fma(-c[q], x[q][i], r);  // = fnmadd, exactly
    e[i] = r;
  }
}

/// The AVX2+FMA version of residual_block_portable: same order of subtraction, fused multiply-adds,
/// four columns per sweep so that e is read and written p/4 times rather than p times.
__attribute__((target("avx2,fma"))) inline void residual_block_avx2(const double* const* col, const double* coef, Eigen::Index p,
                                                                   Eigen::Index len, const double* y, double* e) {
  const double* src = y;
  for (Eigen::Index j = 0; j < p; j += 4) {
    switch (std::min<Eigen::Index>(4, p - j)) {
      case 4: residual_sweep_avx2<4>(col + j, coef + j, len, src, e); break;
      case 3: residual_sweep_avx2<3>(col + j, coef + j, len, src, e); break;
      case 2: residual_sweep_avx2<2>(col + j, coef + j, len, src, e); break;
      default: residual_sweep_avx2<1>(col + j, coef + j, len, src, e); break;
    }
    src = e;
  }
  if (p == 0)
    for (Eigen::Index i = 0; i < len; ++i) e[i] = y[i];
}

/// True when the CPU supports AVX2 and FMA (checked once).
inline bool cpu_has_avx2_fma() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
}

#else
inline bool cpu_has_avx2_fma() { return false; }
#endif  // IMPACTKIT_HAVE_AVX2_KERNEL

// ---- dispatch -----------------------------------------------------------------------------------

/// acc(a, b) += Σ_{i<len} d_i·col[a][i]·col[b][i] for a ≥ b (d null: d ≡ 1). acc is p×p
/// column-major; only its lower triangle is updated (symmetric_from_lower completes it).
inline void accumulate_cross_product(const double* const* col, Eigen::Index p, Eigen::Index len, double* acc, const double* d = nullptr) {
#ifdef IMPACTKIT_HAVE_AVX2_KERNEL
  if (cpu_has_avx2_fma()) return accumulate_cross_product_avx2(col, p, len, acc, d);
#endif
  accumulate_cross_product_portable(col, p, len, acc, d);
}

/// e[i] = y[i] − Σ_j coef[j]·col[j][i] for i < len (p ≥ 1 columns).
inline void residual_block(const double* const* col, const double* coef, Eigen::Index p, Eigen::Index len, const double* y, double* e) {
#ifdef IMPACTKIT_HAVE_AVX2_KERNEL
  if (cpu_has_avx2_fma()) return residual_block_avx2(col, coef, p, len, y, e);
#endif
  residual_block_portable(col, coef, p, len, y, e);
}

/// The full symmetric matrix from an accumulator filled by accumulate_cross_product.
inline Eigen::MatrixXd symmetric_from_lower(const Eigen::MatrixXd& acc) {
  return acc.selfadjointView<Eigen::Lower>();
}

}  // namespace impactkit::detail
