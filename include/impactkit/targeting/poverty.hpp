#pragma once
// Poverty indices with design-based (Taylor-linearised) variance, per domain on the full design:
//   FGT_α = t(1{y < z} ((z − y)/z)^α) / t(1)   (Foster, Greer & Thorbecke 1984; α = 0 headcount, 1 gap,
//                                               2 severity)
//   Watts = t(1{y < z} log(z / y)) / t(1)      (Watts 1968; needs y > 0 below the line)
// with t(x) = Σ w x the estimated population total over the domain. Below the line means y < z (or
// y ≤ z, welfare_line::strict). Influence totals per unit: (T_u(term) − θ T_u(1))/t(1), plus for an
// estimated line (welfare_line.hpp; the line is estimated on all analysis rows, as Eurostat's national
// threshold) ∂θ/∂z · s·IF_u(Q_p), with ∂t(term)/∂z = Σ w φ_h(z − y) (α = 0),
// Σ_{y<z} w α ((z − y)/z)^(α−1) y/z² (α > 0) and Σ_{y<z} w / z (Watts).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "../core/errors.hpp"
#include "../core/survey_design.hpp"
#include "../core/variance_conventions.hpp"
#include "welfare_line.hpp"

namespace impactkit {

enum class poverty_index { fgt, watts };

/// Rows of a poverty or inequality analysis (borrowed columns, n rows each).
struct welfare_rows {
  Eigen::Index n = 0;
  const double* welfare = nullptr;  ///< required
  const double* weights = nullptr;  ///< sampling weights ≥ 0 (null: 1)
  const int* domain = nullptr;      ///< 0..n_domains−1, −1: in no domain; null: one domain
  int n_domains = 1;
};

/// One index per domain with the joint design variance.
struct welfare_index_result {
  Eigen::VectorXd estimate;  ///< D
  Eigen::MatrixXd vcov;      ///< D × D (NaN rows/columns where undefined)
  variance_conventions conventions;
  std::vector<int> undefined;  ///< domains with no positive weight
  double line = std::numeric_limits<double>::quiet_NaN();
  double bandwidth = std::numeric_limits<double>::quiet_NaN();
  /// Design variance of an estimated line (its influence s·IF(Q_p)); NaN for a fixed line or when it
  /// overflows or underflows a double (welfare units²).
  double line_variance = std::numeric_limits<double>::quiet_NaN();
};

/// Sen (1976) poverty index S = H·[I + (1 − I)·G_p] = H − (1 − G_p)·t(y·1{y < z})/(N z) per domain, with H the
/// headcount ratio, I the income-gap ratio of the poor and G_p the Gini coefficient (Eurostat formula,
/// inequality.hpp) of welfare among the poor (welfare ≥ 0 below the line); linearised as a smooth function
/// of H, t(y·1{y < z})/N and G_p. An estimated line (z = s·Q_p) enters by linearisation: ∂S/∂z·IF(z), with
/// ∂S/∂z = f(z)·(1 − 2B/(z H²)) + (1 − G_p)·m/z² (B = ∫_0^z y F dF; derivation in poverty.cpp).
welfare_index_result sen_index(const welfare_rows& r, const welfare_line& line, const survey_design& design);

/// FGT_α (index fgt) or Watts per domain below `line` (fixed or estimated), with the design variance.
welfare_index_result poverty_measure(const welfare_rows& r, poverty_index index, double alpha, const welfare_line& line,
                                     const survey_design& design);

}  // namespace impactkit
