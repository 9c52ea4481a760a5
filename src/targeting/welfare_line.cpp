// Out-of-line definitions for impactkit/targeting/welfare_line.hpp (the compiled part of impactkit::impactkit).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/errors.hpp>
#include <impactkit/detail/row_blocks.hpp>
#include <impactkit/detail/threads.hpp>

#include "welfare_line_detail.hpp"

namespace impactkit {

namespace detail::lines {

void check(const welfare_line& L, const char* fn) {
  require(L.kind != line_kind::fixed || std::isfinite(L.value), fn, "the poverty line must be a finite number");
  require(L.kind != line_kind::quantile || (L.quantile > 0 && L.quantile < 1 && std::isfinite(L.share) && L.share > 0), fn,
          "an estimated line needs a quantile p in (0, 1) and a positive share s");
}

/// Rows of the analysis (domain ≥ 0, or all rows without domains) sorted by welfare (stable: equal values
/// keep their row order). The (value, row) pairs are sorted by value then row, a strict total order equal
/// to the stable order, so the comparisons read the pairs in place instead of welfare[row] at random rows
/// (about 2× faster at 10^6 rows); two halves sort in parallel and merge, the same order for any thread count.
std::vector<Eigen::Index> welfare_order(Eigen::Index n, const double* welfare, const int* domain, const char* fn) {
  struct keyed_row {
    double y;
    Eigen::Index row;
    bool operator<(const keyed_row& o) const { return y < o.y || (y == o.y && row < o.row); }
  };
  std::vector<keyed_row> keyed;
  keyed.reserve(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    if (domain && domain[i] < 0) continue;
    if (!std::isfinite(welfare[i])) throw_invalid(fn, "welfare is missing or infinite at row " + std::to_string(i));
    keyed.push_back({welfare[i], i});
  }
  const auto half = keyed.begin() + static_cast<std::ptrdiff_t>(keyed.size() / 2);
  [[maybe_unused]] const int threads = detail::threads_for(2, static_cast<double>(keyed.size()) * 20);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (int part = 0; part < 2; ++part) std::sort(part ? half : keyed.begin(), part ? keyed.end() : half);
  std::vector<Eigen::Index> order(keyed.size());
  auto out = order.begin();
  auto a = keyed.begin(), b = half;
  while (a != half && b != keyed.end()) *out++ = (*b < *a ? b++ : a++)->row;
  for (; a != half; ++a) *out++ = a->row;
  for (; b != keyed.end(); ++b) *out++ = b->row;
  return order;
}


/// laeken's weighted quantiles of the pairs a[lo, hi) for the sorted shares probs[first, last) (all
/// w > 0, total weight `total`), by multi-selection in expected O(n log K); a is reordered. Quantile p is
/// the smallest value whose cumulative weight share, in welfare order, reaches p; on an exact tie (share
/// == p at the end of a run of equal values) the mean of it and the next larger value. Shares are
/// (cumulative sum) / total in long double, as R's cumsum. `below`: the weight left of lo; `next_right`:
/// the smallest value right of hi.
void select_weighted_quantiles(std::vector<weighted_value>& a, std::size_t lo, std::size_t hi, long double below,
                                      double next_right, long double total, const std::vector<double>& probs, std::size_t first,
                                      std::size_t last, std::vector<double>& out, std::uint64_t& state) {
  const double inf = std::numeric_limits<double>::infinity();
  if (first == last) return;
  if (hi - lo <= 32) {
    std::sort(a.begin() + static_cast<std::ptrdiff_t>(lo), a.begin() + static_cast<std::ptrdiff_t>(hi),
              [](const weighted_value& u, const weighted_value& v) { return u.y < v.y; });
    long double cum = below;
    std::size_t j = first;
    for (std::size_t k = lo; k < hi && j < last; ++k) {
      cum += a[k].w;
      const double share = static_cast<double>(cum / total);
      for (; j < last && share >= probs[j]; ++j) {
        const double next = k + 1 < hi ? a[k + 1].y : next_right;
        out[j] = share != probs[j] || !(next < inf) ? a[k].y : 0.5 * (a[k].y + next);
      }
    }
    for (; j < last; ++j) out[j] = a[hi - 1].y;  // p within rounding of 1: the largest value
    return;
  }
  // pivot: median of three pseudo-random positions (a fixed xorshift stream, so runs repeat; fixed
  // positions go quadratic on the blocks an earlier partition left behind)
  auto pick = [&state, lo, hi]() -> std::size_t {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return lo + static_cast<std::size_t>(state % static_cast<std::uint64_t>(hi - lo));
  };
  double x0 = a[pick()].y;
  double x1 = a[pick()].y;
  double x2 = a[pick()].y;
  if (x0 > x1) std::swap(x0, x1);
  if (x1 > x2) std::swap(x1, x2);
  if (x0 > x1) std::swap(x0, x1);
  const double pivot = x1;
  // three-way partition: [lo, lt) < pivot, [lt, gt) == pivot, [gt, hi) > pivot
  std::size_t lt = lo, i = lo, gt = hi;
  long double w_less = 0, w_equal = 0;
  while (i < gt) {
    if (a[i].y < pivot) {
      w_less += a[i].w;
      std::swap(a[lt++], a[i++]);
    } else if (a[i].y > pivot) {
      std::swap(a[i], a[--gt]);
    } else {
      w_equal += a[i++].w;
    }
  }
  const double share_less = static_cast<double>((below + w_less) / total);
  const double share_equal = static_cast<double>((below + w_less + w_equal) / total);
  std::size_t m1 = first;  // probs[first, m1): answers among the smaller values
  while (m1 < last && lt > lo && share_less >= probs[m1]) ++m1;
  std::size_t m2 = m1;  // probs[m1, m2): the pivot (or its mean with the next value on an exact tie)
  while (m2 < last && share_equal >= probs[m2]) ++m2;
  if (m2 > m1) {
    double next = next_right;
    if (share_equal == probs[m2 - 1])
      for (std::size_t k = gt; k < hi; ++k) next = std::min(next, a[k].y);
    for (std::size_t j = m1; j < m2; ++j) out[j] = share_equal == probs[j] && next < inf ? 0.5 * (pivot + next) : pivot;
  }
  select_weighted_quantiles(a, lo, lt, below, pivot, total, probs, first, m1, out, state);
  select_weighted_quantiles(a, gt, hi, below + w_less + w_equal, next_right, total, probs, m2, last, out, state);
}

/// laeken's quantiles on a large input by sample brackets (Floyd & Rivest 1975): a fixed sample of the
/// rows gives, for each p, a welfare interval [lo, hi] that holds Q_p with near certainty; one pass sums
/// the weight below lo, gathers the rows within [lo, hi] (a few percent of them) and checks every row;
/// the wanted rank is then selected within each bracket by select_weighted_quantiles. The sample is
/// stratified: one row drawn at random from each of m strata of n/m consecutive rows. Its positions
/// increase, so it reads the columns in order (a fraction of their cache lines: 3 ms against 10 ms for
/// 2^16 rows drawn anywhere at 10^7 rows), and with proportional allocation its share estimates vary no
/// more than a simple random sample's (Cochran 1977, §5.6), so the brackets' δ below stays conservative.
/// Deterministic: the sample depends only on n.
bool sample_brackets(Eigen::Index n, const double* welfare, const double* w, const int* domain, const std::vector<double>& probs,
                     std::vector<double>& lo, std::vector<double>& hi, std::vector<double>* expected_share) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::size_t K = probs.size();
  // m = 2^16 strata of about n/m rows (a larger sample narrows the brackets, fewer rows fall within them,
  // but its draws and selection cost more than they save at 10^7 rows); the analysis rows (domain ≥ 0,
  // positive finite weight, finite welfare) among the m drawn form the sample
  constexpr std::size_t m = std::size_t{1} << 16;
  if (n < static_cast<Eigen::Index>(4 * m)) return false;
  std::vector<weighted_value> sample;
  sample.reserve(m);
  std::uint64_t state = 0x2545F4914F6CDD1Dull ^ static_cast<std::uint64_t>(n);
  const double stride = static_cast<double>(n) / static_cast<double>(m);
  for (std::size_t k = 0; k < m; ++k) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const double u = static_cast<double>(state >> 11) * 0x1.0p-53;  // uniform on [0, 1)
    const auto i = std::min<Eigen::Index>(static_cast<Eigen::Index>((static_cast<double>(k) + u) * stride), n - 1);
    const double wi = w ? w[i] : 1.0;
    if ((domain && domain[i] < 0) || !(wi > 0 && wi < inf) || !std::isfinite(welfare[i])) continue;
    sample.push_back({welfare[i], wi});
  }
  if (sample.size() < (std::size_t{1} << 14)) return false;
  long double sample_total = 0, sum_w2 = 0;
  for (const auto& v : sample) {
    sample_total += v.w;
    sum_w2 += static_cast<long double>(v.w) * v.w;
  }
  // brackets at the sample's weighted quantiles p ∓ δ, δ = 4·sqrt(p(1 − p)/s_eff) + 1/s (s_eff Kish's
  // effective size; a bracket misses with probability about 6e-5, and the full selection then answers)
  const double s_eff = static_cast<double>(sample_total * sample_total / sum_w2);
  std::vector<std::pair<double, std::size_t>> ends;  // (share, 2k for lo_k or 2k + 1 for hi_k)
  lo.assign(K, -inf);
  hi.assign(K, inf);
  if (expected_share) expected_share->assign(K, 0.0);
  for (std::size_t k = 0; k < K; ++k) {
    const double p = probs[k], delta = 4 * std::sqrt(p * (1 - p) / s_eff) + 1.0 / static_cast<double>(sample.size());
    if (expected_share) (*expected_share)[k] = std::min(1.0, 2 * delta);
    if (p - delta > 0) ends.emplace_back(p - delta, 2 * k);
    if (p + delta < 1) ends.emplace_back(p + delta, 2 * k + 1);
  }
  std::sort(ends.begin(), ends.end());
  std::vector<double> shares, at(ends.size());
  for (const auto& e : ends) shares.push_back(e.first);
  std::uint64_t select_state = 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(sample.size());
  select_weighted_quantiles(sample, 0, sample.size(), 0, inf, sample_total, shares, 0, shares.size(), at, select_state);
  for (std::size_t j = 0; j < ends.size(); ++j) (ends[j].second & 1 ? hi : lo)[ends[j].second / 2] = at[j];
  for (std::size_t k = 0; k < K; ++k)
    if (!(lo[k] <= hi[k]) || (k > 0 && !(lo[k] >= lo[k - 1] && hi[k] >= hi[k - 1]))) return false;
  return true;
}

bool select_in_brackets(std::vector<std::vector<weighted_value>>& inside, const std::vector<long double>& below, long double total,
                        const std::vector<double>& probs, std::vector<double>& out) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::size_t K = probs.size();
  if (!(total > 0) || inside.size() != K || below.size() != K) return false;
  out.assign(K, std::numeric_limits<double>::quiet_NaN());
  std::vector<char> found(K, 0);
  [[maybe_unused]] const int select_threads = detail::threads_for(static_cast<Eigen::Index>(K), static_cast<double>(inside[0].size()) * 4);
#pragma omp parallel for schedule(dynamic, 1) num_threads(select_threads) if (select_threads > 1)
  for (std::size_t k = 0; k < K; ++k) {
    auto& c = inside[k];
    const double p = probs[k];
    long double in_bracket = 0;
    for (const auto& v : c) in_bracket += v.w;
    // Q_p lies within the bracket, and not at a tie with the value after the bracket's last
    if (!(static_cast<double>(below[k] / total) < p) || !(static_cast<double>((below[k] + in_bracket) / total) > p)) continue;
    std::vector<double> answer(1);
    std::uint64_t select_state = 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(c.size());
    select_weighted_quantiles(c, 0, c.size(), below[k], inf, total, {p}, 0, 1, answer, select_state);
    out[k] = answer[0];
    found[k] = 1;
  }
  for (char f : found)
    if (!f) return false;
  return true;
}

bracket_outcome bracketed_quantiles(Eigen::Index n, const double* welfare, const double* w, const int* domain,
                                    const std::vector<double>& probs, std::vector<double>& out) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::size_t K = probs.size();
  std::vector<double> lo, hi, width;  // width: the expected share of rows within each bracket
  if (!sample_brackets(n, welfare, w, domain, probs, lo, hi, &width)) return bracket_outcome::missed;
  // one pass: each row's weight into one bin (bin j: exactly j of the lo's are ≤ y, as lo is sorted, so
  // the weight below lo_k is the sum of bins 0..k), the rows within a bracket (a contiguous range of
  // brackets holds y, as hi is sorted too), and the checks (a flag, no branch). Bins sum in double within
  // blocks of 4096 rows, over 4 interleaved sets (no chain of stores to one bin), flushed to long double.
  const bool few = K <= 8;
  std::vector<double> hi_pad{-inf};  // hi_pad[c] = hi_{c−1}: the bracket a row with c lo's ≤ y may be in
  hi_pad.insert(hi_pad.end(), hi.begin(), hi.end());
  std::vector<double> lo8(lo);  // padded with NaN: never ≤ y
  lo8.resize(std::max<std::size_t>(K, 8), std::numeric_limits<double>::quiet_NaN());
  const detail::row_chunks chunks = detail::make_row_chunks(n, Eigen::Index{1} << 18, 64);
  std::vector<std::vector<long double>> chunk_bin(static_cast<std::size_t>(chunks.count), std::vector<long double>(K + 1, 0));
  std::vector<std::vector<std::vector<weighted_value>>> chunk_inside(static_cast<std::size_t>(chunks.count),
                                                                     std::vector<std::vector<weighted_value>>(K));
  std::vector<char> chunk_bad(static_cast<std::size_t>(chunks.count), 0);
  [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    constexpr Eigen::Index block = 4096;
    constexpr double big = std::numeric_limits<double>::max();
    auto& bin = chunk_bin[static_cast<std::size_t>(c)];
    auto& inside = chunk_inside[static_cast<std::size_t>(c)];
    for (std::size_t k = 0; k < K; ++k)  // room for the expected share of rows in bracket k (2δ_k) and more
      inside[k].reserve(static_cast<std::size_t>(static_cast<double>(chunks.size) * (1.5 * width[k] + 1e-3)) + 16);
    const std::size_t stride = K + 1;
    std::vector<double> sets(4 * stride, 0.0);
    const std::vector<double> ones(w ? 0 : block, 1.0);
    double lo_local[8];  // in registers: the stores to the bins could alias a vector's data
    std::copy(lo8.begin(), lo8.begin() + 8, lo_local);
    std::vector<weighted_value> staged(static_cast<std::size_t>(block));
    std::vector<std::size_t> staged_count(static_cast<std::size_t>(block));
    Eigen::Index n_staged = 0;
    int bad = 0;
    for (Eigen::Index b0 = chunks.begin(c), e = chunks.end(c); b0 < e && !bad; b0 += block) {
      const Eigen::Index m = std::min(block, e - b0);
      const double* w_ = w ? w + b0 : ones.data();
      const double* y_ = welfare + b0;
      for (Eigen::Index j = 0; j < m; ++j) {
        const double wi = w_[j], y = y_[j];
        const bool in = !domain || domain[b0 + j] >= 0;
        bad |= in & (static_cast<int>(!(std::fabs(y) <= big)) | !((wi >= 0) & (wi <= big)));
        const bool counted = in & (wi > 0);
        std::size_t count;  // the number of lo's ≤ y (lo is sorted)
        if (few) {
          count = static_cast<std::size_t>(count_below8<false>(y, lo_local));
        } else {
          count = 0;
          for (std::size_t k = 0; k < K; ++k) count += lo[k] <= y;
        }
        sets[(static_cast<std::size_t>(j) & 3) * stride + count] += counted ? wi : 0.0;
        // a row within bracket count − 1 (and maybe lower ones) is staged without a branch: written
        // always, kept when it is in (hi is sorted, so a row above hi_{count−1} is above the lower ones)
        staged[static_cast<std::size_t>(n_staged)] = {y, wi};
        staged_count[static_cast<std::size_t>(n_staged)] = count;
        n_staged += counted & (count > 0) & (y <= hi_pad[count]);
      }
      for (Eigen::Index t = 0; t < n_staged; ++t) {
        const weighted_value v = staged[static_cast<std::size_t>(t)];
        for (std::size_t k = staged_count[static_cast<std::size_t>(t)]; k-- > 0 && v.y <= hi[k];) inside[k].push_back(v);
      }
      n_staged = 0;
      for (std::size_t j = 0; j <= K; ++j) {
        bin[j] += (sets[j] + sets[stride + j]) + (sets[2 * stride + j] + sets[3 * stride + j]);
        sets[j] = sets[stride + j] = sets[2 * stride + j] = sets[3 * stride + j] = 0;
      }
    }
    chunk_bad[static_cast<std::size_t>(c)] = static_cast<char>(bad);
  }
  for (char bad : chunk_bad)
    if (bad) return bracket_outcome::invalid;
  std::vector<long double> bin(K + 1, 0);
  std::vector<std::vector<weighted_value>> inside(K);
  for (std::size_t k = 0; k < K; ++k) {
    std::size_t size = 0;
    for (const auto& parts : chunk_inside) size += parts[k].size();
    inside[k].reserve(size);
  }
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    for (std::size_t j = 0; j <= K; ++j) bin[j] += chunk_bin[static_cast<std::size_t>(c)][j];
    for (std::size_t k = 0; k < K; ++k) {
      auto& part = chunk_inside[static_cast<std::size_t>(c)][k];
      inside[k].insert(inside[k].end(), part.begin(), part.end());
      std::vector<weighted_value>().swap(part);
    }
  }
  long double total = 0;
  for (long double v : bin) total += v;
  std::vector<long double> below(K, 0);
  for (std::size_t k = 0; k < K; ++k) below[k] = (k ? below[k - 1] : 0) + bin[k];
  std::vector<double> answers;
  if (!select_in_brackets(inside, below, total, probs, answers)) return bracket_outcome::missed;
  out = answers;
  return bracket_outcome::answered;
}

/// laeken's weighted quantiles (see select_weighted_quantiles) of welfare over the rows with domain ≥ 0
/// (all rows without domains) and positive weight.
std::vector<double> weighted_quantiles(Eigen::Index n, const double* welfare, const double* w, const int* domain,
                                              const std::vector<double>& probs, const char* fn) {
  for (std::size_t j = 0; j < probs.size(); ++j)
    require(probs[j] > 0 && probs[j] < 1 && (j == 0 || probs[j] > probs[j - 1]), fn, "quantile shares must increase within (0, 1)");
  std::vector<double> out(probs.size());
  // large inputs: sample brackets and one pass that also checks the rows (expected); small ones, a missed
  // bracket or an invalid row (named below): the full selection
  if (n >= (Eigen::Index{1} << 18) && !probs.empty() && probs.size() <= 64 &&
      bracketed_quantiles(n, welfare, w, domain, probs, out) == bracket_outcome::answered)
    return out;
  // the total weight and count of the analysis rows with positive weight, after checking them: fixed chunks
  // in parallel, summed in chunk order (the same total for any thread count)
  const detail::row_chunks chunks = detail::make_row_chunks(n, Eigen::Index{1} << 18, 64);
  std::vector<long double> chunk_total(static_cast<std::size_t>(chunks.count), 0);
  std::vector<std::size_t> chunk_m(static_cast<std::size_t>(chunks.count), 0);
  std::vector<Eigen::Index> first_bad(static_cast<std::size_t>(chunks.count), -1);
  [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    long double t = 0;
    std::size_t count = 0;
    for (Eigen::Index i = chunks.begin(c), e = chunks.end(c); i < e; ++i) {
      if (domain && domain[i] < 0) continue;
      const double wi = w ? w[i] : 1.0;
      if (!(std::isfinite(wi) && wi >= 0) || !std::isfinite(welfare[i])) {
        first_bad[static_cast<std::size_t>(c)] = i;
        break;
      }
      if (wi == 0) continue;
      t += wi;
      ++count;
    }
    chunk_total[static_cast<std::size_t>(c)] = t;
    chunk_m[static_cast<std::size_t>(c)] = count;
  }
  long double total = 0;
  std::size_t m = 0;
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    const Eigen::Index i = first_bad[static_cast<std::size_t>(c)];
    if (i >= 0) {
      const double wi = w ? w[i] : 1.0;
      if (!(std::isfinite(wi) && wi >= 0)) throw_invalid(fn, "weights must be finite and non-negative at row " + std::to_string(i));
      throw_invalid(fn, "welfare is missing or infinite at row " + std::to_string(i));
    }
    total += chunk_total[static_cast<std::size_t>(c)];
    m += chunk_m[static_cast<std::size_t>(c)];
  }
  require(m > 0, fn, "no analysis row has a positive weight: welfare quantiles are undefined");
  if (probs.empty()) return out;
  std::vector<weighted_value> a;
  a.reserve(m);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (domain && domain[i] < 0) continue;
    const double wi = w ? w[i] : 1.0;
    if (wi > 0) a.push_back({welfare[i], wi});
  }
  std::uint64_t state = 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(a.size());
  select_weighted_quantiles(a, 0, a.size(), 0, std::numeric_limits<double>::infinity(), total, probs, 0, probs.size(), out, state);
  return out;
}

/// The line on the analysis rows (domain ≥ 0) with weights w (null: 1); see the header comment.
resolved_line resolve(const welfare_line& L, Eigen::Index n, const double* welfare, const double* w, const int* domain,
                             const char* fn) {
  resolved_line out;
  if (L.kind == line_kind::fixed) out.z = L.value;
  if (L.kind != line_kind::quantile) return out;
  // the spread for the bandwidth on welfare scaled by its largest magnitude (no overflow at 1e300): one
  // pass for the checks and the scale, one for the weighted mean and sum of squares (within fixed chunks
  // two-pass on cache-resident rows, merged in chunk order by Chan, Golub & LeVeque 1983: the same
  // bandwidth for any thread count)
  const detail::row_chunks chunks = detail::make_row_chunks(n, Eigen::Index{1} << 16, 256);
  const std::size_t C = static_cast<std::size_t>(chunks.count);
  std::vector<Eigen::Index> bad_welfare(C, -1), bad_weight(C, -1);
  std::vector<double> chunk_scale(C, 0.0), chunk_min(C, std::numeric_limits<double>::infinity()),
      chunk_max(C, -std::numeric_limits<double>::infinity());
  [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    double m = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (Eigen::Index i = chunks.begin(c), e = chunks.end(c); i < e; ++i) {
      if (domain && domain[i] < 0) continue;
      const double wi = w ? w[i] : 1.0;
      if (!std::isfinite(welfare[i]) && bad_welfare[static_cast<std::size_t>(c)] < 0) bad_welfare[static_cast<std::size_t>(c)] = i;
      if (!(std::isfinite(wi) && wi >= 0) && bad_weight[static_cast<std::size_t>(c)] < 0) bad_weight[static_cast<std::size_t>(c)] = i;
      m = std::max(m, std::fabs(welfare[i]));
      lo = std::min(lo, welfare[i]);
      hi = std::max(hi, welfare[i]);
    }
    chunk_scale[static_cast<std::size_t>(c)] = m, chunk_min[static_cast<std::size_t>(c)] = lo, chunk_max[static_cast<std::size_t>(c)] = hi;
  }
  for (Eigen::Index i : bad_welfare)
    if (i >= 0) throw_invalid(fn, "welfare is missing or infinite at row " + std::to_string(i));
  for (Eigen::Index i : bad_weight)
    if (i >= 0) throw_invalid(fn, "weights must be finite and non-negative at row " + std::to_string(i));
  double scale = 0, lowest = std::numeric_limits<double>::infinity(), highest = -lowest;
  for (std::size_t c = 0; c < C; ++c)
    scale = std::max(scale, chunk_scale[c]), lowest = std::min(lowest, chunk_min[c]), highest = std::max(highest, chunk_max[c]);
  if (scale == 0) scale = 1;
  std::vector<double> chunk_w(C, 0.0), chunk_mean(C, 0.0), chunk_ss(C, 0.0);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    double W = 0, S = 0;
    for (Eigen::Index i = chunks.begin(c), e = chunks.end(c); i < e; ++i) {
      if (domain && domain[i] < 0) continue;
      const double wi = w ? w[i] : 1.0;
      W += wi;
      S += wi * (welfare[i] / scale);
    }
    const double mean = W > 0 ? S / W : 0.0;
    double ss = 0;
    for (Eigen::Index i = chunks.begin(c), e = chunks.end(c); i < e; ++i) {
      if (domain && domain[i] < 0) continue;
      const double dev = welfare[i] / scale - mean;
      ss += (w ? w[i] : 1.0) * dev * dev;
    }
    chunk_w[static_cast<std::size_t>(c)] = W, chunk_mean[static_cast<std::size_t>(c)] = mean, chunk_ss[static_cast<std::size_t>(c)] = ss;
  }
  long double total = 0, mean = 0, ss = 0;
  for (std::size_t c = 0; c < C; ++c) {
    const long double Wc = chunk_w[c];
    if (!(Wc > 0)) continue;
    const long double delta = chunk_mean[c] - mean, merged = total + Wc;
    mean += delta * Wc / merged;
    ss += chunk_ss[c] + delta * delta * total * Wc / merged;
    total = merged;
  }
  require(total > 0, fn, "the analysis rows have no positive weight: the line cannot be estimated");
  if (lowest == highest) ss = 0;  // constant welfare: no spread (not the rounding of the chunk means)
  const double N = static_cast<double>(total);
  out.q = weighted_quantiles(n, welfare, w, domain, {L.quantile}, fn)[0];
  out.z = L.share * out.q;
  out.h = scale * std::sqrt(static_cast<double>(ss / total)) / std::pow(N, 0.2);
  require(out.h > 0, fn, "welfare is constant over the analysis rows: an estimated line has no density to linearise");
  out.estimated = true;
  return out;
}

/// s·IF_u(Q_p) per unit from the unit totals of w·1{y ≤ Q} (`below`) and w (`all`) and the density total
/// Σ w φ_h(Q − y).
Eigen::VectorXd line_influence(const welfare_line& L, const Eigen::VectorXd& below, const Eigen::VectorXd& all, double density,
                                      const char* fn) {
  require(density > 0, fn, "the welfare density at the estimated quantile is zero: the line cannot be linearised");
  return -L.share * (below - L.quantile * all) / density;
}

}  // namespace detail::lines

std::vector<double> weighted_quantiles(Eigen::Index n, const double* welfare, const double* weights, const int* domain,
                                       const std::vector<double>& probs) {
  return detail::lines::weighted_quantiles(n, welfare, weights, domain, probs, "weighted_quantiles");
}

}  // namespace impactkit
