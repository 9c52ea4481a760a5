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
#include "../core/unit_totals.hpp"
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
};

namespace detail::poverty {

namespace lines = detail::lines;
enum base : int { one, term, slope, below_q, kernel_q, n_base };

inline void check(const welfare_rows& r, const char* fn) {
  require(r.n >= 1 && r.welfare != nullptr, fn, "needs the welfare column and at least one row");
  require(r.n_domains >= 1, fn, "needs at least one domain");
}

[[noreturn]] inline void explain_invalid(const welfare_rows& r, Eigen::Index i, const char* fn, poverty_index index) {
  const std::string at = " at row " + std::to_string(i);
  if (r.weights && !(std::isfinite(r.weights[i]) && r.weights[i] >= 0))
    throw_invalid(fn, "weights must be finite and non-negative; " + format_g(r.weights[i]) + at);
  if (!std::isfinite(r.welfare[i])) throw_invalid(fn, "welfare is missing or infinite" + at);
  if (r.domain && r.domain[i] >= r.n_domains) throw_invalid(fn, "domain code out of range" + at);
  if (index == poverty_index::watts)
    throw_invalid(fn, "the Watts index needs positive welfare below the line; welfare is " + format_g(r.welfare[i]) + at);
  throw_invalid(fn, "invalid row " + std::to_string(i));
}

inline void mark_undefined(welfare_index_result& out) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int d : out.undefined) {
    out.estimate(d) = nan;
    out.vcov.row(d).setConstant(nan);
    out.vcov.col(d).setConstant(nan);
  }
}

}  // namespace detail::poverty

/// FGT_α (index fgt) or Watts per domain below `line` (fixed or estimated), with the design variance.
inline welfare_index_result poverty_measure(const welfare_rows& r, poverty_index index, double alpha, const welfare_line& line,
                                            const survey_design& design) {
  namespace pv = detail::poverty;
  namespace lines = detail::lines;
  const char* fn = index == poverty_index::fgt ? "fgt" : "watts";
  pv::check(r, fn);
  lines::check(line, fn);
  detail::require(line.kind != line_kind::none, fn, "needs a poverty line");
  detail::require(index != poverty_index::fgt || (std::isfinite(alpha) && alpha >= 0), fn, "alpha must be a finite number ≥ 0");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const resolved_line L = lines::resolve(line, r.n, r.welfare, r.weights, r.domain, fn);
  detail::require(L.z > 0, fn, "the poverty line must be positive (the indices divide by it); it is " + detail::format_g(L.z));
  const double z = L.z;
  const unit_totals_table table = accumulate_unit_totals(
      design.units(), r.n, r.n_domains, pv::n_base,
      [&](Eigen::Index i, double* x) {
        const double w = r.weights ? r.weights[i] : 1.0, y = r.welfare[i];
        const int d = r.domain ? r.domain[i] : 0;
        if (!(std::isfinite(w) && w >= 0) || !std::isfinite(y) || d >= r.n_domains) return -2;
        const bool poor = line.below(y, z);
        double t = 0, s = 0;
        if (index == poverty_index::fgt) {
          const double gap = (z - y) / z;
          t = poor ? (alpha == 0 ? 1.0 : std::pow(gap, alpha)) : 0.0;
          s = !L.estimated ? 0.0 : alpha == 0 ? lines::gaussian_kernel(z - y, L.h) : poor && gap > 0 ? alpha * std::pow(gap, alpha - 1) * (y / z) / z : 0.0;
        } else if (poor) {
          if (!(y > 0)) return -2;
          t = std::log(z / y);
          s = 1.0 / z;
        }
        x[pv::one] = w;
        x[pv::term] = w * t;
        x[pv::slope] = w * s;
        x[pv::below_q] = L.estimated && y <= L.q ? w : 0.0;
        x[pv::kernel_q] = L.estimated ? w * lines::gaussian_kernel(L.q - y, L.h) : 0.0;
        return d;
      },
      [&](Eigen::Index i) { pv::explain_invalid(r, i, fn, index); });
  const Eigen::MatrixXd t = table.domain_totals();
  const Eigen::Index D = r.n_domains, U = table.n_units, q = pv::n_base;
  welfare_index_result out;
  out.line = L.z;
  out.bandwidth = L.h;
  out.estimate.resize(D);
  Eigen::MatrixXd psi = Eigen::MatrixXd::Zero(U, D);
  Eigen::VectorXd if_z;
  if (L.estimated) {
    Eigen::VectorXd below = Eigen::VectorXd::Zero(U), all = Eigen::VectorXd::Zero(U);
    for (Eigen::Index d = 0; d < D; ++d) {
      below += table.totals.col(d * q + pv::below_q);
      all += table.totals.col(d * q + pv::one);
    }
    if_z = lines::line_influence(line, below, all, t.col(pv::kernel_q).sum(), fn);
  }
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = t(d, pv::one);
    if (!(N > 0)) {
      out.undefined.push_back(static_cast<int>(d));
      continue;
    }
    const double theta = t(d, pv::term) / N;
    out.estimate(d) = theta;
    psi.col(d) = (table.totals.col(d * q + pv::term) - theta * table.totals.col(d * q + pv::one)) / N;
    if (L.estimated) psi.col(d) += (t(d, pv::slope) / N) * if_z;
  }
  out.vcov = design.variance_of_unit_totals(psi);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  pv::mark_undefined(out);
  return out;
}

}  // namespace impactkit
