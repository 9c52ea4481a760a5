#pragma once
// Inequality indices with design-based (Taylor-linearised) variance, per domain on the full design.
//
// Gini coefficient (Eurostat / R laeken::gini, as a fraction; laeken prints 100·G): with rows of a
// domain sorted by welfare y, C_i the cumulative weight up to and including row i, N = Σ w, T = Σ w y,
//   G = Σ_i w_i y_i (C_i + C_{i−1}) / (N T) − 1 = [2 Σ w_i y_i C_i − Σ w_i² y_i] / (N T) − 1.
// Within a run of tied values the sum telescopes to y (C_end² − C_begin²), so G does not depend on the
// order of tied rows. Linearisation (Langel & Tillé 2013, eq. 9; Monti 1991), with mid-point cumulative
// weight and welfare of the row's tie run, N_k = C_begin + W_run/2 and Y_k = Y_begin + y_k W_run/2:
//   u_k = [2 N_k y_k − 2 Y_k + T − N y_k − G (T + N y_k)] / (N T),   ψ_k = w_k u_k.
// Welfare must be ≥ 0 with a positive total in each domain (the index is not defined otherwise).
// R convey's svygini (gini_convention::convey) uses Σ_i (2 C_i − 1) w_i y_i / (N T) − 1 — equal to the
// above with unit weights — and the linearised variable of its contrast of the totals Σ w y C, T and N:
//   u_k = [2 (C_before y_k − Y_before) + T − N y_k − G (T + N y_k) + y_k (2 w_k − 1)] / (N T)
// (C_before, Y_before: weight and welfare total of the rows ranked strictly lower; both are the same for
// every row of a tie run, so neither convention depends on the order of tied rows).
//
// Smooth indices of totals (t(x) = Σ w x over the domain, N = t(1), Y = t(y), μ = Y/N), linearised exactly
// (Binder 1983) as R survey's svycontrast of svytotal:
//   Theil (GE(1))        T = t(y log y)/Y − log μ                   (y ≥ 0; 0·log 0 = 0)
//   mean log deviation   L = log μ − t(log y)/N                     (GE(0); y > 0)
//   Atkinson(ε), ε ≠ 1   A = 1 − [t(y^(1−ε))/N]^(1/(1−ε)) / μ       (ε > 0; y > 0 when ε > 1)
//   Atkinson(1)          A = 1 − exp(t(log y)/N) / μ                (y > 0)
#include "../core/survey_design.hpp"
#include "poverty.hpp"

namespace impactkit {

enum class gini_convention { eurostat, convey };

/// Gini coefficient per domain (a fraction in [0, 1)) with its joint design variance.
welfare_index_result gini(const welfare_rows& r, const survey_design& design, gini_convention convention = gini_convention::eurostat);

enum class inequality_index { theil, mean_log_deviation, atkinson };

/// Theil, mean log deviation or Atkinson(epsilon) per domain with its joint design variance.
welfare_index_result inequality_measure(const welfare_rows& r, inequality_index index, double epsilon, const survey_design& design);

/// The same indices from their unit totals: `table` holds per design unit and domain the totals of w, w·u
/// and w·g(u) (u = y / scale, q = 3, domain-major columns), the part of inequality_measure after its pass
/// over the rows; a streamed (Dask) pass gives the same table.
welfare_index_result inequality_from_totals(const unit_totals_table& table, inequality_index index, double epsilon,
                                            const survey_design& design);

}  // namespace impactkit
