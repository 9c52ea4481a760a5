// Out-of-line definitions for impactkit/core/distributions.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/distributions.hpp>

#include <cmath>
#include <limits>

#include <Eigen/Core>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace impactkit {

double two_sided_p_value(double t, double df) {
  if (std::isnan(t) || std::isnan(df)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  if (std::isinf(df)) return 2.0 * boost::math::cdf(boost::math::complement(boost::math::normal(), std::fabs(t)));
  return 2.0 * boost::math::cdf(boost::math::complement(boost::math::students_t(df), std::fabs(t)));
}

Eigen::VectorXd two_sided_p_values(const Eigen::VectorXd& estimate, const Eigen::VectorXd& se, const Eigen::VectorXd& df) {
  Eigen::VectorXd p(estimate.size());
  for (Eigen::Index j = 0; j < estimate.size(); ++j) p(j) = two_sided_p_value(estimate(j) / se(j), df(j));
  return p;
}

double t_quantile(double q, double df) {
  if (std::isnan(df)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(df)) return boost::math::quantile(boost::math::normal(), q);
  return boost::math::quantile(boost::math::students_t(df), q);
}

double f_upper_tail(double f, double df1, double df2) {
  if (std::isnan(f)) return std::numeric_limits<double>::quiet_NaN();
  if (f <= 0) return 1.0;
  if (std::isinf(f)) return 0.0;
  if (std::isinf(df2))
    return boost::math::cdf(boost::math::complement(boost::math::chi_squared(df1), f * df1));
  return boost::math::cdf(boost::math::complement(boost::math::fisher_f(df1, df2), f));
}

double chi2_upper_tail(double x, double df) {
  if (std::isnan(x)) return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return boost::math::cdf(boost::math::complement(boost::math::chi_squared(df), x));
}

}  // namespace impactkit
