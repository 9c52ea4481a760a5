// LQAS decision rules and survey sample sizes (formulas and sources: impactkit/monitoring/lqas.hpp).
#include <impactkit/monitoring/lqas.hpp>

#include <cmath>
#include <limits>

#include <boost/math/distributions/binomial.hpp>

#include <impactkit/core/distributions.hpp>
#include <impactkit/core/errors.hpp>

namespace impactkit {
namespace {

// F(k; n, p) = P(X ≤ k), 0 for k < 0
double binomial_cdf(int k, int n, double p) {
  if (k < 0) return 0.0;
  if (k >= n) return 1.0;
  return boost::math::cdf(boost::math::binomial(n, p), k);
}

double z_of(double q) { return t_quantile(q, std::numeric_limits<double>::infinity()); }

void check_unit(double v, const char* fn, const char* name, bool open = true) {
  const bool ok = open ? (v > 0 && v < 1) : (v >= 0 && v <= 1);
  if (!ok) detail::throw_invalid(fn, std::string(name) + " must lie in " + (open ? "(0, 1)" : "[0, 1]") + ", got " + detail::format_g(v));
}

long long round_up(double v) { return static_cast<long long>(std::ceil(v - 1e-9)); }  // 1e-9: 384.0000000001 is 384

}  // namespace

lqas_decision lqas_risks(int n, int rule, double upper, double lower) {
  constexpr const char* fn = "lqas_rule";
  detail::require(n >= 1, fn, "n must be >= 1, got " + std::to_string(n));
  detail::require(rule >= 0 && rule <= n + 1, fn, "the decision rule must lie in 0..n+1, got " + std::to_string(rule));
  check_unit(upper, fn, "upper", false);
  check_unit(lower, fn, "lower", false);
  detail::require(lower < upper, fn, "lower must be below upper, got lower " + detail::format_g(lower) + " and upper " + detail::format_g(upper));
  lqas_decision d;
  d.n = n;
  d.rule = rule;
  d.upper = upper;
  d.lower = lower;
  d.alpha = binomial_cdf(rule - 1, n, upper);
  d.beta = 1 - binomial_cdf(rule - 1, n, lower);
  return d;
}

lqas_decision lqas_rule(int n, double upper, double lower) {
  lqas_decision best = lqas_risks(n, 0, upper, lower);
  for (int d = 1; d <= n; ++d) {
    const lqas_decision c = lqas_risks(n, d, upper, lower);
    const double total = c.alpha + c.beta, best_total = best.alpha + best.beta;
    const double tol = 1e-12;
    if (total < best_total - tol ||
        (std::abs(total - best_total) <= tol && std::max(c.alpha, c.beta) <= std::max(best.alpha, best.beta)))
      best = c;
  }
  return best;
}

Eigen::VectorXi lqas_classify(const Eigen::Ref<const Eigen::VectorXd>& successes, int n, int rule) {
  constexpr const char* fn = "lqas_classify";
  detail::require_finite(successes, fn, "successes");
  detail::require(n >= 1 && rule >= 0 && rule <= n + 1, fn, "needs n >= 1 and a rule in 0..n+1");
  Eigen::VectorXi out(successes.size());
  for (Eigen::Index i = 0; i < successes.size(); ++i) {
    const double s = successes(i);
    if (!(s >= 0 && s <= n && s == std::floor(s)))
      detail::throw_invalid(fn, "successes must be whole numbers in 0..n = " + std::to_string(n) + "; area " + std::to_string(i) + " has " + detail::format_g(s));
    out(i) = s >= rule ? 1 : 0;
  }
  return out;
}

sample_size_result sample_size_proportion(double p, double margin, double level, double deff, double population,
                                          double response_rate) {
  constexpr const char* fn = "sample_size_proportion";
  check_unit(p, fn, "p", false);
  check_unit(margin, fn, "margin");
  check_unit(level, fn, "level");
  check_unit(response_rate, fn, "response_rate", false);
  detail::require(response_rate > 0, fn, "response_rate must be positive");
  detail::require(std::isfinite(deff) && deff > 0, fn, "deff must be positive and finite, got " + detail::format_g(deff));
  detail::require(std::isfinite(population) && population >= 0, fn, "population must be >= 0 (0: infinite), got " + detail::format_g(population));
  const double z = z_of(1 - (1 - level) / 2);
  double n = deff * z * z * p * (1 - p) / (margin * margin);
  if (population > 0) n = n / (1 + (n - 1) / population);
  n /= response_rate;
  return {n, round_up(n), "deff * z^2 p(1-p) / e^2" + std::string(population > 0 ? ", finite population corrected" : "") +
                              (response_rate < 1 ? ", divided by the response rate" : "")};
}

sample_size_result sample_size_change(double p1, double p2, double alpha, double power, double deff, double response_rate) {
  constexpr const char* fn = "sample_size_proportion";
  check_unit(p1, fn, "p1", false);
  check_unit(p2, fn, "p2", false);
  detail::require(p1 != p2, fn, "p1 and p2 must differ (the change to detect)");
  check_unit(alpha, fn, "alpha");
  check_unit(power, fn, "power");
  detail::require(response_rate > 0 && response_rate <= 1, fn, "response_rate must lie in (0, 1]");
  detail::require(std::isfinite(deff) && deff > 0, fn, "deff must be positive and finite, got " + detail::format_g(deff));
  const double za = z_of(1 - alpha / 2), zb = z_of(power), pbar = (p1 + p2) / 2;
  const double root = za * std::sqrt(2 * pbar * (1 - pbar)) + zb * std::sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  const double n = deff * root * root / ((p2 - p1) * (p2 - p1)) / response_rate;
  return {n, round_up(n), "deff [z(1-a/2) sqrt(2 pbar(1-pbar)) + z(power) sqrt(p1 q1 + p2 q2)]^2 / (p2 - p1)^2 per round"};
}

std::string lqas_decision::describe() const {
  return "LQAS n = " + std::to_string(n) + ": reached when successes >= " + std::to_string(rule) + " (upper " +
         detail::format_g(upper) + ", lower " + detail::format_g(lower) + "; alpha = " + detail::format_g(alpha) +
         ", beta = " + detail::format_g(beta) + ")";
}

}  // namespace impactkit
