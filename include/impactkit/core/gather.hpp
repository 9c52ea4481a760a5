#pragma once
// Moving columns into another row order. A plain scatter y[dest[t]] = x[t] (or the gather
// x[t] = y[dest[t]]) with a random permutation of 10⁷ rows misses the cache on every row.
// row_permutation splits it into two passes that are each cache-friendly (a radix partition of the
// destinations into blocks that fit in L2; e.g. Knuth TAOCP vol. 3 §5.2.5 on distribution sorting):
//   pass 1  tmp[pos[t]] = x[t]      t ascending: x read in order, tmp written in one stream per block
//   pass 2  y[dest2[k]] = tmp[k]    k ascending: tmp read in order, y written inside one block at a time
// where pos[t] is t's place in block-major (stable) order and dest2[k] = dest of that row. The
// inverse (gather back) runs the two passes the other way round.
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "memory.hpp"

namespace impactkit::detail {

class row_permutation {
 public:
  row_permutation() = default;
  /// dest[t] = new position of row t (a permutation of 0..m−1).
  explicit row_permutation(const std::vector<std::int32_t>& dest) : m_(static_cast<Eigen::Index>(dest.size())) {
    const int shift = 15;  // blocks of 32768 rows: 256 KB of doubles, inside L2; few enough write streams
    const std::size_t blocks = static_cast<std::size_t>((m_ >> shift) + 1);
    start_.assign(blocks + 1, 0);
    for (std::int32_t d : dest) ++start_[static_cast<std::size_t>(d >> shift) + 1];
    for (std::size_t b = 0; b < blocks; ++b) start_[b + 1] += start_[b];
    std::vector<std::int32_t> next(start_.begin(), start_.end() - 1);
    resize_large(pos_, dest.size());
    resize_large(dest2_, dest.size());
    for (std::size_t t = 0; t < dest.size(); ++t) {
      const std::int32_t k = next[static_cast<std::size_t>(dest[t] >> shift)]++;
      pos_[t] = k;
      dest2_[static_cast<std::size_t>(k)] = dest[t];
    }
  }
  bool empty() const { return m_ == 0; }
  Eigen::Index size() const { return m_; }

  /// y[dest[t]] = x[rows ? rows[t] : t] for t < m (`tmp` is scratch of m entries).
  template <typename T>
  void scatter(const T* x, const Eigen::Index* rows, T* y, std::vector<T>& tmp) const {
    resize_large(tmp, static_cast<std::size_t>(m_));
    const std::int32_t* pos = pos_.data();
    if (rows)
      for (Eigen::Index t = 0; t < m_; ++t) tmp[static_cast<std::size_t>(pos[t])] = x[rows[t]];
    else
      for (Eigen::Index t = 0; t < m_; ++t) tmp[static_cast<std::size_t>(pos[t])] = x[t];
    const std::int32_t* d2 = dest2_.data();
    for (Eigen::Index k = 0; k < m_; ++k) y[d2[k]] = tmp[static_cast<std::size_t>(k)];
  }

  /// x[t] = y[dest[t]] for t < m (the inverse of scatter without rows).
  template <typename T>
  void gather(const T* y, T* x, std::vector<T>& tmp) const {
    resize_large(tmp, static_cast<std::size_t>(m_));
    const std::int32_t* d2 = dest2_.data();
    for (Eigen::Index k = 0; k < m_; ++k) tmp[static_cast<std::size_t>(k)] = y[d2[k]];
    const std::int32_t* pos = pos_.data();
    for (Eigen::Index t = 0; t < m_; ++t) x[t] = tmp[static_cast<std::size_t>(pos[t])];
  }

 private:
  Eigen::Index m_ = 0;
  std::vector<std::int32_t> start_, pos_, dest2_;
};

}  // namespace impactkit::detail
