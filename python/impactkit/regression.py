"""Linear regression: ``ik.ols``."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from . import _core
from ._formula import build_design
from .errors import ImpactkitWarning, InvalidInputError
from .results import RegressionResult

_VCOV = {"IID": "iid", "CLASSICAL": "iid", "NONROBUST": "iid", "HC0": "HC0", "HC1": "HC1", "ROBUST": "HC1",
         "HETERO": "HC1", "HC2": "HC2", "HC3": "HC3", "CR0": "CR0", "CR1": "CR1", "CLUSTER": "CR1",
         "CR2": "CR2", "CR3": "CR3"}


@dataclass(frozen=True)
class SSC:
    """Small-sample corrections (fixest's ``ssc`` vocabulary).

    adj: (n−1)/(n−k) in CR1. cluster_adj: G/(G−1) in CR1. cluster_df: with multiway clustering,
    "min" uses G = min over dimensions in every term (fixest, pyfixest, reghdfe), "conventional"
    each term's own G (Cameron–Gelbach–Miller, statsmodels).
    fixef_k: how absorbed fixed effects count in k — "nonnested" (all but those nested in a cluster
    variable; fixest, pyfixest and reghdfe), "full" or "none".
    exact_redundancy: count redundant fixed-effect levels exactly from the connected components of
    the first two dimensions (reghdfe) instead of one per extra dimension (fixest, pyfixest); they
    differ only when the two dimensions split into several disconnected groups.
    """
    adj: bool = True
    cluster_adj: bool = True
    cluster_df: str = "min"
    fixef_k: str = "nonnested"
    exact_redundancy: bool = False

    def __post_init__(self):
        if self.cluster_df not in ("min", "conventional"):
            raise InvalidInputError(f"cluster_df must be 'min' or 'conventional', got {self.cluster_df!r}")
        if self.fixef_k not in ("nonnested", "full", "none"):
            raise InvalidInputError(f"fixef_k must be 'nonnested', 'full' or 'none', got {self.fixef_k!r}")

    @classmethod
    def stata(cls) -> "SSC":
        """Stata regress/reghdfe: G/(G-1)(n-1)/(n-k), G_min, nested FE not counted, exact redundancy."""
        return cls(True, True, "min", "nonnested", True)

    @classmethod
    def fixest(cls) -> "SSC":
        """fixest/pyfixest defaults (the impactkit default)."""
        return cls(True, True, "min", "nonnested", False)

    @classmethod
    def none(cls) -> "SSC":
        return cls(False, False, "min", "none", False)


def _resolve_ssc(ssc) -> SSC:
    if ssc is None:
        return SSC()
    if isinstance(ssc, SSC):
        return ssc
    if isinstance(ssc, str):
        presets = {"stata": SSC.stata, "fixest": SSC.fixest, "none": SSC.none}
        if ssc.lower() not in presets:
            raise InvalidInputError(f"unknown ssc preset {ssc!r}; use one of {sorted(presets)} or ik.SSC(...)")
        return presets[ssc.lower()]()
    if isinstance(ssc, dict):
        return SSC(**ssc)
    raise TypeError(f"ssc must be None, a preset name, a dict or ik.SSC, got {type(ssc).__name__}")


def _resolve_vcov(vcov: Optional[str], cluster) -> str:
    if vcov is None:
        return "CR1" if cluster is not None else "HC1"
    if not isinstance(vcov, str):
        raise TypeError(f"vcov must be a string such as 'HC1' or 'CR1', got {type(vcov).__name__}")
    key = vcov.upper()
    if key not in _VCOV:
        raise InvalidInputError(f"unknown vcov {vcov!r}; use iid, HC0, HC1, HC2, HC3, CR0, CR1, CR2 or CR3")
    kind = _VCOV[key]
    if kind.startswith("CR") and cluster is None:
        raise InvalidInputError(f"vcov {vcov!r} is cluster-robust: pass cluster='column' (or a list for multiway)")
    if not kind.startswith("CR") and cluster is not None:
        raise InvalidInputError(f"cluster was given but vcov {vcov!r} is not cluster-robust; use CR0-CR3")
    return kind


def ols(formula: str, data, *, weights=None, weight_type: str = "analytic", vcov: Optional[str] = None,
        cluster: Union[str, list, None] = None, ssc=None, na: str = "drop", collin_tol: float = 1e-10,
        drop_singletons: bool = True, fe_tol: float = 1e-8, fe_max_iter: int = 10000) -> RegressionResult:
    """Least squares with robust, cluster-robust or classical standard errors.

    Parameters
    ----------
    formula : "y ~ x1 + C(region) + x1:x2" (formulaic syntax; intercept unless "- 1"), optionally with
        absorbed fixed effects after a bar: "y ~ x1 + x2 | household + round" ("a^b" for the
        interaction of two columns). Fixed effects are projected out (alternating projections with
        Irons–Tuck acceleration, tolerance ``fe_tol``, at most ``fe_max_iter`` iterations, else
        ``ConvergenceError``); singleton groups are dropped unless ``drop_singletons=False``.
    data : pandas DataFrame (never modified).
    weights : column name or array of positive weights; ``weight_type`` "analytic" (aweights: WLS) or
        "probability" (pweights: same point estimate, robust variance only).
    vcov : "iid", "HC0"-"HC3", "CR0"-"CR3". Default HC1, or CR1 when ``cluster`` is given.
    cluster : column name, or list of names for multiway (Cameron–Gelbach–Miller) clustering.
    ssc : small-sample corrections, :class:`SSC` or "stata"/"fixest"/"none".
    na : "drop" (listwise, count reported in ``nobs_missing``) or "raise".
    collin_tol : a column whose residual norm after projection on earlier columns is below
        ``collin_tol`` times its norm is dropped (reported in ``collinear``, with a warning).
    """
    if weight_type not in ("analytic", "probability"):
        raise InvalidInputError(f"weight_type must be 'analytic' or 'probability', got {weight_type!r}")
    kind = _resolve_vcov(vcov, cluster)
    if weight_type == "probability" and weights is not None and kind == "iid":
        raise InvalidInputError("probability weights need a robust (HC) or cluster-robust (CR) vcov, not iid")
    s = _resolve_ssc(ssc)
    design = build_design(formula, data, weights=weights, cluster=cluster, na=na, as_columns=True)
    if isinstance(design.X, list):  # absorbed fixed effects on plain columns: the caller's columns, no copy
        core = _core.ols_absorbed(design.X, design.y, design.weights, kind, design.clusters, s.adj, s.cluster_adj,
                                  s.cluster_df, s.fixef_k, bool(s.exact_redundancy), float(collin_tol),
                                  weight_type == "probability", design.fixed_effects, bool(drop_singletons),
                                  float(fe_tol), int(fe_max_iter), design.cluster_fixed_effects)
    else:
        core = _core.ols(design.X, design.y, design.weights, kind, design.clusters, s.adj, s.cluster_adj,
                         s.cluster_df, s.fixef_k, bool(s.exact_redundancy), float(collin_tol), weight_type == "probability",
                         design.fixed_effects, bool(drop_singletons), float(fe_tol), int(fe_max_iter))
    call = dict(data=data, weights=weights, weight_type=weight_type, vcov=vcov, cluster=cluster, ssc=ssc,
                na=na, collin_tol=collin_tol, drop_singletons=drop_singletons, fe_tol=fe_tol, fe_max_iter=fe_max_iter)
    result = RegressionResult(core, design, vcov_type=kind, call=call, formula=formula)
    bad = [t for t, v in zip(result.coef.index, np.diag(result.vcov.to_numpy())) if not v >= 0]
    if bad:
        warnings.warn(f"ols: the {kind} variance is not positive semi-definite; standard errors of {bad} are NaN "
                      "(multiway clustering can do this: Cameron, Gelbach & Miller 2011, section 2.3)",
                      ImpactkitWarning, stacklevel=2)
    if result.collinear:
        warnings.warn(f"ols: dropped collinear column(s) {result.collinear}", ImpactkitWarning, stacklevel=2)
    return result
