// impactkit from an installed package: a simulated cash-transfer RCT.
//
// 60 villages, 25 households each; treatment (an unconditional cash transfer) is assigned at the
// village level to half of the villages, so standard errors must be clustered by village. The
// outcome is monthly household consumption; the true effect is 12 (currency units).
//
// Exit code 0 when the estimated effect and its standard errors are sane, 1 otherwise, so the
// test that builds and runs this program fails if the installed library misbehaves.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <impactkit/impactkit.hpp>

namespace {

struct rct_data {
  Eigen::MatrixXd X;        // [const, treat, baseline_consumption, hh_size, female_head]
  Eigen::VectorXd y;        // endline consumption
  Eigen::MatrixXi village;  // n x 1 cluster codes
  std::vector<std::string> names;
};

constexpr double kTrueEffect = 12.0;

rct_data simulate(int villages, int households, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> hh_size(1, 9);
  std::bernoulli_distribution female_head(0.3);

  // Half of the villages treated (a fixed, shuffled assignment).
  std::vector<int> treated(static_cast<std::size_t>(villages), 0);
  for (int v = 0; v < villages / 2; ++v) treated[static_cast<std::size_t>(v)] = 1;
  std::shuffle(treated.begin(), treated.end(), rng);

  const Eigen::Index n = static_cast<Eigen::Index>(villages) * households;
  rct_data d;
  d.X.resize(n, 5);
  d.y.resize(n);
  d.village.resize(n, 1);
  d.names = {"(Intercept)", "treat", "baseline", "hh_size", "female_head"};
  Eigen::Index i = 0;
  for (int v = 0; v < villages; ++v) {
    const double village_shock = 8.0 * normal(rng);  // common to the village: induces clustering
    for (int h = 0; h < households; ++h, ++i) {
      const double baseline = 100.0 + 20.0 * normal(rng) + 0.5 * village_shock;
      const double size = hh_size(rng);
      const double fem = female_head(rng) ? 1.0 : 0.0;
      const double t = treated[static_cast<std::size_t>(v)];
      // Heteroskedastic noise: larger households have more variable consumption.
      const double noise = (4.0 + 1.5 * size) * normal(rng);
      d.X.row(i) << 1.0, t, baseline, size, fem;
      d.y(i) = 20.0 + kTrueEffect * t + 0.8 * baseline - 1.5 * size + 3.0 * fem + village_shock + noise;
      d.village(i, 0) = 1000 + v;  // any integer labels
    }
  }
  return d;
}

/// Textbook HC1 and CR1 standard errors from the normal equations, independent of impactkit's
/// algorithms (fine for this small, well-conditioned design).
struct reference_se {
  Eigen::VectorXd coef, hc1, cr1;
};

reference_se textbook(const rct_data& d) {
  const Eigen::Index n = d.X.rows(), k = d.X.cols();
  const Eigen::MatrixXd bread = (d.X.transpose() * d.X).inverse();
  reference_se out;
  out.coef = bread * (d.X.transpose() * d.y);
  const Eigen::VectorXd e = d.y - d.X * out.coef;
  const Eigen::MatrixXd Xe = d.X.array().colwise() * e.array();
  const Eigen::MatrixXd meat_hc = Xe.transpose() * Xe;
  std::map<int, Eigen::VectorXd> sums;
  for (Eigen::Index i = 0; i < n; ++i) {
    auto it = sums.emplace(d.village(i, 0), Eigen::VectorXd::Zero(k)).first;
    it->second += Xe.row(i).transpose();
  }
  Eigen::MatrixXd meat_cl = Eigen::MatrixXd::Zero(k, k);
  for (const auto& [g, s] : sums) meat_cl += s * s.transpose();
  const double nn = static_cast<double>(n), kk = static_cast<double>(k), G = static_cast<double>(sums.size());
  out.hc1 = (nn / (nn - kk) * bread * meat_hc * bread).diagonal().cwiseSqrt();
  out.cr1 = (G / (G - 1) * (nn - 1) / (nn - kk) * bread * meat_cl * bread).diagonal().cwiseSqrt();
  return out;
}

double max_rel_diff(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return ((a - b).array().abs() / b.array().abs()).maxCoeff();
}

void print_table(const char* title, const impactkit::ols_result& r, const std::vector<std::string>& names) {
  std::printf("\n%s\n", title);
  std::printf("  %-12s %12s %12s %9s %9s\n", "term", "estimate", "std.error", "t", "p");
  const Eigen::VectorXd t = r.statistic(), p = r.p_values();
  for (Eigen::Index j = 0; j < r.coef.size(); ++j) {
    const auto col = static_cast<std::size_t>(r.kept_columns[static_cast<std::size_t>(j)]);
    std::printf("  %-12s %12.4f %12.4f %9.3f %9.4f\n", names[col].c_str(), r.coef(j), r.se(j), t(j), p(j));
  }
  std::printf("  R2 = %.4f, n = %lld, df_resid = %.0f\n", r.r2, static_cast<long long>(r.nobs), r.df_resid);
  std::cout << "  " << r.describe() << "\n";
}

}  // namespace

int main() {
  std::printf("impactkit %s: simulated cash-transfer RCT (seed 20240601)\n", impactkit::version);
#ifdef _OPENMP
  std::printf("OpenMP: on (%d threads)\n", impactkit::get_num_threads());
#else
  std::printf("OpenMP: off (one thread)\n");
#endif
  const rct_data d = simulate(/*villages=*/60, /*households=*/25, /*seed=*/20240601ULL);

  impactkit::ols_options hc1;
  hc1.vcov = impactkit::vcov_spec::hc(1);
  const impactkit::ols_result fit_hc1 = impactkit::ols(d.X, d.y, hc1);

  impactkit::ols_options cr1;
  cr1.vcov = impactkit::vcov_spec::cluster(d.village, impactkit::vcov_kind::cr1);
  const impactkit::ols_result fit_cr1 = impactkit::ols(d.X, d.y, cr1);

  print_table("OLS, HC1 (heteroskedasticity-robust):", fit_hc1, d.names);
  print_table("OLS, CR1 clustered by village:", fit_cr1, d.names);

  // ---- sanity checks -----------------------------------------------------------------------------
  int failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) {
      std::fprintf(stderr, "FAIL: %s\n", what.c_str());
      ++failures;
    }
  };
  const Eigen::Index treat = 1;
  check(fit_hc1.rank == 5 && fit_cr1.rank == 5, "all five columns kept");
  check(fit_hc1.nobs == d.X.rows(), "nobs equals the number of rows");
  check(std::abs(fit_hc1.coef(treat) - fit_cr1.coef(treat)) < 1e-10, "the point estimate does not depend on the vcov");
  const double b = fit_cr1.coef(treat), se_c = fit_cr1.se(treat), se_h = fit_hc1.se(treat);
  check(std::isfinite(b) && b > 4.0 && b < 20.0, "treatment effect " + std::to_string(b) + " within (4, 20) (truth 12)");
  check(std::isfinite(se_h) && se_h > 0.1 && se_h < 5.0, "HC1 standard error " + std::to_string(se_h) + " within (0.1, 5)");
  check(std::isfinite(se_c) && se_c > se_h, "village-clustered SE " + std::to_string(se_c) +
                                                " exceeds the HC1 SE " + std::to_string(se_h) + " (village-level treatment)");
  check(se_c < 10.0, "clustered SE " + std::to_string(se_c) + " below 10");
  check(fit_cr1.n_clusters.size() == 1 && fit_cr1.n_clusters[0] == 60, "60 village clusters");
  check(std::isfinite(fit_cr1.df_inference(treat)) && fit_cr1.df_inference(treat) == 59.0, "CR1 t df = G - 1 = 59");
  check(std::abs(fit_cr1.coef(2) - 0.8) < 0.15, "baseline slope near 0.8");
  check(fit_cr1.describe().find("CR1") != std::string::npos, "describe() names the CR1 convention");

  // The installed library against the textbook formulas (normal equations, explicit sandwich).
  const reference_se ref = textbook(d);
  const double dc = max_rel_diff(fit_cr1.coef, ref.coef), dh = max_rel_diff(fit_hc1.se, ref.hc1),
               dg = max_rel_diff(fit_cr1.se, ref.cr1);
  std::printf("\nagreement with textbook formulas (max relative difference): coef %.1e, HC1 SE %.1e, CR1 SE %.1e\n", dc, dh, dg);
  check(dc < 1e-8 && dh < 1e-8 && dg < 1e-8, "coefficients and SEs agree with the textbook sandwich formulas to 1e-8");

  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("\nall checks passed: effect %.3f (CR1 SE %.3f, approx. 95%% CI %.2f to %.2f)\n", b, se_c,
              b - 2.0 * se_c, b + 2.0 * se_c);
  return 0;
}
