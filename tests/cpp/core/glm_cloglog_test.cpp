// The complementary log-log family of impactkit::glm: one observation's score and observed information
// equal central differences of its log-likelihood, the expected information is the mean of the observed
// one over y ~ Bernoulli(μ), and the contributions stay finite for extreme linear predictors. The fit is
// compared with statsmodels GLM Binomial(link=CLogLog) in tests/python/test_discrete_hazard.py.
#include <cmath>

#include <gtest/gtest.h>

#include <impactkit/core/glm.hpp>

#include "../../../src/core/glm_detail.hpp"  // detail::evaluate (private to impactkit_core)

using namespace impactkit;

TEST(GlmCloglog, DerivativesOfTheLogLikelihood) {
  for (double eta : {-12.0, -4.0, -1.0, -1e-4, 0.0, 0.3, 1.0, 2.5}) {
    for (double y : {0.0, 1.0}) {
      const double h = 1e-4;
      const auto l = [&](double e) { return detail::evaluate(glm_family::cloglog, y, e).loglik; };
      const detail::glm_point p = detail::evaluate(glm_family::cloglog, y, eta);
      const double d1 = (l(eta + h) - l(eta - h)) / (2 * h), d2 = (l(eta + h) - 2 * l(eta) + l(eta - h)) / (h * h);
      EXPECT_NEAR(p.score, d1, 1e-7 * (1 + std::fabs(d1))) << eta << " " << y;
      EXPECT_NEAR(p.w_obs, -d2, 1e-5 * (1 + std::fabs(d2))) << eta << " " << y;
      EXPECT_GT(p.w_obs, 0.0);
      EXPECT_NEAR(p.mu, 1 - std::exp(-std::exp(eta)), 1e-15);
    }
    const detail::glm_point p0 = detail::evaluate(glm_family::cloglog, 0.0, eta), p1 = detail::evaluate(glm_family::cloglog, 1.0, eta);
    EXPECT_NEAR(p0.w_exp, p1.mu * p1.w_obs + (1 - p1.mu) * p0.w_obs, 1e-12 * (1 + p0.w_exp)) << eta;
    EXPECT_NEAR(p1.mu * p1.score + (1 - p1.mu) * p0.score, 0.0, 1e-12) << eta;  // E[score] = 0
  }
}

TEST(GlmCloglog, ExtremeLinearPredictorsStayFinite) {
  for (double eta : {-700.0, -40.0, 6.0, 40.0}) {
    for (double y : {0.0, 1.0}) {
      const detail::glm_point p = detail::evaluate(glm_family::cloglog, y, eta);
      EXPECT_TRUE(std::isfinite(p.score) && std::isfinite(p.w_obs) && std::isfinite(p.w_exp)) << eta << " " << y;
      EXPECT_GE(p.w_obs, 0.0);
    }
  }
  EXPECT_EQ(parse_glm_family("cloglog"), glm_family::cloglog);
  EXPECT_STREQ(glm_family_name(glm_family::cloglog), "cloglog");
}
