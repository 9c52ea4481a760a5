#pragma once
// Sandwich variance estimators shared by every estimator (DESIGN.md §2).
//
// An estimator supplies its bread B (p×p; for M-estimators the inverse Hessian, for least squares
// (X'WX)⁻¹) and per-observation scores s_i = u_i·z_i (z_i a row of a score-carrying matrix Z,
// u_i a scalar; for least squares z_i = x_i and u_i = w_i·e_i, for a general estimator Z is the
// score matrix itself and u ≡ 1). Then
//   heteroskedasticity-robust  V = c · B (Σ_i s_i s_iᵀ) B                      (White 1980; HC0/HC1)
//   cluster-robust             V = c · B (Σ_g S_g S_gᵀ) B,  S_g = Σ_{i∈g} s_i   (Liang–Zeger 1986)
//   multiway                   V = Σ_{∅≠T⊆{1..m}} (−1)^{|T|+1} c_T · B M_T B, M_T the cluster meat
//                              on the intersection of the dimensions in T (Cameron, Gelbach &
//                              Miller 2011, eq. 2.13)
// with small-sample factors c:  HC1 n/(n−p);  CR1 G/(G−1)·(n−1)/(n−p) (Stata, fixest);  in the
// multiway case G is G_min = min over dimensions (fixest/pyfixest/reghdfe, `cluster_df_rule::min`)
// or each term's own count (CGM, statsmodels, `cluster_df_rule::conventional`).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "groups.hpp"
#include "../detail/score_sums.hpp"
#include "survey_design.hpp"
#include "variance_conventions.hpp"

namespace impactkit {

/// survey: a complex survey design (survey_design.hpp); replicate: replicate weights (influence_vcov.hpp).
enum class vcov_kind { iid, hc0, hc1, hc2, hc3, cr0, cr1, cr2, cr3, survey, replicate };

const char* vcov_name(vcov_kind k);

/// "iid", "HC0".."HC3", "CR0".."CR3" (case-insensitive); "robust"/"hetero" mean HC1.
vcov_kind parse_vcov_kind(std::string s);

bool is_cluster_kind(vcov_kind k);

/// Multiway small-sample rule: one G_min for every term, or each term its own G.
enum class cluster_df_rule { min, conventional };

/// Small-sample corrections (fixest's `ssc()` vocabulary). Defaults reproduce fixest/pyfixest.
/// How absorbed fixed effects count in k (fixest's `fixef.K`) is a property of the absorption:
/// absorb_options::dof (fixed_effects.hpp).
struct small_sample {
  bool adj = true;          ///< (n−1)/(n−p) in CR1
  bool cluster_adj = true;  ///< G/(G−1) in CR1
  cluster_df_rule cluster_df = cluster_df_rule::min;
  /// Stata's rule for maximum-likelihood models (logit, probit, Poisson): HC1 with n/(n−1) instead of
  /// n/(n−k), CR1 with G/(G−1) alone (no (n−1)/(n−k)).
  bool maximum_likelihood = false;
};

/// What variance to compute. `clusters` holds n×m integer labels (any integers) for m ≥ 1
/// cluster dimensions; it is ignored (and may be empty) for iid and HC kinds. (To cluster on absorbed
/// fixed effects by index, leave it empty and set absorb_options::cluster_fixed_effects.)
struct vcov_spec {
  vcov_kind kind = vcov_kind::hc1;
  Eigen::MatrixXi clusters;
  small_sample ssc;
  /// survey: the factorised design, and the design row of each estimation row (empty: row i is design
  /// row i). Rows of the design that the estimator did not use contribute zero scores, so a fit on a
  /// subset (missing values, a domain) keeps the design's PSU counts, as R's svyglm does.
  std::shared_ptr<const survey_design> survey;
  std::vector<Eigen::Index> survey_rows;
  /// survey: #PSU − #strata of the estimation sample when it is not that of `survey_rows` (NaN: it
  /// is). Set by absorb_fixed_effects: rows dropped as fixed-effect singletons still belong to the
  /// sample (svyglm keeps them, with zero scores), so their PSUs count.
  double survey_df = std::numeric_limits<double>::quiet_NaN();

  static vcov_spec iid() { return vcov_spec{vcov_kind::iid, {}, {}, nullptr, {}}; }
  static vcov_spec hc(int type) {
    detail::require(type >= 0 && type <= 3, "vcov_spec::hc", "HC type must be 0, 1, 2 or 3");
    static const vcov_kind kinds[] = {vcov_kind::hc0, vcov_kind::hc1, vcov_kind::hc2, vcov_kind::hc3};
    return vcov_spec{kinds[type], {}, {}, nullptr, {}};
  }
  static vcov_spec cluster(const Eigen::Ref<const Eigen::MatrixXi>& codes, vcov_kind kind = vcov_kind::cr1,
                           small_sample ssc = {}) {
    detail::require(is_cluster_kind(kind), "vcov_spec::cluster", std::string("kind must be CR0..CR3, got ") + vcov_name(kind));
    return vcov_spec{kind, codes, ssc, nullptr, {}};
  }
  /// A cluster-robust kind without labels: clusters on the absorbed fixed effects named in
  /// absorb_options::cluster_fixed_effects (estimators with absorbed fixed effects only).
  static vcov_spec cluster_on_fixed_effects(vcov_kind kind = vcov_kind::cr1, small_sample ssc = {}) {
    detail::require(is_cluster_kind(kind), "vcov_spec::cluster_on_fixed_effects", std::string("kind must be CR0..CR3, got ") + vcov_name(kind));
    return vcov_spec{kind, {}, ssc, nullptr, {}};
  }
  /// Design-based (Taylor-linearised) variance under a complex survey design; `rows`: the design row of
  /// each estimation row (empty: all rows, in order).
  static vcov_spec complex_survey(std::shared_ptr<const survey_design> design, std::vector<Eigen::Index> rows = {}) {
    detail::require(design != nullptr, "vcov_spec::complex_survey", "no survey design given");
    return vcov_spec{vcov_kind::survey, {}, {}, std::move(design), std::move(rows)};
  }
};

/// A variance estimate with the conventions that produced it.
struct vcov_estimate {
  Eigen::MatrixXd vcov;                 ///< p×p
  Eigen::VectorXd df;                   ///< inference degrees of freedom per coefficient (+inf: normal)
  vcov_kind kind = vcov_kind::hc1;
  double factor = 1.0;                  ///< small-sample factor applied (one-way; first term multiway)
  std::vector<Eigen::Index> n_clusters; ///< per cluster dimension
  std::string convention;               ///< plain-words description
  variance_conventions conventions;     ///< the same conventions as data (filled by the variance contract)
};

/// Heteroskedasticity- or cluster-robust sandwich c·B·M·B from scores s_i = u_i·Z[i, cols]
/// (HC0, HC1, CR0, CR1 with one or more cluster dimensions). `n_params` is p in n−p.
vcov_estimate sandwich_vcov(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                            const std::vector<Eigen::Index>& cols, const double* u, const vcov_spec& spec,
                            Eigen::Index n_params);

}  // namespace impactkit
