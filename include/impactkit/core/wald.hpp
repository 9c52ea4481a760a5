#pragma once
// Wald test of linear restrictions H0: R·θ = r given an estimate θ̂ and its variance V:
//   W = (Rθ̂ − r)ᵀ (R V Rᵀ)⁻¹ (Rθ̂ − r) ~ χ²(q),  F = W/q ~ F(q, df) with df the residual (or G−1) df.
#include <string>

#include <Eigen/Core>

#include "distributions.hpp"
#include "errors.hpp"

namespace impactkit {

struct wald_result {
  double statistic_f = 0, p_value_f = 0, statistic_chi2 = 0, p_value_chi2 = 0;
  int df_num = 0;
  double df_denom = 0;
};

wald_result wald_test(const Eigen::Ref<const Eigen::VectorXd>& coef, const Eigen::Ref<const Eigen::MatrixXd>& vcov,
                      const Eigen::Ref<const Eigen::MatrixXd>& R, const Eigen::Ref<const Eigen::VectorXd>& r, double df_denom);

}  // namespace impactkit
