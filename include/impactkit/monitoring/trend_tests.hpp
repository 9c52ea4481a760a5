#pragma once
// Monotonic trend tests for a series observed at equally spaced times: the Mann–Kendall test and its
// variants for serial correlation and seasonality, and the Theil–Sen slope with its interval.
//
// Mann–Kendall (Mann 1945; Kendall 1975; Gilbert 1987, §16.4):
//   S = Σ_{i<j} sign(x_j − x_i),   Var(S) = [n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18
//   (t_g: size of the g-th group of tied values), Z = (S − sign(S)) / √Var(S) (continuity correction),
//   two-sided p = 2 Φ(−|Z|), Kendall's τ = S / (n(n−1)/2).
//   S is computed in O(n log n): with Q the number of strictly discordant pairs (inversions, counted by
//   merge sort, Knight 1966) and T = Σ_g t_g(t_g−1)/2 the tied pairs, S = n(n−1)/2 − T − 2Q.
// Variants (conventions of pymannkendall 1.4, Hussain & Mahmud 2019, which the tests match):
//   hamed_rao   Var(S)·n/n*, n/n* = 1 + 2/(n(n−1)(n−2)) Σ_{k significant} (n−k)(n−k−1)(n−k−2) ρ_k,
//               ρ_k the lag-k autocorrelation of the ranks of x_t − t·β (β Sen's slope, t = 1..n), a lag
//               counted when |ρ_k| > z_{1−α/2}/√n (Hamed & Rao 1998, eq. 18); lags 1..n−1 unless `lag`.
//   yue_wang    Var(S)·(1 + 2 Σ_{k=1}^{n−1} (1 − k/n) ρ_k), ρ_k of x_t − t·β (Yue & Wang 2004, eq. 9).
//   prewhitening            test on x_t − r₁x_{t−1}, r₁ the lag-1 autocorrelation of x (Yue & Wang 2002).
//   trend_free_prewhitening test on y_t − r₁y_{t−1} + tβ, y_t = x_t − tβ (Yue et al. 2002).
//   seasonal    S and Var(S) summed over the `period` seasons x_s, x_{s+p}, … (Hirsch, Slack & Smith 1982);
//               τ = S / Σ_s n_s(n_s−1)/2; the slope is the median of the within-season slopes per cycle.
//   Autocorrelations ρ_k = Σ_{t} y_t y_{t+k} / Σ_t y_t² of the centred series are computed for all lags
//   at once by FFT (O(n log n)) when n is large, directly otherwise.
// Theil–Sen slope (Theil 1950; Sen 1968): β = median_{i<j} (x_j − x_i)/(j − i); intercept (Conover
//   1980) = median(x) − (n−1)/2 · β. Interval (Sen 1968, eq. 2.6, scipy.stats.theilslopes' convention):
//   with N = n(n−1)/2 slopes sorted ascending (0-based), σ = √Var(S), z = z_{1−α/2},
//   low = slope[round((N − zσ)/2) − 1], high = slope[round((N + zσ)/2)] (round half to even), clamped.
//   The slopes are never materialised: the k-th smallest slope is selected by counting the slopes ≤ t
//   (pairs i<j with x_j − tj ≤ x_i − ti: an inversion count, O(n log n)) inside a bracket narrowed by a
//   random sample of slopes and interpolation, then listing the few slopes left in the bracket as the
//   inversions between the orders of the lines x_k − tk at its two ends (Cole, Salowe, Steiger &
//   Szemerédi 1989; Dillencourt, Mount & Netanyahu 1992). Exact; memory O(n).
#include <cstdint>
#include <string>

#include <Eigen/Core>

namespace impactkit {

enum class mann_kendall_method { original, hamed_rao, yue_wang, prewhitening, trend_free_prewhitening, seasonal };

/// The method named as in the Python API ("original", "hamed_rao", ...); throws invalid_input otherwise.
mann_kendall_method parse_mann_kendall_method(const std::string& name);
const char* to_string(mann_kendall_method m);

struct mann_kendall_options {
  mann_kendall_method method = mann_kendall_method::original;
  Eigen::Index period = 0;   ///< seasonal: observations per cycle (required, ≥ 2)
  double alpha = 0.05;       ///< significance level for `trend` and for Hamed–Rao's lag screening
  Eigen::Index lag = -1;     ///< hamed_rao / yue_wang: use lags 1..lag only (−1: all lags 1..n−1)
};

struct mann_kendall_result {
  mann_kendall_method method = mann_kendall_method::original;
  Eigen::Index n = 0;          ///< observations tested (n − 1 after prewhitening)
  std::int64_t s = 0;          ///< Mann–Kendall S
  double var_s = 0;            ///< Var(S), with tie correction (and the variant's correction)
  double var_s_uncorrected = 0;///< Var(S) before the autocorrelation correction
  double z = 0, p_value = 1, tau = 0;
  double slope = 0, intercept = 0;  ///< Theil–Sen slope of the original series (seasonal: per cycle)
  double correction = 1;       ///< the variance factor n/n* (hamed_rao, yue_wang), 1 otherwise
  double lag1_autocorrelation = 0;  ///< r₁ used by prewhitening variants
  std::int64_t tied_groups = 0;///< groups of tied values (size ≥ 2) in the tested series
  int trend = 0;               ///< +1 increasing, −1 decreasing, 0 none (|z| ≤ z_{1−α/2})
  std::string describe() const;
};

/// Mann–Kendall trend test of x (finite values, n ≥ 3; seasonal: each season ≥ 2 values).
mann_kendall_result mann_kendall(const Eigen::Ref<const Eigen::VectorXd>& x, const mann_kendall_options& options = {});

struct sens_slope_options {
  Eigen::Index period = 0;  ///< > 0: seasonal slope (median of within-season slopes per cycle)
  double level = 0.95;      ///< confidence level of the interval
};

struct sens_slope_result {
  double slope = 0, intercept = 0, conf_low = 0, conf_high = 0;
  std::int64_t n_slopes = 0;      ///< N, the number of pairwise slopes
  double var_s = 0;               ///< Var(S) used by the interval
  std::int64_t rank_low = 0, rank_high = 0;  ///< 0-based ranks of the interval's end points among the slopes
  std::string describe() const;
};

/// Theil–Sen slope of x against t = 0, 1, …, n−1 (finite values, n ≥ 2) with Sen's interval.
sens_slope_result sens_slope(const Eigen::Ref<const Eigen::VectorXd>& x, const sens_slope_options& options = {});

/// The Mann–Kendall S of x and the number of tied pairs, in O(n log n) (exposed for tests and benchmarks).
struct kendall_s_counts {
  std::int64_t s = 0, tied_pairs = 0, tied_groups = 0;
  double tie_term = 0;  ///< Σ_g t_g(t_g−1)(2t_g+5)
};
kendall_s_counts kendall_s(const double* x, Eigen::Index n, Eigen::Index stride = 1);

}  // namespace impactkit
