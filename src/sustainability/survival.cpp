// Out-of-line definitions for impactkit/sustainability/survival.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/sustainability/survival.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <impactkit/core/distributions.hpp>
#include <impactkit/core/errors.hpp>

#include "exit_table.hpp"

namespace impactkit {
namespace {

/// Whether every row is valid, by one branch-free pass (the common case); check_rows finds the first bad row.
bool all_rows_valid(const survival_rows& r) {
  bool ok = true;
  for (Eigen::Index i = 0; i < r.n; ++i) ok &= (r.time[i] - r.time[i] == 0) & ((r.event[i] == 0) | (r.event[i] == 1));  // finite, 0/1
  if (r.group)
    for (Eigen::Index i = 0; i < r.n; ++i) ok &= r.group[i] < r.n_groups;
  if (r.weights)
    for (Eigen::Index i = 0; i < r.n; ++i) ok &= (r.weights[i] - r.weights[i] == 0) & (r.weights[i] >= 0);
  if (r.entry)
    for (Eigen::Index i = 0; i < r.n; ++i) ok &= (r.entry[i] - r.entry[i] == 0) & (r.entry[i] < r.time[i]);
  return ok;
}

void check_rows(const survival_rows& r, const char* fn) {
  detail::require(r.n >= 1 && r.time && r.event, fn, "needs time and event columns with at least one row");
  detail::require(r.n_groups >= 1, fn, "needs at least one group");
  if (all_rows_valid(r)) return;
  const auto at = [](Eigen::Index i) { return " at row " + std::to_string(i); };  // built only on failure
  for (Eigen::Index i = 0; i < r.n; ++i) {
    if (r.group && r.group[i] < 0) continue;
    if (r.group && r.group[i] >= r.n_groups) detail::throw_invalid(fn, "group code out of range" + at(i));
    if (!std::isfinite(r.time[i])) detail::throw_invalid(fn, "time is missing or infinite" + at(i));
    if (!(r.event[i] == 0 || r.event[i] == 1)) detail::throw_invalid(fn, "event must be 0 (censored) or 1 (event); it is " + detail::format_g(r.event[i]) + at(i));
    if (r.weights && !(std::isfinite(r.weights[i]) && r.weights[i] >= 0))
      detail::throw_invalid(fn, "weights must be finite and non-negative; " + detail::format_g(r.weights[i]) + at(i));
    if (r.entry && !(std::isfinite(r.entry[i]) && r.entry[i] < r.time[i]))
      detail::throw_invalid(fn, "entry must be finite and before the exit time (" + detail::format_g(r.entry[i]) + " ≥ " + detail::format_g(r.time[i]) + ")" + at(i));
  }
}

std::vector<std::vector<Eigen::Index>> rows_by(const int* codes, int n_codes, Eigen::Index n, const int* group) {
  std::vector<std::vector<Eigen::Index>> out(static_cast<std::size_t>(n_codes));
  for (Eigen::Index i = 0; i < n; ++i) {
    if (group && group[i] < 0) continue;
    const int c = codes ? codes[i] : 0;
    out[static_cast<std::size_t>(c)].push_back(i);
  }
  return out;
}

double z_of(double level, const char* fn) {
  detail::require(level > 0 && level < 1, fn, "level must be in (0, 1)");
  return t_quantile(0.5 + level / 2, std::numeric_limits<double>::infinity());
}

}  // namespace

namespace {

/// Cell c's Kaplan–Meier curve from the exit table: a row per distinct time at which the cell has exits,
/// at risk = weight entered before t − weight exited before t (long double running sums).
km_curve curve_of(const detail::exit_table& tab, int c) {
  km_curve out;
  const std::size_t C = static_cast<std::size_t>(tab.n_cells), cell = static_cast<std::size_t>(c);
  long double exited = 0, entered = tab.has_entry ? 0 : tab.total[cell];
  double S = 1, v = 0;
  for (std::size_t j = 0; j < tab.time.size(); ++j) {
    const std::size_t k = j * C + cell;
    if (tab.has_entry) entered += tab.entering[k];
    if (tab.exits[k] == 0) continue;
    const double n = static_cast<double>(entered - exited), d = tab.events[k];
    out.time.push_back(tab.time[j]);
    out.at_risk.push_back(n);
    out.events.push_back(d);
    out.censored.push_back(tab.censored[k]);
    exited += static_cast<long double>(d) + tab.censored[k];
    if (d > 0 && n > 0) {
      S *= 1 - d / n;
      v += n > d ? d / (n * (n - d)) : std::numeric_limits<double>::infinity();
    }
    out.survival.push_back(S);
    out.log_std_error.push_back(std::sqrt(v));
  }
  return out;
}

}  // namespace

std::vector<km_curve> kaplan_meier(const survival_rows& r) {
  const char* fn = "kaplan_meier";
  check_rows(r, fn);
  std::vector<km_curve> out;
  detail::exit_table tab;
  if (detail::tabulate_exits(r, tab, false)) {
    for (int g = 0; g < tab.n_cells; ++g) out.push_back(curve_of(tab, g));
    out.resize(static_cast<std::size_t>(r.n_groups));
    return out;
  }
  // many groups and many distinct times: one group at a time
  detail::gathered_rows part;
  for (const auto& rows : rows_by(r.group, r.n_groups, r.n, r.group)) {
    detail::gather_rows(r, rows, false, part);
    detail::tabulate_exits(part.rows, tab, true);
    out.push_back(curve_of(tab, 0));
  }
  return out;
}

void km_confidence(const km_curve& c, double level, km_conf_type type, std::vector<double>& lower, std::vector<double>& upper) {
  const double z = z_of(level, "kaplan_meier"), nan = std::numeric_limits<double>::quiet_NaN();
  const std::size_t m = c.time.size();
  lower.assign(m, nan);
  upper.assign(m, nan);
  for (std::size_t j = 0; j < m; ++j) {
    const double S = c.survival[j], s = c.log_std_error[j];
    if (S == 1) {
      lower[j] = upper[j] = 1;
      continue;
    }
    if (!(S > 0) || !std::isfinite(s)) continue;
    double lo = std::numeric_limits<double>::quiet_NaN(), hi = lo;  // every enumerator sets both
    switch (type) {
      case km_conf_type::plain: lo = S - z * S * s, hi = S + z * S * s; break;
      case km_conf_type::log: lo = std::exp(std::log(S) - z * s), hi = std::exp(std::log(S) + z * s); break;
      case km_conf_type::log_log: {
        const double a = std::exp(z * s / std::fabs(std::log(S)));
        lo = std::pow(S, a), hi = std::pow(S, 1 / a);
        break;
      }
    }
    lower[j] = std::clamp(lo, 0.0, 1.0);
    upper[j] = std::clamp(hi, 0.0, 1.0);
  }
}

namespace {
/// R's quantile rule on a curve given at the times: the first time with curve ≤ target; a midpoint with the
/// next event time when the curve equals the target there.
double first_crossing(const km_curve& c, const std::vector<double>& curve, double target) {
  const double tol = 1e-9;
  for (std::size_t j = 0; j < c.time.size(); ++j) {
    if (std::isnan(curve[j]) || curve[j] > target + tol * target) continue;
    if (std::fabs(curve[j] - target) > tol * target) return c.time[j];
    // the curve sits exactly at 1 − p: midpoint to the next event time, NaN when none follows
    for (std::size_t k = j + 1; k < c.time.size(); ++k)
      if (c.events[k] > 0) return 0.5 * (c.time[j] + c.time[k]);
    return std::numeric_limits<double>::quiet_NaN();
  }
  return std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

Eigen::Vector3d km_quantile(const km_curve& c, double p, double level, km_conf_type type) {
  detail::require(p > 0 && p < 1, "kaplan_meier", "the quantile must be in (0, 1)");
  std::vector<double> lo, hi;
  km_confidence(c, level, type, lo, hi);
  const double target = 1 - p;
  // the lower confidence curve reaches 1 − p first: it gives the lower limit of the time
  return {first_crossing(c, c.survival, target), first_crossing(c, lo, target), first_crossing(c, hi, target)};
}

Eigen::Vector2d km_restricted_mean(const km_curve& c, double tau) {
  detail::require(std::isfinite(tau), "kaplan_meier", "tau must be finite");
  // the step function's pieces [t_j, t_{j+1}) up to tau, starting at min(0, first time) with S = 1
  const double start = std::min(0.0, c.time.empty() ? 0.0 : c.time.front());
  detail::require(tau > start, "kaplan_meier", "tau must be after the start of follow-up");
  std::vector<double> knots = {start}, level = {1.0};
  for (std::size_t j = 0; j < c.time.size() && c.time[j] < tau; ++j)
    if (c.events[j] > 0) knots.push_back(c.time[j]), level.push_back(c.survival[j]);
  double mean = 0;
  std::vector<double> area_after(knots.size(), 0.0);  // ∫_{knot}^{tau} S
  for (std::size_t k = knots.size(); k-- > 0;) {
    const double right = k + 1 < knots.size() ? knots[k + 1] : tau;
    const double piece = level[k] * (right - knots[k]);
    area_after[k] = piece + (k + 1 < knots.size() ? area_after[k + 1] : 0.0);
  }
  mean = area_after[0];
  double var = 0;
  std::size_t k = 1;
  for (std::size_t j = 0; j < c.time.size() && c.time[j] < tau; ++j) {
    if (!(c.events[j] > 0)) continue;
    const double n = c.at_risk[j], d = c.events[j];
    if (n > d) var += area_after[k] * area_after[k] * d / (n * (n - d));
    ++k;
  }
  return {mean, var};
}

void km_at(const km_curve& c, const std::vector<double>& t, std::vector<double>& survival, std::vector<double>& log_std_error) {
  survival.assign(t.size(), 1.0);
  log_std_error.assign(t.size(), 0.0);
  for (std::size_t k = 0; k < t.size(); ++k) {
    detail::require(!std::isnan(t[k]), "kaplan_meier", "times must not be NaN");
    const auto it = std::upper_bound(c.time.begin(), c.time.end(), t[k]);
    if (it == c.time.begin()) continue;
    const std::size_t j = static_cast<std::size_t>(it - c.time.begin()) - 1;
    survival[k] = c.survival[j];
    log_std_error[k] = c.log_std_error[j];
  }
}

namespace {

/// One stratum's log-rank sums (cells first_cell .. first_cell + G − 1 of the table): at each distinct exit
/// time with events, per group at risk n_g = entered − exited before t and events d_g.
void logrank_sweep(const detail::exit_table& tab, int first_cell, int G, double rho, logrank_result& out) {
  const std::size_t C = static_cast<std::size_t>(tab.n_cells), c0 = static_cast<std::size_t>(first_cell);
  std::vector<long double> exited(static_cast<std::size_t>(G), 0), entered(static_cast<std::size_t>(G), 0);
  if (!tab.has_entry)
    for (int g = 0; g < G; ++g) entered[static_cast<std::size_t>(g)] = tab.total[c0 + static_cast<std::size_t>(g)];
  double S_left = 1;  // pooled Kaplan–Meier just before t
  Eigen::VectorXd ng(G), dg(G), share(G);
  for (std::size_t j = 0; j < tab.time.size(); ++j) {
    const std::size_t k0 = j * C + c0;
    if (tab.has_entry)
      for (std::size_t g = 0; g < static_cast<std::size_t>(G); ++g) entered[g] += tab.entering[k0 + g];
    double d = 0;
    for (std::size_t g = 0; g < static_cast<std::size_t>(G); ++g) {
      const Eigen::Index gi = static_cast<Eigen::Index>(g);
      ng(gi) = static_cast<double>(entered[g] - exited[g]);
      dg(gi) = tab.events[k0 + g];
      d += dg(gi);
      exited[g] += static_cast<long double>(tab.events[k0 + g]) + tab.censored[k0 + g];
    }
    const double n = ng.sum();
    if (!(d > 0 && n > 0)) continue;
    const double w = rho == 0 ? 1.0 : std::pow(S_left, rho);
    out.observed += w * dg;
    out.expected += w * (d / n) * ng;
    if (n > 1) {
      // w² d (n − d)/(n − 1) (diag(s) − s sᵀ), s = n_g / n
      const double f = w * w * d * (n - d) / (n - 1);
      share = ng / n;
      out.variance.diagonal() += f * share;
      out.variance.noalias() -= f * share * share.transpose();
    }
    S_left *= 1 - d / n;
  }
}

}  // namespace

logrank_result logrank_test(const survival_rows& r, const int* strata, int n_strata, double rho) {
  const char* fn = "logrank";
  check_rows(r, fn);
  detail::require(r.weights == nullptr, fn, "case weights are not supported (as R survdiff)");
  detail::require(std::isfinite(rho) && rho >= 0, fn, "rho must be a finite number ≥ 0");
  detail::require(n_strata >= 1, fn, "needs at least one stratum");
  const int G = r.n_groups;
  detail::require(G >= 2, fn, "needs at least two groups");
  logrank_result out;
  out.observed = Eigen::VectorXd::Zero(G);
  out.expected = Eigen::VectorXd::Zero(G);
  out.variance = Eigen::MatrixXd::Zero(G, G);
  if (strata)
    for (Eigen::Index i = 0; i < r.n; ++i)
      if (!(r.group && r.group[i] < 0) && !(strata[i] >= 0 && strata[i] < n_strata))
        detail::throw_invalid(fn, "stratum code out of range at row " + std::to_string(i));
  // one table with a cell per (stratum, group); strata one at a time when it would be too large
  std::vector<int> cells;
  survival_rows cr = r;
  if (strata || !r.group) {
    cells.resize(static_cast<std::size_t>(r.n));
    for (Eigen::Index i = 0; i < r.n; ++i) {
      const int g = r.group ? r.group[i] : 0;
      cells[static_cast<std::size_t>(i)] = g < 0 ? -1 : (strata ? strata[i] : 0) * G + g;
    }
    cr.group = cells.data();
    cr.n_groups = G * n_strata;
  }
  detail::exit_table tab;
  if (detail::tabulate_exits(cr, tab, false)) {
    for (int s = 0; s < n_strata; ++s) logrank_sweep(tab, s * G, G, rho, out);
  } else {
    detail::gathered_rows part;
    for (const auto& rows : rows_by(strata, n_strata, r.n, r.group)) {
      detail::gather_rows(r, rows, true, part);
      detail::tabulate_exits(part.rows, tab, true);
      logrank_sweep(tab, 0, G, rho, out);
    }
  }
  // χ² on the first G − 1 groups (the variance has rank G − 1)
  const Eigen::VectorXd u = (out.observed - out.expected).head(G - 1);
  const Eigen::MatrixXd V = out.variance.topLeftCorner(G - 1, G - 1);
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(V);
  out.df = G - 1;
  out.statistic = ldlt.info() == Eigen::Success ? u.dot(ldlt.solve(u)) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace impactkit
