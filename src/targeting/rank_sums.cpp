// Shared machinery of the rank-based indices (declarations and formulas in welfare_index_detail.hpp,
// concentration.hpp and inequality.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/unit_totals.hpp>

#include "welfare_index_detail.hpp"

namespace impactkit::detail::ranks {

std::vector<std::vector<Eigen::Index>> sorted_domain_rows(const welfare_rows& r, const double* key, const double* values,
                                                          const char* fn) {
  const std::vector<Eigen::Index> order = lines::welfare_order(r.n, key, r.domain, fn);
  std::vector<std::vector<Eigen::Index>> by_domain(static_cast<std::size_t>(r.n_domains));
  for (Eigen::Index i : order) {
    const double w = r.weights ? r.weights[i] : 1.0;
    if (!(std::isfinite(w) && w >= 0)) throw_invalid(fn, "weights must be finite and non-negative; " + format_g(w) + " at row " + std::to_string(i));
    if (values && !std::isfinite(values[i])) throw_invalid(fn, "the outcome is missing or infinite at row " + std::to_string(i));
    const int d = r.domain ? r.domain[i] : 0;
    if (d >= r.n_domains) throw_invalid(fn, "domain code out of range at row " + std::to_string(i));
    by_domain[static_cast<std::size_t>(d)].push_back(i);
  }
  return by_domain;
}

double convey_gini_on_rows(const std::vector<Eigen::Index>& rows, const double* y, const double* w, std::vector<double>& u) {
  long double N = 0, T = 0;
  for (Eigen::Index i : rows) {
    const double wi = w ? w[i] : 1.0;
    N += wi;
    T += static_cast<long double>(wi) * y[i];
  }
  if (!(N > 0) || T == 0) return std::numeric_limits<double>::quiet_NaN();
  // In deviations e = y − μ (μ = T/N), since Σ w (R − ½) = 0 with mid-point ranks: the Eurostat part
  // 2 Σ w e (R − ½) / T, R − ½ = (2 C_before + W_run − N) / (2N) per tie run, plus convey's Σ w (w − 1) y / (N T)
  // (inequality.hpp) — no cancellation of terms of the size of y when y is far from 0.
  const long double mu = T / N;
  struct run_sums {
    double c_before, e_before;
  };
  std::vector<run_sums> run_of(rows.size());
  long double C = 0, E = 0, num = 0, sum_w_w1_y = 0;
  for (std::size_t a = 0; a < rows.size();) {
    const double k = y[rows[a]];
    std::size_t b = a;
    long double W = 0, Er = 0;
    for (; b < rows.size() && y[rows[b]] == k; ++b) {
      const double wi = w ? w[rows[b]] : 1.0;
      W += wi;
      Er += static_cast<long double>(wi) * (y[rows[b]] - mu);
      sum_w_w1_y += static_cast<long double>(wi) * (wi - 1) * y[rows[b]];
    }
    num += Er * (2 * C + W - N);
    for (std::size_t j = a; j < b; ++j) run_of[j] = {static_cast<double>(C), static_cast<double>(E)};
    C += W;
    E += Er;
    a = b;
  }
  const double n_ = static_cast<double>(N), t_ = static_cast<double>(T), mu_ = static_cast<double>(mu);
  const double index = static_cast<double>((num + sum_w_w1_y) / (N * T));
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const Eigen::Index i = rows[j];
    const run_sums& s = run_of[j];
    const double e = y[i] - mu_, wi = w ? w[i] : 1.0;
    // 2 (C_before y − Y_before) + T − N y − G (T + N y) + y (2w − 1), in deviations
    const double v = 2 * (s.c_before * e - s.e_before) - n_ * e - index * (2 * n_ * mu_ + n_ * e) + y[i] * (2 * wi - 1);
    u[static_cast<std::size_t>(i)] = v / (n_ * t_);
  }
  return index;
}

double quantile_on_sorted(const std::vector<Eigen::Index>& rows, const double* key, const double* w, long double total, double p) {
  double last = std::numeric_limits<double>::quiet_NaN();
  long double cum = 0;
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const double wi = w ? w[rows[j]] : 1.0;
    if (wi == 0) continue;
    last = key[rows[j]];
    if (p >= 1) continue;
    cum += wi;
    const double share = static_cast<double>(cum / total);
    if (share < p) continue;
    if (share != p) return last;
    for (std::size_t k = j + 1; k < rows.size(); ++k)  // exact tie: the mean with the next positive-weight value
      if ((w ? w[rows[k]] : 1.0) > 0) return 0.5 * (last + key[rows[k]]);
    return last;
  }
  return last;
}

Eigen::MatrixXd variance_of_row_influence(const welfare_rows& r, const std::vector<double>& u, const survey_design& design,
                                          const char* fn) {
  const Eigen::Index D = r.n_domains;
  auto row = [&](Eigen::Index i, double* x) -> Eigen::Index {
    const int d = r.domain ? r.domain[i] : 0;
    if (d < 0) return -1;
    x[0] = (r.weights ? r.weights[i] : 1.0) * u[static_cast<std::size_t>(i)];
    return d;
  };
  if (streams_row_influence(design, r.n, D)) {
    std::vector<Eigen::MatrixXd> G(static_cast<std::size_t>(D), Eigen::MatrixXd::Zero(D, 1));
    for (Eigen::Index d = 0; d < D; ++d) G[static_cast<std::size_t>(d)](d, 0) = 1;
    return design.variance_of_row_classes(G, 1, row);
  }
  const unit_totals_table table = accumulate_unit_totals(
      design.units(), r.n, r.n_domains, 1, [&](Eigen::Index i, double* x) { return static_cast<int>(row(i, x)); },
      [fn](Eigen::Index i) { throw_invalid(fn, "invalid row " + std::to_string(i)); });
  return design.variance_of_unit_totals(table.totals);
}

concentration_part concentration_part_of(const Eigen::MatrixXd& tot, const Eigen::MatrixXd& centre, Eigen::Index j) {
  // C = (2S − N E)/(N T) with S = Σ w midN e, E = Σ w e, T = c N + E; per unit (rank_totals.hpp)
  //   ψ_u(C) = [2 a_u + E N_u − N E_u − C (T N_u + N (c N_u + E_u))]/(N T),   ψ_u(μ) = (E_u + (c − μ) N_u)/N
  const Eigen::Index D = tot.rows(), q = tot.cols();
  require(centre.rows() == D && j < centre.cols() && q == rank_total_columns(centre.cols()), "rank_totals",
          "the unit totals must be U × (D·(1 + 3J)) with a D × J centre (rank_totals.hpp)");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  concentration_part out{Eigen::VectorXd::Constant(D, nan), Eigen::VectorXd::Constant(D, nan), Eigen::MatrixXd::Zero(D, q),
                         Eigen::MatrixXd::Zero(D, q)};
  const Eigen::Index a = 1 + 3 * j, s = 2 + 3 * j, e = 3 + 3 * j;
  for (Eigen::Index d = 0; d < D; ++d) {
    const double N = tot(d, 0), S = tot(d, s), E = tot(d, e), c = centre(d, j);
    const double T = c * N + E;
    if (!(N > 0) || T == 0) continue;
    const double C = (2 * S - N * E) / (N * T), mu = T / N;
    out.index(d) = C;
    out.mean(d) = mu;
    out.gradient(d, a) = 2 / (N * T);
    out.gradient(d, 0) = (E - C * T - C * N * c) / (N * T);
    out.gradient(d, e) = (-N - C * N) / (N * T);
    out.mean_gradient(d, e) = 1 / N;
    out.mean_gradient(d, 0) = (c - mu) / N;
  }
  return out;
}

}  // namespace impactkit::detail::ranks

namespace impactkit {

detail::ranks::rank_rows detail::ranks::rank_rows_of(const welfare_rows& r, const std::vector<std::vector<Eigen::Index>>& sorted_rows,
                                                    const std::vector<const double*>& values, const char* fn) {
  const Eigen::Index D = r.n_domains, J = static_cast<Eigen::Index>(values.size());
  detail::require(J >= 1 && static_cast<Eigen::Index>(sorted_rows.size()) == D, fn, "needs the value columns and the rows of every domain");
  rank_rows out;
  out.values = values;
  out.centre = Eigen::MatrixXd::Zero(D, J);
  out.midN.assign(static_cast<std::size_t>(r.n), 0.0);
  out.midE.assign(static_cast<std::size_t>(r.n * J), 0.0);
  std::vector<long double> T(static_cast<std::size_t>(J)), E(static_cast<std::size_t>(J)), Er(static_cast<std::size_t>(J));
  // the rows are visited in welfare order, at random positions: the columns of the row `ahead` places on
  // are prefetched (a miss per column and row otherwise serialises the walk)
  constexpr std::size_t ahead = 16;
  auto prefetch = [&](const std::vector<Eigen::Index>& rows, std::size_t k, bool writes) {
#if defined(__GNUC__) || defined(__clang__)
    if (k >= rows.size()) return;
    const auto i = static_cast<std::size_t>(rows[k]);
    if (r.weights) __builtin_prefetch(r.weights + i);
    __builtin_prefetch(r.welfare + i);
    for (const double* v : values) __builtin_prefetch(v + i);
    if (writes) {
      __builtin_prefetch(out.midN.data() + i, 1);
      __builtin_prefetch(out.midE.data() + i * static_cast<std::size_t>(J), 1);
    }
#else
    (void)rows, (void)k, (void)writes;
#endif
  };
  for (Eigen::Index d = 0; d < D; ++d) {
    const auto& rows = sorted_rows[static_cast<std::size_t>(d)];
    long double N = 0;
    std::fill(T.begin(), T.end(), 0.0L);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      prefetch(rows, k + ahead, false);
      const Eigen::Index i = rows[k];
      const double w = r.weights ? r.weights[i] : 1.0;
      N += w;
      for (Eigen::Index j = 0; j < J; ++j) {
        const double h = values[static_cast<std::size_t>(j)][i];
        if (!std::isfinite(h)) detail::throw_invalid(fn, "the outcome is missing or infinite at row " + std::to_string(i));
        T[static_cast<std::size_t>(j)] += static_cast<long double>(w) * h;
      }
    }
    for (Eigen::Index j = 0; j < J; ++j) out.centre(d, j) = N > 0 ? static_cast<double>(T[static_cast<std::size_t>(j)] / N) : 0.0;
    long double C = 0;
    std::fill(E.begin(), E.end(), 0.0L);
    for (std::size_t a = 0; a < rows.size();) {  // runs of equal keys: mid-point cumulative sums
      const double k = r.welfare[rows[a]];
      std::size_t b = a;
      long double W = 0;
      std::fill(Er.begin(), Er.end(), 0.0L);
      for (; b < rows.size() && r.welfare[rows[b]] == k; ++b) {
        prefetch(rows, b + ahead, true);
        const double w = r.weights ? r.weights[rows[b]] : 1.0;
        W += w;
        for (Eigen::Index j = 0; j < J; ++j)
          Er[static_cast<std::size_t>(j)] += static_cast<long double>(w) * (values[static_cast<std::size_t>(j)][rows[b]] - out.centre(d, j));
      }
      for (std::size_t m = a; m < b; ++m) {
        const auto i = static_cast<std::size_t>(rows[m]);
        out.midN[i] = static_cast<double>(C + W / 2);
        for (Eigen::Index j = 0; j < J; ++j)
          out.midE[i * static_cast<std::size_t>(J) + static_cast<std::size_t>(j)] =
              static_cast<double>(E[static_cast<std::size_t>(j)] + Er[static_cast<std::size_t>(j)] / 2);
      }
      C += W;
      for (Eigen::Index j = 0; j < J; ++j) E[static_cast<std::size_t>(j)] += Er[static_cast<std::size_t>(j)];
      a = b;
    }
  }
  return out;
}

namespace detail::linearised {

Eigen::MatrixXd influence_of_table(const index_gradient& g, const unit_totals_table& t, Eigen::VectorXd* line_influence) {
  const Eigen::Index D = t.n_domains, q = t.n_variables, K = g.per_domain;
  require(g.gradient.rows() == D * K && g.gradient.cols() == q && t.totals.cols() == D * q, "influence_of_table",
          "the gradient and the unit totals disagree in domains or variables");
  Eigen::MatrixXd psi(t.n_units, D * K);
  for (Eigen::Index d = 0; d < D; ++d)
    psi.middleCols(d * K, K).noalias() = t.totals.middleCols(d * q, q) * g.gradient.middleRows(d * K, K).transpose();
  if (g.line.size() > 0) {
    Eigen::VectorXd line = Eigen::VectorXd::Zero(t.n_units);
    for (Eigen::Index d = 0; d < D; ++d) line.noalias() += t.totals.middleCols(d * q, q) * g.line_gradient.row(d).transpose();
    psi.noalias() += line * g.line.transpose();
    if (line_influence) *line_influence = line;
  }
  return psi;
}

welfare_index_result finish(const index_gradient& g, const Eigen::MatrixXd& psi, const survey_design& design,
                            const Eigen::VectorXd* line_influence) {
  welfare_index_result out = finish_with_vcov(g, design.variance_of_unit_totals(psi), design);
  if (line_influence) {
    const double v = design.variance_of_unit_totals(*line_influence)(0, 0);
    if (std::isnormal(v)) out.line_variance = v;
  }
  return out;
}

welfare_index_result finish_with_vcov(const index_gradient& g, Eigen::MatrixXd vcov, const survey_design& design) {
  welfare_index_result out;
  out.estimate = g.estimate;
  out.undefined = g.undefined;
  out.vcov = std::move(vcov);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int d : out.undefined)
    for (Eigen::Index k = 0; k < g.per_domain; ++k) {
      const Eigen::Index j = d * g.per_domain + k;
      out.estimate(j) = nan;
      out.vcov.row(j).setConstant(nan);
      out.vcov.col(j).setConstant(nan);
    }
  return out;
}

}  // namespace detail::linearised

}  // namespace impactkit
