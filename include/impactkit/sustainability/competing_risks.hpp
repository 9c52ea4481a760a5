#pragma once
// Competing risks (a service can close, or be taken over by government): cumulative incidence per cause
// (Aalen–Johansen) with its variance, and Gray's K-sample test that the groups' incidence curves of a cause
// are equal.
//
// Cumulative incidence of cause c (Kalbfleisch & Prentice 1980, §7.2; Aalen & Johansen 1978). At each
// distinct time t_j of a group with n_j at risk (time ≥ t_j), d_cj events of cause c and d_j events of any
// cause, with S(t−) the all-cause Kaplan–Meier curve just before t_j:
//   F_c(t) = Σ_{t_j ≤ t} S(t_j−) d_cj / n_j,      S(t_j) = S(t_j−) (1 − d_j / n_j).
// Variance: the delta-method estimator of Gray's R package cmprsk (cuminc; Gray 1988 and the cinc routine),
// with its tie correction. With S⁺ = S(t_j), u = S(t_j−)² τ d / n_j² (τ = 1 − (d − 1)/(n_j − 1) for d tied
// events, 1 when d = 1), it accumulates over event times
//   other causes (d = d_j − d_cj, when S⁺ > 0):  a = F_c(t_j)/S⁺,      b = 1/S⁺
//   cause c      (d = d_cj):                     a = 1 + F_c(t_j)/S⁺,  b = 1/S⁺ (0 when S⁺ = 0)
//   v₁ += a² u,  v₂ += a b u,  v₃ += b² u,
// and Var F_c(t_j) = v₁ + F_c(t_j)² v₃ − 2 F_c(t_j) v₂ at each event time of cause c (constant in between:
// the other causes' terms leave it unchanged while F_c is flat). R survival's survfit (multi-state
// Aalen–Johansen) gives the same estimates but its std.err is the infinitesimal-jackknife variance, a
// different (asymptotically equivalent) estimator.
// Intervals at level 1 − α (z = z_{1−α/2}): "log-log" F^exp(±z se/(F log F)) (Choudhury 2002; Stata stcompet,
// tidycmprsk), "log" F·exp(±z se/F), "plain" F ± z se; clipped to [0, 1]; [0, 0] while F = 0.
//
// Gray's test (Gray 1988, Ann. Statist. 16:1141–1154; cmprsk crstm): for cause c and groups k = 1..K, per
// stratum, at each event time with group at-risk counts n_k, group all-cause KM S_k(t−) and incidence
// F_k(t−), R_k = n_k (1 − F_k(t−))/S_k(t−), h_k = n_k/S_k(t−), pooled F(t) = F(t−) + d_c/Σh and weight
// W = (1 − F(t−))^ρ, the score is z_k = Σ_t W (d_ck − d_c R_k/Σ_r R_r) for k < K; its variance follows
// Gray's §2 formulae with cmprsk's tie corrections. Scores and variances add over strata; the statistic
// zᵀ V⁻¹ z is χ² on K − 1 df.
#include <limits>
#include <vector>

#include <Eigen/Core>

#include <impactkit/sustainability/survival.hpp>

namespace impactkit {

/// Rows of a competing-risks analysis (borrowed columns, n rows each).
struct competing_risks_rows {
  Eigen::Index n = 0;
  const double* time = nullptr;  ///< exit time (finite)
  const int* status = nullptr;   ///< 0 censored, 1..n_causes the cause of the event
  int n_causes = 1;
  const int* group = nullptr;    ///< 0..n_groups−1 (null: one group)
  int n_groups = 1;
  const int* strata = nullptr;   ///< 0..n_strata−1, for Gray's test (null: one stratum)
  int n_strata = 1;
};

/// Cumulative incidence of every cause in one group, a row per distinct exit time of the group.
struct cif_table {
  std::vector<double> time, at_risk, censored;
  Eigen::MatrixXd events;      ///< times × causes: events of each cause
  Eigen::MatrixXd incidence;   ///< times × causes: F_c(t)
  Eigen::MatrixXd variance;    ///< times × causes: cmprsk's variance of F_c(t)
};

/// Aalen–Johansen cumulative incidence of each cause, one table per group.
std::vector<cif_table> cumulative_incidence(const competing_risks_rows& r);

/// Confidence limits of F_c(t) at each time of the table (columns = causes).
void cif_confidence(const cif_table& t, double level, km_conf_type type, Eigen::MatrixXd& lower, Eigen::MatrixXd& upper);

struct gray_test_result {
  double statistic = std::numeric_limits<double>::quiet_NaN();  ///< NaN when V is singular (cmprsk: −1)
  int df = 0;
  Eigen::VectorXd score;     ///< groups 1..K−1, summed over strata
  Eigen::MatrixXd variance;  ///< (K−1) × (K−1)
};

/// Gray's test that the groups' cumulative incidence curves of `cause` (1..n_causes) are equal, stratified,
/// with weight (1 − F(t−))^rho.
gray_test_result gray_test(const competing_risks_rows& r, int cause, double rho);

// Fine–Gray subdistribution hazards (Fine & Gray 1999, JASA 94:496–509; R cmprsk::crr). The risk set of
// cause k at a cause-k event time τ holds the rows still under observation (time ≥ τ, weight 1) and the rows
// that failed from another cause at T_j < τ, weighted G(τ−)/G(T_j−), G the Kaplan–Meier curve of the
// censoring times (left limits, as crr). Breslow ties. The fit is a weighted Cox partial likelihood on
// counting-process rows (the survival::finegray weighting: a competing-event row is extended by (entry, exit]
// rows over which G(τ−) is constant) solved by impactkit::cox_regression — no second solver.
// Variance (crr's robust variance, Fine & Gray §3): V = I⁻¹ (Σ_i (η_i + ψ_i)(η_i + ψ_i)ᵀ) I⁻¹ with η_i
// the subject's weighted score residual summed over its rows and ψ_i the term of the estimated G:
//   ψ_i = δᶜ_i q(T_i)/π(T_i) − Σ_{u ≤ T_i} q(u) dNᶜ(u)/π(u)²,
//   q(u) = Σ_{τ ≥ u} d(τ)/S0(τ) Σ_{j competing, T_j < u} w_j(τ) e^{η_j} (x_j − x̄(τ)),
// π(u) the number with time ≥ u and dNᶜ(u) the censorings at u; computed in O(n) by separating w_j(τ) =
// G(τ−)/G(T_j−) into prefix sums over competing rows and suffix sums over event times.
struct finegray_fit {
  Eigen::VectorXd coef;
  Eigen::MatrixXd information;  ///< I(β̂), p × p (Breslow)
  Eigen::MatrixXd scores;       ///< n × p: η_i + ψ_i per input row (crr's influence numerators)
  double loglik = std::numeric_limits<double>::quiet_NaN();       ///< as crr's $loglik
  double loglik_null = std::numeric_limits<double>::quiet_NaN();
  double score_test = std::numeric_limits<double>::quiet_NaN();
  int iterations = 0;
  double n_events = 0;
  Eigen::Index weighted_rows = 0;  ///< counting-process rows of the weighted Cox fit
};

/// Fine–Gray regression for `cause` (1..n_causes) on X (n × p, no intercept). r.group, when given, holds
/// censoring groups (cmprsk crr's cengroup): G is estimated separately within each, a competing row's weight
/// is its own group's G_g(τ−)/G_g(T_j−) (0 after the group's last time, as crr), and the censoring term of ψ
/// is per group: q_g(u) over group g's competing rows and cause events, with π_g and censorings (crr's crrvv).
/// Strata are ignored.
finegray_fit finegray(const competing_risks_rows& r, int cause, const Eigen::Ref<const Eigen::MatrixXd>& X, int max_iter = 30);

}  // namespace impactkit
