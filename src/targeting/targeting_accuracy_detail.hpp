#pragma once
// Internal to the compiled library: the per-row variables, metric definitions and linearisation of
// targeting_accuracy (formulas in include/impactkit/targeting/targeting_accuracy.hpp), shared by the
// in-memory call and the streaming accumulator (targeting/streaming.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/errors.hpp>
#include <impactkit/core/influence_vcov.hpp>
#include <impactkit/core/survey_design.hpp>
#include <impactkit/core/unit_totals.hpp>
#include <impactkit/detail/row_blocks.hpp>
#include <impactkit/detail/threads.hpp>
#include <impactkit/targeting/targeting_accuracy.hpp>
#include <impactkit/targeting/welfare_index.hpp>

#include "welfare_line_detail.hpp"

namespace impactkit {

namespace detail::targeting {

namespace lines = detail::lines;

// Per-row variables x_k (before the weight), in this order; then 3 per welfare group. The second row
// serves the linearisation of an estimated line: 1{y ≤ Q}, φ_h(z − y), B·φ_h(z − y), b·φ_h(z − y),
// φ_h(Q − y) and 1{y + b < z}, with φ_h(u) = φ(u/h)/h.
enum base : int { one, tgt, ben, tgt_ben, amt, tgt_amt, gap_before, gap_after, ben_welfare,
                  below_q, kernel_z, kernel_z_ben, kernel_z_amt, kernel_q, poor_after, n_fixed };
inline Eigen::Index n_variables(int n_groups) { return n_fixed + 3 * static_cast<Eigen::Index>(n_groups); }

enum class form { total, ratio, ratio_difference, ratio_of_ratios, line };

/// θ = a₁·t (total), (a₁·t)/(b₁·t), r₁ − r₂ or r₁/r₂ with r_j = (a_j·t)/(b_j·t).
struct definition {
  targeting_metric_info info;
  form kind = form::ratio;
  Eigen::VectorXd a1, b1, a2, b2;
};

inline Eigen::VectorXd unit_vector(Eigen::Index q, std::initializer_list<std::pair<Eigen::Index, double>> terms) {
  Eigen::VectorXd v = Eigen::VectorXd::Zero(q);
  for (const auto& [k, c] : terms) v(k) += c;
  return v;
}

inline std::vector<definition> definitions(bool amounts, bool gap, bool adequacy, bool estimated_line, int n_groups) {
  const Eigen::Index q = n_variables(n_groups);
  auto e = [q](std::initializer_list<std::pair<Eigen::Index, double>> t) { return unit_vector(q, t); };
  const std::string unit_word = amounts ? "benefit" : "beneficiaries (no amounts given: counts)";
  std::vector<definition> out;
  auto ratio = [&](std::string name, std::string words, Eigen::VectorXd a, Eigen::VectorXd b, int g = -1) {
    out.push_back({{std::move(name), std::move(words), g}, form::ratio, std::move(a), std::move(b), {}, {}});
  };
  if (estimated_line) out.push_back({{"line", "the estimated line z (welfare units)", -1}, form::line, {}, {}, {}, {}});
  ratio("target_share", "share of the population in the target group", e({{tgt, 1}}), e({{one, 1}}));
  ratio("programme_coverage", "share of the population receiving the programme", e({{ben, 1}}), e({{one, 1}}));
  ratio("coverage", "share of the target group receiving the programme", e({{tgt_ben, 1}}), e({{tgt, 1}}));
  ratio("exclusion_error", "share of the target group not receiving the programme", e({{tgt, 1}, {tgt_ben, -1}}), e({{tgt, 1}}));
  ratio("inclusion_error_beneficiaries", "share of beneficiaries outside the target group (leakage rate)", e({{ben, 1}, {tgt_ben, -1}}),
        e({{ben, 1}}));
  ratio("inclusion_error_nontarget", "share of the non-target population receiving the programme", e({{ben, 1}, {tgt_ben, -1}}),
        e({{one, 1}, {tgt, -1}}));
  out.push_back({{"targeting_differential", "coverage of the target group minus coverage of the non-target population", -1},
                 form::ratio_difference, e({{tgt_ben, 1}}), e({{tgt, 1}}), e({{ben, 1}, {tgt_ben, -1}}), e({{one, 1}, {tgt, -1}})});
  out.push_back({{"cgh", "share of " + unit_word + " reaching the target group over its population share", -1}, form::ratio_of_ratios,
                 e({{tgt_amt, 1}}), e({{amt, 1}}), e({{tgt, 1}}), e({{one, 1}})});
  out.push_back({{"leakage_amount", amounts ? "total benefit paid outside the target group" : "beneficiaries outside the target group (count)", -1},
                 form::total, e({{amt, 1}, {tgt_amt, -1}}), {}, {}, {}});
  out.push_back({{"undercoverage", "target population not receiving the programme (count)", -1}, form::total, e({{tgt, 1}, {tgt_ben, -1}}),
                 {}, {}, {}});
  if (adequacy) ratio("adequacy", "total benefit over the total welfare of beneficiaries", e({{amt, 1}}), e({{ben_welfare, 1}}));
  if (gap)
    ratio("poverty_gap_reduction_per_budget", "money-metric poverty gap closed per unit of benefit paid",
          e({{gap_before, 1}, {gap_after, -1}}), e({{amt, 1}}));
  for (int g = 0; g < n_groups; ++g) {
    const Eigen::Index k = n_fixed + 3 * static_cast<Eigen::Index>(g);
    ratio("beneficiary_incidence", "share of beneficiaries in this welfare group", e({{k + 1, 1}}), e({{ben, 1}}), g);
    if (amounts) ratio("benefit_incidence", "share of the benefit paid to this welfare group", e({{k + 2, 1}}), e({{amt, 1}}), g);
    ratio("group_coverage", "share of this welfare group receiving the programme", e({{k + 1, 1}}), e({{k, 1}}), g);
  }
  return out;
}

/// θ and ∂θ/∂t at the totals t (q); false when a denominator total is 0.
inline bool evaluate(const definition& m, const Eigen::Ref<const Eigen::VectorXd>& t, double& theta, Eigen::VectorXd& grad) {
  auto ratio = [&t](const Eigen::VectorXd& a, const Eigen::VectorXd& b, double& r, Eigen::VectorXd& g) {
    const double den = b.dot(t);
    if (den == 0) return false;
    r = a.dot(t) / den;
    g = (a - r * b) / den;
    return true;
  };
  double r1 = 0, r2 = 0;
  Eigen::VectorXd g1, g2;
  switch (m.kind) {
    case form::total:
      theta = m.a1.dot(t);
      grad = m.a1;
      return true;
    case form::ratio:
      return ratio(m.a1, m.b1, theta, grad);
    case form::ratio_difference:
      if (!ratio(m.a1, m.b1, r1, g1) || !ratio(m.a2, m.b2, r2, g2)) return false;
      theta = r1 - r2;
      grad = g1 - g2;
      return true;
    case form::ratio_of_ratios:
      if (!ratio(m.a1, m.b1, r1, g1) || !ratio(m.a2, m.b2, r2, g2) || r2 == 0) return false;
      theta = r1 / r2;
      grad = (g1 - theta * g2) / r2;
      return true;
    case form::line:  // filled by the caller (its influence is the line's)
      theta = 0;
      grad = Eigen::VectorXd::Zero(t.size());
      return true;
  }
  return false;
}

inline bool is_indicator(double v) { return v == 0.0 || v == 1.0; }

inline void check_rows(const targeting_rows& r) {
  const char* fn = "targeting_accuracy";
  detail::require(r.n >= 1, fn, "no rows");
  detail::require(r.beneficiary != nullptr, fn, "the beneficiary column is required");
  detail::require(r.line.kind != line_kind::none || r.target != nullptr, fn, "needs the target column or a line");
  detail::require(r.line.kind == line_kind::none || r.welfare != nullptr, fn, "a line needs the welfare column");
  lines::check(r.line, fn);
  detail::require(r.n_domains >= 1, fn, "needs at least one domain");
  detail::require(r.n_welfare_groups >= 0 && (r.welfare_group == nullptr || r.n_welfare_groups > 0), fn,
                  "welfare group codes need the number of groups");
  detail::require(r.welfare_group != nullptr || r.n_welfare_groups == 0 || r.welfare != nullptr, fn,
                  "quantile groups of welfare need the welfare column");
}

/// Why row i is invalid (for the error message).
[[noreturn]] inline void explain_invalid(const targeting_rows& r, Eigen::Index i) {
  const char* fn = "targeting_accuracy";
  const std::string at = " at row " + std::to_string(i);
  if (r.weights && !(std::isfinite(r.weights[i]) && r.weights[i] >= 0))
    throw_invalid(fn, "weights must be finite and non-negative; " + format_g(r.weights[i]) + at);
  if (r.target && !is_indicator(r.target[i])) throw_invalid(fn, "the target indicator must be 0 or 1; " + format_g(r.target[i]) + at);
  if (!is_indicator(r.beneficiary[i])) throw_invalid(fn, "the beneficiary indicator must be 0 or 1; " + format_g(r.beneficiary[i]) + at);
  if (r.benefit && !std::isfinite(r.benefit[i])) throw_invalid(fn, "the benefit amount is missing or infinite" + at);
  if (r.benefit && r.benefit[i] != 0 && r.beneficiary[i] == 0)
    throw_invalid(fn, "the benefit amount is " + format_g(r.benefit[i]) + " for a non-beneficiary" + at +
                          "; a benefit is paid to beneficiaries only");
  if (r.welfare && !std::isfinite(r.welfare[i])) throw_invalid(fn, "welfare is missing or infinite" + at);
  if (r.domain && r.domain[i] >= r.n_domains) throw_invalid(fn, "domain code out of range" + at);
  if (r.welfare_group && (r.welfare_group[i] < 0 || r.welfare_group[i] >= r.n_welfare_groups))
    throw_invalid(fn, "welfare group code out of range" + at);
  throw_invalid(fn, "invalid row " + std::to_string(i));
}

inline resolved_line resolve(const targeting_rows& r, const double* w) {
  return lines::resolve(r.line, r.n, r.welfare, w, r.domain, "targeting_accuracy");
}

/// The welfare group of y: the number of cuts below it (y ≤ cut_1: group 0).
inline int group_of(double y, const std::vector<double>& cuts) {
  int g = 0;
  for (double c : cuts) g += y > c;
  return g;
}

/// The per-row variables of row i (times `w`) into x; the row's domain, or −2 when the row is invalid.
inline int row_variables(const targeting_rows& r, const resolved_line& L, const std::vector<double>& cuts, Eigen::Index i, double w,
                         double* x) {
  const double y = r.welfare ? r.welfare[i] : 0.0;
  const double T = r.line.kind == line_kind::none ? r.target[i] : (r.line.below(y, L.z) ? 1.0 : 0.0);
  const double B = r.beneficiary[i];
  const double b = r.benefit ? r.benefit[i] : B;
  const int d = r.domain ? r.domain[i] : 0;
  const int g = r.welfare_group ? r.welfare_group[i] : r.n_welfare_groups ? group_of(y, cuts) : 0;
  if (!(std::isfinite(w) && w >= 0) || !is_indicator(T) || !is_indicator(B) || !std::isfinite(b) || (b != 0 && B == 0) ||
      !std::isfinite(y) || d >= r.n_domains || (r.welfare_group && (g < 0 || g >= r.n_welfare_groups)))
    return -2;
  std::fill(x, x + n_fixed, 0.0);
  x[one] = w;
  x[tgt] = w * T;
  x[ben] = w * B;
  x[tgt_ben] = w * T * B;
  x[amt] = w * b;
  x[tgt_amt] = w * T * b;
  x[ben_welfare] = w * B * y;
  if (!std::isnan(L.z)) {
    x[gap_before] = w * std::max(L.z - y, 0.0);
    x[gap_after] = w * std::max(L.z - y - b, 0.0);
  }
  if (L.estimated) {
    const double kz = lines::gaussian_kernel(L.z - y, L.h);
    x[below_q] = y <= L.q ? w : 0.0;
    x[kernel_z] = w * kz;
    x[kernel_z_ben] = w * B * kz;
    x[kernel_z_amt] = w * b * kz;
    x[kernel_q] = w * lines::gaussian_kernel(L.q - y, L.h);
    x[poor_after] = y + b < L.z ? w : 0.0;
  }
  for (int k = 0; k < r.n_welfare_groups; ++k) {
    const double in = k == g ? w : 0.0;
    x[n_fixed + 3 * k] = in;
    x[n_fixed + 3 * k + 1] = in * B;
    x[n_fixed + 3 * k + 2] = in * b;
  }
  return d;
}

// ---- the pass over the rows -------------------------------------------------------------------------
// row_variables above defines the q variables of a row; the pass below computes the same unit totals
// from fewer writes. T and B are indicators and b = 0 when B = 0, and a row's welfare interval fixes
// both its side of the line and its welfare group: with a line and quantile groups the K − 1 cuts and
// the line z split welfare into K + 1 intervals j, each wholly below or above the line and in one group
// (j = #{breakpoints below y}; with p = #{cuts below the line}, T = 1{j ≤ p} and g = j − 1{j > p}).
// Otherwise (a target column, or group codes) j = 2g + T. Each row adds one run of fields to one cell
// (unit, domain, j, B): a B = 0 row needs only the fields shared by all rows, a B = 1 row those and
// the beneficiary fields, so a (j) block is [B = 0: shared | B = 1: shared, beneficiary-only] and a
// B = 0 row writes the beneficiary-only values times B, exact zeros, into the next cell's first slots:
//   shared:           w, w·(z − y)₊ (line), and for an estimated line w·φ_h(z − y), w·φ_h(Q − y),
//                     w·1{y ≤ Q}, w·1{y + b < z}
//   beneficiary-only: w·b, w·y, w·(z − y − b)₊ (line), w·b·φ_h(z − y) (estimated line)
// A row adds 3, 5 or 10 values instead of q = 15 + 3K; expand_cells maps the cells to the q variables.

/// Whether row i fails a check of row_variables (the slow path of a block holding an invalid row).
inline bool row_is_invalid(const targeting_rows& r, const resolved_line& L, const std::vector<double>& cuts, Eigen::Index i) {
  std::vector<double> x(static_cast<std::size_t>(n_variables(r.n_welfare_groups)));
  const int d = row_variables(r, L, cuts, i, r.weights ? r.weights[i] : 1.0, x.data());
  return d < -1 || d >= r.n_domains;
}

/// The first invalid row of rows [begin, end) by the checks of row_variables, or −1 (blocks tested by
/// vectorised reductions, a failing block row by row).
inline Eigen::Index first_invalid_row(const targeting_rows& r, const resolved_line& L, const std::vector<double>& cuts,
                                      Eigen::Index begin, Eigen::Index end) {
  constexpr Eigen::Index block = 2048;
  constexpr double big = std::numeric_limits<double>::max();
  const int D = r.n_domains, K = r.n_welfare_groups;
  for (Eigen::Index b0 = begin; b0 < end; b0 += block) {
    const Eigen::Index b1 = std::min(end, b0 + block);
    int invalid = 0;
    for (Eigen::Index i = b0; i < b1; ++i) {
      const double B = r.beneficiary[i];
      invalid |= (B != 0) & (B != 1);
    }
    if (r.weights)
      for (Eigen::Index i = b0; i < b1; ++i) invalid |= !((r.weights[i] >= 0) & (r.weights[i] <= big));
    if (r.welfare)
      for (Eigen::Index i = b0; i < b1; ++i) invalid |= !(std::fabs(r.welfare[i]) <= big);
    if (r.benefit)
      for (Eigen::Index i = b0; i < b1; ++i) invalid |= static_cast<int>(!(std::fabs(r.benefit[i]) <= big)) | ((r.benefit[i] != 0) & (r.beneficiary[i] != 1));
    if (r.line.kind == line_kind::none)
      for (Eigen::Index i = b0; i < b1; ++i) invalid |= (r.target[i] != 0) & (r.target[i] != 1);
    if (r.domain)
      for (Eigen::Index i = b0; i < b1; ++i) invalid |= (r.domain[i] < -1) | (r.domain[i] >= D);
    if (r.welfare_group)
      for (Eigen::Index i = b0; i < b1; ++i) invalid |= (r.welfare_group[i] < 0) | (r.welfare_group[i] >= K);
    if (invalid)
      for (Eigen::Index i = b0; i < b1; ++i)
        if (row_is_invalid(r, L, cuts, i)) return i;
  }
  return -1;
}

/// The cells of one (unit, domain) block of the table (see above).
struct cell_layout {
  bool line = false, estimated = false;
  bool merged = false;  ///< j counts the breakpoints (cuts and line) below y; else j = 2g + T
  bool computed_groups = false;  ///< groups of welfare between quantile cuts (not given codes)
  int groups = 0;       ///< K welfare groups (0: none)
  int below = 0;        ///< merged: the intervals 0..below lie below the line
  int shared = 1, beneficiary_only = 2, intervals = 2;
  std::vector<double> breakpoints;  ///< sorted, counted per row (merged: cuts and line; else the cuts), then +∞

  cell_layout(const targeting_rows& r, const resolved_line& L, const std::vector<double>& cuts) {
    line = r.line.kind != line_kind::none;
    estimated = L.estimated;
    groups = r.n_welfare_groups;
    computed_groups = groups > 0 && !r.welfare_group;
    merged = line && (groups == 0 || computed_groups);
    shared = estimated ? 6 : line ? 2 : 1;
    beneficiary_only = estimated ? 4 : line ? 3 : 2;
    if (computed_groups) breakpoints.assign(cuts.begin(), cuts.end());
    if (merged) {
      below = static_cast<int>(std::count_if(cuts.begin(), cuts.end(), [&](double c) { return c < line_cut(L, r.line.strict); }));
      breakpoints.push_back(line_cut(L, r.line.strict));
      std::sort(breakpoints.begin(), breakpoints.end());
      intervals = static_cast<int>(breakpoints.size()) + 1;
    } else {
      intervals = 2 * std::max(groups, 1);
    }
    breakpoints.resize(std::max<std::size_t>(8, breakpoints.size() + 1), std::numeric_limits<double>::infinity());
  }
  /// y is below the line (T = 1) ⇔ y ≤ this value: z⁻ (the double below z) for the strict rule, else z
  static double line_cut(const resolved_line& L, bool strict) {
    return strict ? std::nextafter(L.z, -std::numeric_limits<double>::infinity()) : L.z;
  }
  int counted() const { return merged ? intervals - 1 : computed_groups ? groups - 1 : 0; }  ///< breakpoints a row counts
  int block() const { return 2 * shared + beneficiary_only; }
  Eigen::Index width() const { return static_cast<Eigen::Index>(intervals) * block(); }
  int below_line(int j) const { return merged ? j <= below : j & 1; }
  /// The interval j of a valid row (the pass forms it for a block of rows at once): welfare y, target t
  /// (no line), welfare group code g (given codes), and the line's cut z_T (line_cut).
  int interval_of(double y, double t, int g, double z_T) const {
    int n = 0;
    for (int k = 0; k < counted(); ++k) n += y > breakpoints[static_cast<std::size_t>(k)];
    if (merged) return n;
    const int T = line ? !(y > z_T) : t == 1;
    return 2 * (groups > 0 && !computed_groups ? g : n) + T;
  }
  int group(int j) const { return merged ? j - (j > below) : j >> 1; }
};

/// The q variables of one (unit, domain) from its cells (see the layout above).
inline void expand_cells(const cell_layout& c, const double* cell, double* x, Eigen::Index q) {
  std::fill(x, x + q, 0.0);
  const int F0 = c.shared;
  for (int j = 0; j < c.intervals; ++j) {
    const double* s0 = cell + static_cast<Eigen::Index>(j) * c.block();  // B = 0: shared fields
    const double* s1 = s0 + F0;                                         // B = 1: shared fields
    const double* o = s1 + F0;                                          // B = 1: beneficiary-only fields
    const int T = c.below_line(j);
    const double w = s0[0] + s1[0];
    x[one] += w;
    x[ben] += s1[0];
    x[amt] += o[0];
    x[ben_welfare] += o[1];
    if (T) x[tgt] += w, x[tgt_ben] += s1[0], x[tgt_amt] += o[0];
    if (c.line) {
      x[gap_before] += s0[1] + s1[1];
      x[gap_after] += s0[1] + o[2];  // b = 0 when B = 0
    }
    if (c.estimated) {
      x[kernel_z] += s0[2] + s1[2];
      x[kernel_z_ben] += s1[2];
      x[kernel_z_amt] += o[3];
      x[kernel_q] += s0[3] + s1[3];
      x[below_q] += s0[4] + s1[4];
      x[poor_after] += s0[5] + s1[5];
    }
    if (c.groups > 0) {
      const Eigen::Index g = n_fixed + 3 * static_cast<Eigen::Index>(c.group(j));
      x[g] += w;
      x[g + 1] += s1[0];
      x[g + 2] += o[0];
    }
  }
}


/// The shared and all fields of a cell (cell_layout::shared and shared + beneficiary_only, known at compile time).
template <bool Line, bool Estimated>
constexpr int shared_fields = Estimated ? 6 : Line ? 2 : 1;
template <bool Line, bool Estimated>
constexpr int cell_fields_count = shared_fields<Line, Estimated> + (Estimated ? 4 : Line ? 3 : 2);
constexpr int below_q_field = 4;  ///< w·1{y ≤ Q} among the shared fields of an estimated line

/// The fields a row adds to its cell (see the layout above), the shared ones then the beneficiary-only
/// ones (times B: exact zeros when B = 0), a contiguous run from the row's slot.
template <bool Line, bool Estimated>
inline void cell_fields(double w, double y, double B, double b, double z, double q, double h, double* f) {
  constexpr int F0 = shared_fields<Line, Estimated>;
  f[0] = w;
  if constexpr (Line) f[1] = w * std::max(z - y, 0.0);
  [[maybe_unused]] double kz = 0;
  if constexpr (Estimated) {
    kz = lines::gaussian_kernel(z - y, h);
    f[2] = w * kz;
    f[3] = w * lines::gaussian_kernel(q - y, h);
    f[below_q_field] = y <= q ? w : 0.0;
    f[5] = y + b < z ? w : 0.0;
  }
  double* o = f + F0;
  const double wb = w * b;
  o[0] = wb;
  o[1] = w * y * B;
  if constexpr (Line) o[2] = w * std::max(z - y - b, 0.0) * B;
  if constexpr (Estimated) o[3] = wb * kz;
}

/// Rows [begin, end) into `table` (units × domains × layout width, then a spare block at `units_end` for
/// the rows in no domain); at_cut (optional, computed groups): per cut k the weight of the rows in a
/// domain with welfare equal to cut k. The checks of row_variables that a sum cannot show (signs,
/// indicators, codes) run as vectorised reductions over each block just read, and every index is formed
/// so that an invalid value cannot address outside the table; returns whether a block failed them. A NaN
/// or ±∞ in w, y or b makes a sum of the table non-finite (the caller checks).
template <bool Line, bool Estimated>
bool accumulate_rows(const targeting_rows& r, const resolved_line& L, const cell_layout& c, const double* cuts, const int* unit,
                     Eigen::Index units_end, Eigen::Index begin, Eigen::Index end, double* table, double* at_cut) {
  constexpr int block = 2048;
  constexpr int F0 = shared_fields<Line, Estimated>;
  const Eigen::Index width = c.width(), D = r.n_domains, C = c.block();
  const int K = c.groups, n_counted = c.counted();
  const bool merged = c.merged, codes = r.welfare_group != nullptr;
  const double z = L.z, q = L.q, h = L.h, z_T = cell_layout::line_cut(L, r.line.strict);
  const double* bp = c.breakpoints.data();
  // absent columns read from constant blocks: weights 1, welfare 0, domain and group 0
  std::vector<double> constants(2 * block);
  std::fill(constants.begin(), constants.begin() + block, 1.0);
  const std::vector<int> zero_codes(block, 0);
  std::vector<Eigen::Index> at_cells(block);
  Eigen::Index* at = at_cells.data();
  for (Eigen::Index b0 = begin; b0 < end; b0 += block) {
    const int m = static_cast<int>(std::min<Eigen::Index>(end - b0, block));
    const double* w_ = r.weights ? r.weights + b0 : constants.data();
    const double* y_ = r.welfare ? r.welfare + b0 : constants.data() + block;
    const double* B_ = r.beneficiary + b0;
    const double* b_ = r.benefit ? r.benefit + b0 : B_;
    const double* t_ = Line ? B_ : r.target + b0;
    const int* d_ = r.domain ? r.domain + b0 : zero_codes.data();
    const int* g_ = codes ? r.welfare_group + b0 : zero_codes.data();
    const int* u_ = unit + b0;
    // the cell of each row first, so that the scatter below can prefetch the cell of a row ahead (the
    // table is spread over units at random and its lines miss the L1 cache); the breakpoints below each
    // y counted across rows, which vectorises, and whether any y equals a breakpoint (then the weight at
    // each cut is summed below)
    int tie = 0;
    std::fill(at, at + m, Eigen::Index{0});
    for (int k = 0; k < n_counted; ++k) {
      const double cut = bp[k];
      for (int j = 0; j < m; ++j) {
        at[j] += y_[j] > cut;
        tie |= y_[j] == cut;
      }
    }
    for (int j = 0; j < m; ++j) {
      const int d = d_[j];
      Eigen::Index interval = at[j];
      if (!merged) {
        int T;
        if constexpr (Line)
          T = !(y_[j] > z_T);
        else
          T = t_[j] == 1;
        const Eigen::Index g = codes ? (static_cast<unsigned>(g_[j]) < static_cast<unsigned>(K) ? g_[j] : 0) : interval;
        interval = 2 * g + T;
      }
      const Eigen::Index cell = static_cast<unsigned>(d) < static_cast<unsigned>(D) ? (static_cast<Eigen::Index>(u_[j]) * D + d) * width : units_end;
      at[j] = cell + interval * C + (B_[j] == 1) * F0;
    }
    constexpr int ahead = 16;
    for (int j = 0; j < m; ++j) {
#if defined(__GNUC__) || defined(__clang__)
      __builtin_prefetch(table + at[std::min(j + ahead, m - 1)], 1, 3);
#endif
      double f[cell_fields_count<Line, Estimated>];
      cell_fields<Line, Estimated>(w_[j], y_[j], B_[j], b_[j], z, q, h, f);
      double* x = table + at[j];
      for (int k = 0; k < cell_fields_count<Line, Estimated>; ++k) x[k] += f[k];
    }
    if (tie && at_cut && !codes)  // the weight at each cut: y = cuts[g], the first cut not below y (+∞ last)
      for (int j = 0; j < m; ++j) {
        int g = 0;
        while (y_[j] > cuts[g]) ++g;
        if (y_[j] == cuts[g] && static_cast<unsigned>(d_[j]) < static_cast<unsigned>(D)) at_cut[g] += w_[j];
      }
    int invalid = 0;
    for (int j = 0; j < m; ++j) invalid |= (w_[j] < 0) | ((B_[j] != 0) & (B_[j] != 1)) | ((b_[j] != 0) & (B_[j] != 1));
    if (r.domain)
      for (int j = 0; j < m; ++j) invalid |= (d_[j] < -1) | (d_[j] >= D);
    if (codes)
      for (int j = 0; j < m; ++j) invalid |= (g_[j] < 0) | (g_[j] >= K);
    if constexpr (!Line)
      for (int j = 0; j < m; ++j) invalid |= (t_[j] != 0) & (t_[j] != 1);
    if (invalid) return false;
  }
  return true;
}

/// The pass over rows 0..n−1 into the (unit, domain) cells of layout c, plus a spare block for the rows in
/// no domain: fixed chunks reduced in chunk order, bit-identical for any thread count.
/// Names the first invalid row. `cut_weights` (optional, with computed groups): per cut k the weight of
/// the rows in a domain with welfare equal to cut k (K − 1 values, for confirm_cuts).
inline std::vector<double> pass_cells(const targeting_rows& r, const resolved_line& L, const cell_layout& c, const std::vector<double>& cuts,
                                      const group_codes& units, std::vector<double>* cut_weights) {
  const char* fn = "targeting_accuracy";
  detail::require(units.size() == r.n, fn, "the unit codes must have one entry per row");
  detail::require(r.welfare_group || r.n_welfare_groups == 0 || static_cast<int>(cuts.size()) == r.n_welfare_groups - 1, fn,
                  "quantile welfare groups need their K − 1 cuts");
  const bool line = r.line.kind != line_kind::none, estimated = L.estimated;
  std::vector<double> padded(cuts);
  padded.push_back(std::numeric_limits<double>::infinity());
  const Eigen::Index U = units.n_groups, D = r.n_domains, width = c.width(), cell_count = U * D * width;
  // per-chunk tables (up to 16) while together they stay small next to the data: a design whose units are
  // rows gets one table and one thread
  const double budget = std::max(4e6, 0.5 * static_cast<double>(r.n));
  const auto max_chunks = static_cast<Eigen::Index>(std::clamp(budget / static_cast<double>(std::max<Eigen::Index>(cell_count, 1)), 1.0, 16.0));
  const detail::row_chunks chunks = detail::make_row_chunks(r.n, Eigen::Index{1} << 16, max_chunks);
  std::vector<std::vector<double>> partial(static_cast<std::size_t>(chunks.count));
  std::vector<Eigen::Index> first_bad(static_cast<std::size_t>(chunks.count), -1);
  const bool ties = cut_weights && !r.welfare_group && c.groups > 1;
  std::vector<std::vector<double>> chunk_at_cut(static_cast<std::size_t>(chunks.count),
                                                std::vector<double>(ties ? static_cast<std::size_t>(c.groups) : 0, 0.0));
  const int* unit = units.code.data();
  [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * 8);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index k = 0; k < chunks.count; ++k) {
    auto& t = partial[static_cast<std::size_t>(k)];
    t.assign(static_cast<std::size_t>(cell_count + width), 0.0);  // + the spare block of the rows in no domain
    double* at_cut = ties ? chunk_at_cut[static_cast<std::size_t>(k)].data() : nullptr;
    const Eigen::Index b = chunks.begin(k), e = chunks.end(k);
    bool valid;
    if (line && estimated)
      valid = accumulate_rows<true, true>(r, L, c, padded.data(), unit, cell_count, b, e, t.data(), at_cut);
    else if (line)
      valid = accumulate_rows<true, false>(r, L, c, padded.data(), unit, cell_count, b, e, t.data(), at_cut);
    else
      valid = accumulate_rows<false, false>(r, L, c, padded.data(), unit, cell_count, b, e, t.data(), at_cut);
    if (valid) {  // a NaN or ±∞ in w, y or b shows in the sums
      constexpr double big = std::numeric_limits<double>::max();
      int non_finite = 0;
      for (double v : t) non_finite |= !(std::fabs(v) <= big);
      valid = !non_finite;
    }
    // else the first invalid row of the chunk (none: sums beyond the double range, not an invalid row)
    if (!valid) first_bad[static_cast<std::size_t>(k)] = first_invalid_row(r, L, cuts, b, e);
  }
  for (Eigen::Index i : first_bad)
    if (i >= 0) explain_invalid(r, i);
  if (ties) {
    cut_weights->assign(static_cast<std::size_t>(c.groups - 1), 0.0);
    for (const auto& part : chunk_at_cut)
      for (int k = 0; k + 1 < c.groups; ++k) (*cut_weights)[static_cast<std::size_t>(k)] += part[static_cast<std::size_t>(k)];
  }
  std::vector<double>& cells = partial[0];
  for (std::size_t k = 1; k < partial.size(); ++k)
    for (std::size_t j = 0; j < cells.size(); ++j) cells[j] += partial[k][j];
  return std::move(cells);
}

/// The unit totals table (U × D·q) from the cells of a pass.
inline unit_totals_table expand_table(const targeting_rows& r, const cell_layout& c, const std::vector<double>& cells, Eigen::Index U) {
  const Eigen::Index q = n_variables(r.n_welfare_groups), D = r.n_domains, width = c.width();
  unit_totals_table out;
  out.n_units = U;
  out.n_domains = r.n_domains;
  out.n_variables = q;
  out.totals.resize(U, D * q);
  std::vector<double> x(static_cast<std::size_t>(q));
  for (Eigen::Index u = 0; u < U; ++u)
    for (Eigen::Index d = 0; d < D; ++d) {
      expand_cells(c, cells.data() + (u * D + d) * width, x.data(), q);
      for (Eigen::Index k = 0; k < q; ++k) out.totals(u, d * q + k) = x[static_cast<std::size_t>(k)];
    }
  return out;
}

/// The unit totals of the q variables of row_variables over rows 0..n−1, grouped by `units` (one pass,
/// fixed chunks reduced in chunk order: bit-identical for any thread count).
/// `cut_weights` (optional, with computed groups): per cut k the weight of the rows in a domain with
/// welfare equal to cut k (K − 1 values, for confirm_cuts).
inline unit_totals_table accumulate(const targeting_rows& r, const resolved_line& L, const std::vector<double>& cuts,
                                    const group_codes& units, std::vector<double>* cut_weights = nullptr) {
  const cell_layout c(r, L, cuts);
  return expand_table(r, c, pass_cells(r, L, c, cuts, units, cut_weights), units.n_groups);
}

/// The cuts of the welfare quantile groups (none when the caller gives group codes).
inline std::vector<double> welfare_cuts(const targeting_rows& r) {
  if (r.welfare_group || r.n_welfare_groups == 0) return {};
  std::vector<double> probs;
  for (int j = 1; j < r.n_welfare_groups; ++j) probs.push_back(static_cast<double>(j) / r.n_welfare_groups);
  return lines::weighted_quantiles(r.n, r.welfare, r.weights, r.domain, probs, "targeting_accuracy");
}

/// Whether `cuts` are the weighted quantiles j/K of welfare (laeken's rule, welfare_line.hpp) given the
/// table of a pass with them and its weights at each cut: Q_p = c exactly when the share of the weight
/// below c is < p and at or below c is > p (an exact share p would make Q_p a mean with the next value).
/// Both must hold by a margin of 1e-12, far above the rounding of the sums, else the cuts are recomputed.
inline bool confirm_cuts(const targeting_rows& r, const std::vector<double>& cuts, const unit_totals_table& t,
                         const std::vector<double>& cut_weights) {
  const int K = r.n_welfare_groups;
  if (K < 2 || static_cast<int>(cut_weights.size()) != K - 1) return false;
  const Eigen::MatrixXd totals = t.domain_totals();
  std::vector<long double> group(static_cast<std::size_t>(K), 0);
  for (int g = 0; g < K; ++g) group[static_cast<std::size_t>(g)] = totals.col(n_fixed + 3 * g).sum();
  long double all = 0;
  for (long double v : group) all += v;
  if (!(all > 0)) return false;
  long double at_or_below = 0;
  for (int k = 0; k + 1 < K; ++k) {
    at_or_below += group[static_cast<std::size_t>(k)];
    const double p = static_cast<double>(k + 1) / K;
    const double le = static_cast<double>(at_or_below / all), lt = static_cast<double>((at_or_below - cut_weights[static_cast<std::size_t>(k)]) / all);
    if (!(std::isfinite(cuts[static_cast<std::size_t>(k)]) && lt < p - 1e-12 && le > p + 1e-12)) return false;
  }
  return true;
}

inline std::vector<definition> definitions_for(const targeting_rows& r) {
  const bool line = r.line.kind != line_kind::none;
  return definitions(r.benefit != nullptr, line && r.benefit != nullptr, r.benefit != nullptr && r.welfare != nullptr,
                     r.line.kind == line_kind::quantile, r.n_welfare_groups);
}

/// Estimates (D × M) and Jacobians (per domain, M × q) at the domain totals (D × q); the line metric
/// takes the value z.
inline Eigen::MatrixXd estimates_at(const std::vector<definition>& defs, const Eigen::MatrixXd& totals, double z,
                                    std::vector<Eigen::MatrixXd>* jacobians, std::vector<std::pair<int, int>>* undefined) {
  const Eigen::Index D = totals.rows(), M = static_cast<Eigen::Index>(defs.size()), q = totals.cols();
  Eigen::MatrixXd est(D, M);
  if (jacobians) jacobians->assign(static_cast<std::size_t>(D), Eigen::MatrixXd::Zero(M, q));
  for (Eigen::Index d = 0; d < D; ++d) {
    const Eigen::VectorXd t = totals.row(d).transpose();
    for (Eigen::Index m = 0; m < M; ++m) {
      double theta = 0;
      Eigen::VectorXd grad;
      if (evaluate(defs[static_cast<std::size_t>(m)], t, theta, grad)) {
        est(d, m) = defs[static_cast<std::size_t>(m)].kind == form::line ? z : theta;
        if (jacobians) (*jacobians)[static_cast<std::size_t>(d)].row(m) = grad.transpose();
      } else {
        est(d, m) = std::numeric_limits<double>::quiet_NaN();
        if (undefined) undefined->emplace_back(static_cast<int>(d), static_cast<int>(m));
      }
    }
  }
  return est;
}

/// For an estimated line: c(d, m) = ∂θ_{d,m}/∂z = J_d[m] · ∂t_d/∂z (1 for the line metric), the weight of
/// the line's influence s·IF_u(Q_p) in the influence of each metric (see the header comment).
inline Eigen::MatrixXd line_slopes(const std::vector<definition>& defs, const Eigen::MatrixXd& t, const std::vector<Eigen::MatrixXd>& jac) {
  const Eigen::Index D = t.rows(), M = static_cast<Eigen::Index>(defs.size()), q = t.cols();
  Eigen::MatrixXd c(D, M);
  for (Eigen::Index d = 0; d < D; ++d) {
    Eigen::VectorXd dt = Eigen::VectorXd::Zero(q);  // ∂t_d/∂z
    dt(tgt) = t(d, kernel_z);
    dt(tgt_ben) = t(d, kernel_z_ben);
    dt(tgt_amt) = t(d, kernel_z_amt);
    dt(gap_before) = t(d, tgt);
    dt(gap_after) = t(d, poor_after);
    const Eigen::VectorXd slope = jac[static_cast<std::size_t>(d)] * dt;
    for (Eigen::Index m = 0; m < M; ++m) c(d, m) = defs[static_cast<std::size_t>(m)].kind == form::line ? 1.0 : slope(m);
  }
  return c;
}

/// The influence totals per unit of every metric (U × D·M): Ψ[:, d·M + m] = Σ_k J_d[m, k] T[:, d·q + k],
/// plus, for an estimated line, c(d, m) · s·IF_u(Q_p) (line_slopes).
inline Eigen::MatrixXd influence_totals(const targeting_rows& r, const resolved_line& L, const std::vector<definition>& defs,
                                        const unit_totals_table& table, const std::vector<Eigen::MatrixXd>& jac) {
  const Eigen::Index D = r.n_domains, M = static_cast<Eigen::Index>(defs.size()), q = table.n_variables, U = table.n_units;
  Eigen::MatrixXd psi(U, D * M);
  for (Eigen::Index d = 0; d < D; ++d)
    psi.middleCols(d * M, M).noalias() = table.totals.middleCols(d * q, q) * jac[static_cast<std::size_t>(d)].transpose();
  if (!L.estimated) return psi;
  const Eigen::MatrixXd t = table.domain_totals();
  // s·IF_u(Q_p) = −s (t_u(1{y ≤ Q}) − p t_u(1)) / Σ w φ_h(Q − y), over all domains
  Eigen::VectorXd below = Eigen::VectorXd::Zero(U), all = Eigen::VectorXd::Zero(U);
  for (Eigen::Index d = 0; d < D; ++d) {
    below += table.totals.col(d * q + below_q);
    all += table.totals.col(d * q + one);
  }
  const Eigen::VectorXd if_z = lines::line_influence(r.line, below, all, t.col(kernel_q).sum(), "targeting_accuracy");
  const Eigen::MatrixXd c = line_slopes(defs, t, jac);
  for (Eigen::Index d = 0; d < D; ++d)
    for (Eigen::Index m = 0; m < M; ++m)
      if (c(d, m) != 0) psi.col(d * M + m) += c(d, m) * if_z;
  return psi;
}

inline targeting_result start_result(const targeting_rows& r, const std::vector<definition>& defs, const resolved_line& L) {
  targeting_result out;
  out.amounts = r.benefit != nullptr;
  out.line = L.z;
  out.bandwidth = L.h;
  for (const definition& m : defs) out.metrics.push_back(m.info);
  return out;
}

inline void mark_undefined(targeting_result& out) {
  const Eigen::Index M = static_cast<Eigen::Index>(out.metrics.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& [d, m] : out.undefined) {
    const Eigen::Index k = static_cast<Eigen::Index>(d) * M + m;
    out.vcov.row(k).setConstant(nan);
    out.vcov.col(k).setConstant(nan);
  }
}

/// The replicate-weight variance of every metric into `out` (whose estimate holds the full-sample D × M
/// estimates): `replicates` is R × (D·M), row k the estimates of weight set k in the order d·M + m; V by
/// replicate_vcov_where_defined (NaN for a metric undefined in some replicate), undefined metrics NaN.
inline void finish_replicates(targeting_result& out, Eigen::MatrixXd replicates, const replicate_spec& spec) {
  const Eigen::Index D = out.estimate.rows(), M = out.estimate.cols();
  Eigen::VectorXd theta(D * M);
  for (Eigen::Index d = 0; d < D; ++d) theta.segment(d * M, M) = out.estimate.row(d).transpose();
  const vcov_estimate v = replicate_vcov_where_defined(theta, std::move(replicates), spec);
  out.vcov = v.vcov;
  out.conventions = v.conventions;
  mark_undefined(out);
}

/// An estimated line's variance is in welfare units²: at |y| ~ 1e±160 it leaves the double range. When it
/// does (`relative`: the variance of the line over z, > 0), its row and column are set to NaN and flagged.
template <class Relative>
void check_line_variance(const targeting_rows& r, const resolved_line& L, Eigen::Index M, Relative&& relative, targeting_result& out) {
  if (!L.estimated) return;
  bool out_of_range = false;
  for (Eigen::Index d = 0; d < r.n_domains; ++d) {
    const double v = out.vcov(d * M, d * M);
    out_of_range |= !std::isfinite(v) || v == 0 || !std::isnormal(v);
  }
  if (!out_of_range || !(relative() > 0)) return;  // metric 0 is the line
  for (Eigen::Index d = 0; d < r.n_domains; ++d) {
    const double v = out.vcov(d * M, d * M);
    if (!std::isfinite(v) || v == 0 || !std::isnormal(v)) {
      out.line_variance_out_of_range = true;
      out.vcov.row(d * M).setConstant(std::numeric_limits<double>::quiet_NaN());
      out.vcov.col(d * M).setConstant(std::numeric_limits<double>::quiet_NaN());
    }
  }
}

/// The estimates, their influence totals per unit and the design variance from the accumulated table
/// (the part of targeting_accuracy after the pass over the rows; `out` carries metrics, line and cuts).
inline void finish(const targeting_rows& r, const resolved_line& L, const std::vector<definition>& defs, unit_totals_table table,
                   const survey_design& design, targeting_result& out) {
  out.table = std::move(table);
  std::vector<Eigen::MatrixXd> jac;
  out.estimate = estimates_at(defs, out.table.domain_totals(), L.z, &jac, &out.undefined);
  const Eigen::MatrixXd psi = influence_totals(r, L, defs, out.table, jac);
  out.vcov = design.variance_of_unit_totals(psi);
  check_line_variance(r, L, static_cast<Eigen::Index>(defs.size()),
                      [&] { return design.variance_of_unit_totals(psi.col(0) / L.z)(0, 0); }, out);
  mark_undefined(out);
}

/// The class moments (survey_design::row_class_moments) of the rows of a design whose units are the rows:
/// class (d · intervals + j) · 2 + B for a row in domain d, interval j, beneficiary B, with the fields of
/// its cell (cell_fields); rows in no domain are in no class. The rows were checked by the pass.
template <bool Line, bool Estimated>
survey_design::class_moments row_class_moments(const targeting_rows& r, const resolved_line& L, const cell_layout& c,
                                               const survey_design& design) {
  const Eigen::Index D = r.n_domains;
  const double z = L.z, q = L.q, h = L.h, z_T = cell_layout::line_cut(L, r.line.strict);
  return design.row_class_moments(D * c.intervals * 2, cell_fields_count<Line, Estimated>, [&](Eigen::Index i, double* f) -> Eigen::Index {
    const int d = r.domain ? r.domain[i] : 0;
    if (d < 0 || d >= D) return -1;
    const double y = r.welfare ? r.welfare[i] : 0.0, B = r.beneficiary[i];
    const int j = c.interval_of(y, r.target ? r.target[i] : 0.0, r.welfare_group ? r.welfare_group[i] : 0, z_T);
    cell_fields<Line, Estimated>(r.weights ? r.weights[i] : 1.0, y, B, r.benefit ? r.benefit[i] : B, z, q, h, f);
    return (static_cast<Eigen::Index>(d) * c.intervals + j) * 2 + (B == 1);
  });
}

/// G_k of each class of row_class_moments (p = D·M rows, F columns): the influence of a row of class k per
/// unit of each field, J_d E_k (E_k the field's column of expand_cells in the row's slot) plus, for an
/// estimated line, c(d', ·) times the line influence per unit of w (field 0) and of w·1{y ≤ Q} (field 4)
/// in every domain d'. `line_only`: the line metric's influence over z alone (p = 1; check_line_variance).
inline std::vector<Eigen::MatrixXd> class_influence(const targeting_rows& r, const resolved_line& L, const cell_layout& c,
                                                     const std::vector<Eigen::MatrixXd>& jac, Eigen::Index M, const Eigen::MatrixXd& slopes,
                                                     double density, int F, bool line_only) {
  const Eigen::Index D = r.n_domains;
  const Eigen::Index q = n_variables(r.n_welfare_groups), p = line_only ? 1 : D * M;
  const int F0 = c.shared;
  double a_below = 0, a_all = 0;  // the line's influence −s(t(1{y ≤ Q}) − p t(1))/density per unit of each
  if (L.estimated) {
    const Eigen::VectorXd unit_effect =
        lines::line_influence(r.line, Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1), density, "targeting_accuracy");
    a_below = unit_effect(0);
    a_all = unit_effect(1);
  }
  std::vector<Eigen::MatrixXd> G;
  std::vector<double> cell(static_cast<std::size_t>(c.width()), 0.0);
  Eigen::VectorXd x(q);
  for (Eigen::Index d = 0; d < D; ++d)
    for (int j = 0; j < c.intervals; ++j)
      for (int B = 0; B < 2; ++B) {
        Eigen::MatrixXd g = Eigen::MatrixXd::Zero(p, F);
        if (!line_only)
          for (int f = 0; f < (B ? F : F0); ++f) {  // a B = 0 row's beneficiary-only fields are 0
            const std::size_t slot = static_cast<std::size_t>(j * c.block() + B * F0 + f);
            cell[slot] = 1;
            expand_cells(c, cell.data(), x.data(), q);
            cell[slot] = 0;
            g.block(d * M, f, M, 1) = jac[static_cast<std::size_t>(d)] * x;
          }
        if (L.estimated) {
          if (line_only) {
            g(0, 0) = slopes(0, 0) * a_all / L.z;
            g(0, below_q_field) = slopes(0, 0) * a_below / L.z;
          } else {
            for (Eigen::Index e = 0; e < D; ++e) {
              g.block(e * M, 0, M, 1) += a_all * slopes.row(e).transpose();
              g.block(e * M, below_q_field, M, 1) += a_below * slopes.row(e).transpose();
            }
          }
        }
        G.push_back(std::move(g));
      }
  return G;
}

/// finish for a one-stage design whose units are the rows (no design given: each row its own PSU), from
/// the domain totals of a pass over the rows with a single unit (`domain_table`, which becomes out.table),
/// without tables of n units × D·q totals and D·M influence values. A row's influence J_d x_i + c(d, ·)
/// s·IF_i(Q_p) is linear in the fields of its cell, ψ_i = G_k f_i for its class k = (domain, interval, B)
/// (class_influence), so with few strata the variance comes from the centred moments of the fields per
/// (stratum, class) (row_class_moments, survey_design::variance_of_class_moments); otherwise each row's
/// influence, from its variables x_i (row_variables), is streamed into the design variance in blocks
/// (survey_design::variance_of_streamed_unit_totals).
inline void finish_row_units(const targeting_rows& r, const resolved_line& L, const std::vector<definition>& defs, unit_totals_table domain_table,
                             const std::vector<double>& cuts, const survey_design& design, targeting_result& out) {
  out.table = std::move(domain_table);
  std::vector<Eigen::MatrixXd> jac;
  const Eigen::MatrixXd t = out.table.domain_totals();
  out.estimate = estimates_at(defs, t, L.z, &jac, &out.undefined);
  const Eigen::Index D = r.n_domains, M = static_cast<Eigen::Index>(defs.size()), q = n_variables(r.n_welfare_groups);
  const Eigen::MatrixXd c = L.estimated ? line_slopes(defs, t, jac) : Eigen::MatrixXd();
  const double density = L.estimated ? t.col(kernel_q).sum() : 0.0;
  // moments per (stratum, class of row) when the strata are few (the usual case: none given): two light
  // passes over the rows and O(#strata·#classes·F·p²) work after them, against O(n·p²) for the rank
  // updates of the streamed influence; the tables stay small
  const cell_layout layout(r, L, cuts);
  const int F = layout.shared + layout.beneficiary_only;
  const double class_rows = static_cast<double>(design.n_strata()) * static_cast<double>(D * layout.intervals * 2);
  if (class_rows * F * F <= 4e6 && class_rows * F <= 0.25 * static_cast<double>(r.n)) {
    const bool line = r.line.kind != line_kind::none;
    const survey_design::class_moments moments = line && L.estimated ? row_class_moments<true, true>(r, L, layout, design)
                                                 : line                ? row_class_moments<true, false>(r, L, layout, design)
                                                                       : row_class_moments<false, false>(r, L, layout, design);
    out.vcov = design.variance_of_class_moments(moments, class_influence(r, L, layout, jac, M, c, density, F, false));
    check_line_variance(r, L, M, [&] {
      return design.variance_of_class_moments(moments, class_influence(r, L, layout, jac, M, c, density, F, true))(0, 0);
    }, out);
    mark_undefined(out);
    return;
  }
  const std::vector<Eigen::Index>& row_of_unit = design.units().first_row;
  // the influence of units [b, e) (unit u is row row_of_unit[u]) into psi (zero on entry), scaled by
  // 1/scale; J_d x_i from the nonzero variables of the row (about a third of them)
  auto influence = [&](Eigen::Index b, Eigen::Index e, auto& psi, double scale, bool line_only) {  // called from several threads
    Eigen::VectorXd x(q), below = Eigen::VectorXd::Zero(e - b), all = Eigen::VectorXd::Zero(e - b);
    for (Eigen::Index u = b; u < e; ++u) {
      const Eigen::Index i = row_of_unit[static_cast<std::size_t>(u)];
      const int d = row_variables(r, L, cuts, i, r.weights ? r.weights[i] : 1.0, x.data());
      if (d < 0 || d >= D) continue;  // in no domain (the pass has named any invalid row)
      if (!line_only) {
        auto out_row = psi.row(u - b).segment(d * M, M);
        const Eigen::MatrixXd& J = jac[static_cast<std::size_t>(d)];
        for (Eigen::Index k = 0; k < q; ++k)
          if (x(k) != 0) out_row += x(k) * J.col(k).transpose();
      }
      below(u - b) = x(below_q);
      all(u - b) = x(one);
    }
    if (L.estimated) {
      const Eigen::VectorXd if_z = lines::line_influence(r.line, below, all, density, "targeting_accuracy");
      if (line_only) {
        psi.col(0) = c(0, 0) * if_z;  // the line metric's influence (the same in every domain)
      } else {
        for (Eigen::Index d = 0; d < D; ++d)
          for (Eigen::Index m = 0; m < M; ++m)
            if (c(d, m) != 0) psi.col(d * M + m) += c(d, m) * if_z;
      }
    }
    if (scale != 1) psi /= scale;
  };
  out.vcov = design.variance_of_streamed_unit_totals(
      D * M, [&](Eigen::Index b, Eigen::Index e, auto& psi) { influence(b, e, psi, 1.0, false); });
  check_line_variance(r, L, M, [&] {
    return design.variance_of_streamed_unit_totals(1, [&](Eigen::Index b, Eigen::Index e, auto& psi) {
      influence(b, e, psi, L.z, true);
    })(0, 0);
  }, out);
  mark_undefined(out);
}

}  // namespace detail::targeting

}  // namespace impactkit
