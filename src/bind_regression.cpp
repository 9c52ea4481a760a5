// impactkit::ols / wls. Arrays arrive as Eigen::Ref (no copy for Fortran-ordered float64) and
// the GIL is released around the C++ work.
#include <limits>
#include <optional>
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/core/ols.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {

void bind_regression(py::module_& m) {
  py::enum_<vcov_kind>(m, "VcovKind")
      .value("iid", vcov_kind::iid)
      .value("HC0", vcov_kind::hc0)
      .value("HC1", vcov_kind::hc1)
      .value("HC2", vcov_kind::hc2)
      .value("HC3", vcov_kind::hc3)
      .value("CR0", vcov_kind::cr0)
      .value("CR1", vcov_kind::cr1)
      .value("CR2", vcov_kind::cr2)
      .value("CR3", vcov_kind::cr3);

  py::class_<ols_result>(m, "OlsResult", "Result of impactkit::ols / wls (kept columns only).")
      .def_readonly("coef", &ols_result::coef)
      .def_readonly("vcov", &ols_result::vcov)
      .def_readonly("bread", &ols_result::bread)
      .def_readonly("conditioned", &ols_result::conditioned)
      .def_readonly("se", &ols_result::se)
      .def_readonly("df_inference", &ols_result::df_inference)
      .def_readonly("kept_columns", &ols_result::kept_columns)
      .def_readonly("dropped_columns", &ols_result::dropped_columns)
      .def_readonly("residuals", &ols_result::residuals)
      .def_readonly("nobs", &ols_result::nobs)
      .def_readonly("rank", &ols_result::rank)
      .def_readonly("df_resid", &ols_result::df_resid)
      .def_readonly("rss", &ols_result::rss)
      .def_readonly("tss", &ols_result::tss)
      .def_readonly("r2", &ols_result::r2)
      .def_readonly("adj_r2", &ols_result::adj_r2)
      .def_readonly("sigma", &ols_result::sigma)
      .def_readonly("has_intercept", &ols_result::has_intercept)
      .def_readonly("weighted", &ols_result::weighted)
      .def_readonly("n_clusters", &ols_result::n_clusters)
      .def_readonly("vcov_type", &ols_result::vcov_type)
      .def_readonly("ssc_factor", &ols_result::ssc_factor)
      .def_readonly("vcov_convention", &ols_result::vcov_convention)
      .def_property_readonly("conventions", [](const ols_result& r) { return conventions_dict(r.conventions); })
      .def_property_readonly("used_rows",
                             [](const ols_result& r) {  // a numpy array: a list of 10^7 ints would cost seconds
                               py::array_t<std::int64_t> a(static_cast<py::ssize_t>(r.used_rows.size()));
                               std::copy(r.used_rows.begin(), r.used_rows.end(), a.mutable_data());
                               return a;
                             })
      .def_readonly("n_singletons", &ols_result::n_singletons)
      .def_readonly("fe_sizes", &ols_result::fe_sizes)
      .def_readonly("k_fe", &ols_result::k_fe)
      .def_readonly("r2_within", &ols_result::r2_within)
      .def_readonly("fixef", &ols_result::fixef)
      .def_readonly("fixef_labels", &ols_result::fixef_labels)
      .def_readonly("demean_iterations", &ols_result::demean_iterations)
      .def_property_readonly("has_within", [](const ols_result& r) { return r.within != nullptr; })
      .def(
          "within_design",
          [](const ols_result& r) {
            py::gil_scoped_release release;
            return r.within_design();
          },
          "The within-transformed kept columns (nobs x rank, rows as `residuals`); fits with keep_within=True.")
      .def_property_readonly("statistic", &ols_result::statistic)
      .def_property_readonly("p_values", &ols_result::p_values)
      .def("describe", &ols_result::describe)
      .def("__repr__", [](const ols_result& r) { return "<impactkit._core.OlsResult: " + r.describe() + ">"; });

  m.def(
      "ols",
      [](const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
         std::optional<Eigen::Ref<const Eigen::VectorXd>> weights, const vcov_request& vcov,
         double collin_tol, bool probability_weights, std::optional<Eigen::MatrixXi> fixed_effects,
         bool drop_singletons, double fe_tol, int fe_max_iter, bool keep_within) {
        ols_options opt;
        opt.keep_within = keep_within;
        vcov.apply_to(opt.vcov, opt.absorb);
        opt.collin_tol = collin_tol;
        opt.probability_weights = probability_weights;
        if (fixed_effects) opt.fixed_effects = std::move(*fixed_effects);
        opt.absorb.drop_singletons = drop_singletons;
        opt.absorb.demean.tol = fe_tol;
        opt.absorb.demean.max_iter = fe_max_iter;
        py::gil_scoped_release release;
        return weights ? wls(X, y, *weights, opt) : ols(X, y, opt);
      },
      py::arg("X"), py::arg("y"), py::arg("weights") = py::none(), py::arg_v("vcov", vcov_request{}, "VcovSpec()"),
      py::arg("collin_tol") = 1e-10, py::arg("probability_weights") = false,
      py::arg("fixed_effects") = py::none(), py::arg("drop_singletons") = true, py::arg("fe_tol") = 1e-8,
      py::arg("fe_max_iter") = 10000, py::arg("keep_within") = false,
      "Least squares of y on X (n x k float64, Fortran order avoids a copy) with the variance of `vcov` (make_vcov_spec).\n"
      "fixed_effects: n x K integer labels of absorbed fixed effects (singletons dropped unless drop_singletons=False);\n"
      "keep_within: keep the within-transformed data (within_design) for a new variance without refitting.");

  m.def(
      "sandwich_vcov",
      [](const Eigen::Ref<const Eigen::MatrixXd>& bread, const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols,
         std::optional<Eigen::Ref<const Eigen::VectorXd>> u, const vcov_request& spec, Eigen::Index n_params, bool normal) {
        const char* fn = "sandwich_vcov";
        detail::require(!u || u->size() == Z.rows(), fn, "u has " + std::to_string(u ? u->size() : 0) + " rows but Z has " + std::to_string(Z.rows()));
        for (Eigen::Index j : cols) detail::require(j >= 0 && j < Z.cols(), fn, "a score column index is outside Z");
        detail::require(bread.rows() == bread.cols() && bread.rows() == static_cast<Eigen::Index>(cols.size()), fn,
                        "the bread must be p x p with p the number of score columns");
        vcov_estimate v;
        {
          py::gil_scoped_release release;
          v = sandwich_vcov(bread, Z, cols, u ? u->data() : nullptr, spec.spec, n_params);
        }
        if (normal && v.kind != vcov_kind::survey) {  // maximum-likelihood models: z reference
          v.conventions.df = df_rule::normal;
          v.conventions.df_value = std::numeric_limits<double>::infinity();
          v.df.setConstant(std::numeric_limits<double>::infinity());
          v.convention = v.conventions.describe();
        }
        return vcov_estimate_dict(v);
      },
      py::arg("bread"), py::arg("Z"), py::arg("cols"), py::arg("u"), py::arg("vcov"), py::arg("n_params"), py::arg("normal") = false,
      "The sandwich B M B of scores u_i Z[i, cols] under `vcov` (HC0/HC1, CR0/CR1 one- or multiway, survey):\n"
      "a new variance for a fitted model without refitting it (absorbed fixed effects: ols_within_vcov).");

  m.def(
      "ols_within_vcov",
      [](const ols_result& fit, const vcov_request& vcov) {
        vcov_estimate v;
        {
          py::gil_scoped_release release;
          v = ols_within_vcov(fit, vcov.spec);
        }
        return vcov_estimate_dict(v);
      },
      py::arg("fit"), py::arg("vcov"),
      "A new HC0/HC1 or CR0/CR1 variance for a fit with absorbed fixed effects (keep_within=True) without\n"
      "refitting, summed in the fit's row order; cluster labels have one row per used row (as `residuals`).");

  m.def(
      "ols_absorbed",
      [](const std::vector<py::array_t<double, py::array::c_style | py::array::forcecast>>& x,
         const py::array_t<double, py::array::c_style | py::array::forcecast>& y,
         std::optional<py::array_t<double, py::array::c_style | py::array::forcecast>> weights, const vcov_request& vcov,
         double collin_tol, bool probability_weights,
         const std::vector<py::array>& fixed_effects, bool drop_singletons, double fe_tol, int fe_max_iter, bool keep_within) {
        const char* fn = weights ? "wls" : "ols";
        const Eigen::Index n = static_cast<Eigen::Index>(y.size());
        std::vector<const double*> columns;
        for (const auto& c : x) {
          detail::require(c.ndim() == 1 && c.size() == n, fn, "every column of X must be 1-d with as many rows as y (" + std::to_string(n) + ")");
          columns.push_back(c.data());
        }
        if (weights) detail::require(weights->ndim() == 1 && weights->size() == n, fn, "weights must be 1-d with as many rows as y");
        std::vector<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>> converted;  // other integer types
        std::vector<label_column> fe;
        converted.reserve(fixed_effects.size());
        for (const auto& a : fixed_effects) {
          detail::require(a.ndim() == 1 && a.size() == n, fn, "every fixed-effect label column must be 1-d with as many rows as y");
          const bool contiguous = a.flags() & py::array::c_style;
          if (contiguous && py::isinstance<py::array_t<std::int32_t>>(a))
            fe.push_back(label_column::of(static_cast<const std::int32_t*>(a.data()), n));
          else if (contiguous && py::isinstance<py::array_t<std::int64_t>>(a))
            fe.push_back(label_column::of(static_cast<const std::int64_t*>(a.data()), n));
          else {
            converted.emplace_back(a);
            fe.push_back(label_column::of(converted.back().data(), n));
          }
        }
        ols_options opt;
        opt.keep_within = keep_within;
        vcov.apply_to(opt.vcov, opt.absorb);
        opt.collin_tol = collin_tol;
        opt.probability_weights = probability_weights;
        opt.absorb.drop_singletons = drop_singletons;
        opt.absorb.demean.tol = fe_tol;
        opt.absorb.demean.max_iter = fe_max_iter;
        py::gil_scoped_release release;
        return ols_absorbed(columns, y.data(), n, weights ? weights->data() : nullptr, fe, opt);
      },
      py::arg("x"), py::arg("y"), py::arg("weights") = py::none(), py::arg_v("vcov", vcov_request{}, "VcovSpec()"),
      py::arg("collin_tol") = 1e-10, py::arg("probability_weights") = false, py::arg("fixed_effects") = std::vector<py::array>{},
      py::arg("drop_singletons") = true, py::arg("fe_tol") = 1e-8, py::arg("fe_max_iter") = 10000, py::arg("keep_within") = false,
      "Least squares with absorbed fixed effects on borrowed columns: x a list of 1-d float64 arrays, y (and\n"
      "weights) 1-d, fixed_effects a list of 1-d integer label arrays (int32/int64 read without a copy).\n"

      "Everything else as ols.");
}

}  // namespace impactkit::python
