#pragma once
// The variance contract (DESIGN.md §2): an estimator hands its per-observation influence values
// ψ (n×p, θ̂ − θ ≈ Σ_i ψ_i) — or scores s_i = u_i z_i plus a bread B, ψ_i = B s_i — and a variance
// design describing how the data were sampled or clustered; one entry returns V and the conventions
// that made it, as fields:
//   iid               V = n/(n−1) Σ (ψ_i − ψ̄)(ψ_i − ψ̄)ᵀ              df n − k   (R svydesign(ids=~1))
//   heteroskedastic   V = c Σ ψ_i ψ_iᵀ, c ∈ {1 (HC0), n/(n−k) (HC1), n/(n−1) (Stata's ML rule)}   df n − k
//   cluster           V = Σ_T ±c_T Σ_g S_g S_gᵀ, S_g = Σ_{i∈g} ψ_i, one- or multiway (Cameron, Gelbach &
//                     Miller 2011), c = G/(G−1)·(n−1)/(n−k) (CR1) or 1 (CR0)   df G − 1
//   survey            V = Σ_h (1−f_h) n_h/(n_h−1) Σ_j (S_hj − S̄_h)(S_hj − S̄_h)ᵀ (+ later stages;
//                     survey_design.hpp)                                 df #PSU − #strata
//   replicate         V = scale Σ_r rscale_r (θ̂_r − c)(θ̂_r − c)ᵀ, c the replicate mean or θ̂ (mse)
//                     (R svrepdesign; JK1 (R−1)/R, BRR 1/R, Fay 1/(R(1−ρ)²), bootstrap 1/(R−1), JKn
//                     rscale_r = (n_h−1)/n_h)                           df rank(replicate weights) − 1
// Replicate designs re-evaluate the estimator on each set of replicate weights: replicate_vcov takes
// the replicate estimates, not ψ. describe() renders the plain-words sentence from the fields, in one
// place for every estimator.
#include <cmath>
#include <iomanip>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "survey_design.hpp"
#include "vcov.hpp"

namespace impactkit {

/// Scale factors of a replicate design (R svrepdesign): V = scale Σ_r rscales_r (θ̂_r − c)(θ̂_r − c)ᵀ.
struct replicate_spec {
  replicate_method method = replicate_method::jk1;
  double scale = std::numeric_limits<double>::quiet_NaN();  ///< NaN: the method's default for R replicates
  Eigen::VectorXd rscales;                                  ///< per replicate; empty: all 1 (JKn needs them)
  bool mse = false;                                         ///< centre on θ̂ instead of the replicate mean
  double fay_rho = 0;                                       ///< Fay's ρ (BRR: 0)
  double df = std::numeric_limits<double>::quiet_NaN();     ///< rank of the replicate weights − 1 (set by the caller)
};

/// How the data were sampled or clustered: what the variance of an estimate must respect.
struct variance_design {
  variance_kind kind = variance_kind::heteroskedastic;
  factor_rule factor = factor_rule::n_over_n_minus_k;  ///< heteroskedastic: none, n/(n−k) or n/(n−1); cluster: none or cluster_stata
  Eigen::MatrixXi clusters;                             ///< cluster: n×m labels (m ≥ 1 dimensions)
  cluster_df_rule cluster_df = cluster_df_rule::min;    ///< multiway: G_min in every term, or each term its own
  std::shared_ptr<const survey_design> survey;          ///< survey: the factorised design
  replicate_spec replicate;                             ///< replicate

  static variance_design iid() { return variance_design{variance_kind::iid, factor_rule::n_over_n_minus_1, {}, cluster_df_rule::min, nullptr, {}}; }
  static variance_design heteroskedastic(factor_rule f = factor_rule::n_over_n_minus_k) {
    detail::require(f == factor_rule::none || f == factor_rule::n_over_n_minus_k || f == factor_rule::n_over_n_minus_1,
                    "variance_design::heteroskedastic", "the factor must be none, n/(n-k) or n/(n-1)");
    return variance_design{variance_kind::heteroskedastic, f, {}, cluster_df_rule::min, nullptr, {}};
  }
  static variance_design cluster(Eigen::MatrixXi labels, factor_rule f = factor_rule::cluster_stata,
                                 cluster_df_rule df = cluster_df_rule::min) {
    detail::require(f == factor_rule::none || f == factor_rule::cluster_stata || f == factor_rule::g_over_g_minus_1,
                    "variance_design::cluster", "the factor must be none, G/(G-1) or G/(G-1)(n-1)/(n-k)");
    return variance_design{variance_kind::cluster, f, std::move(labels), df, nullptr, {}};
  }
  static variance_design complex_survey(std::shared_ptr<const survey_design> d) {
    detail::require(d != nullptr, "variance_design::complex_survey", "no survey design given");
    return variance_design{variance_kind::survey, factor_rule::stratum_fpc, {}, cluster_df_rule::min, std::move(d), {}};
  }
  static variance_design replicates(replicate_spec r) {
    return variance_design{variance_kind::replicate, factor_rule::replicate_scale, {}, cluster_df_rule::min, nullptr, std::move(r)};
  }
};

namespace detail {

vcov_kind kind_of(const variance_conventions& c);

vcov_estimate finish_variance(Eigen::MatrixXd v, variance_conventions c);

/// Meat Σ over the design of ψ-totals (p×p, before any bread) for iid, heteroskedastic, cluster and
/// survey designs, from scores s_i = u_i Z[i, cols] (u null: 1); the conventions it used.
Eigen::MatrixXd design_meat(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols, const double* u,
                            const variance_design& design, Eigen::Index n_params, variance_conventions& c, const char* fn);

}  // namespace detail

/// Variance of θ̂ from its influence values ψ (n×p, θ̂ − θ ≈ Σ_i ψ_i) under `design`. `n_params` is k in
/// n − k (0: p).
vcov_estimate influence_vcov(const Eigen::Ref<const Eigen::MatrixXd>& psi, const variance_design& design, Eigen::Index n_params = 0);

/// Sandwich B·M·B with the meat M from scores s_i = u_i Z[i, cols] (u null: 1) under `design`; `n_params`
/// is k in n − k. The score-plus-bread form of influence_vcov (ψ_i = B s_i) without forming ψ.
vcov_estimate score_vcov(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                         const std::vector<Eigen::Index>& cols, const double* u, const variance_design& design,
                         Eigen::Index n_params);

/// The default scale of a replicate method with R replicates (R svrepdesign): JK1 (R−1)/R, BRR 1/R,
/// Fay 1/(R(1−ρ)²), bootstrap 1/(R−1); JKn and other: 1.
double replicate_default_scale(const replicate_spec& r, Eigen::Index R);

/// Replicate-weight variance from the full-sample estimate θ̂ (p) and the R×p replicate estimates:
/// V = scale Σ_r rscale_r (θ̂_r − c)(θ̂_r − c)ᵀ, c = mean_r θ̂_r, or θ̂ when `mse` (R svrVar).
vcov_estimate replicate_vcov(const Eigen::Ref<const Eigen::VectorXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& replicates,
                             const replicate_spec& r);

}  // namespace impactkit
