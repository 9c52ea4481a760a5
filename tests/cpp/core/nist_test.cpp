// impactkit::ols against the NIST StRD linear regression certified values (DESIGN.md §6).
//
// Data: <IMPACTKIT_TEST_DATA_DIR>/nist/<name>.csv (read at run time); certified values:
// nist_certified.hpp, generated from tests/reference/nist/certified.json by
// tests/reference/nist/make_cpp_header.py. Accuracy is the log relative error
//   LRE = −log10(|est − cert| / |cert|)   (absolute error where cert == 0), capped at 15;
// required: LRE ≥ 9 for every coefficient, standard error (iid) and the residual SD, Filip ≥ 7.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/impactkit.hpp>

#include "nist_certified.hpp"

#ifndef IMPACTKIT_TEST_DATA_DIR
#error "IMPACTKIT_TEST_DATA_DIR must point to tests/reference"
#endif

namespace {

using impactkit_test::nist_case;

struct csv_table {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;
  const std::vector<double>& col(const std::string& name) const {
    for (std::size_t j = 0; j < names.size(); ++j)
      if (names[j] == name) return columns[j];
    throw std::runtime_error("no column " + name);
  }
};

// A numeric CSV with a header row (no quoting needed for the NIST files).
csv_table read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  csv_table t;
  std::string line;
  std::getline(in, line);
  {
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      cell.erase(std::remove(cell.begin(), cell.end(), '"'), cell.end());
      cell.erase(std::remove(cell.begin(), cell.end(), '\r'), cell.end());
      t.names.push_back(cell);
    }
  }
  t.columns.resize(t.names.size());
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    std::stringstream ss(line);
    std::string cell;
    std::size_t j = 0;
    while (std::getline(ss, cell, ',')) {
      if (j >= t.names.size()) throw std::runtime_error("too many cells in " + path);
      t.columns[j++].push_back(std::strtod(cell.c_str(), nullptr));  // strtod: correctly rounded
    }
    if (j != t.names.size()) throw std::runtime_error("too few cells in " + path);
  }
  return t;
}

double lre(double est, double cert) {
  double err = std::fabs(est - cert);
  if (cert != 0) err /= std::fabs(cert);
  if (err == 0) return 15.0;
  if (!std::isfinite(err)) return 0.0;
  return std::min(15.0, std::max(0.0, -std::log10(err)));
}

struct design {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
};

design build_design(const nist_case& c) {
  const csv_table t = read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/nist/" + c.name + ".csv");
  const std::vector<double>& y = t.col("y");
  const Eigen::Index n = static_cast<Eigen::Index>(y.size());
  design d;
  d.y = Eigen::Map<const Eigen::VectorXd>(y.data(), n);
  std::vector<std::vector<double>> cols;
  if (c.intercept) cols.emplace_back(static_cast<std::size_t>(n), 1.0);
  if (c.all_x_columns) {
    for (std::size_t j = 0; j < t.names.size(); ++j)
      if (t.names[j] != "y") cols.push_back(t.columns[j]);
  } else {
    const std::vector<double>& x = t.col("x");
    for (int pw : c.powers) {
      std::vector<double> v(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) v[i] = std::pow(x[i], pw);
      cols.push_back(std::move(v));
    }
  }
  d.X.resize(n, static_cast<Eigen::Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j)
    d.X.col(static_cast<Eigen::Index>(j)) = Eigen::Map<const Eigen::VectorXd>(cols[j].data(), n);
  return d;
}

class Nist : public ::testing::TestWithParam<nist_case> {};

TEST_P(Nist, CertifiedCoefficientsStandardErrorsAndResidualSd) {
  const nist_case& c = GetParam();
  const design d = build_design(c);
  ASSERT_EQ(d.X.rows(), c.n);
  ASSERT_EQ(d.X.cols(), c.p);
  impactkit::ols_options opt;
  opt.vcov = impactkit::vcov_spec::iid();
  const impactkit::ols_result r = impactkit::ols(d.X, d.y, opt);
  ASSERT_EQ(r.rank, c.p) << c.name << ": columns dropped as collinear";
  ASSERT_TRUE(r.dropped_columns.empty());
  EXPECT_EQ(r.has_intercept, c.intercept);

  double min_coef = 15, min_se = 15;
  std::ostringstream detail;
  for (int j = 0; j < c.p; ++j) {
    const double lc = lre(r.coef(j), c.coef[static_cast<std::size_t>(j)]);
    const double ls = lre(r.se(j), c.se[static_cast<std::size_t>(j)]);
    min_coef = std::min(min_coef, lc);
    min_se = std::min(min_se, ls);
    detail << "  b" << j << ": est " << r.coef(j) << " cert " << c.coef[static_cast<std::size_t>(j)] << " LRE " << lc
           << " | se est " << r.se(j) << " cert " << c.se[static_cast<std::size_t>(j)] << " LRE " << ls << "\n";
  }
  const double lsd = lre(r.sigma, c.resid_sd);
  std::printf("[ NIST     ] %-9s min LRE coef %5.1f  se %5.1f  resid sd %5.1f  (required %.0f)\n", c.name, min_coef, min_se,
              lsd, c.min_lre);
  detail.precision(17);
  EXPECT_GE(min_coef, c.min_lre) << c.name << " coefficients\n" << detail.str();
  EXPECT_GE(min_se, c.min_lre) << c.name << " standard errors\n" << detail.str();
  EXPECT_GE(lsd, c.min_lre) << c.name << " residual SD: est " << r.sigma << " cert " << c.resid_sd;
  EXPECT_DOUBLE_EQ(r.df_resid, static_cast<double>(c.n - c.p));
}

// Same requirement through wls with unit weights (the weighted code path).
TEST_P(Nist, UnitWeightsGiveTheSameAccuracy) {
  const nist_case& c = GetParam();
  const design d = build_design(c);
  impactkit::ols_options opt;
  opt.vcov = impactkit::vcov_spec::iid();
  const impactkit::ols_result r = impactkit::wls(d.X, d.y, Eigen::VectorXd::Ones(d.X.rows()), opt);
  ASSERT_EQ(r.rank, c.p);
  double min_lre = 15;
  for (int j = 0; j < c.p; ++j) {
    min_lre = std::min(min_lre, lre(r.coef(j), c.coef[static_cast<std::size_t>(j)]));
    min_lre = std::min(min_lre, lre(r.se(j), c.se[static_cast<std::size_t>(j)]));
  }
  min_lre = std::min(min_lre, lre(r.sigma, c.resid_sd));
  EXPECT_GE(min_lre, c.min_lre) << c.name;
}

std::string case_name(const ::testing::TestParamInfo<nist_case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(StRD, Nist, ::testing::ValuesIn(impactkit_test::nist_cases()), case_name);

}  // namespace
