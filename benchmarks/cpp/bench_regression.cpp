// Google Benchmark: impactkit::ols on tall-thin designs (DESIGN.md §7).
//
//   BM_OlsHC1/n   OLS + HC1 variance, k = 10 (intercept + 9 regressors)
//   BM_OlsHC1NoResiduals/n  the same without storing the residuals (ols_options::keep_residuals =
//                 false): coefficients and variance only, nothing n-long written
//   BM_OlsCR1/n   OLS + CR1 variance clustered on a 1000-level id
//   BM_ReadPass/n one summing pass over the same n×10 float64 matrix, one thread: a memory-bandwidth
//                 lower bound for any estimator that has to read X at least once (numpy's X.sum())
//   BM_ReadPassThreaded/n  the same pass split over impactkit's thread count (row blocks of 65536);
//                 the lower of the two is the bound (a parallel region costs more than a small pass)
// n = 10^4, 10^5, 10^6, 10^7. Data are generated once per n (outside the timing loop) and shared by
// all benchmarks. Wall-clock time is reported (impactkit uses OpenMP threads); the thread
// count is shown as a counter and set with IMPACTKIT_BENCH_THREADS (default: OpenMP's default).
//
//   build/bench/bench_regression                                   # everything (10^7 needs ~1 GB)
//   build/bench/bench_regression --benchmark_filter='/(10000|100000)/' --benchmark_min_time=0.2  # quick
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>

#include <benchmark/benchmark.h>

#include <impactkit/impactkit.hpp>

namespace {

constexpr Eigen::Index kCols = 10;       // intercept + 9 regressors
constexpr int kClusters = 1000;          // 1e3-level cluster id
constexpr std::uint64_t kSeed = 20240601;

struct dataset {
  Eigen::MatrixXd X;         // n × k, column-major, first column ones
  Eigen::VectorXd y;
  Eigen::MatrixXi clusters;  // n × 1
};

dataset make_dataset(Eigen::Index n) {
  std::mt19937_64 rng(kSeed + static_cast<std::uint64_t>(n));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> cluster(0, kClusters - 1);
  dataset d;
  d.X.resize(n, kCols);
  d.y.resize(n);
  d.clusters.resize(n, 1);
  d.X.col(0).setOnes();
  for (Eigen::Index j = 1; j < kCols; ++j)
    for (Eigen::Index i = 0; i < n; ++i) d.X(i, j) = normal(rng);
  Eigen::VectorXd shock(kClusters);
  for (int g = 0; g < kClusters; ++g) shock(g) = 0.5 * normal(rng);
  Eigen::VectorXd beta(kCols);
  for (Eigen::Index j = 0; j < kCols; ++j) beta(j) = 0.1 * static_cast<double>(j + 1);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int g = cluster(rng);
    d.clusters(i, 0) = g;
    d.y(i) = shock(g) + normal(rng);
  }
  d.y.noalias() += d.X * beta;
  return d;
}

/// One dataset per n, built on first use and kept for the other benchmarks of the same n.
const dataset& data_for(Eigen::Index n) {
  static std::map<Eigen::Index, std::unique_ptr<dataset>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<dataset>(make_dataset(n));
  return *slot;
}

void configure_threads() {
  static const bool done = [] {
    if (const char* s = std::getenv("IMPACTKIT_BENCH_THREADS")) impactkit::set_num_threads(std::atoi(s));
    return true;
  }();
  (void)done;
}

void report(benchmark::State& state, Eigen::Index n, double bytes_per_row) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations()) * static_cast<double>(n) * bytes_per_row));
  state.counters["threads"] = impactkit::get_num_threads();
}

/// Times impactkit::ols on the dataset of size state.range(0) with the options `configure` sets.
template <typename Configure>
void time_ols(benchmark::State& state, Configure&& configure, double bytes_per_row) {
  configure_threads();
  const Eigen::Index n = state.range(0);
  const dataset& d = data_for(n);
  impactkit::ols_options opt;
  configure(d, opt);
  for (auto _ : state) {
    impactkit::ols_result r = impactkit::ols(d.X, d.y, opt);
    benchmark::DoNotOptimize(r.se.data());
    benchmark::ClobberMemory();
  }
  report(state, n, bytes_per_row);
}

void BM_OlsHC1(benchmark::State& state) {
  time_ols(state, [](const dataset&, impactkit::ols_options& o) { o.vcov = impactkit::vcov_spec::hc(1); },
           sizeof(double) * (kCols + 1));  // X and y read
}

void BM_OlsHC1NoResiduals(benchmark::State& state) {
  time_ols(state, [](const dataset&, impactkit::ols_options& o) {
        o.vcov = impactkit::vcov_spec::hc(1);
        o.keep_residuals = false;
      }, sizeof(double) * (kCols + 1));
}

void BM_OlsCR1(benchmark::State& state) {
  time_ols(state, [](const dataset& d, impactkit::ols_options& o) {
        o.vcov = impactkit::vcov_spec::cluster(d.clusters, impactkit::vcov_kind::cr1);
      }, sizeof(double) * (kCols + 1) + sizeof(int));  // X, y and the cluster codes
}

/// Sum over X in row blocks with `threads` threads (1: plain sequential pass).
double read_pass(const Eigen::MatrixXd& X, int threads) {
  const Eigen::Index n = X.rows(), block = 1 << 16, blocks = (n + block - 1) / block;
  double s = 0;
  (void)threads;
#pragma omp parallel for schedule(static) reduction(+ : s) num_threads(threads) if (threads > 1)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index b0 = b * block, len = std::min(block, n - b0);
    s += X.middleRows(b0, len).sum();
  }
  return s;
}

void BM_ReadPass(benchmark::State& state) {  // one thread, like numpy's X.sum()
  configure_threads();
  const Eigen::Index n = state.range(0);
  const dataset& d = data_for(n);
  for (auto _ : state) {
    double s = read_pass(d.X, 1);
    benchmark::DoNotOptimize(s);
  }
  report(state, n, sizeof(double) * kCols);
  state.counters["threads"] = 1;
}

void BM_ReadPassThreaded(benchmark::State& state) {  // impactkit's thread count
  configure_threads();
  const Eigen::Index n = state.range(0);
  const dataset& d = data_for(n);
  const int threads = impactkit::get_num_threads();
  for (auto _ : state) {
    double s = read_pass(d.X, threads);
    benchmark::DoNotOptimize(s);
  }
  report(state, n, sizeof(double) * kCols);
}

// 10^4 … 10^7 rows.
#define IMPACTKIT_SIZES RangeMultiplier(10)->Range(10'000, 10'000'000)->Unit(benchmark::kMillisecond)->UseRealTime()

BENCHMARK(BM_ReadPass)->IMPACTKIT_SIZES;
BENCHMARK(BM_ReadPassThreaded)->IMPACTKIT_SIZES;
BENCHMARK(BM_OlsHC1)->IMPACTKIT_SIZES;
BENCHMARK(BM_OlsHC1NoResiduals)->IMPACTKIT_SIZES;
BENCHMARK(BM_OlsCR1)->IMPACTKIT_SIZES;

}  // namespace
