#pragma once
// Targeting metrics and poverty indices over data streamed in chunks (a registry read in blocks, Dask
// partitions): mergeable accumulators on core/design_accumulator.hpp (DESIGN.md §5).
//
// Each accumulator keeps the totals per (stratum, PSU, domain) of the same per-row variables as the
// in-memory call (targeting_accuracy.hpp, poverty.hpp), so finalize() gives its numbers: the estimates are
// the same functions of the totals, the influence totals per PSU are linear in them, and the variance is
// survey_design::variance_of_unit_totals on the design over the PSUs. Up to the order of floating-point
// additions the results equal the in-memory ones.
//
// What a single pass cannot know is set up front: an estimated line (relative line, bottom share) needs
// the weighted quantile Q_p of welfare over all analysis rows and the kernel bandwidth h = σ̂ N̂^(−1/5)
// (welfare_line.hpp), and quantile welfare groups need their cuts. Compute them first (a pass with
// weighted_quantiles, or an exact selection across partitions) and give them in `line_values` /
// `welfare_cuts`; the in-memory call reports them as result.line, result.bandwidth, result.welfare_cuts.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "../core/design_accumulator.hpp"
#include "../core/influence_vcov.hpp"
#include "../core/survey_design.hpp"
#include "poverty.hpp"
#include "targeting_accuracy.hpp"
#include "welfare_line.hpp"

namespace impactkit {

/// A line's values over all analysis rows: z, and for an estimated line z = s·Q_p, Q_p and the bandwidth h.
struct line_values {
  double z = std::numeric_limits<double>::quiet_NaN();
  double q = std::numeric_limits<double>::quiet_NaN();
  double h = std::numeric_limits<double>::quiet_NaN();
};

/// What every chunk of a streamed targeting analysis shares.
struct targeting_stream_setup {
  welfare_line line;                 ///< kind none: the target is a column
  line_values values;                ///< z (fixed: line.value), and Q_p, h for an estimated line
  bool amounts = false;              ///< chunks carry benefit amounts
  bool welfare = false;              ///< chunks carry welfare (needed with a line or welfare groups)
  int n_domains = 1;
  int n_welfare_groups = 0;          ///< incidence by quantile groups cut at `welfare_cuts` (K − 1 cuts)
  std::vector<double> welfare_cuts;
  bool nest = false, fpc = false;    ///< the design: PSU labels nested in strata; chunks carry a stage-1 FPC
};

/// ik.targeting in chunks: update(rows, design columns), merge, finalize.
class targeting_accumulator {
 public:
  explicit targeting_accumulator(const targeting_stream_setup& setup);
  targeting_accumulator(const targeting_stream_setup& setup, const design_accumulator::state& totals);

  /// Adds a chunk: `rows` (its n, columns and domain codes; weights as in `design`) and its design columns.
  void update(const targeting_rows& rows, const design_chunk& design);
  void merge(const targeting_accumulator& other);
  /// The metrics and their design variance, as targeting_accuracy(rows, design) on all rows at once.
  targeting_result finalize(lonely_psu_rule lonely_psu, const std::vector<std::string>& strata_names = {},
                            const std::vector<std::string>& psu_names = {}) const;
  /// As finalize() on a design built outside the accumulator whose finest units are the streamed PSUs (a
  /// multistage design): `unit_totals` are totals() re-ordered to that design's units, U × (D·q).
  targeting_result finalize(const survey_design& design, const Eigen::MatrixXd& unit_totals) const;
  /// ik.targeting under a replicate-weight design (as targeting_accuracy with replicate weights): `*this`
  /// streamed with the full-sample weights and replicates[k] with replicate k's weights and its own line
  /// values (an estimated line is re-estimated per replicate; welfare cuts are held fixed), each with a
  /// single PSU (the design is in the replicates); V from replicate_vcov (welfare_index.hpp).
  targeting_result finalize_replicates(const std::vector<targeting_accumulator>& replicates, const replicate_spec& replicate) const;

  const design_accumulator& totals() const { return acc_; }
  const targeting_stream_setup& setup() const { return setup_; }

 private:
  targeting_rows flags() const;  ///< a row set without data carrying the setup's options
  targeting_stream_setup setup_;
  design_accumulator acc_;
};

/// FGT_α / Watts in chunks (poverty_measure): update, merge, finalize.
class poverty_accumulator {
 public:
  poverty_accumulator(poverty_index index, double alpha, const welfare_line& line, const line_values& values, int n_domains, bool nest,
                      bool fpc);
  poverty_accumulator(poverty_index index, double alpha, const welfare_line& line, const line_values& values,
                      const design_accumulator::state& totals);

  void update(const welfare_rows& rows, const design_chunk& design);
  void merge(const poverty_accumulator& other);
  welfare_index_result finalize(lonely_psu_rule lonely_psu, const std::vector<std::string>& strata_names = {},
                                const std::vector<std::string>& psu_names = {}) const;
  /// As targeting_accumulator::finalize(design, unit_totals).
  welfare_index_result finalize(const survey_design& design, const Eigen::MatrixXd& unit_totals) const;
  /// As targeting_accumulator::finalize_replicates (welfare_index with replicate weights; an estimated
  /// line gets its replicate variance as line_variance).
  welfare_index_result finalize_replicates(const std::vector<poverty_accumulator>& replicates, const replicate_spec& replicate) const;

  const design_accumulator& totals() const { return acc_; }

 private:
  poverty_index index_;
  double alpha_;
  welfare_line line_;
  line_values values_;
  design_accumulator acc_;
};

}  // namespace impactkit
