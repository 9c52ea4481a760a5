// Out-of-line definitions for impactkit/core/influence_vcov.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/influence_vcov.hpp>

#include <cmath>
#include <iomanip>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

namespace impactkit::detail {

vcov_kind kind_of(const variance_conventions& c) {
  switch (c.kind) {
    case variance_kind::model:
    case variance_kind::iid: return vcov_kind::iid;
    case variance_kind::heteroskedastic: return c.factor == factor_rule::none ? vcov_kind::hc0 : vcov_kind::hc1;
    case variance_kind::cluster: return c.factor == factor_rule::none ? vcov_kind::cr0 : vcov_kind::cr1;
    case variance_kind::survey: return vcov_kind::survey;
    case variance_kind::replicate: return vcov_kind::replicate;
  }
  return vcov_kind::hc1;
}

vcov_estimate finish_variance(Eigen::MatrixXd v, variance_conventions c) {
  vcov_estimate out;
  out.kind = kind_of(c);
  out.factor = c.factor_value;
  out.n_clusters = c.n_clusters;
  out.convention = c.describe();
  out.df = Eigen::VectorXd::Constant(v.rows(), c.df_value);
  out.vcov = std::move(v);
  out.conventions = std::move(c);
  return out;
}

Eigen::MatrixXd design_meat(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols, const double* u,
                            const variance_design& design, Eigen::Index n_params, variance_conventions& c, const char* fn) {
  const Eigen::Index n = Z.rows(), p = static_cast<Eigen::Index>(cols.size());
  c.kind = design.kind;
  c.n_obs = n;
  c.n_params = n_params;
  const double nn = static_cast<double>(n), kk = static_cast<double>(n_params);
  switch (design.kind) {
    case variance_kind::iid: {
      require(n >= 2, fn, "an iid variance needs at least 2 observations");
      // n/(n−1) Σ (ψ − ψ̄)(ψ − ψ̄)ᵀ: the one-stratum, row-PSU survey variance
      Eigen::MatrixXd s(n, p);
      for (Eigen::Index j = 0; j < p; ++j) {
        s.col(j) = Z.col(cols[static_cast<std::size_t>(j)]);
        if (u) s.col(j).array() *= Eigen::Map<const Eigen::ArrayXd>(u, n);
      }
      s.rowwise() -= s.colwise().mean();
      c.factor = factor_rule::n_over_n_minus_1;
      c.factor_value = nn / (nn - 1.0);
      c.df = df_rule::n_minus_k;
      c.df_value = nn - kk;
      Eigen::MatrixXd m = Eigen::MatrixXd::Zero(p, p);
      m.selfadjointView<Eigen::Lower>().rankUpdate(s.transpose());
      return c.factor_value * Eigen::MatrixXd(m.selfadjointView<Eigen::Lower>());
    }
    case variance_kind::heteroskedastic: {
      require(n > n_params, fn, "needs more observations (" + std::to_string(n) + ") than parameters (" + std::to_string(n_params) + ")");
      c.factor = design.factor;
      c.factor_value = design.factor == factor_rule::none ? 1.0 : design.factor == factor_rule::n_over_n_minus_1 ? nn / (nn - 1.0) : nn / (nn - kk);
      c.df = df_rule::n_minus_k;
      c.df_value = nn - kk;
      return c.factor_value * weighted_cross_product(Z, cols, u);
    }
    case variance_kind::cluster: {
      // the multiway sandwich of vcov.hpp with the identity bread
      vcov_spec spec;
      spec.kind = design.factor == factor_rule::none ? vcov_kind::cr0 : vcov_kind::cr1;
      spec.clusters = design.clusters;
      spec.ssc.adj = design.factor == factor_rule::cluster_stata;
      spec.ssc.cluster_adj = design.factor != factor_rule::none;
      spec.ssc.cluster_df = design.cluster_df;
      const vcov_estimate v = sandwich_vcov(Eigen::MatrixXd::Identity(p, p), Z, cols, u, spec, n_params);
      c.factor = design.factor;
      c.factor_value = v.factor;
      c.n_clusters = v.n_clusters;
      c.multiway_min = design.cluster_df == cluster_df_rule::min;
      c.df = df_rule::clusters_minus_1;
      c.df_value = v.df.size() ? v.df(0) : std::numeric_limits<double>::quiet_NaN();
      return v.vcov;
    }
    case variance_kind::survey: {
      const survey_design& d = *design.survey;
      require(d.rows() == n, fn, "the influence values have " + std::to_string(n) + " rows but the survey design has " + std::to_string(d.rows()));
      c = d.conventions();
      c.n_params = n_params;
      return d.variance_of_unit_totals(group_score_sums(Z, cols, u, d.units()));
    }
    case variance_kind::model:
      throw_invalid(fn, "a model-based variance needs the model (σ² or the information matrix), not influence values; use iid");
    case variance_kind::replicate:
      throw_invalid(fn, "a replicate-weight design re-evaluates the estimator with each set of replicate weights: use replicate_vcov "
                        "with the replicate estimates");
  }
  return {};
}

}  // namespace impactkit::detail

namespace impactkit {

vcov_estimate influence_vcov(const Eigen::Ref<const Eigen::MatrixXd>& psi, const variance_design& design, Eigen::Index n_params) {
  const char* fn = "influence_vcov";
  detail::require(psi.rows() >= 1 && psi.cols() >= 1, fn, "no influence values (psi is empty)");
  detail::require_finite(psi, fn, "psi");
  std::vector<Eigen::Index> cols(static_cast<std::size_t>(psi.cols()));
  for (std::size_t j = 0; j < cols.size(); ++j) cols[j] = static_cast<Eigen::Index>(j);
  variance_conventions c;
  Eigen::MatrixXd v = detail::design_meat(psi, cols, nullptr, design, n_params ? n_params : psi.cols(), c, fn);
  return detail::finish_variance(std::move(v), std::move(c));
}

vcov_estimate score_vcov(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                         const std::vector<Eigen::Index>& cols, const double* u, const variance_design& design,
                         Eigen::Index n_params) {
  const char* fn = "score_vcov";
  detail::require(bread.rows() == bread.cols() && bread.rows() == static_cast<Eigen::Index>(cols.size()), fn,
                  "the bread must be p×p with p the number of score columns");
  for (Eigen::Index j : cols) detail::require(j >= 0 && j < Z.cols(), fn, "score column index out of range");
  variance_conventions c;
  const Eigen::MatrixXd meat = detail::design_meat(Z, cols, u, design, n_params, c, fn);
  return detail::finish_variance(bread * meat * bread, std::move(c));
}

double replicate_default_scale(const replicate_spec& r, Eigen::Index R) {
  const double rr = static_cast<double>(R);
  switch (r.method) {
    case replicate_method::jk1: return (rr - 1.0) / rr;
    case replicate_method::brr: return 1.0 / rr;
    case replicate_method::fay: return 1.0 / (rr * (1.0 - r.fay_rho) * (1.0 - r.fay_rho));
    case replicate_method::bootstrap: return 1.0 / (rr - 1.0);
    case replicate_method::jkn:
    case replicate_method::other: return 1.0;
  }
  return 1.0;
}

vcov_estimate replicate_vcov(const Eigen::Ref<const Eigen::VectorXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& replicates,
                             const replicate_spec& r) {
  const char* fn = "replicate_vcov";
  const Eigen::Index R = replicates.rows(), p = replicates.cols();
  detail::require(R >= 2, fn, "needs at least 2 replicates");
  detail::require(p == theta.size(), fn, "replicate estimates have " + std::to_string(p) + " columns but the estimate has " + std::to_string(theta.size()));
  detail::require(r.rscales.size() == 0 || r.rscales.size() == R, fn,
                  "rscales has " + std::to_string(r.rscales.size()) + " entries but there are " + std::to_string(R) + " replicates");
  detail::require(r.method != replicate_method::fay || (r.fay_rho >= 0 && r.fay_rho < 1), fn, "Fay's rho must be in [0, 1)");
  detail::require_finite(theta, fn, "the full-sample estimate");
  detail::require_finite(replicates, fn, "the replicate estimates (an estimator undefined on some replicate?)");
  const double scale = std::isnan(r.scale) ? replicate_default_scale(r, R) : r.scale;
  detail::require(std::isfinite(scale) && scale > 0, fn, "the replicate scale must be positive and finite");
  const Eigen::RowVectorXd centre = r.mse ? Eigen::RowVectorXd(theta.transpose()) : Eigen::RowVectorXd(replicates.colwise().mean());
  Eigen::MatrixXd dev = replicates.rowwise() - centre;
  if (r.rscales.size()) dev.array().colwise() *= r.rscales.array().sqrt();
  variance_conventions c;
  c.kind = variance_kind::replicate;
  c.factor = factor_rule::replicate_scale;
  c.factor_value = r.rscales.size() ? std::numeric_limits<double>::quiet_NaN() : scale;
  c.replicate = r.method;
  c.n_replicates = R;
  c.replicate_scale = scale;
  c.mse = r.mse;
  c.df = df_rule::replicate_rank;
  c.df_value = std::isnan(r.df) ? static_cast<double>(R - 1) : r.df;
  c.n_params = p;
  return detail::finish_variance(scale * (dev.transpose() * dev), std::move(c));
}

}  // namespace impactkit
