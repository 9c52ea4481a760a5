#pragma once
// Generalised linear models for binary and count outcomes: logit, probit, complementary log-log and
// Poisson (PPML), with optional prior weights, a Poisson offset and absorbed fixed effects.
// Complementary log-log (binary; discrete-time proportional hazards, Prentice & Gloeckler 1978):
// μ = 1 − exp(−e^η); with v = e^η and r = v/(e^v − 1): ℓ = y log(1 − e^{−v}) − (1 − y) v, score
// y r − (1 − y) v, observed information r (v + r − 1) for y = 1 and v for y = 0 (ℓ is concave in η),
// expected information v r.
//
// Fitting: iteratively reweighted least squares (Nelder & Wedderburn 1972; McCullagh & Nelder 1989
// §2.5). With η = offset + Xβ (+ fixed effects), each step solves the weighted least-squares problem
//   z = η − offset + s/W  on  X  with weights  p·W,
// s = ∂ℓ_i/∂η the score and W = −∂²ℓ_i/∂η² the observed information of one observation, p the prior
// weight, with `solve_least_squares` (TSQR; core/least_squares.hpp). These are Newton–Raphson steps,
// quadratically convergent for all three families; for the canonical links (logit, Poisson) the
// observed and expected information coincide and this is Fisher scoring, for probit W > 0 holds
// for every η (the probit log-likelihood is concave), so the step is always well defined.
// Convergence: |D_t − D_{t−1}| / (0.1 + |D_t|) < tol on the deviance D (R glm.fit, fixest);
// when D increases by more than tol (relative) the step is halved (β and η move half-way back) up
// to `max_halving` times;
// the iteration cap throws convergence_error.
//
// Absorbed fixed effects (fixest feglm/fepois, Bergé 2018; ppmlhdfe, Correia, Guimarães & Zylkin
// 2020): at every step the fixed effects are projected out of z and X with the current weights
// p·W (absorbed_effects, Irons–Tuck; core/fixed_effects.hpp). The projection is warm-started: M_W
// annihilates every fixed-effect vector, so M_{W_t}(x) = M_{W_t}(x̃_{t−1}) with x̃_{t−1} the previous
// demeaned column, and M_{W_t}(z_t) = M_{W_t}(z̃_{t−1} + z_t − z_{t−1}); the inputs are then already
// nearly demeaned and few sweeps are needed. The linear predictor is η = offset + z − (z̃ − X̃β).
// Before fitting, groups whose outcome carries no information are dropped (a Poisson group with all
// y = 0, a binary group with all y = 0 or all y = 1: their fixed effect diverges), together with
// singletons (iterated to a fixed point, as ppmlhdfe); the counts are reported.
//
// Separation (the MLE does not exist: some fitted values go to the boundary while β diverges):
// observations are separated when there is a direction γ with x_iᵀγ = 0 for Poisson observations
// with y > 0, x_iᵀγ ≤ 0 for y = 0 (≥ 0 after a sign flip), and for binary outcomes (2y_i−1)·x_iᵀγ ≥ 0
// for all i; those with a strict inequality are separated. They are found with the iterative
// rectifier of Correia, Guimarães & Zylkin (2021, "Verifying the existence of maximum likelihood
// estimates for generalized linear models", §4.3): regress U on X (plus fixed effects) with weight 1
// on boundary observations and a large weight on interior ones, set U ← max(Û, 0) on the boundary
// and repeat until Û ≥ 0 everywhere; for binary outcomes every observation is a boundary one and the
// regression of (2y−1)·U on X gives the same fit as U on the sign-flipped X, so fixed effects are
// still absorbed by demeaning. The check runs when a fit looks separated (fitted values within
// 1e-6 of the boundary, or no convergence) or always on request; separated observations are then
// dropped and the model refitted (Stata logit/probit, ppmlhdfe, pyfixest) or an error is thrown.
//
// Variance (DESIGN.md §2): bread B = (X̃ᵀ W X̃)⁻¹ at the estimate (X̃ demeaned with those weights
// when fixed effects are absorbed; the partitioned inverse of the full Hessian), with W the observed
// information (default; Stata, statsmodels) or the expected information (R glm, fixest, for probit;
// identical for logit and Poisson); scores u_i x̃_i with u_i = p_i ∂ℓ_i/∂η. Then
//   iid (model-based)   V = B
//   HC0/HC1, CR0/CR1    V = sandwich_vcov(B, X̃, u) (core/vcov.hpp), HC1 n/(n−k), CR1
//                       G/(G−1)·(n−1)/(n−k) with k counting absorbed fixed effects as in OLS
//                       (fixest, pyfixest, statsmodels); or Stata's ML convention n/(n−1) and
//                       G/(G−1) (`stata_ml_ssc`).
// Inference is normal (df = +inf), as statsmodels, Stata and fixest report z statistics for GLMs.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "distributions.hpp"
#include "errors.hpp"
#include "fixed_effects.hpp"
#include "groups.hpp"
#include "least_squares.hpp"
#include "../detail/row_blocks.hpp"
#include "../detail/threads.hpp"
#include "vcov.hpp"

namespace impactkit {

enum class glm_family { logit, probit, poisson, cloglog };

const char* glm_family_name(glm_family f);

glm_family parse_glm_family(std::string s);

/// Which information matrix forms the bread (and the model-based variance).
enum class information_matrix {
  observed,  ///< −∂²ℓ/∂β∂βᵀ at the estimate (Stata, statsmodels); default
  expected,  ///< Fisher information (R glm, fixest, statsmodels GLM); differs from `observed` for probit and cloglog
};

/// When to run the separation check (the iterative rectifier).
enum class separation_check {
  automatic,  ///< when a fit has fitted values within 1e-6 of the boundary or does not converge
  always,     ///< before accepting any fit
  never,      ///< never (fitted values at the boundary are still counted and reported)
};

/// What to do with separated observations.
enum class separation_action {
  drop,   ///< drop them and refit (Stata logit/probit, ppmlhdfe, pyfixest); reported in the result
  raise,  ///< throw invalid_input naming the count and the regressors involved
};

struct glm_options {
  vcov_spec vcov;                   ///< default HC1; iid is the model-based variance (the bread)
  Eigen::VectorXd weights;          ///< prior weights (empty: none), positive and finite
  Eigen::VectorXd offset;           ///< Poisson only (empty: none), e.g. log exposure
  /// Absorbed fixed effects: n×K integer labels (any integers), one column per dimension; empty: none.
  Eigen::MatrixXi fixed_effects;
  absorb_options absorb;            ///< singletons, projection tolerance and iteration cap
  double tol = 1e-10;               ///< relative deviance change
  int max_iter = 100;               ///< IRLS iterations
  int max_halving = 30;             ///< step halvings per iteration
  double collin_tol = 1e-10;        ///< as in ols: relative residual norm below which a column is dropped
  information_matrix information = information_matrix::observed;
  separation_check check_separation = separation_check::automatic;
  separation_action on_separation = separation_action::drop;
  int separation_max_iter = 1000;   ///< iterative-rectifier iterations
  double separation_tol = 1e-5;     ///< |Û| below this counts as zero in the rectifier
  /// Stata's convention for maximum-likelihood models: HC1 factor n/(n−1), CR1 factor G/(G−1) only.
  bool stata_ml_ssc = false;
};

struct glm_result {
  glm_family family = glm_family::logit;
  Eigen::VectorXd coef;                       ///< kept columns, in X's order
  Eigen::MatrixXd vcov;                       ///< rank×rank
  Eigen::VectorXd se;
  Eigen::VectorXd df_inference;               ///< +inf: normal (z) inference
  std::vector<Eigen::Index> kept_columns, dropped_columns;
  Eigen::Index nobs = 0, rank = 0;
  int iterations = 0;                         ///< IRLS iterations of the final fit
  double loglik = 0, loglik_null = 0;         ///< weighted; null: intercept-only model (with the offset)
  double deviance = 0, null_deviance = 0;
  double pseudo_r2 = 0;                       ///< McFadden: 1 − loglik/loglik_null
  Eigen::VectorXd fitted;                     ///< μ̂ (probability or mean) per used row
  Eigen::VectorXd linear_predictor;           ///< η̂ (includes offset and fixed effects) per used row
  std::vector<Eigen::Index> used_rows;        ///< rows of the input used (empty: all)
  Eigen::MatrixXd bread;                      ///< inverse information at the estimate (kept columns)
  Eigen::VectorXd score_weights;              ///< u_i of the scores u_i·x_i, one per used row: a new variance needs no refit
  Eigen::Index n_fe_dropped = 0;              ///< rows in fixed-effect groups whose outcome is constant (all 0 / all 1)
  Eigen::Index n_singletons = 0;              ///< rows dropped as fixed-effect singletons
  std::vector<Eigen::Index> separated_rows;   ///< input rows dropped as separated (iterative rectifier)
  std::vector<Eigen::Index> separating_columns;  ///< columns of X in the separating direction
  bool separation_checked = false;            ///< the rectifier ran on the final sample
  Eigen::Index n_boundary = 0;                ///< fitted values within 1e-8 of the boundary (binary: μ or 1 − μ; Poisson: μ with y = 0)
  bool weighted = false, has_offset = false;
  information_matrix information = information_matrix::observed;
  // absorbed fixed effects (empty / zero without them)
  std::vector<Eigen::Index> fe_sizes;
  Eigen::Index k_fe = 0;
  std::vector<Eigen::VectorXd> fixef;         ///< per dimension (dims ≥ 2: first level 0), on the link scale
  std::vector<Eigen::VectorXi> fixef_labels;
  // variance
  std::vector<Eigen::Index> n_clusters;
  vcov_kind vcov_type = vcov_kind::hc1;
  double ssc_factor = 1.0;
  std::string vcov_convention;
  variance_conventions conventions;           ///< the conventions of the variance, as data

  Eigen::Index n_separated() const { return static_cast<Eigen::Index>(separated_rows.size()); }
  Eigen::VectorXd statistic() const { return coef.cwiseQuotient(se); }
  Eigen::VectorXd p_values() const { return two_sided_p_values(coef, se, df_inference); }
  std::string describe() const {
    std::ostringstream s;
    s << (family == glm_family::poisson ? "Poisson (PPML)" : family == glm_family::logit ? "Logit" : "Probit")
      << " maximum likelihood" << (weighted ? " with prior weights" : "") << (has_offset ? " and an offset" : "") << " on "
      << nobs << " observations, " << rank << " coefficients, " << iterations << " IRLS iterations";
    if (!fe_sizes.empty()) {
      s << ", absorbing " << fe_sizes.size() << " fixed-effect dimension(s) with ";
      for (std::size_t d = 0; d < fe_sizes.size(); ++d) s << (d ? " + " : "") << fe_sizes[d];
      s << " levels (" << k_fe << " counted as coefficients)";
    }
    if (!dropped_columns.empty()) s << " (" << dropped_columns.size() << " collinear column(s) dropped)";
    s << ".";
    if (n_fe_dropped)
      s << " " << n_fe_dropped << " row(s) in fixed-effect groups with " << (family == glm_family::poisson ? "an all-zero" : "a constant")
        << " outcome dropped.";
    if (n_singletons) s << " " << n_singletons << " singleton row(s) dropped.";
    if (!separated_rows.empty()) s << " " << separated_rows.size() << " separated observation(s) dropped.";
    if (n_boundary) s << " " << n_boundary << " fitted value(s) within 1e-8 of the boundary" << (separation_checked ? " (no separation found)" : " (separation not verified)") << ".";
    s << " Variance: " << vcov_convention << ".";
    return s.str();
  }
};

/// Logit, probit or Poisson regression of y on X (X includes the intercept column if wanted; with
/// absorbed fixed effects it must not). See the file comment for the algorithm and conventions.
glm_result glm(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, glm_family family,
               const glm_options& opt = {});

}  // namespace impactkit
