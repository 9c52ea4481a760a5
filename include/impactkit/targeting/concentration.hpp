#pragma once
// Concentration indices and the Kakwani progressivity index, per domain on the full design, with
// design-based (Taylor-linearised) variance.
//
// Rows ranked by a ranking variable r (e.g. welfare) with mid-point fractional ranks R_i = (C_before +
// W_run/2)/N over the run of rows tied with row i (C_before the weight of rows ranked strictly lower,
// W_run the weight of the tie run), N = t(1), T = t(h), μ = T/N, for an outcome h:
//   standard      C  = 2 t(h·R) / T − 1 = 2 cov_w(h, R)/μ        (Kakwani, Wagstaff & van Doorslaer 1997)
//   generalized   GC = μ·C                                       (Wagstaff, Paci & van Doorslaer 1991)
//   erreygers     E  = 4 μ C / (b − a)                           (Erreygers 2009; h bounded in [a, b])
//   wagstaff      W  = (b − a) μ C / ((b − μ)(μ − a))            (Wagstaff 2005; binary h: C/(1 − μ))
// With h = r this is the Gini coefficient (inequality.hpp). Linearisation (the Gini's, Langel & Tillé
// 2013, with h for y in the value terms), with N_k = C_before + W_run/2 and H_k = Σ_{ranked lower} w h +
// (Σ_run w h)/2:
//   u_k(C) = [2 N_k h_k − 2 H_k + T − N h_k − C (T + N h_k)] / (N T),   ψ_k = w_k u_k,
// and the other kinds by the delta method with u_k(μ) = (h_k − μ)/N.
// Kakwani index (Kakwani 1977): K = C(payment ranked by income) − Gini(income); for a tax K > 0 is
// progressive, for a benefit K < 0 is pro-poor.
#include "../core/survey_design.hpp"
#include "poverty.hpp"

namespace impactkit {

enum class concentration_kind { standard, generalized, erreygers, wagstaff };

/// Concentration index of `values` (h) with rows ranked by r.welfare, per domain. `lower`/`upper` are the
/// bounds a < b of h (needed by erreygers and wagstaff; h must lie within them).
welfare_index_result concentration_index(const welfare_rows& r, const double* values, concentration_kind kind, double lower,
                                         double upper, const survey_design& design);

/// Kakwani index of `payment` against income r.welfare (income ≥ 0), per domain.
welfare_index_result kakwani_index(const welfare_rows& r, const double* payment, const survey_design& design);

}  // namespace impactkit
