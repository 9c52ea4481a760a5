// Survival rows tabulated by distinct exit time (src/sustainability/exit_table.hpp).
#include "exit_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include <impactkit/core/errors.hpp>

namespace impactkit::detail {
namespace {

std::uint64_t mix(double x) {  // the value's bits (−0 as +0), scrambled (MurmurHash3's finaliser)
  if (x == 0) x = 0.0;
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  u ^= u >> 33;
  u *= 0xff51afd7ed558ccdULL;
  u ^= u >> 33;
  u *= 0xc4ceb9fe1a85ec53ULL;
  return u ^ (u >> 33);
}

/// Open-addressing table from a value to its id (ids in order of first appearance).
class value_ids {
 public:
  value_ids() { grow(64); }
  std::uint32_t id(double x) {
    for (std::size_t h = mix(x) & mask_;; h = (h + 1) & mask_) {
      const std::int64_t s = slots_[h];
      if (s < 0) {
        const auto id = static_cast<std::uint32_t>(values_.size());
        slots_[h] = id;
        values_.push_back(x == 0 ? 0.0 : x);
        if (2 * values_.size() > slots_.size()) grow(2 * slots_.size());
        return id;
      }
      if (values_[static_cast<std::size_t>(s)] == x) return static_cast<std::uint32_t>(s);
    }
  }
  const std::vector<double>& values() const { return values_; }

 private:
  void grow(std::size_t cap) {
    slots_.assign(cap, -1);
    mask_ = cap - 1;
    for (std::size_t id = 0; id < values_.size(); ++id) {
      std::size_t h = mix(values_[id]) & mask_;
      while (slots_[h] >= 0) h = (h + 1) & mask_;
      slots_[h] = static_cast<std::int64_t>(id);
    }
  }
  std::vector<std::int64_t> slots_;
  std::vector<double> values_;
  std::size_t mask_ = 0;
};

template <class F>
void for_used(Eigen::Index n, const int* cell, F&& f) {
  if (cell) {
    for (Eigen::Index i = 0; i < n; ++i)
      if (cell[i] >= 0) f(i);
  } else {
    for (Eigen::Index i = 0; i < n; ++i) f(i);
  }
}

}  // namespace

time_ranks rank_times(const double* t, Eigen::Index n, const int* cell) {
  require(n < (Eigen::Index(1) << 31), "survival", "more than 2^31 rows are not supported");
  time_ranks out;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  if (cell) {
    for_used(n, cell, [&](Eigen::Index i) {
      lo = std::min(lo, t[i]);
      hi = std::max(hi, t[i]);
    });
  } else {
    for (Eigen::Index i = 0; i < n; ++i) lo = std::min(lo, t[i]), hi = std::max(hi, t[i]);
  }
  if (!(lo <= hi)) return out;  // no rows used
  constexpr double exact = 4503599627370496.0;  // 2^52: whole numbers and their differences are exact
  if (lo >= -exact && hi <= exact && hi - lo <= 2.0 * static_cast<double>(n) + 4096) {
    // whole numbers in a short range: a lookup table over the range gives the ranks
    out.table.assign(static_cast<std::size_t>(hi - lo) + 1, 0);
    bool whole = true;
    for_used(n, cell, [&](Eigen::Index i) {
      whole &= t[i] == static_cast<double>(static_cast<std::int64_t>(t[i]));  // |t| ≤ 2^52: the cast is exact
      out.table[static_cast<std::size_t>(t[i] - lo)] = 1;
    });
    if (whole) {
      std::uint32_t m = 0;
      for (std::size_t k = 0; k < out.table.size(); ++k)
        if (out.table[k]) {
          out.values.push_back(lo + static_cast<double>(k));
          out.table[k] = m++;
        }
      out.by_table = true;
      out.lo = lo;
      return out;
    }
    out.table.clear();
    out.table.shrink_to_fit();
  }
  // any other values: ids by hashing, then only the distinct values are sorted
  out.row_rank.resize(static_cast<std::size_t>(n));
  value_ids ids;
  for_used(n, cell, [&](Eigen::Index i) { out.row_rank[static_cast<std::size_t>(i)] = ids.id(t[i]); });
  const std::vector<double>& v = ids.values();
  std::vector<std::uint32_t> order(v.size());
  std::iota(order.begin(), order.end(), 0U);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return v[a] < v[b]; });
  std::vector<std::uint32_t> rank_of_id(v.size());
  out.values.resize(v.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    rank_of_id[order[k]] = static_cast<std::uint32_t>(k);
    out.values[k] = v[order[k]];
  }
  for_used(n, cell, [&](Eigen::Index i) { out.row_rank[static_cast<std::size_t>(i)] = rank_of_id[out.row_rank[static_cast<std::size_t>(i)]]; });
  return out;
}

bool tabulate_exits(const survival_rows& r, exit_table& out, bool force) {
  const time_ranks rank = rank_times(r.time, r.n, r.group);
  const std::size_t m = rank.values.size(), C = static_cast<std::size_t>(r.group ? r.n_groups : 1);
  if (!force && C > 1 && static_cast<double>(m) * static_cast<double>(C) > std::max(4.0 * static_cast<double>(r.n), 65536.0)) return false;
  out.n_cells = static_cast<int>(C);
  out.time = rank.values;
  out.has_entry = r.entry != nullptr;
  // exit weight per (time, cell) in pairs (censored, event): no branch on the event per row; rows exiting
  // are counted only when a weight can be 0 (otherwise a time has exits when its weight is positive)
  std::vector<double> pairs(2 * m * C, 0.0);
  out.exits.assign(r.weights ? m * C : 0, 0);
  const auto cell_of = [&](Eigen::Index i) { return r.group ? static_cast<std::size_t>(r.group[i]) : 0; };
  if (!r.weights && !r.group && rank.by_table) {  // the plainest case, as one tight loop
    for (Eigen::Index i = 0; i < r.n; ++i) pairs[2 * rank.table[static_cast<std::size_t>(r.time[i] - rank.lo)] + (r.event[i] == 1)] += 1;
  } else {
    for_used(r.n, r.group, [&](Eigen::Index i) {
      const std::size_t k = rank(r.time[i], i) * C + cell_of(i);
      pairs[2 * k + (r.event[i] == 1)] += r.weights ? r.weights[i] : 1.0;
      if (r.weights) ++out.exits[k];
    });
  }
  out.events.resize(m * C);
  out.censored.resize(m * C);
  if (!r.weights) out.exits.resize(m * C);
  out.total.assign(C, 0.0L);
  for (std::size_t k = 0; k < m * C; ++k) {
    out.censored[k] = pairs[2 * k];
    out.events[k] = pairs[2 * k + 1];
    if (!r.weights) out.exits[k] = pairs[2 * k] + pairs[2 * k + 1] > 0;
    out.total[k % C] += static_cast<long double>(pairs[2 * k + 1]) + pairs[2 * k];
  }
  if (r.entry) {
    // a row enters before t_j when j ≥ the number of distinct exit times ≤ its entry (< m: entry < its exit)
    out.entering.assign(m * C, 0.0);
    for_used(r.n, r.group, [&](Eigen::Index i) {
      const auto j = static_cast<std::size_t>(std::upper_bound(out.time.begin(), out.time.end(), r.entry[i]) - out.time.begin());
      out.entering[j * C + cell_of(i)] += r.weights ? r.weights[i] : 1.0;
    });
  }
  return true;
}

void gather_rows(const survival_rows& r, const std::vector<Eigen::Index>& rows, bool keep_groups, gathered_rows& out) {
  const auto take = [&](const double* col, std::vector<double>& to) {
    to.clear();
    if (!col) return static_cast<const double*>(nullptr);
    to.reserve(rows.size());
    for (Eigen::Index i : rows) to.push_back(col[i]);
    return static_cast<const double*>(to.data());
  };
  out.rows = survival_rows{};
  out.rows.n = static_cast<Eigen::Index>(rows.size());
  out.rows.time = take(r.time, out.time);
  out.rows.event = take(r.event, out.event);
  out.rows.weights = take(r.weights, out.weights);
  out.rows.entry = take(r.entry, out.entry);
  out.group.clear();
  if (keep_groups && r.group) {
    for (Eigen::Index i : rows) out.group.push_back(r.group[i]);
    out.rows.group = out.group.data();
    out.rows.n_groups = r.n_groups;
  }
}

}  // namespace impactkit::detail
