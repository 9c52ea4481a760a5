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

inline void mark_undefined(welfare_index_result& out) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int d : out.undefined) {
    out.estimate(d) = nan;
    out.vcov.row(d).setConstant(nan);
    out.vcov.col(d).setConstant(nan);
  }
}

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

/// The totals per (unit, domain) of ψ = w·u (u[i·K + k]; rows in no domain skipped): U × D·K, domain-major.
Eigen::MatrixXd influence_totals(const welfare_rows& r, Eigen::Index K, const std::vector<double>& u, const survey_design& design,
                                 const char* fn);

/// The concentration index of value column j per domain from rank totals (rank_totals.hpp), its influence
/// totals per unit, the domain mean μ_j of the value and the mean's influence totals (h − μ)/N.
struct concentration_parts {
  Eigen::VectorXd index, mean;     ///< D (NaN where N ≤ 0 or T = 0)
  Eigen::MatrixXd psi, mean_psi;   ///< U × D (zero columns where undefined)
};
concentration_parts concentration_of_totals(const rank_totals& t, Eigen::Index j);

/// Conventions of a design-based index (one parameter per domain), its vcov from the influence totals and
/// NaN for the undefined domains.
welfare_index_result finish_index(welfare_index_result out, const Eigen::MatrixXd& psi, const survey_design& design);

}  // namespace detail::ranks
}  // namespace impactkit
