// The pass of targeting_accuracy (targeting_accuracy_detail.hpp: accumulate, which sums fields per
// (welfare interval, B) cell) against the definition of the per-row variables (row_variables) summed row
// by row with accumulate_unit_totals, on random rows with every option: weights or none, a target column
// or a fixed or estimated line (strict or not), amounts or counts, domains with rows in none, welfare
// groups by code or by cuts (0, 1, 5 and 10 groups: more than 8 breakpoints take the scalar count; rows at
// a cut, a line equal to a cut), tied welfare. Tolerance: 1e-13 relative to the largest total of a
// variable (different summation order); invalid rows must be reported at the same row. Then the quantile
// cuts of large inputs (sample brackets and one pass) against laeken's rule by sorting, exactly.
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "../../../src/targeting/targeting_accuracy_detail.hpp"  // private to impactkit_core
#include "row_unit_designs.hpp"

using namespace impactkit;

namespace {

struct random_rows {
  Eigen::VectorXd w, y, B, b, T;
  Eigen::VectorXi domain, group;
  group_codes units;
};

random_rows make_rows(Eigen::Index n, int U, int D, int K, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  random_rows r;
  r.w.resize(n), r.y.resize(n), r.B.resize(n), r.b.resize(n), r.T.resize(n), r.domain.resize(n), r.group.resize(n);
  r.units.code.resize(static_cast<std::size_t>(n));
  r.units.n_groups = U;
  for (Eigen::Index i = 0; i < n; ++i) {
    r.w(i) = u(gen) < 0.05 ? 0.0 : 0.5 + 3 * u(gen);
    r.y(i) = u(gen) < 0.1 ? 20.0 : std::round(std::exp(2.5 + 0.7 * u(gen) + 0.5 * u(gen)) * 4) / 4;  // ties, rows at the line
    r.B(i) = u(gen) < 0.4 ? 1.0 : 0.0;
    r.b(i) = r.B(i) * (u(gen) < 0.2 ? 0.0 : 1 + 9 * u(gen));
    r.T(i) = u(gen) < 0.3 ? 1.0 : 0.0;
    r.domain(i) = u(gen) < 0.1 ? -1 : static_cast<int>(u(gen) * D);
    r.group(i) = static_cast<int>(u(gen) * std::max(K, 1));
    r.units.code[static_cast<std::size_t>(i)] = static_cast<int>(u(gen) * U);
  }
  return r;
}

/// Targeting rows over the columns of d: weights, beneficiaries, amounts and welfare, domains when D > 1,
/// K welfare groups by quantile cuts and a fixed line at 20 (the caller changes what a test varies).
targeting_rows rows_of(const random_rows& d, int D, int K) {
  targeting_rows r;
  r.n = d.y.size();
  r.weights = d.w.data();
  r.beneficiary = d.B.data();
  r.benefit = d.b.data();
  r.welfare = d.y.data();
  r.domain = D > 1 ? d.domain.data() : nullptr;
  r.n_domains = D;
  r.n_welfare_groups = K;
  r.line = welfare_line::fixed(20.0);
  return r;
}

unit_totals_table by_definition(const targeting_rows& r, const resolved_line& L, const std::vector<double>& cuts, const group_codes& units) {
  namespace tg = detail::targeting;
  return accumulate_unit_totals(
      units, r.n, r.n_domains, tg::n_variables(r.n_welfare_groups),
      [&](Eigen::Index i, double* x) { return tg::row_variables(r, L, cuts, i, r.weights ? r.weights[i] : 1.0, x); },
      [&](Eigen::Index i) { tg::explain_invalid(r, i); });
}

void expect_same_tables(const unit_totals_table& got, const unit_totals_table& want) {
  ASSERT_EQ(got.totals.rows(), want.totals.rows());
  ASSERT_EQ(got.totals.cols(), want.totals.cols());
  for (Eigen::Index k = 0; k < want.totals.cols(); ++k) {
    const double scale = std::max(1.0, want.totals.col(k).cwiseAbs().maxCoeff());
    EXPECT_LE((got.totals.col(k) - want.totals.col(k)).cwiseAbs().maxCoeff(), 1e-13 * scale) << "variable column " << k;
  }
}

}  // namespace

TEST(TargetingPass, EqualsTheRowDefinitionForEveryOption) {
  namespace tg = detail::targeting;
  const Eigen::Index n = 50000;
  for (int D : {1, 3})
    for (int K : {0, 1, 5, 10})
      for (int rule = 0; rule < 4; ++rule)  // column, fixed strict, fixed ≤, estimated (relative line)
        for (int variant = 0; variant < 4; ++variant) {
          const bool weights = variant != 1, amounts = variant != 2, codes = variant == 3 && K > 0;
          random_rows d = make_rows(n, 37, D, K, 100u * static_cast<unsigned>(D) + 10u * static_cast<unsigned>(K) +
                                                     static_cast<unsigned>(rule * 4 + variant));
          targeting_rows r = rows_of(d, D, K);
          if (!weights) r.weights = nullptr;
          if (!amounts) r.benefit = nullptr;
          r.welfare_group = codes ? d.group.data() : nullptr;
          if (rule == 0) r.line = welfare_line{}, r.target = d.T.data();
          if (rule == 1) r.line = welfare_line::fixed(20.0, true);
          if (rule == 2) r.line = welfare_line::fixed(20.0, false);
          if (rule == 3) r.line = welfare_line::relative(0.6);
          const resolved_line L = tg::resolve(r, r.weights);
          const std::vector<double> cuts = tg::welfare_cuts(r);
          SCOPED_TRACE("D=" + std::to_string(D) + " K=" + std::to_string(K) + " rule=" + std::to_string(rule) +
                       " variant=" + std::to_string(variant));
          expect_same_tables(tg::accumulate(r, L, cuts, d.units), by_definition(r, L, cuts, d.units));
        }
}

TEST(TargetingPass, ReportsTheFirstInvalidRowAsTheDefinitionDoes) {
  namespace tg = detail::targeting;
  const Eigen::Index n = 20000;
  random_rows d = make_rows(n, 11, 2, 5, 7);
  targeting_rows r = rows_of(d, 2, 5);
  const resolved_line L = tg::resolve(r, r.weights);
  const std::vector<double> cuts = {10, 15, 20, 30};
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  struct corruption {
    Eigen::VectorXd* column;
    double value;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (const corruption& c : {corruption{&d.w, -1.0}, corruption{&d.w, nan}, corruption{&d.y, inf}, corruption{&d.B, 0.5},
                              corruption{&d.b, nan}})
    for (Eigen::Index at : {Eigen::Index{0}, Eigen::Index{4095}, Eigen::Index{4096}, n - 1}) {
      const double saved = (*c.column)(at);
      (*c.column)(at) = c.value;
      const std::string got = message([&] { tg::accumulate(r, L, cuts, d.units); });
      const std::string want = message([&] { by_definition(r, L, cuts, d.units); });
      (*c.column)(at) = saved;
      EXPECT_EQ(got, want);
      EXPECT_NE(got.find("row " + std::to_string(at)), std::string::npos) << got;
    }
  // welfare groups given as codes (no cuts): a bad row and a group code out of range
  r.welfare_group = d.group.data();
  for (Eigen::Index at : {Eigen::Index{5}, n - 2}) {
    const double saved = d.w(at);
    d.w(at) = nan;
    EXPECT_EQ(message([&] { tg::accumulate(r, L, {}, d.units); }), message([&] { by_definition(r, L, {}, d.units); }));
    d.w(at) = saved;
    const int code = d.group(at);
    d.group(at) = 5;
    const std::string got = message([&] { tg::accumulate(r, L, {}, d.units); });
    EXPECT_EQ(got, message([&] { by_definition(r, L, {}, d.units); }));
    EXPECT_NE(got.find("welfare group code out of range at row " + std::to_string(at)), std::string::npos) << got;
    d.group(at) = code;
  }
  r.welfare_group = nullptr;
  // a benefit paid to a non-beneficiary, and a domain code out of range
  const Eigen::Index at = 12345;
  const double saved_B = d.B(at), saved_b = d.b(at);
  d.B(at) = 0.0, d.b(at) = 3.0;
  EXPECT_EQ(message([&] { tg::accumulate(r, L, cuts, d.units); }), message([&] { by_definition(r, L, cuts, d.units); }));
  d.B(at) = saved_B, d.b(at) = saved_b;
  d.domain(at) = 2;
  EXPECT_EQ(message([&] { tg::accumulate(r, L, cuts, d.units); }), message([&] { by_definition(r, L, cuts, d.units); }));
}

TEST(TargetingPass, LineAtACutAndTheWeightAtEachCut) {
  // quarter-rounded welfare with many rows at 20, cuts given with 20 among them: the line coincides with a
  // cut (the intervals below / above the line, strict or not), and the weight of the rows at each cut (the
  // confirmation of a cut hint) equals the brute-force sum over rows in a domain
  namespace tg = detail::targeting;
  const Eigen::Index n = 30000;
  for (bool strict : {true, false})
    for (const std::vector<double>& cuts : {std::vector<double>{10, 15, 20, 30}, std::vector<double>{20, 25, 30, 40}}) {
      random_rows d = make_rows(n, 23, 2, 5, strict ? 3u : 4u);
      targeting_rows r = rows_of(d, 2, 5);
      r.line = welfare_line::fixed(20.0, strict);
      const resolved_line L = tg::resolve(r, r.weights);
      std::vector<double> at_cut;
      expect_same_tables(tg::accumulate(r, L, cuts, d.units, &at_cut), by_definition(r, L, cuts, d.units));
      std::vector<double> want(cuts.size(), 0.0);
      for (Eigen::Index i = 0; i < n; ++i)
        for (std::size_t k = 0; k < cuts.size(); ++k)
          if (d.domain(i) >= 0 && d.y(i) == cuts[k]) want[k] += d.w(i);
      ASSERT_EQ(at_cut.size(), cuts.size());
      for (std::size_t k = 0; k < cuts.size(); ++k) EXPECT_NEAR(at_cut[k], want[k], 1e-9 * (1 + want[k])) << k;
      EXPECT_GT(want[cuts[0] == 20 ? 0 : 2], 0.0);  // rows do sit at the cut equal to the line
    }
}

TEST(TargetingPass, FirstInvalidRowWhenTheSumsAndTheChecksDisagreeOnOrder) {
  // a NaN (found through the non-finite sums) before, and after, a negative weight (found by the block
  // checks), in one chunk and across chunks: the first invalid row in row order is named either way
  namespace tg = detail::targeting;
  const Eigen::Index n = 300000;  // several chunks
  random_rows d = make_rows(n, 11, 1, 5, 9);
  targeting_rows r = rows_of(d, 1, 5);
  const resolved_line L = tg::resolve(r, r.weights);
  const std::vector<double> cuts = {10, 15, 20, 30};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct case_ {
    Eigen::Index nan_at, negative_at;
  };
  for (const case_& c : {case_{100, 3000}, case_{3000, 100}, case_{250000, 7}, case_{7, 250000}, case_{5000, -1}}) {
    Eigen::VectorXd w = d.w, y = d.y;
    d.y(c.nan_at) = nan;
    if (c.negative_at >= 0) d.w(c.negative_at) = -1.0;
    const Eigen::Index first = c.negative_at < 0 ? c.nan_at : std::min(c.nan_at, c.negative_at);
    std::string got = "no error";
    try {
      tg::accumulate(r, L, cuts, d.units);
    } catch (const std::exception& e) {
      got = e.what();
    }
    EXPECT_NE(got.find("at row " + std::to_string(first)), std::string::npos) << got;
    d.w = w, d.y = y;
    r.weights = d.w.data(), r.welfare = d.y.data();
  }
}

namespace {

struct hint_case {
  Eigen::VectorXd w, y, B, b;
  survey_design design;
  targeting_rows rows() const {
    targeting_rows r;
    r.n = y.size();
    r.weights = w.data();
    r.beneficiary = B.data();
    r.benefit = b.data();
    r.welfare = y.data();
    r.line = welfare_line::fixed(20.0);
    r.n_welfare_groups = 5;
    return r;
  }
};

hint_case make_hint_case(Eigen::Index n, bool integer_welfare, bool unit_weights) {
  std::mt19937_64 gen(11);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::VectorXd w(n), y(n), B(n), b(n);
  survey_spec spec;
  spec.ids.resize(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    w(i) = unit_weights ? 1.0 : 0.5 + 2 * u(gen);
    y(i) = integer_welfare ? std::floor(40 * u(gen)) : std::exp(3 + 0.5 * u(gen) + 0.5 * u(gen));
    B(i) = u(gen) < 0.4 ? 1.0 : 0.0;
    b(i) = B(i) * (1 + 9 * u(gen));
    spec.ids(i, 0) = static_cast<int>(u(gen) * 60);
  }
  spec.weights = w;
  return {w, y, B, b, survey_design(spec)};
}

void expect_same_result(const targeting_result& got, const targeting_result& want) {
  ASSERT_EQ(got.welfare_cuts, want.welfare_cuts);
  EXPECT_EQ((got.estimate - want.estimate).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((got.vcov - want.vcov).cwiseAbs().maxCoeff(), 0.0);
}

}  // namespace

TEST(TargetingPass, WelfareCutHintIsUsedOnlyWhenThePassConfirmsIt) {
  for (bool integer_welfare : {false, true}) {
    const hint_case c = make_hint_case(40000, integer_welfare, false);
    const targeting_result fresh = targeting_accuracy(c.rows(), c.design);
    EXPECT_FALSE(fresh.welfare_cuts_from_hint);
    // the cuts of the earlier result: confirmed (integer welfare: many rows at each cut), the same result
    targeting_rows r = c.rows();
    r.welfare_cuts_hint = &fresh.welfare_cuts;
    const targeting_result again = targeting_accuracy(r, c.design);
    EXPECT_TRUE(again.welfare_cuts_from_hint) << integer_welfare;
    expect_same_result(again, fresh);
    // wrong candidates (a cut moved to another data value, out of order, the wrong count): recomputed
    std::vector<double> moved = fresh.welfare_cuts;
    moved[1] = integer_welfare ? moved[1] + 1 : moved[1] * (1 + 1e-9);
    const std::vector<double> unordered = {fresh.welfare_cuts[1], fresh.welfare_cuts[0], fresh.welfare_cuts[2], fresh.welfare_cuts[3]};
    const std::vector<double> short_list = {fresh.welfare_cuts[0]};
    for (const std::vector<double>* hint : std::vector<const std::vector<double>*>{&moved, &unordered, &short_list}) {
      r.welfare_cuts_hint = hint;
      const targeting_result res = targeting_accuracy(r, c.design);
      EXPECT_FALSE(res.welfare_cuts_from_hint);
      expect_same_result(res, fresh);
    }
  }
}

TEST(TargetingPass, WelfareCutHintAtAnExactShareTieIsRecomputed) {
  // unit weights and 40,000 distinct values: the share reaches 1/5 exactly, so laeken's cut is the mean of
  // two values; a hint of either value is not the quantile and must not be used
  hint_case c = make_hint_case(40000, false, true);
  const targeting_result fresh = targeting_accuracy(c.rows(), c.design);
  std::vector<double> sorted(c.y.data(), c.y.data() + c.y.size());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_DOUBLE_EQ(fresh.welfare_cuts[0], 0.5 * (sorted[7999] + sorted[8000]));
  for (double candidate : {sorted[7999], sorted[8000], fresh.welfare_cuts[0]}) {
    std::vector<double> hint = fresh.welfare_cuts;
    hint[0] = candidate;
    targeting_rows r = c.rows();
    r.welfare_cuts_hint = &hint;
    const targeting_result res = targeting_accuracy(r, c.design);
    EXPECT_FALSE(res.welfare_cuts_from_hint);
    expect_same_result(res, fresh);
  }
}

namespace {

/// laeken's weighted quantile by its definition: the smallest y whose cumulative weight share (in welfare
/// order, analysis rows: domain ≥ 0, w > 0) reaches p, or its mean with the next value on an exact share.
double quantile_by_sorting(const Eigen::VectorXd& y, const Eigen::VectorXd& w, const Eigen::VectorXi* domain, double p) {
  std::vector<Eigen::Index> o;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if ((!domain || (*domain)(i) >= 0) && w(i) > 0) o.push_back(i);
  std::stable_sort(o.begin(), o.end(), [&](Eigen::Index a, Eigen::Index b) { return y(a) < y(b); });
  long double total = 0, cum = 0;
  for (Eigen::Index i : o) total += w(i);
  for (std::size_t k = 0; k < o.size(); ++k) {
    cum += w(o[k]);
    if (k + 1 < o.size() && y(o[k + 1]) == y(o[k])) continue;  // the end of a run of ties
    const double share = static_cast<double>(cum / total);
    if (share >= p) return share == p && k + 1 < o.size() ? 0.5 * (y(o[k]) + y(o[k + 1])) : y(o[k]);
  }
  return y(o.back());
}

}  // namespace

TEST(WelfareQuantiles, SampleBracketsHoldTheQuantilesForAnyRowOrder) {
  // the stratified sample of lines::sample_brackets (one row from each of 2^16 strata of consecutive rows)
  // must bracket laeken's quantiles whatever the row order: random, sorted by welfare either way, and
  // periodic in the row number (the strata then see the same pattern); and about the expected share of
  // the rows (2δ per bracket) must lie within the brackets
  namespace lines = detail::lines;
  const Eigen::Index n = 300000;
  random_rows d = make_rows(n, 7, 2, 5, 41);
  for (Eigen::Index i = 0; i < n; ++i) d.y(i) = std::exp(2.5 + 0.4 * std::sin(1.3 * static_cast<double>(i * i % 7919)) + 0.5 * d.w(i) / 3.5);
  const std::vector<double> probs = {0.2, 0.4, 0.6, 0.8};
  for (int order = 0; order < 4; ++order) {
    Eigen::VectorXd y = d.y;
    if (order == 1) std::sort(y.data(), y.data() + n);
    if (order == 2) std::sort(y.data(), y.data() + n, std::greater<double>());
    if (order == 3)
      for (Eigen::Index i = 0; i < n; ++i) y(i) = 10 + static_cast<double>(i % 97) + 1e-3 * static_cast<double>(i % 13);
    std::vector<double> lo, hi, share;
    ASSERT_TRUE(lines::sample_brackets(n, y.data(), d.w.data(), d.domain.data(), probs, lo, hi, &share)) << order;
    ASSERT_EQ(share.size(), probs.size());
    for (std::size_t k = 0; k < probs.size(); ++k) {
      const double q = quantile_by_sorting(y, d.w, &d.domain, probs[k]);
      EXPECT_LE(lo[k], q) << "order " << order << " p " << probs[k];
      EXPECT_GE(hi[k], q) << "order " << order << " p " << probs[k];
      double within = 0;
      for (Eigen::Index i = 0; i < n; ++i) within += y(i) >= lo[k] && y(i) <= hi[k];
      EXPECT_LT(within / static_cast<double>(n), 2 * share[k] + 0.01) << "order " << order << " p " << probs[k];
    }
  }
}

TEST(WelfareQuantiles, LargeInputsEqualTheDefinition) {
  // from 2^18 rows lines::weighted_quantiles takes sample brackets and one pass; on continuous welfare
  // with zero weights and rows in no domain, and on integer welfare with unit weights (every quintile an
  // exact share tie: laeken's mean of two values), it must equal the definition exactly
  namespace lines = detail::lines;
  const Eigen::Index n = 300000;
  random_rows d = make_rows(n, 7, 2, 5, 43);
  for (Eigen::Index i = 0; i < n; ++i) d.y(i) = std::exp(2.5 + 0.6 * std::cos(0.7 * static_cast<double>(i)) + 0.5 * d.w(i) / 3.5);
  const std::vector<double> probs = {0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9};
  std::vector<double> got;
  ASSERT_EQ(lines::bracketed_quantiles(n, d.y.data(), d.w.data(), d.domain.data(), probs, got), lines::bracket_outcome::answered);
  for (std::size_t k = 0; k < probs.size(); ++k) EXPECT_EQ(got[k], quantile_by_sorting(d.y, d.w, &d.domain, probs[k])) << probs[k];
  EXPECT_EQ(lines::weighted_quantiles(n, d.y.data(), d.w.data(), d.domain.data(), probs, "test"), got);
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);
  for (Eigen::Index i = 0; i < n; ++i) d.y(i) = static_cast<double>(i % 50);
  const std::vector<double> tied = lines::weighted_quantiles(n, d.y.data(), ones.data(), nullptr, {0.2, 0.4, 0.6, 0.8}, "test");
  EXPECT_EQ(tied, (std::vector<double>{9.5, 19.5, 29.5, 39.5}));
}

namespace {

/// targeting_accuracy through the table of the design's units (accumulate over design.units(), then
/// finish): what a design whose units are the rows must equal without that table.
targeting_result from_the_table_of_units(const targeting_rows& r, const survey_design& design) {
  namespace tg = detail::targeting;
  const auto defs = tg::definitions_for(r);
  const resolved_line L = tg::resolve(r, r.weights);
  targeting_result out = tg::start_result(r, defs, L);
  out.welfare_cuts = tg::welfare_cuts(r);
  tg::finish(r, L, defs, tg::accumulate(r, L, out.welfare_cuts, design.units()), design, out);
  return out;
}

}  // namespace

TEST(TargetingPass, RowUnitDesignsStreamTheSameVariance) {
  // a one-stage design whose units are the rows (no design given, or strata and an fpc over single-row
  // PSUs) takes finish_row_units (domain totals, each row's influence streamed into the variance); it must
  // give the estimates and variance of the table of n units (accumulate over the units, then finish):
  // every line rule (an estimated line included), weights or none, domains with rows in none, quintiles,
  // strata with an fpc, and a lonely stratum under each rule (from moments per stratum and class of row),
  // and 20,000 strata of two rows (too many for those tables: each row's influence streamed); enough rows
  // for several chunks (threads). Tolerance 1e-12 relative (summation order).
  const Eigen::Index n = 40000;
  random_rows d = make_rows(n, 1, 3, 5, 61);
  for (int design_kind = 0; design_kind < test::row_unit_design_kinds; ++design_kind)  // row_unit_designs.hpp
    for (int rule = 0; rule < 3; ++rule) {                 // target column, fixed line, relative line
      const survey_design design(test::row_unit_design_spec(n, d.w, design_kind, 7, 20000.0));
      ASSERT_EQ(design.n_units(), n);
      targeting_rows r = rows_of(d, 3, 5);
      if (rule == 0) r.line = welfare_line{}, r.target = d.T.data();
      if (rule == 2) r.line = welfare_line::relative(0.6);
      if (design_kind % 2) r.weights = nullptr;
      SCOPED_TRACE("design " + std::to_string(design_kind) + " rule " + std::to_string(rule));
      const targeting_result got = targeting_accuracy(r, design);
      const targeting_result want = from_the_table_of_units(r, design);
      ASSERT_EQ(got.welfare_cuts, want.welfare_cuts);
      EXPECT_EQ(got.table.n_units, 1);
      const double est_scale = want.estimate.cwiseAbs().maxCoeff(), v_scale = want.vcov.cwiseAbs().maxCoeff();
      EXPECT_LE((got.estimate - want.estimate).cwiseAbs().maxCoeff(), 1e-12 * est_scale);
      EXPECT_LE((got.vcov - want.vcov).cwiseAbs().maxCoeff(), 1e-12 * v_scale);
      EXPECT_EQ(got.undefined, want.undefined);
    }
}

TEST(TargetingPass, RowUnitDesignsKeepTheirAccuracyAtLargeOffsets) {
  // welfare and the line 10^9 above the values of the test above, unit weights (constant fields): the
  // moments per class are centred, so the variance keeps its digits as the table of n units does (whose
  // stage variance subtracts stratum means); both against each other to 1e-12 relative (seen: 7e-15).
  const Eigen::Index n = 20000;
  random_rows d = make_rows(n, 1, 2, 5, 67);
  d.y.array() += 1e9;
  survey_spec spec;
  spec.strata.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) spec.strata(i) = static_cast<int>(i % 3);
  const survey_design design(spec);
  targeting_rows r = rows_of(d, 2, 5);
  r.weights = nullptr;
  r.line = welfare_line::fixed(1e9 + 20);
  const targeting_result got = targeting_accuracy(r, design);
  const targeting_result want = from_the_table_of_units(r, design);
  for (Eigen::Index k = 0; k < want.vcov.rows(); ++k) {
    SCOPED_TRACE("metric " + std::to_string(k));
    EXPECT_NEAR(got.vcov(k, k), want.vcov(k, k), 1e-12 * std::abs(want.vcov(k, k)));
  }
}
