// Cox regression from C++ (the entry point the sanitizer build exercises): one binary covariate with no
// ties, where the Breslow and Efron likelihoods coincide and the score at β = 0 is the log-rank
// numerator, so U(0)ᵀ I(0)⁻¹ U(0) equals the log-rank statistic; and the refusal of collinear covariates.
// Python tests compare the fit with R coxph on the NCCTG lung data (tests/python/test_survival.py).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/sustainability/cox.hpp>
#include <impactkit/sustainability/survival.hpp>

using namespace impactkit;

TEST(Cox, ScoreTestIsTheLogrankStatistic) {
  const std::vector<double> t = {1, 2, 3, 4, 5, 6, 7, 8}, e = {1, 1, 0, 1, 1, 1, 0, 1};
  const std::vector<int> g = {0, 1, 0, 1, 0, 1, 1, 0};
  Eigen::MatrixXd X(8, 1);
  for (int i = 0; i < 8; ++i) X(i, 0) = g[static_cast<std::size_t>(i)];
  cox_rows r;
  r.n = 8;
  r.time = t.data();
  r.event = e.data();
  const cox_fit efron = cox_regression(r, X, cox_ties::efron), breslow = cox_regression(r, X, cox_ties::breslow);
  EXPECT_NEAR(efron.coef(0), breslow.coef(0), 1e-12);
  survival_rows s;
  s.n = 8;
  s.time = t.data();
  s.event = e.data();
  s.group = g.data();
  s.n_groups = 2;
  EXPECT_NEAR(efron.score_test, logrank_test(s, nullptr, 1, 0.0).statistic, 1e-12);
  EXPECT_GT(efron.loglik, efron.loglik_null);
  // score residuals sum to the score, 0 at the maximum
  EXPECT_NEAR(efron.score_residuals.sum(), 0.0, 1e-10);
}

TEST(Cox, RefusesCollinearCovariates) {
  const std::vector<double> t = {1, 2, 3, 4}, e = {1, 1, 1, 1};
  Eigen::MatrixXd X(4, 2);
  X << 1, 2, 2, 4, 3, 6, 5, 10;
  cox_rows r;
  r.n = 4;
  r.time = t.data();
  r.event = e.data();
  EXPECT_THROW(cox_regression(r, X, cox_ties::efron), invalid_input);
  EXPECT_THROW(cox_regression(r, X.leftCols(1).topRows(3), cox_ties::efron), invalid_input);
}
