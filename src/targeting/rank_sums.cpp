// Shared machinery of the rank-based indices (declarations and formulas in welfare_index_detail.hpp,
// concentration.hpp and inequality.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
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

double concentration_on_rows(const std::vector<Eigen::Index>& rows, const double* key, const double* h, const double* w, bool convey,
                             std::vector<double>& u, std::size_t stride, std::size_t offset) {
  long double N = 0, T = 0;
  for (Eigen::Index i : rows) {
    const double wi = w ? w[i] : 1.0;
    N += wi;
    T += static_cast<long double>(wi) * h[i];
  }
  if (!(N > 0) || T == 0) return std::numeric_limits<double>::quiet_NaN();
  // In deviations e = h − μ (μ = T/N), since Σ w (R − ½) = 0 with mid-point ranks:
  //   C = 2 Σ w e (R − ½) / T,  R − ½ = (2 C_before + W_run − N) / (2N) per tie run,
  // and N T u = 2 N_k e − 2 E_k − N e − C (2 N μ + N e), E_k = Σ_{lower} w e + E_run/2 — no cancellation of
  // terms of the size of h when h is far from 0 (welfare 1e9 + N(0, 1) keeps full accuracy).
  const long double mu = T / N;
  struct run_sums {
    double c_before, e_before, w_run, e_run;
  };
  std::vector<run_sums> run_of(rows.size());
  long double C = 0, E = 0, num = 0, sum_w_w1_h = 0;
  for (std::size_t a = 0; a < rows.size();) {
    const double k = key[rows[a]];
    std::size_t b = a;
    long double W = 0, Er = 0;
    for (; b < rows.size() && key[rows[b]] == k; ++b) {
      const double wi = w ? w[rows[b]] : 1.0;
      W += wi;
      Er += static_cast<long double>(wi) * (h[rows[b]] - mu);
      sum_w_w1_h += static_cast<long double>(wi) * (wi - 1) * h[rows[b]];
    }
    num += Er * (2 * C + W - N);
    for (std::size_t j = a; j < b; ++j)
      run_of[j] = {static_cast<double>(C), static_cast<double>(E), static_cast<double>(W), static_cast<double>(Er)};
    C += W;
    E += Er;
    a = b;
  }
  const double n_ = static_cast<double>(N), t_ = static_cast<double>(T), mu_ = static_cast<double>(mu);
  // Eurostat: C = num / (N T); convey's Gini adds (Σ w² y − T)/(N T) = Σ w (w − 1) y / (N T) (h = key, inequality.hpp)
  const double index = static_cast<double>((convey ? num + sum_w_w1_h : num) / (N * T));
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const Eigen::Index i = rows[j];
    const run_sums& s = run_of[j];
    const double e = h[i] - mu_;
    double v;
    if (convey) {  // 2 (C_before h − H_before) + T − N h − G (T + N h) + h (2w − 1), in deviations
      const double wi = w ? w[i] : 1.0;
      v = 2 * (s.c_before * e - s.e_before) - n_ * e - index * (2 * n_ * mu_ + n_ * e) + h[i] * (2 * wi - 1);
    } else {
      v = 2 * (s.c_before + s.w_run / 2) * e - 2 * (s.e_before + s.e_run / 2) - n_ * e - index * (2 * n_ * mu_ + n_ * e);
    }
    u[static_cast<std::size_t>(i) * stride + offset] = v / (n_ * t_);
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

Eigen::MatrixXd influence_variance(const welfare_rows& r, Eigen::Index K, const std::vector<double>& u, const survey_design& design,
                                   const char* fn) {
  return design.variance_of_unit_totals(influence_totals(r, K, u, design, fn));
}

Eigen::MatrixXd influence_totals(const welfare_rows& r, Eigen::Index K, const std::vector<double>& u, const survey_design& design,
                                 const char* fn) {
  const unit_totals_table table = accumulate_unit_totals(
      design.units(), r.n, r.n_domains, K,
      [&](Eigen::Index i, double* x) {
        const int d = r.domain ? r.domain[i] : 0;
        if (d < 0) return -1;
        const double w = r.weights ? r.weights[i] : 1.0;
        for (Eigen::Index k = 0; k < K; ++k) x[k] = w * u[static_cast<std::size_t>(i * K + k)];
        return d;
      },
      [fn](Eigen::Index i) { throw_invalid(fn, "invalid row " + std::to_string(i)); });
  return table.totals;
}

}  // namespace impactkit::detail::ranks
