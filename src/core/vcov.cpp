// Out-of-line definitions for impactkit/core/vcov.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/vcov.hpp>

#include "vcov_detail.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit {

const char* vcov_name(vcov_kind k) {
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
    case vcov_kind::survey: return "survey";
    case vcov_kind::replicate: return "replicate";
  }
  return "?";
}

vcov_kind parse_vcov_kind(std::string s) {
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

bool is_cluster_kind(vcov_kind k) {
  return k == vcov_kind::cr0 || k == vcov_kind::cr1 || k == vcov_kind::cr2 || k == vcov_kind::cr3;
}

}  // namespace impactkit

namespace impactkit::detail {

Eigen::VectorXd standard_errors(const Eigen::MatrixXd& vcov) {
  return vcov.diagonal().unaryExpr([](double d) { return d >= 0 ? std::sqrt(d) : std::numeric_limits<double>::quiet_NaN(); });
}

std::vector<group_codes> cluster_dimensions(const vcov_spec& spec, Eigen::Index n, const char* function) {
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

vcov_estimate hc_sandwich(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& meat,
                          vcov_kind kind, Eigen::Index n, Eigen::Index n_params, bool maximum_likelihood) {
  require(kind == vcov_kind::hc0 || kind == vcov_kind::hc1, "hc_sandwich", std::string("expects HC0 or HC1, got ") + vcov_name(kind));
  require(n > n_params, "hc_sandwich", "needs more observations (" + std::to_string(n) + ") than parameters (" + std::to_string(n_params) + ")");
  const double nn = static_cast<double>(n), kk = static_cast<double>(n_params);
  vcov_estimate out;
  out.kind = kind;
  const bool ml = kind == vcov_kind::hc1 && maximum_likelihood;
  out.factor = kind == vcov_kind::hc1 ? nn / (nn - (ml ? 1.0 : kk)) : 1.0;
  out.vcov = out.factor * bread * meat * bread;
  out.df = Eigen::VectorXd::Constant(bread.rows(), nn - kk);
  out.conventions.kind = variance_kind::heteroskedastic;
  out.conventions.factor = ml ? factor_rule::n_over_n_minus_1 : kind == vcov_kind::hc1 ? factor_rule::n_over_n_minus_k : factor_rule::none;
  out.conventions.factor_value = out.factor;
  out.conventions.df = df_rule::n_minus_k;
  out.conventions.df_value = nn - kk;
  out.conventions.n_obs = n;
  out.conventions.n_params = n_params;
  out.convention = out.conventions.describe();
  return out;
}

group_codes survey_units_of_rows(const survey_design& d, const std::vector<Eigen::Index>& rows, Eigen::Index n, const char* fn) {
  if (rows.empty()) {
    require(d.rows() == n, fn, "the survey design has " + std::to_string(d.rows()) + " rows but the estimation has " + std::to_string(n) +
                                   "; pass the design row of each estimation row");
    return d.units();
  }
  require(static_cast<Eigen::Index>(rows.size()) == n, fn, "survey_rows has " + std::to_string(rows.size()) + " entries but the estimation has " + std::to_string(n) + " rows");
  group_codes g;
  g.n_groups = d.units().n_groups;
  g.code.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= d.rows()) throw_invalid(fn, "survey_rows has an entry outside the design");
    g.code[i] = d.units().code[static_cast<std::size_t>(rows[i])];
  }
  return g;
}

vcov_estimate survey_sandwich(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                              const std::vector<Eigen::Index>& cols, const double* u, const vcov_spec& spec, Eigen::Index n_params) {
  const char* fn = "sandwich_vcov";
  require(spec.survey != nullptr, fn, "vcov survey needs a survey design");
  const survey_design& d = *spec.survey;
  const group_codes units = survey_units_of_rows(d, spec.survey_rows, Z.rows(), fn);
  const Eigen::MatrixXd meat = d.variance_of_unit_totals(group_score_sums(Z, cols, u, units));
  vcov_estimate out;
  out.kind = vcov_kind::survey;
  out.factor = std::numeric_limits<double>::quiet_NaN();
  out.vcov = bread * meat * bread;
  out.conventions = d.conventions();
  out.conventions.n_obs = Z.rows();
  out.conventions.n_params = n_params;
  out.conventions.df = df_rule::design_minus_k;
  out.conventions.df_value = (std::isnan(spec.survey_df) ? d.df_of_rows(spec.survey_rows) : spec.survey_df) - static_cast<double>(n_params) + 1.0;
  out.df = Eigen::VectorXd::Constant(bread.rows(), out.conventions.df_value);
  out.convention = out.conventions.describe();
  return out;
}

}  // namespace impactkit::detail

namespace impactkit {

vcov_estimate sandwich_vcov(const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                            const std::vector<Eigen::Index>& cols, const double* u, const vcov_spec& spec,
                            Eigen::Index n_params) {
  const Eigen::Index n = Z.rows(), p = bread.rows();
  detail::require(static_cast<Eigen::Index>(cols.size()) == p && bread.cols() == p, "sandwich_vcov",
                  "the bread must be p x p with p = " + std::to_string(cols.size()) + " score columns; got " +
                      std::to_string(bread.rows()) + " x " + std::to_string(bread.cols()));
  for (Eigen::Index j : cols)
    if (j < 0 || j >= Z.cols())
      detail::throw_invalid("sandwich_vcov", "score column index " + std::to_string(j) + " is outside Z (" + std::to_string(Z.cols()) + " columns)");
  detail::require(n > n_params, "sandwich_vcov", "needs more observations (" + std::to_string(n) + ") than parameters (" + std::to_string(n_params) + ")");
  if (spec.kind == vcov_kind::hc0 || spec.kind == vcov_kind::hc1)
    return detail::hc_sandwich(bread, detail::weighted_cross_product(Z, cols, u), spec.kind, n, n_params, spec.ssc.maximum_likelihood);
  if (spec.kind == vcov_kind::survey) return detail::survey_sandwich(bread, Z, cols, u, spec, n_params);
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
  const bool with_adj = cr1 && spec.ssc.adj && !spec.ssc.maximum_likelihood;
  const double adj = with_adj ? (nn - 1.0) / (nn - kk) : 1.0;
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
  variance_conventions& c = out.conventions;
  c.kind = variance_kind::cluster;
  c.factor = !cr1 || (!spec.ssc.cluster_adj && !with_adj) ? factor_rule::none
             : spec.ssc.cluster_adj && with_adj          ? factor_rule::cluster_stata
             : spec.ssc.cluster_adj                          ? factor_rule::g_over_g_minus_1
                                                             : factor_rule::n_minus_1_over_n_minus_k;
  c.factor_value = out.factor;
  c.df = df_rule::clusters_minus_1;
  c.df_value = static_cast<double>(g_min - 1);
  c.n_obs = n;
  c.n_params = n_params;
  c.n_clusters = out.n_clusters;
  c.multiway_min = spec.ssc.cluster_df == cluster_df_rule::min;
  c.cr1_without_factor = cr1 && c.factor == factor_rule::none;
  c.maximum_likelihood = spec.ssc.maximum_likelihood;
  out.convention = c.describe();
  return out;
}

}  // namespace impactkit
