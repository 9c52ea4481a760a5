// Shewhart control charts and run rules (formulas and sources: impactkit/monitoring/control_chart.hpp).
#include <impactkit/monitoring/control_chart.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <impactkit/core/errors.hpp>

namespace impactkit {
namespace {

using Index = Eigen::Index;
constexpr const char* kFn = "control_chart";
constexpr double kD2 = 1.128;  // d₂ for moving ranges of two (Montgomery, Appendix VI)

bool needs_sizes(control_chart_kind k) {
  return k == control_chart_kind::p || k == control_chart_kind::np || k == control_chart_kind::u ||
         k == control_chart_kind::laney_p;
}
bool is_proportion(control_chart_kind k) {
  return k == control_chart_kind::p || k == control_chart_kind::np || k == control_chart_kind::laney_p;
}

void validate(const Eigen::Ref<const Eigen::VectorXd>& v, const Eigen::Ref<const Eigen::VectorXd>& n,
              const control_chart_options& o) {
  detail::require(v.size() >= 1, kFn, "needs at least one sample, got none");
  detail::require_finite(v, kFn, "values");
  if (needs_sizes(o.kind)) {
    detail::require(n.size() == v.size(), kFn,
                    std::string("kind='") + to_string(o.kind) + "' needs one size per sample: " +
                        std::to_string(v.size()) + " values but " + std::to_string(n.size()) + " sizes");
    detail::require_finite(n, kFn, "sizes");
    for (Index i = 0; i < v.size(); ++i) {
      if (!(n(i) > 0)) detail::throw_invalid(kFn, "sizes must be positive; sample " + std::to_string(i) + " has " + detail::format_g(n(i)));
      if (is_proportion(o.kind) && v(i) > n(i))
        detail::throw_invalid(kFn, "a count exceeds its sample size at sample " + std::to_string(i) + " (" +
                                       detail::format_g(v(i)) + " of " + detail::format_g(n(i)) + ")");
    }
  }
  if (o.kind != control_chart_kind::xmr)
    for (Index i = 0; i < v.size(); ++i)
      if (v(i) < 0) detail::throw_invalid(kFn, "counts must be >= 0; sample " + std::to_string(i) + " has " + detail::format_g(v(i)));
}

struct phase_one {
  std::vector<Index> rows;  // phase-I samples still in use, ascending
};

// Mean |a_i − a_j| over consecutive used samples that are neighbours in time (i = j + 1).
double mean_moving_range(const std::vector<Index>& rows, const Eigen::VectorXd& a) {
  double sum = 0;
  Index count = 0;
  for (std::size_t k = 1; k < rows.size(); ++k)
    if (rows[k] == rows[k - 1] + 1) {
      sum += std::abs(a(rows[k]) - a(rows[k - 1]));
      ++count;
    }
  detail::require(count > 0, kFn, "the moving range needs two consecutive phase-I samples");
  return sum / static_cast<double>(count);
}

void fill_limits(const Eigen::Ref<const Eigen::VectorXd>& v, const Eigen::Ref<const Eigen::VectorXd>& n,
                 const phase_one& ph, control_chart_result& r) {
  const Index m = v.size();
  using K = control_chart_kind;
  double num = 0, den = 0;
  for (Index i : ph.rows) {
    num += v(i);
    den += needs_sizes(r.kind) ? n(i) : 1.0;
  }
  const double c = num / den;
  r.centre_estimate = c;
  for (Index i = 0; i < m; ++i) {
    double centre = c, s = 0;
    switch (r.kind) {
      case K::p: case K::laney_p: r.statistic(i) = v(i) / n(i); s = std::sqrt(c * (1 - c) / n(i)); break;
      case K::np: r.statistic(i) = v(i); centre = n(i) * c; s = std::sqrt(n(i) * c * (1 - c)); break;
      case K::c: r.statistic(i) = v(i); s = std::sqrt(c); break;
      case K::u: r.statistic(i) = v(i) / n(i); s = std::sqrt(c / n(i)); break;
      case K::xmr: r.statistic(i) = v(i); break;
    }
    r.centre(i) = centre;
    r.sigma(i) = s;
  }
  if (r.kind == K::xmr) {
    r.mean_moving_range = mean_moving_range(ph.rows, r.statistic);
    r.sigma.setConstant(r.mean_moving_range / kD2);
  } else if (r.kind == K::laney_p) {
    Eigen::VectorXd z(m);
    for (Index i = 0; i < m; ++i) z(i) = r.sigma(i) > 0 ? (r.statistic(i) - c) / r.sigma(i) : 0.0;
    r.mean_moving_range = mean_moving_range(ph.rows, z);
    r.sigma_z = r.mean_moving_range / kD2;
    r.sigma *= r.sigma_z;
  }
  for (Index i = 0; i < m; ++i) {
    r.lower(i) = r.centre(i) - 3 * r.sigma(i);
    r.upper(i) = r.centre(i) + 3 * r.sigma(i);
    if (r.kind != K::xmr) r.lower(i) = std::max(0.0, r.lower(i));
    if (r.kind == K::p || r.kind == K::laney_p) r.upper(i) = std::min(1.0, r.upper(i));
  }
}

// Length of the run of indices ending at i for which pred holds.
template <typename Pred>
Eigen::VectorXi run_lengths(Index m, Pred pred) {
  Eigen::VectorXi len(m);
  for (Index i = 0; i < m; ++i) len(i) = pred(i) ? (i > 0 ? len(i - 1) : 0) + 1 : 0;
  return len;
}

}  // namespace

control_chart_kind parse_control_chart_kind(const std::string& name) {
  for (auto k : {control_chart_kind::p, control_chart_kind::np, control_chart_kind::c, control_chart_kind::u,
                 control_chart_kind::xmr, control_chart_kind::laney_p})
    if (name == to_string(k)) return k;
  detail::throw_invalid(kFn, "kind must be one of 'p', 'np', 'c', 'u', 'xmr', 'laney_p'; got '" + name + "'");
}

run_rules parse_run_rules(const std::string& name) {
  if (name == "nelson") return run_rules::nelson;
  if (name == "western_electric") return run_rules::western_electric;
  if (name == "none") return run_rules::none;
  detail::throw_invalid(kFn, "rules must be 'nelson', 'western_electric' or 'none'; got '" + name + "'");
}

const char* to_string(control_chart_kind k) {
  switch (k) {
    case control_chart_kind::p: return "p";
    case control_chart_kind::np: return "np";
    case control_chart_kind::c: return "c";
    case control_chart_kind::u: return "u";
    case control_chart_kind::xmr: return "xmr";
    case control_chart_kind::laney_p: return "laney_p";
  }
  return "?";
}

Eigen::VectorXi run_rule_violations(const Eigen::Ref<const Eigen::VectorXd>& z, run_rules rules) {
  const Index m = z.size();
  Eigen::VectorXi flags = Eigen::VectorXi::Zero(m);
  if (rules == run_rules::none) return flags;
  const bool nelson = rules == run_rules::nelson;
  auto set = [&](Index i, int rule) { flags(i) |= 1 << (rule - 1); };
  const Eigen::VectorXi above = run_lengths(m, [&](Index i) { return z(i) > 0; });
  const Eigen::VectorXi below = run_lengths(m, [&](Index i) { return z(i) < 0; });
  const Eigen::VectorXi up = run_lengths(m, [&](Index i) { return i > 0 && z(i) > z(i - 1); });
  const Eigen::VectorXi down = run_lengths(m, [&](Index i) { return i > 0 && z(i) < z(i - 1); });
  const Eigen::VectorXi alternating = run_lengths(m, [&](Index i) {
    return i > 1 && ((z(i) > z(i - 1) && z(i - 1) < z(i - 2)) || (z(i) < z(i - 1) && z(i - 1) > z(i - 2)));
  });
  const Eigen::VectorXi within1 = run_lengths(m, [&](Index i) { return std::abs(z(i)) < 1; });
  const Eigen::VectorXi outside1 = run_lengths(m, [&](Index i) { return std::abs(z(i)) > 1; });
  const int side_run = nelson ? 9 : 8;
  for (Index i = 0; i < m; ++i) {
    if (std::abs(z(i)) > 3) set(i, 1);
    if (above(i) >= side_run || below(i) >= side_run) set(i, 2);
    // k of the last w points beyond `limit` on the side of point i, point i itself among them
    auto k_of_w = [&](int k, int w, double limit) {
      if (i + 1 < k) return false;
      const double sign = z(i) > limit ? 1.0 : (z(i) < -limit ? -1.0 : 0.0);
      if (sign == 0) return false;
      int count = 0;
      for (Index j = std::max<Index>(0, i - w + 1); j <= i; ++j) count += sign * z(j) > limit;
      return count >= k;
    };
    if (k_of_w(2, 3, 2)) set(i, 5);
    if (k_of_w(4, 5, 1)) set(i, 6);
    if (!nelson) continue;
    if (up(i) >= 5 || down(i) >= 5) set(i, 3);       // six points: five steps
    if (alternating(i) >= 12) set(i, 4);              // fourteen points: twelve turns
    if (within1(i) >= 15) set(i, 7);
    if (outside1(i) >= 8) set(i, 8);
  }
  return flags;
}

control_chart_result control_chart(const Eigen::Ref<const Eigen::VectorXd>& values,
                                   const Eigen::Ref<const Eigen::VectorXd>& sizes, const control_chart_options& o) {
  validate(values, sizes, o);
  const Index m = values.size();
  const Index end = o.phase1_end < 0 ? m : o.phase1_end;
  detail::require(o.phase1_begin >= 0 && o.phase1_begin < end && end <= m, kFn,
                  "phase 1 must be a non-empty range of samples within 0.." + std::to_string(m) + ", got [" +
                      std::to_string(o.phase1_begin) + ", " + std::to_string(end) + ")");
  control_chart_result r;
  r.kind = o.kind;
  r.statistic.resize(m);
  r.centre.resize(m);
  r.lower.resize(m);
  r.upper.resize(m);
  r.sigma.resize(m);
  r.excluded = Eigen::VectorXi::Zero(m);
  phase_one ph;
  for (Index i = o.phase1_begin; i < end; ++i) ph.rows.push_back(i);
  for (;;) {
    fill_limits(values, sizes, ph, r);
    if (o.max_revisions >= 0 && r.revisions >= o.max_revisions) break;
    std::vector<Index> kept;
    for (Index i : ph.rows)
      if (r.statistic(i) > r.upper(i) || r.statistic(i) < r.lower(i)) r.excluded(i) = 1;
      else kept.push_back(i);
    if (kept.size() == ph.rows.size()) break;
    detail::require(!kept.empty(), kFn, "revision dropped every phase-I sample; choose another phase 1");
    ph.rows = kept;
    ++r.revisions;
  }
  Eigen::VectorXd z(m);
  for (Index i = 0; i < m; ++i) {
    const double d = r.statistic(i) - r.centre(i);
    z(i) = r.sigma(i) > 0 ? d / r.sigma(i) : (d == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), d));
  }
  r.violations = run_rule_violations(z, o.rules);
  return r;
}

std::string control_chart_result::describe() const {
  return std::string(to_string(kind)) + " chart: centre " + detail::format_g(centre_estimate) +
         " from phase I, 3-sigma limits" + (revisions ? " revised " + std::to_string(revisions) + " time(s)" : "");
}

}  // namespace impactkit
