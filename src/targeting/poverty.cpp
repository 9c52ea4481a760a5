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

// Sen (1976) with a fixed or an estimated line. S = H − (1 − G_p)·m/z, H the headcount ratio, m = Σ_poor w y / N,
// G_p the Gini among the poor. Influence with z fixed: u(S) = u(H) + (m·u(G_p) − (1 − G_p)·u(m))/z. An
// estimated line z = s·Q_p adds ∂S/∂z · IF(z) (the line's influence, welfare_line.hpp, as for FGT). Writing
// (1 − G_p)·m = 2A − 2B/H with A = ∫_0^z y dF and B = ∫_0^z y F dF (F the CDF; the poor are the lowest rows,
// so their ranks among the poor are F/H), differentiation in z gives
//   ∂S/∂z = f(z)·(1 − 2B/(z H²)) + (1 − G_p)·m / z²,
// estimated by f̂(z) = Σ w φ_h(z − y)/N (the kernel and bandwidth of the FGT linearisation) and
// 2B/(z H²) = 2 Σ_poor w y midN / (z P²), midN the mid-point cumulative weight of a row's tie run, P = Σ_poor w.
welfare_index_result sen_index(const welfare_rows& r, const welfare_line& line, const survey_design& design) {
  namespace ranks = detail::ranks;
  namespace lines = detail::lines;
  const char* fn = "sen";
  detail::poverty::check(r, fn);
  lines::check(line, fn);
  detail::require(line.kind != line_kind::none, fn, "needs a poverty line");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const resolved_line L = lines::resolve(line, r.n, r.welfare, r.weights, r.domain, fn);
  const double z = L.z;
  detail::require(std::isfinite(z) && z > 0, fn, "the poverty line must be positive (the index divides by it); it is " + detail::format_g(z));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  welfare_index_result out;
  out.line = z;
  out.estimate = Eigen::VectorXd::Constant(r.n_domains, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n), 0.0), u_gini(static_cast<std::size_t>(r.n), 0.0);
  std::vector<double> dS_dz(static_cast<std::size_t>(r.n_domains), 0.0);
  for (int d = 0; d < r.n_domains; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    std::vector<Eigen::Index> poor;
    long double N = 0, P = 0, Yp = 0, K = 0;
    for (Eigen::Index i : rows) {
      const double w = r.weights ? r.weights[i] : 1.0, y = r.welfare[i];
      N += w;
      if (L.estimated) K += w * lines::gaussian_kernel(z - y, L.h);
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
    if (L.estimated) {
      long double wy_mid = 0, C = 0;  // Σ_poor w y midN over tie runs
      for (std::size_t a = 0; a < poor.size();) {
        const double v = r.welfare[poor[a]];
        long double W = 0;
        std::size_t b = a;
        for (; b < poor.size() && r.welfare[poor[b]] == v; ++b) W += r.weights ? r.weights[poor[b]] : 1.0;
        wy_mid += W * v * (C + W / 2);
        C += W;
        a = b;
      }
      const double rank_term = P > 0 ? static_cast<double>(2 * wy_mid / (static_cast<long double>(z) * P * P)) : 0.0;
      dS_dz[static_cast<std::size_t>(d)] = static_cast<double>(K / N) * (1 - rank_term) + (1 - Gp) * m / (z * z);
    }
  }
  Eigen::MatrixXd psi = ranks::influence_totals(r, 1, u, design, fn);
  if (L.estimated) {
    // the line's influence per unit from the totals of w·1{y ≤ Q_p} and w over the analysis rows
    long double density = 0;
    for (Eigen::Index i = 0; i < r.n; ++i)
      if (!(r.domain && r.domain[i] < 0)) density += (r.weights ? r.weights[i] : 1.0) * lines::gaussian_kernel(L.q - r.welfare[i], L.h);
    const unit_totals_table t = accumulate_unit_totals(
        design.units(), r.n, 1, 2,
        [&](Eigen::Index i, double* x) {
          if (r.domain && r.domain[i] < 0) return -1;
          const double w = r.weights ? r.weights[i] : 1.0;
          x[0] = r.welfare[i] <= L.q ? w : 0.0;
          x[1] = w;
          return 0;
        },
        [fn](Eigen::Index i) { detail::throw_invalid(fn, "invalid row " + std::to_string(i)); });
    const Eigen::VectorXd below = t.totals.col(0), all = t.totals.col(1);
    const Eigen::VectorXd if_z = lines::line_influence(line, below, all, static_cast<double>(density), fn);
    for (int d = 0; d < r.n_domains; ++d) psi.col(d) += dS_dz[static_cast<std::size_t>(d)] * if_z;
    out.bandwidth = L.h;
    const double v = design.variance_of_unit_totals(if_z)(0, 0);
    if (std::isnormal(v)) out.line_variance = v;
  }
  out.vcov = design.variance_of_unit_totals(psi);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  detail::poverty::mark_undefined(out);
  return out;
}

}  // namespace impactkit
