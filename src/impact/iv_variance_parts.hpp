#pragma once
// Private to impactkit_core: what iv_with_vcov needs to give a 2SLS fit another variance without
// refitting (DESIGN.md §2: results keep what re-estimating the variance needs). Everything here is
// on the estimation rows in the fit's row order (within rows with absorbed fixed effects); the
// variance-dependent statistics of iv.hpp are computed from these pieces both by the fit and by
// iv_with_vcov, so both give the same numbers.
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/fixed_effects.hpp>
#include <impactkit/core/least_squares.hpp>

namespace impactkit::detail {

struct iv_variance_parts {
  Eigen::Index n_input = 0;          ///< rows passed to the fit (cluster labels of a new spec have this many)
  Eigen::Index kx = 0, kd = 0, kz = 0;
  Eigen::Index kxk = 0;              ///< kept exogenous columns
  bool fixed_effects = false;
  bool probability_weights = false;
  within_transformed wt;             ///< with fixed effects: row maps, levels and weights (columns freed)
  Eigen::MatrixXd Zf;                ///< [X, Z] (within data)
  Eigen::MatrixXd What;              ///< second-stage design [X, D̂]
  Eigen::MatrixXd Dd;                ///< endogenous regressors D (within data)
  Eigen::VectorXd yd;                ///< outcome (within data)
  Eigen::MatrixXd V;                 ///< first-stage residuals
  Eigen::VectorXd e;                 ///< 2SLS residuals y − [X, D]b
  Eigen::MatrixXd Zs, Vs;            ///< √W Z̃ (instruments partialled out of X), √W V
  Eigen::MatrixXd Szz, PSP, VV, Pi;  ///< Z̃'WZ̃, Π'Z̃'WZ̃Π, V'WV, Π
  std::vector<least_squares_solution> first;  ///< one per endogenous regressor, on Zf
  least_squares_solution second;     ///< on What
  std::vector<double> w;             ///< weights on the estimation rows (empty: unweighted)
  Eigen::ArrayXd sw;                 ///< √w (ones when unweighted)
  double collin_tol = 1e-10;
  double L_iid = 0;                  ///< kx_kept + kz + k_fe (Cragg–Donald)

  const double* weights() const { return w.empty() ? nullptr : w.data(); }
};

}  // namespace impactkit::detail
