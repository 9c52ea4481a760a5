// Out-of-line definitions for impactkit/core/linear_model_vcov.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/linear_model_vcov.hpp>

#include "linear_model_vcov_detail.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>

namespace impactkit::detail {

void require_solution_of(const least_squares_solution& ls, Eigen::Index n, Eigen::Index columns, const char* fn) {
  require(ls.rank() >= 1 && ls.scaled_r.rows() == ls.rank() && ls.scaled_r_inverse.rows() == ls.rank() && ls.scaled_coef.size() == ls.rank(),
          fn, "the least-squares solution is empty or inconsistent; pass the result of solve_least_squares");
  for (Eigen::Index j : ls.kept)
    require(j >= 0 && j < columns, fn, "the least-squares solution refers to column " + std::to_string(j) + " but X has " +
                                           std::to_string(columns) + " columns; pass the X it was computed from");
  require(ls.transform.identity() || ls.transform.columns == columns, fn, "the least-squares solution was computed for another X");
  require(ls.nobs == 0 || ls.nobs == n, fn, "X has " + std::to_string(n) + " rows but the least-squares solution was computed on " +
                                                std::to_string(ls.nobs));
}

Eigen::MatrixXd unscaled_vcov(const least_squares_solution& ls, const Eigen::MatrixXd& scaled, const char* fn) {
  if (ls.transform.identity()) return scaled;
  Eigen::MatrixXd v = ls.unscale_vcov(scaled);
  const double tiny = std::numeric_limits<double>::min(), big = std::numeric_limits<double>::max();
  for (Eigen::Index j = 0; j < v.rows(); ++j) {
    const double d = std::fabs(v(j, j));
    if (scaled(j, j) != 0 && !(d >= tiny && d <= big)) {
      const Eigen::Index col = ls.kept[static_cast<std::size_t>(j)];
      const double log10v = std::log10(std::fabs(scaled(j, j))) + (2 * ls.y_exponent() - 2 * ls.transform.e(col)) * std::log10(2.0);
      throw_invalid(fn, "the variance of the coefficient of column " + std::to_string(col) + " is about 1e" +
                            std::to_string(static_cast<long>(std::lround(log10v))) +
                            ", outside the range of double precision; express y or that column in other units "
                            "(multiply or divide by a power of ten)");
    }
  }
  return v;
}

Eigen::MatrixXd transformed_cross_product(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls,
                                          const double* u, double f) {
  if (ls.transform.identity() && f == 1.0) return weighted_cross_product(X, ls.kept, u);
  const Eigen::Index n = X.rows(), p = ls.rank();
  const Eigen::Index block = 1024;
  const row_chunks chunks = make_row_chunks(n, 8 * block);
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(chunks.count));
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(p, p), buf(block, p);
    std::vector<double> d(static_cast<std::size_t>(block), f * f);
    std::vector<const double*> col(static_cast<std::size_t>(p));
    for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = buf.col(j).data();
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      load_transformed(ls.transform, X, nullptr, ls.kept, b0, len, buf.data(), block);
      if (u)
        for (Eigen::Index i = 0; i < len; ++i) d[static_cast<std::size_t>(i)] = (f * u[b0 + i]) * (f * u[b0 + i]);
      accumulate_cross_product(col.data(), p, len, acc.data(), d.data());
    }
    partial[static_cast<std::size_t>(c)] = acc;
  }
  Eigen::MatrixXd total = Eigen::MatrixXd::Zero(p, p);
  for (const auto& m : partial) total += m;
  return symmetric_from_lower(total);
}

Eigen::MatrixXd transformed_design(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls) {
  const Eigen::Index n = X.rows(), p = ls.rank();
  Eigen::MatrixXd out(n, p);
  const row_chunks chunks = make_row_chunks(n, 1 << 14);
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c)
    load_transformed(ls.transform, X, nullptr, ls.kept, chunks.begin(c), chunks.end(c) - chunks.begin(c), out.data() + chunks.begin(c), n);
  return out;
}

Eigen::MatrixXd transformed_contrasts(const least_squares_solution& ls) {
  const Eigen::Index p = ls.rank();
  Eigen::MatrixXd c = Eigen::MatrixXd::Identity(p, p);
  const Eigen::Index a = ls.anchor_position();
  if (a < 0) return c;
  // row a of P: 2^(−e_a) e_a − τ (scaled to max |entry| 1 through exponents, so nothing overflows)
  const column_transform& t = ls.transform;
  int emax = -t.e(t.anchor);
  for (Eigen::Index l = 0; l < p; ++l) {
    const double tl = t.tau(ls.kept[static_cast<std::size_t>(l)]);
    if (tl != 0) emax = std::max(emax, magnitude_exponent(std::fabs(tl)));
  }
  for (Eigen::Index l = 0; l < p; ++l) c(l, a) = -std::ldexp(t.tau(ls.kept[static_cast<std::size_t>(l)]), -emax);
  c(a, a) = std::ldexp(1.0, -t.e(t.anchor) - emax);
  return c;
}

}  // namespace impactkit::detail

namespace impactkit {

Eigen::VectorXd leverages(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w) {
  const Eigen::Index n = X.rows(), p = ls.rank();
  detail::require_solution_of(ls, n, X.cols(), "leverages");
  Eigen::VectorXd h(n);
  const Eigen::Index block = 1024;
  const detail::row_chunks chunks = detail::make_row_chunks(n, 4 * block);
  const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd buf(block, p);
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      detail::load_transformed(ls.transform, X, nullptr, ls.kept, b0, len, buf.data(), block);
      // rows of X̃ R̃⁻¹: solve Z R̃ = X̃_blk
      buf.topRows(len) = ls.scaled_r.triangularView<Eigen::Upper>().solve<Eigen::OnTheRight>(buf.topRows(len));
      h.segment(b0, len) = buf.topRows(len).rowwise().squaredNorm();
      if (w) h.segment(b0, len).array() *= Eigen::Map<const Eigen::ArrayXd>(w + b0, len);
    }
  }
  return h;
}

}  // namespace impactkit

namespace impactkit::detail {

double jackknife_weight(double lambda) {
  lambda = std::min(std::max(lambda, 0.0), 1.0);
  if (1.0 - lambda < 1e-10) return -1.0 / lambda;
  return 1.0 / (1.0 - lambda);
}

}  // namespace impactkit::detail

namespace impactkit {

vcov_estimate bell_mccaffrey_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w,
                                  const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec) {
  const char* fn = "bell_mccaffrey_vcov";
  const Eigen::Index n = X.rows(), p = ls.rank(), q = 2 * p;
  detail::require_solution_of(ls, n, X.cols(), fn);
  detail::require(e.size() == n, fn, "the residuals have " + std::to_string(e.size()) + " rows but X has " + std::to_string(n));
  const std::vector<group_codes> dims = detail::cluster_dimensions(spec, n, fn);
  detail::require(dims.size() == 1, fn, "CR2 is defined for one cluster dimension; use CR1 for multiway clustering");
  const group_codes& g = dims[0];
  std::vector<Eigen::Index> start, order;
  g.sorted_rows(start, order);
  // everything on the transformed design X̃ (least_squares.hpp), mapped back at the end
  const Eigen::MatrixXd M = ls.scaled_bread();
  const Eigen::MatrixXd S = w ? detail::transformed_cross_product(X, ls, w, 1.0) : Eigen::MatrixXd(ls.scaled_r.transpose() * ls.scaled_r);  // X̃ᵀW²X̃
  const column_transform& t = ls.transform;
  std::vector<double> f(static_cast<std::size_t>(p)), tau(static_cast<std::size_t>(p));
  for (Eigen::Index j = 0; j < p; ++j) {
    f[static_cast<std::size_t>(j)] = t.factor(ls.kept[static_cast<std::size_t>(j)]);
    tau[static_cast<std::size_t>(j)] = t.tau(ls.kept[static_cast<std::size_t>(j)]);
  }
  const double fy = std::ldexp(1.0, -ls.y_exponent());
  const double* anchor = t.anchor >= 0 ? X.col(t.anchor).data() : nullptr;
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(q, q);
  C.topLeftCorner(p, p) = M * S * M;
  C.topRightCorner(p, p) = -M;
  C.bottomLeftCorner(p, p) = -M;
  const std::size_t G = static_cast<std::size_t>(g.n_groups);
  std::vector<Eigen::VectorXd> adjusted(G);
  std::vector<Eigen::MatrixXd> XP(G), XWP(G), PP(G);  // X_gᵀP_g, X_gᵀW_gP_g, P_gᵀP_g with P_g = A_g W_g X_g
  const int threads = detail::threads_for(static_cast<Eigen::Index>(G), static_cast<double>(n) / static_cast<double>(G) * q * q + q * q * q);
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (threads > 1)
  for (std::ptrdiff_t gi = 0; gi < static_cast<std::ptrdiff_t>(G); ++gi) {
    const std::size_t gg = static_cast<std::size_t>(gi);
    const Eigen::Index b = start[gg], len = start[gg + 1] - b;
    Eigen::MatrixXd U(len, q);
    Eigen::VectorXd eg(len), wg(len);
    for (Eigen::Index r = 0; r < len; ++r) {
      const Eigen::Index i = order[static_cast<std::size_t>(b + r)];
      wg(r) = w ? w[i] : 1.0;
      const double ai = anchor ? anchor[i] : 0.0;
      for (Eigen::Index j = 0; j < p; ++j) {
        U(r, j) = X(i, ls.kept[static_cast<std::size_t>(j)]) * f[static_cast<std::size_t>(j)] - tau[static_cast<std::size_t>(j)] * ai;
        U(r, p + j) = wg(r) * U(r, j);
      }
      eg(r) = e(i) * fy;
    }
    // B_g = I + U C Uᵀ = I + Q (R C Rᵀ) Qᵀ with U = Q R (thin); A_g = I + Q V diag(φ) Vᵀ Qᵀ.
    const Eigen::Index rnk = std::min(len, q);
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(U);
    const Eigen::MatrixXd Q = qr.householderQ() * Eigen::MatrixXd::Identity(len, rnk);
    const Eigen::MatrixXd R = qr.matrixQR().topRows(rnk).triangularView<Eigen::Upper>();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(R * C * R.transpose());
    Eigen::VectorXd phi(rnk);
    for (Eigen::Index j = 0; j < rnk; ++j) {
      const double ev = 1.0 + eig.eigenvalues()(j);  // eigenvalue of B_g
      phi(j) = ev > 1e-10 ? 1.0 / std::sqrt(ev) - 1.0 : -1.0;
    }
    const Eigen::MatrixXd QV = Q * eig.eigenvectors();
    auto apply_a = [&](const Eigen::MatrixXd& v) -> Eigen::MatrixXd { return v + QV * phi.asDiagonal() * (QV.transpose() * v); };
    const Eigen::VectorXd ae = apply_a(eg);
    const auto Xg = U.leftCols(p), WXg = U.rightCols(p);
    adjusted[gg] = WXg.transpose() * ae;
    const Eigen::MatrixXd P = apply_a(WXg);
    XP[gg] = Xg.transpose() * P;
    XWP[gg] = WXg.transpose() * P;
    PP[gg] = P.transpose() * P;
  }
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(p, p);
  for (const auto& a : adjusted) meat.noalias() += a * a.transpose();

  vcov_estimate out;
  out.kind = vcov_kind::cr2;
  out.factor = 1.0;
  out.n_clusters = {static_cast<Eigen::Index>(G)};
  out.vcov = detail::unscaled_vcov(ls, M * meat * M, fn);
  out.df.resize(p);
  // Satterthwaite: for c = e_j, b = M c, z_g = [X_gᵀP_g b; X_gᵀW_gP_g b], d_g = bᵀP_gᵀP_g b:
  //   G = diag(d) + ZᵀCZ,  tr G = Σ d_g + Σ z_gᵀCz_g,
  //   ‖G‖²_F = Σ d_g² + 2 Σ d_g z_gᵀCz_g + tr(C Y C Y),  Y = Σ z_g z_gᵀ.
  // (c is the contrast of coefficient j in the coordinates of the transformed design.)
  const Eigen::MatrixXd contrasts = detail::transformed_contrasts(ls);
  for (Eigen::Index j = 0; j < p; ++j) {
    const Eigen::VectorXd bj = t.identity() ? Eigen::VectorXd(M.col(j)) : Eigen::VectorXd(M * contrasts.col(j));
    double tr = 0, d2 = 0, dz = 0;
    Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(q, q);
    Eigen::VectorXd z(q);
    for (std::size_t gg = 0; gg < G; ++gg) {
      z.head(p) = XP[gg] * bj;
      z.tail(p) = XWP[gg] * bj;
      const double d = bj.dot(PP[gg] * bj), zcz = z.dot(C * z);
      tr += d + zcz;
      d2 += d * d;
      dz += d * zcz;
      Y.noalias() += z * z.transpose();
    }
    const Eigen::MatrixXd CY = C * Y;
    const double frob = d2 + 2.0 * dz + (CY * CY).trace();
    out.df(j) = frob > 0 ? tr * tr / frob : std::numeric_limits<double>::quiet_NaN();
  }
  out.conventions.kind = variance_kind::cluster;
  out.conventions.factor = factor_rule::bell_mccaffrey;
  out.conventions.df = df_rule::satterthwaite;
  out.conventions.df_value = std::numeric_limits<double>::quiet_NaN();
  out.conventions.n_obs = n;
  out.conventions.n_params = p;
  out.conventions.n_clusters = out.n_clusters;
  out.convention = out.conventions.describe();
  return out;
}

vcov_estimate bias_reduced_cluster_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls,
                                        const double* w, const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec) {
  const char* fn = "bias_reduced_cluster_vcov";
  const Eigen::Index n = X.rows(), p = ls.rank();
  detail::require_solution_of(ls, n, X.cols(), fn);
  detail::require(e.size() == n, fn, "the residuals have " + std::to_string(e.size()) + " rows but X has " + std::to_string(n));
  const std::vector<group_codes> dims = detail::cluster_dimensions(spec, n, fn);
  detail::require(dims.size() == 1, fn, std::string(vcov_name(spec.kind)) + " is defined for one cluster dimension; use CR1 for multiway clustering");
  if (spec.kind == vcov_kind::cr2) return bell_mccaffrey_vcov(X, ls, w, e, spec);
  const group_codes& g = dims[0];
  std::vector<Eigen::Index> start, order;
  g.sorted_rows(start, order);
  // on the transformed design X̃ (least_squares.hpp), mapped back at the end
  const Eigen::MatrixXd& L = ls.scaled_r_inverse;  // B̃ = L Lᵀ
  const Eigen::MatrixXd bread = ls.scaled_bread();
  const column_transform& t = ls.transform;
  std::vector<double> f(static_cast<std::size_t>(p)), tau(static_cast<std::size_t>(p));
  for (Eigen::Index j = 0; j < p; ++j) {
    f[static_cast<std::size_t>(j)] = t.factor(ls.kept[static_cast<std::size_t>(j)]);
    tau[static_cast<std::size_t>(j)] = t.tau(ls.kept[static_cast<std::size_t>(j)]);
  }
  const double fy = std::ldexp(1.0, -ls.y_exponent());
  const double* anchor = t.anchor >= 0 ? X.col(t.anchor).data() : nullptr;
  const std::size_t G = static_cast<std::size_t>(g.n_groups);
  std::vector<Eigen::VectorXd> adjusted(G);
  const int threads = detail::threads_for(static_cast<Eigen::Index>(G), static_cast<double>(n) / static_cast<double>(G) * p * p + p * p * p);
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (threads > 1)
  for (std::ptrdiff_t gi = 0; gi < static_cast<std::ptrdiff_t>(G); ++gi) {
    const std::size_t gg = static_cast<std::size_t>(gi);
    const Eigen::Index b = start[gg], len = start[gg + 1] - b;
    Eigen::MatrixXd xg(len, p);
    Eigen::VectorXd eg(len);
    for (Eigen::Index r = 0; r < len; ++r) {
      const Eigen::Index i = order[static_cast<std::size_t>(b + r)];
      const double sw = w ? std::sqrt(w[i]) : 1.0, ai = anchor ? anchor[i] : 0.0;
      for (Eigen::Index j = 0; j < p; ++j)
        xg(r, j) = sw * (X(i, ls.kept[static_cast<std::size_t>(j)]) * f[static_cast<std::size_t>(j)] - tau[static_cast<std::size_t>(j)] * ai);
      eg(r) = sw * (e(i) * fy);
    }
    Eigen::MatrixXd M = Eigen::MatrixXd::Zero(p, p);
    M.selfadjointView<Eigen::Lower>().rankUpdate(xg.transpose());
    M = M.selfadjointView<Eigen::Lower>();
    const Eigen::VectorXd s = xg.transpose() * eg;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(L.transpose() * M * L);
    const Eigen::MatrixXd LV = L * eig.eigenvectors();
    const Eigen::MatrixXd MLV = M * LV;
    Eigen::VectorXd phi(p);
    for (Eigen::Index j = 0; j < p; ++j) phi(j) = detail::jackknife_weight(eig.eigenvalues()(j));
    adjusted[gg] = s + MLV * phi.asDiagonal() * (LV.transpose() * s);
  }
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(p, p);
  for (const auto& a : adjusted) meat.noalias() += a * a.transpose();

  vcov_estimate out;
  out.kind = vcov_kind::cr3;
  out.factor = 1.0;
  out.n_clusters = {static_cast<Eigen::Index>(G)};
  out.vcov = detail::unscaled_vcov(ls, bread * meat * bread, fn);
  out.df = Eigen::VectorXd::Constant(p, static_cast<double>(G) - 1.0);
  out.conventions.kind = variance_kind::cluster;
  out.conventions.factor = factor_rule::cluster_jackknife;
  out.conventions.df = df_rule::clusters_minus_1;
  out.conventions.df_value = static_cast<double>(G) - 1.0;
  out.conventions.n_obs = n;
  out.conventions.n_params = p;
  out.conventions.n_clusters = out.n_clusters;
  out.convention = out.conventions.describe();
  return out;
}

}  // namespace impactkit

namespace impactkit::detail {

void note_absorbed_parameters(vcov_estimate& out, const absorbed_dof& absorbed, bool cluster) {
  if (!absorbed.k_fe) return;
  const Eigen::Index counted = cluster ? absorbed.k_fe_cluster : absorbed.k_fe;
  const std::string total = std::to_string(absorbed.k_fe);
  out.convention += counted == absorbed.k_fe
                        ? "; k includes the " + total + " absorbed fixed-effect coefficients"
                        : "; k includes " + std::to_string(counted) + " of the " + total +
                              " absorbed fixed-effect coefficients (the " + std::to_string(absorbed.k_fe - counted) +
                              (out.kind == vcov_kind::survey ? " nested in the primary sampling units are not counted)"
                                                             : " nested in the clusters are not counted)");
}

residual_pass_sums residuals_and_hc_meat(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                         const double* w, const least_squares_solution& ls, double* e, Eigen::MatrixXd* hc_meat,
                                         const std::vector<Eigen::Index>& constant_candidates) {
  const Eigen::Index n = X.rows(), p = ls.rank();
  const Eigen::Index block = 1024;
  const row_chunks chunks = make_row_chunks(n, 8 * block);
  const std::size_t count = static_cast<std::size_t>(chunks.count), nc = constant_candidates.size();
  std::vector<Eigen::MatrixXd> partial(hc_meat ? count : 0);
  std::vector<double> part_rss(count, 0.0), part_raw(count, 0.0);
  std::vector<weighted_moments> part_moments(count);
  std::vector<char> part_constant(count * nc, 1);
  // transformed design: kept columns and y copied block by block (y last); e then gets 2^(e_y)·ẽ
  const bool transformed = !ls.transform.identity();
  const int ey = ls.y_exponent();
  const double fy = std::ldexp(1.0, -ey);
  std::vector<Eigen::Index> cols = ls.kept;
  cols.push_back(X.cols());
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * (hc_meat ? p * p : p));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd acc = hc_meat ? Eigen::MatrixXd::Zero(p, p) : Eigen::MatrixXd();
    Eigen::MatrixXd buf(transformed ? block : 0, p + 1);
    std::vector<double> d(hc_meat ? static_cast<std::size_t>(block) : 0),
        e_local(e && !(transformed && ey != 0) ? 0 : static_cast<std::size_t>(block));
    std::vector<const double*> col(static_cast<std::size_t>(p));
    if (transformed)
      for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = buf.col(j).data();
    double rss = 0, raw = 0;
    weighted_moments moments;
    char* constant = part_constant.data() + static_cast<std::size_t>(c) * nc;
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      const double* yb = y.data() + b0;
      if (transformed) {
        load_transformed(ls.transform, X, y.data(), cols, b0, len, buf.data(), block);
        yb = buf.col(p).data();
      } else {
        for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = X.col(ls.kept[static_cast<std::size_t>(j)]).data() + b0;
      }
      double* eb = e_local.empty() ? e + b0 : e_local.data();
      residual_block(col.data(), ls.scaled_coef.data(), p, len, yb, eb);
      if (e && eb != e + b0)
        for (Eigen::Index i = 0; i < len; ++i) e[b0 + i] = std::ldexp(eb[i], ey);
      double s = 0, r = 0;
      if (transformed) {  // Σ w (y·2^(−e_y))², from y itself (ỹ may be shifted)
        const double* yr = y.data() + b0;
        for (Eigen::Index i = 0; i < len; ++i) {
          const double v = yr[i] * fy;
          r += (w ? w[b0 + i] : 1.0) * v * v;
          s += (w ? w[b0 + i] : 1.0) * eb[i] * eb[i];
        }
      } else if (w) {
        const double* wb = w + b0;
#pragma omp simd reduction(+ : s, r)
        for (Eigen::Index i = 0; i < len; ++i) {
          s += wb[i] * eb[i] * eb[i];
          r += wb[i] * yb[i] * yb[i];
        }
      } else {
#pragma omp simd reduction(+ : s, r)
        for (Eigen::Index i = 0; i < len; ++i) {
          s += eb[i] * eb[i];
          r += yb[i] * yb[i];
        }
      }
      raw += r;
      moments.merge(weighted_moments::of_block(yb, w ? w + b0 : nullptr, len));
      rss += s;
      for (std::size_t a = 0; a < nc; ++a)
        if (constant[a]) {
          const double* x = X.col(constant_candidates[a]).data() + b0;
          const double first = X(0, constant_candidates[a]);
          int differs = 0;
#pragma omp simd reduction(| : differs)
          for (Eigen::Index i = 0; i < len; ++i) differs |= x[i] != first;
          constant[a] = !differs;
        }
      if (hc_meat) {
        double* db = d.data();
        for (Eigen::Index i = 0; i < len; ++i) {
          const double u = w ? w[b0 + i] * eb[i] : eb[i];
          db[i] = u * u;
        }
        accumulate_cross_product(col.data(), p, len, acc.data(), db);
      }
    }
    part_rss[static_cast<std::size_t>(c)] = rss;
    part_raw[static_cast<std::size_t>(c)] = raw;
    part_moments[static_cast<std::size_t>(c)] = moments;
    if (hc_meat) partial[static_cast<std::size_t>(c)] = std::move(acc);
  }
  residual_pass_sums out;
  weighted_moments moments;
  for (std::size_t c = 0; c < count; ++c) {
    out.scaled_rss += part_rss[c];
    out.scaled_tss_raw += part_raw[c];
    moments.merge(part_moments[c]);
  }
  out.scaled_tss_centred = moments.m2;
  out.exponent = 2 * ey;
  out.rss = std::ldexp(out.scaled_rss, out.exponent);
  out.tss_raw = std::ldexp(out.scaled_tss_raw, out.exponent);
  out.tss_centred = std::ldexp(out.scaled_tss_centred, out.exponent);
  out.constant.assign(nc, 1);
  for (std::size_t c = 0; c < count; ++c)
    for (std::size_t a = 0; a < nc; ++a) out.constant[a] = out.constant[a] && part_constant[c * nc + a];
  if (hc_meat) {
    Eigen::MatrixXd total = Eigen::MatrixXd::Zero(p, p);
    for (const auto& m : partial) total += m;
    *hc_meat = symmetric_from_lower(total);
  }
  return out;
}

}  // namespace impactkit::detail

namespace impactkit {

vcov_estimate linear_model_hc_vcov(const least_squares_solution& ls, const Eigen::Ref<const Eigen::MatrixXd>& meat,
                                   const vcov_spec& spec, Eigen::Index n, const absorbed_dof& absorbed) {
  detail::require(meat.rows() == ls.rank() && meat.cols() == ls.rank(), "linear_model_hc_vcov",
                  "the meat must be rank x rank (" + std::to_string(ls.rank()) + ")");
  vcov_estimate out = detail::hc_sandwich(ls.scaled_bread(), meat, spec.kind, n, ls.rank() + absorbed.k_fe);
  if (!ls.transform.identity()) out.vcov = detail::unscaled_vcov(ls, out.vcov, "linear_model_hc_vcov");
  detail::note_absorbed_parameters(out, absorbed, false);
  return out;
}

vcov_estimate linear_model_vcov(const Eigen::Ref<const Eigen::MatrixXd>& X, const least_squares_solution& ls, const double* w,
                                const Eigen::Ref<const Eigen::VectorXd>& e, const vcov_spec& spec,
                                const absorbed_dof& absorbed) {
  const char* fn = "linear_model_vcov";
  const Eigen::Index n = X.rows(), p = ls.rank();
  detail::require_solution_of(ls, n, X.cols(), fn);
  detail::require(e.size() == n || spec.kind == vcov_kind::iid, fn,
                  "the residuals have " + std::to_string(e.size()) + " rows but X has " + std::to_string(n));
  const Eigen::Index k_total = p + absorbed.k_fe;
  detail::require(n > k_total, fn, "needs more observations (" + std::to_string(n) + ") than estimated coefficients (" +
                                       std::to_string(k_total) + (absorbed.k_fe ? ", including absorbed fixed effects" : "") + ")");
  const double df_resid = static_cast<double>(n - k_total);
  if (absorbed.k_fe > 0)
    detail::require(spec.kind != vcov_kind::hc2 && spec.kind != vcov_kind::hc3 && spec.kind != vcov_kind::cr2 && spec.kind != vcov_kind::cr3,
                    fn, std::string(vcov_name(spec.kind)) +
                            " needs the leverage of the full model, which absorbed fixed effects hide; use HC1/CR1, "
                            "or include the fixed effects as regressors (C(fe)) for " + vcov_name(spec.kind));
  if (spec.kind == vcov_kind::iid) {
    vcov_estimate out;
    out.kind = spec.kind;
    // RSS as the caller left it in ls.rss (e.g. 2SLS: of the structural residuals), in the units of
    // the transformed problem; unscaled below
    // (ls.rss is ls.scaled_rss mapped back unless the caller replaced it; the scaled one keeps
    // its precision where ls.rss over- or underflowed)
    const int e2 = 2 * ls.y_exponent();
    const double rss = ls.rss == std::ldexp(ls.scaled_rss, e2) ? ls.scaled_rss : std::ldexp(ls.rss, -e2);
    const double sigma2 = rss / df_resid;
    out.vcov = detail::unscaled_vcov(ls, sigma2 * ls.scaled_bread(), fn);
    out.df = Eigen::VectorXd::Constant(p, df_resid);
    out.conventions.kind = variance_kind::model;
    out.conventions.factor = factor_rule::classical;
    out.conventions.factor_value = 1.0;
    out.conventions.df = df_rule::n_minus_k;
    out.conventions.df_value = df_resid;
    out.conventions.n_obs = n;
    out.conventions.n_params = p + absorbed.k_fe;
    out.convention = out.conventions.describe() +
                     (absorbed.k_fe ? " (k includes " + std::to_string(absorbed.k_fe) + " absorbed fixed effects)" : "");
    return out;
  }
  if (spec.kind == vcov_kind::cr2 || spec.kind == vcov_kind::cr3) return bias_reduced_cluster_vcov(X, ls, w, e, spec);

  // Scores u_i x_i with u_i = w_i e_i, HC2/HC3 rescaled by the leverage; under a non-identity
  // transform the scores u_i·2^(−e_y)·x̃_i of the transformed design, mapped back at the end.
  // (unweighted HC0/HC1/CR: u = e is used as it is, without an n-vector copy)
  const bool leverage = spec.kind == vcov_kind::hc2 || spec.kind == vcov_kind::hc3;
  const bool transformed = !ls.transform.identity();
  const double fy = std::ldexp(1.0, -ls.y_exponent());
  Eigen::VectorXd u;
  const double* scores = e.data();
  if (w || leverage) {
    u = e;
    if (w) u.array() *= Eigen::Map<const Eigen::ArrayXd>(w, n);
    scores = u.data();
  }
  if (leverage) {
    const Eigen::VectorXd h = leverages(X, ls, w);
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!(h(i) < 1.0 - 1e-10))
        detail::throw_invalid(fn, std::string(vcov_name(spec.kind)) + " is undefined: observation " + std::to_string(i) +
                                      " has leverage 1 (it alone determines a coefficient); use HC1 or drop it");
      u(i) /= spec.kind == vcov_kind::hc2 ? std::sqrt(1.0 - h(i)) : (1.0 - h(i));
    }
    vcov_estimate out = transformed ? detail::hc_sandwich(ls.scaled_bread(), detail::transformed_cross_product(X, ls, u.data(), fy), vcov_kind::hc0, n, p)
                                    : sandwich_vcov(ls.bread(), X, ls.kept, u.data(), vcov_spec{vcov_kind::hc0, {}, spec.ssc, nullptr, {}}, p);
    if (transformed) out.vcov = detail::unscaled_vcov(ls, out.vcov, fn);
    out.kind = spec.kind;
    out.conventions.factor = spec.kind == vcov_kind::hc2 ? factor_rule::leverage_sqrt : factor_rule::leverage;
    out.conventions.factor_value = 1.0;
    out.convention = out.conventions.describe();
    return out;
  }
  if (spec.kind == vcov_kind::hc0 || spec.kind == vcov_kind::hc1)
    return linear_model_hc_vcov(ls, detail::transformed_cross_product(X, ls, scores, fy), spec, n, absorbed);
  if (transformed) {
    // the cluster and survey sandwiches take the scores as a matrix: the transformed design is
    // formed once (n×p; only for offset or out-of-range columns), scores scaled to the transformed y
    const Eigen::MatrixXd Xt = detail::transformed_design(X, ls);
    std::vector<Eigen::Index> all(static_cast<std::size_t>(p));
    for (Eigen::Index j = 0; j < p; ++j) all[static_cast<std::size_t>(j)] = j;
    Eigen::VectorXd us = Eigen::Map<const Eigen::VectorXd>(scores, n) * fy;
    vcov_estimate out = sandwich_vcov(ls.scaled_bread(), Xt, all, us.data(), spec, p + absorbed.k_fe_cluster);
    out.vcov = detail::unscaled_vcov(ls, out.vcov, fn);
    detail::note_absorbed_parameters(out, absorbed, true);
    return out;
  }
  vcov_estimate out = sandwich_vcov(ls.bread(), X, ls.kept, scores, spec, p + absorbed.k_fe_cluster);
  detail::note_absorbed_parameters(out, absorbed, true);
  return out;
}

}  // namespace impactkit
