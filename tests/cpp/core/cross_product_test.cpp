// The cross-product and residual kernels (detail/cross_product.hpp): the AVX2+FMA implementation
// against the portable one and against a long-double loop on awkward sizes (p = 1..13, lengths not
// multiples of the vector width, misaligned starts); the fused residual + HC meat pass of ols()
// against the unfused computation; thread-count invariance of the fused pass.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/detail/cross_product.hpp>
#include <impactkit/impactkit.hpp>

namespace {

using impactkit::ols_options;
using impactkit::ols_result;
using impactkit::vcov_kind;
using impactkit::vcov_spec;
namespace detail = impactkit::detail;

using kernel_fn = void (*)(const double* const*, Eigen::Index, Eigen::Index, double*, const double*);

struct columns {
  std::vector<double> storage;  // p columns of `stride` doubles, column j starting at j*stride + offset
  std::vector<const double*> ptr;
  std::vector<double> weights;  // d, starting at `offset` too
  columns(Eigen::Index p, Eigen::Index len, Eigen::Index offset, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> unif(0.1, 3.0);
    const Eigen::Index stride = len + offset + 3;
    storage.resize(static_cast<std::size_t>(p * stride));
    for (double& v : storage) v = normal(rng) * 10.0 + 1.0;
    for (Eigen::Index j = 0; j < p; ++j) ptr.push_back(storage.data() + j * stride + offset);
    weights.resize(static_cast<std::size_t>(len + offset + 1));
    for (double& v : weights) v = unif(rng);
  }
  const double* d(Eigen::Index offset) const { return weights.data() + offset; }
};

/// Σ d_i x_a x_b and Σ |d_i x_a x_b| in long double.
void naive_cross_product(const columns& c, Eigen::Index p, Eigen::Index len, const double* d, Eigen::MatrixXd& sum, Eigen::MatrixXd& abs_sum) {
  sum.setZero(p, p);
  abs_sum.setZero(p, p);
  for (Eigen::Index a = 0; a < p; ++a)
    for (Eigen::Index b = 0; b <= a; ++b) {
      long double s = 0, t = 0;
      for (Eigen::Index i = 0; i < len; ++i) {
        const long double v = static_cast<long double>(d ? d[i] : 1.0) * c.ptr[a][i] * c.ptr[b][i];
        s += v;
        t += std::fabs(v);
      }
      sum(a, b) = static_cast<double>(s);
      abs_sum(a, b) = static_cast<double>(t);
    }
}

/// Runs `kernel` on an accumulator pre-filled with `init` and checks the lower triangle against the
/// long-double sums and that the strict upper triangle is untouched.
void check_kernel(kernel_fn kernel, const char* name, const columns& c, Eigen::Index p, Eigen::Index len, const double* d,
                  Eigen::MatrixXd& result, Eigen::MatrixXd& abs_sum) {
  Eigen::MatrixXd init = Eigen::MatrixXd::Constant(p, p, 0.5);
  result = init;
  kernel(c.ptr.data(), p, len, result.data(), d);
  Eigen::MatrixXd sum;
  naive_cross_product(c, p, len, d, sum, abs_sum);
  const std::string where = std::string(name) + " p=" + std::to_string(p) + " len=" + std::to_string(len) + (d ? " weighted" : "");
  for (Eigen::Index a = 0; a < p; ++a)
    for (Eigen::Index b = 0; b < p; ++b) {
      if (b > a) {
        EXPECT_EQ(result(a, b), init(a, b)) << where << " wrote the upper triangle at (" << a << ", " << b << ")";
        continue;
      }
      const double tol = 4 * (static_cast<double>(len) + 4) * 1.2e-16 * abs_sum(a, b) + 1e-15;
      EXPECT_NEAR(result(a, b) - init(a, b), sum(a, b), tol) << where << " at (" << a << ", " << b << ")";
    }
}

TEST(CrossProductKernel, PortableMatchesLongDouble) {
  std::mt19937_64 rng(7);
  for (Eigen::Index p = 1; p <= 13; ++p)
    for (Eigen::Index len : {0, 1, 3, 5, 7, 9, 31, 64, 1021})
      for (Eigen::Index offset : {0, 1, 3}) {
        const columns c(p, len, offset, rng);
        Eigen::MatrixXd r, abs_sum;
        check_kernel(&detail::accumulate_cross_product_portable, "portable", c, p, len, nullptr, r, abs_sum);
        check_kernel(&detail::accumulate_cross_product_portable, "portable", c, p, len, c.d(offset), r, abs_sum);
      }
}

TEST(CrossProductKernel, Avx2MatchesPortableAndLongDouble) {
#ifdef IMPACTKIT_HAVE_AVX2_KERNEL
  if (!detail::cpu_has_avx2_fma()) GTEST_SKIP() << "CPU without AVX2+FMA";
  std::mt19937_64 rng(11);
  for (Eigen::Index p = 1; p <= 13; ++p)
    for (Eigen::Index len : {0, 1, 2, 3, 4, 5, 6, 7, 9, 13, 31, 64, 1021, 1027})
      for (Eigen::Index offset : {0, 1, 2, 3})
        for (bool weighted : {false, true}) {
          const columns c(p, len, offset, rng);
          const double* d = weighted ? c.d(offset) : nullptr;
          Eigen::MatrixXd fast, portable, abs_sum;
          check_kernel(&detail::accumulate_cross_product_avx2, "avx2", c, p, len, d, fast, abs_sum);
          check_kernel(&detail::accumulate_cross_product_portable, "portable", c, p, len, d, portable, abs_sum);
          // both round differently (FMA, 4 vs 2 lanes): agreement to the rounding bound of the sums
          for (Eigen::Index a = 0; a < p; ++a)
            for (Eigen::Index b = 0; b <= a; ++b)
              EXPECT_NEAR(fast(a, b), portable(a, b), 8 * (static_cast<double>(len) + 4) * 1.2e-16 * abs_sum(a, b) + 1e-15)
                  << "p=" << p << " len=" << len << " offset=" << offset << " at (" << a << ", " << b << ")";
        }
#else
  GTEST_SKIP() << "no AVX2 kernel on this platform";
#endif
}

TEST(CrossProductKernel, DispatchUsesTheFastKernelWhenAvailable) {
  std::mt19937_64 rng(3);
  const columns c(11, 1000, 1, rng);
  Eigen::MatrixXd via_dispatch = Eigen::MatrixXd::Zero(11, 11), direct = Eigen::MatrixXd::Zero(11, 11);
  detail::accumulate_cross_product(c.ptr.data(), 11, 1000, via_dispatch.data(), c.d(1));
#ifdef IMPACTKIT_HAVE_AVX2_KERNEL
  if (detail::cpu_has_avx2_fma())
    detail::accumulate_cross_product_avx2(c.ptr.data(), 11, 1000, direct.data(), c.d(1));
  else
#endif
    detail::accumulate_cross_product_portable(c.ptr.data(), 11, 1000, direct.data(), c.d(1));
  EXPECT_TRUE((via_dispatch.array() == direct.array()).all());
}

TEST(ResidualKernel, ImplementationsMatchLongDouble) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (Eigen::Index p = 1; p <= 13; ++p)
    for (Eigen::Index len : {0, 1, 3, 4, 5, 7, 64, 1021})
      for (Eigen::Index offset : {0, 1, 3}) {
        const columns c(p, len, offset, rng);
        std::vector<double> coef(static_cast<std::size_t>(p)), y(static_cast<std::size_t>(len + offset));
        for (double& v : coef) v = normal(rng);
        for (double& v : y) v = normal(rng) * 20.0;
        std::vector<double> e_portable(static_cast<std::size_t>(len + offset)), e_dispatch(e_portable.size());
        detail::residual_block_portable(c.ptr.data(), coef.data(), p, len, y.data() + offset, e_portable.data() + offset);
        detail::residual_block(c.ptr.data(), coef.data(), p, len, y.data() + offset, e_dispatch.data() + offset);
        for (Eigen::Index i = 0; i < len; ++i) {
          long double e = y[static_cast<std::size_t>(i + offset)], scale = std::fabs(e);
          for (Eigen::Index j = 0; j < p; ++j) {
            e -= static_cast<long double>(coef[static_cast<std::size_t>(j)]) * c.ptr[j][i];
            scale += std::fabs(static_cast<long double>(coef[static_cast<std::size_t>(j)]) * c.ptr[j][i]);
          }
          const double tol = 2.0 * static_cast<double>(p + 1) * 1.2e-16 * static_cast<double>(scale);
          EXPECT_NEAR(e_portable[static_cast<std::size_t>(i + offset)], static_cast<double>(e), tol) << "portable p=" << p << " i=" << i;
          EXPECT_NEAR(e_dispatch[static_cast<std::size_t>(i + offset)], static_cast<double>(e), tol) << "dispatch p=" << p << " i=" << i;
        }
      }
}

struct fused_data {
  Eigen::MatrixXd X;
  Eigen::VectorXd y, w;
  Eigen::MatrixXi fe;
  explicit fused_data(Eigen::Index n, Eigen::Index k = 6) {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> unif(0.2, 2.0);
    std::uniform_int_distribution<int> level(0, 49);
    X.resize(n, k);
    y.resize(n);
    w.resize(n);
    fe.resize(n, 1);
    X.col(0).setOnes();
    for (Eigen::Index j = 1; j < k; ++j)
      for (Eigen::Index i = 0; i < n; ++i) X(i, j) = normal(rng) + 0.3 * j;
    for (Eigen::Index i = 0; i < n; ++i) {
      w(i) = unif(rng);
      fe(i, 0) = level(rng);
      y(i) = 1.0 + 0.5 * X(i, 1) - 0.25 * X(i, 2) + (1.0 + std::fabs(X(i, 1))) * normal(rng) + 0.1 * fe(i, 0);
    }
  }
};

/// |a − b| ≤ tol·√(a_ii a_jj) elementwise.
void expect_vcov_close(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double tol, const std::string& what) {
  ASSERT_EQ(a.rows(), b.rows()) << what;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      EXPECT_NEAR(a(i, j), b(i, j), tol * std::sqrt(a(i, i) * a(j, j))) << what << " at (" << i << ", " << j << ")";
}

TEST(FusedHcPass, EqualsUnfusedVariance) {
  const fused_data d(50'000);
  for (int hc : {0, 1})
    for (bool weighted : {false, true})
      for (bool collinear : {false, true})
        for (bool absorb : {false, true}) {
          Eigen::MatrixXd X = d.X;
          if (collinear) X.col(3) = X.col(1) - 2.0 * X.col(2);  // dropped by the solver
          if (absorb) X = X.rightCols(X.cols() - 1).eval();     // the fixed effects replace the intercept
          ols_options opt;
          opt.vcov = vcov_spec::hc(hc);
          if (absorb) opt.fixed_effects = d.fe;
          const ols_result r = weighted ? impactkit::wls(X, d.y, d.w, opt) : impactkit::ols(X, d.y, opt);
          const std::string what = "HC" + std::to_string(hc) + (weighted ? " weighted" : "") + (collinear ? " collinear" : "") +
                                   (absorb ? " absorbed" : "");
          ASSERT_EQ(r.dropped_columns.size(), collinear ? 1u : 0u) << what;

          // Unfused: the same design (within-transformed with fixed effects), residuals by Eigen,
          // then linear_model_vcov's own meat pass.
          // (with fixed effects the within rows are in the order of the fixed-effect levels: weights
          // follow them and residuals are mapped back to input order before comparing)
          Eigen::MatrixXd Xd = X;
          Eigen::VectorXd yd = d.y, wd = d.w;
          impactkit::absorbed_dof dof;
          impactkit::within_transformed wt;
          if (absorb) {
            std::vector<const double*> cols;
            for (Eigen::Index j = 0; j < X.cols(); ++j) cols.push_back(X.col(j).data());
            cols.push_back(d.y.data());
            wt = impactkit::absorb_fixed_effects(cols, X.rows(), weighted ? d.w.data() : nullptr, d.fe, opt.absorb);
            impactkit::within_variance(wt, nullptr, opt.vcov, "test", wt.vcov, wt.dof);
            ASSERT_TRUE(wt.all_rows);
            Xd = wt.columns.values.leftCols(X.cols());
            yd = wt.columns.values.col(X.cols());
            if (weighted) wd = Eigen::Map<const Eigen::VectorXd>(wt.weight_data(), X.rows());
            dof = wt.dof;
          }
          Eigen::VectorXd sqrt_w = wd.cwiseSqrt();
          const impactkit::least_squares_solution ls = impactkit::solve_least_squares(Xd, yd, weighted ? sqrt_w.data() : nullptr);
          const Eigen::VectorXd e_within = yd - Xd * ls.coef_full(X.cols());
          const impactkit::vcov_estimate v = impactkit::linear_model_vcov(Xd, ls, weighted ? wd.data() : nullptr, e_within, opt.vcov, dof);
          const Eigen::VectorXd e = absorb ? wt.in_input_order(e_within) : e_within;
          expect_vcov_close(r.vcov, v.vcov, 1e-13, what);
          EXPECT_EQ(r.vcov_convention, v.convention) << what;
          EXPECT_EQ(r.ssc_factor, v.factor) << what;
          EXPECT_EQ(r.df_inference, v.df) << what;
          const double e_scale = e.cwiseAbs().maxCoeff();
          EXPECT_LE((r.residuals - e).cwiseAbs().maxCoeff(), 1e-12 * e_scale) << what;
          const double rss = weighted ? (e_within.array().square() * wd.array()).sum() : e_within.squaredNorm();
          EXPECT_NEAR(r.rss, rss, 1e-12 * rss) << what;
        }
}

TEST(FusedHcPass, BitIdenticalForOneAndTwoThreads) {
  const fused_data d(200'003, 11);
  const int saved = impactkit::get_num_threads();
  for (bool weighted : {false, true})
    for (bool absorb : {false, true}) {
      ols_options opt;
      opt.vcov = vcov_spec::hc(1);
      Eigen::MatrixXd X = absorb ? Eigen::MatrixXd(d.X.rightCols(d.X.cols() - 1)) : d.X;
      if (absorb) opt.fixed_effects = d.fe;
      impactkit::set_num_threads(1);
      const ols_result one = weighted ? impactkit::wls(X, d.y, d.w, opt) : impactkit::ols(X, d.y, opt);
      impactkit::set_num_threads(2);
      const ols_result two = weighted ? impactkit::wls(X, d.y, d.w, opt) : impactkit::ols(X, d.y, opt);
      const std::string what = std::string(weighted ? "weighted" : "unweighted") + (absorb ? " absorbed" : "");
      EXPECT_TRUE((one.coef.array() == two.coef.array()).all()) << what;
      EXPECT_TRUE((one.vcov.array() == two.vcov.array()).all()) << what;
      EXPECT_TRUE((one.residuals.array() == two.residuals.array()).all()) << what;
      EXPECT_EQ(one.rss, two.rss) << what;
    }
  impactkit::set_num_threads(saved);
}

}  // namespace
