#pragma once
// Cox proportional-hazards model by maximum partial likelihood (Cox 1972), with Breslow or Efron (1977)
// handling of tied event times, strata, case weights and counting-process (entry, exit] rows for delayed
// entry and time-varying covariates (Andersen & Gill 1982).
//
// With η = Xβ and, per stratum and distinct event time t with tied event set D (d events, weight W_D,
// mean event weight m = W_D/d), risk-set sums S0 = Σ_R w e^η, S1 = Σ_R w e^η x, S2 = Σ_R w e^η x xᵀ over
// rows with entry < t ≤ exit, and their parts over D (S0_D, S1_D, S2_D):
//   Efron, k = 0..d−1, f = k/d:  den_k = S0 − f S0_D,  a_k = (S1 − f S1_D)/den_k
//   ℓ(β) = Σ_t [Σ_D w η − m Σ_k log den_k]
//   U(β) = Σ_t [Σ_D w x − m Σ_k a_k],   I(β) = Σ_t m Σ_k [(S2 − f S2_D)/den_k − a_k a_kᵀ]
// (Breslow: d = 1 with m = W_D). Newton–Raphson from β = 0 with step halving, as R coxph (convergence when
// the relative change in ℓ is below 1e-9).
// Score residuals (R residuals(fit, "score"), the dfbeta numerator): for row i,
//   L_i = δ_i (x_i − ā_i) − Σ_t 1{i ∈ R(t)} e^{η_i} Σ_k c_ik (m/den_k) (x_i − a_k),
// with ā_i = (1/d) Σ_k a_k and c_ik = 1 − f for i ∈ D (Efron), 1 otherwise. The robust ("sandwich")
// variance is V = I⁻¹ (Σ_g L_g L_gᵀ) I⁻¹ over clusters g of weighted residual totals w_i L_i, with no
// small-sample factor (R coxph(cluster =)); it goes through the shared variance module.
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit {

enum class cox_ties { efron, breslow };

struct cox_rows {
  Eigen::Index n = 0;
  const double* time = nullptr;     ///< exit time
  const double* event = nullptr;    ///< 1 event, 0 censored
  const double* entry = nullptr;    ///< entry time < exit (null: −∞)
  const double* weights = nullptr;  ///< case weights > 0 (null: 1)
  const int* strata = nullptr;      ///< 0..n_strata−1 (null: one stratum)
  int n_strata = 1;
};

struct cox_fit {
  Eigen::VectorXd coef;
  Eigen::MatrixXd information;       ///< I(β̂) (p × p)
  Eigen::MatrixXd score_residuals;   ///< n × p, L_i (unweighted)
  double loglik_null = std::numeric_limits<double>::quiet_NaN();
  double loglik = std::numeric_limits<double>::quiet_NaN();
  double score_test = std::numeric_limits<double>::quiet_NaN();  ///< U(0)ᵀ I(0)⁻¹ U(0)
  int iterations = 0;
  double n_events = 0;
};

/// The Grambsch & Therneau (1994) test of proportional hazards at β̂: the score test, without refitting,
/// for adding x·g(t) to the model (R cox.zph, survival ≥ 3.0). With a_k and V_k the tie-step means and
/// variances of the likelihood above (Efron or Breslow, as fitted) at each event time t:
///   u = Σ_t g(t) Σ_D w_i (x_i − ā_t)   (the time-weighted score; the ordinary score is 0 at β̂),
///   I = Σ_t m Σ_k V_k ⊗ [[1, g], [g, g²]]  (2p × 2p: information, g·information, g²·information),
/// and the per-term statistic is uᵀ I⁻¹ u over the rows and columns of all p covariates and the term's
/// time-interaction columns. Schoenfeld residuals x_i − ā_t (ā_t the mean of the Efron tie means) are
/// returned per event, in the order the sweep meets them (event_rows gives the row of each).
struct cox_ph_test {
  Eigen::MatrixXd information;  ///< 2p × 2p
  Eigen::VectorXd time_score;   ///< u (p)
  Eigen::MatrixXd schoenfeld;   ///< events × p
  Eigen::Matrix<Eigen::Index, Eigen::Dynamic, 1> event_rows;
};

/// The sums of the test above at coefficients β̂ for time weights g (one per row; only event rows are
/// read, and every row exiting at one time must carry the same value).
cox_ph_test cox_schoenfeld_test(const cox_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& beta,
                               cox_ties ties, const double* g);

/// Checks the rows (finite times, 0/1 events, positive weights, entry before exit, stratum codes in
/// range); the error names `fn` and the first offending row.
void validate_cox_rows(const cox_rows& r, const char* fn);

/// Fits the model on X (n × p, no intercept column).
cox_fit cox_regression(const cox_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& X, cox_ties ties, int max_iter = 30);

}  // namespace impactkit
