// impactkit::glm (logit, probit, Poisson): stored statsmodels references on shipped data, absorbed
// fixed effects against explicit dummies, separation, dropped groups, errors, thread invariance.
//
// Data: python/impactkit/datasets/data/cattaneo2.csv (read at run time, path from
// IMPACTKIT_TEST_DATA_DIR/../../python/...). Reference values were produced with statsmodels 0.15.0:
//   import numpy as np, pandas as pd, statsmodels.api as sm
//   c = pd.read_csv("python/impactkit/datasets/data/cattaneo2.csv")
//   X = np.column_stack([np.ones(len(c)), c.mmarried, c.mage, c.fbaby, c.medu]).astype(float)
//   for M, y in ((sm.Probit, c.mbsmoke), (sm.Logit, c.mbsmoke), (sm.Poisson, c.nprenatal)):
//       fit = lambda **kw: M(y.values.astype(float), X).fit(method="newton", tol=1e-14, maxiter=200, disp=0, **kw)
//       fit().params, fit().bse, fit(cov_type="HC0").bse,
//       fit(cov_type="cluster", cov_kwds={"groups": c.mage.values}).bse, fit().llf
// statsmodels "nonrobust" = impactkit iid (inverse observed information), its HC0 = impactkit HC0, its
// "cluster" (G/(G-1)(N-1)/(N-K)) = impactkit CR1. Tolerances: coefficients 1e-8 relative, standard
// errors 1e-6 relative, log-likelihood 1e-10 relative.
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/glm.hpp>

#ifndef IMPACTKIT_TEST_DATA_DIR
#error "IMPACTKIT_TEST_DATA_DIR must point to tests/reference"
#endif

namespace {

using namespace impactkit;

constexpr double kCoefTol = 1e-8, kSeTol = 1e-6, kLlTol = 1e-10;

struct table {
  std::vector<std::string> names;
  std::vector<std::vector<double>> cols;
  const std::vector<double>& col(const std::string& name) const {
    for (std::size_t j = 0; j < names.size(); ++j)
      if (names[j] == name) return cols[j];
    throw std::runtime_error("no column " + name);
  }
};

table read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  table t;
  std::string line, cell;
  std::getline(in, line);
  std::stringstream head(line);
  while (std::getline(head, cell, ',')) {
    if (!cell.empty() && cell.front() == '"') cell = cell.substr(1, cell.size() - 2);
    t.names.push_back(cell);
  }
  t.cols.resize(t.names.size());
  while (std::getline(in, line)) {
    std::stringstream row(line);
    for (std::size_t j = 0; j < t.names.size() && std::getline(row, cell, ','); ++j) t.cols[j].push_back(std::stod(cell));
  }
  return t;
}

const table& cattaneo() {
  static const table t = read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/../../python/impactkit/datasets/data/cattaneo2.csv");
  return t;
}

Eigen::MatrixXd design(const table& t) {
  const auto& a = t.col("mmarried");
  const Eigen::Index n = static_cast<Eigen::Index>(a.size());
  Eigen::MatrixXd X(n, 5);
  const char* names[] = {"mmarried", "mage", "fbaby", "medu"};
  X.col(0).setOnes();
  for (int j = 0; j < 4; ++j)
    for (Eigen::Index i = 0; i < n; ++i) X(i, j + 1) = t.col(names[j])[static_cast<std::size_t>(i)];
  return X;
}

Eigen::VectorXd column(const table& t, const char* name) {
  const auto& v = t.col(name);
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

Eigen::MatrixXi int_column(const table& t, const char* name) {
  const auto& v = t.col(name);
  Eigen::MatrixXi out(static_cast<Eigen::Index>(v.size()), 1);
  for (std::size_t i = 0; i < v.size(); ++i) out(static_cast<Eigen::Index>(i), 0) = static_cast<int>(v[i]);
  return out;
}

void expect_rel(const Eigen::VectorXd& a, const std::vector<double>& e, double tol, const char* what) {
  ASSERT_EQ(a.size(), static_cast<Eigen::Index>(e.size())) << what;
  for (std::size_t j = 0; j < e.size(); ++j)
    EXPECT_LE(std::fabs(a(static_cast<Eigen::Index>(j)) - e[j]) / std::fabs(e[j]), tol) << what << " [" << j << "]";
}

struct reference {
  glm_family family;
  const char* outcome;
  std::vector<double> coef, se_iid, se_hc0, se_cr1;
  double llf;
};

const reference kReferences[] = {
    {glm_family::probit, "mbsmoke",
     {0.61779953273408206, -0.58480646832909022, -0.0023797463491275748, -0.261050051793487, -0.078446406024660562},
     {0.13963243576336293, 0.051279502368239936, 0.0047683076206541256, 0.048501664212773694, 0.0097130301107269321},
     {0.13807625138779284, 0.053298503208690985, 0.0048267130188225987, 0.049231520889597903, 0.0095782617554861574},
     {0.21531106022703736, 0.067698719526127604, 0.0062195974165354254, 0.058454764183138018, 0.0082746019835800121},
     -2053.9723148089415},
    {glm_family::logit, "mbsmoke",
     {1.0246809546429674, -1.0362518781062764, -0.0036626246933681513, -0.47654074993135653, -0.12723798828940647},
     {0.24481560646396755, 0.090001178694960896, 0.0083884691434985333, 0.087180295893975399, 0.016766854104170423},
     {0.24281472654646333, 0.094814647692193527, 0.0085825530342913559, 0.089235372027847523, 0.016610778685598692},
     {0.3755177045641096, 0.11713344872764393, 0.011071051816142704, 0.10275889747014799, 0.014628745326769887},
     -2057.5951005804391},
    {glm_family::poisson, "nprenatal",
     {1.9127029334882786, 0.15487315343753183, 0.0041500911504428672, 0.078658275734828892, 0.016096102737135722},
     {0.028861054843072772, 0.011562261691888117, 0.00099332397458979423, 0.009580018427543479, 0.0020761079732704263},
     {0.034312457817568712, 0.014621370510049169, 0.0011159739706094406, 0.010314081354652864, 0.0025423416560203505},
     {0.035070237485647172, 0.016058356303746742, 0.0012761335739465834, 0.013624771198973144, 0.0023075176994475249},
     -12759.524213185336},
};

class GlmStatsmodels : public ::testing::TestWithParam<int> {};

TEST_P(GlmStatsmodels, MatchesStoredReference) {
  const reference& ref = kReferences[GetParam()];
  const table& t = cattaneo();
  const Eigen::MatrixXd X = design(t);
  const Eigen::VectorXd y = column(t, ref.outcome);
  glm_options opt;
  opt.vcov = vcov_spec::iid();
  const glm_result iid = glm(X, y, ref.family, opt);
  expect_rel(iid.coef, ref.coef, kCoefTol, "coef");
  expect_rel(iid.se, ref.se_iid, kSeTol, "se iid");
  EXPECT_LE(std::fabs(iid.loglik / ref.llf - 1), kLlTol);
  EXPECT_TRUE(std::isinf(iid.df_inference(0)));
  EXPECT_TRUE(iid.separated_rows.empty());
  opt.vcov = vcov_spec::hc(0);
  expect_rel(glm(X, y, ref.family, opt).se, ref.se_hc0, kSeTol, "se HC0");
  opt.vcov = vcov_spec::hc(1);  // HC1 = HC0 n/(n-k)
  const double n = static_cast<double>(X.rows()), k = static_cast<double>(X.cols());
  std::vector<double> hc1;
  for (double s : ref.se_hc0) hc1.push_back(s * std::sqrt(n / (n - k)));
  expect_rel(glm(X, y, ref.family, opt).se, hc1, kSeTol, "se HC1");
  opt.vcov = vcov_spec::cluster(int_column(t, "mage"));
  const glm_result cr1 = glm(X, y, ref.family, opt);
  expect_rel(cr1.se, ref.se_cr1, kSeTol, "se CR1");
  ASSERT_EQ(cr1.n_clusters.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(ProbitLogitPoisson, GlmStatsmodels, ::testing::Values(0, 1, 2));

TEST(Glm, ProbitExpectedInformationDiffersOnlyInTheBread) {
  const table& t = cattaneo();
  const Eigen::MatrixXd X = design(t);
  const Eigen::VectorXd y = column(t, "mbsmoke");
  glm_options opt;
  opt.vcov = vcov_spec::iid();
  const glm_result obs = glm(X, y, glm_family::probit, opt);
  opt.information = information_matrix::expected;
  const glm_result exp = glm(X, y, glm_family::probit, opt);
  EXPECT_LE((obs.coef - exp.coef).cwiseAbs().maxCoeff(), 1e-14);
  EXPECT_GT((obs.se.cwiseQuotient(exp.se).array() - 1).abs().maxCoeff(), 1e-6);
  // logit: canonical link, the two coincide
  const glm_result lo = glm(X, y, glm_family::logit, opt);
  opt.information = information_matrix::observed;
  const glm_result lo2 = glm(X, y, glm_family::logit, opt);
  EXPECT_LE((lo.se.cwiseQuotient(lo2.se).array() - 1).abs().maxCoeff(), 1e-12);
}

// Poisson panel: absorbing a fixed effect equals estimating its dummies.
struct panel {
  Eigen::MatrixXd X;       // x1, x2
  Eigen::MatrixXd Xd;      // x1, x2, intercept, dummies for firm 1..F-1
  Eigen::VectorXd y;
  Eigen::MatrixXi fe;      // firm, year
};

panel make_panel(int firms, int years, int per, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unif;
  const int n = firms * years * per;
  panel p;
  p.X.resize(n, 2);
  p.Xd = Eigen::MatrixXd::Zero(n, 2 + firms);
  p.y.resize(n);
  p.fe.resize(n, 2);
  std::vector<double> a(static_cast<std::size_t>(firms)), b(static_cast<std::size_t>(years));
  for (auto& v : a) v = 0.5 * normal(gen);
  for (auto& v : b) v = 0.3 * normal(gen);
  for (int i = 0; i < n; ++i) {
    const int f = i / (years * per), yr = (i / per) % years;
    const double x1 = normal(gen), x2 = unif(gen);
    p.X(i, 0) = p.Xd(i, 0) = x1;
    p.X(i, 1) = p.Xd(i, 1) = x2;
    p.Xd(i, 2) = 1.0;
    if (f > 0) p.Xd(i, 2 + f) = 1.0;
    p.fe(i, 0) = 100 + 7 * f;  // arbitrary integer labels
    p.fe(i, 1) = yr;
    p.y(i) = std::poisson_distribution<int>(std::exp(0.2 + 0.4 * x1 - 0.7 * x2 + a[static_cast<std::size_t>(f)] +
                                                     b[static_cast<std::size_t>(yr)]))(gen);
  }
  return p;
}

TEST(Glm, AbsorbedFixedEffectEqualsDummies) {
  const panel p = make_panel(25, 6, 5, 42);
  glm_options fe_opt;
  fe_opt.vcov = vcov_spec::hc(0);
  fe_opt.fixed_effects = p.fe.leftCols(1);
  fe_opt.absorb.demean.tol = 1e-13;
  const glm_result a = glm(p.X, p.y, glm_family::poisson, fe_opt);
  glm_options d_opt;
  d_opt.vcov = vcov_spec::hc(0);
  const glm_result b = glm(p.Xd, p.y, glm_family::poisson, d_opt);
  for (int j = 0; j < 2; ++j) {
    EXPECT_LE(std::fabs(a.coef(j) / b.coef(j) - 1), kCoefTol);
    EXPECT_LE(std::fabs(a.se(j) / b.se(j) - 1), kSeTol);
  }
  EXPECT_LE(std::fabs(a.loglik / b.loglik - 1), kLlTol);
  EXPECT_EQ(a.k_fe, 25);
  // η̂ = Xβ̂ + α̂[firm]
  ASSERT_EQ(a.fixef.size(), 1u);
  double worst = 0;
  for (Eigen::Index i = 0; i < p.X.rows(); ++i) {
    Eigen::Index level = 0;
    while (a.fixef_labels[0](level) != p.fe(i, 0)) ++level;
    worst = std::max(worst, std::fabs(p.X.row(i).dot(a.coef) + a.fixef[0](level) - a.linear_predictor(i)));
  }
  EXPECT_LE(worst, 1e-9);
}

TEST(Glm, AllZeroGroupsDroppedAndCounted) {
  panel p = make_panel(20, 5, 4, 7);
  for (Eigen::Index i = 0; i < p.y.size(); ++i)
    if (p.fe(i, 0) == 100 + 7 * 3) p.y(i) = 0;  // firm 3: all zero
  glm_options opt;
  opt.fixed_effects = p.fe;
  const glm_result r = glm(p.X, p.y, glm_family::poisson, opt);
  EXPECT_EQ(r.n_fe_dropped, 20);
  EXPECT_EQ(r.nobs, p.X.rows() - 20);
  EXPECT_EQ(r.fe_sizes[0], 19);
  EXPECT_EQ(r.used_rows.size(), static_cast<std::size_t>(r.nobs));
  // the same as fitting without the firm's rows
  std::vector<Eigen::Index> keep;
  for (Eigen::Index i = 0; i < p.y.size(); ++i)
    if (p.fe(i, 0) != 100 + 7 * 3) keep.push_back(i);
  Eigen::MatrixXd X2(static_cast<Eigen::Index>(keep.size()), 2);
  Eigen::VectorXd y2(X2.rows());
  Eigen::MatrixXi fe2(X2.rows(), 2);
  for (std::size_t r2 = 0; r2 < keep.size(); ++r2) {
    X2.row(static_cast<Eigen::Index>(r2)) = p.X.row(keep[r2]);
    y2(static_cast<Eigen::Index>(r2)) = p.y(keep[r2]);
    fe2.row(static_cast<Eigen::Index>(r2)) = p.fe.row(keep[r2]);
  }
  opt.fixed_effects = fe2;
  const glm_result s = glm(X2, y2, glm_family::poisson, opt);
  EXPECT_EQ(s.n_fe_dropped, 0);
  EXPECT_LE((r.coef - s.coef).cwiseAbs().maxCoeff(), 1e-12);
}

// y = 1 whenever d = 1: the rows with d = 1 are quasi-completely separated.
void separated_data(Eigen::MatrixXd& X, Eigen::VectorXd& y, int n = 400, int n_sep = 30) {
  std::mt19937_64 gen(3);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unif;
  X.resize(n, 3);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    const double x = normal(gen), d = i < n_sep ? 1.0 : 0.0;
    X(i, 0) = 1;
    X(i, 1) = x;
    X(i, 2) = d;
    y(i) = d > 0 ? 1.0 : (unif(gen) < 1 / (1 + std::exp(-0.5 * x)) ? 1.0 : 0.0);
  }
}

TEST(Glm, QuasiSeparationDetectedDroppedOrRaised) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  separated_data(X, y);
  for (glm_family f : {glm_family::logit, glm_family::probit}) {
    const glm_result r = glm(X, y, f);
    ASSERT_EQ(r.separated_rows.size(), 30u);
    EXPECT_EQ(r.separated_rows.front(), 0);
    EXPECT_EQ(r.separated_rows.back(), 29);
    ASSERT_EQ(r.separating_columns.size(), 1u);
    EXPECT_EQ(r.separating_columns[0], 2);
    ASSERT_EQ(r.dropped_columns.size(), 1u);  // d is constant on the rows left
    EXPECT_EQ(r.nobs, 370);
    // the same as the model without d on the rows left
    const glm_result s = glm(X.bottomRows(370).leftCols(2), y.tail(370), f);
    EXPECT_LE((r.coef - s.coef).cwiseAbs().maxCoeff(), 1e-12);
    glm_options raise;
    raise.on_separation = separation_action::raise;
    EXPECT_THROW(glm(X, y, f, raise), invalid_input);
  }
  glm_options never;
  never.check_separation = separation_check::never;
  const glm_result r = glm(X, y, glm_family::logit, never);
  EXPECT_EQ(r.n_boundary, 30);  // reported, not silent
  EXPECT_FALSE(r.separation_checked);
}

TEST(Glm, CompleteSeparationThrows) {
  std::mt19937_64 gen(9);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd X(300, 2);
  Eigen::VectorXd y(300);
  for (int i = 0; i < 300; ++i) {
    X(i, 0) = 1;
    X(i, 1) = normal(gen);
    y(i) = X(i, 1) > 0.2 ? 1.0 : 0.0;
  }
  EXPECT_THROW(glm(X, y, glm_family::logit), invalid_input);
  EXPECT_THROW(glm(X, y, glm_family::probit), invalid_input);
}

TEST(Glm, PoissonSeparationByRegressor) {
  std::mt19937_64 gen(5);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unif;
  const int n = 500;
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n);
  int n_sep = 0;
  for (int i = 0; i < n; ++i) {
    const double x = normal(gen), z = i % 5 == 0 ? 0.1 + unif(gen) : 0.0;
    X(i, 0) = 1;
    X(i, 1) = x;
    X(i, 2) = z;
    y(i) = z > 0 ? 0.0 : std::poisson_distribution<int>(std::exp(0.5 + 0.3 * x))(gen);
    n_sep += z > 0;
  }
  const glm_result r = glm(X, y, glm_family::poisson);
  EXPECT_EQ(static_cast<int>(r.separated_rows.size()), n_sep);
  ASSERT_EQ(r.separating_columns.size(), 1u);
  EXPECT_EQ(r.separating_columns[0], 2);
  // no separation: the check (forced) finds nothing and changes nothing
  glm_options always;
  always.check_separation = separation_check::always;
  const glm_result a = glm(X.leftCols(2), y, glm_family::poisson, always);
  const glm_result b = glm(X.leftCols(2), y, glm_family::poisson);
  EXPECT_TRUE(a.separation_checked);
  EXPECT_TRUE(a.separated_rows.empty());
  EXPECT_EQ((a.coef - b.coef).cwiseAbs().maxCoeff(), 0.0);
}

TEST(Glm, InputErrors) {
  Eigen::MatrixXd X(6, 2);
  X << 1, 0.5, 1, -1, 1, 2, 1, 0.1, 1, -0.3, 1, 1.2;
  Eigen::VectorXd y(6);
  y << 0, 1, 0.5, 1, 0, 1;
  EXPECT_THROW(glm(X, y, glm_family::logit), invalid_input);  // not 0/1
  y << 0, 1, -1, 1, 0, 1;
  EXPECT_THROW(glm(X, y, glm_family::poisson), invalid_input);  // negative
  y << 1, 1, 1, 1, 1, 1;
  EXPECT_THROW(glm(X, y, glm_family::probit), invalid_input);  // one outcome only
  y << 0, 1, 0, 1, 0, 1;
  y(2) = std::nan("");
  EXPECT_THROW(glm(X, y, glm_family::logit), invalid_input);
  y(2) = 0;
  glm_options opt;
  opt.vcov = vcov_spec::hc(3);
  EXPECT_THROW(glm(X, y, glm_family::logit, opt), invalid_input);  // leverage vcov: least squares only
  glm_options off;
  off.offset = Eigen::VectorXd::Zero(6);
  EXPECT_THROW(glm(X, y, glm_family::logit, off), invalid_input);  // offset: Poisson only
  glm_options w;
  w.weights = Eigen::VectorXd::Ones(6);
  w.weights(0) = 0;
  EXPECT_THROW(glm(X, y, glm_family::logit, w), invalid_input);
  EXPECT_THROW(parse_glm_family("gamma"), invalid_input);
}

TEST(Glm, IterationCapThrowsConvergenceError) {
  const table& t = cattaneo();
  glm_options opt;
  opt.max_iter = 1;
  EXPECT_THROW(glm(design(t), column(t, "mbsmoke"), glm_family::probit, opt), convergence_error);
}

TEST(Glm, IdenticalForAnyThreadCount) {
  const panel p = make_panel(40, 8, 30, 11);  // 9600 rows: large enough for parallel passes
  glm_options opt;
  opt.fixed_effects = p.fe;
  opt.vcov = vcov_spec::cluster(p.fe.leftCols(1));
  set_num_threads(1);
  const glm_result a = glm(p.X, p.y, glm_family::poisson, opt);
  set_num_threads(2);
  const glm_result b = glm(p.X, p.y, glm_family::poisson, opt);
  set_num_threads(0);
  EXPECT_EQ((a.coef - b.coef).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((a.vcov - b.vcov).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(a.loglik, b.loglik);
}

}  // namespace
