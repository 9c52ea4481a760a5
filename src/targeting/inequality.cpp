// Out-of-line definitions for impactkit/targeting/inequality.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/inequality.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/survey_design.hpp>
#include <impactkit/core/unit_totals.hpp>
#include <impactkit/targeting/rank_totals.hpp>

#include "welfare_index_detail.hpp"

namespace impactkit {

namespace {

/// The index per domain (NaN where undefined) and its gradient ∂θ_d/∂(N, Y, G) (D × 3, zero rows where
/// undefined) at the domain totals t (D × 3) of w, w·u, w·g(u): the influence of a row of domain d per unit
/// of its three variables (linearised::index_gradient, K = 1).
detail::linearised::index_gradient index_gradient_of(const Eigen::MatrixXd& t, inequality_index index, double epsilon) {
  const Eigen::Index D = t.rows();
  detail::linearised::index_gradient out;
  out.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  out.gradient = Eigen::MatrixXd::Zero(D, 3);
  Eigen::MatrixXd& grad = out.gradient;
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = t(d, 0), Y = t(d, 1), G = t(d, 2);
    if (!(N > 0 && Y > 0)) {
      out.undefined.push_back(static_cast<int>(d));
      continue;
    }
    const double mu = Y / N;
    double theta = 0, dN = 0, dY = 0, dG = 0;  // θ and ∂θ/∂(N, Y, G) on the scaled welfare
    switch (index) {
      case inequality_index::theil:  // G/Y − log(Y/N)
        theta = G / Y - std::log(mu);
        dN = 1.0 / N;
        dY = -G / (Y * Y) - 1.0 / Y;
        dG = 1.0 / Y;
        break;
      case inequality_index::mean_log_deviation:  // log(Y/N) − G/N
        theta = std::log(mu) - G / N;
        dN = -1.0 / N + G / (N * N);
        dY = 1.0 / Y;
        dG = -1.0 / N;
        break;
      case inequality_index::atkinson: {
        // 1 − m/μ with m = (G/N)^(1/(1−ε)) (ε ≠ 1) or exp(G/N) (ε = 1)
        const double a = G / N;
        const double m = epsilon == 1 ? std::exp(a) : std::pow(a, 1.0 / (1.0 - epsilon));
        const double dm_da = epsilon == 1 ? m : m / ((1.0 - epsilon) * a);
        theta = 1.0 - m / mu;
        // θ = 1 − m N / Y
        dG = -(dm_da / N) * N / Y;
        dN = -(dm_da * (-G / (N * N)) * N + m) / Y;
        dY = m * N / (Y * Y);
        break;
      }
    }
    out.estimate(d) = theta;
    grad.row(d) << dN, dY, dG;
  }
  return out;
}


}  // namespace

/// Gini coefficient per domain (a fraction in [0, 1)) with its joint design variance.
welfare_index_result gini(const welfare_rows& r, const survey_design& design, gini_convention convention) {
  const char* fn = "gini";
  detail::poverty::check(r, fn);
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto by_domain = detail::ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  for (Eigen::Index i = 0; i < r.n; ++i)  // in row order (the sorted rows are at random positions)
    if (!(r.domain && r.domain[i] < 0) && r.welfare[i] < 0)
      detail::throw_invalid(fn, "the Gini coefficient needs welfare ≥ 0; welfare is " + detail::format_g(r.welfare[i]) + " at row " + std::to_string(i));
  if (convention == gini_convention::eurostat)  // the concentration index of welfare ranked by itself
    return detail::ranks::rank_index_in_memory(r, by_domain, {r.welfare}, design, fn, [](const Eigen::MatrixXd& tot, const Eigen::MatrixXd& c) {
      return detail::ranks::concentration_gradient(tot, c, concentration_kind::standard, std::numeric_limits<double>::quiet_NaN(),
                                                   std::numeric_limits<double>::quiet_NaN());
    });
  detail::linearised::index_gradient g;  // convey's convention: its own linearised variable per row
  g.estimate = Eigen::VectorXd::Constant(r.n_domains, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n), 0.0);
  for (int d = 0; d < r.n_domains; ++d) {
    const double G = detail::ranks::convey_gini_on_rows(by_domain[static_cast<std::size_t>(d)], r.welfare, r.weights, u);
    if (std::isnan(G)) g.undefined.push_back(d);
    else g.estimate(d) = G;
  }
  return detail::linearised::finish_with_vcov(g, detail::ranks::variance_of_row_influence(r, u, design, fn), design);
}

welfare_index_result inequality_measure(const welfare_rows& r, inequality_index index, double epsilon, const survey_design& design) {
  const char* fn = index == inequality_index::theil ? "theil" : index == inequality_index::mean_log_deviation ? "mld" : "atkinson";
  detail::poverty::check(r, fn);
  detail::require(index != inequality_index::atkinson || (std::isfinite(epsilon) && epsilon > 0), fn, "epsilon must be a finite number > 0");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  // totals: 1, y, and g(y) = y log y (Theil), log y (MLD, Atkinson(1)) or y^(1−ε) (Atkinson)
  const bool logs = index == inequality_index::mean_log_deviation || (index == inequality_index::atkinson && epsilon == 1);
  const bool needs_positive = logs || (index == inequality_index::atkinson && epsilon > 1);
  // welfare scaled by its largest magnitude: the indices are scale-free and the totals then stay in range
  double scale = 0;
  for (Eigen::Index i = 0; i < r.n; ++i)
    if (!(r.domain && r.domain[i] < 0) && std::isfinite(r.welfare[i])) scale = std::max(scale, std::fabs(r.welfare[i]));
  if (!(scale > 0)) scale = 1;
  auto variables = [&](Eigen::Index i, double* x) {
    const double w = r.weights ? r.weights[i] : 1.0, y = r.welfare[i];
    const int d = r.domain ? r.domain[i] : 0;
    if (d < 0) return -1;
    if (!(std::isfinite(w) && w >= 0) || !std::isfinite(y) || d >= r.n_domains || y < 0 || (needs_positive && !(y > 0))) return -2;
    const double u = y / scale;
    x[0] = w;
    x[1] = w * u;
    x[2] = w * (index == inequality_index::theil ? (u > 0 ? u * std::log(u) : 0.0) : logs ? std::log(u) : std::pow(u, 1.0 - epsilon));
    return d;
  };
  // a design whose units are its rows (no design given): domain totals from the pass, and each row's
  // influence streamed into the variance (linearised::finish_streamed_rows, as for FGT)
  const bool row_units = detail::streams_row_influence(design, r.n, r.n_domains);
  group_codes single;
  if (row_units) {
    single.code.assign(static_cast<std::size_t>(r.n), 0);
    single.n_groups = 1;
  }
  const unit_totals_table table = accumulate_unit_totals(
      row_units ? single : design.units(), r.n, r.n_domains, 3, variables,
      [&](Eigen::Index i) {
        const double y = r.welfare[i];
        if (std::isfinite(y) && (y < 0 || (needs_positive && !(y > 0))))
          detail::throw_invalid(fn, std::string("the index needs welfare ") + (needs_positive ? "> 0" : "≥ 0") + "; welfare is " +
                                        detail::format_g(y) + " at row " + std::to_string(i));
        detail::poverty::explain_invalid(r, i, fn, poverty_index::fgt);
      });
  if (!row_units) return inequality_from_totals(table, index, epsilon, design);
  return detail::linearised::finish_streamed_rows(index_gradient_of(table.domain_totals(), index, epsilon), r, 3, design,
                                                  [&](Eigen::Index i, int, double* x) { variables(i, x); });
}


welfare_index_result inequality_from_totals(const unit_totals_table& table, inequality_index index, double epsilon,
                                            const survey_design& design) {
  detail::require(table.n_variables == 3 && table.totals.rows() == table.n_units &&
                      table.totals.cols() == 3 * static_cast<Eigen::Index>(table.n_domains),
                  "inequality_from_totals", "the unit totals must be U × (3·D): w, w·u, w·g(u) per domain");
  const detail::linearised::index_gradient g = index_gradient_of(table.domain_totals(), index, epsilon);
  return detail::linearised::finish(g, detail::linearised::influence_of_table(g, table), design);
}

}  // namespace impactkit
