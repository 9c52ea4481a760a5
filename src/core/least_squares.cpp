// Out-of-line definitions for impactkit/core/least_squares.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/least_squares.hpp>

#include "least_squares_detail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <Eigen/Householder>
#include <Eigen/QR>

namespace impactkit::detail {

void stack_and_triangularise(Eigen::MatrixXd& work, Eigen::Index rows_used, Eigen::MatrixXd& r_out) {
  const Eigen::Index p = work.cols();
  Eigen::Ref<Eigen::MatrixXd> stacked(work.topRows(rows_used));
  Eigen::HouseholderQR<Eigen::Ref<Eigen::MatrixXd>> qr(stacked);  // factorises in place
  r_out = work.topRows(std::min(rows_used, p)).triangularView<Eigen::Upper>();
  if (r_out.rows() < p) {  // fewer rows than columns so far: pad with zero rows
    Eigen::MatrixXd padded = Eigen::MatrixXd::Zero(p, p);
    padded.topRows(r_out.rows()) = r_out;
    r_out.swap(padded);
  }
}

void load_transformed(const column_transform& t, const Eigen::Ref<const Eigen::MatrixXd>& X, const double* y,
                      const std::vector<Eigen::Index>& cols, Eigen::Index b0, Eigen::Index len, double* dst, Eigen::Index ld) {
  const Eigen::Index k = X.cols();
  const double* anchor = t.anchor >= 0 ? X.col(t.anchor).data() + b0 : nullptr;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const Eigen::Index j = cols[c];
    t.apply(j, (j == k ? y : X.col(j).data()) + b0, anchor, len, dst + static_cast<Eigen::Index>(c) * ld);
  }
}

std::vector<Eigen::Index> all_columns(Eigen::Index k) {
  std::vector<Eigen::Index> cols(static_cast<std::size_t>(k) + 1);
  for (Eigen::Index j = 0; j <= k; ++j) cols[static_cast<std::size_t>(j)] = j;
  return cols;
}

Eigen::MatrixXd chunk_r_factor(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                               const double* sqrt_w, Eigen::Index begin, Eigen::Index end, Eigen::Index block,
                               const column_transform& t) {
  const Eigen::Index k = X.cols(), p = k + 1;
  Eigen::MatrixXd work(p + block, p);
  Eigen::MatrixXd r = Eigen::MatrixXd::Zero(p, p);
  const std::vector<Eigen::Index> cols = t.identity() ? std::vector<Eigen::Index>() : all_columns(k);
  for (Eigen::Index b0 = begin; b0 < end; b0 += block) {
    const Eigen::Index len = std::min(block, end - b0);
    work.topRows(p) = r;
    if (t.identity()) {
      work.block(p, 0, len, k) = X.middleRows(b0, len);
      work.block(p, k, len, 1) = y.segment(b0, len);
    } else {
      load_transformed(t, X, y.data(), cols, b0, len, work.data() + p, work.rows());
    }
    if (sqrt_w) {
      const Eigen::Map<const Eigen::VectorXd> sw(sqrt_w + b0, len);
      work.middleRows(p, len).array().colwise() *= sw.array();
    }
    stack_and_triangularise(work, p + len, r);
  }
  return r;
}

Eigen::MatrixXd weighted_gram(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                              const double* sqrt_w, const column_transform& t) {
  const Eigen::Index n = X.rows(), k = X.cols(), p = k + 1;
  const Eigen::Index block = 1024;
  const row_chunks chunks = make_row_chunks(n, 8 * block);
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(chunks.count));
  std::vector<Eigen::Index> bad(static_cast<std::size_t>(chunks.count), -1);
  const bool copy = sqrt_w || !t.identity();
  const std::vector<Eigen::Index> cols = t.identity() ? std::vector<Eigen::Index>() : all_columns(k);
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c) {
    Eigen::MatrixXd acc = Eigen::MatrixXd::Zero(p, p);
    Eigen::MatrixXd buf(copy ? block : 0, p);
    std::vector<const double*> col(static_cast<std::size_t>(p));
    for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
      const Eigen::Index len = std::min(block, chunks.end(c) - b0);
      if (!t.identity()) {  // transformed copy of the block, then (weighted) scaled by √w
        load_transformed(t, X, y.data(), cols, b0, len, buf.data(), block);
        if (sqrt_w) {
          const Eigen::Map<const Eigen::ArrayXd> sw(sqrt_w + b0, len);
          for (Eigen::Index j = 0; j < p; ++j) buf.col(j).head(len).array() *= sw;
        }
        for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = buf.col(j).data();
      } else if (sqrt_w) {  // scaled copy √w·[X y] of the block
        const Eigen::Map<const Eigen::ArrayXd> sw(sqrt_w + b0, len);
        for (Eigen::Index j = 0; j < k; ++j) buf.col(j).head(len).array() = X.col(j).segment(b0, len).array() * sw;
        buf.col(k).head(len).array() = y.segment(b0, len).array() * sw;
        for (Eigen::Index j = 0; j < p; ++j) col[static_cast<std::size_t>(j)] = buf.col(j).data();
      } else {
        for (Eigen::Index j = 0; j < k; ++j) col[static_cast<std::size_t>(j)] = X.col(j).data() + b0;
        col[static_cast<std::size_t>(k)] = y.data() + b0;
      }
      accumulate_cross_product(col.data(), p, len, acc.data());
    }
    // A NaN or ±Inf anywhere in the chunk makes a diagonal sum of squares non-finite (so does an
    // overflowing square, which is no input error): only then look for the offending block.
    if (!acc.diagonal().allFinite())
      for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
        const Eigen::Index len = std::min(block, chunks.end(c) - b0);
        if (!X.middleRows(b0, len).allFinite() || !y.segment(b0, len).allFinite()) {
          bad[static_cast<std::size_t>(c)] = b0;
          break;
        }
      }
    partial[static_cast<std::size_t>(c)] = acc;
  }
  for (Eigen::Index c = 0; c < chunks.count; ++c)
    if (bad[static_cast<std::size_t>(c)] >= 0) {
      const Eigen::Index b0 = bad[static_cast<std::size_t>(c)], len = std::min(block, chunks.end(c) - b0);
      require_finite(y.segment(b0, len), "solve_least_squares", "y");
      require_finite(X.middleRows(b0, len), "solve_least_squares", "X");
    }
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(p, p);
  for (const auto& m : partial) gram += m;
  return symmetric_from_lower(gram);
}

double equilibrated_condition(const Eigen::MatrixXd& r, const Eigen::MatrixXd& r_inverse) {
  const Eigen::VectorXd norms = r.colwise().norm().transpose();
  const double a = (r * norms.cwiseInverse().asDiagonal()).norm();
  const double b = (norms.asDiagonal() * r_inverse).norm();
  return a * b;
}

void refine_least_squares(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const double* sqrt_w,
                          least_squares_solution& sol) {
  const double kappa = equilibrated_condition(sol.scaled_r, sol.scaled_r_inverse);
  if (kappa <= 1e3 || kappa > 1e7) return;
  const Eigen::Index n = X.rows(), k = X.cols(), p = sol.rank();
  const column_transform& t = sol.transform;
  using ext = long double;
  // x̃_ij = x_ij·f_j − τ_j·a_i, the same expression as column_transform::apply
  std::vector<double> f(static_cast<std::size_t>(p)), tau(static_cast<std::size_t>(p));
  for (Eigen::Index j = 0; j < p; ++j) {
    f[static_cast<std::size_t>(j)] = t.factor(sol.kept[static_cast<std::size_t>(j)]);
    tau[static_cast<std::size_t>(j)] = t.tau(sol.kept[static_cast<std::size_t>(j)]);
  }
  const double fy = t.factor(k), tauy = t.tau(k);
  const double* anchor = t.anchor >= 0 ? X.col(t.anchor).data() : nullptr;
  const row_chunks chunks = make_row_chunks(n, 8192);
  double last_step = std::numeric_limits<double>::infinity();
  for (int step = 0; step < 10; ++step) {
    std::vector<std::vector<ext>> part_g(static_cast<std::size_t>(chunks.count), std::vector<ext>(static_cast<std::size_t>(p), 0));
    std::vector<ext> part_rss(static_cast<std::size_t>(chunks.count), 0);
    const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (Eigen::Index c = 0; c < chunks.count; ++c) {
      std::vector<ext>& g = part_g[static_cast<std::size_t>(c)];
      std::vector<double> xt(static_cast<std::size_t>(p));
      ext rss = 0;
      for (Eigen::Index i = chunks.begin(c); i < chunks.end(c); ++i) {
        const double ai = anchor ? anchor[i] : 0.0;
        for (Eigen::Index j = 0; j < p; ++j)
          xt[static_cast<std::size_t>(j)] = X(i, sol.kept[static_cast<std::size_t>(j)]) * f[static_cast<std::size_t>(j)] - tau[static_cast<std::size_t>(j)] * ai;
        ext e = y(i) * fy - tauy * ai;
        for (Eigen::Index j = 0; j < p; ++j) e -= static_cast<ext>(xt[static_cast<std::size_t>(j)]) * sol.scaled_coef(j);
        const ext w = sqrt_w ? static_cast<ext>(sqrt_w[i]) * sqrt_w[i] : 1.0L;
        rss += w * e * e;
        for (Eigen::Index j = 0; j < p; ++j) g[static_cast<std::size_t>(j)] += w * xt[static_cast<std::size_t>(j)] * e;
      }
      part_rss[static_cast<std::size_t>(c)] = rss;
    }
    Eigen::VectorXd g(p);
    ext rss = 0;
    for (Eigen::Index j = 0; j < p; ++j) {
      ext s = 0;
      for (const auto& part : part_g) s += part[static_cast<std::size_t>(j)];
      g(j) = static_cast<double>(s);
    }
    for (ext r : part_rss) rss += r;
    sol.scaled_rss = static_cast<double>(rss);
    const Eigen::VectorXd delta = sol.scaled_r_inverse * (sol.scaled_r_inverse.transpose() * g);
    const double size = delta.norm();
    if (!(size < 0.5 * last_step)) break;  // not contracting: keep the current solution
    sol.scaled_coef += delta;
    last_step = size;
    if (!(size > 4 * std::numeric_limits<double>::epsilon() * sol.scaled_coef.norm())) break;
  }
}

bool power_of_two(double v) {
  int e = 0;
  return std::isfinite(v) && v != 0 && std::fabs(std::frexp(v, &e)) == 0.5;
}

int magnitude_exponent(double m) {
  int e = 0;
  std::frexp(m, &e);
  return e;
}

column_transform sample_transform(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y) {
  const Eigen::Index n = X.rows(), k = X.cols(), len = std::min<Eigen::Index>(n, 1024);
  column_transform t;
  t.columns = k;
  auto column = [&](Eigen::Index j) { return j == k ? y.data() : X.col(j).data(); };
  std::vector<int> e(static_cast<std::size_t>(k) + 1, 0);
  bool scaled = false;
  for (Eigen::Index j = 0; j <= k; ++j) {
    const double* x = column(j);
    double m = 0;
    for (Eigen::Index i = 0; i < len; ++i) m = std::max(m, std::fabs(x[i]));
    if (m > 0 && std::isfinite(m)) {
      const int ex = magnitude_exponent(m);
      if (ex > kScaleRange || ex < -kScaleRange) {
        e[static_cast<std::size_t>(j)] = ex;
        scaled = true;
      }
    }
  }
  if (scaled) t.exponent = e;
  for (Eigen::Index a = 0; a < k && t.anchor < 0; ++a) {
    const double v = X(0, a);
    if (!power_of_two(v) || X(n - 1, a) != v) continue;
    const double* x = X.col(a).data();
    bool constant = true;
    for (Eigen::Index i = 1; i < len && constant; ++i) constant = x[i] == v;
    if (constant) {
      t.anchor = a;
      t.anchor_value = v;
    }
  }
  if (t.anchor < 0) return t;
  std::vector<double> tau(static_cast<std::size_t>(k) + 1, 0.0);
  bool shifted = false;
  for (Eigen::Index j = t.anchor + 1; j <= k; ++j) {
    const double* x = column(j);
    const double f = t.factor(j);
    double s = 0;
    for (Eigen::Index i = 0; i < len; ++i) s += x[i] * f;
    const double mean = s / static_cast<double>(len);
    double m2 = 0;
    for (Eigen::Index i = 0; i < len; ++i) m2 += (x[i] * f - mean) * (x[i] * f - mean);
    if (mean != 0 && std::isfinite(mean) && m2 * kOffsetRatio < static_cast<double>(len) * mean * mean) {
      tau[static_cast<std::size_t>(j)] = mean / t.anchor_value;
      shifted = true;
    }
  }
  if (shifted) t.shift = tau;
  return t;
}

bool adjust_transform(const Eigen::MatrixXd& gram, column_transform& t, const Eigen::Ref<const Eigen::MatrixXd>& X,
                      const Eigen::Ref<const Eigen::VectorXd>& y, double w_total) {
  const Eigen::Index k = X.cols();
  const double big = std::numeric_limits<double>::max();
  std::vector<int> e(static_cast<std::size_t>(k) + 1);
  std::vector<double> tau(static_cast<std::size_t>(k) + 1);
  for (Eigen::Index j = 0; j <= k; ++j) {
    e[static_cast<std::size_t>(j)] = t.e(j);
    tau[static_cast<std::size_t>(j)] = t.tau(j);
  }
  bool changed = false;
  if (t.anchor >= 0) {
    const Eigen::Index a = t.anchor;
    const double va = t.anchor_value * t.factor(a), gaa = gram(a, a);
    if (gaa > 0 && gaa <= big) {
      const double W = gaa / (va * va);
      for (Eigen::Index j = a + 1; j <= k; ++j) {
        const double d = gram(j, j);
        if (!(d > 0 && d <= big)) continue;
        const double m = va * gram(a, j) / gaa;  // weighted mean of x̃_j
        if (m != 0 && std::isfinite(m) && d - W * m * m <= d / kOffsetRatio) {
          tau[static_cast<std::size_t>(j)] += m / t.anchor_value;
          changed = true;
        }
      }
    }
  }
  for (Eigen::Index j = 0; j <= k; ++j) {
    const double d = gram(j, j);
    const std::size_t jj = static_cast<std::size_t>(j);
    if (d > 0 && d <= big) {
      const double rms2 = d / w_total;
      if (rms2 <= std::ldexp(1.0, 2 * kScaleRange) && rms2 >= std::ldexp(1.0, -2 * kScaleRange)) continue;
      const int delta = magnitude_exponent(std::sqrt(rms2));
      e[jj] += delta;
      tau[jj] = std::ldexp(tau[jj], -delta);
      changed = true;
      continue;
    }
    // the sum of squares overflowed or underflowed (or the column is zero): scale from max |x|
    const double* x = j == k ? y.data() : X.col(j).data();
    double m = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) m = std::max(m, std::fabs(x[i]));
    int ex = m > 0 && std::isfinite(m) ? magnitude_exponent(m) : 0;
    if (ex <= kScaleRange && ex >= -kScaleRange) ex = 0;
    if (ex != e[jj] || tau[jj] != 0) {
      e[jj] = ex;
      tau[jj] = 0;
      changed = true;
    }
  }
  if (!changed) return false;
  const bool any_e = std::any_of(e.begin(), e.end(), [](int v) { return v != 0; });
  const bool any_tau = std::any_of(tau.begin(), tau.end(), [](double v) { return v != 0; });
  t.exponent = any_e ? e : std::vector<int>();
  t.shift = any_tau ? tau : std::vector<double>();
  return true;
}

least_squares_solution solve_transformed(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                                         const double* sqrt_w, double collin_tol, column_transform t) {
  const Eigen::Index n = X.rows(), k = X.cols(), p = k + 1;
  double w_total = static_cast<double>(n);
  if (sqrt_w) {
    const Eigen::Index len = std::min<Eigen::Index>(n, 1024);
    double s = 0;
    for (Eigen::Index i = 0; i < len; ++i) s += sqrt_w[i] * sqrt_w[i];
    w_total = s / static_cast<double>(len) * static_cast<double>(n);
  }
  Eigen::MatrixXd gram;
  for (int pass = 0;; ++pass) {
    gram = weighted_gram(X, y, sqrt_w, t);
    if (pass == 3 || !adjust_transform(gram, t, X, y, w_total)) break;
  }
  least_squares_solution sol;
  sol.nobs = n;
  sol.transform = t;

  // Fast path: normal equations when the equilibrated problem is well conditioned.
  {
    const Eigen::VectorXd scale = gram.diagonal().head(k).cwiseSqrt();
    if ((scale.array() > 0).all() && scale.allFinite()) {
      const Eigen::VectorXd inv = scale.cwiseInverse();
      const Eigen::MatrixXd equilibrated = inv.asDiagonal() * gram.topLeftCorner(k, k) * inv.asDiagonal();
      Eigen::LLT<Eigen::MatrixXd> chol(equilibrated);
      if (chol.info() == Eigen::Success) {
        const Eigen::MatrixXd rs = chol.matrixU();
        const Eigen::MatrixXd rs_inverse = rs.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(k, k));
        if (rs.norm() * rs_inverse.norm() <= 1e3) {
          for (Eigen::Index j = 0; j < k; ++j) sol.kept.push_back(j);
          sol.scaled_r = rs * scale.asDiagonal();                       // R'R = X̃'WX̃
          sol.scaled_r_inverse = inv.asDiagonal() * rs_inverse;
          const Eigen::VectorXd xty = gram.col(k).head(k);
          sol.scaled_coef = sol.scaled_r_inverse * (sol.scaled_r_inverse.transpose() * xty);
          const Eigen::VectorXd qty = sol.scaled_r_inverse.transpose() * xty;
          sol.scaled_rss = std::max(gram(k, k) - qty.squaredNorm(), 0.0);  // callers needing full accuracy recompute from residuals
          sol.normal_equations = true;
          return sol;
        }
      }
    }
  }

  // Stage 1: chunk factors (parallel, fixed partition) and their fixed-order combination.
  const Eigen::Index block = std::max<Eigen::Index>(512, 4 * p);
  const row_chunks chunks = make_row_chunks(n, 4 * block);
  std::vector<Eigen::MatrixXd> chunk_r(static_cast<std::size_t>(chunks.count));
  const int threads = threads_for(chunks.count, static_cast<double>(chunks.size) * p * p);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (Eigen::Index c = 0; c < chunks.count; ++c)
    chunk_r[static_cast<std::size_t>(c)] = chunk_r_factor(X, y, sqrt_w, chunks.begin(c), chunks.end(c), block, t);
  Eigen::MatrixXd m = chunk_r[0];
  if (chunks.count > 1) {
    Eigen::MatrixXd work(2 * p, p);
    for (std::size_t c = 1; c < chunk_r.size(); ++c) {
      work.topRows(p) = m;
      work.bottomRows(p) = chunk_r[c];
      stack_and_triangularise(work, 2 * p, m);
    }
  }

  // Stage 2: re-triangularise the (k+1)×(k+1) factor in column order, dropping collinear columns.
  Eigen::VectorXd norms = m.leftCols(k).colwise().norm().transpose();
  Eigen::Index rank = 0;
  Eigen::VectorXd essential;
  double tau = 0, beta = 0;
  for (Eigen::Index j = 0; j < k; ++j) {
    const double resid = m.col(j).tail(p - rank).norm();
    if (!(norms(j) > 0) || resid <= collin_tol * norms(j)) {
      sol.dropped.push_back(j);
      continue;
    }
    // Householder reflection zeroing m(rank+1:, j), applied to the columns after j (and y).
    const Eigen::Index len = p - rank;
    essential.resize(len - 1);
    m.col(j).tail(len).makeHouseholder(essential, tau, beta);
    Eigen::VectorXd workspace(k - j);
    m.block(rank, j + 1, len, k - j).applyHouseholderOnTheLeft(essential, tau, workspace.data());
    m(rank, j) = beta;
    m.col(j).tail(len - 1).setZero();
    sol.kept.push_back(j);
    ++rank;
  }
  require(rank > 0, "solve_least_squares", "the design matrix has rank zero (all columns are zero or collinear)");

  sol.scaled_r.resize(rank, rank);
  for (Eigen::Index a = 0; a < rank; ++a) sol.scaled_r.col(a) = m.col(sol.kept[static_cast<std::size_t>(a)]).head(rank);
  sol.scaled_r.triangularView<Eigen::StrictlyLower>().setZero();
  const Eigen::VectorXd qty = m.col(k).head(rank);
  sol.scaled_coef = sol.scaled_r.triangularView<Eigen::Upper>().solve(qty);
  sol.scaled_rss = m.col(k).tail(p - rank).squaredNorm();
  sol.scaled_r_inverse = sol.scaled_r.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(rank, rank));
  refine_least_squares(X, y, sqrt_w, sol);
  return sol;
}

void unscale_solution(least_squares_solution& sol) {
  const column_transform& t = sol.transform;
  if (t.identity()) {
    sol.coef = sol.scaled_coef;
    sol.r = sol.scaled_r;
    sol.r_inverse = sol.scaled_r_inverse;
    sol.rss = sol.scaled_rss;
    return;
  }
  const Eigen::Index p = sol.rank(), k = t.columns;
  const int ey = sol.y_exponent();
  const Eigen::Index a = sol.anchor_position();
  auto col_of = [&](Eigen::Index j) { return sol.kept[static_cast<std::size_t>(j)]; };
  sol.coef.resize(p);
  sol.r.resize(p, p);
  sol.r_inverse.resize(p, p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const int ej = t.e(col_of(j));
    sol.coef(j) = std::ldexp(sol.scaled_coef(j), ey - ej);
    for (Eigen::Index i = 0; i < p; ++i) {
      sol.r(i, j) = std::ldexp(sol.scaled_r(i, j), ej);
      sol.r_inverse(j, i) = std::ldexp(sol.scaled_r_inverse(j, i), -ej);
    }
  }
  if (a >= 0) {
    const int ea = t.e(t.anchor);
    double ba = std::ldexp(sol.scaled_coef(a), -ea) + t.tau(k);
    for (Eigen::Index l = 0; l < p; ++l) ba -= t.tau(col_of(l)) * sol.scaled_coef(l);
    sol.coef(a) = std::ldexp(ba, ey);
    for (Eigen::Index j = 0; j < p; ++j) {
      const double tj = t.tau(col_of(j));
      if (tj == 0) continue;
      const int ej = t.e(col_of(j));
      for (Eigen::Index i = 0; i < p; ++i) sol.r(i, j) += tj * std::ldexp(sol.scaled_r(i, a), ej + ea);
      sol.r_inverse.row(a) -= tj * sol.scaled_r_inverse.row(j);
    }
  }
  sol.rss = std::ldexp(sol.scaled_rss, 2 * ey);
  const double tiny = std::numeric_limits<double>::min(), big = std::numeric_limits<double>::max();
  for (Eigen::Index j = 0; j < p; ++j) {
    const double b = std::fabs(sol.coef(j));
    if (sol.scaled_coef(j) != 0 && !(b >= tiny && b <= big)) {
      const double log10b = std::log10(std::fabs(sol.scaled_coef(j))) + (ey - t.e(col_of(j))) * std::log10(2.0);
      throw_invalid("solve_least_squares", "the coefficient of column " + std::to_string(col_of(j)) + " is about 1e" +
                                               std::to_string(static_cast<long>(std::lround(log10b))) +
                                               ", outside the range of double precision; express y or that column in other units "
                                               "(multiply or divide by a power of ten)");
    }
  }
}

}  // namespace impactkit::detail

namespace impactkit {

least_squares_solution solve_least_squares(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                           const Eigen::Ref<const Eigen::VectorXd>& y,
                                           const double* sqrt_w, double collin_tol) {
  const Eigen::Index n = X.rows(), k = X.cols();
  detail::require(y.size() == n, "solve_least_squares", "y has " + std::to_string(y.size()) + " rows but X has " + std::to_string(n));
  detail::require(k >= 1, "solve_least_squares", "X has no columns");
  detail::require(n >= 1, "solve_least_squares", "no observations");
  column_transform t = detail::sample_transform(X, y);
  least_squares_solution sol = detail::solve_transformed(X, y, sqrt_w, collin_tol, t);
  if (sol.transform.shifts() && sol.anchor_position() < 0) {
    // the intercept was dropped as collinear with earlier columns: no centring on it
    t = sol.transform;
    t.anchor = -1;
    t.shift.clear();
    if (std::all_of(t.exponent.begin(), t.exponent.end(), [](int e) { return e == 0; })) t.exponent.clear();
    sol = detail::solve_transformed(X, y, sqrt_w, collin_tol, t);
  }
  detail::unscale_solution(sol);
  return sol;
}

}  // namespace impactkit
