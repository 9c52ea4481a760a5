// Out-of-line definitions for impactkit/targeting/streaming.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/targeting/streaming.hpp>

#include <string>
#include <utility>
#include <vector>

#include "targeting_accuracy_detail.hpp"
#include "welfare_index_detail.hpp"

#include <impactkit/targeting/welfare_index.hpp>

namespace impactkit {

namespace {

resolved_line resolved(const welfare_line& line, const line_values& v, const char* fn) {
  detail::lines::check(line, fn);
  resolved_line L;
  if (line.kind == line_kind::fixed) L.z = line.value;
  if (line.kind != line_kind::quantile) return L;
  detail::require(std::isfinite(v.q) && std::isfinite(v.h) && v.h > 0, fn,
                  "an estimated line needs its quantile Q_p and a positive bandwidth h over all analysis rows (line_values)");
  L.q = v.q;
  L.z = line.share * v.q;
  L.h = v.h;
  L.estimated = true;
  return L;
}

design_chunk with_weights(design_chunk d, const double* weights, Eigen::Index n, const char* fn) {
  detail::require(d.n == n, fn, "the design columns have " + std::to_string(d.n) + " rows but the chunk has " + std::to_string(n));
  detail::require(d.weights == nullptr || d.weights == weights, fn, "give the weights once (in the rows)");
  d.weights = weights;
  return d;
}

/// The accumulator's unit totals on `design` (one row per design unit, U × (D·q)).
unit_totals_table table_on(const design_accumulator& acc, const survey_design& design, const Eigen::MatrixXd& unit_totals, const char* fn) {
  detail::require(unit_totals.rows() == design.units().n_groups && unit_totals.cols() == acc.n_domains() * acc.n_variables(), fn,
                  "the unit totals must have one row per design unit and D·q columns");
  unit_totals_table t;
  t.n_units = unit_totals.rows();
  t.n_domains = acc.n_domains();
  t.n_variables = acc.n_variables();
  t.totals = unit_totals;
  return t;
}

const double kPresent = 0.0;  // a non-null column pointer for the option flags of an empty row set

}  // namespace

// ---- targeting -----------------------------------------------------------------------------------

targeting_accumulator::targeting_accumulator(const targeting_stream_setup& setup)
    : setup_(setup),
      acc_(setup.n_domains, detail::targeting::n_variables(setup.n_welfare_groups), setup.nest, setup.fpc) {
  const char* fn = "targeting_accumulator";
  detail::require(setup.n_welfare_groups >= 0 && (setup.n_welfare_groups == 0 ||
                                                  static_cast<int>(setup.welfare_cuts.size()) == setup.n_welfare_groups - 1),
                  fn, "quantile welfare groups need their K − 1 cuts (welfare_cuts)");
  detail::require(setup.line.kind == line_kind::none || setup.welfare, fn, "a line needs the welfare column");
  detail::require(setup.n_welfare_groups == 0 || setup.welfare, fn, "welfare groups need the welfare column");
  resolved(setup.line, setup.values, fn);
  if (setup.line.kind == line_kind::fixed) setup_.values.z = setup.line.value;
}

targeting_accumulator::targeting_accumulator(const targeting_stream_setup& setup, const design_accumulator::state& totals)
    : targeting_accumulator(setup) {
  detail::require(totals.n_domains == setup.n_domains && totals.n_variables == acc_.n_variables() && totals.nest == setup.nest &&
                      totals.has_fpc == setup.fpc,
                  "targeting_accumulator", "the totals do not belong to this setup");
  acc_ = design_accumulator(totals);
}

targeting_rows targeting_accumulator::flags() const {
  targeting_rows r;
  r.line = setup_.line;
  r.target = setup_.line.kind == line_kind::none ? &kPresent : nullptr;
  r.beneficiary = &kPresent;
  r.benefit = setup_.amounts ? &kPresent : nullptr;
  r.welfare = setup_.welfare ? &kPresent : nullptr;
  r.n_domains = setup_.n_domains;
  r.n_welfare_groups = setup_.n_welfare_groups;
  return r;
}

void targeting_accumulator::update(const targeting_rows& rows, const design_chunk& design) {
  namespace tg = detail::targeting;
  const char* fn = "targeting_accumulator::update";
  if (rows.n == 0) return;
  detail::require((rows.benefit != nullptr) == setup_.amounts && (rows.welfare != nullptr) == setup_.welfare &&
                      (rows.target != nullptr) == (setup_.line.kind == line_kind::none) && rows.line.kind == setup_.line.kind &&
                      rows.n_domains == setup_.n_domains && rows.n_welfare_groups == setup_.n_welfare_groups && rows.welfare_group == nullptr,
                  fn, "the chunk's columns and options differ from the accumulator's setup");
  tg::check_rows(rows);
  const resolved_line L = resolved(setup_.line, setup_.values, fn);
  // the chunk's unit totals from the cell pass of ik.targeting in memory (tg::accumulate: a few fields per
  // row into cells, expanded to the q variables of row_variables per unit and domain)
  acc_.update_totals(with_weights(design, rows.weights, rows.n, fn),
                     [&](const group_codes& units) { return tg::accumulate(rows, L, setup_.welfare_cuts, units); });
}

void targeting_accumulator::merge(const targeting_accumulator& other) { acc_.merge(other.acc_); }

targeting_result targeting_accumulator::finalize(lonely_psu_rule lonely_psu, const std::vector<std::string>& strata_names,
                                                 const std::vector<std::string>& psu_names) const {
  return finalize(acc_.design(lonely_psu, strata_names, psu_names), acc_.table().totals);
}

targeting_result targeting_accumulator::finalize(const survey_design& design, const Eigen::MatrixXd& unit_totals) const {
  namespace tg = detail::targeting;
  const targeting_rows r = flags();
  const resolved_line L = resolved(setup_.line, setup_.values, "targeting_accumulator::finalize");
  const auto defs = tg::definitions_for(r);
  targeting_result out = tg::start_result(r, defs, L);
  out.welfare_cuts = setup_.welfare_cuts;
  tg::finish(r, L, defs, table_on(acc_, design, unit_totals, "targeting_accumulator::finalize"), design, out);
  out.conventions = acc_.conventions(design);
  out.conventions.n_params = 1;
  return out;
}

targeting_result targeting_accumulator::finalize_replicates(const std::vector<targeting_accumulator>& replicates,
                                                            const replicate_spec& replicate) const {
  const char* fn = "targeting_accumulator::finalize_replicates";
  detail::require(replicates.size() >= 2, fn, "needs at least two replicates");
  // the estimates of each weight set (their single-PSU variance is not used)
  const auto estimates = [fn](const targeting_accumulator& a) {
    detail::require(a.acc_.n_psu() <= 1, fn, "replicate accumulators are streamed with a single PSU");
    return a.finalize(a.acc_.design(lonely_psu_rule::certainty), a.acc_.table().totals);
  };
  targeting_result out = estimates(*this);
  const Eigen::Index R = static_cast<Eigen::Index>(replicates.size()), D = out.estimate.rows(), M = out.estimate.cols();
  Eigen::MatrixXd reps(R, D * M);
  for (Eigen::Index k = 0; k < R; ++k) {
    const Eigen::MatrixXd est = estimates(replicates[static_cast<std::size_t>(k)]).estimate;
    detail::require(est.rows() == D && est.cols() == M, fn, "the replicates have other metrics than the full sample");
    for (Eigen::Index d = 0; d < D; ++d) reps.block(k, d * M, 1, M) = est.row(d);
  }
  out.line_variance_out_of_range = false;
  detail::targeting::finish_replicates(out, std::move(reps), replicate);
  return out;
}

// ---- poverty indices -----------------------------------------------------------------------------

poverty_accumulator::poverty_accumulator(poverty_index index, double alpha, const welfare_line& line, const line_values& values,
                                         int n_domains, bool nest, bool fpc)
    : index_(index), alpha_(alpha), line_(line), values_(values), acc_(n_domains, detail::poverty::n_base, nest, fpc) {
  const char* fn = index == poverty_index::fgt ? "fgt" : "watts";
  detail::poverty::check_index(index, alpha, line, fn);
  if (line.kind == line_kind::fixed) values_.z = line.value;
  detail::poverty::check_line_value(resolved(line_, values_, fn), fn);
}

poverty_accumulator::poverty_accumulator(poverty_index index, double alpha, const welfare_line& line, const line_values& values,
                                         const design_accumulator::state& totals)
    : poverty_accumulator(index, alpha, line, values, totals.n_domains, totals.nest, totals.has_fpc) {
  acc_ = design_accumulator(totals);
}

void poverty_accumulator::update(const welfare_rows& r, const design_chunk& design) {
  namespace pv = detail::poverty;
  const char* fn = index_ == poverty_index::fgt ? "fgt" : "watts";
  if (r.n == 0) return;
  pv::check(r, fn);
  detail::require(r.n_domains == acc_.n_domains(), fn, "the chunk has a different number of domains than the accumulator");
  const resolved_line L = resolved(line_, values_, fn);
  acc_.update(
      with_weights(design, r.weights, r.n, fn),
      [&](Eigen::Index i, double* x) {
        return pv::row_variables(index_, alpha_, line_, L, r.weights ? r.weights[i] : 1.0, r.welfare[i], r.domain ? r.domain[i] : 0,
                                 r.n_domains, x);
      },
      [&](Eigen::Index i) { pv::explain_invalid(r, i, fn, index_); });
}

void poverty_accumulator::merge(const poverty_accumulator& other) { acc_.merge(other.acc_); }

welfare_index_result poverty_accumulator::finalize(lonely_psu_rule lonely_psu, const std::vector<std::string>& strata_names,
                                                   const std::vector<std::string>& psu_names) const {
  return finalize(acc_.design(lonely_psu, strata_names, psu_names), acc_.table().totals);
}

welfare_index_result poverty_accumulator::finalize(const survey_design& design, const Eigen::MatrixXd& unit_totals) const {
  const char* fn = index_ == poverty_index::fgt ? "fgt" : "watts";
  welfare_index_result out = detail::poverty::finish(line_, resolved(line_, values_, fn), table_on(acc_, design, unit_totals, fn), design, fn);
  out.conventions = acc_.conventions(design);
  out.conventions.n_params = 1;
  return out;
}

welfare_index_result poverty_accumulator::finalize_replicates(const std::vector<poverty_accumulator>& replicates,
                                                              const replicate_spec& replicate) const {
  const char* fn = "poverty_accumulator::finalize_replicates";
  detail::require(replicates.size() >= 2, fn, "needs at least two replicates");
  const auto estimates = [fn](const poverty_accumulator& a) {
    detail::require(a.acc_.n_psu() <= 1, fn, "replicate accumulators are streamed with a single PSU");
    return a.finalize(a.acc_.design(lonely_psu_rule::certainty), a.acc_.table().totals);
  };
  welfare_index_result out = estimates(*this);
  const Eigen::Index R = static_cast<Eigen::Index>(replicates.size()), K = out.estimate.size();
  Eigen::MatrixXd reps(R, K);
  Eigen::VectorXd lines(R);
  for (Eigen::Index k = 0; k < R; ++k) {
    const welfare_index_result rk = estimates(replicates[static_cast<std::size_t>(k)]);
    detail::require(rk.estimate.size() == K, fn, "the replicates have other domains than the full sample");
    reps.row(k) = rk.estimate.transpose();
    lines(k) = rk.line;
  }
  set_replicate_variance(out, std::move(reps), lines, line_.kind == line_kind::quantile, replicate);
  return out;
}

}  // namespace impactkit
