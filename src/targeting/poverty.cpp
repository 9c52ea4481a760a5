// Out-of-line definitions for impactkit/targeting/poverty.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/poverty.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/unit_totals.hpp>

#include "welfare_index_detail.hpp"

namespace impactkit {

namespace detail::poverty {

/// The per-row variables of row i (weight w, welfare y, domain d) into x: w, w·term, w·∂term/∂z and, for
/// an estimated line, w·1{y ≤ Q} and w·φ_h(Q − y); returns d, or −2 when the row is invalid.
int row_variables(poverty_index index, double alpha, const welfare_line& line, const resolved_line& L, double w, double y, int d,
                  int n_domains, double* x) {
  if (!(std::isfinite(w) && w >= 0) || !std::isfinite(y) || d >= n_domains) return -2;
  const double z = L.z;
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
  x[one] = w;
  x[term] = w * t;
  x[slope] = w * s;
  x[below_q] = L.estimated && y <= L.q ? w : 0.0;
  x[kernel_q] = L.estimated ? w * lines::gaussian_kernel(L.q - y, L.h) : 0.0;
  return d;
}

/// The index per domain, its influence totals per unit and the design variance from the table.
welfare_index_result finish(const welfare_line& line, const resolved_line& L, const unit_totals_table& table, const survey_design& design,
                            const char* fn) {
  const Eigen::MatrixXd t = table.domain_totals();
  const Eigen::Index D = table.n_domains, U = table.n_units, q = n_base;
  welfare_index_result out;
  out.line = L.z;
  out.bandwidth = L.h;
  out.estimate.resize(D);
  Eigen::MatrixXd psi = Eigen::MatrixXd::Zero(U, D);
  Eigen::VectorXd if_z;
  if (L.estimated) {
    Eigen::VectorXd below = Eigen::VectorXd::Zero(U), all = Eigen::VectorXd::Zero(U);
    for (Eigen::Index d = 0; d < D; ++d) {
      below += table.totals.col(d * q + below_q);
      all += table.totals.col(d * q + one);
    }
    if_z = lines::line_influence(line, below, all, t.col(kernel_q).sum(), fn);
  }
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = t(d, one);
    if (!(N > 0)) {
      out.undefined.push_back(static_cast<int>(d));
      continue;
    }
    const double theta = t(d, term) / N;
    out.estimate(d) = theta;
    psi.col(d) = (table.totals.col(d * q + term) - theta * table.totals.col(d * q + one)) / N;
    if (L.estimated) psi.col(d) += (t(d, slope) / N) * if_z;
  }
  out.vcov = design.variance_of_unit_totals(psi);
  if (L.estimated) {
    const double v = design.variance_of_unit_totals(if_z)(0, 0);
    if (std::isnormal(v)) out.line_variance = v;
  }
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  mark_undefined(out);
  return out;
}

}  // namespace detail::poverty

/// FGT_α (index fgt) or Watts per domain below `line` (fixed or estimated), with the design variance.
welfare_index_result poverty_measure(const welfare_rows& r, poverty_index index, double alpha, const welfare_line& line,
                                     const survey_design& design) {
  namespace pv = detail::poverty;
  namespace lines = detail::lines;
  const char* fn = index == poverty_index::fgt ? "fgt" : "watts";
  pv::check(r, fn);
  pv::check_index(index, alpha, line, fn);
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const resolved_line L = lines::resolve(line, r.n, r.welfare, r.weights, r.domain, fn);
  pv::check_line_value(L, fn);
  const unit_totals_table table = accumulate_unit_totals(
      design.units(), r.n, r.n_domains, pv::n_base,
      [&](Eigen::Index i, double* x) {
        return pv::row_variables(index, alpha, line, L, r.weights ? r.weights[i] : 1.0, r.welfare[i], r.domain ? r.domain[i] : 0,
                                 r.n_domains, x);
      },
      [&](Eigen::Index i) { pv::explain_invalid(r, i, fn, index); });
  return pv::finish(line, L, table, design, fn);
}

}  // namespace impactkit

namespace impactkit {

welfare_index_result sen_index(const welfare_rows& r, const welfare_line& line, const survey_design& design) {
  namespace ranks = detail::ranks;
  const char* fn = "sen";
  detail::poverty::check(r, fn);
  detail::lines::check(line, fn);
  detail::require(line.kind == line_kind::fixed, fn,
                  "needs a fixed poverty line (the linearisation of an estimated line through the Gini of the poor is not implemented)");
  const double z = line.value;
  detail::require(std::isfinite(z) && z > 0, fn, "the poverty line must be positive (the index divides by it); it is " + detail::format_g(z));
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  welfare_index_result out;
  out.line = z;
  out.estimate = Eigen::VectorXd::Constant(r.n_domains, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n), 0.0), u_gini(static_cast<std::size_t>(r.n), 0.0);
  for (int d = 0; d < r.n_domains; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    std::vector<Eigen::Index> poor;
    long double N = 0, P = 0, Yp = 0;
    for (Eigen::Index i : rows) {
      const double w = r.weights ? r.weights[i] : 1.0, y = r.welfare[i];
      N += w;
      if (!line.below(y, z)) continue;
      if (y < 0)
        detail::throw_invalid(fn, "the Sen index needs welfare ≥ 0 below the line (the Gini of the poor); welfare is " + detail::format_g(y) +
                                      " at row " + std::to_string(i));
      poor.push_back(i);  // still in welfare order
      P += w;
      Yp += static_cast<long double>(w) * y;
    }
    if (!(N > 0)) {
      out.undefined.push_back(d);
      continue;
    }
    const double n_ = static_cast<double>(N), H = static_cast<double>(P / N), m = static_cast<double>(Yp / N);
    // G_p: the Gini among the poor (0 with its influence when the poor hold no welfare or there are none)
    double Gp = 0;
    if (Yp > 0) Gp = ranks::concentration_on_rows(poor, r.welfare, r.welfare, r.weights, false, u_gini);
    out.estimate(d) = H - (1 - Gp) * m / z;
    // u(S) = u(H) + (m·u(G_p) − (1 − G_p)·u(m))/z with u(H) = (1{poor} − H)/N, u(m) = (y·1{poor} − m)/N
    for (Eigen::Index i : rows) {
      const double y = r.welfare[i];
      const bool is_poor = line.below(y, z);
      const double uH = ((is_poor ? 1.0 : 0.0) - H) / n_, um = ((is_poor ? y : 0.0) - m) / n_;
      const double uG = is_poor && Yp > 0 ? u_gini[static_cast<std::size_t>(i)] : 0.0;
      u[static_cast<std::size_t>(i)] = uH + (m * uG - (1 - Gp) * um) / z;
    }
  }
  out.vcov = ranks::influence_variance(r, 1, u, design, fn);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  detail::poverty::mark_undefined(out);
  return out;
}

}  // namespace impactkit
