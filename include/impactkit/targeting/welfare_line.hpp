#pragma once
// Welfare lines: the poverty line of a poverty index or of a target group, fixed (z given) or estimated
// from the data, z = s·Q_p with Q_p the weighted p-quantile of welfare (a relative line: s = 0.6, p =
// 0.5, Eurostat's at-risk-of-poverty threshold; the bottom share p: s = 1).
//
// Quantile rule (Eurostat; laeken::weightedQuantile): the first value, in welfare order, whose
// cumulative weight share reaches p; the mean of it and the next positive-weight value when the share
// equals p exactly; sums in long double as R.
// Linearisation of an estimated line (Deville 1999; Osier 2009, eqs. 20-22): the influence of Q_p is
//   IF_i(Q_p) = −w_i (1{y_i ≤ Q_p} − p) / Σ_j w_j φ_h(Q_p − y_j),   φ_h(u) = φ(u/h)/h,
// with φ the standard normal density and the bandwidth h = σ̂ N̂^(−1/5) (σ̂ the weighted standard
// deviation of welfare, N̂ = Σ w): R convey's h_fun and densfun. A statistic using the line gains
// ∂θ/∂z · s·IF(Q_p).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "../core/errors.hpp"

namespace impactkit {

enum class line_kind { none, fixed, quantile };

/// A poverty or eligibility line on welfare: below it is y < z (strict) or y ≤ z.
struct welfare_line {
  line_kind kind = line_kind::none;
  double value = std::numeric_limits<double>::quiet_NaN();  ///< fixed: z
  double quantile = 0.5;                                    ///< quantile: p of Q_p
  double share = 1.0;                                       ///< quantile: s in z = s·Q_p
  bool strict = true;

  static welfare_line fixed(double z, bool strict = true) { return {line_kind::fixed, z, 0.5, 1.0, strict}; }
  /// share × the weighted median (Eurostat: 0.6, strict).
  static welfare_line relative(double share = 0.6, bool strict = true) {
    return {line_kind::quantile, std::numeric_limits<double>::quiet_NaN(), 0.5, share, strict};
  }
  /// The poorest share p: y ≤ Q_p.
  static welfare_line bottom(double p) { return {line_kind::quantile, std::numeric_limits<double>::quiet_NaN(), p, 1.0, false}; }

  bool below(double y, double z) const { return strict ? y < z : y <= z; }
};

/// laeken's (Eurostat's) weighted quantiles of welfare at the increasing shares `probs` over the rows
/// with domain ≥ 0 (all rows when `domain` is null) and positive weight (`weights` null: 1): the smallest
/// value whose cumulative weight share, in welfare order, reaches p; on an exact tie (share == p at the
/// end of a run of equal values) the mean of it and the next larger value. Expected O(n log K) by
/// multi-selection, no sort.
std::vector<double> weighted_quantiles(Eigen::Index n, const double* welfare, const double* weights, const int* domain,
                                       const std::vector<double>& probs);

}  // namespace impactkit
