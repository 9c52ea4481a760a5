#pragma once
// Declarations shared by the binding translation units (one per area, DESIGN.md §8).
#include <memory>
#include <optional>
#include <vector>
#include <string>

#include <pybind11/pybind11.h>

#include <impactkit/core/vcov.hpp>

namespace impactkit::python {

/// The variance specification every estimator binding receives from Python: vcov name, optional
/// n×m cluster labels and the small-sample switches of ik.SSC (validated, named errors).
vcov_spec make_vcov_spec(const char* function, const std::string& vcov, std::optional<Eigen::MatrixXi> clusters, bool ssc_adj,
                         bool ssc_cluster_adj, const std::string& cluster_df, const std::string& fixef_k, bool exact_redundancy,
                         std::vector<int> fixed_effect_clusters = {}, std::shared_ptr<const survey_design> survey = nullptr,
                         std::vector<Eigen::Index> survey_rows = {});

/// The conventions of a variance as a dict (kind, factor and rule, df and rule, counts, description).
pybind11::dict conventions_dict(const variance_conventions& c);

void bind_core(pybind11::module_& m);        // errors, threads, distributions, Wald tests
void bind_regression(pybind11::module_& m);  // ols / wls, absorbed fixed effects
void bind_iv(pybind11::module_& m);          // instrumental variables (2SLS)
void bind_glm(pybind11::module_& m);         // logit, probit, Poisson
void bind_variance(pybind11::module_& m);    // submodule variance: influence_vcov, survey designs
void bind_targeting(pybind11::module_& m);   // submodule targeting: targeting accuracy
void bind_monitoring(pybind11::module_& m);  // submodule monitoring: trend tests, control charts, LQAS
}  // namespace impactkit::python
