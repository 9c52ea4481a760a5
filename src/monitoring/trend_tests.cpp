// Mann–Kendall tests and the Theil–Sen slope (formulas and sources: impactkit/monitoring/trend_tests.hpp).
#include <impactkit/monitoring/trend_tests.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numeric>
#include <vector>

#include <unsupported/Eigen/FFT>

#include <impactkit/core/distributions.hpp>
#include <impactkit/core/errors.hpp>

#include "pairwise_slopes.hpp"

namespace impactkit {
namespace {

using Index = Eigen::Index;
using detail::strided_series;

constexpr const char* kMK = "mann_kendall";

double pairs_of(Index n) { return 0.5 * static_cast<double>(n) * static_cast<double>(n - 1); }

// Var(S) of one series without ties correction applied yet: n(n−1)(2n+5).
double variance_base(Index n) {
  const double d = static_cast<double>(n);
  return d * (d - 1) * (2 * d + 5);
}

struct s_and_variance {
  std::int64_t s = 0, tied_groups = 0;
  double var_s = 0, pairs = 0;
};

s_and_variance s_statistic(const std::vector<strided_series>& series) {
  s_and_variance out;
  for (const auto& v : series) {
    const kendall_s_counts c = kendall_s(v.x, v.n, v.stride);
    out.s += c.s;
    out.tied_groups += c.tied_groups;
    out.var_s += (variance_base(v.n) - c.tie_term) / 18.0;
    out.pairs += pairs_of(v.n);
  }
  return out;
}

// Z with continuity correction (Gilbert 1987, eq. 16.5).
double z_score(std::int64_t s, double var_s) {
  if (s == 0) return 0.0;
  const double sd = std::sqrt(var_s);
  return s > 0 ? (static_cast<double>(s) - 1) / sd : (static_cast<double>(s) + 1) / sd;
}

double median_of(std::vector<double> v) {
  const std::size_t n = v.size(), h = n / 2;
  std::nth_element(v.begin(), v.begin() + h, v.end());
  const double upper = v[h];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + h);
  return (lower + upper) / 2;
}

// ρ_0..ρ_maxlag of y (centred here): Σ_t y_t y_{t+k} / Σ_t y_t² (pymannkendall's __acf). NaN when y is
// constant. FFT of the zero-padded series (Wiener–Khinchin) for long series, the direct sums otherwise.
Eigen::VectorXd autocorrelations(const Eigen::VectorXd& series, Index maxlag) {
  const Index n = series.size();
  const Eigen::VectorXd y = series.array() - series.mean();
  Eigen::VectorXd acov(maxlag + 1);
  if (static_cast<double>(n) * static_cast<double>(maxlag + 1) <= 4.0e6) {
    for (Index k = 0; k <= maxlag; ++k) acov(k) = y.head(n - k).dot(y.tail(n - k));
  } else {
    Index size = 1;
    while (size < 2 * n) size *= 2;
    std::vector<double> padded(static_cast<std::size_t>(size), 0.0);
    std::copy(y.data(), y.data() + n, padded.begin());
    Eigen::FFT<double> fft;
    std::vector<std::complex<double>> spectrum;
    fft.fwd(spectrum, padded);
    for (auto& c : spectrum) c = std::complex<double>(std::norm(c), 0.0);
    std::vector<double> circular;
    fft.inv(circular, spectrum);
    for (Index k = 0; k <= maxlag; ++k) acov(k) = circular[static_cast<std::size_t>(k)];
    acov(0) = y.squaredNorm();  // exact lag 0
  }
  return acov / acov(0);
}

// Average ranks (1-based) of v, ties sharing the mean of their ranks (scipy.stats.rankdata "average").
Eigen::VectorXd average_ranks(const Eigen::VectorXd& v) {
  const Index n = v.size();
  std::vector<Index> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), Index{0});
  std::sort(idx.begin(), idx.end(), [&](Index a, Index b) { return v(a) < v(b); });
  Eigen::VectorXd r(n);
  for (Index i = 0; i < n;) {
    Index j = i + 1;
    while (j < n && v(idx[j]) == v(idx[i])) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);
    for (Index k = i; k < j; ++k) r(idx[k]) = rank;
    i = j;
  }
  return r;
}

Eigen::VectorXd detrended(const Eigen::Ref<const Eigen::VectorXd>& x, double slope) {
  const Index n = x.size();
  return x - slope * Eigen::VectorXd::LinSpaced(n, 1.0, static_cast<double>(n));
}

std::vector<strided_series> seasons_of(const double* x, Index n, Index period) {
  std::vector<strided_series> out;
  for (Index s = 0; s < period; ++s) out.push_back({x + s, period, (n - s + period - 1) / period});
  return out;
}

struct slope_and_intercept {
  double slope = 0, intercept = 0;
};

// Theil–Sen slope and intercept; `extra_ranks` (e.g. an interval's ends) are selected in the same pass and
// their values returned in `extra_values`.
slope_and_intercept theil_sen(const Eigen::Ref<const Eigen::VectorXd>& x, Index period,
                              const std::vector<std::int64_t>& extra_ranks = {}, std::vector<double>* extra_values = nullptr) {
  const Index n = x.size();
  const std::vector<strided_series> series =
      period > 0 ? seasons_of(x.data(), n, period) : std::vector<strided_series>{{x.data(), 1, n}};
  std::int64_t N = 0;
  for (const auto& v : series) N += v.pairs();
  const std::int64_t k = (N - 1) / 2;
  std::vector<std::int64_t> ranks{k, N % 2 == 0 ? k + 1 : k};
  ranks.insert(ranks.end(), extra_ranks.begin(), extra_ranks.end());
  const std::vector<double> mid = detail::select_pairwise_slopes(series, ranks);
  if (extra_values) extra_values->assign(mid.begin() + 2, mid.end());
  slope_and_intercept out;
  out.slope = N % 2 == 0 ? (mid[0] + mid[1]) / 2 : mid[0];
  const double time_median = 0.5 * static_cast<double>(n - 1) / (period > 0 ? static_cast<double>(period) : 1.0);
  out.intercept = median_of(std::vector<double>(x.data(), x.data() + n)) - time_median * out.slope;
  return out;
}

void validate(const Eigen::Ref<const Eigen::VectorXd>& x, Index min_n, const char* fn) {
  detail::require(x.size() >= min_n, fn,
                  "x needs at least " + std::to_string(min_n) + " observations, got " + std::to_string(x.size()));
  detail::require_finite(x, fn, "x");
  // the slope search evaluates x_k − t·k with |t| up to about twice the largest step: keep it finite
  const Index n = x.size();
  const double steps = n > 1 ? (x.tail(n - 1) - x.head(n - 1)).cwiseAbs().maxCoeff() : 0.0;
  detail::require(std::isfinite(x.cwiseAbs().maxCoeff() + 4.0 * static_cast<double>(n) * steps), fn,
                  "x is too large in magnitude for exact slope comparisons (differences near the double range); "
                  "rescale x (e.g. divide by 1e6)");
}

}  // namespace

mann_kendall_method parse_mann_kendall_method(const std::string& name) {
  for (auto m : {mann_kendall_method::original, mann_kendall_method::hamed_rao, mann_kendall_method::yue_wang,
                 mann_kendall_method::prewhitening, mann_kendall_method::trend_free_prewhitening,
                 mann_kendall_method::seasonal})
    if (name == to_string(m)) return m;
  detail::throw_invalid(kMK, "method must be one of 'original', 'hamed_rao', 'yue_wang', 'prewhitening', "
                             "'trend_free_prewhitening', 'seasonal'; got '" + name + "'");
}

const char* to_string(mann_kendall_method m) {
  switch (m) {
    case mann_kendall_method::original: return "original";
    case mann_kendall_method::hamed_rao: return "hamed_rao";
    case mann_kendall_method::yue_wang: return "yue_wang";
    case mann_kendall_method::prewhitening: return "prewhitening";
    case mann_kendall_method::trend_free_prewhitening: return "trend_free_prewhitening";
    case mann_kendall_method::seasonal: return "seasonal";
  }
  return "?";
}

kendall_s_counts kendall_s(const double* x, Index n, Index stride) {
  std::vector<double> a(static_cast<std::size_t>(n)), tmp(static_cast<std::size_t>(n));
  for (Index k = 0; k < n; ++k) a[k] = x[k * stride];
  const std::int64_t discordant = detail::sort_counting_inversions(a.data(), tmp.data(), n);
  const detail::tie_summary ties = detail::ties_of_sorted(a.data(), n);
  kendall_s_counts c;
  const std::int64_t pairs = static_cast<std::int64_t>(n) * (n - 1) / 2;
  c.s = pairs - ties.tied_pairs - 2 * discordant;  // concordant − discordant
  c.tied_pairs = ties.tied_pairs;
  c.tied_groups = ties.groups;
  c.tie_term = ties.variance_term;
  return c;
}

mann_kendall_result mann_kendall(const Eigen::Ref<const Eigen::VectorXd>& x, const mann_kendall_options& o) {
  using M = mann_kendall_method;
  const bool seasonal = o.method == M::seasonal;
  detail::require(o.alpha > 0 && o.alpha < 1, kMK, "alpha must lie in (0, 1), got " + detail::format_g(o.alpha));
  if (seasonal) {
    detail::require(o.period >= 2, kMK, "method='seasonal' needs period >= 2 (observations per cycle)");
    detail::require(x.size() >= 2 * o.period, kMK,
                    "method='seasonal' needs at least two cycles (2*period = " + std::to_string(2 * o.period) +
                        " observations), got " + std::to_string(x.size()));
  } else {
    detail::require(o.period == 0, kMK, "period applies to method='seasonal' only");
  }
  detail::require(o.lag == -1 || (o.lag >= 1 && (o.method == M::hamed_rao || o.method == M::yue_wang)), kMK,
                  "lag (>= 1) applies to method='hamed_rao' or 'yue_wang' only");
  validate(x, 3, kMK);
  const Index n = x.size();
  mann_kendall_result r;
  r.method = o.method;
  const slope_and_intercept line = theil_sen(x, seasonal ? o.period : 0);
  r.slope = line.slope;
  r.intercept = line.intercept;

  // the tested series: x itself or its prewhitened version
  Eigen::VectorXd tested;
  if (o.method == M::prewhitening || o.method == M::trend_free_prewhitening) {
    const Eigen::VectorXd base = o.method == M::prewhitening ? Eigen::VectorXd(x) : detrended(x, r.slope);
    const double r1 = autocorrelations(base, 1)(1);
    r.lag1_autocorrelation = std::isfinite(r1) ? r1 : 0.0;  // constant series: nothing to remove
    tested = base.tail(n - 1) - r.lag1_autocorrelation * base.head(n - 1);
    if (o.method == M::trend_free_prewhitening)
      tested += r.slope * Eigen::VectorXd::LinSpaced(n - 1, 1.0, static_cast<double>(n - 1));
  } else {
    tested = x;
  }
  r.n = tested.size();
  const std::vector<strided_series> series =
      seasonal ? seasons_of(tested.data(), r.n, o.period) : std::vector<strided_series>{{tested.data(), 1, r.n}};
  const s_and_variance sv = s_statistic(series);
  r.s = sv.s;
  r.tied_groups = sv.tied_groups;
  r.var_s_uncorrected = sv.var_s;
  r.tau = static_cast<double>(sv.s) / sv.pairs;

  if (o.method == M::hamed_rao || o.method == M::yue_wang) {
    const Index lags = o.lag < 0 ? n - 1 : std::min<Index>(o.lag, n - 1);
    const Eigen::VectorXd y = detrended(x, r.slope);
    const Eigen::VectorXd rho = autocorrelations(o.method == M::hamed_rao ? average_ranks(y) : y, lags);
    double sum = 0;
    const double nd = static_cast<double>(n);
    if (rho.allFinite()) {
      if (o.method == M::hamed_rao) {  // Hamed & Rao (1998) eq. 18, significant lags only
        const double bound = t_quantile(1 - o.alpha / 2, std::numeric_limits<double>::infinity()) / std::sqrt(nd);
        for (Index k = 1; k <= lags; ++k)
          if (rho(k) > bound || rho(k) < -bound) {
            const double m = nd - static_cast<double>(k);
            sum += m * (m - 1) * (m - 2) * rho(k);
          }
        r.correction = 1 + 2 / (nd * (nd - 1) * (nd - 2)) * sum;
      } else {  // Yue & Wang (2004) eq. 9
        for (Index k = 1; k <= lags; ++k) sum += (1 - static_cast<double>(k) / nd) * rho(k);
        r.correction = 1 + 2 * sum;
      }
    }
  }
  r.var_s = r.var_s_uncorrected * r.correction;
  r.z = z_score(r.s, r.var_s);
  r.p_value = r.s == 0 ? 1.0 : two_sided_p_value(r.z, std::numeric_limits<double>::infinity());
  const double critical = t_quantile(1 - o.alpha / 2, std::numeric_limits<double>::infinity());
  r.trend = std::abs(r.z) > critical ? (r.z > 0 ? 1 : -1) : 0;
  return r;
}

sens_slope_result sens_slope(const Eigen::Ref<const Eigen::VectorXd>& x, const sens_slope_options& o) {
  constexpr const char* fn = "sens_slope";
  detail::require(o.level > 0 && o.level < 1, fn, "level must lie in (0, 1), got " + detail::format_g(o.level));
  detail::require(o.period >= 0 && o.period != 1, fn, "period must be >= 2 (observations per cycle), or 0 for none");
  validate(x, o.period > 0 ? 2 * o.period : 2, fn);
  const Index n = x.size();
  const std::vector<strided_series> series =
      o.period > 0 ? seasons_of(x.data(), n, o.period) : std::vector<strided_series>{{x.data(), 1, n}};
  sens_slope_result r;
  for (const auto& v : series) r.n_slopes += v.pairs();
  r.var_s = s_statistic(series).var_s;
  // Sen (1968) eq. 2.6 with scipy.stats.theilslopes' index rule (np.round: half to even)
  const double z = t_quantile(1 - (1 - o.level) / 2, std::numeric_limits<double>::infinity());
  const double N = static_cast<double>(r.n_slopes), half_width = z * std::sqrt(r.var_s);
  r.rank_high = std::min<std::int64_t>(static_cast<std::int64_t>(std::nearbyint((N + half_width) / 2)), r.n_slopes - 1);
  r.rank_low = std::max<std::int64_t>(static_cast<std::int64_t>(std::nearbyint((N - half_width) / 2)) - 1, 0);
  std::vector<double> ends;
  const slope_and_intercept line = theil_sen(x, o.period, {r.rank_low, r.rank_high}, &ends);
  r.slope = line.slope;
  r.intercept = line.intercept;
  r.conf_low = ends[0];
  r.conf_high = ends[1];
  return r;
}

std::string mann_kendall_result::describe() const {
  std::string out = std::string("Mann-Kendall trend test (") + to_string(method) + "), n = " + std::to_string(n) +
                    ": S = " + std::to_string(s) + ", Var(S) = " + detail::format_g(var_s) +
                    " (ties corrected), Z = (S - sign S)/sqrt(Var S) = " + detail::format_g(z) +
                    ", two-sided normal p = " + detail::format_g(p_value) + ", Kendall tau = S/(n(n-1)/2) = " +
                    detail::format_g(tau) + "; Theil-Sen slope " + detail::format_g(slope);
  if (method == mann_kendall_method::hamed_rao || method == mann_kendall_method::yue_wang)
    out += "; autocorrelation variance factor n/n* = " + detail::format_g(correction);
  if (method == mann_kendall_method::prewhitening || method == mann_kendall_method::trend_free_prewhitening)
    out += "; lag-1 autocorrelation removed r1 = " + detail::format_g(lag1_autocorrelation);
  return out;
}

std::string sens_slope_result::describe() const {
  return "Theil-Sen slope " + detail::format_g(slope) + " (median of " + std::to_string(n_slopes) +
         " pairwise slopes), intercept median(x) - median(t)*slope = " + detail::format_g(intercept) +
         "; Sen (1968) interval [" + detail::format_g(conf_low) + ", " + detail::format_g(conf_high) +
         "] = sorted slopes " + std::to_string(rank_low) + " and " + std::to_string(rank_high) + " (0-based)";
}

}  // namespace impactkit
