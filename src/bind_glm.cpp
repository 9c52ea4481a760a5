// Bindings for the glm estimators (filled in by the glm work; registered from module.cpp).
#include "bindings.hpp"

namespace impactkit::python {
void bind_glm(pybind11::module_& m) { (void)m; }
}  // namespace impactkit::python
