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

/// A line resolved on the data: z, and for an estimated line Q_p and the kernel bandwidth h.
struct resolved_line {
  double z = std::numeric_limits<double>::quiet_NaN();
  double q = std::numeric_limits<double>::quiet_NaN();
  double h = std::numeric_limits<double>::quiet_NaN();
  bool estimated = false;
};

namespace detail::lines {

inline void check(const welfare_line& L, const char* fn) {
  require(L.kind != line_kind::fixed || std::isfinite(L.value), fn, "the poverty line must be a finite number");
  require(L.kind != line_kind::quantile || (L.quantile > 0 && L.quantile < 1 && std::isfinite(L.share) && L.share > 0), fn,
          "an estimated line needs a quantile p in (0, 1) and a positive share s");
}

/// φ(u/h)/h with φ the standard normal density.
inline double gaussian_kernel(double u, double h) { return 0.3989422804014327 * std::exp(-0.5 * (u / h) * (u / h)) / h; }

/// Rows of the analysis (domain ≥ 0, or all rows without domains) sorted by welfare (stable).
inline std::vector<Eigen::Index> welfare_order(Eigen::Index n, const double* welfare, const int* domain, const char* fn) {
  std::vector<Eigen::Index> order;
  order.reserve(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    if (domain && domain[i] < 0) continue;
    if (!std::isfinite(welfare[i])) throw_invalid(fn, "welfare is missing or infinite at row " + std::to_string(i));
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [welfare](Eigen::Index a, Eigen::Index b) { return welfare[a] < welfare[b]; });
  return order;
}

/// The line on the rows of `order` (welfare order) with weights w (null: 1); see the header comment.
inline resolved_line resolve(const welfare_line& L, const double* welfare, const double* w, const std::vector<Eigen::Index>& order,
                             const char* fn) {
  resolved_line out;
  if (L.kind == line_kind::fixed) out.z = L.value;
  if (L.kind != line_kind::quantile) return out;
  // the spread for the bandwidth on welfare scaled by its largest magnitude (no overflow at 1e300)
  double scale = 0;
  for (Eigen::Index i : order) scale = std::max(scale, std::fabs(welfare[i]));
  if (scale == 0) scale = 1;
  long double total = 0, sum_y = 0;
  for (Eigen::Index i : order) {
    const double wi = w ? w[i] : 1.0;
    if (!(std::isfinite(wi) && wi >= 0)) throw_invalid(fn, "weights must be finite and non-negative at row " + std::to_string(i));
    total += wi;
    sum_y += static_cast<long double>(wi) * (welfare[i] / scale);
  }
  require(total > 0, fn, "the analysis rows have no positive weight: the line cannot be estimated");
  const double N = static_cast<double>(total), mean = static_cast<double>(sum_y / total);
  long double ss = 0, cum = 0;
  bool found = false;
  const std::size_t m = order.size();
  for (std::size_t k = 0; k < m; ++k) {
    const Eigen::Index i = order[k];
    const double wi = w ? w[i] : 1.0;
    const double dev = welfare[i] / scale - mean;
    ss += static_cast<long double>(wi) * dev * dev;
    if (found || wi == 0) continue;
    cum += wi;
    const double share = static_cast<double>(cum / total);
    if (share >= L.quantile) {
      out.q = welfare[i];
      if (share == L.quantile)
        for (std::size_t j = k + 1; j < m; ++j)
          if ((w ? w[order[j]] : 1.0) > 0) {
            out.q = 0.5 * (welfare[i] + welfare[order[j]]);
            break;
          }
      found = true;
    }
  }
  out.z = L.share * out.q;
  out.h = scale * std::sqrt(static_cast<double>(ss / total)) / std::pow(N, 0.2);
  require(out.h > 0, fn, "welfare is constant over the analysis rows: an estimated line has no density to linearise");
  out.estimated = true;
  return out;
}

/// s·IF_u(Q_p) per unit from the unit totals of w·1{y ≤ Q} (`below`) and w (`all`) and the density total
/// Σ w φ_h(Q − y).
inline Eigen::VectorXd line_influence(const welfare_line& L, const Eigen::VectorXd& below, const Eigen::VectorXd& all, double density,
                                      const char* fn) {
  require(density > 0, fn, "the welfare density at the estimated quantile is zero: the line cannot be linearised");
  return -L.share * (below - L.quantile * all) / density;
}

}  // namespace detail::lines
}  // namespace impactkit
