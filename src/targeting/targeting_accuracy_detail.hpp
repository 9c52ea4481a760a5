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
// from fewer writes. T and B are indicators, b = 0 when B = 0, so every variable is a sum over the four
// (T, B) cells of a handful of fields, and a row's welfare group touches one (group, B) cell:
//   per (unit, domain): 4 cells (2T + B) × F fields, F = 5: w, w·b, w·y, w·(z − y)₊, w·(z − y − b)₊, and for
//   an estimated line 5 more: w·φ_h(z − y), w·b·φ_h(z − y), w·φ_h(Q − y), w·1{y ≤ Q}, w·1{y + b < z};
//   then K groups × 2 (B) × 2 fields: w, w·b.
// A row adds 3–5 (+5) + 2 values instead of q = 15 + 3K. expand_cells maps the cells to the q variables.

/// Whether row i fails a check of row_variables (the slow path of a block holding an invalid row).
inline bool row_is_invalid(const targeting_rows& r, const resolved_line& L, const double* cuts, Eigen::Index i) {
  std::vector<double> x(static_cast<std::size_t>(n_variables(r.n_welfare_groups)));
  // the K − 1 cuts of computed groups (none with group codes: the padded array then holds only +∞)
  const std::vector<double> cut_list(cuts, cuts + (r.welfare_group ? 0 : std::max(r.n_welfare_groups - 1, 0)));
  const int d = row_variables(r, L, cut_list, i, r.weights ? r.weights[i] : 1.0, x.data());
  return d < -1 || d >= r.n_domains;
}

struct cell_layout {
  int fields = 5, groups = 0;
  Eigen::Index width() const { return 4 * fields + 4 * static_cast<Eigen::Index>(groups); }
};

/// The q variables of one (unit, domain) from its cells (see the layout above).
inline void expand_cells(const cell_layout& c, const double* cell, double* x, Eigen::Index q) {
  std::fill(x, x + q, 0.0);
  const int F = c.fields;
  auto at = [cell, F](int T, int B, int f) { return cell[(2 * T + B) * F + f]; };
  for (int T = 0; T < 2; ++T)
    for (int B = 0; B < 2; ++B) {
      const double w = at(T, B, 0), wb = at(T, B, 1);
      x[one] += w;
      if (T) x[tgt] += w;
      if (B) x[ben] += w, x[ben_welfare] += at(T, B, 2);
      if (T && B) x[tgt_ben] += w, x[tgt_amt] += wb;
      x[amt] += wb;
      x[gap_before] += at(T, B, 3);
      x[gap_after] += at(T, B, 4);
      if (F > 5) {
        x[kernel_z] += at(T, B, 5);
        if (B) x[kernel_z_ben] += at(T, B, 5);
        x[kernel_z_amt] += at(T, B, 6);
        x[kernel_q] += at(T, B, 7);
        x[below_q] += at(T, B, 8);
        x[poor_after] += at(T, B, 9);
      }
    }
  const double* g = cell + 4 * F;
  for (int k = 0; k < c.groups; ++k, g += 4) {
    x[n_fixed + 3 * k] = g[0] + g[2];
    x[n_fixed + 3 * k + 1] = g[2];
    x[n_fixed + 3 * k + 2] = g[1] + g[3];
  }
}

/// Rows [begin, end) into `table` (units × domains × layout width, then a spare block at `units_end` for
/// the rows in no domain); the first invalid row into `bad`. `cuts` holds the K − 1 cuts and a +∞
/// sentinel. The checks of row_variables run as sums that stay 0 while every row is valid (a NaN or ±∞
/// makes them NaN), tested per block of rows before the block is summed; a failing block is rescanned
/// row by row for the first invalid row.
template <bool Line, bool Estimated>
void accumulate_rows(const targeting_rows& r, const resolved_line& L, const cell_layout& c, const double* cuts, const int* unit,
                     Eigen::Index units_end, Eigen::Index begin, Eigen::Index end, double* table, double* at_cut, Eigen::Index& bad) {
  constexpr Eigen::Index block = 4096;
  constexpr int F = Estimated ? 10 : 5;
  const Eigen::Index width = c.width(), D = r.n_domains;
  const int K = c.groups;
  const double z = L.z, q = L.q, h = L.h;
  const bool strict = r.line.strict;
  const double *weights = r.weights, *target = r.target, *beneficiary = r.beneficiary, *benefit = r.benefit, *welfare = r.welfare;
  const int *domain = r.domain, *codes = r.welfare_group;
  for (Eigen::Index b0 = begin; b0 < end; b0 += block) {
    const Eigen::Index b1 = std::min(end, b0 + block);
    // the checks first, one column at a time (vectorised reductions over the block, which the pass below
    // then reads from cache), so the pass itself needs none
    double finite = 0, not_indicator = 0, negative = 0;
    int out_of_range = 0;
    if (weights)
      for (Eigen::Index i = b0; i < b1; ++i) finite += 0 * weights[i], negative += static_cast<double>(weights[i] < 0);
    if (welfare)
      for (Eigen::Index i = b0; i < b1; ++i) finite += 0 * welfare[i];
    for (Eigen::Index i = b0; i < b1; ++i) not_indicator += std::fabs(beneficiary[i] * (beneficiary[i] - 1));
    if (benefit)
      for (Eigen::Index i = b0; i < b1; ++i) finite += 0 * benefit[i], not_indicator += std::fabs(benefit[i] * (1 - beneficiary[i]));
    if (!Line)
      for (Eigen::Index i = b0; i < b1; ++i) not_indicator += std::fabs(target[i] * (target[i] - 1));
    if (domain)
      for (Eigen::Index i = b0; i < b1; ++i) out_of_range += (domain[i] < -1) | (domain[i] >= D);
    if (codes && K)
      for (Eigen::Index i = b0; i < b1; ++i) out_of_range += (codes[i] < 0) | (codes[i] >= K);
    if (!(finite == 0 && negative == 0 && not_indicator == 0 && out_of_range == 0)) {
      for (Eigen::Index i = b0; i < b1; ++i)  // the first invalid row of the block, by the checks of row_variables
        if (row_is_invalid(r, L, cuts, i)) {
          bad = i;
          return;
        }
    }
    for (Eigen::Index i = b0; i < b1; ++i) {
      const double w = weights ? weights[i] : 1.0;
      const double y = welfare ? welfare[i] : 0.0;
      const double B = beneficiary[i];
      const double b = benefit ? benefit[i] : B;
      const int d = domain ? domain[i] : 0;
      int T;
      if constexpr (Line)
        T = strict ? y < z : y <= z;
      else
        T = static_cast<int>(target[i]);  // checked: 0 or 1
      const Eigen::Index cell = d >= 0 ? (static_cast<Eigen::Index>(unit[i]) * D + d) * width : units_end;
      const int Bi = static_cast<int>(B);  // checked: 0 or 1
      double* x = table + cell + (2 * T + Bi) * F;
      const double wb = w * b;
      x[0] += w;
      x[1] += wb;
      x[2] += w * y;
      if constexpr (Line) {
        x[3] += w * std::max(z - y, 0.0);
        x[4] += w * std::max(z - y - b, 0.0);
      }
      if constexpr (Estimated) {
        const double kz = lines::gaussian_kernel(z - y, h);
        x[5] += w * kz;
        x[6] += wb * kz;
        x[7] += w * lines::gaussian_kernel(q - y, h);
        x[8] += y <= q ? w : 0.0;
        x[9] += y + b < z ? w : 0.0;
      }
      if (K) {
        int g = 0;
        if (codes) {
          g = codes[i];
        } else {
          for (int k = 0; k + 1 < K; ++k) g += y > cuts[k];
          if (at_cut && y == cuts[g] && d >= 0) at_cut[g] += w;  // y ≤ cuts[g], the first cut not below y
        }
        double* gx = table + cell + 4 * F + 4 * g + 2 * Bi;
        gx[0] += w;
        gx[1] += wb;
      }
    }
  }
}

/// The unit totals of the q variables of row_variables over rows 0..n−1, grouped by `units` (one pass,
/// fixed chunks reduced in chunk order: bit-identical for any thread count).
/// `cut_weights` (optional, with computed groups): per cut k the weight of the rows in a domain with
/// welfare equal to cut k (K − 1 values, for confirm_cuts).
inline unit_totals_table accumulate(const targeting_rows& r, const resolved_line& L, const std::vector<double>& cuts,
                                    const group_codes& units, std::vector<double>* cut_weights = nullptr) {
  const char* fn = "targeting_accuracy";
  detail::require(units.size() == r.n, fn, "the unit codes must have one entry per row");
  const bool line = r.line.kind != line_kind::none, estimated = L.estimated;
  cell_layout c;
  c.fields = estimated ? 10 : 5;
  c.groups = r.n_welfare_groups;
  std::vector<double> padded(cuts);
  padded.push_back(std::numeric_limits<double>::infinity());
  detail::require(r.welfare_group || c.groups == 0 || static_cast<int>(cuts.size()) == c.groups - 1, fn,
                  "quantile welfare groups need their K − 1 cuts");
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
    auto& bad = first_bad[static_cast<std::size_t>(k)];
    double* at_cut = ties ? chunk_at_cut[static_cast<std::size_t>(k)].data() : nullptr;
    const Eigen::Index b = chunks.begin(k), e = chunks.end(k);
    if (line && estimated)
      accumulate_rows<true, true>(r, L, c, padded.data(), unit, cell_count, b, e, t.data(), at_cut, bad);
    else if (line)
      accumulate_rows<true, false>(r, L, c, padded.data(), unit, cell_count, b, e, t.data(), at_cut, bad);
    else
      accumulate_rows<false, false>(r, L, c, padded.data(), unit, cell_count, b, e, t.data(), at_cut, bad);
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
  const Eigen::Index q = n_variables(r.n_welfare_groups);
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

/// The influence totals per unit of every metric (U × D·M): Ψ[:, d·M + m] = Σ_k J_d[m, k] T[:, d·q + k],
/// plus, for an estimated line, (J_d[m] · ∂t_d/∂z) · s·IF_u(Q_p) (see the header comment).
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
  for (Eigen::Index d = 0; d < D; ++d) {
    Eigen::VectorXd dt = Eigen::VectorXd::Zero(q);  // ∂t_d/∂z
    dt(tgt) = t(d, kernel_z);
    dt(tgt_ben) = t(d, kernel_z_ben);
    dt(tgt_amt) = t(d, kernel_z_amt);
    dt(gap_before) = t(d, tgt);
    dt(gap_after) = t(d, poor_after);
    const Eigen::VectorXd slope = jac[static_cast<std::size_t>(d)] * dt;
    for (Eigen::Index m = 0; m < M; ++m) {
      const double c = defs[static_cast<std::size_t>(m)].kind == form::line ? 1.0 : slope(m);
      if (c != 0) psi.col(d * M + m) += c * if_z;
    }
  }
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

/// The estimates, their influence totals per unit and the design variance from the accumulated table
/// (the part of targeting_accuracy after the pass over the rows; `out` carries metrics, line and cuts).
inline void finish(const targeting_rows& r, const resolved_line& L, const std::vector<definition>& defs, unit_totals_table table,
                   const survey_design& design, targeting_result& out) {
  out.table = std::move(table);
  std::vector<Eigen::MatrixXd> jac;
  out.estimate = estimates_at(defs, out.table.domain_totals(), L.z, &jac, &out.undefined);
  const Eigen::MatrixXd psi = influence_totals(r, L, defs, out.table, jac);
  out.vcov = design.variance_of_unit_totals(psi);
  if (L.estimated) {  // the line's variance is in welfare units²: at |y| ~ 1e±160 it leaves the double range
    const Eigen::Index M = static_cast<Eigen::Index>(defs.size());
    const double relative = design.variance_of_unit_totals(psi.col(0) / L.z)(0, 0);  // metric 0 is the line
    for (Eigen::Index d = 0; d < r.n_domains; ++d) {
      const double v = out.vcov(d * M, d * M);
      if (relative > 0 && (!std::isfinite(v) || v == 0 || !std::isnormal(v))) {
        out.line_variance_out_of_range = true;
        out.vcov.row(d * M).setConstant(std::numeric_limits<double>::quiet_NaN());
        out.vcov.col(d * M).setConstant(std::numeric_limits<double>::quiet_NaN());
      }
    }
  }
  mark_undefined(out);
}

}  // namespace detail::targeting

}  // namespace impactkit
