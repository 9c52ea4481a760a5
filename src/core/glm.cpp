// Out-of-line definitions for impactkit/core/glm.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/glm.hpp>

#include "glm_detail.hpp"
#include "linear_model_vcov_detail.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <boost/math/distributions/normal.hpp>

#include <impactkit/core/linear_model_vcov.hpp>

namespace impactkit {

const char* glm_family_name(glm_family f) {
  switch (f) {
    case glm_family::logit: return "logit";
    case glm_family::probit: return "probit";
    case glm_family::poisson: return "poisson";
    case glm_family::cloglog: return "cloglog";
  }
  return "?";
}

glm_family parse_glm_family(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "logit" || s == "logistic" || s == "binomial") return glm_family::logit;
  if (s == "probit") return glm_family::probit;
  if (s == "poisson" || s == "ppml") return glm_family::poisson;
  if (s == "cloglog") return glm_family::cloglog;
  detail::throw_invalid("glm", "unknown family '" + s + "'; use logit, probit, cloglog or poisson");
}

}  // namespace impactkit

namespace impactkit::detail {

glm_point evaluate(glm_family f, double y, double eta, bool with_loglik) {
  glm_point p{};
  switch (f) {
    case glm_family::logit: {
      p.mu = logistic(eta);
      p.loglik = -(y > 0.5 ? softplus(-eta) : softplus(eta));
      p.score = y > 0.5 ? logistic(-eta) : -p.mu;
      p.w_obs = p.w_exp = logistic(eta) * logistic(-eta);
      p.deviance = -2.0 * p.loglik;
      break;
    }
    case glm_family::probit: {
      const double q = y > 0.5 ? 1.0 : -1.0, a = q * eta;
      const double lam = inverse_mills(a);
      p.mu = normal_cdf(eta);
      p.loglik = log_normal_cdf(a);
      p.score = q * lam;
      p.w_obs = lam * (lam + a);
      p.w_exp = inverse_mills(eta) * inverse_mills(-eta);  // φ²/(Φ(η)Φ(−η))
      p.deviance = -2.0 * p.loglik;
      break;
    }
    case glm_family::cloglog: {  // see glm.hpp; r + v − 1 by its series for small v (cancellation)
      const double v = std::exp(eta);
      const double r = v < 1e-300 ? 1.0 : v / std::expm1(v);
      const double r_v_1 = v < 1e-3 ? v / 2 + v * v / 12 : r + v - 1;
      p.mu = -std::expm1(-v);
      p.loglik = y > 0.5 ? std::log(p.mu) : -v;
      p.score = y > 0.5 ? r : -v;
      p.w_obs = y > 0.5 ? r * r_v_1 : v;
      p.w_exp = v * r;
      p.deviance = -2.0 * p.loglik;
      break;
    }
    case glm_family::poisson: {
      p.mu = std::exp(eta);
      p.loglik = with_loglik ? y * eta - p.mu - std::lgamma(y + 1.0) : 0.0;
      p.score = y - p.mu;
      p.w_obs = p.w_exp = p.mu;
      p.deviance = 2.0 * ((y > 0 ? y * (std::log(y) - eta) : 0.0) - (y - p.mu));
      break;
    }
  }
  return p;
}

double total_deviance(glm_family f, const Eigen::VectorXd& y, const Eigen::VectorXd& eta, const Eigen::VectorXd& w) {
  const Eigen::Index n = y.size();
  const bool has_w = w.size() > 0;
  const row_chunks chunks = make_row_chunks(n, 8192);
  std::vector<double> part(static_cast<std::size_t>(chunks.count), 0.0);
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * 20);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    double d = 0;
    for (Eigen::Index i = chunks.begin(c); i < chunks.end(c); ++i)
      d += (has_w ? w(i) : 1.0) * evaluate(f, y(i), eta(i), false).deviance;
    part[static_cast<std::size_t>(c)] = d;
  }
  double d = 0;
  for (double v : part) d += v;
  return std::isfinite(d) ? d : std::numeric_limits<double>::infinity();
}

glm_sample make_sample(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                       const glm_options& opt, const std::vector<char>& keep) {
  glm_sample s;
  const Eigen::Index n = X.rows();
  for (Eigen::Index i = 0; i < n; ++i)
    if (keep[static_cast<std::size_t>(i)]) s.rows.push_back(i);
  s.m = static_cast<Eigen::Index>(s.rows.size());
  s.k = X.cols();
  s.all_rows = s.m == n;
  if (s.all_rows) {
    s.x_data = X.data();
    s.x_stride = X.outerStride();
  } else {
    s.x_owned.resize(s.m, s.k);
    for (Eigen::Index j = 0; j < s.k; ++j)
      for (Eigen::Index i = 0; i < s.m; ++i) s.x_owned(i, j) = X(s.rows[static_cast<std::size_t>(i)], j);
    s.x_data = s.x_owned.data();
    s.x_stride = s.m;
  }
  auto sub_vec = [&](const Eigen::Ref<const Eigen::VectorXd>& v) {
    Eigen::VectorXd out(s.m);
    for (Eigen::Index i = 0; i < s.m; ++i) out(i) = v(s.rows[static_cast<std::size_t>(i)]);
    return out;
  };
  auto sub_mat = [&](const Eigen::MatrixXi& a) {
    Eigen::MatrixXi out(s.m, a.cols());
    for (Eigen::Index i = 0; i < s.m; ++i) out.row(i) = a.row(s.rows[static_cast<std::size_t>(i)]);
    return out;
  };
  s.y = sub_vec(y);
  if (opt.weights.size()) s.w = sub_vec(opt.weights);
  if (opt.offset.size()) s.off = sub_vec(opt.offset);
  if (opt.fixed_effects.size()) s.fe = sub_mat(opt.fixed_effects);
  if (is_cluster_kind(opt.vcov.kind)) s.clusters = sub_mat(opt.vcov.clusters);
  if (opt.vcov.kind == vcov_kind::survey) {
    s.survey_rows.resize(static_cast<std::size_t>(s.m));
    for (Eigen::Index i = 0; i < s.m; ++i) {
      const Eigen::Index row = s.rows[static_cast<std::size_t>(i)];
      s.survey_rows[static_cast<std::size_t>(i)] = opt.vcov.survey_rows.empty() ? row : opt.vcov.survey_rows[static_cast<std::size_t>(row)];
    }
  }
  return s;
}

void drop_uninformative_groups(const Eigen::MatrixXi& fe, const Eigen::Ref<const Eigen::VectorXd>& y, glm_family f,
                               bool singletons, std::vector<char>& keep, Eigen::Index& n_fe_dropped,
                               Eigen::Index& n_singletons) {
  const Eigen::Index n = fe.rows();
  std::vector<group_codes> dims;
  for (Eigen::Index d = 0; d < fe.cols(); ++d) dims.push_back(factorize(fe.col(d)));
  bool changed = true;
  while (changed) {
    changed = false;
    for (const auto& g : dims) {
      std::vector<Eigen::Index> count(static_cast<std::size_t>(g.n_groups), 0);
      std::vector<double> sum(static_cast<std::size_t>(g.n_groups), 0.0);
      for (Eigen::Index i = 0; i < n; ++i)
        if (keep[static_cast<std::size_t>(i)]) {
          const std::size_t c = static_cast<std::size_t>(g.code[static_cast<std::size_t>(i)]);
          ++count[c];
          sum[c] += y(i);
        }
      for (Eigen::Index i = 0; i < n; ++i) {
        if (!keep[static_cast<std::size_t>(i)]) continue;
        const std::size_t c = static_cast<std::size_t>(g.code[static_cast<std::size_t>(i)]);
        const bool single = count[c] == 1;
        const bool degenerate = f == glm_family::poisson ? sum[c] == 0.0
                                                         : (sum[c] == 0.0 || sum[c] == static_cast<double>(count[c]));
        if (single && singletons) {
          keep[static_cast<std::size_t>(i)] = 0;
          ++n_singletons;
          changed = true;
        } else if (degenerate) {
          keep[static_cast<std::size_t>(i)] = 0;
          ++n_fe_dropped;
          changed = true;
        }
      }
    }
  }
}

separation_outcome detect_separation(const const_matrix_map& X, const std::vector<Eigen::Index>& cols, const Eigen::VectorXd& y,
                                     glm_family f, const std::vector<group_codes>* dims, const glm_options& opt,
                                     const Eigen::VectorXd* start) {
  separation_outcome out;
  const Eigen::Index m = X.rows(), p = static_cast<Eigen::Index>(cols.size());
  const double tol = opt.separation_tol;
  std::vector<char> boundary(static_cast<std::size_t>(m));
  Eigen::VectorXd sign(m);
  Eigen::Index n_interior = 0, n_boundary = 0;
  for (Eigen::Index i = 0; i < m; ++i) {
    const bool b = f == glm_family::poisson ? y(i) == 0.0 : true;
    boundary[static_cast<std::size_t>(i)] = b;
    sign(i) = f == glm_family::poisson ? 1.0 : (y(i) > 0.5 ? 1.0 : -1.0);
    (b ? n_boundary : n_interior) += 1;
  }
  if (n_boundary == 0 || p == 0) {
    out.converged = true;
    return out;
  }
  const double big = static_cast<double>(std::max<Eigen::Index>(1, n_interior)) / (tol * tol);
  Eigen::VectorXd omega(m), sqrt_omega(m);
  for (Eigen::Index i = 0; i < m; ++i) {
    omega(i) = boundary[static_cast<std::size_t>(i)] ? 1.0 : big;
    sqrt_omega(i) = std::sqrt(omega(i));
  }
  Eigen::MatrixXd Xt(m, p);
  for (Eigen::Index j = 0; j < p; ++j) Xt.col(j) = X.col(cols[static_cast<std::size_t>(j)]);
  const bool fe = dims && !dims->empty();
  std::unique_ptr<absorbed_effects> ae;
  if (fe) {
    ae.reset(new absorbed_effects(*dims, omega.data()));
    std::vector<const double*> ptr;
    for (Eigen::Index j = 0; j < p; ++j) ptr.push_back(Xt.col(j).data());
    Xt = ae->demean(ptr, opt.absorb.demean).values;
  }
  Eigen::VectorXd U(m), t(m), t_prev, tt_prev, fitted(m), Uhat(m);
  for (Eigen::Index i = 0; i < m; ++i) U(i) = boundary[static_cast<std::size_t>(i)] ? (start ? (*start)(i) : 1.0) : 0.0;
  for (int it = 1; it <= opt.separation_max_iter; ++it) {
    out.iterations = it;
    t = sign.cwiseProduct(U);
    Eigen::VectorXd tt;
    if (fe) {
      Eigen::VectorXd target = it == 1 ? t : Eigen::VectorXd(tt_prev + t - t_prev);
      tt = ae->demean({target.data()}, opt.absorb.demean).values.col(0);
    } else {
      tt = t;
    }
    const least_squares_solution ls = solve_least_squares(Xt, tt, sqrt_omega.data(), opt.collin_tol);
    const Eigen::VectorXd g = ls.coef_full(p);
    fitted.noalias() = Xt * g;
    if (fe) fitted = t - (tt - fitted);
    bool ok = true;
    for (Eigen::Index i = 0; i < m; ++i) {
      double u = sign(i) * fitted(i);
      if (!boundary[static_cast<std::size_t>(i)] || (u > -0.1 * tol && u < tol)) u = 0.0;
      if (u < 0) ok = false;
      Uhat(i) = u;
    }
    if (ok) {
      out.converged = true;
      for (Eigen::Index i = 0; i < m; ++i)
        if (Uhat(i) > 0) out.rows.push_back(i);
      if (!out.rows.empty()) {
        const double scale = fitted.norm();
        for (Eigen::Index j = 0; j < p; ++j)
          if (std::fabs(g(j)) * Xt.col(j).norm() > 1e-3 * scale) out.columns.push_back(j);
      }
      return out;
    }
    t_prev = t;
    tt_prev = tt;
    for (Eigen::Index i = 0; i < m; ++i) U(i) = boundary[static_cast<std::size_t>(i)] ? std::max(Uhat(i), 0.0) : 0.0;
  }
  return out;
}

Eigen::VectorXd initial_eta(glm_family f, const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  const Eigen::Index m = y.size();
  Eigen::VectorXd eta(m);
  if (f == glm_family::poisson) {
    double sw = 0, swy = 0;
    for (Eigen::Index i = 0; i < m; ++i) {
      const double wi = w.size() ? w(i) : 1.0;
      sw += wi;
      swy += wi * y(i);
    }
    const double ybar = swy / sw;
    for (Eigen::Index i = 0; i < m; ++i) eta(i) = std::log(0.5 * (y(i) + ybar));
  } else {
    // μ₀ = 0.75 for y = 1 and 0.25 for y = 0 (R's binomial mustart with unit weights)
    const double e = f == glm_family::logit ? std::log(3.0) : 0.67448975019608171;
    const double hi = f == glm_family::cloglog ? std::log(std::log(4.0)) : e, lo = f == glm_family::cloglog ? std::log(-std::log(0.75)) : -e;
    for (Eigen::Index i = 0; i < m; ++i) eta(i) = y(i) > 0.5 ? hi : lo;
  }
  return eta;
}

namespace {

/// IRLS working response z = η − offset + s/W and weights p·W (W the observed information, at least
/// 1e-300; z = η − offset where s/W is not finite), with √(p·W), in one parallel pass over fixed chunks.
void working_response(const glm_sample& s, glm_family f, const Eigen::VectorXd& eta, Eigen::VectorXd& z, Eigen::VectorXd& W,
                      Eigen::VectorXd& sqrt_w) {
  const Eigen::Index m = s.m;
  const bool has_w = s.w.size() > 0, has_off = s.off.size() > 0;
  const row_chunks chunks = make_row_chunks(m, 8192);
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * 20);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c)
    for (Eigen::Index i = chunks.begin(c); i < chunks.end(c); ++i) {
      const glm_point g = evaluate(f, s.y(i), eta(i), false);
      const double wi = std::max(g.w_obs, 1e-300);
      double zi = eta(i) - (has_off ? s.off(i) : 0.0) + g.score / wi;
      if (!std::isfinite(zi)) zi = eta(i) - (has_off ? s.off(i) : 0.0);
      z(i) = zi;
      W(i) = (has_w ? s.w(i) : 1.0) * wi;
      sqrt_w(i) = std::sqrt(W(i));
    }
}

/// The columns `kept` of A followed by its last column (the working response of [X | z]).
Eigen::MatrixXd kept_columns_and_last(const Eigen::MatrixXd& A, const std::vector<Eigen::Index>& kept) {
  const Eigen::Index p = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd out(A.rows(), p + 1);
  for (Eigen::Index j = 0; j < p; ++j) out.col(j) = A.col(kept[static_cast<std::size_t>(j)]);
  out.col(p) = A.col(A.cols() - 1);
  return out;
}

// An increase of the deviance within the convergence tolerance is rounding in the deviance sum at
// the optimum: the full (Newton) step is kept, since halving would move back towards the older, less
// accurate iterate. Larger increases (and non-finite deviances) are not acceptable.
bool deviance_acceptable(double d, double dev, double tol) { return std::isfinite(d) && d - dev <= tol * (0.1 + std::fabs(d)); }

// Step-halving (as R's glm.fit): β, the fixed effects α and η move halfway back to the previous
// iterate until the deviance is acceptable against `dev` or opt.max_halving halvings were made.
// Returns the deviance reached; `accepted` says whether it is acceptable.
double halve_step(const glm_sample& s, glm_family f, const glm_options& opt, double dev, const Eigen::VectorXd& beta_old,
                  const std::vector<Eigen::VectorXd>& alpha_old, const Eigen::VectorXd& eta, Eigen::VectorXd& beta,
                  std::vector<Eigen::VectorXd>& alpha, Eigen::VectorXd& eta_new, double dev_new, bool& accepted) {
  for (int h = 0; h < opt.max_halving && !deviance_acceptable(dev_new, dev, opt.tol); ++h) {
    beta = 0.5 * (beta + beta_old);
    for (std::size_t d = 0; d < alpha.size(); ++d) alpha[d] = 0.5 * (alpha[d] + alpha_old[d]);
    eta_new = 0.5 * (eta_new + eta);
    dev_new = total_deviance(f, s.y, eta_new, s.w);
  }
  accepted = deviance_acceptable(dev_new, dev, opt.tol);
  return dev_new;
}

// A first step that overshoots (non-finite deviance): η moves halfway back towards the start until
// the deviance is finite, at most opt.max_halving times (β is then not consistent with η, so the next
// step does not halve on β). Returns the deviance reached.
double pull_back_first_step(const glm_sample& s, glm_family f, const glm_options& opt, const Eigen::VectorXd& eta,
                            Eigen::VectorXd& eta_new, double dev_new) {
  for (int h = 0; h < opt.max_halving && !std::isfinite(dev_new); ++h) {
    eta_new = 0.5 * (eta_new + eta);
    dev_new = total_deviance(f, s.y, eta_new, s.w);
  }
  return dev_new;
}

}  // namespace

irls_fit run_irls(const glm_sample& s, glm_family f, const glm_options& opt, const vcov_spec& spec) {
  irls_fit fit;
  const Eigen::Index m = s.m, k = s.k;
  const bool has_off = s.off.size() > 0;
  fit.has_fe = s.fe.cols() > 0;
  const const_matrix_map X = s.X();
  absorb_options absorb = opt.absorb;
  absorb.drop_singletons = false;  // done before (drop_uninformative_groups)
  absorb.group_order = false;      // the IRLS weights and working responses stay in sample order

  Eigen::VectorXd eta = initial_eta(f, s.y, s.w);
  double dev = total_deviance(f, s.y, eta, s.w);
  Eigen::VectorXd W(m), sqrt_w(m), z(m), z_prev, fitted(m), eta_new(m), beta, beta_old;
  Eigen::MatrixXd Xk;     // kept raw columns (no fixed effects, some dropped)
  Eigen::MatrixXd V;      // fixed effects: demeaned [X_kept | z]
  // fixed effects: running sums of the coefficients removed from [X_kept | z] (per dimension), so that
  // X̃ = X − D·A_X and z̃ = z − D·A_z; the fixed effects of η are then A_z − A_X β
  std::vector<Eigen::MatrixXd> acoef;
  std::vector<Eigen::VectorXd> alpha, alpha_old;
  Eigen::Index p = k;
  bool beta_old_valid = false, compact = false;
  for (int it = 1; it <= opt.max_iter; ++it) {
    fit.iterations = it;
    working_response(s, f, eta, z, W, sqrt_w);
    least_squares_solution ls;
    if (fit.has_fe) {
      if (it == 1) {
        std::vector<const double*> cols;
        for (Eigen::Index j = 0; j < k; ++j) cols.push_back(X.col(j).data());
        cols.push_back(z.data());
        const std::vector<label_column> labels = fixed_effect_label_columns(s.fe, m);
        fit.absorbed = absorb_fixed_effects(cols, m, W.data(), labels, absorb);
        within_variance(fit.absorbed, &labels, spec, "absorb_fixed_effects", fit.absorbed.vcov, fit.absorbed.dof);
        V = std::move(fit.absorbed.columns.values);
        fit.absorbed.columns.values.resize(0, 0);
        acoef = std::move(fit.absorbed.columns.coefficients);
        fit.absorbed.columns.coefficients.clear();
      } else {
        V.col(p) += z - z_prev;  // warm start: z̃_{t−1} + z_t − z_{t−1}
        const absorbed_effects ae(fit.absorbed.dims, W.data());
        std::vector<const double*> cols;
        for (Eigen::Index j = 0; j <= p; ++j) cols.push_back(V.col(j).data());
        demeaned_columns dmx = ae.demean(cols, absorb.demean);
        V = std::move(dmx.values);
        for (std::size_t d = 0; d < acoef.size(); ++d) acoef[d] += dmx.coefficients[d];
      }
      ls = solve_least_squares(V.leftCols(p), V.col(p), sqrt_w.data(), opt.collin_tol);
    } else {
      if (compact) ls = solve_least_squares(Xk, z, sqrt_w.data(), opt.collin_tol);
      else ls = solve_least_squares(X, z, sqrt_w.data(), opt.collin_tol);
    }
    if (it == 1) {
      fit.kept = ls.kept;
      fit.dropped = ls.dropped;
      if (!ls.dropped.empty()) {
        p = ls.rank();
        if (fit.has_fe) {
          V = kept_columns_and_last(V, fit.kept);
          for (auto& a : acoef) a = kept_columns_and_last(a, fit.kept);
        } else {
          Xk.resize(m, p);
          for (Eigen::Index j = 0; j < p; ++j) Xk.col(j) = X.col(fit.kept[static_cast<std::size_t>(j)]);
          compact = true;
        }
      }
    } else if (ls.rank() < p) {
      fit.failure = "the weighted design lost rank during the iterations (fitted values at the boundary)";
      fit.beta = beta;
      fit.eta = eta;
      fit.deviance = dev;
      return fit;
    }
    beta = ls.rank() == p ? ls.coef : ls.coef_full(p);
    if (fit.has_fe) {
      alpha.resize(acoef.size());
      for (std::size_t d = 0; d < acoef.size(); ++d) alpha[d] = acoef[d].col(p) - acoef[d].leftCols(p) * beta;
      fitted.noalias() = V.leftCols(p) * beta;
      fitted = z - (V.col(p) - fitted);
    } else if (compact) {
      fitted.noalias() = Xk * beta;
    } else {
      fitted.noalias() = X * beta;
    }
    eta_new = fitted;
    if (has_off) eta_new += s.off;
    double dev_new = total_deviance(f, s.y, eta_new, s.w);
    bool halving_failed = false;
    if (beta_old_valid && !deviance_acceptable(dev_new, dev, opt.tol)) {
      bool accepted = false;
      dev_new = halve_step(s, f, opt, dev, beta_old, alpha_old, eta, beta, alpha, eta_new, dev_new, accepted);
      halving_failed = !accepted;
    } else if (!beta_old_valid && !std::isfinite(dev_new)) {
      dev_new = pull_back_first_step(s, f, opt, eta, eta_new, dev_new);
      if (!std::isfinite(dev_new)) {
        fit.failure = "the deviance is not finite after the first step";
        fit.eta = eta;
        fit.deviance = dev;
        return fit;
      }
      z_prev = z;
      eta = eta_new;
      dev = dev_new;
      continue;
    }
    const double crit = std::fabs(dev_new - dev) / (0.1 + std::fabs(dev_new));
    if (halving_failed) {
      if (std::isfinite(dev_new) && crit < opt.tol) {
        // no further decrease is possible at double precision: converged
      } else {
        fit.failure = "step-halving could not decrease the deviance";
        fit.beta = beta_old;
        fit.eta = eta;
        fit.deviance = dev;
        return fit;
      }
    }
    z_prev = z;
    beta_old = beta;
    alpha_old = alpha;
    beta_old_valid = true;
    fit.step = eta_new - eta;
    eta = eta_new;
    dev = dev_new;
    if (crit < opt.tol) {
      fit.converged = true;
      break;
    }
  }
  if (!fit.converged) fit.failure = "the iteration cap (" + std::to_string(opt.max_iter) + ") was reached";
  fit.beta = beta;
  fit.eta = eta;
  fit.deviance = dev;
  if (fit.has_fe) {
    fit.Xt = V.leftCols(p);
    fit.alpha = alpha;
  }
  return fit;
}

Eigen::Index count_boundary(glm_family f, const Eigen::VectorXd& y, const Eigen::VectorXd& eta, double eps, double ybar) {
  Eigen::Index c = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (f == glm_family::poisson) {
      if (y(i) == 0.0 && std::exp(eta(i)) < eps * ybar) ++c;
    } else {
      const glm_point g = evaluate(f, y(i), eta(i), false);
      const double mu = g.mu, one_minus = f == glm_family::logit ? logistic(-eta(i)) : f == glm_family::probit ? normal_cdf(-eta(i))
                                                                                                              : std::exp(-std::exp(eta(i)));
      if (std::min(mu, one_minus) < eps) ++c;
    }
  }
  return c;
}

std::string describe_columns(const std::vector<Eigen::Index>& cols) {
  std::string s;
  for (std::size_t j = 0; j < cols.size(); ++j) s += (j ? ", " : "") + std::to_string(cols[j]);
  return s;
}

namespace {

/// Throws invalid_input for data or options glm() cannot use (messages built only on failure).
void validate_glm_input(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, glm_family family,
                        const glm_options& opt, const char* fn) {
  const Eigen::Index n = X.rows(), k = X.cols();
  const std::string fam = glm_family_name(family);
  require(n > 0, fn, "no observations");
  require(k > 0, fn, "X has no columns");
  require(y.size() == n, fn, "y has " + std::to_string(y.size()) + " rows but X has " + std::to_string(n));
  require_finite(y, fn, "y");
  require_finite(X, fn, "X");
  require(opt.tol > 0 && opt.tol < 1, fn, "tol must be in (0, 1)");
  require(opt.max_iter > 0 && opt.max_halving >= 0, fn, "max_iter must be positive and max_halving non-negative");
  require(opt.collin_tol >= 0 && opt.collin_tol < 1, fn, "collin_tol must be in [0, 1)");
  require(opt.separation_tol > 0 && opt.separation_max_iter > 0, fn, "separation_tol and separation_max_iter must be positive");
  for (Eigen::Index i = 0; i < n; ++i) {  // messages built only on failure
    if (family == glm_family::poisson) {
      if (!(y(i) >= 0))
        throw_invalid(fn, "poisson: the outcome must be non-negative; row " + std::to_string(i) + " has " + std::to_string(y(i)));
    } else if (!(y(i) == 0.0 || y(i) == 1.0)) {
      throw_invalid(fn, fam + ": the outcome must be 0 or 1; row " + std::to_string(i) + " has " + std::to_string(y(i)) +
                            " (recode it, e.g. y = (outcome > threshold))");
    }
  }
  if (opt.weights.size()) {
    require(opt.weights.size() == n, fn, "weights have " + std::to_string(opt.weights.size()) + " rows but X has " + std::to_string(n));
    require_positive_weights(opt.weights.data(), n, fn);
    require(std::isfinite(opt.weights.sum()), fn,
            "the weights sum to infinity (largest weight " + format_g(opt.weights.maxCoeff()) +
                "); rescale them, e.g. divide by their mean");
  }
  if (opt.offset.size()) {
    require(family == glm_family::poisson, fn, "an offset is supported for the Poisson family only");
    require(opt.offset.size() == n, fn, "offset has " + std::to_string(opt.offset.size()) + " rows but X has " + std::to_string(n));
    require_finite(opt.offset, fn, "offset");
  }
  const vcov_kind kind = opt.vcov.kind;
  require(kind == vcov_kind::iid || kind == vcov_kind::hc0 || kind == vcov_kind::hc1 || kind == vcov_kind::cr0 ||
              kind == vcov_kind::cr1 || kind == vcov_kind::survey,
          fn, std::string("vcov ") + vcov_name(kind) +
                  " is not available for GLMs (its leverage adjustment is defined for least squares); use iid, HC0, HC1, CR0, CR1 or a survey design");
  if (kind == vcov_kind::survey) {
    require(opt.fixed_effects.size() == 0, fn, "a survey-design variance with absorbed fixed effects is not supported yet; use C(fe) regressors");
    require(opt.vcov.survey_rows.empty() || static_cast<Eigen::Index>(opt.vcov.survey_rows.size()) == n, fn,
            "survey_rows has " + std::to_string(opt.vcov.survey_rows.size()) + " entries but the data have " + std::to_string(n) + " rows");
  }
  require(opt.absorb.cluster_fixed_effects.empty(), fn, "clustering on fixed effects by index is not supported for GLMs; pass cluster labels");
  if (is_cluster_kind(kind)) {
    require(opt.vcov.clusters.cols() >= 1, fn, std::string("vcov ") + vcov_name(kind) + " needs cluster labels");
    require(opt.vcov.clusters.rows() == n, fn, "cluster labels have " + std::to_string(opt.vcov.clusters.rows()) +
                                                   " rows but the data have " + std::to_string(n));
  }
  const bool has_fe = opt.fixed_effects.size() > 0;
  if (has_fe)
    require(opt.fixed_effects.rows() == n, fn, "fixed-effect labels have " + std::to_string(opt.fixed_effects.rows()) +
                                                   " rows but the data have " + std::to_string(n));
}

/// Weighted share of outcomes Σwy/Σw on the sample; throws when the outcome does not vary (a binary
/// model needs both outcomes, Poisson a positive one) or the weights make the intercept-only model
/// degenerate.
double outcome_share(const glm_sample& s, glm_family family, const std::string& fam, const char* fn) {
  if (family == glm_family::poisson) {
    require(s.y.sum() > 0, fn, "poisson: the outcome is zero for every observation used; there is nothing to fit");
  } else {
    const double ones = s.y.sum();
    require(ones > 0 && ones < static_cast<double>(s.m), fn,
          fam + ": the outcome is " + (ones > 0 ? "1" : "0") +
              " for every observation used; a binary model needs both outcomes");
  }
  double sw = 0, swy = 0;
  for (Eigen::Index i = 0; i < s.m; ++i) {
    const double wi = s.w.size() ? s.w(i) : 1.0;
    sw += wi;
    swy += wi * s.y(i);
  }
  if (family != glm_family::poisson && !(swy > 0 && swy < sw && swy / sw < 1.0))
    throw_invalid(fn, fam + ": the weights are too unequal: the weighted share of outcomes equal to 1 is " +
                        format_g(swy / sw) + " in double precision" +
                        (s.w.size() ? " (weights from " + format_g(s.w.minCoeff()) + " to " +
                                          format_g(s.w.maxCoeff()) + ")"
                                    : std::string()) +
                        ", so the intercept-only model is degenerate; check or rescale the weights");
  return swy / sw;
}

/// Observations separated at the fit `fit` (Correia, Guimarães & Zylkin 2021): first from the
/// direction in which the fit diverges (fast when the margin is thin, e.g. complete separation),
/// then from U = 1; a converged rectifier certifies what it finds.
separation_outcome find_separation(const glm_sample& s, const irls_fit& fit, glm_family family, bool has_fe, const glm_options& opt) {
  std::vector<group_codes> dims;
  if (has_fe)
    for (Eigen::Index d = 0; d < s.fe.cols(); ++d) dims.push_back(factorize(s.fe.col(d)));
  separation_outcome sep;
  if (fit.step.size() == s.m) {
    Eigen::VectorXd start(s.m);
    for (Eigen::Index i = 0; i < s.m; ++i) {
      const double dir = family == glm_family::poisson ? -1.0 : (s.y(i) > 0.5 ? 1.0 : -1.0);
      start(i) = std::max(dir * fit.step(i), 0.0);
    }
    const double top = start.maxCoeff();
    if (top > 0 && std::isfinite(top)) {
      start /= top;
      sep = detect_separation(s.X(), fit.kept, s.y, family, has_fe ? &dims : nullptr, opt, &start);
    }
  }
  if (!sep.converged || sep.rows.empty()) {
    const separation_outcome plain = detect_separation(s.X(), fit.kept, s.y, family, has_fe ? &dims : nullptr, opt);
    if (plain.converged) sep = plain;
  }
  return sep;
}

/// Marks the separated observations as dropped (keep, r.separated_rows, r.separating_columns), or
/// throws when asked to (on_separation = raise) or when every observation is separated.
void drop_separated(const separation_outcome& sep, const glm_sample& s, const irls_fit& fit, glm_family family,
                    const std::string& fam, const glm_options& opt, const char* fn, std::vector<char>& keep, glm_result& r) {
  std::vector<Eigen::Index> cols;
  for (Eigen::Index j : sep.columns) cols.push_back(fit.kept[static_cast<std::size_t>(j)]);
  if (opt.on_separation == separation_action::raise || static_cast<Eigen::Index>(sep.rows.size()) == s.m)
    throw_invalid(fn, fam + ": " + std::to_string(sep.rows.size()) + " of " + std::to_string(s.m) +
                        " observations are separated (their fitted " +
                        (family == glm_family::poisson ? "means go to 0" : "probabilities go to 0 or 1") +
                        " while the coefficients diverge: the maximum-likelihood estimate does not exist)" +
                        (cols.empty() ? std::string() : "; columns of X involved: " + describe_columns(cols)) +
                        (static_cast<Eigen::Index>(sep.rows.size()) == s.m
                             ? "; every observation is separated (complete separation): drop or recode the regressors involved"
                             : "; use on_separation = drop to drop them and refit, or remove the regressors involved"));
  for (Eigen::Index i : sep.rows) {
    const Eigen::Index row = s.rows[static_cast<std::size_t>(i)];
    keep[static_cast<std::size_t>(row)] = 0;
    r.separated_rows.push_back(row);
  }
  for (Eigen::Index c : cols)
    if (std::find(r.separating_columns.begin(), r.separating_columns.end(), c) == r.separating_columns.end())
      r.separating_columns.push_back(c);
}

/// Log-likelihood and deviance of the null model (intercept only, with the offset; closed form) and
/// McFadden's pseudo-R² 1 − ℓ/ℓ₀ (ll: the model's log-likelihood).
void fill_null_model(const glm_sample& s, glm_family family, double ll, glm_result& r) {
  const Eigen::Index m = s.m;
  const bool has_w = s.w.size() > 0, has_off = s.off.size() > 0;
  double sw = 0, swy = 0, swe = 0;
  for (Eigen::Index i = 0; i < m; ++i) {
    const double wi = has_w ? s.w(i) : 1.0;
    sw += wi;
    swy += wi * s.y(i);
    swe += wi * (has_off ? std::exp(s.off(i)) : 1.0);
  }
  double lln = 0, devn = 0;
  for (Eigen::Index i = 0; i < m; ++i) {
    double eta0;
    if (family == glm_family::poisson) eta0 = std::log(swy / swe) + (has_off ? s.off(i) : 0.0);
    else if (family == glm_family::logit) eta0 = std::log(swy / (sw - swy));
    else if (family == glm_family::cloglog) eta0 = std::log(-std::log1p(-swy / sw));
    else eta0 = boost::math::quantile(boost::math::normal(), swy / sw);
    const glm_point g = evaluate(family, s.y(i), eta0);
    const double wi = has_w ? s.w(i) : 1.0;
    lln += wi * g.loglik;
    devn += wi * g.deviance;
  }
  r.loglik_null = lln;
  r.null_deviance = devn;
  r.pseudo_r2 = lln != 0 ? 1.0 - ll / lln : std::numeric_limits<double>::quiet_NaN();
}

/// The estimated fixed effects on the link scale (tracked through the iterations: η̂ = offset + Xβ̂ + Dα̂),
/// dimensions ≥ 2 shifted so that their first level is 0 and the shift moved into dimension 1.
void fill_fixed_effects(const irls_fit& fit, Eigen::Index k_fe, glm_result& r) {
  r.k_fe = k_fe;
  for (const auto& d : fit.absorbed.dims) r.fe_sizes.push_back(d.n_groups);
  const std::size_t K = fit.absorbed.dims.size();
  for (std::size_t d = 0; d < K; ++d) {
    r.fixef.push_back(fit.alpha[d]);
    r.fixef_labels.push_back(fit.absorbed.level_labels(d));
  }
  for (std::size_t d = 1; d < K; ++d) {
    const double shift = r.fixef[d](0);
    r.fixef[d].array() -= shift;
    r.fixef[0].array() += shift;
  }
}

}  // namespace

}  // namespace impactkit::detail

namespace impactkit {

glm_result glm(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, glm_family family,
               const glm_options& opt) {
  const char* fn = "glm";
  const Eigen::Index n = X.rows();
  const std::string fam = glm_family_name(family);
  detail::validate_glm_input(X, y, family, opt, fn);
  const vcov_kind kind = opt.vcov.kind;
  const bool has_fe = opt.fixed_effects.size() > 0;

  glm_result r;
  r.family = family;
  r.weighted = opt.weights.size() > 0;
  r.has_offset = opt.offset.size() > 0;
  r.information = opt.information;
  std::vector<char> keep(static_cast<std::size_t>(n), 1);
  detail::glm_sample s;
  detail::irls_fit fit;
  for (int round = 0;; ++round) {
    if (has_fe) detail::drop_uninformative_groups(opt.fixed_effects, y, family, opt.absorb.drop_singletons, keep, r.n_fe_dropped, r.n_singletons);
    s = detail::make_sample(X, y, opt, keep);
    detail::require(s.m > 0, fn, has_fe ? "no observation is left after dropping fixed-effect groups with a constant outcome"
                                         : "no observation is left");
    const double share = detail::outcome_share(s, family, fam, fn);
    vcov_spec spec = opt.vcov;
    if (is_cluster_kind(kind)) spec.clusters = s.clusters;
    fit = detail::run_irls(s, family, opt, spec);
    const bool suspicious = !fit.converged || detail::count_boundary(family, s.y, fit.eta, 1e-6, share) > 0;
    const bool run_check = opt.check_separation == separation_check::always ||
                           (opt.check_separation == separation_check::automatic && suspicious);
    if (!run_check || fit.kept.empty()) break;
    const detail::separation_outcome sep = detail::find_separation(s, fit, family, has_fe, opt);
    r.separation_checked = sep.converged;
    if (!sep.converged || sep.rows.empty()) break;
    detail::drop_separated(sep, s, fit, family, fam, opt, fn, keep, r);
    detail::require(round < 20, fn, "separation: too many rounds of dropping separated observations");
  }
  std::sort(r.separated_rows.begin(), r.separated_rows.end());
  if (!fit.converged)
    throw convergence_error("impactkit::glm: " + fam + " did not converge: " + fit.failure + " (tol " + detail::format_g(opt.tol) +
                            ", max_iter " + std::to_string(opt.max_iter) + ")" +
                            (r.separation_checked ? "; no separation was found" : "; the separation check did not run or did not converge") +
                            "; raise max_iter, rescale the regressors or check for separation");

  // ---- estimates and fit statistics ---------------------------------------------------------------
  const Eigen::Index m = s.m, p = static_cast<Eigen::Index>(fit.kept.size());
  const bool has_w = s.w.size() > 0;
  const Eigen::Index k_fe = has_fe ? fit.absorbed.dof.k_fe : 0;
  detail::require(m > p + k_fe, fn, "needs more observations (" + std::to_string(m) + ") than estimated coefficients (" +
                                        std::to_string(p + k_fe) + (k_fe ? ", including absorbed fixed effects" : "") + ")");
  r.nobs = m;
  r.rank = p;
  r.iterations = fit.iterations;
  r.kept_columns = fit.kept;
  r.dropped_columns = fit.dropped;
  r.coef = fit.beta;
  r.linear_predictor = fit.eta;
  r.fitted.resize(m);
  if (!s.all_rows) r.used_rows = s.rows;
  Eigen::VectorXd W(m), sqrt_w(m), u(m);
  double ll = 0, dev = 0;
  for (Eigen::Index i = 0; i < m; ++i) {
    const detail::glm_point g = detail::evaluate(family, s.y(i), fit.eta(i));
    const double wi = has_w ? s.w(i) : 1.0;
    r.fitted(i) = g.mu;
    ll += wi * g.loglik;
    dev += wi * g.deviance;
    W(i) = wi * (opt.information == information_matrix::observed ? g.w_obs : g.w_exp);
    sqrt_w(i) = std::sqrt(W(i));
    u(i) = wi * g.score;
  }
  r.loglik = ll;
  r.deviance = dev;
  r.n_boundary = detail::count_boundary(family, s.y, fit.eta, 1e-8, 1.0);
  detail::fill_null_model(s, family, ll, r);

  // ---- bread and scores at the estimate -----------------------------------------------------------
  Eigen::MatrixXd Z;  // design of the scores: kept columns, demeaned with the final weights
  if (has_fe) {
    const absorbed_effects ae(fit.absorbed.dims, W.data());
    std::vector<const double*> cols;
    for (Eigen::Index j = 0; j < p; ++j) cols.push_back(fit.Xt.col(j).data());
    Z = ae.demean(cols, opt.absorb.demean).values;
  } else {
    Z.resize(m, p);
    const detail::const_matrix_map Xs = s.X();
    for (Eigen::Index j = 0; j < p; ++j) Z.col(j) = Xs.col(fit.kept[static_cast<std::size_t>(j)]);
  }
  const least_squares_solution info = solve_least_squares(Z, Eigen::VectorXd::Zero(m), sqrt_w.data(), 0.0);
  if (info.rank() < p)
    throw convergence_error("impactkit::glm: " + fam + ": the information matrix is singular at the estimate (fitted values at the "
                            "boundary); check for separation (check_separation = always)");
  const Eigen::MatrixXd bread = info.bread();
  r.bread = bread;
  // Conditioning (as OLS, linear_model_vcov.hpp): when a column is dominated by its mean or out of
  // range, info solved a centred / power-of-two-equilibrated copy Z̃ = Z·P; the sandwich is then
  // formed on Z̃ with its well-conditioned bread and mapped back, V = P Ṽ Pᵀ (unscaled_vcov), instead
  // of B·M·B from the raw bread, which loses the digits the offset cancels (x + 1e8: NaN).
  const bool conditioned = !info.transform.identity();
  const Eigen::MatrixXd Zc = conditioned ? detail::transformed_design(Z, info) : Eigen::MatrixXd();
  const double fy = std::ldexp(1.0, -info.y_exponent());
  if (!has_fe) r.score_weights = u;
  std::vector<Eigen::Index> all(static_cast<std::size_t>(p));
  for (Eigen::Index j = 0; j < p; ++j) all[static_cast<std::size_t>(j)] = j;
  const std::string info_name = opt.information == information_matrix::observed || !(family == glm_family::probit || family == glm_family::cloglog)
                                    ? "observed information (Hessian)"
                                    : "expected (Fisher) information";
  const std::string z_ref = "; z (normal) reference";
  r.vcov_type = kind;
  Eigen::VectorXd survey_df;
  if (kind == vcov_kind::iid) {
    r.vcov = conditioned ? detail::unscaled_vcov(info, info.scaled_bread() * (fy * fy), fn) : bread;
    r.ssc_factor = 1.0;
    r.conventions.kind = variance_kind::model;
    r.conventions.df = df_rule::normal;
    r.conventions.n_obs = m;
    r.conventions.n_params = p;
    r.vcov_convention = "model-based (iid): inverse of the " + info_name + " at the estimate, no small-sample factor" + z_ref;
  } else {
    vcov_spec spec = has_fe ? fit.absorbed.vcov : opt.vcov;
    if (!has_fe && is_cluster_kind(kind)) spec.clusters = s.clusters;
    if (kind == vcov_kind::survey) spec.survey_rows = s.survey_rows;
    const bool cluster = is_cluster_kind(kind);
    const Eigen::Index n_params = p + (has_fe ? (cluster ? fit.absorbed.dof.k_fe_cluster : fit.absorbed.dof.k_fe) : 0);
    spec.ssc.maximum_likelihood = opt.stata_ml_ssc;
    vcov_estimate v;
    if (conditioned) {
      const Eigen::VectorXd us = u * fy;
      v = sandwich_vcov(info.scaled_bread(), Zc, all, us.data(), spec, n_params);
      v.vcov = detail::unscaled_vcov(info, v.vcov, fn);
    } else {
      v = sandwich_vcov(bread, Z, all, u.data(), spec, n_params);
    }
    r.vcov = v.vcov;
    r.ssc_factor = v.factor;
    r.n_clusters = v.n_clusters;
    r.conventions = v.conventions;
    if (kind != vcov_kind::survey) {  // maximum-likelihood models: z (normal) reference
      r.conventions.df = df_rule::normal;
      r.conventions.df_value = std::numeric_limits<double>::infinity();
    }
    std::string conv = r.conventions.describe();
    if (!opt.stata_ml_ssc && k_fe && kind != vcov_kind::hc0 && kind != vcov_kind::cr0) {
      const Eigen::Index counted = cluster ? fit.absorbed.dof.k_fe_cluster : fit.absorbed.dof.k_fe;
      conv += counted == k_fe ? "; k includes the " + std::to_string(k_fe) + " absorbed fixed-effect coefficients"
                              : "; k includes " + std::to_string(counted) + " of the " + std::to_string(k_fe) +
                                    " absorbed fixed-effect coefficients (the " + std::to_string(k_fe - counted) +
                                    " nested in the clusters are not counted)";
    }
    r.vcov_convention = conv + "; bread: inverse " + info_name + ", scores from the log-likelihood";
    if (kind == vcov_kind::survey) survey_df = v.df;  // R svyglm: t with #PSU − #strata − k + 1 df
  }
  r.se = detail::standard_errors(r.vcov);
  r.df_inference = survey_df.size() ? survey_df : Eigen::VectorXd::Constant(p, std::numeric_limits<double>::infinity());

  if (has_fe) detail::fill_fixed_effects(fit, k_fe, r);

  return r;
}

}  // namespace impactkit
