// Google Benchmark: targeting accuracy on a built survey design (issue 14's scale benchmark; the Python
// twin is benchmarks/python/bench_targeting.py).
//
//   BM_ReadPass/n               three dot products w·y, w·B, w·b (numpy's floor in the Python script)
//   BM_WeightedQuintiles/n      the four weighted quintile cuts of welfare (laeken's rule)
//   BM_TargetingNoIncidence/n   every headline metric with design SEs, fixed line, no welfare groups
//   BM_Targeting/n              the same plus beneficiary / benefit incidence and coverage by quintile
//   BM_TargetingRepeated/n      the same with the quintile cuts of an earlier call (confirmed in the pass)
//   BM_TargetingRowsAsUnits/n   all metrics without a design (each row its own PSU: unit tables of n rows)
//   BM_TargetingRelativeLine/n  the headline metrics with a relative line (60% of the weighted median),
//                               whose estimation enters the variance (kernel density sums)
//   BM_Gini/n                   the Gini coefficient (Eurostat) with design SEs: sort, mid-point ranks, unit totals
//   BM_GiniRowsAsUnits/n        the same without a design (each row its own PSU)
// Data as in the Python script: 50 strata, 2,000 PSUs, log-normal welfare with a PSU effect, uniform
// weights 1–5, beneficiaries likelier among the poor, amounts 5–15. n = 10^6, 10^7.
//
//   build/bench/bench_targeting --benchmark_filter='/10000000' --benchmark_min_time=1
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>

#include <benchmark/benchmark.h>

#include <impactkit/core/survey_design.hpp>
#include <impactkit/targeting/inequality.hpp>
#include <impactkit/targeting/targeting_accuracy.hpp>
#include <impactkit/targeting/welfare_line.hpp>

namespace {

struct dataset {
  Eigen::VectorXd w, y, B, b;
  std::unique_ptr<impactkit::survey_design> design;
};

const dataset& data(Eigen::Index n) {
  static std::map<Eigen::Index, std::unique_ptr<dataset>> cache;
  auto& slot = cache[n];
  if (slot) return *slot;
  slot = std::make_unique<dataset>();
  dataset& d = *slot;
  std::mt19937_64 rng(20261202);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Eigen::VectorXd effect(2000);
  for (auto& e : effect) e = 0.4 * normal(rng);
  impactkit::survey_spec spec;
  spec.strata.resize(n);
  spec.ids.resize(n, 1);
  d.w.resize(n), d.y.resize(n), d.B.resize(n), d.b.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int psu = static_cast<int>(unit(rng) * 2000);
    spec.ids(i, 0) = psu;
    spec.strata(i) = psu / 40;
    d.w(i) = 1 + 4 * unit(rng);
    d.y(i) = std::exp(3 + effect(psu) + 0.6 * normal(rng));
    d.B(i) = unit(rng) < 1 / (1 + std::exp(-(2.2 - 0.09 * d.y(i)))) ? 1.0 : 0.0;
    d.b(i) = d.B(i) * (5 + 10 * unit(rng));
  }
  spec.weights = d.w;
  d.design = std::make_unique<impactkit::survey_design>(spec);
  return d;
}

impactkit::targeting_rows rows(const dataset& d, int groups, bool relative) {
  impactkit::targeting_rows r;
  r.n = d.y.size();
  r.weights = d.w.data();
  r.beneficiary = d.B.data();
  r.benefit = d.b.data();
  r.welfare = d.y.data();
  r.line = relative ? impactkit::welfare_line::relative(0.6) : impactkit::welfare_line::fixed(20.0);
  r.n_welfare_groups = groups;
  return r;
}

void BM_ReadPass(benchmark::State& state) {
  const dataset& d = data(state.range(0));
  for (auto _ : state) {
    double s = d.w.dot(d.y) + d.w.dot(d.B) + d.w.dot(d.b);
    benchmark::DoNotOptimize(s);
  }
}

void BM_WeightedQuintiles(benchmark::State& state) {
  const dataset& d = data(state.range(0));
  for (auto _ : state) {
    auto q = impactkit::weighted_quantiles(d.y.size(), d.y.data(), d.w.data(), nullptr, {0.2, 0.4, 0.6, 0.8});
    benchmark::DoNotOptimize(q.data());
  }
}

void run_targeting(benchmark::State& state, int groups, bool relative) {
  const dataset& d = data(state.range(0));
  const impactkit::targeting_rows r = rows(d, groups, relative);
  for (auto _ : state) {
    auto res = impactkit::targeting_accuracy(r, *d.design);
    benchmark::DoNotOptimize(res.vcov.data());
  }
}

void BM_TargetingNoIncidence(benchmark::State& state) { run_targeting(state, 0, false); }

void BM_TargetingRowsAsUnits(benchmark::State& state) {  // no design: each row its own PSU (U = n)
  const dataset& d = data(state.range(0));
  impactkit::survey_spec spec;
  spec.weights = d.w;
  const impactkit::survey_design iid(spec);
  const impactkit::targeting_rows r = rows(d, 5, false);
  for (auto _ : state) {
    auto res = impactkit::targeting_accuracy(r, iid);
    benchmark::DoNotOptimize(res.vcov.data());
  }
}

void BM_TargetingRepeated(benchmark::State& state) {  // quintile cuts of an earlier call, confirmed in the pass
  const dataset& d = data(state.range(0));
  impactkit::targeting_rows r = rows(d, 5, false);
  const std::vector<double> cuts = impactkit::targeting_accuracy(r, *d.design).welfare_cuts;
  r.welfare_cuts_hint = &cuts;
  for (auto _ : state) {
    auto res = impactkit::targeting_accuracy(r, *d.design);
    if (!res.welfare_cuts_from_hint) state.SkipWithError("the hint was not confirmed");
    benchmark::DoNotOptimize(res.vcov.data());
  }
}
void BM_Targeting(benchmark::State& state) { run_targeting(state, 5, false); }

void run_gini(benchmark::State& state, bool rows_as_units) {
  const dataset& d = data(state.range(0));
  impactkit::survey_spec spec;
  spec.weights = d.w;
  const impactkit::survey_design iid(spec);
  impactkit::welfare_rows r;
  r.n = d.y.size();
  r.welfare = d.y.data();
  r.weights = d.w.data();
  for (auto _ : state) {
    auto res = impactkit::gini(r, rows_as_units ? iid : *d.design, impactkit::gini_convention::eurostat);
    benchmark::DoNotOptimize(res.vcov.data());
  }
}
void BM_Gini(benchmark::State& state) { run_gini(state, false); }
void BM_GiniRowsAsUnits(benchmark::State& state) { run_gini(state, true); }
void BM_TargetingRelativeLine(benchmark::State& state) { run_targeting(state, 0, true); }

}  // namespace

#define IK_SIZES ->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond)->UseRealTime()
BENCHMARK(BM_ReadPass) IK_SIZES;
BENCHMARK(BM_WeightedQuintiles) IK_SIZES;
BENCHMARK(BM_TargetingNoIncidence) IK_SIZES;
BENCHMARK(BM_Targeting) IK_SIZES;
BENCHMARK(BM_TargetingRepeated) IK_SIZES;
BENCHMARK(BM_TargetingRowsAsUnits)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TargetingRelativeLine) IK_SIZES;
BENCHMARK(BM_Gini)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GiniRowsAsUnits)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
