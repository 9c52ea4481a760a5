#pragma once
// Complex survey designs for design-based (Taylor-linearised) variances, as R `survey` (Lumley 2004,
// 2010 §2.2 and appendix C; survey:::svyrecvar, onestage, onestrat, multistage).
//
// An estimator hands the design its influence values ψ_i (θ̂ − θ ≈ Σ_i ψ_i, the sampling weights
// already inside ψ) or their totals per sampled unit. With strata h, n_h sampled PSUs in stratum h,
// PSU totals S_hj = Σ_{i∈(h,j)} ψ_i and sampling fraction f_h = n_h / N_h (0 without an FPC: with
// replacement),
//   V₁ = Σ_h (1 − f_h) · n_h/(n_h − 1) · Σ_j (S_hj − S̄_h)(S_hj − S̄_h)ᵀ.
// Multi-stage designs with an FPC at every stage add, for every sampled unit a of stage s−1, the
// variance of its stage-s sub-units computed the same way within a, multiplied by the product of the
// sampling fractions of a and its ancestors (Särndal, Swensson & Wretman 1992, result 4.3.1;
// survey:::multistage, which multiplies a later stage by n/N of the stage above). Without an FPC at
// every stage the first stage alone is used: the ultimate-cluster approximation (survey's default
// for designs without FPCs).
//
// Lonely PSUs (a stratum, or at later stages a unit, with one sampled sub-unit), R's
// options(survey.lonely.psu = ...):
//   fail       an error naming the stratum (R's default)
//   remove     the stratum contributes nothing (R gives "certainty" the same variance)
//   certainty  the stratum contributes nothing (a self-representing PSU)
//   average    the stratum is left out and the stage-1 sum is scaled by #strata / #strata with ≥ 2 PSUs
//   adjust     the stratum's single PSU total is taken about zero, the grand mean of ψ, instead of its
//              stratum mean: (1 − f_h)·S_h1 S_h1ᵀ
// A stratum whose units were all sampled (1 − f_h < 10⁻⁷) contributes nothing before any of these
// rules applies, as in R. Degrees of freedom: #PSU − #strata over rows with positive weight (R's
// degf()).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "groups.hpp"
#include "unit_totals.hpp"
#include "../detail/row_blocks.hpp"
#include "../detail/score_sums.hpp"
#include "../detail/threads.hpp"
#include "variance_conventions.hpp"

namespace impactkit {

/// How the sample was drawn (R's svydesign(ids, strata, fpc, weights, nest)). Labels are any integers.
struct survey_spec {
  Eigen::VectorXi strata;   ///< n stage-1 stratum labels; empty: one stratum
  Eigen::MatrixXi ids;      ///< n × S sampling-unit labels per stage (column 0: PSU); empty: each row its own PSU
  Eigen::MatrixXd fpc;      ///< n × S' (S' ≤ S): per stage the population size N (> 1) or the sampling fraction
                            ///< (0 < f ≤ 1), constant within a stratum (stage 1) or unit (later stages); empty: with replacement
  Eigen::VectorXd weights;  ///< n sampling weights ≥ 0 (only for counting PSUs in the df); empty: all positive
  bool nest = false;        ///< PSU labels repeat across strata and name different PSUs
  /// Optional names for messages: strata_names[k] names the stratum labelled k, psu_names[k] the PSU
  /// labelled k (e.g. the levels of a text column whose codes are the labels); empty: the labels.
  std::vector<std::string> strata_names, psu_names;
  lonely_psu_rule lonely_psu = lonely_psu_rule::fail;
};

/// A survey design factorised once: units per stage, their parents, counts and sampling fractions.
/// Reused by every estimate on the design (a domain estimate uses the full design, zero ψ outside it).
class survey_design {
 public:
  explicit survey_design(const survey_spec& spec) {
    const char* fn = "survey_design";
    n_ = spec.ids.cols() ? spec.ids.rows() : (spec.strata.size() ? spec.strata.size() : spec.weights.size());
    detail::require(n_ >= 1, fn, "the design has no rows");
    detail::require(spec.strata.size() == 0 || spec.strata.size() == n_, fn,
                    "strata has " + std::to_string(spec.strata.size()) + " rows but the design has " + std::to_string(n_));
    detail::require(spec.weights.size() == 0 || spec.weights.size() == n_, fn,
                    "weights has " + std::to_string(spec.weights.size()) + " rows but the design has " + std::to_string(n_));
    detail::require(spec.fpc.size() == 0 || spec.fpc.rows() == n_, fn,
                    "fpc has " + std::to_string(spec.fpc.rows()) + " rows but the design has " + std::to_string(n_));
    const Eigen::Index n_id_stages = std::max<Eigen::Index>(1, spec.ids.cols());
    detail::require(spec.fpc.cols() <= n_id_stages, fn,
                    "fpc has " + std::to_string(spec.fpc.cols()) + " stages but ids have " + std::to_string(n_id_stages));
    if (spec.weights.size()) {
      for (Eigen::Index i = 0; i < n_; ++i)
        if (!(std::isfinite(spec.weights(i)) && spec.weights(i) >= 0))
          detail::throw_invalid(fn, "weights must be finite and non-negative; row " + std::to_string(i) + " has " +
                                        std::to_string(spec.weights(i)));
    }
    lonely_ = spec.lonely_psu;
    fpc_given_ = spec.fpc.cols() > 0;
    // Stages used: all of them when each has an FPC (multistage variance), else stage 1 only.
    stages_ = (spec.fpc.cols() == n_id_stages && n_id_stages > 1) ? static_cast<int>(n_id_stages) : 1;

    // Level 0: strata.
    group_codes strata = spec.strata.size() ? factorize(spec.strata) : one_group(n_);
    n_strata_ = strata.n_groups;
    strata_label_.resize(static_cast<std::size_t>(n_strata_));
    for (int h = 0; h < n_strata_; ++h) {
      const int label = spec.strata.size() ? spec.strata(strata.first_row[static_cast<std::size_t>(h)]) : 0;
      const bool named = label >= 0 && static_cast<std::size_t>(label) < spec.strata_names.size();
      strata_label_[static_cast<std::size_t>(h)] = named ? spec.strata_names[static_cast<std::size_t>(label)] : std::to_string(label);
    }
    strata_code_ = strata.code;

    // Level s ≥ 1: units of stage s, nested in their parent (stage-1 units in strata).
    std::vector<int> parent_code = strata.code;
    int n_parents = strata.n_groups;
    for (int s = 0; s < stages_; ++s) {
      level lv;
      group_codes units;
      if (spec.ids.cols() == 0) {
        units = row_units(n_);
      } else {
        const bool within_parent = s > 0 || spec.nest;
        Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> key(n_);
        for (Eigen::Index i = 0; i < n_; ++i)
          key(i) = within_parent ? static_cast<std::int64_t>(parent_code[static_cast<std::size_t>(i)]) * (std::int64_t{1} << 32) +
                                       static_cast<std::int64_t>(static_cast<std::uint32_t>(spec.ids(i, s)))
                                 : spec.ids(i, s);
        units = factorize(key);
      }
      lv.parent.assign(static_cast<std::size_t>(units.n_groups), -1);
      for (Eigen::Index i = 0; i < n_; ++i) {
        int& p = lv.parent[static_cast<std::size_t>(units.code[static_cast<std::size_t>(i)])];
        const int pi = parent_code[static_cast<std::size_t>(i)];
        if (p < 0) {
          p = pi;
        } else if (p != pi) {
          const int id = spec.ids(i, 0);
          const std::string psu = id >= 0 && static_cast<std::size_t>(id) < spec.psu_names.size() ? spec.psu_names[static_cast<std::size_t>(id)]
                                                                                                 : std::to_string(id);
          detail::throw_invalid(fn, s == 0 ? "PSU " + psu + " appears in more than one stratum (strata " +
                                                 strata_label_[static_cast<std::size_t>(p)] + " and " +
                                                 strata_label_[static_cast<std::size_t>(pi)] +
                                                 "); if PSU labels are only unique within strata, pass nest=True"
                                           : "stage-" + std::to_string(s + 1) + " units must be nested in stage-" + std::to_string(s) + " units");
        }
      }
      lv.n_children.assign(static_cast<std::size_t>(n_parents), 0);
      for (int p : lv.parent) ++lv.n_children[static_cast<std::size_t>(p)];
      // sampling fraction of this stage's units within each parent
      lv.fraction.assign(static_cast<std::size_t>(n_parents), 0.0);
      if (s < spec.fpc.cols()) {
        std::vector<double> seen(static_cast<std::size_t>(n_parents), std::nan(""));
        for (Eigen::Index i = 0; i < n_; ++i) {
          const double v = spec.fpc(i, s);
          const std::size_t p = static_cast<std::size_t>(parent_code[static_cast<std::size_t>(i)]);
          if (!(std::isfinite(v) && v > 0))
            detail::throw_invalid(fn, "fpc (stage " + std::to_string(s + 1) + ") must be positive and finite; row " + std::to_string(i) +
                                          " has " + std::to_string(v));
          if (std::isnan(seen[p])) seen[p] = v;
          else if (seen[p] != v)
            detail::throw_invalid(fn, "fpc (stage " + std::to_string(s + 1) + ") is not constant within " +
                                          (s == 0 ? "stratum " + strata_label_[p] : "a stage-" + std::to_string(s) + " unit") +
                                          " (row " + std::to_string(i) + ")");
        }
        for (std::size_t p = 0; p < seen.size(); ++p) {
          const double nh = static_cast<double>(lv.n_children[p]);
          // R: values ≤ 1 are sampling fractions, larger values population sizes
          const double f = seen[p] <= 1.0 ? seen[p] : nh / seen[p];
          if (f > 1.0 + 1e-12)
            detail::throw_invalid(fn, "fpc (stage " + std::to_string(s + 1) + ") gives a population of " + std::to_string(seen[p]) +
                                          " units but " + std::to_string(lv.n_children[p]) + " were sampled in " +
                                          (s == 0 ? "stratum " + strata_label_[p] : "a stage-" + std::to_string(s) + " unit"));
          lv.fraction[p] = std::min(f, 1.0);
        }
      }
      parent_code = units.code;
      n_parents = units.n_groups;
      if (s == 0) {
        psu_code_ = units.code;
        n_psu_ = units.n_groups;
        psu_label_.resize(static_cast<std::size_t>(units.n_groups));
        for (int u = 0; u < units.n_groups; ++u)
          psu_label_[static_cast<std::size_t>(u)] =
              spec.ids.cols() ? spec.ids(units.first_row[static_cast<std::size_t>(u)], 0) : static_cast<int>(units.first_row[static_cast<std::size_t>(u)]);
      }
      levels_.push_back(std::move(lv));
      if (s + 1 == stages_) unit_ = std::move(units);
    }
    // df: PSUs − strata among rows with positive weight (R's degf)
    if (spec.weights.size()) {
      std::vector<char> psu_used(static_cast<std::size_t>(n_psu_), 0), stratum_used(static_cast<std::size_t>(n_strata_), 0);
      const std::vector<int> psu_of_row = stage1_codes(spec, strata);
      for (Eigen::Index i = 0; i < n_; ++i)
        if (spec.weights(i) > 0) {
          psu_used[static_cast<std::size_t>(psu_of_row[static_cast<std::size_t>(i)])] = 1;
          stratum_used[static_cast<std::size_t>(strata.code[static_cast<std::size_t>(i)])] = 1;
        }
      df_ = static_cast<double>(std::count(psu_used.begin(), psu_used.end(), 1) - std::count(stratum_used.begin(), stratum_used.end(), 1));
    } else {
      df_ = static_cast<double>(n_psu_ - n_strata_);
    }
    for (int c : levels_[0].n_children) n_lonely_ += c == 1;
  }

  Eigen::Index rows() const { return n_; }
  Eigen::Index n_strata() const { return n_strata_; }
  Eigen::Index n_psu() const { return n_psu_; }
  /// Stages whose variance is computed (1: ultimate-cluster approximation or a one-stage design).
  int n_stages() const { return stages_; }
  bool has_fpc() const { return fpc_given_; }
  lonely_psu_rule lonely_psu() const { return lonely_; }
  /// Stage-1 strata with a single sampled PSU.
  Eigen::Index n_lonely_strata() const { return n_lonely_; }
  /// #PSU − #strata over rows with positive weight (R's degf()).
  double df() const { return df_; }
  /// The conventions of this design's variance (df: #PSU − #strata).
  variance_conventions conventions() const {
    variance_conventions c;
    c.kind = variance_kind::survey;
    c.factor = factor_rule::stratum_fpc;
    c.factor_value = std::numeric_limits<double>::quiet_NaN();
    c.df = df_rule::psu_minus_strata;
    c.df_value = df_;
    c.n_obs = n_;
    c.n_strata = n_strata_;
    c.n_psu = n_psu_;
    c.n_lonely_strata = n_lonely_;
    c.n_stages = stages_;
    c.fpc = fpc_given_;
    c.lonely_psu = lonely_;
    return c;
  }
  /// #PSU − #strata among the design rows `rows` (R's degf of the design restricted to them, e.g. the
  /// rows an estimator used after dropping missing values); empty: df().
  double df_of_rows(const std::vector<Eigen::Index>& rows) const {
    if (rows.empty()) return df_;
    std::vector<char> psu(static_cast<std::size_t>(n_psu_), 0), stratum(static_cast<std::size_t>(n_strata_), 0);
    for (Eigen::Index r : rows) {
      if (r < 0 || r >= n_) detail::throw_invalid("survey_design::df_of_rows", "row index outside the design");
      psu[static_cast<std::size_t>(psu_code_[static_cast<std::size_t>(r)])] = 1;
      stratum[static_cast<std::size_t>(strata_code_[static_cast<std::size_t>(r)])] = 1;
    }
    return static_cast<double>(std::count(psu.begin(), psu.end(), 1) - std::count(stratum.begin(), stratum.end(), 1));
  }
  /// The first-stage sampling unit (PSU, distinct across strata) of each design row, 0..#PSU−1.
  const std::vector<int>& psu_codes() const { return psu_code_; }
  /// The finest unit whose totals the variance needs (the PSU unless the design is multistage).
  const group_codes& units() const { return unit_; }
  Eigen::Index n_units() const { return unit_.n_groups; }
  /// Whether each row is its own unit: one stage with as many units as rows (e.g. no design given). The
  /// variance of such a design is a sum over rows, streamed without a table of n units
  /// (row_class_moments, variance_of_row_classes).
  bool units_are_rows() const { return stages_ == 1 && n_units() == n_; }

  /// U×p totals per finest unit of values_ij·w_i (w null: 1) over the columns of `values` (n×p).
  Eigen::MatrixXd unit_totals(const Eigen::Ref<const Eigen::MatrixXd>& values, const double* w = nullptr) const {
    detail::require(values.rows() == n_, "survey_design::unit_totals",
                    "values have " + std::to_string(values.rows()) + " rows but the design has " + std::to_string(n_));
    std::vector<Eigen::Index> cols(static_cast<std::size_t>(values.cols()));
    for (std::size_t j = 0; j < cols.size(); ++j) cols[j] = static_cast<Eigen::Index>(j);
    return detail::group_score_sums(values, cols, w, unit_);
  }

  /// Totals per (finest unit, domain): a U×(D·p) matrix whose column d·p + j is Σ_{i∈u, domain_i=d} w_i v_ij.
  /// Rows with domain code < 0 belong to no domain (they still count in the design).
  Eigen::MatrixXd unit_totals_by_domain(const Eigen::Ref<const Eigen::MatrixXd>& values, const double* w,
                                        const Eigen::Ref<const Eigen::VectorXi>& domain, int n_domains) const {
    const char* fn = "survey_design::unit_totals_by_domain";
    detail::require(values.rows() == n_ && domain.size() == n_, fn, "values and domain codes must have one row per design row (" + std::to_string(n_) + ")");
    detail::require(n_domains >= 1, fn, "needs at least one domain");
    const Eigen::Index p = values.cols(), U = unit_.n_groups;
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(U, static_cast<Eigen::Index>(n_domains) * p);
    for (Eigen::Index i = 0; i < n_; ++i) {
      const int d = domain(i);
      if (d < 0) continue;
      if (d >= n_domains) detail::throw_invalid(fn, "domain code out of range at row " + std::to_string(i));
      const Eigen::Index u = unit_.code[static_cast<std::size_t>(i)];
      const double wi = w ? w[i] : 1.0;
      for (Eigen::Index j = 0; j < p; ++j) out(u, d * p + j) += wi * values(i, j);
    }
    return out;
  }

  /// Totals per (finest unit, domain) of w_i·c_ij for the borrowed columns c_j (length n each) and, when
  /// `with_weights`, of w_i itself (last column): a U×(D·q) matrix, q = #columns (+1), column d·q + j.
  /// `domain` null: one domain; codes < 0: in no domain. One pass of the shared accumulator
  /// (unit_totals.hpp: fixed chunks added in chunk order, the same result for any thread count); every
  /// value is checked to be finite in the same pass (the message names the column from `names`).
  Eigen::MatrixXd unit_totals_of_columns(const std::vector<const double*>& columns, const double* w, const int* domain, int n_domains,
                                         bool with_weights, const std::vector<std::string>& names = {}) const {
    const char* fn = "survey_design::unit_totals_of_columns";
    detail::require(n_domains >= 1, fn, "needs at least one domain");
    const Eigen::Index c = static_cast<Eigen::Index>(columns.size()), q = c + (with_weights ? 1 : 0);
    detail::require(q >= 1, fn, "no columns to total");
    if (domain)  // before any table is written
      for (Eigen::Index i = 0; i < n_; ++i)
        if (domain[i] >= n_domains) detail::throw_invalid(fn, "domain code out of range at row " + std::to_string(i));
    auto row = [&](Eigen::Index i, double* x) {
      const int d = domain ? domain[i] : 0;
      if (d < 0) return -1;
      const double wi = w ? w[i] : 1.0;
      bool finite = true;
      for (Eigen::Index j = 0; j < c; ++j) {
        const double v = columns[static_cast<std::size_t>(j)][i];
        finite = finite && std::isfinite(v);
        x[j] = wi * v;
      }
      if (with_weights) x[c] = wi;
      return finite ? d : -2;
    };
    auto invalid = [&](Eigen::Index i) {
      for (Eigen::Index j = 0; j < c; ++j)
        if (!std::isfinite(columns[static_cast<std::size_t>(j)][i])) {
          const std::string name = static_cast<std::size_t>(j) < names.size() ? names[static_cast<std::size_t>(j)] : "column " + std::to_string(j);
          detail::throw_invalid(fn, name + " has a missing or infinite value at row " + std::to_string(i) +
                                        "; drop or impute it when building the data (domains are estimated on the full design)");
        }
    };
    return accumulate_unit_totals(unit_, n_, n_domains, q, row, invalid).totals;
  }

  /// Design variance of Σ ψ from the U×p totals of ψ per finest unit (see the header comment).
  Eigen::MatrixXd variance_of_unit_totals(const Eigen::Ref<const Eigen::MatrixXd>& totals) const {
    const char* fn = "survey_design::variance";
    detail::require(totals.rows() == unit_.n_groups, fn,
                    "unit totals have " + std::to_string(totals.rows()) + " rows but the design has " + std::to_string(unit_.n_groups) + " units");
    const Eigen::Index p = totals.cols();
    // totals of every level, from the finest up
    std::vector<Eigen::MatrixXd> level_totals(static_cast<std::size_t>(stages_));
    level_totals[static_cast<std::size_t>(stages_ - 1)] = totals;
    for (int s = stages_ - 1; s >= 1; --s) {
      const level& lv = levels_[static_cast<std::size_t>(s)];
      Eigen::MatrixXd up = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(levels_[static_cast<std::size_t>(s - 1)].parent.size()), p);
      const Eigen::MatrixXd& t = level_totals[static_cast<std::size_t>(s)];
      for (std::size_t u = 0; u < lv.parent.size(); ++u) up.row(lv.parent[u]) += t.row(static_cast<Eigen::Index>(u));
      level_totals[static_cast<std::size_t>(s - 1)] = std::move(up);
    }
    // weight of each parent at level s: the product of the sampling fractions of its ancestors
    std::vector<double> parent_weight(static_cast<std::size_t>(n_strata_), 1.0);
    Eigen::MatrixXd v = Eigen::MatrixXd::Zero(p, p);
    for (int s = 0; s < stages_; ++s) {
      const level& lv = levels_[static_cast<std::size_t>(s)];
      v += stage_variance(s, lv, level_totals[static_cast<std::size_t>(s)], parent_weight);
      if (s + 1 < stages_) {
        std::vector<double> next(lv.parent.size());
        for (std::size_t u = 0; u < lv.parent.size(); ++u)
          next[u] = parent_weight[static_cast<std::size_t>(lv.parent[u])] * lv.fraction[static_cast<std::size_t>(lv.parent[u])];
        parent_weight = std::move(next);
      }
    }
    return v;
  }

  /// Design variance of Σ_i ψ_i for n×p influence values.
  Eigen::MatrixXd variance(const Eigen::Ref<const Eigen::MatrixXd>& psi) const { return variance_of_unit_totals(unit_totals(psi)); }

  using row_block = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  /// variance_of_unit_totals for a one-stage design without the U×p matrix of unit totals (a design whose
  /// units are the rows has as many as rows): `unit_totals(begin, end, out)` writes the totals of units
  /// [begin, end) into the rows of `out` (a row_block, (end − begin) × p, zero on entry). It is called twice
  /// for each unit, in blocks of up to 2048 units: for the means of the strata, then for the deviations
  /// from them, from several threads at once on disjoint blocks (it must only read shared state). Fixed
  /// chunks of blocks reduced in chunk order: the same result for any thread count, equal to
  /// variance_of_unit_totals up to summation order.
  template <class UnitTotals>
  Eigen::MatrixXd variance_of_streamed_unit_totals(Eigen::Index p, UnitTotals&& unit_totals) const {
    detail::require(stages_ == 1, "survey_design::variance", "streamed unit totals need a one-stage design");
    const level& lv = levels_[0];
    const std::size_t n_parents = lv.n_children.size();
    const auto U = static_cast<Eigen::Index>(lv.parent.size());
    constexpr Eigen::Index block = 2048;
    // the lonely-PSU rule's errors first (unit_scale would throw inside the parallel loop)
    std::size_t lonely_parents = 0;
    for (std::size_t q = 0; q < n_parents; ++q) {
      bool centred = true;
      if (lv.n_children[q] == 1) unit_scale(0, lv, q, 1.0, centred, lonely_parents);
    }
    const detail::row_chunks chunks = detail::make_row_chunks(U, 4 * block, 16);
    [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size * p) * 16);
    std::vector<Eigen::MatrixXd> part(static_cast<std::size_t>(chunks.count));
    // the means of the strata
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (Eigen::Index c = 0; c < chunks.count; ++c) {
      Eigen::MatrixXd& sums = part[static_cast<std::size_t>(c)];
      sums.setZero(static_cast<Eigen::Index>(n_parents), p);
      row_block x(block, p);
      for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
        const Eigen::Index m = std::min(block, chunks.end(c) - b0);
        auto xb = x.topRows(m);
        xb.setZero();
        unit_totals(b0, b0 + m, xb);
        for (Eigen::Index u = 0; u < m; ++u) sums.row(lv.parent[static_cast<std::size_t>(b0 + u)]) += xb.row(u);
      }
    }
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n_parents), p);
    for (const auto& sums : part) mean += sums;
    for (std::size_t q = 0; q < n_parents; ++q) mean.row(static_cast<Eigen::Index>(q)) /= static_cast<double>(std::max<Eigen::Index>(1, lv.n_children[q]));
    // the scaled deviations, Σ dev devᵀ per chunk
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (Eigen::Index c = 0; c < chunks.count; ++c) {
      Eigen::MatrixXd& v = part[static_cast<std::size_t>(c)];
      v.setZero(p, p);
      row_block x(block, p);
      std::size_t ignored = 0;  // lonely parents, counted above
      for (Eigen::Index b0 = chunks.begin(c); b0 < chunks.end(c); b0 += block) {
        const Eigen::Index m = std::min(block, chunks.end(c) - b0);
        auto xb = x.topRows(m);
        xb.setZero();
        unit_totals(b0, b0 + m, xb);
        for (Eigen::Index u = 0; u < m; ++u) {
          const auto q = static_cast<std::size_t>(lv.parent[static_cast<std::size_t>(b0 + u)]);
          bool centred = true;
          const double scale = unit_scale(0, lv, q, 1.0, centred, ignored);
          if (scale == 0)
            xb.row(u).setZero();
          else if (centred)
            xb.row(u) = (xb.row(u) - mean.row(static_cast<Eigen::Index>(q))) * std::sqrt(scale);
          else
            xb.row(u) *= std::sqrt(scale);
        }
        v.selfadjointView<Eigen::Lower>().rankUpdate(xb.transpose());
      }
    }
    Eigen::MatrixXd v = Eigen::MatrixXd::Zero(p, p);
    for (const auto& vc : part) v += vc;
    v = v.selfadjointView<Eigen::Lower>();
    average_lonely_parents(v, lv, lonely_parents);
    return v;
  }


  /// The stratum (stage-1 parent) of each finest unit of a one-stage design, 0..#strata−1.
  const std::vector<int>& unit_strata() const {
    detail::require(stages_ == 1, "survey_design::unit_strata", "needs a one-stage design");
    return levels_[0].parent;
  }

  /// Per (stratum s, class k) of the units of a one-stage design: the count n_sk, the mean f̄_sk of the
  /// units' F fields and their centred second moments S_sk = Σ_u (f_u − f̄_sk)(f_u − f̄_sk)ᵀ; row s·K + k.
  /// Mean and moments are of the fields over `scale` (per field; empty: 1), so that squares of fields near
  /// the ends of the double range neither overflow nor underflow.
  struct class_moments {
    Eigen::Index n_classes = 0;
    Eigen::VectorXd count;  ///< (#strata·K)
    Eigen::MatrixXd mean;   ///< (#strata·K) × F
    Eigen::MatrixXd m2;     ///< (#strata·K) × F·F, column-major F × F per row
    Eigen::VectorXd scale;  ///< F (or empty)
  };

  /// The class moments of a one-stage design whose units are its rows (each row its own PSU: no design
  /// given, or strata over single rows), K classes and F ≤ 16 fields: `row(i, f)` writes the fields of row
  /// i into f and returns its class (−1: none; it must only read shared state, from several threads).
  /// Two passes over fixed chunks of rows (counts, sums and the largest |field|, then the centred second
  /// moments of the fields over a power-of-2 scale near that), reduced in chunk order: the same result for
  /// any thread count.
  template <class Row>
  class_moments row_class_moments(Eigen::Index K, int F, Row&& row) const {
    detail::require(units_are_rows(), "survey_design::row_class_moments", "needs a design whose units are its rows");
    detail::require(F >= 1 && F <= 16, "survey_design::row_class_moments", "needs 1 to 16 fields");
    const Eigen::Index cells = n_strata_ * K;
    const std::vector<int>& stratum = levels_[0].parent;
    auto class_of = [&](Eigen::Index i, double* f) -> Eigen::Index {
      const Eigen::Index k = row(i, f);
      return k < 0 ? -1 : static_cast<Eigen::Index>(stratum[static_cast<std::size_t>(unit_.code[static_cast<std::size_t>(i)])]) * K + k;
    };
    const auto max_chunks = static_cast<Eigen::Index>(std::clamp(4e6 / (static_cast<double>(cells) * F * F), 1.0, 16.0));
    const detail::row_chunks chunks = detail::make_row_chunks(n_, Eigen::Index{1} << 15, max_chunks);
    [[maybe_unused]] const int threads = detail::threads_for(chunks.count, static_cast<double>(chunks.size) * 4 * F);
    std::vector<Eigen::MatrixXd> part(static_cast<std::size_t>(chunks.count));
    std::vector<Eigen::VectorXd> largest(static_cast<std::size_t>(chunks.count));
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (Eigen::Index c = 0; c < chunks.count; ++c) {
      Eigen::MatrixXd& t = part[static_cast<std::size_t>(c)];
      t.setZero(F + 1, cells);  // sums of the fields, then the count
      Eigen::VectorXd& big = largest[static_cast<std::size_t>(c)];
      big.setZero(F);
      double f[16] = {};
      for (Eigen::Index i = chunks.begin(c); i < chunks.end(c); ++i) {
        const Eigen::Index cls = class_of(i, f);
        if (cls < 0) continue;
        double* x = t.col(cls).data();
        for (int l = 0; l < F; ++l) x[l] += f[l], big(l) = std::max(big(l), std::fabs(f[l]));
        x[F] += 1;
      }
    }
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(F + 1, cells);
    for (const auto& t : part) sums += t;
    class_moments out;
    out.n_classes = K;
    out.count = sums.row(F).transpose();
    out.scale = Eigen::VectorXd::Ones(F);  // a power of 2: exact division
    for (int l = 0; l < F; ++l) {
      double big = 0;
      for (const auto& b : largest) big = std::max(big, b(l));
      if (big > 0 && std::isfinite(big)) out.scale(l) = std::ldexp(1.0, std::ilogb(big));
    }
    Eigen::MatrixXd mean = sums.topRows(F);  // F × cells, of the scaled fields
    for (Eigen::Index k = 0; k < cells; ++k)
      if (out.count(k) > 0) mean.col(k) = mean.col(k).cwiseQuotient(out.scale) / out.count(k);
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (Eigen::Index c = 0; c < chunks.count; ++c) {
      Eigen::MatrixXd& t = part[static_cast<std::size_t>(c)];
      t.setZero(F * F, cells);
      double f[16] = {};
      for (Eigen::Index i = chunks.begin(c); i < chunks.end(c); ++i) {
        const Eigen::Index cls = class_of(i, f);
        if (cls < 0) continue;
        for (int l = 0; l < F; ++l) f[l] = f[l] / out.scale(l) - mean(l, cls);
        double* x = t.col(cls).data();
        for (int a = 0; a < F; ++a)
          for (int b = 0; b < F; ++b) x[a * F + b] += f[a] * f[b];
      }
    }
    Eigen::MatrixXd m2 = Eigen::MatrixXd::Zero(F * F, cells);
    for (const auto& t : part) m2 += t;
    out.mean = mean.transpose();
    out.m2 = m2.transpose();
    return out;
  }

  /// The same variance as variance_of_class_moments(row_class_moments(K, F, row), G), with each row's
  /// influence ψ_i = G_k f_i streamed instead (variance_of_streamed_unit_totals: O(p²) per row, and as
  /// accurate as a table of the rows' influence, where the moments' G S Gᵀ loses digits to cancellation
  /// when ψ is much smaller than the terms of G f). For few outputs p (an index per domain).
  template <class Row>
  Eigen::MatrixXd variance_of_row_classes(const std::vector<Eigen::MatrixXd>& G, int F, Row&& row) const {
    detail::require(units_are_rows(), "survey_design::variance_of_row_classes", "needs a design whose units are its rows");
    detail::require(F >= 1 && !G.empty(), "survey_design::variance_of_row_classes", "needs at least one field and a G per class");
    const std::vector<Eigen::Index>& row_of_unit = unit_.first_row;
    return variance_of_streamed_unit_totals(G[0].rows(), [&](Eigen::Index b, Eigen::Index e, auto& psi) {
      std::vector<double> fields(static_cast<std::size_t>(F), 0.0);
      double* f = fields.data();
      for (Eigen::Index u = b; u < e; ++u) {
        const Eigen::Index k = row(row_of_unit[static_cast<std::size_t>(u)], f);
        if (k < 0) continue;
        const Eigen::MatrixXd& g = G[static_cast<std::size_t>(k)];
        for (int l = 0; l < F; ++l)
          if (f[l] != 0) psi.row(u - b) += f[l] * g.col(l).transpose();
      }
    });
  }

  /// variance_of_unit_totals for a one-stage design whose units' totals are ψ_u = G_k f_u (p values) for
  /// the unit's class k, and 0 for a unit in no class, from the class moments of the fields:
  ///   Σ_s scale_s [Σ_k G_k S_sk G_kᵀ + Σ_k n_sk (G_k f̄_sk − c_s)(G_k f̄_sk − c_s)ᵀ + n_s0 c_s c_sᵀ],
  /// c_s = Σ_k n_sk G_k f̄_sk / n_s the stratum mean of ψ (0 for a lonely stratum under adjust) and n_s0 its
  /// units in no class; scale_s and the lonely-PSU rules as in stage_variance. The sum of squares about
  /// each class mean plus that about the stratum mean of the class means is the one about the stratum mean:
  /// no raw second moments are differenced, so large offsets in f cost no accuracy. `G[k]` is p × F.
  Eigen::MatrixXd variance_of_class_moments(const class_moments& m, const std::vector<Eigen::MatrixXd>& G) const {
    detail::require(stages_ == 1, "survey_design::variance", "class moments need a one-stage design");
    const level& lv = levels_[0];
    const auto n_parents = static_cast<Eigen::Index>(lv.n_children.size());
    const Eigen::Index K = m.n_classes;
    detail::require(K == static_cast<Eigen::Index>(G.size()) && m.count.size() == n_parents * K, "survey_design::variance",
                    "class moments need one G per class and a row per (stratum, class)");
    const Eigen::Index p = K ? G[0].rows() : 0, F = m.mean.cols();
    Eigen::MatrixXd v = Eigen::MatrixXd::Zero(p, p), between(K + 1, p), S(F, F);
    std::vector<Eigen::MatrixXd> Gs(G);  // the influence per unit of each scaled field
    if (m.scale.size())
      for (auto& g : Gs) g *= m.scale.asDiagonal();
    std::size_t lonely_parents = 0;
    for (Eigen::Index q = 0; q < n_parents; ++q) {
      bool centred = true;
      const double scale = unit_scale(0, lv, static_cast<std::size_t>(q), 1.0, centred, lonely_parents);
      if (scale == 0) continue;
      Eigen::VectorXd centre = Eigen::VectorXd::Zero(p);
      double in_classes = 0;
      for (Eigen::Index k = 0; k < K; ++k) {
        const double n_k = m.count(q * K + k);
        if (n_k == 0) continue;
        in_classes += n_k;
        if (centred) centre.noalias() += n_k * (Gs[static_cast<std::size_t>(k)] * m.mean.row(q * K + k).transpose());
      }
      centre /= static_cast<double>(std::max<Eigen::Index>(1, lv.n_children[static_cast<std::size_t>(q)]));
      Eigen::Index rows = 0;
      for (Eigen::Index k = 0; k < K; ++k) {
        const double n_k = m.count(q * K + k);
        if (n_k == 0) continue;
        const Eigen::MatrixXd& g = Gs[static_cast<std::size_t>(k)];
        S = Eigen::Map<const Eigen::MatrixXd>(Eigen::RowVectorXd(m.m2.row(q * K + k)).data(), F, F);
        v.noalias() += scale * (g * S * g.transpose());
        between.row(rows++) = std::sqrt(scale * n_k) * (g * m.mean.row(q * K + k).transpose() - centre).transpose();
      }
      const double outside = static_cast<double>(lv.n_children[static_cast<std::size_t>(q)]) - in_classes;
      if (outside > 0) between.row(rows++) = -std::sqrt(scale * outside) * centre.transpose();
      v.selfadjointView<Eigen::Lower>().rankUpdate(between.topRows(rows).transpose());
    }
    v = v.selfadjointView<Eigen::Lower>();
    average_lonely_parents(v, lv, lonely_parents);
    return v;
  }

 private:
  struct level {
    std::vector<int> parent;            ///< per unit of this stage: its parent (stage-1: stratum)
    std::vector<Eigen::Index> n_children;  ///< per parent: sampled units of this stage
    std::vector<double> fraction;       ///< per parent: sampling fraction n/N of this stage (0: with replacement)
  };

  static group_codes one_group(Eigen::Index n) {
    group_codes g;
    g.code.assign(static_cast<std::size_t>(n), 0);
    g.n_groups = 1;
    g.first_row = {0};
    return g;
  }
  static group_codes row_units(Eigen::Index n) {
    group_codes g;
    g.code.resize(static_cast<std::size_t>(n));
    g.first_row.resize(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) {
      g.code[static_cast<std::size_t>(i)] = static_cast<int>(i);
      g.first_row[static_cast<std::size_t>(i)] = i;
    }
    g.n_groups = static_cast<int>(n);
    return g;
  }
  std::vector<int> stage1_codes(const survey_spec& spec, const group_codes& strata) const {
    if (spec.ids.cols() == 0) return row_units(n_).code;
    Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> key(n_);
    for (Eigen::Index i = 0; i < n_; ++i)
      key(i) = spec.nest ? static_cast<std::int64_t>(strata.code[static_cast<std::size_t>(i)]) * (std::int64_t{1} << 32) +
                               static_cast<std::int64_t>(static_cast<std::uint32_t>(spec.ids(i, 0)))
                         : spec.ids(i, 0);
    return factorize(key).code;
  }

  /// The scale of unit c (parent q) in stage_variance: weight_q · (1 − f_q) n_q/(n_q − 1) for a deviation
  /// from its parent's mean; for a parent with one sampled unit, the lonely-PSU rule (adjust: weight_q ·
  /// (1 − f_q) on the unit's total itself, `centred` false; average: counted in `lonely_parents`, scale 0;
  /// remove, certainty: 0; fail: an error naming the stratum).
  double unit_scale(int s, const level& lv, std::size_t q, double weight, bool& centred, std::size_t& lonely_parents) const {
    centred = true;
    const double fpc_factor = 1.0 - lv.fraction[q];
    const Eigen::Index nq = lv.n_children[q];
    if (!(fpc_factor >= 1e-7 && weight != 0)) return 0;
    if (nq > 1) return weight * fpc_factor * static_cast<double>(nq) / static_cast<double>(nq - 1);
    switch (lonely_) {
      case lonely_psu_rule::fail:
        detail::throw_invalid("survey_design::variance",
                              (s == 0 ? "stratum " + strata_label_[q] : "a stage-" + std::to_string(s) + " unit") +
                                  " has only one PSU at stage " + std::to_string(s + 1) +
                                  " (lonely PSU); choose lonely_psu = remove, certainty, average or adjust");
      case lonely_psu_rule::adjust:
        centred = false;
        return weight * fpc_factor;
      case lonely_psu_rule::average:
        detail::require(s == 0, "survey_design::variance",
                        "lonely_psu = average is undefined for a stage-" + std::to_string(s) + " unit with a single stage-" +
                            std::to_string(s + 1) + " unit (R returns NaN); use remove, certainty or adjust");
        ++lonely_parents;
        return 0;
      case lonely_psu_rule::remove:
      case lonely_psu_rule::certainty: return 0;
    }
    return 0;
  }

  /// lonely_psu = average: R scales the sum over strata by #strata / #strata with ≥ 2 PSUs (parents counted).
  void average_lonely_parents(Eigen::MatrixXd& v, const level& lv, std::size_t lonely_parents) const {
    if (lonely_ != lonely_psu_rule::average || lonely_parents == 0) return;
    const std::size_t n_parents = lv.n_children.size();
    std::size_t ok = 0;
    for (std::size_t q = 0; q < n_parents; ++q) ok += lv.n_children[q] > 1 || 1.0 - lv.fraction[q] < 1e-7;
    detail::require(ok > 0, "survey_design::variance", "lonely_psu = average: every stratum has a single PSU");
    v *= static_cast<double>(n_parents) / static_cast<double>(ok);
  }

  /// Σ over parents q of this level of weight_q · (1 − f_q) n_q/(n_q − 1) Σ_{c∈q} (x_c − x̄_q)(x_c − x̄_q)ᵀ,
  /// with the lonely-PSU rule for parents with one sampled unit (unit_scale).
  Eigen::MatrixXd stage_variance(int s, const level& lv, const Eigen::MatrixXd& x, const std::vector<double>& weight) const {
    const Eigen::Index p = x.cols();
    const std::size_t n_parents = lv.n_children.size();
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n_parents), p);
    for (std::size_t u = 0; u < lv.parent.size(); ++u) mean.row(lv.parent[u]) += x.row(static_cast<Eigen::Index>(u));
    for (std::size_t q = 0; q < n_parents; ++q) mean.row(static_cast<Eigen::Index>(q)) /= static_cast<double>(std::max<Eigen::Index>(1, lv.n_children[q]));
    Eigen::MatrixXd dev(static_cast<Eigen::Index>(lv.parent.size()), p);
    std::size_t lonely_parents = 0;
    for (std::size_t u = 0; u < lv.parent.size(); ++u) {
      const std::size_t q = static_cast<std::size_t>(lv.parent[u]);
      bool centred = true;
      const double scale = unit_scale(s, lv, q, weight[q], centred, lonely_parents);
      if (scale == 0)
        dev.row(static_cast<Eigen::Index>(u)).setZero();
      else if (centred)
        dev.row(static_cast<Eigen::Index>(u)) = (x.row(static_cast<Eigen::Index>(u)) - mean.row(static_cast<Eigen::Index>(q))) * std::sqrt(scale);
      else
        dev.row(static_cast<Eigen::Index>(u)) = x.row(static_cast<Eigen::Index>(u)) * std::sqrt(scale);
    }
    Eigen::MatrixXd v = Eigen::MatrixXd::Zero(p, p);
    v.selfadjointView<Eigen::Lower>().rankUpdate(dev.transpose());
    v = v.selfadjointView<Eigen::Lower>();
    average_lonely_parents(v, lv, lonely_parents);
    return v;
  }

  Eigen::Index n_ = 0, n_strata_ = 0, n_psu_ = 0, n_lonely_ = 0;
  int stages_ = 1;
  bool fpc_given_ = false;
  double df_ = 0;
  lonely_psu_rule lonely_ = lonely_psu_rule::fail;
  std::vector<level> levels_;
  group_codes unit_;
  std::vector<std::string> strata_label_;
  std::vector<int> psu_label_, strata_code_, psu_code_;
};

}  // namespace impactkit
