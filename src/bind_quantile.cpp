// impactkit::quantile_regression and its Powell kernel sandwich (core/quantile_regression.hpp).
// Arrays arrive as Eigen::Ref (no copy for Fortran-ordered float64; an empty weights array means
// unweighted); the GIL is released around the C++ work.
#include <cstdint>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/core/quantile_regression.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {

void bind_quantile(py::module_& m) {
  using RefM = Eigen::Ref<const Eigen::MatrixXd>;
  using RefV = Eigen::Ref<const Eigen::VectorXd>;
  m.def(
      "quantile_regression",
      [](RefM X, RefV y, RefV weights, double tau, double tolerance, int max_iter,
         bool snap_to_vertex, int preprocess) {
        quantile_regression_options o;
        o.tau = tau;
        o.tolerance = tolerance;
        o.max_iter = max_iter;
        o.snap_to_vertex = snap_to_vertex;
        o.preprocess = preprocess;
        quantile_regression_result r;
        {
          py::gil_scoped_release release;
          r = quantile_regression(X, y, weights, o);
        }
        py::dict out;
        out["coef"] = r.coef;
        out["residuals"] = r.residuals;
        out["objective"] = r.objective;
        out["duality_gap"] = r.duality_gap;
        out["iterations"] = r.iterations;
        out["vertex"] = r.vertex;
        out["basis"] = r.basis;
        out["nobs"] = r.nobs;
        out["preprocessed"] = r.preprocessed;
        out["reduced_rows"] = r.reduced_rows;
        return out;
      },
      py::arg("X"), py::arg("y"), py::arg("weights"), py::arg("tau") = 0.5, py::arg("tolerance") = 1e-12,
      py::arg("max_iter") = 200, py::arg("snap_to_vertex") = true, py::arg("preprocess") = -1,
      "Weighted linear quantile regression by the Frisch-Newton interior-point method (Portnoy & Koenker 1997), "
      "with Portnoy-Koenker preprocessing for large n (preprocess: 1 on, 0 off, -1 automatic), finished on the basic "
      "solution (exact simplex vertex). Returns coef, residuals, objective, duality_gap, iterations, vertex, basis, nobs, "
      "preprocessed, reduced_rows.");
  m.def(
      "quantile_kernel_vcov",
      [](RefM X, RefV residuals, RefV weights, double tau) {
        quantile_kernel_vcov_result r;
        {
          py::gil_scoped_release release;
          r = quantile_kernel_vcov(X, residuals, weights, tau);
        }
        py::dict out;
        out["vcov"] = r.vcov;
        out["hessian"] = r.hessian;
        out["bandwidth"] = r.bandwidth;
        return out;
      },
      py::arg("X"), py::arg("residuals"), py::arg("weights"), py::arg("tau") = 0.5,
      "quantreg summary.rq(se='ker'): tau(1-tau) H^-1 J H^-1 with Powell's Gaussian-kernel H and the Hall-Sheather bandwidth.");
  m.def(
      "powell_hessian",
      [](RefM X, RefV e, RefV c, double tau) {
        powell_kernel k;
        {
          py::gil_scoped_release release;
          if (c.size() != 0 && c.size() != X.rows()) throw invalid_input("impactkit::powell_hessian: c must have one entry per row");
          k = powell_hessian(X, e, c.size() ? c.data() : nullptr, tau);
        }
        py::dict out;
        out["hessian"] = k.hessian;
        out["bandwidth"] = k.bandwidth;
        return out;
      },
      py::arg("X"), py::arg("e"), py::arg("c"), py::arg("tau") = 0.5,
      "H = sum_i c_i phi(e_i/h)/h x_i x_i' (Powell kernel, Hall-Sheather bandwidth as quantreg).");
  m.def("hall_sheather_bandwidth", &hall_sheather_bandwidth, py::arg("tau"), py::arg("n"), py::arg("alpha") = 0.05);
}

}  // namespace impactkit::python
