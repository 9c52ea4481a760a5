// The extension module impactkit._core: a thin layer over the C++ library (headers + impactkit_core).
#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "impactkit C++ core (the C++ library bound with pybind11)";
#ifdef IMPACTKIT_VERSION
  m.attr("__version__") = IMPACTKIT_VERSION;
#endif
  impactkit::python::bind_core(m);
  impactkit::python::bind_regression(m);
  impactkit::python::bind_iv(m);
  impactkit::python::bind_glm(m);
  impactkit::python::bind_variance(m);
  impactkit::python::bind_targeting(m);
  impactkit::python::bind_sustainability(m);
  impactkit::python::bind_competing_risks(m);
  impactkit::python::bind_quantile(m);
  impactkit::python::bind_monitoring(m);
  impactkit::python::bind_cost_effectiveness(m);
}
