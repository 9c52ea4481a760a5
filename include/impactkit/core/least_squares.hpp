#pragma once
// Weighted linear least squares  min_b Σ w_i (y_i − x_i'b)²  by a single pass of tall-skinny QR.
//
// Algorithm (Demmel, Grigori, Hoemmen & Langou 2012, "Communication-optimal parallel and
// sequential QR and LU factorizations"): the rows of [√w·X  √w·y] are cut into a fixed set of
// chunks; each chunk is reduced block by block to a (k+1)×(k+1) triangular factor with Householder
// QR, and the chunk factors are combined in a fixed order. Householder QR is column-wise backward
// stable, so accuracy is that of a QR of the whole matrix (NIST StRD: see tests/), while X is read
// once, nothing n×k is allocated and the input is never modified.
//
// Rank: the small factor is then re-triangularised column by column in the caller's order; a
// column whose norm after projection on the columns kept before it is ≤ tol · its own norm is
// dropped (the rule of LINPACK dqrdc2 used by R's lm, with tol relative and scale free), so in a
// collinear set the later columns are the ones dropped, as in R and fixest.
//
// Refinement: a backward-stable QR solution has forward error ≈ ε·κ + ε·κ²·‖e‖/(‖X‖‖b‖), which
// for ill-conditioned, large-residual problems (NIST Wampler4/5) leaves 6–8 correct digits. When
// the condition number κ of the column-equilibrated R exceeds 10³, the solution is refined
// (Björck 1967; Higham 2002, §20.5): e = y − Xb and g = X'We are accumulated in extended precision
// (long double), the correction solves R'R·δ = g with the R already computed, and the step repeats
// until ‖δ‖ ≤ 4ε‖b‖ (at most 10 times). Each step is one extra pass over X. A step contracts the
// error by about ε·κ², so refinement is skipped when κ > 10⁷ (e.g. NIST Filip, where the QR
// solution is already the best double precision gives) and stops when ‖δ‖ stops shrinking.
//
// Fast path: the Gram matrix [X y]'W[X y] is formed in the same single pass (blocked, fixed
// chunks) and, when the column-equilibrated Cholesky factor has condition number κ ≤ 10³, the
// normal equations are solved directly: their forward error ≈ ε·κ² ≤ 2·10⁻¹⁰ relative, and no
// column is near collinear (every equilibrated pivot ≥ 1/κ). This is what fixest always does;
// here anything less well conditioned takes the QR route above, which also decides collinearity.
//
// Conditioning (column_transform). Least squares is invariant to column scaling and, with an
// intercept, to shifting a column by a constant, but floating-point sums of squares are not: a
// column x + 10⁹ puts ε·10¹⁸ of rounding into Σx², far above the Σ(x − x̄)² that the slope and its
// variance depend on, and a column × 10³⁰⁰ overflows. So the problem is solved for
//   x̃_j = x_j·2^(−e_j) − τ_j·x_a,   ỹ = y·2^(−e_y) − τ_y·x_a,
// with x_a the intercept (the first column that is constant with a power-of-two value), τ_j ≠ 0 only
// for columns after it: every column brought to magnitude ≈ 1 by a power of two (no rounding) when
// its root mean square leaves [2^−200, 2^200], and centred on its weighted mean (x·2^(−e) and
// τ·x_a are exact, and their difference is exact by Sterbenz's lemma for an offset column) when
// its mean dominates, mean² > 2²⁰·variance. The transform is chosen from the first 1024 rows and
// checked against the Gram matrix of the transformed problem, which is recomputed when the check
// asks for more (at most 4 passes; ordinary data take one, with the identity transform, and no
// pass copies anything). Every later pass (QR, refinement, residuals, meats, leverages) reads the
// transformed columns block by block, in cache, so X is never copied. The collinearity test then
// judges each column against its centred norm. Results are mapped back exactly:
//   X̃ = X·P, P = diag(2^(−e)) − e_a τᵀ (upper triangular),  b = 2^(e_y)·(P b̃ + τ_y e_a),
//   (X'WX)⁻¹ = P (X̃'WX̃)⁻¹ Pᵀ,  V = 2^(2e_y)·P Ṽ Pᵀ,  e = 2^(e_y)·ẽ,  leverages unchanged;
// a coefficient that is not a normal double after the mapping raises invalid_input.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "../detail/cross_product.hpp"
#include "errors.hpp"
#include "../detail/row_blocks.hpp"
#include "../detail/threads.hpp"

namespace impactkit {

/// The column transformation a least-squares problem is solved under (see the file comment):
/// x̃_j = x_j·2^(−e_j) − τ_j·x_a for the k columns of X, and the same for y as column k. Identity
/// (both vectors empty) unless some column needs it.
struct column_transform {
  Eigen::Index columns = 0;     ///< k, the number of columns of X (y is column k)
  Eigen::Index anchor = -1;     ///< the column a others are centred on (−1: none)
  double anchor_value = 0;      ///< its value (a power of two)
  std::vector<int> exponent;    ///< e_j, j = 0..k (empty: all 0)
  std::vector<double> shift;    ///< τ_j, j = 0..k (empty: all 0; τ_j ≠ 0 only for j > a)

  bool identity() const { return exponent.empty() && shift.empty(); }
  bool shifts() const { return !shift.empty(); }
  int e(Eigen::Index j) const { return exponent.empty() ? 0 : exponent[static_cast<std::size_t>(j)]; }
  double tau(Eigen::Index j) const { return shift.empty() ? 0.0 : shift[static_cast<std::size_t>(j)]; }
  /// 2^(−e_j)
  double factor(Eigen::Index j) const { return std::ldexp(1.0, -e(j)); }
  /// dst[i] = x̃_j for the rows of a block: x and anchor point at the block's rows of column j
  /// (or y) and of the anchor column (unused without a shift).
  void apply(Eigen::Index j, const double* x, const double* anchor_rows, Eigen::Index len, double* dst) const {
    const double f = factor(j), t = tau(j);
    if (t != 0) {
      for (Eigen::Index i = 0; i < len; ++i) dst[i] = x[i] * f - t * anchor_rows[i];
    } else if (f != 1) {
      for (Eigen::Index i = 0; i < len; ++i) dst[i] = x[i] * f;
    } else {
      std::copy(x, x + len, dst);
    }
  }
};

/// The solution of a (weighted) least-squares problem on the kept columns.
struct least_squares_solution {
  Eigen::VectorXd coef;                  ///< coefficients of the kept columns, in X's order
  std::vector<Eigen::Index> kept;        ///< indices of kept columns of X
  std::vector<Eigen::Index> dropped;     ///< indices of columns dropped as collinear
  Eigen::MatrixXd r;                     ///< rank×rank upper-triangular R with √W·X_kept = Q·R
  Eigen::MatrixXd r_inverse;             ///< R⁻¹ (upper triangular); bread (X'WX)⁻¹ = R⁻¹R⁻ᵀ
  double rss = 0;                        ///< Σ w_i e_i² (+inf when it exceeds the double range)
  bool normal_equations = false;         ///< solved by the well-conditioned fast path (rss then approximate)
  Eigen::Index nobs = 0;
  /// The same quantities for the transformed problem X̃ b̃ ≈ ỹ the solution was computed on (equal
  /// to the ones above for the identity transform); variances are computed from these and mapped
  /// back (unscale_vcov), so that they are as accurate as the coefficients.
  column_transform transform;
  Eigen::VectorXd scaled_coef;
  Eigen::MatrixXd scaled_r, scaled_r_inverse;
  double scaled_rss = 0;
  Eigen::Index rank() const { return static_cast<Eigen::Index>(kept.size()); }
  /// (X'WX)⁻¹ over the kept columns.
  Eigen::MatrixXd bread() const { return r_inverse * r_inverse.transpose(); }
  /// (X̃'WX̃)⁻¹ over the kept columns.
  Eigen::MatrixXd scaled_bread() const { return scaled_r_inverse * scaled_r_inverse.transpose(); }
  /// 2^(e_y): residuals of the transformed problem times this are the residuals e = y − Xb.
  int y_exponent() const { return transform.e(transform.columns); }
  /// V = 2^(2e_y)·P Ṽ Pᵀ from a p×p matrix Ṽ over the kept columns of the transformed problem
  /// (entries beyond the double range become ±inf or 0; linear_model_vcov checks its variances).
  Eigen::MatrixXd unscale_vcov(const Eigen::MatrixXd& scaled) const {
    if (transform.identity()) return scaled;
    const Eigen::Index p = rank();
    const int ey = y_exponent();
    Eigen::MatrixXd v(p, p);
    for (Eigen::Index c = 0; c < p; ++c)
      for (Eigen::Index j = 0; j < p; ++j) v(j, c) = std::ldexp(scaled(j, c), 2 * ey - transform.e(kept[static_cast<std::size_t>(j)]) - transform.e(kept[static_cast<std::size_t>(c)]));
    const Eigen::Index a = anchor_position();
    if (a >= 0) {
      // row a of P Ṽ: u_c = 2^(−e_a) Ṽ_ac − Σ_l τ_l Ṽ_lc; then (P Ṽ Pᵀ)_ac = u_c 2^(−e_c), (P Ṽ Pᵀ)_aa = 2^(−e_a) u_a − Σ_l τ_l u_l
      const int ea = transform.e(transform.anchor);
      Eigen::VectorXd u(p);
      for (Eigen::Index c = 0; c < p; ++c) {
        double s = std::ldexp(scaled(a, c), -ea);
        for (Eigen::Index l = 0; l < p; ++l) s -= transform.tau(kept[static_cast<std::size_t>(l)]) * scaled(l, c);
        u(c) = s;
      }
      double uaa = std::ldexp(u(a), -ea);
      for (Eigen::Index l = 0; l < p; ++l) uaa -= transform.tau(kept[static_cast<std::size_t>(l)]) * u(l);
      for (Eigen::Index c = 0; c < p; ++c) {
        if (c == a) continue;
        v(a, c) = v(c, a) = std::ldexp(u(c), 2 * ey - transform.e(kept[static_cast<std::size_t>(c)]));
      }
      v(a, a) = std::ldexp(uaa, 2 * ey);
    }
    return v;
  }
  /// Position of the transform's anchor among the kept columns when some column is shifted (−1: none).
  Eigen::Index anchor_position() const {
    if (!transform.shifts()) return -1;
    for (std::size_t j = 0; j < kept.size(); ++j)
      if (kept[j] == transform.anchor) return static_cast<Eigen::Index>(j);
    return -1;
  }
  /// Coefficients over all columns of X, zero for dropped ones (for computing fitted values).
  Eigen::VectorXd coef_full(Eigen::Index k) const {
    Eigen::VectorXd b = Eigen::VectorXd::Zero(k);
    for (std::size_t j = 0; j < kept.size(); ++j) b(kept[j]) = coef(static_cast<Eigen::Index>(j));
    return b;
  }
};

/// Solves min_b ‖√w ⊙ (y − Xb)‖ (w = 1 when `sqrt_w` is null; otherwise sqrt_w[i] = √w_i, length n).
/// Columns whose relative residual norm is ≤ collin_tol are dropped (see file comment).
least_squares_solution solve_least_squares(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                           const Eigen::Ref<const Eigen::VectorXd>& y,
                                           const double* sqrt_w, double collin_tol = 1e-10);

}  // namespace impactkit
