#pragma once
// Cost-effectiveness of mutually exclusive strategies: the ICER frontier with strong and extended
// dominance, and, from probabilistic draws, the acceptability curve, the frontier, the expected value of
// perfect information and ICER intervals (paired bootstrap, Fieller).
//
// ICER frontier (Drummond et al. 2015, ch. 4; the rule of R dampack::calculate_icers):
//   1. order strategies by cost (ties: by effect, the more effective first);
//   2. strong dominance: a strategy costing at least as much as another and no more effective (a tie in
//      both is dominated by the first in that order) is "D";
//   3. extended dominance: among the rest, walk up in cost; while some strategy's ICER against the previous
//      one exceeds the next strategy's ICER against it, the strategy is "ED"; repeat until ICERs rise;
//   4. the remaining "ND" strategies form the frontier, ICER_j = (C_j − C_{j−1}) / (E_j − E_{j−1}).
// Net monetary benefit at willingness to pay λ: NMB = λ·E − C (Stinnett & Mullahy 1998).
// From draws (n draws × k strategies of cost and effect):
//   CEAC(λ)_j   = share of draws in which strategy j has the highest NMB (van Hout et al. 1994);
//   frontier(λ) = the strategy with the highest expected NMB (Fenwick et al. 2001, CEAF);
//   EVPI(λ)     = E_draws[max_j NMB_ij] − max_j E_draws[NMB_ij] (Claxton 1999; dampack calc_evpi).
// ICER of strategy b against a: R = mean(ΔC)/mean(ΔE), ΔC_i = C_ib − C_ia, ΔE_i = E_ib − E_ia.
//   Paired bootstrap: resample draws (both strategies of a draw together) B times, percentile interval of
//   the B ratios. Replicate r draws its indices from a counter-based stream keyed by (seed, r), so the
//   result does not depend on the number of threads.
//   Fieller (Fieller 1954; Willan & O'Brien 1996, eq. 5): with v_c, v_e, v_ce the variances and covariance of
//   the means, the limits solve (Ē² − z² v_e) R² − 2 (C̄ Ē − z² v_ce) R + (C̄² − z² v_c) = 0; the interval is
//   bounded only when Ē² / v_e > z² (the effect difference is significant), else the limits are NaN.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit {

enum class dominance { none, strong, extended };  ///< ND, D, ED

/// One row per strategy, in the input order.
struct icer_frontier_result {
  std::vector<dominance> status;
  Eigen::VectorXd incremental_cost, incremental_effect, icer;  ///< against the previous frontier strategy (NaN off it and for the first)
  std::vector<Eigen::Index> frontier;                           ///< frontier strategies in increasing cost
  std::string describe() const;
};

/// The ICER frontier of k strategies with mean costs and effects (finite, k ≥ 1).
icer_frontier_result icer_frontier(const Eigen::Ref<const Eigen::VectorXd>& cost, const Eigen::Ref<const Eigen::VectorXd>& effect);

/// The acceptability curve, the frontier and the EVPI over a grid of willingness-to-pay values.
struct acceptability_result {
  Eigen::MatrixXd probability_best;     ///< n_lambda × k: share of draws in which each strategy has the highest NMB
  Eigen::MatrixXd expected_nmb;         ///< n_lambda × k: mean NMB of each strategy
  Eigen::VectorXi optimal;              ///< n_lambda: the strategy with the highest expected NMB (first on ties)
  Eigen::VectorXd evpi;                 ///< n_lambda: expected value of perfect information per decision
};

/// cost, effect: n draws × k strategies (finite, n ≥ 1); lambdas: finite. Ties in a draw go to the
/// first strategy. Parallel over λ, the same result for any number of threads.
acceptability_result cost_effectiveness_acceptability(const Eigen::Ref<const Eigen::MatrixXd>& cost,
                                                      const Eigen::Ref<const Eigen::MatrixXd>& effect,
                                                      const Eigen::Ref<const Eigen::VectorXd>& lambdas);

struct icer_interval_result {
  double icer = 0, mean_cost_difference = 0, mean_effect_difference = 0;
  double conf_low = 0, conf_high = 0;       ///< NaN when unbounded (Fieller) or undefined
  bool bounded = true;                      ///< Fieller: Ē²/v_e > z²
  Eigen::Index replicates = 0;              ///< bootstrap: B
  Eigen::Index undefined_replicates = 0;    ///< bootstrap replicates with mean ΔE = 0 (dropped)
  std::string method;
  std::string describe() const;
};

/// ICER of b against a from paired rows (ΔC_i, ΔE_i): percentile interval from a paired bootstrap of the rows.
icer_interval_result icer_bootstrap(const Eigen::Ref<const Eigen::VectorXd>& cost_difference,
                                    const Eigen::Ref<const Eigen::VectorXd>& effect_difference, Eigen::Index replicates,
                                    std::uint64_t seed, double level);

/// ICER of b against a from paired rows (ΔC_i, ΔE_i): Fieller's interval (variances of the means: sample
/// covariance / n).
icer_interval_result icer_fieller(const Eigen::Ref<const Eigen::VectorXd>& cost_difference,
                                  const Eigen::Ref<const Eigen::VectorXd>& effect_difference, double level);

}  // namespace impactkit
