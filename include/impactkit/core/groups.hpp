#pragma once
// Grouping variables (clusters, later fixed effects) as dense integer codes 0..G-1.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "../detail/memory.hpp"

namespace impactkit {

/// A grouping of n observations into G groups with dense codes 0..G-1 (in order of first appearance).
struct group_codes {
  std::vector<int> code;     ///< code[i] in 0..n_groups-1
  int n_groups = 0;
  std::vector<Eigen::Index> first_row;  ///< the first row of each group (filled by factorize)

  Eigen::Index size() const { return static_cast<Eigen::Index>(code.size()); }

  /// Observation counts per group.
  std::vector<Eigen::Index> counts() const {
    std::vector<Eigen::Index> c(static_cast<std::size_t>(n_groups), 0);
    for (int g : code) ++c[static_cast<std::size_t>(g)];
    return c;
  }

  /// Rows sorted by group, stable (CSR layout): rows of group g are order[start[g] .. start[g+1]).
  void sorted_rows(std::vector<Eigen::Index>& start, std::vector<Eigen::Index>& order) const {
    start.assign(static_cast<std::size_t>(n_groups) + 1, 0);
    for (int g : code) ++start[static_cast<std::size_t>(g) + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    detail::resize_large(order, code.size());
    std::vector<Eigen::Index> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < code.size(); ++i) order[static_cast<std::size_t>(next[static_cast<std::size_t>(code[i])]++)] = static_cast<Eigen::Index>(i);
  }
};

namespace detail {
[[noreturn]] void throw_too_many_groups();
}  // namespace detail

/// Dense codes in order of first appearance from arbitrary integer labels (any 64-bit range).
/// O(n) with a lookup table when the labels span a range of at most 4n, otherwise O(n log n).
template <typename Labels>
group_codes factorize(const Labels& labels) {
  const Eigen::Index n = labels.size();
  group_codes out;
  detail::resize_large(out.code, static_cast<std::size_t>(n));
  if (n == 0) return out;
  std::int64_t lo = labels(0), hi = labels(0);
  for (Eigen::Index i = 1; i < n; ++i) {
    lo = std::min<std::int64_t>(lo, labels(i));
    hi = std::max<std::int64_t>(hi, labels(i));
  }
  // the span hi − lo in unsigned arithmetic: exact for any int64 labels (it may exceed 2^63)
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span < 4 * static_cast<std::uint64_t>(n) + 16) {
    std::vector<int> table(static_cast<std::size_t>(span) + 1, -1);
    for (Eigen::Index i = 0; i < n; ++i) {
      int& t = table[static_cast<std::size_t>(static_cast<std::uint64_t>(static_cast<std::int64_t>(labels(i))) - static_cast<std::uint64_t>(lo))];
      if (t < 0) {
        if (out.n_groups == std::numeric_limits<int>::max()) detail::throw_too_many_groups();
        t = out.n_groups++;
        out.first_row.push_back(i);
      }
      out.code[static_cast<std::size_t>(i)] = t;
    }
    return out;
  }
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](Eigen::Index a, Eigen::Index b) { return labels(a) < labels(b); });
  // first appearance of each distinct label = its smallest row index (the first in the stable run)
  std::vector<std::pair<Eigen::Index, std::size_t>> firsts;  // (first row, run start)
  for (std::size_t s = 0; s < idx.size();) {
    std::size_t e = s;
    while (e < idx.size() && labels(idx[e]) == labels(idx[s])) ++e;
    firsts.emplace_back(idx[s], s);
    s = e;
  }
  if (firsts.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) detail::throw_too_many_groups();
  std::vector<std::size_t> run_order(firsts.size());
  std::iota(run_order.begin(), run_order.end(), 0);
  std::sort(run_order.begin(), run_order.end(), [&](std::size_t a, std::size_t b) { return firsts[a].first < firsts[b].first; });
  std::vector<int> run_code(firsts.size());
  out.first_row.resize(firsts.size());
  for (std::size_t r = 0; r < run_order.size(); ++r) {
    run_code[run_order[r]] = static_cast<int>(r);
    out.first_row[r] = firsts[run_order[r]].first;
  }
  for (std::size_t r = 0; r < firsts.size(); ++r) {
    const std::size_t s = firsts[r].second;
    const std::size_t e = r + 1 < firsts.size() ? firsts[r + 1].second : idx.size();
    for (std::size_t t = s; t < e; ++t) out.code[static_cast<std::size_t>(idx[t])] = run_code[r];
  }
  out.n_groups = static_cast<int>(firsts.size());
  return out;
}

/// A borrowed, read-only column of integer labels, 32- or 64-bit (e.g. a numpy array): lets the
/// fixed-effect and cluster machinery read the caller's labels without a copy.
struct label_column {
  const std::int32_t* i32 = nullptr;
  const std::int64_t* i64 = nullptr;
  Eigen::Index size = 0;

  static label_column of(const std::int32_t* data, Eigen::Index n) { return label_column{data, nullptr, n}; }
  static label_column of(const std::int64_t* data, Eigen::Index n) { return label_column{nullptr, data, n}; }
  /// Throws invalid_input unless the column has `n` rows and data behind them (a default-constructed
  /// label_column has none).
  void require_rows(Eigen::Index n, const char* function) const {
    detail::require(size == n, function, "fixed-effect labels have " + std::to_string(size) + " rows but the data have " + std::to_string(n));
    detail::require(size == 0 || i32 != nullptr || i64 != nullptr, function,
                    "a fixed-effect label column has no data (null pointer); build it with label_column::of(data, n)");
  }
  std::int64_t operator()(Eigen::Index i) const { return i32 ? i32[i] : i64[i]; }
  /// Calls f with an Eigen vector map of the labels (one instantiation per width, no per-row branch).
  template <typename F>
  decltype(auto) visit(F&& f) const {
    if (i32) return f(Eigen::Map<const Eigen::Matrix<std::int32_t, Eigen::Dynamic, 1>>(i32, size));
    return f(Eigen::Map<const Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>>(i64, size));
  }
};

/// Dense codes of a borrowed label column.
group_codes factorize(const label_column& labels);

/// The intersection of two groupings (e.g. firm x year for multiway clustering).
group_codes intersect(const group_codes& a, const group_codes& b);

}  // namespace impactkit
