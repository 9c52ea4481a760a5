"""
impactkit C++ core (the C++ library bound with pybind11)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
from . import variance
from . import targeting
from . import sustainability
from . import competing_risks
from . import monitoring
from . import cost_effectiveness
__all__: list[str] = ['ConvergenceError', 'GlmResult', 'InvalidInputError', 'IvFirstStage', 'IvResult', 'IvTest', 'OlsResult', 'VcovKind', 'VcovSpec', 'chi2_upper_tail', 'competing_risks', 'cost_effectiveness', 'f_upper_tail', 'get_num_threads', 'glm', 'hall_sheather_bandwidth', 'iv_2sls', 'iv_with_vcov', 'make_vcov_spec', 'monitoring', 'ols', 'ols_absorbed', 'ols_within_vcov', 'powell_hessian', 'quantile_kernel_vcov', 'quantile_regression', 'sandwich_vcov', 'set_num_threads', 'sustainability', 't_quantiles', 'targeting', 'two_sided_p_values', 'variance', 'wald_test']
class InvalidInputError(ValueError):
    pass
class ConvergenceError(ValueError, RuntimeError):
    """
    An iterative procedure hit its iteration cap before meeting its tolerance.
    """
class VcovSpec:
    """
    What variance an estimator computes (built by make_vcov_spec).
    """
    def __init__(self) -> None:
        ...
    @property
    def kind(self) -> str:
        ...
class VcovKind:
    """
    Members:
    
      iid
    
      HC0
    
      HC1
    
      HC2
    
      HC3
    
      CR0
    
      CR1
    
      CR2
    
      CR3
    """
    CR0: typing.ClassVar[VcovKind]
    CR1: typing.ClassVar[VcovKind]
    CR2: typing.ClassVar[VcovKind]
    CR3: typing.ClassVar[VcovKind]
    HC0: typing.ClassVar[VcovKind]
    HC1: typing.ClassVar[VcovKind]
    HC2: typing.ClassVar[VcovKind]
    HC3: typing.ClassVar[VcovKind]
    __members__: typing.ClassVar[dict[str, VcovKind]]
    iid: typing.ClassVar[VcovKind]
    @typing.overload
    def __eq__(self, other: VcovKind) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: VcovKind) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class OlsResult:
    """
    Result of impactkit::ols / wls (kept columns only).
    """
    def __repr__(self) -> str:
        ...
    def describe(self) -> str:
        ...
    def within_design(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        The within-transformed kept columns (nobs x rank, rows as `residuals`); fits with keep_within=True.
        """
    @property
    def adj_r2(self) -> float:
        ...
    @property
    def bread(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def coef(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def conditioned(self) -> bool:
        ...
    @property
    def conventions(self) -> dict:
        ...
    @property
    def demean_iterations(self) -> int:
        ...
    @property
    def df_inference(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def df_resid(self) -> float:
        ...
    @property
    def dropped_columns(self) -> list[int]:
        ...
    @property
    def fe_sizes(self) -> list[int]:
        ...
    @property
    def fixef(self) -> list[typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]]:
        ...
    @property
    def fixef_labels(self) -> list[typing.Annotated[numpy.typing.NDArray[numpy.int32], "[m, 1]"]]:
        ...
    @property
    def has_intercept(self) -> bool:
        ...
    @property
    def has_within(self) -> bool:
        ...
    @property
    def k_fe(self) -> int:
        ...
    @property
    def kept_columns(self) -> list[int]:
        ...
    @property
    def n_clusters(self) -> list[int]:
        ...
    @property
    def n_singletons(self) -> int:
        ...
    @property
    def nobs(self) -> int:
        ...
    @property
    def p_values(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def r2(self) -> float:
        ...
    @property
    def r2_within(self) -> float:
        ...
    @property
    def rank(self) -> int:
        ...
    @property
    def residuals(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def rss(self) -> float:
        ...
    @property
    def se(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def sigma(self) -> float:
        ...
    @property
    def ssc_factor(self) -> float:
        ...
    @property
    def statistic(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def tss(self) -> float:
        ...
    @property
    def used_rows(self) -> numpy.typing.NDArray[numpy.int64]:
        ...
    @property
    def vcov(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def vcov_convention(self) -> str:
        ...
    @property
    def vcov_type(self) -> VcovKind:
        ...
    @property
    def weighted(self) -> bool:
        ...
class IvTest:
    """
    A chi-square test of the IV model (NaN when not defined).
    """
    def __repr__(self) -> str:
        ...
    @property
    def df(self) -> int:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def p_value(self) -> float:
        ...
    @property
    def statistic(self) -> float:
        ...
class IvFirstStage:
    """
    First-stage regression of one endogenous regressor on [X, Z].
    """
    @property
    def f_df_denom(self) -> float:
        ...
    @property
    def f_df_num(self) -> int:
        ...
    @property
    def f_p_value(self) -> float:
        ...
    @property
    def f_stat(self) -> float:
        ...
    @property
    def fit(self) -> OlsResult:
        ...
    @property
    def instrument_coef(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def instrument_se(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def partial_r2(self) -> float:
        ...
class IvResult:
    """
    Result of impactkit::iv_2sls.
    """
    def __repr__(self) -> str:
        ...
    def describe(self) -> str:
        ...
    @property
    def cragg_donald_f(self) -> float:
        ...
    @property
    def diagnostics_convention(self) -> str:
        ...
    @property
    def effective_f(self) -> float:
        ...
    @property
    def first_stage(self) -> list[IvFirstStage]:
        ...
    @property
    def fit(self) -> OlsResult:
        ...
    @property
    def hansen_j(self) -> IvTest:
        ...
    @property
    def kleibergen_paap_f(self) -> float:
        ...
    @property
    def n_endog(self) -> int:
        ...
    @property
    def n_exog(self) -> int:
        ...
    @property
    def n_instruments(self) -> int:
        ...
    @property
    def overid(self) -> IvTest:
        ...
    @property
    def sargan(self) -> IvTest:
        ...
class GlmResult:
    """
    Result of impactkit::glm (kept columns only).
    """
    def __repr__(self) -> str:
        ...
    def describe(self) -> str:
        ...
    @property
    def bread(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def coef(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def conventions(self) -> dict:
        ...
    @property
    def deviance(self) -> float:
        ...
    @property
    def df_inference(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def dropped_columns(self) -> list[int]:
        ...
    @property
    def family(self) -> str:
        ...
    @property
    def fe_sizes(self) -> list[int]:
        ...
    @property
    def fitted(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def fixef(self) -> list[typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]]:
        ...
    @property
    def fixef_labels(self) -> list[typing.Annotated[numpy.typing.NDArray[numpy.int32], "[m, 1]"]]:
        ...
    @property
    def has_offset(self) -> bool:
        ...
    @property
    def information(self) -> str:
        ...
    @property
    def iterations(self) -> int:
        ...
    @property
    def k_fe(self) -> int:
        ...
    @property
    def kept_columns(self) -> list[int]:
        ...
    @property
    def linear_predictor(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def loglik(self) -> float:
        ...
    @property
    def loglik_null(self) -> float:
        ...
    @property
    def n_boundary(self) -> int:
        ...
    @property
    def n_clusters(self) -> list[int]:
        ...
    @property
    def n_fe_dropped(self) -> int:
        ...
    @property
    def n_separated(self) -> int:
        ...
    @property
    def n_singletons(self) -> int:
        ...
    @property
    def nobs(self) -> int:
        ...
    @property
    def null_deviance(self) -> float:
        ...
    @property
    def p_values(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def pseudo_r2(self) -> float:
        ...
    @property
    def rank(self) -> int:
        ...
    @property
    def score_weights(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def se(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def separated_rows(self) -> list[int]:
        ...
    @property
    def separating_columns(self) -> list[int]:
        ...
    @property
    def separation_checked(self) -> bool:
        ...
    @property
    def ssc_factor(self) -> float:
        ...
    @property
    def statistic(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def used_rows(self) -> list[int]:
        ...
    @property
    def vcov(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def vcov_convention(self) -> str:
        ...
    @property
    def vcov_type(self) -> VcovKind:
        ...
    @property
    def weighted(self) -> bool:
        ...
def chi2_upper_tail(x: typing.SupportsFloat | typing.SupportsIndex, df: typing.SupportsFloat | typing.SupportsIndex) -> float:
    ...
def f_upper_tail(f: typing.SupportsFloat | typing.SupportsIndex, df1: typing.SupportsFloat | typing.SupportsIndex, df2: typing.SupportsFloat | typing.SupportsIndex) -> float:
    ...
def get_num_threads() -> int:
    ...
def glm(X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], y: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], family: str, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None, offset: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None, vcov: VcovSpec = ..., stata_ml_ssc: bool = False, fixed_effects: typing.Annotated[numpy.typing.ArrayLike, numpy.int32, "[m, n]"] | None = None, drop_singletons: bool = True, fe_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-10, fe_max_iter: typing.SupportsInt | typing.SupportsIndex = 10000, tol: typing.SupportsFloat | typing.SupportsIndex = 1e-10, max_iter: typing.SupportsInt | typing.SupportsIndex = 100, collin_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-10, information: str = 'observed', check_separation: str = 'auto', separation: str = 'drop') -> GlmResult:
    """
    Logit, probit or Poisson regression of y on X (n x k float64, Fortran order avoids a copy) by IRLS.
    vcov: iid (model-based), HC0, HC1, CR0, CR1; clusters: n x m integer labels.
    fixed_effects: n x K integer labels of absorbed fixed effects (groups with a constant outcome and
    singletons dropped). Separated observations are detected (iterative rectifier) and dropped or raised.
    """
def hall_sheather_bandwidth(tau: typing.SupportsFloat | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex = 0.05) -> float:
    ...
def iv_2sls(X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], D: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], Z: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], y: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], weights: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"] | None = None, vcov: VcovSpec = ..., collin_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-10, probability_weights: bool = False, fixed_effects: typing.Annotated[numpy.typing.ArrayLike, numpy.int32, "[m, n]"] | None = None, drop_singletons: bool = True, fe_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, fe_max_iter: typing.SupportsInt | typing.SupportsIndex = 10000) -> IvResult:
    """
    Two-stage least squares of y on [X, D] with excluded instruments Z (all float64, Fortran order avoids a copy;
    X may have zero columns). clusters: n x m integer labels; fixed_effects: n x K integer labels of absorbed
    fixed effects. Returns the second stage (fit), first stages, Cragg-Donald / Kleibergen-Paap / effective F and
    Sargan / Hansen J tests.
    """
def iv_with_vcov(fit: IvResult, vcov: VcovSpec) -> IvResult:
    """
    The IV fit with another variance, without refitting: first- and second-stage variances, partial F,
    Kleibergen-Paap F, effective F, Hansen J and conventions recomputed from the pieces the fit kept (equal to
    a fresh iv_2sls with this vcov). Cluster labels / survey rows are on the fit's input rows.
    """
def make_vcov_spec(vcov: str = 'HC1', clusters: typing.Annotated[numpy.typing.ArrayLike, numpy.int32, "[m, n]"] | None = None, ssc_adj: bool = True, ssc_cluster_adj: bool = True, cluster_df: str = 'min', fixef_k: str = 'nonnested', exact_redundancy: bool = False, cluster_fixed_effects: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = [], survey: variance.SurveyDesign = None, survey_rows: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = [], maximum_likelihood: bool = False) -> VcovSpec:
    """
    The variance every estimator binding takes: vcov name ('iid', 'HC0'..'HC3', 'CR0'..'CR3', or 'survey' with a
    variance.SurveyDesign and the design row of each estimation row), n x m cluster labels, the small-sample
    switches of ik.SSC, and cluster_fixed_effects (cluster on absorbed fixed-effect dimensions by index).
    """
def ols(X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], y: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], weights: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"] | None = None, vcov: VcovSpec = ..., collin_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-10, probability_weights: bool = False, fixed_effects: typing.Annotated[numpy.typing.ArrayLike, numpy.int32, "[m, n]"] | None = None, drop_singletons: bool = True, fe_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, fe_max_iter: typing.SupportsInt | typing.SupportsIndex = 10000, keep_within: bool = False) -> OlsResult:
    """
    Least squares of y on X (n x k float64, Fortran order avoids a copy) with the variance of `vcov` (make_vcov_spec).
    fixed_effects: n x K integer labels of absorbed fixed effects (singletons dropped unless drop_singletons=False);
    keep_within: keep the within-transformed data (within_design) for a new variance without refitting.
    """
def ols_absorbed(x: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.float64]], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None = None, vcov: VcovSpec = ..., collin_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-10, probability_weights: bool = False, fixed_effects: collections.abc.Sequence[numpy.ndarray] = [], drop_singletons: bool = True, fe_tol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, fe_max_iter: typing.SupportsInt | typing.SupportsIndex = 10000, keep_within: bool = False) -> OlsResult:
    """
    Least squares with absorbed fixed effects on borrowed columns: x a list of 1-d float64 arrays, y (and
    weights) 1-d, fixed_effects a list of 1-d integer label arrays (int32/int64 read without a copy).
    Everything else as ols.
    """
def ols_within_vcov(fit: OlsResult, vcov: VcovSpec) -> dict:
    """
    A new HC0/HC1 or CR0/CR1 variance for a fit with absorbed fixed effects (keep_within=True) without
    refitting, summed in the fit's row order; cluster labels have one row per used row (as `residuals`).
    """
def powell_hessian(X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], e: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], c: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], tau: typing.SupportsFloat | typing.SupportsIndex = 0.5) -> dict:
    """
    H = sum_i c_i phi(e_i/h)/h x_i x_i' (Powell kernel, Hall-Sheather bandwidth as quantreg).
    """
def quantile_kernel_vcov(X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], residuals: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], weights: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], tau: typing.SupportsFloat | typing.SupportsIndex = 0.5) -> dict:
    """
    quantreg summary.rq(se='ker'): tau(1-tau) H^-1 J H^-1 with Powell's Gaussian-kernel H and the Hall-Sheather bandwidth.
    """
def quantile_regression(X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], y: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], weights: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], tau: typing.SupportsFloat | typing.SupportsIndex = 0.5, tolerance: typing.SupportsFloat | typing.SupportsIndex = 1e-12, max_iter: typing.SupportsInt | typing.SupportsIndex = 200, snap_to_vertex: bool = True, preprocess: typing.SupportsInt | typing.SupportsIndex = -1) -> dict:
    """
    Weighted linear quantile regression by the Frisch-Newton interior-point method (Portnoy & Koenker 1997), with Portnoy-Koenker preprocessing for large n (preprocess: 1 on, 0 off, -1 automatic), finished on the basic solution (exact simplex vertex). Returns coef, residuals, objective, duality_gap, iterations, vertex, basis, nobs, preprocessed, reduced_rows.
    """
def sandwich_vcov(bread: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], Z: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], cols: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], u: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"] | None, vcov: VcovSpec, n_params: typing.SupportsInt | typing.SupportsIndex, normal: bool = False) -> dict:
    """
    The sandwich B M B of scores u_i Z[i, cols] under `vcov` (HC0/HC1, CR0/CR1 one- or multiway, survey):
    a new variance for a fitted model without refitting it (absorbed fixed effects: ols_within_vcov).
    """
def set_num_threads(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Number of threads impactkit uses (<= 0: all cores). Results do not depend on it.
    """
def t_quantiles(q: typing.SupportsFloat | typing.SupportsIndex, df: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"]) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
    """
    Quantile q of t(df) for each df (inf: normal).
    """
def two_sided_p_values(stat: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"], df: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"]) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
    """
    Two-sided p-values of t statistics (df = inf: normal).
    """
def wald_test(coef: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"], vcov: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], R: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], r: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"], df_denom: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    ...
__version__: str = '0.1.0'
