#pragma once
// The one-stage designs whose units are the rows (survey_design::units_are_rows), shared by the tests of
// the estimators that stream a row-unit variance instead of building a table of n units.
#include <cmath>
#include <random>

#include <Eigen/Core>

#include <impactkit/core/survey_design.hpp>

namespace impactkit::test {

/// Design `kind` over the rows of weights w (null-sized: none):
///   0 iid;  1 n_strata strata (row i in stratum i mod n_strata) with an fpc of `fpc` per stratum;
///   2–5 those strata and a lonely stratum holding the last row, under adjust, average, remove, certainty;
///   6 strata of two consecutive rows (n / 2 strata: too many for per-stratum class tables).
inline constexpr int row_unit_design_kinds = 7;
inline survey_spec row_unit_design_spec(Eigen::Index n, const Eigen::VectorXd& w, int kind, int n_strata, double fpc) {
  survey_spec spec;
  if (w.size() > 0) spec.weights = w;
  if (kind == 0) return spec;
  spec.strata.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) spec.strata(i) = static_cast<int>(kind == 6 ? i / 2 : i % n_strata);
  if (kind >= 2 && kind <= 5) spec.strata(n - 1) = n_strata + 90;  // a stratum of one row: lonely
  if (kind == 1) spec.fpc = Eigen::MatrixXd::Constant(n, 1, fpc);
  const lonely_psu_rule rules[] = {lonely_psu_rule::fail,   lonely_psu_rule::fail,      lonely_psu_rule::adjust, lonely_psu_rule::average,
                                   lonely_psu_rule::remove, lonely_psu_rule::certainty, lonely_psu_rule::fail};
  spec.lonely_psu = rules[kind];
  return spec;
}

/// Rows for those tests: welfare exp(2.5 + 0.8 U), weights 0 for 5% of rows and 0.5 + 2 U otherwise,
/// 10% of rows in no domain (−1), the others in one of n_domains.
struct row_unit_rows {
  Eigen::VectorXd y, w;
  Eigen::VectorXi domain;
};
inline row_unit_rows random_row_unit_rows(Eigen::Index n, int n_domains, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  row_unit_rows out{Eigen::VectorXd(n), Eigen::VectorXd(n), Eigen::VectorXi(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    out.y(i) = std::exp(2.5 + 0.8 * u(gen));
    out.w(i) = u(gen) < 0.05 ? 0.0 : 0.5 + 2 * u(gen);
    out.domain(i) = u(gen) < 0.1 ? -1 : static_cast<int>(u(gen) * n_domains);
  }
  return out;
}

}  // namespace impactkit::test
