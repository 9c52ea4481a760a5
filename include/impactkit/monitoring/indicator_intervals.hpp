#pragma once
// Confidence intervals for indicators computed from counts: a proportion x/n and a rate of events per
// person-time. Elementwise over arrays (one indicator per entry).
//
// Proportion p̂ = x/n, z = z_{1−α/2} (conventions of statsmodels proportion_confint, which the tests match):
//   wilson           (p̂ + z²/2n ± z√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)          (Wilson 1927), clipped to [0, 1]
//   clopper_pearson  [B⁻¹(α/2; x, n−x+1), B⁻¹(1−α/2; x+1, n−x)], 0 at x = 0, 1 at x = n (Clopper & Pearson 1934)
//   jeffreys         [B⁻¹(α/2; x+½, n−x+½), B⁻¹(1−α/2; x+½, n−x+½)] (Brown, Cai & DasGupta 2001, eq. 6;
//                    without their boundary modification, as statsmodels)
//   agresti_coull    ñ = n + z², p̃ = (x + z²/2)/ñ, p̃ ± z√(p̃(1−p̃)/ñ) (Agresti & Coull 1998), clipped to [0, 1]
//   normal           p̂ ± z√(p̂(1−p̂)/n) (Wald), clipped to [0, 1]
// Rate λ̂ = d/T, exact Poisson interval (Garwood 1936; Ulm 1990):
//   [G⁻¹(α/2; d), G⁻¹(1−α/2; d+1)] / T with G⁻¹(q; a) the q-quantile of Gamma(a, 1) (= χ²_{2a}(q)/2), lower 0 at d = 0.
// B⁻¹ and G⁻¹ are Boost.Math's beta and gamma quantiles (ibeta_inv, gamma_p_inv).
#include <string>

#include <Eigen/Core>

namespace impactkit {

enum class proportion_method { wilson, clopper_pearson, jeffreys, agresti_coull, normal };

/// The method named as in the Python API ("wilson", "clopper_pearson", ...); throws invalid_input otherwise.
proportion_method parse_proportion_method(const std::string& name);
const char* to_string(proportion_method m);

struct count_intervals {
  Eigen::VectorXd estimate, conf_low, conf_high;
};

/// Proportions successes/trials with their intervals (0 ≤ successes ≤ trials, trials > 0, finite; counts may be
/// fractional, e.g. weighted; lengths equal).
count_intervals proportion_intervals(const Eigen::Ref<const Eigen::VectorXd>& successes,
                                     const Eigen::Ref<const Eigen::VectorXd>& trials, proportion_method method,
                                     double level = 0.95);

/// Rates events/person_time with exact (Garwood) Poisson intervals (events ≥ 0, person_time > 0, finite).
count_intervals poisson_rate_intervals(const Eigen::Ref<const Eigen::VectorXd>& events,
                                       const Eigen::Ref<const Eigen::VectorXd>& person_time, double level = 0.95);

}  // namespace impactkit
