// Out-of-line definitions for impactkit/core/ols.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/ols.hpp>

#include "ols_detail.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit::detail {

double total_sum_of_squares(const Eigen::Ref<const Eigen::VectorXd>& y, const double* w, bool centred) {
  const Eigen::Index n = y.size();
  const double* v = y.data();
  const row_chunks chunks = make_row_chunks(n, 1 << 16);
  const std::size_t count = static_cast<std::size_t>(chunks.count);
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size));
  double ybar = 0;
  if (centred) {
    std::vector<double> part_w(count, 0.0), part_wy(count, 0.0);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (Eigen::Index c = 0; c < chunks.count; ++c) {
      double sw = 0, swy = 0;
      const Eigen::Index b = chunks.begin(c), e = chunks.end(c);
      if (w) {
#pragma omp simd reduction(+ : sw, swy)
        for (Eigen::Index i = b; i < e; ++i) {
          sw += w[i];
          swy += w[i] * v[i];
        }
      } else {
        sw = static_cast<double>(e - b);
#pragma omp simd reduction(+ : swy)
        for (Eigen::Index i = b; i < e; ++i) swy += v[i];
      }
      part_w[static_cast<std::size_t>(c)] = sw;
      part_wy[static_cast<std::size_t>(c)] = swy;
    }
    double sw = 0, swy = 0;
    for (std::size_t c = 0; c < count; ++c) {
      sw += part_w[c];
      swy += part_wy[c];
    }
    ybar = swy / sw;
  }
  std::vector<double> part(count, 0.0);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    double ss = 0;
    const Eigen::Index b = chunks.begin(c), e = chunks.end(c);
    if (w) {
#pragma omp simd reduction(+ : ss)
      for (Eigen::Index i = b; i < e; ++i) ss += w[i] * (v[i] - ybar) * (v[i] - ybar);
    } else {
#pragma omp simd reduction(+ : ss)
      for (Eigen::Index i = b; i < e; ++i) ss += (v[i] - ybar) * (v[i] - ybar);
    }
    part[static_cast<std::size_t>(c)] = ss;
  }
  double tss = 0;
  for (double s : part) tss += s;
  return tss;
}

void fill_inference(const vcov_estimate& v, ols_result& r) {
  r.vcov = v.vcov;
  r.conventions = v.conventions;
  r.se = standard_errors(v.vcov);
  r.df_inference = v.df;
  r.vcov_type = v.kind;
  r.ssc_factor = v.factor;
  r.n_clusters = v.n_clusters;
  r.vcov_convention = v.convention;
}

residual_pass_sums fit_and_infer(const Eigen::Ref<const Eigen::MatrixXd>& Xd, const Eigen::Ref<const Eigen::VectorXd>& yd,
                                 const double* w, const ols_options& opt, const vcov_spec& spec, const absorbed_dof& absorbed,
                                 const char* fn, bool detect_intercept, least_squares_solution& ls, ols_result& r) {
  const Eigen::Index n = Xd.rows();
  std::vector<double> sqrt_w;
  if (w) {
    sqrt_w.resize(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) sqrt_w[static_cast<std::size_t>(i)] = std::sqrt(w[i]);
  }
  ls = solve_least_squares(Xd, yd, w ? sqrt_w.data() : nullptr, opt.collin_tol);
  const Eigen::Index p = ls.rank();
  require(n > p + absorbed.k_fe, fn, "needs more observations (" + std::to_string(n) + ") than estimated coefficients (" +
                                         std::to_string(p + absorbed.k_fe) + ")");
  r.nobs = n;
  r.rank = p;
  r.weighted = w != nullptr;
  r.df_resid = static_cast<double>(n - p - absorbed.k_fe);
  r.kept_columns = ls.kept;
  r.dropped_columns = ls.dropped;
  r.coef = ls.coef;
  // Residuals, and RSS = Σ w e² in the same pass (replacing the normal-equations RSS, which suffers
  // from cancellation when the fit is close to perfect). HC0/HC1 need nothing but the residuals, so
  // their meat is accumulated in that pass too while each block of X is in cache (one pass over X
  // instead of three: residuals, the copy u = w∘e, the meat).
  // The intercept test (is a kept column constant and non-zero?) and the total sums of squares
  // ride on the same pass.
  const bool fused_hc = spec.kind == vcov_kind::hc0 || spec.kind == vcov_kind::hc1;
  const bool store = opt.keep_residuals || !(fused_hc || spec.kind == vcov_kind::iid);  // other variances read e
  Eigen::MatrixXd meat;
  if (store) {
    r.residuals.resize(n);
    advise_huge_pages(r.residuals.data(), static_cast<std::size_t>(n) * sizeof(double));
  }
  std::vector<Eigen::Index> candidates;
  if (detect_intercept)
    for (Eigen::Index j : ls.kept)
      if (Xd(0, j) != 0 && Xd(n - 1, j) == Xd(0, j)) candidates.push_back(j);
  residual_pass_sums sums = residuals_and_hc_meat(Xd, yd, w, ls, store ? r.residuals.data() : nullptr, fused_hc ? &meat : nullptr, candidates);
  for (char c : sums.constant) r.has_intercept = r.has_intercept || c;
  if (ls.normal_equations) {  // QR/refined RSS is more accurate than a sum of residuals
    ls.rss = sums.rss;
    ls.scaled_rss = sums.scaled_rss;
  }
  r.rss = ls.rss;  // may overflow to inf with a y beyond 1e154; sigma and R² come from the scaled RSS
  r.sigma = std::ldexp(std::sqrt(ls.scaled_rss / r.df_resid), ls.y_exponent());
  const vcov_estimate v = fused_hc ? linear_model_hc_vcov(ls, meat, spec, n, absorbed) : linear_model_vcov(Xd, ls, w, r.residuals, spec, absorbed);
  fill_inference(v, r);
  r.bread = ls.bread();
  for (Eigen::Index j : ls.kept)  // y's own transform does not touch the scores u_i·x_i
    r.conditioned = r.conditioned || ls.transform.e(j) != 0 || ls.transform.tau(j) != 0;
  if (!opt.keep_residuals) r.residuals = Eigen::VectorXd();
  return sums;
}

void recover_fixed_effects(const within_transformed& wt, const std::vector<Eigen::Index>& kept, const Eigen::VectorXd& b,
                           Eigen::Index y_column, ols_result& r) {
  const std::size_t K = wt.dims.size();
  r.fixef.clear();
  r.fixef_labels.clear();
  for (std::size_t d = 0; d < K; ++d) {
    const Eigen::MatrixXd& alpha = wt.columns.coefficients[d];
    Eigen::VectorXd fe = alpha.col(y_column);
    for (std::size_t j = 0; j < kept.size(); ++j) fe -= b(static_cast<Eigen::Index>(j)) * alpha.col(kept[j]);
    r.fixef.push_back(fe);
    r.fixef_labels.push_back(wt.level_labels(d));
  }
  for (std::size_t d = 1; d < K; ++d) {
    const double shift = r.fixef[d](0);
    r.fixef[d].array() -= shift;
    r.fixef[0].array() += shift;
  }
}

ols_result fit_absorbed(const std::vector<const double*>& x, const double* y, Eigen::Index n, const double* w,
                        const std::vector<label_column>& fe, const ols_options& opt, const char* fn) {
  const Eigen::Index k = static_cast<Eigen::Index>(x.size());
  require(n > 0, fn, "no observations");
  require(k > 0, fn, "X has no columns");
  require(y != nullptr, fn, "y is a null pointer; pass n outcome values");
  for (Eigen::Index j = 0; j < k; ++j)
    require(x[static_cast<std::size_t>(j)] != nullptr, fn, "X column " + std::to_string(j) + " is a null pointer; pass n values per column");
  require_finite(Eigen::Map<const Eigen::VectorXd>(y, n), fn, "y");
  for (Eigen::Index j = 0; j < k; ++j)
    require_finite(Eigen::Map<const Eigen::VectorXd>(x[static_cast<std::size_t>(j)], n), fn, "X column " + std::to_string(j));
  require(opt.collin_tol >= 0 && opt.collin_tol < 1, fn, "collin_tol must be in [0, 1)");
  if (w && opt.probability_weights)
    require(opt.vcov.kind != vcov_kind::iid, fn, "probability weights need a robust or cluster-robust vcov, not iid");

  ols_result r;
  least_squares_solution ls;
  std::vector<const double*> columns(x);
  columns.push_back(y);
  if (is_cluster_kind(opt.vcov.kind) && opt.vcov.clusters.size() > 0)  // before the work
    require(opt.vcov.clusters.rows() == n, "absorb_fixed_effects", "cluster labels have " + std::to_string(opt.vcov.clusters.rows()) +
                                                                       " rows but the data have " + std::to_string(n));
  within_transformed wt = absorb_fixed_effects(columns, n, w, fe, opt.absorb);
  within_variance(wt, &fe, opt.vcov, "absorb_fixed_effects", wt.vcov, wt.dof);
  const Eigen::Index m = wt.n();
  const demeaned_columns& dm = wt.columns;
  const double* wd = wt.weight_data();
  for (const auto& d : wt.dims) r.fe_sizes.push_back(d.n_groups);
  const residual_pass_sums sums = fit_and_infer(dm.values.leftCols(k), dm.values.col(k), wd, opt, wt.vcov, wt.dof, fn, false, ls, r);
  if (opt.keep_residuals) r.residuals = wt.in_input_order(std::move(r.residuals));

  r.has_intercept = true;
  r.k_fe = wt.dof.k_fe;
  r.n_singletons = n - m;
  for (int it : dm.iterations) r.demean_iterations = std::max(r.demean_iterations, it);
  r.tss = dm.centred_squared_norm[static_cast<std::size_t>(k)];  // of y on the kept rows, before the projection
  // R² from sums of squares in scaled units (finite where the sums themselves overflow)
  const double tss_scaled = dm.scaled_centred_squared_norm[static_cast<std::size_t>(k)];
  const int tss_exponent = 2 * dm.norm_exponent[static_cast<std::size_t>(k)];
  const double tss_within = sums.scaled_tss_raw;  // the within-transformed y has weighted mean zero
  r.r2 = tss_scaled > 0 ? 1.0 - std::ldexp(ls.scaled_rss / tss_scaled, 2 * ls.y_exponent() - tss_exponent) : std::numeric_limits<double>::quiet_NaN();
  r.r2_within = tss_within > 0 ? 1.0 - ls.scaled_rss / tss_within : std::numeric_limits<double>::quiet_NaN();
  r.adj_r2 = tss_scaled > 0 ? 1.0 - (1.0 - r.r2) * static_cast<double>(m - 1) / r.df_resid : std::numeric_limits<double>::quiet_NaN();

  recover_fixed_effects(wt, r.kept_columns, r.coef, k, r);
  if (!wt.all_rows) r.used_rows = std::move(wt.rows);  // ols_result::within needs only the row order
  if (opt.keep_within) r.within = std::make_shared<const within_transformed>(std::move(wt));
  return r;
}

ols_result fit_linear(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const double* w,
                      const ols_options& opt, const char* fn) {
  const Eigen::Index n = X.rows(), k = X.cols();
  require(n > 0, fn, "no observations");
  require(k > 0, fn, "X has no columns");
  require(y.size() == n, fn, "y has " + std::to_string(y.size()) + " rows but X has " + std::to_string(n));
  require(opt.collin_tol >= 0 && opt.collin_tol < 1, fn, "collin_tol must be in [0, 1)");
  if (w && opt.probability_weights)
    require(opt.vcov.kind != vcov_kind::iid, fn, "probability weights need a robust or cluster-robust vcov, not iid");
  if (opt.fixed_effects.size() > 0)
    require(opt.fixed_effects.rows() == n, fn, "fixed-effect labels (ols_options::fixed_effects) have " + std::to_string(opt.fixed_effects.rows()) +
                                                   " rows but X has " + std::to_string(n) + "; pass one label per row of X in each column");
  if (is_cluster_kind(opt.vcov.kind) && opt.vcov.clusters.size() == 0 && !opt.absorb.cluster_fixed_effects.empty())
    require(opt.fixed_effects.size() > 0, fn, "clustering on fixed effects (absorb_options::cluster_fixed_effects) needs absorbed fixed effects");
  else if (is_cluster_kind(opt.vcov.kind))
    require(opt.vcov.clusters.rows() == n, fn, "cluster labels have " + std::to_string(opt.vcov.clusters.rows()) +
                                                   " rows but the data have " + std::to_string(n));

  ols_result r;
  least_squares_solution ls;
  if (opt.fixed_effects.size() == 0) {
    const residual_pass_sums sums = fit_and_infer(X, y, w, opt, opt.vcov, absorbed_dof{}, fn, true, ls, r);
    r.tss = r.has_intercept ? sums.tss_centred : sums.tss_raw;
    const double tss_scaled = r.has_intercept ? sums.scaled_tss_centred : sums.scaled_tss_raw;  // same units as ls.scaled_rss
    r.r2 = tss_scaled > 0 ? 1.0 - ls.scaled_rss / tss_scaled : std::numeric_limits<double>::quiet_NaN();
    const double dfm = static_cast<double>(n - (r.has_intercept ? 1 : 0));
    r.adj_r2 = tss_scaled > 0 ? 1.0 - (1.0 - r.r2) * dfm / r.df_resid : std::numeric_limits<double>::quiet_NaN();
    return r;
  }

  std::vector<const double*> columns;
  for (Eigen::Index j = 0; j < k; ++j) columns.push_back(X.col(j).data());
  std::vector<label_column> fe;
  for (Eigen::Index d = 0; d < opt.fixed_effects.cols(); ++d) fe.push_back(label_column::of(opt.fixed_effects.col(d).data(), n));
  return fit_absorbed(columns, y.data(), n, w, fe, opt, fn);
}

}  // namespace impactkit::detail

namespace impactkit {

Eigen::MatrixXd ols_result::within_design() const {
  detail::require(within != nullptr, "ols_result::within_design",
                  "the fit kept no within-transformed design; fit with ols_options::keep_within (absorbed fixed effects)");
  const Eigen::MatrixXd& values = within->columns.values;
  Eigen::MatrixXd out(values.rows(), rank);
  for (Eigen::Index j = 0; j < rank; ++j)
    out.col(j) = within->in_input_order(Eigen::VectorXd(values.col(kept_columns[static_cast<std::size_t>(j)])));
  return out;
}

vcov_estimate ols_within_vcov(const ols_result& fit, const vcov_spec& spec) {
  const char* fn = "ols_within_vcov";
  detail::require(fit.within != nullptr, fn,
                  "the fit kept no within-transformed design; fit with ols_options::keep_within (absorbed fixed effects)");
  detail::require(spec.kind == vcov_kind::hc0 || spec.kind == vcov_kind::hc1 || spec.kind == vcov_kind::cr0 || spec.kind == vcov_kind::cr1,
                  fn, std::string("vcov ") + vcov_name(spec.kind) + " is not a score-only variance; refit with it");
  const within_transformed& wt = *fit.within;
  const Eigen::Index m = wt.n();
  detail::require(m == fit.nobs, fn, "the within data do not belong to this fit");
  vcov_spec within;
  absorbed_dof dof;  // counted by the fit's own rule (absorb_options::dof)
  within_variance(wt, nullptr, spec, fn, within, dof, true);
  // scores u_i = w_i e_i on the within rows: the fit's residuals moved back to its row order (or, when
  // it kept none, ẽ = ỹ − X̃b from the kept within columns; y is the last column)
  const Eigen::MatrixXd& values = wt.columns.values;
  Eigen::VectorXd u(m);
  detail::advise_huge_pages(u.data(), static_cast<std::size_t>(m) * sizeof(double));
  if (fit.residuals.size() == m) {
    wt.gather_kept(fit.residuals.data(), u.data());
  } else {
    u = values.col(values.cols() - 1);
    for (std::size_t j = 0; j < fit.kept_columns.size(); ++j) u -= fit.coef(static_cast<Eigen::Index>(j)) * values.col(fit.kept_columns[j]);
  }
  if (const double* w = wt.weight_data()) u.array() *= Eigen::Map<const Eigen::ArrayXd>(w, m);
  const bool cluster = is_cluster_kind(spec.kind);
  vcov_estimate out = sandwich_vcov(fit.bread, values, fit.kept_columns, u.data(), within, fit.rank + (cluster ? dof.k_fe_cluster : dof.k_fe));
  detail::note_absorbed_parameters(out, dof, cluster);
  return out;
}

ols_result ols_with_vcov(const ols_result& fit, const vcov_spec& spec) {
  ols_result out = fit;
  detail::fill_inference(ols_within_vcov(fit, spec), out);
  return out;
}

ols_result ols(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const ols_options& opt) {
  return detail::fit_linear(X, y, nullptr, opt, "ols");
}

ols_result ols_absorbed(const std::vector<const double*>& x, const double* y, Eigen::Index n, const double* w,
                        const std::vector<label_column>& fe, const ols_options& opt) {
  if (w) detail::require_positive_weights(w, n, "wls");
  return detail::fit_absorbed(x, y, n, w, fe, opt, w ? "wls" : "ols");
}

ols_result wls(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
               const Eigen::Ref<const Eigen::VectorXd>& w, const ols_options& opt) {
  detail::require(w.size() == X.rows(), "wls", "weights have " + std::to_string(w.size()) + " rows but X has " + std::to_string(X.rows()));
  const Eigen::VectorXd wc = w;  // contiguous copy so the kernels can use raw pointers
  detail::require_positive_weights(wc.data(), wc.size(), "wls");
  return detail::fit_linear(X, y, wc.data(), opt, "wls");
}

}  // namespace impactkit
