#pragma once
// Private to src/monitoring: counting and selecting among the pairwise slopes (x_j − x_i)/(j − i), i < j,
// of one or more series without materialising them (see include/impactkit/monitoring/trend_tests.hpp).
#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace impactkit::detail {

/// A series x_0, x_stride, x_2·stride, … of n values (a season of a seasonal series has stride = period).
struct strided_series {
  const double* x = nullptr;
  Eigen::Index stride = 1;
  Eigen::Index n = 0;
  double operator[](Eigen::Index k) const { return x[k * stride]; }
  std::int64_t pairs() const { return static_cast<std::int64_t>(n) * (n - 1) / 2; }
};

/// Sorts a[0..n) ascending (tmp: scratch of n) and returns the number of strict inversions,
/// #{i < j : a_i > a_j}, by bottom-up merge sort (Knight 1966). The sorted values end in a.
std::int64_t sort_counting_inversions(double* a, double* tmp, Eigen::Index n);

/// Tie summary of a sorted array: Σ g(g−1)/2 (tied pairs), the number of groups and Σ g(g−1)(2g+5).
struct tie_summary {
  std::int64_t tied_pairs = 0, groups = 0;
  double variance_term = 0;
};
tie_summary ties_of_sorted(const double* a, Eigen::Index n);

/// The values of the given ranks (0-based, in ascending order of the slopes; any order, duplicates allowed) among
/// all within-series pairwise slopes of `series` (each (x_j − x_i)/(j − i) evaluated exactly as written).
/// Exact; O(n log n) per narrowing step; ranks close together share one bracket.
std::vector<double> select_pairwise_slopes(const std::vector<strided_series>& series, const std::vector<std::int64_t>& ranks);

}  // namespace impactkit::detail
