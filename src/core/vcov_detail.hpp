#pragma once
// Private to impactkit_core (not installed): the sandwich building blocks behind sandwich_vcov (HC
// factors, cluster dimensions, survey units) and the NaN-SE rule of every coefficient table. The
// public API is include/impactkit/core/vcov.hpp.
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/vcov.hpp>

namespace impactkit::detail {

/// Standard errors √diag(V) of a coefficient table (OLS, IV, GLMs). A negative variance (possible
/// with multiway clustering, Cameron, Gelbach & Miller 2011 §2.3) gives NaN, never 0.
Eigen::VectorXd standard_errors(const Eigen::MatrixXd& vcov);

/// Factorised cluster dimensions of a spec, validated against n (≥ 2 clusters each).
std::vector<group_codes> cluster_dimensions(const vcov_spec& spec, Eigen::Index n, const char* function);

/// HC0 or HC1 sandwich c·B·M·B from its meat M = Σ_i s_i s_iᵀ over n observations, `n_params` the
/// p of n−p: the one place that sets the small-sample factor, the df and the convention of HC0/HC1
/// (sandwich_vcov, and fused passes that accumulate the meat themselves).
vcov_estimate hc_sandwich(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& meat,
                          vcov_kind kind, Eigen::Index n, Eigen::Index n_params, bool maximum_likelihood = false);

/// The sampling units of estimation row i: unit code of design row rows[i] (all rows when `rows` is empty).
group_codes survey_units_of_rows(const survey_design& d, const std::vector<Eigen::Index>& rows, Eigen::Index n, const char* fn);

/// B·M·B with M the survey-design variance of the score totals per sampling unit; t with
/// #PSU − #strata − k + 1 df (R svyglm's residual df).
vcov_estimate survey_sandwich(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                              const std::vector<Eigen::Index>& cols, const double* u, const vcov_spec& spec, Eigen::Index n_params);

}  // namespace impactkit::detail
