// impactkit::iv_2sls against textbook formulas computed here with dense Eigen algebra (DESIGN.md §6).
//
// Data: simulated with a fixed seed (std::mt19937_64, 20240603): n = 400, one exogenous regressor x
// plus intercept, two endogenous regressors correlated with the error, three instruments, 25
// clusters, 8 fixed-effect levels, positive weights. Peer comparisons (linearmodels, pyfixest,
// estimatr) live in tests/python/test_iv.py.
// Tolerances: coefficients rel 1e-10, standard errors and test statistics rel 1e-9 (the references
// here are dense normal-equation solutions of a well-conditioned problem).
#include <cmath>
#include <random>
#include <string>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include <impactkit/impact/iv.hpp>

namespace {

using Eigen::MatrixXd;
using Eigen::MatrixXi;
using Eigen::VectorXd;

struct sim_data {
  MatrixXd X, D, Z;  // X = [1, x]
  VectorXd y, w;
  MatrixXi g, fe;
};

sim_data simulate(Eigen::Index n = 400) {
  std::mt19937_64 rng(20240603);
  std::normal_distribution<double> N(0.0, 1.0);
  std::uniform_real_distribution<double> U(0.5, 2.0);
  sim_data s;
  s.X.resize(n, 2);
  s.D.resize(n, 2);
  s.Z.resize(n, 3);
  s.y.resize(n);
  s.w.resize(n);
  s.g.resize(n, 1);
  s.fe.resize(n, 1);
  VectorXd cl(25);
  for (Eigen::Index c = 0; c < 25; ++c) cl(c) = N(rng);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int g = static_cast<int>(i % 25), f = static_cast<int>((i * 7) % 8);
    const double x = N(rng), z1 = N(rng), z2 = N(rng), z3 = N(rng);
    const double u = N(rng) * (1.0 + 0.5 * std::fabs(x)) + 0.5 * cl(g);
    const double d1 = 0.8 * z1 + 0.4 * z2 + 0.2 * z3 + 0.5 * x + 0.6 * u + N(rng) + 0.1 * f;
    const double d2 = 0.3 * z1 - 0.5 * z2 + 0.7 * z3 - 0.2 * x + 0.4 * u + N(rng);
    s.X.row(i) << 1.0, x;
    s.D.row(i) << d1, d2;
    s.Z.row(i) << z1, z2, z3;
    s.y(i) = 1.0 + 0.5 * x + d1 - 0.7 * d2 + u + 0.2 * f;
    s.w(i) = U(rng);
    s.g(i, 0) = g;
    s.fe(i, 0) = f;
  }
  return s;
}

MatrixXd hcat(const MatrixXd& a, const MatrixXd& b) {
  MatrixXd out(a.rows(), a.cols() + b.cols());
  out << a, b;
  return out;
}

double max_rel(const VectorXd& a, const VectorXd& b) {
  double m = 0;
  for (Eigen::Index j = 0; j < a.size(); ++j) m = std::max(m, std::fabs(a(j) - b(j)) / std::max(std::fabs(b(j)), 1e-300));
  return m;
}

struct textbook {
  VectorXd b, e;
  MatrixXd W, What, A_inv;  // W = [X, D], What = P_Z W, A = What'What
};

textbook two_sls(const MatrixXd& X, const MatrixXd& D, const MatrixXd& Z, const VectorXd& y) {
  textbook t;
  const MatrixXd Zf = hcat(X, Z);
  t.W = hcat(X, D);
  t.What = Zf * (Zf.transpose() * Zf).ldlt().solve(Zf.transpose() * t.W);
  t.A_inv = (t.What.transpose() * t.What).inverse();
  t.b = t.A_inv * (t.What.transpose() * y);
  t.e = y - t.W * t.b;
  return t;
}

impactkit::iv_options with_vcov(impactkit::vcov_kind kind, const MatrixXi& clusters = {}) {
  impactkit::iv_options o;
  o.vcov.kind = kind;
  o.vcov.clusters = clusters;
  return o;
}

TEST(Iv2sls, JustIdentifiedEqualsIndirectLeastSquares) {
  const sim_data s = simulate();
  const MatrixXd Zf = hcat(s.X, s.Z.leftCols(1)), W = hcat(s.X, s.D.leftCols(1));
  const VectorXd b = (Zf.transpose() * W).lu().solve(Zf.transpose() * s.y);  // (Z'W)⁻¹Z'y
  const auto r = impactkit::iv_2sls(s.X, s.D.leftCols(1), s.Z.leftCols(1), s.y);
  EXPECT_LT(max_rel(r.fit.coef, b), 1e-10);
  EXPECT_EQ(r.overid.df, 0);
  EXPECT_TRUE(std::isnan(r.overid.statistic));
  EXPECT_TRUE(std::isnan(r.sargan.statistic));
}

TEST(Iv2sls, OverIdentifiedEqualsTextbookIid) {
  const sim_data s = simulate();
  const textbook t = two_sls(s.X, s.D, s.Z, s.y);
  const auto r = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, with_vcov(impactkit::vcov_kind::iid));
  const double n = static_cast<double>(s.y.size()), k = 4;
  const MatrixXd V = t.e.squaredNorm() / (n - k) * t.A_inv;
  EXPECT_LT(max_rel(r.fit.coef, t.b), 1e-10);
  EXPECT_LT(max_rel(r.fit.se, V.diagonal().cwiseSqrt()), 1e-9);
  EXPECT_LT((r.fit.residuals - t.e).cwiseAbs().maxCoeff(), 1e-10 * t.e.cwiseAbs().maxCoeff());  // actual D
  EXPECT_DOUBLE_EQ(r.fit.df_resid, n - k);
  EXPECT_TRUE(std::isnan(r.kleibergen_paap_f));
  EXPECT_TRUE(std::isnan(r.effective_f));  // two endogenous regressors
  // Sargan = n e'P_Z e / e'e
  const MatrixXd Zf = hcat(s.X, s.Z);
  const VectorXd Pe = Zf * (Zf.transpose() * Zf).ldlt().solve(Zf.transpose() * t.e);
  EXPECT_NEAR(r.sargan.statistic, n * t.e.dot(Pe) / t.e.squaredNorm(), 1e-9 * r.sargan.statistic);
  EXPECT_EQ(r.sargan.df, 1);
  EXPECT_EQ(r.overid.name, "Sargan");
}

TEST(Iv2sls, RobustAndClusterSandwichByHand) {
  const sim_data s = simulate();
  const textbook t = two_sls(s.X, s.D, s.Z, s.y);
  const double n = static_cast<double>(s.y.size()), k = 4;
  // HC1: n/(n−k) A⁻¹ (Σ e_i² ŵ_i ŵ_i') A⁻¹
  const MatrixXd S = t.What.transpose() * t.e.cwiseAbs2().asDiagonal() * t.What;
  const MatrixXd V_hc1 = n / (n - k) * t.A_inv * S * t.A_inv;
  const auto r1 = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, with_vcov(impactkit::vcov_kind::hc1));
  EXPECT_LT(max_rel(r1.fit.se, V_hc1.diagonal().cwiseSqrt()), 1e-9);
  // CR1: G/(G−1)(n−1)/(n−k) A⁻¹ (Σ_g s_g s_g') A⁻¹, s_g = Σ_{i∈g} e_i ŵ_i
  MatrixXd sums = MatrixXd::Zero(25, 4);
  for (Eigen::Index i = 0; i < s.y.size(); ++i) sums.row(s.g(i, 0)) += t.e(i) * t.What.row(i);
  const double G = 25;
  const MatrixXd V_cr1 = G / (G - 1) * (n - 1) / (n - k) * t.A_inv * (sums.transpose() * sums) * t.A_inv;
  const auto r2 = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, with_vcov(impactkit::vcov_kind::cr1, s.g));
  EXPECT_LT(max_rel(r2.fit.se, V_cr1.diagonal().cwiseSqrt()), 1e-9);
  EXPECT_EQ(r2.fit.n_clusters.at(0), 25);
  EXPECT_DOUBLE_EQ(r2.fit.df_inference(0), 24.0);
  EXPECT_EQ(r2.overid.name, "Hansen J");
  EXPECT_GT(r2.hansen_j.statistic, 0.0);
}

TEST(Iv2sls, FirstStageFIsClassicalF) {
  const sim_data s = simulate();
  const auto r = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, with_vcov(impactkit::vcov_kind::iid));
  const double n = static_cast<double>(s.y.size());
  for (Eigen::Index j = 0; j < 2; ++j) {
    const MatrixXd Zf = hcat(s.X, s.Z);
    const VectorXd d = s.D.col(j);
    const VectorXd eu = d - Zf * (Zf.transpose() * Zf).ldlt().solve(Zf.transpose() * d);
    const VectorXd er = d - s.X * (s.X.transpose() * s.X).ldlt().solve(s.X.transpose() * d);
    const double rss_u = eu.squaredNorm(), rss_r = er.squaredNorm();
    const double F = ((rss_r - rss_u) / 3.0) / (rss_u / (n - 5.0));
    const auto& fs = r.first_stage[static_cast<std::size_t>(j)];
    EXPECT_NEAR(fs.f_stat, F, 1e-9 * F);
    EXPECT_EQ(fs.f_df_num, 3);
    EXPECT_DOUBLE_EQ(fs.f_df_denom, n - 5.0);
    EXPECT_NEAR(fs.partial_r2, 1.0 - rss_u / rss_r, 1e-10);
    EXPECT_LT(max_rel(VectorXd(fs.fit.residuals), eu), 1e-8);
  }
}

TEST(Iv2sls, WeakInstrumentStatisticsWithOneEndogenous) {
  // One endogenous regressor: Cragg–Donald F = iid first-stage F; Kleibergen–Paap F = HC1 / CR1
  // first-stage F; effective F with one instrument = robust first-stage F.
  const sim_data s = simulate();
  const auto iid = impactkit::iv_2sls(s.X, s.D.leftCols(1), s.Z, s.y, with_vcov(impactkit::vcov_kind::iid));
  EXPECT_NEAR(iid.cragg_donald_f, iid.first_stage[0].f_stat, 1e-10 * iid.cragg_donald_f);
  const auto hc1 = impactkit::iv_2sls(s.X, s.D.leftCols(1), s.Z, s.y, with_vcov(impactkit::vcov_kind::hc1));
  EXPECT_NEAR(hc1.kleibergen_paap_f, hc1.first_stage[0].f_stat, 1e-10 * hc1.kleibergen_paap_f);
  EXPECT_NEAR(hc1.cragg_donald_f, iid.cragg_donald_f, 1e-12 * iid.cragg_donald_f);  // variance-free
  const auto cr1 = impactkit::iv_2sls(s.X, s.D.leftCols(1), s.Z, s.y, with_vcov(impactkit::vcov_kind::cr1, s.g));
  EXPECT_NEAR(cr1.kleibergen_paap_f, cr1.first_stage[0].f_stat, 1e-10 * cr1.kleibergen_paap_f);
  const auto one = impactkit::iv_2sls(s.X, s.D.leftCols(1), s.Z.leftCols(1), s.y, with_vcov(impactkit::vcov_kind::hc1));
  EXPECT_NEAR(one.effective_f, one.first_stage[0].f_stat, 1e-10 * one.effective_f);
  // iid model: effective F uses the HC1 first-stage variance (as pyfixest)
  const auto one_iid = impactkit::iv_2sls(s.X, s.D.leftCols(1), s.Z.leftCols(1), s.y, with_vcov(impactkit::vcov_kind::iid));
  EXPECT_NEAR(one_iid.effective_f, one.effective_f, 1e-12 * one.effective_f);
}

TEST(Iv2sls, FixedEffectsEqualDummies) {
  const sim_data s = simulate();
  const Eigen::Index n = s.y.size();
  MatrixXd dummies = MatrixXd::Zero(n, 8);
  for (Eigen::Index i = 0; i < n; ++i) dummies(i, s.fe(i, 0)) = 1.0;
  const MatrixXd Xd = hcat(s.X.rightCols(1), dummies);
  for (auto kind : {impactkit::vcov_kind::iid, impactkit::vcov_kind::hc1, impactkit::vcov_kind::cr1}) {
    impactkit::iv_options o = with_vcov(kind, kind == impactkit::vcov_kind::cr1 ? s.g : MatrixXi());
    const auto dum = impactkit::iv_2sls(Xd, s.D, s.Z, s.y, o);
    o.fixed_effects = s.fe;
    const auto fe = impactkit::iv_2sls(s.X.rightCols(1), s.D, s.Z, s.y, o);
    ASSERT_EQ(fe.fit.coef.size(), 3);
    VectorXd b_dum(3), se_dum(3);
    b_dum << dum.fit.coef(0), dum.fit.coef.tail(2);
    se_dum << dum.fit.se(0), dum.fit.se.tail(2);
    EXPECT_LT(max_rel(fe.fit.coef, b_dum), 1e-8);
    EXPECT_LT(max_rel(fe.fit.se, se_dum), 1e-7);
    EXPECT_NEAR(fe.cragg_donald_f, dum.cragg_donald_f, 1e-7 * dum.cragg_donald_f);
    EXPECT_NEAR(fe.first_stage[0].f_stat, dum.first_stage[0].f_stat, 1e-7 * dum.first_stage[0].f_stat);
    EXPECT_NEAR(fe.overid.statistic, dum.overid.statistic, 1e-6 * dum.overid.statistic);
    if (kind != impactkit::vcov_kind::iid) {
      EXPECT_NEAR(fe.kleibergen_paap_f, dum.kleibergen_paap_f, 1e-7 * dum.kleibergen_paap_f);
    }
    EXPECT_EQ(fe.fit.k_fe, 8);
    // the dummy model has no constant column (uncentred R²); the FE model's R² is centred
    const double tss = (s.y.array() - s.y.mean()).square().sum();
    EXPECT_NEAR(fe.fit.r2, 1.0 - dum.fit.rss / tss, 1e-9);
  }
}

TEST(Iv2sls, WeightedEqualsTransformedData) {
  const sim_data s = simulate();
  const VectorXd sw = s.w.cwiseSqrt();
  const auto r = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, s.w, with_vcov(impactkit::vcov_kind::hc1));
  const textbook t = two_sls(sw.asDiagonal() * s.X, sw.asDiagonal() * s.D, sw.asDiagonal() * s.Z, sw.asDiagonal() * s.y);
  EXPECT_LT(max_rel(r.fit.coef, t.b), 1e-10);
  const double n = static_cast<double>(s.y.size()), k = 4;
  const MatrixXd S = t.What.transpose() * t.e.cwiseAbs2().asDiagonal() * t.What;
  EXPECT_LT(max_rel(r.fit.se, (n / (n - k) * t.A_inv * S * t.A_inv).diagonal().cwiseSqrt()), 1e-9);
  EXPECT_TRUE(r.fit.weighted);
}

TEST(Iv2sls, NoExogenousColumnsWithFixedEffects) {
  const sim_data s = simulate();
  impactkit::iv_options o;
  o.fixed_effects = s.fe;
  const auto r = impactkit::iv_2sls(MatrixXd(s.y.size(), 0), s.D.leftCols(1), s.Z, s.y, o);
  EXPECT_EQ(r.fit.coef.size(), 1);
  EXPECT_EQ(r.n_exog, 0);
  EXPECT_TRUE(std::isfinite(r.effective_f) && std::isfinite(r.kleibergen_paap_f) && std::isfinite(r.hansen_j.statistic));
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const impactkit::invalid_input& e) {
    return e.what();
  }
  return "";
}

TEST(Iv2sls, InvalidInput) {
  sim_data s = simulate();
  const auto under = error_of([&] { impactkit::iv_2sls(s.X, s.D, s.Z.leftCols(1), s.y); });
  EXPECT_NE(under.find("under-identified: 2 endogenous regressor(s) but only 1 excluded instrument(s)"), std::string::npos) << under;
  MatrixXd Zc = hcat(s.Z.leftCols(1), 2.0 * s.X.col(1) + s.X.col(0));
  const auto collinear = error_of([&] { impactkit::iv_2sls(s.X, s.D.leftCols(1), Zc, s.y); });
  EXPECT_NE(collinear.find("excluded instrument 1 is collinear with the exogenous regressors"), std::string::npos) << collinear;
  const auto not_identified = error_of([&] { impactkit::iv_2sls(s.X, s.X.rightCols(1), s.Z.leftCols(1), s.y); });
  EXPECT_NE(not_identified.find("endogenous regressor 0 is not identified"), std::string::npos) << not_identified;
  EXPECT_NE(error_of([&] { impactkit::iv_2sls(s.X, MatrixXd(s.y.size(), 0), s.Z, s.y); }).find("no endogenous regressor"),
            std::string::npos);
  EXPECT_NE(error_of([&] { impactkit::iv_2sls(s.X, s.D.topRows(10), s.Z, s.y); }).find("D (endogenous regressors) has 10 rows"),
            std::string::npos);
  MatrixXd Zn = s.Z;
  Zn(5, 2) = std::nan("");
  EXPECT_NE(error_of([&] { impactkit::iv_2sls(s.X, s.D, Zn, s.y); }).find("Z (excluded instruments) has a non-finite value (NaN) at row 5"),
            std::string::npos);
  impactkit::iv_options pw = with_vcov(impactkit::vcov_kind::iid);
  pw.probability_weights = true;
  EXPECT_NE(error_of([&] { impactkit::iv_2sls(s.X, s.D, s.Z, s.y, s.w, pw); }).find("probability weights"), std::string::npos);
  VectorXd wneg = s.w;
  wneg(3) = -1.0;
  EXPECT_NE(error_of([&] { impactkit::iv_2sls(s.X, s.D, s.Z, s.y, wneg); }).find("weights must be positive"), std::string::npos);
  impactkit::iv_options hc2fe = with_vcov(impactkit::vcov_kind::hc2);
  hc2fe.fixed_effects = s.fe;
  EXPECT_NE(error_of([&] { impactkit::iv_2sls(s.X.rightCols(1), s.D, s.Z, s.y, hc2fe); }).find("HC2 needs the leverage"),
            std::string::npos);
}

TEST(Iv2sls, DescribeNamesConventions) {
  const sim_data s = simulate();
  const auto r = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, with_vcov(impactkit::vcov_kind::cr1, s.g));
  const std::string d = r.describe();
  EXPECT_NE(d.find("Two-stage least squares on 400 observations"), std::string::npos) << d;
  EXPECT_NE(d.find("Kleibergen-Paap rk Wald F"), std::string::npos) << d;
  EXPECT_NE(d.find("Hansen J"), std::string::npos) << d;
}

}  // namespace
