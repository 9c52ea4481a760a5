// The variance contract: influence_vcov / score_vcov / replicate_vcov and survey designs.
// References: textbook formulas evaluated here in long double on small designs (Cochran 1977 §5.3,
// stratified sampling; §11.2 two-stage); R survey values are checked from Python
// (tests/python/test_survey_reference.py) on the designs of tests/reference/r/survey.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <memory>
#include <random>
#include <vector>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "../reference_csv.hpp"

#include <impactkit/core/influence_vcov.hpp>
#include <impactkit/core/ols.hpp>
#include <impactkit/core/survey_design.hpp>
#include <impactkit/core/threads.hpp>

using namespace impactkit;

namespace {

struct toy_design {
  Eigen::VectorXi strata;
  Eigen::MatrixXi ids;
  Eigen::MatrixXd fpc;
  Eigen::VectorXd y, w;
};

// 3 strata with 2, 3 and 4 PSUs of 1..4 rows each.
toy_design make_toy(bool with_fpc) {
  std::mt19937 gen(7);
  std::normal_distribution<double> z(0, 1);
  toy_design t;
  std::vector<int> st, psu;
  const int psus_in[] = {2, 3, 4};
  int id = 100;
  for (int h = 0; h < 3; ++h)
    for (int j = 0; j < psus_in[h]; ++j, ++id)
      for (int r = 0; r < 1 + (j + h) % 4; ++r) {
        st.push_back(10 * h + 5);
        psu.push_back(id);
      }
  const Eigen::Index n = static_cast<Eigen::Index>(st.size());
  t.strata.resize(n);
  t.ids.resize(n, 1);
  t.y.resize(n);
  t.w.resize(n);
  if (with_fpc) t.fpc.resize(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    t.strata(i) = st[static_cast<std::size_t>(i)];
    t.ids(i, 0) = psu[static_cast<std::size_t>(i)];
    t.y(i) = 3 + z(gen);
    t.w(i) = 1 + (i % 5);
    if (with_fpc) t.fpc(i, 0) = 10.0 + t.strata(i);  // population PSUs per stratum
  }
  return t;
}

// Σ_h (1 − f_h) n_h/(n_h − 1) Σ_j (S_hj − S̄_h)² for a scalar ψ, in long double.
long double stratified_variance(const toy_design& t, const Eigen::VectorXd& psi) {
  std::map<int, std::map<int, long double>> totals;
  std::map<int, double> pop;
  for (Eigen::Index i = 0; i < psi.size(); ++i) {
    totals[t.strata(i)][t.ids(i, 0)] += psi(i);
    if (t.fpc.size()) pop[t.strata(i)] = t.fpc(i, 0);
  }
  long double v = 0;
  for (const auto& [h, psus] : totals) {
    const long double nh = static_cast<long double>(psus.size());
    long double mean = 0;
    for (const auto& [j, s] : psus) mean += s / nh;
    long double ss = 0;
    for (const auto& [j, s] : psus) ss += (s - mean) * (s - mean);
    const long double f = t.fpc.size() ? nh / pop[h] : 0.0L;
    v += (1 - f) * nh / (nh - 1) * ss;
  }
  return v;
}

std::shared_ptr<const survey_design> design_of(const toy_design& t, lonely_psu_rule rule = lonely_psu_rule::fail) {
  survey_spec s;
  s.strata = t.strata;
  s.ids = t.ids;
  s.fpc = t.fpc;
  s.weights = t.w;
  s.lonely_psu = rule;
  return std::make_shared<survey_design>(s);
}

// ψ of the weighted mean: w_i (y_i − ȳ)/Σw
Eigen::VectorXd mean_influence(const toy_design& t) {
  const double ybar = t.w.dot(t.y) / t.w.sum();
  return (t.w.array() * (t.y.array() - ybar) / t.w.sum()).matrix();
}

}  // namespace

TEST(SurveyVariance, StratifiedMeanMatchesTheTextbookFormula) {
  for (bool fpc : {false, true}) {
    const toy_design t = make_toy(fpc);
    const auto d = design_of(t);
    const Eigen::VectorXd psi = mean_influence(t);
    const vcov_estimate v = influence_vcov(psi, variance_design::complex_survey(d));
    const long double ref = stratified_variance(t, psi);
    EXPECT_NEAR(v.vcov(0, 0), static_cast<double>(ref), 1e-14 * static_cast<double>(ref)) << "fpc " << fpc;
    EXPECT_EQ(v.conventions.n_strata, 3);
    EXPECT_EQ(v.conventions.n_psu, 9);
    EXPECT_DOUBLE_EQ(v.df(0), 6.0);  // #PSU − #strata
    EXPECT_EQ(v.kind, vcov_kind::survey);
    EXPECT_NE(v.convention.find("#PSU-#strata"), std::string::npos);
  }
}

TEST(SurveyVariance, OneStratumRowPsusIsTheIidInfluenceVariance) {
  const toy_design t = make_toy(false);
  survey_spec s;  // no strata, each row its own PSU
  s.weights = t.w;
  const auto d = std::make_shared<survey_design>(s);
  const Eigen::VectorXd psi = mean_influence(t);
  const vcov_estimate a = influence_vcov(psi, variance_design::complex_survey(d));
  const vcov_estimate b = influence_vcov(psi, variance_design::iid());
  EXPECT_NEAR(a.vcov(0, 0), b.vcov(0, 0), 1e-15 * b.vcov(0, 0));
  // the iid variance of a plain mean is s²/n
  Eigen::VectorXd y = t.y;
  const double n = static_cast<double>(y.size());
  const Eigen::VectorXd psi_plain = ((y.array() - y.mean()) / n).matrix();
  const double s2 = (y.array() - y.mean()).square().sum() / (n - 1);
  EXPECT_NEAR(influence_vcov(psi_plain, variance_design::iid()).vcov(0, 0), s2 / n, 1e-15 * s2 / n);
}

TEST(SurveyVariance, LonelyPsuRules) {
  toy_design t = make_toy(false);
  // make stratum 5 (first stratum, 2 PSUs) a single PSU
  for (Eigen::Index i = 0; i < t.ids.rows(); ++i)
    if (t.strata(i) == 5) t.ids(i, 0) = 100;
  const Eigen::VectorXd psi = mean_influence(t);
  EXPECT_THROW(influence_vcov(psi, variance_design::complex_survey(design_of(t, lonely_psu_rule::fail))), invalid_input);
  try {
    influence_vcov(psi, variance_design::complex_survey(design_of(t, lonely_psu_rule::fail)));
  } catch (const invalid_input& e) {
    EXPECT_NE(std::string(e.what()).find("stratum 5"), std::string::npos) << e.what();
  }
  const double removed = influence_vcov(psi, variance_design::complex_survey(design_of(t, lonely_psu_rule::remove))).vcov(0, 0);
  const double certainty = influence_vcov(psi, variance_design::complex_survey(design_of(t, lonely_psu_rule::certainty))).vcov(0, 0);
  const double average = influence_vcov(psi, variance_design::complex_survey(design_of(t, lonely_psu_rule::average))).vcov(0, 0);
  const double adjust = influence_vcov(psi, variance_design::complex_survey(design_of(t, lonely_psu_rule::adjust))).vcov(0, 0);
  // reference: the two other strata alone; average scales them by 3/2; adjust adds the lonely PSU's total²
  long double lonely_total = 0;
  for (Eigen::Index i = 0; i < psi.size(); ++i)
    if (t.strata(i) == 5) {
      lonely_total += psi(i);
    }
  std::map<int, std::map<int, long double>> totals;
  long double v_others = 0;
  {
    for (Eigen::Index i = 0; i < psi.size(); ++i)
      if (t.strata(i) != 5) totals[t.strata(i)][t.ids(i, 0)] += psi(i);
    for (const auto& [h, psus] : totals) {
      const long double nh = static_cast<long double>(psus.size());
      long double mean = 0, ss = 0;
      for (const auto& [j, s] : psus) mean += s / nh;
      for (const auto& [j, s] : psus) ss += (s - mean) * (s - mean);
      v_others += nh / (nh - 1) * ss;
    }
  }
  EXPECT_NEAR(removed, static_cast<double>(v_others), 1e-14 * removed);
  EXPECT_DOUBLE_EQ(removed, certainty);
  EXPECT_NEAR(average, static_cast<double>(v_others * 3 / 2), 1e-14 * average);
  EXPECT_NEAR(adjust, static_cast<double>(v_others + lonely_total * lonely_total), 1e-14 * adjust);
  EXPECT_EQ(design_of(t, lonely_psu_rule::adjust)->n_lonely_strata(), 1);
}

TEST(SurveyVariance, TwoStageWithFpcAddsTheSecondStage) {
  // 1 stratum, 3 of 10 PSUs; in each PSU m of M_j elements; y per element.
  // V = (1 − n/N) n/(n−1) Σ (S_j − S̄)² + (n/N) Σ_j (1 − m_j/M_j) m_j/(m_j − 1) Σ_k (ψ_jk − ψ̄_j)²   (survey::multistage)
  const int m_of[] = {2, 3, 4};
  const double M_of[] = {5, 6, 8};
  std::vector<int> psu, elem;
  std::vector<double> f1, f2, y;
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < m_of[j]; ++k) {
      psu.push_back(j);
      elem.push_back(k);
      f1.push_back(10);
      f2.push_back(M_of[j]);
      y.push_back(1.0 + 0.7 * j + 0.3 * k * k - 0.1 * j * k);
    }
  const Eigen::Index n = static_cast<Eigen::Index>(y.size());
  survey_spec s;
  s.ids.resize(n, 2);
  s.fpc.resize(n, 2);
  Eigen::VectorXd psi(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    s.ids(i, 0) = psu[static_cast<std::size_t>(i)];
    s.ids(i, 1) = elem[static_cast<std::size_t>(i)];
    s.fpc(i, 0) = f1[static_cast<std::size_t>(i)];
    s.fpc(i, 1) = f2[static_cast<std::size_t>(i)];
    psi(i) = y[static_cast<std::size_t>(i)];
  }
  survey_design d(s);
  EXPECT_EQ(d.n_stages(), 2);
  long double S[3] = {0, 0, 0};
  for (Eigen::Index i = 0; i < n; ++i) S[psu[static_cast<std::size_t>(i)]] += psi(i);
  const long double Sbar = (S[0] + S[1] + S[2]) / 3;
  long double v1 = 0;
  for (long double sj : S) v1 += (sj - Sbar) * (sj - Sbar);
  v1 *= (1 - 3.0L / 10) * 3.0L / 2;
  long double v2 = 0;
  for (int j = 0; j < 3; ++j) {
    long double mean = S[j] / m_of[j], ss = 0;
    for (Eigen::Index i = 0; i < n; ++i)
      if (psu[static_cast<std::size_t>(i)] == j) ss += (psi(i) - mean) * (psi(i) - mean);
    v2 += (1 - m_of[j] / static_cast<long double>(M_of[j])) * m_of[j] / (m_of[j] - 1.0L) * ss;
  }
  const long double ref = v1 + 3.0L / 10 * v2;
  EXPECT_NEAR(d.variance(psi)(0, 0), static_cast<double>(ref), 1e-13 * static_cast<double>(ref));
  // without an FPC at the second stage: the ultimate-cluster approximation (first stage only)
  s.fpc.conservativeResize(n, 1);
  survey_design u(s);
  EXPECT_EQ(u.n_stages(), 1);
  EXPECT_NEAR(u.variance(psi)(0, 0), static_cast<double>(v1), 1e-13 * static_cast<double>(v1));
}

TEST(SurveyVariance, BadDesignsAreRefusedWithNamedErrors) {
  toy_design t = make_toy(true);
  // a PSU label in two strata without nest
  t.ids(0, 0) = t.ids(t.ids.rows() - 1, 0);
  try {
    design_of(t);
    FAIL() << "expected invalid_input";
  } catch (const invalid_input& e) {
    EXPECT_NE(std::string(e.what()).find("nest"), std::string::npos) << e.what();
  }
  survey_spec nested;
  nested.strata = t.strata;
  nested.ids = t.ids;
  nested.nest = true;
  EXPECT_NO_THROW(survey_design{nested});
  // fpc smaller than the number of sampled PSUs
  toy_design f = make_toy(true);
  f.fpc.setConstant(2.0);
  EXPECT_THROW(design_of(f), invalid_input);
  // fpc not constant within a stratum
  toy_design g = make_toy(true);
  g.fpc(0, 0) += 1;
  EXPECT_THROW(design_of(g), invalid_input);
  // negative weight, wrong lengths, NaN influence values
  toy_design h = make_toy(false);
  h.w(3) = -1;
  EXPECT_THROW(design_of(h), invalid_input);
  survey_spec short_strata;
  short_strata.ids = t.ids;
  short_strata.strata = t.strata.head(3);
  EXPECT_THROW(survey_design{short_strata}, invalid_input);
  const auto d = design_of(make_toy(false));
  EXPECT_THROW(influence_vcov(Eigen::VectorXd::Ones(3), variance_design::complex_survey(d)), invalid_input);
  Eigen::VectorXd bad = mean_influence(make_toy(false));
  bad(2) = std::nan("");
  EXPECT_THROW(influence_vcov(bad, variance_design::complex_survey(d)), invalid_input);
  EXPECT_THROW(parse_lonely_psu("sometimes"), invalid_input);
}

TEST(SurveyVariance, OlsWithASurveyDesignIsTheSandwichOfPsuScoreTotals) {
  const toy_design t = make_toy(true);
  const Eigen::Index n = t.y.size();
  Eigen::MatrixXd X(n, 2);
  X.col(0).setOnes();
  for (Eigen::Index i = 0; i < n; ++i) X(i, 1) = std::sin(1.3 * static_cast<double>(i));
  ols_options opt;
  opt.probability_weights = true;
  opt.vcov = vcov_spec::complex_survey(design_of(t));
  const ols_result r = wls(X, t.y, t.w, opt);
  // reference: ψ_i = B x_i w_i e_i with B = (X'WX)⁻¹, then the stratified formula per coefficient
  const Eigen::MatrixXd B = (X.transpose() * t.w.asDiagonal() * X).inverse();
  Eigen::MatrixXd psi = (X.array().colwise() * (t.w.array() * r.residuals.array())).matrix() * B;
  for (int j = 0; j < 2; ++j) {
    const double ref = static_cast<double>(stratified_variance(t, psi.col(j)));
    EXPECT_NEAR(r.vcov(j, j), ref, 1e-12 * ref);
  }
  EXPECT_DOUBLE_EQ(r.df_inference(0), 6.0 - 2 + 1);  // R svyglm: #PSU − #strata − k + 1
}

TEST(SurveyVariance, SameResultForAnyThreadCount) {
  std::mt19937 gen(3);
  std::normal_distribution<double> z(0, 1);
  const Eigen::Index n = 200000;
  survey_spec s;
  s.strata.resize(n);
  s.ids.resize(n, 1);
  Eigen::MatrixXd psi(n, 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    s.strata(i) = static_cast<int>(i % 50);
    s.ids(i, 0) = static_cast<int>(i % 2000);
    for (int j = 0; j < 3; ++j) psi(i, j) = z(gen);
  }
  const auto d = std::make_shared<survey_design>(s);
  set_num_threads(1);
  const Eigen::MatrixXd one = influence_vcov(psi, variance_design::complex_survey(d)).vcov;
  set_num_threads(2);
  const Eigen::MatrixXd two = influence_vcov(psi, variance_design::complex_survey(d)).vcov;
  set_num_threads(0);
  EXPECT_EQ((one - two).cwiseAbs().maxCoeff(), 0.0);
}

TEST(InfluenceVariance, ClusterAndHeteroskedasticMatchTheSandwich) {
  std::mt19937 gen(11);
  std::normal_distribution<double> z(0, 1);
  const Eigen::Index n = 300;
  Eigen::MatrixXd psi(n, 2);
  Eigen::MatrixXi g(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    psi(i, 0) = z(gen);
    psi(i, 1) = z(gen) + 0.5 * psi(i, 0);
    g(i, 0) = static_cast<int>(i % 17);
  }
  const vcov_estimate cr = influence_vcov(psi, variance_design::cluster(g), 2);
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(17, 2);
  for (Eigen::Index i = 0; i < n; ++i) S.row(g(i, 0)) += psi.row(i);
  const double c = 17.0 / 16.0 * (n - 1.0) / (n - 2.0);
  const Eigen::MatrixXd ref = c * S.transpose() * S;
  EXPECT_LT((cr.vcov - ref).cwiseAbs().maxCoeff(), 1e-13 * ref.cwiseAbs().maxCoeff());
  EXPECT_DOUBLE_EQ(cr.df(0), 16.0);
  EXPECT_EQ(cr.conventions.factor, factor_rule::cluster_stata);
  const vcov_estimate hc0 = influence_vcov(psi, variance_design::heteroskedastic(factor_rule::none), 2);
  EXPECT_LT((hc0.vcov - psi.transpose() * psi).cwiseAbs().maxCoeff(), 1e-12);
  const vcov_estimate ml = influence_vcov(psi, variance_design::heteroskedastic(factor_rule::n_over_n_minus_1), 2);
  EXPECT_NEAR(ml.vcov(0, 0), hc0.vcov(0, 0) * n / (n - 1.0), 1e-12);
  EXPECT_NE(ml.convention.find("n/(n-1)"), std::string::npos);
  EXPECT_THROW(influence_vcov(psi, variance_design::replicates({})), invalid_input);
}

TEST(ReplicateVariance, ScalesFollowRSvrepdesign) {
  Eigen::VectorXd theta(1);
  theta << 2.0;
  Eigen::MatrixXd reps(4, 1);
  reps << 1.0, 2.5, 2.0, 3.5;  // mean 2.25
  double ss = 0, ss_mse = 0;
  for (int r = 0; r < 4; ++r) {
    ss += (reps(r, 0) - 2.25) * (reps(r, 0) - 2.25);
    ss_mse += (reps(r, 0) - 2.0) * (reps(r, 0) - 2.0);
  }
  replicate_spec jk1;
  jk1.method = replicate_method::jk1;
  EXPECT_NEAR(replicate_vcov(theta, reps, jk1).vcov(0, 0), 3.0 / 4.0 * ss, 1e-15);
  replicate_spec brr;
  brr.method = replicate_method::brr;
  brr.mse = true;
  EXPECT_NEAR(replicate_vcov(theta, reps, brr).vcov(0, 0), ss_mse / 4.0, 1e-15);
  replicate_spec fay;
  fay.method = replicate_method::fay;
  fay.fay_rho = 0.3;
  EXPECT_NEAR(replicate_vcov(theta, reps, fay).vcov(0, 0), ss / (4.0 * 0.49), 1e-14);
  replicate_spec boot;
  boot.method = replicate_method::bootstrap;
  EXPECT_NEAR(replicate_vcov(theta, reps, boot).vcov(0, 0), ss / 3.0, 1e-15);
  replicate_spec jkn;
  jkn.method = replicate_method::jkn;
  jkn.rscales = Eigen::VectorXd::Constant(4, 0.5);
  EXPECT_NEAR(replicate_vcov(theta, reps, jkn).vcov(0, 0), 0.5 * ss, 1e-15);
  jkn.rscales = Eigen::VectorXd::Constant(3, 0.5);
  EXPECT_THROW(replicate_vcov(theta, reps, jkn), invalid_input);
  Eigen::MatrixXd bad = reps;
  bad(1, 0) = std::nan("");
  EXPECT_THROW(replicate_vcov(theta, bad, jk1), invalid_input);
}

using impactkit::test::read_csv;

// A non-regression estimator through the contract from C++: the ratio of weighted totals
// Σ w·api00 / Σ w·api99 with ψ_i = w_i (y_i − R̂ x_i)/Σ w x on R survey's apistrat data
// (tests/reference/r/survey/apistrat.csv). R 4.2.2, survey 4.1.1 (survey_reference.json):
//   svyratio(~api00, ~api99, svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat))
//     ratio 1.0522605462182486, SE 0.003643922230843469, degf 197
//   same design without fpc and strata (svydesign(id=~1, weights=~pw)): the iid influence variance
TEST(InfluenceVariance, RatioOfWeightedTotalsEqualsRSvyratio) {
  auto csv = read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/r/survey/apistrat.csv");
  ASSERT_EQ(csv["api00"].size(), 200u);
  const Eigen::Index n = 200;
  Eigen::VectorXd y(n), x(n), w(n), fpc(n);
  Eigen::VectorXi strata(n);
  std::map<std::string, int> stype;
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::size_t k = static_cast<std::size_t>(i);
    y(i) = std::stod(csv["api00"][k]);
    x(i) = std::stod(csv["api99"][k]);
    w(i) = std::stod(csv["pw"][k]);
    fpc(i) = std::stod(csv["fpc"][k]);
    strata(i) = stype.emplace(csv["stype"][k], static_cast<int>(stype.size())).first->second;
  }
  const double R = w.dot(y) / w.dot(x);
  const Eigen::VectorXd psi = (w.array() * (y.array() - R * x.array()) / w.dot(x)).matrix();
  EXPECT_NEAR(R, 1.0522605462182486, 1e-14);
  survey_spec s;
  s.strata = strata;
  s.fpc = fpc;
  s.weights = w;
  const vcov_estimate v = influence_vcov(psi, variance_design::complex_survey(std::make_shared<survey_design>(s)), 1);
  EXPECT_NEAR(std::sqrt(v.vcov(0, 0)), 0.003643922230843469, 1e-10 * 0.003643922230843469);
  EXPECT_DOUBLE_EQ(v.df(0), 197.0);
  EXPECT_EQ(v.conventions.n_strata, 3);
  EXPECT_EQ(v.conventions.n_psu, 200);
}

// Absorbed fixed effects under a survey design: the slope's variance is that of the regression with
// the fixed effects as dummies (Frisch–Waugh–Lovell; R svyglm is checked from Python), t with
// #PSU − #strata − k + 1 df where k counts the absorbed levels, except a dimension nested in the
// PSUs, which counts one (fixef_count::nonnested). Tolerance rel 1e-10.
TEST(SurveyVariance, AbsorbedFixedEffectsEqualTheDummyRegression) {
  const toy_design t = make_toy(true);
  const Eigen::Index n = t.y.size();
  Eigen::VectorXd x(n);
  for (Eigen::Index i = 0; i < n; ++i) x(i) = std::sin(1.3 * static_cast<double>(i)) + 0.1 * t.strata(i);
  const auto d = design_of(t);
  for (const bool fe_is_psu : {false, true}) {
    const Eigen::VectorXi& fe = fe_is_psu ? Eigen::VectorXi(t.ids.col(0)) : t.strata;
    std::vector<int> levels(fe.data(), fe.data() + n);
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    const Eigen::Index G = static_cast<Eigen::Index>(levels.size());
    Eigen::MatrixXd D(n, 1 + G);  // x and one dummy per level
    D.col(0) = x;
    for (Eigen::Index g = 0; g < G; ++g)
      for (Eigen::Index i = 0; i < n; ++i) D(i, 1 + g) = fe(i) == levels[static_cast<std::size_t>(g)] ? 1.0 : 0.0;
    ols_options dummies;
    dummies.probability_weights = true;
    dummies.vcov = vcov_spec::complex_survey(d);
    const ols_result ref = wls(D, t.y, t.w, dummies);

    ols_options opt = dummies;
    opt.absorb.drop_singletons = false;  // as the dummy regression, which keeps one-row levels
    opt.keep_within = true;
    const std::vector<const double*> cols{x.data()};
    const Eigen::VectorXi fe_copy = fe;
    const ols_result r = ols_absorbed(cols, t.y.data(), n, t.w.data(), {label_column::of(fe_copy.data(), n)}, opt);
    EXPECT_NEAR(r.coef(0), ref.coef(0), 1e-10 * std::fabs(ref.coef(0)));
    EXPECT_NEAR(r.vcov(0, 0), ref.vcov(0, 0), 1e-10 * ref.vcov(0, 0));
    const double design_df = 9 - 3;
    EXPECT_DOUBLE_EQ(ref.df_inference(0), design_df - (1 + G) + 1);
    EXPECT_DOUBLE_EQ(r.df_inference(0), design_df - (1 + (fe_is_psu ? 1 : G)) + 1) << (fe_is_psu ? "PSU fixed effect" : "strata");
    // the kept within-transformed design reproduces the variance from its scores
    const Eigen::MatrixXd Xw = r.within_design();
    ASSERT_EQ(Xw.rows(), n);
    const Eigen::VectorXd u = t.w.cwiseProduct(r.residuals);
    const vcov_estimate again = sandwich_vcov(r.bread, Xw, {0}, u.data(), vcov_spec::complex_survey(d), 1 + (fe_is_psu ? 1 : G));
    EXPECT_NEAR(again.vcov(0, 0), r.vcov(0, 0), 1e-12 * r.vcov(0, 0));
  }
  // survey_rows must give one design row per data row
  ols_options bad;
  bad.probability_weights = true;
  bad.vcov = vcov_spec::complex_survey(d, std::vector<Eigen::Index>(static_cast<std::size_t>(n - 1), 0));
  const std::vector<const double*> cols{x.data()};
  const Eigen::VectorXi st = t.strata;
  EXPECT_THROW(ols_absorbed(cols, t.y.data(), n, t.w.data(), {label_column::of(st.data(), n)}, bad), invalid_input);
  bad.vcov = vcov_spec::complex_survey(d, std::vector<Eigen::Index>(static_cast<std::size_t>(n), n + 5));
  EXPECT_THROW(ols_absorbed(cols, t.y.data(), n, t.w.data(), {label_column::of(st.data(), n)}, bad), invalid_input);
  // within_design without keep_within names the option
  ols_options plain = bad;
  plain.vcov = vcov_spec::hc(1);
  EXPECT_THROW(ols_absorbed(cols, t.y.data(), n, t.w.data(), {label_column::of(st.data(), n)}, plain).within_design(), invalid_input);
}
