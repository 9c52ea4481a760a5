#pragma once
// Lorenz ordinates, income shares of quantile groups and the quintile share ratio, per domain on the
// full design, with design-based (Taylor-linearised) variance.
//
// With N = t(1), Y = t(y), Q_p the lower weighted p-quantile of welfare in the domain (the first value,
// in welfare order, whose cumulative weight reaches pN; Q_1 the largest value) and the partial total
// T_p = t(y·1{y < Q_p}) + (pN − t(1{y < Q_p}))·Q_p = N ∫_0^p Q(t) dt (the poorest share p of the
// weighted population, a tie run at the quantile split so the curve is the exact piecewise-linear one):
//   Lorenz ordinate          L(p)  = T_p / Y          (share of welfare held by the poorest share p)
//   generalised Lorenz       GL(p) = T_p / N          (Shorrocks 1983)
//   quantile-group share     S(a, b) = L(b) − L(a)
//   quintile share ratio     QSR = t(y·1{y > Q'_0.8}) / t(y·1{y ≤ Q'_0.2}) (Eurostat S80/S20, laeken::qsr:
//                            Q' laeken's quantile, welfare_line.hpp, and whole tie runs, as Eurostat)
// Linearisation (Kovačević & Binder 1997; Osier 2009, §4): the quantile's influence −(1{y ≤ Q} − p)/f(Q)
// enters T_p multiplied by Q f(Q), so the density cancels and
//   IF_k(T_p) = (y_k − Q_p)·1{y_k ≤ Q_p} + p·Q_p  (the same for either partial total),   IF(L) = (IF(T_p) − L·y_k)/Y,  IF(GL) = (IF(T_p) − GL)/N,
// and the quintile share ratio is the ratio of the top and bottom totals, linearised as a ratio.
#include <vector>

#include <Eigen/Core>

#include "../core/survey_design.hpp"
#include "poverty.hpp"

namespace impactkit {

/// L(p) (or GL(p) when `generalized`) at the increasing shares p ∈ (0, 1] per domain: estimate and vcov
/// are domain-major (entry d·P + j is domain d, share p_j). Y must be positive for L.
welfare_index_result lorenz_ordinates(const welfare_rows& r, const std::vector<double>& p, bool generalized, const survey_design& design);

/// Shares of welfare held by the K + 1 groups between the increasing cuts 0 < c_1 < … < c_K < 1 (the
/// bottom group first), domain-major (entry d·(K+1) + k).
welfare_index_result quantile_shares(const welfare_rows& r, const std::vector<double>& cuts, const survey_design& design);

/// t(y·1{y > Q_upper}) / t(y·1{y ≤ Q_lower}) per domain (Eurostat S80/S20 with lower 0.2, upper 0.8).
welfare_index_result quintile_share_ratio(const welfare_rows& r, double lower, double upper, const survey_design& design);

// The same indices from their unit totals (the part after the pass over the rows; a streamed Dask pass gives
// the same table). Per design unit and domain, with the domain's quantiles Q_j (D × K; a row of NaN: the
// domain has no positive weight), the totals of q = 2 + 4K variables, domain-major columns d·q + k:
//   0: w,  1: w·y,  and per share j at 2 + 4j: w·y·1{y < Q_j}, w·1{y < Q_j}, w·1{y = Q_j}, w·(y − Q_j)·1{y ≤ Q_j}.
// Q_j is the lower p_j-quantile for the Lorenz ordinates and quantile shares, laeken's for the QSR (Q_0 at
// `lower`, Q_1 at `upper`).
constexpr Eigen::Index partial_total_columns(Eigen::Index K) { return 2 + 4 * K; }

welfare_index_result lorenz_from_totals(const unit_totals_table& table, const Eigen::Ref<const Eigen::MatrixXd>& quantiles,
                                        const std::vector<double>& p, bool generalized, const survey_design& design);
welfare_index_result quantile_shares_from_totals(const unit_totals_table& table, const Eigen::Ref<const Eigen::MatrixXd>& quantiles,
                                                 const std::vector<double>& cuts, const survey_design& design);
welfare_index_result qsr_from_totals(const unit_totals_table& table, const Eigen::Ref<const Eigen::MatrixXd>& quantiles, double lower,
                                     double upper, const survey_design& design);

}  // namespace impactkit
