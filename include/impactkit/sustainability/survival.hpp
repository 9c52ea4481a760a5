#pragma once
// Survival of services and of effects: Kaplan–Meier curves with Greenwood variance, their confidence
// intervals, median and restricted mean survival time, and the log-rank / Fleming–Harrington tests.
//
// Kaplan–Meier (weighted; left truncation by entry times): at each distinct exit time t_j with at-risk
// weight n_j = Σ w·1{entry < t_j ≤ time} and event weight d_j,
//   S(t) = Π_{t_j ≤ t} (1 − d_j/n_j),   σ²(t) = Σ_{t_j ≤ t} d_j / (n_j (n_j − d_j))   (Greenwood 1926),
// σ the standard error of log S (R survival's std.err); se(S) = S·σ. Intervals at level 1 − α, z = z_{1−α/2}
// (R survfit's conf.type): plain S ± z·S·σ; log exp(log S ± z σ); log-log S^exp(∓ z σ / log S). All clipped
// to [0, 1]; where S = 1 (no event yet) the interval is [1, 1], where S = 0 it is NaN (as R's NA).
// Quantile p of the survival time (R quantile.survfit): the first time with S ≤ 1 − p; when S equals 1 − p
// (to 1e-9 relative) on a flat stretch, the midpoint of that time and the next exit time with an event. Its
// interval reads the same rule off the upper and lower confidence curves.
// Restricted mean survival time to τ: μ = ∫_0^τ S(t) dt with variance Σ_{t_j ≤ τ} A_j² d_j / (n_j (n_j − d_j)),
// A_j = ∫_{t_j}^τ S(t) dt (R print.survfit(rmean = τ)).
// Log-rank G^ρ (R survdiff): per stratum, at each event time, weight S(t−)^ρ (pooled Kaplan–Meier of the
// stratum), observed Σ w d_gj, expected Σ w n_gj d_j / n_j, variance Σ w² d_j (n_j − d_j)/(n_j − 1)·
// (n_gj/n_j)(δ_gh − n_hj/n_j); χ² = (O − E)ᵀ V⁻ (O − E) on G − 1 df, summed over strata.
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit {

/// Rows of a survival analysis (borrowed columns, n rows each).
struct survival_rows {
  Eigen::Index n = 0;
  const double* time = nullptr;     ///< exit time (required, finite)
  const double* event = nullptr;    ///< 1 event, 0 censored (required)
  const double* weights = nullptr;  ///< case weights ≥ 0 (null: 1)
  const double* entry = nullptr;    ///< entry time < exit time (null: at risk from −∞)
  const int* group = nullptr;       ///< 0..n_groups−1, −1: excluded; null: one group
  int n_groups = 1;
};

/// One Kaplan–Meier curve, a row per distinct exit time.
struct km_curve {
  std::vector<double> time, at_risk, events, censored, survival, log_std_error;  ///< log_std_error: σ(t)
};

/// Kaplan–Meier curve of each group.
std::vector<km_curve> kaplan_meier(const survival_rows& r);

enum class km_conf_type { plain, log, log_log };

/// Lower and upper confidence limits of the curve at each of its times.
void km_confidence(const km_curve& c, double level, km_conf_type type, std::vector<double>& lower, std::vector<double>& upper);

/// Quantile p (0.5: the median) of the survival time with its confidence interval {estimate, low, high}
/// (NaN where the curve or a confidence limit never reaches 1 − p).
Eigen::Vector3d km_quantile(const km_curve& c, double p, double level, km_conf_type type);

/// Restricted mean survival time to tau and its variance {mean, variance}.
Eigen::Vector2d km_restricted_mean(const km_curve& c, double tau);

/// Survival at the given times (the step function; 1 before the first exit) with σ(t).
void km_at(const km_curve& c, const std::vector<double>& t, std::vector<double>& survival, std::vector<double>& log_std_error);

struct logrank_result {
  double statistic = std::numeric_limits<double>::quiet_NaN();
  int df = 0;
  Eigen::VectorXd observed, expected;  ///< weighted by S(t−)^ρ, per group
  Eigen::MatrixXd variance;            ///< of observed − expected
};

/// Log-rank (ρ = 0) or Fleming–Harrington G^ρ test that the groups' survival curves are equal, stratified
/// by `strata` (0..n_strata−1, null: one stratum). Case weights are not allowed (as R survdiff).
logrank_result logrank_test(const survival_rows& r, const int* strata, int n_strata, double rho);

}  // namespace impactkit
