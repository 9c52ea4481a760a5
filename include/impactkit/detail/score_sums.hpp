#pragma once
// Score sums under every sandwich meat and design variance: Σ_i u_i² z_i z_iᵀ (heteroskedastic) and
// the per-group totals S_g = Σ_{i∈g} u_i z_i (clusters, survey sampling units). Fixed row chunks and
// a fixed column split, so results are bit-identical for any thread count (DESIGN.md §3).
#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "cross_product.hpp"
#include "../core/groups.hpp"
#include "row_blocks.hpp"
#include "threads.hpp"

namespace impactkit::detail {

/// Σ_i u_i² z_i z_iᵀ over the columns `cols` of Z (u null: u ≡ 1). One pass over Z, fixed chunks;
/// the kernel weights each row by d_i = u_i² (no scaled copy of the block).
Eigen::MatrixXd weighted_cross_product(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols,
                                       const double* u);

/// G×p matrix of within-group score sums S_g = Σ_{i∈g} u_i z_i (u null: u ≡ 1).
/// Every column is summed in row order, so the result is the same for any thread count and any
/// split of the columns; the columns are split into one contiguous group per thread and each
/// thread sweeps the rows once for its whole group (u and the codes are read once per thread, not
/// once per column).
Eigen::MatrixXd group_score_sums(const Eigen::Ref<const Eigen::MatrixXd>& Z, const std::vector<Eigen::Index>& cols,
                                 const double* u, const group_codes& g);

}  // namespace impactkit::detail
