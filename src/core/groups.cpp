// Out-of-line definitions for impactkit/core/groups.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/groups.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit::detail {

[[noreturn]] void throw_too_many_groups() {
  throw_invalid("factorize", "more than 2^31 - 1 distinct labels; group codes are 32-bit");
}

}  // namespace impactkit::detail

namespace impactkit {

group_codes factorize(const label_column& labels) {
  labels.require_rows(labels.size < 0 ? 0 : labels.size, "factorize");
  return labels.visit([](const auto& v) { return factorize(v); });
}

group_codes intersect(const group_codes& a, const group_codes& b) {
  detail::require(a.size() == b.size(), "intersect", "the groupings have " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                                                         " rows; both must code the same observations");
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> pair(a.size());
  for (Eigen::Index i = 0; i < a.size(); ++i)
    pair(i) = static_cast<std::int64_t>(a.code[static_cast<std::size_t>(i)]) * b.n_groups + b.code[static_cast<std::size_t>(i)];
  return factorize(pair);
}

}  // namespace impactkit
