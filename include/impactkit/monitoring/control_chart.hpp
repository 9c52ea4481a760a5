#pragma once
// Shewhart control charts for routine monitoring data, with phase-I limits, revised limits and run rules.
//
// Limits (Montgomery, Introduction to Statistical Quality Control, 7th ed., ch. 6–7), for sample i with size n_i:
//   p       p̄ = Σd/Σn (phase I),        p̄ ± 3√(p̄(1−p̄)/n_i)                    plotted d_i/n_i
//   np      centre n_i p̄,                n_i p̄ ± 3√(n_i p̄(1−p̄))                plotted d_i
//   c       c̄ = mean count (phase I),    c̄ ± 3√c̄                                plotted c_i
//   u       ū = Σc/Σn (phase I),          ū ± 3√(ū/n_i)                          plotted c_i/n_i
//   xmr     x̄ and MR̄ = mean |x_i − x_{i−1}| (phase I),  x̄ ± 3 MR̄/d₂, d₂ = 1.128 (individuals chart);
//           the moving-range chart has UCL D₄·MR̄ = 3.267 MR̄
//   laney_p p̄ ± 3 σ_{p,i} σ_z, σ_{p,i} = √(p̄(1−p̄)/n_i), σ_z = MR̄(z)/1.128 of z_i = (p_i − p̄)/σ_{p,i}
//           (Laney 2002, Quality Engineering 14(4):531–537)
//   Lower limits of p, np, c, u and laney_p charts are clipped at 0 (upper of p charts at 1); the run rules use
//   the unclipped σ.
// Phase I: samples [phase1_begin, phase1_end) estimate the centre line (and σ). A revision drops the phase-I
//   samples outside their limits and re-estimates (Montgomery §6.2.1 / Example 7.1, "revised control limits");
//   max_revisions rounds (−1: until none is outside); the dropped samples are reported.
// Run rules on z_i = (statistic_i − centre_i)/σ_i (Nelson 1984, J. Quality Technology 16(4):237–239):
//   1 a point beyond 3σ; 2 nine in a row on one side; 3 six in a row steadily increasing or decreasing;
//   4 fourteen in a row alternating up and down; 5 two of three beyond 2σ on one side; 6 four of five beyond 1σ
//   on one side; 7 fifteen in a row within 1σ; 8 eight in a row beyond 1σ on either side.
//   Western Electric (Handbook 1956): rules 1, 5, 6 and eight in a row on one side (bit 2 with run length 8).
//   A violation is flagged at the point that completes the pattern.
#include <cstdint>
#include <string>

#include <Eigen/Core>

namespace impactkit {

enum class control_chart_kind { p, np, c, u, xmr, laney_p };
enum class run_rules { nelson, western_electric, none };

control_chart_kind parse_control_chart_kind(const std::string& name);
run_rules parse_run_rules(const std::string& name);
const char* to_string(control_chart_kind k);

struct control_chart_options {
  control_chart_kind kind = control_chart_kind::p;
  Eigen::Index phase1_begin = 0;
  Eigen::Index phase1_end = -1;  ///< −1: all samples
  Eigen::Index max_revisions = 0;  ///< rounds of revision: 0 none, −1 until no phase-I sample is outside
  run_rules rules = run_rules::nelson;
};

struct control_chart_result {
  control_chart_kind kind = control_chart_kind::p;
  Eigen::VectorXd statistic, centre, lower, upper, sigma;  ///< per sample: plotted value, centre line, limits, σ_i
  Eigen::VectorXi violations;   ///< per sample: bit r−1 set when rule r is violated at that point
  Eigen::VectorXi excluded;     ///< 1 for phase-I samples dropped by the revision
  double centre_estimate = 0;   ///< p̄, c̄, ū or x̄ from the (revised) phase I
  double mean_moving_range = 0; ///< xmr: MR̄; laney_p: MR̄ of z
  double sigma_z = 1;           ///< laney_p: σ_z
  Eigen::Index revisions = 0;   ///< rounds of revision done
  std::string describe() const;
};

/// A control chart of `values` (counts d_i / c_i, or measurements for xmr) with sample sizes `sizes`
/// (trials for p/np/laney_p, inspection units for u; ignored and may be empty for c and xmr).
control_chart_result control_chart(const Eigen::Ref<const Eigen::VectorXd>& values,
                                   const Eigen::Ref<const Eigen::VectorXd>& sizes,
                                   const control_chart_options& options = {});

/// Run-rule violations (bitmask per point, rules as above) of standardised values z.
Eigen::VectorXi run_rule_violations(const Eigen::Ref<const Eigen::VectorXd>& z, run_rules rules);

}  // namespace impactkit
