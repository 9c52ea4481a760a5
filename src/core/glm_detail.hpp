#pragma once
// Private to impactkit_core (not installed): the IRLS machinery behind impactkit::glm (families,
// sample, separation check, iterations). The public API is include/impactkit/core/glm.hpp.
#include <string>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/glm.hpp>

namespace impactkit::detail {

using const_matrix_map = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

// ---- families ------------------------------------------------------------------------------------

constexpr double inv_sqrt_2pi = 0.39894228040143267794;

inline double normal_pdf(double x) { return inv_sqrt_2pi * std::exp(-0.5 * x * x); }
inline double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

/// λ(x) = φ(x)/Φ(x), accurate for every x (Laplace's continued fraction for the Mills ratio below −26).
inline double inverse_mills(double x) {
  if (x > -26.0) return normal_pdf(x) / normal_cdf(x);
  const double t = -x;
  double f = t;
  for (int k = 40; k >= 1; --k) f = t + k / f;
  return f;  // 1 / R(t), R(t) = 1/(t + 1/(t + 2/(t + ...)))
}

/// log Φ(x), accurate in the far lower tail.
inline double log_normal_cdf(double x) {
  if (x > -26.0) return std::log(normal_cdf(x));
  return -0.5 * x * x - std::log(1.0 / inv_sqrt_2pi) - std::log(inverse_mills(x));
}

inline double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline double logistic(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

/// One observation's contributions at linear predictor η.
struct glm_point {
  double mu;       ///< mean (probability)
  double loglik;   ///< ℓ_i (unweighted)
  double score;    ///< ∂ℓ_i/∂η
  double w_obs;    ///< −∂²ℓ_i/∂η²
  double w_exp;    ///< E[−∂²ℓ_i/∂η²]
  double deviance; ///< 2(ℓ_sat − ℓ_i)
};

/// `with_loglik` false skips ℓ_i where it is not needed for the deviance (Poisson: lgamma).
glm_point evaluate(glm_family f, double y, double eta, bool with_loglik = true);

/// Σ p_i D_i(η_i); +inf when any term is not finite. Fixed chunks reduced in order: the same
/// value for any thread count.
double total_deviance(glm_family f, const Eigen::VectorXd& y, const Eigen::VectorXd& eta, const Eigen::VectorXd& w);

// ---- the estimation sample ---------------------------------------------------------------------

/// The rows used in one fit (a subset of the input after dropping rows), with their data.
struct glm_sample {
  Eigen::MatrixXd x_owned;          ///< used when rows were dropped
  const double* x_data = nullptr;
  Eigen::Index x_stride = 0, m = 0, k = 0;
  Eigen::VectorXd y, w, off;        ///< w / off empty when absent
  Eigen::MatrixXi fe, clusters;     ///< empty when absent
  std::vector<Eigen::Index> survey_rows;  ///< survey variance: the design row of each used row
  std::vector<Eigen::Index> rows;   ///< input row of each used row
  bool all_rows = true;
  const_matrix_map X() const { return const_matrix_map(x_data, m, k, Eigen::OuterStride<>(x_stride)); }
};

glm_sample make_sample(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                       const glm_options& opt, const std::vector<char>& keep);

/// Drops, to a fixed point, rows of fixed-effect groups whose outcome is constant in a way that
/// makes the group's fixed effect diverge (Poisson: all zero; binary: all 0 or all 1) and, when
/// `singletons`, rows alone in a group. Counts the rows dropped by each rule.
void drop_uninformative_groups(const Eigen::MatrixXi& fe, const Eigen::Ref<const Eigen::VectorXd>& y, glm_family f,
                               bool singletons, std::vector<char>& keep, Eigen::Index& n_fe_dropped,
                               Eigen::Index& n_singletons);

// ---- separation: the iterative rectifier -------------------------------------------------------

struct separation_outcome {
  bool converged = false;
  std::vector<Eigen::Index> rows;     ///< sample rows separated
  std::vector<Eigen::Index> columns;  ///< positions in `cols` with a non-zero separating coefficient
  int iterations = 0;
};

/// Correia, Guimarães & Zylkin (2021) iterative rectifier on the columns `cols` of X (see the file
/// comment). `dims` null: no fixed effects.
/// `start`: initial U on the boundary rows (null: U = 1).
separation_outcome detect_separation(const const_matrix_map& X, const std::vector<Eigen::Index>& cols, const Eigen::VectorXd& y,
                                     glm_family f, const std::vector<group_codes>* dims, const glm_options& opt,
                                     const Eigen::VectorXd* start = nullptr);

// ---- IRLS ----------------------------------------------------------------------------------------

struct irls_fit {
  Eigen::VectorXd beta;                    ///< kept columns
  std::vector<Eigen::Index> kept, dropped; ///< columns of X
  Eigen::VectorXd eta;
  Eigen::VectorXd step;                    ///< η_t − η_{t−1} of the last accepted step (the direction of divergence under separation)
  double deviance = 0;
  int iterations = 0;
  bool converged = false;
  std::string failure;
  // fixed effects
  bool has_fe = false;
  within_transformed absorbed;             ///< dims, labels, dof and vcov spec on the sample (values moved out)
  Eigen::MatrixXd Xt;                      ///< demeaned kept columns at the last weights
  std::vector<Eigen::VectorXd> alpha;      ///< fixed effects in η̂ per dimension (η̂ = offset + Xβ + Σ_d α_d[g_d])
};

Eigen::VectorXd initial_eta(glm_family f, const Eigen::VectorXd& y, const Eigen::VectorXd& w);

irls_fit run_irls(const glm_sample& s, glm_family f, const glm_options& opt, const vcov_spec& spec);

/// True when fitted values sit within `eps` of the boundary (binary: μ or 1 − μ; Poisson: μ/ȳ for y = 0).
Eigen::Index count_boundary(glm_family f, const Eigen::VectorXd& y, const Eigen::VectorXd& eta, double eps, double ybar);

std::string describe_columns(const std::vector<Eigen::Index>& cols);

}  // namespace impactkit::detail
