// impactkit._core.variance: the variance contract (influence values or scores + a variance design)
// and complex survey designs. Arrays arrive as Eigen::Ref (no copy for Fortran-ordered float64);
// the GIL is released around passes over the data.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/core/design_accumulator.hpp>
#include <impactkit/core/influence_vcov.hpp>
#include <impactkit/core/survey_design.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {
namespace {

const char* kind_name(variance_kind k) {
  switch (k) {
    case variance_kind::model: return "model";
    case variance_kind::iid: return "iid";
    case variance_kind::heteroskedastic: return "heteroskedastic";
    case variance_kind::cluster: return "cluster";
    case variance_kind::survey: return "survey";
    case variance_kind::replicate: return "replicate";
  }
  return "?";
}

const char* factor_name(factor_rule f) {
  switch (f) {
    case factor_rule::none: return "none";
    case factor_rule::n_over_n_minus_k: return "n/(n-k)";
    case factor_rule::n_over_n_minus_1: return "n/(n-1)";
    case factor_rule::g_over_g_minus_1: return "G/(G-1)";
    case factor_rule::cluster_stata: return "G/(G-1)*(n-1)/(n-k)";
    case factor_rule::n_minus_1_over_n_minus_k: return "(n-1)/(n-k)";
    case factor_rule::stratum_fpc: return "(1-f_h)*n_h/(n_h-1)";
    case factor_rule::replicate_scale: return "scale*rscale_r";
    case factor_rule::leverage_sqrt: return "1/sqrt(1-h)";
    case factor_rule::leverage: return "1/(1-h)";
    case factor_rule::bell_mccaffrey: return "Bell-McCaffrey";
    case factor_rule::cluster_jackknife: return "(I-H_gg)^-1";
    case factor_rule::classical: return "sigma^2=RSS/(n-k)";
  }
  return "?";
}

const char* df_name(df_rule d) {
  switch (d) {
    case df_rule::n_minus_k: return "n-k";
    case df_rule::clusters_minus_1: return "G-1";
    case df_rule::psu_minus_strata: return "#PSU-#strata";
    case df_rule::design_minus_k: return "#PSU-#strata-k+1";
    case df_rule::replicate_rank: return "rank(replicate weights)-1";
    case df_rule::satterthwaite: return "Satterthwaite";
    case df_rule::normal: return "normal";
  }
  return "?";
}

factor_rule parse_factor(const std::string& s) {
  for (factor_rule f : {factor_rule::none, factor_rule::n_over_n_minus_k, factor_rule::n_over_n_minus_1, factor_rule::g_over_g_minus_1,
                        factor_rule::cluster_stata, factor_rule::n_minus_1_over_n_minus_k, factor_rule::stratum_fpc, factor_rule::replicate_scale})
    if (s == factor_name(f)) return f;
  detail::throw_invalid("variance_design", "unknown small-sample factor rule '" + s + "'");
}

}  // namespace

/// The conventions of a variance as a Python dict (with the plain-words 'description').
py::dict conventions_dict(const variance_conventions& c) {
  py::dict d;
  d["kind"] = kind_name(c.kind);
  d["factor_rule"] = factor_name(c.factor);
  d["factor"] = c.factor_value;
  d["df_rule"] = df_name(c.df);
  d["df"] = c.df_value;
  d["n_obs"] = c.n_obs;
  d["n_params"] = c.n_params;
  d["n_clusters"] = c.n_clusters;
  if (c.kind == variance_kind::cluster && c.n_clusters.size() > 1) d["multiway_g"] = c.multiway_min ? "min" : "conventional";
  if (c.kind == variance_kind::survey) {
    d["n_strata"] = c.n_strata;
    d["n_psu"] = c.n_psu;
    d["n_stages"] = c.n_stages;
    d["fpc"] = c.fpc;
    d["lonely_psu"] = lonely_psu_name(c.lonely_psu);
    d["n_lonely_strata"] = c.n_lonely_strata;
  }
  if (c.kind == variance_kind::replicate) {
    d["replicate_type"] = replicate_method_name(c.replicate);
    d["n_replicates"] = c.n_replicates;
    d["scale"] = c.replicate_scale;
    d["mse"] = c.mse;
  }
  d["description"] = c.describe();
  return d;
}

py::dict vcov_estimate_dict(const vcov_estimate& v) {
  py::dict d;
  d["vcov"] = v.vcov;
  d["df"] = v.df;
  d["conventions"] = conventions_dict(v.conventions);
  d["kind"] = vcov_name(v.kind);
  d["factor"] = v.factor;
  d["n_clusters"] = v.n_clusters;
  d["convention"] = v.convention;
  return d;
}


py::tuple accumulator_state_tuple(const design_accumulator::state& s) {
  auto i64 = [](const std::vector<std::int64_t>& v) { return py::array_t<std::int64_t>(static_cast<py::ssize_t>(v.size()), v.data()); };
  return py::make_tuple(s.n_domains, static_cast<std::int64_t>(s.n_variables), s.nest, s.has_fpc, s.n_rows, i64(s.strata), i64(s.psu),
                        i64(s.rows), i64(s.positive), py::array_t<double>(static_cast<py::ssize_t>(s.fpc.size()), s.fpc.data()), s.totals);
}

design_accumulator::state accumulator_state_from(const py::tuple& t) {
  detail::require(t.size() == 11, "design_accumulator", "a state is a tuple of 11 entries");
  design_accumulator::state s;
  s.n_domains = t[0].cast<int>();
  s.n_variables = t[1].cast<Eigen::Index>();
  s.nest = t[2].cast<bool>();
  s.has_fpc = t[3].cast<bool>();
  s.n_rows = t[4].cast<std::int64_t>();
  s.strata = t[5].cast<std::vector<std::int64_t>>();
  s.psu = t[6].cast<std::vector<std::int64_t>>();
  s.rows = t[7].cast<std::vector<std::int64_t>>();
  s.positive = t[8].cast<std::vector<std::int64_t>>();
  s.fpc = t[9].cast<std::vector<double>>();
  s.totals = t[10].cast<Eigen::MatrixXd>();
  return s;
}

design_chunk make_design_chunk(const char* fn, Eigen::Index n, const std::optional<design_columns_i64>& strata, const design_columns_i64& psu,
                               const std::optional<design_columns_f64>& fpc) {
  auto check = [fn, n](py::ssize_t ndim, py::ssize_t size, const char* what) {
    detail::require(ndim == 1 && size == n, fn, std::string(what) + " must be 1-d with " + std::to_string(n) + " values, got " + std::to_string(size));
  };
  design_chunk c;
  c.n = n;
  check(psu.ndim(), psu.size(), "psu");
  c.psu = psu.data();
  if (strata) {
    check(strata->ndim(), strata->size(), "strata");
    c.strata = strata->data();
  }
  if (fpc) {
    check(fpc->ndim(), fpc->size(), "fpc");
    c.fpc = fpc->data();
  }
  return c;
}

void bind_variance(py::module_& parent) {
  py::module_ m = parent.def_submodule("variance", "The variance contract: influence values or scores + a variance design.");

  py::class_<survey_design, std::shared_ptr<survey_design>>(m, "SurveyDesign",
                                                           "A complex survey design factorised once (R svydesign semantics).")
      .def(py::init([](std::optional<Eigen::VectorXi> strata, std::optional<Eigen::MatrixXi> ids, std::optional<Eigen::MatrixXd> fpc,
                       std::optional<Eigen::VectorXd> weights, bool nest, const std::string& lonely_psu, std::vector<std::string> strata_names,
                       std::vector<std::string> psu_names) {
             survey_spec s;
             if (strata) s.strata = std::move(*strata);
             if (ids) s.ids = std::move(*ids);
             if (fpc) s.fpc = std::move(*fpc);
             if (weights) s.weights = std::move(*weights);
             s.nest = nest;
             s.lonely_psu = parse_lonely_psu(lonely_psu);
             s.strata_names = std::move(strata_names);
             s.psu_names = std::move(psu_names);
             py::gil_scoped_release release;
             return std::make_shared<survey_design>(s);
           }),
           py::arg("strata"), py::arg("ids"), py::arg("fpc"), py::arg("weights"), py::arg("nest") = false, py::arg("lonely_psu") = "fail",
           py::arg("strata_names") = std::vector<std::string>{}, py::arg("psu_names") = std::vector<std::string>{})
      .def_property_readonly("rows", &survey_design::rows)
      .def_property_readonly("n_strata", &survey_design::n_strata)
      .def_property_readonly("n_psu", &survey_design::n_psu)
      .def_property_readonly("n_stages", &survey_design::n_stages)
      .def_property_readonly("has_fpc", &survey_design::has_fpc)
      .def_property_readonly("n_lonely_strata", &survey_design::n_lonely_strata)
      .def_property_readonly("lonely_psu", [](const survey_design& d) { return lonely_psu_name(d.lonely_psu()); })
      .def_property_readonly("df", &survey_design::df)
      .def_property_readonly("n_units", &survey_design::n_units)
      .def(
          "unit_totals",
          [](const survey_design& d, const Eigen::Ref<const Eigen::MatrixXd>& values, std::optional<Eigen::Ref<const Eigen::VectorXd>> w) {
            detail::require(!w || w->size() == d.rows(), "SurveyDesign.unit_totals", "weights have the wrong length");
            py::gil_scoped_release release;
            return d.unit_totals(values, w ? w->data() : nullptr);
          },
          py::arg("values"), py::arg("weights") = py::none(), "Totals of weights*values per finest sampling unit (U x p).")
      .def(
          "unit_totals_by_domain",
          [](const survey_design& d, const Eigen::Ref<const Eigen::MatrixXd>& values, std::optional<Eigen::Ref<const Eigen::VectorXd>> w,
             const Eigen::Ref<const Eigen::VectorXi>& domain, int n_domains) {
            detail::require(!w || w->size() == d.rows(), "SurveyDesign.unit_totals_by_domain", "weights have the wrong length");
            py::gil_scoped_release release;
            return d.unit_totals_by_domain(values, w ? w->data() : nullptr, domain, n_domains);
          },
          py::arg("values"), py::arg("weights"), py::arg("domain"), py::arg("n_domains"),
          "Totals per (unit, domain): U x (D*p), column d*p + j.")
      .def(
          "unit_totals_of_columns",
          [](const survey_design& d, const std::vector<py::array_t<double, py::array::c_style | py::array::forcecast>>& columns,
             std::optional<py::array_t<double, py::array::c_style | py::array::forcecast>> w,
             std::optional<py::array_t<int, py::array::c_style | py::array::forcecast>> domain, int n_domains, bool with_weights,
             std::vector<std::string> names) {
            const char* fn = "SurveyDesign.unit_totals_of_columns";
            std::vector<const double*> cols;
            for (const auto& c : columns) {
              detail::require(c.ndim() == 1 && c.size() == d.rows(), fn, "every column must be 1-d with one value per design row");
              cols.push_back(c.data());
            }
            detail::require(!w || (w->ndim() == 1 && w->size() == d.rows()), fn, "weights must be 1-d with one value per design row");
            detail::require(!domain || (domain->ndim() == 1 && domain->size() == d.rows()), fn, "domain codes must be 1-d with one per design row");
            const double* wp = w ? w->data() : nullptr;
            const int* dp = domain ? domain->data() : nullptr;
            py::gil_scoped_release release;
            return d.unit_totals_of_columns(cols, wp, dp, n_domains, with_weights, names);
          },
          py::arg("columns"), py::arg("weights"), py::arg("domain"), py::arg("n_domains"), py::arg("with_weights"),
          py::arg("names") = std::vector<std::string>{},
          "Totals per (unit, domain) of weights*column for each column (+ the weights): U x (D*q), column d*q + j.")
      .def(
          "variance_of_unit_totals",
          [](const survey_design& d, const Eigen::Ref<const Eigen::MatrixXd>& totals) {
            py::gil_scoped_release release;
            return d.variance_of_unit_totals(totals);
          },
          py::arg("totals"), "Design variance of the sum of psi from its totals per unit.")
      .def(
          "conventions", [](const survey_design& d) { return conventions_dict(d.conventions()); },
          "The conventions of this design's variance, as a dict with a 'description'.");

  py::class_<variance_design>(m, "VarianceDesign", "How the data were sampled or clustered (iid, HC, clusters, survey, replicates).")
      .def_static("iid", &variance_design::iid)
      .def_static("heteroskedastic", [](const std::string& factor) { return variance_design::heteroskedastic(parse_factor(factor)); },
                  py::arg("factor") = "n/(n-k)")
      .def_static(
          "cluster",
          [](Eigen::MatrixXi labels, const std::string& factor, const std::string& cluster_df) {
            detail::require(cluster_df == "min" || cluster_df == "conventional", "VarianceDesign.cluster", "cluster_df must be 'min' or 'conventional'");
            return variance_design::cluster(std::move(labels), parse_factor(factor),
                                            cluster_df == "min" ? cluster_df_rule::min : cluster_df_rule::conventional);
          },
          py::arg("labels"), py::arg("factor") = "G/(G-1)*(n-1)/(n-k)", py::arg("cluster_df") = "min")
      .def_static("survey", [](std::shared_ptr<survey_design> d) { return variance_design::complex_survey(std::move(d)); }, py::arg("design"))
      .def_static(
          "replicates",
          [](const std::string& type, double scale, std::optional<Eigen::VectorXd> rscales, bool mse, double fay_rho, double df) {
            replicate_spec r;
            r.method = parse_replicate_method(type);
            r.scale = scale;
            if (rscales) r.rscales = std::move(*rscales);
            r.mse = mse;
            r.fay_rho = fay_rho;
            r.df = df;
            return variance_design::replicates(std::move(r));
          },
          py::arg("type"), py::arg("scale") = std::numeric_limits<double>::quiet_NaN(), py::arg("rscales") = py::none(),
          py::arg("mse") = false, py::arg("fay_rho") = 0.0, py::arg("df") = std::numeric_limits<double>::quiet_NaN())
      .def_property_readonly("kind", [](const variance_design& d) { return kind_name(d.kind); });

  m.def(
      "influence_vcov",
      [](const Eigen::Ref<const Eigen::MatrixXd>& psi, const variance_design& design, Eigen::Index n_params) {
        vcov_estimate v;
        {
          py::gil_scoped_release release;
          v = influence_vcov(psi, design, n_params);
        }
        return vcov_estimate_dict(v);
      },
      py::arg("psi"), py::arg("design"), py::arg("n_params") = 0,
      "Variance of theta-hat from its n x p influence values psi (theta-hat - theta ~ sum psi_i) under a variance design.");
  m.def(
      "score_vcov",
      [](const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z,
         std::optional<Eigen::Ref<const Eigen::VectorXd>> u, const variance_design& design, Eigen::Index n_params) {
        detail::require(!u || u->size() == Z.rows(), "score_vcov", "u has " + std::to_string(u ? u->size() : 0) + " rows but Z has " + std::to_string(Z.rows()));
        std::vector<Eigen::Index> cols(static_cast<std::size_t>(Z.cols()));
        for (std::size_t j = 0; j < cols.size(); ++j) cols[j] = static_cast<Eigen::Index>(j);
        vcov_estimate v;
        {
          py::gil_scoped_release release;
          v = score_vcov(bread, Z, cols, u ? u->data() : nullptr, design, n_params);
        }
        return vcov_estimate_dict(v);
      },
      py::arg("bread"), py::arg("Z"), py::arg("u"), py::arg("design"), py::arg("n_params"),
      "Sandwich B M B with the meat from scores u_i * Z_i under a variance design.");
  m.def(
      "replicate_vcov",
      [](const Eigen::Ref<const Eigen::VectorXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& reps, const variance_design& design) {
        detail::require(design.kind == variance_kind::replicate, "replicate_vcov", "the design is not a replicate-weight design");
        return vcov_estimate_dict(replicate_vcov(theta, reps, design.replicate));
      },
      py::arg("theta"), py::arg("replicates"), py::arg("design"),
      "Replicate-weight variance from the full-sample estimate and the R x p replicate estimates.");

  using f64 = design_columns_f64;
  using i32 = py::array_t<int, py::array::c_style | py::array::forcecast>;
  py::class_<design_accumulator>(m, "DesignAccumulator",
                                 "Mergeable weighted totals per (stratum, PSU, domain) of streamed columns (core/design_accumulator.hpp).")
      .def(py::init<int, Eigen::Index, bool, bool>(), py::arg("n_domains"), py::arg("n_variables"), py::arg("nest"), py::arg("fpc"))
      .def(
          "update_columns",
          [](design_accumulator& a, std::optional<design_columns_i64> strata, const design_columns_i64& psu, std::optional<f64> fpc,
             const std::vector<f64>& columns, std::optional<f64> weights, std::optional<i32> domain, bool with_weights,
             std::vector<std::string> names) {
            const char* fn = "DesignAccumulator.update_columns";
            const Eigen::Index n = psu.size(), c = static_cast<Eigen::Index>(columns.size());
            detail::require(c + (with_weights ? 1 : 0) == a.n_variables(), fn,
                            "expected " + std::to_string(a.n_variables()) + " variables (columns + weights)");
            std::vector<const double*> cols;
            for (const auto& col : columns) {
              detail::require(col.ndim() == 1 && col.size() == n, fn, "every column must be 1-d with one value per row");
              cols.push_back(col.data());
            }
            detail::require(!weights || (weights->ndim() == 1 && weights->size() == n), fn, "weights must be 1-d with one value per row");
            detail::require(!domain || (domain->ndim() == 1 && domain->size() == n), fn, "domain codes must be 1-d with one per row");
            design_chunk chunk = make_design_chunk(fn, n, strata, psu, fpc);
            const double* w = weights ? weights->data() : nullptr;
            const int* dom = domain ? domain->data() : nullptr;
            chunk.weights = w;
            const int D = a.n_domains();
            py::gil_scoped_release release;
            // the row variables of survey_design::unit_totals_of_columns: w·c_j (and w), finite values only
            a.update(
                chunk,
                [&](Eigen::Index i, double* x) {
                  const int d = dom ? dom[i] : 0;
                  if (d >= D) return -2;
                  if (d < 0) return -1;
                  const double wi = w ? w[i] : 1.0;
                  bool finite = true;
                  for (Eigen::Index j = 0; j < c; ++j) {
                    const double v = cols[static_cast<std::size_t>(j)][i];
                    finite = finite && std::isfinite(v);
                    x[j] = wi * v;
                  }
                  if (with_weights) x[c] = wi;
                  return finite ? d : -2;
                },
                [&](Eigen::Index i) {
                  if (dom && dom[i] >= D) detail::throw_invalid(fn, "domain code out of range at row " + std::to_string(i));
                  for (Eigen::Index j = 0; j < c; ++j)
                    if (!std::isfinite(cols[static_cast<std::size_t>(j)][i]))
                      detail::throw_invalid(fn, (static_cast<std::size_t>(j) < names.size() ? names[static_cast<std::size_t>(j)] : "column " + std::to_string(j)) +
                                                    " has a missing or infinite value at chunk row " + std::to_string(i) +
                                                    "; drop or impute it when building the data (domains are estimated on the full design)");
                });
          },
          py::arg("strata"), py::arg("psu"), py::arg("fpc"), py::arg("columns"), py::arg("weights"), py::arg("domain"), py::arg("with_weights"),
          py::arg("names") = std::vector<std::string>{},
          "Adds a chunk: totals per (stratum, PSU, domain) of weights*column for each column (+ the weights).")
      .def("merge", &design_accumulator::merge, py::arg("other"), py::call_guard<py::gil_scoped_release>(),
           "Adds another accumulator's totals (the same PSU in both: added).")
      .def(
          "design",
          [](const design_accumulator& a, const std::string& lonely_psu, std::vector<std::string> strata_names, std::vector<std::string> psu_names) {
            return std::make_shared<survey_design>(a.design(parse_lonely_psu(lonely_psu), strata_names, psu_names));
          },
          py::arg("lonely_psu"), py::arg("strata_names") = std::vector<std::string>{}, py::arg("psu_names") = std::vector<std::string>{},
          "The survey design over the PSUs streamed (one row per PSU, in (stratum, PSU) label order).")
      .def("totals", [](const design_accumulator& a) { return a.table().totals; }, "Totals per PSU and domain in design order: U x (D*q).")
      .def(
          "conventions", [](const design_accumulator& a, const survey_design& d) { return conventions_dict(a.conventions(d)); }, py::arg("design"),
          "The design's conventions with the number of rows streamed.")
      .def_property_readonly("rows", &design_accumulator::rows)
      .def_property_readonly("n_psu", &design_accumulator::n_psu)
      .def(py::pickle([](const design_accumulator& a) { return accumulator_state_tuple(a.get_state()); },
                      [](const py::tuple& t) { return design_accumulator(accumulator_state_from(t)); }));

  // defined here, after SurveyDesign, so that its signature names the type
  parent.def(
      "make_vcov_spec",
      [](const std::string& vcov, std::optional<Eigen::MatrixXi> clusters, bool ssc_adj, bool ssc_cluster_adj, const std::string& cluster_df,
         const std::string& fixef_k, bool exact_redundancy, std::vector<int> cluster_fixed_effects, std::shared_ptr<survey_design> survey,
         std::vector<Eigen::Index> survey_rows, bool maximum_likelihood) {
        vcov_request s = make_vcov_spec("make_vcov_spec", vcov, std::move(clusters), ssc_adj, ssc_cluster_adj, cluster_df, fixef_k,
                                     exact_redundancy, std::move(cluster_fixed_effects), std::move(survey), std::move(survey_rows));
        s.spec.ssc.maximum_likelihood = maximum_likelihood;
        return s;
      },
      py::arg("vcov") = "HC1", py::arg("clusters") = py::none(), py::arg("ssc_adj") = true, py::arg("ssc_cluster_adj") = true,
      py::arg("cluster_df") = "min", py::arg("fixef_k") = "nonnested", py::arg("exact_redundancy") = false,
      py::arg("cluster_fixed_effects") = std::vector<int>{}, py::arg("survey") = nullptr, py::arg("survey_rows") = std::vector<Eigen::Index>{},
      py::arg("maximum_likelihood") = false,
      "The variance every estimator binding takes: vcov name ('iid', 'HC0'..'HC3', 'CR0'..'CR3', or 'survey' with a\n"
      "variance.SurveyDesign and the design row of each estimation row), n x m cluster labels, the small-sample\n"
      "switches of ik.SSC, and cluster_fixed_effects (cluster on absorbed fixed-effect dimensions by index).");
}

}  // namespace impactkit::python
