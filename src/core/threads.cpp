// Out-of-line definitions for impactkit/core/threads.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/threads.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace impactkit {

namespace {
int thread_setting = 0;  // 0: the OpenMP default (all cores)
}  // namespace

void set_num_threads(int n) { thread_setting = n > 0 ? n : 0; }

int get_num_threads() {
#ifdef _OPENMP
  return thread_setting > 0 ? thread_setting : omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace impactkit
