#pragma once
// Mergeable accumulator of weighted totals per (sampling unit, domain) — the sufficient statistics of
// every estimator that is a smooth function of design-weighted totals θ = g(t_1, …, t_q) (ratios,
// domain means, targeting metrics, FGT indices, cost totals; DESIGN.md §5).
//
// The table holds, for each finest sampling unit u of a survey design and domain d, the totals
// t_{u,d,k} = Σ_{i∈u, domain_i=d} w_i x_ik of q per-row variables x_i. The estimate uses the grand
// totals t_{d,k} = Σ_u t_{u,d,k}; by linearisation (Woodruff 1971; Binder 1983) the influence totals of
// θ_d per unit are Σ_k ∂g/∂t_{d,k} · t_{u,d,k}, so the design variance needs nothing else. Tables from
// chunks of rows (or Dask partitions) add: update = add a row, merge = add two tables.
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "groups.hpp"
#include "../detail/row_blocks.hpp"
#include "../detail/threads.hpp"

namespace impactkit {

/// Totals per (unit, domain, variable): unit-major rows of D·q columns, column d·q + k.
struct unit_totals_table {
  Eigen::Index n_units = 0;
  int n_domains = 1;
  Eigen::Index n_variables = 0;
  Eigen::MatrixXd totals;  ///< U × (D·q)

  /// Grand totals per domain: D × q.
  Eigen::MatrixXd domain_totals() const {
    const Eigen::RowVectorXd s = totals.colwise().sum();
    Eigen::MatrixXd out(n_domains, n_variables);
    for (int d = 0; d < n_domains; ++d) out.row(d) = s.segment(static_cast<Eigen::Index>(d) * n_variables, n_variables);
    return out;
  }

  /// Adds another table over the same units, domains and variables (the merge of two accumulators).
  void merge(const unit_totals_table& other) {
    detail::require(other.n_units == n_units && other.n_domains == n_domains && other.n_variables == n_variables,
                    "unit_totals_table::merge", "the tables have different units, domains or variables");
    totals += other.totals;
  }
};

/// One pass over rows 0..n−1: `row(i, x)` writes the q weighted values w_i x_ik of row i into x and
/// returns its domain (0..n_domains−1), −1 for a row in no domain, or −2 for an invalid row (the pass
/// records the first such row and `on_invalid(i)` is then called — it should throw). Rows are split
/// into fixed chunks reduced in chunk order, so the table is bit-identical for any thread count.
template <class RowFn, class InvalidFn>
unit_totals_table accumulate_unit_totals(const group_codes& units, Eigen::Index n, int n_domains, Eigen::Index q, RowFn row,
                                         InvalidFn on_invalid) {
  const char* fn = "accumulate_unit_totals";
  detail::require(units.size() == n, fn, "the unit codes must have one entry per row");
  detail::require(n_domains >= 1 && q >= 1, fn, "needs at least one domain and one variable");
  const Eigen::Index U = units.n_groups, width = static_cast<Eigen::Index>(n_domains) * q;
  // Per-chunk tables only while they stay small next to the data (designs with few units); a design
  // whose units are rows gets one table and one thread.
  detail::row_chunks chunks = detail::make_row_chunks(n, 1 << 15, 32);
  if (static_cast<double>(U) * static_cast<double>(width) * static_cast<double>(chunks.count) > 3.2e7) chunks = detail::make_row_chunks(n, n, 1);
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(chunks.count));  // row-major use: width × U
  std::vector<Eigen::Index> first_bad(static_cast<std::size_t>(chunks.count), -1);
  const int* unit = units.code.data();
  [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * static_cast<double>(q));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd t = Eigen::MatrixXd::Zero(width, U);
    double* out = t.data();
    std::vector<double> x(static_cast<std::size_t>(q));
    for (Eigen::Index i = chunks.begin(c), e = chunks.end(c); i < e; ++i) {
      const int d = row(i, x.data());
      if (d == -1) continue;
      if (d < 0 || d >= n_domains) {
        first_bad[static_cast<std::size_t>(c)] = i;
        break;
      }
      double* cell = out + static_cast<Eigen::Index>(unit[i]) * width + static_cast<Eigen::Index>(d) * q;
      for (Eigen::Index k = 0; k < q; ++k) cell[k] += x[static_cast<std::size_t>(k)];
    }
    partial[static_cast<std::size_t>(c)] = std::move(t);
  }
  for (Eigen::Index bad : first_bad)
    if (bad >= 0) {
      on_invalid(bad);
      detail::throw_invalid(fn, "invalid row " + std::to_string(bad));
    }
  Eigen::MatrixXd total = std::move(partial[0]);
  for (std::size_t c = 1; c < partial.size(); ++c) total += partial[c];
  unit_totals_table out;
  out.n_units = U;
  out.n_domains = n_domains;
  out.n_variables = q;
  out.totals = total.transpose();
  return out;
}

}  // namespace impactkit
