// impactkit._core.sustainability: survival of services and of effects (Kaplan–Meier, log-rank). Columns
// arrive as 1-d float64/int32 arrays without a copy when already of that type; the GIL is released around
// the C++ work.
#include <optional>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/sustainability/concordance.hpp>
#include <impactkit/sustainability/cox.hpp>
#include <impactkit/sustainability/survival.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {
namespace {

using f64 = f64_column;
using i32 = i32_column;

const double* column(const std::optional<f64>& a, Eigen::Index n, const char* name, const char* fn) { return checked_column(a, n, name, fn); }

survival_rows rows_of(const f64& time, const f64& event, const std::optional<f64>& weights, const std::optional<f64>& entry,
                      const std::optional<i32>& group, int n_groups, const char* fn) {
  survival_rows r;
  r.n = time.size();
  r.time = column(time, r.n, "time", fn);
  r.event = column(event, r.n, "event", fn);
  r.weights = column(weights, r.n, "weights", fn);
  r.entry = column(entry, r.n, "entry", fn);
  r.group = checked_column(group, r.n, "group codes", fn);
  r.n_groups = n_groups;
  return r;
}

cox_rows cox_rows_of(const f64& time, const f64& event, const std::optional<f64>& entry, const std::optional<f64>& weights,
                     const std::optional<i32>& strata, int n_strata, const char* fn) {
  cox_rows r;
  r.n = time.size();
  r.time = column(time, r.n, "time", fn);
  r.event = column(event, r.n, "event", fn);
  r.entry = column(entry, r.n, "entry", fn);
  r.weights = column(weights, r.n, "weights", fn);
  r.strata = checked_column(strata, r.n, "strata codes", fn);
  r.n_strata = n_strata;
  return r;
}

km_conf_type conf_type_of(const std::string& s) {
  if (s == "plain") return km_conf_type::plain;
  if (s == "log") return km_conf_type::log;
  detail::require(s == "log-log", "kaplan_meier", "conf_type must be 'plain', 'log' or 'log-log'");
  return km_conf_type::log_log;
}

}  // namespace

void bind_sustainability(py::module_& parent) {
  py::module_ m = parent.def_submodule("sustainability", "Survival of services and of effects: Kaplan-Meier curves, log-rank tests, Cox models, concordance.");
  m.def(
      "kaplan_meier",
      [](f64 time, f64 event, std::optional<f64> weights, std::optional<f64> entry, std::optional<i32> group, int n_groups, double level,
         const std::string& conf_type) {
        const survival_rows r = rows_of(time, event, weights, entry, group, n_groups, "kaplan_meier");
        const km_conf_type type = conf_type_of(conf_type);
        std::vector<km_curve> curves;
        std::vector<std::vector<double>> lower, upper;
        {
          py::gil_scoped_release release;
          curves = kaplan_meier(r);
          for (const auto& c : curves) {
            lower.emplace_back();
            upper.emplace_back();
            km_confidence(c, level, type, lower.back(), upper.back());
          }
        }
        py::list out;
        for (std::size_t g = 0; g < curves.size(); ++g) {
          const km_curve& c = curves[g];
          py::dict d;
          d["time"] = c.time;
          d["at_risk"] = c.at_risk;
          d["events"] = c.events;
          d["censored"] = c.censored;
          d["survival"] = c.survival;
          d["log_std_error"] = c.log_std_error;
          d["conf_low"] = lower[g];
          d["conf_high"] = upper[g];
          out.append(d);
        }
        return out;
      },
      py::arg("time"), py::arg("event"), py::arg("weights"), py::arg("entry"), py::arg("group"), py::arg("n_groups"), py::arg("level"),
      py::arg("conf_type"), "Kaplan-Meier curve per group with Greenwood variance and confidence limits.");
  m.def(
      "km_evaluate",
      [](std::vector<double> time, std::vector<double> at_risk, std::vector<double> events, std::vector<double> survival,
         std::vector<double> log_std_error, double level, const std::string& conf_type, std::vector<double> quantiles,
         std::optional<double> tau, std::vector<double> at) {
        km_curve c;
        const std::size_t m = time.size();
        detail::require(at_risk.size() == m && events.size() == m && survival.size() == m && log_std_error.size() == m, "kaplan_meier",
                        "the stored curve's columns differ in length");
        c.time = std::move(time);
        c.at_risk = std::move(at_risk);
        c.events = std::move(events);
        c.censored.assign(m, 0.0);
        c.survival = std::move(survival);
        c.log_std_error = std::move(log_std_error);
        const km_conf_type type = conf_type_of(conf_type);
        Eigen::MatrixXd q(static_cast<Eigen::Index>(quantiles.size()), 3);
        for (std::size_t k = 0; k < quantiles.size(); ++k) q.row(static_cast<Eigen::Index>(k)) = km_quantile(c, quantiles[k], level, type).transpose();
        py::dict d;
        d["quantiles"] = q;
        if (tau) d["rmst"] = km_restricted_mean(c, *tau);
        if (!at.empty()) {
          std::vector<double> S, sigma;
          km_at(c, at, S, sigma);
          d["survival"] = S;
          d["log_std_error"] = sigma;
        }
        return d;
      },
      py::arg("time"), py::arg("at_risk"), py::arg("events"), py::arg("survival"), py::arg("log_std_error"), py::arg("level"),
      py::arg("conf_type"), py::arg("quantiles"), py::arg("tau") = py::none(), py::arg("at") = std::vector<double>{},
      "Quantiles with intervals, the restricted mean to tau and S(t) at given times, read off a stored Kaplan-Meier curve.");
  m.def(
      "logrank",
      [](f64 time, f64 event, std::optional<f64> entry, i32 group, int n_groups, std::optional<i32> strata, int n_strata, double rho) {
        const survival_rows r = rows_of(time, event, std::nullopt, entry, group, n_groups, "logrank");
        const int* s = checked_column(strata, r.n, "strata codes", "logrank");
        logrank_result res;
        {
          py::gil_scoped_release release;
          res = logrank_test(r, s, n_strata, rho);
        }
        py::dict d;
        d["statistic"] = res.statistic;
        d["df"] = res.df;
        d["observed"] = res.observed;
        d["expected"] = res.expected;
        d["variance"] = res.variance;
        return d;
      },
      py::arg("time"), py::arg("event"), py::arg("entry"), py::arg("group"), py::arg("n_groups"), py::arg("strata"), py::arg("n_strata"),
      py::arg("rho"), "Log-rank / Fleming-Harrington G^rho test across groups, stratified.");
  m.def(
      "coxph",
      [](f64 time, f64 event, std::optional<f64> entry, std::optional<f64> weights, std::optional<i32> strata, int n_strata,
         const Eigen::Ref<const Eigen::MatrixXd>& X, const std::string& ties, int max_iter) {
        detail::require(ties == "efron" || ties == "breslow", "coxph", "ties must be 'efron' or 'breslow'");
        const cox_rows r = cox_rows_of(time, event, entry, weights, strata, n_strata, "coxph");
        cox_fit fit;
        {
          py::gil_scoped_release release;
          fit = cox_regression(r, X, ties == "efron" ? cox_ties::efron : cox_ties::breslow, max_iter);
        }
        py::dict d;
        d["coef"] = fit.coef;
        d["information"] = fit.information;
        d["score_residuals"] = fit.score_residuals;
        d["loglik_null"] = fit.loglik_null;
        d["loglik"] = fit.loglik;
        d["score_test"] = fit.score_test;
        d["iterations"] = fit.iterations;
        d["n_events"] = fit.n_events;
        return d;
      },
      py::arg("time"), py::arg("event"), py::arg("entry"), py::arg("weights"), py::arg("strata"), py::arg("n_strata"), py::arg("X"),
      py::arg("ties"), py::arg("max_iter") = 30, "Cox proportional-hazards fit: coefficients, information, score residuals, log-likelihoods.");
  m.def(
      "cox_ph_test",
      [](f64 time, f64 event, std::optional<f64> entry, std::optional<f64> weights, std::optional<i32> strata, int n_strata,
         const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& beta, const std::string& ties, f64 g) {
        detail::require(ties == "efron" || ties == "breslow", "check_ph", "ties must be 'efron' or 'breslow'");
        const cox_rows r = cox_rows_of(time, event, entry, weights, strata, n_strata, "check_ph");
        const double* gt = column(g, r.n, "transformed time", "check_ph");
        cox_ph_test res;
        {
          py::gil_scoped_release release;
          res = cox_schoenfeld_test(r, X, beta, ties == "efron" ? cox_ties::efron : cox_ties::breslow, gt);
        }
        py::dict d;
        d["information"] = res.information;
        d["time_score"] = res.time_score;
        d["schoenfeld"] = res.schoenfeld;
        d["event_rows"] = res.event_rows;
        return d;
      },
      py::arg("time"), py::arg("event"), py::arg("entry"), py::arg("weights"), py::arg("strata"), py::arg("n_strata"), py::arg("X"),
      py::arg("beta"), py::arg("ties"), py::arg("g"),
      "Grambsch-Therneau sums at beta: the 2p x 2p information of (x, x g(t)), the time-weighted score and the Schoenfeld residuals.");
  m.def(
      "concordance",
      [](f64 time, f64 event, std::optional<f64> entry, std::optional<f64> weights, std::optional<i32> strata, int n_strata, f64 score) {
        const cox_rows r = cox_rows_of(time, event, entry, weights, strata, n_strata, "concordance");
        const double* s = column(score, r.n, "score", "concordance");
        concordance_result res;
        {
          py::gil_scoped_release release;
          res = concordance(r, s);
        }
        py::dict d;
        d["concordant"] = res.counts.concordant;
        d["discordant"] = res.counts.discordant;
        d["tied_x"] = res.counts.tied_x;
        d["tied_y"] = res.counts.tied_y;
        d["tied_xy"] = res.counts.tied_xy;
        d["concordance"] = res.concordance;
        d["cox_variance"] = res.cox_variance;
        d["influence"] = res.influence;
        return d;
      },
      py::arg("time"), py::arg("event"), py::arg("entry"), py::arg("weights"), py::arg("strata"), py::arg("n_strata"), py::arg("score"),
      "Harrell's concordance of a risk score (higher = earlier event) with R survival's pair counts, its per-row influence and R's cvar.");
}

}  // namespace impactkit::python
