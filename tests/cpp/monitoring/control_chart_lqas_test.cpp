// Control charts, LQAS and count intervals from C++ (the Python tests check the same numbers more widely).
// p chart: Montgomery, Introduction to Statistical Quality Control (6th ed.), Example 7.1 / Table 7.1 — trial
// p̄ = 0.2313, UCL 0.4102, LCL 0.0524 with samples 15 and 23 beyond the UCL; revised once: p̄ = 0.2150, UCL 0.3893,
// LCL 0.0407 (4 printed decimals: abs 5e-5; centre lines exactly 347/1500 and 301/1400).
// LQAS: n = 19, 80% vs 50%, the optimal rule of PMC3013262 Table 1 (at most 6 failures: successes >= 13) with
// a = 0.93, b = 0.92 (abs 0.01). Intervals: Clopper–Pearson 0 of 10 has upper 1 − 0.025^(1/10) exactly.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/monitoring/control_chart.hpp>
#include <impactkit/monitoring/indicator_intervals.hpp>
#include <impactkit/monitoring/lqas.hpp>

using namespace impactkit;

namespace {

Eigen::VectorXd montgomery_7_1() {
  const std::vector<double> d{12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
                              8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6};
  return Eigen::Map<const Eigen::VectorXd>(d.data(), static_cast<Eigen::Index>(d.size()));
}

TEST(ControlChart, MontgomeryExample71TrialAndRevisedLimits) {
  const Eigen::VectorXd d = montgomery_7_1(), n = Eigen::VectorXd::Constant(30, 50.0);
  control_chart_options o;
  const control_chart_result trial = control_chart(d, n, o);
  EXPECT_NEAR(trial.centre_estimate, 347.0 / 1500.0, 1e-15);
  EXPECT_NEAR(trial.upper(0), 0.4102, 5e-5);
  EXPECT_NEAR(trial.lower(0), 0.0524, 5e-5);
  for (Eigen::Index i = 0; i < 30; ++i) EXPECT_EQ((trial.violations(i) & 1) != 0, i == 14 || i == 22) << "sample " << i + 1;
  o.max_revisions = 1;
  const control_chart_result revised = control_chart(d, n, o);
  EXPECT_NEAR(revised.centre_estimate, 301.0 / 1400.0, 1e-15);
  EXPECT_NEAR(revised.upper(0), 0.3893, 5e-5);
  EXPECT_NEAR(revised.lower(0), 0.0407, 5e-5);
  EXPECT_EQ(revised.excluded.sum(), 2);
  EXPECT_EQ(revised.excluded(14) + revised.excluded(22), 2);
}

TEST(ControlChart, RunRulesAndBadInput) {
  Eigen::VectorXd z = Eigen::VectorXd::Constant(9, 0.5);
  EXPECT_EQ(run_rule_violations(z, run_rules::nelson)(8), 1 << 1);
  EXPECT_EQ(run_rule_violations(z, run_rules::nelson)(7), 0);
  EXPECT_EQ(run_rule_violations(z.head(8), run_rules::western_electric)(7), 1 << 1);
  Eigen::VectorXd one(1);
  one << 4.0;
  control_chart_options c;
  c.kind = control_chart_kind::c;
  EXPECT_DOUBLE_EQ(control_chart(one, Eigen::VectorXd(), c).upper(0), 10.0);
  Eigen::VectorXd bad(2), sizes(2);
  bad << 6, 2;
  sizes << 5, 5;
  EXPECT_THROW(control_chart(bad, sizes, control_chart_options{}), invalid_input);
  EXPECT_THROW(control_chart(bad, Eigen::VectorXd(1), control_chart_options{}), invalid_input);
  EXPECT_THROW(parse_control_chart_kind("x"), invalid_input);
}

TEST(Lqas, PublishedN19Rule) {
  const lqas_decision d = lqas_rule(19, 0.8, 0.5);
  EXPECT_EQ(d.rule, 13);
  EXPECT_NEAR(1 - d.alpha, 0.93, 0.01);
  EXPECT_NEAR(1 - d.beta, 0.92, 0.01);
  Eigen::VectorXd counts(3);
  counts << 12, 13, 19;
  const Eigen::VectorXi cls = lqas_classify(counts, 19, 13);
  EXPECT_EQ(cls(0), 0);
  EXPECT_EQ(cls(1), 1);
  EXPECT_EQ(cls(2), 1);
  EXPECT_THROW(lqas_rule(19, 0.5, 0.8), invalid_input);
}

TEST(CountIntervals, ExactBoundaryValues) {
  Eigen::VectorXd x(1), n(1);
  x << 0;
  n << 10;
  const count_intervals cp = proportion_intervals(x, n, proportion_method::clopper_pearson, 0.95);
  EXPECT_EQ(cp.conf_low(0), 0.0);
  EXPECT_NEAR(cp.conf_high(0), 1 - std::pow(0.025, 0.1), 1e-14);
  // Garwood, 0 events: upper = −log(α/2)/T
  const count_intervals r = poisson_rate_intervals(x, n, 0.95);
  EXPECT_NEAR(r.conf_high(0), -std::log(0.025) / 10, 1e-14);
  EXPECT_EQ(r.conf_low(0), 0.0);
  EXPECT_THROW(proportion_intervals(n, x, proportion_method::wilson, 0.95), invalid_input);  // 10 of 0 trials
  const sample_size_result s = sample_size_proportion(0.5, 0.05);
  EXPECT_EQ(s.n, 385);
}

}  // namespace
