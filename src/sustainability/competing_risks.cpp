// Out-of-line definitions for impactkit/sustainability/competing_risks.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/sustainability/competing_risks.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include <impactkit/core/distributions.hpp>
#include <impactkit/core/errors.hpp>
#include <impactkit/sustainability/cox.hpp>

#include "exit_table.hpp"

namespace impactkit {
namespace {

void check_rows(const competing_risks_rows& r, const char* fn) {
  detail::require(r.n >= 1 && r.time && r.status, fn, "needs time and status columns with at least one row");
  detail::require(r.n_causes >= 1 && r.n_groups >= 1 && r.n_strata >= 1, fn, "needs at least one cause, group and stratum");
  for (Eigen::Index i = 0; i < r.n; ++i) {
    auto at = [i] { return " at row " + std::to_string(i); };  // built only on failure
    if (!std::isfinite(r.time[i])) detail::throw_invalid(fn, "time is missing or infinite" + at());
    if (r.status[i] < 0 || r.status[i] > r.n_causes)
      detail::throw_invalid(fn, "status must be 0 (censored) or a cause code 1.." + std::to_string(r.n_causes) + at());
    if (r.group && (r.group[i] < 0 || r.group[i] >= r.n_groups)) detail::throw_invalid(fn, "group code out of range" + at());
    if (r.strata && (r.strata[i] < 0 || r.strata[i] >= r.n_strata)) detail::throw_invalid(fn, "stratum code out of range" + at());
  }
}

/// Row indices of each code (0..n_codes−1; null codes: all rows in 0), each list sorted by time (ties keep
/// row order): a counting sort on the ranks of the distinct times (detail::rank_times), not a comparison sort.
std::vector<std::vector<std::int64_t>> rows_by_time(const competing_risks_rows& r, const int* codes, int n_codes) {
  const detail::time_ranks rank = detail::rank_times(r.time, r.n);
  const std::size_t m = rank.values.size();
  std::vector<std::size_t> start(m + 1, 0);
  for (Eigen::Index i = 0; i < r.n; ++i) ++start[rank(r.time[i], i) + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<std::int64_t> order(static_cast<std::size_t>(r.n));
  for (Eigen::Index i = 0; i < r.n; ++i) order[start[rank(r.time[i], i)]++] = i;
  std::vector<std::vector<std::int64_t>> out(static_cast<std::size_t>(n_codes));
  if (!codes) {
    out[0] = std::move(order);
    return out;
  }
  for (std::int64_t i : order) out[static_cast<std::size_t>(codes[i])].push_back(i);
  return out;
}

/// cmprsk's tie correction for d tied events among n at risk.
double tie_factor(double d, double n) { return d > 1 ? 1 - (d - 1) / (n - 1) : 1.0; }

cif_table incidence_of_group(const competing_risks_rows& r, const std::vector<std::int64_t>& rows) {
  const int C = r.n_causes;
  cif_table out;
  std::vector<double> inc, var, ev;  // row-major times × causes, moved into the matrices at the end
  std::vector<double> F(static_cast<std::size_t>(C), 0.0), V(F), v1(F), v2(F), v3(F);
  std::vector<double> d(static_cast<std::size_t>(C));
  double S = 1;  // all-cause Kaplan–Meier just before the current time
  const std::size_t n = rows.size();
  for (std::size_t a = 0; a < n;) {
    const double t = r.time[rows[a]];
    std::fill(d.begin(), d.end(), 0.0);
    double censored = 0, dall = 0;
    std::size_t b = a;
    for (; b < n && r.time[rows[b]] == t; ++b) {
      const int s = r.status[rows[b]];
      if (s == 0) censored += 1;
      else d[static_cast<std::size_t>(s - 1)] += 1, dall += 1;
    }
    const double at_risk = static_cast<double>(n - a);
    const double S_next = S * (at_risk - dall) / at_risk;
    for (std::size_t c = 0; c < static_cast<std::size_t>(C); ++c) {
      if (dall == 0) break;
      const double dc = d[c], other = dall - dc;
      F[c] += S * dc / at_risk;
      if (other > 0 && S_next > 0) {
        const double u = S * S * tie_factor(other, at_risk) * other / (at_risk * at_risk);
        const double bb = 1 / S_next, aa = F[c] / S_next;
        v1[c] += aa * aa * u, v2[c] += bb * aa * u, v3[c] += bb * bb * u;
      }
      if (dc > 0) {
        const double u = S * S * tie_factor(dc, at_risk) * dc / (at_risk * at_risk);
        const double bb = S_next > 0 ? 1 / S_next : 0.0, aa = 1 + bb * F[c];
        v1[c] += aa * aa * u, v2[c] += bb * aa * u, v3[c] += bb * bb * u;
        V[c] = v1[c] + F[c] * F[c] * v3[c] - 2 * F[c] * v2[c];
      }
    }
    S = S_next;
    out.time.push_back(t);
    out.at_risk.push_back(at_risk);
    out.censored.push_back(censored);
    ev.insert(ev.end(), d.begin(), d.end());
    inc.insert(inc.end(), F.begin(), F.end());
    var.insert(var.end(), V.begin(), V.end());
    a = b;
  }
  const Eigen::Index T = static_cast<Eigen::Index>(out.time.size());
  using rowmajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  out.events = Eigen::Map<const rowmajor>(ev.data(), T, C);
  out.incidence = Eigen::Map<const rowmajor>(inc.data(), T, C);
  out.variance = Eigen::Map<const rowmajor>(var.data(), T, C);
  return out;
}

/// One stratum's contribution to Gray's score and variance (status m: 0 censored, 1 the cause, 2 another).
struct gray_stratum {
  int K;
  Eigen::VectorXd score;    // K − 1
  Eigen::MatrixXd V;        // (K − 1) × (K − 1), lower triangle filled
  Eigen::MatrixXd c, v2;    // K × K, (K − 1) × K
  Eigen::VectorXd v3;       // K

  explicit gray_stratum(int groups)
      : K(groups), score(Eigen::VectorXd::Zero(groups - 1)), V(Eigen::MatrixXd::Zero(groups - 1, groups - 1)),
        c(Eigen::MatrixXd::Zero(groups, groups)), v2(Eigen::MatrixXd::Zero(groups - 1, groups)), v3(Eigen::VectorXd::Zero(groups)) {}

  void run(const competing_risks_rows& r, const std::vector<std::int64_t>& rows, int cause, double rho) {
    const auto Ks = static_cast<std::size_t>(K);
    std::vector<double> n_at(Ks, 0.0), S_left(Ks, 1.0), S(Ks, 1.0), F_left(Ks, 0.0), F(Ks, 0.0);
    std::vector<double> d1(Ks), d2(Ks), leaving(Ks);
    for (std::int64_t i : rows) n_at[static_cast<std::size_t>(group(r, i))] += 1;
    double F_pool_left = 0, F_pool = 0;
    Eigen::MatrixXd A(K, K);
    const std::size_t n = rows.size();
    for (std::size_t a = 0; a < n;) {
      const double t = r.time[rows[a]];
      std::fill(d1.begin(), d1.end(), 0.0), std::fill(d2.begin(), d2.end(), 0.0), std::fill(leaving.begin(), leaving.end(), 0.0);
      double nd1 = 0, nd2 = 0;
      std::size_t b = a;
      for (; b < n && r.time[rows[b]] == t; ++b) {
        const auto k = static_cast<std::size_t>(group(r, rows[b]));
        const int s = r.status[rows[b]];
        leaving[k] += 1;
        if (s == cause) d1[k] += 1, nd1 += 1;
        else if (s != 0) d2[k] += 1, nd2 += 1;
      }
      if (nd1 + nd2 > 0) {
        // step 1: group curves after t, Σ h_r and Σ R_r
        double tr = 0, tq = 0;
        for (std::size_t k = 0; k < Ks; ++k) {
          if (n_at[k] <= 0) continue;
          S[k] = S_left[k] * (n_at[k] - d1[k] - d2[k]) / n_at[k];
          F[k] = F_left[k] + S_left[k] * d1[k] / n_at[k];
          tr += n_at[k] / S_left[k];
          tq += n_at[k] * (1 - F_left[k]) / S_left[k];
        }
        F_pool = F_pool_left + nd1 / tr;
        const double weight = std::pow(1 - F_pool_left, rho);
        // step 2: A (the score's weights) and its cumulated part c
        A.setZero();
        for (std::size_t i = 0; i < Ks; ++i) {
          if (n_at[i] <= 0) continue;
          const double hi = n_at[i] / S_left[i];
          A(idx(i), idx(i)) = weight * hi * (1 - hi / tr);
          for (std::size_t j = i + 1; j < Ks; ++j)
            if (n_at[j] > 0) A(idx(i), idx(j)) = A(idx(j), idx(i)) = -weight * hi * n_at[j] / (S_left[j] * tr);
        }
        if (nd1 > 0) c += A * (nd1 / (tr * (1 - F_pool_left)));
        // step 3: the score
        for (std::size_t i = 0; i + 1 < Ks; ++i)
          if (n_at[i] > 0) score(idx(i)) += weight * (d1[i] - nd1 * n_at[i] * (1 - F_left[i]) / (S_left[i] * tq));
        // step 4: variance terms of the cause's events and of the other causes' events
        if (nd1 > 0)
          for (std::size_t k = 0; k < Ks; ++k) {
            if (n_at[k] <= 0) continue;
            const double t4 = S[k] > 0 ? 1 - (1 - F_pool) / S[k] : 1.0;
            const double t5 = nd1 > 1 ? 1 - (nd1 - 1) / (tr * S_left[k] - 1) : 1.0;
            add_variance(k, t4, t5 * S_left[k] * nd1 / (tr * n_at[k]), [&](Eigen::Index i) { return A(i, idx(k)) - t4 * c(i, idx(k)); }, 1.0);
          }
        if (nd2 > 0)
          for (std::size_t k = 0; k < Ks; ++k) {
            if (S[k] <= 0 || d2[k] <= 0) continue;
            const double t4 = (1 - F_pool) / S[k];
            const double t3 = tie_factor(d2[k], n_at[k]) * S_left[k] * S_left[k] * d2[k] / (n_at[k] * n_at[k]);
            add_variance(k, t4, t3, [&](Eigen::Index i) { return t4 * c(i, idx(k)); }, -1.0);
          }
      }
      for (std::size_t k = 0; k < Ks; ++k) n_at[k] -= leaving[k];
      F_pool_left = F_pool;
      F_left = F;
      S_left = S;
      a = b;
    }
    // closing terms: V_ij += Σ_k c_ik c_jk v3_k + c_ik v2_jk + c_jk v2_ik
    for (Eigen::Index i = 0; i < K - 1; ++i)
      for (Eigen::Index j = 0; j <= i; ++j)
        for (Eigen::Index k = 0; k < K; ++k) V(i, j) += c(i, k) * c(j, k) * v3(k) + c(i, k) * v2(j, k) + c(j, k) * v2(i, k);
  }

 private:
  static int group(const competing_risks_rows& r, std::int64_t i) { return r.group ? r.group[i] : 0; }
  static Eigen::Index idx(std::size_t k) { return static_cast<Eigen::Index>(k); }

  /// v3_k += t4² t3; v2_ik += sign·e_i t4 t3; V_ij += e_i e_j t3 for i, j < K − 1 (e_i = term(i)).
  template <class Term>
  void add_variance(std::size_t k, double t4, double t3, Term term, double sign) {
    const Eigen::Index kk = idx(k);
    v3(kk) += t4 * t4 * t3;
    for (Eigen::Index i = 0; i < K - 1; ++i) {
      const double ti = term(i);
      v2(i, kk) += sign * ti * t4 * t3;
      for (Eigen::Index j = 0; j <= i; ++j) V(i, j) += ti * term(j) * t3;
    }
  }
};

}  // namespace

std::vector<cif_table> cumulative_incidence(const competing_risks_rows& r) {
  check_rows(r, "cumulative_incidence");
  std::vector<cif_table> out;
  for (const auto& rows : rows_by_time(r, r.group, r.n_groups)) out.push_back(incidence_of_group(r, rows));
  return out;
}

void cif_confidence(const cif_table& t, double level, km_conf_type type, Eigen::MatrixXd& lower, Eigen::MatrixXd& upper) {
  detail::require(level > 0 && level < 1, "cumulative_incidence", "level must be in (0, 1)");
  const double z = t_quantile(0.5 + level / 2, std::numeric_limits<double>::infinity());
  const Eigen::MatrixXd& F = t.incidence;
  lower.resize(F.rows(), F.cols());
  upper.resize(F.rows(), F.cols());
  for (Eigen::Index j = 0; j < F.cols(); ++j)
    for (Eigen::Index i = 0; i < F.rows(); ++i) {
      const double f = F(i, j), se = std::sqrt(std::max(t.variance(i, j), 0.0));
      double lo, hi;
      if (f <= 0) {
        lo = hi = 0;
      } else if (type == km_conf_type::plain) {
        lo = f - z * se, hi = f + z * se;
      } else if (type == km_conf_type::log) {
        lo = f * std::exp(-z * se / f), hi = f * std::exp(z * se / f);
      } else if (f >= 1) {
        lo = hi = std::numeric_limits<double>::quiet_NaN();
      } else {
        const double s = z * se / (f * std::log(f));  // negative
        lo = std::pow(f, std::exp(-s)), hi = std::pow(f, std::exp(s));
      }
      lower(i, j) = std::isnan(lo) ? lo : std::clamp(lo, 0.0, 1.0);
      upper(i, j) = std::isnan(hi) ? hi : std::clamp(hi, 0.0, 1.0);
    }
}

gray_test_result gray_test(const competing_risks_rows& r, int cause, double rho) {
  const char* fn = "gray_test";
  check_rows(r, fn);
  detail::require(r.n_groups >= 2, fn, "needs at least two groups");
  detail::require(cause >= 1 && cause <= r.n_causes, fn, "cause must be a cause code 1.." + std::to_string(r.n_causes));
  detail::require(std::isfinite(rho) && rho >= 0, fn, "rho must be finite and non-negative");
  gray_test_result out;
  const int K = r.n_groups;
  out.df = K - 1;
  out.score = Eigen::VectorXd::Zero(K - 1);
  out.variance = Eigen::MatrixXd::Zero(K - 1, K - 1);
  for (const auto& rows : rows_by_time(r, r.strata, r.n_strata)) {
    if (rows.empty()) continue;
    gray_stratum s(K);
    s.run(r, rows, cause, rho);
    out.score += s.score;
    out.variance += s.V;
  }
  const Eigen::MatrixXd full = out.variance.selfadjointView<Eigen::Lower>();
  out.variance = full;
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(out.variance);
  if (out.variance.allFinite() && qr.rank() == K - 1) out.statistic = out.score.dot(qr.solve(out.score));
  return out;
}

finegray_fit finegray(const competing_risks_rows& r, int cause, const Eigen::Ref<const Eigen::MatrixXd>& X, int max_iter) {
  const char* fn = "finegray";
  check_rows(r, fn);
  detail::require(cause >= 1 && cause <= r.n_causes, fn, "cause must be a cause code 1.." + std::to_string(r.n_causes));
  detail::require(X.rows() == r.n, fn, "the design has " + std::to_string(X.rows()) + " rows but the data have " + std::to_string(r.n));
  detail::require(X.cols() >= 1 && X.allFinite(), fn, "needs at least one covariate, all finite");
  const Eigen::Index n = r.n, p = X.cols();
  const std::vector<std::int64_t> order = rows_by_time(r, nullptr, 1)[0];
  // censoring groups (cmprsk's cengroup): r.group, each with its own censoring Kaplan–Meier G_g
  const std::size_t NG = static_cast<std::size_t>(r.group ? r.n_groups : 1);
  const auto cg = [&](std::int64_t i) { return r.group ? static_cast<std::size_t>(r.group[i]) : std::size_t(0); };
  std::vector<double> group_rows(NG, 0.0);  // π_g at the current time: rows of group g with time ≥ t
  for (Eigen::Index i = 0; i < n; ++i) group_rows[cg(i)] += 1;
  // 1. G_g(t−) per row (its group's censoring Kaplan–Meier, left limit) and the distinct cause-k times with
  //    G_g(τ−) (G_tau[l·NG + g]; 0 once group g has no row left at τ, as crr) and the group's cause-k events
  //    d_g(τ) (d_tau[l·NG + g])
  std::vector<double> G_left(static_cast<std::size_t>(n)), tau, G_tau, d_tau;
  {
    std::vector<double> G(NG, 1.0), at_risk = group_rows, cens(NG), leaving(NG), dg(NG);
    for (std::size_t a = 0; a < order.size();) {
      const double t = r.time[order[a]];
      std::size_t b = a;
      double dk = 0;
      std::fill(cens.begin(), cens.end(), 0.0);
      std::fill(leaving.begin(), leaving.end(), 0.0);
      std::fill(dg.begin(), dg.end(), 0.0);
      for (; b < order.size() && r.time[order[b]] == t; ++b) {
        const std::size_t g = cg(order[b]);
        G_left[static_cast<std::size_t>(order[b])] = G[g];
        cens[g] += r.status[order[b]] == 0;
        leaving[g] += 1;
        dg[g] += r.status[order[b]] == cause;
        dk += r.status[order[b]] == cause;
      }
      if (dk > 0) {
        // after a group's last exit time its G is 0 (crr: approx(..., c(1, surv, 0), rule = 2))
        tau.push_back(t);
        d_tau.insert(d_tau.end(), dg.begin(), dg.end());
        for (std::size_t g = 0; g < NG; ++g) G_tau.push_back(at_risk[g] > 0 ? G[g] : 0.0);
      }
      for (std::size_t g = 0; g < NG; ++g) {
        if (cens[g] > 0) G[g] *= 1 - cens[g] / at_risk[g];
        at_risk[g] -= leaving[g];
      }
      a = b;
    }
  }
  detail::require(!tau.empty(), fn, "there are no events of the cause of interest");
  const auto Gt = [&](std::size_t l, std::size_t g) { return G_tau[l * NG + g]; };
  // 2. counting-process rows: every row as observed; a competing-event row also at risk after T_j with weight
  //    G_g(τ−)/G_g(T_j−) (g its censoring group), one extra row per stretch of event times with the same G_g(τ−)
  const double t_min = r.time[order.front()];
  const double start = t_min - (1 + std::fabs(t_min));
  std::vector<double> time2, event2, entry2, w2;
  std::vector<Eigen::Index> subject;
  auto push = [&](Eigen::Index i, double entry, double exit, double event, double w) {
    entry2.push_back(entry), time2.push_back(exit), event2.push_back(event), w2.push_back(w), subject.push_back(i);
  };
  for (Eigen::Index i = 0; i < n; ++i) {
    push(i, start, r.time[i], r.status[i] == cause ? 1.0 : 0.0, 1.0);
    if (r.status[i] == 0 || r.status[i] == cause) continue;
    const std::size_t g = cg(i);
    std::size_t l = static_cast<std::size_t>(std::upper_bound(tau.begin(), tau.end(), r.time[i]) - tau.begin());
    double entry = r.time[i];
    // once G_g reaches 0 (the group's last rows censored) the weights stay 0: such rows add nothing
    while (l < tau.size() && Gt(l, g) > 0) {
      std::size_t e = l;
      while (e + 1 < tau.size() && Gt(e + 1, g) == Gt(l, g)) ++e;
      push(i, entry, tau[e], 0.0, Gt(l, g) / G_left[static_cast<std::size_t>(i)]);
      entry = tau[e];
      l = e + 1;
    }
  }
  const auto m = static_cast<Eigen::Index>(time2.size());
  Eigen::MatrixXd X2(m, p);
  for (Eigen::Index k = 0; k < m; ++k) X2.row(k) = X.row(subject[static_cast<std::size_t>(k)]);
  cox_rows cr;
  cr.n = m;
  cr.time = time2.data();
  cr.event = event2.data();
  cr.entry = entry2.data();
  cr.weights = w2.data();
  cox_fit fit;
  try {
    fit = cox_regression(cr, X2, cox_ties::breslow, max_iter);
  } catch (const invalid_input& e) {
    detail::throw_invalid(fn, std::string("the weighted Cox fit failed: ") + e.what());
  }
  finegray_fit out;
  out.coef = fit.coef;
  out.information = fit.information;
  out.loglik = fit.loglik;
  out.loglik_null = fit.loglik_null;
  out.score_test = fit.score_test;
  out.iterations = fit.iterations;
  out.n_events = fit.n_events;
  out.weighted_rows = m;
  // 3. η_i: weighted score residuals summed over the subject's rows
  out.scores = Eigen::MatrixXd::Zero(n, p);
  for (Eigen::Index k = 0; k < m; ++k) out.scores.row(subject[static_cast<std::size_t>(k)]) += w2[static_cast<std::size_t>(k)] * fit.score_residuals.row(k);
  // 4. ψ_i. Centred covariates (differences and ratios below are invariant) and risk scores e^{η}
  const Eigen::RowVectorXd mean = X.colwise().mean();
  const Eigen::MatrixXd Xc = X.rowwise() - mean;
  Eigen::VectorXd eta = Xc * out.coef;
  const double shift = eta.maxCoeff();
  const Eigen::VectorXd risk = (eta.array() - shift).exp();
  const std::size_t L = tau.size();
  // S0(τ), S1(τ): rows with time ≥ τ (suffix) + Σ_g G_g(τ−)·(group-g competing rows with time < τ, by
  // e^η/G_g(T−)) (prefix sums B_g, A_g)
  std::vector<double> S0(L);
  std::vector<Eigen::VectorXd> xbar(L);
  {
    std::vector<double> B(L * NG);
    Eigen::MatrixXd A(p, static_cast<Eigen::Index>(L * NG));
    std::vector<double> b(NG, 0.0);
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(p, static_cast<Eigen::Index>(NG));
    std::size_t k = 0;
    for (std::size_t l = 0; l < L; ++l) {
      for (; k < order.size() && r.time[order[k]] < tau[l]; ++k) {
        const auto i = order[k];
        if (r.status[i] == 0 || r.status[i] == cause) continue;
        const double c = risk(i) / G_left[static_cast<std::size_t>(i)];
        b[cg(i)] += c, a.col(static_cast<Eigen::Index>(cg(i))) += c * Xc.row(i).transpose();
      }
      for (std::size_t g = 0; g < NG; ++g) B[l * NG + g] = b[g], A.col(static_cast<Eigen::Index>(l * NG + g)) = a.col(static_cast<Eigen::Index>(g));
    }
    double r0 = 0;
    Eigen::VectorXd r1 = Eigen::VectorXd::Zero(p);
    std::size_t j = order.size();
    for (std::size_t l = L; l-- > 0;) {
      for (; j > 0 && r.time[order[j - 1]] >= tau[l]; --j) r0 += risk(order[j - 1]), r1 += risk(order[j - 1]) * Xc.row(order[j - 1]).transpose();
      S0[l] = r0;
      Eigen::VectorXd s1 = r1;
      for (std::size_t g = 0; g < NG; ++g) S0[l] += Gt(l, g) * B[l * NG + g], s1 += Gt(l, g) * A.col(static_cast<Eigen::Index>(l * NG + g));
      xbar[l] = s1 / S0[l];
    }
  }
  // per censoring group, suffix sums over event times of c_g(τ) = d_g(τ) G_g(τ−)/S0 and c_g(τ) x̄(τ): crr's
  // q_g(u) integrates over the cause-k events of group g only (crrvv, loop 41)
  std::vector<double> C0((L + 1) * NG, 0.0);
  Eigen::MatrixXd C1 = Eigen::MatrixXd::Zero(p, static_cast<Eigen::Index>((L + 1) * NG));
  for (std::size_t l = L; l-- > 0;)
    for (std::size_t g = 0; g < NG; ++g) {
      const double c = d_tau[l * NG + g] * Gt(l, g) / S0[l];
      C0[l * NG + g] = C0[(l + 1) * NG + g] + c;
      C1.col(static_cast<Eigen::Index>(l * NG + g)) = C1.col(static_cast<Eigen::Index>((l + 1) * NG + g)) + c * xbar[l];
    }
  // walk the distinct times u: q_g(u) = A_g(u) C0_g(u) − B_g(u) C1_g(u), with A_g, B_g over group-g competing
  // rows with time < u; each group's censoring martingale term uses its own q_g and π_g(u) (crr's crrvv)
  std::vector<double> Bu(NG, 0.0), cens(NG), leaving(NG);
  Eigen::MatrixXd Au = Eigen::MatrixXd::Zero(p, static_cast<Eigen::Index>(NG)), running = Au, q = Au;
  for (std::size_t a = 0; a < order.size();) {
    const double t = r.time[order[a]];
    std::size_t b = a;
    double all_cens = 0;
    std::fill(cens.begin(), cens.end(), 0.0);
    std::fill(leaving.begin(), leaving.end(), 0.0);
    for (; b < order.size() && r.time[order[b]] == t; ++b) {
      cens[cg(order[b])] += r.status[order[b]] == 0;
      leaving[cg(order[b])] += 1;
      all_cens += r.status[order[b]] == 0;
    }
    if (all_cens > 0) {
      const std::size_t l = static_cast<std::size_t>(std::lower_bound(tau.begin(), tau.end(), t) - tau.begin());
      for (std::size_t g = 0; g < NG; ++g) {
        const auto gi = static_cast<Eigen::Index>(g);
        q.col(gi) = Au.col(gi) * C0[l * NG + g] - Bu[g] * C1.col(static_cast<Eigen::Index>(l * NG + g));
        if (cens[g] > 0) running.col(gi) -= cens[g] * q.col(gi) / (group_rows[g] * group_rows[g]);
      }
      for (std::size_t k = a; k < b; ++k) {
        const auto i = order[k];
        const auto g = static_cast<Eigen::Index>(cg(i));
        out.scores.row(i) += running.col(g).transpose();
        if (r.status[i] == 0) out.scores.row(i) += (q.col(g) / group_rows[cg(i)]).transpose();
      }
    } else {
      for (std::size_t k = a; k < b; ++k) out.scores.row(order[k]) += running.col(static_cast<Eigen::Index>(cg(order[k]))).transpose();
    }
    for (std::size_t k = a; k < b; ++k) {
      const auto i = order[k];
      if (r.status[i] == 0 || r.status[i] == cause) continue;
      const double c = risk(i) / G_left[static_cast<std::size_t>(i)];
      Bu[cg(i)] += c, Au.col(static_cast<Eigen::Index>(cg(i))) += c * Xc.row(i).transpose();
    }
    for (std::size_t g = 0; g < NG; ++g) group_rows[g] -= leaving[g];
    a = b;
  }
  return out;
}

}  // namespace impactkit
