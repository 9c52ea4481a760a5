// Out-of-line definitions for impactkit/targeting/targeting_accuracy.hpp (the compiled part of
// impactkit::impactkit); the formulas are in the header comment.
#include <impactkit/targeting/targeting_accuracy.hpp>
#include <impactkit/targeting/welfare_index.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <impactkit/core/errors.hpp>
#include <impactkit/core/influence_vcov.hpp>
#include <impactkit/core/unit_totals.hpp>

#include "targeting_accuracy_detail.hpp"

namespace impactkit {




/// Targeting metrics per domain with their joint design-based variance (Taylor linearisation on the
/// survey design `design`, whose rows are the rows of `r`).
targeting_result targeting_accuracy(const targeting_rows& r, const survey_design& design) {
  namespace tg = detail::targeting;
  tg::check_rows(r);
  detail::require(design.rows() == r.n, "targeting_accuracy",
                  "the survey design has " + std::to_string(design.rows()) + " rows but the data have " + std::to_string(r.n));
  const auto defs = tg::definitions_for(r);
  const resolved_line L = tg::resolve(r, r.weights);
  targeting_result out = tg::start_result(r, defs, L);
  const bool hinted = r.welfare_cuts_hint && !r.welfare_group && r.n_welfare_groups > 1 &&
                      static_cast<int>(r.welfare_cuts_hint->size()) == r.n_welfare_groups - 1 &&
                      std::is_sorted(r.welfare_cuts_hint->begin(), r.welfare_cuts_hint->end());
  // a one-stage design with a unit per row (no design given): the pass sums the domain totals only, and
  // each row's influence is streamed into the variance (finish_row_units)
  const bool row_units = design.units_are_rows();
  group_codes single;
  if (row_units) {
    single.code.assign(static_cast<std::size_t>(r.n), 0);
    single.n_groups = 1;
  }
  const group_codes& units = row_units ? single : design.units();
  unit_totals_table table;
  if (hinted) {
    std::vector<double> at_cut;
    table = tg::accumulate(r, L, *r.welfare_cuts_hint, units, &at_cut);
    out.welfare_cuts_from_hint = tg::confirm_cuts(r, *r.welfare_cuts_hint, table, at_cut);
  }
  if (out.welfare_cuts_from_hint) {
    out.welfare_cuts = *r.welfare_cuts_hint;
  } else {
    out.welfare_cuts = tg::welfare_cuts(r);
    table = tg::accumulate(r, L, out.welfare_cuts, units);
  }
  if (row_units)
    tg::finish_row_units(r, L, defs, std::move(table), out.welfare_cuts, design, out);
  else
    tg::finish(r, L, defs, std::move(table), design, out);
  out.conventions = design.conventions();
  out.conventions.n_params = 1;
  return out;
}

/// The same metrics under a replicate-weight design: each column of `replicate_weights` (n × R, full
/// weights per replicate) re-evaluates every metric, an estimated line included; V from replicate_vcov
/// (R svrepdesign conventions).
targeting_result targeting_accuracy(const targeting_rows& r, const Eigen::Ref<const Eigen::MatrixXd>& replicate_weights,
                                           const replicate_spec& spec) {
  namespace tg = detail::targeting;
  tg::check_rows(r);
  const char* fn = "targeting_accuracy";
  detail::require(replicate_weights.rows() == r.n && replicate_weights.cols() >= 2, fn,
                  "replicate weights must be n × R with R ≥ 2 (n = " + std::to_string(r.n) + ")");
  const auto defs = tg::definitions_for(r);
  const resolved_line L = tg::resolve(r, r.weights);
  targeting_result out = tg::start_result(r, defs, L);
  out.welfare_cuts = tg::welfare_cuts(r);  // held fixed across replicates
  group_codes single;
  single.code.assign(static_cast<std::size_t>(r.n), 0);
  single.n_groups = 1;
  out.table = tg::accumulate(r, L, out.welfare_cuts, single);
  out.estimate = tg::estimates_at(defs, out.table.domain_totals(), L.z, nullptr, &out.undefined);
  const Eigen::Index R = replicate_weights.cols(), D = r.n_domains, M = static_cast<Eigen::Index>(defs.size());
  Eigen::MatrixXd reps(R, D * M);
  std::vector<double> w(replicate_weights.innerStride() == 1 ? 0 : static_cast<std::size_t>(r.n));
  for (Eigen::Index k = 0; k < R; ++k) {
    targeting_rows rk = r;
    if (replicate_weights.innerStride() == 1) {
      rk.weights = replicate_weights.col(k).data();  // a contiguous column: no copy
    } else {
      for (Eigen::Index i = 0; i < r.n; ++i) w[static_cast<std::size_t>(i)] = replicate_weights(i, k);
      rk.weights = w.data();
    }
    const resolved_line Lk = tg::resolve(rk, rk.weights);
    const Eigen::MatrixXd est = tg::estimates_at(defs, tg::accumulate(rk, Lk, out.welfare_cuts, single).domain_totals(), Lk.z, nullptr, nullptr);
    for (Eigen::Index d = 0; d < D; ++d) reps.block(k, d * M, 1, M) = est.row(d);
  }
  tg::finish_replicates(out, std::move(reps), spec);
  return out;
}

}  // namespace impactkit
