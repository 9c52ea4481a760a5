#pragma once
// Count, mean and variance of several columns per cell (group × round) in one pass over the rows —
// the sufficient statistics of the iid indicator tables (ik.change, ik.disaggregate).
//
// For column j and cell c with rows R_cj (finite values only; NaN marks a missing value):
//   n_cj = |R_cj|,  ȳ_cj = Σ_{i∈R_cj} y_ij / n_cj,  s²_cj = Σ_{i∈R_cj} (y_ij − ȳ_cj)² / (n_cj − 1)
// (NaN for n_cj < 2). Algorithm: the rows are cut into fixed blocks of 4096 rows, so that one column
// of a block (32 KB) stays in the L1/L2 cache; the rows of a block are sorted by cell once (counting
// sort), and each column gets, per cell, the two-pass algorithm (sums, then squared deviations from the
// block-cell mean — accurate to rounding for any offset of the data, unlike Σy² − nȳ²). Block results
// (n, ȳ, M2) are merged by Chan, Golub & LeVeque's (1979, 1983) pairwise
// update  n = n_a + n_b,  δ = ȳ_b − ȳ_a,  ȳ = ȳ_a + δ n_b/n,  M2 = M2_a + M2_b + δ² n_a n_b / n.
// Each column is first shifted by its first finite value (so δ carries no large offset; the variance
// is shift-invariant). So the data are read from memory once. Blocks belong to fixed row chunks (core row_blocks) reduced
// in chunk order, so results are bit-identical for any thread count. Rows outside every cell are
// skipped. ±inf values count as missing in the moments and are reported (first row per column) so
// that callers can refuse them without another pass.
#include <vector>

#include <Eigen/Core>

namespace impactkit {

/// Per cell (rows) and column (columns): counts of finite values, means and variances (divisor n − 1);
/// `first_infinite[j]`: the first row (any row, in a cell or not) where column j is ±inf, −1 if none.
struct cell_moments_result {
  Eigen::MatrixXd count, mean, variance;
  std::vector<Eigen::Index> first_infinite;
};

/// `columns`: p pointers to n doubles each; `cell`: n codes in −1..n_cells−1 (−1: in no cell).
cell_moments_result cell_moments(const std::vector<const double*>& columns, const int* cell, Eigen::Index n, int n_cells);

/// The cells of two rounds × `n_groups` groups without a cell-code column: a row of group g
/// (`group[i]` in 0..n_groups−1) is in cell g when `baseline[i]`, in cell n_groups + g when
/// `endline[i]`, and in no cell when neither (a row in both rounds is refused).
cell_moments_result round_cell_moments(const std::vector<const double*>& columns, const int* group, int n_groups,
                                       const bool* baseline, const bool* endline, Eigen::Index n);

}  // namespace impactkit
