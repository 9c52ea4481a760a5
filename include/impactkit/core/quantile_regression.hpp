#pragma once
// Weighted linear quantile regression (Koenker & Bassett 1978):
//   b(τ) = argmin_b Σ_i w_i ρ_τ(y_i − x_iᵀb),   ρ_τ(u) = u (τ − 1{u < 0}),   0 < τ < 1, w_i > 0.
//
// Algorithm: the Frisch–Newton interior-point method of Portnoy & Koenker (1997, Statistical Science
// 12, "The Gaussian hare and the Laplacian tortoise"; quantreg's rq.fit.fnb) on the dual linear
// programme
//   max_a yᵀa   s.t.  Xᵀa = (1 − τ) Xᵀw,   0 ≤ a ≤ w,
// whose equality multipliers are −b. Weights enter as the upper bounds (equivalent to quantreg's
// scaling of the rows of X and y by w_i, since ρ_τ is positively homogeneous, without copying X).
// Each iteration is one Mehrotra predictor–corrector step: one weighted Gram matrix Xᵀ D X (the
// shared cross-product kernel, fixed row chunks: the same bits for any thread count) factorised once
// and solved twice, and a few matrix–vector passes. It stops when the duality gap falls below
// `tolerance` relative to the objective. For large n (automatic, see `preprocess`) the problem is first
// reduced by Portnoy & Koenker's preprocessing (§6 of the paper; quantreg rq.fit.pfn): a subsample of
// ((p + 1) n)^(2/3) rows is fitted, the rows far from that fit are replaced by two "glob" rows (weighted
// means: ρ_τ is linear on each side of 0), the reduced problem is solved, and rows of the globs whose
// residual has the wrong sign are put back until none has — the optimum of the full problem, at the cost
// of a few passes over X. The interior point lies near the optimal vertex, not on it;
// the solution is then snapped to the basic solution through the p rows with the smallest absolute
// residuals (b = X_h⁻¹ y_h, their residuals set to exactly 0), kept when its objective is not larger
// (up to rounding) — the exact simplex solution
// (quantreg's default rq(method = "br")) for data in general position, where it is unique.
//
// Standard errors (quantreg summary.rq(se = "ker"), Powell 1991 kernel sandwich):
//   V = τ(1 − τ) H⁻¹ J H⁻¹,  J = Σ w_i² x_i x_iᵀ,  H = Σ w_i² f_i x_i x_iᵀ,  f_i = φ(ẽ_i / h) / h,  ẽ_i = w_i e_i,
//   h = (Φ⁻¹(τ + h_n) − Φ⁻¹(τ − h_n)) · min(sd(ẽ), IQR(ẽ) / 1.34)  (sd with n − 1, IQR by R's type-7 quantiles),
//   h_n = n^(−1/3) z_{1−α/2}^(2/3) (1.5 φ(Φ⁻¹(τ))² / (2 Φ⁻¹(τ)² + 1))^(1/3)  (Hall & Sheather 1988, α = 0.05),
// halved while τ ± h_n leaves (0, 1). Under a survey or cluster design the estimating equation
// Σ w_i x_i (τ − 1{e_i < 0}) = 0 gives influence values ψ_i = H⁻¹ w_i x_i (τ − 1{e_i < 0}) with
// H = Σ w_i f_i x_i x_iᵀ (f_i on the unweighted residuals), for the shared variance module
// (influence_vcov.hpp): powell_hessian computes either H.
#include <vector>

#include <Eigen/Core>

namespace impactkit {

struct quantile_regression_options {
  double tau = 0.5;           ///< quantile in (0, 1)
  double tolerance = 1e-12;   ///< duality gap relative to 1 + |objective|
  int max_iter = 200;         ///< interior-point iterations
  double step_fraction = 0.99995;  ///< fraction of the step to the boundary (quantreg's beta)
  bool snap_to_vertex = true; ///< finish on the basic solution through the p smallest residuals
  /// Portnoy–Koenker preprocessing (subsample, globs, sign checks): 1 on, 0 off, −1 automatic
  /// (n ≥ 50 000 and ((p + 1) n)^(2/3) < n / 4). The solution is the same optimum either way.
  int preprocess = -1;
};

struct quantile_regression_result {
  Eigen::VectorXd coef;        ///< p coefficients
  Eigen::VectorXd residuals;   ///< y − Xb (unweighted); exactly 0 on the basis rows of a vertex
  double objective = 0;        ///< Σ w_i ρ_τ(e_i)
  double duality_gap = 0;      ///< relative gap at the last interior-point iterate
  int iterations = 0;
  bool vertex = false;         ///< true when b is the basic solution through `basis`
  std::vector<Eigen::Index> basis;  ///< the p interpolated rows (vertex only)
  double tau = 0.5;
  Eigen::Index nobs = 0;
  bool preprocessed = false;   ///< solved through the Portnoy–Koenker reduced problem
  Eigen::Index reduced_rows = 0;  ///< rows of the last problem solved (n without preprocessing)
};

/// Weighted quantile regression of y on X (n×p, full column rank; an intercept is a column of ones).
/// `weights` empty: all 1. Throws invalid_input on non-finite data, non-positive weights, τ outside
/// (0, 1), fewer rows than columns or collinear columns; convergence_error at the iteration cap.
quantile_regression_result quantile_regression(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                               const Eigen::Ref<const Eigen::VectorXd>& weights,
                                               const quantile_regression_options& options = {});

/// Hall–Sheather (1988) bandwidth h_n for the sparsity at quantile τ, n observations, level 1 − α
/// (quantreg bandwidth.rq(hs = TRUE)).
double hall_sheather_bandwidth(double tau, Eigen::Index n, double alpha = 0.05);

struct powell_kernel {
  Eigen::MatrixXd hessian;    ///< H = Σ c_i φ(e_i/h)/h x_i x_iᵀ
  double bandwidth = 0;       ///< h, in the units of e
};

/// Powell's kernel estimate of H (see the header comment): c null means c ≡ 1; e are the residuals the
/// kernel and its bandwidth use (quantreg "ker": w∘e and c = w²; design: e and c = w).
powell_kernel powell_hessian(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& e,
                             const double* c, double tau, double alpha = 0.05);

struct quantile_kernel_vcov_result {
  Eigen::MatrixXd vcov;       ///< τ(1 − τ) H⁻¹ J H⁻¹
  Eigen::MatrixXd hessian;    ///< H
  double bandwidth = 0;
};

/// quantreg's summary.rq(se = "ker") covariance of a weighted quantile regression fit.
quantile_kernel_vcov_result quantile_kernel_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& residuals,
                                                 const Eigen::Ref<const Eigen::VectorXd>& weights, double tau);

}  // namespace impactkit
