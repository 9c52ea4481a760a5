#pragma once
// Reference distributions for inference, evaluated with Boost.Math (throw-on-error policy).
// Degrees of freedom of +inf select the limiting normal / chi-square distribution.
#include <cmath>
#include <limits>

#include <Eigen/Core>


namespace impactkit {

/// Two-sided p-value P(|T| >= |t|) for T ~ t(df); df = +inf gives the standard normal.
double two_sided_p_value(double t, double df);

/// Two-sided p-values of estimate/se against t(df) per coefficient (df = +inf: normal).
Eigen::VectorXd two_sided_p_values(const Eigen::VectorXd& estimate, const Eigen::VectorXd& se, const Eigen::VectorXd& df);

/// Quantile q of t(df) (normal for df = +inf); used for confidence intervals.
double t_quantile(double q, double df);

/// Upper tail P(F >= f) for F ~ F(df1, df2); df2 = +inf gives chi2(df1)/df1.
double f_upper_tail(double f, double df1, double df2);

/// Upper tail P(X >= x) for X ~ chi2(df).
double chi2_upper_tail(double x, double df);

}  // namespace impactkit
