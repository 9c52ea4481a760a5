// Intervals for proportions and Poisson rates (formulas and sources: impactkit/monitoring/indicator_intervals.hpp).
#include <impactkit/monitoring/indicator_intervals.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <impactkit/core/distributions.hpp>
#include <impactkit/core/errors.hpp>

namespace impactkit {
namespace {

using Index = Eigen::Index;

void check_level(double level, const char* fn) {
  detail::require(level > 0 && level < 1, fn, "level must lie in (0, 1), got " + detail::format_g(level));
}

double clip01(double v) { return std::min(1.0, std::max(0.0, v)); }

// B⁻¹(q; a, b), the q-quantile of Beta(a, b)
double beta_quantile(double q, double a, double b) { return boost::math::ibeta_inv(a, b, q); }

}  // namespace

proportion_method parse_proportion_method(const std::string& name) {
  for (auto m : {proportion_method::wilson, proportion_method::clopper_pearson, proportion_method::jeffreys,
                 proportion_method::agresti_coull, proportion_method::normal})
    if (name == to_string(m)) return m;
  detail::throw_invalid("proportion", "method must be one of 'wilson', 'clopper_pearson', 'jeffreys', "
                                      "'agresti_coull', 'normal'; got '" + name + "'");
}

const char* to_string(proportion_method m) {
  switch (m) {
    case proportion_method::wilson: return "wilson";
    case proportion_method::clopper_pearson: return "clopper_pearson";
    case proportion_method::jeffreys: return "jeffreys";
    case proportion_method::agresti_coull: return "agresti_coull";
    case proportion_method::normal: return "normal";
  }
  return "?";
}

count_intervals proportion_intervals(const Eigen::Ref<const Eigen::VectorXd>& successes,
                                     const Eigen::Ref<const Eigen::VectorXd>& trials, proportion_method method,
                                     double level) {
  constexpr const char* fn = "proportion";
  check_level(level, fn);
  detail::require(successes.size() == trials.size(), fn,
                  "successes and trials must have the same length, got " + std::to_string(successes.size()) + " and " +
                      std::to_string(trials.size()));
  detail::require_finite(successes, fn, "successes");
  detail::require_finite(trials, fn, "trials");
  const Index m = successes.size();
  for (Index i = 0; i < m; ++i) {
    if (!(trials(i) > 0)) detail::throw_invalid(fn, "trials must be positive; entry " + std::to_string(i) + " has " + detail::format_g(trials(i)));
    if (!(successes(i) >= 0 && successes(i) <= trials(i)))
      detail::throw_invalid(fn, "successes must lie in [0, trials]; entry " + std::to_string(i) + " has " +
                                    detail::format_g(successes(i)) + " of " + detail::format_g(trials(i)));
  }
  const double alpha = 1 - level;
  const double z = t_quantile(1 - alpha / 2, std::numeric_limits<double>::infinity());
  count_intervals out{Eigen::VectorXd(m), Eigen::VectorXd(m), Eigen::VectorXd(m)};
  for (Index i = 0; i < m; ++i) {
    const double x = successes(i), n = trials(i), p = x / n;
    out.estimate(i) = p;
    double lo = 0, hi = 1;
    switch (method) {
      case proportion_method::wilson: {
        const double z2 = z * z, denom = 1 + z2 / n;
        const double centre = (p + z2 / (2 * n)) / denom;
        const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
        lo = clip01(centre - half);
        hi = clip01(centre + half);
        break;
      }
      case proportion_method::clopper_pearson:
        lo = x == 0 ? 0.0 : beta_quantile(alpha / 2, x, n - x + 1);
        hi = x == n ? 1.0 : beta_quantile(1 - alpha / 2, x + 1, n - x);
        break;
      case proportion_method::jeffreys:
        lo = beta_quantile(alpha / 2, x + 0.5, n - x + 0.5);
        hi = beta_quantile(1 - alpha / 2, x + 0.5, n - x + 0.5);
        break;
      case proportion_method::agresti_coull: {
        const double nc = n + z * z, pc = (x + z * z / 2) / nc, half = z * std::sqrt(pc * (1 - pc) / nc);
        lo = clip01(pc - half);
        hi = clip01(pc + half);
        break;
      }
      case proportion_method::normal: {
        const double half = z * std::sqrt(p * (1 - p) / n);
        lo = clip01(p - half);
        hi = clip01(p + half);
        break;
      }
    }
    out.conf_low(i) = lo;
    out.conf_high(i) = hi;
  }
  return out;
}

count_intervals poisson_rate_intervals(const Eigen::Ref<const Eigen::VectorXd>& events,
                                       const Eigen::Ref<const Eigen::VectorXd>& person_time, double level) {
  constexpr const char* fn = "rate";
  check_level(level, fn);
  detail::require(events.size() == person_time.size(), fn,
                  "events and person_time must have the same length, got " + std::to_string(events.size()) + " and " +
                      std::to_string(person_time.size()));
  detail::require_finite(events, fn, "events");
  detail::require_finite(person_time, fn, "person_time");
  const Index m = events.size();
  const double alpha = 1 - level;
  count_intervals out{Eigen::VectorXd(m), Eigen::VectorXd(m), Eigen::VectorXd(m)};
  for (Index i = 0; i < m; ++i) {
    const double d = events(i), T = person_time(i);
    if (!(T > 0)) detail::throw_invalid(fn, "person_time must be positive; entry " + std::to_string(i) + " has " + detail::format_g(T));
    if (!(d >= 0)) detail::throw_invalid(fn, "events must be >= 0; entry " + std::to_string(i) + " has " + detail::format_g(d));
    out.estimate(i) = d / T;
    out.conf_low(i) = d == 0 ? 0.0 : boost::math::gamma_p_inv(d, alpha / 2) / T;
    out.conf_high(i) = boost::math::gamma_p_inv(d + 1, 1 - alpha / 2) / T;
  }
  return out;
}

}  // namespace impactkit
