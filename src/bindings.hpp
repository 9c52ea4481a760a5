#pragma once
// Declarations shared by the binding translation units (one per area, DESIGN.md §8).
#include <memory>
#include <optional>
#include <vector>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <impactkit/core/design_accumulator.hpp>
#include <impactkit/core/errors.hpp>
#include <impactkit/core/fixed_effects.hpp>
#include <impactkit/core/vcov.hpp>

namespace impactkit::python {

/// Python's VcovSpec: the variance spec with the fixed-effect options that ik.SSC (fixef_k,
/// exact_redundancy) and make_vcov_spec (cluster_fixed_effects) carry beside it, which C++ keeps in
/// absorb_options. Estimator bindings hand both to their options with apply_to.
struct vcov_request {
  vcov_spec spec;
  fixed_effect_dof fe_dof;
  std::vector<int> cluster_fixed_effects;
  void apply_to(vcov_spec& v, absorb_options& a) const {
    v = spec;
    a.dof = fe_dof;
    a.cluster_fixed_effects = cluster_fixed_effects;
  }
};

/// The variance specification every estimator binding receives from Python: vcov name, optional
/// n×m cluster labels and the small-sample switches of ik.SSC (validated, named errors).
vcov_request make_vcov_spec(const char* function, const std::string& vcov, std::optional<Eigen::MatrixXi> clusters, bool ssc_adj,
                         bool ssc_cluster_adj, const std::string& cluster_df, const std::string& fixef_k, bool exact_redundancy,
                         std::vector<int> fixed_effect_clusters = {}, std::shared_ptr<const survey_design> survey = nullptr,
                         std::vector<Eigen::Index> survey_rows = {});

/// The conventions of a variance as a dict (kind, factor and rule, df and rule, counts, description).
pybind11::dict conventions_dict(const variance_conventions& c);

/// A variance estimate as the Python layer reads it (results.rescore, variance.py): vcov, df, conventions,
/// kind, factor, cluster counts and convention. Every binding returning a vcov_estimate uses it.
pybind11::dict vcov_estimate_dict(const vcov_estimate& v);

/// A design accumulator's state as a picklable tuple of plain values and numpy arrays, and back.
pybind11::tuple accumulator_state_tuple(const design_accumulator::state& s);
design_accumulator::state accumulator_state_from(const pybind11::tuple& t);

/// The design columns of a chunk (int64 stratum and PSU labels, optional FPC) borrowed from numpy.
using design_columns_i64 = pybind11::array_t<std::int64_t, pybind11::array::c_style | pybind11::array::forcecast>;
using design_columns_f64 = pybind11::array_t<double, pybind11::array::c_style | pybind11::array::forcecast>;
design_chunk make_design_chunk(const char* fn, Eigen::Index n, const std::optional<design_columns_i64>& strata, const design_columns_i64& psu,
                               const std::optional<design_columns_f64>& fpc);

/// Contiguous numpy columns as the bindings receive them (converted, never copied when already so).
using f64_column = pybind11::array_t<double, pybind11::array::c_style | pybind11::array::forcecast>;
using i32_column = pybind11::array_t<int, pybind11::array::c_style | pybind11::array::forcecast>;

/// The data of an optional 1-d column after checking it holds n values (nullptr when absent); the
/// error names the function and the argument. Every binding that takes row-aligned columns uses it.
template <class T>
const T* checked_column(const std::optional<pybind11::array_t<T, pybind11::array::c_style | pybind11::array::forcecast>>& a, Eigen::Index n,
                        const char* name, const char* fn) {
  if (!a) return nullptr;
  detail::require(a->ndim() == 1 && a->size() == n, fn,
                  std::string(name) + " must be 1-d with " + std::to_string(n) + " values, got " + std::to_string(a->size()));
  return a->data();
}

void bind_core(pybind11::module_& m);        // errors, threads, distributions, Wald tests
void bind_regression(pybind11::module_& m);  // ols / wls, absorbed fixed effects
void bind_iv(pybind11::module_& m);          // instrumental variables (2SLS)
void bind_glm(pybind11::module_& m);         // logit, probit, Poisson
void bind_variance(pybind11::module_& m);    // submodule variance: influence_vcov, survey designs
void bind_targeting(pybind11::module_& m);   // submodule targeting: targeting accuracy
void bind_sustainability(pybind11::module_& m);  // submodule sustainability: survival curves and tests
void bind_competing_risks(pybind11::module_& m);  // submodule competing_risks: cumulative incidence, Gray's test
void bind_quantile(pybind11::module_& m);    // quantile regression (Frisch-Newton), Powell kernel sandwich
void bind_monitoring(pybind11::module_& m);  // submodule monitoring: trend tests, control charts, LQAS
void bind_cost_effectiveness(pybind11::module_& m);  // submodule cost_effectiveness: ICER frontier, CEAC, EVPI
}  // namespace impactkit::python
