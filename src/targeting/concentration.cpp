// Out-of-line definitions for impactkit/targeting/concentration.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/concentration.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "welfare_index_detail.hpp"

namespace impactkit {
namespace {
namespace ranks = detail::ranks;

const char* name_of(concentration_kind kind) {
  switch (kind) {
    case concentration_kind::standard: return "concentration_index";
    case concentration_kind::generalized: return "concentration_index (generalized)";
    case concentration_kind::erreygers: return "concentration_index (erreygers)";
    case concentration_kind::wagstaff: return "concentration_index (wagstaff)";
  }
  return "concentration_index";
}

welfare_index_result finish(const welfare_rows& r, const std::vector<double>& u, const survey_design& design, welfare_index_result out,
                            const char* fn) {
  out.vcov = ranks::influence_variance(r, 1, u, design, fn);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  detail::poverty::mark_undefined(out);
  return out;
}

}  // namespace

welfare_index_result concentration_index(const welfare_rows& r, const double* values, concentration_kind kind, double lower,
                                         double upper, const survey_design& design) {
  const char* fn = name_of(kind);
  detail::poverty::check(r, fn);
  detail::require(values != nullptr, fn, "needs the outcome column");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const bool bounded = kind == concentration_kind::erreygers || kind == concentration_kind::wagstaff;
  if (bounded)
    detail::require(std::isfinite(lower) && std::isfinite(upper) && lower < upper, fn,
                    "needs the bounds of the outcome, lower < upper (e.g. 0 and 1 for a binary outcome)");
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, values, fn);
  welfare_index_result out;
  out.estimate = Eigen::VectorXd::Constant(r.n_domains, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n), 0.0);
  for (int d = 0; d < r.n_domains; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    long double N = 0, T = 0;
    for (Eigen::Index i : rows) {
      const double h = values[i], w = r.weights ? r.weights[i] : 1.0;
      if (bounded && !(h >= lower && h <= upper))
        detail::throw_invalid(fn, "the outcome " + detail::format_g(h) + " at row " + std::to_string(i) + " lies outside its bounds [" +
                                      detail::format_g(lower) + ", " + detail::format_g(upper) + "]");
      N += w;
      T += static_cast<long double>(w) * h;
    }
    const double C = ranks::concentration_on_rows(rows, r.welfare, values, r.weights, false, u);
    if (std::isnan(C)) {
      out.undefined.push_back(d);
      continue;
    }
    const double n_ = static_cast<double>(N), mu = static_cast<double>(T / N);
    // θ = factor(μ)·C with u(θ) = factor·u(C) + C·factor'(μ)·u(μ), u(μ) = (h − μ)/N
    double factor = 1, dfactor = 0;
    switch (kind) {
      case concentration_kind::standard: break;
      case concentration_kind::generalized: factor = mu, dfactor = 1; break;
      case concentration_kind::erreygers: factor = 4 * mu / (upper - lower), dfactor = 4 / (upper - lower); break;
      case concentration_kind::wagstaff: {
        const double g = (upper - mu) * (mu - lower);
        if (!(g > 0)) {  // the mean sits on a bound: the normalisation divides by zero
          out.undefined.push_back(d);
          continue;
        }
        factor = (upper - lower) * mu / g;
        dfactor = (upper - lower) * (g - mu * (upper + lower - 2 * mu)) / (g * g);
        break;
      }
    }
    out.estimate(d) = factor * C;
    for (Eigen::Index i : rows) {
      double& ui = u[static_cast<std::size_t>(i)];
      ui = factor * ui + C * dfactor * (values[i] - mu) / n_;
    }
  }
  return finish(r, u, design, std::move(out), fn);
}

welfare_index_result kakwani_index(const welfare_rows& r, const double* payment, const survey_design& design) {
  const char* fn = "kakwani";
  detail::poverty::check(r, fn);
  detail::require(payment != nullptr, fn, "needs the payment column");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, payment, fn);
  welfare_index_result out;
  out.estimate = Eigen::VectorXd::Constant(r.n_domains, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n) * 2, 0.0);
  for (int d = 0; d < r.n_domains; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    for (Eigen::Index i : rows)
      if (r.welfare[i] < 0)
        detail::throw_invalid(fn, "the Kakwani index needs income ≥ 0 (its Gini); income is " + detail::format_g(r.welfare[i]) + " at row " +
                                      std::to_string(i));
    const double C = ranks::concentration_on_rows(rows, r.welfare, payment, r.weights, false, u, 2, 0);
    const double G = ranks::concentration_on_rows(rows, r.welfare, r.welfare, r.weights, false, u, 2, 1);
    if (std::isnan(C) || std::isnan(G)) {
      out.undefined.push_back(d);
      for (Eigen::Index i : rows) u[static_cast<std::size_t>(i) * 2] = u[static_cast<std::size_t>(i) * 2 + 1] = 0;
      continue;
    }
    out.estimate(d) = C - G;
  }
  std::vector<double> diff(static_cast<std::size_t>(r.n));
  for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = u[2 * i] - u[2 * i + 1];
  return finish(r, diff, design, std::move(out), fn);
}

}  // namespace impactkit
