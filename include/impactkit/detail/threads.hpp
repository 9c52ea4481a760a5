#pragma once
// How many threads a parallel pass starts (see core/threads.hpp for the thread-count setting and
// why results do not depend on it).
#include <algorithm>

#include <Eigen/Core>

#include "../core/threads.hpp"

namespace impactkit::detail {

/// Threads worth starting for `work_items` independent pieces of `item_cost` flops each.
inline int threads_for(Eigen::Index work_items, double item_cost = 1.0) {
  const double total = static_cast<double>(work_items) * item_cost;
  if (total < 2e5 || work_items < 2) return 1;
  return static_cast<int>(std::min<Eigen::Index>(get_num_threads(), work_items));
}

}  // namespace impactkit::detail
