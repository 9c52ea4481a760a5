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

}  // namespace impactkit
