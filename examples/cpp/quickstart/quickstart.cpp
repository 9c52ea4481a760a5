// Thornton (2008), Malawi: did a cash incentive make people collect their HIV test result?
// OLS of got ~ any + age + distvct with CR1 standard errors clustered on the village (villnum).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <impactkit/impactkit.hpp>

int main(int argc, char** argv) {
  std::ifstream csv(argc > 1 ? argv[1] : "thornton_hiv.csv");
  if (!csv) { std::cerr << "usage: quickstart path/to/thornton_hiv.csv\n"; return 2; }
  // columns: villnum,got,distvct,tinc,any,age,hiv2004 ("NA": missing)
  std::vector<double> got, any, age, distvct;
  std::vector<std::int64_t> village;  // any integer labels, 32- or 64-bit
  int dropped = 0;
  std::string line, cell;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    for (std::stringstream s(line); std::getline(s, cell, ',');) f.push_back(cell);
    if (f[0] == "NA" || f[1] == "NA" || f[2] == "NA" || f[4] == "NA" || f[5] == "NA") { ++dropped; continue; }
    village.push_back(std::stoll(f[0]));
    got.push_back(std::stod(f[1]));
    distvct.push_back(std::stod(f[2]));
    any.push_back(std::stod(f[4]));
    age.push_back(std::stod(f[5]));
  }
  const Eigen::Index n = static_cast<Eigen::Index>(got.size());
  Eigen::MatrixXd X(n, 4);  // the intercept is a column of ones
  X << Eigen::VectorXd::Ones(n), Eigen::Map<Eigen::VectorXd>(any.data(), n),
       Eigen::Map<Eigen::VectorXd>(age.data(), n), Eigen::Map<Eigen::VectorXd>(distvct.data(), n);
  const Eigen::Map<const Eigen::VectorXd> y(got.data(), n);
  // Cluster labels: factorize() turns any int32/int64 labels into codes 0..G-1 (int), n x 1.
  const impactkit::group_codes g = impactkit::factorize(impactkit::label_column::of(village.data(), n));
  const Eigen::MatrixXi clusters = Eigen::Map<const Eigen::VectorXi>(g.code.data(), n);

  impactkit::ols_options opt;
  opt.vcov = impactkit::vcov_spec::cluster(clusters);  // CR1: G/(G-1)*(n-1)/(n-k), t with G-1 df
  const impactkit::ols_result r = impactkit::ols(X, y, opt);

  const char* names[] = {"(Intercept)", "any", "age", "distvct"};
  const Eigen::VectorXd t = r.statistic(), p = r.p_values();
  std::printf("n = %lld (%d rows with missing values dropped), %d villages, R2 = %.6f\n",
              static_cast<long long>(r.nobs), dropped, g.n_groups, r.r2);
  std::printf("%-12s %12s %12s %9s %10s\n", "term", "estimate", "std.error", "t", "p");
  for (Eigen::Index j = 0; j < r.coef.size(); ++j)
    std::printf("%-12s %12.6g %12.6g %9.4f %10.3g\n", names[r.kept_columns[j]], r.coef(j), r.se(j), t(j), p(j));
  std::cout << r.describe() << "\n";
}
