// Out-of-line definitions for impactkit/targeting/lorenz.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/lorenz.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/unit_totals.hpp>

#include "welfare_index_detail.hpp"

namespace impactkit {
namespace {

namespace ranks = detail::ranks;

/// The per-domain quantiles behind the partial totals (D × K; NaN rows where a domain has no positive
/// weight), from each domain's rows in welfare order: the lower p-quantile (the first positive-weight value
/// whose cumulative weight share reaches p, the largest value for p = 1 or within rounding of it) for the
/// Lorenz curve, laeken's quantile (welfare_line.hpp) for the QSR.
Eigen::MatrixXd domain_quantiles(const std::vector<std::vector<Eigen::Index>>& by_domain, const welfare_rows& r, const std::vector<double>& p,
                                 bool lower_rule) {
  const Eigen::Index D = r.n_domains, K = static_cast<Eigen::Index>(p.size());
  Eigen::MatrixXd Q = Eigen::MatrixXd::Constant(D, K, std::numeric_limits<double>::quiet_NaN());
  for (Eigen::Index d = 0; d < D; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    long double N = 0;
    for (Eigen::Index i : rows) N += r.weights ? r.weights[i] : 1.0;
    if (!(N > 0)) continue;
    for (Eigen::Index j = 0; j < K; ++j) {
      const double pj = p[static_cast<std::size_t>(j)];
      if (!lower_rule) {
        Q(d, j) = ranks::quantile_on_sorted(rows, r.welfare, r.weights, N, pj);
        continue;
      }
      long double cum = 0;
      double q = std::numeric_limits<double>::quiet_NaN(), largest = q;
      for (Eigen::Index i : rows) {
        const double w = r.weights ? r.weights[i] : 1.0;
        if (w == 0) continue;
        largest = r.welfare[i];
        cum += w;
        if (pj < 1 && static_cast<double>(cum / N) >= pj) {
          q = r.welfare[i];
          break;
        }
      }
      Q(d, j) = std::isnan(q) ? largest : q;
    }
  }
  return Q;
}

/// The partial-total variables of row i in domain d at the quantiles Q (lorenz.hpp: partial_total_columns).
void partial_variables(const welfare_rows& r, const Eigen::MatrixXd& Q, Eigen::Index i, int d, double* x) {
  const double w = r.weights ? r.weights[i] : 1.0, y = r.welfare[i];
  x[0] = w;
  x[1] = w * y;
  for (Eigen::Index j = 0; j < Q.cols(); ++j) {
    const double q = Q(d, j);
    const bool below = y < q, at = y == q;
    x[2 + 4 * j] = below ? w * y : 0.0;
    x[3 + 4 * j] = below ? w : 0.0;
    x[4 + 4 * j] = at ? w : 0.0;
    x[5 + 4 * j] = below || at ? w * (y - q) : 0.0;
  }
}

/// An index of the partial totals in memory: the domain totals through `gradient_of` (the formula, as the
/// *_from_totals functions), the influence summed per unit from the rows.
template <class GradientFn>
welfare_index_result partial_index_in_memory(const welfare_rows& r, const Eigen::MatrixXd& Q, const survey_design& design, const char* fn,
                                             GradientFn gradient_of) {
  namespace lin = detail::linearised;
  const Eigen::Index q = partial_total_columns(Q.cols());
  const auto variables = [&](Eigen::Index i, int d, double* x) { partial_variables(r, Q, i, d, x); };
  const lin::index_gradient g = gradient_of(lin::domain_totals_of(r, q, variables));
  return lin::finish_rows(g, r, q, design, variables, fn);
}

void check_table(const unit_totals_table& t, const Eigen::Ref<const Eigen::MatrixXd>& Q, Eigen::Index K, const survey_design& design,
                 const char* fn) {
  detail::require(Q.rows() == t.n_domains && Q.cols() == K, fn, "the quantiles must be D × K (one row per domain, one column per share)");
  detail::require(t.n_variables == partial_total_columns(K) && t.totals.cols() == t.n_variables * t.n_domains && t.totals.rows() == t.n_units,
                  fn, "the unit totals must be U × (D·(2 + 4K)) (lorenz.hpp: partial_total_columns)");
  detail::require(t.n_units == design.units().n_groups, fn, "the unit totals must have one row per unit of the survey design");
}

void check_shares(const std::vector<double>& p, bool allow_one, const char* fn, const char* what) {
  detail::require(!p.empty(), fn, std::string("needs at least one ") + what);
  for (std::size_t j = 0; j < p.size(); ++j)
    detail::require(std::isfinite(p[j]) && p[j] > 0 && (allow_one ? p[j] <= 1 : p[j] < 1) && (j == 0 || p[j] > p[j - 1]), fn,
                    std::string(what) + (allow_one ? " must increase within (0, 1]" : " must increase within (0, 1)"));
}

/// L(p) or GL(p) per domain from the domain totals (D × q) at the quantiles Q (lorenz.hpp):
///   T_p = t(y·1{y < Q}) + clamp(pN − t(1{y < Q}), 0, t(1{y = Q}))·Q,  IF(T_p) = (y − Q)·1{y ≤ Q} + p·Q,
///   ψ(L) = (IF(T_p) − L·y)/Y,  ψ(GL) = (IF(T_p) − GL)/N;  p = 1: Q the largest value, T_1 = Y and IF = y exactly.
detail::linearised::index_gradient lorenz_gradient(const Eigen::MatrixXd& tot, const Eigen::Ref<const Eigen::MatrixXd>& Q,
                                                   const std::vector<double>& p, bool generalized) {
  const Eigen::Index K = static_cast<Eigen::Index>(p.size()), D = tot.rows();
  detail::linearised::index_gradient g;
  g.per_domain = K;
  g.estimate = Eigen::VectorXd::Constant(D * K, std::numeric_limits<double>::quiet_NaN());
  g.gradient = Eigen::MatrixXd::Zero(D * K, tot.cols());
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = tot(d, 0), Y = tot(d, 1);
    if (!(N > 0) || Q.row(d).hasNaN() || (!generalized && !(Y > 0))) {
      g.undefined.push_back(static_cast<int>(d));
      continue;
    }
    const double denom = generalized ? N : Y;
    for (Eigen::Index j = 0; j < K; ++j) {
      const double qj = Q(d, j), pj = p[static_cast<std::size_t>(j)];
      const double S_lt = tot(d, 2 + 4 * j), W_lt = tot(d, 3 + 4 * j), W_run = tot(d, 4 + 4 * j);
      const double Tp = pj >= 1 ? Y : S_lt + std::min(std::max(pj * N - W_lt, 0.0), W_run) * qj;
      const double theta = Tp / denom;
      const Eigen::Index row = d * K + j;
      g.estimate(row) = theta;
      if (pj >= 1) {
        g.gradient(row, 1) += 1 / denom;
      } else {
        g.gradient(row, 5 + 4 * j) += 1 / denom;
        g.gradient(row, 0) += pj * qj / denom;
      }
      g.gradient(row, generalized ? 0 : 1) -= theta / denom;
    }
  }
  return g;
}

/// QSR = (Y − t(y·1{y ≤ Q_upper}))/t(y·1{y ≤ Q_lower}) (whole tie runs, Eurostat), linearised as a ratio.
detail::linearised::index_gradient qsr_gradient(const Eigen::MatrixXd& tot, const Eigen::Ref<const Eigen::MatrixXd>& Q, double lower,
                                                double upper) {
  const Eigen::Index D = tot.rows();
  detail::linearised::index_gradient g;
  g.estimate = Eigen::VectorXd::Constant(D, std::numeric_limits<double>::quiet_NaN());
  g.gradient = Eigen::MatrixXd::Zero(D, tot.cols());
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = tot(d, 0), Y = tot(d, 1);
    const double bottom = tot(d, 2) + tot(d, 4) * Q(d, 0);
    if (!(N > 0) || Q.row(d).hasNaN() || !(bottom > 0)) {  // no weight, or the bottom group holds no welfare
      g.undefined.push_back(static_cast<int>(d));
      continue;
    }
    const double top = Y - (tot(d, 6) + tot(d, 8) * Q(d, 1));
    const double ratio = top / bottom;
    g.estimate(d) = ratio;
    // IF(bottom) = t5 + lower·Q_0·t0, IF(top) = t1 − (t9 + upper·Q_1·t0); ψ = (IF(top) − ratio·IF(bottom))/bottom
    g.gradient(d, 1) = 1 / bottom;
    g.gradient(d, 9) = -1 / bottom;
    g.gradient(d, 5) = -ratio / bottom;
    g.gradient(d, 0) = (-upper * Q(d, 1) - ratio * lower * Q(d, 0)) / bottom;
  }
  return g;
}

}  // namespace

welfare_index_result lorenz_ordinates(const welfare_rows& r, const std::vector<double>& p, bool generalized, const survey_design& design) {
  const char* fn = generalized ? "generalized_lorenz" : "lorenz";
  detail::poverty::check(r, fn);
  check_shares(p, true, fn, "population shares");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  const Eigen::MatrixXd Q = domain_quantiles(by_domain, r, p, true);
  return partial_index_in_memory(r, Q, design, fn, [&](const Eigen::MatrixXd& tot) { return lorenz_gradient(tot, Q, p, generalized); });
}

welfare_index_result lorenz_from_totals(const unit_totals_table& t, const Eigen::Ref<const Eigen::MatrixXd>& Q, const std::vector<double>& p,
                                        bool generalized, const survey_design& design) {
  const char* fn = generalized ? "generalized_lorenz" : "lorenz";
  check_shares(p, true, fn, "population shares");
  check_table(t, Q, static_cast<Eigen::Index>(p.size()), design, fn);
  const auto g = lorenz_gradient(t.domain_totals(), Q, p, generalized);
  return detail::linearised::finish(g, detail::linearised::influence_of_table(g, t), design);
}
namespace {

/// Shares of the K + 1 groups between the cuts from the Lorenz ordinates at the cuts:
/// shares = A · (L(c_1), …, L(c_K)) + e_last: S_0 = L(c_1), S_k = L(c_{k+1}) − L(c_k), S_K = 1 − L(c_K).
welfare_index_result shares_of_ordinates(const welfare_index_result& L, Eigen::Index K, Eigen::Index D) {
  const Eigen::Index G = K + 1;
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(D * G, D * K);
  Eigen::VectorXd c = Eigen::VectorXd::Zero(D * G);
  for (Eigen::Index d = 0; d < D; ++d) {
    for (Eigen::Index k = 0; k < G; ++k) {
      if (k < K) A(d * G + k, d * K + k) = 1;
      if (k > 0) A(d * G + k, d * K + k - 1) = -1;
    }
    c(d * G + K) = 1;
  }
  welfare_index_result out = L;
  out.estimate = A * L.estimate + c;
  // undefined domains carry NaN through A; defined ones have finite vcov blocks
  Eigen::MatrixXd V = L.vcov;
  for (int d : L.undefined) {
    V.middleRows(d * K, K).setZero();
    V.middleCols(d * K, K).setZero();
  }
  out.vcov = A * V * A.transpose();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int d : L.undefined) {
    out.estimate.segment(d * G, G).setConstant(nan);
    out.vcov.middleRows(d * G, G).setConstant(nan);
    out.vcov.middleCols(d * G, G).setConstant(nan);
  }
  return out;
}

}  // namespace

welfare_index_result quantile_shares(const welfare_rows& r, const std::vector<double>& cuts, const survey_design& design) {
  const char* fn = "quantile_shares";
  detail::poverty::check(r, fn);
  check_shares(cuts, false, fn, "cuts");
  return shares_of_ordinates(lorenz_ordinates(r, cuts, false, design), static_cast<Eigen::Index>(cuts.size()), r.n_domains);
}

welfare_index_result quantile_shares_from_totals(const unit_totals_table& t, const Eigen::Ref<const Eigen::MatrixXd>& Q,
                                                 const std::vector<double>& cuts, const survey_design& design) {
  check_shares(cuts, false, "quantile_shares", "cuts");
  return shares_of_ordinates(lorenz_from_totals(t, Q, cuts, false, design), static_cast<Eigen::Index>(cuts.size()), t.n_domains);
}

namespace {
void check_qsr_shares(double lower, double upper) {
  detail::require(std::isfinite(lower) && std::isfinite(upper) && 0 < lower && lower < upper && upper < 1, "qsr",
                  "needs 0 < lower < upper < 1");
}
}  // namespace

welfare_index_result quintile_share_ratio(const welfare_rows& r, double lower, double upper, const survey_design& design) {
  const char* fn = "qsr";
  detail::poverty::check(r, fn);
  check_qsr_shares(lower, upper);
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  const Eigen::MatrixXd Q = domain_quantiles(by_domain, r, {lower, upper}, false);
  return partial_index_in_memory(r, Q, design, fn, [&](const Eigen::MatrixXd& tot) { return qsr_gradient(tot, Q, lower, upper); });
}

welfare_index_result qsr_from_totals(const unit_totals_table& t, const Eigen::Ref<const Eigen::MatrixXd>& Q, double lower, double upper,
                                     const survey_design& design) {
  check_qsr_shares(lower, upper);
  check_table(t, Q, 2, design, "qsr");
  const auto g = qsr_gradient(t.domain_totals(), Q, lower, upper);
  return detail::linearised::finish(g, detail::linearised::influence_of_table(g, t), design);
}

}  // namespace impactkit
