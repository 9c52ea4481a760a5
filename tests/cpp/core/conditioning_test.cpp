// Conditioning of least squares (least_squares.hpp, "Conditioning"): shifted and scaled copies of
// one problem must give the coefficients and every standard error of the original, transformed
// exactly, for every variance (iid, HC0–HC3, CR0–CR3, two-way CR1; weighted or not; with absorbed
// fixed effects).
//
// Reference: the fit of the unshifted, unscaled problem (well conditioned; its variances are
// checked against the textbook formulas in vcov_test.cpp), mapped through the exact
// transformation in long double:
//   x1 → x1 + c (x1 quantised to multiples of 2^-20, so x1 + c is exact for c ≤ 1e9): slopes and
//     their standard errors unchanged, intercept b0 − c·b1 with variance V00 − 2c·V01 + c²·V11;
//   y → y + c: intercept b0 + c, everything else unchanged;
//   [X y] → s·[X y] (every column, the intercept column too): coefficients and variances unchanged.
// Tolerance: 1e-9 relative (the brief's target; measured ≤ 3e-15 on these data). Before the
// conditioning work the same comparisons were off by 3e-5 (HC1, c = 1e6) to 100% and NaN (c = 1e9).
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/impactkit.hpp>

namespace {

using impactkit::ols_options;
using impactkit::ols_result;
using impactkit::vcov_kind;
using impactkit::vcov_spec;

constexpr double kRel = 1e-9;

struct problem {
  Eigen::MatrixXd X;   // n×3: 1, x1 (multiples of 2^-20), x2
  Eigen::VectorXd y, w;
  Eigen::MatrixXi g;   // n×2 cluster labels (30 and 7 levels)
  Eigen::MatrixXi fe;  // n×3 fixed-effect labels (20, 15 and 10 levels)
};

// y = 1 + 2·x1 − x2 + cluster shock + heteroskedastic noise, n = 500, 30 clusters
problem make_problem(std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N;
  const int n = 500;
  problem p;
  p.X.resize(n, 3);
  p.y.resize(n);
  p.w.resize(n);
  p.g.resize(n, 2);
  p.fe.resize(n, 3);
  std::vector<double> shock(30);
  for (double& s : shock) s = N(rng);
  for (int i = 0; i < n; ++i) {
    p.g(i, 0) = static_cast<int>(rng() % 30);
    p.g(i, 1) = static_cast<int>(rng() % 7);
    p.fe(i, 0) = static_cast<int>(rng() % 20);
    p.fe(i, 1) = static_cast<int>(rng() % 15);
    p.fe(i, 2) = static_cast<int>(rng() % 10);
    const double x1 = std::ldexp(std::round(std::ldexp(N(rng), 20)), -20);
    const double x2 = N(rng);
    p.X.row(i) << 1.0, x1, x2;
    p.y(i) = 1 + 2 * x1 - x2 + shock[static_cast<std::size_t>(p.g(i, 0))] + N(rng) * (1 + std::fabs(x1));
    p.w(i) = 0.5 + (i % 7) / 3.0;
  }
  return p;
}

vcov_spec spec_for(vcov_kind k, const problem& p, bool two_way = false) {
  vcov_spec s;
  s.kind = k;
  if (impactkit::is_cluster_kind(k)) s.clusters = two_way ? p.g : Eigen::MatrixXi(p.g.col(0));
  return s;
}

void expect_rel(double got, double expected, double rel, const std::string& what) {
  EXPECT_LE(std::fabs(got - expected), rel * std::fabs(expected)) << what << ": got " << got << " expected " << expected;
}

std::string label(vcov_kind k, bool weighted, double c) {
  return std::string(impactkit::vcov_name(k)) + (weighted ? " weighted" : "") + " c=" + std::to_string(c);
}

TEST(Conditioning, OffsetRegressorEveryVariance) {
  const problem p = make_problem();
  struct kind_case {
    vcov_kind kind;
    bool two_way;
  };
  const kind_case kinds[] = {{vcov_kind::iid, false}, {vcov_kind::hc0, false}, {vcov_kind::hc1, false}, {vcov_kind::hc2, false},
                             {vcov_kind::hc3, false}, {vcov_kind::cr0, false}, {vcov_kind::cr1, false}, {vcov_kind::cr2, false},
                             {vcov_kind::cr3, false}, {vcov_kind::cr1, true}};
  for (bool weighted : {false, true})
    for (const kind_case& kc : kinds) {
      ols_options opt;
      opt.vcov = spec_for(kc.kind, p, kc.two_way);
      auto fit = [&](const Eigen::MatrixXd& X) { return weighted ? impactkit::wls(X, p.y, p.w, opt) : impactkit::ols(X, p.y, opt); };
      const ols_result base = fit(p.X);
      for (double c : {1e6, 1e7, 1e8, 1e9}) {
        Eigen::MatrixXd Xs = p.X;
        Xs.col(1).array() += c;
        const ols_result r = fit(Xs);
        const std::string what = label(kc.kind, weighted, c) + (kc.two_way ? " two-way" : "");
        ASSERT_TRUE(r.dropped_columns.empty()) << what;
        for (int j = 1; j < 3; ++j) {
          expect_rel(r.coef(j), base.coef(j), kRel, what + " coef " + std::to_string(j));
          expect_rel(r.se(j), base.se(j), kRel, what + " se " + std::to_string(j));
          expect_rel(r.df_inference(j), base.df_inference(j), kRel, what + " df " + std::to_string(j));
        }
        const long double cl = c;
        const long double b0 = static_cast<long double>(base.coef(0)) - cl * base.coef(1);
        const long double v00 = static_cast<long double>(base.vcov(0, 0)) - 2 * cl * base.vcov(0, 1) + cl * cl * base.vcov(1, 1);
        expect_rel(r.coef(0), static_cast<double>(b0), kRel, what + " intercept");
        expect_rel(r.se(0), static_cast<double>(std::sqrt(v00)), kRel, what + " intercept se");
        expect_rel(r.vcov(1, 2), base.vcov(1, 2), kRel, what + " cov(b1, b2)");
        expect_rel(r.r2, base.r2, kRel, what + " R2");
      }
    }
}

TEST(Conditioning, OffsetOutcome) {
  const problem p = make_problem(2);
  for (vcov_kind k : {vcov_kind::iid, vcov_kind::hc1, vcov_kind::hc3, vcov_kind::cr1, vcov_kind::cr2, vcov_kind::cr3}) {
    ols_options opt;
    opt.vcov = spec_for(k, p);
    for (double c : {1e6, 1e9, -1e12}) {
      // y quantised so that y + c is exact
      Eigen::VectorXd yq = p.y.unaryExpr([](double v) { return std::ldexp(std::round(std::ldexp(v, 10)), -10); });
      const ols_result b = impactkit::ols(p.X, yq, opt);
      const ols_result r = impactkit::ols(p.X, (yq.array() + c).matrix(), opt);
      const std::string what = label(k, false, c);
      expect_rel(r.coef(0), b.coef(0) + c, kRel, what + " intercept");
      for (int j = 0; j < 3; ++j) {
        if (j > 0) expect_rel(r.coef(j), b.coef(j), kRel, what + " coef");
        expect_rel(r.se(j), b.se(j), kRel, what + " se");
      }
      expect_rel(r.r2, b.r2, kRel, what + " R2");
      for (Eigen::Index i = 0; i < 5; ++i) EXPECT_NEAR(r.residuals(i), b.residuals(i), kRel * std::sqrt(b.rss)) << what;
    }
  }
}

TEST(Conditioning, OffsetWithAbsorbedFixedEffectsIsNotCollinear) {
  const problem p = make_problem(3);
  const Eigen::MatrixXd X = p.X.rightCols(2);  // x1, x2 (the fixed effects absorb the intercept)
  for (int dims : {1, 2, 3})  // one dimension; two (exact two-way solve); three (Irons–Tuck iterations)
    for (bool weighted : {false, true})
      for (vcov_kind k : {vcov_kind::iid, vcov_kind::hc1, vcov_kind::cr1}) {
        ols_options opt;
        opt.vcov = spec_for(k, p);
        opt.fixed_effects = p.fe.leftCols(dims);
        opt.absorb.demean.tol = 1e-14;  // the two fits iterate from different sums: converge both fully
        auto fit = [&](const Eigen::MatrixXd& XX) { return weighted ? impactkit::wls(XX, p.y, p.w, opt) : impactkit::ols(XX, p.y, opt); };
        const ols_result base = fit(X);
        for (double c : {1e6, 1e7, 1e8, 1e9}) {
          Eigen::MatrixXd Xs = X;
          Xs.col(0).array() += c;
          const ols_result r = fit(Xs);
          const std::string what = label(k, weighted, c) + " K=" + std::to_string(dims);
          ASSERT_TRUE(r.dropped_columns.empty()) << what << " (x1 + c judged collinear with the fixed effects)";
          for (int j = 0; j < 2; ++j) {
            expect_rel(r.coef(j), base.coef(j), kRel, what + " coef");
            expect_rel(r.se(j), base.se(j), kRel, what + " se");
          }
          expect_rel(r.r2_within, base.r2_within, kRel, what + " within R2");
          // the estimated fixed effects absorb −c·b1 in the first dimension
          expect_rel(r.fixef[0](0), static_cast<double>(base.fixef[0](0) - static_cast<long double>(c) * base.coef(0)), kRel, what + " fixef");
        }
      }
}

TEST(Conditioning, ColumnsAndOutcomeScaledTogetherBeyondTheSquareRootOfTheRange) {
  const problem p = make_problem(4);
  for (double s : {1e160, 1e-160, 1e200, 1e-200, 1e300, 1e-300, std::ldexp(1.0, 700), std::ldexp(1.0, -700)}) {
    for (vcov_kind k : {vcov_kind::iid, vcov_kind::hc1, vcov_kind::hc3, vcov_kind::cr1, vcov_kind::cr2, vcov_kind::cr3}) {
      ols_options opt;
      opt.vcov = spec_for(k, p);
      const ols_result base = impactkit::ols(p.X, p.y, opt);
      // every column (the intercept column too) and y times s: the same coefficients and variances
      const ols_result r = impactkit::ols((p.X * s).eval(), (p.y * s).eval(), opt);
      const std::string what = label(k, false, s);
      ASSERT_TRUE(r.dropped_columns.empty()) << what;
      for (int j = 0; j < 3; ++j) {
        expect_rel(r.coef(j), base.coef(j), kRel, what + " coef");
        expect_rel(r.se(j), base.se(j), kRel, what + " se");
        EXPECT_GT(r.se(j), 0) << what;
      }
      expect_rel(r.r2, base.r2, kRel, what + " R2");
      expect_rel(r.sigma, base.sigma * s, kRel, what + " sigma");
    }
    // absorbed fixed effects: x1, x2 and y times s
    for (vcov_kind k : {vcov_kind::hc1, vcov_kind::cr1}) {
      ols_options opt;
      opt.vcov = spec_for(k, p);
      opt.fixed_effects = p.fe.leftCols(2);
      const Eigen::MatrixXd X = p.X.rightCols(2);
      const ols_result base = impactkit::ols(X, p.y, opt);
      const ols_result r = impactkit::ols((X * s).eval(), (p.y * s).eval(), opt);
      const std::string what = label(k, false, s) + " FE";
      ASSERT_TRUE(r.dropped_columns.empty()) << what;
      for (int j = 0; j < 2; ++j) {
        expect_rel(r.coef(j), base.coef(j), kRel, what + " coef");
        expect_rel(r.se(j), base.se(j), kRel, what + " se");
      }
      expect_rel(r.r2, base.r2, kRel, what + " R2");
      expect_rel(r.r2_within, base.r2_within, kRel, what + " within R2");
    }
  }
}

TEST(Conditioning, OneColumnScaledKeepsItAndItsNeighbours) {
  // a regressor times s (its coefficient and standard error divided by s) while everything stays
  // representable: coefficients 1e±150 at most; no column dropped, none dragged along
  const problem p = make_problem(5);
  for (double s : {1e150, 1e-150, 1e100, 1e-100, std::ldexp(1.0, 480), std::ldexp(1.0, -480)})
    for (vcov_kind k : {vcov_kind::hc1, vcov_kind::hc3, vcov_kind::cr1, vcov_kind::cr2}) {
      ols_options opt;
      opt.vcov = spec_for(k, p);
      const ols_result base = impactkit::ols(p.X, p.y, opt);
      Eigen::MatrixXd Xs = p.X;
      Xs.col(2) *= s;
      const ols_result r = impactkit::ols(Xs, p.y, opt);
      const std::string what = label(k, false, s);
      ASSERT_TRUE(r.dropped_columns.empty()) << what;
      for (int j = 0; j < 2; ++j) {
        expect_rel(r.coef(j), base.coef(j), kRel, what + " coef");
        expect_rel(r.se(j), base.se(j), kRel, what + " se");
      }
      expect_rel(r.coef(2), base.coef(2) / s, kRel, what + " scaled coef");
      expect_rel(r.se(2), base.se(2) / s, kRel, what + " scaled se");
    }
}

TEST(Conditioning, OutcomeNearTheSquareRootOfTheRange) {
  // y·1e154: coefficients and standard errors scale exactly; the RSS itself (≈ n·1e308) exceeds the
  // double range and is +inf, R² and sigma come from the scaled sums. Used to give all zeros with
  // fixed effects.
  const problem p = make_problem(6);
  const double s = 1e154;
  for (bool fe : {false, true}) {
    ols_options opt;
    opt.vcov = spec_for(vcov_kind::cr1, p);
    Eigen::MatrixXd X = p.X;
    if (fe) {
      opt.fixed_effects = p.fe.leftCols(1);
      X = p.X.rightCols(2);
    }
    const ols_result base = impactkit::ols(X, p.y, opt);
    const ols_result r = impactkit::ols(X, (p.y * s).eval(), opt);
    for (Eigen::Index j = 0; j < r.coef.size(); ++j) {
      expect_rel(r.coef(j), base.coef(j) * s, kRel, std::string("coef fe=") + (fe ? "1" : "0"));
      expect_rel(r.se(j), base.se(j) * s, kRel, std::string("se fe=") + (fe ? "1" : "0"));
    }
    expect_rel(r.r2, base.r2, kRel, "R2");
    expect_rel(r.sigma, base.sigma * s, kRel, "sigma");
    EXPECT_TRUE(std::isinf(r.rss) || std::fabs(r.rss / (base.rss * s * s) - 1) < kRel);
  }
}

TEST(Conditioning, UnrepresentableVarianceIsAnErrorNeverZero) {
  // x2·1e300 alone: var(b2) ≈ 1e-603 cannot be held in a double; y·1e-200: var(b0) ≈ 1e-403.
  // Both used to return 0 (or drop columns) silently.
  const problem p = make_problem(7);
  for (vcov_kind k : {vcov_kind::iid, vcov_kind::hc1, vcov_kind::hc3, vcov_kind::cr1, vcov_kind::cr2, vcov_kind::cr3}) {
    ols_options opt;
    opt.vcov = spec_for(k, p);
    for (double s : {1e300, 1e-300, 1e200, 1e-200, 1e160, 1e-160}) {
      Eigen::MatrixXd Xs = p.X;
      Xs.col(2) *= s;
      try {
        impactkit::ols(Xs, p.y, opt);
        ADD_FAILURE() << "expected invalid_input for x2 * " << s << " " << impactkit::vcov_name(k);
      } catch (const impactkit::invalid_input& e) {
        EXPECT_NE(std::string(e.what()).find("outside the range of double precision"), std::string::npos) << e.what();
      }
      EXPECT_THROW(impactkit::ols(p.X, (p.y * s).eval(), opt), impactkit::invalid_input) << s;
    }
  }
  // with fixed effects too
  ols_options opt;
  opt.fixed_effects = p.fe.leftCols(1);
  Eigen::MatrixXd X = p.X.rightCols(2);
  X.col(1) *= 1e-300;
  EXPECT_THROW(impactkit::ols(X, p.y, opt), impactkit::invalid_input);
}

TEST(Conditioning, TransformIsIdentityForOrdinaryData) {
  // nothing is shifted or scaled for ordinary data (the benchmark's hot path copies nothing)
  const problem p = make_problem(8);
  const impactkit::least_squares_solution ls = impactkit::solve_least_squares(p.X, p.y, nullptr);
  EXPECT_TRUE(ls.transform.identity());
  Eigen::MatrixXd Xs = p.X;
  Xs.col(1).array() += 1e6;
  const impactkit::least_squares_solution s = impactkit::solve_least_squares(Xs, p.y, nullptr);
  EXPECT_FALSE(s.transform.identity());
  EXPECT_EQ(s.transform.anchor, 0);
  EXPECT_NE(s.transform.tau(1), 0.0);
  // the raw-coordinate R and R⁻¹ (used by 2SLS and the GLM) stay upper triangular and consistent
  const Eigen::MatrixXd I = s.r * s.r_inverse;
  EXPECT_LE((I - Eigen::MatrixXd::Identity(3, 3)).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_EQ(s.r(1, 0), 0.0);
  EXPECT_EQ(s.r_inverse(2, 1), 0.0);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(s.coef(j), (j == 0 ? ls.coef(0) - 1e6 * ls.coef(1) : ls.coef(j)), 1e-9 * std::max(1.0, std::fabs(s.coef(j))));
}

TEST(Conditioning, IdenticalForOneAndTwoThreads) {
  // the transformed passes keep the fixed row chunks: bit-identical results for any thread count
  const Eigen::Index n = 120000;
  std::mt19937_64 rng(9);
  std::normal_distribution<double> N;
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n);
  Eigen::MatrixXi g(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    X.row(i) << 1.0, 1e8 + N(rng), std::ldexp(N(rng), 300);
    y(i) = 3 * (X(i, 1) - 1e8) + N(rng);
    g(i, 0) = static_cast<int>(i % 211);
  }
  for (vcov_kind k : {vcov_kind::hc1, vcov_kind::hc3, vcov_kind::cr1}) {
    ols_options opt;
    opt.vcov.kind = k;
    if (impactkit::is_cluster_kind(k)) opt.vcov.clusters = g;
    impactkit::set_num_threads(1);
    const ols_result a = impactkit::ols(X, y, opt);
    impactkit::set_num_threads(2);
    const ols_result b = impactkit::ols(X, y, opt);
    impactkit::set_num_threads(0);
    EXPECT_EQ(a.coef, b.coef);
    EXPECT_EQ(a.se, b.se);
    EXPECT_EQ(a.residuals, b.residuals);
  }
}

}  // namespace
