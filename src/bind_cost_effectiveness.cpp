// impactkit._core.cost_effectiveness: ICER frontier, acceptability curve / EVPI and ICER intervals. Arrays
// arrive as float64 without a copy when already so (Eigen::Ref); the GIL is released around the C++ work.
#include <cstdint>
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/sustainability/cost_effectiveness.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {
namespace {

using vector_ref = Eigen::Ref<const Eigen::VectorXd>;
using matrix_ref = Eigen::Ref<const Eigen::MatrixXd>;

const char* status_code(dominance d) { return d == dominance::none ? "ND" : (d == dominance::strong ? "D" : "ED"); }

py::dict as_dict(const icer_interval_result& r) {
  py::dict d;
  d["icer"] = r.icer;
  d["mean_cost_difference"] = r.mean_cost_difference;
  d["mean_effect_difference"] = r.mean_effect_difference;
  d["conf_low"] = r.conf_low;
  d["conf_high"] = r.conf_high;
  d["bounded"] = r.bounded;
  d["replicates"] = r.replicates;
  d["undefined_replicates"] = r.undefined_replicates;
  d["method"] = r.method;
  d["description"] = r.describe();
  return d;
}

}  // namespace

void bind_cost_effectiveness(py::module_& parent) {
  py::module_ m = parent.def_submodule("cost_effectiveness", "Cost-effectiveness: ICER frontier, acceptability curve, EVPI, ICER intervals.");
  m.def(
      "icer_frontier",
      [](vector_ref cost, vector_ref effect) {
        icer_frontier_result r;
        {
          py::gil_scoped_release release;
          r = icer_frontier(cost, effect);
        }
        py::list status;
        for (dominance d : r.status) status.append(status_code(d));
        py::dict d;
        d["status"] = status;
        d["incremental_cost"] = r.incremental_cost;
        d["incremental_effect"] = r.incremental_effect;
        d["icer"] = r.icer;
        d["frontier"] = r.frontier;
        d["description"] = r.describe();
        return d;
      },
      py::arg("cost"), py::arg("effect"), "ICER frontier with strong (D) and extended (ED) dominance; ND on the frontier.");
  m.def(
      "acceptability",
      [](matrix_ref cost, matrix_ref effect, vector_ref lambdas) {
        acceptability_result r;
        {
          py::gil_scoped_release release;
          r = cost_effectiveness_acceptability(cost, effect, lambdas);
        }
        py::dict d;
        d["probability_best"] = r.probability_best;
        d["expected_nmb"] = r.expected_nmb;
        d["optimal"] = r.optimal;
        d["evpi"] = r.evpi;
        return d;
      },
      py::arg("cost"), py::arg("effect"), py::arg("lambdas"),
      "From draws x strategies of cost and effect: CEAC, expected NMB, CE-frontier strategy and EVPI per willingness to pay.");
  m.def(
      "icer_bootstrap",
      [](vector_ref cost_difference, vector_ref effect_difference, Eigen::Index replicates, std::uint64_t seed, double level) {
        icer_interval_result r;
        {
          py::gil_scoped_release release;
          r = icer_bootstrap(cost_difference, effect_difference, replicates, seed, level);
        }
        return as_dict(r);
      },
      py::arg("cost_difference"), py::arg("effect_difference"), py::arg("replicates"), py::arg("seed"), py::arg("level"),
      "ICER with a percentile interval from a seeded paired bootstrap of the rows (same result for any thread count).");
  m.def(
      "icer_fieller",
      [](vector_ref cost_difference, vector_ref effect_difference, double level) {
        icer_interval_result r;
        {
          py::gil_scoped_release release;
          r = icer_fieller(cost_difference, effect_difference, level);
        }
        return as_dict(r);
      },
      py::arg("cost_difference"), py::arg("effect_difference"), py::arg("level"), "ICER with Fieller's interval.");
}

}  // namespace impactkit::python
