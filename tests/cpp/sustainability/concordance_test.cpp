// Harrell's concordance from C++: the O(n log n) sweep equals the O(n²) pair definition (weights, strata,
// (entry, exit] rows, ties on time and score), the influence has the infinitesimal-jackknife property
// (the derivative of C in a row's weight, checked by a finite difference), and bad rows are refused.
// Python tests compare with R survival's concordance() (tests/python/test_survival_checks.py).
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/sustainability/concordance.hpp>

using namespace impactkit;

namespace {

struct sample {
  std::vector<double> t, e, entry, w, x;
  std::vector<int> s;
};

sample make_sample(int n, unsigned seed, bool with_entry) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> tt(1, 9), xx(0, 4), ww(1, 3), ss(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  sample d;
  for (int i = 0; i < n; ++i) {
    d.t.push_back(tt(g));
    d.e.push_back(u(g) < 0.6 ? 1 : 0);
    d.entry.push_back(with_entry && u(g) < 0.5 ? d.t.back() - 1 - (u(g) < 0.5 ? 1 : 0) : -1);
    d.w.push_back(ww(g));
    d.x.push_back(xx(g));
    d.s.push_back(ss(g));
  }
  return d;
}

concordance_counts brute_force(const sample& d, bool weights, bool strata, bool entry) {
  concordance_counts c;
  const std::size_t n = d.t.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (d.e[i] != 1) continue;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i || (strata && d.s[i] != d.s[j])) continue;
      const double ww = weights ? d.w[i] * d.w[j] : 1.0;
      const bool at_risk = (!entry || d.entry[j] < d.t[i]);
      if (at_risk && (d.t[j] > d.t[i] || (d.t[j] == d.t[i] && d.e[j] == 0))) {
        (d.x[i] > d.x[j] ? c.concordant : d.x[i] < d.x[j] ? c.discordant : c.tied_x) += ww;
      } else if (d.t[j] == d.t[i] && d.e[j] == 1 && j > i) {
        (d.x[i] == d.x[j] ? c.tied_xy : c.tied_y) += ww;
      }
    }
  }
  return c;
}

cox_rows rows_of(const sample& d, bool weights, bool strata, bool entry) {
  cox_rows r;
  r.n = static_cast<Eigen::Index>(d.t.size());
  r.time = d.t.data();
  r.event = d.e.data();
  r.weights = weights ? d.w.data() : nullptr;
  r.entry = entry ? d.entry.data() : nullptr;
  r.strata = strata ? d.s.data() : nullptr;
  r.n_strata = strata ? 2 : 1;
  return r;
}

}  // namespace

TEST(Concordance, SweepEqualsPairDefinition) {
  for (unsigned seed = 1; seed <= 6; ++seed)
    for (int opt = 0; opt < 8; ++opt) {
      const bool weights = opt & 1, strata = opt & 2, entry = opt & 4;
      const sample d = make_sample(70, seed, entry);
      const concordance_result res = concordance(rows_of(d, weights, strata, entry), d.x.data());
      const concordance_counts want = brute_force(d, weights, strata, entry);
      // tied.y with entry: R counts tied event pairs regardless of the risk set; the brute force does too
      EXPECT_NEAR(res.counts.concordant, want.concordant, 1e-9) << seed << " " << opt;
      EXPECT_NEAR(res.counts.discordant, want.discordant, 1e-9) << seed << " " << opt;
      EXPECT_NEAR(res.counts.tied_x, want.tied_x, 1e-9) << seed << " " << opt;
      EXPECT_NEAR(res.counts.tied_y, want.tied_y, 1e-9) << seed << " " << opt;
      EXPECT_NEAR(res.counts.tied_xy, want.tied_xy, 1e-9) << seed << " " << opt;
      const double np = want.concordant + want.discordant + want.tied_x;
      EXPECT_NEAR(res.concordance, (want.concordant + want.tied_x / 2) / np, 1e-12);
    }
}

TEST(Concordance, InfluenceIsTheWeightDerivative) {
  // C is a ratio of sums of w_i w_j over pairs; its influence for row i is w_i ∂C/∂w_i
  sample d = make_sample(50, 11, true);
  const cox_rows r = rows_of(d, true, true, true);
  const concordance_result res = concordance(r, d.x.data());
  for (int i : {0, 7, 23, 49}) {
    const double h = 1e-6, wi = d.w[static_cast<std::size_t>(i)];
    d.w[static_cast<std::size_t>(i)] = wi * (1 + h);
    const double up = concordance(rows_of(d, true, true, true), d.x.data()).concordance;
    d.w[static_cast<std::size_t>(i)] = wi * (1 - h);
    const double down = concordance(rows_of(d, true, true, true), d.x.data()).concordance;
    d.w[static_cast<std::size_t>(i)] = wi;
    EXPECT_NEAR(res.influence(i), (up - down) / (2 * h), 1e-7) << i;
  }
}

TEST(Concordance, RefusesBadRows) {
  const std::vector<double> t = {1, 2, 3}, e = {1, 0, 1}, x = {0.2, NAN, 0.1}, bad_e = {1, 2, 0};
  cox_rows r;
  r.n = 3;
  r.time = t.data();
  r.event = e.data();
  EXPECT_THROW(concordance(r, x.data()), invalid_input);
  r.event = bad_e.data();
  const std::vector<double> ok = {0.2, 0.3, 0.1};
  EXPECT_THROW(concordance(r, ok.data()), invalid_input);
  r.event = e.data();
  // the event at t = 1 (score 0.2) beats row 3 (0.1) and loses to row 2 (0.3); the last event has no later row
  const concordance_result c = concordance(r, ok.data());
  EXPECT_EQ(c.counts.concordant, 1.0);
  EXPECT_EQ(c.counts.discordant, 1.0);
  EXPECT_NEAR(c.concordance, 0.5, 1e-15);
}
