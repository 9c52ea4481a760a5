// Two-pass count / mean / variance per cell (formulas in impactkit/monitoring/cell_moments.hpp).
#include <impactkit/monitoring/cell_moments.hpp>

#include <cmath>
#include <string>

#include <impactkit/core/errors.hpp>
#include <impactkit/core/groups.hpp>
#include <impactkit/core/unit_totals.hpp>

namespace impactkit {

cell_moments_result cell_moments(const std::vector<const double*>& columns, const int* cell, Eigen::Index n, int n_cells) {
  const char* fn = "cell_moments";
  detail::require(n_cells >= 1, fn, "n_cells must be at least 1");
  detail::require(!columns.empty(), fn, "needs at least one column");
  const Eigen::Index p = static_cast<Eigen::Index>(columns.size());
  // the cells are the units of the shared pass; rows in no cell go to unit 0 and are skipped (domain −1)
  group_codes units;
  units.n_groups = n_cells;
  units.code.resize(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const int c = cell[i];
    if (c < -1 || c >= n_cells)
      detail::throw_invalid(fn, "cell code " + std::to_string(c) + " at row " + std::to_string(i) + " is outside -1.." +
                                    std::to_string(n_cells - 1));
    units.code[static_cast<std::size_t>(i)] = c < 0 ? 0 : c;
  }
  auto never = [](Eigen::Index) {};
  // pass 1: (1{finite}, y) per column
  const unit_totals_table sums = accumulate_unit_totals(units, n, 1, 2 * p, [&](Eigen::Index i, double* x) {
    for (Eigen::Index j = 0; j < p; ++j) {
      const double y = columns[static_cast<std::size_t>(j)][i];
      const bool ok = std::isfinite(y);
      x[2 * j] = ok ? 1.0 : 0.0;
      x[2 * j + 1] = ok ? y : 0.0;
    }
    return cell[i] < 0 ? -1 : 0;
  }, never);
  cell_moments_result r;
  r.count.resize(n_cells, p);
  r.mean.resize(n_cells, p);
  for (int c = 0; c < n_cells; ++c)
    for (Eigen::Index j = 0; j < p; ++j) {
      r.count(c, j) = sums.totals(c, 2 * j);
      r.mean(c, j) = r.count(c, j) > 0 ? sums.totals(c, 2 * j + 1) / r.count(c, j) : std::nan("");
    }
  // pass 2: squared deviations from the cell mean
  const Eigen::MatrixXd& mean = r.mean;
  const unit_totals_table ss = accumulate_unit_totals(units, n, 1, p, [&](Eigen::Index i, double* x) {
    const int c = cell[i];
    if (c < 0) return -1;
    for (Eigen::Index j = 0; j < p; ++j) {
      const double y = columns[static_cast<std::size_t>(j)][i];
      const double d = y - mean(c, j);
      x[j] = std::isfinite(y) ? d * d : 0.0;
    }
    return 0;
  }, never);
  r.variance.resize(n_cells, p);
  for (int c = 0; c < n_cells; ++c)
    for (Eigen::Index j = 0; j < p; ++j)
      r.variance(c, j) = r.count(c, j) > 1 ? ss.totals(c, j) / (r.count(c, j) - 1) : std::nan("");
  return r;
}

}  // namespace impactkit
