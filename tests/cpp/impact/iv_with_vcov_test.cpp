// impactkit::iv_with_vcov: another variance for a 2SLS fit without refitting equals a fresh iv_2sls
// with that variance (second- and first-stage variances, partial F, Kleibergen–Paap F, effective F,
// Hansen J, conventions), with and without absorbed fixed effects and weights; and its input checks.
// Data: simulated (std::mt19937_64, seed 77), n = 600, 30 clusters nested in 3 regions, 40 fixed-effect
// levels nested in the clusters. Tolerance: rel 1e-12 (the same computations from the same pieces).
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
using impactkit::iv_options;
using impactkit::iv_result;
using impactkit::vcov_kind;
using impactkit::vcov_spec;

struct data {
  MatrixXd X, D, Z;
  VectorXd y, w;
  MatrixXi cluster, region, fe;
};

data simulate(Eigen::Index n = 600) {
  std::mt19937_64 rng(77);
  std::normal_distribution<double> N(0.0, 1.0);
  std::uniform_real_distribution<double> U(0.5, 2.0);
  data s;
  s.X.resize(n, 2);
  s.D.resize(n, 1);
  s.Z.resize(n, 3);
  s.y.resize(n);
  s.w.resize(n);
  s.cluster.resize(n, 1);
  s.region.resize(n, 1);
  s.fe.resize(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int f = static_cast<int>(i % 40), g = f % 30 == f ? f : f - 10;  // levels 30..39 share clusters 20..29
    const double x = N(rng), z1 = N(rng), z2 = N(rng), z3 = N(rng);
    const double u = N(rng) * (1.0 + 0.5 * std::fabs(x)) + 0.05 * g;
    s.X.row(i) << 1.0, x;
    s.Z.row(i) << z1, z2, z3;
    s.D(i, 0) = 0.7 * z1 + 0.3 * z2 - 0.2 * z3 + 0.3 * x + 0.6 * u + N(rng);
    s.y(i) = 1.0 + 0.5 * x + 0.8 * s.D(i, 0) + u + 0.02 * f;
    s.w(i) = U(rng);
    s.cluster(i, 0) = g;
    s.region(i, 0) = g / 10;
    s.fe(i, 0) = f;
  }
  return s;
}

void expect_close(double a, double b, const char* what) {
  if (std::isnan(b)) {
    EXPECT_TRUE(std::isnan(a)) << what;
  } else {
    EXPECT_NEAR(a, b, 1e-12 * std::fabs(b)) << what;
  }
}

void expect_same(const iv_result& a, const iv_result& b) {
  ASSERT_EQ(a.fit.coef.size(), b.fit.coef.size());
  for (Eigen::Index j = 0; j < a.fit.coef.size(); ++j) {
    EXPECT_EQ(a.fit.coef(j), b.fit.coef(j));
    for (Eigen::Index k = 0; k < a.fit.coef.size(); ++k) expect_close(a.fit.vcov(j, k), b.fit.vcov(j, k), "vcov");
    EXPECT_EQ(a.fit.df_inference(j), b.fit.df_inference(j));
  }
  EXPECT_EQ(a.fit.vcov_convention, b.fit.vcov_convention);
  EXPECT_EQ(a.fit.n_clusters, b.fit.n_clusters);
  ASSERT_EQ(a.first_stage.size(), b.first_stage.size());
  for (std::size_t j = 0; j < a.first_stage.size(); ++j) {
    const auto &fa = a.first_stage[j], &fb = b.first_stage[j];
    for (Eigen::Index k = 0; k < fa.fit.se.size(); ++k) expect_close(fa.fit.se(k), fb.fit.se(k), "first-stage se");
    expect_close(fa.f_stat, fb.f_stat, "partial F");
    expect_close(fa.f_p_value, fb.f_p_value, "partial F p");
    EXPECT_EQ(fa.f_df_denom, fb.f_df_denom);
  }
  expect_close(a.cragg_donald_f, b.cragg_donald_f, "Cragg-Donald F");
  expect_close(a.kleibergen_paap_f, b.kleibergen_paap_f, "Kleibergen-Paap F");
  expect_close(a.effective_f, b.effective_f, "effective F");
  expect_close(a.sargan.statistic, b.sargan.statistic, "Sargan");
  expect_close(a.hansen_j.statistic, b.hansen_j.statistic, "Hansen J");
  EXPECT_EQ(a.overid.name, b.overid.name);
  expect_close(a.overid.statistic, b.overid.statistic, "overid");
  EXPECT_EQ(a.diagnostics_convention, b.diagnostics_convention);
}

TEST(IvWithVcov, EqualsFreshFit) {
  const data s = simulate();
  const vcov_spec specs[] = {vcov_spec::hc(1), vcov_spec::hc(0), vcov_spec::iid(), vcov_spec::hc(3),
                             vcov_spec::cluster(s.cluster), vcov_spec::cluster(s.region, vcov_kind::cr0),
                             vcov_spec::cluster(s.cluster, vcov_kind::cr2)};
  for (int fe = 0; fe < 2; ++fe)
    for (int weighted = 0; weighted < 2; ++weighted) {
      iv_options opt;
      if (fe) opt.fixed_effects = s.fe;
      const MatrixXd X = fe ? MatrixXd(s.X.rightCols(1)) : s.X;
      const iv_result base = weighted ? impactkit::iv_2sls(X, s.D, s.Z, s.y, s.w, opt) : impactkit::iv_2sls(X, s.D, s.Z, s.y, opt);
      for (const vcov_spec& spec : specs) {
        const bool leverage = spec.kind == vcov_kind::hc3 || spec.kind == vcov_kind::cr2;
        if (fe && leverage) {  // refused with absorbed fixed effects, by the fit and by iv_with_vcov alike
          EXPECT_THROW(impactkit::iv_with_vcov(base, spec), impactkit::invalid_input);
          continue;
        }
        SCOPED_TRACE(std::string(impactkit::vcov_name(spec.kind)) + (fe ? " with FE" : "") + (weighted ? " weighted" : ""));
        iv_options o = opt;
        o.vcov = spec;
        const iv_result fresh = weighted ? impactkit::iv_2sls(X, s.D, s.Z, s.y, s.w, o) : impactkit::iv_2sls(X, s.D, s.Z, s.y, o);
        expect_same(impactkit::iv_with_vcov(base, spec), fresh);
      }
    }
}

TEST(IvWithVcov, InvalidInput) {
  const data s = simulate();
  const iv_result fit = impactkit::iv_2sls(s.X, s.D, s.Z, s.y);
  const MatrixXi short_labels = s.cluster.topRows(s.cluster.rows() - 1);
  EXPECT_THROW(impactkit::iv_with_vcov(fit, vcov_spec::cluster(short_labels)), impactkit::invalid_input);
  EXPECT_THROW(impactkit::iv_with_vcov(fit, vcov_spec::cluster_on_fixed_effects()), impactkit::invalid_input);  // no labels
  iv_options lean;
  lean.keep_variance_parts = false;
  const iv_result bare = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, lean);
  EXPECT_TRUE(bare.variance_parts == nullptr);
  EXPECT_THROW(impactkit::iv_with_vcov(bare, vcov_spec::hc(0)), impactkit::invalid_input);
  iv_options prob;
  prob.probability_weights = true;
  const iv_result pw = impactkit::iv_2sls(s.X, s.D, s.Z, s.y, s.w, prob);
  EXPECT_THROW(impactkit::iv_with_vcov(pw, vcov_spec::iid()), impactkit::invalid_input);
}

}  // namespace
