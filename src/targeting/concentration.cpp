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

void check_rows(const welfare_rows& r, const double* values, const survey_design& design, const char* fn, const char* what) {
  detail::poverty::check(r, fn);
  detail::require(values != nullptr, fn, std::string("needs the ") + what + " column");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
}

}  // namespace

welfare_index_result concentration_index(const welfare_rows& r, const double* values, concentration_kind kind, double lower,
                                         double upper, const survey_design& design) {
  const char* fn = name_of(kind);
  check_rows(r, values, design, fn, "outcome");
  const bool bounded = kind == concentration_kind::erreygers || kind == concentration_kind::wagstaff;
  if (bounded)
    detail::require(std::isfinite(lower) && std::isfinite(upper) && lower < upper, fn,
                    "needs the bounds of the outcome, lower < upper (e.g. 0 and 1 for a binary outcome)");
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, values, fn);
  if (bounded)
    for (const auto& rows : by_domain)
      for (Eigen::Index i : rows)
        if (!(values[i] >= lower && values[i] <= upper))
          detail::throw_invalid(fn, "the outcome " + detail::format_g(values[i]) + " at row " + std::to_string(i) + " lies outside its bounds [" +
                                        detail::format_g(lower) + ", " + detail::format_g(upper) + "]");
  return concentration_from_totals(rank_totals_of(r, by_domain, {values}, design, fn), kind, lower, upper, design);
}

welfare_index_result concentration_from_totals(const rank_totals& t, concentration_kind kind, double lower, double upper,
                                               const survey_design& design) {
  const char* fn = name_of(kind);
  detail::require(t.centre.cols() == 1, fn, "needs the rank totals of one value column");
  if (kind == concentration_kind::erreygers || kind == concentration_kind::wagstaff)
    detail::require(std::isfinite(lower) && std::isfinite(upper) && lower < upper, fn,
                    "needs the bounds of the outcome, lower < upper (e.g. 0 and 1 for a binary outcome)");
  ranks::concentration_parts c = ranks::concentration_of_totals(t, 0);
  const Eigen::Index D = t.table.n_domains;
  welfare_index_result out;
  out.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  for (Eigen::Index d = 0; d < D; ++d) {
    const double C = c.index(d), mu = c.mean(d);
    if (std::isnan(C)) {
      out.undefined.push_back(static_cast<int>(d));
      continue;
    }
    // θ = factor(μ)·C with u(θ) = factor·u(C) + C·factor'(μ)·u(μ)
    double factor = 1, dfactor = 0;
    switch (kind) {
      case concentration_kind::standard: break;
      case concentration_kind::generalized: factor = mu, dfactor = 1; break;
      case concentration_kind::erreygers: factor = 4 * mu / (upper - lower), dfactor = 4 / (upper - lower); break;
      case concentration_kind::wagstaff: {
        const double g = (upper - mu) * (mu - lower);
        if (!(g > 0)) {  // the mean sits on a bound: the normalisation divides by zero
          out.undefined.push_back(static_cast<int>(d));
          c.psi.col(d).setZero();
          continue;
        }
        factor = (upper - lower) * mu / g;
        dfactor = (upper - lower) * (g - mu * (upper + lower - 2 * mu)) / (g * g);
        break;
      }
    }
    out.estimate(d) = factor * C;
    c.psi.col(d) = factor * c.psi.col(d) + C * dfactor * c.mean_psi.col(d);
  }
  return ranks::finish_index(std::move(out), c.psi, design);
}

welfare_index_result kakwani_index(const welfare_rows& r, const double* payment, const survey_design& design) {
  const char* fn = "kakwani";
  check_rows(r, payment, design, fn, "payment");
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, payment, fn);
  for (const auto& rows : by_domain)
    for (Eigen::Index i : rows)
      if (r.welfare[i] < 0)
        detail::throw_invalid(fn, "the Kakwani index needs income ≥ 0 (its Gini); income is " + detail::format_g(r.welfare[i]) + " at row " +
                                      std::to_string(i));
  return kakwani_from_totals(rank_totals_of(r, by_domain, {payment, r.welfare}, design, fn), design);
}

welfare_index_result kakwani_from_totals(const rank_totals& t, const survey_design& design) {
  detail::require(t.centre.cols() == 2, "kakwani", "needs the rank totals of (payment, income)");
  const ranks::concentration_parts C = ranks::concentration_of_totals(t, 0), G = ranks::concentration_of_totals(t, 1);
  const Eigen::Index D = t.table.n_domains;
  welfare_index_result out;
  out.estimate = C.index - G.index;  // K = C(payment by income) − Gini(income)
  Eigen::MatrixXd psi = C.psi - G.psi;
  for (Eigen::Index d = 0; d < D; ++d)
    if (std::isnan(out.estimate(d))) {
      out.undefined.push_back(static_cast<int>(d));
      psi.col(d).setZero();
    }
  return ranks::finish_index(std::move(out), psi, design);
}

}  // namespace impactkit
