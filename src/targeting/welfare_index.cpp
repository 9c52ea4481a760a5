// Out-of-line definitions for impactkit/targeting/welfare_index.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/welfare_index.hpp>

#include <cmath>
#include <string>

#include <impactkit/targeting/lorenz.hpp>

#include "welfare_index_detail.hpp"

namespace impactkit {

welfare_index_result welfare_index(const welfare_rows& r, const welfare_index_spec& s, const survey_design& design) {
  switch (s.kind) {
    case welfare_index_kind::fgt: return poverty_measure(r, poverty_index::fgt, s.parameter, s.line, design);
    case welfare_index_kind::watts: return poverty_measure(r, poverty_index::watts, 0, s.line, design);
    case welfare_index_kind::sen: return sen_index(r, s.line, design);
    case welfare_index_kind::gini: return gini(r, design, s.gini);
    case welfare_index_kind::theil: return inequality_measure(r, inequality_index::theil, 0, design);
    case welfare_index_kind::mean_log_deviation: return inequality_measure(r, inequality_index::mean_log_deviation, 0, design);
    case welfare_index_kind::atkinson: return inequality_measure(r, inequality_index::atkinson, s.parameter, design);
    case welfare_index_kind::lorenz: return lorenz_ordinates(r, s.shares, false, design);
    case welfare_index_kind::generalized_lorenz: return lorenz_ordinates(r, s.shares, true, design);
    case welfare_index_kind::quantile_shares: return quantile_shares(r, s.shares, design);
    case welfare_index_kind::quintile_share_ratio:
      detail::require(s.shares.size() == 2, "qsr", "needs the shares {lower, upper}");
      return quintile_share_ratio(r, s.shares[0], s.shares[1], design);
    case welfare_index_kind::concentration: return concentration_index(r, s.values, s.concentration, s.lower, s.upper, design);
    case welfare_index_kind::kakwani: return kakwani_index(r, s.values, design);
  }
  detail::throw_invalid("welfare_index", "unknown index");
}

welfare_index_result welfare_index(const welfare_rows& r, const welfare_index_spec& spec,
                                   const Eigen::Ref<const Eigen::MatrixXd>& replicate_weights, const replicate_spec& replicate) {
  const char* fn = "welfare_index";
  detail::require(replicate_weights.rows() == r.n && replicate_weights.cols() >= 2, fn,
                  "replicate weights must be n × R with R ≥ 2 (n = " + std::to_string(r.n) + ")");
  // each evaluation's own linearised variance is not used: a one-row-per-unit design keeps it cheap
  survey_spec srs;
  srs.weights = Eigen::VectorXd::Ones(r.n);
  const survey_design plain(srs);
  welfare_index_result out = welfare_index(r, spec, plain);
  const Eigen::Index R = replicate_weights.cols(), K = out.estimate.size();
  Eigen::MatrixXd reps(R, K);
  Eigen::VectorXd line_reps(R);
  Eigen::VectorXd w(r.n);
  for (Eigen::Index k = 0; k < R; ++k) {
    w = replicate_weights.col(k);
    welfare_rows rk = r;
    rk.weights = w.data();
    const welfare_index_result res = welfare_index(rk, spec, plain);
    reps.row(k) = res.estimate.transpose();
    line_reps(k) = res.line;
  }
  set_replicate_variance(out, std::move(reps), line_reps, spec.line.kind == line_kind::quantile, replicate);
  return out;
}

vcov_estimate replicate_vcov_where_defined(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::MatrixXd replicates,
                                           const replicate_spec& replicate) {
  const Eigen::Index K = theta.size();
  Eigen::VectorXd defined = theta;
  for (Eigen::Index j = 0; j < K; ++j)
    if (std::isnan(theta(j))) {
      defined(j) = 0;
      replicates.col(j).setZero();
    }
  vcov_estimate v = replicate_vcov(defined, replicates, replicate);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Eigen::Index j = 0; j < K; ++j)
    if (std::isnan(theta(j))) {
      v.vcov.row(j).setConstant(nan);
      v.vcov.col(j).setConstant(nan);
    }
  return v;
}

void set_replicate_variance(welfare_index_result& out, Eigen::MatrixXd replicates, const Eigen::VectorXd& line_replicates,
                            bool estimated_line, const replicate_spec& replicate) {
  const vcov_estimate v = replicate_vcov_where_defined(out.estimate, std::move(replicates), replicate);
  out.vcov = v.vcov;
  out.conventions = v.conventions;
  out.conventions.n_params = 1;
  // an estimated line (e.g. the at-risk-of-poverty threshold): its replicate variance too
  out.line_variance = std::numeric_limits<double>::quiet_NaN();
  if (estimated_line && std::isfinite(out.line) && line_replicates.allFinite())
    out.line_variance = replicate_vcov(Eigen::VectorXd::Constant(1, out.line), line_replicates, replicate).vcov(0, 0);
}

}  // namespace impactkit
