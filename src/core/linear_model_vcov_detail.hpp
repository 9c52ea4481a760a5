#pragma once
// Private to impactkit_core (not installed): the passes over a least-squares design behind
// linear_model_vcov (transformed designs and meats, the residual pass, the absorbed-parameter note),
// shared by OLS, IV and GLMs. The public API is include/impactkit/core/linear_model_vcov.hpp.
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/linear_model_vcov.hpp>
#include "least_squares_detail.hpp"
#include "vcov_detail.hpp"

namespace impactkit::detail {

/// Checks that `ls` belongs to a design with n rows and `columns` columns (its kept indices in range).
void require_solution_of(const least_squares_solution& ls, Eigen::Index n, Eigen::Index columns, const char* fn);

/// V = 2^(2e_y)·P Ṽ Pᵀ (least_squares_solution::unscale_vcov), throwing invalid_input when a
/// variance is not a normal double (the coefficient's scale is out of reach of double precision).
Eigen::MatrixXd unscaled_vcov(const least_squares_solution& ls, const Eigen::MatrixXd& scaled, const char* fn);

/// Σ_i (f·u_i)² x̃_i x̃_iᵀ over the kept columns of the transformed design (u null: u ≡ 1; f = 2^(−e_y)
/// turns raw scores into scores of the transformed problem). The identity transform reads X as it is
/// (weighted_cross_product); otherwise each block is transformed in cache.
Eigen::MatrixXd transformed_cross_product(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls,
                                          const double* u, double f);

/// The n×p transformed design X̃ over the kept columns, for variance code that needs the scores as
/// a matrix (the cluster and survey sandwiches of vcov.hpp); only for a non-identity transform.
Eigen::MatrixXd transformed_design(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls);

/// Contrast vectors for the coefficients of the original problem in the coordinates of the
/// transformed one (rows of P, each scaled to max |entry| = 1; identity: unit vectors).
Eigen::MatrixXd transformed_contrasts(const least_squares_solution& ls);

/// (f(λ) − 1)/λ for the CR3 power f(λ) = (1 − λ)⁻¹ of a leverage eigenvalue λ; λ ≈ 1: generalised
/// inverse, f = 0.
double jackknife_weight(double lambda);

/// Appends to the convention how many absorbed fixed effects k of n−k counts (cluster-robust:
/// those nested in a cluster dimension excluded).
void note_absorbed_parameters(vcov_estimate& out, const absorbed_dof& absorbed, bool cluster);

/// What the residual pass learns besides the residuals: RSS, the total sums of squares of y about
/// zero and about its weighted mean, and which of the candidate columns are constant.
struct residual_pass_sums {
  double rss = 0;           ///< Σ w e²
  double tss_raw = 0;       ///< Σ w y²
  double tss_centred = 0;   ///< Σ w (y − ȳ_w)²
  std::vector<char> constant;  ///< per candidate column: every entry equals its first
  /// The three sums are 2^exponent times these (the same numbers for the identity transform; with
  /// a scaled y they stay finite where the sums themselves leave the double range).
  double scaled_rss = 0, scaled_tss_raw = 0, scaled_tss_centred = 0;
  int exponent = 0;
};

/// Residuals e = y − Xb over the kept columns of a fit (b = ls.coef), written to e[0..n) unless e is
/// null, and RSS = Σ w_i e_i² (w null: w ≡ 1), in one blocked pass over X with the fixed row chunks.
/// Under a non-identity transform (least_squares.hpp) each block is first transformed in cache, the
/// residuals come from ẽ = ỹ − X̃b̃ (then e = 2^(e_y)·ẽ) and the meat is that of the transformed
/// design, as linear_model_hc_vcov expects; the identity transform reads X and y as they are. The
/// same pass, while each block of X and y is in cache, also gives
///  - the HC0/HC1 meat Σ_i u_i² x_i x_iᵀ, u_i = w_i e_i (rank×rank, symmetric) when `hc_meat` is
///    non-null (the cross-product kernel weights the block's rows by u_i²);
///  - the total sums of squares of y, raw and centred (block means and sums of squares from two
///    sweeps over the cached block, combined exactly: weighted_moments);
///  - whether each column of X listed in `constant_candidates` is constant (for the intercept).
/// Partial results are reduced in chunk order, so they do not depend on the thread count.
residual_pass_sums residuals_and_hc_meat(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                         const double* w, const least_squares_solution& ls, double* e, Eigen::MatrixXd* hc_meat,
                                         const std::vector<Eigen::Index>& constant_candidates = {});

}  // namespace impactkit::detail
