// Selection among the implicit set of pairwise slopes. A slope s_ij = (x_j − x_i)/(j − i), i < j, is ≤ t
// exactly when the line values y_k(t) = x_k − t·k satisfy y_j ≤ y_i, so the number of slopes ≤ t is a count
// of (non-strict) inversions of y(t) in index order: O(n log n) by merge sort. The slopes in (lo, hi] are the
// pairs whose order differs between y(lo) and y(hi), listed as the inversions of one order read in the other
// (Cole, Salowe, Steiger & Szemerédi 1989; Dillencourt, Mount & Netanyahu 1992), here by insertion sort from
// one order to the other, O(n log n + their number). A random sample of slopes
// and interpolation on the count narrow (lo, hi] until it holds few slopes; these are listed and selected.
#include "pairwise_slopes.hpp"

#include <impactkit/detail/threads.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace impactkit::detail {
namespace {

using Index = Eigen::Index;

// splitmix64 (Steele, Lea & Flood 2014): the sample only steers the search, the selected slopes are exact.
struct splitmix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t m) { return next() % m; }  // bias < m/2^64: irrelevant for steering
};

struct slope_counts {
  std::int64_t lt = 0, le = 0;  // slopes < t and ≤ t
};

class slope_set {
 public:
  explicit slope_set(const std::vector<strided_series>& s) : series_(s) {
    for (const auto& v : series_) {
      total_ += v.pairs();
      points_ += v.n;
      longest_ = std::max(longest_, v.n);
    }
  }
  std::int64_t total() const { return total_; }
  double points() const { return static_cast<double>(points_); }

  // Thread-safe (its own scratch): the counts at several t can run at once.
  slope_counts count(double t) const {
    slope_counts c;
    std::vector<double> buf(static_cast<std::size_t>(longest_)), tmp(static_cast<std::size_t>(longest_));
    for (const auto& v : series_) {
      for (Index k = 0; k < v.n; ++k) buf[k] = v[k] - t * static_cast<double>(k);
      const std::int64_t strict = sort_counting_inversions(buf.data(), tmp.data(), v.n);
      const tie_summary ties = ties_of_sorted(buf.data(), v.n);
      // pairs i<j with y_j < y_i are the slopes < t; y_j == y_i are slopes == t
      c.lt += strict;
      c.le += strict + ties.tied_pairs;
    }
    return c;
  }

  // Smallest and largest slope: attained by neighbours (a slope over a gap is a mean of neighbour slopes).
  std::pair<double, double> extremes() const {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& v : series_)
      for (Index k = 1; k < v.n; ++k) {
        const double d = v[k] - v[k - 1];
        lo = std::min(lo, d);
        hi = std::max(hi, d);
      }
    return {lo, hi};
  }

  std::vector<double> sample(std::size_t m) const {
    splitmix64 rng{0x5EED5EEDull};
    std::vector<std::int64_t> cumulative;
    std::int64_t acc = 0;
    for (const auto& v : series_) cumulative.push_back(acc += v.pairs());
    std::vector<double> out;
    out.reserve(m);
    while (out.size() < m) {
      const auto u = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(total_)));
      const auto& v = series_[std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin()];
      Index i = static_cast<Index>(rng.below(static_cast<std::uint64_t>(v.n)));
      Index j = static_cast<Index>(rng.below(static_cast<std::uint64_t>(v.n)));
      if (i == j) continue;
      if (i > j) std::swap(i, j);
      out.push_back((v[j] - v[i]) / static_cast<double>(j - i));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<double> all() const {
    std::vector<double> out;
    out.reserve(static_cast<std::size_t>(total_));
    for (const auto& v : series_)
      for (Index i = 0; i + 1 < v.n; ++i)
        for (Index j = i + 1; j < v.n; ++j) out.push_back((v[j] - v[i]) / static_cast<double>(j - i));
    return out;
  }

  // The slopes in (lo, hi]: pairs ordered differently by (y(lo) asc, index desc) and (y(hi) asc, index desc).
  std::vector<double> between(double lo, double hi, std::int64_t expected) const {
    std::vector<double> out;
    out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(expected, 0)));
    for (const auto& v : series_) list_between(v, lo, hi, out);
    return out;
  }

 private:
  struct line {
    double key;  // y_index(hi) = x_index − hi·index
    Index index;
    double x;    // x_index, carried so that listing a slope reads no memory at random
  };

  // The lines in the order (y(lo) ascending, index descending), by sorting contiguous (y, −index) keys, are
  // insertion-sorted into the order (y(hi) ascending, index descending): each shift passes one pair whose order
  // differs, i.e. one slope in (lo, hi]. O(n log n + the slopes listed), no second sort.
  static void list_between(const strided_series& v, double lo, double hi, std::vector<double>& out) {
    const Index n = v.n;
    if (n < 2) return;
    std::vector<std::pair<double, Index>> by_lo(static_cast<std::size_t>(n));
    for (Index k = 0; k < n; ++k) by_lo[k] = {v[k] - lo * static_cast<double>(k), -k};
    std::sort(by_lo.begin(), by_lo.end());
    std::vector<line> a(static_cast<std::size_t>(n));
    for (Index p = 0; p < n; ++p) {
      const Index k = -by_lo[p].second;
      a[p] = {v[k] - hi * static_cast<double>(k), k, v[k]};
    }
    // q before r in the hi order: key ascending, index descending on equal keys
    auto before = [](const line& r, const line& q) { return r.key < q.key || (r.key == q.key && r.index > q.index); };
    for (Index i = 1; i < n; ++i) {
      const line r = a[i];
      Index j = i;
      while (j > 0 && before(r, a[j - 1])) {
        const line& q = a[j - 1];
        out.push_back(q.index < r.index ? (r.x - q.x) / static_cast<double>(r.index - q.index)
                                        : (q.x - r.x) / static_cast<double>(q.index - r.index));
        a[j] = q;
        --j;
      }
      a[j] = r;
    }
  }

  const std::vector<strided_series>& series_;
  std::int64_t total_ = 0;
  Index points_ = 0, longest_ = 0;
};

// The values of ranks `ranks` (ascending) minus `offset` among `values` (reordered), each clamped to the range:
// one nth_element per rank, each over the part beyond the previous rank only.
std::vector<double> values_at_ranks(std::vector<double>& values, const std::vector<std::int64_t>& ranks,
                                    std::int64_t offset) {
  std::vector<double> out;
  const auto size = static_cast<std::int64_t>(values.size());
  auto from = values.begin();
  for (std::int64_t k : ranks) {
    const auto at = values.begin() + std::clamp<std::int64_t>(k - offset, 0, size - 1);
    if (at >= from) {
      std::nth_element(from, at, values.end());
      from = at + 1;
    }
    out.push_back(*at);
  }
  return out;
}

}  // namespace

std::int64_t sort_counting_inversions(double* a, double* tmp, Index n) {
  std::int64_t inversions = 0;
  constexpr Index run = 32;
  for (Index lo = 0; lo < n; lo += run) {  // insertion sort of short runs (shifts = strict inversions)
    const Index hi = std::min(lo + run, n);
    for (Index i = lo + 1; i < hi; ++i) {
      const double v = a[i];
      Index j = i;
      while (j > lo && a[j - 1] > v) {
        a[j] = a[j - 1];
        --j;
      }
      inversions += i - j;
      a[j] = v;
    }
  }
  double* src = a;
  double* dst = tmp;
  for (Index width = run; width < n; width *= 2) {
    for (Index lo = 0; lo < n; lo += 2 * width) {
      const Index mid = std::min(lo + width, n), end = std::min(lo + 2 * width, n);
      Index i = lo, j = mid, k = lo;
      while (i < mid && j < end) {  // branch-free: the comparison outcome is data-dependent and unpredictable
        const double left = src[i], right = src[j];
        const bool take_right = right < left;
        dst[k++] = take_right ? right : left;
        inversions += take_right ? mid - i : 0;
        i += take_right ? 0 : 1;
        j += take_right ? 1 : 0;
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < end) dst[k++] = src[j++];
    }
    std::swap(src, dst);
  }
  if (src != a) std::copy(src, src + n, a);
  return inversions;
}

tie_summary ties_of_sorted(const double* a, Index n) {
  tie_summary t;
  for (Index i = 0; i < n;) {
    Index j = i + 1;
    while (j < n && a[j] == a[i]) ++j;
    const std::int64_t g = j - i;
    if (g > 1) {
      t.tied_pairs += g * (g - 1) / 2;
      t.groups += 1;
      const double gd = static_cast<double>(g);
      t.variance_term += gd * (gd - 1) * (2 * gd + 5);
    }
    i = j;
  }
  return t;
}

namespace {

// The slopes of ranks `ranks` (ascending, within one group whose span is well below the budget), from the bracket
// search of steps 1–3 below, appended to `out` in the order of `ranks`.
void select_group(const slope_set& set, const std::vector<double>& sample, const std::vector<std::int64_t>& ranks,
                  std::int64_t budget, std::vector<double>& out) {
  const std::int64_t N = set.total(), k_first = ranks.front(), k_last = ranks.back();
  auto fill = [&](double v) { out.insert(out.end(), ranks.size(), v); };
  // 1. a bracket (lo, hi] with count(lo) ≤ k_first and count(hi) > k_last, from the extremes and the sample
  const auto [smin, smax] = set.extremes();
  double lo = smin - std::max(1.0, std::abs(smin)), hi = smax + std::max(1.0, std::abs(smax));
  std::int64_t A = 0, H = N;
  auto is_tie = [&](const slope_counts& c) { return c.lt <= k_first && c.le > k_last; };
  auto update = [&](double t, const slope_counts& c) {
    if (c.le <= k_first && t > lo) { lo = t; A = c.le; }
    else if (c.le > k_last && t < hi) { hi = t; H = c.le; }
  };
  const double md = static_cast<double>(sample.size()), Nd = static_cast<double>(N);
  const double margin = 3 * std::sqrt(md) / 2 + 2;
  const auto at = [&](double pos) { return static_cast<std::size_t>(std::clamp(pos, 0.0, md - 1)); };
  const double p_first = static_cast<double>(k_first) / Nd * md, p_last = static_cast<double>(k_last + 1) / Nd * md;
  // two independent counts at once, where inside (lo, hi) (applied by the caller in a fixed order, so the search
  // does not depend on the number of threads)
  auto count_both = [&](const double (&t)[2], bool (&inside)[2], slope_counts (&counts)[2]) {
    for (int q = 0; q < 2; ++q) inside[q] = t[q] > lo && t[q] < hi;
    // a count is an O(n log n) merge sort: below ~5·10^4 points (< 1 ms) starting a thread costs more than it saves
    // on a busy machine
    [[maybe_unused]] const int threads = inside[0] && inside[1] ? threads_for(2, 4.0 * set.points()) : 1;
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int q = 0; q < 2; ++q)
      if (inside[q]) counts[q] = set.count(t[q]);
  };
  bool in_bracket[2];
  slope_counts counts[2];
  // a slope value repeated in the sample around the estimate may hold all the ranks (heavily tied slopes)
  std::size_t checked = sample.size();
  for (double pos : {p_first, p_last}) {
    const std::size_t a = at(pos);
    if (a == checked) continue;  // both ranks at one sample position (e.g. the two middle ranks)
    checked = a;
    if (((a > 0 && sample[a - 1] == sample[a]) || (a + 1 < sample.size() && sample[a + 1] == sample[a])) &&
        sample[a] > lo && sample[a] < hi) {
      const slope_counts c = set.count(sample[a]);
      if (is_tie(c)) return fill(sample[a]);
      update(sample[a], c);
    }
  }
  {
    const double t[2] = {p_first - margin >= 0 ? sample[at(p_first - margin)] : lo,
                         p_last + margin <= md - 1 ? sample[at(p_last + margin)] : hi};
    count_both(t, in_bracket, counts);
    for (int q = 0; q < 2; ++q)
      if (in_bracket[q]) update(t[q], counts[q]);
  }

  // 2. narrow by interpolation on the count (bisection when it stalls) until few slopes are left
  for (int iteration = 0; iteration < 200 && H - A > budget; ++iteration) {
    const std::int64_t before = H - A;
    const double density = (hi - lo) / static_cast<double>(H - A);
    const double slack = std::max(static_cast<double>(budget) / 8, static_cast<double>(H - A) / 64);
    const double targets[2] = {lo + (static_cast<double>(k_first - A) - slack) * density,
                               lo + (static_cast<double>(k_last + 1 - A) + slack) * density};
    count_both(targets, in_bracket, counts);
    for (int q = 0; q < 2; ++q) {
      if (!in_bracket[q]) continue;
      if (is_tie(counts[q])) return fill(targets[q]);
      update(targets[q], counts[q]);
    }
    if (2 * (H - A) > before) {
      const double mid = lo + (hi - lo) / 2;
      if (!(mid > lo && mid < hi)) break;
      const slope_counts c = set.count(mid);
      if (is_tie(c)) return fill(mid);
      update(mid, c);
      if (2 * (H - A) > before) {  // stalled: a tied slope value inside? try a sample value in the bracket
        for (double s : sample)
          if (s > lo && s < hi) {
            const slope_counts cs = set.count(s);
            if (is_tie(cs)) return fill(s);
            update(s, cs);
            break;
          }
      }
    }
  }
  // A bracket that cannot be split further holds slopes equal to within rounding of x_k − t·k (a value shared
  // by very many pairs, e.g. 1/3 with integer data): they all equal hi to a few ulps.
  if (H - A > 16 * budget) return fill(hi);
  // 3. list the slopes in (lo, hi] and select
  std::vector<double> inside = set.between(lo, hi, H - A);
  const std::vector<double> found = values_at_ranks(inside, ranks, A);
  out.insert(out.end(), found.begin(), found.end());
}

}  // namespace

std::vector<double> select_pairwise_slopes(const std::vector<strided_series>& series, const std::vector<std::int64_t>& ranks) {
  slope_set set(series);
  const std::int64_t N = set.total();
  std::vector<std::int64_t> sorted(ranks);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<double> values;  // per sorted rank
  if (N <= (std::int64_t{1} << 21)) {  // small: materialise, as peers do
    std::vector<double> all = set.all();
    values = values_at_ranks(all, sorted, 0);
  } else {
    Index n_total = 0;
    for (const auto& v : series) n_total += v.n;
    // listing a bracket costs one sort plus a few ns per slope, a count an O(n log n) merge sort: stop narrowing
    // at ~32 n slopes (at least 4 n; at most 2^22 beyond that, for memory); the sample (≈ n slopes, at most
    // 2^20) puts the first bracket within ~3/√m of the ranks' quantiles
    const auto nt = static_cast<std::int64_t>(n_total);
    const std::int64_t budget =
        std::max({4 * nt, std::min<std::int64_t>(32 * nt, std::int64_t{1} << 22), std::int64_t{1} << 15});
    const std::size_t m = static_cast<std::size_t>(
        std::min<std::int64_t>(N, std::clamp<std::int64_t>(n_total, std::int64_t{1} << 14, std::int64_t{1} << 20)));
    const std::vector<double> sample = set.sample(m);
    // ranks close together (e.g. the two middle ranks, or a whole interval at moderate n) share one bracket;
    // the groups (e.g. the median and the two ends of Sen's interval) are searched at once
    std::vector<std::vector<std::int64_t>> groups;
    for (std::size_t g = 0; g < sorted.size();) {
      std::size_t e = g + 1;
      while (e < sorted.size() && sorted[e] - sorted[g] <= budget / 2) ++e;
      groups.emplace_back(sorted.begin() + g, sorted.begin() + e);
      g = e;
    }
    std::vector<std::vector<double>> found(groups.size());
    // a group costs a few counts and a listing (a few ms at 10^4 points): threads only from ~2.5·10^4 points, as
    // in count_both
    [[maybe_unused]] const int threads = threads_for(static_cast<Index>(groups.size()), 4.0 * set.points());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (std::size_t g = 0; g < groups.size(); ++g) select_group(set, sample, groups[g], budget, found[g]);
    for (const auto& f : found) values.insert(values.end(), f.begin(), f.end());
  }
  std::vector<double> out;
  for (std::int64_t k : ranks)
    out.push_back(values[static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), k) - sorted.begin())]);
  return out;
}

}  // namespace impactkit::detail
