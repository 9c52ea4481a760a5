#pragma once
// Large scratch buffers. A fresh n-row buffer is paid for twice: once when it is written (the
// kernel maps and zeroes every 4 KB page on first touch: ~50 ms per 80 MB on the 2-core machines
// this library is benchmarked on) and once in TLB misses when it is read in a random order. On
// Linux with transparent huge pages in "madvise" mode (the common default) asking for 2 MB pages
// before the first touch cuts both (~15 ms per 80 MB). Elsewhere this is a no-op.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace impactkit::detail {

/// Asks for huge pages on [p, p + bytes) before it is first written (buffers of ≥ 4 MB only).
void advise_huge_pages(const void* p, std::size_t bytes);

/// v.resize(n) with huge pages asked for before the new elements are written.
template <typename T, typename A>
void resize_large(std::vector<T, A>& v, std::size_t n) {
  if (n > v.capacity()) {
    std::vector<T, A> fresh;
    fresh.reserve(n);
    advise_huge_pages(fresh.data(), n * sizeof(T));
    fresh.assign(v.begin(), v.end());
    v.swap(fresh);
  }
  v.resize(n);
}

}  // namespace impactkit::detail
