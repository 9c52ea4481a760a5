// Out-of-line definitions for impactkit/detail/score_sums.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/detail/score_sums.hpp>

#include <algorithm>
#include <vector>

#include <Eigen/Core>

namespace impactkit::detail {

Eigen::MatrixXd weighted_cross_product(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols,
                                       const double* u) {
  const Eigen::Index n = Z.rows(), p = static_cast<Eigen::Index>(cols.size());
  const Eigen::Index block = 1024;
  const row_chunks chunks = make_row_chunks(n, 8 * block);
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(chunks.count));
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(p, p);
    std::vector<double> d(u ? static_cast<std::size_t>(block) : 0);
    std::vector<const double*> col(static_cast<std::size_t>(p));
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = Z.col(cols[static_cast<std::size_t>(j)]).data() + b0;
      if (u)
        for (Eigen::Index i = 0; i < len; ++i) d[static_cast<std::size_t>(i)] = u[b0 + i] * u[b0 + i];
      accumulate_cross_product(col.data(), p, len, acc.data(), u ? d.data() : nullptr);
    }
    partial[static_cast<std::size_t>(c)] = acc;
  }
  Eigen::MatrixXd total = Eigen::MatrixXd::Zero(p, p);
  for (const auto& m : partial) total += m;
  return symmetric_from_lower(total);
}

namespace {

/// One sweep of group_score_sums over M columns: the sums of each group sit next to each other
/// (row-major G×M table), so a row updates one or two cache lines instead of M scattered ones. Each
/// column is still summed in row order, so the sums are those of a column-by-column sweep, bit for bit.
template <int M>
void score_sums_sweep(const double* const* z, const double* u, const int* code, Eigen::Index n, double* table) {
  for (Eigen::Index i = 0; i < n; ++i) {
    const double ui = u ? u[i] : 1.0;
    double* row = table + static_cast<std::ptrdiff_t>(code[i]) * M;
    for (int q = 0; q < M; ++q) row[q] += ui * z[q][i];
  }
}

using sweep_fn = void (*)(const double* const*, const double*, const int*, Eigen::Index, double*);
constexpr sweep_fn sweeps_by_width[] = {nullptr, score_sums_sweep<1>, score_sums_sweep<2>, score_sums_sweep<3>, score_sums_sweep<4>,
                                        score_sums_sweep<5>, score_sums_sweep<6>, score_sums_sweep<7>, score_sums_sweep<8>};

}  // namespace

Eigen::MatrixXd group_score_sums(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols,
                                 const double* u, const group_codes& g) {
  const Eigen::Index n = Z.rows(), p = static_cast<Eigen::Index>(cols.size()), G = g.n_groups;
  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(G, p);
  const int* code = g.code.data();
  const int threads = threads_for(p, static_cast<double>(n));
  const Eigen::Index groups = std::max(1, threads);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index t = 0; t < groups; ++t) {
    const Eigen::Index j0 = p * t / groups, j1 = p * (t + 1) / groups;
    // sweeps of at most 8 columns, so that a sweep reads a bounded number of streams
    const Eigen::Index sweeps = (j1 - j0 + 7) / 8;
    std::vector<double> table;
    for (Eigen::Index sw = 0; sw < sweeps; ++sw) {
      const Eigen::Index jb = j0 + (j1 - j0) * sw / sweeps, je = j0 + (j1 - j0) * (sw + 1) / sweeps, m = je - jb;
      const double* z[8];
      for (Eigen::Index q = 0; q < m; ++q) z[q] = Z.col(cols[static_cast<std::size_t>(jb + q)]).data();
      if (G * m > (Eigen::Index{1} << 20)) {  // many groups: every update misses the cache anyway; no second table
        double* s[8];
        for (Eigen::Index q = 0; q < m; ++q) s[q] = sums.col(jb + q).data();
        for (Eigen::Index i = 0; i < n; ++i) {
          const double ui = u ? u[i] : 1.0;
          const int gi = code[i];
          for (Eigen::Index q = 0; q < m; ++q) s[q][gi] += ui * z[q][i];
        }
        continue;
      }
      table.assign(static_cast<std::size_t>(G * m), 0.0);
      sweeps_by_width[m](z, u, code, n, table.data());
      for (Eigen::Index q = 0; q < m; ++q) {
        double* s = sums.col(jb + q).data();
        for (Eigen::Index c = 0; c < G; ++c) s[c] = table[static_cast<std::size_t>(c * m + q)];
      }
    }
  }
  return sums;
}

}  // namespace impactkit::detail
