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
#include <Eigen/Cholesky>
#include <Eigen/Householder>
#include <Eigen/QR>

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
  /// (entries beyond the double range become ±inf or 0; see detail::unscaled_vcov for a checked version).
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

namespace detail {

/// Triangular factor R of the stacked matrix [top; bottom] (both with `cols` columns).
inline void stack_and_triangularise(Eigen::MatrixXd& work, Eigen::Index rows_used, Eigen::MatrixXd& r_out) {
  const Eigen::Index p = work.cols();
  Eigen::Ref<Eigen::MatrixXd> stacked(work.topRows(rows_used));
  Eigen::HouseholderQR<Eigen::Ref<Eigen::MatrixXd>> qr(stacked);  // factorises in place
  r_out = work.topRows(std::min(rows_used, p)).triangularView<Eigen::Upper>();
  if (r_out.rows() < p) {  // fewer rows than columns so far: pad with zero rows
    Eigen::MatrixXd padded = Eigen::MatrixXd::Zero(p, p);
    padded.topRows(r_out.rows()) = r_out;
    r_out.swap(padded);
  }
}

/// Rows [b0, b0 + len) of the transformed columns `cols` of X (an index equal to X.cols() means y)
/// into dst, column c at dst + c·ld.
inline void load_transformed(const column_transform& t, const Eigen::Ref<const Eigen::MatrixXd>& X, const double* y,
                             const std::vector<Eigen::Index>& cols, Eigen::Index b0, Eigen::Index len, double* dst, Eigen::Index ld) {
  const Eigen::Index k = X.cols();
  const double* anchor = t.anchor >= 0 ? X.col(t.anchor).data() + b0 : nullptr;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const Eigen::Index j = cols[c];
    t.apply(j, (j == k ? y : X.col(j).data()) + b0, anchor, len, dst + static_cast<Eigen::Index>(c) * ld);
  }
}

/// 0..k: every column of [X y].
inline std::vector<Eigen::Index> all_columns(Eigen::Index k) {
  std::vector<Eigen::Index> cols(static_cast<std::size_t>(k) + 1);
  for (Eigen::Index j = 0; j <= k; ++j) cols[static_cast<std::size_t>(j)] = j;
  return cols;
}

/// R factor ((k+1)×(k+1)) of [√w·X̃  √w·ỹ] over rows [begin, end), block by block.
inline Eigen::MatrixXd chunk_r_factor(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                      const double* sqrt_w, Eigen::Index begin, Eigen::Index end, Eigen::Index block,
                                      const column_transform& t) {
  const Eigen::Index k = X.cols(), p = k + 1;
  Eigen::MatrixXd work(p + block, p);
  Eigen::MatrixXd r = Eigen::MatrixXd::Zero(p, p);
  const std::vector<Eigen::Index> cols = t.identity() ? std::vector<Eigen::Index>() : all_columns(k);
  for (Eigen::Index b0 = begin; b0 < end; b0 += block) {
    const Eigen::Index len = std::min(block, end - b0);
    work.topRows(p) = r;
    if (t.identity()) {
      work.block(p, 0, len, k) = X.middleRows(b0, len);
      work.block(p, k, len, 1) = y.segment(b0, len);
    } else {
      load_transformed(t, X, y.data(), cols, b0, len, work.data() + p, work.rows());
    }
    if (sqrt_w) {
      const Eigen::Map<const Eigen::VectorXd> sw(sqrt_w + b0, len);
      work.middleRows(p, len).array().colwise() *= sw.array();
    }
    stack_and_triangularise(work, p + len, r);
  }
  return r;
}

/// [X̃ ỹ]'W[X̃ ỹ] ((k+1)×(k+1)) in one pass over fixed chunks; throws on a non-finite entry.
inline Eigen::MatrixXd weighted_gram(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                     const double* sqrt_w, const column_transform& t) {
  const Eigen::Index n = X.rows(), k = X.cols(), p = k + 1;
  const Eigen::Index block = 1024;
  const row_chunks chunks = make_row_chunks(n, 8 * block);
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(chunks.count));
  std::vector<Eigen::Index> bad(static_cast<std::size_t>(chunks.count), -1);
  const bool copy = sqrt_w || !t.identity();
  const std::vector<Eigen::Index> cols = t.identity() ? std::vector<Eigen::Index>() : all_columns(k);
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(p, p);
    Eigen::MatrixXd buf(copy ? block : 0, p);
    std::vector<const double*> col(static_cast<std::size_t>(p));
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      if (!t.identity()) {  // transformed copy of the block, then (weighted) scaled by √w
        load_transformed(t, X, y.data(), cols, b0, len, buf.data(), block);
        if (sqrt_w) {
          const Eigen::Map<const Eigen::ArrayXd> sw(sqrt_w + b0, len);
          for (Eigen::Index j = 0; j < p; ++j) buf.col(j).head(len).array() *= sw;
        }
        for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = buf.col(j).data();
      } else if (sqrt_w) {  // scaled copy √w·[X y] of the block
        const Eigen::Map<const Eigen::ArrayXd> sw(sqrt_w + b0, len);
        for (Eigen::Index j = 0; j < k; ++j) buf.col(j).head(len).array() = X.col(j).segment(b0, len).array() * sw;
        buf.col(k).head(len).array() = y.segment(b0, len).array() * sw;
        for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = buf.col(j).data();
      } else {
        for (Eigen::Index j = 0; j < k; ++j) col[static_cast<std::size_t>(j)] = X.col(j).data() + b0;
        col[static_cast<std::size_t>(k)] = y.data() + b0;
      }
      accumulate_cross_product(col.data(), p, len, acc.data());
    }
    // A NaN or ±Inf anywhere in the chunk makes a diagonal sum of squares non-finite (so does an
    // overflowing square, which is no input error): only then look for the offending block.
    if (!acc.diagonal().allFinite())
      for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
        const Eigen::Index len = std::min(block, chunks.end(c) - b0);
        if (!X.middleRows(b0, len).allFinite() || !y.segment(b0, len).allFinite()) {
          bad[static_cast<std::size_t>(c)] = b0;
          break;
        }
      }
    partial[static_cast<std::size_t>(c)] = acc;
  }
  for (Eigen::Index c = 0; c < chunks.count; ++c)
    if (bad[static_cast<std::size_t>(c)] >= 0) {
      const Eigen::Index b0 = bad[static_cast<std::size_t>(c)], len = std::min(block, chunks.end(c) - b0);
      require_finite(y.segment(b0, len), "solve_least_squares", "y");
      require_finite(X.middleRows(b0, len), "solve_least_squares", "X");
    }
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(p, p);
  for (const auto& m : partial) gram += m;
  return symmetric_from_lower(gram);
}

/// κ_F of R with unit-norm columns: ‖R D⁻¹‖_F · ‖D R⁻¹‖_F, D = diag of column norms.
inline double equilibrated_condition(const Eigen::MatrixXd& r, const Eigen::MatrixXd& r_inverse) {
  const Eigen::VectorXd norms = r.colwise().norm().transpose();
  const double a = (r * norms.cwiseInverse().asDiagonal()).norm();
  const double b = (norms.asDiagonal() * r_inverse).norm();
  return a * b;
}

/// Extended-precision iterative refinement of sol.scaled_coef (and sol.scaled_rss) for the
/// transformed problem sol.transform; see the file comment.
inline void refine_least_squares(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const double* sqrt_w,
                                 least_squares_solution& sol) {
  const double kappa = equilibrated_condition(sol.scaled_r, sol.scaled_r_inverse);
  if (kappa <= 1e3 || kappa > 1e7) return;
  const Eigen::Index n = X.rows(), k = X.cols(), p = sol.rank();
  const column_transform& t = sol.transform;
  using ext = long double;
  // x̃_ij = x_ij·f_j − τ_j·a_i, the same expression as column_transform::apply
  std::vector<double> f(static_cast<std::size_t>(p)), tau(static_cast<std::size_t>(p));
  for (Eigen::Index j = 0; j < p; ++j) {
    f[static_cast<std::size_t>(j)] = t.factor(sol.kept[static_cast<std::size_t>(j)]);
    tau[static_cast<std::size_t>(j)] = t.tau(sol.kept[static_cast<std::size_t>(j)]);
  }
  const double fy = t.factor(k), tauy = t.tau(k);
  const double* anchor = t.anchor >= 0 ? X.col(t.anchor).data() : nullptr;
  const row_chunks chunks = make_row_chunks(n, 8192);
  double last_step = std::numeric_limits<double>::infinity();
  for (int step = 0; step < 10; ++step) {
    std::vector<std::vector<ext>> part_g(static_cast<std::size_t>(chunks.count), std::vector<ext>(static_cast<std::size_t>(p), 0));
    std::vector<ext> part_rss(static_cast<std::size_t>(chunks.count), 0);
    const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (Eigen::Index c = 0; c < chunks.count; ++c) {
      std::vector<ext>& g = part_g[static_cast<std::size_t>(c)];
      std::vector<double> xt(static_cast<std::size_t>(p));
      ext rss = 0;
      for (Eigen::Index i = chunks.begin(c); i < chunks.end(c); ++i) {
        const double ai = anchor ? anchor[i] : 0.0;
        for (Eigen::Index j = 0; j < p; ++j)
          xt[static_cast<std::size_t>(j)] = X(i, sol.kept[static_cast<std::size_t>(j)]) * f[static_cast<std::size_t>(j)] - tau[static_cast<std::size_t>(j)] * ai;
        ext e = y(i) * fy - tauy * ai;
        for (Eigen::Index j = 0; j < p; ++j) e -= static_cast<ext>(xt[static_cast<std::size_t>(j)]) * sol.scaled_coef(j);
        const ext w = sqrt_w ? static_cast<ext>(sqrt_w[i]) * sqrt_w[i] : 1.0L;
        rss += w * e * e;
        for (Eigen::Index j = 0; j < p; ++j) g[static_cast<std::size_t>(j)] += w * xt[static_cast<std::size_t>(j)] * e;
      }
      part_rss[static_cast<std::size_t>(c)] = rss;
    }
    Eigen::VectorXd g(p);
    ext rss = 0;
    for (Eigen::Index j = 0; j < p; ++j) {
      ext s = 0;
      for (const auto& part : part_g) s += part[static_cast<std::size_t>(j)];
      g(j) = static_cast<double>(s);
    }
    for (ext r : part_rss) rss += r;
    sol.scaled_rss = static_cast<double>(rss);
    const Eigen::VectorXd delta = sol.scaled_r_inverse * (sol.scaled_r_inverse.transpose() * g);
    const double size = delta.norm();
    if (!(size < 0.5 * last_step)) break;  // not contracting: keep the current solution
    sol.scaled_coef += delta;
    last_step = size;
    if (!(size > 4 * std::numeric_limits<double>::epsilon() * sol.scaled_coef.norm())) break;
  }
}

}  // namespace detail

namespace detail {

constexpr int kScaleRange = 200;               ///< per-row magnitudes within 2^±200 are used as they are
constexpr double kOffsetRatio = 1048576.0;     ///< 2^20: a column with mean² > 2^20·variance is centred

inline bool power_of_two(double v) {
  int e = 0;
  return std::isfinite(v) && v != 0 && std::fabs(std::frexp(v, &e)) == 0.5;
}

/// The power-of-two exponent of a positive finite magnitude (m ∈ [2^(e−1), 2^e)).
inline int magnitude_exponent(double m) {
  int e = 0;
  std::frexp(m, &e);
  return e;
}

/// First guess of the transform from the first min(n, 1024) rows (see the file comment).
inline column_transform sample_transform(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y) {
  const Eigen::Index n = X.rows(), k = X.cols(), len = std::min<Eigen::Index>(n, 1024);
  column_transform t;
  t.columns = k;
  auto column = [&](Eigen::Index j) { return j == k ? y.data() : X.col(j).data(); };
  std::vector<int> e(static_cast<std::size_t>(k) + 1, 0);
  bool scaled = false;
  for (Eigen::Index j = 0; j <= k; ++j) {
    const double* x = column(j);
    double m = 0;
    for (Eigen::Index i = 0; i < len; ++i) m = std::max(m, std::fabs(x[i]));
    if (m > 0 && std::isfinite(m)) {
      const int ex = magnitude_exponent(m);
      if (ex > kScaleRange || ex < -kScaleRange) {
        e[static_cast<std::size_t>(j)] = ex;
        scaled = true;
      }
    }
  }
  if (scaled) t.exponent = e;
  for (Eigen::Index a = 0; a < k && t.anchor < 0; ++a) {
    const double v = X(0, a);
    if (!power_of_two(v) || X(n - 1, a) != v) continue;
    const double* x = X.col(a).data();
    bool constant = true;
    for (Eigen::Index i = 1; i < len && constant; ++i) constant = x[i] == v;
    if (constant) {
      t.anchor = a;
      t.anchor_value = v;
    }
  }
  if (t.anchor < 0) return t;
  std::vector<double> tau(static_cast<std::size_t>(k) + 1, 0.0);
  bool shifted = false;
  for (Eigen::Index j = t.anchor + 1; j <= k; ++j) {
    const double* x = column(j);
    const double f = t.factor(j);
    double s = 0;
    for (Eigen::Index i = 0; i < len; ++i) s += x[i] * f;
    const double mean = s / static_cast<double>(len);
    double m2 = 0;
    for (Eigen::Index i = 0; i < len; ++i) m2 += (x[i] * f - mean) * (x[i] * f - mean);
    if (mean != 0 && std::isfinite(mean) && m2 * kOffsetRatio < static_cast<double>(len) * mean * mean) {
      tau[static_cast<std::size_t>(j)] = mean / t.anchor_value;
      shifted = true;
    }
  }
  if (shifted) t.shift = tau;
  return t;
}

/// Checks t against the Gram matrix of [X̃ ỹ] computed under it: centres a column (j after the
/// anchor) whose weighted mean still dominates, and rescales a column whose root mean square is
/// outside [2^−200, 2^200] (from an exact max |x| when its sum of squares over- or underflowed).
/// `w_total` is (an estimate of) Σw. Returns whether t changed; the Gram matrix is then recomputed.
inline bool adjust_transform(const Eigen::MatrixXd& gram, column_transform& t, const Eigen::Ref<const Eigen::MatrixXd>& X,
                             const Eigen::Ref<const Eigen::VectorXd>& y, double w_total) {
  const Eigen::Index k = X.cols();
  const double big = std::numeric_limits<double>::max();
  std::vector<int> e(static_cast<std::size_t>(k) + 1);
  std::vector<double> tau(static_cast<std::size_t>(k) + 1);
  for (Eigen::Index j = 0; j <= k; ++j) {
    e[static_cast<std::size_t>(j)] = t.e(j);
    tau[static_cast<std::size_t>(j)] = t.tau(j);
  }
  bool changed = false;
  if (t.anchor >= 0) {
    const Eigen::Index a = t.anchor;
    const double va = t.anchor_value * t.factor(a), gaa = gram(a, a);
    if (gaa > 0 && gaa <= big) {
      const double W = gaa / (va * va);
      for (Eigen::Index j = a + 1; j <= k; ++j) {
        const double d = gram(j, j);
        if (!(d > 0 && d <= big)) continue;
        const double m = va * gram(a, j) / gaa;  // weighted mean of x̃_j
        if (m != 0 && std::isfinite(m) && d - W * m * m <= d / kOffsetRatio) {
          tau[static_cast<std::size_t>(j)] += m / t.anchor_value;
          changed = true;
        }
      }
    }
  }
  for (Eigen::Index j = 0; j <= k; ++j) {
    const double d = gram(j, j);
    const std::size_t jj = static_cast<std::size_t>(j);
    if (d > 0 && d <= big) {
      const double rms2 = d / w_total;
      if (rms2 <= std::ldexp(1.0, 2 * kScaleRange) && rms2 >= std::ldexp(1.0, -2 * kScaleRange)) continue;
      const int delta = magnitude_exponent(std::sqrt(rms2));
      e[jj] += delta;
      tau[jj] = std::ldexp(tau[jj], -delta);
      changed = true;
      continue;
    }
    // the sum of squares overflowed or underflowed (or the column is zero): scale from max |x|
    const double* x = j == k ? y.data() : X.col(j).data();
    double m = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) m = std::max(m, std::fabs(x[i]));
    int ex = m > 0 && std::isfinite(m) ? magnitude_exponent(m) : 0;
    if (ex <= kScaleRange && ex >= -kScaleRange) ex = 0;
    if (ex != e[jj] || tau[jj] != 0) {
      e[jj] = ex;
      tau[jj] = 0;
      changed = true;
    }
  }
  if (!changed) return false;
  const bool any_e = std::any_of(e.begin(), e.end(), [](int v) { return v != 0; });
  const bool any_tau = std::any_of(tau.begin(), tau.end(), [](double v) { return v != 0; });
  t.exponent = any_e ? e : std::vector<int>();
  t.shift = any_tau ? tau : std::vector<double>();
  return true;
}

/// Least squares of ỹ on X̃ under the transform t (adjusted here against the Gram matrix): fills
/// the scaled fields, kept/dropped and the transform of the solution.
inline least_squares_solution solve_transformed(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                                const double* sqrt_w, double collin_tol, column_transform t) {
  const Eigen::Index n = X.rows(), k = X.cols(), p = k + 1;
  double w_total = static_cast<double>(n);
  if (sqrt_w) {
    const Eigen::Index len = std::min<Eigen::Index>(n, 1024);
    double s = 0;
    for (Eigen::Index i = 0; i < len; ++i) s += sqrt_w[i] * sqrt_w[i];
    w_total = s / static_cast<double>(len) * static_cast<double>(n);
  }
  Eigen::MatrixXd gram;
  for (int pass = 0;; ++pass) {
    gram = weighted_gram(X, y, sqrt_w, t);
    if (pass == 3 || !adjust_transform(gram, t, X, y, w_total)) break;
  }
  least_squares_solution sol;
  sol.nobs = n;
  sol.transform = t;

  // Fast path: normal equations when the equilibrated problem is well conditioned.
  {
    const Eigen::VectorXd scale = gram.diagonal().head(k).cwiseSqrt();
    if ((scale.array() > 0).all() && scale.allFinite()) {
      const Eigen::VectorXd inv = scale.cwiseInverse();
      const Eigen::MatrixXd equilibrated = inv.asDiagonal() * gram.topLeftCorner(k, k) * inv.asDiagonal();
      Eigen::LLT<Eigen::MatrixXd> chol(equilibrated);
      if (chol.info() == Eigen::Success) {
        const Eigen::MatrixXd rs = chol.matrixU();
        const Eigen::MatrixXd rs_inverse = rs.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(k, k));
        if (rs.norm() * rs_inverse.norm() <= 1e3) {
          for (Eigen::Index j = 0; j < k; ++j) sol.kept.push_back(j);
          sol.scaled_r = rs * scale.asDiagonal();                       // R'R = X̃'WX̃
          sol.scaled_r_inverse = inv.asDiagonal() * rs_inverse;
          const Eigen::VectorXd xty = gram.col(k).head(k);
          sol.scaled_coef = sol.scaled_r_inverse * (sol.scaled_r_inverse.transpose() * xty);
          const Eigen::VectorXd qty = sol.scaled_r_inverse.transpose() * xty;
          sol.scaled_rss = std::max(gram(k, k) - qty.squaredNorm(), 0.0);  // callers needing full accuracy recompute from residuals
          sol.normal_equations = true;
          return sol;
        }
      }
    }
  }

  // Stage 1: chunk factors (parallel, fixed partition) and their fixed-order combination.
  const Eigen::Index block = std::max<Eigen::Index>(512, 4 * p);
  const row_chunks chunks = make_row_chunks(n, 4 * block);
  std::vector<Eigen::MatrixXd> chunk_r(static_cast<std::size_t>(chunks.count));
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c)
    chunk_r[static_cast<std::size_t>(c)] = chunk_r_factor(X, y, sqrt_w, chunks.begin(c), chunks.end(c), block, t);
  Eigen::MatrixXd m = chunk_r[0];
  if (chunks.count > 1) {
    Eigen::MatrixXd work(2 * p, p);
    for (std::size_t c = 1; c < chunk_r.size(); ++c) {
      work.topRows(p) = m;
      work.bottomRows(p) = chunk_r[c];
      stack_and_triangularise(work, 2 * p, m);
    }
  }

  // Stage 2: re-triangularise the (k+1)×(k+1) factor in column order, dropping collinear columns.
  Eigen::VectorXd norms = m.leftCols(k).colwise().norm().transpose();
  Eigen::Index rank = 0;
  Eigen::VectorXd essential;
  double tau = 0, beta = 0;
  for (Eigen::Index j = 0; j < k; ++j) {
    const double resid = m.col(j).tail(p - rank).norm();
    if (!(norms(j) > 0) || resid <= collin_tol * norms(j)) {
      sol.dropped.push_back(j);
      continue;
    }
    // Householder reflection zeroing m(rank+1:, j), applied to the columns after j (and y).
    const Eigen::Index len = p - rank;
    essential.resize(len - 1);
    m.col(j).tail(len).makeHouseholder(essential, tau, beta);
    Eigen::VectorXd workspace(k - j);
    m.block(rank, j + 1, len, k - j).applyHouseholderOnTheLeft(essential, tau, workspace.data());
    m(rank, j) = beta;
    m.col(j).tail(len - 1).setZero();
    sol.kept.push_back(j);
    ++rank;
  }
  require(rank > 0, "solve_least_squares", "the design matrix has rank zero (all columns are zero or collinear)");

  sol.scaled_r.resize(rank, rank);
  for (Eigen::Index a = 0; a < rank; ++a) sol.scaled_r.col(a) = m.col(sol.kept[static_cast<std::size_t>(a)]).head(rank);
  sol.scaled_r.triangularView<Eigen::StrictlyLower>().setZero();
  const Eigen::VectorXd qty = m.col(k).head(rank);
  sol.scaled_coef = sol.scaled_r.triangularView<Eigen::Upper>().solve(qty);
  sol.scaled_rss = m.col(k).tail(p - rank).squaredNorm();
  sol.scaled_r_inverse = sol.scaled_r.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(rank, rank));
  refine_least_squares(X, y, sqrt_w, sol);
  return sol;
}

/// The coefficients, R, R⁻¹ and RSS of the original problem from the scaled ones (file comment);
/// throws invalid_input when a coefficient is not a normal double.
inline void unscale_solution(least_squares_solution& sol) {
  const column_transform& t = sol.transform;
  if (t.identity()) {
    sol.coef = sol.scaled_coef;
    sol.r = sol.scaled_r;
    sol.r_inverse = sol.scaled_r_inverse;
    sol.rss = sol.scaled_rss;
    return;
  }
  const Eigen::Index p = sol.rank(), k = t.columns;
  const int ey = sol.y_exponent();
  const Eigen::Index a = sol.anchor_position();
  auto col_of = [&](Eigen::Index j) { return sol.kept[static_cast<std::size_t>(j)]; };
  sol.coef.resize(p);
  sol.r.resize(p, p);
  sol.r_inverse.resize(p, p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const int ej = t.e(col_of(j));
    sol.coef(j) = std::ldexp(sol.scaled_coef(j), ey - ej);
    for (Eigen::Index i = 0; i < p; ++i) {
      sol.r(i, j) = std::ldexp(sol.scaled_r(i, j), ej);
      sol.r_inverse(j, i) = std::ldexp(sol.scaled_r_inverse(j, i), -ej);
    }
  }
  if (a >= 0) {
    const int ea = t.e(t.anchor);
    double ba = std::ldexp(sol.scaled_coef(a), -ea) + t.tau(k);
    for (Eigen::Index l = 0; l < p; ++l) ba -= t.tau(col_of(l)) * sol.scaled_coef(l);
    sol.coef(a) = std::ldexp(ba, ey);
    for (Eigen::Index j = 0; j < p; ++j) {
      const double tj = t.tau(col_of(j));
      if (tj == 0) continue;
      const int ej = t.e(col_of(j));
      for (Eigen::Index i = 0; i < p; ++i) sol.r(i, j) += tj * std::ldexp(sol.scaled_r(i, a), ej + ea);
      sol.r_inverse.row(a) -= tj * sol.scaled_r_inverse.row(j);
    }
  }
  sol.rss = std::ldexp(sol.scaled_rss, 2 * ey);
  const double tiny = std::numeric_limits<double>::min(), big = std::numeric_limits<double>::max();
  for (Eigen::Index j = 0; j < p; ++j) {
    const double b = std::fabs(sol.coef(j));
    if (sol.scaled_coef(j) != 0 && !(b >= tiny && b <= big)) {
      const double log10b = std::log10(std::fabs(sol.scaled_coef(j))) + (ey - t.e(col_of(j))) * std::log10(2.0);
      throw_invalid("solve_least_squares", "the coefficient of column " + std::to_string(col_of(j)) + " is about 1e" +
                                               std::to_string(static_cast<long>(std::lround(log10b))) +
                                               ", outside the range of double precision; express y or that column in other units "
                                               "(multiply or divide by a power of ten)");
    }
  }
}

}  // namespace detail

/// Solves min_b ‖√w ⊙ (y − Xb)‖ (w = 1 when `sqrt_w` is null; otherwise sqrt_w[i] = √w_i, length n).
/// Columns whose relative residual norm is ≤ collin_tol are dropped (see file comment).
inline least_squares_solution solve_least_squares(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                                  const Eigen::Ref<const Eigen::VectorXd>& y,
                                                  const double* sqrt_w, double collin_tol = 1e-10) {
  const Eigen::Index n = X.rows(), k = X.cols();
  detail::require(y.size() == n, "solve_least_squares", "y has " + std::to_string(y.size()) + " rows but X has " + std::to_string(n));
  detail::require(k >= 1, "solve_least_squares", "X has no columns");
  detail::require(n >= 1, "solve_least_squares", "no observations");
  column_transform t = detail::sample_transform(X, y);
  least_squares_solution sol = detail::solve_transformed(X, y, sqrt_w, collin_tol, t);
  if (sol.transform.shifts() && sol.anchor_position() < 0) {
    // the intercept was dropped as collinear with earlier columns: no centring on it
    t = sol.transform;
    t.anchor = -1;
    t.shift.clear();
    if (std::all_of(t.exponent.begin(), t.exponent.end(), [](int e) { return e == 0; })) t.exponent.clear();
    sol = detail::solve_transformed(X, y, sqrt_w, collin_tol, t);
  }
  detail::unscale_solution(sol);
  return sol;
}

}  // namespace impactkit
