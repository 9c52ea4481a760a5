// Cost-effectiveness: ICER frontier, acceptability curve / EVPI, ICER intervals (formulas and sources in
// impactkit/sustainability/cost_effectiveness.hpp).
#include <impactkit/sustainability/cost_effectiveness.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include <impactkit/core/distributions.hpp>
#include <impactkit/core/errors.hpp>

namespace impactkit {
namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

// SplitMix64 (Steele, Lea & Flood 2014): a counter-based stream; state = hash(seed, replicate).
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A uniform index in [0, n) without bias: Lemire (2019) multiply-shift with rejection (a division only on
// the rare rejection path); the modulo form where 128-bit integers are unavailable.
Eigen::Index uniform_index(std::uint64_t& state, std::uint64_t n) {
#if defined(__SIZEOF_INT128__)
  unsigned __int128 m = static_cast<unsigned __int128>(splitmix64(state)) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(splitmix64(state)) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<Eigen::Index>(m >> 64);
#else
  const std::uint64_t limit = (~std::uint64_t{0} - n + 1) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t x = splitmix64(state);
    if (x >= limit) return static_cast<Eigen::Index>(x % n);
  }
#endif
}

void require_paired(const Eigen::Ref<const Eigen::VectorXd>& dc, const Eigen::Ref<const Eigen::VectorXd>& de, const char* fn) {
  detail::require(dc.size() == de.size(), fn,
                  "cost_difference and effect_difference must have the same length, got " + std::to_string(dc.size()) + " and " +
                      std::to_string(de.size()));
  detail::require(dc.size() >= 2, fn, "needs at least 2 paired rows (draws), got " + std::to_string(dc.size()));
  detail::require_finite(dc, fn, "cost_difference");
  detail::require_finite(de, fn, "effect_difference");
}

void require_level(double level, const char* fn) {
  detail::require(level > 0 && level < 1, fn, "level must be in (0, 1), got " + detail::format_g(level));
}

// Type 7 quantile (R's default, numpy's "linear") of sorted values.
double sorted_quantile(const std::vector<double>& v, double p) {
  const double h = (static_cast<double>(v.size()) - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

icer_frontier_result icer_frontier(const Eigen::Ref<const Eigen::VectorXd>& cost, const Eigen::Ref<const Eigen::VectorXd>& effect) {
  constexpr const char* fn = "icer_frontier";
  const Eigen::Index k = cost.size();
  detail::require(k >= 1, fn, "needs at least one strategy");
  detail::require(effect.size() == k, fn,
                  "cost and effect must have one value per strategy, got " + std::to_string(k) + " and " + std::to_string(effect.size()));
  detail::require_finite(cost, fn, "cost");
  detail::require_finite(effect, fn, "effect");

  icer_frontier_result r;
  r.status.assign(static_cast<std::size_t>(k), dominance::none);
  r.incremental_cost = Eigen::VectorXd::Constant(k, nan_value);
  r.incremental_effect = Eigen::VectorXd::Constant(k, nan_value);
  r.icer = Eigen::VectorXd::Constant(k, nan_value);

  // 1. cost ascending, effect descending; stable, so exact ties keep the input order.
  std::vector<Eigen::Index> order(static_cast<std::size_t>(k));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
    return cost(a) < cost(b) || (cost(a) == cost(b) && effect(a) > effect(b));
  });
  // 2. strong dominance: a later (costlier or equal) strategy no more effective than an earlier one.
  std::vector<Eigen::Index> nd;
  double best_effect = -std::numeric_limits<double>::infinity();
  for (Eigen::Index j : order) {
    if (effect(j) <= best_effect) {
      r.status[static_cast<std::size_t>(j)] = dominance::strong;
    } else {
      best_effect = effect(j);
      nd.push_back(j);
    }
  }
  // 3. extended dominance: drop every strategy whose ICER exceeds the next one's, until ICERs rise.
  auto icer_between = [&](Eigen::Index a, Eigen::Index b) { return (cost(b) - cost(a)) / (effect(b) - effect(a)); };
  for (bool changed = true; changed && nd.size() > 2;) {
    changed = false;
    std::vector<Eigen::Index> kept{nd[0]};
    for (std::size_t i = 1; i + 1 < nd.size(); ++i) {
      if (icer_between(nd[i - 1], nd[i]) > icer_between(nd[i], nd[i + 1])) {
        r.status[static_cast<std::size_t>(nd[i])] = dominance::extended;
        changed = true;
      } else {
        kept.push_back(nd[i]);
      }
    }
    kept.push_back(nd.back());
    nd.swap(kept);
  }
  // 4. incremental values along the frontier.
  for (std::size_t i = 1; i < nd.size(); ++i) {
    const Eigen::Index a = nd[i - 1], b = nd[i];
    r.incremental_cost(b) = cost(b) - cost(a);
    r.incremental_effect(b) = effect(b) - effect(a);
    r.icer(b) = r.incremental_cost(b) / r.incremental_effect(b);
  }
  r.frontier = nd;
  return r;
}

std::string icer_frontier_result::describe() const {
  std::ostringstream s;
  const auto count = [&](dominance d) { return std::count(status.begin(), status.end(), d); };
  s << "ICER frontier over " << status.size() << " strategies: " << frontier.size() << " on the frontier, " << count(dominance::strong)
    << " strongly dominated (costlier, no more effective), " << count(dominance::extended)
    << " extendedly dominated (ICER above the next frontier strategy's); ICER against the previous frontier strategy.";
  return s.str();
}

acceptability_result cost_effectiveness_acceptability(const Eigen::Ref<const Eigen::MatrixXd>& cost,
                                                      const Eigen::Ref<const Eigen::MatrixXd>& effect,
                                                      const Eigen::Ref<const Eigen::VectorXd>& lambdas) {
  constexpr const char* fn = "cost_effectiveness_acceptability";
  const Eigen::Index n = cost.rows(), k = cost.cols(), m = lambdas.size();
  detail::require(n >= 1 && k >= 1, fn, "needs at least one draw and one strategy");
  detail::require(effect.rows() == n && effect.cols() == k, fn,
                  "cost and effect must both be draws x strategies of the same shape, got " + std::to_string(n) + "x" +
                      std::to_string(k) + " and " + std::to_string(effect.rows()) + "x" + std::to_string(effect.cols()));
  detail::require_finite(cost, fn, "cost");
  detail::require_finite(effect, fn, "effect");
  detail::require_finite(lambdas, fn, "lambdas (willingness to pay)");

  acceptability_result r;
  r.probability_best = Eigen::MatrixXd::Zero(m, k);
  r.expected_nmb = Eigen::MatrixXd::Zero(m, k);
  r.optimal = Eigen::VectorXi::Zero(m);
  r.evpi = Eigen::VectorXd::Zero(m);
  const Eigen::VectorXd mean_cost = cost.colwise().mean().transpose(), mean_effect = effect.colwise().mean().transpose();
  // Each λ is independent and its sums run over draws in a fixed order: identical for any thread count.
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index l = 0; l < m; ++l) {
    const double lambda = lambdas(l);
    Eigen::VectorXd wins = Eigen::VectorXd::Zero(k);
    double sum_max = 0;
    // Blocks of draws, strategies outer and draws inner (contiguous columns); block sums in a fixed order.
    constexpr Eigen::Index block = 2048;
    Eigen::ArrayXd best_nmb(block);
    Eigen::ArrayXi best(block);
    for (Eigen::Index i0 = 0; i0 < n; i0 += block) {
      const Eigen::Index len = std::min(block, n - i0);
      best_nmb.head(len) = lambda * effect.col(0).segment(i0, len).array() - cost.col(0).segment(i0, len).array();
      best.head(len).setZero();
      for (Eigen::Index j = 1; j < k; ++j) {
        const double* c = cost.col(j).data() + i0;
        const double* e = effect.col(j).data() + i0;
        for (Eigen::Index i = 0; i < len; ++i) {
          const double v = lambda * e[i] - c[i];
          if (v > best_nmb(i)) { best_nmb(i) = v; best(i) = static_cast<int>(j); }
        }
      }
      for (Eigen::Index i = 0; i < len; ++i) wins(best(i)) += 1;
      sum_max += best_nmb.head(len).sum();
    }
    const Eigen::VectorXd enmb = lambda * mean_effect - mean_cost;
    Eigen::Index opt = 0;
    for (Eigen::Index j = 1; j < k; ++j)
      if (enmb(j) > enmb(opt)) opt = j;
    r.probability_best.row(l) = wins.transpose() / static_cast<double>(n);
    r.expected_nmb.row(l) = enmb.transpose();
    r.optimal(l) = static_cast<int>(opt);
    r.evpi(l) = std::max(0.0, sum_max / static_cast<double>(n) - enmb(opt));
  }
  return r;
}

icer_interval_result icer_bootstrap(const Eigen::Ref<const Eigen::VectorXd>& cost_difference,
                                    const Eigen::Ref<const Eigen::VectorXd>& effect_difference, Eigen::Index replicates,
                                    std::uint64_t seed, double level) {
  constexpr const char* fn = "icer_bootstrap";
  require_paired(cost_difference, effect_difference, fn);
  require_level(level, fn);
  detail::require(replicates >= 2, fn, "replicates must be at least 2, got " + std::to_string(replicates));
  const Eigen::Index n = cost_difference.size();
  icer_interval_result r;
  r.method = "paired bootstrap (percentile)";
  r.replicates = replicates;
  r.mean_cost_difference = cost_difference.mean();
  r.mean_effect_difference = effect_difference.mean();
  r.icer = r.mean_effect_difference != 0 ? r.mean_cost_difference / r.mean_effect_difference : nan_value;

  // (ΔC, ΔE) side by side: one cache line per resampled row.
  Eigen::Matrix<double, 2, Eigen::Dynamic> pairs(2, n);
  pairs.row(0) = cost_difference.transpose();
  pairs.row(1) = effect_difference.transpose();
  std::vector<double> ratio(static_cast<std::size_t>(replicates));
#pragma omp parallel for schedule(static)
  for (Eigen::Index b = 0; b < replicates; ++b) {
    std::uint64_t key = seed ^ 0xD1B54A32D192ED03ULL;
    std::uint64_t state = splitmix64(key) ^ static_cast<std::uint64_t>(b) * 0x9E3779B97F4A7C15ULL;
    state = splitmix64(state);
    double sc = 0, se = 0;
    const double* p = pairs.data();
    for (Eigen::Index i = 0; i < n; ++i) {
      const Eigen::Index row = uniform_index(state, static_cast<std::uint64_t>(n));
      sc += p[2 * row];
      se += p[2 * row + 1];
    }
    ratio[static_cast<std::size_t>(b)] = se != 0 ? sc / se : nan_value;
  }
  std::vector<double> finite;
  finite.reserve(ratio.size());
  for (double v : ratio)
    if (std::isfinite(v)) finite.push_back(v);
  r.undefined_replicates = replicates - static_cast<Eigen::Index>(finite.size());
  if (finite.size() < 2) {
    r.conf_low = r.conf_high = nan_value;
    r.bounded = false;
    return r;
  }
  std::sort(finite.begin(), finite.end());
  r.conf_low = sorted_quantile(finite, (1 - level) / 2);
  r.conf_high = sorted_quantile(finite, (1 + level) / 2);
  return r;
}

icer_interval_result icer_fieller(const Eigen::Ref<const Eigen::VectorXd>& cost_difference,
                                  const Eigen::Ref<const Eigen::VectorXd>& effect_difference, double level) {
  constexpr const char* fn = "icer_fieller";
  require_paired(cost_difference, effect_difference, fn);
  require_level(level, fn);
  const auto n = static_cast<double>(cost_difference.size());
  icer_interval_result r;
  r.method = "Fieller";
  const double c = cost_difference.mean(), e = effect_difference.mean();
  r.mean_cost_difference = c;
  r.mean_effect_difference = e;
  r.icer = e != 0 ? c / e : nan_value;
  const Eigen::ArrayXd dc = cost_difference.array() - c, de = effect_difference.array() - e;
  const double vc = dc.square().sum() / (n - 1) / n, ve = de.square().sum() / (n - 1) / n, vce = (dc * de).sum() / (n - 1) / n;
  const double z = t_quantile(0.5 + level / 2, std::numeric_limits<double>::infinity());
  const double z2 = z * z;
  const double a = e * e - z2 * ve, b = c * e - z2 * vce, cc = c * c - z2 * vc;
  const double disc = b * b - a * cc;
  r.bounded = a > 0 && disc >= 0;
  if (!r.bounded) {
    r.conf_low = r.conf_high = nan_value;
    return r;
  }
  const double root = std::sqrt(disc);
  r.conf_low = (b - root) / a;
  r.conf_high = (b + root) / a;
  return r;
}

std::string icer_interval_result::describe() const {
  std::ostringstream s;
  s << "ICER " << icer << " = mean cost difference " << mean_cost_difference << " / mean effect difference " << mean_effect_difference
    << "; interval by " << method;
  if (method == "Fieller") s << " (variances of the means: sample covariance / n; unbounded when the effect difference is not significant)";
  else s << " over " << replicates << " replicates of the paired rows (" << undefined_replicates << " with zero effect difference dropped)";
  return s.str();
}

}  // namespace impactkit
