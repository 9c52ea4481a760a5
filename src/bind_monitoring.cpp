// impactkit._core.monitoring: routine-data tools (trend tests, Theil–Sen slope). A float64 1-d array
// reaches C++ without a copy (Eigen::Ref); the GIL is released around the computation.
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/monitoring/cell_moments.hpp>
#include <impactkit/monitoring/control_chart.hpp>
#include <impactkit/monitoring/indicator_intervals.hpp>
#include <impactkit/monitoring/lqas.hpp>
#include <impactkit/monitoring/trend_tests.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {
namespace {

using vector_ref = Eigen::Ref<const Eigen::VectorXd>;

py::dict as_dict(const mann_kendall_result& r) {
  py::dict d;
  d["method"] = to_string(r.method);
  d["n"] = r.n;
  d["s"] = r.s;
  d["var_s"] = r.var_s;
  d["var_s_uncorrected"] = r.var_s_uncorrected;
  d["z"] = r.z;
  d["p_value"] = r.p_value;
  d["tau"] = r.tau;
  d["slope"] = r.slope;
  d["intercept"] = r.intercept;
  d["correction"] = r.correction;
  d["lag1_autocorrelation"] = r.lag1_autocorrelation;
  d["tied_groups"] = r.tied_groups;
  d["trend"] = r.trend;
  d["description"] = r.describe();
  return d;
}

py::dict as_dict(const sens_slope_result& r) {
  py::dict d;
  d["slope"] = r.slope;
  d["intercept"] = r.intercept;
  d["conf_low"] = r.conf_low;
  d["conf_high"] = r.conf_high;
  d["n_slopes"] = r.n_slopes;
  d["var_s"] = r.var_s;
  d["rank_low"] = r.rank_low;
  d["rank_high"] = r.rank_high;
  d["description"] = r.describe();
  return d;
}

using bool_column = py::array_t<bool, py::array::c_style | py::array::forcecast>;

py::tuple moments_tuple(const cell_moments_result& r) {
  return py::make_tuple(r.count, r.mean, r.variance, r.first_infinite);
}

std::vector<const double*> checked_columns(const std::vector<f64_column>& columns, Eigen::Index n, const char* fn) {
  std::vector<const double*> cols;
  for (const auto& c : columns) cols.push_back(checked_column<double>(std::optional<f64_column>(c), n, "every column", fn));
  return cols;
}

py::tuple as_tuple(const count_intervals& r) { return py::make_tuple(r.estimate, r.conf_low, r.conf_high); }

}  // namespace

void bind_monitoring(py::module_& parent) {
  py::module_ m = parent.def_submodule("monitoring", "Routine-data monitoring: trend tests, Theil-Sen slope, count intervals, control charts, LQAS, sample sizes.");
  m.def(
      "mann_kendall",
      [](vector_ref x, const std::string& method, Eigen::Index period, double alpha, Eigen::Index lag) {
        mann_kendall_options o;
        o.method = parse_mann_kendall_method(method);
        o.period = period;
        o.alpha = alpha;
        o.lag = lag;
        mann_kendall_result r;
        {
          py::gil_scoped_release release;
          r = mann_kendall(x, o);
        }
        return as_dict(r);
      },
      py::arg("x"), py::arg("method"), py::arg("period"), py::arg("alpha"), py::arg("lag"),
      "Mann-Kendall trend test (S, Var(S) with ties, Z, p, tau) and the Theil-Sen slope; lag -1: all lags.");
  m.def(
      "sens_slope",
      [](vector_ref x, Eigen::Index period, double level) {
        sens_slope_options o;
        o.period = period;
        o.level = level;
        sens_slope_result r;
        {
          py::gil_scoped_release release;
          r = sens_slope(x, o);
        }
        return as_dict(r);
      },
      py::arg("x"), py::arg("period"), py::arg("level"),
      "Theil-Sen slope with Sen's (1968) interval, without materialising the n(n-1)/2 slopes.");
  m.def(
      "kendall_s",
      [](vector_ref x) {
        kendall_s_counts c;
        {
          py::gil_scoped_release release;
          c = kendall_s(x.data(), x.size());
        }
        return py::make_tuple(c.s, c.tied_pairs, c.tied_groups, c.tie_term);
      },
      py::arg("x"), "(S, tied pairs, tied groups, sum t(t-1)(2t+5)) of x by merge-sort inversion counting.");
  m.def(
      "proportion_intervals",
      [](vector_ref successes, vector_ref trials, const std::string& method, double level) {
        const proportion_method pm = parse_proportion_method(method);
        count_intervals r;
        {
          py::gil_scoped_release release;
          r = proportion_intervals(successes, trials, pm, level);
        }
        return as_tuple(r);
      },
      py::arg("successes"), py::arg("trials"), py::arg("method"), py::arg("level"),
      "(estimate, conf_low, conf_high) of successes/trials; method wilson | clopper_pearson | jeffreys | agresti_coull | normal.");
  m.def(
      "poisson_rate_intervals",
      [](vector_ref events, vector_ref person_time, double level) {
        count_intervals r;
        {
          py::gil_scoped_release release;
          r = poisson_rate_intervals(events, person_time, level);
        }
        return as_tuple(r);
      },
      py::arg("events"), py::arg("person_time"), py::arg("level"),
      "(estimate, conf_low, conf_high) of events/person_time with exact (Garwood) Poisson intervals.");
  m.def(
      "control_chart",
      [](vector_ref values, vector_ref sizes, const std::string& kind, Eigen::Index phase1_begin, Eigen::Index phase1_end,
         Eigen::Index max_revisions, const std::string& rules) {
        control_chart_options o;
        o.kind = parse_control_chart_kind(kind);
        o.rules = parse_run_rules(rules);
        o.phase1_begin = phase1_begin;
        o.phase1_end = phase1_end;
        o.max_revisions = max_revisions;
        control_chart_result r;
        {
          py::gil_scoped_release release;
          r = control_chart(values, sizes, o);
        }
        py::dict d;
        d["statistic"] = r.statistic;
        d["centre"] = r.centre;
        d["lower"] = r.lower;
        d["upper"] = r.upper;
        d["sigma"] = r.sigma;
        d["violations"] = r.violations;
        d["excluded"] = r.excluded;
        d["centre_estimate"] = r.centre_estimate;
        d["mean_moving_range"] = r.mean_moving_range;
        d["sigma_z"] = r.sigma_z;
        d["revisions"] = r.revisions;
        d["description"] = r.describe();
        return d;
      },
      py::arg("values"), py::arg("sizes"), py::arg("kind"), py::arg("phase1_begin"), py::arg("phase1_end"),
      py::arg("max_revisions"), py::arg("rules"), "Shewhart chart limits (phase I, optional revision) and run-rule violations.");
  m.def(
      "run_rule_violations",
      [](vector_ref z, const std::string& rules) { return Eigen::VectorXi(run_rule_violations(z, parse_run_rules(rules))); },
      py::arg("z"), py::arg("rules"), "Per point, bit r-1 set when run rule r (Nelson numbering) is violated at that point.");
  m.def(
      "lqas_risks",
      [](int n, int rule, double upper, double lower) {
        const lqas_decision d = lqas_risks(n, rule, upper, lower);
        return py::make_tuple(d.rule, d.alpha, d.beta);
      },
      py::arg("n"), py::arg("rule"), py::arg("upper"), py::arg("lower"), "(rule, alpha, beta) of an LQAS decision rule.");
  m.def(
      "lqas_rule",
      [](int n, double upper, double lower) {
        const lqas_decision d = lqas_rule(n, upper, lower);
        return py::make_tuple(d.rule, d.alpha, d.beta);
      },
      py::arg("n"), py::arg("upper"), py::arg("lower"), "(rule, alpha, beta): the rule minimising alpha + beta.");
  m.def(
      "lqas_classify",
      [](vector_ref successes, int n, int rule) { return Eigen::VectorXi(lqas_classify(successes, n, rule)); },
      py::arg("successes"), py::arg("n"), py::arg("rule"), "1 where successes >= rule, else 0.");
  m.def(
      "sample_size_proportion",
      [](double p, double margin, double level, double deff, double population, double response_rate) {
        const sample_size_result r = sample_size_proportion(p, margin, level, deff, population, response_rate);
        return py::make_tuple(r.n, r.n_unrounded, r.describe);
      },
      py::arg("p"), py::arg("margin"), py::arg("level"), py::arg("deff"), py::arg("population"), py::arg("response_rate"),
      "(n, unrounded n, formula) to estimate a proportion within a margin.");
  m.def(
      "cell_moments",
      [](const std::vector<f64_column>& columns, const i32_column& cells, int n_cells) {
        const char* fn = "cell_moments";
        detail::require(cells.ndim() == 1, fn, "cells must be 1-d");
        const Eigen::Index n = cells.size();
        const std::vector<const double*> cols = checked_columns(columns, n, fn);
        cell_moments_result r;
        {
          py::gil_scoped_release release;
          r = cell_moments(cols, cells.data(), n, n_cells);
        }
        return moments_tuple(r);
      },
      py::arg("columns"), py::arg("cells"), py::arg("n_cells"),
      "(count, mean, variance with divisor n-1, first infinite row per column or -1) per cell (rows) and column; "
      "NaN and inf values skipped, cell -1 ignored.");
  m.def(
      "round_cell_moments",
      [](const std::vector<f64_column>& columns, const i32_column& group, int n_groups, const bool_column& baseline,
         const bool_column& endline) {
        const char* fn = "round_cell_moments";
        detail::require(group.ndim() == 1, fn, "group must be 1-d");
        const Eigen::Index n = group.size();
        const std::vector<const double*> cols = checked_columns(columns, n, fn);
        const bool* b = checked_column<bool>(std::optional<bool_column>(baseline), n, "baseline", fn);
        const bool* e = checked_column<bool>(std::optional<bool_column>(endline), n, "endline", fn);
        cell_moments_result r;
        {
          py::gil_scoped_release release;
          r = round_cell_moments(cols, group.data(), n_groups, b, e, n);
        }
        return moments_tuple(r);
      },
      py::arg("columns"), py::arg("group"), py::arg("n_groups"), py::arg("baseline"), py::arg("endline"),
      "cell_moments of the cells g (baseline rows of group g) and n_groups + g (its endline rows), without a cell column.");
  m.def(
      "sample_size_change",
      [](double p1, double p2, double alpha, double power, double deff, double response_rate) {
        const sample_size_result r = sample_size_change(p1, p2, alpha, power, deff, response_rate);
        return py::make_tuple(r.n, r.n_unrounded, r.describe);
      },
      py::arg("p1"), py::arg("p2"), py::arg("alpha"), py::arg("power"), py::arg("deff"), py::arg("response_rate"),
      "(n per round, unrounded n, formula) to detect a change p1 -> p2.");
}

}  // namespace impactkit::python
