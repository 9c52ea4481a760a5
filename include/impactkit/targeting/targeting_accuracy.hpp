#pragma once
// Targeting accuracy of a transfer programme: did it reach the target group (the poor, the bottom
// quintile, an eligibility rule), how much leaked, and how benefits fall across the welfare
// distribution — each metric a smooth function of design-weighted totals, with its design-based
// (Taylor-linearised) variance from the shared survey machinery (DESIGN.md §2, core/unit_totals.hpp).
//
// With T the target indicator, B the beneficiary indicator, b the benefit amount (b = B when no
// amounts are given: then the amount-based metrics count beneficiaries), y welfare, z the poverty line,
// w the sampling weight and t(x) = Σ w x the estimated population total, per domain:
//   target_share                    t(T)/t(1)
//   programme_coverage              t(B)/t(1)
//   coverage                        t(TB)/t(T)                   (of the target group)
//   exclusion_error                 t(T(1−B))/t(T) = 1 − coverage   (Cornia & Stewart 1993 "E-mistake")
//   inclusion_error_beneficiaries   t((1−T)B)/t(B)               leakage rate (Grosh et al. 2022, ch. 7)
//   inclusion_error_nontarget       t((1−T)B)/t(1−T)             false-positive rate (Alatas et al. 2012)
//   targeting_differential          t(TB)/t(T) − t((1−T)B)/t(1−T)   (Ravallion 2000, 2009)
//   cgh                             [t(Tb)/t(b)] / [t(T)/t(1)]   (Coady, Grosh & Hoddinott 2004)
//   leakage_amount                  t((1−T)b)                    benefit paid outside the target group
//   undercoverage                   t(T(1−B))                    target population not reached
//   adequacy                        t(b)/t(By)                   benefit as a share of beneficiaries' welfare
//   poverty_gap_reduction_per_budget  [t((z−y)₊) − t((z−y−b)₊)] / t(b)   money-metric gap closed per unit
//                                   of budget (Grosh et al. 2022, ch. 7)
// and per welfare group g (quantile groups of y, held fixed in the variance as ADePT and ASPIRE do):
//   beneficiary_incidence  t(B·1g)/t(B),  benefit_incidence  t(b·1g)/t(b),  group_coverage  t(B·1g)/t(1g).
// The target group is a column, or welfare below a line (welfare_line.hpp): fixed, or estimated as
// s·Q_p (a relative line, the bottom share), whose estimation enters the variance by linearisation: each
// total t(vT) of the target group gains ∂t(vT)/∂z · s·IF(Q_p), with ∂t(vT)/∂z = Σ w v φ_h(z − y) and
// ∂t((z−y)₊)/∂z = t(T) exactly. The line itself is reported as the metric `line` with this variance.
// A metric whose denominator total is 0 in a domain (no target members, no beneficiaries) is NaN there,
// with NaN variance, and is reported in `undefined`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "../core/errors.hpp"
#include "../core/influence_vcov.hpp"
#include "../core/survey_design.hpp"
#include "../core/unit_totals.hpp"
#include "../core/variance_conventions.hpp"
#include "welfare_line.hpp"

namespace impactkit {

/// The rows of a targeting analysis (borrowed columns, n rows each; null where optional and absent).
struct targeting_rows {
  Eigen::Index n = 0;
  const double* weights = nullptr;      ///< sampling weights ≥ 0 (null: 1)
  const double* target = nullptr;       ///< 1: in the target group, 0: not (when no line is given)
  welfare_line line;                    ///< target group = welfare below this line (kind none: the target column)
  const double* beneficiary = nullptr;  ///< 1: receives the programme, 0: not (required)
  const double* benefit = nullptr;      ///< amount received, 0 for non-beneficiaries (optional)
  const double* welfare = nullptr;      ///< welfare (needed with a poverty line, adequacy)
  const int* domain = nullptr;          ///< domain code 0..n_domains−1 (by= groups), −1: in no domain; null: one domain
  int n_domains = 1;
  int n_welfare_groups = 0;            ///< incidence by this many welfare groups (0: none)
  const int* welfare_group = nullptr;   ///< the group 0..n_welfare_groups−1 of each row; null: quantile groups of
                                        ///< equal population share, cut at the weighted quantiles j/K of welfare
                                        ///< (laeken rule; a row at a cut joins the lower group), held fixed in the variance.
                                        ///< From 2^18 rows the cuts take one pass of their own over welfare and
                                        ///< weights (sample brackets, weighted_quantiles) before the pass of the metrics
  /// Candidate cuts for those quantile groups (K − 1 values, e.g. the welfare_cuts of an earlier result on
  /// the same rows): the pass over the rows also sums the weight at and below each candidate, and they are
  /// used when those sums confirm each is the weighted quantile (laeken's rule, with a share margin of
  /// 1e-12); otherwise the cuts are computed and the rows read again. Saves the quantile pass of a
  /// repeated estimate; the result is the same either way. Null: computed.
  const std::vector<double>* welfare_cuts_hint = nullptr;
};

/// One targeting metric: its name, the denominator in words, and its welfare group (−1: none).
struct targeting_metric_info {
  std::string name, denominator;
  int welfare_group = -1;
};

struct targeting_result {
  std::vector<targeting_metric_info> metrics;  ///< M metrics, in the column order of `estimate`
  Eigen::MatrixXd estimate;                    ///< D × M
  Eigen::MatrixXd vcov;                        ///< (D·M)², index d·M + m; NaN rows/columns for undefined metrics
  variance_conventions conventions;
  bool amounts = false;                        ///< amount metrics use benefit amounts (false: beneficiary counts)
  std::vector<std::pair<int, int>> undefined;  ///< (domain, metric) with a zero denominator
  double line = std::numeric_limits<double>::quiet_NaN();       ///< the line z (line rules)
  double bandwidth = std::numeric_limits<double>::quiet_NaN();  ///< kernel bandwidth h (estimated lines)
  std::vector<double> welfare_cuts;         ///< the K − 1 cuts of the quantile groups (when computed here)
  bool welfare_cuts_from_hint = false;      ///< the cuts are the confirmed welfare_cuts_hint (no quantile pass)
  bool line_variance_out_of_range = false;  ///< the line's variance (welfare units²) overflows or underflows a double: NaN
  unit_totals_table table;                     ///< the accumulator: totals per unit and domain (a one-stage design
                                               ///< whose units are the rows: one row, the domain totals)
};

/// Targeting metrics per domain with their joint design-based variance (Taylor linearisation on the
/// survey design `design`, whose rows are the rows of `r`).
targeting_result targeting_accuracy(const targeting_rows& r, const survey_design& design);

/// The same metrics under a replicate-weight design: each column of `replicate_weights` (n × R, full
/// weights per replicate) re-evaluates every metric, an estimated line included, with the welfare groups
/// held at their full-sample cuts; V from replicate_vcov (R svrepdesign conventions).
targeting_result targeting_accuracy(const targeting_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& replicate_weights,
                                    const replicate_spec& spec);

}  // namespace impactkit
