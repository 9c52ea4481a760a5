#pragma once
// Absorbed fixed effects: the projection M_D that removes K sets of group means (K-way fixed
// effects) from any number of columns, with optional weights.
//
// Algorithm. For one column x, the fixed-effect coefficients α = (α_1, …, α_K) solve the normal
// equations D'WD α = D'Wx. One Gauss–Seidel sweep F updates each α_d in turn to the weighted group
// means of x − Σ_{d'≠d} α_{d'}; the iteration runs on the state s = (α_2, …, α_K) (α_1 follows
// from s) and is accelerated with Irons & Tuck (1969) as in fixest (Bergé 2018, "Efficient
// estimation of maximum likelihood models with multiple fixed-effects: the R package FENmlm",
// §3): with GX = F(X), GGX = F(GX), Δ = GGX − GX, Δ² = Δ − GX + X,
// X ← GGX − (⟨Δ, Δ²⟩/⟨Δ², Δ²⟩) Δ. It stops when max |F(X) − X| / (0.1 + |X|) < tol and throws
// convergence_error at the iteration cap. The state has Σ G_d entries, so a sweep reads only the
// group codes (not x) and costs K passes over n integers; the demeaned column is formed once at
// the end, x̃ = x − Σ_d α_d[g_d(i)]. Columns are independent problems solved in parallel, each
// in a fixed order: results do not depend on the thread count.
//
// Two dimensions, one of them small (G_s ≤ 256 levels: survey rounds, years, districts): the
// normal equations are solved exactly instead. Eliminating the large dimension b leaves the G_s×G_s
// system A·α_s = S_s − Cᵀ W_b⁻¹ S_b with A = W_s − Cᵀ W_b⁻¹ C (C the weighted b×s cross-tabulation;
// the Schur complement of the fixed-effect normal equations). A is factored once (pseudo-inverse:
// its null space is one constant per connected component); each column then costs four passes
// (sums, right-hand side, α_b = W_b⁻¹(S_b − C α_s), x̃) and no tolerance is involved.
//
// Memory locality. Every pass scatters into or gathers from per-level tables; with 10⁶ levels the
// table of the large dimension does not stay in cache between passes and each row costs a memory
// round trip. absorb_fixed_effects therefore orders the rows it keeps by the levels of the largest
// dimension (a stable counting sort) and gathers the columns once into that order: every pass then
// reads that table sequentially, and only the small dimensions are accessed at random. Estimators
// run on the rows in this order and map row-wise outputs (residuals) back to input order.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "../detail/gather.hpp"
#include "groups.hpp"
#include "../detail/moments.hpp"
#include "../detail/threads.hpp"
#include "vcov.hpp"

namespace impactkit {

struct demean_options {
  double tol = 1e-8;      ///< on max |F(s) − s| / (0.1 + |s|) over the FE coefficients
  int max_iter = 10000;   ///< Irons–Tuck iterations (each two sweeps)
};

/// Rows to keep after iteratively removing observations alone in a group of any dimension
/// (singletons carry no within-group information; reghdfe, Correia 2015). Returns keep flags and,
/// when `kept_counts` is given, the rows kept per group of each dimension.
/// One counting pass per dimension, then only the removed rows are revisited: a removal lowers the
/// counts of the row's other groups, which may create new singletons (found through a work list).
std::vector<char> non_singleton_rows(const std::vector<group_codes>& dims, Eigen::Index n,
                                     std::vector<std::vector<Eigen::Index>>* kept_counts = nullptr);

/// Number of connected components of the bipartite graph linking the groups of two dimensions
/// (each component makes one level of the second dimension redundant; Abowd, Creecy & Kramarz 2002).
int connected_components(const group_codes& a, const group_codes& b);

/// True when every group of `fe` lies inside a single group of `cluster`.
bool nested_in(const group_codes& fe, const group_codes& cluster);

/// Columns after the projection, with the fixed-effect coefficients that were removed.
struct demeaned_columns {
  Eigen::MatrixXd values;                    ///< n×m, x̃ = x − Σ_d α_d[g_d(i)]
  std::vector<Eigen::MatrixXd> coefficients; ///< per dimension d: G_d × m matrix of α_d
  std::vector<int> iterations;               ///< Irons–Tuck iterations per column
  std::vector<double> raw_squared_norm;      ///< Σ x_i² of each column before the projection
  std::vector<double> centred_squared_norm;  ///< Σ w_i (x_i − x̄_w)² of each column before the projection (+inf beyond the double range)
  /// The same sums for x·2^(−e) with e = norm_exponent (0 unless the sums of x itself over- or
  /// underflow): raw_squared_norm = 4^e·scaled_raw_squared_norm, likewise centred.
  std::vector<int> norm_exponent;
  std::vector<double> scaled_raw_squared_norm, scaled_centred_squared_norm;
};

/// K fixed-effect dimensions over n rows with (optional) positive weights. The dimensions are
/// borrowed (they must outlive the object); the weights are copied.
class absorbed_effects {
 public:
  absorbed_effects(std::vector<group_codes>&& dims, const double* w) = delete;  // the dimensions would dangle
  absorbed_effects(const std::vector<group_codes>& dims, const double* w);

  Eigen::Index n() const { return n_; }
  const std::vector<group_codes>& dims() const { return dims_; }
  /// True when the two-dimension exact solve (see the file comment) is used.
  bool exact_two_way() const { return schur_pinv_.size() > 0; }

  /// Applies M_D to m columns of n rows each (copied; see demean_in_place).
  demeaned_columns demean(const std::vector<const double*>& column_data, const demean_options& opt = {}) const;

  /// Applies M_D to the columns of `values` in place (n×m); returns the coefficients removed and
  /// the iteration counts (`values` of the result is left empty).
  demeaned_columns demean_in_place(Eigen::Ref<Eigen::MatrixXd> values, const demean_options& opt = {}) const;

 private:
  double weight(Eigen::Index i) const { return w_.empty() ? 1.0 : w_[static_cast<std::size_t>(i)]; }

  // acc_d[g] = Σ_{i∈g} w_i Σ_{d'≠d} α_{d'}[g_{d'}(i)], then α_d = (S_d − acc_d) / W_d.
  void update_dimension(std::size_t d, const std::vector<Eigen::VectorXd>& S, std::vector<Eigen::VectorXd>& alpha) const;

  // One Gauss–Seidel sweep: state (α_2..α_K) -> new state; α_1 left in alpha[0].
  void sweep(const std::vector<Eigen::VectorXd>& S, std::vector<Eigen::VectorXd>& alpha) const;

  static void pack(const std::vector<Eigen::VectorXd>& alpha, Eigen::VectorXd& state);
  static void unpack(const Eigen::VectorXd& state, std::vector<Eigen::VectorXd>& alpha);

  // Σ (f·x)² and the weighted moments of f·x, block by block (f a power of two).
  void column_moments(const double* x, const double* w, double f, double& raw, detail::weighted_moments& moments) const;

  bool demean_column(double* x, const demean_options& opt, Eigen::Index j, demeaned_columns& out) const;

  // A = W_s − Cᵀ W_b⁻¹ C accumulated over the large groups (rows sorted by large group), in fixed
  // chunks of groups summed in order; then its pseudo-inverse (eigenvalues ≤ 1e-11·max set to 0).
  void build_schur();

  const std::vector<group_codes>& dims_;
  Eigen::Index n_ = 0;
  std::vector<double> w_;
  std::vector<Eigen::VectorXd> inv_weight_;
  int small_ = -1;                 ///< the small dimension of an exact two-way solve
  Eigen::MatrixXd schur_pinv_;     ///< pseudo-inverse of the Schur complement A (empty: iterate)
};

/// Coefficients absorbed by fixed effects, as counted in small-sample factors and df:
/// `k_fe` for iid and HC (n − k − k_fe); `k_fe_cluster` for CR0/CR1, where fixed effects nested
/// in the cluster variable are not counted (fixest/pyfixest "nonnested", reghdfe).
struct absorbed_dof {
  Eigen::Index k_fe = 0;
  Eigen::Index k_fe_cluster = 0;
};

/// How absorbed fixed effects count in k of n − k (fixest's `fixef.K`): all of them ("full"), all
/// but those nested in a cluster dimension ("nonnested", the default of fixest, pyfixest and
/// reghdfe for cluster-robust variances), or none.
enum class fixef_count { nonnested, full, none };

/// How many coefficients the absorbed fixed effects count for in small-sample factors and df. A
/// property of the absorption, not of the variance: a new variance of the same fit keeps it.
struct fixed_effect_dof {
  fixef_count count = fixef_count::nonnested;
  /// Redundant fixed-effect levels: K − 1 (fixest, pyfixest) or, exactly, one per connected
  /// component of the first two dimensions plus one per further dimension (reghdfe).
  bool exact_redundancy = false;
};

struct absorb_options {
  bool drop_singletons = true;   ///< drop rows alone in a fixed-effect group (reghdfe, pyfixest); fixest keeps them
  demean_options demean;
  /// A column is spanned by the fixed effects when its within-transformed norm is at most this
  /// fraction of its centred norm (weighted; the projection is exact only to demean.tol); it is
  /// then set to 0. (Against the centred norm, an offset such as x + 10⁷ changes nothing.)
  double collin_tol = 1e-6;
  /// Order the kept rows by the levels of the largest dimension (see the file comment); false
  /// keeps input order (callers that pair the rows with data of their own, e.g. GLM weights).
  bool group_order = true;
  fixed_effect_dof dof;          ///< absorbed coefficients counted in n − k
  /// A cluster-robust vcov_spec without cluster labels clusters on these absorbed dimensions (indices
  /// into the fixed effects; e.g. {0}): their level codes are the labels, nothing n-long is passed.
  std::vector<int> cluster_fixed_effects;
};

/// Columns with the fixed effects projected out, restricted to the rows that survive singleton
/// removal, with everything an estimator needs downstream (weights, cluster labels and fixed-effect
/// levels on those rows, absorbed degrees of freedom). Shared by every estimator that absorbs fixed
/// effects (OLS, IV, GLMs). The within rows are the kept rows in the order of the levels of the
/// largest fixed effect (absorb_options::group_order) or in input order.
struct within_transformed {
  demeaned_columns columns;              ///< m×c values and the fixed-effect coefficients per column
  std::vector<Eigen::Index> rows;        ///< kept input rows, ascending (empty when all rows are kept)
  detail::row_permutation order;         ///< kept row t sits at within row dest[t] (empty: input order)
  bool all_rows = true;
  std::vector<group_codes> dims;         ///< fixed effects on the within rows
  std::vector<Eigen::VectorXi> level_label;  ///< per dimension: the input label of each level (int range)
  std::vector<double> weights;           ///< weights on the within rows (empty: unweighted)
  vcov_spec vcov;                        ///< the caller's spec with cluster labels on the within rows
  absorbed_dof dof;
  fixed_effect_dof dof_rule;             ///< absorb_options::dof of the absorption
  std::vector<int> cluster_fixed_effects;  ///< absorb_options::cluster_fixed_effects of the absorption
  std::vector<char> spanned;             ///< per column: numerically spanned by the fixed effects
  Eigen::Index n_input = 0, n_kept = 0;

  Eigen::Index n() const { return n_kept; }
  const double* weight_data() const { return weights.empty() ? nullptr : weights.data(); }
  Eigen::Index levels(std::size_t d) const { return dims[d].n_groups; }
  /// A length-n_input column on the within rows.
  Eigen::VectorXd used(const double* x) const {
    Eigen::VectorXd out(n());
    gather(x, out.data());
    return out;
  }
  /// dst (n() entries) = the length-n_input column x on the within rows.
  template <typename T>
  void gather(const T* x, T* dst) const {
    const Eigen::Index* kept = all_rows ? nullptr : rows.data();
    if (!order.empty()) {
      order.scatter(x, kept, dst);
    } else if (kept) {
      for (Eigen::Index t = 0; t < n(); ++t) dst[t] = x[kept[t]];
    } else {
      std::copy(x, x + n(), dst);
    }
  }
  /// dst (n() entries) = x on the kept rows (ascending input order, n() entries) moved to the within rows.
  template <typename T>
  void gather_kept(const T* x, T* dst) const {
    if (!order.empty()) order.scatter(x, static_cast<const Eigen::Index*>(nullptr), dst);
    else std::copy(x, x + n(), dst);
  }
  /// A vector over the within rows, put back in input order (ascending kept rows).
  Eigen::VectorXd in_input_order(const Eigen::VectorXd& v) const { return in_input_order(Eigen::VectorXd(v)); }
  /// The same, reusing v's storage.
  Eigen::VectorXd in_input_order(Eigen::VectorXd&& v) const {
    if (!order.empty()) {
      std::vector<double> tmp;
      order.gather(v.data(), v.data(), tmp);
    }
    return std::move(v);
  }
  /// The input label of each level of dimension d.
  const Eigen::VectorXi& level_labels(std::size_t d) const { return level_label[d]; }
};

/// The variance step of an absorption: `vcov`, the spec with cluster labels (or design rows) moved to
/// the within rows of `wt` (a cluster kind without labels: the codes of wt.cluster_fixed_effects),
/// and `dof`, the absorbed coefficients under wt.dof_rule (fixed effects nested in a cluster or
/// first-stage PSU count one level under fixef_count::nonnested). `fe` (may be
/// null): the input label columns, so that a cluster equal to a fixed effect reuses its level codes.
/// Estimators call it again to give a fit another variance without re-absorbing (iv_with_vcov).
/// `labels_on_kept_rows`: spec's cluster labels have one row per kept row (ascending input order, as
/// an estimator's residuals; wt.rows is then not read) instead of one per input row; not for survey.
void within_variance(const within_transformed& wt, const std::vector<label_column>* fe, const vcov_spec& spec, const char* fn,
                     vcov_spec& vcov, absorbed_dof& dof, bool labels_on_kept_rows = false);

/// Projects the fixed effects `fe` (K borrowed label columns of length n) out of the columns
/// `columns[j]` (each of length n), after removing singletons: factorisation and singletons, levels
/// and row order, demeaning, spanned columns. Levels are numbered in order of first appearance in the
/// input; levels left without rows by singleton removal are skipped. Absorbed df per opt.dof:
/// Σ G_d − (K − 1) (fixest, pyfixest) or exact redundancy (reghdfe); wt.vcov is the default spec
/// and wt.dof its count. Give the result a variance with within_variance (for cluster-robust
/// variances under fixef_count::nonnested, a dimension nested in a cluster dimension counts one level).
within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const std::vector<label_column>& fe, const absorb_options& opt = {});

/// The K columns of an n×K matrix of fixed-effect labels as borrowed label columns (checked: n rows).
std::vector<label_column> fixed_effect_label_columns(const Eigen::MatrixXi& fe_labels, Eigen::Index n);

/// The same with the fixed effects as an n×K matrix of integer labels.
within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const Eigen::MatrixXi& fe_labels, const absorb_options& opt = {});

/// Absorption, then within_variance with `spec` (the form before absorption stopped taking a variance).
[[deprecated("absorb_fixed_effects(columns, n, w, fe, opt), then within_variance")]]
within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const std::vector<label_column>& fe, const vcov_spec& spec, const absorb_options& opt = {});
[[deprecated("absorb_fixed_effects(columns, n, w, fe_labels, opt), then within_variance")]]
within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const Eigen::MatrixXi& fe_labels, const vcov_spec& spec, const absorb_options& opt = {});

}  // namespace impactkit
