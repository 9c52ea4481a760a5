// Weighted quantile regression by the Frisch–Newton interior-point method; Powell kernel sandwich.
// The maths and references are in include/impactkit/core/quantile_regression.hpp.
#include "impactkit/core/quantile_regression.hpp"

#include "least_squares_detail.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <Eigen/QR>
#include <boost/math/distributions/normal.hpp>

#include "impactkit/core/errors.hpp"
#include "impactkit/detail/row_blocks.hpp"
#include "impactkit/detail/score_sums.hpp"
#include "impactkit/detail/threads.hpp"

namespace impactkit {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using detail::require;

constexpr const char* kFn = "quantile_regression";

std::vector<Index> all_columns(Index p) {
  std::vector<Index> cols(static_cast<std::size_t>(p));
  std::iota(cols.begin(), cols.end(), Index{0});
  return cols;
}

/// Xᵀv in fixed row chunks reduced in chunk order (the same bits for any thread count).
VectorXd cross_times(const Eigen::Ref<const MatrixXd>& X, const VectorXd& v) {
  const Index n = X.rows(), p = X.cols();
  const detail::row_chunks chunks = detail::make_row_chunks(n, 16384);
  std::vector<VectorXd> partial(static_cast<std::size_t>(chunks.count));
  const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * p);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Index c = 0; c < chunks.count; ++c) {
    const Index b = chunks.begin(c), len = chunks.end(c) - b;
    partial[static_cast<std::size_t>(c)] = X.middleRows(b, len).transpose() * v.segment(b, len);
  }
  VectorXd total = VectorXd::Zero(p);
  for (const auto& t : partial) total += t;
  return total;
}

/// X b, row blocks in parallel (each row's value does not depend on the split).
VectorXd times(const Eigen::Ref<const MatrixXd>& X, const VectorXd& b) {
  const Index n = X.rows(), p = X.cols();
  VectorXd out(n);
  const detail::row_chunks chunks = detail::make_row_chunks(n, 16384);
  const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * p);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Index c = 0; c < chunks.count; ++c) {
    const Index s = chunks.begin(c), len = chunks.end(c) - s;
    out.segment(s, len).noalias() = X.middleRows(s, len) * b;
  }
  return out;
}

/// Σ_i d_i x_i x_iᵀ with d ≥ 0 (the shared kernel takes u with d = u²).
MatrixXd weighted_gram(const Eigen::Ref<const MatrixXd>& X, const VectorXd& d) {
  const VectorXd u = d.cwiseSqrt();
  return detail::weighted_cross_product(X, all_columns(X.cols()), u.data());
}

/// Σ w_i ρ_τ(e_i).
double check_loss(const VectorXd& e, const double* w, double tau) {
  double s = 0;
  for (Index i = 0; i < e.size(); ++i) s += (w ? w[i] : 1.0) * e(i) * (e(i) < 0 ? tau - 1.0 : tau);
  return s;
}

/// Solves M x = r for the symmetric positive definite p×p M, after Jacobi equilibration
/// (columns of X on very different scales).
class spd_solver {
 public:
  explicit spd_solver(const MatrixXd& M) {
    scale_ = M.diagonal().cwiseMax(std::numeric_limits<double>::min()).cwiseSqrt().cwiseInverse();
    llt_.compute(scale_.asDiagonal() * M * scale_.asDiagonal());
    ok_ = llt_.info() == Eigen::Success;
  }
  bool ok() const { return ok_; }
  VectorXd solve(const VectorXd& r) const { return scale_.asDiagonal() * llt_.solve(scale_.asDiagonal() * r); }

 private:
  VectorXd scale_;
  Eigen::LLT<MatrixXd> llt_;
  bool ok_ = false;
};

/// Largest α ≤ 1 with v + α dv ≥ 0 (elementwise), times `fraction`.
double step_to_boundary(const VectorXd& v, const VectorXd& dv, double fraction) {
  double a = std::numeric_limits<double>::infinity();
  for (Index i = 0; i < v.size(); ++i)
    if (dv(i) < 0) a = std::min(a, -v(i) / dv(i));
  return std::min(1.0, fraction * a);
}

void validate(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y, const Eigen::Ref<const VectorXd>& w,
              const quantile_regression_options& o) {
  require(o.tau > 0 && o.tau < 1, kFn, "tau must be in (0, 1), got " + detail::format_g(o.tau));
  require(o.tolerance > 0 && o.tolerance < 1, kFn, "tolerance must be in (0, 1)");
  require(o.max_iter >= 1, kFn, "max_iter must be at least 1");
  require(o.step_fraction > 0 && o.step_fraction < 1, kFn, "step_fraction must be in (0, 1)");
  require(X.cols() >= 1, kFn, "X has no columns");
  require(y.size() == X.rows(), kFn, "y has " + std::to_string(y.size()) + " rows but X has " + std::to_string(X.rows()));
  require(X.rows() >= X.cols(), kFn, "fewer observations (" + std::to_string(X.rows()) + ") than coefficients (" +
                                         std::to_string(X.cols()) + ")");
  require(w.size() == 0 || w.size() == X.rows(), kFn, "weights has " + std::to_string(w.size()) + " rows but X has " +
                                                         std::to_string(X.rows()));
  detail::require_finite(X, kFn, "X");
  detail::require_finite(y, kFn, "y");
  if (w.size()) detail::require_positive_weights(w.data(), w.size(), kFn);
}

/// Throws naming the first column that is (numerically) a combination of earlier ones.
void require_full_rank(const MatrixXd& gram) {
  const Index p = gram.rows();
  VectorXd s = gram.diagonal().cwiseMax(std::numeric_limits<double>::min()).cwiseSqrt().cwiseInverse();
  const MatrixXd C = s.asDiagonal() * gram * s.asDiagonal();  // correlation-like, unit diagonal
  for (Index j = 0; j < p; ++j) {
    require(gram(j, j) > 0, kFn, "column " + std::to_string(j) + " of X is zero");
    if (j == 0) continue;
    Eigen::LDLT<MatrixXd> ldlt(C.topLeftCorner(j, j));
    const double resid = 1.0 - C.col(j).head(j).dot(ldlt.solve(C.col(j).head(j)));
    require(resid > 1e-10, kFn, "column " + std::to_string(j) + " of X is collinear with earlier columns; drop it");
  }
}

struct interior_point {
  VectorXd x, s, z, v, y;  // dual QR variables a (= x), slack u − a, multipliers of a ≥ 0 and a ≤ u, −b
  double gap = 0;
  int iterations = 0;
};

/// One Newton direction for the complementarity right-hand sides r_xz, r_sv (see the derivation in
/// frisch_newton), with X·dy (kept: the dual residual is then updated without a pass over X).
struct direction {
  VectorXd dx, dy, dz, dv, x_dy;
};

direction newton_direction(const Eigen::Ref<const MatrixXd>& X, const spd_solver& M, const interior_point& ip, const VectorXd& D,
                           const VectorXd& r_p, const VectorXd& r_d, const VectorXd& r_xz, const VectorXd& r_sv) {
  // (X⁻¹Z + S⁻¹V) dx = A'dy + q,  q = X⁻¹ r_xz − S⁻¹ r_sv − r_d;  A D A' dy = r_p − A D q  (A = Xᵀ)
  const VectorXd q = r_xz.cwiseQuotient(ip.x) - r_sv.cwiseQuotient(ip.s) - r_d;
  direction d;
  d.dy = M.solve(r_p - cross_times(X, D.cwiseProduct(q)));
  d.x_dy = times(X, d.dy);
  d.dx = D.cwiseProduct(d.x_dy + q);
  d.dz = (r_xz - ip.z.cwiseProduct(d.dx)).cwiseQuotient(ip.x);
  d.dv = (r_sv + ip.v.cwiseProduct(d.dx)).cwiseQuotient(ip.s);  // ds = −dx
  return d;
}

/// Mehrotra predictor–corrector on  min cᵀx  s.t.  Ax = b, 0 ≤ x ≤ u  (c = −y/scale, A = Xᵀ,
/// b = (1 − τ) Xᵀu). KKT: Ax = b, x + s = u, Aᵀy + z − v = c, x∘z = μ, s∘v = μ.
/// Newton step for the target μ (second-order terms ΔXΔZ, ΔSΔV in the corrector):
///   A dx = r_p = b − Ax,  Aᵀdy + dz − dv = r_d = c − Aᵀy − z + v,  Z dx + X dz = r_xz,  V ds + S dv = r_sv,
///   ds = −dx  ⇒  dx = D(Aᵀdy + q),  A D Aᵀ dy = r_p − A D q,  D = (X⁻¹Z + S⁻¹V)⁻¹.
/// Passes over X per iteration: the Gram matrix A D Aᵀ, and Xᵀ(·) and X(·) for each of the two solves;
/// Aᵀy is carried along (Aᵀy ← Aᵀy + α_d·Aᵀdy) and recomputed every 10 iterations against drift.
interior_point frisch_newton(const Eigen::Ref<const MatrixXd>& X, const VectorXd& c, const VectorXd& u, double tau,
                             const quantile_regression_options& o) {
  const Index n = X.rows();
  interior_point ip;
  ip.x = (1.0 - tau) * u;
  ip.s = tau * u;
  const VectorXd b = cross_times(X, ip.x);
  VectorXd x_y;  // X y
  {  // start from the least-squares dual multipliers: y = (XᵀX)⁻¹ Xᵀ c, r = c − Xy
    const spd_solver M0(weighted_gram(X, VectorXd::Ones(n)));
    if (!M0.ok()) throw convergence_error("impactkit::quantile_regression: XᵀX is singular (collinear columns)");
    ip.y = M0.solve(cross_times(X, c));
    x_y = times(X, ip.y);
    const VectorXd r = c - x_y;
    const double floor = std::max(1e-3 * r.cwiseAbs().mean(), 1e-8);
    ip.z = r.cwiseMax(0.0).array() + floor;
    ip.v = (-r).cwiseMax(0.0).array() + floor;
  }
  VectorXd r_p = b - cross_times(X, ip.x);
  for (ip.iterations = 0; ip.iterations < o.max_iter; ++ip.iterations) {
    if (ip.iterations % 10 == 9) x_y = times(X, ip.y);
    const double objective = std::abs(c.dot(ip.x));
    ip.gap = (ip.x.dot(ip.z) + ip.s.dot(ip.v)) / (1.0 + objective);
    const VectorXd r_d = c - x_y - ip.z + ip.v;
    if (ip.gap < o.tolerance && r_p.norm() <= 1e-9 * (1.0 + b.norm())) break;
    const VectorXd D = (ip.z.cwiseQuotient(ip.x) + ip.v.cwiseQuotient(ip.s)).cwiseInverse();
    const spd_solver M(weighted_gram(X, D));
    if (!M.ok()) throw convergence_error("impactkit::quantile_regression: the Newton system became singular at iteration " +
                                         std::to_string(ip.iterations) + " (nearly collinear columns?)");
    // predictor (affine scaling): μ = 0
    direction d = newton_direction(X, M, ip, D, r_p, r_d, -ip.x.cwiseProduct(ip.z), -ip.s.cwiseProduct(ip.v));
    double ap = std::min(step_to_boundary(ip.x, d.dx, o.step_fraction), step_to_boundary(ip.s, -d.dx, o.step_fraction));
    double ad = std::min(step_to_boundary(ip.z, d.dz, o.step_fraction), step_to_boundary(ip.v, d.dv, o.step_fraction));
    if (std::min(ap, ad) < 1.0) {
      // corrector: centring μ = σ g/(2n), σ = (g_aff/g)³ (Mehrotra 1992), with the second-order terms
      const double g = ip.x.dot(ip.z) + ip.s.dot(ip.v);
      const VectorXd xa = ip.x + ap * d.dx, sa = ip.s - ap * d.dx;
      const double g_aff = xa.dot(ip.z + ad * d.dz) + sa.dot(ip.v + ad * d.dv);
      const double mu = g * std::pow(g_aff / g, 3) / (2.0 * static_cast<double>(n));
      const VectorXd r_xz = (mu - (ip.x.cwiseProduct(ip.z) + d.dx.cwiseProduct(d.dz)).array()).matrix();
      const VectorXd r_sv = (mu - (ip.s.cwiseProduct(ip.v) - d.dx.cwiseProduct(d.dv)).array()).matrix();
      d = newton_direction(X, M, ip, D, r_p, r_d, r_xz, r_sv);
      ap = std::min(step_to_boundary(ip.x, d.dx, o.step_fraction), step_to_boundary(ip.s, -d.dx, o.step_fraction));
      ad = std::min(step_to_boundary(ip.z, d.dz, o.step_fraction), step_to_boundary(ip.v, d.dv, o.step_fraction));
    }
    ip.x += ap * d.dx;
    ip.s -= ap * d.dx;
    ip.y += ad * d.dy;
    x_y += ad * d.x_dy;
    ip.z += ad * d.dz;
    ip.v += ad * d.dv;
    r_p = b - cross_times(X, ip.x);
  }
  return ip;
}

/// The basic solution through the p rows with the smallest |e_i|, if X_h is nonsingular.
bool vertex_through_smallest_residuals(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y, const VectorXd& e,
                                       VectorXd& coef, std::vector<Index>& basis) {
  const Index n = X.rows(), p = X.cols();
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::nth_element(order.begin(), order.begin() + (p - 1), order.end(), [&](Index a, Index b) {
    const double ea = std::abs(e(a)), eb = std::abs(e(b));
    return ea < eb || (ea == eb && a < b);
  });
  basis.assign(order.begin(), order.begin() + p);
  std::sort(basis.begin(), basis.end());
  MatrixXd Xh(p, p);
  VectorXd yh(p);
  for (Index k = 0; k < p; ++k) {
    Xh.row(k) = X.row(basis[static_cast<std::size_t>(k)]);
    yh(k) = y(basis[static_cast<std::size_t>(k)]);
  }
  Eigen::FullPivLU<MatrixXd> lu(Xh);
  if (!lu.isInvertible()) return false;
  coef = lu.solve(yh);
  return coef.allFinite();
}

}  // namespace

double hall_sheather_bandwidth(double tau, Index n, double alpha) {
  require(tau > 0 && tau < 1, "hall_sheather_bandwidth", "tau must be in (0, 1)");
  require(n >= 1, "hall_sheather_bandwidth", "n must be positive");
  const boost::math::normal_distribution<double> N;
  const double x0 = boost::math::quantile(N, tau), f0 = boost::math::pdf(N, x0);
  const double z = boost::math::quantile(N, 1.0 - alpha / 2.0);
  return std::pow(static_cast<double>(n), -1.0 / 3.0) * std::pow(z, 2.0 / 3.0) *
         std::pow(1.5 * f0 * f0 / (2.0 * x0 * x0 + 1.0), 1.0 / 3.0);
}

namespace {

/// R's type-7 quantile of a sorted vector.
double quantile_type7(const std::vector<double>& sorted, double p) {
  const double h = (static_cast<double>(sorted.size()) - 1.0) * p;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - std::floor(h)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

powell_kernel powell_hessian(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& e, const double* c, double tau,
                             double alpha) {
  const char* fn = "powell_hessian";
  const Index n = X.rows();
  require(e.size() == n, fn, "the residuals have " + std::to_string(e.size()) + " rows but X has " + std::to_string(n));
  require(n >= 2, fn, "at least two observations are needed for the kernel bandwidth");
  double hn = hall_sheather_bandwidth(tau, n, alpha);
  while (tau - hn < 0 || tau + hn > 1) hn /= 2;  // quantreg summary.rq
  const boost::math::normal_distribution<double> N;
  std::vector<double> sorted(e.data(), e.data() + n);
  std::sort(sorted.begin(), sorted.end());
  const double mean = e.mean();  // sd computed without overflow (residuals up to ~1e300)
  const double sd = (e.array() - mean).matrix().stableNorm() / std::sqrt(static_cast<double>(n - 1));
  const double iqr = quantile_type7(sorted, 0.75) - quantile_type7(sorted, 0.25);
  powell_kernel k;
  k.bandwidth = (boost::math::quantile(N, tau + hn) - boost::math::quantile(N, tau - hn)) * std::min(sd, iqr / 1.34);
  require(k.bandwidth > 0 && std::isfinite(k.bandwidth), fn,
          "the residuals have no spread (bandwidth " + detail::format_g(k.bandwidth) + "): the sparsity cannot be estimated");
  VectorXd d(n);
  const double inv_root_2pi = 0.3989422804014327;
  for (Index i = 0; i < n; ++i) {
    const double t = e(i) / k.bandwidth;
    d(i) = (c ? c[i] : 1.0) * inv_root_2pi * std::exp(-0.5 * t * t) / k.bandwidth;
  }
  k.hessian = weighted_gram(X, d);
  return k;
}

quantile_kernel_vcov_result quantile_kernel_vcov(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& residuals,
                                                 const Eigen::Ref<const VectorXd>& weights, double tau) {
  const char* fn = "quantile_kernel_vcov";
  const Index n = X.rows();
  require(tau > 0 && tau < 1, fn, "tau must be in (0, 1)");
  require(weights.size() == 0 || weights.size() == n, fn, "weights must be empty or have one entry per row");
  require(residuals.size() == n, fn, "residuals must have one entry per row");
  quantile_kernel_vcov_result out;
  MatrixXd J;
  if (weights.size()) {  // quantreg: x ← w∘x, e ← w∘e
    const VectorXd we = weights.cwiseProduct(residuals), w2 = weights.cwiseProduct(weights);
    const powell_kernel k = powell_hessian(X, we, w2.data(), tau);
    out.hessian = k.hessian;
    out.bandwidth = k.bandwidth;
    J = weighted_gram(X, w2);
  } else {
    const powell_kernel k = powell_hessian(X, residuals, nullptr, tau);
    out.hessian = k.hessian;
    out.bandwidth = k.bandwidth;
    J = weighted_gram(X, VectorXd::Ones(n));
  }
  Eigen::LDLT<MatrixXd> H(out.hessian);
  require(H.info() == Eigen::Success, fn, "the kernel Hessian is singular");
  const MatrixXd Hinv = H.solve(MatrixXd::Identity(X.cols(), X.cols()));
  out.vcov = tau * (1.0 - tau) * Hinv * J * Hinv;
  out.vcov = 0.5 * (out.vcov + out.vcov.transpose()).eval();
  require(out.vcov.allFinite(), fn, "the variance is outside the range of a double at this outcome scale (bandwidth " +
                                        detail::format_g(out.bandwidth) + "); rescale the outcome");
  return out;
}

namespace {

struct interior_solution {
  VectorXd coef;
  int iterations = 0;
  double gap = 0;
};

/// The interior-point solution of the weighted problem (u: the weights) on y / scale, scaled back.
interior_solution solve_interior(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y, const VectorXd& u,
                                 const quantile_regression_options& o) {
  interior_solution s;
  const Index n = X.rows();
  // the solution is equivariant in scale: solve for y / scale (a root mean square of 1)
  const double scale = y.stableNorm() / std::sqrt(static_cast<double>(n));  // no overflow at |y| ~ 1e300
  if (!(scale > 0)) {  // y ≡ 0: b = 0 is optimal (objective 0)
    s.coef = VectorXd::Zero(X.cols());
    return s;
  }
  const VectorXd c = -y / scale;
  const interior_point ip = frisch_newton(X, c, u, o.tau, o);
  s.iterations = ip.iterations;
  s.gap = ip.gap;
  if (ip.iterations >= o.max_iter && !(ip.gap < std::sqrt(o.tolerance)))
    throw convergence_error("impactkit::quantile_regression: no convergence in " + std::to_string(o.max_iter) +
                            " interior-point iterations (relative duality gap " + detail::format_g(ip.gap) +
                            "); raise max_iter or rescale the regressors");
  s.coef = -scale * ip.y;
  return s;
}

/// splitmix64 (Steele, Lea & Flood 2014): the deterministic stream of the subsample.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// m distinct rows of 0..n−1, sorted (partial Fisher–Yates on a fixed stream: the same rows every run).
std::vector<Index> subsample_rows(Index n, Index m) {
  std::vector<Index> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), Index{0});
  std::uint64_t state = 0x5EED5EED2026ULL;
  for (Index k = 0; k < m; ++k) {
    const std::uint64_t range = static_cast<std::uint64_t>(n - k);
    const Index j = k + static_cast<Index>(static_cast<unsigned __int128>(splitmix64(state)) * range >> 64);
    std::swap(idx[static_cast<std::size_t>(k)], idx[static_cast<std::size_t>(j)]);
  }
  idx.resize(static_cast<std::size_t>(m));
  std::sort(idx.begin(), idx.end());
  return idx;
}

/// Rows `rows` of X, y, u, plus up to two "globs": the weighted means of the rows below (sign −1) and
/// above (+1) the fit, with their total weight — ρ_τ is linear on each side of 0, so a group whose
/// residuals share a sign contributes exactly W ρ_τ(ȳ − x̄ᵀb).
struct reduced_problem {
  MatrixXd X;
  VectorXd y, u;
};

reduced_problem gather_reduced(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y, const VectorXd& u,
                               const std::vector<signed char>& side) {
  const Index n = X.rows(), p = X.cols();
  Index kept = 0;
  for (const signed char c : side) kept += (c == 0);
  VectorXd gx[2] = {VectorXd::Zero(p), VectorXd::Zero(p)};
  double gy[2] = {0, 0}, gw[2] = {0, 0};
  reduced_problem r;
  r.X.resize(kept + 2, p);
  r.y.resize(kept + 2);
  r.u.resize(kept + 2);
  Index k = 0;
  for (Index i = 0; i < n; ++i) {
    const signed char c = side[static_cast<std::size_t>(i)];
    if (c == 0) {
      r.X.row(k) = X.row(i);
      r.y(k) = y(i);
      r.u(k++) = u(i);
    } else {
      const int g = c > 0;
      gx[g] += u(i) * X.row(i).transpose();
      gy[g] += u(i) * y(i);
      gw[g] += u(i);
    }
  }
  for (int g = 0; g < 2; ++g)
    if (gw[g] > 0) {
      r.X.row(k) = (gx[g] / gw[g]).transpose();
      r.y(k) = gy[g] / gw[g];
      r.u(k++) = gw[g];
    }
  r.X.conservativeResize(k, p);
  r.y.conservativeResize(k);
  r.u.conservativeResize(k);
  return r;
}

/// Portnoy & Koenker (1997, section 6; quantreg rq.fit.pfn) preprocessing: fit a subsample of
/// m = ((p + 1) n)^(2/3) rows, set aside the rows far below / above that fit (residual beyond the
/// quantiles τ ∓ 0.4 m / n of r_i / ‖L⁻¹x_i‖, L the Cholesky factor of the subsample's XᵀX) as two globs,
/// solve the reduced problem, and check the signs of the set-aside residuals: a wrong sign puts the row
/// back (at most 3 rounds, else m doubles). The result is the optimum of the full problem.
interior_solution solve_preprocessed_or_empty(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                                              const VectorXd& u, const quantile_regression_options& o, Index& reduced_rows);

/// The preprocessed solve, or the direct one when preprocessing fails (a subsample or reduced problem
/// without full rank, e.g. a rare dummy whose rows all fall outside it).
interior_solution solve_preprocessed(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y, const VectorXd& u,
                                     const quantile_regression_options& o, Index& reduced_rows) {
  interior_solution s;
  try {
    s = solve_preprocessed_or_empty(X, y, u, o, reduced_rows);
  } catch (const convergence_error&) {
    s.coef.resize(0);
  }
  if (s.coef.size() == X.cols() && s.coef.allFinite()) return s;
  interior_solution full = solve_interior(X, y, u, o);
  full.iterations += s.iterations;
  reduced_rows = X.rows();
  return full;
}

/// Empty coef when the preprocessing gives up (then solve_preprocessed solves the full problem).
interior_solution solve_preprocessed_or_empty(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                                              const VectorXd& u, const quantile_regression_options& o, Index& reduced_rows) {
  const Index n = X.rows(), p = X.cols();
  double m = std::round(std::pow(static_cast<double>(p + 1) * static_cast<double>(n), 2.0 / 3.0));
  interior_solution total;
  while (m < static_cast<double>(n) / 2) {
    const std::vector<Index> rows = subsample_rows(n, static_cast<Index>(m));
    MatrixXd Xs(static_cast<Index>(rows.size()), p);
    VectorXd ys(Xs.rows()), us(Xs.rows());
    for (Index k = 0; k < Xs.rows(); ++k) {
      const Index i = rows[static_cast<std::size_t>(k)];
      Xs.row(k) = X.row(i);
      ys(k) = y(i);
      us(k) = u(i);
    }
    Eigen::LLT<MatrixXd> llt(weighted_gram(Xs, VectorXd::Ones(Xs.rows())));
    if (llt.info() != Eigen::Success) break;  // a rank-deficient subsample: solve the full problem
    interior_solution sub = solve_interior(Xs, ys, us, o);
    total.iterations += sub.iterations;
    if (!sub.coef.allFinite()) break;
    // band_i = ‖L⁻¹ x_i‖, in row blocks; u_i = r_i / band_i
    VectorXd r = y - times(X, sub.coef);
    VectorXd ratio(n), band(n);
    const MatrixXd Linv = llt.matrixL().solve(MatrixXd::Identity(p, p));
    const detail::row_chunks chunks = detail::make_row_chunks(n, 4096);
    const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (Index c = 0; c < chunks.count; ++c) {
      const Index b = chunks.begin(c), len = chunks.end(c) - b;
      const MatrixXd Z = X.middleRows(b, len) * Linv.transpose();
      band.segment(b, len) = Z.rowwise().norm().cwiseMax(1e-6);
    }
    ratio = r.cwiseQuotient(band);
    const double M = 0.8 * m;
    const double lo_q = std::max(1.0 / static_cast<double>(n), o.tau - M / (2.0 * static_cast<double>(n)));
    const double hi_q = std::min(o.tau + M / (2.0 * static_cast<double>(n)), (static_cast<double>(n) - 1) / static_cast<double>(n));
    std::vector<double> sorted(ratio.data(), ratio.data() + n);
    const auto at = [&](double q) {  // R type-7 quantile by selection
      const double h = (static_cast<double>(n) - 1.0) * q;
      const std::size_t lo = static_cast<std::size_t>(std::floor(h));
      std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(lo), sorted.end());
      const double a = sorted[lo];
      const double b = lo + 1 < sorted.size() ? *std::min_element(sorted.begin() + static_cast<std::ptrdiff_t>(lo) + 1, sorted.end()) : a;
      return a + (h - std::floor(h)) * (b - a);
    };
    const double k_lo = at(lo_q), k_hi = at(hi_q);
    std::vector<signed char> side(static_cast<std::size_t>(n), 0);
    for (Index i = 0; i < n; ++i) side[static_cast<std::size_t>(i)] = r(i) < band(i) * k_lo ? -1 : (r(i) > band(i) * k_hi ? 1 : 0);
    for (int fixup = 0; fixup < 3; ++fixup) {
      const reduced_problem red = gather_reduced(X, y, u, side);
      if (red.X.rows() <= p) break;
      interior_solution s = solve_interior(red.X, red.y, red.u, o);
      total.iterations += s.iterations;
      if (!s.coef.allFinite()) break;
      r = y - times(X, s.coef);
      Index wrong = 0;
      for (Index i = 0; i < n; ++i) {
        signed char& c = side[static_cast<std::size_t>(i)];
        if ((c < 0 && r(i) > 0) || (c > 0 && r(i) < 0)) {
          c = 0;
          ++wrong;
        }
      }
      if (wrong == 0) {
        total.coef = s.coef;
        total.gap = s.gap;
        reduced_rows = red.X.rows();
        return total;
      }
      if (static_cast<double>(wrong) > 0.1 * M) break;  // too many fix-ups: a larger subsample
    }
    m *= 2;
  }
  total.coef.resize(0);
  return total;
}

}  // namespace

quantile_regression_result quantile_regression(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                                               const Eigen::Ref<const VectorXd>& weights, const quantile_regression_options& o) {
  validate(X, y, weights, o);
  const Index n = X.rows(), p = X.cols();
  require_full_rank(weighted_gram(X, VectorXd::Ones(n)));
  const double* w = weights.size() ? weights.data() : nullptr;
  quantile_regression_result r;
  r.tau = o.tau;
  r.nobs = n;
  const VectorXd u = w ? VectorXd(weights) : VectorXd::Ones(n);
  const bool preprocess = o.preprocess > 0 || (o.preprocess < 0 && n >= 50000 &&
                                               std::pow(static_cast<double>(p + 1) * static_cast<double>(n), 2.0 / 3.0) < n / 4.0);
  r.reduced_rows = n;
  const interior_solution s = preprocess ? solve_preprocessed(X, y, u, o, r.reduced_rows) : solve_interior(X, y, u, o);
  r.preprocessed = preprocess;
  r.iterations = s.iterations;
  r.duality_gap = s.gap;
  r.coef = s.coef;
  r.residuals = y - times(X, r.coef);
  r.objective = check_loss(r.residuals, w, o.tau);
  if (o.snap_to_vertex) {
    VectorXd coef;
    std::vector<Index> basis;
    if (vertex_through_smallest_residuals(X, y, r.residuals, coef, basis)) {
      VectorXd e = y - times(X, coef);
      for (const Index i : basis) e(i) = 0.0;  // interpolated exactly (rounding noise would decide 1{e < 0})
      const double obj = check_loss(e, w, o.tau);
      // the vertex is optimal when it is no worse than the interior point (up to rounding of the sums)
      if (obj <= r.objective + 1e-12 * (std::abs(r.objective) + 1.0)) {
        r.coef = coef;
        r.residuals = std::move(e);
        r.objective = obj;
        r.vertex = true;
        r.basis = std::move(basis);
      }
    }
  }
  return r;
}

}  // namespace impactkit
