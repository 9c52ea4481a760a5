// One-pass, cache-blocked count / mean / variance per cell (formulas in impactkit/monitoring/cell_moments.hpp).
#include <impactkit/monitoring/cell_moments.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <impactkit/core/errors.hpp>
#include <impactkit/detail/row_blocks.hpp>
#include <impactkit/detail/threads.hpp>

namespace impactkit {
namespace {

constexpr Eigen::Index block_rows = 16384;  // one column's block (128 KB) stays in L2 between the two passes

/// (n, mean, M2) of one cell and column; merge() is Chan et al.'s pairwise update.
struct moment_triple {
  double n = 0, mean = 0, m2 = 0;
  void merge(double nb, double mb, double m2b) {
    if (nb == 0) return;
    if (n == 0) {
      n = nb, mean = mb, m2 = m2b;
      return;
    }
    const double total = n + nb, delta = mb - mean;
    mean += delta * (nb / total);
    m2 += m2b + delta * delta * (n * nb / total);
    n = total;
  }
};

/// One chunk of rows: its per-(cell, column) triples, first infinite row per column, first bad cell row.
struct chunk_state {
  std::vector<moment_triple> acc;  // cell-major: c·p + j
  std::vector<Eigen::Index> first_inf;
  Eigen::Index first_bad = -1;
};

/// Whether y[0..len) holds ±inf: |y| has the bits of +inf (an integer test the compiler vectorises,
/// unlike a floating-point compare that must also handle NaN).
inline bool has_infinite(const double* y, Eigen::Index len) {
  constexpr std::uint64_t abs_mask = 0x7fffffffffffffffULL, inf_bits = 0x7ff0000000000000ULL;
  std::uint64_t hit[4] = {0, 0, 0, 0};
  Eigen::Index k = 0;
  for (; k + 4 <= len; k += 4) {
    std::uint64_t bits[4];
    std::memcpy(bits, y + k, sizeof bits);
    for (int u = 0; u < 4; ++u) hit[u] |= static_cast<std::uint64_t>((bits[u] & abs_mask) == inf_bits);
  }
  for (; k < len; ++k) {
    std::uint64_t bits;
    std::memcpy(&bits, y + k, sizeof bits);
    hit[0] |= static_cast<std::uint64_t>((bits & abs_mask) == inf_bits);
  }
  return (hit[0] | hit[1] | hit[2] | hit[3]) != 0;
}

/// Count and sum of the finite values y[idx[0..len)] − shift (v − v = 0 iff v is finite), in four interleaved
/// partial sums (a fixed order, so deterministic) to break the floating-point add chain.
inline void run_count_sum(const double* y, const int* idx, int len, double shift, double& count, double& sum) {
  double c[4] = {0, 0, 0, 0}, s[4] = {0, 0, 0, 0};
  int k = 0;
  for (; k + 4 <= len; k += 4)
    for (int u = 0; u < 4; ++u) {
      const double v = y[idx[k + u]];
      const bool ok = v - v == 0.0;
      c[u] += ok ? 1.0 : 0.0;
      s[u] += ok ? v - shift : 0.0;
    }
  for (; k < len; ++k) {
    const double v = y[idx[k]];
    const bool ok = v - v == 0.0;
    c[0] += ok ? 1.0 : 0.0;
    s[0] += ok ? v - shift : 0.0;
  }
  count = (c[0] + c[1]) + (c[2] + c[3]);
  sum = (s[0] + s[1]) + (s[2] + s[3]);
}

/// Σ (y − shift − mean)² over the finite values y[idx[0..len)], as run_count_sum.
inline double run_squared_deviations(const double* y, const int* idx, int len, double shift, double mean) {
  double s[4] = {0, 0, 0, 0};
  int k = 0;
  for (; k + 4 <= len; k += 4)
    for (int u = 0; u < 4; ++u) {
      const double v = y[idx[k + u]], d = (v - shift) - mean;
      s[u] += v - v == 0.0 ? d * d : 0.0;
    }
  for (; k < len; ++k) {
    const double v = y[idx[k]], d = (v - shift) - mean;
    s[0] += v - v == 0.0 ? d * d : 0.0;
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

template <class CellOf>
void accumulate_chunk(const std::vector<const double*>& columns, const std::vector<double>& shift, Eigen::Index begin,
                      Eigen::Index end, int n_cells, CellOf cell_of, chunk_state& st) {
  const auto p = static_cast<Eigen::Index>(columns.size());
  st.acc.assign(static_cast<std::size_t>(n_cells) * static_cast<std::size_t>(p), moment_triple{});
  st.first_inf.assign(static_cast<std::size_t>(p), -1);
  std::vector<int> rows(block_rows), cells(block_rows), order(block_rows), touched;
  std::vector<int> run_start(static_cast<std::size_t>(n_cells) + 1), run_fill(static_cast<std::size_t>(n_cells));
  std::vector<Eigen::Index> stamp(static_cast<std::size_t>(n_cells), -1);
  touched.reserve(static_cast<std::size_t>(std::min<Eigen::Index>(n_cells, block_rows)));
  for (Eigen::Index b0 = begin; b0 < end; b0 += block_rows) {
    const Eigen::Index b1 = std::min(end, b0 + block_rows);
    // the rows of this block that are in a cell, counted per cell (cells in order of first appearance)
    int m = 0;
    touched.clear();
    for (Eigen::Index i = b0; i < b1; ++i) {
      const int c = cell_of(i);
      if (c < 0) {
        if (c == -1) continue;
        st.first_bad = i;
        return;
      }
      const auto cc = static_cast<std::size_t>(c);
      rows[static_cast<std::size_t>(m)] = static_cast<int>(i - b0);
      cells[static_cast<std::size_t>(m)] = c;
      ++m;
      if (stamp[cc] != b0) {
        stamp[cc] = b0;
        run_fill[cc] = 0;
        touched.push_back(c);
      }
      ++run_fill[cc];
    }
    // counting sort of those rows by cell: the rows of touched cell c are order[run_start[c] .. + run_fill[c])
    int at = 0;
    for (int c : touched) {
      run_start[static_cast<std::size_t>(c)] = at;
      at += run_fill[static_cast<std::size_t>(c)];
      run_fill[static_cast<std::size_t>(c)] = run_start[static_cast<std::size_t>(c)];
    }
    for (int k = 0; k < m; ++k) order[static_cast<std::size_t>(run_fill[static_cast<std::size_t>(cells[static_cast<std::size_t>(k)])]++)] = rows[static_cast<std::size_t>(k)];
    for (Eigen::Index j = 0; j < p; ++j) {
      const double* y = columns[static_cast<std::size_t>(j)] + b0;
      if (has_infinite(y, b1 - b0) && st.first_inf[static_cast<std::size_t>(j)] < 0)
        for (Eigen::Index k = 0; k < b1 - b0; ++k)
          if (std::isinf(y[k])) {
            st.first_inf[static_cast<std::size_t>(j)] = b0 + k;
            break;
          }
      for (int c : touched) {  // the two-pass moments of the block's cell c, from the cache, merged into the chunk's
        const auto cc = static_cast<std::size_t>(c);
        const int* idx = order.data() + run_start[cc];
        const int len = run_fill[cc] - run_start[cc];
        double count = 0, sum = 0;
        const double k = shift[static_cast<std::size_t>(j)];
        run_count_sum(y, idx, len, k, count, sum);
        if (count == 0) continue;
        const double mean = sum / count;
        st.acc[cc * static_cast<std::size_t>(p) + static_cast<std::size_t>(j)].merge(count, mean, run_squared_deviations(y, idx, len, k, mean));
      }
    }
  }
}

template <class CellOf>
cell_moments_result moments_by_cell(const std::vector<const double*>& columns, Eigen::Index n, int n_cells, CellOf cell_of,
                                    const char* fn, const char* what) {
  detail::require(n_cells >= 1, fn, "n_cells must be at least 1");
  detail::require(!columns.empty(), fn, "needs at least one column");
  const auto p = static_cast<Eigen::Index>(columns.size());
  detail::row_chunks chunks = detail::make_row_chunks(n, 1 << 15, 32);
  // per-chunk tables only while they stay small next to the data (few cells)
  if (3.0 * static_cast<double>(n_cells) * static_cast<double>(p) * static_cast<double>(chunks.count) > 3.2e7)
    chunks = detail::make_row_chunks(n, n, 1);
  // each column is shifted by its first finite value: the merge step's δ = ȳ_b − ȳ_a then carries no
  // large offset (data like 1e9 + N(0, 1) keep their variance to ~1e-13)
  std::vector<double> shift(static_cast<std::size_t>(p), 0.0);
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = 0; i < n; ++i)
      if (std::isfinite(columns[static_cast<std::size_t>(j)][i])) {
        shift[static_cast<std::size_t>(j)] = columns[static_cast<std::size_t>(j)][i];
        break;
      }
  std::vector<chunk_state> state(static_cast<std::size_t>(chunks.count));
  [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * static_cast<double>(p));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c)
    accumulate_chunk(columns, shift, chunks.begin(c), chunks.end(c), n_cells, cell_of, state[static_cast<std::size_t>(c)]);
  for (const chunk_state& s : state)
    if (s.first_bad >= 0) detail::throw_invalid(fn, std::string(what) + " at row " + std::to_string(s.first_bad));
  cell_moments_result r;
  r.count.resize(n_cells, p);
  r.mean.resize(n_cells, p);
  r.variance.resize(n_cells, p);
  r.first_infinite.assign(static_cast<std::size_t>(p), -1);
  for (int c = 0; c < n_cells; ++c)
    for (Eigen::Index j = 0; j < p; ++j) {
      moment_triple t;  // chunks merged in chunk order: the same bits for any thread count
      const std::size_t k = static_cast<std::size_t>(c) * static_cast<std::size_t>(p) + static_cast<std::size_t>(j);
      for (const chunk_state& s : state)
        if (!s.acc.empty()) t.merge(s.acc[k].n, s.acc[k].mean, s.acc[k].m2);
      r.count(c, j) = t.n;
      r.mean(c, j) = t.n > 0 ? shift[static_cast<std::size_t>(j)] + t.mean : std::nan("");
      r.variance(c, j) = t.n > 1 ? t.m2 / (t.n - 1) : std::nan("");
    }
  for (const chunk_state& s : state)
    for (std::size_t j = 0; j < s.first_inf.size(); ++j)
      if (s.first_inf[j] >= 0 && r.first_infinite[j] < 0) r.first_infinite[j] = s.first_inf[j];
  return r;
}

}  // namespace

cell_moments_result cell_moments(const std::vector<const double*>& columns, const int* cell, Eigen::Index n, int n_cells) {
  const std::string what = "a cell code outside -1.." + std::to_string(n_cells - 1);
  return moments_by_cell(columns, n, n_cells, [cell, n_cells](Eigen::Index i) {
    const int c = cell[i];
    return c >= -1 && c < n_cells ? c : -2;
  }, "cell_moments", what.c_str());
}

cell_moments_result round_cell_moments(const std::vector<const double*>& columns, const int* group, int n_groups,
                                       const bool* baseline, const bool* endline, Eigen::Index n) {
  const char* fn = "round_cell_moments";
  detail::require(n_groups >= 1, fn, "n_groups must be at least 1");
  detail::require(n_groups <= std::numeric_limits<int>::max() / 2, fn, "too many groups");
  const std::string what = "a group code outside 0.." + std::to_string(n_groups - 1) + " or a row in both rounds";
  return moments_by_cell(columns, n, 2 * n_groups, [=](Eigen::Index i) {
    const bool b = baseline[i], e = endline[i];
    if (!b && !e) return -1;
    const int g = group[i];
    if (g < 0 || g >= n_groups || (b && e)) return -2;
    return e ? n_groups + g : g;
  }, fn, what.c_str());
}

}  // namespace impactkit
