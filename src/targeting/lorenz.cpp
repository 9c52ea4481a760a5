// Out-of-line definitions for impactkit/targeting/lorenz.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/lorenz.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "welfare_index_detail.hpp"

namespace impactkit {
namespace {

namespace ranks = detail::ranks;

/// Partial totals over one domain's sorted rows, with N and Y. `interpolate` (the Lorenz curve): T_p =
/// Σ_{y < Q} w y + (pN − W_{y<Q})·Q with Q the lower p-quantile (the smallest value whose cumulative weight
/// reaches pN), so a tie run at the quantile is split; otherwise (Eurostat's S80/S20) T_p = Σ_{y ≤ Q} w y
/// with laeken's quantile.
struct partial_totals {
  long double N = 0, Y = 0;
  std::vector<double> q, T;  // per share
};

partial_totals partial_totals_of(const std::vector<Eigen::Index>& rows, const welfare_rows& r, const std::vector<double>& p,
                                 bool interpolate) {
  partial_totals out;
  for (Eigen::Index i : rows) {
    const double w = r.weights ? r.weights[i] : 1.0;
    out.N += w;
    out.Y += static_cast<long double>(w) * r.welfare[i];
  }
  if (!(out.N > 0)) return out;
  out.q.resize(p.size());
  out.T.assign(p.size(), 0.0);
  for (std::size_t j = 0; j < p.size(); ++j) {
    if (!interpolate) {
      out.q[j] = ranks::quantile_on_sorted(rows, r.welfare, r.weights, out.N, p[j]);
      long double T = 0;
      for (Eigen::Index i : rows) {
        if (r.welfare[i] > out.q[j]) break;  // rows are in welfare order
        T += static_cast<long double>(r.weights ? r.weights[i] : 1.0) * r.welfare[i];
      }
      out.T[j] = static_cast<double>(T);
      continue;
    }
    // the lower p-quantile: the first positive-weight value whose cumulative weight share reaches p (the
    // largest value for p = 1 or within rounding of it)
    long double cum = 0;
    double q = std::numeric_limits<double>::quiet_NaN(), largest = q;
    for (Eigen::Index i : rows) {
      const double w = r.weights ? r.weights[i] : 1.0;
      if (w == 0) continue;
      largest = r.welfare[i];
      cum += w;
      if (p[j] < 1 && static_cast<double>(cum / out.N) >= p[j]) {
        q = r.welfare[i];
        break;
      }
    }
    if (std::isnan(q)) q = largest;
    long double W_lt = 0, S_lt = 0, W_run = 0;
    for (Eigen::Index i : rows) {
      const double y = r.welfare[i], w = r.weights ? r.weights[i] : 1.0;
      if (y > q) break;
      if (y == q) W_run += w;
      else W_lt += w, S_lt += static_cast<long double>(w) * y;
    }
    const long double frac = std::min(std::max(static_cast<long double>(p[j]) * out.N - W_lt, static_cast<long double>(0)), W_run);
    out.q[j] = q;
    out.T[j] = static_cast<double>(S_lt + frac * static_cast<long double>(q));
  }
  return out;
}

/// IF_k(T_p) = (y_k − Q_p)·1{y_k ≤ Q_p} + p·Q_p (lorenz.hpp).
inline double partial_total_influence(double y, double q, double p) { return (y <= q ? y - q : 0.0) + p * q; }

void check_shares(const std::vector<double>& p, bool allow_one, const char* fn, const char* what) {
  detail::require(!p.empty(), fn, std::string("needs at least one ") + what);
  for (std::size_t j = 0; j < p.size(); ++j)
    detail::require(std::isfinite(p[j]) && p[j] > 0 && (allow_one ? p[j] <= 1 : p[j] < 1) && (j == 0 || p[j] > p[j - 1]), fn,
                    std::string(what) + (allow_one ? " must increase within (0, 1]" : " must increase within (0, 1)"));
}

welfare_index_result finish(const welfare_rows& r, Eigen::Index K, const std::vector<double>& u, const survey_design& design,
                            welfare_index_result out, const char* fn) {
  out.vcov = ranks::influence_variance(r, K, u, design, fn);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int d : out.undefined)
    for (Eigen::Index k = 0; k < K; ++k) {
      const Eigen::Index j = d * K + k;
      out.estimate(j) = nan;
      out.vcov.row(j).setConstant(nan);
      out.vcov.col(j).setConstant(nan);
    }
  return out;
}

}  // namespace

welfare_index_result lorenz_ordinates(const welfare_rows& r, const std::vector<double>& p, bool generalized, const survey_design& design) {
  const char* fn = generalized ? "generalized_lorenz" : "lorenz";
  detail::poverty::check(r, fn);
  check_shares(p, true, fn, "population shares");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  const Eigen::Index K = static_cast<Eigen::Index>(p.size());
  welfare_index_result out;
  out.estimate = Eigen::VectorXd::Constant(r.n_domains * K, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n * K), 0.0);
  for (int d = 0; d < r.n_domains; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    const partial_totals pt = partial_totals_of(rows, r, p, true);
    const double N = static_cast<double>(pt.N), Y = static_cast<double>(pt.Y);
    if (!(N > 0) || (!generalized && !(Y > 0))) {
      out.undefined.push_back(d);
      continue;
    }
    const double denom = generalized ? N : Y;
    for (Eigen::Index j = 0; j < K; ++j) {
      const double theta = pt.T[static_cast<std::size_t>(j)] / denom;
      out.estimate(d * K + j) = theta;
      const double q = pt.q[static_cast<std::size_t>(j)], pj = p[static_cast<std::size_t>(j)];
      for (Eigen::Index i : rows) {
        const double y = r.welfare[i];
        u[static_cast<std::size_t>(i * K + j)] = (partial_total_influence(y, q, pj) - theta * (generalized ? 1.0 : y)) / denom;
      }
    }
  }
  return finish(r, K, u, design, std::move(out), fn);
}

welfare_index_result quantile_shares(const welfare_rows& r, const std::vector<double>& cuts, const survey_design& design) {
  const char* fn = "quantile_shares";
  detail::poverty::check(r, fn);
  check_shares(cuts, false, fn, "cuts");
  welfare_index_result L = lorenz_ordinates(r, cuts, false, design);  // validates the rest
  // shares = A · (L(c_1), …, L(c_K)) + e_last: S_0 = L(c_1), S_k = L(c_{k+1}) − L(c_k), S_K = 1 − L(c_K)
  const Eigen::Index K = static_cast<Eigen::Index>(cuts.size()), G = K + 1, D = r.n_domains;
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

welfare_index_result quintile_share_ratio(const welfare_rows& r, double lower, double upper, const survey_design& design) {
  const char* fn = "qsr";
  detail::poverty::check(r, fn);
  detail::require(std::isfinite(lower) && std::isfinite(upper) && 0 < lower && lower < upper && upper < 1, fn,
                  "needs 0 < lower < upper < 1");
  detail::require(design.rows() == r.n, fn, "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto by_domain = ranks::sorted_domain_rows(r, r.welfare, nullptr, fn);
  welfare_index_result out;
  out.estimate = Eigen::VectorXd::Constant(r.n_domains, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> u(static_cast<std::size_t>(r.n), 0.0);
  for (int d = 0; d < r.n_domains; ++d) {
    const auto& rows = by_domain[static_cast<std::size_t>(d)];
    const partial_totals pt = partial_totals_of(rows, r, {lower, upper}, false);
    if (!(pt.N > 0)) {
      out.undefined.push_back(d);
      continue;
    }
    const double Y = static_cast<double>(pt.Y), bottom = pt.T[0], top = Y - pt.T[1];
    if (!(bottom > 0)) {  // the bottom group holds no welfare: the ratio is undefined
      out.undefined.push_back(d);
      continue;
    }
    const double ratio = top / bottom;
    out.estimate(d) = ratio;
    for (Eigen::Index i : rows) {
      const double y = r.welfare[i];
      const double if_top = y - partial_total_influence(y, pt.q[1], upper);
      const double if_bottom = partial_total_influence(y, pt.q[0], lower);
      u[static_cast<std::size_t>(i)] = (if_top - ratio * if_bottom) / bottom;
    }
  }
  return finish(r, 1, u, design, std::move(out), fn);
}

}  // namespace impactkit
