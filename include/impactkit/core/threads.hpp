#pragma once
// Thread control. impactkit parallelises only over work whose partition does not depend on the
// number of threads (fixed row blocks, columns, clusters) and reduces partial results in a fixed
// order, so every result is bit-for-bit identical for any thread count (DESIGN.md §3).
#ifdef _OPENMP
#include <omp.h>
#endif

namespace impactkit {

namespace detail {
inline int& thread_setting() {
  static int n = 0;  // 0: the OpenMP default (all cores)
  return n;
}
}  // namespace detail

/// Sets the number of threads impactkit uses (n <= 0 restores the default: all cores).
inline void set_num_threads(int n) { detail::thread_setting() = n > 0 ? n : 0; }

/// The number of threads impactkit will use.
inline int get_num_threads() {
#ifdef _OPENMP
  const int n = detail::thread_setting();
  return n > 0 ? n : omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace impactkit
