// impactkit::glm (logit, probit, Poisson). Arrays arrive as Eigen::Ref (no copy for Fortran-ordered
// float64) and the GIL is released around the C++ work.
#include <optional>
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/core/glm.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {

namespace {
information_matrix parse_information(const std::string& s) {
  if (s == "observed") return information_matrix::observed;
  if (s == "expected") return information_matrix::expected;
  detail::throw_invalid("glm", "information must be 'observed' or 'expected', got '" + s + "'");
}
separation_check parse_separation_check(const std::string& s) {
  if (s == "auto") return separation_check::automatic;
  if (s == "always") return separation_check::always;
  if (s == "never") return separation_check::never;
  detail::throw_invalid("glm", "check_separation must be 'auto', 'always' or 'never', got '" + s + "'");
}
separation_action parse_separation_action(const std::string& s) {
  if (s == "drop") return separation_action::drop;
  if (s == "raise") return separation_action::raise;
  detail::throw_invalid("glm", "separation must be 'drop' or 'raise', got '" + s + "'");
}
}  // namespace

void bind_glm(py::module_& m) {
  py::class_<glm_result>(m, "GlmResult", "Result of impactkit::glm (kept columns only).")
      .def_property_readonly("family", [](const glm_result& r) { return std::string(glm_family_name(r.family)); })
      .def_readonly("coef", &glm_result::coef)
      .def_readonly("vcov", &glm_result::vcov)
      .def_readonly("se", &glm_result::se)
      .def_readonly("df_inference", &glm_result::df_inference)
      .def_readonly("kept_columns", &glm_result::kept_columns)
      .def_readonly("dropped_columns", &glm_result::dropped_columns)
      .def_readonly("nobs", &glm_result::nobs)
      .def_readonly("rank", &glm_result::rank)
      .def_readonly("iterations", &glm_result::iterations)
      .def_readonly("loglik", &glm_result::loglik)
      .def_readonly("loglik_null", &glm_result::loglik_null)
      .def_readonly("deviance", &glm_result::deviance)
      .def_readonly("null_deviance", &glm_result::null_deviance)
      .def_readonly("pseudo_r2", &glm_result::pseudo_r2)
      .def_readonly("fitted", &glm_result::fitted)
      .def_readonly("linear_predictor", &glm_result::linear_predictor)
      .def_readonly("used_rows", &glm_result::used_rows)
      .def_readonly("n_fe_dropped", &glm_result::n_fe_dropped)
      .def_readonly("n_singletons", &glm_result::n_singletons)
      .def_readonly("separated_rows", &glm_result::separated_rows)
      .def_readonly("separating_columns", &glm_result::separating_columns)
      .def_readonly("separation_checked", &glm_result::separation_checked)
      .def_readonly("n_boundary", &glm_result::n_boundary)
      .def_readonly("weighted", &glm_result::weighted)
      .def_readonly("has_offset", &glm_result::has_offset)
      .def_property_readonly("information", [](const glm_result& r) {
        return std::string(r.information == information_matrix::observed ? "observed" : "expected");
      })
      .def_readonly("fe_sizes", &glm_result::fe_sizes)
      .def_readonly("k_fe", &glm_result::k_fe)
      .def_readonly("fixef", &glm_result::fixef)
      .def_readonly("fixef_labels", &glm_result::fixef_labels)
      .def_readonly("n_clusters", &glm_result::n_clusters)
      .def_readonly("vcov_type", &glm_result::vcov_type)
      .def_readonly("ssc_factor", &glm_result::ssc_factor)
      .def_readonly("vcov_convention", &glm_result::vcov_convention)
      .def_property_readonly("conventions", [](const glm_result& r) { return conventions_dict(r.conventions); })
      .def_readonly("bread", &glm_result::bread)
      .def_readonly("score_weights", &glm_result::score_weights)
      .def_property_readonly("n_separated", &glm_result::n_separated)
      .def_property_readonly("statistic", &glm_result::statistic)
      .def_property_readonly("p_values", &glm_result::p_values)
      .def("describe", &glm_result::describe)
      .def("__repr__", [](const glm_result& r) { return "<impactkit._core.GlmResult: " + r.describe() + ">"; });

  m.def(
      "glm",
      [](const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y, const std::string& family,
         std::optional<Eigen::VectorXd> weights, std::optional<Eigen::VectorXd> offset, const vcov_request& vcov,
         bool stata_ml_ssc, std::optional<Eigen::MatrixXi> fixed_effects, bool drop_singletons, double fe_tol, int fe_max_iter,
         double tol, int max_iter, double collin_tol, const std::string& information, const std::string& check_separation,
         const std::string& separation) {
        const glm_family fam = parse_glm_family(family);
        glm_options opt;
        vcov.apply_to(opt.vcov, opt.absorb);
        opt.stata_ml_ssc = stata_ml_ssc;
        if (weights) opt.weights = std::move(*weights);
        if (offset) opt.offset = std::move(*offset);
        if (fixed_effects) opt.fixed_effects = std::move(*fixed_effects);
        opt.absorb.drop_singletons = drop_singletons;
        opt.absorb.demean.tol = fe_tol;
        opt.absorb.demean.max_iter = fe_max_iter;
        opt.tol = tol;
        opt.max_iter = max_iter;
        opt.collin_tol = collin_tol;
        opt.information = parse_information(information);
        opt.check_separation = parse_separation_check(check_separation);
        opt.on_separation = parse_separation_action(separation);
        py::gil_scoped_release release;
        return glm(X, y, fam, opt);
      },
      py::arg("X"), py::arg("y"), py::arg("family"), py::arg("weights") = py::none(), py::arg("offset") = py::none(),
      py::arg_v("vcov", vcov_request{}, "VcovSpec()"), py::arg("stata_ml_ssc") = false, py::arg("fixed_effects") = py::none(),
      py::arg("drop_singletons") = true, py::arg("fe_tol") = 1e-10, py::arg("fe_max_iter") = 10000, py::arg("tol") = 1e-10,
      py::arg("max_iter") = 100, py::arg("collin_tol") = 1e-10, py::arg("information") = "observed",
      py::arg("check_separation") = "auto", py::arg("separation") = "drop",
      "Logit, probit or Poisson regression of y on X (n x k float64, Fortran order avoids a copy) by IRLS.\n"
      "vcov: iid (model-based), HC0, HC1, CR0, CR1; clusters: n x m integer labels.\n"
      "fixed_effects: n x K integer labels of absorbed fixed effects (groups with a constant outcome and\n"
      "singletons dropped). Separated observations are detected (iterative rectifier) and dropped or raised.");
}

}  // namespace impactkit::python
