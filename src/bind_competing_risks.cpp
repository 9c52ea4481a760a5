// impactkit._core.competing_risks: cumulative incidence per cause (Aalen–Johansen, cmprsk variance) and
// Gray's test. Columns arrive as 1-d float64/int32 arrays without a copy when already of that type; the GIL
// is released around the C++ work.
#include <optional>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/sustainability/competing_risks.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {
namespace {

competing_risks_rows rows_of(const f64_column& time, const i32_column& status, int n_causes, const std::optional<i32_column>& group,
                             int n_groups, const std::optional<i32_column>& strata, int n_strata, const char* fn) {
  competing_risks_rows r;
  r.n = time.size();
  detail::require(time.ndim() == 1, fn, "time must be 1-d");
  r.time = time.data();
  r.status = checked_column(std::optional<i32_column>(status), r.n, "status codes", fn);
  r.n_causes = n_causes;
  r.group = checked_column(group, r.n, "group codes", fn);
  r.n_groups = n_groups;
  r.strata = checked_column(strata, r.n, "strata codes", fn);
  r.n_strata = n_strata;
  return r;
}

/// A numpy copy of a vector (one memcpy; a Python list of 10⁷ floats would cost seconds).
py::array_t<double> as_array(const std::vector<double>& v) { return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data()); }

km_conf_type conf_type_of(const std::string& s) {
  if (s == "plain") return km_conf_type::plain;
  if (s == "log") return km_conf_type::log;
  detail::require(s == "log-log", "cumulative_incidence", "conf_type must be 'plain', 'log' or 'log-log'");
  return km_conf_type::log_log;
}

}  // namespace

void bind_competing_risks(py::module_& parent) {
  py::module_ m = parent.def_submodule("competing_risks", "Competing risks: cumulative incidence per cause, Gray's test, Fine-Gray regression.");
  m.def(
      "cumulative_incidence",
      [](f64_column time, i32_column status, int n_causes, std::optional<i32_column> group, int n_groups, double level,
         const std::string& conf_type) {
        const competing_risks_rows r = rows_of(time, status, n_causes, group, n_groups, std::nullopt, 1, "cumulative_incidence");
        const km_conf_type type = conf_type_of(conf_type);
        std::vector<cif_table> tables;
        std::vector<Eigen::MatrixXd> lower, upper;
        {
          py::gil_scoped_release release;
          tables = cumulative_incidence(r);
          lower.resize(tables.size());
          upper.resize(tables.size());
          for (std::size_t g = 0; g < tables.size(); ++g) cif_confidence(tables[g], level, type, lower[g], upper[g]);
        }
        py::list out;
        for (std::size_t g = 0; g < tables.size(); ++g) {
          py::dict d;
          d["time"] = as_array(tables[g].time);
          d["at_risk"] = as_array(tables[g].at_risk);
          d["censored"] = as_array(tables[g].censored);
          d["events"] = tables[g].events;
          d["incidence"] = tables[g].incidence;
          d["variance"] = tables[g].variance;
          d["conf_low"] = lower[g];
          d["conf_high"] = upper[g];
          out.append(d);
        }
        return out;
      },
      py::arg("time"), py::arg("status"), py::arg("n_causes"), py::arg("group"), py::arg("n_groups"), py::arg("level"), py::arg("conf_type"),
      "Aalen-Johansen cumulative incidence of each cause per group (times x causes matrices) with cmprsk's variance and intervals.");
  m.def(
      "gray_test",
      [](f64_column time, i32_column status, int n_causes, i32_column group, int n_groups, std::optional<i32_column> strata, int n_strata,
         int cause, double rho) {
        const competing_risks_rows r = rows_of(time, status, n_causes, group, n_groups, strata, n_strata, "gray_test");
        gray_test_result res;
        {
          py::gil_scoped_release release;
          res = gray_test(r, cause, rho);
        }
        py::dict d;
        d["statistic"] = res.statistic;
        d["df"] = res.df;
        d["score"] = res.score;
        d["variance"] = res.variance;
        return d;
      },
      py::arg("time"), py::arg("status"), py::arg("n_causes"), py::arg("group"), py::arg("n_groups"), py::arg("strata"), py::arg("n_strata"),
      py::arg("cause"), py::arg("rho"), "Gray's K-sample test that the groups' cumulative incidence curves of one cause are equal.");
  m.def(
      "finegray",
      [](f64_column time, i32_column status, int n_causes, int cause, const Eigen::Ref<const Eigen::MatrixXd>& X, int max_iter,
         std::optional<i32_column> cengroup, int n_cengroups) {
        const competing_risks_rows r = rows_of(time, status, n_causes, cengroup, n_cengroups, std::nullopt, 1, "finegray");
        finegray_fit fit;
        {
          py::gil_scoped_release release;
          fit = finegray(r, cause, X, max_iter);
        }
        py::dict d;
        d["coef"] = fit.coef;
        d["information"] = fit.information;
        d["scores"] = fit.scores;
        d["loglik"] = fit.loglik;
        d["loglik_null"] = fit.loglik_null;
        d["score_test"] = fit.score_test;
        d["iterations"] = fit.iterations;
        d["n_events"] = fit.n_events;
        d["weighted_rows"] = fit.weighted_rows;
        return d;
      },
      py::arg("time"), py::arg("status"), py::arg("n_causes"), py::arg("cause"), py::arg("X"), py::arg("max_iter") = 30,
      py::arg("cengroup") = py::none(), py::arg("n_cengroups") = 1,
      "Fine-Gray subdistribution hazards fit: coefficients, information, per-row influence numerators (eta + psi), log-likelihoods; "
      "cengroup codes (0..n_cengroups-1) estimate the censoring distribution by group (cmprsk crr's cengroup).");
}

}  // namespace impactkit::python
