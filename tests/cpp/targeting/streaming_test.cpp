// Streaming accumulators (core/design_accumulator.hpp, targeting/streaming.hpp): a C++ application
// streams the R-reference registry (tests/reference/r/targeting/targeting_data.csv; stratified, PSUs
// nested in strata, stage-1 FPC) in chunks, in a shuffled row order, merges partial accumulators and
// must get the numbers of the in-memory call (which equals R survey; targeting_accuracy_test.cpp).
// Tolerance: relative 1e-10 on estimates and variances (only the order of additions differs).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/targeting/streaming.hpp>
#include <impactkit/targeting/welfare_index.hpp>

#include "../reference_csv.hpp"

using namespace impactkit;

namespace {

struct registry {
  Eigen::Index n = 0;
  std::vector<double> w, welfare, beneficiary, benefit, fpc;
  std::vector<std::int64_t> stratum, psu;
  std::vector<int> female;

  registry() {
    auto csv = test::read_csv(std::string(IMPACTKIT_TEST_DATA_DIR) + "/r/targeting/targeting_data.csv");
    n = static_cast<Eigen::Index>(csv["w"].size());
    for (std::size_t i = 0; i < csv["w"].size(); ++i) {
      w.push_back(std::stod(csv["w"][i]));
      welfare.push_back(std::stod(csv["welfare"][i]));
      beneficiary.push_back(std::stod(csv["beneficiary"][i]));
      benefit.push_back(std::stod(csv["benefit"][i]));
      fpc.push_back(std::stod(csv["fpc"][i]));
      stratum.push_back(std::stoll(csv["stratum"][i]));
      psu.push_back(std::stoll(csv["psu"][i]));
      female.push_back(csv["sex"][i] == "F" ? 0 : 1);
    }
  }
  /// The rows in the order `order` (a shuffled copy).
  registry permuted(const std::vector<std::size_t>& order) const {
    registry r = *this;
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::size_t i = order[k];
      r.w[k] = w[i], r.welfare[k] = welfare[i], r.beneficiary[k] = beneficiary[i], r.benefit[k] = benefit[i];
      r.fpc[k] = fpc[i], r.stratum[k] = stratum[i], r.psu[k] = psu[i], r.female[k] = female[i];
    }
    return r;
  }
  survey_design design(lonely_psu_rule rule) const {
    survey_spec spec;
    spec.strata.resize(n);
    spec.ids.resize(n, 1);
    spec.fpc.resize(n, 1);
    for (Eigen::Index i = 0; i < n; ++i) {
      spec.strata(i) = static_cast<int>(stratum[static_cast<std::size_t>(i)]);
      spec.ids(i, 0) = static_cast<int>(psu[static_cast<std::size_t>(i)]);
      spec.fpc(i, 0) = fpc[static_cast<std::size_t>(i)];
    }
    spec.weights = Eigen::Map<const Eigen::VectorXd>(w.data(), n);
    spec.nest = true;
    spec.lonely_psu = rule;
    return survey_design(spec);
  }
  targeting_rows rows(Eigen::Index begin, Eigen::Index end, const welfare_line& line) const {
    targeting_rows r;
    r.n = end - begin;
    r.weights = w.data() + begin;
    r.line = line;
    r.beneficiary = beneficiary.data() + begin;
    r.benefit = benefit.data() + begin;
    r.welfare = welfare.data() + begin;
    r.domain = female.data() + begin;
    r.n_domains = 2;
    r.n_welfare_groups = 5;
    return r;
  }
  design_chunk chunk(Eigen::Index begin, Eigen::Index end) const {
    design_chunk c;
    c.n = end - begin;
    c.strata = stratum.data() + begin;
    c.psu = psu.data() + begin;
    c.fpc = fpc.data() + begin;
    return c;
  }
};

void expect_close(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want, double rtol) {
  ASSERT_EQ(got.rows(), want.rows());
  ASSERT_EQ(got.cols(), want.cols());
  const double scale = want.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < want.size(); ++i) {
    if (std::isnan(want(i))) {
      EXPECT_TRUE(std::isnan(got(i)));
      continue;
    }
    EXPECT_NEAR(got(i), want(i), rtol * std::max(std::fabs(want(i)), 1e-6 * scale)) << "entry " << i;
  }
}

/// Streams `data` in chunks of sizes 1, 7, 64, … into three accumulators, merged at the end.
template <class Acc, class Update>
Acc stream(const registry& data, Acc first, Acc second, Acc third, Update update) {
  const Eigen::Index cuts[] = {0, 1, 8, 8, 72, 200, 300, data.n};  // includes an empty chunk
  Acc* accs[] = {&first, &second, &third};
  for (std::size_t c = 0; c + 1 < std::size(cuts); ++c) update(*accs[c % 3], cuts[c], cuts[c + 1]);
  second.merge(third);
  first.merge(second);
  return first;
}

}  // namespace

TEST(Streaming, TargetingInChunksEqualsTheInMemoryCall) {
  const registry base;
  std::vector<std::size_t> order(static_cast<std::size_t>(base.n));
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  const registry data = base.permuted(order);
  for (const welfare_line& line : {welfare_line::fixed(20.0), welfare_line::relative(0.6), welfare_line::bottom(0.3)}) {
    const survey_design design = base.design(lonely_psu_rule::fail);
    targeting_rows all = base.rows(0, base.n, line);
    all.n_welfare_groups = 5;
    const targeting_result want = targeting_accuracy(all, design);

    targeting_stream_setup setup;
    setup.line = line;
    setup.values.q = line.kind == line_kind::quantile ? want.line / line.share : NAN;
    setup.values.h = want.bandwidth;
    setup.amounts = setup.welfare = true;
    setup.n_domains = 2;
    setup.n_welfare_groups = 5;
    setup.welfare_cuts = want.welfare_cuts;
    setup.nest = setup.fpc = true;
    const targeting_accumulator acc =
        stream(data, targeting_accumulator(setup), targeting_accumulator(setup), targeting_accumulator(setup),
               [&](targeting_accumulator& a, Eigen::Index b, Eigen::Index e) { a.update(data.rows(b, e, line), data.chunk(b, e)); });
    EXPECT_EQ(acc.totals().rows(), base.n);
    // memory: one row per PSU, not per observation
    EXPECT_EQ(acc.totals().n_psu(), design.n_psu());
    const targeting_result got = acc.finalize(lonely_psu_rule::fail);
    ASSERT_EQ(got.metrics.size(), want.metrics.size());
    expect_close(got.estimate, want.estimate, 1e-10);
    expect_close(got.vcov, want.vcov, 1e-10);
    EXPECT_EQ(got.conventions.df_value, want.conventions.df_value);
    EXPECT_EQ(got.conventions.n_obs, want.conventions.n_obs);
    EXPECT_EQ(got.conventions.n_psu, want.conventions.n_psu);
    EXPECT_EQ(got.conventions.n_strata, want.conventions.n_strata);

    // a copy through the plain-array state (how partitions travel between processes) gives the same
    const targeting_accumulator copy(setup, acc.totals().get_state());
    expect_close(copy.finalize(lonely_psu_rule::fail).vcov, want.vcov, 1e-10);
  }
}

TEST(Streaming, PovertyInChunksEqualsTheInMemoryCall) {
  const registry data;
  for (const welfare_line& line : {welfare_line::fixed(20.0), welfare_line::relative(0.6)}) {
    for (double alpha : {0.0, 1.0, 2.0}) {
      const survey_design design = data.design(lonely_psu_rule::fail);
      welfare_rows all;
      all.n = data.n;
      all.welfare = data.welfare.data();
      all.weights = data.w.data();
      all.domain = data.female.data();
      all.n_domains = 2;
      const welfare_index_result want = poverty_measure(all, poverty_index::fgt, alpha, line, design);
      line_values v;
      v.q = line.kind == line_kind::quantile ? want.line / line.share : NAN;
      v.h = want.bandwidth;
      poverty_accumulator a(poverty_index::fgt, alpha, line, v, 2, true, true), b = a;
      for (Eigen::Index s = 0; s < data.n; s += 50) {
        const Eigen::Index e = std::min(data.n, s + 50);
        welfare_rows r = all;
        r.n = e - s;
        r.welfare += s;
        r.weights += s;
        r.domain += s;
        ((s / 50) % 2 ? a : b).update(r, data.chunk(s, e));
      }
      a.merge(b);
      const welfare_index_result got = a.finalize(lonely_psu_rule::fail);
      expect_close(got.estimate, want.estimate, 1e-10);
      expect_close(got.vcov, want.vcov, 1e-10);
    }
  }
}

/// One accumulator per weight set — the rows' weights, then each column of repw — made by make(rows) and
/// streamed with all rows in a single PSU (how a replicate design is streamed).
template <class Rows, class Make>
auto per_weight_set(const Rows& rows, const Eigen::MatrixXd& repw, Make make) {
  static std::vector<std::int64_t> zeros;
  zeros.assign(static_cast<std::size_t>(rows.n), 0);
  design_chunk one_psu;
  one_psu.n = rows.n;
  one_psu.psu = zeros.data();
  std::vector<decltype(make(rows))> out;
  for (Eigen::Index k = -1; k < repw.cols(); ++k) {
    Rows rk = rows;
    if (k >= 0) rk.weights = repw.col(k).data();
    out.push_back(make(rk));
    out.back().update(rk, one_psu);
  }
  return out;
}

/// The registry's stream setup: amounts and welfare, two domains, quintile incidence at `cuts`; `design`:
/// PSUs nested in strata with a stage-1 FPC (else a single-PSU replicate stream).
targeting_stream_setup registry_setup(const welfare_line& line, std::vector<double> cuts, bool design) {
  targeting_stream_setup setup;
  setup.line = line;
  setup.amounts = setup.welfare = true;
  setup.n_domains = 2;
  setup.n_welfare_groups = 5;
  setup.welfare_cuts = std::move(cuts);
  setup.nest = setup.fpc = design;
  return setup;
}

line_values values_of(const welfare_line& line, double z, double h) {
  line_values v;
  if (line.kind == line_kind::quantile) v.q = z / line.share, v.h = h;
  return v;
}

TEST(Streaming, ReplicateDesignsEqualTheInMemoryCall) {
  // finalize_replicates: one single-PSU accumulator per weight set (each replicate with its own line value)
  // gives targeting_accuracy / welfare_index with replicate weights, to 1e-10
  const registry data;
  const Eigen::Index R = 5;
  Eigen::MatrixXd repw(data.n, R);
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  for (Eigen::Index k = 0; k < R; ++k)
    for (Eigen::Index i = 0; i < data.n; ++i) repw(i, k) = data.w[static_cast<std::size_t>(i)] * u(gen);
  replicate_spec spec;
  spec.method = replicate_method::jk1;
  spec.df = R - 1.0;
  survey_spec plain_spec;
  plain_spec.weights = Eigen::VectorXd::Ones(data.n);
  const survey_design plain(plain_spec);
  for (const welfare_line& line : {welfare_line::fixed(20.0), welfare_line::relative(0.6)}) {
    targeting_rows all = data.rows(0, data.n, line);
    const targeting_result want = targeting_accuracy(all, repw, spec);
    const targeting_stream_setup setup = registry_setup(line, want.welfare_cuts, false);
    // each weight set's accumulator with its own line value (from the in-memory call with those weights)
    std::vector<targeting_accumulator> sets = per_weight_set(all, repw, [&](const targeting_rows& rk) {
      const targeting_result at = targeting_accuracy(rk, plain);
      targeting_stream_setup sk = setup;
      sk.values = values_of(line, at.line, at.bandwidth);
      return targeting_accumulator(sk);
    });
    const std::vector<targeting_accumulator> reps(sets.begin() + 1, sets.end());
    const targeting_result got = sets.front().finalize_replicates(reps, spec);
    expect_close(got.estimate, want.estimate, 1e-10);
    expect_close(got.vcov, want.vcov, 1e-10);
    EXPECT_EQ(got.conventions.df_value, want.conventions.df_value);

    // FGT(1): poverty_accumulator::finalize_replicates against welfare_index with replicate weights
    welfare_rows wr;
    wr.n = data.n;
    wr.welfare = data.welfare.data();
    wr.weights = data.w.data();
    wr.domain = data.female.data();
    wr.n_domains = 2;
    welfare_index_spec index;
    index.kind = welfare_index_kind::fgt;
    index.parameter = 1;
    index.line = line;
    const welfare_index_result want_fgt = welfare_index(wr, index, repw, spec);
    std::vector<poverty_accumulator> psets = per_weight_set(wr, repw, [&](const welfare_rows& rk) {
      const welfare_index_result at = welfare_index(rk, index, plain);
      return poverty_accumulator(poverty_index::fgt, 1.0, line, values_of(line, at.line, at.bandwidth), 2, false, false);
    });
    const std::vector<poverty_accumulator> preps(psets.begin() + 1, psets.end());
    const welfare_index_result got_fgt = psets.front().finalize_replicates(preps, spec);
    expect_close(got_fgt.estimate, want_fgt.estimate, 1e-10);
    expect_close(got_fgt.vcov, want_fgt.vcov, 1e-10);
    if (line.kind == line_kind::quantile) {
      EXPECT_NEAR(got_fgt.line_variance, want_fgt.line_variance, 1e-10 * want_fgt.line_variance);
    }
  }
}

TEST(Streaming, FinalizeOnAnOutsideDesignEqualsFinalize) {
  // finalize(design, unit_totals) with the accumulator's own design and totals is finalize(rule)
  const registry data;
  const welfare_line line = welfare_line::fixed(20.0);
  targeting_stream_setup setup;
  setup.line = line;
  setup.amounts = setup.welfare = true;
  setup.n_domains = 2;
  setup.nest = setup.fpc = true;
  targeting_rows rows = data.rows(0, data.n, line);
  rows.n_welfare_groups = 0;
  targeting_accumulator acc(setup);
  acc.update(rows, data.chunk(0, data.n));
  const targeting_result want = acc.finalize(lonely_psu_rule::fail);
  const targeting_result got = acc.finalize(acc.totals().design(lonely_psu_rule::fail), acc.totals().table().totals);
  expect_close(got.estimate, want.estimate, 1e-14);
  expect_close(got.vcov, want.vcov, 1e-14);
  EXPECT_THROW(acc.finalize(acc.totals().design(lonely_psu_rule::fail), Eigen::MatrixXd::Zero(3, 3)), std::exception);
}

TEST(Streaming, LonelyPsuRulesAreDecidedOnTheMergedCounts) {
  // stratum 1 of the reference data split so that one stratum keeps a single PSU: drop the other PSUs of
  // the first stratum; each chunk alone has one PSU per stratum, only the merged counts are right
  registry data;
  const std::int64_t s0 = data.stratum[0], p0 = data.psu[0];
  registry kept;
  kept.n = 0;
  kept.w.clear(), kept.welfare.clear(), kept.beneficiary.clear(), kept.benefit.clear(), kept.fpc.clear();
  kept.stratum.clear(), kept.psu.clear(), kept.female.clear();
  for (std::size_t i = 0; i < data.w.size(); ++i) {
    if (data.stratum[i] == s0 && data.psu[i] != p0) continue;
    kept.w.push_back(data.w[i]), kept.welfare.push_back(data.welfare[i]), kept.beneficiary.push_back(data.beneficiary[i]);
    kept.benefit.push_back(data.benefit[i]), kept.fpc.push_back(data.fpc[i]), kept.stratum.push_back(data.stratum[i]);
    kept.psu.push_back(data.psu[i]), kept.female.push_back(data.female[i]);
    ++kept.n;
  }
  for (lonely_psu_rule rule : {lonely_psu_rule::remove, lonely_psu_rule::average, lonely_psu_rule::adjust}) {
    const survey_design design = kept.design(rule);
    ASSERT_EQ(design.n_lonely_strata(), 1);
    const welfare_line line = welfare_line::fixed(20.0);
    const targeting_result want = targeting_accuracy(kept.rows(0, kept.n, line), design);
    const targeting_stream_setup setup = registry_setup(line, want.welfare_cuts, true);
    targeting_accumulator a(setup), b(setup);
    for (Eigen::Index i = 0; i < kept.n; ++i) (i % 2 ? a : b).update(kept.rows(i, i + 1, line), kept.chunk(i, i + 1));
    a.merge(b);
    const targeting_result got = a.finalize(rule);
    expect_close(got.vcov, want.vcov, 1e-10);
    EXPECT_EQ(got.conventions.n_lonely_strata, 1);
  }
  targeting_stream_setup setup;
  setup.line = welfare_line::fixed(20.0);
  setup.welfare = true;
  setup.nest = setup.fpc = true;
  targeting_accumulator a(setup);
  targeting_rows r = kept.rows(0, kept.n, setup.line);
  r.benefit = nullptr, r.domain = nullptr, r.n_domains = 1, r.n_welfare_groups = 0;
  a.update(r, kept.chunk(0, kept.n));
  EXPECT_THROW(a.finalize(lonely_psu_rule::fail), invalid_input);  // names the lonely stratum, as in memory
}

TEST(Streaming, RefusesInconsistentChunks) {
  const registry data;
  targeting_stream_setup setup;
  setup.line = welfare_line::fixed(20.0);
  setup.amounts = setup.welfare = true;
  setup.n_domains = 2;
  setup.n_welfare_groups = 0;
  setup.nest = setup.fpc = true;
  targeting_accumulator a(setup);
  targeting_rows r = data.rows(0, 10, setup.line);
  r.n_welfare_groups = 0;
  design_chunk c = data.chunk(0, 10);
  c.psu = nullptr;
  EXPECT_THROW(a.update(r, c), invalid_input);  // no PSU labels
  c = data.chunk(0, 9);
  EXPECT_THROW(a.update(r, c), invalid_input);  // length mismatch
  r.benefit = nullptr;
  EXPECT_THROW(a.update(r, data.chunk(0, 10)), invalid_input);  // columns differ from the setup
  targeting_stream_setup other = setup;
  other.n_domains = 1;
  targeting_accumulator b(other);
  EXPECT_THROW(a.merge(b), invalid_input);
  std::vector<double> bad_w(data.w.begin(), data.w.begin() + 10);
  bad_w[3] = NAN;
  r = data.rows(0, 10, setup.line);
  r.n_welfare_groups = 0;
  r.weights = bad_w.data();
  EXPECT_THROW(a.update(r, data.chunk(0, 10)), invalid_input);
  // a PSU label in two strata without nest
  targeting_stream_setup flat = setup;
  flat.nest = false;
  targeting_accumulator f(flat);
  std::vector<std::int64_t> strata = {1, 2}, psu = {5, 5};
  std::vector<double> fpc = {10, 10};
  design_chunk two;
  two.n = 2, two.strata = strata.data(), two.psu = psu.data(), two.fpc = fpc.data();
  targeting_rows r2 = data.rows(0, 2, setup.line);
  r2.n_welfare_groups = 0;
  EXPECT_THROW(f.update(r2, two), invalid_input);
  EXPECT_THROW(targeting_accumulator(flat).finalize(lonely_psu_rule::fail), invalid_input);  // nothing streamed
}

TEST(Streaming, DenseAndSparsePsuLabelsCodeRowsAlike) {
  // design_accumulator::plan_rows reaches a PSU through a dense array over a chunk's label range when it is
  // small, else through hash tables: the reference data's labels (small integers) against the same labels
  // spread over the int64 range give the same totals, design and checks, chunk after chunk
  const registry data;
  const auto spread = [](std::int64_t v) -> std::int64_t { return v * 1000003LL * 1000003LL - 4611686018427387904LL; };
  for (bool nest : {true, false}) {
    // PSU labels repeat across the strata of the data: unique ones (100·stratum + PSU) without nest
    std::vector<std::int64_t> near_psu(data.psu), far_strata(data.stratum.size()), far_psu(data.psu.size());
    for (std::size_t i = 0; i < far_psu.size(); ++i) {
      if (!nest) near_psu[i] = 100 * data.stratum[i] + data.psu[i];
      far_strata[i] = spread(data.stratum[i]), far_psu[i] = spread(near_psu[i]);
    }
    design_accumulator near_acc(2, 1, nest, true), far_acc(2, 1, nest, true);
    const auto row = [&](Eigen::Index i, double* x) {
      x[0] = data.w[static_cast<std::size_t>(i)] * data.welfare[static_cast<std::size_t>(i)];
      return data.female[static_cast<std::size_t>(i)];
    };
    const Eigen::Index cuts[] = {0, 1, 40, 41, 300, data.n};
    for (std::size_t k = 0; k + 1 < std::size(cuts); ++k) {
      const Eigen::Index b = cuts[k], e = cuts[k + 1];
      design_chunk c = data.chunk(b, e);
      c.weights = data.w.data() + b, c.psu = near_psu.data() + b;
      near_acc.update(c, [&](Eigen::Index i, double* x) { return row(b + i, x); }, [](Eigen::Index) { FAIL(); });
      c.strata = far_strata.data() + b, c.psu = far_psu.data() + b;
      far_acc.update(c, [&](Eigen::Index i, double* x) { return row(b + i, x); }, [](Eigen::Index) { FAIL(); });
    }
    ASSERT_EQ(near_acc.n_psu(), far_acc.n_psu());
    EXPECT_EQ(near_acc.table().totals, far_acc.table().totals);  // the same rows in the same order per PSU
    const Eigen::MatrixXd total = near_acc.table().totals.colwise().sum();
    const Eigen::MatrixXd v_near = near_acc.design(lonely_psu_rule::fail).variance_of_unit_totals(near_acc.table().totals);
    const Eigen::MatrixXd v_far = far_acc.design(lonely_psu_rule::fail).variance_of_unit_totals(far_acc.table().totals);
    EXPECT_EQ(v_near, v_far);
    EXPECT_GT(total(0, 0), 0);
    // an FPC that changes within a PSU, in the chunk or against an earlier chunk, on either path
    for (const std::int64_t* labels : {near_psu.data(), far_psu.data()}) {
      design_accumulator acc(2, 1, nest, true);
      const std::int64_t* strata = labels == near_psu.data() ? data.stratum.data() : far_strata.data();
      std::vector<double> fpc(data.fpc.begin(), data.fpc.begin() + 20);
      design_chunk c;
      c.n = 20, c.strata = strata, c.psu = labels, c.fpc = fpc.data();
      acc.update(c, [&](Eigen::Index i, double* x) { return row(i, x); }, [](Eigen::Index) { FAIL(); });
      fpc[7] *= 2;
      EXPECT_THROW(acc.update(c, [&](Eigen::Index i, double* x) { return row(i, x); }, [](Eigen::Index) {}), invalid_input);
      EXPECT_EQ(acc.rows(), 20);  // the failed chunk left the accumulator unchanged
      design_accumulator fresh(2, 1, nest, true);
      EXPECT_THROW(fresh.update(c, [&](Eigen::Index i, double* x) { return row(i, x); }, [](Eigen::Index) {}), invalid_input);
    }
  }
  // without nest a label names one PSU: the same label in two strata, within a chunk or across chunks
  for (std::int64_t base : {std::int64_t{5}, spread(5)}) {
    std::vector<std::int64_t> strata = {1, 1, 2}, psu = {base, base, base};
    design_chunk c;
    c.n = 3, c.strata = strata.data(), c.psu = psu.data();
    const auto one = [](Eigen::Index, double* x) { x[0] = 1; return 0; };
    design_accumulator within(1, 1, false, false);
    EXPECT_THROW(within.update(c, one, [](Eigen::Index) {}), invalid_input);
    design_accumulator across(1, 1, false, false);
    c.n = 2;
    across.update(c, one, [](Eigen::Index) {});
    c.n = 1, c.strata = strata.data() + 2, c.psu = psu.data() + 2;
    EXPECT_THROW(across.update(c, one, [](Eigen::Index) {}), invalid_input);
    design_accumulator nested(1, 1, true, false);  // with nest the two are different PSUs
    c.n = 3, c.strata = strata.data(), c.psu = psu.data();
    nested.update(c, one, [](Eigen::Index) {});
    EXPECT_EQ(nested.n_psu(), 2);
  }
}
