#pragma once
// Weighted mean and centred sum of squares, accumulated block by block in one pass over the data.
// Within a block (small enough to stay in cache) the textbook two-pass formula is exact to
// rounding; blocks are combined with the pairwise update of Chan, Golub & LeVeque (1983,
// "Algorithms for computing the sample variance", eq. 2.1):
//   W = W_a + W_b,  M2 = M2_a + M2_b + δ² W_a W_b / W,  mean = mean_a + δ W_b / W,  δ = mean_b − mean_a,
// which, unlike Σx² − W·mean², loses no digits when |mean| ≫ sd.
#include <Eigen/Core>

namespace impactkit::detail {

struct weighted_moments {
  double sw = 0;    ///< Σ w
  double mean = 0;  ///< Σ w x / Σ w
  double m2 = 0;    ///< Σ w (x − mean)²

  void merge(const weighted_moments& o) {
    if (o.sw == 0) return;
    const double total = sw + o.sw, delta = o.mean - mean;
    m2 += o.m2 + delta * delta * sw * o.sw / total;
    mean += delta * o.sw / total;
    sw = total;
  }

  /// Moments of x[0..len) (w null: w ≡ 1; len ≥ 1), by two sweeps over the block.
  static weighted_moments of_block(const double* x, const double* w, Eigen::Index len) {
    double sw = 0, swx = 0;
    if (w) {
#pragma omp simd reduction(+ : sw, swx)
      for (Eigen::Index i = 0; i < len; ++i) {
        sw += w[i];
        swx += w[i] * x[i];
      }
    } else {
      sw = static_cast<double>(len);
#pragma omp simd reduction(+ : swx)
      for (Eigen::Index i = 0; i < len; ++i) swx += x[i];
    }
    const double mean = swx / sw;
    double m2 = 0;
    if (w) {
#pragma omp simd reduction(+ : m2)
      for (Eigen::Index i = 0; i < len; ++i) m2 += w[i] * (x[i] - mean) * (x[i] - mean);
    } else {
#pragma omp simd reduction(+ : m2)
      for (Eigen::Index i = 0; i < len; ++i) m2 += (x[i] - mean) * (x[i] - mean);
    }
    return {sw, mean, m2};
  }
};

}  // namespace impactkit::detail
