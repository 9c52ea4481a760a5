// The rank and Lorenz-family finalizers from unit totals (rank_totals.hpp, lorenz.hpp *_from_totals), the
// functions a streamed Dask pass calls, against the in-memory indices. The unit totals here are built by
// brute force from their definitions (mid-point cumulative weights by an O(n²) count over each domain,
// indicators at quantiles found by sorting), independently of the library's sorted pass, on a stratified
// cluster design with two domains, tied welfare, unequal weights and a row in no domain.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/targeting/concentration.hpp>
#include <impactkit/targeting/inequality.hpp>
#include <impactkit/targeting/lorenz.hpp>
#include <impactkit/targeting/poverty.hpp>
#include <impactkit/targeting/rank_totals.hpp>
#include <impactkit/targeting/welfare_line.hpp>

using namespace impactkit;

namespace {

constexpr double tol = 1e-10;  // relative: the same formulas, sums in another order

struct sample {
  Eigen::Index n = 80;
  Eigen::VectorXd y, h, w;
  Eigen::VectorXi strata, domain;
  Eigen::MatrixXi ids;
  survey_spec spec;

  sample() : y(n), h(n), w(n), strata(n), domain(n), ids(n, 1) {
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<int> level(1, 25), outcome(0, 3);
    std::uniform_real_distribution<double> weight(0.5, 3.0);
    for (Eigen::Index i = 0; i < n; ++i) {
      y(i) = level(rng);  // ties
      h(i) = outcome(rng);
      w(i) = weight(rng);
      strata(i) = static_cast<int>(i % 2);
      ids(i, 0) = static_cast<int>(i % 10);  // 5 PSUs per stratum
      domain(i) = static_cast<int>((i / 3) % 2);
    }
    domain(7) = -1;  // in no domain
    spec.strata = strata;
    spec.ids = ids;
    spec.weights = w;
  }

  welfare_rows rows() const {
    welfare_rows r;
    r.n = n;
    r.welfare = y.data();
    r.weights = w.data();
    r.domain = domain.data();
    r.n_domains = 2;
    return r;
  }
};

void expect_same(const welfare_index_result& got, const welfare_index_result& want) {
  ASSERT_EQ(got.estimate.size(), want.estimate.size());
  for (Eigen::Index j = 0; j < want.estimate.size(); ++j) {
    if (std::isnan(want.estimate(j))) {
      EXPECT_TRUE(std::isnan(got.estimate(j)));
      continue;
    }
    EXPECT_NEAR(got.estimate(j), want.estimate(j), tol * std::max(1.0, std::fabs(want.estimate(j)))) << "estimate " << j;
    for (Eigen::Index k = 0; k < want.estimate.size(); ++k) {
      if (std::isnan(want.vcov(j, k))) continue;
      EXPECT_NEAR(got.vcov(j, k), want.vcov(j, k), tol * std::max(1e-12, std::fabs(want.vcov(j, j)))) << "vcov " << j << "," << k;
    }
  }
  EXPECT_EQ(got.undefined, want.undefined);
  EXPECT_EQ(got.conventions.n_psu, want.conventions.n_psu);
}

/// Rank totals by their definition: midN_i = Σ_{same domain, y_j < y_i} w_j + ½ Σ_{y_j = y_i} w_j, the same for
/// Σ w e with e = h − c (c the domain mean of h).
rank_totals brute_rank_totals(const sample& s, const std::vector<Eigen::VectorXd>& values, const survey_design& design) {
  const Eigen::Index J = static_cast<Eigen::Index>(values.size()), q = rank_total_columns(J), D = 2;
  rank_totals t;
  t.centre = Eigen::MatrixXd::Zero(D, J);
  for (int d = 0; d < D; ++d)
    for (Eigen::Index j = 0; j < J; ++j) {
      double N = 0, T = 0;
      for (Eigen::Index i = 0; i < s.n; ++i)
        if (s.domain(i) == d) N += s.w(i), T += s.w(i) * values[j](i);
      t.centre(d, j) = T / N;
    }
  t.table.n_units = design.n_units();
  t.table.n_domains = static_cast<int>(D);
  t.table.n_variables = q;
  t.table.totals = Eigen::MatrixXd::Zero(design.n_units(), D * q);
  for (Eigen::Index i = 0; i < s.n; ++i) {
    const int d = s.domain(i);
    if (d < 0) continue;
    double midN = 0;
    std::vector<double> midE(static_cast<std::size_t>(J), 0.0);
    for (Eigen::Index k = 0; k < s.n; ++k) {
      if (s.domain(k) != d || s.y(k) > s.y(i)) continue;
      const double f = s.y(k) < s.y(i) ? 1.0 : 0.5;
      midN += f * s.w(k);
      for (Eigen::Index j = 0; j < J; ++j) midE[static_cast<std::size_t>(j)] += f * s.w(k) * (values[j](k) - t.centre(d, j));
    }
    const int u = design.units().code[static_cast<std::size_t>(i)];
    t.table.totals(u, d * q) += s.w(i);
    for (Eigen::Index j = 0; j < J; ++j) {
      const double e = values[j](i) - t.centre(d, j);
      t.table.totals(u, d * q + 1 + 3 * j) += s.w(i) * (midN * e - midE[static_cast<std::size_t>(j)]);
      t.table.totals(u, d * q + 2 + 3 * j) += s.w(i) * midN * e;
      t.table.totals(u, d * q + 3 + 3 * j) += s.w(i) * e;
    }
  }
  return t;
}

/// Per domain the weighted p-quantiles: the lower rule (the first value whose cumulative share reaches p; the
/// largest value for p = 1) or laeken's (the mean with the next value when the share equals p exactly).
Eigen::MatrixXd brute_quantiles(const sample& s, const std::vector<double>& p, bool lower_rule) {
  Eigen::MatrixXd Q(2, static_cast<Eigen::Index>(p.size()));
  for (int d = 0; d < 2; ++d) {
    std::vector<std::pair<double, double>> v;
    for (Eigen::Index i = 0; i < s.n; ++i)
      if (s.domain(i) == d) v.emplace_back(s.y(i), s.w(i));
    std::sort(v.begin(), v.end());
    double W = 0;
    for (const auto& x : v) W += x.second;
    for (std::size_t j = 0; j < p.size(); ++j) {
      double cum = 0, q = v.back().first;
      for (std::size_t k = 0; k < v.size(); ++k) {
        cum += v[k].second;
        if (k + 1 < v.size() && v[k + 1].first == v[k].first) continue;  // the share at the end of a tie run
        if (p[j] < 1 && cum / W >= p[j]) {
          q = (!lower_rule && cum / W == p[j] && k + 1 < v.size()) ? 0.5 * (v[k].first + v[k + 1].first) : v[k].first;
          break;
        }
      }
      Q(d, static_cast<Eigen::Index>(j)) = q;
    }
  }
  return Q;
}

/// The partial-total variables of lorenz.hpp at the quantiles Q, summed per unit.
unit_totals_table brute_partial_totals(const sample& s, const Eigen::MatrixXd& Q, const survey_design& design) {
  const Eigen::Index K = Q.cols(), q = partial_total_columns(K);
  unit_totals_table t;
  t.n_units = design.n_units();
  t.n_domains = 2;
  t.n_variables = q;
  t.totals = Eigen::MatrixXd::Zero(t.n_units, 2 * q);
  for (Eigen::Index i = 0; i < s.n; ++i) {
    const int d = s.domain(i);
    if (d < 0) continue;
    const int u = design.units().code[static_cast<std::size_t>(i)];
    const double w = s.w(i), y = s.y(i);
    t.totals(u, d * q) += w;
    t.totals(u, d * q + 1) += w * y;
    for (Eigen::Index j = 0; j < K; ++j) {
      const double Qj = Q(d, j);
      if (y < Qj) t.totals(u, d * q + 2 + 4 * j) += w * y, t.totals(u, d * q + 3 + 4 * j) += w;
      if (y == Qj) t.totals(u, d * q + 4 + 4 * j) += w;
      if (y <= Qj) t.totals(u, d * q + 5 + 4 * j) += w * (y - Qj);
    }
  }
  return t;
}

double gaussian(double u, double h) { return std::exp(-0.5 * (u / h) * (u / h)) / (std::sqrt(2 * M_PI) * h); }

}  // namespace

TEST(FromTotals, LorenzFamilyEqualsInMemory) {
  const sample s;
  const survey_design design(s.spec);
  const std::vector<double> p = {0.1, 0.25, 0.5, 0.8, 1.0};
  const Eigen::MatrixXd Q = brute_quantiles(s, p, true);
  const unit_totals_table t = brute_partial_totals(s, Q, design);
  for (bool generalized : {false, true})
    expect_same(lorenz_from_totals(t, Q, p, generalized, design), lorenz_ordinates(s.rows(), p, generalized, design));
  const std::vector<double> cuts = {0.2, 0.4, 0.6, 0.8};
  const Eigen::MatrixXd Qc = brute_quantiles(s, cuts, true);
  expect_same(quantile_shares_from_totals(brute_partial_totals(s, Qc, design), Qc, cuts, design), quantile_shares(s.rows(), cuts, design));
  const Eigen::MatrixXd Qs = brute_quantiles(s, {0.2, 0.8}, false);
  expect_same(qsr_from_totals(brute_partial_totals(s, Qs, design), Qs, 0.2, 0.8, design), quintile_share_ratio(s.rows(), 0.2, 0.8, design));
  // a domain without positive weight (the quantiles NaN) is undefined, and a malformed table is refused
  Eigen::MatrixXd Qn = Q;
  Qn.row(1).setConstant(std::nan(""));
  const welfare_index_result L = lorenz_from_totals(t, Qn, p, false, design);
  EXPECT_EQ(L.undefined, std::vector<int>{1});
  EXPECT_TRUE(std::isnan(L.estimate(5)) && std::isfinite(L.estimate(0)));
  EXPECT_THROW(lorenz_from_totals(t, Q.leftCols(2), p, false, design), invalid_input);
}

TEST(FromTotals, ConcentrationGiniAndKakwaniEqualInMemory) {
  const sample s;
  const survey_design design(s.spec);
  const rank_totals th = brute_rank_totals(s, {s.h}, design);
  for (concentration_kind kind : {concentration_kind::standard, concentration_kind::generalized, concentration_kind::erreygers,
                                  concentration_kind::wagstaff})
    expect_same(concentration_from_totals(th, kind, 0, 3, design), concentration_index(s.rows(), s.h.data(), kind, 0, 3, design));
  const double nan = std::nan("");
  expect_same(concentration_from_totals(brute_rank_totals(s, {s.y}, design), concentration_kind::standard, nan, nan, design),
              gini(s.rows(), design));
  expect_same(kakwani_from_totals(brute_rank_totals(s, {s.h, s.y}, design), design), kakwani_index(s.rows(), s.h.data(), design));
  EXPECT_THROW(kakwani_from_totals(th, design), invalid_input);  // needs two value columns
}

TEST(FromTotals, SenEqualsInMemoryWithFixedAndEstimatedLine) {
  const sample s;
  const survey_design design(s.spec);
  for (const welfare_line& line : {welfare_line::fixed(9), welfare_line::relative(0.6)}) {
    const welfare_index_result want = sen_index(s.rows(), line, design);
    const double z = want.line;
    Eigen::VectorXd poor_y(s.n), poor(s.n), below_q(s.n);
    sen_line_terms terms;
    terms.line = line;
    terms.z = z;
    std::vector<Eigen::VectorXd> values;
    if (line.kind == line_kind::quantile) {
      terms.q = weighted_quantiles(s.n, s.y.data(), s.w.data(), s.domain.data(), {line.quantile})[0];
      EXPECT_DOUBLE_EQ(z, line.share * terms.q);
      terms.h = want.bandwidth;
      terms.kernel_at_line = Eigen::VectorXd::Zero(2);
      terms.density_at_quantile = 0;
    }
    for (Eigen::Index i = 0; i < s.n; ++i) {
      const bool is_poor = line.below(s.y(i), z);
      poor_y(i) = is_poor ? s.y(i) : 0.0;
      poor(i) = is_poor ? 1.0 : 0.0;
      below_q(i) = s.y(i) <= terms.q ? 1.0 : 0.0;
      if (line.kind == line_kind::quantile && s.domain(i) >= 0) {
        terms.kernel_at_line(s.domain(i)) += s.w(i) * gaussian(z - s.y(i), terms.h);
        terms.density_at_quantile += s.w(i) * gaussian(terms.q - s.y(i), terms.h);
      }
    }
    values = {poor_y, poor};
    if (line.kind == line_kind::quantile) values.push_back(below_q);
    const welfare_index_result got = sen_from_totals(brute_rank_totals(s, values, design), terms, design);
    expect_same(got, want);
    if (line.kind == line_kind::quantile) {
      ASSERT_TRUE(std::isfinite(want.line_variance) && want.line_variance > 0);
      EXPECT_NEAR(got.line_variance, want.line_variance, tol * want.line_variance);
      EXPECT_EQ(got.bandwidth, want.bandwidth);
    } else {
      EXPECT_TRUE(std::isnan(got.line_variance) && std::isnan(want.line_variance));
    }
  }
}
