// Errors, threads, distributions and Wald tests.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/core/distributions.hpp>
#include <impactkit/core/errors.hpp>
#include <impactkit/core/threads.hpp>
#include <impactkit/core/vcov.hpp>
#include <impactkit/core/wald.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {

namespace {

fixef_count parse_fixef_count(const char* function, const std::string& fixef_k) {
  detail::require(fixef_k == "nonnested" || fixef_k == "full" || fixef_k == "none", function,
                  "fixef_k must be 'nonnested', 'full' or 'none', got '" + fixef_k + "'");
  return fixef_k == "nonnested" ? fixef_count::nonnested : (fixef_k == "full" ? fixef_count::full : fixef_count::none);
}

}  // namespace

vcov_request make_vcov_spec(const char* function, const std::string& vcov, std::optional<Eigen::MatrixXi> clusters, bool ssc_adj,
                         bool ssc_cluster_adj, const std::string& cluster_df, const std::string& fixef_k, bool exact_redundancy,
                         std::vector<int> fixed_effect_clusters, std::shared_ptr<const survey_design> survey,
                         std::vector<Eigen::Index> survey_rows) {
  vcov_request r;
  // with absorbed fixed effects: how they count in k (for a survey design: of the design df, nested in
  // PSUs or not); C++ keeps this in absorb_options::dof
  r.fe_dof.count = parse_fixef_count(function, fixef_k);
  r.fe_dof.exact_redundancy = exact_redundancy;
  if (survey) {
    detail::require(vcov == "survey", function, "a survey design gives the design-based variance; vcov must be 'survey', got '" + vcov + "'");
    r.spec = vcov_spec::complex_survey(std::move(survey), std::move(survey_rows));
    return r;
  }
  vcov_spec& spec = r.spec;
  spec.kind = parse_vcov_kind(vcov);
  if (clusters) spec.clusters = std::move(*clusters);
  r.cluster_fixed_effects = std::move(fixed_effect_clusters);
  if (is_cluster_kind(spec.kind)) {
    detail::require(spec.clusters.size() > 0 || !r.cluster_fixed_effects.empty(), function, "vcov " + vcov + " needs cluster labels");
    detail::require(spec.clusters.size() == 0 || r.cluster_fixed_effects.empty(), function, "give cluster labels or fixed-effect clusters, not both");
  }
  detail::require(cluster_df == "min" || cluster_df == "conventional", function,
                  "cluster_df must be 'min' or 'conventional', got '" + cluster_df + "'");
  spec.ssc.adj = ssc_adj;
  spec.ssc.cluster_adj = ssc_cluster_adj;
  spec.ssc.cluster_df = cluster_df == "min" ? cluster_df_rule::min : cluster_df_rule::conventional;
  return r;
}

void bind_core(py::module_& m) {
  // C++ exception types -> Python: invalid_input is a ValueError; convergence_error derives from
  // ValueError (DESIGN.md §4: exceptions derive from ValueError/TypeError) and, as before, RuntimeError.
  static py::exception<invalid_input> invalid(m, "InvalidInputError", PyExc_ValueError);
  static py::handle convergence = [] {
    py::tuple bases = py::make_tuple(py::handle(PyExc_ValueError), py::handle(PyExc_RuntimeError));
    PyObject* type = PyErr_NewExceptionWithDoc("impactkit._core.ConvergenceError",
                                               "An iterative procedure hit its iteration cap before meeting its tolerance.",
                                               bases.ptr(), nullptr);
    if (!type) throw py::error_already_set();
    return py::handle(type);  // a new reference, kept for the life of the interpreter
  }();
  m.add_object("ConvergenceError", convergence);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const invalid_input& e) {
      py::set_error(invalid, e.what());
    } catch (const convergence_error& e) {
      py::set_error(convergence, e.what());
    }
  });

  py::class_<vcov_request>(m, "VcovSpec", "What variance an estimator computes (built by make_vcov_spec).")
      .def(py::init<>())
      .def_property_readonly("kind", [](const vcov_request& s) { return vcov_name(s.spec.kind); });
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Number of threads impactkit uses (<= 0: all cores). Results do not depend on it.");
  m.def("get_num_threads", &get_num_threads);

  m.def(
      "two_sided_p_values",
      [](const Eigen::VectorXd& stat, const Eigen::VectorXd& df) {
        detail::require(stat.size() == df.size(), "two_sided_p_values", "stat and df differ in length");
        return two_sided_p_values(stat, Eigen::VectorXd::Ones(stat.size()), df);
      },
      py::arg("stat"), py::arg("df"), "Two-sided p-values of t statistics (df = inf: normal).");
  m.def(
      "t_quantiles",
      [](double q, const Eigen::VectorXd& df) {
        detail::require(q > 0 && q < 1, "t_quantiles", "q must be in (0, 1)");
        Eigen::VectorXd out(df.size());
        for (Eigen::Index i = 0; i < df.size(); ++i) out(i) = t_quantile(q, df(i));
        return out;
      },
      py::arg("q"), py::arg("df"), "Quantile q of t(df) for each df (inf: normal).");
  m.def("f_upper_tail", &f_upper_tail, py::arg("f"), py::arg("df1"), py::arg("df2"));
  m.def("chi2_upper_tail", &chi2_upper_tail, py::arg("x"), py::arg("df"));

  m.def(
      "wald_test",
      [](const Eigen::VectorXd& coef, const Eigen::MatrixXd& vcov, const Eigen::MatrixXd& R, const Eigen::VectorXd& r,
         double df_denom) {
        const wald_result w = wald_test(coef, vcov, R, r, df_denom);
        py::dict d;
        d["statistic_f"] = w.statistic_f;
        d["p_value_f"] = w.p_value_f;
        d["statistic_chi2"] = w.statistic_chi2;
        d["p_value_chi2"] = w.p_value_chi2;
        d["df_num"] = w.df_num;
        d["df_denom"] = w.df_denom;
        return d;
      },
      py::arg("coef"), py::arg("vcov"), py::arg("R"), py::arg("r"), py::arg("df_denom"));
}

}  // namespace impactkit::python
