#pragma once
// The conventions behind a variance, as data (DESIGN.md §2): what kind of variance, which small-sample
// factor and the rule that made it, which inference df and its rule, how many clusters / strata /
// PSUs / replicates, how lonely PSUs were handled. describe() renders the plain-words sentence from
// these fields: the one place it is written.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "errors.hpp"

namespace impactkit {

/// R survey's lonely-PSU rules (options(survey.lonely.psu = ...)).
enum class lonely_psu_rule { fail, remove, certainty, average, adjust };

const char* lonely_psu_name(lonely_psu_rule r);

lonely_psu_rule parse_lonely_psu(std::string s);

/// model: model-based (classical σ²(X'X)⁻¹, or the inverse information of a likelihood); the others
/// are design-based variances of influence values or scores.
enum class variance_kind { model, iid, heteroskedastic, cluster, survey, replicate };

/// The small-sample factor applied, as a named rule.
enum class factor_rule {
  none,                  ///< c = 1 (HC0, CR0)
  n_over_n_minus_k,      ///< n/(n−k) (HC1)
  n_over_n_minus_1,      ///< n/(n−1) (Stata's rule for maximum-likelihood robust variances; the iid influence variance)
  g_over_g_minus_1,      ///< G/(G−1)
  cluster_stata,         ///< G/(G−1)·(n−1)/(n−k) (CR1: Stata, fixest)
  n_minus_1_over_n_minus_k,  ///< (n−1)/(n−k) alone (CR1 with ssc cluster_adj off)
  stratum_fpc,           ///< (1 − f_h)·n_h/(n_h − 1) per stratum (survey)
  replicate_scale,       ///< scale·rscale_r per replicate
  leverage_sqrt,         ///< HC2: scores scaled by (1 − h_i)^(−1/2) (MacKinnon–White)
  leverage,              ///< HC3: scores scaled by (1 − h_i)^(−1)
  bell_mccaffrey,        ///< CR2: cluster scores adjusted by B_g^(−1/2) (Bell–McCaffrey, working model I)
  cluster_jackknife,     ///< CR3: cluster scores adjusted by (I − H_gg)^(−1)
  classical              ///< model-based σ²(X'WX)⁻¹ with σ² = RSS/(n−k)
};

/// Where the inference degrees of freedom come from.
enum class df_rule {
  n_minus_k,          ///< residual df
  clusters_minus_1,   ///< G − 1 (G the smallest dimension)
  psu_minus_strata,   ///< #PSU − #strata (R's degf of a survey design)
  design_minus_k,     ///< #PSU − #strata − k + 1 (R svyglm's residual df)
  replicate_rank,     ///< rank of the replicate weights − 1 (R's degf of a replicate design)
  satterthwaite,      ///< per coefficient (CR2)
  normal              ///< infinite: z
};

enum class replicate_method { jk1, jkn, brr, fay, bootstrap, other };

const char* replicate_method_name(replicate_method m);

replicate_method parse_replicate_method(std::string s);

/// The conventions behind a variance, as data.
struct variance_conventions {
  variance_kind kind = variance_kind::heteroskedastic;
  factor_rule factor = factor_rule::none;
  double factor_value = 1.0;          ///< the scalar factor (NaN when it varies by stratum or replicate)
  df_rule df = df_rule::n_minus_k;
  double df_value = std::numeric_limits<double>::infinity();
  Eigen::Index n_obs = 0, n_params = 0;
  std::vector<Eigen::Index> n_clusters;   ///< per cluster dimension
  bool multiway_min = true;               ///< multiway: G_min in every term
  Eigen::Index n_strata = 0, n_psu = 0, n_lonely_strata = 0;
  int n_stages = 0;
  bool fpc = false;
  lonely_psu_rule lonely_psu = lonely_psu_rule::fail;
  replicate_method replicate = replicate_method::jk1;
  Eigen::Index n_replicates = 0;
  double replicate_scale = 1.0;
  bool mse = false;
  bool cr1_without_factor = false;        ///< CR1 asked for with every small-sample switch off
  bool maximum_likelihood = false;        ///< Stata's maximum-likelihood rule (HC1 n/(n−1), CR1 G/(G−1) alone)

  /// The plain-words sentence for summaries (the one place it is written).
  std::string describe() const {
    std::ostringstream s;
    auto count = [](Eigen::Index v) { return std::to_string(v); };
    switch (kind) {
      case variance_kind::model: s << "iid (classical) with sigma^2 = RSS/(n-k)"; break;
      case variance_kind::iid: s << "independent observations: n/(n-1) times the sum of squared centred influence values"; break;
      case variance_kind::heteroskedastic:
        if (factor == factor_rule::leverage_sqrt || factor == factor_rule::leverage)
          s << (factor == factor_rule::leverage_sqrt ? "HC2" : "HC3") << " heteroskedasticity-robust (MacKinnon-White "
            << (factor == factor_rule::leverage_sqrt ? "1/sqrt(1-h)" : "1/(1-h)") << " leverage scaling)";
        else if (factor == factor_rule::n_over_n_minus_1)
          s << "HC1 heteroskedasticity-robust with small-sample factor n/(n-1) (Stata's maximum-likelihood convention)";
        else
          s << (factor == factor_rule::none ? "HC0" : "HC1") << " heteroskedasticity-robust"
            << (factor == factor_rule::none ? " without small-sample factor" : " with small-sample factor n/(n-k)");
        break;
      case variance_kind::cluster: {
        if (factor == factor_rule::bell_mccaffrey) {
          s << "CR2 bias-reduced cluster-robust (Bell-McCaffrey, working model identity), no further small-sample factor";
          break;
        }
        if (factor == factor_rule::cluster_jackknife) {
          s << "CR3 cluster jackknife (I-H_gg)^-1 adjustment, no further small-sample factor";
          break;
        }
        s << (factor == factor_rule::none && !cr1_without_factor ? "CR0" : "CR1") << (n_clusters.size() > 1 ? " multiway (Cameron-Gelbach-Miller) cluster-robust" : " cluster-robust");
        if (factor == factor_rule::cluster_stata) s << " with small-sample factor G/(G-1)*(n-1)/(n-k)";
        else if (factor == factor_rule::g_over_g_minus_1) s << " with small-sample factor G/(G-1)";
        else if (factor == factor_rule::n_minus_1_over_n_minus_k) s << " with small-sample factor (n-1)/(n-k)";
        else s << " without small-sample factor";
        if (n_clusters.size() > 1 && factor != factor_rule::none) s << (multiway_min ? " using G = min over dimensions" : " using each term's own G");
        if (maximum_likelihood) s << " (Stata's maximum-likelihood convention: no (n-1)/(n-k))";
        if (df != df_rule::clusters_minus_1) {
          Eigen::Index g = 0;
          for (Eigen::Index v : n_clusters) g = g == 0 ? v : std::min(g, v);
          s << " (G = " << g << ")";
        }
        break;
      }
      case variance_kind::survey:
        s << "Taylor-linearised complex-survey variance (" << count(n_strata) << (n_strata == 1 ? " stratum, " : " strata, ") << count(n_psu)
          << " PSUs; " << (n_stages > 1 ? std::to_string(n_stages) + "-stage with a finite-population correction at every stage"
                           : fpc ? "first stage with finite-population correction" : "first stage, with replacement")
          << "; factor (1-f_h)*n_h/(n_h-1) per stratum";
        if (n_lonely_strata) s << "; " << count(n_lonely_strata) << " stratum/strata with one PSU handled by rule '" << lonely_psu_name(lonely_psu) << "'";
        s << ")";
        break;
      case variance_kind::replicate:
        s << replicate_method_name(replicate) << " replicate-weight variance (" << count(n_replicates) << " replicates, scale " << std::setprecision(6)
          << replicate_scale << ", centred on " << (mse ? "the full-sample estimate" : "the replicate mean") << ")";
        break;
    }
    s << "; ";
    Eigen::Index g_min = 0;
    for (Eigen::Index g : n_clusters) g_min = g_min == 0 ? g : std::min(g_min, g);
    switch (df) {
      case df_rule::n_minus_k: s << "t with n-k df"; break;
      case df_rule::clusters_minus_1: s << "t with G-1 df (G = " << g_min << ")"; break;
      case df_rule::psu_minus_strata: s << "t with #PSU-#strata df"; break;
      case df_rule::design_minus_k: s << "t with #PSU-#strata-k+1 df"; break;
      case df_rule::replicate_rank: s << "t with rank(replicate weights)-1 df"; break;
      case df_rule::satterthwaite: s << "t with Satterthwaite df per coefficient (G = " << g_min << ")"; break;
      case df_rule::normal: s << "z (normal) reference"; break;
    }
    const bool show = df == df_rule::psu_minus_strata || df == df_rule::design_minus_k || df == df_rule::replicate_rank;
    if (show && std::isfinite(df_value)) s << " (" << std::setprecision(10) << df_value << ")";
    return s.str();
  }
};

}  // namespace impactkit
