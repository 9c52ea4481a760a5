// impactkit._core.targeting: targeting accuracy (did the programme reach the target group). Columns
// arrive as 1-d float64/int32 arrays without a copy when already of that type; the GIL is released
// around the pass over the rows.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/targeting/concentration.hpp>
#include <impactkit/targeting/inequality.hpp>
#include <impactkit/targeting/lorenz.hpp>
#include <impactkit/targeting/poverty.hpp>
#include <impactkit/targeting/rank_totals.hpp>
#include <impactkit/targeting/streaming.hpp>
#include <impactkit/targeting/targeting_accuracy.hpp>
#include <impactkit/targeting/welfare_index.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {
namespace {

using f64 = f64_column;
using i32 = i32_column;

const double* column(const std::optional<f64>& a, Eigen::Index n, const char* name) {
  return checked_column(a, n, name, "targeting_accuracy");
}
const int* codes(const std::optional<i32>& a, Eigen::Index n, const char* name) { return checked_column(a, n, name, "targeting_accuracy"); }

welfare_line make_line(const std::string& rule, double value, double quantile, double share, bool strict) {
  welfare_line L;
  if (rule == "column" || rule == "none") L.kind = line_kind::none;
  else if (rule == "fixed_line") L.kind = line_kind::fixed;
  else if (rule == "quantile_line") L.kind = line_kind::quantile;
  else detail::throw_invalid("welfare line", "rule must be 'column', 'fixed_line' or 'quantile_line'");
  L.value = value;
  L.quantile = quantile;
  L.share = share;
  L.strict = strict;
  return L;
}

targeting_rows make_rows(const std::string& rule, const std::optional<f64>& target, double poverty_line, double line_quantile,
                         double line_share, bool strict, const f64& beneficiary, const std::optional<f64>& benefit,
                         const std::optional<f64>& welfare, const std::optional<f64>& weights, const std::optional<i32>& domain,
                         int n_domains, const std::optional<i32>& welfare_group, int n_welfare_groups) {
  targeting_rows r;
  r.n = beneficiary.size();
  r.line = make_line(rule, poverty_line, line_quantile, line_share, strict);
  r.target = column(target, r.n, "target");
  r.beneficiary = column(beneficiary, r.n, "beneficiary");
  r.benefit = column(benefit, r.n, "benefit");
  r.welfare = column(welfare, r.n, "welfare");
  r.weights = column(weights, r.n, "weights");
  r.domain = codes(domain, r.n, "domain");
  r.n_domains = n_domains;
  r.welfare_group = codes(welfare_group, r.n, "welfare_group");
  r.n_welfare_groups = n_welfare_groups;
  return r;
}

py::dict result_dict(const targeting_result& r) {
  py::list names, words, groups;
  for (const auto& m : r.metrics) {
    names.append(m.name);
    words.append(m.denominator);
    groups.append(m.welfare_group);
  }
  py::dict out;
  out["metrics"] = names;
  out["denominators"] = words;
  out["welfare_groups"] = groups;
  out["estimate"] = r.estimate;
  out["vcov"] = r.vcov;
  out["conventions"] = conventions_dict(r.conventions);
  out["amounts"] = r.amounts;
  out["undefined"] = r.undefined;
  out["line"] = r.line;
  out["bandwidth"] = r.bandwidth;
  out["line_variance_out_of_range"] = r.line_variance_out_of_range;
  out["welfare_cuts"] = r.welfare_cuts;
  out["welfare_cuts_from_hint"] = r.welfare_cuts_from_hint;
  return out;
}

py::dict index_dict(const welfare_index_result& r) {
  py::dict out;
  out["estimate"] = r.estimate;
  out["vcov"] = r.vcov;
  out["conventions"] = conventions_dict(r.conventions);
  out["undefined"] = r.undefined;
  out["line"] = r.line;
  out["bandwidth"] = r.bandwidth;
  out["line_variance"] = r.line_variance;
  return out;
}

welfare_rows make_welfare_rows(const f64& welfare, const std::optional<f64>& weights, const std::optional<i32>& domain, int n_domains) {
  welfare_rows r;
  r.n = welfare.size();
  r.welfare = column(welfare, r.n, "welfare");
  r.weights = column(weights, r.n, "weights");
  r.domain = codes(domain, r.n, "domain");
  r.n_domains = n_domains;
  return r;
}

/// A unit-totals table from a U × (D·q) matrix of streamed totals.
unit_totals_table totals_table(const Eigen::MatrixXd& totals, Eigen::Index n_domains, Eigen::Index q, const char* fn) {
  detail::require(n_domains >= 1 && totals.cols() == n_domains * q, fn,
                  "the unit totals must have " + std::to_string(n_domains * q) + " columns (D·q), got " + std::to_string(totals.cols()));
  unit_totals_table t;
  t.n_units = totals.rows();
  t.n_domains = static_cast<int>(n_domains);
  t.n_variables = q;
  t.totals = totals;
  return t;
}

const survey_design& survey_of(const variance_design& design, const char* fn) {
  detail::require(design.kind == variance_kind::survey && design.survey, fn,
                  "the variance design must be a survey design (iid data: a one-stratum design with a PSU per row)");
  return *design.survey;
}

concentration_kind concentration_kind_of(const std::string& kind) {
  if (kind == "generalized") return concentration_kind::generalized;
  if (kind == "erreygers") return concentration_kind::erreygers;
  if (kind == "wagstaff") return concentration_kind::wagstaff;
  detail::require(kind == "standard", "concentration_index", "kind must be 'standard', 'generalized', 'erreygers' or 'wagstaff'");
  return concentration_kind::standard;
}

welfare_index_spec make_index_spec(const std::string& index, double parameter, const welfare_line& line, std::vector<double> shares,
                                   const std::string& concentration, double lower, double upper, const std::string& convention) {
  const char* fn = "welfare_index";
  static const std::vector<std::pair<std::string, welfare_index_kind>> kinds = {
      {"fgt", welfare_index_kind::fgt}, {"watts", welfare_index_kind::watts}, {"sen", welfare_index_kind::sen},
      {"gini", welfare_index_kind::gini}, {"theil", welfare_index_kind::theil}, {"mld", welfare_index_kind::mean_log_deviation},
      {"atkinson", welfare_index_kind::atkinson}, {"lorenz", welfare_index_kind::lorenz},
      {"generalized_lorenz", welfare_index_kind::generalized_lorenz}, {"quantile_shares", welfare_index_kind::quantile_shares},
      {"qsr", welfare_index_kind::quintile_share_ratio}, {"concentration_index", welfare_index_kind::concentration},
      {"kakwani", welfare_index_kind::kakwani}};
  welfare_index_spec spec;
  bool found = false;
  for (const auto& [name, kind] : kinds)
    if (name == index) spec.kind = kind, found = true;
  detail::require(found, fn, "unknown index '" + index + "'");
  spec.parameter = parameter;
  spec.line = line;
  spec.shares = std::move(shares);
  spec.concentration = concentration_kind_of(concentration);
  spec.lower = lower;
  spec.upper = upper;
  detail::require(convention == "eurostat" || convention == "convey", fn, "convention must be 'eurostat' or 'convey'");
  spec.gini = convention == "convey" ? gini_convention::convey : gini_convention::eurostat;
  return spec;
}

bool needs_values(welfare_index_kind k) { return k == welfare_index_kind::concentration || k == welfare_index_kind::kakwani; }

const char* rule_name(line_kind k) { return k == line_kind::none ? "column" : k == line_kind::fixed ? "fixed_line" : "quantile_line"; }

py::tuple setup_tuple(const targeting_stream_setup& s) {
  return py::make_tuple(rule_name(s.line.kind), s.line.value, s.line.quantile, s.line.share, s.line.strict, s.values.q, s.values.h, s.amounts,
                        s.welfare, s.n_domains, s.n_welfare_groups, s.welfare_cuts, s.nest, s.fpc);
}

targeting_stream_setup make_setup(const std::string& rule, double line_value, double line_quantile, double line_share, bool strict,
                                  double line_q, double line_h, bool amounts, bool welfare, int n_domains, int n_welfare_groups,
                                  std::vector<double> welfare_cuts, bool nest, bool fpc) {
  targeting_stream_setup s;
  s.line = make_line(rule, line_value, line_quantile, line_share, strict);
  s.values.q = line_q;
  s.values.h = line_h;
  s.amounts = amounts;
  s.welfare = welfare;
  s.n_domains = n_domains;
  s.n_welfare_groups = n_welfare_groups;
  s.welfare_cuts = std::move(welfare_cuts);
  s.nest = nest;
  s.fpc = fpc;
  return s;
}

targeting_stream_setup setup_from(const py::tuple& t) {
  detail::require(t.size() == 14, "TargetingAccumulator", "a setup is a tuple of 14 entries");
  return make_setup(t[0].cast<std::string>(), t[1].cast<double>(), t[2].cast<double>(), t[3].cast<double>(), t[4].cast<bool>(),
                    t[5].cast<double>(), t[6].cast<double>(), t[7].cast<bool>(), t[8].cast<bool>(), t[9].cast<int>(), t[10].cast<int>(),
                    t[11].cast<std::vector<double>>(), t[12].cast<bool>(), t[13].cast<bool>());
}

/// A poverty accumulator with the arguments that made it (for pickling).
struct poverty_stream {
  std::string index, rule;
  double alpha, line_value, line_quantile, line_share, line_q, line_h;
  bool strict;
  poverty_accumulator acc;
  static poverty_accumulator make(const std::string& index, double alpha, const std::string& rule, double line_value, double line_quantile,
                                  double line_share, bool strict, double line_q, double line_h, int n_domains, bool nest, bool fpc) {
    detail::require(index == "fgt" || index == "watts", "PovertyAccumulator", "index must be 'fgt' or 'watts'");
    return poverty_accumulator(index == "fgt" ? poverty_index::fgt : poverty_index::watts, alpha,
                               make_line(rule, line_value, line_quantile, line_share, strict), line_values{NAN, line_q, line_h}, n_domains, nest, fpc);
  }
};

}  // namespace

void bind_targeting(py::module_& parent) {
  py::module_ m = parent.def_submodule("targeting", "Targeting accuracy: coverage, exclusion and inclusion errors, leakage, incidence.");
  m.def(
      "targeting_accuracy",
      [](const std::string& rule, std::optional<f64> target, double poverty_line, double line_quantile, double line_share, bool strict,
         f64 beneficiary, std::optional<f64> benefit, std::optional<f64> welfare, std::optional<f64> weights,
         std::optional<i32> domain, int n_domains, std::optional<i32> welfare_group, int n_welfare_groups, const variance_design& design,
         std::optional<py::array_t<double, py::array::f_style | py::array::forcecast>> replicate_weights,
         std::optional<std::vector<double>> welfare_cuts_hint) {
        const char* fn = "targeting_accuracy";
        targeting_rows r = make_rows(rule, target, poverty_line, line_quantile, line_share, strict, beneficiary, benefit, welfare,
                                     weights, domain, n_domains, welfare_group, n_welfare_groups);
        if (welfare_cuts_hint) r.welfare_cuts_hint = &*welfare_cuts_hint;
        targeting_result res;
        if (design.kind == variance_kind::replicate) {
          detail::require(replicate_weights.has_value() && replicate_weights->ndim() == 2, fn,
                          "a replicate design needs its replicate weights (an n × R matrix)");
          const Eigen::Map<const Eigen::MatrixXd> repw(replicate_weights->data(), replicate_weights->shape(0), replicate_weights->shape(1));
          py::gil_scoped_release release;
          res = targeting_accuracy(r, repw, design.replicate);
        } else {
          detail::require(!replicate_weights.has_value(), fn, "replicate weights go with a replicate design");
          const survey_design& sd = survey_of(design, fn);
          py::gil_scoped_release release;
          res = targeting_accuracy(r, sd);
        }
        return result_dict(res);
      },
      py::arg("rule"), py::arg("target"), py::arg("poverty_line"), py::arg("line_quantile"), py::arg("line_share"), py::arg("strict"),
      py::arg("beneficiary"), py::arg("benefit"), py::arg("welfare"), py::arg("weights"),
      py::arg("domain"), py::arg("n_domains"), py::arg("welfare_group"), py::arg("n_welfare_groups"), py::arg("design"),
      py::arg("replicate_weights") = py::none(), py::arg("welfare_cuts_hint") = py::none(),
      "Targeting metrics per domain with their joint survey-design (linearised) or replicate-weight variance (each replicate "
      "re-estimates the metrics, an estimated line included). welfare_cuts_hint: candidate quantile-group cuts, used when the "
      "pass confirms them (survey designs).");
  m.def(
      "welfare_index",
      [](const std::string& index, double parameter, const std::string& rule, double line_value, double line_quantile, double line_share,
         bool strict, std::vector<double> shares, const std::string& concentration, double lower, double upper,
         const std::string& convention, f64 welfare, std::optional<f64> values, std::optional<f64> weights, std::optional<i32> domain,
         int n_domains, const variance_design& design,
         std::optional<py::array_t<double, py::array::f_style | py::array::forcecast>> replicate_weights) {
        const char* fn = "welfare_index";
        welfare_index_spec spec = make_index_spec(index, parameter, make_line(rule, line_value, line_quantile, line_share, strict),
                                                  std::move(shares), concentration, lower, upper, convention);
        const welfare_rows r = make_welfare_rows(welfare, weights, domain, n_domains);
        spec.values = column(values, r.n, "values");
        detail::require(!needs_values(spec.kind) || spec.values, fn, "index '" + index + "' needs its values column");
        welfare_index_result res;
        if (design.kind == variance_kind::replicate) {
          detail::require(replicate_weights.has_value() && replicate_weights->ndim() == 2, fn,
                          "a replicate design needs its replicate weights (an n × R matrix)");
          const Eigen::Map<const Eigen::MatrixXd> repw(replicate_weights->data(), replicate_weights->shape(0), replicate_weights->shape(1));
          py::gil_scoped_release release;
          res = welfare_index(r, spec, repw, design.replicate);
        } else {
          const survey_design& sd = survey_of(design, fn);
          py::gil_scoped_release release;
          res = welfare_index(r, spec, sd);
        }
        return index_dict(res);
      },
      py::arg("index"), py::arg("parameter"), py::arg("rule"), py::arg("line_value"), py::arg("line_quantile"), py::arg("line_share"),
      py::arg("strict"), py::arg("shares"), py::arg("concentration"), py::arg("lower"), py::arg("upper"), py::arg("convention"),
      py::arg("welfare"), py::arg("values"), py::arg("weights"), py::arg("domain"), py::arg("n_domains"), py::arg("design"),
      py::arg("replicate_weights") = py::none(),
      "Any poverty or inequality index per domain (welfare_index.hpp) with its survey-design (linearised) or replicate-weight "
      "variance (each replicate re-estimates the index).");
  m.def(
      "inequality_from_totals",
      [](const std::string& index, double epsilon, const Eigen::MatrixXd& unit_totals, int n_domains, const survey_design& design) {
        inequality_index k = inequality_index::theil;
        if (index == "mld") k = inequality_index::mean_log_deviation;
        else if (index == "atkinson") k = inequality_index::atkinson;
        else detail::require(index == "theil", "inequality_from_totals", "index must be 'theil', 'mld' or 'atkinson'");
        unit_totals_table t;
        t.n_units = unit_totals.rows();
        t.n_domains = n_domains;
        t.n_variables = 3;
        t.totals = unit_totals;
        welfare_index_result res;
        {
          py::gil_scoped_release release;
          res = inequality_from_totals(t, k, epsilon, design);
        }
        return index_dict(res);
      },
      py::arg("index"), py::arg("epsilon"), py::arg("unit_totals"), py::arg("n_domains"), py::arg("design"),
      "Theil, MLD or Atkinson per domain from the unit totals of w, w·u, w·g(u) (U × 3·D, the streamed pass of inequality_measure).");
  m.def(
      "lorenz_from_totals",
      [](const std::string& index, const Eigen::MatrixXd& unit_totals, const Eigen::MatrixXd& quantiles, std::vector<double> shares,
         const survey_design& design) {
        const unit_totals_table t = totals_table(unit_totals, quantiles.rows(), partial_total_columns(quantiles.cols()), "lorenz_from_totals");
        detail::require(index != "qsr" || shares.size() == 2, "lorenz_from_totals", "qsr needs the shares {lower, upper}");
        const auto run = [&] {
          py::gil_scoped_release release;
          if (index == "lorenz" || index == "generalized_lorenz") return lorenz_from_totals(t, quantiles, shares, index != "lorenz", design);
          if (index == "quantile_shares") return quantile_shares_from_totals(t, quantiles, shares, design);
          detail::require(index == "qsr", "lorenz_from_totals", "index must be 'lorenz', 'generalized_lorenz', 'quantile_shares' or 'qsr'");
          return qsr_from_totals(t, quantiles, shares[0], shares[1], design);
        };
        return index_dict(run());
      },
      py::arg("index"), py::arg("unit_totals"), py::arg("quantiles"), py::arg("shares"), py::arg("design"),
      "Lorenz ordinates, quantile shares or the QSR per domain from the unit totals of the partial-total variables (lorenz.hpp; "
      "U × D·(2 + 4K)) at the domain quantiles (D × K): the part after the pass over the rows.");
  m.def(
      "rank_index_from_totals",
      [](const std::string& index, const Eigen::MatrixXd& unit_totals, const Eigen::MatrixXd& centre, const survey_design& design,
         const std::string& kind, double lower, double upper, const std::string& rule, double line_quantile, double line_share, bool strict,
         double z, double q, double h, std::optional<Eigen::VectorXd> kernel_at_line, double density) {
        const char* fn = "rank_index_from_totals";
        const rank_totals t{totals_table(unit_totals, centre.rows(), rank_total_columns(centre.cols()), fn), centre};
        sen_line_terms s;
        if (index == "sen") {
          s.line = make_line(rule, z, line_quantile, line_share, strict);
          s.z = z;
          s.q = q;
          s.h = h;
          if (kernel_at_line) s.kernel_at_line = *kernel_at_line;
          s.density_at_quantile = density;
        }
        const auto run = [&] {
          py::gil_scoped_release release;
          if (index == "sen") return sen_from_totals(t, s, design);
          if (index == "kakwani") return kakwani_from_totals(t, design);
          detail::require(index == "concentration", fn, "index must be 'concentration', 'kakwani' or 'sen'");
          return concentration_from_totals(t, concentration_kind_of(kind), lower, upper, design);
        };
        return index_dict(run());
      },
      py::arg("index"), py::arg("unit_totals"), py::arg("centre"), py::arg("design"), py::arg("kind") = "standard",
      py::arg("lower") = NAN, py::arg("upper") = NAN, py::arg("rule") = "fixed_line", py::arg("line_quantile") = 0.5,
      py::arg("line_share") = 1.0, py::arg("strict") = true, py::arg("z") = NAN, py::arg("q") = NAN, py::arg("h") = NAN,
      py::arg("kernel_at_line") = py::none(), py::arg("density") = NAN,
      "A concentration index (Gini: welfare ranked by itself), the Kakwani index or the Sen index per domain from the rank totals "
      "(rank_totals.hpp; U × D·(1 + 3J) with the D × J centres): the part after the pass over the sorted rows.");
  m.def(
      "replicate_index_variance",
      [](const Eigen::VectorXd& estimate, const Eigen::MatrixXd& replicates, double line, const Eigen::VectorXd& line_replicates,
         bool estimated_line, const variance_design& design) {
        const char* fn = "replicate_index_variance";
        detail::require(design.kind == variance_kind::replicate, fn, "the variance design must be a replicate design");
        detail::require(replicates.cols() == estimate.size() && replicates.rows() == line_replicates.size(), fn,
                        "replicates must be R × K with K estimates and R line values");
        welfare_index_result r;
        r.estimate = estimate;
        r.line = line;
        set_replicate_variance(r, replicates, line_replicates, estimated_line, design.replicate);
        py::dict out;
        out["vcov"] = r.vcov;
        out["conventions"] = conventions_dict(r.conventions);
        out["line_variance"] = r.line_variance;
        return out;
      },
      py::arg("estimate"), py::arg("replicates"), py::arg("line"), py::arg("line_replicates"), py::arg("estimated_line"), py::arg("design"),
      "An index's replicate variance from its estimates per replicate (welfare_index.hpp set_replicate_variance), with the "
      "replicate variance of an estimated line; for indices re-estimated per replicate outside C++ (a dask frame).");
  py::class_<targeting_accumulator>(m, "TargetingAccumulator",
                                    "ik.targeting streamed in chunks: update, merge, finalize (targeting/streaming.hpp).")
      .def(py::init([](const std::string& rule, double line_value, double line_quantile, double line_share, bool strict, double line_q,
                       double line_h, bool amounts, bool welfare, int n_domains, int n_welfare_groups, std::vector<double> welfare_cuts,
                       bool nest, bool fpc) {
             return targeting_accumulator(make_setup(rule, line_value, line_quantile, line_share, strict, line_q, line_h, amounts, welfare,
                                                     n_domains, n_welfare_groups, std::move(welfare_cuts), nest, fpc));
           }),
           py::arg("rule"), py::arg("line_value"), py::arg("line_quantile"), py::arg("line_share"), py::arg("strict"), py::arg("line_q"),
           py::arg("line_h"), py::arg("amounts"), py::arg("welfare"), py::arg("n_domains"), py::arg("n_welfare_groups"),
           py::arg("welfare_cuts"), py::arg("nest"), py::arg("fpc"))
      .def(
          "update",
          [](targeting_accumulator& a, std::optional<f64> target, f64 beneficiary, std::optional<f64> benefit, std::optional<f64> welfare,
             std::optional<f64> weights, std::optional<i32> domain, std::optional<design_columns_i64> strata, design_columns_i64 psu,
             std::optional<f64> fpc) {
            const targeting_stream_setup& s = a.setup();
            const targeting_rows r = make_rows(rule_name(s.line.kind), target, s.line.value, s.line.quantile, s.line.share, s.line.strict,
                                               beneficiary, benefit, welfare, weights, domain, s.n_domains, std::nullopt, s.n_welfare_groups);
            const design_chunk c = make_design_chunk("TargetingAccumulator.update", r.n, strata, psu, fpc);
            py::gil_scoped_release release;
            a.update(r, c);
          },
          py::arg("target"), py::arg("beneficiary"), py::arg("benefit"), py::arg("welfare"), py::arg("weights"), py::arg("domain"),
          py::arg("strata"), py::arg("psu"), py::arg("fpc"), "Adds a chunk of rows with their design columns.")
      .def("merge", &targeting_accumulator::merge, py::arg("other"), py::call_guard<py::gil_scoped_release>())
      .def(
          "finalize",
          [](const targeting_accumulator& a, const std::string& lonely_psu, std::vector<std::string> strata_names, std::vector<std::string> psu_names) {
            targeting_result res;
            {
              py::gil_scoped_release release;
              res = a.finalize(parse_lonely_psu(lonely_psu), strata_names, psu_names);
            }
            return result_dict(res);
          },
          py::arg("lonely_psu"), py::arg("strata_names") = std::vector<std::string>{}, py::arg("psu_names") = std::vector<std::string>{},
          "The metrics and their design variance (the dict of targeting_accuracy).")
      .def(
          "finalize_on",
          [](const targeting_accumulator& a, const survey_design& design, const Eigen::MatrixXd& unit_totals) {
            targeting_result res;
            {
              py::gil_scoped_release release;
              res = a.finalize(design, unit_totals);
            }
            return result_dict(res);
          },
          py::arg("design"), py::arg("unit_totals"),
          "finalize() on a design built outside (a multistage design over the streamed PSUs) with the totals in its unit order.")
      .def(
          "finalize_replicates",
          [](const targeting_accumulator& a, const std::vector<targeting_accumulator>& replicates, const variance_design& design) {
            detail::require(design.kind == variance_kind::replicate, "finalize_replicates", "the variance design must be a replicate design");
            targeting_result res;
            {
              py::gil_scoped_release release;
              res = a.finalize_replicates(replicates, design.replicate);
            }
            return result_dict(res);
          },
          py::arg("replicates"), py::arg("design"),
          "The metrics with their replicate-weight variance; this accumulator and each replicate's streamed with a single PSU.")
      .def_property_readonly("rows", [](const targeting_accumulator& a) { return a.totals().rows(); })
      .def_property_readonly("n_psu", [](const targeting_accumulator& a) { return a.totals().n_psu(); })
      .def(py::pickle([](const targeting_accumulator& a) { return py::make_tuple(setup_tuple(a.setup()), accumulator_state_tuple(a.totals().get_state())); },
                      [](const py::tuple& t) {
                        detail::require(t.size() == 2, "TargetingAccumulator", "a pickled accumulator is (setup, state)");
                        return targeting_accumulator(setup_from(t[0].cast<py::tuple>()), accumulator_state_from(t[1].cast<py::tuple>()));
                      }));
  py::class_<poverty_stream>(m, "PovertyAccumulator", "ik.fgt / ik.watts streamed in chunks: update, merge, finalize (targeting/streaming.hpp).")
      .def(py::init([](const std::string& index, double alpha, const std::string& rule, double line_value, double line_quantile, double line_share,
                       bool strict, double line_q, double line_h, int n_domains, bool nest, bool fpc) {
             return poverty_stream{index, rule, alpha, line_value, line_quantile, line_share, line_q, line_h, strict,
                                   poverty_stream::make(index, alpha, rule, line_value, line_quantile, line_share, strict, line_q, line_h,
                                                        n_domains, nest, fpc)};
           }),
           py::arg("index"), py::arg("alpha"), py::arg("rule"), py::arg("line_value"), py::arg("line_quantile"), py::arg("line_share"),
           py::arg("strict"), py::arg("line_q"), py::arg("line_h"), py::arg("n_domains"), py::arg("nest"), py::arg("fpc"))
      .def(
          "update",
          [](poverty_stream& a, f64 welfare, std::optional<f64> weights, std::optional<i32> domain, std::optional<design_columns_i64> strata,
             design_columns_i64 psu, std::optional<f64> fpc) {
            const welfare_rows r = make_welfare_rows(welfare, weights, domain, a.acc.totals().n_domains());
            const design_chunk c = make_design_chunk("PovertyAccumulator.update", r.n, strata, psu, fpc);
            py::gil_scoped_release release;
            a.acc.update(r, c);
          },
          py::arg("welfare"), py::arg("weights"), py::arg("domain"), py::arg("strata"), py::arg("psu"), py::arg("fpc"))
      .def(
          "merge", [](poverty_stream& a, const poverty_stream& b) { a.acc.merge(b.acc); }, py::arg("other"))
      .def(
          "finalize",
          [](const poverty_stream& a, const std::string& lonely_psu, std::vector<std::string> strata_names, std::vector<std::string> psu_names) {
            welfare_index_result res;
            {
              py::gil_scoped_release release;
              res = a.acc.finalize(parse_lonely_psu(lonely_psu), strata_names, psu_names);
            }
            return index_dict(res);
          },
          py::arg("lonely_psu"), py::arg("strata_names") = std::vector<std::string>{}, py::arg("psu_names") = std::vector<std::string>{})
      .def(
          "finalize_on",
          [](const poverty_stream& a, const survey_design& design, const Eigen::MatrixXd& unit_totals) {
            welfare_index_result res;
            {
              py::gil_scoped_release release;
              res = a.acc.finalize(design, unit_totals);
            }
            return index_dict(res);
          },
          py::arg("design"), py::arg("unit_totals"))
      .def(
          "finalize_replicates",
          [](const poverty_stream& a, const std::vector<const poverty_stream*>& replicates, const variance_design& design) {
            detail::require(design.kind == variance_kind::replicate, "finalize_replicates", "the variance design must be a replicate design");
            std::vector<poverty_accumulator> reps;
            for (const poverty_stream* r : replicates) reps.push_back(r->acc);
            welfare_index_result res;
            {
              py::gil_scoped_release release;
              res = a.acc.finalize_replicates(reps, design.replicate);
            }
            return index_dict(res);
          },
          py::arg("replicates"), py::arg("design"))
      .def_property_readonly("rows", [](const poverty_stream& a) { return a.acc.totals().rows(); })
      .def(py::pickle(
          [](const poverty_stream& a) {
            return py::make_tuple(a.index, a.alpha, a.rule, a.line_value, a.line_quantile, a.line_share, a.strict, a.line_q, a.line_h,
                                  accumulator_state_tuple(a.acc.totals().get_state()));
          },
          [](const py::tuple& t) {
            detail::require(t.size() == 10, "PovertyAccumulator", "a pickled accumulator has 10 entries");
            const auto s = accumulator_state_from(t[9].cast<py::tuple>());
            poverty_stream p{t[0].cast<std::string>(), t[2].cast<std::string>(), t[1].cast<double>(), t[3].cast<double>(), t[4].cast<double>(),
                             t[5].cast<double>(), t[7].cast<double>(), t[8].cast<double>(), t[6].cast<bool>(),
                             poverty_stream::make(t[0].cast<std::string>(), t[1].cast<double>(), t[2].cast<std::string>(), t[3].cast<double>(),
                                                  t[4].cast<double>(), t[5].cast<double>(), t[6].cast<bool>(), t[7].cast<double>(),
                                                  t[8].cast<double>(), s.n_domains, s.nest, s.has_fpc)};
            p.acc = poverty_accumulator(t[0].cast<std::string>() == "fgt" ? poverty_index::fgt : poverty_index::watts, p.alpha,
                                        make_line(p.rule, p.line_value, p.line_quantile, p.line_share, p.strict), line_values{NAN, p.line_q, p.line_h}, s);
            return p;
          }));
}

}  // namespace impactkit::python
