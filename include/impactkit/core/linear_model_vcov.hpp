#pragma once
// Variance of (weighted) least-squares coefficients: iid, HC0–HC3, CR0–CR3.
//
// Work on the transformed model X̃ = √W·X, ẽ = √W·e, with bread B = (X̃'X̃)⁻¹ = R⁻¹R⁻ᵀ (R from the
// QR of X̃) and leverages h_i = x̃_iᵀ B x̃_i.
//   HC2, HC3 (MacKinnon & White 1985): scores scaled by (1−h_i)^(−1/2) and (1−h_i)^(−1).
//   CR2 (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, eq. 6–8 with working model Φ = I):
//     cluster scores X_gᵀW_g A_g e_g with A_g = B_g^(−1/2) (a generalised inverse where B_g is
//     singular), B_g = (I − H)_g (I − H)_gᵀ, (I − H)_g the rows of cluster g of I − X M XᵀW,
//     M = (XᵀWX)⁻¹; t degrees of freedom per coefficient by Satterthwaite under that working model
//     (Bell–McCaffrey; Imbens & Kolesár 2016 eq. 11): ν = (tr G)²/‖G‖²_F with
//     G = Uᵀ(I − H)(I − H)ᵀU and column g of U equal to A_g W_g X_g M c. This is clubSandwich's
//     vcovCR(type = "CR2") + coef_test(test = "Satterthwaite") and estimatr's CR2, weighted or not.
//     B_g = I + U_g C U_gᵀ with U_g = [X_g, W_g X_g] and C = [[M S M, −M], [−M, 0]], S = XᵀW²X: a
//     rank-2p update of I, so B_g^(−1/2) comes from a 2p×2p eigenproblem; G = D + ZᵀCZ likewise.
//   CR3: A_g = (I − H̃_gg)⁻¹, no further factor: Σ_g (β̂₋g − β̂)(β̂₋g − β̂)ᵀ, the cluster jackknife
//     around the full-sample estimate (clubSandwich "CR3"). With Z_g = X̃_g R⁻¹ and
//     C_g = Z_gᵀZ_g = V Λ Vᵀ (p×p), f(H̃_gg) = I + Z_g V diag((f(λ) − 1)/λ) Vᵀ Z_gᵀ.
// No n×n or n_g×n_g matrix is formed: every cluster costs O(n_g p²).
//
// Conditioning. Every variance is computed on the design the least-squares solution was solved on:
// X̃ = X·P, centred on the intercept and equilibrated by powers of two (least_squares.hpp,
// "Conditioning"; the identity for ordinary data), from its R̃ and the residuals of ỹ, and mapped
// back as V = 2^(2e_y)·P Ṽ Pᵀ (least_squares_solution::unscale_vcov; a variance that is not a
// normal double then raises invalid_input). The passes over X transform each block in cache, so
// the meats and leverages are as accurate as the coefficients without a copy of X; only the
// cluster and survey sandwiches of vcov.hpp, which take the scores as a matrix, get an n×p copy
// of X̃ (and only under a non-identity transform).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "fixed_effects.hpp"
#include "groups.hpp"
#include "least_squares.hpp"
#include "../detail/moments.hpp"
#include "../detail/row_blocks.hpp"
#include "../detail/threads.hpp"
#include "vcov.hpp"

namespace impactkit {

namespace detail {

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

}  // namespace detail

/// Leverages h_i = w_i x_iᵀ (X'WX)⁻¹ x_i of the kept columns (w null: unweighted), computed as
/// w_i ‖x̃_i R̃⁻¹‖² on the transformed design (the same numbers, without its cancellation).
Eigen::VectorXd leverages(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w);

namespace detail {

/// (f(λ) − 1)/λ for the CR3 power f(λ) = (1 − λ)⁻¹ of a leverage eigenvalue λ; λ ≈ 1: generalised
/// inverse, f = 0.
double jackknife_weight(double lambda);

}  // namespace detail

/// CR2 (Bell–McCaffrey, working model Φ = I) with Satterthwaite df; one cluster dimension.
vcov_estimate bell_mccaffrey_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w,
                                  const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec);

/// CR2 (delegated to bell_mccaffrey_vcov) or CR3 for a least-squares fit, one cluster dimension;
/// `e` are raw residuals y − Xb.
vcov_estimate bias_reduced_cluster_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls,
                                        const double* w, const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec);

namespace detail {

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

}  // namespace detail

/// HC0/HC1 variance of a least-squares fit from its meat Σ_i (w_i ẽ_i)² x̃_i x̃_iᵀ over the kept
/// columns of the transformed design (as detail::residuals_and_hc_meat or
/// detail::transformed_cross_product compute it; for the identity transform simply Σ (w e)² x xᵀ);
/// n rows. Same factors and conventions as linear_model_vcov, which calls it.
vcov_estimate linear_model_hc_vcov(const least_squares_solution& ls, const Eigen::Ref<const Eigen::MatrixXd>& meat,
                                   const vcov_spec& spec, Eigen::Index n, const absorbed_dof& absorbed = {});

/// Variance of a least-squares fit of any kind in `spec`. `e` = y − Xb (raw), w may be null.
/// With absorbed fixed effects, X and e are the within-transformed design and residuals.
vcov_estimate linear_model_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w,
                                const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec,
                                const absorbed_dof& absorbed = {});

}  // namespace impactkit
