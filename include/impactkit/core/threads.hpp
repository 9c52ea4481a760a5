#pragma once
// Thread control. impactkit parallelises only over work whose partition does not depend on the
// number of threads (fixed row blocks, columns, clusters) and reduces partial results in a fixed
// order, so every result is bit-for-bit identical for any thread count (DESIGN.md §3).

namespace impactkit {

/// Sets the number of threads impactkit uses (n <= 0 restores the default: all cores).
void set_num_threads(int n);

/// The number of threads impactkit will use (1 when impactkit was built without OpenMP).
int get_num_threads();

}  // namespace impactkit
