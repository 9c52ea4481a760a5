// Out-of-line definitions for impactkit/impact/iv.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/impact/iv.hpp>

#include "../core/ols_detail.hpp"
#include "iv_variance_parts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

namespace impactkit::detail {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// True when a kept column of X is constant and non-zero (an intercept).
bool has_constant_column(const Eigen::Ref<const Eigen::MatrixXd>& X, const std::vector<Eigen::Index>& kept) {
  for (Eigen::Index j : kept) {
    if (j >= X.cols()) continue;
    const double c0 = X(0, j);
    if (c0 == 0) continue;
    Eigen::Index i = 1;
    while (i < X.rows() && X(i, j) == c0) ++i;
    if (i == X.rows()) return true;
  }
  return false;
}

/// Kronecker product A ⊗ B.
Eigen::MatrixXd kron(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  Eigen::MatrixXd out(A.rows() * B.rows(), A.cols() * B.cols());
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) out.block(i * B.rows(), j * B.cols(), B.rows(), B.cols()) = A(i, j) * B;
  return out;
}

/// Heteroskedasticity- (HC0) or cluster-robust (CR0, one- or multiway) sum of outer products of the
/// rows of `scores` (u null) or of u_i·scores_i, without small-sample factor: sandwich_vcov with an
/// identity bread.
Eigen::MatrixXd score_outer_sum(const Eigen::Ref<const Eigen::MatrixXd>& scores, const std::vector<Eigen::Index>& cols,
                                const double* u, const vcov_spec& spec) {
  const Eigen::Index p = static_cast<Eigen::Index>(cols.size());
  vcov_spec raw = spec;
  raw.kind = is_cluster_kind(spec.kind) ? vcov_kind::cr0 : spec.kind == vcov_kind::survey ? vcov_kind::survey : vcov_kind::hc0;
  return sandwich_vcov(Eigen::MatrixXd::Identity(p, p), scores, cols, u, raw, 0).vcov;
}

/// n·λ'Ω⁻λ with a generalised inverse over the positive eigenvalues of the symmetric Ω (ranktest).
double rank_quadratic_form(const Eigen::VectorXd& lambda, const Eigen::MatrixXd& omega, double n) {
  const Eigen::MatrixXd sym = 0.5 * (omega + omega.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sym);
  const Eigen::VectorXd& values = eig.eigenvalues();
  const double tol = values.maxCoeff() * std::numeric_limits<double>::epsilon() * static_cast<double>(values.size());
  const Eigen::VectorXd coef = eig.eigenvectors().transpose() * lambda;
  double chi2 = 0;
  bool any = false;
  for (Eigen::Index j = 0; j < values.size(); ++j)
    if (values(j) > tol && values(j) > 0) {
      chi2 += coef(j) * coef(j) / values(j);
      any = true;
    }
  return any ? n * chi2 : nan;
}

void validate_iv_input(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& D,
                       const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::VectorXd>& y, const double* w_in,
                       const iv_options& opt, const char* fn) {
  const Eigen::Index n = y.size(), kd = D.cols(), kz = Z.cols();
  require(n > 0, fn, "no observations");
  require(X.rows() == n, fn, "X has " + std::to_string(X.rows()) + " rows but y has " + std::to_string(n));
  require(D.rows() == n, fn, "D (endogenous regressors) has " + std::to_string(D.rows()) + " rows but y has " + std::to_string(n));
  require(Z.rows() == n, fn, "Z (excluded instruments) has " + std::to_string(Z.rows()) + " rows but y has " + std::to_string(n));
  require(kd >= 1, fn, "no endogenous regressor given (D has no columns); use ols for a model without endogenous regressors");
  require(kz >= kd, fn, "the model is under-identified: " + std::to_string(kd) + " endogenous regressor(s) but only " +
                            std::to_string(kz) + " excluded instrument(s); at least as many instruments as endogenous regressors are needed");
  require_finite(y, fn, "y");
  require_finite(X, fn, "X");
  require_finite(D, fn, "D (endogenous regressors)");
  require_finite(Z, fn, "Z (excluded instruments)");
  require(opt.collin_tol >= 0 && opt.collin_tol < 1, fn, "collin_tol must be in [0, 1)");
  if (w_in && opt.probability_weights)
    require(opt.vcov.kind != vcov_kind::iid, fn, "probability weights need a robust or cluster-robust vcov, not iid");
  require(opt.absorb.cluster_fixed_effects.empty(), fn, "clustering on fixed effects by index is not supported here; pass cluster labels");
  require(opt.vcov.kind != vcov_kind::survey || opt.fixed_effects.size() == 0, fn,
          "a survey-design variance with absorbed fixed effects is not supported yet; use C(fe) regressors");
  if (is_cluster_kind(opt.vcov.kind))
    require(opt.vcov.clusters.rows() == n, fn, "cluster labels have " + std::to_string(opt.vcov.clusters.rows()) +
                                                   " rows but the data have " + std::to_string(n));

}

/// Partial F of the first stage `fs` (p kept columns, the last kz the excluded instruments): Wald test
/// that the instrument coefficients are zero with the first stage's variance, divided by kz.
void partial_f(iv_first_stage& fs, Eigen::Index kz, Eigen::Index p) {
  Eigen::MatrixXd R = Eigen::MatrixXd::Zero(kz, p);
  R.rightCols(kz).setIdentity();
  fs.f_df_num = static_cast<int>(kz);
  fs.f_df_denom = fs.fit.df_inference.tail(kz).minCoeff();
  fs.f_stat = fs.f_p_value = nan;
  try {
    const wald_result wr = wald_test(fs.fit.coef, fs.fit.vcov, R, Eigen::VectorXd::Zero(kz), fs.f_df_denom);
    fs.f_stat = wr.statistic_f;
    fs.f_p_value = wr.p_value_f;
  } catch (const invalid_input&) {  // singular variance of π̂ (e.g. fewer clusters than instruments)
  }
}

/// First stage of one endogenous regressor d (column `column` of the within-transformed data when
/// `wt` is given): d on Zf = [X, Z] with `ls` its least-squares solution; R² of the full first stage
/// (with fixed effects: of the model including them), within R², and the partial F of the excluded
/// instruments. The residuals are left in estimation-row order.
iv_first_stage fit_first_stage(const Eigen::MatrixXd& Zf, const Eigen::Ref<const Eigen::VectorXd>& d, Eigen::Index kx,
                               Eigen::Index column, const double* w, const ols_options& first_opt, const vcov_spec& spec,
                               const absorbed_dof& dof, const within_transformed* wt, bool intercept, Eigen::Index n,
                               const char* fn, least_squares_solution& ls) {
  const bool fe = wt != nullptr;
  const Eigen::Index m = Zf.rows(), kz = Zf.cols() - kx;
  iv_first_stage fs;
  const residual_pass_sums sums = fit_and_infer(Zf, d, w, first_opt, spec, dof, fn, false, ls, fs.fit);
  for (Eigen::Index c : ls.dropped)
    require(c < kx, fn, "excluded instrument " + std::to_string(c - kx) +
                            " is collinear with the exogenous regressors" + std::string(fe ? ", the fixed effects" : "") +
                            " or the other instruments; remove it (an instrument must add information beyond X)");
  const Eigen::Index p1 = ls.rank();
  fs.instrument_coef = fs.fit.coef.tail(kz);
  fs.instrument_se = fs.fit.se.tail(kz);
  // R² of the full first stage (with fixed effects: of the model including them) and within R²
  fs.fit.has_intercept = intercept;
  fs.fit.tss = fe ? wt->columns.centred_squared_norm[static_cast<std::size_t>(column)] : intercept ? sums.tss_centred : sums.tss_raw;
  fs.fit.r2 = fs.fit.tss > 0 ? 1.0 - fs.fit.rss / fs.fit.tss : nan;
  const double dfm = static_cast<double>(m - (intercept ? 1 : 0));
  fs.fit.adj_r2 = fs.fit.tss > 0 ? 1.0 - (1.0 - fs.fit.r2) * dfm / fs.fit.df_resid : nan;
  if (fe) {
    const double tss_within = sums.tss_raw;  // of the within-transformed d
    fs.fit.r2_within = tss_within > 0 ? 1.0 - fs.fit.rss / tss_within : nan;
    for (const auto& g : wt->dims) fs.fit.fe_sizes.push_back(g.n_groups);
    fs.fit.k_fe = dof.k_fe;
    fs.fit.n_singletons = n - m;
    if (!wt->all_rows) fs.fit.used_rows = wt->rows;
  }
  partial_f(fs, kz, p1);
  return fs;
}

/// Cragg–Donald Wald F: (n − L)/k_z times the smallest generalised eigenvalue of Π'Z̃'WZ̃Π relative
/// to V'WV (NaN when V'WV is singular).
double cragg_donald_f(const Eigen::MatrixXd& PSP, const Eigen::MatrixXd& VV, double nn, double L_iid, Eigen::Index kz) {
  Eigen::LLT<Eigen::MatrixXd> llt(VV);
  if (llt.info() != Eigen::Success) return nan;
  Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd> ges(PSP, VV, Eigen::EigenvaluesOnly | Eigen::Ax_lBx);
  if (ges.info() != Eigen::Success) return nan;
  return (nn - L_iid) / static_cast<double>(kz) * ges.eigenvalues().minCoeff();
}

/// Kleibergen–Paap rk Wald F (Kleibergen & Paap 2006) with the HC0 or CR0 score covariance of
/// vec(Z̃'V), scaled as ivreg2: (n−L)/n, or (n−L)(M−1)/((n−1)M) with M the (smallest) number of
/// clusters (NaN when Z̃'WZ̃ or the first-stage cross-product is singular).
double kleibergen_paap_f(const Eigen::MatrixXd& Szz, const Eigen::MatrixXd& PSP, const Eigen::MatrixXd& VV, const Eigen::MatrixXd& Pi,
                         const Eigen::MatrixXd& Vs, const Eigen::MatrixXd& Zs, const vcov_spec& spec, double nn, double L_kind,
                         const std::vector<Eigen::Index>& n_clusters) {
  const Eigen::Index m = Vs.rows(), kd = Vs.cols(), kz = Zs.cols();
  const Eigen::MatrixXd Qzz = Szz / nn, Qxx = (PSP + VV) / nn, Qzx = Szz * Pi / nn;
  Eigen::LLT<Eigen::MatrixXd> lz(Qzz), lx(Qxx);
  if (lz.info() != Eigen::Success || lx.info() != Eigen::Success) return nan;
  const Eigen::MatrixXd Rz = lz.matrixU(), Rx = lx.matrixU();
  const Eigen::MatrixXd irqzz = Rz.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(kz, kz));
  const Eigen::MatrixXd irqxx = Rx.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(kd, kd));
  const Eigen::MatrixXd theta = irqzz.transpose() * Qzx * irqxx;
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(theta, Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Eigen::MatrixXd left = svd.matrixU().rightCols(kz - kd + 1), right = svd.matrixV().rightCols(1);
  // scores v_ij · z̃_il, ordered by endogenous regressor then instrument (vec of Z̃'V)
  Eigen::MatrixXd scores(m, kd * kz);
  for (Eigen::Index j = 0; j < kd; ++j)
    for (Eigen::Index l = 0; l < kz; ++l) scores.col(j * kz + l) = Vs.col(j).cwiseProduct(Zs.col(l));
  std::vector<Eigen::Index> cols(static_cast<std::size_t>(kd * kz));
  for (Eigen::Index c = 0; c < kd * kz; ++c) cols[static_cast<std::size_t>(c)] = c;
  const Eigen::MatrixXd shat = score_outer_sum(scores, cols, nullptr, spec) / nn;
  const Eigen::MatrixXd T = kron(irqxx.transpose(), irqzz.transpose());
  const Eigen::MatrixXd select = kron(right.transpose(), left.transpose());
  const Eigen::VectorXd lambda = select * Eigen::Map<const Eigen::VectorXd>(theta.data(), theta.size());
  const Eigen::MatrixXd omega = select * (T * shat * T.transpose()) * select.transpose();
  const double rk = rank_quadratic_form(lambda, omega, nn);
  double scale = (nn - L_kind) / nn;
  if (is_cluster_kind(spec.kind)) {
    const double M = static_cast<double>(*std::min_element(n_clusters.begin(), n_clusters.end()));
    scale = (nn - L_kind) * (M - 1.0) / (M * (nn - 1.0));
  }
  return rk * scale / static_cast<double>(kz);
}

/// Montiel Olea–Pflueger effective F of one endogenous regressor: π̂'Z̃'WZ̃π̂ / tr(V̂_π Z̃'WZ̃), with V̂_π
/// the first-stage variance of π̂ (HC1 when the model's kind is iid; NaN when the trace is not positive).
double effective_f(const Eigen::MatrixXd& Zf, const least_squares_solution& ls0, const double* w,
                   const Eigen::Ref<const Eigen::VectorXd>& v, const vcov_spec& spec, const absorbed_dof& dof,
                   const Eigen::MatrixXd& first_stage_vcov, const Eigen::MatrixXd& Szz, double psp) {
  const Eigen::Index kz = Szz.rows();
  Eigen::MatrixXd Vpi;
  if (spec.kind == vcov_kind::iid) {
    vcov_spec hc1 = spec;
    hc1.kind = vcov_kind::hc1;
    Vpi = linear_model_vcov(Zf, ls0, w, v, hc1, dof).vcov.bottomRightCorner(kz, kz);
  } else {
    Vpi = first_stage_vcov.bottomRightCorner(kz, kz);
  }
  const double denom = (Vpi * Szz).trace();
  return denom > 0 ? psp / denom : nan;
}

/// Sargan's over-identification test (always; NaN when exactly identified): n·R² of the 2SLS
/// residuals e on all instruments, from the explained part (no cancellation in e'We − e'WMe).
iv_test sargan_test(const iv_variance_parts& P, double rss) {
  const Eigen::Index m = P.Zf.rows(), overid_df = P.kz - P.kd;
  iv_test t;
  t.name = "Sargan";
  t.df = static_cast<int>(overid_df);
  if (overid_df <= 0) return t;
  std::vector<double> sqrt_w(P.w.size());
  for (std::size_t i = 0; i < P.w.size(); ++i) sqrt_w[i] = std::sqrt(P.w[i]);
  const least_squares_solution le = solve_least_squares(P.Zf, P.e, P.w.empty() ? nullptr : sqrt_w.data(), P.collin_tol);
  const Eigen::VectorXd fitted_e = P.Zf * le.coef_full(P.kx + P.kz);
  const double explained = P.w.empty() ? fitted_e.squaredNorm()
                                       : (fitted_e.array().square() * Eigen::Map<const Eigen::ArrayXd>(P.w.data(), m)).sum();
  if (rss > 0) {
    t.statistic = static_cast<double>(m) * explained / rss;
    t.p_value = chi2_upper_tail(t.statistic, t.df);
  }
  return t;
}

/// Hansen (1982) J for robust and cluster kinds (NaN for iid or when exactly identified): the
/// minimised two-step efficient GMM criterion with the HC0/CR0 moment covariance at the 2SLS residuals.
iv_test hansen_j_test(const iv_variance_parts& P, const vcov_spec& spec) {
  const Eigen::Index m = P.Zf.rows(), kx = P.kx, overid_df = P.kz - P.kd, p = P.second.rank();
  iv_test t;
  t.name = "Hansen J";
  t.df = static_cast<int>(overid_df);
  if (overid_df <= 0 || spec.kind == vcov_kind::iid) return t;
  const std::vector<Eigen::Index>& zk = P.first[0].kept;
  const Eigen::Index L = static_cast<Eigen::Index>(zk.size());
  Eigen::VectorXd u = P.e;
  if (!P.w.empty()) u.array() *= Eigen::Map<const Eigen::ArrayXd>(P.w.data(), m);
  const Eigen::MatrixXd S = score_outer_sum(P.Zf, zk, u.data(), spec);
  Eigen::LLT<Eigen::MatrixXd> ls(S);
  if (ls.info() != Eigen::Success) return t;
  // moments Zf'W(y − [X, D] b) = c − G b; J = min_b ‖L⁻¹(c − G b)‖² (a small least squares)
  Eigen::MatrixXd Zk(m, L);
  for (Eigen::Index a = 0; a < L; ++a) Zk.col(a) = P.Zf.col(zk[static_cast<std::size_t>(a)]).array() * P.sw * P.sw;
  Eigen::MatrixXd G(L, p);
  for (Eigen::Index a = 0; a < p; ++a) {
    const Eigen::Index c = P.second.kept[static_cast<std::size_t>(a)];
    G.col(a) = Zk.transpose() * (c < kx ? P.Zf.col(c) : P.Dd.col(c - kx));  // Zf's first kx columns are X
  }
  const Eigen::VectorXd cvec = Zk.transpose() * P.yd;
  const Eigen::MatrixXd Gs = ls.matrixL().solve(G);
  const Eigen::VectorXd cs = ls.matrixL().solve(cvec);
  const least_squares_solution g = solve_least_squares(Gs, cs, nullptr, P.collin_tol);
  t.statistic = (cs - Gs * g.coef_full(p)).squaredNorm();  // from the residual, not c'c − …
  t.p_value = chi2_upper_tail(t.statistic, t.df);
  return t;
}

/// The conventions of the first-stage, weak-instrument and over-identification statistics, in words.
std::string diagnostics_convention(const vcov_spec& spec, Eigen::Index kz, Eigen::Index kd, double nn, double L_iid) {
  const bool cluster = is_cluster_kind(spec.kind);
  const int overid_df = static_cast<int>(kz - kd);
  std::ostringstream conv;
  conv << "First-stage F: Wald test of the excluded instruments with the first-stage " << vcov_name(spec.kind)
       << " variance, divided by " << kz << ". Cragg-Donald Wald F (iid) with n-L = " << (nn - L_iid) << ".";
  if (spec.kind != vcov_kind::iid)
    conv << " Kleibergen-Paap rk Wald F with the " << (cluster ? "CR0 cluster" : "HC0") << " score covariance scaled as ivreg2 ("
         << (cluster ? "(n-L)(M-1)/((n-1)M)" : "(n-L)/n") << ").";
  if (kd == 1)
    conv << " Effective F (Montiel Olea-Pflueger) with the " << (spec.kind == vcov_kind::iid ? "HC1" : vcov_name(spec.kind))
         << " first-stage variance.";
  if (overid_df > 0)
    conv << (spec.kind == vcov_kind::iid ? " Over-identification: Sargan n*R2 of the residuals on all instruments."
                                         : std::string(" Over-identification: Hansen J of two-step efficient GMM with the ") +
                                               (cluster ? "CR0" : "HC0") + " moment covariance at the 2SLS residuals.");
  return conv.str();
}

/// Every statistic that depends on the variance but not on the first- and second-stage variances
/// themselves (already in `out`): Kleibergen–Paap F, effective F, Hansen J, the over-identification
/// test reported, and the conventions. Shared by the fit and iv_with_vcov.
void variance_statistics(const iv_variance_parts& P, const vcov_spec& spec, const absorbed_dof& dof, iv_result& out) {
  const double nn = static_cast<double>(P.Zf.rows());
  const Eigen::Index k_fe_kind = is_cluster_kind(spec.kind) ? dof.k_fe_cluster : dof.k_fe;
  const double L_kind = static_cast<double>(P.kxk + P.kz + k_fe_kind);
  out.kleibergen_paap_f = spec.kind != vcov_kind::iid
                              ? kleibergen_paap_f(P.Szz, P.PSP, P.VV, P.Pi, P.Vs, P.Zs, spec, nn, L_kind, out.fit.n_clusters)
                              : nan;
  out.effective_f = P.kd == 1 ? effective_f(P.Zf, P.first[0], P.weights(), P.V.col(0), spec, dof, out.first_stage[0].fit.vcov, P.Szz,
                                            P.PSP(0, 0))
                              : nan;
  out.hansen_j = hansen_j_test(P, spec);
  out.overid = spec.kind == vcov_kind::iid ? out.sargan : out.hansen_j;
  if (P.kz == P.kd) out.overid.name = "none (exactly identified)";
  out.diagnostics_convention = diagnostics_convention(spec, P.kz, P.kd, nn, P.L_iid);
}

}  // namespace

iv_result fit_iv(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& D,
                 const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::VectorXd>& y, const double* w_in,
                 const iv_options& opt, const char* fn) {
  const Eigen::Index n = y.size(), kx = X.cols(), kd = D.cols(), kz = Z.cols();
  validate_iv_input(X, D, Z, y, w_in, opt, fn);

  iv_result out;
  out.n_endog = kd;
  out.n_instruments = kz;
  const bool fe = opt.fixed_effects.size() > 0;
  auto parts = std::make_shared<iv_variance_parts>();
  iv_variance_parts& P = *parts;
  P.n_input = n;
  P.kx = kx;
  P.kd = kd;
  P.kz = kz;
  P.fixed_effects = fe;
  P.probability_weights = w_in && opt.probability_weights;
  P.collin_tol = opt.collin_tol;

  // ---- data on the estimation rows (within-transformed with fixed effects) --------------------
  within_transformed& wt = P.wt;
  if (fe) {
    std::vector<const double*> columns;
    for (Eigen::Index j = 0; j < kx; ++j) columns.push_back(X.col(j).data());
    for (Eigen::Index j = 0; j < kd; ++j) columns.push_back(D.col(j).data());
    for (Eigen::Index j = 0; j < kz; ++j) columns.push_back(Z.col(j).data());
    columns.push_back(y.data());
    const std::vector<label_column> labels = fixed_effect_label_columns(opt.fixed_effects, n);
    wt = absorb_fixed_effects(columns, n, w_in, labels, opt.absorb);
    within_variance(wt, &labels, opt.vcov, "absorb_fixed_effects", wt.vcov, wt.dof);
  }
  const Eigen::MatrixXd& values = wt.columns.values;
  const Eigen::Index m = fe ? wt.n() : n;
  const Eigen::Ref<const Eigen::MatrixXd> Xd = fe ? Eigen::Ref<const Eigen::MatrixXd>(values.leftCols(kx)) : X;
  const Eigen::Ref<const Eigen::MatrixXd> Dd = fe ? Eigen::Ref<const Eigen::MatrixXd>(values.middleCols(kx, kd)) : D;
  const Eigen::Ref<const Eigen::MatrixXd> Zd = fe ? Eigen::Ref<const Eigen::MatrixXd>(values.middleCols(kx + kd, kz)) : Z;
  const Eigen::Ref<const Eigen::VectorXd> yd = fe ? Eigen::Ref<const Eigen::VectorXd>(values.col(kx + kd + kz)) : y;
  if (fe) {
    P.w = wt.weights;
  } else if (w_in) {
    P.w.assign(w_in, w_in + n);
  }
  const double* w = P.weights();
  const vcov_spec& spec = fe ? wt.vcov : opt.vcov;
  const absorbed_dof dof = fe ? wt.dof : absorbed_dof{};
  std::vector<double> sqrt_w_store;
  if (w) {
    sqrt_w_store.resize(static_cast<std::size_t>(m));
    for (Eigen::Index i = 0; i < m; ++i) sqrt_w_store[static_cast<std::size_t>(i)] = std::sqrt(w[i]);
  }
  const double* sqrt_w = w ? sqrt_w_store.data() : nullptr;
  P.sw = Eigen::ArrayXd::Ones(m);
  if (w) P.sw = Eigen::Map<const Eigen::ArrayXd>(sqrt_w, m);
  const Eigen::ArrayXd& sw = P.sw;

  // ---- first stage: each d_j on Zf = [X, Z] ---------------------------------------------------
  Eigen::MatrixXd& Zf = P.Zf;
  Zf.resize(m, kx + kz);
  Zf.leftCols(kx) = Xd;
  Zf.rightCols(kz) = Zd;
  ols_options first_opt;
  first_opt.collin_tol = opt.collin_tol;
  std::vector<least_squares_solution>& ls1 = P.first;
  ls1.resize(static_cast<std::size_t>(kd));
  P.Pi.resize(kz, kd);
  P.V.resize(m, kd);
  Eigen::MatrixXd& Pi = P.Pi;
  Eigen::MatrixXd& V = P.V;
  Eigen::MatrixXd Dhat(m, kd);
  std::vector<Eigen::Index> all_x(static_cast<std::size_t>(kx));
  for (Eigen::Index j = 0; j < kx; ++j) all_x[static_cast<std::size_t>(j)] = j;
  const bool intercept = fe || has_constant_column(Xd, all_x);
  for (Eigen::Index j = 0; j < kd; ++j) {
    iv_first_stage fs = fit_first_stage(Zf, Dd.col(j), kx, kx + j, w, first_opt, spec, dof, fe ? &wt : nullptr, intercept, n, fn,
                                        ls1[static_cast<std::size_t>(j)]);
    Pi.col(j) = fs.instrument_coef;
    V.col(j) = fs.fit.residuals;
    Dhat.col(j) = Dd.col(j) - fs.fit.residuals;
    if (fe) fs.fit.residuals = wt.in_input_order(std::move(fs.fit.residuals));
    out.first_stage.push_back(std::move(fs));
  }

  // ---- second stage: y on [X, D̂]; residuals with the actual D ----------------------------------
  Eigen::MatrixXd& What = P.What;
  What.resize(m, kx + kd);
  What.leftCols(kx) = Xd;
  What.rightCols(kd) = Dhat;
  Dhat.resize(0, 0);
  least_squares_solution& ls2 = P.second;
  ls2 = solve_least_squares(What, yd, sqrt_w, opt.collin_tol);
  for (Eigen::Index c : ls2.dropped)
    require(c < kx, fn, "endogenous regressor " + std::to_string(c - kx) +
                            " is not identified: its first-stage fitted values are collinear with the exogenous regressors"
                            " (the instruments carry no information about it)");
  const Eigen::Index p = ls2.rank();
  require(m > p + dof.k_fe, fn, "needs more observations (" + std::to_string(m) + ") than estimated coefficients (" +
                                    std::to_string(p + dof.k_fe) + ")");
  const Eigen::VectorXd b = ls2.coef_full(kx + kd);
  Eigen::VectorXd& e = P.e;
  e = yd - Dd * b.tail(kd);
  if (kx > 0) e.noalias() -= Xd * b.head(kx);
  ls2.rss = w ? (e.array().square() * Eigen::Map<const Eigen::ArrayXd>(w, m)).sum() : e.squaredNorm();
  const vcov_estimate v = linear_model_vcov(What, ls2, w, e, spec, dof);

  ols_result& r = out.fit;
  r.coef = ls2.coef;
  fill_inference(v, r);
  r.kept_columns = ls2.kept;
  r.dropped_columns = ls2.dropped;
  r.residuals = fe ? wt.in_input_order(e) : e;
  r.nobs = m;
  r.rank = p;
  r.weighted = w != nullptr;
  r.df_resid = static_cast<double>(m - p - dof.k_fe);
  r.rss = ls2.rss;
  r.sigma = std::sqrt(r.rss / r.df_resid);
  r.has_intercept = intercept;
  r.tss = fe ? wt.columns.centred_squared_norm[static_cast<std::size_t>(kx + kd + kz)] : total_sum_of_squares(y, w, intercept);
  r.r2 = r.tss > 0 ? 1.0 - r.rss / r.tss : nan;
  r.adj_r2 = r.tss > 0 ? 1.0 - (1.0 - r.r2) * static_cast<double>(m - (intercept ? 1 : 0)) / r.df_resid : nan;
  if (fe) {
    const double tss_within = total_sum_of_squares(yd, w, false);
    r.r2_within = tss_within > 0 ? 1.0 - r.rss / tss_within : nan;
    for (const auto& d : wt.dims) r.fe_sizes.push_back(d.n_groups);
    r.k_fe = dof.k_fe;
    r.n_singletons = n - m;
    if (!wt.all_rows) r.used_rows = wt.rows;
    for (int it : wt.columns.iterations) r.demean_iterations = std::max(r.demean_iterations, it);
    recover_fixed_effects(wt, r.kept_columns, r.coef, kx + kd + kz, r);
  }

  // ---- instruments partialled out of X: Z̃ = Z − X Γ from the R factor of √W [X_kept, Z] --------
  const least_squares_solution& ls0 = ls1[0];
  const Eigen::Index kxk = ls0.rank() - kz;
  out.n_exog = P.kxk = kxk;
  Eigen::MatrixXd Zt = Zd;
  if (kxk > 0) {
    const Eigen::MatrixXd gamma =
        ls0.r.topLeftCorner(kxk, kxk).triangularView<Eigen::Upper>().solve(ls0.r.topRightCorner(kxk, kz));
    for (Eigen::Index a = 0; a < kxk; ++a) Zt.noalias() -= Xd.col(ls0.kept[static_cast<std::size_t>(a)]) * gamma.row(a);
  }
  const Eigen::MatrixXd R22 = ls0.r.bottomRightCorner(kz, kz);
  P.Szz = R22.transpose() * R22;                         // Z̃'WZ̃
  P.Zs = Zt.array().colwise() * sw;                      // √W Z̃
  Zt.resize(0, 0);
  P.Vs = V.array().colwise() * sw;                       // √W V
  P.VV = P.Vs.transpose() * P.Vs;                        // V'WV
  P.PSP = Pi.transpose() * P.Szz * Pi;                   // Π'Z̃'WZ̃Π
  const double nn = static_cast<double>(m);
  P.L_iid = static_cast<double>(kxk + kz + dof.k_fe);
  for (Eigen::Index j = 0; j < kd; ++j) {
    const double explained = P.PSP(j, j), total = P.PSP(j, j) + P.VV(j, j);
    out.first_stage[static_cast<std::size_t>(j)].partial_r2 = total > 0 ? explained / total : nan;
  }

  // ---- statistics: Cragg–Donald and Sargan (iid), then everything of the variance kind ----------
  out.cragg_donald_f = cragg_donald_f(P.PSP, P.VV, nn, P.L_iid, kz);
  P.Dd = Dd;
  P.yd = yd;
  out.sargan = sargan_test(P, r.rss);
  variance_statistics(P, spec, dof, out);
  if (opt.keep_variance_parts) {
    wt.columns = demeaned_columns{};  // the within data live on in Zf, What, Dd, yd
    out.variance_parts = std::move(parts);
  }
  return out;
}

namespace {

/// iv_with_vcov: the first- and second-stage variances with `spec` (on the estimation rows), then
/// the statistics that depend on them, exactly as the fit computes them.
iv_result refit_variance(const iv_result& fit, const iv_variance_parts& P, const vcov_spec& spec, const absorbed_dof& dof) {
  iv_result out = fit;
  const double* w = P.weights();
  for (std::size_t j = 0; j < out.first_stage.size(); ++j) {
    iv_first_stage& fs = out.first_stage[j];
    const least_squares_solution& ls = P.first[j];
    fill_inference(linear_model_vcov(P.Zf, ls, w, P.V.col(static_cast<Eigen::Index>(j)), spec, dof), fs.fit);
    fs.instrument_se = fs.fit.se.tail(P.kz);
    partial_f(fs, P.kz, ls.rank());
  }
  fill_inference(linear_model_vcov(P.What, P.second, w, P.e, spec, dof), out.fit);
  variance_statistics(P, spec, dof, out);
  return out;
}

}  // namespace

}  // namespace impactkit::detail

namespace impactkit {

iv_result iv_with_vcov(const iv_result& fit, const vcov_spec& spec) {
  const char* fn = "iv_with_vcov";
  detail::require(fit.variance_parts != nullptr, fn,
                  "this fit kept no variance parts (iv_options::keep_variance_parts was false); refit with the new vcov");
  const detail::iv_variance_parts& P = *fit.variance_parts;
  detail::require(spec.kind != vcov_kind::survey || !P.fixed_effects, fn,
                  "a survey-design variance with absorbed fixed effects is not supported yet; use C(fe) regressors");
  detail::require(!(P.probability_weights && spec.kind == vcov_kind::iid), fn,
                  "probability weights need a robust or cluster-robust vcov, not iid");
  if (is_cluster_kind(spec.kind))
    detail::require(spec.clusters.rows() == P.n_input, fn, "cluster labels have " + std::to_string(spec.clusters.rows()) +
                                                             " rows but the fit had " + std::to_string(P.n_input));
  if (spec.kind == vcov_kind::survey) {
    detail::require(spec.survey != nullptr, fn, "vcov survey needs a survey design");
    detail::require(spec.survey_rows.empty() || static_cast<Eigen::Index>(spec.survey_rows.size()) == P.n_input, fn,
                    "survey_rows has " + std::to_string(spec.survey_rows.size()) + " entries but the fit had " + std::to_string(P.n_input));
  }
  if (!P.fixed_effects) return detail::refit_variance(fit, P, spec, absorbed_dof{});
  vcov_spec within;
  absorbed_dof dof;
  within_variance(P.wt, nullptr, spec, fn, within, dof);  // the fit's absorbed count rule (absorb_options::dof)
  return detail::refit_variance(fit, P, within, dof);
}

iv_result iv_2sls(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& D,
                  const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::VectorXd>& y,
                  const iv_options& opt) {
  return detail::fit_iv(X, D, Z, y, nullptr, opt, "iv_2sls");
}

iv_result iv_2sls(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& D,
                  const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::VectorXd>& y,
                  const Eigen::Ref<const Eigen::VectorXd>& w, const iv_options& opt) {
  detail::require(w.size() == y.size(), "iv_2sls", "weights have " + std::to_string(w.size()) + " rows but y has " + std::to_string(y.size()));
  const Eigen::VectorXd wc = w;
  detail::require_positive_weights(wc.data(), wc.size(), "iv_2sls");
  return detail::fit_iv(X, D, Z, y, wc.data(), opt, "iv_2sls");
}

}  // namespace impactkit
