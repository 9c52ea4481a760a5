#pragma once
// Internal to the compiled library: resolving a welfare line on the data and its linearisation
// (formulas in include/impactkit/targeting/welfare_line.hpp).
#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Core>

#include <impactkit/targeting/welfare_line.hpp>

namespace impactkit {

/// A line resolved on the data: z, and for an estimated line Q_p and the kernel bandwidth h.
struct resolved_line {
  double z = std::numeric_limits<double>::quiet_NaN();
  double q = std::numeric_limits<double>::quiet_NaN();
  double h = std::numeric_limits<double>::quiet_NaN();
  bool estimated = false;
};

namespace detail::lines {

void check(const welfare_line& L, const char* fn);

/// #{k < 8 : c[k] < y} (Strict) or #{k < 8 : c[k] ≤ y}: a row's place among up to 8 sorted breakpoints,
/// with two-lane vector compares under GCC/Clang (vector extensions: a true lane is −1); pad unused
/// breakpoints with +∞ (Strict) or NaN (never ≤ y), so that the count never exceeds the used ones.
template <bool Strict>
inline int count_below8(double y, const double* c) {
#if defined(__GNUC__) || defined(__clang__)
  using v2d = double __attribute__((vector_size(16)));
  using v2l = long long __attribute__((vector_size(16)));
  const v2d yy = {y, y};
  v2l m;
  if constexpr (Strict)
    m = (v2d{c[0], c[1]} < yy) + (v2d{c[2], c[3]} < yy) + (v2d{c[4], c[5]} < yy) + (v2d{c[6], c[7]} < yy);
  else
    m = (v2d{c[0], c[1]} <= yy) + (v2d{c[2], c[3]} <= yy) + (v2d{c[4], c[5]} <= yy) + (v2d{c[6], c[7]} <= yy);
  return -static_cast<int>(m[0] + m[1]);
#else
  int n = 0;
  for (int k = 0; k < 8; ++k) n += Strict ? c[k] < y : c[k] <= y;
  return n;
#endif
}

/// φ(u/h)/h with φ the standard normal density. e^(−t) leaves the normal range past t ≈ 708, where libm
/// takes a slow path for each subnormal or underflowing result (most rows, far from the line, with the
/// bandwidths of large samples): 0 beyond t = 700, where the kernel is below 1e-304 of its peak, and the
/// exponential always of a clamped argument, so that the select needs no branch.
inline double gaussian_kernel(double u, double h) {
  const double t = 0.5 * (u / h) * (u / h);
  const double e = std::exp(-std::min(t, 700.0));
  return t > 700.0 ? 0.0 : 0.3989422804014327 * e / h;
}

struct weighted_value {
  double y, w;
};

/// Sample brackets for laeken's weighted quantiles on a large input (Floyd & Rivest 1975): a fixed
/// stratified sample of 2^16 rows (one per stratum of n/2^16 consecutive rows; its analysis rows: domain ≥ 0,
/// positive weight) gives, for each share p, a welfare interval [lo, hi] that holds Q_p with near
/// certainty (the sample's weighted quantiles at p ∓ δ, δ = 4·sqrt(p(1 − p)/s_eff) + 1/s); false when the
/// sample is too thin or the brackets are out of order. `expected_share` (optional): 2δ per bracket, the
/// share of the rows expected within it.
bool sample_brackets(Eigen::Index n, const double* welfare, const double* w, const int* domain, const std::vector<double>& probs,
                     std::vector<double>& lo, std::vector<double>& hi, std::vector<double>* expected_share = nullptr);

/// Q_p for each bracket k from the analysis rows within it (`inside[k]`, reordered), the weight of the
/// analysis rows below its lower end (`below[k]`) and the total weight; false (the caller computes the
/// quantiles in full) when a Q_p is not inside its bracket or would be the mean of the bracket's last value
/// and the next (an exact share tie there).
bool select_in_brackets(std::vector<std::vector<weighted_value>>& inside, const std::vector<long double>& below, long double total,
                        const std::vector<double>& probs, std::vector<double>& out);

enum class bracket_outcome { answered, missed, invalid };

/// laeken's weighted quantiles by sample brackets and one pass (the path of weighted_quantiles from 2^18
/// rows): `missed` when a bracket misses or an exact share tie falls at its edge (the caller then selects
/// in full), `invalid` when a row is not finite or has a negative weight (the caller names it).
bracket_outcome bracketed_quantiles(Eigen::Index n, const double* welfare, const double* w, const int* domain,
                                    const std::vector<double>& probs, std::vector<double>& out);

/// Rows of the analysis (domain ≥ 0, or all rows without domains) sorted by welfare (stable).
std::vector<Eigen::Index> welfare_order(Eigen::Index n, const double* welfare, const int* domain, const char* fn);

/// weighted_quantiles with the caller's function name in messages.
std::vector<double> weighted_quantiles(Eigen::Index n, const double* welfare, const double* w, const int* domain,
                                       const std::vector<double>& probs, const char* fn);

/// The line on the analysis rows (domain ≥ 0) with weights w (null: 1): z, and for an estimated line
/// Q_p and the bandwidth h = σ̂ N̂^(−1/5).
resolved_line resolve(const welfare_line& L, Eigen::Index n, const double* welfare, const double* w, const int* domain, const char* fn);

/// s·IF_u(Q_p) per unit from the unit totals of w·1{y ≤ Q} (`below`) and w (`all`) and the density total
/// Σ w φ_h(Q − y).
Eigen::VectorXd line_influence(const welfare_line& L, const Eigen::VectorXd& below, const Eigen::VectorXd& all, double density,
                               const char* fn);

}  // namespace detail::lines
}  // namespace impactkit
