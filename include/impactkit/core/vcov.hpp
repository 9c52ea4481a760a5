#pragma once
// Sandwich variance estimators shared by every estimator (DESIGN.md §2).
//
// An estimator supplies its bread B (p×p; for M-estimators the inverse Hessian, for least squares
// (X'WX)⁻¹) and per-observation scores s_i = u_i·z_i (z_i a row of a score-carrying matrix Z,
// u_i a scalar; for least squares z_i = x_i and u_i = w_i·e_i, for a general estimator Z is the
// score matrix itself and u ≡ 1). Then
//   heteroskedasticity-robust  V = c · B (Σ_i s_i s_iᵀ) B                      (White 1980; HC0/HC1)
//   cluster-robust             V = c · B (Σ_g S_g S_gᵀ) B,  S_g = Σ_{i∈g} s_i   (Liang–Zeger 1986)
//   multiway                   V = Σ_{∅≠T⊆{1..m}} (−1)^{|T|+1} c_T · B M_T B, M_T the cluster meat
//                              on the intersection of the dimensions in T (Cameron, Gelbach &
//                              Miller 2011, eq. 2.13)
// with small-sample factors c:  HC1 n/(n−p);  CR1 G/(G−1)·(n−1)/(n−p) (Stata, fixest);  in the
// multiway case G is G_min = min over dimensions (fixest/pyfixest/reghdfe, `cluster_df_rule::min`)
// or each term's own count (CGM, statsmodels, `cluster_df_rule::conventional`).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "cross_product.hpp"
#include "errors.hpp"
#include "groups.hpp"
#include "row_blocks.hpp"
#include "threads.hpp"

namespace impactkit {

enum class vcov_kind { iid, hc0, hc1, hc2, hc3, cr0, cr1, cr2, cr3 };

inline const char* vcov_name(vcov_kind k) {
  switch (k) {
    case vcov_kind::iid: return "iid";
    case vcov_kind::hc0: return "HC0";
    case vcov_kind::hc1: return "HC1";
    case vcov_kind::hc2: return "HC2";
    case vcov_kind::hc3: return "HC3";
    case vcov_kind::cr0: return "CR0";
    case vcov_kind::cr1: return "CR1";
    case vcov_kind::cr2: return "CR2";
    case vcov_kind::cr3: return "CR3";
  }
  return "?";
}

/// "iid", "HC0".."HC3", "CR0".."CR3" (case-insensitive); "robust"/"hetero" mean HC1.
inline vcov_kind parse_vcov_kind(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (s == "IID" || s == "CLASSICAL" || s == "NONROBUST") return vcov_kind::iid;
  if (s == "HC0") return vcov_kind::hc0;
  if (s == "HC1" || s == "ROBUST" || s == "HETERO") return vcov_kind::hc1;
  if (s == "HC2") return vcov_kind::hc2;
  if (s == "HC3") return vcov_kind::hc3;
  if (s == "CR0") return vcov_kind::cr0;
  if (s == "CR1" || s == "CLUSTER") return vcov_kind::cr1;
  if (s == "CR2") return vcov_kind::cr2;
  if (s == "CR3") return vcov_kind::cr3;
  detail::throw_invalid("parse_vcov_kind", "unknown vcov '" + s + "'; use iid, HC0, HC1, HC2, HC3, CR0, CR1, CR2 or CR3");
}

inline bool is_cluster_kind(vcov_kind k) {
  return k == vcov_kind::cr0 || k == vcov_kind::cr1 || k == vcov_kind::cr2 || k == vcov_kind::cr3;
}

/// Multiway small-sample rule: one G_min for every term, or each term its own G.
enum class cluster_df_rule { min, conventional };

/// How absorbed fixed effects count in k of n − k (fixest's `fixef.K`): all of them ("full"), all
/// but those nested in a cluster dimension ("nonnested", the default of fixest, pyfixest and
/// reghdfe for cluster-robust variances), or none.
enum class fixef_count { nonnested, full, none };

/// Small-sample corrections (fixest's `ssc()` vocabulary). Defaults reproduce fixest/pyfixest.
struct small_sample {
  bool adj = true;          ///< (n−1)/(n−p) in CR1
  bool cluster_adj = true;  ///< G/(G−1) in CR1
  cluster_df_rule cluster_df = cluster_df_rule::min;
  fixef_count fixef_k = fixef_count::nonnested;
  /// Redundant fixed-effect levels: K − 1 (fixest, pyfixest) or, exactly, one per connected
  /// component of the first two dimensions plus one per further dimension (reghdfe).
  bool exact_redundancy = false;
};

/// What variance to compute. `clusters` holds n×m integer labels (any integers) for m ≥ 1
/// cluster dimensions; it is ignored (and may be empty) for iid and HC kinds.
struct vcov_spec {
  vcov_kind kind = vcov_kind::hc1;
  Eigen::MatrixXi clusters;
  small_sample ssc;
  /// Cluster on absorbed fixed-effect dimensions (indices into the fixed effects) instead of
  /// `clusters`: their level codes are the cluster labels, so nothing n-long is passed or compared.
  /// Only with absorbed fixed effects.
  std::vector<int> fixed_effect_clusters;

  static vcov_spec iid() { return vcov_spec{vcov_kind::iid, {}, {}, {}}; }
  static vcov_spec hc(int type) {
    detail::require(type >= 0 && type <= 3, "vcov_spec::hc", "HC type must be 0, 1, 2 or 3");
    static const vcov_kind kinds[] = {vcov_kind::hc0, vcov_kind::hc1, vcov_kind::hc2, vcov_kind::hc3};
    return vcov_spec{kinds[type], {}, {}, {}};
  }
  static vcov_spec cluster(const Eigen::Ref<const Eigen::MatrixXi>& codes, vcov_kind kind = vcov_kind::cr1,
                           small_sample ssc = {}) {
    detail::require(is_cluster_kind(kind), "vcov_spec::cluster", std::string("kind must be CR0..CR3, got ") + vcov_name(kind));
    return vcov_spec{kind, codes, ssc, {}};
  }
  /// Cluster on the absorbed fixed effects `dims` (one cluster dimension each; e.g. {0} for the first).
  static vcov_spec cluster_on_fixed_effects(std::vector<int> dims, vcov_kind kind = vcov_kind::cr1, small_sample ssc = {}) {
    detail::require(is_cluster_kind(kind), "vcov_spec::cluster_on_fixed_effects", std::string("kind must be CR0..CR3, got ") + vcov_name(kind));
    detail::require(!dims.empty(), "vcov_spec::cluster_on_fixed_effects", "no fixed-effect dimension given");
    return vcov_spec{kind, {}, ssc, std::move(dims)};
  }
};

/// A variance estimate with the conventions that produced it.
struct vcov_estimate {
  Eigen::MatrixXd vcov;                 ///< p×p
  Eigen::VectorXd df;                   ///< inference degrees of freedom per coefficient (+inf: normal)
  vcov_kind kind = vcov_kind::hc1;
  double factor = 1.0;                  ///< small-sample factor applied (one-way; first term multiway)
  std::vector<Eigen::Index> n_clusters; ///< per cluster dimension
  std::string convention;               ///< plain-words description
};

namespace detail {

/// Σ_i u_i² z_i z_iᵀ over the columns `cols` of Z (u null: u ≡ 1). One pass over Z, fixed chunks;
/// the kernel weights each row by d_i = u_i² (no scaled copy of the block).
inline Eigen::MatrixXd weighted_cross_product(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols,
                                              const double* u) {
  const Eigen::Index n = Z.rows(), p = static_cast<Eigen::Index>(cols.size());
  const Eigen::Index block = 1024;
  const row_chunks chunks = make_row_chunks(n, 8 * block);
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(chunks.count));
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(p, p);
    std::vector<double> d(u ? static_cast<std::size_t>(block) : 0);
    std::vector<const double*> col(static_cast<std::size_t>(p));
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = Z.col(cols[static_cast<std::size_t>(j)]).data() + b0;
      if (u)
        for (Eigen::Index i = 0; i < len; ++i) d[static_cast<std::size_t>(i)] = u[b0 + i] * u[b0 + i];
      accumulate_cross_product(col.data(), p, len, acc.data(), u ? d.data() : nullptr);
    }
    partial[static_cast<std::size_t>(c)] = acc;
  }
  Eigen::MatrixXd total = Eigen::MatrixXd::Zero(p, p);
  for (const auto& m : partial) total += m;
  return symmetric_from_lower(total);
}

/// G×p matrix of within-group score sums S_g = Σ_{i∈g} u_i z_i (u null: u ≡ 1).
/// Every column is summed in row order, so the result is the same for any thread count and any
/// split of the columns; the columns are split into one contiguous group per thread and each
/// thread sweeps the rows once for its whole group (u and the codes are read once per thread, not
/// once per column).
inline Eigen::MatrixXd group_score_sums(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols,
                                        const double* u, const group_codes& g) {
  const Eigen::Index n = Z.rows(), p = static_cast<Eigen::Index>(cols.size());
  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(g.n_groups, p);
  const int* code = g.code.data();
  const int threads = threads_for(p, static_cast<double>(n));
  const Eigen::Index groups = std::max(1, threads);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index t = 0; t < groups; ++t) {
    const Eigen::Index j0 = p * t / groups, j1 = p * (t + 1) / groups;
    // sweeps of at most 8 columns, so that a sweep reads a bounded number of streams
    const Eigen::Index sweeps = (j1 - j0 + 7) / 8;
    for (Eigen::Index sw = 0; sw < sweeps; ++sw) {
      const Eigen::Index jb = j0 + (j1 - j0) * sw / sweeps, je = j0 + (j1 - j0) * (sw + 1) / sweeps, m = je - jb;
      const double* z[8];
      double* s[8];
      for (Eigen::Index q = 0; q < m; ++q) {
        z[q] = Z.col(cols[static_cast<std::size_t>(jb + q)]).data();
        s[q] = sums.col(jb + q).data();
      }
      for (Eigen::Index i = 0; i < n; ++i) {
        const double ui = u ? u[i] : 1.0;
        const int gi = code[i];
        for (Eigen::Index q = 0; q < m; ++q) s[q][gi] += ui * z[q][i];
      }
    }
  }
  return sums;
}

/// Factorised cluster dimensions of a spec, validated against n (≥ 2 clusters each).
inline std::vector<group_codes> cluster_dimensions(const vcov_spec& spec, Eigen::Index n, const char* function) {
  require(spec.clusters.cols() >= 1, function, std::string("vcov ") + vcov_name(spec.kind) + " needs cluster labels (one column per dimension)");
  require(spec.clusters.rows() == n, function, "cluster labels have " + std::to_string(spec.clusters.rows()) +
                                                   " rows but the data have " + std::to_string(n));
  std::vector<group_codes> dims;
  for (Eigen::Index d = 0; d < spec.clusters.cols(); ++d) {
    dims.push_back(factorize(spec.clusters.col(d)));
    require(dims.back().n_groups >= 2, function,
            "cluster dimension " + std::to_string(d) + " has " + std::to_string(dims.back().n_groups) +
                " cluster(s); a cluster-robust variance needs at least 2 (use a heteroskedasticity-robust vcov instead)");
  }
  return dims;
}

/// HC0 or HC1 sandwich c·B·M·B from its meat M = Σ_i s_i s_iᵀ over n observations, `n_params` the
/// p of n−p: the one place that sets the small-sample factor, the df and the convention of HC0/HC1
/// (sandwich_vcov, and fused passes that accumulate the meat themselves).
inline vcov_estimate hc_sandwich(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& meat,
                                 vcov_kind kind, Eigen::Index n, Eigen::Index n_params) {
  require(kind == vcov_kind::hc0 || kind == vcov_kind::hc1, "hc_sandwich", std::string("expects HC0 or HC1, got ") + vcov_name(kind));
  require(n > n_params, "hc_sandwich", "needs more observations (" + std::to_string(n) + ") than parameters (" + std::to_string(n_params) + ")");
  const double nn = static_cast<double>(n), kk = static_cast<double>(n_params);
  vcov_estimate out;
  out.kind = kind;
  out.factor = kind == vcov_kind::hc1 ? nn / (nn - kk) : 1.0;
  out.vcov = out.factor * bread * meat * bread;
  out.df = Eigen::VectorXd::Constant(bread.rows(), nn - kk);
  out.convention = std::string(vcov_name(kind)) + " heteroskedasticity-robust" +
                   (kind == vcov_kind::hc1 ? " with small-sample factor n/(n-k)" : " without small-sample factor") + "; t with n-k df";
  return out;
}

}  // namespace detail

/// Heteroskedasticity- or cluster-robust sandwich c·B·M·B from scores s_i = u_i·Z[i, cols]
/// (HC0, HC1, CR0, CR1 with one or more cluster dimensions). `n_params` is p in n−p.
inline vcov_estimate sandwich_vcov(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                                   const std::vector<Eigen::Index>& cols, const double* u, const vcov_spec& spec,
                                   Eigen::Index n_params) {
  const Eigen::Index n = Z.rows(), p = bread.rows();
  detail::require(static_cast<Eigen::Index>(cols.size()) == p, "sandwich_vcov", "bread and score columns disagree in size");
  detail::require(n > n_params, "sandwich_vcov", "needs more observations (" + std::to_string(n) + ") than parameters (" + std::to_string(n_params) + ")");
  if (spec.kind == vcov_kind::hc0 || spec.kind == vcov_kind::hc1)
    return detail::hc_sandwich(bread, detail::weighted_cross_product(Z, cols, u), spec.kind, n, n_params);
  vcov_estimate out;
  out.kind = spec.kind;
  const double nn = static_cast<double>(n), kk = static_cast<double>(n_params);
  detail::require(spec.kind == vcov_kind::cr0 || spec.kind == vcov_kind::cr1, "sandwich_vcov",
                  std::string("vcov ") + vcov_name(spec.kind) + " is not a score-only sandwich; use the estimator's own variance");
  const std::vector<group_codes> dims = detail::cluster_dimensions(spec, n, "sandwich_vcov");
  const std::size_t m = dims.size();
  detail::require(m <= 8, "sandwich_vcov", "at most 8 cluster dimensions are supported");
  Eigen::Index g_min = std::numeric_limits<Eigen::Index>::max();
  for (const auto& d : dims) {
    out.n_clusters.push_back(d.n_groups);
    g_min = std::min<Eigen::Index>(g_min, d.n_groups);
  }
  const bool cr1 = spec.kind == vcov_kind::cr1;
  const double adj = (cr1 && spec.ssc.adj) ? (nn - 1.0) / (nn - kk) : 1.0;
  auto cluster_factor = [&](Eigen::Index g) {
    if (!cr1 || !spec.ssc.cluster_adj) return 1.0;
    const double gg = static_cast<double>(spec.ssc.cluster_df == cluster_df_rule::min ? g_min : g);
    return gg / (gg - 1.0);
  };
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(p, p);
  for (unsigned mask = 1; mask < (1u << m); ++mask) {
    group_codes inter;
    int bits = 0;
    for (std::size_t d = 0; d < m; ++d)
      if (mask & (1u << d)) {
        inter = bits == 0 ? dims[d] : intersect(inter, dims[d]);
        ++bits;
      }
    const Eigen::MatrixXd sums = detail::group_score_sums(Z, cols, u, inter);
    const double sign = (bits % 2 == 1) ? 1.0 : -1.0;
    meat.noalias() += sign * cluster_factor(inter.n_groups) * (sums.transpose() * sums);
  }
  out.factor = adj * cluster_factor(dims[0].n_groups);
  out.vcov = adj * bread * meat * bread;
  out.df = Eigen::VectorXd::Constant(p, static_cast<double>(g_min - 1));
  std::string conv = std::string(vcov_name(spec.kind)) + (m > 1 ? " multiway (Cameron-Gelbach-Miller) cluster-robust" : " cluster-robust");
  if (cr1) {
    conv += std::string(" with small-sample factor ") + (spec.ssc.cluster_adj ? "G/(G-1)" : "") +
            (spec.ssc.cluster_adj && spec.ssc.adj ? "*" : "") + (spec.ssc.adj ? "(n-1)/(n-k)" : "");
    if (m > 1 && spec.ssc.cluster_adj)
      conv += spec.ssc.cluster_df == cluster_df_rule::min ? " using G = min over dimensions" : " using each term's own G";
  } else {
    conv += " without small-sample factor";
  }
  conv += "; t with G-1 df (G = " + std::to_string(g_min) + ")";
  out.convention = conv;
  return out;
}

}  // namespace impactkit
