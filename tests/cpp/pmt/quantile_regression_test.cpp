// impactkit::quantile_regression and quantile_kernel_vcov against R quantreg 5.94 (rq(method = "br"),
// summary.rq(se = "ker")), values from tests/reference/r/pmt/make_pmt_reference.R
// (pmt_data.csv, pmt_reference_flat.csv). Tolerances: coefficients 1e-9 absolute (unique solution on
// continuous data: the same simplex vertex), standard errors 1e-9 relative. Also: thread independence,
// weights as replicated rows, equivariance, the optimality of the returned vertex, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/errors.hpp>
#include <impactkit/core/quantile_regression.hpp>
#include <impactkit/core/threads.hpp>

#include "../reference_csv.hpp"

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

struct reference_data {
  MatrixXd X;
  VectorXd y, w;
};

reference_data load() {
  const auto d = impactkit::test::read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/r/pmt/pmt_data.csv");
  reference_data r;
  if (d.empty()) return r;
  r.y = impactkit::test::numeric_column(d.at("y"));
  r.w = impactkit::test::numeric_column(d.at("w"));
  const VectorXd x1 = impactkit::test::numeric_column(d.at("x1")), x2 = impactkit::test::numeric_column(d.at("x2")),
                 x3 = impactkit::test::numeric_column(d.at("x3"));
  const auto& region = d.at("region");
  const Index n = r.y.size();
  r.X.resize(n, 6);
  for (Index i = 0; i < n; ++i) {
    const std::string& g = region[static_cast<std::size_t>(i)];
    r.X.row(i) << 1.0, x1(i), x2(i), std::log(x3(i)), g == "north" ? 1.0 : 0.0, g == "south" ? 1.0 : 0.0;
  }
  return r;
}

double check_loss(const MatrixXd& X, const VectorXd& y, const VectorXd& w, const VectorXd& b, double tau) {
  const VectorXd e = y - X * b;
  double s = 0;
  for (Index i = 0; i < e.size(); ++i) s += (w.size() ? w(i) : 1.0) * e(i) * (e(i) < 0 ? tau - 1 : tau);
  return s;
}

TEST(QuantileRegression, EqualsRQuantregCoefficientsAndKernelSe) {
  const reference_data d = load();
  ASSERT_GT(d.y.size(), 0) << "reference data missing";
  const auto ref = impactkit::test::read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/r/pmt/pmt_reference_flat.csv");
  ASSERT_FALSE(ref.empty());
  const std::size_t rows = ref.at("case").size();
  ASSERT_EQ(rows, 24u);
  for (std::size_t k = 0; k < rows; k += 6) {
    const double tau = std::stod(ref.at("tau")[k]);
    const bool weighted = ref.at("weighted")[k] == "1";
    impactkit::quantile_regression_options o;
    o.tau = tau;
    const VectorXd none;
    const auto fit = impactkit::quantile_regression(d.X, d.y, weighted ? d.w : none, o);
    EXPECT_TRUE(fit.vertex);
    const auto v = impactkit::quantile_kernel_vcov(d.X, fit.residuals, weighted ? d.w : none, tau);
    for (std::size_t j = 0; j < 6; ++j) {
      const double coef = std::stod(ref.at("coef")[k + j]), se = std::stod(ref.at("se_ker")[k + j]);
      EXPECT_NEAR(fit.coef(static_cast<Index>(j)), coef, 1e-9) << "tau " << tau << " weighted " << weighted << " term " << j;
      EXPECT_NEAR(std::sqrt(v.vcov(static_cast<Index>(j), static_cast<Index>(j))) / se, 1.0, 1e-9);
    }
  }
}

TEST(QuantileRegression, SameBitsForAnyThreadCount) {
  const reference_data d = load();
  ASSERT_GT(d.y.size(), 0);
  impactkit::quantile_regression_options o;
  o.tau = 0.3;
  const int t0 = impactkit::get_num_threads();
  impactkit::set_num_threads(1);
  const auto a = impactkit::quantile_regression(d.X, d.y, d.w, o);
  impactkit::set_num_threads(2);
  const auto b = impactkit::quantile_regression(d.X, d.y, d.w, o);
  impactkit::set_num_threads(t0);
  EXPECT_EQ(a.coef, b.coef);
  EXPECT_EQ(a.iterations, b.iterations);
}

TEST(QuantileRegression, IntegerWeightsEqualReplicatedRows) {
  const reference_data d = load();
  ASSERT_GT(d.y.size(), 0);
  const Index n = d.y.size();
  VectorXd w(n);
  Index total = 0;
  for (Index i = 0; i < n; ++i) total += static_cast<Index>(w(i) = static_cast<double>(i % 3 + 1));
  MatrixXd Xr(total, d.X.cols());
  VectorXd yr(total);
  for (Index i = 0, r = 0; i < n; ++i)
    for (int c = 0; c < static_cast<int>(w(i)); ++c, ++r) {
      Xr.row(r) = d.X.row(i);
      yr(r) = d.y(i);
    }
  impactkit::quantile_regression_options o;
  o.tau = 0.7;
  const auto a = impactkit::quantile_regression(d.X, d.y, w, o);
  const auto b = impactkit::quantile_regression(Xr, yr, VectorXd(), o);
  EXPECT_LT((a.coef - b.coef).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_NEAR(a.objective, b.objective, 1e-9 * b.objective);
}

TEST(QuantileRegression, VertexIsOptimalAndEquivariant) {
  const reference_data d = load();
  ASSERT_GT(d.y.size(), 0);
  impactkit::quantile_regression_options o;
  o.tau = 0.25;
  const auto fit = impactkit::quantile_regression(d.X, d.y, d.w, o);
  ASSERT_TRUE(fit.vertex);
  ASSERT_EQ(fit.basis.size(), 6u);
  for (const Index i : fit.basis) EXPECT_EQ(fit.residuals(i), 0.0);
  const double base = check_loss(d.X, d.y, d.w, fit.coef, o.tau);
  EXPECT_NEAR(base, fit.objective, 1e-10 * base);
  for (Index j = 0; j < 6; ++j)
    for (const double step : {1e-5, -1e-5}) {
      VectorXd b = fit.coef;
      b(j) += step;
      EXPECT_GE(check_loss(d.X, d.y, d.w, b, o.tau), base - 1e-12 * base);
    }
  // y -> 2y - 1: b -> 2b - e_1
  const VectorXd y2 = (2.0 * d.y.array() - 1.0).matrix();
  const auto fit2 = impactkit::quantile_regression(d.X, y2, d.w, o);
  VectorXd expect = 2.0 * fit.coef;
  expect(0) -= 1.0;
  EXPECT_LT((fit2.coef - expect).cwiseAbs().maxCoeff(), 1e-9);
}

TEST(QuantileRegression, BadInputIsRefusedWithNamedErrors) {
  MatrixXd X(5, 2);
  X << 1, 1, 1, 2, 1, 3, 1, 4, 1, 5;
  VectorXd y(5);
  y << 1, 3, 2, 5, 4;
  impactkit::quantile_regression_options o;
  const VectorXd none;
  o.tau = 1.0;
  EXPECT_THROW(impactkit::quantile_regression(X, y, none, o), impactkit::invalid_input);
  o.tau = 0.5;
  EXPECT_THROW(impactkit::quantile_regression(X, y.head(4), none, o), impactkit::invalid_input);
  VectorXd w = VectorXd::Ones(5);
  w(2) = 0;
  EXPECT_THROW(impactkit::quantile_regression(X, y, w, o), impactkit::invalid_input);
  VectorXd yn = y;
  yn(1) = std::nan("");
  EXPECT_THROW(impactkit::quantile_regression(X, yn, none, o), impactkit::invalid_input);
  MatrixXd Xc(5, 3);
  Xc << X, 2.0 * X.col(1);
  try {
    impactkit::quantile_regression(Xc, y, none, o);
    ADD_FAILURE() << "collinear columns accepted";
  } catch (const impactkit::invalid_input& e) {
    EXPECT_NE(std::string(e.what()).find("column 2 of X is collinear"), std::string::npos) << e.what();
  }
  EXPECT_THROW(impactkit::quantile_regression(X.topRows(1), y.head(1), none, o), impactkit::invalid_input);
  EXPECT_THROW(impactkit::powell_hessian(X, VectorXd::Zero(5), nullptr, 0.5), impactkit::invalid_input);
  EXPECT_THROW(impactkit::hall_sheather_bandwidth(0.0, 10), impactkit::invalid_input);
}

TEST(QuantileRegression, PreprocessingGivesTheSameOptimum) {
  const reference_data d = load();
  ASSERT_GT(d.y.size(), 0);
  // 600 rows replicated 40 times with jitter: 24,000 rows, continuous
  const Index n0 = d.y.size(), reps = 40, n = n0 * reps;
  MatrixXd X(n, d.X.cols());
  VectorXd y(n), w(n);
  for (Index r = 0; r < reps; ++r)
    for (Index i = 0; i < n0; ++i) {
      X.row(r * n0 + i) = d.X.row(i);
      X(r * n0 + i, 1) += 1e-3 * static_cast<double>(r);
      y(r * n0 + i) = d.y(i) + 1e-2 * std::sin(static_cast<double>(r * n0 + i));
      w(r * n0 + i) = d.w(i);
    }
  impactkit::quantile_regression_options o;
  o.tau = 0.3;
  o.preprocess = 0;
  const auto a = impactkit::quantile_regression(X, y, w, o);
  o.preprocess = 1;
  const auto b = impactkit::quantile_regression(X, y, w, o);
  EXPECT_FALSE(a.preprocessed);
  EXPECT_TRUE(b.preprocessed);
  EXPECT_LT(b.reduced_rows, n / 2);
  EXPECT_LT((a.coef - b.coef).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_NEAR(a.objective, b.objective, 1e-12 * a.objective);
}

TEST(QuantileRegression, HallSheatherBandwidthEqualsQuantreg) {
  // R 4.2.2, quantreg 5.94: sprintf("%.17g", bandwidth.rq(0.3, 600, hs = TRUE))
  EXPECT_NEAR(impactkit::hall_sheather_bandwidth(0.3, 600), 0.09081673982351586, 1e-15);
}

}  // namespace
