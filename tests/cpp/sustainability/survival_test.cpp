// Kaplan–Meier and log-rank from C++ (the entry points the sanitizer build exercises): a worked example
// computed by hand (product-limit and Greenwood), left truncation equal to the curve of the rows still at
// risk, and the two-group log-rank statistic against its closed form ((O − E)²/V). Python tests compare
// the same functions with R survival on the NCCTG lung data (tests/python/test_survival.py).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/sustainability/survival.hpp>

using namespace impactkit;

TEST(KaplanMeier, WorkedExample) {
  // exits 1 (event), 3 (censored), 4, 4 (events), 6 (censored)
  const std::vector<double> t = {1, 3, 4, 4, 6}, e = {1, 0, 1, 1, 0};
  survival_rows r;
  r.n = 5;
  r.time = t.data();
  r.event = e.data();
  const km_curve c = kaplan_meier(r).at(0);
  ASSERT_EQ(c.time.size(), 4u);
  EXPECT_DOUBLE_EQ(c.survival[0], 0.8);
  EXPECT_DOUBLE_EQ(c.survival[2], 0.8 * (1 - 2.0 / 3.0));
  EXPECT_DOUBLE_EQ(c.at_risk[2], 3);
  // Greenwood: σ² = 1/(5·4) + 2/(3·1)
  EXPECT_NEAR(c.log_std_error[2], std::sqrt(1.0 / 20 + 2.0 / 3), 1e-15);
  const Eigen::Vector3d med = km_quantile(c, 0.5, 0.95, km_conf_type::log_log);
  EXPECT_DOUBLE_EQ(med(0), 4);
  const Eigen::Vector2d rm = km_restricted_mean(c, 5);
  EXPECT_NEAR(rm(0), 1 + 0.8 * 3 + 0.8 / 3, 1e-15);
  // variance: A(1) = ∫_1^5 S = 0.8·3 + (0.8/3)·1, A(4) = (0.8/3)·1
  const double A1 = 0.8 * 3 + 0.8 / 3, A4 = 0.8 / 3;
  EXPECT_NEAR(rm(1), A1 * A1 / 20 + A4 * A4 * 2.0 / 3.0, 1e-14);
}

TEST(KaplanMeier, StepFunctionAtGivenTimes) {
  const std::vector<double> t = {1, 3, 4, 4, 6}, e = {1, 0, 1, 1, 0};
  survival_rows r;
  r.n = 5;
  r.time = t.data();
  r.event = e.data();
  const km_curve c = kaplan_meier(r).at(0);
  std::vector<double> S, sigma;
  km_at(c, {0.5, 1, 2.5, 4, 100}, S, sigma);
  // 1 before the first exit, right-continuous at exits, the last value after the end
  EXPECT_DOUBLE_EQ(S[0], 1);
  EXPECT_DOUBLE_EQ(sigma[0], 0);
  EXPECT_DOUBLE_EQ(S[1], 0.8);
  EXPECT_DOUBLE_EQ(S[2], 0.8);
  EXPECT_DOUBLE_EQ(S[3], 0.8 / 3);
  EXPECT_DOUBLE_EQ(S[4], 0.8 / 3);
  EXPECT_DOUBLE_EQ(sigma[3], c.log_std_error[2]);
  EXPECT_THROW(km_at(c, {std::nan("")}, S, sigma), invalid_input);
}

TEST(KaplanMeier, LeftTruncationCountsOnlyRowsAlreadyEntered) {
  const std::vector<double> t = {2, 5, 6, 8}, e = {1, 1, 0, 1}, entry = {0, 0, 5.5, 0};
  survival_rows r;
  r.n = 4;
  r.time = t.data();
  r.event = e.data();
  r.entry = entry.data();
  const km_curve c = kaplan_meier(r).at(0);
  // at 2: rows 0, 1, 3 at risk (row 2 enters at 5.5); at 5: rows 1, 3; at 6: rows 2, 3; at 8: row 3
  EXPECT_EQ(c.at_risk, (std::vector<double>{3, 2, 2, 1}));
  EXPECT_DOUBLE_EQ(c.survival.back(), (2.0 / 3) * 0.5 * 1 * 0);
}

TEST(Logrank, TwoGroupsEqualsClosedForm) {
  const std::vector<double> t = {1, 2, 3, 4, 5, 6}, e = {1, 1, 0, 1, 1, 1};
  const std::vector<int> g = {0, 1, 0, 1, 0, 1};
  survival_rows r;
  r.n = 6;
  r.time = t.data();
  r.event = e.data();
  r.group = g.data();
  r.n_groups = 2;
  const logrank_result res = logrank_test(r, nullptr, 1, 0.0);
  const double u = res.observed(0) - res.expected(0);
  EXPECT_NEAR(res.statistic, u * u / res.variance(0, 0), 1e-14);
  EXPECT_NEAR(res.observed.sum(), 5, 1e-15);
  EXPECT_NEAR(res.expected.sum(), 5, 1e-14);
  // by hand, group 0 expected: 1·3/6 + 1·2/5 + 1·1/3 + 1·1/2 + 1·0/1 (at t = 1, 2, 4, 5, 6)
  EXPECT_NEAR(res.expected(0), 0.5 + 0.4 + 1.0 / 3 + 0.5 + 0, 1e-14);
  std::vector<double> w = {1, 1, 1, 1, 1, 2};
  r.weights = w.data();
  EXPECT_THROW(logrank_test(r, nullptr, 1, 0.0), invalid_input);
}

TEST(Survival, BadInput) {
  const std::vector<double> t = {1, NAN}, e = {1, 0}, bad_e = {1, 3}, entry = {2, 0};
  survival_rows r;
  r.n = 2;
  r.time = t.data();
  r.event = e.data();
  EXPECT_THROW(kaplan_meier(r), invalid_input);
  const std::vector<double> ok_t = {1, 2};
  r.time = ok_t.data();
  r.event = bad_e.data();
  EXPECT_THROW(kaplan_meier(r), invalid_input);
  r.event = e.data();
  r.entry = entry.data();
  EXPECT_THROW(kaplan_meier(r), invalid_input);
}
