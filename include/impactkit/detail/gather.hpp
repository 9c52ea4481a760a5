#pragma once
// Moving columns into another row order. A plain scatter y[dest[t]] = x[t] (or the gather
// x[t] = y[dest[t]]) with a random permutation of 10⁷ rows misses the cache on every row.
// row_permutation splits it into two passes that are each cache-friendly (a radix partition of the
// destinations into blocks that fit in L2; e.g. Knuth TAOCP vol. 3 §5.2.5 on distribution sorting):
//   pass 1  tmp[pos[t]] = x[t]      t ascending: x read in order, tmp written in one stream per block
//   pass 2  y[dest2[k]] = tmp[k]    k ascending: tmp read in order, y written inside one block at a time
// where pos[t] is t's place in block-major (stable) order and dest2[k] = dest of that row. The
// inverse (gather back) runs the two passes the other way round. scatter uses y itself as tmp and
// then permutes each block in place through an L2-sized copy. Each pass writes every target
// once, so its rows are split over threads (fixed ranges; moving data involves no rounding).
#include <algorithm>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "../core/errors.hpp"
#include "memory.hpp"
#include "threads.hpp"

namespace impactkit::detail {

/// f(begin, end) over fixed ranges of 2^16 rows covering [0, m), in parallel for large m.
template <typename F>
void for_row_ranges(Eigen::Index m, F&& f) {
  const Eigen::Index chunk = Eigen::Index{1} << 16, count = (m + chunk - 1) / chunk;
  const int threads = threads_for(count, static_cast<double>(chunk));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < count; ++c) f(c * chunk, std::min(m, (c + 1) * chunk));
}

class row_permutation {
 public:
  row_permutation() = default;
  /// dest[t] = new position of row t (a permutation of 0..m−1).
  explicit row_permutation(const std::vector<std::int32_t>& dest)
      : row_permutation(static_cast<Eigen::Index>(dest.size()), [&](Eigen::Index t) { return dest[static_cast<std::size_t>(t)]; }) {}

  /// The permutation whose row t goes to destination_of(t), called once for t = 0, 1, …, m − 1 in
  /// that order (so it may be a running counter, e.g. of a counting sort). Since the destinations
  /// are a permutation, block b receives exactly the rows with destinations [b·2^15, (b+1)·2^15):
  /// block starts need no counting pass.
  template <typename DestinationOf>
  row_permutation(Eigen::Index m, DestinationOf&& destination_of) : m_(m) {
    const std::size_t blocks = static_cast<std::size_t>((m_ >> kShift) + 1);
    std::vector<std::int32_t> next(blocks);
    for (std::size_t b = 0; b < blocks; ++b) next[b] = static_cast<std::int32_t>(b << kShift);
    resize_large(pos_, static_cast<std::size_t>(m_));
    resize_large(dest2_, static_cast<std::size_t>(m_));
    for (Eigen::Index t = 0; t < m_; ++t) {
      const std::int32_t d = destination_of(t);
      const std::int32_t k = next[static_cast<std::size_t>(d >> kShift)]++;
      pos_[static_cast<std::size_t>(t)] = k;
      dest2_[static_cast<std::size_t>(k)] = d;
    }
  }
  bool empty() const { return m_ == 0; }
  Eigen::Index size() const { return m_; }

  /// y[dest[t]] = x[rows ? rows[t] : t] for t < m. Pass 1 writes the rows into y itself in
  /// block-major order; pass 2 then permutes each block of y in place through an L2-sized copy, so
  /// no m-long scratch is needed.
  template <typename T>
  void scatter(const T* x, const Eigen::Index* rows, T* y) const {
    const std::int32_t* pos = pos_.data();
    for_row_ranges(m_, [&](Eigen::Index b, Eigen::Index e) {
      if (rows)
        for (Eigen::Index t = b; t < e; ++t) y[pos[t]] = x[rows[t]];
      else
        for (Eigen::Index t = b; t < e; ++t) y[pos[t]] = x[t];
    });
    const std::int32_t* d2 = dest2_.data();
    const Eigen::Index block = Eigen::Index{1} << kShift, blocks = (m_ + block - 1) / block;
    const int threads = threads_for(blocks, static_cast<double>(block));
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      std::vector<T> copy(static_cast<std::size_t>(std::min(block, m_)));
#pragma omp for schedule(static)
      for (Eigen::Index bb = 0; bb < blocks; ++bb) {
        const Eigen::Index b0 = bb * block, len = std::min(block, m_ - b0);
        std::copy(y + b0, y + b0 + len, copy.data());
        for (Eigen::Index k = 0; k < len; ++k) y[d2[b0 + k]] = copy[static_cast<std::size_t>(k)];
      }
    }
  }

  /// x[t] = y[dest[t]] for t < m (the inverse of scatter without rows). x may be y.
  template <typename T>
  void gather(const T* y, T* x, std::vector<T>& tmp) const {
    resize_large(tmp, static_cast<std::size_t>(m_));
    const std::int32_t* d2 = dest2_.data();
    T* scratch = tmp.data();
    for_row_ranges(m_, [&](Eigen::Index b, Eigen::Index e) {
      for (Eigen::Index k = b; k < e; ++k) scratch[k] = y[d2[k]];
    });
    const std::int32_t* pos = pos_.data();
    for_row_ranges(m_, [&](Eigen::Index b, Eigen::Index e) {
      for (Eigen::Index t = b; t < e; ++t) x[t] = scratch[pos[t]];
    });
  }

 private:
  static constexpr int kShift = 15;  // blocks of 32768 rows: 256 KB of doubles, inside L2; few enough write streams
  Eigen::Index m_ = 0;
  std::vector<std::int32_t> pos_, dest2_;
};

}  // namespace impactkit::detail
