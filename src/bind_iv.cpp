// impactkit::iv_2sls (instrumental variables, two-stage least squares). Arrays arrive as Eigen::Ref
// (no copy for Fortran-ordered float64) and the GIL is released around the C++ work.
#include <optional>
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/impact/iv.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {

void bind_iv(py::module_& m) {
  py::class_<iv_test>(m, "IvTest", "A chi-square test of the IV model (NaN when not defined).")
      .def_readonly("name", &iv_test::name)
      .def_readonly("statistic", &iv_test::statistic)
      .def_readonly("p_value", &iv_test::p_value)
      .def_readonly("df", &iv_test::df)
      .def("__repr__", [](const iv_test& t) {
        return "<impactkit._core.IvTest " + t.name + ": " + std::to_string(t.statistic) + " (df " + std::to_string(t.df) + ")>";
      });

  py::class_<iv_first_stage>(m, "IvFirstStage", "First-stage regression of one endogenous regressor on [X, Z].")
      .def_readonly("fit", &iv_first_stage::fit)
      .def_readonly("instrument_coef", &iv_first_stage::instrument_coef)
      .def_readonly("instrument_se", &iv_first_stage::instrument_se)
      .def_readonly("f_stat", &iv_first_stage::f_stat)
      .def_readonly("f_p_value", &iv_first_stage::f_p_value)
      .def_readonly("f_df_num", &iv_first_stage::f_df_num)
      .def_readonly("f_df_denom", &iv_first_stage::f_df_denom)
      .def_readonly("partial_r2", &iv_first_stage::partial_r2);

  py::class_<iv_result>(m, "IvResult", "Result of impactkit::iv_2sls.")
      .def_readonly("fit", &iv_result::fit)
      .def_readonly("first_stage", &iv_result::first_stage)
      .def_readonly("n_exog", &iv_result::n_exog)
      .def_readonly("n_endog", &iv_result::n_endog)
      .def_readonly("n_instruments", &iv_result::n_instruments)
      .def_readonly("cragg_donald_f", &iv_result::cragg_donald_f)
      .def_readonly("kleibergen_paap_f", &iv_result::kleibergen_paap_f)
      .def_readonly("effective_f", &iv_result::effective_f)
      .def_readonly("sargan", &iv_result::sargan)
      .def_readonly("hansen_j", &iv_result::hansen_j)
      .def_readonly("overid", &iv_result::overid)
      .def_readonly("diagnostics_convention", &iv_result::diagnostics_convention)
      .def("describe", &iv_result::describe)
      .def("__repr__", [](const iv_result& r) { return "<impactkit._core.IvResult: " + r.describe() + ">"; });

  m.def(
      "iv_2sls",
      [](const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& D,
         const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::VectorXd>& y,
         std::optional<Eigen::Ref<const Eigen::VectorXd>> weights, const vcov_request& vcov,
         double collin_tol, bool probability_weights,
         std::optional<Eigen::MatrixXi> fixed_effects, bool drop_singletons, double fe_tol, int fe_max_iter) {
        iv_options opt;
        vcov.apply_to(opt.vcov, opt.absorb);
        opt.collin_tol = collin_tol;
        opt.probability_weights = probability_weights;
        if (fixed_effects) opt.fixed_effects = std::move(*fixed_effects);
        opt.absorb.drop_singletons = drop_singletons;
        opt.absorb.demean.tol = fe_tol;
        opt.absorb.demean.max_iter = fe_max_iter;
        py::gil_scoped_release release;
        return weights ? iv_2sls(X, D, Z, y, *weights, opt) : iv_2sls(X, D, Z, y, opt);
      },
      py::arg("X"), py::arg("D"), py::arg("Z"), py::arg("y"), py::arg("weights") = py::none(), py::arg_v("vcov", vcov_request{}, "VcovSpec()"),
      py::arg("collin_tol") = 1e-10, py::arg("probability_weights") = false,
      py::arg("fixed_effects") = py::none(), py::arg("drop_singletons") = true, py::arg("fe_tol") = 1e-8,
      py::arg("fe_max_iter") = 10000,
      "Two-stage least squares of y on [X, D] with excluded instruments Z (all float64, Fortran order avoids a copy;\n"
      "X may have zero columns). clusters: n x m integer labels; fixed_effects: n x K integer labels of absorbed\n"
      "fixed effects. Returns the second stage (fit), first stages, Cragg-Donald / Kleibergen-Paap / effective F and\n"
      "Sargan / Hansen J tests.");

  m.def(
      "iv_with_vcov",
      [](const iv_result& fit, const vcov_request& vcov) {
        py::gil_scoped_release release;
        return iv_with_vcov(fit, vcov.spec);
      },
      py::arg("fit"), py::arg("vcov"),
      "The IV fit with another variance, without refitting: first- and second-stage variances, partial F,\n"
      "Kleibergen-Paap F, effective F, Hansen J and conventions recomputed from the pieces the fit kept (equal to\n"
      "a fresh iv_2sls with this vcov). Cluster labels / survey rows are on the fit's input rows.");
}

}  // namespace impactkit::python
