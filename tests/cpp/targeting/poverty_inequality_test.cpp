// FGT, Watts and Gini from C++: the Haughton & Khandker (2009) worked examples exactly, and R survey's
// values on the targeting reference data (tests/reference/r/inequality/make_inequality_reference.R:
// svymean of the per-row terms for a fixed line; an independent R linearisation for the relative line).
// Tolerances: estimates rel 1e-12, SEs rel 1e-9; published figures to their printed digits.
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/targeting/inequality.hpp>
#include <impactkit/targeting/poverty.hpp>

#include "../reference_csv.hpp"
#include "row_unit_designs.hpp"

using namespace impactkit;

namespace {

survey_design simple_random_sample(Eigen::Index n) {
  survey_spec spec;
  spec.weights = Eigen::VectorXd::Ones(n);
  return survey_design(spec);
}

welfare_rows rows_of(const Eigen::VectorXd& y, const double* w = nullptr) {
  welfare_rows r;
  r.n = y.size();
  r.welfare = y.data();
  r.weights = w;
  return r;
}

void expect_rel(double got, double want, double rtol) { EXPECT_NEAR(got, want, rtol * std::fabs(want)) << "want " << want; }

}  // namespace

TEST(PovertyIndices, HaughtonKhandkerExample) {
  const Eigen::Vector4d y(100, 110, 150, 160);
  const survey_design d = simple_random_sample(4);
  const welfare_line z = welfare_line::fixed(125);
  EXPECT_DOUBLE_EQ(poverty_measure(rows_of(y), poverty_index::fgt, 0, z, d).estimate(0), 0.5);
  EXPECT_NEAR(poverty_measure(rows_of(y), poverty_index::fgt, 1, z, d).estimate(0), 0.08, 1e-15);
  EXPECT_NEAR(poverty_measure(rows_of(y), poverty_index::fgt, 2, z, d).estimate(0), 0.0136, 1e-15);
  EXPECT_NEAR(poverty_measure(rows_of(y), poverty_index::watts, 0, z, d).estimate(0), 0.08774, 5e-6);
  Eigen::VectorXd g(10);
  g << 10, 15, 20, 25, 40, 20, 30, 35, 45, 90;
  EXPECT_NEAR(gini(rows_of(g), simple_random_sample(10)).estimate(0), 0.32727, 5e-6);
}

TEST(PovertyIndices, EqualRSurveyOnStratifiedClusterDesign) {
  auto csv = test::read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/r/targeting/targeting_data.csv");
  const Eigen::VectorXd y = test::numeric_column(csv["welfare"]), w = test::numeric_column(csv["w"]);
  const Eigen::Index n = y.size();
  survey_spec spec;
  spec.strata = test::numeric_column(csv["stratum"]).cast<int>();
  spec.ids = test::numeric_column(csv["psu"]).cast<int>();
  spec.fpc = test::numeric_column(csv["fpc"]);
  spec.weights = w;
  spec.nest = true;
  const survey_design d(spec);
  ASSERT_EQ(n, 380);
  const welfare_rows r = rows_of(y, w.data());
  const welfare_index_result fgt1 = poverty_measure(r, poverty_index::fgt, 1, welfare_line::fixed(20), d);
  expect_rel(fgt1.estimate(0), 0.0897056151633102, 1e-12);
  expect_rel(std::sqrt(fgt1.vcov(0, 0)), 0.005934625274254125, 1e-10);
  const welfare_index_result wt = poverty_measure(r, poverty_index::watts, 0, welfare_line::fixed(20), d);
  expect_rel(wt.estimate(0), 0.11938204236215294, 1e-12);
  expect_rel(std::sqrt(wt.vcov(0, 0)), 0.00818405587078819, 1e-10);
  const welfare_index_result rel = poverty_measure(r, poverty_index::fgt, 0, welfare_line::relative(0.6), d);
  expect_rel(rel.estimate(0), 0.19116263327128108, 1e-12);
  expect_rel(std::sqrt(rel.vcov(0, 0)), 0.011492234637841143, 1e-9);
  EXPECT_EQ(rel.conventions.df_value, 18.0);
}

TEST(PovertyIndices, RefuseUndefinedInput) {
  const Eigen::Vector4d y(1, -2, 3, 4);
  const survey_design d = simple_random_sample(4);
  EXPECT_THROW(gini(rows_of(y), d), invalid_input);
  EXPECT_THROW(poverty_measure(rows_of(y), poverty_index::watts, 0, welfare_line::fixed(5), d), invalid_input);
  EXPECT_THROW(poverty_measure(rows_of(y), poverty_index::fgt, -1, welfare_line::fixed(5), d), invalid_input);
  EXPECT_THROW(poverty_measure(rows_of(y), poverty_index::fgt, 0, welfare_line{}, d), invalid_input);
  EXPECT_THROW(poverty_measure(rows_of(y), poverty_index::fgt, 0, welfare_line::fixed(0), d), invalid_input);
  const Eigen::Vector3d short_y(1, 2, 3);
  EXPECT_THROW(gini(rows_of(short_y), d), invalid_input);
  Eigen::Vector4d nan_y(1, 2, std::nan(""), 4);
  EXPECT_THROW(poverty_measure(rows_of(nan_y), poverty_index::fgt, 0, welfare_line::fixed(5), d), invalid_input);
  EXPECT_THROW(gini(rows_of(nan_y), d), invalid_input);
}

TEST(PovertyIndices, RowUnitDesignsEqualTheRowInfluence) {
  // A design whose units are the rows (no design given, or strata and an fpc over single rows) streams each
  // row's influence into the variance instead of a table of n units; the variance must be that of the
  // per-row influence written out here, design.variance(ψ):
  //   ψ_i(d) = 1{d_i = d} w_i (t_i − θ_d)/N_d + (Σ_{j∈d} w_j t'_j / N_d) · IF_i(z),
  // t the FGT_α or Watts term, t' its derivative in z, IF_i(z) = −s (w_i 1{y_i ≤ Q} − p w_i)/Σ_j w_j φ_h(Q − y_j)
  // for an estimated line z = s·Q_p (rows in no domain count in the design, not in the line). Designs
  // (row_unit_designs.hpp): iid, strata with an fpc, a lonely stratum under adjust, average, remove,
  // certainty, and strata of two rows (the table of units). Tolerance 1e-12 relative.
  const Eigen::Index n = 30000;
  const test::row_unit_rows data = test::random_row_unit_rows(n, 3, 73);
  const Eigen::VectorXd &y = data.y, &w = data.w;
  const Eigen::VectorXi& dom = data.domain;
  const double phi = 0.3989422804014327;
  for (int design_kind = 0; design_kind < 6; ++design_kind)
    for (int measure = 0; measure < 6; ++measure) {  // FGT 0, 1, 2 and Watts at a fixed line; FGT 0, 2 at 60% of the median
      const survey_design design(test::row_unit_design_spec(n, w, design_kind, 5, 40000.0));
      welfare_rows r = rows_of(y, w.data());
      r.domain = dom.data();
      r.n_domains = 3;
      const bool watts = measure == 3, estimated = measure >= 4;
      const double alpha = measure == 4 ? 0 : measure == 5 ? 2 : measure == 3 ? 0 : measure;
      const welfare_line line = estimated ? welfare_line::relative(0.6) : welfare_line::fixed(20.0);
      SCOPED_TRACE("design " + std::to_string(design_kind) + " measure " + std::to_string(measure));
      const welfare_index_result got = poverty_measure(r, watts ? poverty_index::watts : poverty_index::fgt, alpha, line, design);
      const double z = got.line, h = got.bandwidth, Q = z / 0.6;
      auto kernel = [&](double v) { return phi * std::exp(-0.5 * (v / h) * (v / h)) / h; };
      Eigen::VectorXd t(n), slope(n), N = Eigen::VectorXd::Zero(3), T = Eigen::VectorXd::Zero(3), S = Eigen::VectorXd::Zero(3);
      double density = 0;
      for (Eigen::Index i = 0; i < n; ++i) {
        const bool poor = y(i) < z;
        const double gap = (z - y(i)) / z;
        t(i) = watts ? (poor ? std::log(z / y(i)) : 0.0) : poor ? std::pow(gap, alpha) : 0.0;
        slope(i) = !estimated ? 0.0 : alpha == 0 ? kernel(z - y(i)) : poor ? alpha * std::pow(gap, alpha - 1) * (y(i) / z) / z : 0.0;
        if (dom(i) < 0) continue;
        N(dom(i)) += w(i), T(dom(i)) += w(i) * t(i), S(dom(i)) += w(i) * slope(i);
        if (estimated) density += w(i) * kernel(Q - y(i));
      }
      Eigen::MatrixXd psi = Eigen::MatrixXd::Zero(n, 3);
      for (Eigen::Index i = 0; i < n; ++i) {
        if (dom(i) < 0) continue;
        const int d = dom(i);
        psi(i, d) = w(i) * (t(i) - T(d) / N(d)) / N(d);
        if (estimated) {
          const double IF = -0.6 * ((y(i) <= Q ? w(i) : 0.0) - 0.5 * w(i)) / density;
          for (int e = 0; e < 3; ++e) psi(i, e) += S(e) / N(e) * IF;
        }
      }
      const Eigen::MatrixXd want = design.variance(psi);
      for (int d = 0; d < 3; ++d) expect_rel(got.estimate(d), T(d) / N(d), 1e-12);
      EXPECT_LE((got.vcov - want).cwiseAbs().maxCoeff(), 1e-12 * want.cwiseAbs().maxCoeff());
    }
}

TEST(InequalityIndices, RowUnitDesignsEqualTheTableOfRows) {
  // Theil, MLD and Atkinson (ε = 0.5, 1, 2) on a design whose units are the rows stream each row's
  // influence into the variance; they must equal inequality_from_totals on the table of n units
  // (w, w·u, w·g(u) per domain, u = y / max |y|): iid, strata with an fpc, a lonely stratum under adjust
  // and average. Tolerance 1e-12 relative.
  const Eigen::Index n = 20000;
  const test::row_unit_rows data = test::random_row_unit_rows(n, 2, 79);
  const Eigen::VectorXd &y = data.y, &w = data.w;
  const Eigen::VectorXi& dom = data.domain;
  const double top = y.maxCoeff();
  for (int design_kind = 0; design_kind < 4; ++design_kind)
    for (int measure = 0; measure < 5; ++measure) {
      const survey_design design(test::row_unit_design_spec(n, w, design_kind, 4, 30000.0));
      const inequality_index index = measure == 0 ? inequality_index::theil : measure == 1 ? inequality_index::mean_log_deviation : inequality_index::atkinson;
      const double eps = measure == 2 ? 0.5 : measure == 3 ? 1.0 : 2.0;
      SCOPED_TRACE("design " + std::to_string(design_kind) + " measure " + std::to_string(measure));
      welfare_rows r = rows_of(y, w.data());
      r.domain = dom.data();
      r.n_domains = 2;
      const welfare_index_result got = inequality_measure(r, index, eps, design);
      unit_totals_table table;
      table.n_units = design.n_units();
      table.n_domains = 2;
      table.n_variables = 3;
      table.totals = Eigen::MatrixXd::Zero(n, 6);
      for (Eigen::Index i = 0; i < n; ++i) {
        if (dom(i) < 0) continue;
        const double v = y(i) / top, g = measure == 0 ? v * std::log(v) : measure == 1 || measure == 3 ? std::log(v) : std::pow(v, 1.0 - eps);
        const auto row = static_cast<Eigen::Index>(design.units().code[static_cast<std::size_t>(i)]);
        table.totals.block(row, 3 * dom(i), 1, 3) << w(i), w(i) * v, w(i) * g;
      }
      const welfare_index_result want = inequality_from_totals(table, index, eps, design);
      for (int d = 0; d < 2; ++d) expect_rel(got.estimate(d), want.estimate(d), 1e-12);
      EXPECT_LE((got.vcov - want.vcov).cwiseAbs().maxCoeff(), 1e-12 * want.vcov.cwiseAbs().maxCoeff());
    }
}
