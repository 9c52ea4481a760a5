// Out-of-line definitions for impactkit/targeting/poverty.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/poverty.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/survey_design.hpp>
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

/// The index per domain and its linearisation at the domain totals t (D × n_base) of row_variables: row d
/// of the gradient is the influence of a row of domain d per unit of its variables x, (x_term − θ_d x_one)/N_d;
/// for an estimated line, line(d) = t_d(slope)/N_d = ∂θ_d/∂z and every line_gradient row is the line's
/// influence per unit of x, IF_z = −s (x_below_q − p x_one)/Σ w φ_h(Q − y) (welfare_line.hpp).
linearised::index_gradient index_gradient_of(const resolved_line& L, const welfare_line& line, const Eigen::MatrixXd& t, const char* fn) {
  const Eigen::Index D = t.rows();
  linearised::index_gradient g;
  g.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  g.gradient = Eigen::MatrixXd::Zero(D, n_base);
  if (L.estimated) {
    const Eigen::VectorXd e = lines::line_influence(line, Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1), t.col(kernel_q).sum(), fn);
    g.line = Eigen::VectorXd::Zero(D);
    g.line_gradient = Eigen::MatrixXd::Zero(D, n_base);
    g.line_gradient.col(below_q).setConstant(e(0));
    g.line_gradient.col(one).setConstant(e(1));
  }
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = t(d, one);
    if (!(N > 0)) {
      g.undefined.push_back(static_cast<int>(d));
      continue;
    }
    const double theta = t(d, term) / N;
    g.estimate(d) = theta;
    g.gradient(d, term) = 1 / N;
    g.gradient(d, one) = -theta / N;
    if (L.estimated) g.line(d) = t(d, slope) / N;
  }
  return g;
}

welfare_index_result with_line(welfare_index_result out, const resolved_line& L) {
  out.line = L.z;
  out.bandwidth = L.h;
  return out;
}

/// The index per domain, its influence totals per unit and the design variance from the table.
welfare_index_result finish(const welfare_line& line, const resolved_line& L, const unit_totals_table& table, const survey_design& design,
                            const char* fn) {
  const linearised::index_gradient g = index_gradient_of(L, line, table.domain_totals(), fn);
  Eigen::VectorXd if_z;
  const Eigen::MatrixXd psi = linearised::influence_of_table(g, table, &if_z);
  return with_line(linearised::finish(g, psi, design, L.estimated ? &if_z : nullptr), L);
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
  // a design whose units are its rows (no design given): the pass sums the domain totals only, and each
  // row's influence is streamed into the variance (linearised::finish_streamed_rows)
  const bool row_units = detail::streams_row_influence(design, r.n, r.n_domains);
  group_codes single;
  if (row_units) {
    single.code.assign(static_cast<std::size_t>(r.n), 0);
    single.n_groups = 1;
  }
  const auto variables = [&](Eigen::Index i, double* x) {
    return pv::row_variables(index, alpha, line, L, r.weights ? r.weights[i] : 1.0, r.welfare[i], r.domain ? r.domain[i] : 0, r.n_domains, x);
  };
  const unit_totals_table table = accumulate_unit_totals(row_units ? single : design.units(), r.n, r.n_domains, pv::n_base, variables,
                                                         [&](Eigen::Index i) { pv::explain_invalid(r, i, fn, index); });
  if (!row_units) return pv::finish(line, L, table, design, fn);
  const detail::linearised::index_gradient g = pv::index_gradient_of(L, line, table.domain_totals(), fn);
  return pv::with_line(detail::linearised::finish_streamed_rows(g, r, pv::n_base, design,
                                                                [&](Eigen::Index i, int, double* x) { variables(i, x); }),
                       L);
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
  sen_line_terms terms;
  terms.line = line;
  terms.z = L.z;
  detail::require(std::isfinite(L.z) && L.z > 0, fn, "the poverty line must be positive (the index divides by it); it is " + detail::format_g(L.z));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  // the value columns y·1{poor}, 1{poor} (and 1{y ≤ Q_p} for an estimated line) ranked by welfare
  const auto n = static_cast<std::size_t>(r.n);
  std::vector<double> poor_y(n, 0.0), poor(n, 0.0), below_q(L.estimated ? n : 0, 0.0);
  if (L.estimated) {
    terms.q = L.q;
    terms.h = L.h;
    terms.kernel_at_line = Eigen::VectorXd::Zero(r.n_domains);
  }
  long double density = 0;
  for (int d = 0; d < r.n_domains; ++d) {
    long double K = 0;
    for (Eigen::Index i : by_domain[static_cast<std::size_t>(d)]) {
      const double w = r.weights ? r.weights[i] : 1.0, y = r.welfare[i];
      const auto k = static_cast<std::size_t>(i);
      if (L.estimated) {
        K += w * lines::gaussian_kernel(L.z - y, L.h);
        density += w * lines::gaussian_kernel(L.q - y, L.h);
        below_q[k] = y <= L.q ? 1.0 : 0.0;
      }
      if (!line.below(y, L.z)) continue;
      if (y < 0)
        detail::throw_invalid(fn, "the Sen index needs welfare ≥ 0 below the line (the Gini of the poor); welfare is " + detail::format_g(y) +
                                      " at row " + std::to_string(i));
      poor_y[k] = y;
      poor[k] = 1.0;
    }
    if (L.estimated) terms.kernel_at_line(d) = static_cast<double>(K);
  }
  terms.density_at_quantile = static_cast<double>(density);
  std::vector<const double*> values = {poor_y.data(), poor.data()};
  if (L.estimated) values.push_back(below_q.data());
  welfare_index_result out = ranks::rank_index_in_memory(r, by_domain, values, design, fn, [&](const Eigen::MatrixXd& tot, const Eigen::MatrixXd& c) {
    return ranks::sen_gradient(tot, c, terms);
  });
  out.line = terms.z;
  if (L.estimated) out.bandwidth = L.h;
  return out;
}

welfare_index_result sen_from_totals(const rank_totals& t, const sen_line_terms& s, const survey_design& design) {
  const auto g = detail::ranks::sen_gradient(t.table.domain_totals(), t.centre, s);
  Eigen::VectorXd line;
  welfare_index_result out =
      detail::linearised::finish(g, detail::linearised::influence_of_table(g, t.table, &line), design, g.line.size() > 0 ? &line : nullptr);
  out.line = s.z;
  if (s.line.kind == line_kind::quantile) out.bandwidth = s.h;
  return out;
}

detail::linearised::index_gradient detail::ranks::sen_gradient(const Eigen::MatrixXd& tot, const Eigen::MatrixXd& centre,
                                                                const sen_line_terms& s) {
  const char* fn = "sen";
  const bool estimated = s.line.kind == line_kind::quantile;
  const Eigen::Index D = tot.rows(), J = centre.cols(), q = tot.cols();
  require(J == (estimated ? 3 : 2), fn, "needs the rank totals of y·1{poor}, 1{poor} (and 1{y ≤ Q_p} for an estimated line)");
  require(std::isfinite(s.z) && s.z > 0, fn, "the poverty line must be positive (the index divides by it); it is " + format_g(s.z));
  require(!estimated || s.kernel_at_line.size() == D, fn, "an estimated line needs the kernel sums at the line per domain");
  const double z = s.z;
  const concentration_part c = concentration_part_of(tot, centre, 0);  // of y·1{poor}, ranked by welfare
  linearised::index_gradient g;
  g.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  g.gradient = Eigen::MatrixXd::Zero(D, q);
  if (estimated) {
    // the line's influence s·IF(Q_p) = −s (t(1{y ≤ Q}) − p t(1))/f̂ per unit, over every domain's units
    require(s.density_at_quantile > 0, fn, "the welfare density at the estimated quantile is zero: the line cannot be linearised");
    const double f = -s.line.share / s.density_at_quantile;
    g.line = Eigen::VectorXd::Zero(D);
    g.line_gradient = Eigen::MatrixXd::Zero(D, q);
    g.line_gradient.col(9).setConstant(f);
    g.line_gradient.col(0) = f * (centre.col(2).array() - s.line.quantile).matrix();
  }
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = tot(d, 0);
    if (!(N > 0)) {
      g.undefined.push_back(static_cast<int>(d));
      continue;
    }
    // per unit N_u = t_0, Y_u = t_3 + c_0 t_0 (Σ w y·1{poor}), P_u = t_6 + c_1 t_0 (Σ w 1{poor})
    const double c0 = centre(d, 0), c1 = centre(d, 1);
    const double Yp = c0 * N + tot(d, 3), P = c1 * N + tot(d, 6);
    double dN = 0, dY = 0, dP = 0, Gp = 0, rank_term = 0;
    Eigen::RowVectorXd grad = Eigen::RowVectorXd::Zero(q);
    if (Yp > 0) {
      const double C = c.index(d);
      Gp = (C + 1) * N / P - 1;  // the Gini of the poor
      g.estimate(d) = P / N - 2 * Yp / (N * z) + (C + 1) * Yp / (P * z);
      dP = 1 / N - (C + 1) * Yp / (P * P * z);
      dN = -P / (N * N) + 2 * Yp / (N * N * z);
      dY = -2 / (N * z) + (C + 1) / (P * z);
      grad = Yp / (P * z) * c.gradient.row(d);
      rank_term = (C + 1) * N * Yp / (z * P * P);
    } else {  // the poor hold no welfare: G_p = 0 with no influence
      g.estimate(d) = P / N - Yp / (N * z);
      dP = 1 / N;
      dN = -P / (N * N) + Yp / (N * N * z);
      dY = -1 / (N * z);
    }
    grad(6) += dP;
    grad(3) += dY;
    grad(0) += dN + dP * c1 + dY * c0;
    g.gradient.row(d) = grad;
    if (estimated) g.line(d) = s.kernel_at_line(d) / N * (1 - rank_term) + (1 - Gp) * Yp / (N * z * z);  // ∂S/∂z
  }
  return g;
}

}  // namespace impactkit
