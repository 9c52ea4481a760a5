#pragma once
// Count, mean and variance of several columns per cell (group × round) in two passes over the rows —
// the sufficient statistics of the iid indicator tables (ik.change, ik.disaggregate).
//
// For column j and cell c with rows R_c (finite values only; NaN marks a missing value):
//   n_cj = |R_cj|,  ȳ_cj = Σ_{i∈R_cj} y_ij / n_cj,  s²_cj = Σ_{i∈R_cj} (y_ij − ȳ_cj)² / (n_cj − 1)
// (NaN for n_cj < 2). Pass 1 accumulates (count, sum), pass 2 the squared deviations from the cell
// mean — the two-pass algorithm, accurate to rounding for any offset of the data (Chan, Golub & LeVeque
// 1983), unlike Σy² − nȳ². Both passes are the shared deterministic pass of core/unit_totals.hpp with the
// cells as its units: fixed row chunks reduced in chunk order, so results are bit-identical for any
// thread count. Rows with cell −1 belong to no cell.
#include <vector>

#include <Eigen/Core>

namespace impactkit {

/// Per cell (rows) and column (columns): counts of finite values, means and variances (divisor n − 1).
struct cell_moments_result {
  Eigen::MatrixXd count, mean, variance;
};

/// `columns`: p pointers to n doubles each; `cell`: n codes in −1..n_cells−1.
cell_moments_result cell_moments(const std::vector<const double*>& columns, const int* cell, Eigen::Index n, int n_cells);

}  // namespace impactkit
