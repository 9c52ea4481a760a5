#pragma once
// Internal to the compiled library: checks shared by the poverty and inequality indices.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/errors.hpp>
#include <impactkit/core/survey_design.hpp>
#include <impactkit/core/unit_totals.hpp>
#include <impactkit/targeting/poverty.hpp>
#include <impactkit/targeting/rank_totals.hpp>

#include "welfare_line_detail.hpp"

namespace impactkit {

namespace detail {

/// Whether the variance of p per-row outputs streams each row's influence into the variance
/// (survey_design::variance_of_row_classes) rather than summing a table of unit totals: when the design's
/// units are its rows (no design given, or strata over single rows) and its per-stratum sums,
/// #strata × (p + 1), are small beside the n rows. One condition for every welfare index.
inline bool streams_row_influence(const survey_design& design, Eigen::Index n, Eigen::Index p) {
  return design.units_are_rows() &&
         static_cast<double>(design.n_strata()) * static_cast<double>(p + 1) <= 0.25 * static_cast<double>(n);
}

}  // namespace detail

namespace detail::poverty {

namespace lines = detail::lines;
enum base : int { one, term, slope, below_q, kernel_q, n_base };

inline void check(const welfare_rows& r, const char* fn) {
  require(r.n >= 1 && r.welfare != nullptr, fn, "needs the welfare column and at least one row");
  require(r.n_domains >= 1, fn, "needs at least one domain");
}

[[noreturn]] inline void explain_invalid(const welfare_rows& r, Eigen::Index i, const char* fn, poverty_index index) {
  const std::string at = " at row " + std::to_string(i);
  if (r.weights && !(std::isfinite(r.weights[i]) && r.weights[i] >= 0))
    throw_invalid(fn, "weights must be finite and non-negative; " + format_g(r.weights[i]) + at);
  if (!std::isfinite(r.welfare[i])) throw_invalid(fn, "welfare is missing or infinite" + at);
  if (r.domain && r.domain[i] >= r.n_domains) throw_invalid(fn, "domain code out of range" + at);
  if (index == poverty_index::watts)
    throw_invalid(fn, "the Watts index needs positive welfare below the line; welfare is " + format_g(r.welfare[i]) + at);
  throw_invalid(fn, "invalid row " + std::to_string(i));
}

inline void check_index(poverty_index index, double alpha, const welfare_line& line, const char* fn) {
  lines::check(line, fn);
  require(line.kind != line_kind::none, fn, "needs a poverty line");
  require(index != poverty_index::fgt || (std::isfinite(alpha) && alpha >= 0), fn, "alpha must be a finite number ≥ 0");
}

inline void check_line_value(const resolved_line& L, const char* fn) {
  require(L.z > 0, fn, "the poverty line must be positive (the indices divide by it); it is " + format_g(L.z));
}

/// The per-row variables of an FGT / Watts index (poverty.cpp), shared with the streaming accumulator.
int row_variables(poverty_index index, double alpha, const welfare_line& line, const resolved_line& L, double w, double y, int d,
                  int n_domains, double* x);
/// The index, its influence totals and design variance from the accumulated table (poverty.cpp).
welfare_index_result finish(const welfare_line& line, const resolved_line& L, const unit_totals_table& table, const survey_design& design,
                            const char* fn);

}  // namespace detail::poverty

/// Rank-based indices (Gini, concentration, Lorenz, Sen): rows per domain in welfare order and the
/// linearised values u (ψ_i = w_i u_i) they share. Bodies in rank_sums.cpp.
namespace detail::ranks {

/// Rows of each domain (domain ≥ 0; all rows without domains) in increasing order of `key` (stable),
/// after checking weights (finite, ≥ 0), key (finite), `values` if given (finite) and domain codes.
std::vector<std::vector<Eigen::Index>> sorted_domain_rows(const welfare_rows& r, const double* key, const double* values,
                                                          const char* fn);

/// R convey's Gini (inequality.hpp, gini_convention::convey) of y over `rows` (sorted by y) with its
/// linearised values written to u[i] for i in rows. NaN (u untouched) when N ≤ 0 or T = 0. (The Eurostat
/// Gini and the concentration indices come from rank totals: rank_totals.hpp.)
double convey_gini_on_rows(const std::vector<Eigen::Index>& rows, const double* y, const double* w, std::vector<double>& u);

/// laeken's weighted p-quantile of key over `rows` (sorted by key; rows with zero weight skipped), p in
/// (0, 1]; Q_1 is the largest value. `total`: Σ w over rows (> 0).
double quantile_on_sorted(const std::vector<Eigen::Index>& rows, const double* key, const double* w, long double total, double p);

/// The design variance (D × D) of the per-domain influence ψ_i = w_i·u_i of the rows of each domain (rows in
/// no domain: 0): from the unit totals, or streamed row by row when the design's units are its rows.
Eigen::MatrixXd variance_of_row_influence(const welfare_rows& r, const std::vector<double>& u, const survey_design& design,
                                          const char* fn);

/// Per-row rank variables of J value columns ranked by r.welfare (rank_totals.hpp): the domain centres
/// c_dj, and per row the mid-point cumulative weight midN and Σ w e of its tie run midE_j.
struct rank_rows {
  Eigen::MatrixXd centre;       ///< D × J
  std::vector<double> midN;     ///< n
  std::vector<double> midE;     ///< n × J, row-major
  std::vector<const double*> values;
  /// The q = 1 + 3J weighted rank variables of row i in domain d (rank_totals.hpp's column layout).
  void variables(const welfare_rows& r, Eigen::Index i, int d, double* x) const {
    const double w = r.weights ? r.weights[i] : 1.0, m = midN[static_cast<std::size_t>(i)];
    const Eigen::Index J = centre.cols();
    x[0] = w;
    for (Eigen::Index j = 0; j < J; ++j) {
      const double e = values[static_cast<std::size_t>(j)][i] - centre(d, j), mE = midE[static_cast<std::size_t>(i * J + j)];
      x[1 + 3 * j] = w * (m * e - mE);
      x[2 + 3 * j] = w * m * e;
      x[3 + 3 * j] = w * e;
    }
  }
};
rank_rows rank_rows_of(const welfare_rows& r, const std::vector<std::vector<Eigen::Index>>& sorted_rows,
                       const std::vector<const double*>& values, const char* fn);

}  // namespace detail::ranks

/// An index that is a smooth function of per-domain totals, linearised: its estimates and the gradient that
/// turns unit totals of the q per-row variables into influence totals (Woodruff 1971; Binder 1983):
///   ψ_{u,(d,k)} = Σ_c G(d·K + k, c)·t_{u,d,c} + line(d·K + k)·Σ_{d'} Σ_c L(d', c)·t_{u,d',c},
/// the second term for an estimated poverty line (whose influence spans every domain). The formula of an
/// index (its *_gradient function) is written once; a streamed table of unit totals (the Dask path,
/// *_from_totals) and the in-memory rows (influence_of_rows, without a U × D·q table) both apply it.
namespace detail::linearised {

struct index_gradient {
  Eigen::Index per_domain = 1;   ///< K
  Eigen::VectorXd estimate;      ///< D·K (NaN where undefined)
  Eigen::MatrixXd gradient;      ///< D·K × q (zero rows where undefined)
  std::vector<int> undefined;    ///< undefined domains
  Eigen::VectorXd line;          ///< D·K weights of the line term; empty: none
  Eigen::MatrixXd line_gradient; ///< D × q
};

/// Column index and coefficient of the non-zero gradient entries of each output (a row touches few columns).
using sparse_rows = std::vector<std::vector<std::pair<Eigen::Index, double>>>;
inline sparse_rows nonzeros(const Eigen::MatrixXd& G) {
  sparse_rows out(static_cast<std::size_t>(G.rows()));
  for (Eigen::Index a = 0; a < G.rows(); ++a)
    for (Eigen::Index c = 0; c < G.cols(); ++c)
      if (G(a, c) != 0) out[static_cast<std::size_t>(a)].emplace_back(c, G(a, c));
  return out;
}

/// ψ (U × D·K) from a table of unit totals (U × D·q); `line_influence` (if given) receives the line term's
/// per-unit influence Σ_{d'} L(d')·t_{u,d'}.
Eigen::MatrixXd influence_of_table(const index_gradient& g, const unit_totals_table& t, Eigen::VectorXd* line_influence = nullptr);

/// Per-domain totals (D × q) of the per-row variables variables(i, d, x) over the rows in a domain.
template <class VariablesFn>
Eigen::MatrixXd domain_totals_of(const welfare_rows& r, Eigen::Index q, VariablesFn variables) {
  Eigen::MatrixXd tot = Eigen::MatrixXd::Zero(r.n_domains, q);
  std::vector<double> x(static_cast<std::size_t>(q));
  for (Eigen::Index i = 0; i < r.n; ++i) {
    const int d = r.domain ? r.domain[i] : 0;
    if (d < 0) continue;
    variables(i, d, x.data());
    for (Eigen::Index c = 0; c < q; ++c) tot(d, c) += x[static_cast<std::size_t>(c)];
  }
  return tot;
}

/// ψ (U × D·K) from the rows: each row's variables variables(i, d, x) go through the gradient before the sum
/// per unit, so the table has D·K (+ 1 for a line term) columns, not D·q.
template <class VariablesFn>
Eigen::MatrixXd influence_of_rows(const index_gradient& g, const welfare_rows& r, Eigen::Index q, const survey_design& design,
                                  VariablesFn variables, const char* fn, Eigen::VectorXd* line_influence = nullptr) {
  const Eigen::Index D = r.n_domains, K = g.per_domain;
  const bool has_line = g.line.size() > 0;
  const sparse_rows G = nonzeros(g.gradient), L = has_line ? nonzeros(g.line_gradient) : sparse_rows();
  const Eigen::Index width = K + (has_line ? 1 : 0);
  const unit_totals_table t = accumulate_unit_totals(
      design.units(), r.n, r.n_domains, width,
      [&](Eigen::Index i, double* out) {
        const int d = r.domain ? r.domain[i] : 0;
        if (d < 0) return -1;
        thread_local std::vector<double> x;
        x.resize(static_cast<std::size_t>(q));
        variables(i, d, x.data());
        for (Eigen::Index k = 0; k < K; ++k) {
          double v = 0;
          for (const auto& [c, a] : G[static_cast<std::size_t>(d * K + k)]) v += a * x[static_cast<std::size_t>(c)];
          out[k] = v;
        }
        if (has_line) {
          double v = 0;
          for (const auto& [c, a] : L[static_cast<std::size_t>(d)]) v += a * x[static_cast<std::size_t>(c)];
          out[K] = v;
        }
        return d;
      },
      [fn](Eigen::Index i) { throw_invalid(fn, "invalid row " + std::to_string(i)); });
  Eigen::MatrixXd psi(t.n_units, D * K);
  Eigen::VectorXd line = Eigen::VectorXd::Zero(t.n_units);
  for (Eigen::Index d = 0; d < D; ++d) {
    psi.middleCols(d * K, K) = t.totals.middleCols(d * width, K);
    if (has_line) line += t.totals.col(d * width + K);
  }
  if (has_line) psi += line * g.line.transpose();
  if (line_influence) *line_influence = line;
  return psi;
}

/// The result: estimates, the design variance of ψ, conventions, NaN blocks (K per domain) where undefined;
/// with the line term's influence, its design variance as line_variance (when a normal number).
welfare_index_result finish(const index_gradient& g, const Eigen::MatrixXd& psi, const survey_design& design,
                            const Eigen::VectorXd* line_influence = nullptr);
/// The same with the variance of ψ already computed (D·K × D·K), no line variance.
welfare_index_result finish_with_vcov(const index_gradient& g, Eigen::MatrixXd vcov, const survey_design& design);

/// The result of an index from its per-row variables variables(i, d, x) (q values) on a design whose units
/// are its rows: each row's ψ_i = M_d x_i, M_d = G_d + line·L_d for its domain d, is streamed into the
/// variance (survey_design::variance_of_row_classes), and so is the line's L_d x_i: no table of n units.
/// The rows must have been checked (a row in no domain, or out of range, counts for nothing).
template <class VariablesFn>
welfare_index_result finish_streamed_rows(const index_gradient& g, const welfare_rows& r, Eigen::Index q, const survey_design& design,
                                          VariablesFn variables) {
  const Eigen::Index D = r.n_domains, K = g.per_domain, p = D * K;
  const bool has_line = g.line.size() > 0;
  auto row = [&](Eigen::Index i, double* x) -> Eigen::Index {
    const int d = r.domain ? r.domain[i] : 0;
    if (d < 0 || d >= r.n_domains) return -1;
    variables(i, d, x);
    return d;
  };
  std::vector<Eigen::MatrixXd> M(static_cast<std::size_t>(D), Eigen::MatrixXd::Zero(p, q));
  for (Eigen::Index d = 0; d < D; ++d) {
    Eigen::MatrixXd& m = M[static_cast<std::size_t>(d)];
    m.middleRows(d * K, K) = g.gradient.middleRows(d * K, K);
    if (has_line) m.noalias() += g.line * g.line_gradient.row(d);
  }
  welfare_index_result out = finish_with_vcov(g, design.variance_of_row_classes(M, static_cast<int>(q), row), design);
  if (has_line) {
    std::vector<Eigen::MatrixXd> L(static_cast<std::size_t>(D));
    for (Eigen::Index d = 0; d < D; ++d) L[static_cast<std::size_t>(d)] = g.line_gradient.row(d);
    const double v = design.variance_of_row_classes(L, static_cast<int>(q), row)(0, 0);
    if (std::isnormal(v)) out.line_variance = v;
  }
  return out;
}

/// The result of an index from its per-row variables: streamed row by row when the design allows it
/// (streams_row_influence), else from the unit totals of ψ_i (influence_of_rows), with the line's variance.
template <class VariablesFn>
welfare_index_result finish_rows(const index_gradient& g, const welfare_rows& r, Eigen::Index q, const survey_design& design,
                                 VariablesFn variables, const char* fn) {
  if (streams_row_influence(design, r.n, r.n_domains * g.per_domain)) return finish_streamed_rows(g, r, q, design, variables);
  Eigen::VectorXd line;
  const Eigen::MatrixXd psi = influence_of_rows(g, r, q, design, variables, fn, &line);
  return finish(g, psi, design, g.line.size() > 0 ? &line : nullptr);
}

}  // namespace detail::linearised

namespace detail::ranks {

/// The linearised indices of rank totals (formulas in rank_totals.hpp): from the per-domain totals (D × q)
/// and centres. The concentration index C_j of value j with the gradient of its influence, and the mean μ_j.
struct concentration_part {
  Eigen::VectorXd index, mean;           ///< D (NaN where N ≤ 0 or T = 0)
  Eigen::MatrixXd gradient, mean_gradient;  ///< D × q: ψ(C_j) and ψ(μ_j) per unit of domain d
};
concentration_part concentration_part_of(const Eigen::MatrixXd& totals, const Eigen::MatrixXd& centre, Eigen::Index j);
linearised::index_gradient concentration_gradient(const Eigen::MatrixXd& totals, const Eigen::MatrixXd& centre, concentration_kind kind,
                                                  double lower, double upper);
linearised::index_gradient kakwani_gradient(const Eigen::MatrixXd& totals, const Eigen::MatrixXd& centre);
linearised::index_gradient sen_gradient(const Eigen::MatrixXd& totals, const Eigen::MatrixXd& centre, const sen_line_terms& line);

/// A rank index in memory: the rank variables of `values` ranked by r.welfare (rows of each domain in key
/// order), their domain totals through `gradient_of(totals, centre)` (the index's formula, as *_from_totals),
/// and the influence summed per unit from the rows.
template <class GradientFn>
welfare_index_result rank_index_in_memory(const welfare_rows& r, const std::vector<std::vector<Eigen::Index>>& sorted_rows,
                                          const std::vector<const double*>& values, const survey_design& design, const char* fn,
                                          GradientFn gradient_of) {
  const rank_rows rows = rank_rows_of(r, sorted_rows, values, fn);
  const Eigen::Index q = rank_total_columns(rows.centre.cols());
  const auto variables = [&](Eigen::Index i, int d, double* x) { rows.variables(r, i, d, x); };
  const linearised::index_gradient g = gradient_of(linearised::domain_totals_of(r, q, variables), rows.centre);
  return linearised::finish_rows(g, r, q, design, variables, fn);
}

}  // namespace detail::ranks
}  // namespace impactkit
