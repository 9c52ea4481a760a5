// Absorbed fixed effects: the row-order machinery (row_permutation, singleton removal, group
// ordering) checked against direct implementations, and ols_absorbed on borrowed int64 labels
// against ols on a label matrix. The numbers themselves are checked against pyfixest in
// tests/python/test_fixed_effects*.py.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/detail/gather.hpp>
#include <impactkit/impactkit.hpp>

namespace {

using impactkit::group_codes;
using impactkit::label_column;
using impactkit::ols_options;
using impactkit::ols_result;

TEST(RowPermutation, ScatterAndGatherMatchDirectLoops) {
  std::mt19937_64 rng(7);
  for (Eigen::Index m : {1, 2, 5, 32767, 32768, 32769, 100003, 300007}) {
    std::vector<std::int32_t> dest(static_cast<std::size_t>(m));
    std::iota(dest.begin(), dest.end(), 0);
    std::shuffle(dest.begin(), dest.end(), rng);
    const impactkit::detail::row_permutation perm(dest);
    // scatter of all rows, and of a subset of rows (every other input row)
    std::vector<double> x(static_cast<std::size_t>(2 * m));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i) * 0.5 - 3.0;
    std::vector<Eigen::Index> rows(static_cast<std::size_t>(m));
    for (Eigen::Index t = 0; t < m; ++t) rows[static_cast<std::size_t>(t)] = 2 * t + 1;
    std::vector<double> y(static_cast<std::size_t>(m)), y_rows(static_cast<std::size_t>(m)), back(static_cast<std::size_t>(m)), tmp;
    perm.scatter(x.data(), nullptr, y.data());
    perm.scatter(x.data(), rows.data(), y_rows.data());
    for (Eigen::Index t = 0; t < m; ++t) {
      const std::size_t d = static_cast<std::size_t>(dest[static_cast<std::size_t>(t)]);
      ASSERT_EQ(y[d], x[static_cast<std::size_t>(t)]);
      ASSERT_EQ(y_rows[d], x[static_cast<std::size_t>(2 * t + 1)]);
    }
    perm.gather(y.data(), back.data(), tmp);
    for (Eigen::Index t = 0; t < m; ++t) ASSERT_EQ(back[static_cast<std::size_t>(t)], x[static_cast<std::size_t>(t)]);
    perm.gather(y.data(), y.data(), tmp);  // in place
    for (Eigen::Index t = 0; t < m; ++t) ASSERT_EQ(y[static_cast<std::size_t>(t)], x[static_cast<std::size_t>(t)]);
    // built from a running counter (destinations produced in row order) instead of a vector
    std::size_t calls = 0;
    const impactkit::detail::row_permutation counted(m, [&](Eigen::Index t) {
      EXPECT_EQ(static_cast<std::size_t>(t), calls++);
      return dest[static_cast<std::size_t>(t)];
    });
    std::vector<double> z(static_cast<std::size_t>(m));
    counted.scatter(x.data(), nullptr, z.data());
    perm.scatter(x.data(), nullptr, y.data());
    ASSERT_EQ(z, y);
  }
}

// The textbook fixed point: sweep every dimension, drop rows alone in their group, until stable.
std::vector<char> singletons_by_sweeps(const std::vector<group_codes>& dims, Eigen::Index n) {
  std::vector<char> keep(static_cast<std::size_t>(n), 1);
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& d : dims) {
      std::vector<int> count(static_cast<std::size_t>(d.n_groups), 0);
      for (Eigen::Index i = 0; i < n; ++i)
        if (keep[static_cast<std::size_t>(i)]) ++count[static_cast<std::size_t>(d.code[static_cast<std::size_t>(i)])];
      for (Eigen::Index i = 0; i < n; ++i)
        if (keep[static_cast<std::size_t>(i)] && count[static_cast<std::size_t>(d.code[static_cast<std::size_t>(i)])] == 1) {
          keep[static_cast<std::size_t>(i)] = 0;
          changed = true;
        }
    }
  }
  return keep;
}

TEST(Singletons, CascadingRemovalMatchesRepeatedSweeps) {
  std::mt19937_64 rng(11);
  for (int rep = 0; rep < 20; ++rep) {
    const Eigen::Index n = 50 + rep * 37;
    // many small groups so that removals cascade across dimensions
    std::uniform_int_distribution<int> a(0, static_cast<int>(n / 2)), b(0, static_cast<int>(n / 3)), c(0, 3);
    Eigen::MatrixXi labels(n, 3);
    for (Eigen::Index i = 0; i < n; ++i) labels.row(i) << a(rng), b(rng), c(rng);
    std::vector<group_codes> dims;
    for (int d = 0; d < 3; ++d) dims.push_back(impactkit::factorize(labels.col(d)));
    EXPECT_EQ(impactkit::non_singleton_rows(dims, n), singletons_by_sweeps(dims, n)) << "n = " << n;
  }
}

struct panel {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  Eigen::MatrixXi fe;
};

panel make_panel(Eigen::Index n, int g1, int g2, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> u1(0, g1 - 1), u2(0, g2 - 1);
  panel p;
  p.X.resize(n, 2);
  p.y.resize(n);
  p.fe.resize(n, 2);
  Eigen::VectorXd a(g1), b(g2);
  for (int g = 0; g < g1; ++g) a(g) = normal(rng);
  for (int g = 0; g < g2; ++g) b(g) = normal(rng);
  for (Eigen::Index i = 0; i < n; ++i) {
    p.fe(i, 0) = 1000 + 3 * u1(rng);
    p.fe(i, 1) = u2(rng);
    p.X(i, 0) = normal(rng) + 0.3 * a(p.fe(i, 0) % g1);
    p.X(i, 1) = normal(rng);
    p.y(i) = 0.7 * p.X(i, 0) - 0.2 * p.X(i, 1) + a((p.fe(i, 0) - 1000) / 3) + b(p.fe(i, 1)) + normal(rng);
  }
  return p;
}

void expect_same_fit(const ols_result& a, const ols_result& b, double tol) {
  ASSERT_EQ(a.coef.size(), b.coef.size());
  EXPECT_LE((a.coef - b.coef).cwiseAbs().maxCoeff(), tol * a.coef.cwiseAbs().maxCoeff());
  EXPECT_LE((a.se - b.se).cwiseAbs().maxCoeff(), tol * a.se.cwiseAbs().maxCoeff());
  ASSERT_EQ(a.residuals.size(), b.residuals.size());
  EXPECT_LE((a.residuals - b.residuals).cwiseAbs().maxCoeff(), tol * a.residuals.cwiseAbs().maxCoeff());
  EXPECT_EQ(a.used_rows, b.used_rows);
  EXPECT_EQ(a.n_singletons, b.n_singletons);
  EXPECT_EQ(a.fe_sizes, b.fe_sizes);
  EXPECT_EQ(a.k_fe, b.k_fe);
  ASSERT_EQ(a.fixef.size(), b.fixef.size());
  for (std::size_t d = 0; d < a.fixef.size(); ++d) {
    EXPECT_EQ(a.fixef_labels[d], b.fixef_labels[d]);
    EXPECT_LE((a.fixef[d] - b.fixef[d]).cwiseAbs().maxCoeff(), 1e-6);  // projection tolerance
  }
}

TEST(AbsorbedRowOrder, GroupOrderGivesTheInputOrderFit) {
  // with singletons (some rows dropped) and without, weighted and not, iid / HC1 / CR1
  for (Eigen::Index n : {400, 3000}) {
    const panel p = make_panel(n, static_cast<int>(n / 4), 7, 99 + static_cast<std::uint64_t>(n));
    Eigen::VectorXd w = Eigen::VectorXd::LinSpaced(n, 0.5, 2.0);
    for (int kind = 0; kind < 3; ++kind) {
      ols_options opt;
      opt.fixed_effects = p.fe;
      opt.vcov = kind == 0 ? impactkit::vcov_spec::iid() : kind == 1 ? impactkit::vcov_spec::hc(1)
                                                                      : impactkit::vcov_spec::cluster(p.fe.col(0));
      ols_options in_order = opt;
      in_order.absorb.group_order = false;
      expect_same_fit(impactkit::ols(p.X, p.y, opt), impactkit::ols(p.X, p.y, in_order), 1e-9);
      expect_same_fit(impactkit::wls(p.X, p.y, w, opt), impactkit::wls(p.X, p.y, w, in_order), 1e-9);
    }
  }
}

TEST(AbsorbedRowOrder, BorrowedInt64LabelsMatchLabelMatrix) {
  const Eigen::Index n = 2000;
  const panel p = make_panel(n, 300, 5, 5);
  std::vector<std::int64_t> l0(static_cast<std::size_t>(n)), l1(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    l0[static_cast<std::size_t>(i)] = p.fe(i, 0);
    l1[static_cast<std::size_t>(i)] = p.fe(i, 1);
  }
  ols_options opt;
  opt.fixed_effects = p.fe;
  opt.vcov = impactkit::vcov_spec::cluster(p.fe.col(0));
  const ols_result a = impactkit::ols(p.X, p.y, opt);
  ols_options borrowed = opt;
  borrowed.fixed_effects.resize(0, 0);
  const ols_result b = impactkit::ols_absorbed({p.X.col(0).data(), p.X.col(1).data()}, p.y.data(), n, nullptr,
                                               {label_column::of(l0.data(), n), label_column::of(l1.data(), n)}, borrowed);
  EXPECT_EQ(a.coef, b.coef);
  EXPECT_EQ(a.se, b.se);
  EXPECT_EQ(a.residuals, b.residuals);
  EXPECT_EQ(a.fixef_labels[0], b.fixef_labels[0]);
}

TEST(AbsorbedRowOrder, ClusteringOnAFixedEffectEqualsRelabelledClusters) {
  // cluster labels identical to a fixed effect take the shortcut through the level codes; a
  // relabelled copy (same grouping) goes through the general path: same variance
  const panel p = make_panel(3000, 400, 9, 21);
  ols_options opt;
  opt.fixed_effects = p.fe;
  opt.vcov = impactkit::vcov_spec::cluster(p.fe.col(0));
  ols_options relabelled = opt;
  relabelled.vcov = impactkit::vcov_spec::cluster((p.fe.col(0).array() * 7 + 5).matrix());
  const ols_result a = impactkit::ols(p.X, p.y, opt), b = impactkit::ols(p.X, p.y, relabelled);
  EXPECT_LE((a.se - b.se).cwiseAbs().maxCoeff(), 1e-14 * a.se.maxCoeff());
  EXPECT_EQ(a.k_fe, b.k_fe);
  EXPECT_EQ(a.n_clusters, b.n_clusters);
  // the same through absorb_options::cluster_fixed_effects (by index: nothing n-long passed), one- and two-way
  ols_options by_index = opt;
  by_index.vcov = impactkit::vcov_spec::cluster_on_fixed_effects();
  by_index.absorb.cluster_fixed_effects = {0};
  const ols_result c = impactkit::ols(p.X, p.y, by_index);
  EXPECT_EQ(a.se, c.se);
  EXPECT_EQ(a.n_clusters, c.n_clusters);
  ols_options two = opt;
  two.vcov = impactkit::vcov_spec::cluster(p.fe);
  by_index.absorb.cluster_fixed_effects = {0, 1};
  const ols_result d = impactkit::ols(p.X, p.y, two), e = impactkit::ols(p.X, p.y, by_index);
  EXPECT_EQ(d.se, e.se);
  EXPECT_EQ(d.n_clusters, e.n_clusters);
  // errors: a dimension that does not exist; no absorbed fixed effects
  by_index.absorb.cluster_fixed_effects = {2};
  EXPECT_THROW(impactkit::ols(p.X, p.y, by_index), impactkit::invalid_input);
  by_index.fixed_effects.resize(0, 0);
  by_index.absorb.cluster_fixed_effects = {0};
  EXPECT_THROW(impactkit::ols(p.X, p.y, by_index), impactkit::invalid_input);
}

TEST(AbsorbedRowOrder, IdenticalForOneAndTwoThreads) {
  const panel p = make_panel(200000, 20000, 12, 3);
  ols_options opt;
  opt.fixed_effects = p.fe;
  opt.vcov = impactkit::vcov_spec::cluster(p.fe.col(0));
  impactkit::set_num_threads(1);
  const ols_result a = impactkit::ols(p.X, p.y, opt);
  impactkit::set_num_threads(2);
  const ols_result b = impactkit::ols(p.X, p.y, opt);
  impactkit::set_num_threads(0);
  EXPECT_EQ(a.coef, b.coef);
  EXPECT_EQ(a.se, b.se);
  EXPECT_EQ(a.residuals, b.residuals);
}

// Absorption without a variance, then within_variance, equals absorption with the spec: the same
// within data and rows, cluster labels on the within rows with the same partition, and the same
// absorbed counts (a fixed effect nested in the clusters counts one level for CR under nonnested).
TEST(AbsorbFixedEffects, VarianceStepApartEqualsSpecInOneCall) {
  std::mt19937_64 rng(21);
  std::normal_distribution<double> N(0.0, 1.0);
  const Eigen::Index n = 3000;
  std::vector<double> x(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(n));
  std::vector<std::int32_t> hh(static_cast<std::size_t>(n)), yr(static_cast<std::size_t>(n));
  Eigen::MatrixXi village(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int v = static_cast<int>(rng() % 60);
    village(i, 0) = v;
    hh[static_cast<std::size_t>(i)] = v * 4 + static_cast<int>(rng() % 4);  // households nested in villages
    yr[static_cast<std::size_t>(i)] = static_cast<int>(rng() % 5);
    x[static_cast<std::size_t>(i)] = N(rng);
    y[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)] + 0.1 * v + N(rng);
  }
  hh[0] = 100000;  // a singleton
  const std::vector<label_column> fe = {label_column::of(hh.data(), n), label_column::of(yr.data(), n)};
  const std::vector<const double*> cols = {x.data(), y.data()};
  for (const impactkit::vcov_spec& spec : {impactkit::vcov_spec::hc(1), impactkit::vcov_spec::cluster(village)}) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    const impactkit::within_transformed one = impactkit::absorb_fixed_effects(cols, n, nullptr, fe, spec);  // the old form
#pragma GCC diagnostic pop
    const impactkit::within_transformed bare = impactkit::absorb_fixed_effects(cols, n, nullptr, fe, impactkit::absorb_options{});
    impactkit::vcov_spec moved;
    impactkit::absorbed_dof dof;
    impactkit::within_variance(bare, &fe, spec, "test", moved, dof);
    EXPECT_EQ(one.columns.values, bare.columns.values);
    EXPECT_EQ(one.rows, bare.rows);
    EXPECT_EQ(dof.k_fe, one.dof.k_fe);
    EXPECT_EQ(dof.k_fe_cluster, one.dof.k_fe_cluster);
    EXPECT_EQ(moved.clusters, one.vcov.clusters);
    impactkit::vcov_spec from_labels;  // without the label columns: gathered labels, the same partition
    impactkit::absorbed_dof dof2;
    impactkit::within_variance(bare, nullptr, spec, "test", from_labels, dof2);
    EXPECT_EQ(dof2.k_fe_cluster, one.dof.k_fe_cluster);
    if (spec.kind == impactkit::vcov_kind::cr1) {
      EXPECT_LT(one.dof.k_fe_cluster, one.dof.k_fe);
      const auto a = impactkit::factorize(from_labels.clusters.col(0)), b = impactkit::factorize(one.vcov.clusters.col(0));
      EXPECT_EQ(a.code, b.code);
    }
  }
}

// ols_with_vcov on a fit that kept its within data equals a fresh fit with the new variance
// (rel 1e-12: the same scores summed in the same row order) for HC0, CR1 on labels of the used rows
// (a dimension nested in them counts one level), two-way CR0 and CR1 on a fixed effect by index
// (absorb_options::cluster_fixed_effects);
// weighted; HC3 (leverages) and a fit without keep_within are refused.
TEST(AbsorbFixedEffects, WithVcovEqualsFreshFit) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> N(0.0, 1.0);
  const Eigen::Index n = 4000;
  std::vector<double> x1(n), x2(n), y(n), w(n);
  std::vector<std::int32_t> hh(n), yr(n), village(n), region(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int v = static_cast<int>(rng() % 80);
    village[i] = v;
    region[i] = v / 10;
    hh[i] = v * 5 + static_cast<int>(rng() % 5);
    yr[i] = static_cast<int>(rng() % 6);
    x1[i] = N(rng) + 0.05 * v;
    x2[i] = N(rng) + yr[i];
    w[i] = 0.5 + (rng() % 100) / 50.0;
    y[i] = 0.5 * x1[i] - 0.3 * x2[i] + 0.02 * v + N(rng) * (1 + std::fabs(x1[i]));
  }
  hh[7] = 900000;  // a singleton: the used rows are not all rows
  const std::vector<label_column> fe = {label_column::of(hh.data(), n), label_column::of(yr.data(), n)};
  const std::vector<const double*> cols = {x1.data(), x2.data()};
  for (const double* wp : {static_cast<const double*>(nullptr), static_cast<const double*>(w.data())}) {
    ols_options opt;
    opt.keep_within = true;
    opt.absorb.cluster_fixed_effects = {1};  // a cluster kind without labels clusters on yr
    const ols_result fit = impactkit::ols_absorbed(cols, y.data(), n, wp, fe, opt);
    ASSERT_LT(fit.nobs, n);  // singletons dropped
    auto on_used = [&](const std::vector<std::int32_t>& v) {  // labels on the used rows, in input order
      std::vector<int> out;
      for (Eigen::Index t = 0; t < fit.nobs; ++t) out.push_back(v[static_cast<std::size_t>(fit.used_rows[static_cast<std::size_t>(t)])]);
      return out;
    };
    const std::vector<int> vil = on_used(village), reg = on_used(region), year = on_used(yr);
    Eigen::MatrixXi vil_used = Eigen::Map<const Eigen::VectorXi>(vil.data(), fit.nobs), two(fit.nobs, 2);
    two.col(0) = Eigen::Map<const Eigen::VectorXi>(reg.data(), fit.nobs);
    two.col(1) = Eigen::Map<const Eigen::VectorXi>(year.data(), fit.nobs);
    Eigen::MatrixXi vil_all = Eigen::Map<const Eigen::VectorXi>(village.data(), n), two_all(n, 2);
    two_all.col(0) = Eigen::Map<const Eigen::VectorXi>(region.data(), n);
    two_all.col(1) = Eigen::Map<const Eigen::VectorXi>(yr.data(), n);
    const std::vector<std::pair<impactkit::vcov_spec, impactkit::vcov_spec>> cases = {
        {impactkit::vcov_spec::hc(0), impactkit::vcov_spec::hc(0)},
        {impactkit::vcov_spec::cluster(vil_used), impactkit::vcov_spec::cluster(vil_all)},
        {impactkit::vcov_spec::cluster(two, impactkit::vcov_kind::cr0), impactkit::vcov_spec::cluster(two_all, impactkit::vcov_kind::cr0)},
        {impactkit::vcov_spec::cluster_on_fixed_effects(), impactkit::vcov_spec::cluster_on_fixed_effects()}};
    for (const auto& [used_spec, fresh_spec] : cases) {
      const ols_result fast = impactkit::ols_with_vcov(fit, used_spec);
      ols_options fresh_opt;
      fresh_opt.vcov = fresh_spec;
      fresh_opt.absorb.cluster_fixed_effects = opt.absorb.cluster_fixed_effects;
      const ols_result fresh = impactkit::ols_absorbed(cols, y.data(), n, wp, fe, fresh_opt);
      ASSERT_EQ(fast.vcov.rows(), fresh.vcov.rows());
      for (Eigen::Index a = 0; a < fresh.vcov.size(); ++a)
        EXPECT_NEAR(fast.vcov(a), fresh.vcov(a), 1e-12 * fresh.vcov.cwiseAbs().maxCoeff());
      EXPECT_EQ(fast.df_inference, fresh.df_inference);
      EXPECT_EQ(fast.vcov_convention, fresh.vcov_convention);
      EXPECT_EQ(fast.n_clusters, fresh.n_clusters);
      EXPECT_EQ(fast.coef, fit.coef);
    }
    EXPECT_THROW(impactkit::ols_with_vcov(fit, impactkit::vcov_spec::hc(3)), impactkit::invalid_input);
    EXPECT_THROW(impactkit::ols_with_vcov(fit, impactkit::vcov_spec::cluster(vil_all)), impactkit::invalid_input);  // not the used rows
  }
  const ols_result plain = impactkit::ols_absorbed(cols, y.data(), n, nullptr, fe, ols_options{});
  EXPECT_THROW(impactkit::ols_with_vcov(plain, impactkit::vcov_spec::hc(1)), impactkit::invalid_input);
}

}  // namespace
