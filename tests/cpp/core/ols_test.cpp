// impactkit::ols / wls: a hand-computed fit, the edge-case grid (DESIGN.md §6) and thread-count
// invariance (DESIGN.md §3: results bit-for-bit identical for any number of threads).
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/impactkit.hpp>

namespace {

using impactkit::ols_options;
using impactkit::ols_result;
using impactkit::vcov_kind;
using impactkit::vcov_spec;

// y = 1, 3, 2, 5, 4 on x = 0..4 (by hand): x̄ = 2, ȳ = 3, Sxx = 10, Sxy = 8 → b = (1.4, 0.8);
// fitted 1.4, 2.2, 3.0, 3.8, 4.6; e = −0.4, 0.8, −1.0, 1.2, −0.6; RSS = 3.6; s² = 3.6/3 = 1.2;
// (X'X)⁻¹ = [[0.6, −0.2], [−0.2, 0.1]]; iid V = 1.2·(X'X)⁻¹ = [[0.72, −0.24], [−0.24, 0.12]];
// HC0 meat Σe²xx' = [[3.6, 8.4], [8.4, 23.36]] → V = [[0.2144, −0.0592], [−0.0592, 0.0416]];
// HC1 = HC0·5/3; TSS = 10 → R² = 0.64, adj. R² = 1 − 0.36·4/3 = 0.52.
struct hand_data {
  Eigen::MatrixXd X{5, 2};
  Eigen::VectorXd y{5};
  hand_data() {
    X << 1, 0, 1, 1, 1, 2, 1, 3, 1, 4;
    y << 1, 3, 2, 5, 4;
  }
};

constexpr double kHand = 1e-13;  // hand-derived decimals vs double arithmetic on n = 5

TEST(OlsHand, CoefficientsResidualsAndFitStatistics) {
  const hand_data d;
  ols_options opt;
  opt.vcov = vcov_spec::iid();
  const ols_result r = impactkit::ols(d.X, d.y, opt);
  EXPECT_NEAR(r.coef(0), 1.4, kHand);
  EXPECT_NEAR(r.coef(1), 0.8, kHand);
  const double e[] = {-0.4, 0.8, -1.0, 1.2, -0.6};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(r.residuals(i), e[i], kHand);
  EXPECT_NEAR(r.rss, 3.6, kHand);
  EXPECT_NEAR(r.sigma, std::sqrt(1.2), kHand);
  EXPECT_NEAR(r.tss, 10.0, kHand);
  EXPECT_NEAR(r.r2, 0.64, kHand);
  EXPECT_NEAR(r.adj_r2, 0.52, kHand);
  EXPECT_EQ(r.nobs, 5);
  EXPECT_EQ(r.rank, 2);
  EXPECT_EQ(r.df_resid, 3.0);
  EXPECT_TRUE(r.has_intercept);
  EXPECT_TRUE(r.dropped_columns.empty());
  EXPECT_NEAR(r.vcov(0, 0), 0.72, kHand);
  EXPECT_NEAR(r.vcov(0, 1), -0.24, kHand);
  EXPECT_NEAR(r.vcov(1, 0), -0.24, kHand);
  EXPECT_NEAR(r.vcov(1, 1), 0.12, kHand);
  EXPECT_NEAR(r.se(1), std::sqrt(0.12), kHand);
  EXPECT_EQ(r.df_inference(0), 3.0);
  // t = 0.8/sqrt(0.12) = 2.3094010767585 on 3 df: two-sided p from 2*scipy.stats.t.sf(t, 3)
  EXPECT_NEAR(r.statistic()(1), 0.8 / std::sqrt(0.12), kHand);
  EXPECT_NEAR(r.p_values()(1), 0.10408803866182779, 1e-12);
  EXPECT_FALSE(r.describe().empty());
}

TEST(OlsHand, HeteroskedasticityRobust) {
  const hand_data d;
  ols_options opt;
  opt.vcov = vcov_spec::hc(0);
  const ols_result r0 = impactkit::ols(d.X, d.y, opt);
  EXPECT_NEAR(r0.vcov(0, 0), 0.2144, kHand);
  EXPECT_NEAR(r0.vcov(0, 1), -0.0592, kHand);
  EXPECT_NEAR(r0.vcov(1, 1), 0.0416, kHand);
  opt.vcov = vcov_spec::hc(1);
  const ols_result r1 = impactkit::ols(d.X, d.y, opt);
  EXPECT_NEAR(r1.vcov(0, 0), 0.2144 * 5.0 / 3.0, kHand);
  EXPECT_NEAR(r1.vcov(1, 1), 0.0416 * 5.0 / 3.0, kHand);
}

TEST(OlsHand, NoInterceptModel) {
  const hand_data d;
  const Eigen::MatrixXd x = d.X.col(1);
  ols_options opt;
  opt.vcov = vcov_spec::iid();
  const ols_result r = impactkit::ols(x, d.y, opt);
  // b = Σxy/Σx² = 38/30; TSS uncentred = Σy² = 55
  EXPECT_NEAR(r.coef(0), 38.0 / 30.0, kHand);
  EXPECT_FALSE(r.has_intercept);
  EXPECT_NEAR(r.tss, 55.0, kHand);
  EXPECT_EQ(r.df_resid, 4.0);
}

// ---------------------------------------------------------------------------------------------
// edge cases: invalid input throws impactkit::invalid_input (a std::invalid_argument), never crashes
// ---------------------------------------------------------------------------------------------
template <typename F>
void expect_invalid(F&& f, const std::string& must_contain = "") {
  try {
    f();
    ADD_FAILURE() << "expected impactkit::invalid_input";
  } catch (const impactkit::invalid_input& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("impactkit::"), std::string::npos) << msg;
    if (!must_contain.empty()) {
      EXPECT_NE(msg.find(must_contain), std::string::npos) << msg;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected impactkit::invalid_input, got: " << e.what();
  }
}

TEST(OlsEdge, InvalidInputDerivesFromInvalidArgument) {
  static_assert(std::is_base_of<std::invalid_argument, impactkit::invalid_input>::value, "error policy");
  const hand_data d;
  EXPECT_THROW(impactkit::ols(d.X, Eigen::VectorXd::Zero(4)), std::invalid_argument);
}

TEST(OlsEdge, EmptyAndTooSmall) {
  expect_invalid([] { impactkit::ols(Eigen::MatrixXd(0, 2), Eigen::VectorXd(0)); });
  expect_invalid([] { impactkit::ols(Eigen::MatrixXd(5, 0), Eigen::VectorXd::Ones(5)); });
  // one observation, one or two parameters
  expect_invalid([] { impactkit::ols(Eigen::MatrixXd::Ones(1, 1), Eigen::VectorXd::Ones(1)); });
  expect_invalid([] {
    Eigen::MatrixXd X(1, 2);
    X << 1, 2;
    impactkit::ols(X, Eigen::VectorXd::Ones(1));
  });
  // n == k: no residual degrees of freedom
  expect_invalid([] {
    Eigen::MatrixXd X(2, 2);
    X << 1, 0, 1, 1;
    impactkit::ols(X, Eigen::VectorXd::Ones(2));
  });
}

TEST(OlsEdge, LengthMismatch) {
  const hand_data d;
  expect_invalid([&] { impactkit::ols(d.X, Eigen::VectorXd::Ones(4)); }, "rows");
  expect_invalid([&] { impactkit::wls(d.X, d.y, Eigen::VectorXd::Ones(6)); }, "weights");
}

TEST(OlsEdge, NonFiniteValues) {
  const hand_data d;
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    Eigen::VectorXd y = d.y;
    y(2) = bad;
    expect_invalid([&] { impactkit::ols(d.X, y); }, "y");
    Eigen::MatrixXd X = d.X;
    X(3, 1) = bad;
    expect_invalid([&] { impactkit::ols(X, d.y); }, "X");
    Eigen::VectorXd w = Eigen::VectorXd::Ones(5);
    w(1) = bad;
    expect_invalid([&] { impactkit::wls(d.X, d.y, w); }, "weight");
  }
}

TEST(OlsEdge, NonPositiveWeights) {
  const hand_data d;
  for (double bad : {0.0, -1.0, -1e-300}) {
    Eigen::VectorXd w = Eigen::VectorXd::Ones(5);
    w(4) = bad;
    expect_invalid([&] { impactkit::wls(d.X, d.y, w); }, "weight");
  }
}

TEST(OlsEdge, RankZeroDesign) {
  expect_invalid([] { impactkit::ols(Eigen::MatrixXd::Zero(6, 2), Eigen::VectorXd::LinSpaced(6, 0, 1)); }, "rank");
}

TEST(OlsEdge, BadOptions) {
  const hand_data d;
  ols_options opt;
  opt.collin_tol = -1;
  expect_invalid([&] { impactkit::ols(d.X, d.y, opt); });
  opt.collin_tol = 1.5;
  expect_invalid([&] { impactkit::ols(d.X, d.y, opt); });
  ols_options p;
  p.probability_weights = true;
  p.vcov = vcov_spec::iid();
  expect_invalid([&] { impactkit::wls(d.X, d.y, Eigen::VectorXd::Ones(5), p); });
}

TEST(OlsEdge, LeverageOneMakesHc2Hc3Undefined) {
  // the last column is a dummy for one observation: that observation has leverage 1
  Eigen::MatrixXd X(6, 3);
  X << 1, 0.1, 0, 1, 0.5, 0, 1, -0.3, 0, 1, 1.2, 0, 1, 0.7, 0, 1, -1.0, 1;
  const Eigen::VectorXd y = (Eigen::VectorXd(6) << 0.3, 1.1, -0.2, 2.0, 1.4, 5.0).finished();
  for (int type : {2, 3}) {
    ols_options opt;
    opt.vcov = vcov_spec::hc(type);
    expect_invalid([&] { impactkit::ols(X, y, opt); }, "leverage");
  }
  ols_options ok;
  ok.vcov = vcov_spec::hc(1);
  EXPECT_NO_THROW(impactkit::ols(X, y, ok));
}

TEST(OlsEdge, CollinearColumnsDroppedLaterOneOfTheSet) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> N;
  const int n = 50;
  Eigen::MatrixXd X(n, 4), Xref(n, 3);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    const double a = N(rng), b = N(rng);
    X.row(i) << 1.0, a, 2.0 * a - 0.5, b;  // column 2 = 2·col1 − 0.5·col0
    Xref.row(i) << 1.0, a, b;
    y(i) = 1 + a - b + N(rng);
  }
  for (vcov_kind k : {vcov_kind::iid, vcov_kind::hc1, vcov_kind::hc3}) {
    ols_options opt;
    opt.vcov.kind = k;
    const ols_result r = impactkit::ols(X, y, opt);
    const ols_result ref = impactkit::ols(Xref, y, opt);
    ASSERT_EQ(r.dropped_columns, (std::vector<Eigen::Index>{2}));
    ASSERT_EQ(r.kept_columns, (std::vector<Eigen::Index>{0, 1, 3}));
    ASSERT_EQ(r.rank, 3);
    EXPECT_EQ(r.df_resid, ref.df_resid);
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(r.coef(j), ref.coef(j), 1e-12 * std::fabs(ref.coef(j)));
      EXPECT_NEAR(r.se(j), ref.se(j), 1e-12 * ref.se(j));
    }
  }
}

TEST(OlsEdge, ConstantOutcome) {
  const hand_data d;
  const Eigen::VectorXd y = Eigen::VectorXd::Constant(5, -2.5);
  for (vcov_kind k : {vcov_kind::iid, vcov_kind::hc0, vcov_kind::hc1, vcov_kind::hc2, vcov_kind::hc3}) {
    ols_options opt;
    opt.vcov.kind = k;
    const ols_result r = impactkit::ols(d.X, y, opt);
    EXPECT_NEAR(r.coef(0), -2.5, 1e-14);
    EXPECT_NEAR(r.coef(1), 0.0, 1e-14);
    EXPECT_NEAR(r.se(0), 0.0, 1e-14);
    EXPECT_NEAR(r.se(1), 0.0, 1e-14);
    EXPECT_FALSE(std::isnan(r.se(0)));
  }
  Eigen::MatrixXi g(5, 1);
  g << 0, 0, 1, 1, 2;
  for (vcov_kind k : {vcov_kind::cr1, vcov_kind::cr2, vcov_kind::cr3}) {
    ols_options opt;
    opt.vcov = vcov_spec::cluster(g, k);
    const ols_result r = impactkit::ols(d.X, y, opt);
    EXPECT_NEAR(r.se(1), 0.0, 1e-14) << impactkit::vcov_name(k);
  }
}

TEST(OlsEdge, AllTreatedColumnIsCollinearWithIntercept) {
  const hand_data d;
  Eigen::MatrixXd X(5, 3);
  X << d.X, Eigen::VectorXd::Ones(5);
  const ols_result r = impactkit::ols(X, d.y);
  EXPECT_EQ(r.dropped_columns, (std::vector<Eigen::Index>{2}));
  EXPECT_NEAR(r.coef(1), 0.8, kHand);
  Eigen::MatrixXd Z(5, 3);
  Z << d.X, Eigen::VectorXd::Zero(5);  // none treated
  EXPECT_EQ(impactkit::ols(Z, d.y).dropped_columns, (std::vector<Eigen::Index>{2}));
}

TEST(OlsEdge, MagnitudesScaleExactlyByPowersOfTwo) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> N;
  const int n = 40;
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    X.row(i) << 1.0, N(rng), N(rng);
    y(i) = X(i, 1) - 0.5 * X(i, 2) + N(rng);
  }
  for (double c : {std::ldexp(1.0, 40), std::ldexp(1.0, -40), 1e12, 1e-12}) {
    ols_options opt;
    opt.vcov = vcov_spec::hc(3);
    const ols_result a = impactkit::ols(X, y, opt);
    const ols_result b = impactkit::ols(X, (y * c).eval(), opt);
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(b.coef(j), a.coef(j) * c, 1e-12 * std::fabs(a.coef(j) * c)) << c;
      EXPECT_NEAR(b.se(j), a.se(j) * c, 1e-12 * a.se(j) * c) << c;
    }
    Eigen::MatrixXd Xc = X;
    Xc.col(2) *= c;
    const ols_result s = impactkit::ols(Xc, y, opt);
    EXPECT_TRUE(s.dropped_columns.empty());
    EXPECT_NEAR(s.coef(2), a.coef(2) / c, 1e-12 * std::fabs(a.coef(2) / c)) << c;
    EXPECT_NEAR(s.se(2), a.se(2) / c, 1e-12 * a.se(2) / c) << c;
    EXPECT_NEAR(s.coef(1), a.coef(1), 1e-12 * std::fabs(a.coef(1))) << c;
  }
}

TEST(OlsEdge, InputsAreNotModified) {
  const hand_data d;
  Eigen::MatrixXd X = d.X;
  Eigen::VectorXd y = d.y, w = Eigen::VectorXd::LinSpaced(5, 0.5, 2.5);
  const Eigen::MatrixXd X0 = X;
  const Eigen::VectorXd y0 = y, w0 = w;
  Eigen::MatrixXi g(5, 1);
  g << 3, 3, 9, 9, 1;
  const Eigen::MatrixXi g0 = g;
  ols_options opt;
  opt.vcov = vcov_spec::cluster(g, vcov_kind::cr2);
  impactkit::wls(X, y, w, opt);
  EXPECT_EQ(X, X0);
  EXPECT_EQ(y, y0);
  EXPECT_EQ(w, w0);
  EXPECT_EQ(g, g0);
}

TEST(OlsEdge, UnitWeightsEqualOls) {
  const hand_data d;
  for (vcov_kind k : {vcov_kind::iid, vcov_kind::hc1, vcov_kind::hc2, vcov_kind::hc3}) {
    ols_options opt;
    opt.vcov.kind = k;
    const ols_result a = impactkit::ols(d.X, d.y, opt);
    const ols_result b = impactkit::wls(d.X, d.y, Eigen::VectorXd::Ones(5), opt);
    for (int j = 0; j < 2; ++j) {
      EXPECT_NEAR(a.coef(j), b.coef(j), 1e-14 * (1 + std::fabs(a.coef(j))));
      EXPECT_NEAR(a.se(j), b.se(j), 1e-13 * a.se(j));
    }
  }
}

TEST(OlsEdge, IntegerWeightsEqualReplicatedRows) {
  // analytic weights 2 on a row = that row twice (point estimate; iid variance differs in n)
  const hand_data d;
  Eigen::VectorXd w = Eigen::VectorXd::Ones(5);
  w(3) = 2;
  Eigen::MatrixXd Xr(6, 2);
  Xr << d.X, d.X.row(3);
  Eigen::VectorXd yr(6);
  yr << d.y, d.y(3);
  const ols_result a = impactkit::wls(d.X, d.y, w);
  const ols_result b = impactkit::ols(Xr, yr);
  for (int j = 0; j < 2; ++j) EXPECT_NEAR(a.coef(j), b.coef(j), 1e-13);
  EXPECT_NEAR(a.rss, b.rss, 1e-13);
}

// ---------------------------------------------------------------------------------------------
// thread-count invariance: bit-for-bit identical results with 1 and 2 threads
// ---------------------------------------------------------------------------------------------
struct big_data {
  Eigen::MatrixXd X;
  Eigen::VectorXd y, w;
  Eigen::MatrixXi g1, g2;
  big_data() {
    const Eigen::Index n = 40000, k = 6;  // large enough that every kernel splits its work (threads_for)
    std::mt19937_64 rng(2026);
    std::normal_distribution<double> N;
    std::uniform_int_distribution<int> G(0, 199), H(0, 6);
    std::uniform_real_distribution<double> U(0.5, 2.0);
    X.resize(n, k);
    y.resize(n);
    w.resize(n);
    g1.resize(n, 1);
    g2.resize(n, 2);
    for (Eigen::Index i = 0; i < n; ++i) {
      X(i, 0) = 1.0;
      for (Eigen::Index j = 1; j < k; ++j) X(i, j) = N(rng);
      y(i) = X(i, 1) - 0.5 * X(i, 2) + N(rng);
      w(i) = U(rng);
      g1(i, 0) = G(rng);
      g2(i, 0) = g1(i, 0);
      g2(i, 1) = H(rng);
    }
  }
};

const big_data& big() {
  static const big_data d;
  return d;
}

void expect_bitwise_equal(const ols_result& a, const ols_result& b, const std::string& what) {
  EXPECT_EQ(a.coef, b.coef) << what;
  EXPECT_EQ(a.vcov, b.vcov) << what;
  EXPECT_EQ(a.se, b.se) << what;
  EXPECT_EQ(a.df_inference, b.df_inference) << what;
  EXPECT_EQ(a.residuals, b.residuals) << what;
  EXPECT_EQ(a.rss, b.rss) << what;
  EXPECT_EQ(a.r2, b.r2) << what;
}

class ThreadGuard {
 public:
  ThreadGuard() = default;
  ~ThreadGuard() { impactkit::set_num_threads(0); }
};

TEST(OlsThreads, ResultsIdenticalForOneAndTwoThreads) {
  const big_data& d = big();
  ThreadGuard guard;
  struct spec_case {
    const char* name;
    vcov_spec spec;
  };
  std::vector<spec_case> specs = {
      {"iid", vcov_spec::iid()},
      {"HC1", vcov_spec::hc(1)},
      {"HC3", vcov_spec::hc(3)},
      {"CR1", vcov_spec::cluster(d.g1, vcov_kind::cr1)},
      {"CR1 two-way", vcov_spec::cluster(d.g2, vcov_kind::cr1)},
      {"CR2", vcov_spec::cluster(d.g1, vcov_kind::cr2)},
      {"CR3", vcov_spec::cluster(d.g1, vcov_kind::cr3)},
  };
  for (bool weighted : {false, true}) {
    for (const auto& s : specs) {
      ols_options opt;
      opt.vcov = s.spec;
      impactkit::set_num_threads(1);
      const ols_result one = weighted ? impactkit::wls(d.X, d.y, d.w, opt) : impactkit::ols(d.X, d.y, opt);
      impactkit::set_num_threads(2);
      const ols_result two = weighted ? impactkit::wls(d.X, d.y, d.w, opt) : impactkit::ols(d.X, d.y, opt);
      expect_bitwise_equal(one, two, std::string(s.name) + (weighted ? " weighted" : ""));
    }
  }
}

TEST(OlsThreads, SetAndGetNumThreads) {
  ThreadGuard guard;
  impactkit::set_num_threads(1);
  EXPECT_EQ(impactkit::get_num_threads(), 1);
  impactkit::set_num_threads(0);
  EXPECT_GE(impactkit::get_num_threads(), 1);
}

}  // namespace

namespace {

// The residual pass also gives TSS and the intercept test (chunk means combined by Chan–Golub–
// LeVeque). Reference: the textbook two-pass sums in long double on data spanning many chunks,
// with a large mean (1e6) so that an uncentred shortcut would lose ~12 digits.
TEST(OlsResidualPass, TotalSumsOfSquaresAndInterceptAcrossChunks) {
  const Eigen::Index n = 100003;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n), w(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = 1.0;
    X(i, 1) = normal(rng);
    X(i, 2) = 2.0;  // constant too, but collinear with column 0: dropped
    y(i) = 1e6 + X(i, 1) + normal(rng);
    w(i) = 0.5 + std::abs(normal(rng));
  }
  for (bool weighted : {false, true}) {
    long double sw = 0, swy = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const long double wi = weighted ? w(i) : 1.0;
      sw += wi;
      swy += wi * y(i);
    }
    const long double mean = swy / sw;
    long double tss = 0, raw = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const long double wi = weighted ? w(i) : 1.0;
      tss += wi * (y(i) - mean) * (y(i) - mean);
      raw += wi * static_cast<long double>(y(i)) * y(i);
    }
    ols_options opt;
    const ols_result r = weighted ? impactkit::wls(X, y, w, opt) : impactkit::ols(X, y, opt);
    EXPECT_TRUE(r.has_intercept);
    EXPECT_NEAR(r.tss, static_cast<double>(tss), 1e-11 * static_cast<double>(tss)) << weighted;
    // without the constant column: uncentred TSS and no intercept
    const ols_result r0 = weighted ? impactkit::wls(X.col(1), y, w, opt) : impactkit::ols(X.col(1), y, opt);
    EXPECT_FALSE(r0.has_intercept);
    EXPECT_NEAR(r0.tss, static_cast<double>(raw), 1e-13 * static_cast<double>(raw)) << weighted;
  }
  // a column equal to its first entry everywhere but one row deep inside a later chunk is no intercept
  Eigen::MatrixXd Z(n, 2);
  Z.col(0).setConstant(3.0);
  Z(n - 5000, 0) = 3.0000001;
  Z.col(1) = X.col(1);
  EXPECT_FALSE(impactkit::ols(Z, y).has_intercept);
  Z(n - 5000, 0) = 3.0;
  EXPECT_TRUE(impactkit::ols(Z, y).has_intercept);
}

// keep_residuals = false: the same coefficients and variance (bit for bit), no residual vector;
// variances that need the residuals still work.
TEST(OlsResidualPass, WithoutStoredResiduals) {
  const Eigen::Index n = 20000;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n);
  Eigen::MatrixXi g(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = 1;
    X(i, 1) = normal(rng);
    X(i, 2) = normal(rng);
    g(i, 0) = static_cast<int>(i % 97);
    y(i) = X(i, 1) - X(i, 2) + normal(rng) * (1 + std::abs(X(i, 1)));
  }
  for (const vcov_spec& spec : {vcov_spec::iid(), vcov_spec::hc(1), vcov_spec::hc(3), vcov_spec::cluster(g, vcov_kind::cr1)}) {
    ols_options opt;
    opt.vcov = spec;
    const ols_result with = impactkit::ols(X, y, opt);
    opt.keep_residuals = false;
    const ols_result without = impactkit::ols(X, y, opt);
    EXPECT_EQ(with.residuals.size(), n);
    EXPECT_EQ(without.residuals.size(), 0);
    for (Eigen::Index j = 0; j < 3; ++j) {
      EXPECT_EQ(with.coef(j), without.coef(j));
      EXPECT_EQ(with.se(j), without.se(j));
    }
    EXPECT_EQ(with.rss, without.rss);
    EXPECT_EQ(with.r2, without.r2);
  }
}

}  // namespace
