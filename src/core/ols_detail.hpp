#pragma once
// Private to impactkit_core: the steps of a linear fit that OLS, IV and GLMs share (not installed;
// the public API is include/impactkit/core/ols.hpp).
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/fixed_effects.hpp>
#include <impactkit/core/least_squares.hpp>
#include <impactkit/core/linear_model_vcov.hpp>
#include <impactkit/core/ols.hpp>

#include "linear_model_vcov_detail.hpp"

namespace impactkit {

namespace detail {

/// Weighted (centred or raw) total sum of squares of y over `n` rows: the weighted mean, then
/// Σ w (y − ȳ)², each a parallel pass over fixed chunks summed in chunk order.
double total_sum_of_squares(const Eigen::Ref<const Eigen::VectorXd>& y, const double* w, bool centred);

/// The inference part of a linear model's coefficient table (OLS and IV) from its variance
/// estimate: V, standard errors (standard_errors), df and the conventions.
void fill_inference(const vcov_estimate& v, ols_result& r);

/// Least squares of yd on Xd (already within-transformed when fixed effects are absorbed) and the
/// variance; fills everything of ols_result that does not concern the fixed effects. With
/// `detect_intercept`, r.has_intercept says whether a kept column is constant and non-zero. Returns
/// the sums of the residual pass (total sums of squares of yd).
residual_pass_sums fit_and_infer(const Eigen::Ref<const Eigen::MatrixXd>& Xd, const Eigen::Ref<const Eigen::VectorXd>& yd,
                                 const double* w, const ols_options& opt, const vcov_spec& spec, const absorbed_dof& absorbed,
                                 const char* fn, bool detect_intercept, least_squares_solution& ls, ols_result& r);

/// Estimated fixed effects of y = Σ_j b_j x_j + Σ_d α_d[g_d] + e fitted on within-transformed data:
/// α_d = α_d(y) − Σ_j b_j α_d(x_j), from the coefficients the projection removed (the x_j are the
/// columns `kept` of `wt`, y its column `y_column`). Dimensions ≥ 2 are shifted so that their first
/// level is 0 and the shift is moved into dimension 1 (fixest's normalisation; exact when the
/// dimensions are connected).
void recover_fixed_effects(const within_transformed& wt, const std::vector<Eigen::Index>& kept, const Eigen::VectorXd& b,
                           Eigen::Index y_column, ols_result& r);

/// Least squares with absorbed fixed effects on borrowed columns x[j], y (length n) and label
/// columns fe[d]: the fixed effects of opt.fixed_effects are ignored in favour of `fe`.
ols_result fit_absorbed(const std::vector<const double*>& x, const double* y, Eigen::Index n, const double* w,
                        const std::vector<label_column>& fe, const ols_options& opt, const char* fn);

ols_result fit_linear(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const double* w,
                      const ols_options& opt, const char* fn);

}  // namespace detail

}  // namespace impactkit
