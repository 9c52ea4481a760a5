// Cost-effectiveness from C++: the ICER frontier of the VA HERC worked example (dampack's test of
// calculate_icers: UC, B, D, E on the frontier, C extendedly and A strongly dominated), the CEAC / EVPI of
// a two-draw example computed by hand, Fieller's interval against its closed form, and the paired
// bootstrap giving the same interval for 1 and 2 threads. Python tests compare with dampack tables and
// base-R values on dampack's example_psa draws (tests/python/test_cost_effectiveness.py).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/core/threads.hpp>
#include <impactkit/sustainability/cost_effectiveness.hpp>

using namespace impactkit;

TEST(IcerFrontier, HercExample) {
  // strategies E, D, C, B, A, UC
  Eigen::VectorXd cost(6), effect(6);
  cost << 55000, 35000, 25000, 10000, 12000, 5000;
  effect << 5, 4, 3, 2, 1.5, 1;
  const icer_frontier_result r = icer_frontier(cost, effect);
  const std::vector<dominance> want = {dominance::none, dominance::none, dominance::extended, dominance::none, dominance::strong, dominance::none};
  EXPECT_EQ(r.status, want);
  EXPECT_EQ(r.frontier, (std::vector<Eigen::Index>{5, 3, 1, 0}));
  EXPECT_DOUBLE_EQ(r.icer(3), 5000);
  EXPECT_DOUBLE_EQ(r.icer(1), 12500);
  EXPECT_DOUBLE_EQ(r.icer(0), 20000);
  EXPECT_TRUE(std::isnan(r.icer(5)) && std::isnan(r.icer(2)) && std::isnan(r.icer(4)));
}

TEST(IcerFrontier, TiesAndBadInput) {
  Eigen::VectorXd cost(3), effect(3);
  cost << 10, 10, 20;
  effect << 1, 1, 1;  // equal cost and effect: the second is dominated by the first; the costlier too
  const icer_frontier_result r = icer_frontier(cost, effect);
  EXPECT_EQ(r.status, (std::vector<dominance>{dominance::none, dominance::strong, dominance::strong}));
  cost(0) = std::nan("");
  EXPECT_THROW(icer_frontier(cost, effect), invalid_input);
  EXPECT_THROW(icer_frontier(Eigen::VectorXd(0), Eigen::VectorXd(0)), invalid_input);
}

TEST(Acceptability, TwoDrawsByHand) {
  // draw 1: A (c 0, e 0), B (c 10, e 1); draw 2: A (0, 0), B (10, 3). At λ = 5: NMB_B = −5, 5 → P(B) = 1/2;
  // E[NMB] = (0, 0) → A (first on ties); EVPI = mean(max) − max(mean) = (0 + 5)/2 − 0 = 2.5.
  Eigen::MatrixXd C(2, 2), E(2, 2);
  C << 0, 10, 0, 10;
  E << 0, 1, 0, 3;
  Eigen::VectorXd lambdas(2);
  lambdas << 5, 20;
  const acceptability_result r = cost_effectiveness_acceptability(C, E, lambdas);
  EXPECT_DOUBLE_EQ(r.probability_best(0, 1), 0.5);
  EXPECT_EQ(r.optimal(0), 0);
  EXPECT_DOUBLE_EQ(r.evpi(0), 2.5);
  EXPECT_DOUBLE_EQ(r.probability_best(1, 1), 1.0);  // λ = 20: NMB_B = 10, 50
  EXPECT_DOUBLE_EQ(r.evpi(1), 0.0);
}

TEST(IcerInterval, FiellerClosedFormAndBootstrapThreads) {
  const int n = 400;
  Eigen::VectorXd dc(n), de(n);
  for (int i = 0; i < n; ++i) {  // a deterministic, correlated cloud around (ΔE, ΔC) = (0.5, 1000)
    de(i) = 0.5 + 0.3 * std::sin(1.7 * i);
    dc(i) = 1000 + 400 * std::cos(0.9 * i) + 300 * std::sin(1.7 * i);
  }
  const icer_interval_result f = icer_fieller(dc, de, 0.95);
  const double c = dc.mean(), e = de.mean(), z = 1.959963984540054;
  const double vc = (dc.array() - c).square().sum() / (n - 1) / n, ve = (de.array() - e).square().sum() / (n - 1) / n,
               vce = ((dc.array() - c) * (de.array() - e)).sum() / (n - 1) / n;
  const double a = e * e - z * z * ve, b = c * e - z * z * vce, cc = c * c - z * z * vc;
  EXPECT_NEAR(f.conf_low, (b - std::sqrt(b * b - a * cc)) / a, 1e-9 * std::abs(f.icer));
  EXPECT_NEAR(f.conf_high, (b + std::sqrt(b * b - a * cc)) / a, 1e-9 * std::abs(f.icer));
  EXPECT_TRUE(f.bounded);

  set_num_threads(1);
  const icer_interval_result b1 = icer_bootstrap(dc, de, 999, 42, 0.95);
  set_num_threads(2);
  const icer_interval_result b2 = icer_bootstrap(dc, de, 999, 42, 0.95);
  EXPECT_EQ(b1.conf_low, b2.conf_low);
  EXPECT_EQ(b1.conf_high, b2.conf_high);
  EXPECT_LT(b1.conf_low, b1.icer);
  EXPECT_GT(b1.conf_high, b1.icer);
  // bootstrap and Fieller agree to a few per cent on a well-determined ratio
  EXPECT_NEAR(b1.conf_low, f.conf_low, 0.05 * f.icer);
  EXPECT_NEAR(b1.conf_high, f.conf_high, 0.05 * f.icer);
  EXPECT_THROW(icer_bootstrap(dc, de.head(10), 99, 1, 0.95), invalid_input);
  EXPECT_THROW(icer_fieller(dc, de, 1.5), invalid_input);
}
