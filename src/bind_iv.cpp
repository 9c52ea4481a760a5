// Bindings for the iv estimators (filled in by the iv work; registered from module.cpp).
#include "bindings.hpp"

namespace impactkit::python {
void bind_iv(pybind11::module_& m) { (void)m; }
}  // namespace impactkit::python
