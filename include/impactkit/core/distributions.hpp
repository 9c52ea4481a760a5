#pragma once
// Reference distributions for inference, evaluated with Boost.Math (throw-on-error policy).
// Degrees of freedom of +inf select the limiting normal / chi-square distribution.
#include <cmath>
#include <limits>

#include <Eigen/Core>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace impactkit {

/// Two-sided p-value P(|T| >= |t|) for T ~ t(df); df = +inf gives the standard normal.
inline double two_sided_p_value(double t, double df) {
  if (std::isnan(t) || std::isnan(df)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  if (std::isinf(df)) return 2.0 * boost::math::cdf(boost::math::complement(boost::math::normal(), std::fabs(t)));
  return 2.0 * boost::math::cdf(boost::math::complement(boost::math::students_t(df), std::fabs(t)));
}

/// Two-sided p-values of estimate/se against t(df) per coefficient (df = +inf: normal).
inline Eigen::VectorXd two_sided_p_values(const Eigen::VectorXd& estimate, const Eigen::VectorXd& se, const Eigen::VectorXd& df) {
  Eigen::VectorXd p(estimate.size());
  for (Eigen::Index j = 0; j < estimate.size(); ++j) p(j) = two_sided_p_value(estimate(j) / se(j), df(j));
  return p;
}

/// Quantile q of t(df) (normal for df = +inf); used for confidence intervals.
inline double t_quantile(double q, double df) {
  if (std::isnan(df)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(df)) return boost::math::quantile(boost::math::normal(), q);
  return boost::math::quantile(boost::math::students_t(df), q);
}

/// Upper tail P(F >= f) for F ~ F(df1, df2); df2 = +inf gives chi2(df1)/df1.
inline double f_upper_tail(double f, double df1, double df2) {
  if (std::isnan(f)) return std::numeric_limits<double>::quiet_NaN();
  if (f <= 0) return 1.0;
  if (std::isinf(f)) return 0.0;
  if (std::isinf(df2))
    return boost::math::cdf(boost::math::complement(boost::math::chi_squared(df1), f * df1));
  return boost::math::cdf(boost::math::complement(boost::math::fisher_f(df1, df2), f));
}

/// Upper tail P(X >= x) for X ~ chi2(df).
inline double chi2_upper_tail(double x, double df) {
  if (std::isnan(x)) return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return boost::math::cdf(boost::math::complement(boost::math::chi_squared(df), x));
}

}  // namespace impactkit
