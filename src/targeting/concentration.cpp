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
  return ranks::rank_index_in_memory(r, by_domain, {values}, design, fn, [&](const Eigen::MatrixXd& tot, const Eigen::MatrixXd& centre) {
    return ranks::concentration_gradient(tot, centre, kind, lower, upper);
  });
}

welfare_index_result concentration_from_totals(const rank_totals& t, concentration_kind kind, double lower, double upper,
                                               const survey_design& design) {
  detail::require(t.centre.cols() == 1, name_of(kind), "needs the rank totals of one value column");
  const auto g = ranks::concentration_gradient(t.table.domain_totals(), t.centre, kind, lower, upper);
  return detail::linearised::finish(g, detail::linearised::influence_of_table(g, t.table), design);
}

detail::linearised::index_gradient detail::ranks::concentration_gradient(const Eigen::MatrixXd& tot, const Eigen::MatrixXd& centre,
                                                                          concentration_kind kind, double lower, double upper) {
  const char* fn = name_of(kind);
  if (kind == concentration_kind::erreygers || kind == concentration_kind::wagstaff)
    detail::require(std::isfinite(lower) && std::isfinite(upper) && lower < upper, fn,
                    "needs the bounds of the outcome, lower < upper (e.g. 0 and 1 for a binary outcome)");
  const concentration_part c = concentration_part_of(tot, centre, 0);
  const Eigen::Index D = tot.rows();
  linearised::index_gradient g;
  g.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  g.gradient = Eigen::MatrixXd::Zero(D, tot.cols());
  for (Eigen::Index d = 0; d < D; ++d) {
    const double C = c.index(d), mu = c.mean(d);
    if (std::isnan(C)) {
      g.undefined.push_back(static_cast<int>(d));
      continue;
    }
    // θ = factor(μ)·C with ψ(θ) = factor·ψ(C) + C·factor'(μ)·ψ(μ)
    double factor = 1, dfactor = 0;
    switch (kind) {
      case concentration_kind::standard: break;
      case concentration_kind::generalized: factor = mu, dfactor = 1; break;
      case concentration_kind::erreygers: factor = 4 * mu / (upper - lower), dfactor = 4 / (upper - lower); break;
      case concentration_kind::wagstaff: {
        const double gm = (upper - mu) * (mu - lower);
        if (!(gm > 0)) {  // the mean sits on a bound: the normalisation divides by zero
          g.undefined.push_back(static_cast<int>(d));
          continue;
        }
        factor = (upper - lower) * mu / gm;
        dfactor = (upper - lower) * (gm - mu * (upper + lower - 2 * mu)) / (gm * gm);
        break;
      }
    }
    g.estimate(d) = factor * C;
    g.gradient.row(d) = factor * c.gradient.row(d) + C * dfactor * c.mean_gradient.row(d);
  }
  return g;
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
  return ranks::rank_index_in_memory(r, by_domain, {payment, r.welfare}, design, fn, ranks::kakwani_gradient);
}

welfare_index_result kakwani_from_totals(const rank_totals& t, const survey_design& design) {
  detail::require(t.centre.cols() == 2, "kakwani", "needs the rank totals of (payment, income)");
  const auto g = ranks::kakwani_gradient(t.table.domain_totals(), t.centre);
  return detail::linearised::finish(g, detail::linearised::influence_of_table(g, t.table), design);
}

detail::linearised::index_gradient detail::ranks::kakwani_gradient(const Eigen::MatrixXd& tot, const Eigen::MatrixXd& centre) {
  const concentration_part C = concentration_part_of(tot, centre, 0), G = concentration_part_of(tot, centre, 1);
  const Eigen::Index D = tot.rows();
  linearised::index_gradient g;
  g.estimate = C.index - G.index;  // K = C(payment by income) − Gini(income)
  g.gradient = C.gradient - G.gradient;
  for (Eigen::Index d = 0; d < D; ++d)
    if (std::isnan(g.estimate(d))) {
      g.undefined.push_back(static_cast<int>(d));
      g.gradient.row(d).setZero();
    }
  return g;
}

}  // namespace impactkit
