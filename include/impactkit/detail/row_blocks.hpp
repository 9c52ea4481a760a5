#pragma once
// Fixed partition of the rows of a tall matrix into chunks for deterministic parallel passes.
// The partition depends only on (n, cost per row), never on the thread count, and partial results
// are reduced in chunk order, so results are bit-identical for any number of threads.
#include <algorithm>

#include <Eigen/Core>

namespace impactkit::detail {

struct row_chunks {
  Eigen::Index n = 0, count = 1, size = 0;
  Eigen::Index begin(Eigen::Index c) const { return std::min(n, c * size); }
  Eigen::Index end(Eigen::Index c) const { return std::min(n, (c + 1) * size); }
};

/// At most `max_chunks` chunks of at least `min_rows` rows each.
inline row_chunks make_row_chunks(Eigen::Index n, Eigen::Index min_rows, Eigen::Index max_chunks = 64) {
  row_chunks rc;
  rc.n = n;
  rc.count = std::max<Eigen::Index>(1, std::min<Eigen::Index>(max_chunks, n / std::max<Eigen::Index>(min_rows, 1)));
  rc.size = (n + rc.count - 1) / rc.count;
  if (rc.size == 0) rc.size = 1;
  return rc;
}

}  // namespace impactkit::detail
