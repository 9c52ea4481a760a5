// Kaplan–Meier and log-rank through each way the rows are tabulated by distinct exit time (whole-number
// times by a lookup table, other times by hashing, and one group or stratum at a time when groups × times
// is large), each against the definitions evaluated by brute force over the rows:
//   at risk n_g(t) = Σ w 1{g, entry < t ≤ time}, events d_g(t) = Σ w 1{g, time = t, event},
//   S(t) = Π (1 − d/n), σ² = Σ d/(n(n − d)); log-rank O − E and V as in survival.hpp. Tolerance 1e-12.
#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <impactkit/sustainability/survival.hpp>

using namespace impactkit;

namespace {

struct data {
  std::vector<double> time, event, weights, entry;
  std::vector<int> group;
};

// kind 0: whole days; 1: fractional times with ties (and a −0 beside +0); 2: continuous times
data make(int n, int G, int kind, bool weighted, bool entries, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  data d;
  for (int i = 0; i < n; ++i) {
    double t = kind == 0 ? std::floor(1 + 40 * u(rng)) : kind == 1 ? std::floor(1 + 30 * u(rng)) / 4 - 1 : 10 * u(rng);
    if (kind == 1 && i % 17 == 0) t = (i % 2) ? -0.0 : 0.0;
    d.time.push_back(t);
    d.event.push_back(u(rng) < 0.7 ? 1 : 0);
    d.weights.push_back(weighted ? 0.5 + u(rng) : 1.0);
    d.entry.push_back(t - 1 - 3 * u(rng) * u(rng));
    d.group.push_back(static_cast<int>(u(rng) * G) - (i % 23 == 0 ? G + 1 : 0));  // some rows excluded (< 0)
  }
  if (!entries) d.entry.clear();
  return d;
}

survival_rows rows_of(const data& d, int G, bool weighted) {
  survival_rows r;
  r.n = static_cast<Eigen::Index>(d.time.size());
  r.time = d.time.data();
  r.event = d.event.data();
  r.weights = weighted ? d.weights.data() : nullptr;
  r.entry = d.entry.empty() ? nullptr : d.entry.data();
  r.group = d.group.data();
  r.n_groups = G;
  return r;
}

void expect_curve_is_definition(const data& d, const km_curve& c, int g, bool weighted) {
  std::vector<double> times;
  for (std::size_t i = 0; i < d.time.size(); ++i)
    if (d.group[i] == g) times.push_back(d.time[i]);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  ASSERT_EQ(c.time.size(), times.size());
  double S = 1, v = 0;
  for (std::size_t j = 0; j < times.size(); ++j) {
    double n = 0, ev = 0, cens = 0;
    for (std::size_t i = 0; i < d.time.size(); ++i) {
      if (d.group[i] != g) continue;
      const double w = weighted ? d.weights[i] : 1.0;
      if ((d.entry.empty() || d.entry[i] < times[j]) && times[j] <= d.time[i]) n += w;
      if (d.time[i] == times[j]) (d.event[i] == 1 ? ev : cens) += w;
    }
    if (ev > 0 && n > 0) {
      S *= 1 - ev / n;
      v += n - ev > 1e-9 * n ? ev / (n * (n - ev)) : INFINITY;  // n = d up to rounding: σ is infinite or huge
    }
    EXPECT_EQ(c.time[j], times[j]);
    EXPECT_NEAR(c.at_risk[j], n, 1e-12 * n);
    EXPECT_NEAR(c.events[j], ev, 1e-12 * (1 + ev));
    EXPECT_NEAR(c.censored[j], cens, 1e-12 * (1 + cens));
    EXPECT_NEAR(c.survival[j], S, 1e-12);
    if (std::isinf(v)) EXPECT_GT(c.log_std_error[j], 1e4);
    else EXPECT_NEAR(c.log_std_error[j], std::sqrt(v), 1e-12 * (1 + std::sqrt(v)));
  }
}

}  // namespace

TEST(ExitTable, KaplanMeierEqualsDefinitionOnEveryPath) {
  // (kind, groups): lookup table; hashing; continuous times with 40 groups (m·G > 2^16: group by group)
  for (const auto& [kind, G, n] : std::vector<std::tuple<int, int, int>>{{0, 3, 600}, {1, 2, 500}, {2, 40, 2000}})
    for (bool weighted : {false, true})
      for (bool entries : {false, true}) {
        SCOPED_TRACE(testing::Message() << "kind " << kind << " weighted " << weighted << " entries " << entries);
        const data d = make(n, G, kind, weighted, entries, 7u + static_cast<unsigned>(kind));
        const std::vector<km_curve> curves = kaplan_meier(rows_of(d, G, weighted));
        ASSERT_EQ(curves.size(), static_cast<std::size_t>(G));
        for (int g = 0; g < G; ++g) expect_curve_is_definition(d, curves[static_cast<std::size_t>(g)], g, weighted);
      }
}

TEST(ExitTable, LogrankEqualsDefinitionOnEveryPath) {
  for (const auto& [kind, G, n, S] : std::vector<std::tuple<int, int, int, int>>{{0, 3, 600, 2}, {1, 2, 500, 1}, {2, 40, 2000, 2}})
    for (bool entries : {false, true}) {
      SCOPED_TRACE(testing::Message() << "kind " << kind << " entries " << entries);
      const data d = make(n, G, kind, false, entries, 11u + static_cast<unsigned>(kind));
      std::vector<int> strata(d.time.size());
      for (std::size_t i = 0; i < strata.size(); ++i) strata[i] = static_cast<int>(i % static_cast<std::size_t>(S));
      const logrank_result res = logrank_test(rows_of(d, G, false), strata.data(), S, 0.0);
      Eigen::VectorXd O = Eigen::VectorXd::Zero(G), E = O;
      Eigen::MatrixXd V = Eigen::MatrixXd::Zero(G, G);
      for (int s = 0; s < S; ++s) {
        std::vector<double> times;
        for (std::size_t i = 0; i < d.time.size(); ++i)
          if (strata[i] == s && d.group[i] >= 0) times.push_back(d.time[i]);
        std::sort(times.begin(), times.end());
        times.erase(std::unique(times.begin(), times.end()), times.end());
        for (double t : times) {
          Eigen::VectorXd ng = Eigen::VectorXd::Zero(G), dg = ng;
          for (std::size_t i = 0; i < d.time.size(); ++i) {
            if (strata[i] != s || d.group[i] < 0) continue;
            if ((d.entry.empty() || d.entry[i] < t) && t <= d.time[i]) ng(d.group[i]) += 1;
            if (d.time[i] == t && d.event[i] == 1) dg(d.group[i]) += 1;
          }
          const double nn = ng.sum(), dd = dg.sum();
          if (!(dd > 0 && nn > 0)) continue;
          O += dg;
          E += (dd / nn) * ng;
          if (nn > 1) {
            const Eigen::VectorXd sh = ng / nn;
            V += dd * (nn - dd) / (nn - 1) * (Eigen::MatrixXd(sh.asDiagonal()) - sh * sh.transpose());
          }
        }
      }
      EXPECT_LT((res.observed - O).cwiseAbs().maxCoeff(), 1e-9);
      EXPECT_LT((res.expected - E).cwiseAbs().maxCoeff(), 1e-9);
      EXPECT_LT((res.variance - V).cwiseAbs().maxCoeff(), 1e-9);
      const Eigen::VectorXd u = (O - E).head(G - 1);
      const double chi2 = u.dot(V.topLeftCorner(G - 1, G - 1).ldlt().solve(u));
      EXPECT_NEAR(res.statistic, chi2, 1e-9 * chi2);
    }
}
