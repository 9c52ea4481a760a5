// Out-of-line definitions for impactkit/sustainability/cox.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/sustainability/cox.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <impactkit/core/errors.hpp>

#include "exit_table.hpp"

namespace impactkit {
namespace {

struct evaluation {
  double loglik = 0;
  Eigen::VectorXd score;
  Eigen::MatrixXd information;
};

/// What the Grambsch–Therneau test collects at β̂ (see cox_ph_test in cox.hpp).
struct zph_sums {
  const double* g = nullptr;  // g(t) per row
  Eigen::VectorXd u;          // Σ_t g(t) Σ_D w (x − ā_k)
  Eigen::MatrixXd I12, I22;   // Σ_t g m Σ_k V_k, Σ_t g² m Σ_k V_k
  std::vector<Eigen::Index> event_rows;
  std::vector<Eigen::VectorXd> residuals;  // x_i − ā at the row's event time
};

/// The rows put once in sweep order — by stratum, then by exit time descending (ties in row order) — with
/// their centred covariates, times, events and weights copied contiguously in that order, so that every
/// pass of the Newton iterations reads memory sequentially. The order comes from the ranks of the
/// distinct exit times (detail::rank_times) by two stable counting passes, not by a comparison sort.
class cox_problem {
 public:
  cox_problem(const cox_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& X, cox_ties ties) : r_(r), ties_(ties), p_(X.cols()) {
    const Eigen::Index n = r.n;
    const std::size_t S = static_cast<std::size_t>(r.n_strata);
    // sweep order: counting sort by descending rank of the exit time, then (stably) by stratum
    const detail::time_ranks rank = detail::rank_times(r.time, n);
    const std::size_t m = rank.values.size();
    std::vector<Eigen::Index> by_time(static_cast<std::size_t>(n));
    {
      std::vector<std::size_t> start(m + 1, 0);
      for (Eigen::Index i = 0; i < n; ++i) ++start[m - rank(r.time[i], i)];  // bucket m − 1 − rank, shifted by one
      std::partial_sum(start.begin(), start.end(), start.begin());
      for (Eigen::Index i = 0; i < n; ++i) by_time[start[m - 1 - rank(r.time[i], i)]++] = i;
    }
    order_.resize(static_cast<std::size_t>(n));
    stratum_start_.assign(S + 1, 0);
    for (Eigen::Index i = 0; i < n; ++i) ++stratum_start_[static_cast<std::size_t>(stratum(i)) + 1];
    std::partial_sum(stratum_start_.begin(), stratum_start_.end(), stratum_start_.begin());
    {
      std::vector<std::size_t> next(stratum_start_.begin(), stratum_start_.end() - 1);
      for (Eigen::Index i : by_time) order_[next[static_cast<std::size_t>(stratum(i))]++] = i;
    }
    // centred columns (weighted means; the partial likelihood is invariant, the sums better conditioned),
    // one column per row in sweep order
    time_.resize(static_cast<std::size_t>(n));
    event_.resize(static_cast<std::size_t>(n));
    w_.resize(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const Eigen::Index i = order_[static_cast<std::size_t>(j)];
      time_[static_cast<std::size_t>(j)] = r.time[i];
      event_[static_cast<std::size_t>(j)] = r.event[i] == 1;
      w_(j) = r.weights ? r.weights[i] : 1.0;
    }
    Xs_.resize(p_, n);
    for (Eigen::Index c = 0; c < p_; ++c) {
      const double* col = X.col(c).data();
      for (Eigen::Index j = 0; j < n; ++j) Xs_(c, j) = col[order_[static_cast<std::size_t>(j)]];
    }
    const Eigen::VectorXd mean = (Xs_ * w_) / w_.sum();
    Xs_.colwise() -= mean;
    if (r.entry) {
      // per stratum, positions in sweep order by descending entry time (ties by position)
      entry_.resize(static_cast<std::size_t>(n));
      by_entry_.resize(static_cast<std::size_t>(n));
      for (Eigen::Index j = 0; j < n; ++j) entry_[static_cast<std::size_t>(j)] = r.entry[order_[static_cast<std::size_t>(j)]];
      std::iota(by_entry_.begin(), by_entry_.end(), Eigen::Index(0));
      for (std::size_t s = 0; s < S; ++s)
        std::sort(by_entry_.begin() + static_cast<std::ptrdiff_t>(stratum_start_[s]), by_entry_.begin() + static_cast<std::ptrdiff_t>(stratum_start_[s + 1]),
                  [&](Eigen::Index a, Eigen::Index b) { return entry_[static_cast<std::size_t>(a)] > entry_[static_cast<std::size_t>(b)] || (entry_[static_cast<std::size_t>(a)] == entry_[static_cast<std::size_t>(b)] && a < b); });
    }
  }

  /// ℓ, U, I at β, and (when `residuals`) the score residuals (n × p, rows in the data's order).
  evaluation evaluate(const Eigen::VectorXd& beta, Eigen::MatrixXd* residuals, zph_sums* zph = nullptr) const {
    const Eigen::Index n = r_.n, p = p_;
    const Eigen::VectorXd eta = Xs_.transpose() * beta;
    const double shift = eta.size() ? eta.maxCoeff() : 0.0;  // e^(η − shift): the sums' common factor cancels
    const Eigen::VectorXd risk = (eta.array() - shift).exp();
    evaluation ev;
    ev.score = Eigen::VectorXd::Zero(p);
    ev.information = Eigen::MatrixXd::Zero(p, p);
    Eigen::MatrixXd L;  // residuals in sweep order, one column per row
    if (residuals) L.setZero(p, n);
    Eigen::VectorXd S1(p), S1D(p), At(p), abar(p), FA(p);
    Eigen::MatrixXd S2(p, p), S2D(p, p), Vt(p, p);
    // per event time, for the residuals: H = Σ_k h_k and A = Σ_k h_k a_k (columns), in sweep order
    std::vector<double> ev_time, H;
    std::vector<double> A;
    for (std::size_t s = 0; s + 1 < stratum_start_.size(); ++s) {
      const std::size_t first = stratum_start_[s], last = stratum_start_[s + 1];
      double S0 = 0;
      S1.setZero();
      S2.setZero();
      ev_time.clear();
      H.clear();
      A.clear();
      std::size_t out = first;
      for (std::size_t a = first; a < last;) {
        const double t = time_[a];
        std::size_t b = a;
        for (; b < last && time_[b] == t; ++b) {}
        // rows exiting at t join the risk set (the tied events through their own sums S_D, added after);
        // rows with entry ≥ t leave it
        double d = 0, WD = 0, S0D = 0;
        S1D.setZero();
        S2D.setZero();
        for (std::size_t j = a; j < b; ++j) {
          const Eigen::Index jj = static_cast<Eigen::Index>(j);
          if (!event_[j]) {
            add_to(j, w_(jj) * risk(jj), S0, S1, S2);
            continue;
          }
          d += 1;
          WD += w_(jj);
          add_to(j, w_(jj) * risk(jj), S0D, S1D, S2D);
          ev.loglik += w_(jj) * eta(jj);
          ev.score.noalias() += w_(jj) * Xs_.col(jj);
        }
        S0 += S0D;
        S1 += S1D;
        S2 += S2D;
        if (r_.entry)
          for (; out < last && entry_[static_cast<std::size_t>(by_entry_[out])] >= t; ++out) {
            const auto j = static_cast<std::size_t>(by_entry_[out]);
            add_to(j, -w_(static_cast<Eigen::Index>(j)) * risk(static_cast<Eigen::Index>(j)), S0, S1, S2);
          }
        if (d > 0) {
          const int K = ties_ == cox_ties::efron ? static_cast<int>(d) : 1;
          const double m = WD / K;
          // With den_k = S0 − f_k S0_D and a_k = (S1 − f_k S1_D)/den_k, every sum over the d tie steps is a
          // combination of S1, S1_D, S2, S2_D with scalar sums over k (O(d) scalars + O(p²) per event time):
          //   Σ a_k = q1 S1 − r1 S1_D,  Σ a_k a_kᵀ = q2 S1S1ᵀ − r2 (S1S1_Dᵀ + S1_DS1ᵀ) + u2 S1_DS1_Dᵀ,
          //   q_j = Σ 1/den^j, r_j = Σ f/den^j, u2 = Σ f²/den². Then h_k = m/den_k,
          //   H = Σ h_k = m q1, A = Σ h_k a_k = m (q2 S1 − r2 S1_D), F = Σ f h_k = m r1,
          //   FA = Σ f h_k a_k = m (r2 S1 − u2 S1_D), V = m (q1 S2 − r1 S2_D) − m Σ a_k a_kᵀ.
          double q1 = 0, q2 = 0, r1 = 0, r2 = 0, u2 = 0, logden = 0;
          for (int k = 0; k < K; ++k) {
            const double f = ties_ == cox_ties::efron ? static_cast<double>(k) / K : 0.0;
            const double den = S0 - f * S0D, inv = 1 / den;
            logden += std::log(den);
            q1 += inv;
            q2 += inv * inv;
            r1 += f * inv;
            r2 += f * inv * inv;
            u2 += f * f * inv * inv;
          }
          ev.loglik -= m * (logden + K * shift);
          abar = (q1 * S1 - r1 * S1D) / K;
          ev.score.noalias() -= (m * K) * abar;
          for (Eigen::Index c = 0; c < p; ++c)
            for (Eigen::Index q = 0; q < p; ++q)
              Vt(q, c) = m * (q1 * S2(std::min(q, c), std::max(q, c)) - r1 * S2D(std::min(q, c), std::max(q, c)) - q2 * S1(q) * S1(c) +
                              r2 * (S1(q) * S1D(c) + S1D(q) * S1(c)) - u2 * S1D(q) * S1D(c));
          const double Ht = m * q1, F = m * r1;
          At = m * (q2 * S1 - r2 * S1D);
          FA = m * (r2 * S1 - u2 * S1D);
          ev.information += Vt;
          if (zph) zph_event_time(*zph, a, b, abar, Vt);
          if (residuals) {
            ev_time.push_back(t);
            H.push_back(Ht);
            A.insert(A.end(), At.data(), At.data() + p);
            // event part, and the Efron reduction c_ik = 1 − k/d of the tied events' own risk terms:
            // Σ_k f_k h_k (x_i − a_k) = F x_i − FA
            for (std::size_t j = a; j < b; ++j) {
              if (!event_[j]) continue;
              const Eigen::Index jj = static_cast<Eigen::Index>(j);
              for (Eigen::Index c = 0; c < p; ++c) L(c, jj) += Xs_(c, jj) - abar(c) + risk(jj) * (F * Xs_(c, jj) - FA(c));
            }
          }
        }
        a = b;
      }
      if (residuals && !ev_time.empty()) at_risk_residuals(first, last, ev_time, H, A, risk, L);
    }
    if (residuals) {
      residuals->resize(n, p);
      for (Eigen::Index j = 0; j < n; ++j) residuals->row(order_[static_cast<std::size_t>(j)]) = L.col(j).transpose();
    }
    return ev;
  }

 private:
  int stratum(Eigen::Index i) const { return r_.strata ? r_.strata[i] : 0; }

  /// At-risk part of the residuals of one stratum's rows: −e^η_i Σ_{t ∈ (entry_i, exit_i]} (H(t) x_i − A(t)),
  /// by cumulative sums over its event times (ev_time descending, as met by the sweep).
  void at_risk_residuals(std::size_t first, std::size_t last, const std::vector<double>& ev_time, const std::vector<double>& H,
                         const std::vector<double>& A, const Eigen::VectorXd& risk, Eigen::MatrixXd& L) const {
    const Eigen::Index p = p_;
    const std::size_t T = ev_time.size();
    const std::vector<double> t_asc(ev_time.rbegin(), ev_time.rend());
    std::vector<double> cumH(T + 1, 0.0);
    Eigen::MatrixXd cumA = Eigen::MatrixXd::Zero(p, static_cast<Eigen::Index>(T) + 1);
    for (std::size_t k = 0; k < T; ++k) {
      cumH[k + 1] = cumH[k] + H[T - 1 - k];
      for (Eigen::Index c = 0; c < p; ++c) cumA(c, static_cast<Eigen::Index>(k) + 1) = cumA(c, static_cast<Eigen::Index>(k)) + A[(T - 1 - k) * static_cast<std::size_t>(p) + static_cast<std::size_t>(c)];
    }
    const auto upto = [&](double x) {  // number of event times ≤ x
      return static_cast<std::size_t>(std::upper_bound(t_asc.begin(), t_asc.end(), x) - t_asc.begin());
    };
    std::size_t hi = T;  // exit times descend along the sweep: the count of event times ≤ exit only falls
    for (std::size_t j = first; j < last; ++j) {
      while (hi > 0 && t_asc[hi - 1] > time_[j]) --hi;
      const std::size_t lo = r_.entry ? upto(entry_[j]) : 0;
      if (hi <= lo) continue;
      const Eigen::Index jj = static_cast<Eigen::Index>(j), h1 = static_cast<Eigen::Index>(hi), l1 = static_cast<Eigen::Index>(lo);
      const double h = cumH[hi] - cumH[lo], e = risk(jj);
      for (Eigen::Index c = 0; c < p; ++c) L(c, jj) -= e * (h * Xs_(c, jj) - (cumA(c, h1) - cumA(c, l1)));
    }
  }

  /// The Grambsch–Therneau sums at one event time (sweep positions a..b exit there): g(t) times the score
  /// and information contributions, and the Schoenfeld residuals x_i − ā of its events.
  void zph_event_time(zph_sums& z, std::size_t a, std::size_t b, const Eigen::VectorXd& abar, const Eigen::MatrixXd& Vt) const {
    const double g = z.g[order_[a]];
    for (std::size_t j = a; j < b; ++j) {
      if (!event_[j]) continue;
      const Eigen::Index jj = static_cast<Eigen::Index>(j);
      Eigen::VectorXd res = Xs_.col(jj) - abar;
      z.u += g * w_(jj) * res;
      z.event_rows.push_back(order_[j]);
      z.residuals.push_back(std::move(res));
    }
    z.I12 += g * Vt;
    z.I22 += g * g * Vt;
  }

  /// S0 += c, S1 += c x_j, S2 += c x_j x_jᵀ (the upper triangle only: S2(q, c) for q ≤ c).
  void add_to(std::size_t j, double c, double& S0, Eigen::VectorXd& S1, Eigen::MatrixXd& S2) const {
    // plain loops: no temporaries on this per-row path
    const double* x = Xs_.col(static_cast<Eigen::Index>(j)).data();
    S0 += c;
    for (Eigen::Index a = 0; a < p_; ++a) {
      const double ca = c * x[a];
      S1(a) += ca;
      for (Eigen::Index b = 0; b <= a; ++b) S2(b, a) += ca * x[b];
    }
  }

  const cox_rows& r_;
  cox_ties ties_;
  Eigen::Index p_ = 0;
  std::vector<Eigen::Index> order_;          // data row at each sweep position
  std::vector<std::size_t> stratum_start_;   // sweep positions of each stratum: [start_s, start_{s+1})
  std::vector<double> time_, entry_;         // in sweep order
  std::vector<char> event_;
  Eigen::VectorXd w_;
  Eigen::MatrixXd Xs_;                       // centred X, one column per row in sweep order (p × n)
  std::vector<Eigen::Index> by_entry_;       // per stratum, sweep positions by descending entry
};

/// Whether the information matrix is numerically positive definite: the smallest eigenvalue of its
/// unit-diagonal scaling above 1e-10 of the largest (exact collinearity leaves ~1e-16).
bool well_conditioned(const Eigen::MatrixXd& I) {
  const Eigen::VectorXd d = I.diagonal();
  if (!(d.minCoeff() > 0) || !I.allFinite()) return false;
  const Eigen::VectorXd s = d.cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd C = s.asDiagonal() * I * s.asDiagonal();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(C, Eigen::EigenvaluesOnly);
  return eig.info() == Eigen::Success && eig.eigenvalues().minCoeff() > 1e-10 * eig.eigenvalues().maxCoeff();
}

void check(const cox_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& X, const char* fn) {
  validate_cox_rows(r, fn);
  detail::require(X.rows() == r.n, fn, "the design has " + std::to_string(X.rows()) + " rows but the data have " + std::to_string(r.n));
  detail::require(X.cols() >= 1, fn, "needs at least one covariate");
  detail::require(X.allFinite(), fn, "the covariates must be finite");
}

}  // namespace

void validate_cox_rows(const cox_rows& r, const char* fn) {
  detail::require(r.n >= 1 && r.time && r.event, fn, "needs time and event columns with at least one row");
  detail::require(r.n_strata >= 1, fn, "needs at least one stratum");
  const auto fail = [&](const char* what, Eigen::Index i) { detail::throw_invalid(fn, std::string(what) + " at row " + std::to_string(i)); };
  for (Eigen::Index i = 0; i < r.n; ++i) {
    if (!std::isfinite(r.time[i])) fail("time is missing or infinite", i);
    if (!(r.event[i] == 0 || r.event[i] == 1)) fail("event must be 0 or 1", i);
    if (r.weights && !(std::isfinite(r.weights[i]) && r.weights[i] > 0)) fail("weights must be finite and positive", i);
    if (r.entry && !(std::isfinite(r.entry[i]) && r.entry[i] < r.time[i])) fail("entry must be finite and before the exit time", i);
    if (r.strata && !(r.strata[i] >= 0 && r.strata[i] < r.n_strata)) fail("stratum code out of range", i);
  }
}

cox_ph_test cox_schoenfeld_test(const cox_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& beta,
                               cox_ties ties, const double* g) {
  const char* fn = "check_ph";
  check(r, X, fn);
  detail::require(beta.size() == X.cols(), fn, "needs one coefficient per covariate");
  detail::require(g != nullptr, fn, "needs the transformed event times");
  for (Eigen::Index i = 0; i < r.n; ++i)
    if (r.event[i] == 1 && !std::isfinite(g[i])) detail::throw_invalid(fn, "the transformed time is not finite at row " + std::to_string(i));
  const cox_problem problem(r, X, ties);
  const Eigen::Index p = X.cols();
  zph_sums z;
  z.g = g;
  z.u = Eigen::VectorXd::Zero(p);
  z.I12 = z.I22 = Eigen::MatrixXd::Zero(p, p);
  const evaluation ev = problem.evaluate(beta, nullptr, &z);
  cox_ph_test out;
  out.information.resize(2 * p, 2 * p);
  out.information << ev.information, z.I12, z.I12.transpose(), z.I22;
  out.time_score = z.u;
  out.event_rows = Eigen::Map<const Eigen::Matrix<Eigen::Index, Eigen::Dynamic, 1>>(z.event_rows.data(), static_cast<Eigen::Index>(z.event_rows.size()));
  out.schoenfeld.resize(static_cast<Eigen::Index>(z.residuals.size()), p);
  for (std::size_t k = 0; k < z.residuals.size(); ++k) out.schoenfeld.row(static_cast<Eigen::Index>(k)) = z.residuals[k].transpose();
  return out;
}

cox_fit cox_regression(const cox_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& X, cox_ties ties, int max_iter) {
  const char* fn = "coxph";
  check(r, X, fn);
  const cox_problem problem(r, X, ties);
  const Eigen::Index p = X.cols();
  cox_fit out;
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  evaluation ev = problem.evaluate(beta, nullptr);
  out.loglik_null = ev.loglik;
  {
    const Eigen::LDLT<Eigen::MatrixXd> I0(ev.information);
    detail::require(well_conditioned(ev.information), fn,
                    "the information matrix at beta = 0 is singular: a covariate is constant within strata, collinear, or has no events");
    out.score_test = ev.score.dot(I0.solve(ev.score));
  }
  for (out.iterations = 0; out.iterations < max_iter; ++out.iterations) {
    const Eigen::LDLT<Eigen::MatrixXd> I(ev.information);
    detail::require(well_conditioned(ev.information), fn, "the information matrix is singular (collinear covariates?)");
    Eigen::VectorXd step = I.solve(ev.score);
    double old = ev.loglik;
    evaluation next = problem.evaluate(beta + step, nullptr);
    int halvings = 0;
    while (!(next.loglik >= old - 1e-12 * std::fabs(old)) && halvings < 30) {  // step halving (R coxph)
      step /= 2;
      next = problem.evaluate(beta + step, nullptr);
      ++halvings;
    }
    beta += step;
    ev = std::move(next);
    if (std::fabs(ev.loglik - old) <= 1e-13 * std::fabs(old) && step.norm() <= 1e-10 * (1 + beta.norm())) break;
  }
  detail::require(out.iterations < max_iter, fn,
                  "did not converge in " + std::to_string(max_iter) + " iterations (monotone likelihood: a covariate separates events?)");
  Eigen::MatrixXd L;
  ev = problem.evaluate(beta, &L);
  out.coef = beta;
  out.loglik = ev.loglik;
  out.information = ev.information;
  out.score_residuals = L;
  for (Eigen::Index i = 0; i < r.n; ++i) out.n_events += r.event[i];
  return out;
}

}  // namespace impactkit
