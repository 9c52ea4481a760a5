// Out-of-line definitions for impactkit/core/design_accumulator.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/design_accumulator.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace impactkit {

namespace {
const char* kFn = "design_accumulator";
std::string name_of(std::int64_t label, const std::vector<std::string>& names) {
  return label >= 0 && static_cast<std::size_t>(label) < names.size() ? names[static_cast<std::size_t>(label)] : std::to_string(label);
}
}  // namespace

design_accumulator::design_accumulator(int n_domains, Eigen::Index n_variables, bool nest, bool has_fpc)
    : n_domains_(n_domains), q_(n_variables), nest_(nest), has_fpc_(has_fpc) {
  detail::require(n_domains >= 1 && n_variables >= 1, kFn, "needs at least one domain and one variable");
  totals_ = Eigen::MatrixXd::Zero(16, static_cast<Eigen::Index>(n_domains) * n_variables);
}

design_accumulator::design_accumulator(const state& s) : design_accumulator(s.n_domains, s.n_variables, s.nest, s.has_fpc) {
  const std::size_t U = s.psu.size();
  detail::require(s.strata.size() == U && s.rows.size() == U && s.positive.size() == U && s.fpc.size() == U &&
                      static_cast<std::size_t>(s.totals.rows()) == U && s.totals.cols() == totals_.cols() && s.n_rows >= 0,
                  kFn, "the state arrays do not fit together (one entry per PSU, totals #PSU × (domains · variables))");
  for (std::size_t u = 0; u < U; ++u) {
    const bool fresh = index_.emplace(std::make_pair(nest_ ? s.strata[u] : 0, s.psu[u]), static_cast<int>(u)).second;
    detail::require(fresh, kFn, "the state lists PSU " + std::to_string(s.psu[u]) + " twice");
  }
  strata_ = s.strata;
  psu_ = s.psu;
  rows_ = s.rows;
  positive_ = s.positive;
  fpc_ = s.fpc;
  totals_ = s.totals;
  if (totals_.rows() == 0) totals_ = Eigen::MatrixXd::Zero(16, totals_.cols());
  n_rows_ = s.n_rows;
}

void design_accumulator::check_same(std::int64_t psu, std::int64_t stratum, double fpc, std::int64_t known_stratum, double known_fpc) const {
  if (known_stratum != stratum)  // only without nest: a PSU label names one PSU
    detail::throw_invalid(kFn, "PSU " + std::to_string(psu) + " appears in more than one stratum (strata " + std::to_string(known_stratum) +
                                   " and " + std::to_string(stratum) + "); if PSU labels are only unique within strata, pass nest=True");
  if (has_fpc_ && !(known_fpc == fpc))
    detail::throw_invalid(kFn, "fpc is not constant within PSU " + std::to_string(psu) + " (" + detail::format_g(fpc) + " and " +
                                   detail::format_g(known_fpc) + ")");
}

design_accumulator::plan design_accumulator::plan_rows(const design_chunk& c) const {
  detail::require(c.psu != nullptr, kFn, "PSU labels are required (a design whose PSUs are its rows: pass row ids)");
  detail::require(!has_fpc_ || c.fpc != nullptr, kFn, "this accumulator uses an FPC: every chunk needs its fpc column");
  detail::require(has_fpc_ || c.fpc == nullptr, kFn, "this accumulator was made without an FPC but the chunk has one");
  plan p;
  p.n = c.n;
  p.units.code.resize(static_cast<std::size_t>(c.n));
  const int U0 = static_cast<int>(psu_.size());
  std::unordered_map<std::pair<std::int64_t, std::int64_t>, int, key_hash> fresh;  // new PSUs of this chunk
  const auto lookup = [&](std::int64_t s, std::int64_t q, double f) {  // the PSU's unit code, a new one if unseen
    const auto key = std::make_pair(nest_ ? s : 0, q);
    const auto it = index_.find(key);
    if (it != index_.end()) return it->second;
    const auto [jt, is_new] = fresh.emplace(key, U0 + static_cast<int>(p.psu.size()));
    if (is_new) {
      p.strata.push_back(s);
      p.psu.push_back(q);
      p.fpc.push_back(f);
    }
    return jt->second;
  };
  // Rows reach their PSU's code through a dense array over the chunk's label range when it is small (the
  // integer codes a dask frame's labels are given), else through the hash tables with the previous row's
  // PSU remembered (rows of a PSU usually come together). Every row is checked against its PSU's stratum
  // (a label names one PSU unless nest) and FPC.
  std::int64_t q_lo = std::numeric_limits<std::int64_t>::max(), q_hi = std::numeric_limits<std::int64_t>::min();
  std::int64_t s_lo = 0, s_hi = 0;
  if (nest_ && c.strata && c.n > 0) s_lo = s_hi = c.strata[0];
  for (Eigen::Index i = 0; i < c.n; ++i) {
    q_lo = std::min(q_lo, c.psu[i]), q_hi = std::max(q_hi, c.psu[i]);
    if (nest_ && c.strata) s_lo = std::min(s_lo, c.strata[i]), s_hi = std::max(s_hi, c.strata[i]);
  }
  const double q_span = static_cast<double>(q_hi) - static_cast<double>(q_lo) + 1;
  const double span = q_span * (static_cast<double>(s_hi) - static_cast<double>(s_lo) + 1);
  const bool dense = c.n > 0 && span <= std::max(2.0 * static_cast<double>(c.n), 65536.0);
  std::vector<int> dense_unit(dense ? static_cast<std::size_t>(span) : 0, -1);
  std::int64_t last_s = 0, last_p = 0;
  int last = -1;
  for (Eigen::Index i = 0; i < c.n; ++i) {
    const std::int64_t s = c.strata ? c.strata[i] : 0, q = c.psu[i];
    const double f = c.fpc ? c.fpc[i] : std::numeric_limits<double>::quiet_NaN();
    const double w = c.weights ? c.weights[i] : 1.0;
    if (c.fpc && !(std::isfinite(f) && f > 0))
      detail::throw_invalid(kFn, "fpc must be positive and finite; chunk row " + std::to_string(i) + " has " + detail::format_g(f));
    if (!(std::isfinite(w) && w >= 0))
      detail::throw_invalid(kFn, "weights must be finite and non-negative; chunk row " + std::to_string(i) + " has " + detail::format_g(w));
    int u;
    if (dense) {
      int& slot = dense_unit[static_cast<std::size_t>((nest_ ? (s - s_lo) * static_cast<std::int64_t>(q_span) : 0) + (q - q_lo))];
      if (slot < 0) slot = lookup(s, q, f);
      u = slot;
    } else if (last >= 0 && s == last_s && q == last_p) {
      u = last;
    } else {
      u = last = lookup(s, q, f);
      last_s = s, last_p = q;
    }
    const bool seen = u < U0;
    const auto k = static_cast<std::size_t>(seen ? u : u - U0);
    const std::int64_t known_s = seen ? strata_[k] : p.strata[k];
    const double known_f = seen ? fpc_[k] : p.fpc[k];
    if (known_s != s || (has_fpc_ && !(known_f == f))) check_same(q, s, f, known_s, known_f);
    p.units.code[static_cast<std::size_t>(i)] = u;
  }
  p.units.n_groups = U0 + static_cast<int>(p.psu.size());
  p.rows.assign(static_cast<std::size_t>(p.units.n_groups), 0);
  p.positive.assign(static_cast<std::size_t>(p.units.n_groups), 0);
  for (Eigen::Index i = 0; i < c.n; ++i) {
    const std::size_t u = static_cast<std::size_t>(p.units.code[static_cast<std::size_t>(i)]);
    ++p.rows[u];
    if ((c.weights ? c.weights[i] : 1.0) > 0) ++p.positive[u];
  }
  return p;
}

void design_accumulator::commit(const plan& p, const Eigen::MatrixXd& totals) {
  const std::size_t U0 = psu_.size(), U = U0 + p.psu.size();
  if (static_cast<Eigen::Index>(U) > totals_.rows()) {
    const Eigen::Index old = totals_.rows(), grown = std::max<Eigen::Index>(2 * old, static_cast<Eigen::Index>(U));
    totals_.conservativeResize(grown, Eigen::NoChange);
    totals_.bottomRows(grown - old).setZero();
  }
  for (std::size_t k = 0; k < p.psu.size(); ++k) {
    index_.emplace(std::make_pair(nest_ ? p.strata[k] : 0, p.psu[k]), static_cast<int>(U0 + k));
    strata_.push_back(p.strata[k]);
    psu_.push_back(p.psu[k]);
    fpc_.push_back(p.fpc[k]);
  }
  rows_.resize(U, 0);
  positive_.resize(U, 0);
  for (std::size_t u = 0; u < U; ++u) {
    rows_[u] += p.rows[u];
    positive_[u] += p.positive[u];
  }
  totals_.topRows(totals.rows()) += totals;
  n_rows_ += p.n;
}

void design_accumulator::merge(const design_accumulator& other) {
  detail::require(other.n_domains_ == n_domains_ && other.q_ == q_ && other.nest_ == nest_ && other.has_fpc_ == has_fpc_, kFn,
                  "cannot merge accumulators with different domains, variables, nesting or FPC use");
  // every PSU is checked first, so that a refused merge leaves this accumulator unchanged
  std::vector<int> target(other.psu_.size(), -1);
  for (std::size_t v = 0; v < other.psu_.size(); ++v) {
    const auto it = index_.find(std::make_pair(nest_ ? other.strata_[v] : 0, other.psu_[v]));
    if (it == index_.end()) continue;
    target[v] = it->second;
    check_same(other.psu_[v], other.strata_[v], other.fpc_[v], strata_[static_cast<std::size_t>(it->second)],
               fpc_[static_cast<std::size_t>(it->second)]);
  }
  plan p;
  p.n = other.n_rows_;
  const std::size_t U0 = psu_.size();
  for (std::size_t v = 0; v < other.psu_.size(); ++v)
    if (target[v] < 0) {
      target[v] = static_cast<int>(U0 + p.psu.size());
      p.strata.push_back(other.strata_[v]);
      p.psu.push_back(other.psu_[v]);
      p.fpc.push_back(other.fpc_[v]);
    }
  const std::size_t U = U0 + p.psu.size();
  p.rows.assign(U, 0);
  p.positive.assign(U, 0);
  Eigen::MatrixXd add = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(U), totals_.cols());
  for (std::size_t v = 0; v < other.psu_.size(); ++v) {
    const std::size_t u = static_cast<std::size_t>(target[v]);
    p.rows[u] += other.rows_[v];
    p.positive[u] += other.positive_[v];
    add.row(static_cast<Eigen::Index>(u)) += other.totals_.row(static_cast<Eigen::Index>(v));
  }
  commit(p, add);
}

std::vector<Eigen::Index> design_accumulator::sorted_order() const {
  std::vector<Eigen::Index> order(psu_.size());
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::sort(order.begin(), order.end(), [this](Eigen::Index a, Eigen::Index b) {
    const std::size_t i = static_cast<std::size_t>(a), j = static_cast<std::size_t>(b);
    return strata_[i] != strata_[j] ? strata_[i] < strata_[j] : psu_[i] < psu_[j];
  });
  return order;
}

survey_design design_accumulator::design(lonely_psu_rule rule, const std::vector<std::string>& strata_names,
                                         const std::vector<std::string>& psu_names) const {
  detail::require(!psu_.empty(), kFn, "no rows were streamed: the design is empty");
  const std::vector<Eigen::Index> order = sorted_order();
  const Eigen::Index U = static_cast<Eigen::Index>(order.size());
  // dense int labels (survey_spec takes int): the ranks of the int64 labels, with their names
  auto ranks = [&order](const std::vector<std::int64_t>& label, const std::vector<std::string>& names, std::vector<std::string>& out_names) {
    std::vector<std::int64_t> distinct(label);
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    out_names.clear();
    for (std::int64_t l : distinct) out_names.push_back(name_of(l, names));
    Eigen::VectorXi r(static_cast<Eigen::Index>(order.size()));
    for (std::size_t k = 0; k < order.size(); ++k)
      r(static_cast<Eigen::Index>(k)) = static_cast<int>(
          std::lower_bound(distinct.begin(), distinct.end(), label[static_cast<std::size_t>(order[k])]) - distinct.begin());
    return r;
  };
  survey_spec spec;
  spec.strata = ranks(strata_, strata_names, spec.strata_names);
  spec.ids = ranks(psu_, psu_names, spec.psu_names);
  spec.weights.resize(U);
  if (has_fpc_) spec.fpc.resize(U, 1);
  for (Eigen::Index k = 0; k < U; ++k) {
    const std::size_t u = static_cast<std::size_t>(order[static_cast<std::size_t>(k)]);
    spec.weights(k) = positive_[u] > 0 ? 1.0 : 0.0;  // R's degf counts PSUs with a positive-weight row
    if (has_fpc_) spec.fpc(k, 0) = fpc_[u];
  }
  spec.nest = nest_;
  spec.lonely_psu = rule;
  return survey_design(spec);
}

unit_totals_table design_accumulator::table() const {
  const std::vector<Eigen::Index> order = sorted_order();
  unit_totals_table t;
  t.n_units = static_cast<Eigen::Index>(order.size());
  t.n_domains = n_domains_;
  t.n_variables = q_;
  t.totals.resize(t.n_units, totals_.cols());
  for (Eigen::Index k = 0; k < t.n_units; ++k) t.totals.row(k) = totals_.row(order[static_cast<std::size_t>(k)]);
  return t;
}

variance_conventions design_accumulator::conventions(const survey_design& d) const {
  variance_conventions c = d.conventions();
  c.n_obs = static_cast<Eigen::Index>(n_rows_);
  return c;
}

design_accumulator::state design_accumulator::get_state() const {
  state s;
  s.n_domains = n_domains_;
  s.n_variables = q_;
  s.nest = nest_;
  s.has_fpc = has_fpc_;
  s.n_rows = n_rows_;
  s.strata = strata_;
  s.psu = psu_;
  s.rows = rows_;
  s.positive = positive_;
  s.fpc = fpc_;
  s.totals = totals_.topRows(static_cast<Eigen::Index>(psu_.size()));
  return s;
}

}  // namespace impactkit
