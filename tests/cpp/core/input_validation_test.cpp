// Every public entry point validates sizes itself (DESIGN.md §3: Eigen's asserts vanish in release
// builds) and throws impactkit::invalid_input naming the function; nothing reads past a buffer.
// These run under AddressSanitizer + UndefinedBehaviorSanitizer in CI (make test-asan), which turns
// any out-of-bounds read into a failure. Cases: mismatched lengths of y, weights, clusters, fixed
// effects and label columns; empty inputs; zero columns; label columns without data; int64 labels
// spanning more than 2^63; a least-squares solution paired with another design.
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/impactkit.hpp>

namespace {

using impactkit::label_column;
using impactkit::ols_options;
using impactkit::vcov_kind;
using impactkit::vcov_spec;

template <typename F>
void expect_invalid(F&& f, const std::string& function, const std::string& must_contain = "") {
  try {
    f();
    ADD_FAILURE() << "expected impactkit::invalid_input from " << function;
  } catch (const impactkit::invalid_input& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("impactkit::" + function), std::string::npos) << msg;
    if (!must_contain.empty()) {
      EXPECT_NE(msg.find(must_contain), std::string::npos) << msg;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected impactkit::invalid_input from " << function << ", got: " << e.what();
  }
}

struct data {
  Eigen::MatrixXd X;
  Eigen::VectorXd y, w;
  Eigen::MatrixXi fe, g;
};

data make_data(Eigen::Index n = 60) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> N;
  data d;
  d.X.resize(n, 3);
  d.y.resize(n);
  d.w.resize(n);
  d.fe.resize(n, 2);
  d.g.resize(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    d.X.row(i) << 1.0, N(rng), N(rng);
    d.y(i) = d.X(i, 1) + N(rng);
    d.w(i) = 1.0 + static_cast<double>(i % 3);
    d.fe(i, 0) = static_cast<int>(i % 6);
    d.fe(i, 1) = static_cast<int>(i % 5);
    d.g(i, 0) = static_cast<int>(i % 7);
  }
  return d;
}

// ---- ols / wls ------------------------------------------------------------------------------------

TEST(InputValidation, OlsFixedEffectsShorterOrLongerThanX) {
  // used to read past the label buffer (heap-buffer-overflow in factorize) or truncate silently
  const data d = make_data();
  for (Eigen::Index rows : {d.X.rows() - 1, d.X.rows() + 1, Eigen::Index{1}}) {
    ols_options opt;
    opt.fixed_effects = Eigen::MatrixXi::Zero(rows, 1);
    for (Eigen::Index i = 0; i < rows; ++i) opt.fixed_effects(i, 0) = static_cast<int>(i % 6);
    expect_invalid([&] { impactkit::ols(d.X.rightCols(2), d.y, opt); }, "ols", "fixed-effect labels");
    expect_invalid([&] { impactkit::wls(d.X.rightCols(2), d.y, d.w, opt); }, "wls", "fixed-effect labels");
  }
}

TEST(InputValidation, OlsLengthsAndEmptyInputs) {
  const data d = make_data();
  const Eigen::Index n = d.X.rows();
  expect_invalid([&] { impactkit::ols(d.X, d.y.head(n - 1)); }, "ols", "rows");
  expect_invalid([&] { impactkit::wls(d.X, d.y, d.w.head(n - 1)); }, "wls", "weights");
  expect_invalid([&] { impactkit::wls(d.X, d.y, Eigen::VectorXd::Ones(n + 1)); }, "wls", "weights");
  ols_options cl;
  cl.vcov = vcov_spec::cluster(d.g.topRows(n - 1));
  expect_invalid([&] { impactkit::ols(d.X, d.y, cl); }, "ols", "cluster");
  cl.vcov = vcov_spec::cluster(Eigen::MatrixXi::Zero(n + 3, 1), vcov_kind::cr2);
  expect_invalid([&] { impactkit::ols(d.X, d.y, cl); }, "ols", "cluster");
  expect_invalid([&] { impactkit::ols(Eigen::MatrixXd(0, 3), Eigen::VectorXd(0)); }, "ols");
  expect_invalid([&] { impactkit::ols(Eigen::MatrixXd(n, 0), d.y); }, "ols", "no columns");
  // cluster labels that are not needed (HC) may have any size
  ols_options hc;
  hc.vcov.clusters = Eigen::MatrixXi::Zero(3, 1);
  EXPECT_NO_THROW(impactkit::ols(d.X, d.y, hc));
}

// ---- ols_absorbed on borrowed columns ---------------------------------------------------------

TEST(InputValidation, OlsAbsorbedLabelColumns) {
  const data d = make_data();
  const Eigen::Index n = d.X.rows();
  const std::vector<const double*> x = {d.X.col(1).data(), d.X.col(2).data()};
  std::vector<std::int32_t> l(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) l[static_cast<std::size_t>(i)] = d.fe(i, 0);
  // default-constructed label column: no data (used to be dereferenced)
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column{}}); }, "absorb_fixed_effects", "fixed-effect labels");
  label_column no_data;
  no_data.size = n;
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {no_data}); }, "absorb_fixed_effects", "no data");
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column::of(static_cast<const std::int64_t*>(nullptr), n)}); },
                 "absorb_fixed_effects", "no data");
  // wrong lengths
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column::of(l.data(), n - 1)}); }, "absorb_fixed_effects", "rows");
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column::of(l.data(), n), label_column::of(l.data(), 2)}); },
                 "absorb_fixed_effects", "rows");
  // null columns, no columns, no rows, no fixed effects
  expect_invalid([&] { impactkit::ols_absorbed({d.X.col(1).data(), nullptr}, d.y.data(), n, nullptr, {label_column::of(l.data(), n)}); }, "ols",
                 "null pointer");
  expect_invalid([&] { impactkit::ols_absorbed(x, nullptr, n, nullptr, {label_column::of(l.data(), n)}); }, "ols", "null pointer");
  expect_invalid([&] { impactkit::ols_absorbed({}, d.y.data(), n, nullptr, {label_column::of(l.data(), n)}); }, "ols", "no columns");
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), 0, nullptr, {label_column::of(l.data(), 0)}); }, "ols", "no observations");
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {}); }, "absorb_fixed_effects", "no fixed-effect");
  // cluster labels of the wrong length
  ols_options opt;
  opt.vcov = vcov_spec::cluster(d.g.topRows(n - 2));
  expect_invalid([&] { impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column::of(l.data(), n)}, opt); }, "absorb_fixed_effects", "cluster");
  EXPECT_NO_THROW(impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column::of(l.data(), n)}));
}

TEST(InputValidation, Int64LabelsSpanningMoreThanTwoToThe63) {
  // labels near INT64_MIN and INT64_MAX: hi − lo overflowed a signed integer (then std::length_error)
  const data d = make_data();
  const Eigen::Index n = d.X.rows();
  const std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
  std::vector<std::int64_t> wide(static_cast<std::size_t>(n));
  std::vector<std::int32_t> small(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const int level = d.fe(i, 0);
    wide[static_cast<std::size_t>(i)] = level % 2 ? hi - level : lo + level;
    small[static_cast<std::size_t>(i)] = level;
  }
  const impactkit::group_codes g = impactkit::factorize(label_column::of(wide.data(), n));
  EXPECT_EQ(g.n_groups, 6);
  for (Eigen::Index i = 0; i < n; ++i) EXPECT_EQ(g.code[static_cast<std::size_t>(i)], d.fe(i, 0)) << i;
  // two labels only, at both ends (the lookup-table branch of factorize)
  const std::int64_t two[] = {lo, hi, lo, hi};
  const impactkit::group_codes g2 = impactkit::factorize(Eigen::Map<const Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>>(two, 4));
  EXPECT_EQ(g2.n_groups, 2);
  const std::vector<const double*> x = {d.X.col(1).data(), d.X.col(2).data()};
  const impactkit::ols_result a = impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column::of(wide.data(), n)});
  const impactkit::ols_result b = impactkit::ols_absorbed(x, d.y.data(), n, nullptr, {label_column::of(small.data(), n)});
  EXPECT_EQ(a.coef, b.coef);
  EXPECT_EQ(a.se, b.se);
}

TEST(InputValidation, GroupingHelpersCheckTheirLengths) {
  const impactkit::group_codes a = impactkit::factorize(Eigen::VectorXi::LinSpaced(10, 0, 9));
  const impactkit::group_codes b = impactkit::factorize(Eigen::VectorXi::LinSpaced(7, 0, 6));
  expect_invalid([&] { impactkit::intersect(a, b); }, "intersect");
  expect_invalid([&] { impactkit::connected_components(a, b); }, "connected_components");
  expect_invalid([&] { impactkit::nested_in(a, b); }, "nested_in");
  expect_invalid([&] { impactkit::non_singleton_rows({a, b}, 10); }, "non_singleton_rows");
  const std::vector<impactkit::group_codes> dims = {a, b};
  expect_invalid([&] { impactkit::absorbed_effects effects(dims, nullptr); }, "absorbed_effects");
  const std::vector<impactkit::group_codes> one = {a};
  const impactkit::absorbed_effects effects(one, nullptr);
  Eigen::MatrixXd wrong(9, 1);
  expect_invalid([&] { effects.demean_in_place(wrong); }, "demean");
}

// ---- least squares and its variances ----------------------------------------------------------

TEST(InputValidation, LinearModelVcovChecksItsSolutionAndResiduals) {
  const data d = make_data();
  const Eigen::Index n = d.X.rows();
  const impactkit::least_squares_solution ls = impactkit::solve_least_squares(d.X, d.y, nullptr);
  const Eigen::VectorXd e = d.y - d.X * ls.coef;
  for (vcov_kind k : {vcov_kind::hc1, vcov_kind::hc3, vcov_kind::cr1, vcov_kind::cr2, vcov_kind::cr3}) {
    vcov_spec spec;
    spec.kind = k;
    if (impactkit::is_cluster_kind(k)) spec.clusters = d.g;
    EXPECT_NO_THROW(impactkit::linear_model_vcov(d.X, ls, nullptr, e, spec));
    // residuals shorter than X
    expect_invalid([&] { impactkit::linear_model_vcov(d.X, ls, nullptr, e.head(n - 5), spec); }, "linear_model_vcov", "residuals");
    // the solution of a wider design (kept column 2 does not exist in a 2-column X)
    expect_invalid([&] { impactkit::linear_model_vcov(d.X.leftCols(2), ls, nullptr, e, spec); }, "linear_model_vcov", "column");
    // another number of rows
    expect_invalid([&] { impactkit::linear_model_vcov(d.X.topRows(n - 1), ls, nullptr, e.head(n - 1), spec); }, "linear_model_vcov", "rows");
  }
  // an empty (default) solution
  expect_invalid([&] { impactkit::linear_model_vcov(d.X, impactkit::least_squares_solution{}, nullptr, e, vcov_spec::hc(1)); }, "linear_model_vcov");
  expect_invalid([&] { impactkit::leverages(d.X.leftCols(2), ls, nullptr); }, "leverages");
  expect_invalid([&] { impactkit::bias_reduced_cluster_vcov(d.X, ls, nullptr, e.head(3), vcov_spec::cluster(d.g, vcov_kind::cr3)); },
                 "bias_reduced_cluster_vcov", "residuals");
  expect_invalid([&] { impactkit::linear_model_hc_vcov(ls, Eigen::MatrixXd::Identity(2, 2), vcov_spec::hc(1), n); }, "linear_model_hc_vcov");
  expect_invalid([&] { impactkit::solve_least_squares(d.X, d.y.head(n - 1), nullptr); }, "solve_least_squares", "rows");
  expect_invalid([&] { impactkit::solve_least_squares(Eigen::MatrixXd(n, 0), d.y, nullptr); }, "solve_least_squares", "no columns");
}

TEST(InputValidation, SandwichVcovClusterLengths) {
  const data d = make_data();
  const Eigen::MatrixXd bread = Eigen::MatrixXd::Identity(3, 3);
  const std::vector<Eigen::Index> cols = {0, 1, 2};
  expect_invalid([&] { impactkit::sandwich_vcov(bread, d.X, cols, d.y.data(), vcov_spec::cluster(d.g.topRows(10)), 3); }, "sandwich_vcov",
                 "cluster");
  expect_invalid([&] { impactkit::sandwich_vcov(bread, d.X, {0, 1}, d.y.data(), vcov_spec::hc(1), 3); }, "sandwich_vcov");
}

// Needs vcov.hpp to check that `cols` index columns of Z and that the bread is square (reported to
// the lead): until then these read out of bounds (ASan) or hit an Eigen size mismatch.
TEST(InputValidation, SandwichVcovColumnIndicesAndBreadShape) {
  const data d = make_data();
  const std::vector<Eigen::Index> cols = {0, 1, 7};
  expect_invalid([&] { impactkit::sandwich_vcov(Eigen::MatrixXd::Identity(3, 3), d.X, cols, d.y.data(), vcov_spec::hc(1), 3); }, "sandwich_vcov",
                 "column");
  expect_invalid([&] { impactkit::sandwich_vcov(Eigen::MatrixXd::Identity(3, 3), d.X, {0, -1, 2}, d.y.data(), vcov_spec::cluster(d.g), 3); },
                 "sandwich_vcov", "column");
  expect_invalid([&] { impactkit::sandwich_vcov(Eigen::MatrixXd::Identity(3, 2), d.X, {0, 1, 2}, d.y.data(), vcov_spec::hc(1), 3); },
                 "sandwich_vcov", "bread");
}

// ---- 2SLS and GLMs (files owned elsewhere: these document what they already check) ------------

TEST(InputValidation, Iv2slsLengths) {
  const data d = make_data();
  const Eigen::Index n = d.X.rows();
  const Eigen::MatrixXd X = d.X.leftCols(1), D = d.X.col(1), Z = d.X.col(2);
  expect_invalid([&] { impactkit::iv_2sls(X.topRows(n - 1), D, Z, d.y); }, "iv_2sls", "rows");
  expect_invalid([&] { impactkit::iv_2sls(X, D.topRows(n - 1), Z, d.y); }, "iv_2sls", "rows");
  expect_invalid([&] { impactkit::iv_2sls(X, D, Eigen::MatrixXd::Ones(n + 1, 1), d.y); }, "iv_2sls", "rows");
  expect_invalid([&] { impactkit::iv_2sls(X, D, Z, d.y, d.w.head(n - 1)); }, "iv_2sls", "weights");
  expect_invalid([&] { impactkit::iv_2sls(X, Eigen::MatrixXd(n, 0), Z, d.y); }, "iv_2sls", "endogenous");
  expect_invalid([&] { impactkit::iv_2sls(Eigen::MatrixXd(0, 1), Eigen::MatrixXd(0, 1), Eigen::MatrixXd(0, 1), Eigen::VectorXd(0)); }, "iv_2sls");
  impactkit::iv_options opt;
  opt.vcov = vcov_spec::cluster(d.g.topRows(n - 1));
  expect_invalid([&] { impactkit::iv_2sls(X, D, Z, d.y, opt); }, "iv_2sls", "cluster");
  impactkit::iv_options fe;
  fe.fixed_effects = d.fe.topRows(n - 1);
  expect_invalid([&] { impactkit::iv_2sls(Eigen::MatrixXd(n, 0), D, Z, d.y, fe); }, "absorb_fixed_effects", "rows");
  fe.fixed_effects = Eigen::MatrixXi::Zero(n + 4, 1);
  expect_invalid([&] { impactkit::iv_2sls(Eigen::MatrixXd(n, 0), D, Z, d.y, fe); }, "absorb_fixed_effects", "rows");
}

TEST(InputValidation, GlmLengths) {
  const data d = make_data();
  const Eigen::Index n = d.X.rows();
  const Eigen::VectorXd yb = (d.y.array() > 0).cast<double>();
  for (impactkit::glm_family f : {impactkit::glm_family::logit, impactkit::glm_family::probit, impactkit::glm_family::poisson}) {
    expect_invalid([&] { impactkit::glm(d.X, yb.head(n - 1), f); }, "glm", "rows");
    expect_invalid([&] { impactkit::glm(Eigen::MatrixXd(0, 2), Eigen::VectorXd(0), f); }, "glm");
    expect_invalid([&] { impactkit::glm(Eigen::MatrixXd(n, 0), yb, f); }, "glm", "no columns");
    impactkit::glm_options w;
    w.weights = d.w.head(n - 1);
    expect_invalid([&] { impactkit::glm(d.X, yb, f, w); }, "glm", "weights");
    impactkit::glm_options c;
    c.vcov = vcov_spec::cluster(d.g.topRows(n - 2));
    expect_invalid([&] { impactkit::glm(d.X, yb, f, c); }, "glm", "cluster");
    impactkit::glm_options fe;
    fe.fixed_effects = d.fe.topRows(n - 1);
    expect_invalid([&] { impactkit::glm(d.X.rightCols(2), yb, f, fe); }, "glm", "fixed-effect");
  }
  impactkit::glm_options off;
  off.offset = Eigen::VectorXd::Zero(n + 1);
  expect_invalid([&] { impactkit::glm(d.X, (d.y.array() > 0).cast<double>().matrix(), impactkit::glm_family::poisson, off); }, "glm", "offset");
}

}  // namespace
