// Out-of-line definitions for impactkit/core/fixed_effects.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/fixed_effects.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

namespace impactkit {

absorbed_effects::absorbed_effects(const std::vector<group_codes>& dims, const double* w) : dims_(dims) {
  detail::require(!dims_.empty(), "absorbed_effects", "no fixed-effect dimension given");
  n_ = dims_[0].size();
  for (const auto& d : dims_) detail::require(d.size() == n_, "absorbed_effects", "fixed-effect dimensions differ in length");
  if (w) w_.assign(w, w + n_);
  inv_weight_.resize(dims_.size());
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    Eigen::VectorXd s = Eigen::VectorXd::Zero(dims_[d].n_groups);
    for (Eigen::Index i = 0; i < n_; ++i) s(dims_[d].code[static_cast<std::size_t>(i)]) += weight(i);
    inv_weight_[d] = s.cwiseInverse();
  }
  if (dims_.size() == 2) build_schur();
}

demeaned_columns absorbed_effects::demean(const std::vector<const double*>& column_data, const demean_options& opt) const {
  const Eigen::Index m = static_cast<Eigen::Index>(column_data.size());
  Eigen::MatrixXd values(n_, m);
  const int threads = detail::threads_for(m, static_cast<double>(n_));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index j = 0; j < m; ++j) {
    const double* x = column_data[static_cast<std::size_t>(j)];
    std::copy(x, x + n_, values.col(j).data());
  }
  demeaned_columns out = demean_in_place(values, opt);
  out.values.swap(values);
  return out;
}

demeaned_columns absorbed_effects::demean_in_place(Eigen::Ref<Eigen::MatrixXd> values, const demean_options& opt) const {
  detail::require(values.rows() == n_, "demean", "the columns have " + std::to_string(values.rows()) + " rows but the fixed effects " +
                                                     std::to_string(n_));
  const Eigen::Index m = values.cols();
  detail::require(opt.tol > 0 && opt.max_iter > 0, "demean", "tol and max_iter must be positive");
  demeaned_columns out;
  out.coefficients.resize(dims_.size());
  for (std::size_t d = 0; d < dims_.size(); ++d) out.coefficients[d].resize(dims_[d].n_groups, m);
  out.iterations.assign(static_cast<std::size_t>(m), 0);
  out.raw_squared_norm.assign(static_cast<std::size_t>(m), 0.0);
  out.centred_squared_norm.assign(static_cast<std::size_t>(m), 0.0);
  out.norm_exponent.assign(static_cast<std::size_t>(m), 0);
  out.scaled_raw_squared_norm.assign(static_cast<std::size_t>(m), 0.0);
  out.scaled_centred_squared_norm.assign(static_cast<std::size_t>(m), 0.0);
  std::vector<int> failed(static_cast<std::size_t>(m), 0);
  const int threads = detail::threads_for(m, static_cast<double>(n_) * 20);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index j = 0; j < m; ++j) {
    const std::size_t jj = static_cast<std::size_t>(j);
    failed[jj] = demean_column(values.col(j).data(), opt, j, out) ? 0 : 1;
  }
  for (Eigen::Index j = 0; j < m; ++j)
    if (failed[static_cast<std::size_t>(j)])
      throw convergence_error("impactkit::demean: fixed effects did not converge for column " + std::to_string(j) + " within " +
                              std::to_string(opt.max_iter) + " iterations (tol " + detail::format_g(opt.tol) +
                              "); raise max_iter or check for weakly connected fixed effects");
  return out;
}

void absorbed_effects::update_dimension(std::size_t d, const std::vector<Eigen::VectorXd>& S, std::vector<Eigen::VectorXd>& alpha) const {
  Eigen::VectorXd acc = Eigen::VectorXd::Zero(dims_[d].n_groups);
  const int* gd = dims_[d].code.data();
  const std::size_t K = dims_.size();
  if (K == 2) {
    const std::size_t o = 1 - d;
    const int* go = dims_[o].code.data();
    const double* ao = alpha[o].data();
    if (w_.empty())
      for (Eigen::Index i = 0; i < n_; ++i) acc[gd[i]] += ao[go[i]];
    else
      for (Eigen::Index i = 0; i < n_; ++i) acc[gd[i]] += w_[static_cast<std::size_t>(i)] * ao[go[i]];
  } else {
    for (Eigen::Index i = 0; i < n_; ++i) {
      double s = 0;
      for (std::size_t o = 0; o < K; ++o)
        if (o != d) s += alpha[o][dims_[o].code[static_cast<std::size_t>(i)]];
      acc[gd[i]] += weight(i) * s;
    }
  }
  alpha[d] = (S[d] - acc).cwiseProduct(inv_weight_[d]);
}

void absorbed_effects::sweep(const std::vector<Eigen::VectorXd>& S, std::vector<Eigen::VectorXd>& alpha) const {
  for (std::size_t d = 0; d < dims_.size(); ++d) update_dimension(d, S, alpha);
}

void absorbed_effects::pack(const std::vector<Eigen::VectorXd>& alpha, Eigen::VectorXd& state) {
  Eigen::Index pos = 0;
  for (std::size_t d = 1; d < alpha.size(); ++d) {
    state.segment(pos, alpha[d].size()) = alpha[d];
    pos += alpha[d].size();
  }
}

void absorbed_effects::unpack(const Eigen::VectorXd& state, std::vector<Eigen::VectorXd>& alpha) {
  Eigen::Index pos = 0;
  for (std::size_t d = 1; d < alpha.size(); ++d) {
    alpha[d] = state.segment(pos, alpha[d].size());
    pos += alpha[d].size();
  }
}

void absorbed_effects::column_moments(const double* x, const double* w, double f, double& raw, detail::weighted_moments& moments) const {
  raw = 0;
  moments = detail::weighted_moments();
  double buf[1024];
  for (Eigen::Index b0 = 0; b0 < n_; b0 += 1024) {
    const Eigen::Index len = std::min<Eigen::Index>(1024, n_ - b0);
    const double* xb = x + b0;
    if (f != 1.0) {
      for (Eigen::Index i = 0; i < len; ++i) buf[i] = f * x[b0 + i];
      xb = buf;
    }
    double r = 0;
#pragma omp simd reduction(+ : r)
    for (Eigen::Index i = 0; i < len; ++i) r += xb[i] * xb[i];
    raw += r;
    moments.merge(detail::weighted_moments::of_block(xb, w ? w + b0 : nullptr, len));
  }
}

bool absorbed_effects::demean_column(double* x, const demean_options& opt, Eigen::Index j, demeaned_columns& out) const {
  const std::size_t K = dims_.size();
  const double* w = w_.empty() ? nullptr : w_.data();
  std::vector<Eigen::VectorXd> S(K), alpha(K);
  // Sums of squares of x·2^(−e): e = 0 unless those of x over- or underflow (then from max |x|).
  double raw = 0;
  detail::weighted_moments moments;
  int e = 0;
  column_moments(x, w, 1.0, raw, moments);
  if (!(raw <= std::numeric_limits<double>::max()) || raw < std::ldexp(1.0, -900)) {
    double big = 0;
    for (Eigen::Index i = 0; i < n_; ++i) big = std::max(big, std::fabs(x[i]));
    if (big > 0 && std::isfinite(big)) std::frexp(big, &e);
    if (e != 0) column_moments(x, w, std::ldexp(1.0, -e), raw, moments);
  }
  // A column whose mean dominates its spread (x + 10⁷) is shifted by its mean first, inside the
  // first pass below: the group sums then carry no ε·offset rounding, and the constant is given
  // back to the first dimension's coefficients.
  const double shift = moments.sw * moments.mean * moments.mean > 1048576.0 * moments.m2 ? std::ldexp(moments.mean, e) : 0.0;
  for (std::size_t d = 0; d < K; ++d) {  // S_d = Σ_{i∈g} w_i x_i
    S[d] = Eigen::VectorXd::Zero(dims_[d].n_groups);
    alpha[d] = Eigen::VectorXd::Zero(dims_[d].n_groups);
    const int* gd = dims_[d].code.data();
    double* sd = S[d].data();
    if (d == 0 && shift != 0)
      for (Eigen::Index i = 0; i < n_; ++i) {
        x[i] -= shift;
        sd[gd[i]] += (w ? w[i] : 1.0) * x[i];
      }
    else if (w)
      for (Eigen::Index i = 0; i < n_; ++i) sd[gd[i]] += w[i] * x[i];
    else
      for (Eigen::Index i = 0; i < n_; ++i) sd[gd[i]] += x[i];
  }
  const std::size_t jj = static_cast<std::size_t>(j);
  out.norm_exponent[jj] = e;
  out.scaled_raw_squared_norm[jj] = raw;
  out.scaled_centred_squared_norm[jj] = moments.m2;
  out.raw_squared_norm[jj] = std::ldexp(raw, 2 * e);
  out.centred_squared_norm[jj] = std::ldexp(moments.m2, 2 * e);
  bool converged = true;
  int iter = 0;
  if (K == 1) {
    alpha[0] = S[0].cwiseProduct(inv_weight_[0]);
  } else if (exact_two_way()) {
    const std::size_t b = small_ == 0 ? 1 : 0, sm = static_cast<std::size_t>(small_);
    // rhs = S_s − Cᵀ W_b⁻¹ S_b
    const Eigen::VectorXd mean_b = S[b].cwiseProduct(inv_weight_[b]);
    Eigen::VectorXd rhs = S[sm];
    const int* gb = dims_[b].code.data();
    const int* gs = dims_[sm].code.data();
    const double* mb = mean_b.data();
    double* rh = rhs.data();
    if (w)
      for (Eigen::Index i = 0; i < n_; ++i) rh[gs[i]] -= w[i] * mb[gb[i]];
    else
      for (Eigen::Index i = 0; i < n_; ++i) rh[gs[i]] -= mb[gb[i]];
    alpha[sm] = schur_pinv_ * rhs;
    update_dimension(b, S, alpha);
  } else {
    Eigen::Index size = 0;
    for (std::size_t d = 1; d < K; ++d) size += dims_[d].n_groups;
    Eigen::VectorXd X = Eigen::VectorXd::Zero(size), GX(size), GGX(size), delta(size), delta2(size);
    auto F = [&](const Eigen::VectorXd& in, Eigen::VectorXd& result) {
      unpack(in, alpha);
      sweep(S, alpha);
      pack(alpha, result);
    };
    auto close = [&](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
      for (Eigen::Index t = 0; t < a.size(); ++t)
        if (std::fabs(a[t] - b[t]) > opt.tol * (0.1 + std::fabs(b[t]))) return false;
      return true;
    };
    F(X, GX);
    converged = close(GX, X);
    while (!converged) {
      if (++iter > opt.max_iter) break;
      F(GX, GGX);
      if (close(GGX, GX)) { GX.swap(GGX); converged = true; break; }
      delta = GGX - GX;
      delta2 = delta - GX + X;
      const double ssq = delta2.squaredNorm();
      if (ssq > 0) X = GGX - (delta.dot(delta2) / ssq) * delta;
      else X = GGX;
      F(X, GX);
      converged = close(GX, X);
    }
    // final α consistent with the converged state: α_1 from one more half-sweep
    unpack(GX, alpha);
    update_dimension(0, S, alpha);
  }
  out.iterations[static_cast<std::size_t>(j)] = iter;
  if (!converged) return false;
  for (std::size_t d = 0; d < K; ++d) out.coefficients[d].col(j) = alpha[d];
  if (shift != 0) out.coefficients[0].col(j).array() += shift;
  for (std::size_t d = 0; d < K; ++d) {  // x̃ = x − Σ_d α_d[g_d(i)], one dimension at a time
    const int* gd = dims_[d].code.data();
    const double* ad = alpha[d].data();
    for (Eigen::Index i = 0; i < n_; ++i) x[i] -= ad[gd[i]];
  }
  return true;
}

void absorbed_effects::build_schur() {
  const int small = dims_[0].n_groups <= dims_[1].n_groups ? 0 : 1;
  const Eigen::Index Gs = dims_[static_cast<std::size_t>(small)].n_groups;
  if (Gs > 256) return;
  small_ = small;
  const group_codes& big = dims_[small == 0 ? 1 : 0];
  const int* gs = dims_[static_cast<std::size_t>(small)].code.data();
  const Eigen::Index Gb = big.n_groups;
  // (small code, weight) of every row in the order of the large groups: as given when the rows
  // are already ordered by the large dimension (absorb_fixed_effects does so), else a counting sort
  std::vector<Eigen::Index> start(static_cast<std::size_t>(Gb) + 1, 0);
  for (int g : big.code) ++start[static_cast<std::size_t>(g) + 1];
  for (std::size_t g = 0; g < static_cast<std::size_t>(Gb); ++g) start[g + 1] += start[g];
  std::vector<int> sorted_s_store;
  std::vector<double> sorted_w_store;
  const int* sorted_s = gs;
  const double* sorted_w = w_.empty() ? nullptr : w_.data();
  if (!std::is_sorted(big.code.begin(), big.code.end())) {
    sorted_s_store.resize(static_cast<std::size_t>(n_));
    sorted_w_store.resize(w_.empty() ? 0 : static_cast<std::size_t>(n_));
    std::vector<Eigen::Index> next(start.begin(), start.end() - 1);
    for (Eigen::Index i = 0; i < n_; ++i) {
      const Eigen::Index pos = next[static_cast<std::size_t>(big.code[static_cast<std::size_t>(i)])]++;
      sorted_s_store[static_cast<std::size_t>(pos)] = gs[i];
      if (!w_.empty()) sorted_w_store[static_cast<std::size_t>(pos)] = w_[static_cast<std::size_t>(i)];
    }
    sorted_s = sorted_s_store.data();
    if (!w_.empty()) sorted_w = sorted_w_store.data();
  }
  const Eigen::Index chunks = std::max<Eigen::Index>(1, std::min<Eigen::Index>(16, Gb / 1024));
  const Eigen::Index per = (Gb + chunks - 1) / chunks;
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(chunks));
  const Eigen::VectorXd& inv_b = inv_weight_[small == 0 ? 1 : 0];
  const int threads = detail::threads_for(chunks, static_cast<double>(n_) / static_cast<double>(chunks) * 10);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks; ++c) {
    Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(Gs, Gs);
    Eigen::VectorXd row = Eigen::VectorXd::Zero(Gs);
    std::vector<int> touched;
    for (Eigen::Index g = c * per; g < std::min(Gb, (c + 1) * per); ++g) {
      touched.clear();
      for (Eigen::Index t = start[static_cast<std::size_t>(g)]; t < start[static_cast<std::size_t>(g) + 1]; ++t) {
        const int sc = sorted_s[t];
        if (row[sc] == 0) touched.push_back(sc);
        row[sc] += sorted_w ? sorted_w[t] : 1.0;
      }
      for (int a : touched)
        for (int bb : touched) acc(a, bb) += row[a] * row[bb] * inv_b[g];
      for (int a : touched) row[a] = 0;
    }
    partial[static_cast<std::size_t>(c)] = acc;
  }
  Eigen::MatrixXd A = inv_weight_[static_cast<std::size_t>(small)].cwiseInverse().asDiagonal();
  for (const auto& m : partial) A -= m;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(A);
  const double cut = 1e-11 * std::max(eig.eigenvalues().cwiseAbs().maxCoeff(), 1e-300);
  Eigen::VectorXd inv_ev(Gs);
  for (Eigen::Index j = 0; j < Gs; ++j) inv_ev(j) = eig.eigenvalues()(j) > cut ? 1.0 / eig.eigenvalues()(j) : 0.0;
  schur_pinv_ = eig.eigenvectors() * inv_ev.asDiagonal() * eig.eigenvectors().transpose();
}

}  // namespace impactkit

namespace impactkit {

std::vector<char> non_singleton_rows(const std::vector<group_codes>& dims, Eigen::Index n,
                                     std::vector<std::vector<Eigen::Index>>* kept_counts) {
  for (const auto& d : dims)
    detail::require(d.size() == n, "non_singleton_rows", "a fixed-effect dimension has " + std::to_string(d.size()) + " rows but n is " + std::to_string(n));
  std::vector<char> keep(static_cast<std::size_t>(n), 1);
  const std::size_t K = dims.size();
  std::vector<std::vector<Eigen::Index>> count(K);
  for (std::size_t d = 0; d < K; ++d) {
    count[d].assign(static_cast<std::size_t>(dims[d].n_groups), 0);
    for (int g : dims[d].code) ++count[d][static_cast<std::size_t>(g)];
  }
  std::vector<Eigen::Index> pending;  // removed rows whose other groups lose a member
  for (Eigen::Index i = 0; i < n; ++i)
    for (std::size_t d = 0; d < K; ++d)
      if (count[d][static_cast<std::size_t>(dims[d].code[static_cast<std::size_t>(i)])] == 1) {
        keep[static_cast<std::size_t>(i)] = 0;
        pending.push_back(i);
        break;
      }
  // rows flagged in the first sweep are all singletons of the original counts; remove them and
  // cascade (a removed row's groups in every dimension lose one member)
  std::vector<std::vector<Eigen::Index>> start(K), order(K);
  bool built = false;
  while (!pending.empty()) {
    std::vector<Eigen::Index> next;
    for (Eigen::Index i : pending)
      for (std::size_t d = 0; d < K; ++d) --count[d][static_cast<std::size_t>(dims[d].code[static_cast<std::size_t>(i)])];
    // groups that became singletons: find their remaining row (CSR layout, built on first need)
    for (Eigen::Index i : pending)
      for (std::size_t d = 0; d < K; ++d) {
        const int g = dims[d].code[static_cast<std::size_t>(i)];
        if (count[d][static_cast<std::size_t>(g)] != 1) continue;
        if (!built) {
          for (std::size_t e = 0; e < K; ++e) dims[e].sorted_rows(start[e], order[e]);
          built = true;
        }
        for (Eigen::Index t = start[d][static_cast<std::size_t>(g)]; t < start[d][static_cast<std::size_t>(g) + 1]; ++t) {
          const Eigen::Index r = order[d][static_cast<std::size_t>(t)];
          if (keep[static_cast<std::size_t>(r)]) {
            keep[static_cast<std::size_t>(r)] = 0;
            next.push_back(r);
            break;
          }
        }
      }
    pending.swap(next);
  }
  if (kept_counts) *kept_counts = std::move(count);
  return keep;
}

int connected_components(const group_codes& a, const group_codes& b) {
  detail::require(a.size() == b.size(), "connected_components", "the two dimensions have " + std::to_string(a.size()) + " and " +
                                                                     std::to_string(b.size()) + " rows");
  std::vector<int> parent(static_cast<std::size_t>(a.n_groups + b.n_groups));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[static_cast<std::size_t>(x)] != x) {
      parent[static_cast<std::size_t>(x)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
      x = parent[static_cast<std::size_t>(x)];
    }
    return x;
  };
  for (std::size_t i = 0; i < a.code.size(); ++i) {
    const int ra = find(a.code[i]), rb = find(a.n_groups + b.code[i]);
    if (ra != rb) parent[static_cast<std::size_t>(ra)] = rb;
  }
  int comps = 0;
  for (int x = 0; x < a.n_groups + b.n_groups; ++x) comps += find(x) == x;
  return comps;
}

bool nested_in(const group_codes& fe, const group_codes& cluster) {
  detail::require(fe.size() == cluster.size(), "nested_in", "the groupings have " + std::to_string(fe.size()) + " and " +
                                                                std::to_string(cluster.size()) + " rows");
  std::vector<int> owner(static_cast<std::size_t>(fe.n_groups), -1);
  for (std::size_t i = 0; i < fe.code.size(); ++i) {
    int& o = owner[static_cast<std::size_t>(fe.code[i])];
    if (o < 0) o = cluster.code[i];
    else if (o != cluster.code[i]) return false;
  }
  return true;
}

namespace {

/// The cluster part of `spec` against K fixed-effect dimensions, the fixed-effect clusters of the
/// absorption (used when the spec has no labels) and n input rows.
void check_cluster_spec(const vcov_spec& spec, const std::vector<int>& fe_clusters, std::size_t K, Eigen::Index n, const char* fn) {
  if (is_cluster_kind(spec.kind) && spec.clusters.size() == 0 && !fe_clusters.empty()) {
    for (int d : fe_clusters)
      detail::require(d >= 0 && static_cast<std::size_t>(d) < K, fn, "cluster fixed-effect dimension " + std::to_string(d) +
                                                                          " does not exist (" + std::to_string(K) + " fixed effects)");
  } else if (is_cluster_kind(spec.kind)) {
    detail::require(spec.clusters.rows() == n, fn, "cluster labels have " + std::to_string(spec.clusters.rows()) +
                                                       " rows but the data have " + std::to_string(n));
  }
}

}  // namespace

void within_variance(const within_transformed& wt, const std::vector<label_column>* fe, const vcov_spec& spec, const char* fn,
                     vcov_spec& vcov, absorbed_dof& dof, bool labels_on_kept_rows) {
  const Eigen::Index n = labels_on_kept_rows ? wt.n_kept : wt.n_input, m = wt.n_kept;
  const std::size_t K = wt.dims.size();
  const bool cluster_on_fe = is_cluster_kind(spec.kind) && spec.clusters.size() == 0 && !wt.cluster_fixed_effects.empty();
  check_cluster_spec(spec, wt.cluster_fixed_effects, K, n, fn);
  detail::require(!labels_on_kept_rows || spec.kind != vcov_kind::survey, fn,
                  "a survey design gives its rows on the input rows, not on the kept rows");
  detail::require(labels_on_kept_rows || wt.all_rows || static_cast<Eigen::Index>(wt.rows.size()) == m, fn,
                  "the absorption no longer holds its kept rows; give the labels on the kept rows");
  vcov = vcov_spec{};
  // absorbed coefficients: Σ G_d minus redundant levels (see fixed_effect_dof::exact_redundancy)
  Eigen::Index levels = 0;
  for (const auto& d : wt.dims) levels += d.n_groups;
  Eigen::Index redundant = static_cast<Eigen::Index>(K) - 1;
  if (wt.dof_rule.exact_redundancy && K >= 2) redundant = connected_components(wt.dims[0], wt.dims[1]) + (static_cast<Eigen::Index>(K) - 2);
  vcov.kind = spec.kind;
  vcov.ssc = spec.ssc;
  const fixef_count rule = wt.dof_rule.count;
  dof.k_fe = rule == fixef_count::none ? 0 : levels - redundant;
  dof.k_fe_cluster = dof.k_fe;
  if (is_cluster_kind(spec.kind)) {
    const Eigen::Index nc = cluster_on_fe ? static_cast<Eigen::Index>(wt.cluster_fixed_effects.size()) : spec.clusters.cols();
    vcov.clusters.resize(m, nc);
    detail::advise_huge_pages(vcov.clusters.data(), static_cast<std::size_t>(m * nc) * sizeof(int));
    for (Eigen::Index j = 0; j < nc; ++j) {
      // clustering on a fixed effect (the usual case: named by index, or labels equal to its
      // labels) uses its level codes; other cluster labels are moved to the within rows
      const int* cl = cluster_on_fe ? nullptr : spec.clusters.col(j).data();
      std::size_t same = cluster_on_fe ? static_cast<std::size_t>(wt.cluster_fixed_effects[static_cast<std::size_t>(j)]) : K;
      for (std::size_t d = 0; fe && !labels_on_kept_rows && !cluster_on_fe && d < K && same == K; ++d)
        if ((*fe)[d].visit([&](const auto& v) {
              for (Eigen::Index i = 0; i < n; ++i)
                if (v(i) != cl[i]) return false;
              return true;
            }))
          same = d;
      if (same < K)
        std::copy(wt.dims[same].code.begin(), wt.dims[same].code.end(), vcov.clusters.col(j).data());
      else if (labels_on_kept_rows)
        wt.gather_kept(cl, vcov.clusters.col(j).data());
      else
        wt.gather(cl, vcov.clusters.col(j).data());
    }
    if (rule == fixef_count::nonnested) {
      std::vector<group_codes> cl;
      for (Eigen::Index j = 0; j < nc; ++j) cl.push_back(factorize(vcov.clusters.col(j)));
      for (const auto& d : wt.dims)
        for (const auto& c : cl)
          if (nested_in(d, c)) {
            dof.k_fe_cluster -= d.n_groups - 1;
            break;
          }
    }
  } else if (spec.kind == vcov_kind::survey) {
    // the design row of each within row; fixed effects nested in the first-stage sampling units
    // count one level under fixef_count::nonnested (as for clusters): their scores sum to zero
    // within every PSU, so they use no design degrees of freedom
    detail::require(spec.survey != nullptr, fn, "vcov survey needs a survey design");
    detail::require(spec.survey_rows.empty() || static_cast<Eigen::Index>(spec.survey_rows.size()) == n, fn,
                    "survey_rows has " + std::to_string(spec.survey_rows.size()) + " entries but the data have " + std::to_string(n));
    vcov.survey = spec.survey;
    vcov.survey_rows.resize(static_cast<std::size_t>(m));
    if (spec.survey_rows.empty()) {
      std::vector<Eigen::Index> identity(static_cast<std::size_t>(n));
      std::iota(identity.begin(), identity.end(), Eigen::Index{0});
      wt.gather(identity.data(), vcov.survey_rows.data());
    } else {
      wt.gather(spec.survey_rows.data(), vcov.survey_rows.data());
    }
    if (!wt.all_rows) vcov.survey_df = spec.survey->df_of_rows(spec.survey_rows);
    if (rule == fixef_count::nonnested) {
      group_codes psu;
      psu.n_groups = static_cast<int>(spec.survey->n_psu());
      detail::resize_large(psu.code, static_cast<std::size_t>(m));
      const std::vector<int>& code = spec.survey->psu_codes();
      for (Eigen::Index t = 0; t < m; ++t) {
        const Eigen::Index r = vcov.survey_rows[static_cast<std::size_t>(t)];
        if (r < 0 || r >= spec.survey->rows()) detail::throw_invalid(fn, "survey_rows has an entry outside the design");
        psu.code[static_cast<std::size_t>(t)] = code[static_cast<std::size_t>(r)];
      }
      for (const auto& d : wt.dims)
        if (nested_in(d, psu)) dof.k_fe_cluster -= d.n_groups - 1;
    }
  }
}

namespace {

/// Absorption step 1 (factorisation): group codes of every dimension on all rows, then the rows left
/// after iterated singleton removal (out.rows / n_kept / all_rows) and, with singleton removal, the
/// kept rows per level of each dimension (`count`).
std::vector<group_codes> factorise_and_keep_rows(const std::vector<label_column>& fe, Eigen::Index n, const absorb_options& opt,
                                                 within_transformed& out, std::vector<std::vector<Eigen::Index>>& count,
                                                 const char* fn) {
  const std::size_t K = fe.size();
  std::vector<group_codes> all(K);
  {
    const int threads = detail::threads_for(static_cast<Eigen::Index>(K), static_cast<double>(n));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (std::ptrdiff_t d = 0; d < static_cast<std::ptrdiff_t>(K); ++d) all[static_cast<std::size_t>(d)] = factorize(fe[static_cast<std::size_t>(d)]);
  }
  std::vector<char> keep;
  Eigen::Index m = n;
  if (opt.drop_singletons) {
    keep = non_singleton_rows(all, n, &count);
    m = 0;
    for (char k : keep) m += k;
  }
  detail::require(m > 0, fn, "every observation is a fixed-effect singleton; nothing is left to estimate");
  out.n_kept = m;
  out.all_rows = m == n;
  if (!out.all_rows) {
    out.rows.reserve(static_cast<std::size_t>(m));
    detail::advise_huge_pages(out.rows.data(), static_cast<std::size_t>(m) * sizeof(Eigen::Index));
    for (Eigen::Index i = 0; i < n; ++i)
      if (keep[static_cast<std::size_t>(i)]) out.rows.push_back(i);
  }
  return all;
}

/// Absorption steps 2 and 3 (levels and row order): the levels with kept rows numbered in order of
/// first appearance, with their input labels (out.level_label); the kept rows ordered by the levels of
/// the largest dimension (out.order; see the file comment); the codes of every dimension on the
/// within rows (out.dims). Frees the codes in `all`.
void number_levels_and_order_rows(const std::vector<label_column>& fe, std::vector<group_codes>& all,
                                  std::vector<std::vector<Eigen::Index>>& count, const absorb_options& opt, within_transformed& out) {
  const std::size_t K = fe.size();
  const Eigen::Index m = out.n_kept;
  auto kept_row = [&](Eigen::Index t) { return out.all_rows ? t : out.rows[static_cast<std::size_t>(t)]; };
  // 2. levels: those with kept rows, in order of first appearance in the data (a level's number
  //    is its factorize code less the emptied levels before it); the input label of each level.
  std::size_t big = 0;
  for (std::size_t d = 1; d < K; ++d)
    if (all[d].n_groups > all[big].n_groups) big = d;
  const bool order_rows = opt.group_order && all[big].n_groups > 1 && m < (Eigen::Index{1} << 31) - 1;
  if (count.empty()) {  // no singleton removal: the largest dimension's counts order the rows
    count.resize(K);
    if (order_rows) count[big] = all[big].counts();
  }
  std::vector<std::vector<int>> renumber(K);  // empty: no level emptied (codes unchanged)
  out.level_label.resize(K);
  out.dims.resize(K);
  for (std::size_t d = 0; d < K; ++d) {
    const int G = all[d].n_groups;
    int next = 0;
    if (!count[d].empty()) {
      renumber[d].assign(static_cast<std::size_t>(G), -1);
      for (int g = 0; g < G; ++g)
        if (count[d][static_cast<std::size_t>(g)] > 0) renumber[d][static_cast<std::size_t>(g)] = next++;
      if (next == G) renumber[d].clear();
    } else {
      next = G;
    }
    out.dims[d].n_groups = next;
    out.level_label[d].resize(next);
    for (int g = 0, l = 0; g < G; ++g)
      if (renumber[d].empty() || renumber[d][static_cast<std::size_t>(g)] >= 0)
        out.level_label[d](l++) = static_cast<int>(fe[d](all[d].first_row[static_cast<std::size_t>(g)]));
  }

  // 3. row order: kept rows ordered by the levels of the largest dimension (a stable counting
  //    sort whose running counters feed the row permutation directly)
  if (order_rows) {
    const int G = all[big].n_groups;
    std::vector<std::int32_t> next(static_cast<std::size_t>(G));
    group_codes& b = out.dims[big];
    detail::resize_large(b.code, static_cast<std::size_t>(m));
    std::int32_t start = 0;
    for (int g = 0, level = 0; g < G; ++g) {
      const std::int32_t c = static_cast<std::int32_t>(count[big][static_cast<std::size_t>(g)]);
      next[static_cast<std::size_t>(g)] = start;
      if (c > 0) std::fill(b.code.begin() + start, b.code.begin() + start + c, level++);
      start += c;
    }
    const int* code = all[big].code.data();
    out.order = detail::row_permutation(m, [&](Eigen::Index t) { return next[static_cast<std::size_t>(code[kept_row(t)])]++; });
    all[big].code = std::vector<int>();
  }
  for (std::size_t d = 0; d < K; ++d) {
    if (order_rows && d == big) continue;
    group_codes& g = out.dims[d];
    detail::resize_large(g.code, static_cast<std::size_t>(m));
    out.gather(all[d].code.data(), g.code.data());
    if (!renumber[d].empty()) {
      const int* ren = renumber[d].data();
      for (int& v : g.code) v = ren[v];
    }
    all[d].code = std::vector<int>();
  }
}

/// Absorption step 4 (demeaning): weights and columns gathered once onto the within rows, then the
/// fixed effects projected out in place (out.columns).
void demean_on_within_rows(const std::vector<const double*>& columns, const double* w, const absorb_options& opt,
                           within_transformed& out) {
  const Eigen::Index m = out.n_kept;
  if (w) {
    detail::resize_large(out.weights, static_cast<std::size_t>(m));
    out.gather(w, out.weights.data());
  }
  const Eigen::Index c = static_cast<Eigen::Index>(columns.size());
  Eigen::MatrixXd values(m, c);
  detail::advise_huge_pages(values.data(), static_cast<std::size_t>(m * c) * sizeof(double));
  {
    const int threads = detail::threads_for(c, static_cast<double>(m));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (Eigen::Index j = 0; j < c; ++j) out.gather(columns[static_cast<std::size_t>(j)], values.col(j).data());
  }
  {
    const absorbed_effects effects(out.dims, out.weight_data());
    out.columns = effects.demean_in_place(values, opt.demean);
  }
  out.columns.values.swap(values);
}

/// Absorption step 5a (redundancy): a column spanned by the fixed effects (see
/// absorb_options::collin_tol) is set to 0 and flagged in out.spanned.
void zero_spanned_columns(std::size_t n_columns, const absorb_options& opt, within_transformed& out) {
  const Eigen::Index m = out.n_kept;
  // spanned by the fixed effects: weighted within norm ≤ collin_tol × weighted centred norm (an
  // offset such as x + 10⁷ does not make a column look spanned), both of x·2^(−e), scale-safe
  out.spanned.assign(n_columns, 0);
  for (std::size_t j = 0; j < n_columns; ++j) {
    const double f = std::ldexp(1.0, -out.columns.norm_exponent[j]);
    const double* v = out.columns.values.col(static_cast<Eigen::Index>(j)).data();
    const double* wt = out.weight_data();
    double within = 0;
    for (Eigen::Index i = 0; i < m; ++i) within += (wt ? wt[i] : 1.0) * (f * v[i]) * (f * v[i]);
    if (std::sqrt(within) <= opt.collin_tol * std::sqrt(out.columns.scaled_centred_squared_norm[j])) {
      out.columns.values.col(static_cast<Eigen::Index>(j)).setZero();
      out.spanned[j] = 1;
    }
  }
}

}  // namespace

namespace {

void validate_absorb_input(const std::vector<const double*>& columns, Eigen::Index n, const std::vector<label_column>& fe,
                           const char* fn) {
  detail::require(!fe.empty(), fn, "no fixed-effect dimension given");
  detail::require(n > 0, fn, "no observations");
  for (const auto& f : fe) f.require_rows(n, fn);
  for (std::size_t j = 0; j < columns.size(); ++j)
    detail::require(columns[j] != nullptr, fn, "column " + std::to_string(j) + " is a null pointer; pass n values per column");
}

within_transformed absorb_validated(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                    const std::vector<label_column>& fe, const absorb_options& opt, const char* fn) {
  within_transformed out;
  out.n_input = n;
  out.dof_rule = opt.dof;
  out.cluster_fixed_effects = opt.cluster_fixed_effects;
  // 1. factorisation and singletons; 2.–3. levels and row order
  std::vector<std::vector<Eigen::Index>> count;  // kept rows per level (original codes)
  std::vector<group_codes> all = factorise_and_keep_rows(fe, n, opt, out, count, fn);
  number_levels_and_order_rows(fe, all, count, opt, out);
  // 4. demeaning; 5a. redundancy: columns spanned by the fixed effects
  demean_on_within_rows(columns, w, opt, out);
  zero_spanned_columns(columns.size(), opt, out);
  return out;
}

}  // namespace

within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const std::vector<label_column>& fe, const absorb_options& opt) {
  const char* fn = "absorb_fixed_effects";
  validate_absorb_input(columns, n, fe, fn);
  for (int d : opt.cluster_fixed_effects)
    detail::require(d >= 0 && static_cast<std::size_t>(d) < fe.size(), fn, "cluster fixed-effect dimension " + std::to_string(d) +
                                                                             " does not exist (" + std::to_string(fe.size()) + " fixed effects)");
  within_transformed out = absorb_validated(columns, n, w, fe, opt, fn);
  within_variance(out, &fe, vcov_spec{}, fn, out.vcov, out.dof);  // the default count (iid / HC)
  return out;
}

std::vector<label_column> fixed_effect_label_columns(const Eigen::MatrixXi& fe_labels, Eigen::Index n) {
  detail::require(fe_labels.rows() == n, "absorb_fixed_effects", "fixed-effect labels have " + std::to_string(fe_labels.rows()) +
                                                                     " rows but the data have " + std::to_string(n));
  std::vector<label_column> fe;
  for (Eigen::Index d = 0; d < fe_labels.cols(); ++d) fe.push_back(label_column::of(fe_labels.col(d).data(), n));
  return fe;
}

within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const Eigen::MatrixXi& fe_labels, const absorb_options& opt) {
  return absorb_fixed_effects(columns, n, w, fixed_effect_label_columns(fe_labels, n), opt);
}

within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const std::vector<label_column>& fe, const vcov_spec& spec, const absorb_options& opt) {
  check_cluster_spec(spec, opt.cluster_fixed_effects, fe.size(), n, "absorb_fixed_effects");  // before the work
  within_transformed out = absorb_fixed_effects(columns, n, w, fe, opt);
  within_variance(out, &fe, spec, "absorb_fixed_effects", out.vcov, out.dof);
  return out;
}

within_transformed absorb_fixed_effects(const std::vector<const double*>& columns, Eigen::Index n, const double* w,
                                        const Eigen::MatrixXi& fe_labels, const vcov_spec& spec, const absorb_options& opt) {
  const std::vector<label_column> fe = fixed_effect_label_columns(fe_labels, n);
  check_cluster_spec(spec, opt.cluster_fixed_effects, fe.size(), n, "absorb_fixed_effects");
  within_transformed out = absorb_fixed_effects(columns, n, w, fe, opt);
  within_variance(out, &fe, spec, "absorb_fixed_effects", out.vcov, out.dof);
  return out;
}

}  // namespace impactkit
