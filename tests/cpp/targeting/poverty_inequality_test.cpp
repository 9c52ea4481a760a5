// FGT, Watts and Gini from C++: the Haughton & Khandker (2009) worked examples exactly, and R survey's
// values on the targeting reference data (tests/reference/r/inequality/make_inequality_reference.R:
// svymean of the per-row terms for a fixed line; an independent R linearisation for the relative line).
// Tolerances: estimates rel 1e-12, SEs rel 1e-9; published figures to their printed digits.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/targeting/inequality.hpp>
#include <impactkit/targeting/poverty.hpp>

#include "../reference_csv.hpp"

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
