#pragma once
// Instrumental variables: two-stage least squares (2SLS) with absorbed fixed effects, every variance
// of linear_model_vcov.hpp, first-stage results and weak-instrument / over-identification statistics.
//
// Model: y = Xβ + Dδ + e with exogenous regressors X (n×kx, the intercept column included by the
// caller), endogenous regressors D (n×kd) and excluded instruments Z (n×kz, kz ≥ kd); the full
// instrument set is Zf = [X, Z]. With weights W every product below is weighted (X'WX, …); with
// absorbed fixed effects every column of y, X, D, Z is first within-transformed in one call of
// absorb_fixed_effects (fixed_effects.hpp), and everything runs on the within data.
//
//   first stage   d_j = Zf π_j + v_j  (OLS, one per endogenous column; the fit_and_infer step of OLS)
//   second stage  b = argmin ‖√W (y − [X, D̂] b)‖,  D̂ = Zf Π̂   (solve_least_squares)
//   residuals     e = y − [X, D] b   (the actual D, not D̂)
//   variance      linear_model_vcov with the design [X, D̂] and the residuals e: the 2SLS sandwich
//                 with bread ([X,D̂]'W[X,D̂])⁻¹; iid uses σ² = e'We/(n − k). HC2/HC3/CR2/CR3 use the
//                 leverage of [X, D̂] ("stage-2" hat values), as R's ivreg/sandwich, estimatr's
//                 iv_robust and clubSandwich do.
//
// First-stage diagnostics, per endogenous d_j, with the instruments partialled out of X
// (Z̃ = M_X Z, d̃_j = M_X d_j = Z̃π_j + v_j; Frisch–Waugh–Lovell):
//   partial F     Wald test of π_j = 0 with the first-stage variance of the same kind as the second
//                 stage, F = W/kz ~ F(kz, df) (pyfixest IV_Diag `_f_stat_1st_stage`; linearmodels
//                 first_stage.diagnostics reports W/kz for "unadjusted" and W for robust kinds).
//   partial R²    1 − v_j'Wv_j / d̃_j'Wd̃_j.
// Weak-instrument statistics (Stock–Yogo thresholds are tabulated for the Cragg–Donald F):
//   Cragg–Donald Wald F (Cragg & Donald 1993; Stock & Yogo 2005; ivreg2 "Cragg-Donald Wald F"):
//       F_CD = (n − kx − kz − k_fe)/kz · λ_min,  λ_min the smallest eigenvalue of
//       (V'WV)⁻¹ Π̂'(Z̃'WZ̃)Π̂ (= r²_min/(1 − r²_min), r_min the smallest partial canonical correlation).
//   Kleibergen–Paap rk Wald F (Kleibergen & Paap 2006, "Generalized reduced rank tests using the
//       singular value decomposition", J. Econometrics 133; ranktest, Kleibergen & Schaffer 2007;
//       ivreg2 / ivreghdfe "Kleibergen-Paap rk Wald F"; linearmodels 7.1 `kleibergen_paap_f`):
//       with Q_zz = Z̃'WZ̃/n, Q_xx = D̃'WD̃/n, Q_zx = Z̃'WD̃/n and upper Cholesky factors R_z, R_x
//       (R'R = Q), Θ̂ = R_z⁻ᵀ Q_zx R_x⁻¹ = U S Vᵀ. With A⊥ = U[:, kd−1:], B⊥ = V[:, kd−1:],
//       λ = (B⊥ ⊗ A⊥)ᵀ vec(Θ̂), Ω = (B⊥ ⊗ A⊥)ᵀ (R_x⁻ᵀ ⊗ R_z⁻ᵀ) Ŝ (R_x⁻¹ ⊗ R_z⁻¹) (B⊥ ⊗ A⊥), with Ŝ the
//       HC0 (heteroskedasticity-robust kinds) or CR0 (cluster kinds; multiway: Cameron–Gelbach–
//       Miller) covariance of the scores v_i ⊗ z̃_i divided by n:  rk = n λ'Ω⁻λ (generalised
//       inverse on the positive eigenvalues), and
//         F_KP = rk/kz · (n − L)/n                  (robust),
//         F_KP = rk/kz · (n − L)(M − 1)/((n − 1)M)  (cluster, M clusters; multiway: M = min),
//       L = kx + kz + k_fe (k_fe with the cluster-nesting rule of the variance kind). For one
//       endogenous regressor F_KP equals the HC1/CR1 partial first-stage F. Not computed for iid.
//   Effective F (Montiel Olea & Pflueger 2013, "A robust test for weak instruments", JBES 31; one
//       endogenous regressor): F_eff = π̂'(Z̃'WZ̃)π̂ / tr(V̂_π Z̃'WZ̃), V̂_π the robust first-stage
//       variance of π̂ of the model's kind (HC1 when the model is iid, as pyfixest `eff_F`).
//       pyfixest uses the instruments without partialling out X; both agree when kz = 1 or X is
//       empty (only absorbed fixed effects).
// Over-identification (kz > kd), chi²(kz − kd):
//   Sargan (1958): n·(1 − e'W M_Zf e / e'We) = n·R²ᵤ of e on Zf (linearmodels `sargan`, ivreg2).
//   Hansen (1982) J for robust/cluster kinds: the minimised two-step efficient GMM criterion
//       J = min_b (Zf'W(y − [X,D]b))' Ŝ⁻¹ (Zf'W(y − [X,D]b)), Ŝ = Σ (w_i e_i zf_i)(·)' (HC0) or its
//       cluster sum (CR0) at the 2SLS residuals, no small-sample factor (ivreg2 with robust/cluster;
//       linearmodels IVGMM `j_stat`).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "../core/distributions.hpp"
#include "../core/errors.hpp"
#include "../core/fixed_effects.hpp"
#include "../core/least_squares.hpp"
#include "../core/linear_model_vcov.hpp"
#include "../core/ols.hpp"
#include "../core/vcov.hpp"
#include "../core/wald.hpp"

namespace impactkit {

namespace detail {
struct iv_variance_parts;  // src/impact/iv_variance_parts.hpp (private to impactkit_core)
}

struct iv_options {
  vcov_spec vcov;                   ///< default HC1
  double collin_tol = 1e-10;        ///< as ols_options::collin_tol
  bool probability_weights = false; ///< weighted only: sampling weights (no iid variance)
  /// Absorbed fixed effects: n×K integer labels, one column per dimension; empty: none.
  Eigen::MatrixXi fixed_effects;
  absorb_options absorb;
  /// Keep on the result what iv_with_vcov needs to change the variance without refitting (the
  /// instrument and second-stage designs, residuals and factorisations: about (2kx + 3kd + 2kz + 2)
  /// doubles per row).
  bool keep_variance_parts = true;
};

/// First-stage regression of one endogenous regressor on [X, Z].
struct iv_first_stage {
  ols_result fit;                   ///< kept_columns index [X | Z]; vcov of the model's kind
  Eigen::VectorXd instrument_coef;  ///< π̂ on the kz excluded instruments
  Eigen::VectorXd instrument_se;
  double f_stat = std::numeric_limits<double>::quiet_NaN();     ///< partial F = Wald/kz
  double f_p_value = std::numeric_limits<double>::quiet_NaN();
  int f_df_num = 0;
  double f_df_denom = std::numeric_limits<double>::quiet_NaN();
  double partial_r2 = std::numeric_limits<double>::quiet_NaN();
};

/// A chi-square test statistic (NaN when not defined, e.g. exactly identified).
struct iv_test {
  std::string name;
  double statistic = std::numeric_limits<double>::quiet_NaN();
  double p_value = std::numeric_limits<double>::quiet_NaN();
  int df = 0;
};

struct iv_result {
  ols_result fit;                          ///< second stage: coef over kept columns of [X | D], IV residuals
  std::vector<iv_first_stage> first_stage; ///< one per endogenous regressor
  Eigen::Index n_exog = 0;                 ///< kept exogenous columns
  Eigen::Index n_endog = 0, n_instruments = 0;
  double cragg_donald_f = std::numeric_limits<double>::quiet_NaN();
  double kleibergen_paap_f = std::numeric_limits<double>::quiet_NaN();  ///< robust/cluster kinds only
  double effective_f = std::numeric_limits<double>::quiet_NaN();        ///< one endogenous regressor only
  iv_test sargan, hansen_j;                ///< kz > kd; hansen_j for robust/cluster kinds only
  iv_test overid;                          ///< Sargan (iid) or Hansen J (robust/cluster)
  std::string diagnostics_convention;
  /// What iv_with_vcov needs (null when iv_options::keep_variance_parts was false).
  std::shared_ptr<const detail::iv_variance_parts> variance_parts;

  std::string describe() const {
    std::ostringstream s;
    s << (fit.weighted ? "Weighted two-stage least squares" : "Two-stage least squares") << " on " << fit.nobs << " observations: "
      << n_exog << " exogenous regressor(s), " << n_endog << " endogenous, " << n_instruments << " excluded instrument(s)";
    if (!fit.fe_sizes.empty()) {
      s << ", absorbing " << fit.fe_sizes.size() << " fixed-effect dimension(s) (" << fit.k_fe << " coefficients counted)";
      if (fit.n_singletons) s << ", " << fit.n_singletons << " singleton row(s) dropped";
    }
    if (!fit.dropped_columns.empty()) s << " (" << fit.dropped_columns.size() << " collinear exogenous column(s) dropped)";
    s << ". Variance: " << fit.vcov_convention << ". " << diagnostics_convention;
    return s.str();
  }
};

/// Two-stage least squares of y on [X, D] with excluded instruments Z (X includes the intercept
/// column if wanted; X may have no columns when fixed effects are absorbed).
iv_result iv_2sls(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& D,
                  const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::VectorXd>& y,
                  const iv_options& opt = {});

/// The fit `fit` with another variance, without refitting: the second-stage and first-stage
/// variances, partial F statistics, Kleibergen–Paap F, effective F, Hansen J and the conventions are
/// recomputed from the pieces the fit kept, with exactly the computations of iv_2sls, so the result
/// equals a fresh iv_2sls with this spec (any kind: iid, HC0–HC3, CR0–CR3, survey). Cluster labels or
/// survey rows of `spec` are given on the fit's input rows; with absorbed fixed effects the absorbed
/// count follows the new spec (nesting in clusters, spec.ssc). Coefficients, first-stage fits,
/// Cragg–Donald F and Sargan do not depend on the variance and are copied.
iv_result iv_with_vcov(const iv_result& fit, const vcov_spec& spec);

/// Weighted 2SLS with positive weights w (analytic by default; probability weights via options).
iv_result iv_2sls(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& D,
                  const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::VectorXd>& y,
                  const Eigen::Ref<const Eigen::VectorXd>& w, const iv_options& opt = {});

}  // namespace impactkit
