#pragma once
// Private to impactkit_core (not installed): the steps of the one-pass TSQR solver and its column
// transform (least_squares.cpp), shared with the variance passes (linear_model_vcov.cpp) and quantile
// regression. The public API is include/impactkit/core/least_squares.hpp.
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/least_squares.hpp>

namespace impactkit::detail {

/// Triangular factor R of the stacked matrix [top; bottom] (both with `cols` columns).
void stack_and_triangularise(Eigen::MatrixXd& work, Eigen::Index rows_used, Eigen::MatrixXd& r_out);

/// Rows [b0, b0 + len) of the transformed columns `cols` of X (an index equal to X.cols() means y)
/// into dst, column c at dst + c·ld.
void load_transformed(const column_transform& t, const Eigen::Ref<const Eigen::MatrixXd>& X, const double* y,
                      const std::vector<Eigen::Index>& cols, Eigen::Index b0, Eigen::Index len, double* dst, Eigen::Index ld);

/// 0..k: every column of [X y].
std::vector<Eigen::Index> all_columns(Eigen::Index k);

/// R factor ((k+1)×(k+1)) of [√w·X̃  √w·ỹ] over rows [begin, end), block by block.
Eigen::MatrixXd chunk_r_factor(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                               const double* sqrt_w, Eigen::Index begin, Eigen::Index end, Eigen::Index block,
                               const column_transform& t);

/// [X̃ ỹ]'W[X̃ ỹ] ((k+1)×(k+1)) in one pass over fixed chunks; throws on a non-finite entry.
Eigen::MatrixXd weighted_gram(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                              const double* sqrt_w, const column_transform& t);

/// κ_F of R with unit-norm columns: ‖R D⁻¹‖_F · ‖D R⁻¹‖_F, D = diag of column norms.
double equilibrated_condition(const Eigen::MatrixXd& r, const Eigen::MatrixXd& r_inverse);

/// Extended-precision iterative refinement of sol.scaled_coef (and sol.scaled_rss) for the
/// transformed problem sol.transform; see the file comment.
void refine_least_squares(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const double* sqrt_w,
                          least_squares_solution& sol);

constexpr int kScaleRange = 200;               ///< per-row magnitudes within 2^±200 are used as they are
constexpr double kOffsetRatio = 1048576.0;     ///< 2^20: a column with mean² > 2^20·variance is centred

bool power_of_two(double v);

/// The power-of-two exponent of a positive finite magnitude (m ∈ [2^(e−1), 2^e)).
int magnitude_exponent(double m);

/// First guess of the transform from the first min(n, 1024) rows (see the file comment).
column_transform sample_transform(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y);

/// Checks t against the Gram matrix of [X̃ ỹ] computed under it: centres a column (j after the
/// anchor) whose weighted mean still dominates, and rescales a column whose root mean square is
/// outside [2^−200, 2^200] (from an exact max |x| when its sum of squares over- or underflowed).
/// `w_total` is (an estimate of) Σw. Returns whether t changed; the Gram matrix is then recomputed.
bool adjust_transform(const Eigen::MatrixXd& gram, column_transform& t, const Eigen::Ref<const Eigen::MatrixXd>& X,
                      const Eigen::Ref<const Eigen::VectorXd>& y, double w_total);

/// Least squares of ỹ on X̃ under the transform t (adjusted here against the Gram matrix): fills
/// the scaled fields, kept/dropped and the transform of the solution.
least_squares_solution solve_transformed(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                         const double* sqrt_w, double collin_tol, column_transform t);

/// The coefficients, R, R⁻¹ and RSS of the original problem from the scaled ones (file comment);
/// throws invalid_input when a coefficient is not a normal double.
void unscale_solution(least_squares_solution& sol);

}  // namespace impactkit::detail
