// Cumulative incidence and Gray's test from C++ (the entry points the sanitizer build exercises): a worked
// example computed by hand (Aalen–Johansen jumps S(t−) d_c / n, the first variance term of cmprsk's
// estimator), the identity Σ_c F_c = 1 − S_KM, and Gray's test invariances. Python tests compare the same
// functions with R cmprsk::cuminc on the mgus2 data (tests/python/test_competing_risks.py).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/sustainability/competing_risks.hpp>
#include <impactkit/sustainability/cox.hpp>
#include <impactkit/sustainability/survival.hpp>

using namespace impactkit;

namespace {
competing_risks_rows rows(const std::vector<double>& t, const std::vector<int>& s, int causes) {
  competing_risks_rows r;
  r.n = static_cast<Eigen::Index>(t.size());
  r.time = t.data();
  r.status = s.data();
  r.n_causes = causes;
  return r;
}
}  // namespace

TEST(CumulativeIncidence, WorkedExample) {
  // 1 (cause 1), 2 (cause 2), 3 (censored), 4 (cause 1), 5 (cause 1)
  const std::vector<double> t = {4, 1, 3, 5, 2};
  const std::vector<int> s = {1, 1, 0, 1, 2};
  const cif_table c = cumulative_incidence(rows(t, s, 2)).at(0);
  ASSERT_EQ(c.time.size(), 5u);
  EXPECT_DOUBLE_EQ(c.incidence(0, 0), 0.2);             // 1·1/5
  EXPECT_DOUBLE_EQ(c.incidence(1, 1), 0.8 / 4);         // S(2−) = 0.8, 4 at risk
  EXPECT_DOUBLE_EQ(c.incidence(3, 0), 0.2 + 0.6 / 2);   // S(4−) = 0.6, 2 at risk
  EXPECT_DOUBLE_EQ(c.incidence(4, 0), 0.8);
  EXPECT_DOUBLE_EQ(c.at_risk[3], 2);
  EXPECT_DOUBLE_EQ(c.censored[2], 1);
  // first event: u = 1/25, a = b = 1/S⁺ = 1.25 (F = 0.2): V = u a² (1 + F² − 2F) = 0.0625·0.64
  EXPECT_NEAR(c.variance(0, 0), 0.04, 1e-15);
  EXPECT_DOUBLE_EQ(c.variance(0, 1), 0.0);
  // flat between the cause's events
  EXPECT_DOUBLE_EQ(c.variance(2, 0), c.variance(1, 0));
}

TEST(CumulativeIncidence, SumsToOneMinusKaplanMeier) {
  std::vector<double> t;
  std::vector<int> s;
  std::vector<double> e;
  for (int i = 0; i < 200; ++i) {
    t.push_back(static_cast<double>((i * 37) % 23));  // many ties
    s.push_back((i * 11) % 4 == 0 ? 0 : 1 + (i % 3));
    e.push_back(s.back() > 0 ? 1.0 : 0.0);
  }
  const cif_table c = cumulative_incidence(rows(t, s, 3)).at(0);
  survival_rows kr;
  kr.n = static_cast<Eigen::Index>(t.size());
  kr.time = t.data();
  kr.event = e.data();
  const km_curve km = kaplan_meier(kr).at(0);
  ASSERT_EQ(km.time.size(), c.time.size());
  for (std::size_t j = 0; j < km.time.size(); ++j) EXPECT_NEAR(c.incidence.row(static_cast<Eigen::Index>(j)).sum(), 1 - km.survival[j], 1e-14);
  Eigen::MatrixXd lo, hi;
  cif_confidence(c, 0.95, km_conf_type::log_log, lo, hi);
  EXPECT_TRUE((lo.array() <= c.incidence.array() + 1e-15).all() && (hi.array() >= c.incidence.array() - 1e-15).all());
}

TEST(GrayTest, IdenticalGroupsAndRelabelling) {
  std::vector<double> t;
  std::vector<int> s, g, g2;
  for (int i = 0; i < 60; ++i) {
    t.push_back(1 + (i / 2) % 17);
    s.push_back((i / 2) % 5 == 0 ? 0 : 1 + (i / 2) % 2);
    g.push_back(i % 2);  // each row has a twin in the other group
    g2.push_back(1 - i % 2);
  }
  competing_risks_rows r = rows(t, s, 2);
  r.group = g.data();
  r.n_groups = 2;
  const gray_test_result a = gray_test(r, 1, 0.0);
  EXPECT_NEAR(a.score(0), 0.0, 1e-12);
  EXPECT_NEAR(a.statistic, 0.0, 1e-12);
  // unequal groups: relabelling the groups gives the same statistic
  for (int i = 0; i < 60; i += 3) s[static_cast<std::size_t>(i)] = g[static_cast<std::size_t>(i)] == 0 ? 1 : 2;
  const gray_test_result b = gray_test(r, 1, 1.0);
  r.group = g2.data();
  const gray_test_result c = gray_test(r, 1, 1.0);
  EXPECT_GT(b.statistic, 0.5);
  EXPECT_NEAR(b.statistic, c.statistic, 1e-10 * b.statistic);
  EXPECT_EQ(b.df, 1);
}

TEST(CompetingRisks, BadInput) {
  const std::vector<double> t = {1, NAN, 3};
  const std::vector<int> s = {1, 0, 2};
  EXPECT_THROW(cumulative_incidence(rows(t, s, 2)), invalid_input);
  const std::vector<double> t2 = {1, 2, 3};
  const std::vector<int> s2 = {1, 0, 3};
  EXPECT_THROW(cumulative_incidence(rows(t2, s2, 2)), invalid_input);
  EXPECT_THROW(gray_test(rows(t2, s, 2), 1, 0.0), invalid_input);  // one group
}

TEST(FineGray, WithoutCompetingEventsIsTheBreslowCoxModel) {
  // no competing events: the subdistribution risk set is the ordinary one and ψ = 0
  std::vector<double> t, e;
  std::vector<int> s;
  Eigen::MatrixXd X(80, 2);
  for (int i = 0; i < 80; ++i) {
    t.push_back(1 + (i * 7) % 19);
    s.push_back(i % 4 == 0 ? 0 : 1);
    e.push_back(s.back());
    X(i, 0) = std::sin(i * 1.3);
    X(i, 1) = (i % 3) - 1.0 + 0.1 * std::cos(i);
  }
  const finegray_fit fg = finegray(rows(t, s, 1), 1, X);
  cox_rows cr;
  cr.n = 80;
  cr.time = t.data();
  cr.event = e.data();
  const cox_fit cx = cox_regression(cr, X, cox_ties::breslow);
  EXPECT_TRUE(fg.coef.isApprox(cx.coef, 1e-10));
  EXPECT_TRUE(fg.information.isApprox(cx.information, 1e-10));
  EXPECT_TRUE(fg.scores.isApprox(cx.score_residuals, 1e-9));
  EXPECT_EQ(fg.weighted_rows, 80);
}

TEST(FineGray, CompetingRowsStayWithCensoringWeights) {
  // a competing event at 2 stays at risk at the later cause-1 times with weight G(τ−)/G(2−)
  const std::vector<double> t = {1, 2, 3, 4, 5, 6};
  const std::vector<int> s = {1, 2, 0, 1, 1, 0};
  Eigen::MatrixXd X(6, 1);
  X << 0.5, -1, 2, 0.1, -0.3, 1;
  const finegray_fit fg = finegray(rows(t, s, 2), 1, X);
  // cause-1 times 1, 4, 5; G(4−) = G(5−) = 3/4 (censoring at 3 with 4 at risk), G(2−) = 1: one extra row
  EXPECT_EQ(fg.weighted_rows, 7);
  EXPECT_TRUE(std::isfinite(fg.coef(0)));
  EXPECT_EQ(fg.n_events, 3);
  EXPECT_THROW(finegray(rows(t, s, 2), 3, X), invalid_input);
}

TEST(FineGray, CensoringGroupsWeightByTheirOwnG) {
  // censoring groups (crr's cengroup): group 0 = rows {1, 2, 3, 5}, group 1 = rows {4, 6, 7, 8}.
  // G_0 drops at 3 (censored, 3 of group 0 at risk) to 2/3; group 1's censoring at 7 comes after every
  // cause-1 time, so G_1 = 1 there. The competing row at 2 (group 0) stays at risk at cause-1 times 4 and 5
  // with weight G_0(τ−)/G_0(2−) = 2/3: one extra row; pooled, G(4−) = 7/8 and the weight differs.
  const std::vector<double> t = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<int> s = {1, 2, 0, 1, 1, 2, 0, 1}, cg = {0, 0, 0, 1, 0, 1, 1, 1}, one(8, 0);
  Eigen::MatrixXd X(8, 1);
  X << 0.5, -1, 2, 0.1, -0.3, 1, 0.7, -0.6;
  competing_risks_rows r = rows(t, s, 2);
  const finegray_fit pooled = finegray(r, 1, X);
  r.group = cg.data();
  r.n_groups = 2;
  const finegray_fit grouped = finegray(r, 1, X);
  EXPECT_TRUE(std::isfinite(grouped.coef(0)) && grouped.scores.allFinite());
  EXPECT_GT(std::fabs(grouped.coef(0) - pooled.coef(0)), 1e-6);
  // one censoring group is the pooled fit, exactly
  r.group = one.data();
  r.n_groups = 1;
  const finegray_fit single = finegray(r, 1, X);
  EXPECT_TRUE(single.coef.isApprox(pooled.coef, 1e-14));
  EXPECT_TRUE(single.scores.isApprox(pooled.scores, 1e-12));
  // a code out of range is refused
  const std::vector<int> bad = {0, 0, 0, 1, 0, 1, 1, 2};
  r.group = bad.data();
  r.n_groups = 2;
  EXPECT_THROW(finegray(r, 1, X), invalid_input);
}
