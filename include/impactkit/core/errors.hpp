#pragma once
// Error policy (DESIGN.md §3): user input is validated explicitly (Eigen's asserts vanish in release
// builds) and every message names the function, the argument and, where there is one, the remedy.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <Eigen/Core>

namespace impactkit {

/// Bad input from the caller: wrong length, NaN/inf, too few observations or clusters, ...
/// Derives std::invalid_argument; the Python bindings raise it as ValueError.
struct invalid_input : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// An iterative procedure hit its iteration cap before meeting its tolerance.
struct convergence_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {

/// A number as printf's %g (6 significant digits: 1e-10, not std::to_string's 0.000000), for messages.
inline std::string format_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

[[noreturn]] inline void throw_invalid(const char* function, const std::string& message) {
  throw invalid_input(std::string("impactkit::") + function + ": " + message);
}

inline void require(bool condition, const char* function, const std::string& message) {
  if (!condition) throw_invalid(function, message);
}

/// Throws unless every weight w[0..n) is finite and positive, naming the first offending row.
/// (The message is built only on failure: no per-row string work on the hot path.)
inline void require_positive_weights(const double* w, Eigen::Index n, const char* function) {
  for (Eigen::Index i = 0; i < n; ++i)
    if (!(std::isfinite(w[i]) && w[i] > 0))
      throw_invalid(function, "weights must be positive and finite; row " + std::to_string(i) + " has " + std::to_string(w[i]));
}

/// Throws unless every entry of `a` is finite, naming the first offending row (and column).
template <typename Derived>
void require_finite(const Eigen::DenseBase<Derived>& a, const char* function, const std::string& argument) {
  if (a.derived().allFinite()) return;  // vectorised; the scan below only names the offender
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const double v = static_cast<double>(a(i, j));
      if (!std::isfinite(v)) {
        std::string where = "row " + std::to_string(i);
        if (a.cols() > 1) where += ", column " + std::to_string(j);
        throw_invalid(function, argument + " has a non-finite value (" +
                                    (std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf")) + ") at " +
                                    where + "; drop or impute missing values first");
      }
    }
}

}  // namespace detail
}  // namespace impactkit
