#pragma once
// Variance of (weighted) least-squares coefficients: iid, HC0–HC3, CR0–CR3.
//
// Work on the transformed model X̃ = √W·X, ẽ = √W·e, with bread B = (X̃'X̃)⁻¹ = R⁻¹R⁻ᵀ (R from the
// QR of X̃) and leverages h_i = x̃_iᵀ B x̃_i.
//   HC2, HC3 (MacKinnon & White 1985): scores scaled by (1−h_i)^(−1/2) and (1−h_i)^(−1).
//   CR2 (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018): cluster scores X̃_gᵀ A_g ẽ_g with
//     A_g = (I − H_gg)^(−1/2), H_gg = X̃_g B X̃_gᵀ (a generalised inverse where I − H_gg is singular);
//     t degrees of freedom per coefficient by Satterthwaite under the working model Var(ẽ) = σ²I
//     (Bell–McCaffrey; Imbens & Kolesár 2016 eq. 11): ν = (Σλ)²/Σλ², λ the eigenvalues of
//     Gᵀ(I − H)G with column g of G equal to A_g X̃_g B c. This is clubSandwich's "CR2" with
//     test = "Satterthwaite" (weighted models: target = inverse weights).
//   CR3: A_g = (I − H_gg)⁻¹, no further factor: Σ_g (β̂₋g − β̂)(β̂₋g − β̂)ᵀ, the cluster jackknife
//     around the full-sample estimate (clubSandwich "CR3").
// None of these forms an n×n or n_g×n_g matrix: with Z_g = X̃_g R⁻¹ and C_g = Z_gᵀZ_g = V Λ Vᵀ
// (p×p), f(H_gg) = I + Z_g V diag((f(λ) − 1)/λ) Vᵀ Z_gᵀ, so every cluster costs O(n_g p²).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include "errors.hpp"
#include "fixed_effects.hpp"
#include "groups.hpp"
#include "least_squares.hpp"
#include "row_blocks.hpp"
#include "threads.hpp"
#include "vcov.hpp"

namespace impactkit {

/// Leverages h_i = w_i x_iᵀ (X'WX)⁻¹ x_i of the kept columns (w null: unweighted).
inline Eigen::VectorXd leverages(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w) {
  const Eigen::Index n = X.rows(), p = ls.rank();
  Eigen::VectorXd h(n);
  const Eigen::Index block = 1024;
  const detail::row_chunks chunks = detail::make_row_chunks(n, 4 * block);
  const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd buf(block, p);
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      for (Eigen::Index j = 0; j < p; ++j) buf.col(j).head(len) = X.col(ls.kept[static_cast<std::size_t>(j)]).segment(b0, len);
      // rows of X R⁻¹: solve Z R = X_blk
      buf.topRows(len) = ls.r.triangularView<Eigen::Upper>().solve<Eigen::OnTheRight>(buf.topRows(len));
      h.segment(b0, len) = buf.topRows(len).rowwise().squaredNorm();
      if (w) h.segment(b0, len).array() *= Eigen::Map<const Eigen::ArrayXd>(w + b0, len);
    }
  }
  return h;
}

namespace detail {

/// (f(λ) − 1)/λ for the CR2 power f(λ) = (1 − λ)^(−1/2), the CR3 power f(λ) = (1 − λ)^(−1), or the
/// square of the CR2 power (Ψ in the Satterthwaite step). λ ≈ 1: generalised inverse, f = 0.
enum class cluster_power { cr2, cr3, cr2_squared };
inline double adjustment_weight(double lambda, cluster_power power) {
  lambda = std::min(std::max(lambda, 0.0), 1.0);
  if (1.0 - lambda < 1e-10) return -1.0 / lambda;
  if (lambda < 1e-12) return power == cluster_power::cr2 ? 0.5 : 1.0;
  switch (power) {
    case cluster_power::cr2: return std::expm1(-0.5 * std::log1p(-lambda)) / lambda;
    case cluster_power::cr3:
    case cluster_power::cr2_squared: return 1.0 / (1.0 - lambda);
  }
  return 0.0;
}

}  // namespace detail

/// CR2 or CR3 for a least-squares fit, one cluster dimension; `e` are raw residuals y − Xb.
inline vcov_estimate bias_reduced_cluster_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls,
                                               const double* w, const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec) {
  const char* fn = "bias_reduced_cluster_vcov";
  const Eigen::Index n = X.rows(), p = ls.rank();
  const std::vector<group_codes> dims = detail::cluster_dimensions(spec, n, fn);
  detail::require(dims.size() == 1, fn, std::string(vcov_name(spec.kind)) + " is defined for one cluster dimension; use CR1 for multiway clustering");
  const group_codes& g = dims[0];
  const bool cr2 = spec.kind == vcov_kind::cr2;
  std::vector<Eigen::Index> start, order;
  g.sorted_rows(start, order);
  const Eigen::MatrixXd& L = ls.r_inverse;  // B = L Lᵀ
  const Eigen::MatrixXd bread = ls.bread();
  const std::size_t G = static_cast<std::size_t>(g.n_groups);
  std::vector<Eigen::VectorXd> adjusted(G);
  std::vector<Eigen::MatrixXd> P(cr2 ? G : 0), Q(cr2 ? G : 0);
  const int threads = detail::threads_for(static_cast<Eigen::Index>(G), static_cast<double>(n) / static_cast<double>(G) * p * p + p * p * p);
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (threads > 1)
  for (std::ptrdiff_t gi = 0; gi < static_cast<std::ptrdiff_t>(G); ++gi) {
    const std::size_t gg = static_cast<std::size_t>(gi);
    const Eigen::Index b = start[gg], len = start[gg + 1] - b;
    Eigen::MatrixXd xg(len, p);
    Eigen::VectorXd eg(len);
    for (Eigen::Index r = 0; r < len; ++r) {
      const Eigen::Index i = order[static_cast<std::size_t>(b + r)];
      const double sw = w ? std::sqrt(w[i]) : 1.0;
      for (Eigen::Index j = 0; j < p; ++j) xg(r, j) = sw * X(i, ls.kept[static_cast<std::size_t>(j)]);
      eg(r) = sw * e(i);
    }
    Eigen::MatrixXd M = Eigen::MatrixXd::Zero(p, p);
    M.selfadjointView<Eigen::Lower>().rankUpdate(xg.transpose());
    M = M.selfadjointView<Eigen::Lower>();
    const Eigen::VectorXd s = xg.transpose() * eg;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(L.transpose() * M * L);
    const Eigen::MatrixXd LV = L * eig.eigenvectors();
    const Eigen::MatrixXd MLV = M * LV;
    Eigen::VectorXd phi(p), psi(p);
    for (Eigen::Index j = 0; j < p; ++j) {
      phi(j) = detail::adjustment_weight(eig.eigenvalues()(j), cr2 ? detail::cluster_power::cr2 : detail::cluster_power::cr3);
      psi(j) = detail::adjustment_weight(eig.eigenvalues()(j), detail::cluster_power::cr2_squared);
    }
    adjusted[gg] = s + MLV * phi.asDiagonal() * (LV.transpose() * s);
    if (cr2) {
      P[gg] = M + MLV * phi.asDiagonal() * MLV.transpose();
      Q[gg] = M + MLV * psi.asDiagonal() * MLV.transpose();
    }
  }
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(p, p);
  for (const auto& a : adjusted) meat.noalias() += a * a.transpose();

  vcov_estimate out;
  out.kind = spec.kind;
  out.factor = 1.0;
  out.n_clusters = {static_cast<Eigen::Index>(G)};
  out.vcov = bread * meat * bread;
  out.df = Eigen::VectorXd::Constant(p, static_cast<double>(G) - 1.0);
  if (cr2) {
    // Satterthwaite: with b = B c, w_g = P_g b, d_g = bᵀQ_g b, v_g = Lᵀw_g:
    //   tr = Σ d_g − Σ‖v_g‖²,  ‖·‖_F² = Σ d_g² − 2 Σ d_g‖v_g‖² + ‖Σ v_g v_gᵀ‖_F².
    for (Eigen::Index j = 0; j < p; ++j) {
      const Eigen::VectorXd bj = bread.col(j);
      double tr = 0, d2 = 0, dv = 0;
      Eigen::MatrixXd K = Eigen::MatrixXd::Zero(p, p);
      for (std::size_t gg = 0; gg < G; ++gg) {
        const Eigen::VectorXd v = L.transpose() * (P[gg] * bj);
        const double d = bj.dot(Q[gg] * bj), vv = v.squaredNorm();
        tr += d - vv;
        d2 += d * d;
        dv += d * vv;
        K.noalias() += v * v.transpose();
      }
      const double frob = d2 - 2.0 * dv + K.squaredNorm();
      out.df(j) = frob > 0 ? tr * tr / frob : std::numeric_limits<double>::quiet_NaN();
    }
    out.convention = "CR2 bias-reduced cluster-robust (Bell-McCaffrey), no further small-sample factor; "
                     "t with Satterthwaite df per coefficient (G = " + std::to_string(G) + ")";
  } else {
    out.convention = "CR3 cluster jackknife (I-H_gg)^-1 adjustment, no further small-sample factor; "
                     "t with G-1 df (G = " + std::to_string(G) + ")";
  }
  return out;
}

/// Variance of a least-squares fit of any kind in `spec`. `e` = y − Xb (raw), w may be null.
/// With absorbed fixed effects, X and e are the within-transformed design and residuals.
inline vcov_estimate linear_model_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w,
                                       const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec,
                                       const absorbed_dof& absorbed = {}) {
  const char* fn = "linear_model_vcov";
  const Eigen::Index n = X.rows(), p = ls.rank();
  const Eigen::Index k_total = p + absorbed.k_fe;
  detail::require(n > k_total, fn, "needs more observations (" + std::to_string(n) + ") than estimated coefficients (" +
                                       std::to_string(k_total) + (absorbed.k_fe ? ", including absorbed fixed effects" : "") + ")");
  const double df_resid = static_cast<double>(n - k_total);
  if (absorbed.k_fe > 0)
    detail::require(spec.kind != vcov_kind::hc2 && spec.kind != vcov_kind::hc3 && spec.kind != vcov_kind::cr2 && spec.kind != vcov_kind::cr3,
                    fn, std::string(vcov_name(spec.kind)) +
                            " needs the leverage of the full model, which absorbed fixed effects hide; use HC1/CR1, "
                            "or include the fixed effects as regressors (C(fe)) for " + vcov_name(spec.kind));
  if (spec.kind == vcov_kind::iid) {
    vcov_estimate out;
    out.kind = spec.kind;
    const double sigma2 = ls.rss / df_resid;
    out.vcov = sigma2 * ls.bread();
    out.df = Eigen::VectorXd::Constant(p, df_resid);
    out.convention = std::string("iid (classical) with sigma^2 = RSS/(n-k); t with n-k df") +
                     (absorbed.k_fe ? " (k includes " + std::to_string(absorbed.k_fe) + " absorbed fixed effects)" : "");
    return out;
  }
  if (spec.kind == vcov_kind::cr2 || spec.kind == vcov_kind::cr3) return bias_reduced_cluster_vcov(X, ls, w, e, spec);

  // Scores u_i x_i with u_i = w_i e_i, HC2/HC3 rescaled by the leverage.
  Eigen::VectorXd u = e;
  if (w) u.array() *= Eigen::Map<const Eigen::ArrayXd>(w, n);
  if (spec.kind == vcov_kind::hc2 || spec.kind == vcov_kind::hc3) {
    const Eigen::VectorXd h = leverages(X, ls, w);
    for (Eigen::Index i = 0; i < n; ++i) {
      detail::require(h(i) < 1.0 - 1e-10, fn,
                      std::string(vcov_name(spec.kind)) + " is undefined: observation " + std::to_string(i) +
                          " has leverage 1 (it alone determines a coefficient); use HC1 or drop it");
      u(i) /= spec.kind == vcov_kind::hc2 ? std::sqrt(1.0 - h(i)) : (1.0 - h(i));
    }
    vcov_estimate out = sandwich_vcov(ls.bread(), X, ls.kept, u.data(), vcov_spec{vcov_kind::hc0, {}, spec.ssc}, p);
    out.kind = spec.kind;
    out.convention = std::string(vcov_name(spec.kind)) + " heteroskedasticity-robust (MacKinnon-White " +
                     (spec.kind == vcov_kind::hc2 ? "1/sqrt(1-h)" : "1/(1-h)") + " leverage scaling); t with n-k df";
    return out;
  }
  const bool cluster = is_cluster_kind(spec.kind);
  vcov_estimate out = sandwich_vcov(ls.bread(), X, ls.kept, u.data(), spec, p + (cluster ? absorbed.k_fe_cluster : absorbed.k_fe));
  if (absorbed.k_fe)
    out.convention += "; k counts " + std::to_string(cluster ? absorbed.k_fe_cluster : absorbed.k_fe) + " absorbed fixed effects" +
                      (cluster && absorbed.k_fe_cluster < absorbed.k_fe ? " (those nested in the clusters excluded)" : "");
  return out;
}

}  // namespace impactkit
