#pragma once
// Rank indices (Gini, concentration indices, Kakwani, Sen) from their unit totals: the part of each index
// after the pass over rows sorted by the ranking key, shared by the in-memory path and a streamed (Dask)
// pass over globally sorted partitions, which give the same table.
//
// Rows of domain d ranked by a key k, J value columns h_j, centred e_j = h_j − c_dj (c_dj the domain mean of
// h_j, so E = Σ w e ≈ 0 keeps full accuracy when h has a large common offset), mid-point cumulative weight
// midN_i = C(<k_i) + W(k_i)/2 and midE_ij = E_j(<k_i) + E_j(k_i)/2 over the tie run of row i. With N = Σ w,
// S_j = Σ w midN e_j, E_j = Σ w e_j and T_j = c_dj N + E_j, the concentration index (concentration.hpp) is
//   C_j = (2 S_j − N E_j) / (N T_j),
// and the influence totals of unit u, with a_u = Σ_u w (midN e − midE), N_u = Σ_u w, E_u = Σ_u w e:
//   Σ_{i∈u} w_i u_i = [2 a_u + E N_u − N E_u − C (T N_u + N (c N_u + E_u))] / (N T).
// So the unit totals of w and, per value column, of w·(midN e − midE), w·midN·e and w·e suffice. The in-memory
// indices (concentration_index, gini, kakwani_index, sen_index) compute the same per-row variables and call the
// same formula on their domain totals; they sum the influence per unit from the rows.
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "../core/survey_design.hpp"
#include "concentration.hpp"
#include "poverty.hpp"
#include "welfare_line.hpp"

namespace impactkit {

/// Unit totals of the rank variables: per design unit and domain q = 1 + 3J columns (domain-major, d·q + k):
/// 0: w, and per value j at 1 + 3j: w·(midN e_j − midE_j), w·midN·e_j, w·e_j; `centre` (D × J) the c_dj.
struct rank_totals {
  unit_totals_table table;
  Eigen::MatrixXd centre;
};

constexpr Eigen::Index rank_total_columns(Eigen::Index J) { return 1 + 3 * J; }

/// Concentration index of the one value column (kind and bounds as concentration_index) per domain.
welfare_index_result concentration_from_totals(const rank_totals& t, concentration_kind kind, double lower, double upper,
                                               const survey_design& design);

/// Kakwani index from the rank totals of (payment, income) ranked by income.
welfare_index_result kakwani_from_totals(const rank_totals& t, const survey_design& design);

/// What the Sen index needs beyond its rank totals: the line and, for an estimated line (z = s·Q_p), its
/// quantile, bandwidth and kernel sums.
struct sen_line_terms {
  welfare_line line;  ///< the rule (share s and quantile p of an estimated line; strict)
  double z = std::numeric_limits<double>::quiet_NaN();  ///< the line's value
  double q = std::numeric_limits<double>::quiet_NaN();  ///< estimated line: Q_p
  double h = std::numeric_limits<double>::quiet_NaN();  ///< estimated line: the bandwidth
  Eigen::VectorXd kernel_at_line;                       ///< estimated line: per domain Σ w φ_h(z − y)
  double density_at_quantile = std::numeric_limits<double>::quiet_NaN();  ///< estimated line: Σ w φ_h(Q_p − y), analysis rows
};

/// Sen index (poverty.hpp) from the rank totals of (y·1{poor}, 1{poor}) ranked by welfare, with 1{y ≤ Q_p}
/// as a third value column for an estimated line. The poor are the lowest rows, so with C the concentration
/// index of y·1{poor} over the domain, P = t(1{poor}) and Y_p = t(y·1{poor}): G_p = (C + 1)·N/P − 1 and
///   S = P/N − 2 Y_p/(N z) + (C + 1)·Y_p/(P z),
/// linearised in (P, N, Y_p, C); an estimated line adds ∂S/∂z·IF(z), ∂S/∂z = f̂(z)(1 − (C + 1) N Y_p/(z P²)) +
/// (1 − G_p) Y_p/(N z²) (derivation in poverty.cpp).
welfare_index_result sen_from_totals(const rank_totals& t, const sen_line_terms& line, const survey_design& design);

}  // namespace impactkit
