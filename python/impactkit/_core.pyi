"""Type stubs for the C++ extension impactkit._core."""
from typing import Optional

import numpy as np
import numpy.typing as npt

__version__: str

class InvalidInputError(ValueError): ...
class ConvergenceError(ValueError, RuntimeError): ...

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def two_sided_p_values(stat: npt.ArrayLike, df: npt.ArrayLike) -> np.ndarray: ...
def t_quantiles(q: float, df: npt.ArrayLike) -> np.ndarray: ...
def f_upper_tail(f: float, df1: float, df2: float) -> float: ...
def chi2_upper_tail(x: float, df: float) -> float: ...
def wald_test(coef: npt.ArrayLike, vcov: npt.ArrayLike, R: npt.ArrayLike, r: npt.ArrayLike, df_denom: float) -> dict: ...

class VcovKind:
    iid: "VcovKind"
    HC0: "VcovKind"
    HC1: "VcovKind"
    HC2: "VcovKind"
    HC3: "VcovKind"
    CR0: "VcovKind"
    CR1: "VcovKind"
    CR2: "VcovKind"
    CR3: "VcovKind"

class OlsResult:
    coef: np.ndarray
    vcov: np.ndarray
    se: np.ndarray
    df_inference: np.ndarray
    kept_columns: list[int]
    dropped_columns: list[int]
    residuals: np.ndarray
    nobs: int
    rank: int
    df_resid: float
    rss: float
    tss: float
    r2: float
    adj_r2: float
    sigma: float
    has_intercept: bool
    weighted: bool
    n_clusters: list[int]
    vcov_type: VcovKind
    ssc_factor: float
    vcov_convention: str
    statistic: np.ndarray
    p_values: np.ndarray
    def describe(self) -> str: ...

def ols(X: npt.ArrayLike, y: npt.ArrayLike, weights: Optional[npt.ArrayLike] = None, vcov: str = "HC1",
        clusters: Optional[npt.ArrayLike] = None, ssc_adj: bool = True, ssc_cluster_adj: bool = True,
        cluster_df: str = "min", fixef_k: str = "nonnested", exact_redundancy: bool = False, collin_tol: float = 1e-10,
        probability_weights: bool = False, fixed_effects: Optional[npt.ArrayLike] = None, drop_singletons: bool = True,
        fe_tol: float = 1e-8, fe_max_iter: int = 10000) -> OlsResult: ...
def ols_absorbed(x: Sequence[npt.ArrayLike], y: npt.ArrayLike, weights: Optional[npt.ArrayLike] = None, vcov: str = "HC1",
                 clusters: Optional[npt.ArrayLike] = None, ssc_adj: bool = True, ssc_cluster_adj: bool = True,
                 cluster_df: str = "min", fixef_k: str = "nonnested", exact_redundancy: bool = False,
                 collin_tol: float = 1e-10, probability_weights: bool = False,
                 fixed_effects: Sequence[npt.ArrayLike] = ..., drop_singletons: bool = True, fe_tol: float = 1e-8,
                 fe_max_iter: int = 10000, cluster_fixed_effects: Sequence[int] = ...) -> OlsResult: ...

class IvTest:
    statistic: float
    p_value: float
    df: float

class IvFirstStage:
    fit: OlsResult
    partial_f: float
    partial_f_p_value: float
    partial_r2: float

class IvResult:
    fit: OlsResult
    first_stage: list[IvFirstStage]
    n_exog: int
    n_endog: int
    n_instruments: int
    cragg_donald_f: float
    kleibergen_paap_f: float
    effective_f: float
    sargan: IvTest
    hansen_j: IvTest
    overid: IvTest
    diagnostics_convention: str
    def describe(self) -> str: ...

def iv_2sls(*args, **kwargs) -> IvResult: ...
