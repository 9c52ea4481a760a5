// Out-of-line definitions for impactkit/core/wald.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/wald.hpp>

#include <string>

#include <Eigen/Core>
#include <Eigen/LU>

namespace impactkit {

wald_result wald_test(const Eigen::Ref<const Eigen::VectorXd>& coef, const Eigen::Ref<const Eigen::MatrixXd>& vcov,
                      const Eigen::Ref<const Eigen::MatrixXd>& R, const Eigen::Ref<const Eigen::VectorXd>& r, double df_denom) {
  const char* fn = "wald_test";
  const Eigen::Index p = coef.size(), q = R.rows();
  detail::require(vcov.rows() == p && vcov.cols() == p, fn, "vcov must be " + std::to_string(p) + "x" + std::to_string(p));
  detail::require(q >= 1 && R.cols() == p, fn, "R must have " + std::to_string(p) + " columns and at least one row");
  detail::require(r.size() == q, fn, "r must have one entry per row of R");
  detail::require_finite(R, fn, "R");
  detail::require_finite(r, fn, "r");
  const Eigen::MatrixXd RVR = R * vcov * R.transpose();
  Eigen::FullPivLU<Eigen::MatrixXd> lu(RVR);
  detail::require(lu.rank() == q, fn, "the restrictions are linearly dependent or involve a coefficient with zero variance");
  const Eigen::VectorXd d = R * coef - r;
  wald_result out;
  out.df_num = static_cast<int>(q);
  out.df_denom = df_denom;
  out.statistic_chi2 = d.dot(lu.solve(d));
  out.statistic_f = out.statistic_chi2 / static_cast<double>(q);
  out.p_value_chi2 = chi2_upper_tail(out.statistic_chi2, static_cast<double>(q));
  out.p_value_f = f_upper_tail(out.statistic_f, static_cast<double>(q), df_denom);
  return out;
}

}  // namespace impactkit
