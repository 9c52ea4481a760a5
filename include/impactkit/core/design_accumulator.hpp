#pragma once
// Streaming a survey design: a mergeable accumulator of weighted totals per sampled PSU (DESIGN.md §5).
//
// Every estimator that is a smooth function θ = g(t) of design-weighted totals t_{d,k} = Σ_{i∈d} w_i x_ik
// (ratios, domain means, targeting metrics, FGT) needs, for its estimate and its Taylor-linearised
// design variance, only the totals per (stratum h, PSU j, domain d): t_{hj,d,k}. Its influence totals per
// PSU are Σ_k ∂g/∂t_{d,k} · t_{hj,d,k} (linear in the PSU totals; Woodruff 1971, Binder 1983), and the
// stage-1 variance (survey_design.hpp) needs per stratum only the PSU totals, the number of sampled PSUs
// n_h and the FPC. So rows can arrive in chunks (a file read in blocks, Dask partitions) in any order:
//   update(chunk)  adds the chunk's rows to the totals of their PSUs (new PSUs are appended),
//   merge(other)   adds another accumulator's PSUs (the same PSU seen in both: totals added),
//   finalize       design(): the survey design over the PSUs (one row per PSU, sorted by (stratum,
//                  PSU) label) and table(): the totals in that order. The estimator then proceeds
//                  exactly as in memory (its variance from survey_design::variance_of_unit_totals).
// Memory is O(#PSU × D·q), independent of the number of rows. Lonely-PSU rules, the FPC (a population
// size N_h or a sampling fraction, constant within a stratum) and the df (#PSU − #strata over rows with
// positive weight, R's degf) are decided at finalize from the merged counts, so they match the in-memory
// design. Only single-stage designs (stage-1 PSUs, with or without a stage-1 FPC) stream; a design whose
// PSUs are its rows needs one accumulator row per row (give PSU labels = row ids; memory then grows with n).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"
#include "groups.hpp"
#include "survey_design.hpp"
#include "unit_totals.hpp"
#include "variance_conventions.hpp"

namespace impactkit {

/// The design columns of a chunk of rows (borrowed, n entries each).
struct design_chunk {
  Eigen::Index n = 0;
  const std::int64_t* strata = nullptr;  ///< stratum labels (null: one stratum)
  const std::int64_t* psu = nullptr;     ///< PSU labels (required; unique across strata unless nest)
  const double* fpc = nullptr;           ///< stage-1 population size N_h (> 1) or sampling fraction (null: with replacement)
  const double* weights = nullptr;       ///< sampling weights ≥ 0 (null: 1); only whether a PSU has a positive weight is kept
};

/// Mergeable totals per sampled PSU and domain of q per-row variables (see the header comment).
class design_accumulator {
 public:
  /// The accumulator's contents as plain arrays (for sending it between processes), PSU-major.
  struct state {
    int n_domains = 1;
    Eigen::Index n_variables = 1;
    bool nest = false, has_fpc = false;
    std::int64_t n_rows = 0;
    std::vector<std::int64_t> strata, psu, rows, positive;  ///< per PSU: labels, rows seen, rows with w > 0
    std::vector<double> fpc;                                ///< per PSU (NaN: none seen)
    Eigen::MatrixXd totals;                                 ///< #PSU × (D·q)
  };

  design_accumulator(int n_domains, Eigen::Index n_variables, bool nest, bool has_fpc);
  explicit design_accumulator(const state& s);

  /// Adds the rows of a chunk: `row(i, x)` writes the q weighted values of chunk row i into x and returns
  /// its domain (−1: in no domain, the row still counts in the design; −2: invalid, then `on_invalid(i)`
  /// is called and should throw). The pass is the shared deterministic one (unit_totals.hpp).
  /// A chunk that fails (bad design value, invalid row) leaves the accumulator unchanged.
  template <class RowFn, class InvalidFn>
  void update(const design_chunk& c, RowFn row, InvalidFn on_invalid) {
    if (c.n == 0) return;
    plan p = plan_rows(c);
    const unit_totals_table t = accumulate_unit_totals(p.units, c.n, n_domains_, q_, row, on_invalid);
    commit(p, t.totals);
  }

  /// The same with the chunk's totals summed by the caller: `totals_of(units)` returns the unit totals
  /// table (units.n_groups × D·q, rows in domain −1 left out) of the chunk's rows grouped by `units` (one
  /// code per chunk row), e.g. by an estimator's own faster pass over the same per-row variables.
  template <class TotalsFn>
  void update_totals(const design_chunk& c, TotalsFn totals_of) {
    if (c.n == 0) return;
    plan p = plan_rows(c);
    const unit_totals_table t = totals_of(p.units);
    detail::require(t.totals.rows() == p.units.n_groups && t.totals.cols() == n_domains_ * q_, "design_accumulator::update_totals",
                    "the chunk's totals must have a row per unit and D·q columns");
    commit(p, t.totals);
  }

  /// Adds another accumulator (same domains, variables, nesting and FPC use).
  void merge(const design_accumulator& other);

  /// The survey design over the PSUs seen (one row per PSU, in (stratum, PSU) label order); names for
  /// messages: strata_names[label] and psu_names[label] when the labels index them.
  survey_design design(lonely_psu_rule rule, const std::vector<std::string>& strata_names = {},
                       const std::vector<std::string>& psu_names = {}) const;
  /// The totals per PSU and domain, rows in the order of design(): U × (D·q).
  unit_totals_table table() const;
  /// The design's conventions with n_obs the rows streamed (not the PSUs).
  variance_conventions conventions(const survey_design& d) const;

  std::int64_t rows() const { return n_rows_; }
  Eigen::Index n_psu() const { return static_cast<Eigen::Index>(psu_.size()); }
  int n_domains() const { return n_domains_; }
  Eigen::Index n_variables() const { return q_; }
  state get_state() const;

 private:
  struct key_hash {
    std::size_t operator()(const std::pair<std::int64_t, std::int64_t>& k) const {
      return std::hash<std::int64_t>()(k.first * 0x9E3779B97F4A7C15LL) ^ std::hash<std::int64_t>()(k.second);
    }
  };
  /// A chunk's PSUs before they are added: codes of its rows (existing PSUs first, then the new ones).
  struct plan {
    group_codes units;
    std::vector<std::int64_t> strata, psu;  ///< the new PSUs
    std::vector<double> fpc;
    std::vector<std::int64_t> rows, positive;  ///< per PSU code of the chunk (existing and new)
    std::int64_t n = 0;
  };
  /// Validates the chunk's design columns and codes its rows, without changing the accumulator.
  plan plan_rows(const design_chunk& c) const;
  /// Adds a planned chunk and its totals (U_chunk × D·q over the plan's codes).
  void commit(const plan& p, const Eigen::MatrixXd& totals);
  /// The PSU with this key: its index, or −1; checks the stratum and FPC against an existing PSU.
  int find_psu(std::int64_t stratum, std::int64_t psu, double fpc, std::int64_t known_stratum, double known_fpc, bool known) const;
  void check_same(std::int64_t psu, std::int64_t stratum, double fpc, std::int64_t known_stratum, double known_fpc) const;
  std::vector<Eigen::Index> sorted_order() const;

  int n_domains_ = 1;
  Eigen::Index q_ = 1;
  bool nest_ = false, has_fpc_ = false;
  std::int64_t n_rows_ = 0;
  std::unordered_map<std::pair<std::int64_t, std::int64_t>, int, key_hash> index_;
  std::vector<std::int64_t> strata_, psu_, rows_, positive_;
  std::vector<double> fpc_;
  Eigen::MatrixXd totals_;  ///< capacity ≥ #PSU rows; the first #PSU are used
};

}  // namespace impactkit
