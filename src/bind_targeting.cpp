// impactkit._core.targeting: targeting accuracy (did the programme reach the target group). Columns
// arrive as 1-d float64/int32 arrays without a copy when already of that type; the GIL is released
// around the pass over the rows.
#include <optional>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <impactkit/targeting/targeting_accuracy.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace impactkit::python {
namespace {

using f64 = py::array_t<double, py::array::c_style | py::array::forcecast>;
using i32 = py::array_t<int, py::array::c_style | py::array::forcecast>;

const double* column(const std::optional<f64>& a, Eigen::Index n, const char* name) {
  if (!a) return nullptr;
  detail::require(a->ndim() == 1 && a->size() == n, "targeting_accuracy",
                  std::string(name) + " must be 1-d with " + std::to_string(n) + " values, got " + std::to_string(a->size()));
  return a->data();
}
const int* codes(const std::optional<i32>& a, Eigen::Index n, const char* name) {
  if (!a) return nullptr;
  detail::require(a->ndim() == 1 && a->size() == n, "targeting_accuracy",
                  std::string(name) + " must be 1-d with " + std::to_string(n) + " codes, got " + std::to_string(a->size()));
  return a->data();
}

targeting_rows make_rows(const std::string& rule, const std::optional<f64>& target, double poverty_line, double line_quantile,
                         double line_share, bool strict, const f64& beneficiary, const std::optional<f64>& benefit,
                         const std::optional<f64>& welfare, const std::optional<f64>& weights, const std::optional<i32>& domain,
                         int n_domains, const std::optional<i32>& welfare_group, int n_welfare_groups) {
  targeting_rows r;
  r.n = beneficiary.size();
  if (rule == "column") r.rule = target_rule::column;
  else if (rule == "fixed_line") r.rule = target_rule::fixed_line;
  else if (rule == "quantile_line") r.rule = target_rule::quantile_line;
  else detail::throw_invalid("targeting_accuracy", "rule must be 'column', 'fixed_line' or 'quantile_line'");
  r.target = column(target, r.n, "target");
  r.poverty_line = poverty_line;
  r.line_quantile = line_quantile;
  r.line_share = line_share;
  r.strict = strict;
  r.beneficiary = column(beneficiary, r.n, "beneficiary");
  r.benefit = column(benefit, r.n, "benefit");
  r.welfare = column(welfare, r.n, "welfare");
  r.weights = column(weights, r.n, "weights");
  r.domain = codes(domain, r.n, "domain");
  r.n_domains = n_domains;
  r.welfare_group = codes(welfare_group, r.n, "welfare_group");
  r.n_welfare_groups = n_welfare_groups;
  return r;
}

py::dict result_dict(const targeting_result& r) {
  py::list names, words, groups;
  for (const auto& m : r.metrics) {
    names.append(m.name);
    words.append(m.denominator);
    groups.append(m.welfare_group);
  }
  py::dict out;
  out["metrics"] = names;
  out["denominators"] = words;
  out["welfare_groups"] = groups;
  out["estimate"] = r.estimate;
  out["vcov"] = r.vcov;
  out["conventions"] = conventions_dict(r.conventions);
  out["amounts"] = r.amounts;
  out["undefined"] = r.undefined;
  out["unit_totals"] = r.table.totals;
  out["line"] = r.line;
  out["bandwidth"] = r.bandwidth;
  return out;
}

}  // namespace

void bind_targeting(py::module_& parent) {
  py::module_ m = parent.def_submodule("targeting", "Targeting accuracy: coverage, exclusion and inclusion errors, leakage, incidence.");
  m.def(
      "targeting_accuracy",
      [](const std::string& rule, std::optional<f64> target, double poverty_line, double line_quantile, double line_share, bool strict,
         f64 beneficiary, std::optional<f64> benefit, std::optional<f64> welfare, std::optional<f64> weights,
         std::optional<i32> domain, int n_domains, std::optional<i32> welfare_group, int n_welfare_groups, const variance_design& design) {
        const targeting_rows r = make_rows(rule, target, poverty_line, line_quantile, line_share, strict, beneficiary, benefit, welfare,
                                           weights, domain, n_domains, welfare_group, n_welfare_groups);
        targeting_result res;
        {
          py::gil_scoped_release release;
          if (design.kind == variance_kind::survey)
            res = targeting_accuracy(r, *design.survey);
          else if (design.kind == variance_kind::replicate)
            detail::throw_invalid("targeting_accuracy", "a replicate design needs its replicate weights (targeting_accuracy_replicates)");
          else
            detail::throw_invalid("targeting_accuracy", "the variance design must be a survey design (iid data: a one-stratum design with a PSU per row)");
        }
        return result_dict(res);
      },
      py::arg("rule"), py::arg("target"), py::arg("poverty_line"), py::arg("line_quantile"), py::arg("line_share"), py::arg("strict"),
      py::arg("beneficiary"), py::arg("benefit"), py::arg("welfare"), py::arg("weights"),
      py::arg("domain"), py::arg("n_domains"), py::arg("welfare_group"), py::arg("n_welfare_groups"), py::arg("design"),
      "Targeting metrics per domain with their joint survey-design variance.");
  m.def(
      "targeting_accuracy_replicates",
      [](const std::string& rule, std::optional<f64> target, double poverty_line, double line_quantile, double line_share, bool strict,
         f64 beneficiary, std::optional<f64> benefit, std::optional<f64> welfare, std::optional<f64> weights,
         std::optional<i32> domain, int n_domains, std::optional<i32> welfare_group, int n_welfare_groups,
         const Eigen::Ref<const Eigen::MatrixXd>& replicate_weights, const variance_design& design) {
        detail::require(design.kind == variance_kind::replicate, "targeting_accuracy_replicates", "the variance design must be a replicate design");
        const targeting_rows r = make_rows(rule, target, poverty_line, line_quantile, line_share, strict, beneficiary, benefit, welfare,
                                           weights, domain, n_domains, welfare_group, n_welfare_groups);
        targeting_result res;
        {
          py::gil_scoped_release release;
          res = targeting_accuracy(r, replicate_weights, design.replicate);
        }
        return result_dict(res);
      },
      py::arg("rule"), py::arg("target"), py::arg("poverty_line"), py::arg("line_quantile"), py::arg("line_share"), py::arg("strict"),
      py::arg("beneficiary"), py::arg("benefit"), py::arg("welfare"), py::arg("weights"),
      py::arg("domain"), py::arg("n_domains"), py::arg("welfare_group"), py::arg("n_welfare_groups"), py::arg("replicate_weights"),
      py::arg("design"), "Targeting metrics per domain with their replicate-weight variance.");
}

}  // namespace impactkit::python
