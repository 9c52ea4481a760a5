// Mann–Kendall variants and the Theil–Sen slope from C++ against stored pymannkendall 1.4.3 and scipy
// theilslopes values (tests/reference/pymannkendall/make_trend_reference.py; n = 2400, so the slope selection
// never materialises the 2.9 million slopes and Hamed–Rao/Yue–Wang use the FFT autocorrelations).
// Tolerance: S exact; Var(S), z, tau, slope, intercept, interval rel 1e-10 (abs 1e-10 near 0); p abs 1e-10
// (the peer's 1 − Φ loses digits in the tail). Also: S against the direct O(n²) sum of signs, the selected
// order statistics against sorting all slopes, and bad input.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/monitoring/trend_tests.hpp>

#include "../../../src/monitoring/pairwise_slopes.hpp"
#include "../reference_csv.hpp"

using namespace impactkit;

namespace {

const std::string kDir = std::string(IMPACTKIT_TEST_DATA_DIR) + "/pymannkendall/";

void expect_close(double got, double want, const std::string& what) {
  EXPECT_LE(std::abs(got - want), 1e-10 * std::max(1.0, std::abs(want))) << what << ": " << got << " vs " << want;
}

TEST(MannKendall, MatchesStoredPymannkendall) {
  auto series = test::read_csv(kDir + "trend_series.csv");
  auto ref = test::read_csv(kDir + "trend_reference.csv");
  ASSERT_FALSE(ref.empty()) << "missing " << kDir;
  for (std::size_t row = 0; row < ref["series"].size(); ++row) {
    const Eigen::VectorXd x = test::numeric_column(series[ref["series"][row]]);
    const std::string method = ref["method"][row], what = ref["series"][row] + "/" + method;
    const double z = std::stod(ref["z"][row]), p = std::stod(ref["p"][row]);
    const double slope = std::stod(ref["slope"][row]), intercept = std::stod(ref["intercept"][row]);
    if (method == "sens") {
      const sens_slope_result r = sens_slope(x);
      expect_close(r.slope, slope, what + " slope");
      expect_close(r.intercept, intercept, what + " intercept");
      expect_close(r.conf_low, z, what + " conf_low");
      expect_close(r.conf_high, p, what + " conf_high");
      continue;
    }
    mann_kendall_options o;
    o.method = parse_mann_kendall_method(method);
    if (method == "seasonal") o.period = 12;
    const mann_kendall_result r = mann_kendall(x, o);
    EXPECT_EQ(r.s, std::stoll(ref["s"][row])) << what;
    expect_close(r.var_s, std::stod(ref["var_s"][row]), what + " var_s");
    expect_close(r.z, z, what + " z");
    EXPECT_NEAR(r.p_value, p, 1e-10) << what;
    expect_close(r.tau, std::stod(ref["tau"][row]), what + " tau");
    expect_close(r.slope, slope, what + " slope");
    expect_close(r.intercept, intercept, what + " intercept");
  }
}

TEST(MannKendall, SEqualsDirectSumOfSigns) {
  for (int seed : {1, 2, 3}) {
    const Eigen::Index n = 777;
    Eigen::VectorXd x(n);
    unsigned state = static_cast<unsigned>(seed);
    for (Eigen::Index i = 0; i < n; ++i) {
      state = state * 1664525u + 1013904223u;
      x(i) = static_cast<double>((state >> 16) % (seed == 3 ? 5u : 1000u));  // seed 3: heavy ties
    }
    std::int64_t direct = 0;
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = i + 1; j < n; ++j) direct += (x(j) > x(i)) - (x(j) < x(i));
    EXPECT_EQ(kendall_s(x.data(), n).s, direct) << "seed " << seed;
  }
}

TEST(SensSlope, SelectionEqualsSortingAllSlopes) {
  // n = 2100: 2.2 million slopes, above the materialising threshold; integer data gives many tied slopes
  for (int kind : {0, 1}) {
    const Eigen::Index n = 2100;
    Eigen::VectorXd x(n);
    unsigned state = 12345u + static_cast<unsigned>(kind);
    for (Eigen::Index i = 0; i < n; ++i) {
      state = state * 1664525u + 1013904223u;
      const double u = static_cast<double>(state >> 8) / 16777216.0;
      x(i) = kind == 0 ? u + 1e-4 * static_cast<double>(i) : std::floor(4 * u);
    }
    std::vector<double> all;
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = i + 1; j < n; ++j) all.push_back((x(j) - x(i)) / static_cast<double>(j - i));
    std::sort(all.begin(), all.end());
    const std::vector<detail::strided_series> s{{x.data(), 1, n}};
    const std::int64_t N = static_cast<std::int64_t>(all.size());
    // several ranks in one call (some far apart: separate brackets), in any order
    const std::vector<std::int64_t> ranks{N / 2, 0, N - 1, 1000, N / 2 + 1, N / 3};
    const std::vector<double> many = detail::select_pairwise_slopes(s, ranks);
    for (std::size_t r = 0; r < ranks.size(); ++r) EXPECT_EQ(many[r], all[static_cast<std::size_t>(ranks[r])]) << "rank " << ranks[r];
    for (std::int64_t k : {std::int64_t{0}, std::int64_t{1000}, N / 2, N - 1}) {
      const std::vector<double> got = detail::select_pairwise_slopes(s, {k});
      EXPECT_EQ(got[0], all[static_cast<std::size_t>(k)]) << "kind " << kind << " rank " << k;
    }
  }
}

TEST(MannKendall, BadInputNamesTheProblem) {
  Eigen::VectorXd x(5);
  x << 1, 2, std::nan(""), 4, 5;
  EXPECT_THROW(mann_kendall(x), invalid_input);
  EXPECT_THROW(mann_kendall(Eigen::VectorXd(2)), invalid_input);
  Eigen::VectorXd ok = Eigen::VectorXd::LinSpaced(10, 0, 9);
  mann_kendall_options seasonal;
  seasonal.method = mann_kendall_method::seasonal;
  seasonal.period = 6;  // 10 values: fewer than two cycles
  EXPECT_THROW(mann_kendall(ok, seasonal), invalid_input);
  mann_kendall_options bad_alpha;
  bad_alpha.alpha = 1.0;
  EXPECT_THROW(mann_kendall(ok, bad_alpha), invalid_input);
  EXPECT_THROW(parse_mann_kendall_method("spearman"), invalid_input);
  EXPECT_THROW(sens_slope(Eigen::VectorXd(1)), invalid_input);
  const mann_kendall_result r = mann_kendall(ok);
  EXPECT_EQ(r.s, 45);
  EXPECT_EQ(r.slope, 1.0);
  EXPECT_EQ(r.trend, 1);
}

}  // namespace
