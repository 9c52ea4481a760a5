// Out-of-line definitions for impactkit/sustainability/concordance.hpp. The counting follows the
// description in the header; the sweep over exit times keeps, per row, the pairs it forms as an event
// (against the risk set) and as a comparator (against the events that happen while it is at risk, read
// as the difference of the event tree between its leaving and its joining the risk set).
#include <impactkit/sustainability/concordance.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <impactkit/core/errors.hpp>

namespace impactkit {
namespace {

/// Weights by score rank (0..K−1): the weight below, at and above a rank in O(log K).
class rank_weights {
 public:
  explicit rank_weights(std::size_t K) : tree_(K + 1, 0.0), at_(K, 0.0) {}
  void add(std::size_t k, double w) {
    at_[k] += w;
    total_ += w;
    for (std::size_t i = k + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += w;
  }
  struct split {
    double below, at, above;
  };
  split query(std::size_t k) const {
    double below = 0;
    for (std::size_t i = k; i > 0; i -= i & (~i + 1)) below += tree_[i];
    const double at = at_[k];
    return {below, at, std::max(0.0, total_ - below - at)};
  }
  double total() const { return total_; }

 private:
  std::vector<double> tree_, at_;
  double total_ = 0;
};

/// Per-row weighted pair counts in the risk orientation (concordant: the event row has the higher score);
/// the tied.y pairs do not enter the influence of C and are only counted in total.
struct row_counts {
  Eigen::VectorXd conc, disc, tx;
  explicit row_counts(Eigen::Index n) : conc(Eigen::VectorXd::Zero(n)), disc(Eigen::VectorXd::Zero(n)), tx(Eigen::VectorXd::Zero(n)) {}
  /// row i as comparator of the events in `s` (events with a higher score make the pair concordant)
  void comparator(Eigen::Index i, const rank_weights::split& s, double sign) {
    conc(i) += sign * s.above;
    disc(i) += sign * s.below;
    tx(i) += sign * s.at;
  }
};

/// Σ_at-risk w_k r_k², r_k = (weight below k) − (weight above k), changes by this much when a row of
/// weight w joins a risk set that splits around it as s (Therneau's update for R's cvar).
double rank_variance_step(double w, const rank_weights::split& s) {
  const double g = s.above, l = s.below, e = s.at;
  return w * (g * (w + 2 * (l + e)) + l * (w + 2 * (g + e)) + (g - l) * (g - l));
}

struct stratum_sweep {
  const cox_rows& r;
  const double* score;
  row_counts& rc;
  concordance_counts& total;
  double& cox_sum;

  double w(Eigen::Index i) const { return r.weights ? r.weights[i] : 1.0; }

  void run(std::vector<Eigen::Index> rows) {
    // score ranks within the stratum
    std::vector<Eigen::Index> by_score(rows);
    std::sort(by_score.begin(), by_score.end(), [&](Eigen::Index a, Eigen::Index b) { return score[a] < score[b]; });
    std::size_t K = 0;
    for (std::size_t k = 0; k < by_score.size(); ++k) {
      if (k > 0 && score[by_score[k]] != score[by_score[k - 1]]) ++K;
      rank_[by_score[k]] = K;
    }
    rank_weights at_risk(K + 1), events(K + 1);
    // exit order: time descending, censored before events, score ascending (so tied scores are adjacent)
    std::sort(rows.begin(), rows.end(), [&](Eigen::Index a, Eigen::Index b) {
      if (r.time[a] != r.time[b]) return r.time[a] > r.time[b];
      if (r.event[a] != r.event[b]) return r.event[a] < r.event[b];
      return score[a] < score[b];
    });
    std::vector<Eigen::Index> by_entry;
    if (r.entry) {
      by_entry = rows;
      std::sort(by_entry.begin(), by_entry.end(), [&](Eigen::Index a, Eigen::Index b) { return r.entry[a] > r.entry[b]; });
    }
    std::size_t out = 0;
    double z2 = 0;
    auto join = [&](Eigen::Index i) {
      rc.comparator(i, events.query(rank_[i]), -1.0);
      z2 += rank_variance_step(w(i), at_risk.query(rank_[i]));
      at_risk.add(rank_[i], w(i));
    };
    for (std::size_t a = 0; a < rows.size();) {
      const Eigen::Index i = rows[a];
      if (r.event[i] == 0) {
        join(i);
        ++a;
        continue;
      }
      const double t = r.time[i];
      std::size_t b = a;
      for (; b < rows.size() && r.time[rows[b]] == t; ++b) {}
      // rows whose entry is at or after t leave the risk set: their comparator counts end here
      if (r.entry)
        for (; out < by_entry.size() && r.entry[by_entry[out]] >= t; ++out) {
          const Eigen::Index j = by_entry[out];
          rc.comparator(j, events.query(rank_[j]), 1.0);
          at_risk.add(rank_[j], -w(j));
          z2 -= rank_variance_step(w(j), at_risk.query(rank_[j]));
        }
      // events at t against the risk set, and their ties among themselves
      double dwt = 0;
      for (std::size_t g = a; g < b;) {  // groups of equal score
        std::size_t h = g;
        double gw = 0;
        for (; h < b && score[rows[h]] == score[rows[g]]; ++h) {
          const Eigen::Index j = rows[h];
          total.tied_y += w(j) * dwt;
          total.tied_xy += w(j) * gw;
          dwt += w(j);
          gw += w(j);
          const rank_weights::split s = at_risk.query(rank_[j]);
          total.concordant += w(j) * s.below;
          total.discordant += w(j) * s.above;
          total.tied_x += w(j) * s.at;
          rc.conc(j) += s.below;
          rc.disc(j) += s.above;
          rc.tx(j) += s.at;
        }
        g = h;
      }
      for (std::size_t k = a; k < b; ++k) events.add(rank_[rows[k]], w(rows[k]));
      for (std::size_t k = a; k < b; ++k) join(rows[k]);
      cox_sum += dwt * z2 / at_risk.total();
      a = b;
    }
    // rows still at risk at the start of follow-up close their comparator counts
    if (r.entry)
      for (; out < by_entry.size(); ++out) rc.comparator(by_entry[out], events.query(rank_[by_entry[out]]), 1.0);
    else
      for (Eigen::Index i : rows) rc.comparator(i, events.query(rank_[i]), 1.0);
  }

  std::vector<std::size_t>& rank_;
};

}  // namespace

concordance_result concordance(const cox_rows& r, const double* score) {
  const char* fn = "concordance";
  validate_cox_rows(r, fn);
  detail::require(score != nullptr, fn, "needs a score column");
  for (Eigen::Index i = 0; i < r.n; ++i)
    if (!std::isfinite(score[i])) detail::throw_invalid(fn, "the score is missing or infinite at row " + std::to_string(i));
  std::vector<std::vector<Eigen::Index>> strata(static_cast<std::size_t>(r.n_strata));
  for (Eigen::Index i = 0; i < r.n; ++i) strata[static_cast<std::size_t>(r.strata ? r.strata[i] : 0)].push_back(i);
  concordance_result out;
  row_counts rc(r.n);
  std::vector<std::size_t> rank(static_cast<std::size_t>(r.n), 0);
  double cox_sum = 0;
  for (auto& rows : strata) {
    if (rows.empty()) continue;
    stratum_sweep sweep{r, score, rc, out.counts, cox_sum, rank};
    sweep.run(std::move(rows));
  }
  out.counts.tied_y -= out.counts.tied_xy;  // tied.xy pairs were counted as tied.y too
  const concordance_counts& c = out.counts;
  const double npair = c.concordant + c.discordant + c.tied_x;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.somers_d = npair > 0 ? (c.concordant - c.discordant) / npair : nan;
  out.concordance = (out.somers_d + 1) / 2;
  out.cox_variance = npair > 0 ? cox_sum / (4 * npair * npair) : nan;
  out.influence.resize(r.n);
  for (Eigen::Index i = 0; i < r.n; ++i) {
    const double wi = r.weights ? r.weights[i] : 1.0;
    out.influence(i) = npair > 0 ? wi * ((rc.conc(i) - rc.disc(i)) / npair - out.somers_d * (rc.conc(i) + rc.disc(i) + rc.tx(i)) / npair) / 2 : nan;
  }
  return out;
}

}  // namespace impactkit
