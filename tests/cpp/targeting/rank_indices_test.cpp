// Lorenz ordinates, quantile shares, QSR, Sen, concentration and Kakwani indices from C++ (the entry points
// the sanitizer build exercises): worked examples with known answers (Haughton & Khandker 2009: Sen 0.09
// on incomes 100, 110, 150, 160 with line 125; cumulative shares of the ten-income example), the
// Kakwani, Wagstaff & van Doorslaer (1997, eq. 14) iid variance of the concentration index (a simple
// random sample's design variance is n/(n − 1) times it), and identities between the indices.
// Python tests compare the same functions with R on eusilc (tests/python/test_rank_indices.py).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/targeting/concentration.hpp>
#include <impactkit/targeting/inequality.hpp>
#include <impactkit/targeting/lorenz.hpp>
#include <impactkit/targeting/poverty.hpp>
#include <impactkit/targeting/welfare_index.hpp>
#include <impactkit/targeting/welfare_line.hpp>
#include <impactkit/core/threads.hpp>

#include <impactkit/targeting/rank_totals.hpp>

#include "../../../src/targeting/welfare_index_detail.hpp"  // private to impactkit_core
#include "row_unit_designs.hpp"

using namespace impactkit;

namespace {

survey_design simple_random_sample(Eigen::Index n) {
  survey_spec spec;
  spec.weights = Eigen::VectorXd::Ones(n);
  return survey_design(spec);
}

welfare_rows rows_of(const Eigen::VectorXd& y, const int* domain = nullptr, int n_domains = 1) {
  welfare_rows r;
  r.n = y.size();
  r.welfare = y.data();
  r.domain = domain;
  r.n_domains = n_domains;
  return r;
}

}  // namespace

TEST(RankIndices, SenIndexWorkedExample) {
  const Eigen::Vector4d y(100, 110, 150, 160);
  const welfare_index_result s = sen_index(rows_of(y), welfare_line::fixed(125), simple_random_sample(4));
  EXPECT_NEAR(s.estimate(0), 0.09, 1e-15);  // H = 0.5, I = 0.16, G_p = 1/42
  EXPECT_TRUE(std::isfinite(s.vcov(0, 0)) && s.vcov(0, 0) > 0);
  EXPECT_THROW(sen_index(rows_of(y), welfare_line::fixed(0), simple_random_sample(4)), invalid_input);
}

// An estimated line changes only the variance: the index equals the one at the resolved fixed line, and the
// line's influence (∂S/∂z · IF(z), poverty.cpp) adds to the SE; result.line and .bandwidth report the line.
TEST(RankIndices, SenIndexWithEstimatedLine) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(3.0, 0.6);
  Eigen::VectorXd y(2000);
  for (Eigen::Index i = 0; i < y.size(); ++i) y(i) = dist(rng);
  const survey_design srs = simple_random_sample(y.size());
  const welfare_index_result rel = sen_index(rows_of(y), welfare_line::relative(0.6), srs);
  ASSERT_TRUE(std::isfinite(rel.line) && rel.line > 0 && rel.bandwidth > 0);
  const welfare_index_result fixed = sen_index(rows_of(y), welfare_line::fixed(rel.line), srs);
  EXPECT_DOUBLE_EQ(rel.estimate(0), fixed.estimate(0));
  EXPECT_TRUE(std::isfinite(rel.vcov(0, 0)) && rel.vcov(0, 0) > 0);
  EXPECT_GT(std::fabs(rel.vcov(0, 0) / fixed.vcov(0, 0) - 1), 1e-3);
  EXPECT_TRUE(std::isfinite(rel.line_variance) && rel.line_variance > 0);
  const Eigen::VectorXd flat = Eigen::VectorXd::Constant(10, 5.0);  // no density to linearise
  EXPECT_THROW(sen_index(rows_of(flat), welfare_line::relative(0.6), simple_random_sample(10)), invalid_input);
}

TEST(RankIndices, LorenzOrdinatesAreCumulativeShares) {
  Eigen::VectorXd y(10);
  y << 10, 15, 20, 25, 40, 20, 30, 35, 45, 90;
  std::vector<double> p;
  for (int k = 1; k <= 10; ++k) p.push_back(k / 10.0);
  const welfare_index_result L = lorenz_ordinates(rows_of(y), p, false, simple_random_sample(10));
  std::vector<double> s(y.data(), y.data() + 10);
  std::sort(s.begin(), s.end());
  const double total = std::accumulate(s.begin(), s.end(), 0.0);
  double cum = 0;
  for (int k = 0; k < 10; ++k) {
    cum += s[static_cast<std::size_t>(k)];
    EXPECT_NEAR(L.estimate(k), cum / total, 1e-15) << k;
  }
  EXPECT_NEAR(L.vcov(9, 9), 0.0, 1e-30);  // L(1) = 1 always
  const welfare_index_result Q = quantile_shares(rows_of(y), {0.5}, simple_random_sample(10));
  EXPECT_NEAR(Q.estimate(0) + Q.estimate(1), 1.0, 1e-15);
  EXPECT_NEAR(Q.estimate(0), L.estimate(4), 1e-15);
  EXPECT_NEAR(Q.vcov(0, 0), L.vcov(4, 4), 1e-18);
  EXPECT_NEAR(Q.vcov(0, 1), -L.vcov(4, 4), 1e-18);
  // S80/S20 on ten distinct values: the top two over the bottom two
  const welfare_index_result R = quintile_share_ratio(rows_of(y), 0.2, 0.8, simple_random_sample(10));
  EXPECT_NEAR(R.estimate(0), (45.0 + 90.0) / (10.0 + 15.0), 1e-14);
}

TEST(RankIndices, ConcentrationVarianceIsKakwaniWagstaffVanDoorslaer) {
  const Eigen::Index n = 400;
  std::mt19937_64 gen(7);
  std::lognormal_distribution<double> income(8.0, 0.8);
  std::poisson_distribution<int> visits(3.0);
  Eigen::VectorXd y(n), h(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    y(i) = income(gen);
    h(i) = visits(gen) + (y(i) < 3000 ? 2 : 0);
  }
  const welfare_index_result c = concentration_index(rows_of(y), h.data(), concentration_kind::standard, NAN, NAN, simple_random_sample(n));
  std::vector<Eigen::Index> o(static_cast<std::size_t>(n));
  std::iota(o.begin(), o.end(), 0);
  std::sort(o.begin(), o.end(), [&](Eigen::Index a, Eigen::Index b) { return y(a) < y(b); });
  const double mu = h.mean(), total = h.sum();
  double C = 0;
  for (Eigen::Index k = 0; k < n; ++k) C += h(o[static_cast<std::size_t>(k)]) * (k + 0.5) / n;
  C = 2 * C / (n * mu) - 1;
  double sum_a2 = 0, q_prev = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    const double hk = h(o[static_cast<std::size_t>(k)]), q = q_prev + hk / total;
    const double a = hk / mu * (2 * (k + 0.5) / n - 1 - C) + 2 - q_prev - q;
    sum_a2 += a * a;
    q_prev = q;
  }
  const double var_kwvd = (sum_a2 / n - (1 + C) * (1 + C)) / n;
  EXPECT_NEAR(c.estimate(0), C, 1e-13);
  EXPECT_NEAR(c.vcov(0, 0), var_kwvd * n / (n - 1), 1e-10 * var_kwvd);
  // the concentration index of income ranked by income is the Gini; Kakwani of a proportional tax is 0
  const welfare_index_result g = gini(rows_of(y), simple_random_sample(n));
  const welfare_index_result cy = concentration_index(rows_of(y), y.data(), concentration_kind::standard, NAN, NAN, simple_random_sample(n));
  EXPECT_NEAR(cy.estimate(0), g.estimate(0), 1e-14);
  EXPECT_NEAR(cy.vcov(0, 0), g.vcov(0, 0), 1e-14 * g.vcov(0, 0));
  const Eigen::VectorXd tax = 0.2 * y;
  const welfare_index_result k = kakwani_index(rows_of(y), tax.data(), simple_random_sample(n));
  EXPECT_NEAR(k.estimate(0), 0.0, 1e-14);
  EXPECT_NEAR(k.vcov(0, 0), 0.0, 1e-20);
}

TEST(RankIndices, DomainsAndBadInput) {
  Eigen::VectorXd y(6), h(6);
  y << 1, 2, 3, 4, 5, 6;
  h << 0, 1, 0, 2, 0, 7;
  const int dom[6] = {0, 0, 0, 1, 1, -1};
  const welfare_index_result c = concentration_index(rows_of(y, dom, 3), h.data(), concentration_kind::standard, NAN, NAN, simple_random_sample(6));
  EXPECT_TRUE(std::isfinite(c.estimate(0)) && std::isfinite(c.estimate(1)));
  EXPECT_TRUE(std::isnan(c.estimate(2)));  // an empty domain is undefined
  EXPECT_THROW(concentration_index(rows_of(y), h.data(), concentration_kind::erreygers, 0, 1, simple_random_sample(6)), invalid_input);
  EXPECT_THROW(concentration_index(rows_of(y), nullptr, concentration_kind::standard, NAN, NAN, simple_random_sample(6)), invalid_input);
  EXPECT_THROW(lorenz_ordinates(rows_of(y), {0.5, 0.2}, false, simple_random_sample(6)), invalid_input);
  EXPECT_THROW(quintile_share_ratio(rows_of(y), 0.8, 0.2, simple_random_sample(6)), invalid_input);
  EXPECT_THROW(lorenz_ordinates(rows_of(y), {0.5}, false, simple_random_sample(5)), invalid_input);
  Eigen::VectorXd bad = y;
  bad(2) = NAN;
  EXPECT_THROW(gini(rows_of(bad), simple_random_sample(6), gini_convention::convey), invalid_input);
  EXPECT_THROW(kakwani_index(rows_of(y), bad.data(), simple_random_sample(6)), invalid_input);
}

TEST(RankIndices, ReplicateDesignReestimatesTheIndex) {
  // JK1 with one row per PSU: replicate k drops row k and scales the others by n/(n − 1); the variance is
  // (n − 1)/n Σ (θ_k − θ̄)² (R svrepdesign type "JK1", scale (n − 1)/n, mse = FALSE)
  const Eigen::Index n = 12;
  Eigen::VectorXd y(n);
  y << 3, 8, 1, 9, 4, 4, 12, 7, 2, 6, 15, 5;
  Eigen::MatrixXd W = Eigen::MatrixXd::Constant(n, n, static_cast<double>(n) / (n - 1));
  for (Eigen::Index k = 0; k < n; ++k) W(k, k) = 0;
  welfare_index_spec spec;
  spec.kind = welfare_index_kind::gini;
  replicate_spec rs;
  rs.method = replicate_method::jk1;
  const welfare_index_result r = welfare_index(rows_of(y), spec, W, rs);
  Eigen::VectorXd theta(n);
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::VectorXd wk = W.col(k);
    welfare_rows rk = rows_of(y);
    rk.weights = wk.data();
    theta(k) = gini(rk, simple_random_sample(n)).estimate(0);
  }
  const double var = (n - 1.0) / n * (theta.array() - theta.mean()).square().sum();
  EXPECT_NEAR(r.estimate(0), gini(rows_of(y), simple_random_sample(n)).estimate(0), 1e-15);
  EXPECT_NEAR(r.vcov(0, 0), var, 1e-14 * var);
}

TEST(RankIndices, LargeInputQuantilesEqualTheSortedRule) {
  // from 2^18 rows weighted_quantiles uses sample brackets and one pass; it must equal the sorted rule
  const Eigen::Index n = 300000;
  std::mt19937_64 gen(3);
  std::uniform_int_distribution<int> level(0, 40);
  std::uniform_real_distribution<double> weight(0.5, 2.0);
  Eigen::VectorXd y(n), w(n);
  for (Eigen::Index i = 0; i < n; ++i) y(i) = level(gen), w(i) = weight(gen);
  const std::vector<double> p = {0.1, 0.25, 0.5, 0.9};
  const std::vector<double> q = weighted_quantiles(n, y.data(), w.data(), nullptr, p);
  std::vector<Eigen::Index> o(static_cast<std::size_t>(n));
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(), [&](Eigen::Index a, Eigen::Index b) { return y(a) < y(b); });
  const long double total = w.cast<long double>().sum();
  for (std::size_t k = 0; k < p.size(); ++k) {
    long double cum = 0;
    double want = NAN;
    for (Eigen::Index i : o) {
      cum += w(i);
      if (static_cast<double>(cum / total) >= p[k]) {
        want = y(i);
        break;
      }
    }
    EXPECT_EQ(q[k], want) << p[k];
  }
}

TEST(RankIndices, WelfareOrderIsTheStableOrderForAnyThreadCount) {
  // the rank indices walk the rows in welfare_order: the rows in a domain sorted by welfare, equal values
  // (−0 and +0 among them) in row order. It sorts (value, row) pairs in two halves and merges them; the
  // order must be std::stable_sort's on 1 and 2 threads, and a NaN in a domain is named.
  const Eigen::Index n = 300000;
  std::mt19937_64 gen(17);
  std::uniform_int_distribution<int> level(-3, 40);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::VectorXd y(n);
  Eigen::VectorXi dom(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int v = level(gen);
    y(i) = v == -3 ? -0.0 : v == -2 ? std::numeric_limits<double>::quiet_NaN() : v;  // NaN only outside the domains
    dom(i) = v == -2 || u(gen) < 0.1 ? -1 : 0;
  }
  std::vector<Eigen::Index> want;
  for (Eigen::Index i = 0; i < n; ++i)
    if (dom(i) >= 0) want.push_back(i);
  std::stable_sort(want.begin(), want.end(), [&](Eigen::Index a, Eigen::Index b) { return y(a) < y(b); });
  const int t0 = get_num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    EXPECT_EQ(detail::lines::welfare_order(n, y.data(), dom.data(), "test"), want) << threads << " threads";
  }
  set_num_threads(t0);
  Eigen::VectorXi all = Eigen::VectorXi::Zero(n);
  try {
    detail::lines::welfare_order(n, y.data(), all.data(), "test");
    ADD_FAILURE() << "a NaN in a domain was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("welfare is missing or infinite at row"), std::string::npos) << e.what();
  }
}

TEST(RankIndices, RowUnitDesignsEqualTheTableOfRankTotals) {
  // On a design whose units are the rows (no design given) the Gini, a concentration index and the Kakwani
  // index stream each row's influence into the variance instead of a table of n units. They must equal
  // concentration_from_totals / kakwani_from_totals (rank_totals.hpp) on the table of rows written out here:
  // per row and domain w, w·(midN e − midE), w·midN·e, w·e per value column, with mid-point cumulative
  // sums over tie runs of the ranking key (welfare rounded to give ties), zero weights and rows in no
  // domain; every design of row_unit_designs.hpp. convey's Gini against design.variance of its per-row
  // influence. Tolerance 1e-12 relative.
  const Eigen::Index n = 20000;
  const int D = 2;
  test::row_unit_rows data = test::random_row_unit_rows(n, D, 83);
  data.y = (data.y * 4).array().round() / 4;  // ties
  const Eigen::VectorXd &y = data.y, &w = data.w;
  const Eigen::VectorXi& dom = data.domain;
  std::mt19937_64 gen(89);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::VectorXd pay(n);
  for (Eigen::Index i = 0; i < n; ++i) pay(i) = 0.1 * y(i) * u(gen);
  auto table_of_rows = [&](const std::vector<const double*>& values) {
    const Eigen::Index J = static_cast<Eigen::Index>(values.size()), q = rank_total_columns(J);
    rank_totals t;
    t.table.n_units = n;
    t.table.n_domains = D;
    t.table.n_variables = q;
    t.table.totals = Eigen::MatrixXd::Zero(n, D * q);
    t.centre = Eigen::MatrixXd::Zero(D, J);
    for (int d = 0; d < D; ++d) {
      std::vector<Eigen::Index> rows;
      for (Eigen::Index i = 0; i < n; ++i)
        if (dom(i) == d) rows.push_back(i);
      std::stable_sort(rows.begin(), rows.end(), [&](Eigen::Index a, Eigen::Index b) { return y(a) < y(b); });
      for (Eigen::Index j = 0; j < J; ++j) {
        long double N = 0, T = 0;
        for (Eigen::Index i : rows) N += w(i), T += static_cast<long double>(w(i)) * values[static_cast<std::size_t>(j)][i];
        t.centre(d, j) = static_cast<double>(T / N);
      }
      long double C = 0;
      std::vector<long double> E(static_cast<std::size_t>(J), 0);
      for (std::size_t a = 0; a < rows.size();) {
        std::size_t b = a;
        long double W = 0;
        std::vector<long double> Er(static_cast<std::size_t>(J), 0);
        for (; b < rows.size() && y(rows[b]) == y(rows[a]); ++b) {
          W += w(rows[b]);
          for (Eigen::Index j = 0; j < J; ++j)
            Er[static_cast<std::size_t>(j)] += static_cast<long double>(w(rows[b])) * (values[static_cast<std::size_t>(j)][rows[b]] - t.centre(d, j));
        }
        for (std::size_t m = a; m < b; ++m) {
          const Eigen::Index i = rows[m];
          const double midN = static_cast<double>(C + W / 2);
          t.table.totals(i, d * q) = w(i);
          for (Eigen::Index j = 0; j < J; ++j) {
            const double e = values[static_cast<std::size_t>(j)][i] - t.centre(d, j);
            const double midE = static_cast<double>(E[static_cast<std::size_t>(j)] + Er[static_cast<std::size_t>(j)] / 2);
            t.table.totals(i, d * q + 1 + 3 * j) = w(i) * (midN * e - midE);
            t.table.totals(i, d * q + 2 + 3 * j) = w(i) * midN * e;
            t.table.totals(i, d * q + 3 + 3 * j) = w(i) * e;
          }
        }
        C += W;
        for (Eigen::Index j = 0; j < J; ++j) E[static_cast<std::size_t>(j)] += Er[static_cast<std::size_t>(j)];
        a = b;
      }
    }
    return t;
  };
  const rank_totals by_welfare = table_of_rows({y.data()}), by_payment = table_of_rows({pay.data()}),
                    kakwani_rows = table_of_rows({pay.data(), y.data()});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int kind = 0; kind < test::row_unit_design_kinds; ++kind) {
    const survey_design design(test::row_unit_design_spec(n, w, kind, 5, 30000.0));
    ASSERT_TRUE(design.units_are_rows());
    welfare_rows r = rows_of(y, dom.data(), D);
    r.weights = w.data();
    for (int index = 0; index < 3; ++index) {
      SCOPED_TRACE("design " + std::to_string(kind) + " index " + std::to_string(index));
      const welfare_index_result got = index == 0   ? gini(r, design, gini_convention::eurostat)
                                       : index == 1 ? concentration_index(r, pay.data(), concentration_kind::standard, nan, nan, design)
                                                    : kakwani_index(r, pay.data(), design);
      const welfare_index_result want = index == 0   ? concentration_from_totals(by_welfare, concentration_kind::standard, nan, nan, design)
                                        : index == 1 ? concentration_from_totals(by_payment, concentration_kind::standard, nan, nan, design)
                                                     : kakwani_from_totals(kakwani_rows, design);
      ASSERT_EQ(got.estimate.size(), D);
      for (int d = 0; d < D; ++d) EXPECT_NEAR(got.estimate(d), want.estimate(d), 1e-12 * std::abs(want.estimate(d)));
      EXPECT_LE((got.vcov - want.vcov).cwiseAbs().maxCoeff(), 1e-12 * want.vcov.cwiseAbs().maxCoeff());
    }
    // convey's Gini: its own linearised variable u per row (convey_gini_on_rows), ψ_i = w_i u_i written out
    SCOPED_TRACE("design " + std::to_string(kind) + " convey");
    const welfare_index_result got = gini(r, design, gini_convention::convey);
    Eigen::MatrixXd psi = Eigen::MatrixXd::Zero(n, D);
    std::vector<double> lin(static_cast<std::size_t>(n), 0.0);
    for (int d = 0; d < D; ++d) {
      std::vector<Eigen::Index> rows;
      for (Eigen::Index i = 0; i < n; ++i)
        if (dom(i) == d) rows.push_back(i);
      std::stable_sort(rows.begin(), rows.end(), [&](Eigen::Index a, Eigen::Index b) { return y(a) < y(b); });
      EXPECT_NEAR(got.estimate(d), detail::ranks::convey_gini_on_rows(rows, y.data(), w.data(), lin), 1e-14);
      for (Eigen::Index i : rows) psi(i, d) = w(i) * lin[static_cast<std::size_t>(i)];
    }
    const Eigen::MatrixXd want = design.variance(psi);
    EXPECT_LE((got.vcov - want).cwiseAbs().maxCoeff(), 1e-12 * want.cwiseAbs().maxCoeff());
  }
}

TEST(RankIndices, RowUnitDesignsEqualTheTableWithAnEstimatedLine) {
  // Sen at 60% of the weighted median (its line's influence a term of every output), the Lorenz ordinates
  // and generalized ordinates at four shares (q = 18 variables per row), the QSR and the Gini: on a design
  // whose units are the rows each row's influence is streamed (survey_design::variance_of_row_classes);
  // the same rows plus one zero-weight copy of row 0 in row 0's PSU make a design whose units are not
  // the rows (the table of unit totals) but whose totals, quantiles, bandwidth and variance are the
  // same. Both must agree to 1e-12 relative on every row-unit design of row_unit_designs.hpp (the last
  // takes the table either way).
  const Eigen::Index n = 20000;
  const int D = 2;
  const test::row_unit_rows data = test::random_row_unit_rows(n, D, 97);
  Eigen::VectorXd y2(n + 1), w2(n + 1);
  Eigen::VectorXi dom2(n + 1);
  y2 << data.y, data.y(0);
  w2 << data.w, 0.0;
  dom2 << data.domain, data.domain(0);
  welfare_rows r = rows_of(data.y, data.domain.data(), D), r2 = rows_of(y2, dom2.data(), D);
  r.weights = data.w.data();
  r2.weights = w2.data();
  for (int kind = 0; kind < test::row_unit_design_kinds; ++kind) {
    const survey_spec spec = test::row_unit_design_spec(n, data.w, kind, 5, 30000.0);
    survey_spec spec2 = spec;
    spec2.weights = w2;
    spec2.ids.resize(n + 1, 1);
    for (Eigen::Index i = 0; i < n; ++i) spec2.ids(i, 0) = static_cast<int>(i);
    spec2.ids(n, 0) = 0;
    if (spec.strata.size()) {
      spec2.strata.resize(n + 1);
      spec2.strata << spec.strata, spec.strata(0);
    }
    if (spec.fpc.size()) spec2.fpc = Eigen::MatrixXd::Constant(n + 1, 1, spec.fpc(0, 0));
    const survey_design rows_design(spec), table_design(spec2);
    ASSERT_TRUE(rows_design.units_are_rows());
    ASSERT_FALSE(table_design.units_are_rows());
    for (int index = 0; index < 5; ++index) {
      SCOPED_TRACE("design " + std::to_string(kind) + " index " + std::to_string(index));
      auto run = [&](const welfare_rows& rows, const survey_design& design) {
        switch (index) {
          case 0: return sen_index(rows, welfare_line::relative(0.6), design);
          case 1: return lorenz_ordinates(rows, {0.2, 0.5, 0.8, 1.0}, false, design);
          case 2: return lorenz_ordinates(rows, {0.2, 0.5, 0.8, 1.0}, true, design);
          case 3: return quintile_share_ratio(rows, 0.2, 0.8, design);
          default: return gini(rows, design, gini_convention::eurostat);
        }
      };
      const welfare_index_result got = run(r, rows_design), want = run(r2, table_design);
      ASSERT_EQ(got.estimate.size(), want.estimate.size());
      for (Eigen::Index k = 0; k < want.estimate.size(); ++k) EXPECT_NEAR(got.estimate(k), want.estimate(k), 1e-12 * std::abs(want.estimate(k)));
      EXPECT_LE((got.vcov - want.vcov).cwiseAbs().maxCoeff(), 1e-12 * want.vcov.cwiseAbs().maxCoeff());
      if (index == 0) {
        EXPECT_NEAR(got.line_variance, want.line_variance, 1e-12 * want.line_variance);
      }
    }
  }
}
