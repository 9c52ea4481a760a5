#pragma once
// Ordinary and weighted least squares with every variance of linear_model_vcov.hpp.
//   b = argmin Σ w_i (y_i − x_iᵀb)²  (least_squares.hpp: one-pass TSQR, collinear columns dropped)
//   R² = 1 − RSS/TSS, TSS centred on the weighted mean when X has a constant column.
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "distributions.hpp"
#include "errors.hpp"
#include "fixed_effects.hpp"
#include "least_squares.hpp"
#include "../detail/memory.hpp"
#include "linear_model_vcov.hpp"
#include "../detail/row_blocks.hpp"
#include "../detail/threads.hpp"
#include "vcov.hpp"

namespace impactkit {

struct ols_options {
  vcov_spec vcov;                   ///< default HC1
  double collin_tol = 1e-10;        ///< relative residual norm below which a column is dropped
  bool probability_weights = false; ///< wls only: sampling weights (no iid variance)
  /// Absorbed fixed effects: n×K integer labels (any integers), one column per dimension; empty: none.
  Eigen::MatrixXi fixed_effects;
  absorb_options absorb;            ///< singletons, projection tolerance and iteration cap
  /// Store the residuals in ols_result::residuals. Without them (HC0/HC1 or iid variance only) a
  /// fit writes nothing n-long: for coefficient-and-variance loops over large data, where a fresh
  /// n-vector costs as much as a pass over y in page faults.
  bool keep_residuals = true;
  /// Absorbed fixed effects only: keep the within-transformed data in ols_result::within, so that a
  /// new HC0/HC1, CR0/CR1 or survey variance needs no refit (ols_result::within_design). It holds
  /// the m×(k+1) demeaned columns for the lifetime of the result (they are not copied: the fit moves
  /// them there instead of freeing them).
  bool keep_within = false;
};

struct ols_result {
  Eigen::VectorXd coef;                       ///< kept columns, in X's order
  Eigen::MatrixXd vcov;                       ///< rank×rank
  Eigen::MatrixXd bread;                      ///< (X̃'WX̃)⁻¹ over the kept columns: with the scores, a new variance needs no refit
  /// A kept column was centred or equilibrated for the solve (least_squares.hpp, "Conditioning"): a
  /// sandwich from the raw columns and `bread` would lose digits the fit kept (a new variance refits).
  bool conditioned = false;
  Eigen::VectorXd se;
  Eigen::VectorXd df_inference;               ///< t df per coefficient; +inf: normal
  std::vector<Eigen::Index> kept_columns, dropped_columns;
  Eigen::VectorXd residuals;                  ///< y − Xb (unweighted), one per used row (empty: keep_residuals off)
  Eigen::Index nobs = 0, rank = 0;
  /// rss and tss are Σ w e² and the total sum of squares: +inf (or 0) where they leave the double
  /// range (an outcome beyond ~1e154 or below ~1e-154); r2, adj_r2 and sigma are computed from
  /// scaled sums and stay exact.
  double df_resid = 0, rss = 0, tss = 0, r2 = 0, adj_r2 = 0, sigma = 0;
  bool has_intercept = false, weighted = false;
  std::vector<Eigen::Index> n_clusters;
  vcov_kind vcov_type = vcov_kind::hc1;
  double ssc_factor = 1.0;
  std::string vcov_convention;
  variance_conventions conventions;           ///< the conventions of the variance, as data
  // absorbed fixed effects (empty / zero without them)
  std::vector<Eigen::Index> used_rows;        ///< rows of the input used (empty: all)
  Eigen::Index n_singletons = 0;              ///< rows dropped as fixed-effect singletons
  std::vector<Eigen::Index> fe_sizes;         ///< levels per fixed-effect dimension (after singleton removal)
  Eigen::Index k_fe = 0;                      ///< absorbed coefficients counted in n − k (Σ G_d − (K − 1))
  double r2_within = std::numeric_limits<double>::quiet_NaN();
  std::vector<Eigen::VectorXd> fixef;         ///< estimated fixed effects per dimension (dims ≥ 2: first level 0)
  std::vector<Eigen::VectorXi> fixef_labels;  ///< the input label of each level in `fixef`
  int demean_iterations = 0;                  ///< max Irons–Tuck iterations over columns
  /// The within-transformed data of the fit (ols_options::keep_within; null otherwise). Its `rows`
  /// are moved to used_rows; its row order maps within rows to them.
  std::shared_ptr<const within_transformed> within;

  /// The within-transformed kept columns X̃ (nobs × rank), rows in input order of the used rows (as
  /// `residuals`): with the residuals, weights and `bread` the scores of every score-only variance.
  /// Needs ols_options::keep_within.
  Eigen::MatrixXd within_design() const;

  /// t (or z) statistics coef/se.
  Eigen::VectorXd statistic() const { return coef.cwiseQuotient(se); }
  /// Two-sided p-values against the reference distribution of each coefficient.
  Eigen::VectorXd p_values() const { return two_sided_p_values(coef, se, df_inference); }
  /// Conventions in plain words.
  std::string describe() const {
    std::ostringstream s;
    s << (weighted ? "Weighted least squares" : "Ordinary least squares") << " on " << nobs << " observations, " << rank
      << " coefficients";
    if (!fe_sizes.empty()) {
      s << ", absorbing " << fe_sizes.size() << " fixed-effect dimension(s) with ";
      for (std::size_t d = 0; d < fe_sizes.size(); ++d) s << (d ? " + " : "") << fe_sizes[d];
      s << " levels (" << k_fe << " counted as coefficients)";
      if (n_singletons) s << ", " << n_singletons << " singleton row(s) dropped";
    }
    if (!dropped_columns.empty()) s << " (" << dropped_columns.size() << " collinear column(s) dropped)";
    s << ". Variance: " << vcov_convention << ".";
    return s.str();
  }
};

/// OLS of y on X (X includes the intercept column if wanted).
ols_result ols(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const ols_options& opt = {});

/// Least squares with absorbed fixed effects on columns the caller keeps (nothing n-long is copied
/// before the within transformation): x[j] and y of length n, w null (OLS) or positive weights,
/// fe[d] the fixed-effect label columns. opt.fixed_effects is ignored; everything else as ols/wls.
ols_result ols_absorbed(const std::vector<const double*>& x, const double* y, Eigen::Index n, const double* w,
                        const std::vector<label_column>& fe, const ols_options& opt = {});

/// A new HC0/HC1 or CR0/CR1 (one- or multiway) variance for a fit with absorbed fixed effects that kept
/// its within-transformed data (ols_options::keep_within), without refitting (DESIGN.md §2): the
/// sandwich of the within scores w_i ẽ_i x̃_i (Frisch–Waugh–Lovell), summed in the fit's own row order,
/// so it equals a fresh fit with `spec` to rounding. Cluster labels in `spec` have one row per used row
/// (fit.nobs rows, in the order of fit.residuals); a cluster kind without labels reuses the
/// fixed effects' codes. Absorbed fixed effects count in n − k by the fit's rule (absorb_options::dof;
/// those nested in the new clusters per that rule).
vcov_estimate ols_within_vcov(const ols_result& fit, const vcov_spec& spec);

/// The fit with the variance of ols_within_vcov (a copy; coefficients, residuals and fixed effects unchanged).
ols_result ols_with_vcov(const ols_result& fit, const vcov_spec& spec);

/// WLS with positive weights w (analytic weights by default; probability weights via options).
ols_result wls(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
               const Eigen::Ref<const Eigen::VectorXd>& w, const ols_options& opt = {});

}  // namespace impactkit
