// Out-of-line definitions for impactkit/targeting/inequality.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/inequality.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/unit_totals.hpp>

#include "welfare_index_detail.hpp"

namespace impactkit {

/// Gini coefficient per domain (a fraction in [0, 1)) with its joint design variance.
welfare_index_result gini(const welfare_rows& r, const survey_design& design) {
  const char* fn = "gini";
  detail::poverty::check(r, fn);
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const Eigen::Index D = r.n_domains;
  // rows of each domain in welfare order
  const std::vector<Eigen::Index> order = detail::lines::welfare_order(r.n, r.welfare, r.domain, fn);
  std::vector<std::vector<Eigen::Index>> by_domain(static_cast<std::size_t>(D));
  for (Eigen::Index i : order) {
    const double w = r.weights ? r.weights[i] : 1.0;
    if (!(std::isfinite(w) && w >= 0)) detail::throw_invalid(fn, "weights must be finite and non-negative; " + detail::format_g(w) + " at row " + std::to_string(i));
    if (r.welfare[i] < 0)
      detail::throw_invalid(fn, "the Gini coefficient needs welfare ≥ 0; welfare is " + detail::format_g(r.welfare[i]) + " at row " + std::to_string(i));
    const int d = r.domain ? r.domain[i] : 0;
    if (d >= D) detail::throw_invalid(fn, "domain code out of range at row " + std::to_string(i));
    by_domain[static_cast<std::size_t>(d)].push_back(i);
  }
  welfare_index_result out;
  out.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n), 0.0);
  for (Eigen::Index d = 0; d < D; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    long double N = 0, T = 0;
    for (Eigen::Index i : rows) {
      const double w = r.weights ? r.weights[i] : 1.0;
      N += w;
      T += static_cast<long double>(w) * r.welfare[i];
    }
    if (!(N > 0 && T > 0)) {
      out.undefined.push_back(static_cast<int>(d));
      continue;
    }
    // tie runs: point estimate and mid-point cumulative weight / welfare of each row
    long double C = 0, Y = 0, num = 0;
    std::vector<double> midN(rows.size()), midY(rows.size());
    for (std::size_t a = 0; a < rows.size();) {
      const double y = r.welfare[rows[a]];
      std::size_t b = a;
      long double W = 0;
      for (; b < rows.size() && r.welfare[rows[b]] == y; ++b) W += r.weights ? r.weights[rows[b]] : 1.0;
      num += static_cast<long double>(y) * ((C + W) * (C + W) - C * C);
      for (std::size_t k = a; k < b; ++k) {
        midN[k] = static_cast<double>(C + W / 2);
        midY[k] = static_cast<double>(Y + y * W / 2);
      }
      C += W;
      Y += y * W;
      a = b;
    }
    const double n_ = static_cast<double>(N), t_ = static_cast<double>(T);
    const double G = static_cast<double>(num / (N * T)) - 1.0;
    out.estimate(d) = G;
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const double y = r.welfare[rows[k]];
      u[static_cast<std::size_t>(rows[k])] = (2 * midN[k] * y - 2 * midY[k] + t_ - n_ * y - G * (t_ + n_ * y)) / (n_ * t_);
    }
  }
  const unit_totals_table table = accumulate_unit_totals(
      design.units(), r.n, static_cast<int>(D), 1,
      [&](Eigen::Index i, double* x) {
        const int d = r.domain ? r.domain[i] : 0;
        if (d < 0) return -1;
        x[0] = (r.weights ? r.weights[i] : 1.0) * u[static_cast<std::size_t>(i)];
        return d;
      },
      [fn](Eigen::Index i) { detail::throw_invalid(fn, "invalid row " + std::to_string(i)); });
  out.vcov = design.variance_of_unit_totals(table.totals);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  detail::poverty::mark_undefined(out);
  return out;
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
  const unit_totals_table table = accumulate_unit_totals(
      design.units(), r.n, r.n_domains, 3,
      [&](Eigen::Index i, double* x) {
        const double w = r.weights ? r.weights[i] : 1.0, y = r.welfare[i];
        const int d = r.domain ? r.domain[i] : 0;
        if (d < 0) return -1;
        if (!(std::isfinite(w) && w >= 0) || !std::isfinite(y) || d >= r.n_domains || y < 0 || (needs_positive && !(y > 0))) return -2;
        const double u = y / scale;
        x[0] = w;
        x[1] = w * u;
        x[2] = w * (index == inequality_index::theil ? (u > 0 ? u * std::log(u) : 0.0) : logs ? std::log(u) : std::pow(u, 1.0 - epsilon));
        return d;
      },
      [&](Eigen::Index i) {
        const double y = r.welfare[i];
        if (std::isfinite(y) && (y < 0 || (needs_positive && !(y > 0))))
          detail::throw_invalid(fn, std::string("the index needs welfare ") + (needs_positive ? "> 0" : "≥ 0") + "; welfare is " +
                                        detail::format_g(y) + " at row " + std::to_string(i));
        detail::poverty::explain_invalid(r, i, fn, poverty_index::fgt);
      });
  const Eigen::MatrixXd t = table.domain_totals();
  const Eigen::Index D = r.n_domains, U = table.n_units;
  welfare_index_result out;
  out.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  Eigen::MatrixXd psi = Eigen::MatrixXd::Zero(U, D);
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
    psi.col(d) = dN * table.totals.col(d * 3) + dY * table.totals.col(d * 3 + 1) + dG * table.totals.col(d * 3 + 2);
  }
  out.vcov = design.variance_of_unit_totals(psi);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  detail::poverty::mark_undefined(out);
  return out;
}

}  // namespace impactkit
