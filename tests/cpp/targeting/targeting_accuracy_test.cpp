// targeting_accuracy from C++ against R survey (tests/reference/r/targeting/make_targeting_reference.R:
// svycontrast of svytotal / svyby(covmat = TRUE) under svydesign(ids = ~psu, strata = ~stratum,
// fpc = ~fpc, weights = ~w, nest = TRUE); poverty line 20; quintiles from laeken::weightedQuantile).
// Tolerances: estimates rel 1e-12, standard errors rel 1e-10. The Python tests check every metric and
// design; these check that C++ callers get the same numbers, thread-count invariance and bad input.
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/threads.hpp>
#include <impactkit/targeting/targeting_accuracy.hpp>

#include "../reference_csv.hpp"

using namespace impactkit;

namespace {

struct targeting_fixture {
  Eigen::VectorXd w, welfare, beneficiary, benefit, target;
  Eigen::VectorXi female, quintile;
  std::shared_ptr<survey_design> design;
  Eigen::Index n = 0;

  targeting_fixture() {
    auto csv = test::read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/r/targeting/targeting_data.csv");
    n = static_cast<Eigen::Index>(csv["w"].size());
    w = test::numeric_column(csv["w"]);
    welfare = test::numeric_column(csv["welfare"]);
    beneficiary = test::numeric_column(csv["beneficiary"]);
    benefit = test::numeric_column(csv["benefit"]);
    target = (welfare.array() < 20.0).cast<double>();
    female.resize(n);
    quintile.resize(n);
    survey_spec spec;
    spec.strata.resize(n);
    spec.ids.resize(n, 1);
    spec.fpc.resize(n, 1);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      female(i) = csv["sex"][k] == "F" ? 0 : 1;  // sorted levels: F = 0, M = 1
      quintile(i) = std::stoi(csv["quintile"][k]) - 1;
      spec.strata(i) = std::stoi(csv["stratum"][k]);
      spec.ids(i, 0) = std::stoi(csv["psu"][k]);
      spec.fpc(i, 0) = std::stod(csv["fpc"][k]);
    }
    spec.weights = w;
    spec.nest = true;
    design = std::make_shared<survey_design>(spec);
  }

  targeting_rows rows() const {
    targeting_rows r;
    r.n = n;
    r.weights = w.data();
    r.line = welfare_line::fixed(20.0);  // welfare < 20
    r.beneficiary = beneficiary.data();
    r.benefit = benefit.data();
    r.welfare = welfare.data();
    r.welfare_group = quintile.data();
    r.n_welfare_groups = 5;
    return r;
  }
};

Eigen::Index metric_index(const targeting_result& r, const std::string& name, int group = -1) {
  for (std::size_t m = 0; m < r.metrics.size(); ++m)
    if (r.metrics[m].name == name && r.metrics[m].welfare_group == group) return static_cast<Eigen::Index>(m);
  ADD_FAILURE() << "no metric " << name;
  return 0;
}

void expect_rel(double got, double want, double rtol) { EXPECT_NEAR(got, want, rtol * std::fabs(want)) << "want " << want; }

}  // namespace

TEST(TargetingAccuracy, EqualsRSurveyOnStratifiedClusterDesign) {
  const targeting_fixture f;
  ASSERT_EQ(f.n, 380);
  const targeting_result r = targeting_accuracy(f.rows(), *f.design);
  const Eigen::Index M = static_cast<Eigen::Index>(r.metrics.size());
  // R: svycontrast(svytotal(...), quote(TB/T)) etc.; values from targeting_reference.json
  const std::map<std::string, std::pair<double, double>> want = {
      {"coverage", {0.7026130642337512, 0.029284460505565536}},
      {"targeting_differential", {0.44032861642576165, 0.03881584262864016}},
      {"cgh", {1.7232439188678754, 0.10793351530317274}},
      {"leakage_amount", {52558.077, 6443.3133224863495}},
      {"poverty_gap_reduction_per_budget", {0.28632579948601794, 0.01929992938817216}}};
  for (const auto& [name, v] : want) {
    const Eigen::Index m = metric_index(r, name);
    expect_rel(r.estimate(0, m), v.first, 1e-12);
    expect_rel(std::sqrt(r.vcov(m, m)), v.second, 1e-10);
  }
  const Eigen::Index q1 = metric_index(r, "beneficiary_incidence", 0);
  expect_rel(r.estimate(0, q1), 0.35085815993558506, 1e-12);
  expect_rel(std::sqrt(r.vcov(q1, q1)), 0.028278243602136453, 1e-10);
  EXPECT_EQ(r.conventions.df_value, 18.0);
  EXPECT_EQ(r.vcov.rows(), M);
  EXPECT_TRUE(r.undefined.empty());
}

TEST(TargetingAccuracy, DomainsCarryTheirJointCovariance) {
  const targeting_fixture f;
  targeting_rows rows = f.rows();
  rows.domain = f.female.data();
  rows.n_domains = 2;
  const targeting_result r = targeting_accuracy(rows, *f.design);
  const Eigen::Index M = static_cast<Eigen::Index>(r.metrics.size()), c = metric_index(r, "coverage");
  expect_rel(r.estimate(0, c), 0.7386677534755242, 1e-12);
  expect_rel(r.estimate(1, c), 0.6692959514593577, 1e-12);
  // R: vcov(svycontrast(svyby(..., ~sex, svytotal, covmat = TRUE), ...)) for coverage F, M
  expect_rel(r.vcov(c, c), 0.003685006797095789, 1e-10);
  expect_rel(r.vcov(c, M + c), -0.00039097935134680187, 1e-9);
  expect_rel(r.vcov(M + c, M + c), 0.000869051543689766, 1e-10);
}

TEST(TargetingAccuracy, SameBitsForAnyThreadCount) {
  const targeting_fixture f;
  // 380 rows is one chunk; repeat the rows to get several chunks (the design over 200 copies)
  const Eigen::Index copies = 200, n = f.n * copies;
  Eigen::VectorXd w(n), y(n), B(n), b(n), T(n);
  Eigen::VectorXi g(n);
  survey_spec spec;
  spec.strata.resize(n);
  spec.ids.resize(n, 1);
  for (Eigen::Index k = 0; k < copies; ++k) {
    w.segment(k * f.n, f.n) = f.w;
    y.segment(k * f.n, f.n) = f.welfare;
    B.segment(k * f.n, f.n) = f.beneficiary;
    b.segment(k * f.n, f.n) = f.benefit;
    T.segment(k * f.n, f.n) = f.target;
    g.segment(k * f.n, f.n) = f.quintile;
    for (Eigen::Index i = 0; i < f.n; ++i) {
      spec.strata(k * f.n + i) = static_cast<int>(k % 7);
      spec.ids(k * f.n + i, 0) = static_cast<int>(k * 1000 + i / 20);
    }
  }
  const survey_design design(spec);
  targeting_rows r;
  r.n = n;
  r.weights = w.data();
  r.target = T.data();
  r.beneficiary = B.data();
  r.benefit = b.data();
  r.welfare = y.data();
  r.line = welfare_line::fixed(20.0);
  r.welfare_group = g.data();
  r.n_welfare_groups = 5;
  set_num_threads(1);
  const targeting_result one = targeting_accuracy(r, design);
  set_num_threads(2);
  const targeting_result two = targeting_accuracy(r, design);
  set_num_threads(0);
  EXPECT_EQ((one.estimate - two.estimate).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((one.vcov - two.vcov).cwiseAbs().maxCoeff(), 0.0);
}

TEST(TargetingAccuracy, RefusesBadRows) {
  const targeting_fixture f;
  Eigen::VectorXd target = f.target;
  target(7) = 0.5;
  targeting_rows r = f.rows();
  r.line = welfare_line{};  // the target column
  r.target = target.data();
  EXPECT_THROW(targeting_accuracy(r, *f.design), invalid_input);
  Eigen::VectorXd benefit = f.benefit;
  for (Eigen::Index i = 0; i < f.n; ++i)
    if (f.beneficiary(i) == 0) {
      benefit(i) = 1.0;
      break;
    }
  r = f.rows();
  r.benefit = benefit.data();
  try {
    targeting_accuracy(r, *f.design);
    ADD_FAILURE() << "no exception";
  } catch (const invalid_input& e) {
    EXPECT_NE(std::string(e.what()).find("non-beneficiary"), std::string::npos) << e.what();
  }
  Eigen::VectorXd welfare = f.welfare;
  welfare(3) = std::nan("");
  r = f.rows();
  r.welfare = welfare.data();
  EXPECT_THROW(targeting_accuracy(r, *f.design), invalid_input);
  r = f.rows();
  r.n = f.n - 1;  // the design has one more row
  EXPECT_THROW(targeting_accuracy(r, *f.design), invalid_input);
  r = f.rows();
  r.line = welfare_line{};  // neither a line nor the target column
  EXPECT_THROW(targeting_accuracy(r, *f.design), invalid_input);
  Eigen::VectorXi domain = Eigen::VectorXi::Zero(f.n);
  domain(4) = 3;
  r = f.rows();
  r.domain = domain.data();
  r.n_domains = 2;
  EXPECT_THROW(targeting_accuracy(r, *f.design), invalid_input);
}

TEST(TargetingAccuracy, UndefinedMetricsAreNaNAndListed) {
  const targeting_fixture f;
  const Eigen::VectorXd none = Eigen::VectorXd::Zero(f.n);
  targeting_rows r = f.rows();
  r.beneficiary = none.data();
  r.benefit = none.data();
  const targeting_result res = targeting_accuracy(r, *f.design);
  const Eigen::Index leak = metric_index(res, "inclusion_error_beneficiaries");
  EXPECT_TRUE(std::isnan(res.estimate(0, leak)));
  EXPECT_TRUE(std::isnan(res.vcov(leak, leak)));
  EXPECT_EQ(res.estimate(0, metric_index(res, "coverage")), 0.0);
  EXPECT_FALSE(res.undefined.empty());
}

// Relative line 0.6 × weighted median (y < z): R's independent linearisation with convey's kernel and
// bandwidth (make_targeting_reference.R, case estimated_relative_line).
TEST(TargetingAccuracy, EstimatedRelativeLineEqualsRLinearisation) {
  const targeting_fixture f;
  targeting_rows r = f.rows();
  r.line = welfare_line::relative(0.6);
  const targeting_result res = targeting_accuracy(r, *f.design);
  expect_rel(res.line, 15.881999999999998, 1e-15);
  expect_rel(res.bandwidth, 2.363430155240089, 1e-12);
  const Eigen::Index line = metric_index(res, "line"), cov = metric_index(res, "coverage");
  expect_rel(std::sqrt(res.vcov(line, line)), 0.6262627762968028, 1e-9);
  expect_rel(res.estimate(0, cov), 0.6783406221781548, 1e-12);
  expect_rel(std::sqrt(res.vcov(cov, cov)), 0.04422080097005965, 1e-9);
}
