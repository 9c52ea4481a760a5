#pragma once
// Private to impactkit_core: survival rows tabulated by distinct exit time without sorting the rows.
//
// Every exit time gets the rank of its value among the m distinct exit times: when all times are whole
// numbers spanning at most 2n + 4096 values (days, months, rounds), by a lookup table over that range;
// otherwise by an open-addressing hash of the value, after which only the m distinct values are sorted.
// Sums per (distinct time, cell) then take one pass over the rows, and risk sets follow by cumulative sums
// over the m times (at risk at t_j = entered before t_j − exited before t_j), so a Kaplan–Meier curve or a
// log-rank test on n rows costs O(n + m log m) instead of a comparison sort of n rows.
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include <impactkit/sustainability/survival.hpp>

namespace impactkit::detail {

/// The distinct values of the used rows' times, ascending, and each row's rank among them: rank(t_i, i).
struct time_ranks {
  std::vector<double> values;  ///< m distinct values, ascending
  /// whole numbers in a short range: the rank of t is table[t − lo]; otherwise per row (n; meaningless
  /// for excluded rows)
  bool by_table = false;
  double lo = 0;
  std::vector<std::uint32_t> table, row_rank;
  std::uint32_t operator()(double t, Eigen::Index i) const {
    return by_table ? table[static_cast<std::size_t>(t - lo)] : row_rank[static_cast<std::size_t>(i)];
  }
};

/// Ranks of t[0..n) among their distinct values; rows with cell[i] < 0 (cell non-null) are left out.
/// The times must be finite (checked by the callers).
time_ranks rank_times(const double* t, Eigen::Index n, const int* cell = nullptr);

/// Per distinct exit time t_j (ascending) and cell c, at index j·n_cells + c: the exit weight of events and of
/// censored rows, whether rows exit (with weights, their number: zero-weight rows count), and, with entry times, the weight of
/// rows entering in [t_{j−1}, t_j) (so entered before t_j = Σ_{k ≤ j}); `total` is each cell's weight.
struct exit_table {
  int n_cells = 1;
  std::vector<double> time;
  std::vector<double> events, censored, entering;
  std::vector<std::uint32_t> exits;
  std::vector<long double> total;
  bool has_entry = false;
};

/// The table of r (cells: r.group, 0..r.n_groups−1, rows with a negative code left out). Returns false when
/// m · n_groups would exceed max(4n, 2^16) cells (many groups and many distinct times) unless `force`; the
/// caller then tabulates groups one at a time (gather_rows).
bool tabulate_exits(const survival_rows& r, exit_table& out, bool force);

/// Columns of the rows `rows` of r copied contiguously; group codes kept or dropped (one cell).
struct gathered_rows {
  std::vector<double> time, event, weights, entry;
  std::vector<int> group;
  survival_rows rows;
};
void gather_rows(const survival_rows& r, const std::vector<Eigen::Index>& rows, bool keep_groups, gathered_rows& out);

}  // namespace impactkit::detail
