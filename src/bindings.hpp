#pragma once
// Declarations shared by the binding translation units (one per area, DESIGN.md §8).
#include <pybind11/pybind11.h>

namespace impactkit::python {
void bind_core(pybind11::module_& m);        // errors, threads, distributions, Wald tests
void bind_regression(pybind11::module_& m);  // ols / wls, absorbed fixed effects
void bind_iv(pybind11::module_& m);          // instrumental variables (2SLS)
void bind_glm(pybind11::module_& m);         // logit, probit, Poisson
}  // namespace impactkit::python
