#pragma once
// Lot Quality Assurance Sampling (LQAS) for supervision areas (Valadez 1991, Assessing Child Survival Programs in
// Developing Countries; Valadez, Weiss, Leburg & Davis 2003, Assessing Community Health Programs), and survey
// sample sizes for a proportion and for a change in a proportion.
//
// LQAS: n respondents per area, X ~ Binomial(n, p) successes (e.g. children vaccinated). An area "reaches" the
//   upper threshold when X ≥ d (the decision rule). Risks, with F the binomial CDF:
//     α (provider risk: an area at the upper threshold p_u is classified below) = P(X < d | p_u) = F(d − 1; n, p_u)
//     β (consumer risk: an area at the lower threshold p_l is classified as reaching) = P(X ≥ d | p_l) = 1 − F(d − 1; n, p_l)
//   The rule d minimises α + β (ties: the smaller maximum risk, then the larger d) (Robertson & Valadez 2006,
//   Soc Sci Med 63:1648; Grant & Leavenworth, Statistical Quality Control, 1988). lqas_table(n) gives the rule for
//   upper thresholds 10%, 15%, …, 95% with lower = max(upper − 30 points, 0) (the 30-point grey zone of
//   Valadez et al. 2003's "LQAS table"), with both risks, so a reader sees where α or β exceeds 10%.
//
// Sample size for a proportion (Cochran 1977, eq. 4.2 with a design effect; Lwanga & Lemeshow 1991):
//   n₀ = deff · z²_{1−α/2} p(1−p) / e²; with a population of N: n = n₀ / (1 + (n₀ − 1)/N); divided by the response rate.
// Sample size per round (group) to detect a change p₁ → p₂ (two independent samples, two-sided α, power 1−β;
//   Fleiss, Levin & Paik 2003, eq. 4.14 without continuity correction; FANTA/Magnani 1997):
//   n = deff · [z_{1−α/2} √(2 p̄(1−p̄)) + z_{1−β} √(p₁(1−p₁) + p₂(1−p₂))]² / (p₂ − p₁)²,  p̄ = (p₁ + p₂)/2.
#include <string>

#include <Eigen/Core>

namespace impactkit {

struct lqas_decision {
  int n = 0;
  int rule = 0;           ///< d: reach the upper threshold when successes ≥ d
  double upper = 0, lower = 0;
  double alpha = 0;       ///< P(successes < d | p = upper)
  double beta = 0;        ///< P(successes ≥ d | p = lower)
  std::string describe() const;
};

/// Risks of the decision rule d for n, upper and lower thresholds.
lqas_decision lqas_risks(int n, int rule, double upper, double lower);

/// The decision rule minimising α + β for a sample of n and thresholds lower < upper (in [0, 1]).
lqas_decision lqas_rule(int n, double upper, double lower);

/// successes ≥ d per area (1 reached, 0 not); successes in [0, n].
Eigen::VectorXi lqas_classify(const Eigen::Ref<const Eigen::VectorXd>& successes, int n, int rule);

struct sample_size_result {
  double n_unrounded = 0;  ///< before rounding up
  long long n = 0;         ///< rounded up
  std::string describe;
};

/// Respondents to estimate p within ±margin at `level` (design effect, optional population size, response rate).
sample_size_result sample_size_proportion(double p, double margin, double level = 0.95, double deff = 1.0,
                                          double population = 0, double response_rate = 1.0);

/// Respondents per round to detect p1 → p2 (two-sided alpha, power), with a design effect and response rate.
sample_size_result sample_size_change(double p1, double p2, double alpha = 0.05, double power = 0.8, double deff = 1.0,
                                      double response_rate = 1.0);

}  // namespace impactkit
