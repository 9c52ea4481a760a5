#pragma once
// Harrell's concordance C for a risk score against (possibly censored, left-truncated) survival times,
// with R survival's conventions (Therneau & Atkinson, "Concordance", survival package vignette, 2020):
// a pair (i, j) is comparable when i has an event at t_i and j is at risk at t_i with a later exit (or
// is censored at t_i — censored rows count as still at risk at their exit time); with counting-process
// rows, j is at risk at t_i when entry_j < t_i ≤ exit_j. Comparable pairs are concordant (the row with
// the event has the higher risk score), discordant, or tied on the score (tied.x); pairs of events at
// the same time are tied.y (tied.xy when the scores tie too) and are not comparable. With case weights
// each pair counts w_i w_j. Then, with npair = concordant + discordant + tied.x,
//   somers_d = (concordant − discordant) / npair,   C = (somers_d + 1) / 2.
// Strata: pairs are formed within strata only, and the counts are pooled.
//
// Variance: R's infinitesimal jackknife. Each row's pair counts (as event and as comparator) c_i, d_i,
// x_i give dD/dw_i = w_i [(c_i − d_i)/npair − D (c_i + d_i + x_i)/npair], the influence of C is half of
// that, and var(C) = Σ_g (Σ_{i∈g} influence_i)² over rows or clusters — computed by the shared variance
// module from `influence`. `cox_variance` is R's "cvar": Σ_events d_t V_t / (4 npair²) with V_t the
// weighted variance of the rank scores in the risk set (the variance under the Cox model's score test).
//
// Algorithm: rows are visited by decreasing exit time (censored before events at the same time); two
// Fenwick trees over the score ranks hold the weights at risk and the weights of the events seen so far,
// so each row costs O(log n) and the whole computation O(n log n) (R uses a balanced binary tree).
#include <Eigen/Core>

#include <impactkit/sustainability/cox.hpp>

namespace impactkit {

struct concordance_counts {
  double concordant = 0, discordant = 0, tied_x = 0, tied_y = 0, tied_xy = 0;
};

struct concordance_result {
  concordance_counts counts;
  double concordance = 0;     ///< C (NaN when there is no comparable pair)
  double somers_d = 0;        ///< 2C − 1
  double cox_variance = 0;    ///< R's cvar
  Eigen::VectorXd influence;  ///< per row: the infinitesimal-jackknife influence of C (weights included)
};

/// Concordance of `score` (n values; higher = shorter survival, as a Cox linear predictor; R
/// concordance(..., reverse = TRUE)) with the survival rows `r` (time, event, optional entry, weights,
/// strata). Scores are compared exactly (equal doubles are ties).
concordance_result concordance(const cox_rows& r, const double* score);

}  // namespace impactkit
