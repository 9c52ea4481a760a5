#pragma once
// One entry for every poverty and inequality index (poverty.hpp, inequality.hpp, lorenz.hpp,
// concentration.hpp): the index and its parameters as a value, evaluated with a survey design's
// linearised variance or re-evaluated under each column of a replicate-weight design.
//
// Replicate designs (R survey's svrepdesign, convey's svyrep methods): each replicate re-estimates the
// index from scratch with its weights — an estimated line and every quantile included — and the variance
// is replicate_vcov's (influence_vcov.hpp) with the design's scale, rscales and mse conventions.
#include <limits>
#include <vector>

#include "../core/influence_vcov.hpp"
#include "../core/survey_design.hpp"
#include "concentration.hpp"
#include "inequality.hpp"
#include "poverty.hpp"

namespace impactkit {

enum class welfare_index_kind {
  fgt, watts, sen, gini, theil, mean_log_deviation, atkinson, lorenz, generalized_lorenz, quantile_shares, quintile_share_ratio,
  concentration, kakwani
};

/// An index and its parameters.
struct welfare_index_spec {
  welfare_index_kind kind = welfare_index_kind::gini;
  double parameter = 0;          ///< FGT's α, Atkinson's ε
  welfare_line line;             ///< fgt, watts, sen
  std::vector<double> shares;    ///< lorenz points, quantile-share cuts, qsr {lower, upper}
  concentration_kind concentration = concentration_kind::standard;
  double lower = std::numeric_limits<double>::quiet_NaN(), upper = std::numeric_limits<double>::quiet_NaN();  ///< outcome bounds
  gini_convention gini = gini_convention::eurostat;
  const double* values = nullptr;  ///< concentration: the outcome; kakwani: the payment (n values)
};

/// The index per domain with its linearised design variance.
welfare_index_result welfare_index(const welfare_rows& r, const welfare_index_spec& spec, const survey_design& design);

/// The index per domain with its replicate-weight variance; `replicate_weights` is n × R (full weights per
/// replicate), r.weights the full-sample weights.
welfare_index_result welfare_index(const welfare_rows& r, const welfare_index_spec& spec,
                                   const Eigen::Ref<const Eigen::MatrixXd>& replicate_weights, const replicate_spec& replicate);

/// replicate_vcov (influence_vcov.hpp) of estimates that may be undefined (NaN) on the full sample: such an
/// estimate is NaN in every replicate too, so it enters as zeros and its row and column of V are NaN.
vcov_estimate replicate_vcov_where_defined(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::MatrixXd replicates,
                                           const replicate_spec& replicate);

/// An index's replicate variance from its replicate estimates (R × K; replicate_vcov_where_defined) into
/// out.vcov and out.conventions, and with an estimated line the line's replicate variance from its R
/// replicate values into out.line_variance (NaN otherwise).
void set_replicate_variance(welfare_index_result& out, Eigen::MatrixXd replicates, const Eigen::VectorXd& line_replicates,
                            bool estimated_line, const replicate_spec& replicate);

}  // namespace impactkit
