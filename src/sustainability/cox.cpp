// Out-of-line definitions for impactkit/sustainability/cox.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/sustainability/cox.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <impactkit/core/errors.hpp>

namespace impactkit {
namespace {

/// One stratum's event times with the risk-set sums needed by the likelihood and the residuals.
struct stratum_rows {
  std::vector<Eigen::Index> by_exit, by_entry;  // descending exit / descending entry
};

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

class cox_problem {
 public:
  cox_problem(const cox_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& X, cox_ties ties) : r_(r), ties_(ties) {
    const Eigen::Index n = r.n, p = X.cols();
    // centred columns (weighted means): the partial likelihood is invariant, the sums better conditioned
    // centred columns, stored one row per column (p × n) so that each row's values are contiguous
    Eigen::VectorXd w = weights();
    const Eigen::VectorXd mean = (X.transpose() * w) / w.sum();
    Xt_ = X.transpose();
    Xt_.colwise() -= mean;
    strata_.resize(static_cast<std::size_t>(r.n_strata));
    for (Eigen::Index i = 0; i < n; ++i) {
      auto& s = strata_[static_cast<std::size_t>(r.strata ? r.strata[i] : 0)];
      s.by_exit.push_back(i);
      if (r.entry) s.by_entry.push_back(i);
    }
    for (auto& s : strata_) {
      std::stable_sort(s.by_exit.begin(), s.by_exit.end(), [&](Eigen::Index a, Eigen::Index b) { return r.time[a] > r.time[b]; });
      std::stable_sort(s.by_entry.begin(), s.by_entry.end(), [&](Eigen::Index a, Eigen::Index b) { return r.entry[a] > r.entry[b]; });
    }
    p_ = p;
  }

  Eigen::VectorXd weights() const { return r_.weights ? Eigen::Map<const Eigen::VectorXd>(r_.weights, r_.n).eval() : Eigen::VectorXd::Ones(r_.n); }

  /// ℓ, U, I at β, and (when `residuals`) the score residuals.
  evaluation evaluate(const Eigen::VectorXd& beta, Eigen::MatrixXd* residuals, zph_sums* zph = nullptr) const {
    const Eigen::Index n = r_.n, p = p_;
    const Eigen::VectorXd eta = Xt_.transpose() * beta;
    const double shift = eta.size() ? eta.maxCoeff() : 0.0;  // e^(η − shift): the sums' common factor cancels
    const Eigen::VectorXd risk = (eta.array() - shift).exp();
    const Eigen::VectorXd w = weights();
    evaluation ev;
    ev.score = Eigen::VectorXd::Zero(p);
    ev.information = Eigen::MatrixXd::Zero(p, p);
    if (residuals) residuals->setZero(n, p);
    // per event time, for the residuals: H = Σ_k h_k and A = Σ_k h_k a_k, cumulated over event times
    for (const auto& s : strata_) {
      std::vector<double> ev_time;  // descending
      std::vector<double> H;
      std::vector<Eigen::VectorXd> A;
      double S0 = 0;
      Eigen::VectorXd S1 = Eigen::VectorXd::Zero(p), S1D(p), ak(p), At(p), abar(p), FA(p);
      Eigen::MatrixXd S2 = Eigen::MatrixXd::Zero(p, p), S2D(p, p), Vt(p, p);
      std::size_t in = 0, out = 0;
      const auto& ex = s.by_exit;
      for (std::size_t a = 0; a < ex.size();) {
        const double t = r_.time[ex[a]];
        std::size_t b = a;
        for (; b < ex.size() && r_.time[ex[b]] == t; ++b) {}
        // add rows with exit ≥ t; remove rows with entry ≥ t
        for (; in < b; ++in) add(ex[in], 1.0, risk, w, S0, S1, S2);
        if (r_.entry)
          for (; out < s.by_entry.size() && r_.entry[s.by_entry[out]] >= t; ++out) add(s.by_entry[out], -1.0, risk, w, S0, S1, S2);
        // tied events at t
        double d = 0, WD = 0, S0D = 0;
        S1D.setZero();
        S2D.setZero();
        for (std::size_t j = a; j < b; ++j) {
          const Eigen::Index i = ex[j];
          if (r_.event[i] != 1) continue;
          d += 1;
          WD += w(i);
          const double c = w(i) * risk(i);
          S0D += c;
          add_to(i, c, S1D, S2D);
          ev.loglik += w(i) * eta(i);
          ev.score.noalias() += w(i) * Xt_.col(i);
        }
        if (d > 0) {
          const int K = ties_ == cox_ties::efron ? static_cast<int>(d) : 1;
          const double m = WD / K;
          // Σ_k h_k, Σ_k h_k a_k (at-risk part of the residuals), and for the tied events' own Efron
          // reduction Σ_k f_k h_k and Σ_k f_k h_k a_k: O(d) per event time, not O(d²)
          double Ht = 0, F = 0;
          At.setZero();
          abar.setZero();
          FA.setZero();
          Vt.setZero();
          for (int k = 0; k < K; ++k) {
            const double f = ties_ == cox_ties::efron ? static_cast<double>(k) / K : 0.0;
            const double den = S0 - f * S0D;
            ak = (S1 - f * S1D) / den;
            ev.loglik -= m * (std::log(den) + shift);
            ev.score.noalias() -= m * ak;
            Vt.noalias() += (m / den) * (S2 - f * S2D);
            for (Eigen::Index c = 0; c < p; ++c)
              for (Eigen::Index q = 0; q < p; ++q) Vt(q, c) -= m * ak(q) * ak(c);
            const double hk = m / den;
            Ht += hk;
            At.noalias() += hk * ak;
            abar.noalias() += ak / K;
            F += f * hk;
            FA.noalias() += (f * hk) * ak;
          }
          ev.information += Vt;
          if (zph) zph_event_time(*zph, ex, a, b, abar, Vt, w);
          if (residuals) {
            ev_time.push_back(t);
            H.push_back(Ht);
            A.push_back(At);
            // event part, and the Efron reduction c_ik = 1 − k/d of the tied events' own risk terms:
            // Σ_k f_k h_k (x_i − a_k) = F x_i − FA
            for (std::size_t j = a; j < b; ++j) {
              const Eigen::Index i = ex[j];
              if (r_.event[i] != 1) continue;
              residuals->row(i) += (Xt_.col(i) - abar + risk(i) * (F * Xt_.col(i) - FA)).transpose();
            }
          }
        }
        a = b;
      }
      if (!residuals || ev_time.empty()) continue;
      // at-risk part: −e^η_i Σ_{t ∈ (entry_i, exit_i]} (H(t) x_i − A(t)), by cumulative sums over event times
      const std::size_t T = ev_time.size();
      std::vector<double> t_asc(ev_time.rbegin(), ev_time.rend());
      std::vector<double> cumH(T + 1, 0.0);
      std::vector<Eigen::VectorXd> cumA(T + 1, Eigen::VectorXd::Zero(p));
      for (std::size_t k = 0; k < T; ++k) {
        cumH[k + 1] = cumH[k] + H[T - 1 - k];
        cumA[k + 1] = cumA[k] + A[T - 1 - k];
      }
      auto upto = [&](double x) {  // number of event times ≤ x
        return static_cast<std::size_t>(std::upper_bound(t_asc.begin(), t_asc.end(), x) - t_asc.begin());
      };
      for (Eigen::Index i : s.by_exit) {
        const std::size_t hi = upto(r_.time[i]), lo = r_.entry ? upto(r_.entry[i]) : 0;
        if (hi <= lo) continue;
        const double h = cumH[hi] - cumH[lo];
        const Eigen::VectorXd Ai = cumA[hi] - cumA[lo];
        residuals->row(i) -= (risk(i) * (h * Xt_.col(i) - Ai)).transpose();
      }
    }
    return ev;
  }

 private:
  /// The Grambsch–Therneau sums at one event time (rows ex[a..b) exit there): g(t) times the score and
  /// information contributions, and the Schoenfeld residuals x_i − ā of its events.
  void zph_event_time(zph_sums& z, const std::vector<Eigen::Index>& ex, std::size_t a, std::size_t b, const Eigen::VectorXd& abar,
                      const Eigen::MatrixXd& Vt, const Eigen::VectorXd& w) const {
    const double g = z.g[ex[a]];
    for (std::size_t j = a; j < b; ++j) {
      const Eigen::Index i = ex[j];
      if (r_.event[i] != 1) continue;
      Eigen::VectorXd res = Xt_.col(i) - abar;
      z.u += g * w(i) * res;
      z.event_rows.push_back(i);
      z.residuals.push_back(std::move(res));
    }
    z.I12 += g * Vt;
    z.I22 += g * g * Vt;
  }

  void add(Eigen::Index i, double sign, const Eigen::VectorXd& risk, const Eigen::VectorXd& w, double& S0, Eigen::VectorXd& S1,
           Eigen::MatrixXd& S2) const {
    const double c = sign * w(i) * risk(i);
    S0 += c;
    add_to(i, c, S1, S2);
  }

  /// S1 += c x_i, S2 += c x_i x_iᵀ.
  void add_to(Eigen::Index i, double c, Eigen::VectorXd& S1, Eigen::MatrixXd& S2) const {
    // plain loops: no temporaries on this per-row path
    const double* x = Xt_.col(i).data();
    for (Eigen::Index j = 0; j < p_; ++j) {
      const double cj = c * x[j];
      S1(j) += cj;
      for (Eigen::Index k = 0; k < p_; ++k) S2(k, j) += cj * x[k];
    }
  }

  const cox_rows& r_;
  cox_ties ties_;
  Eigen::MatrixXd Xt_;  // centred X, transposed
  std::vector<stratum_rows> strata_;
  Eigen::Index p_ = 0;
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
