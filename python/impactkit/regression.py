"""Linear regression: ``ik.ols``."""
from __future__ import annotations

import warnings
from typing import Optional, Union

import numpy as np

from . import _core
from ._formula import build_design, check_fit_options, warn_if_constant_outcome
from .errors import ImpactkitWarning, InvalidInputError
from .results import RegressionResult
from .variance import SSC, _resolve_ssc, _resolve_vcov, design_rows, design_sample, split_vcov, vcov_spec, warn_if_not_psd  # noqa: F401  (SSC re-exported)

def ols(formula: str, data, *, weights=None, weight_type: str = "analytic", vcov: Optional[str] = None,
        cluster: Union[str, list, None] = None, ssc=None, na: str = "drop", collin_tol: float = 1e-10,
        drop_singletons: bool = True, fe_tol: float = 1e-8, fe_max_iter: int = 10000, design=None) -> RegressionResult:
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
    vcov : "iid", "HC0"-"HC3", "CR0"-"CR3" (pyfixest names "hetero", "CRV1", "CRV3" and
        ``{"CRV1": "column"}`` too). Default HC1, or CR1 when ``cluster`` is given.
    design : an :class:`ik.SurveyDesign` over the rows of ``data``: its weights are the sampling
        weights and the variance is design-based (Taylor linearisation), equal to R ``svyglm``, with
        t on #PSU − #strata − k + 1 df. Rows dropped for missing values contribute zero scores; the
        design's PSU counts are kept (domain estimation, as R). With absorbed fixed effects the scores
        and bread are those of the within-transformed (weighted-demeaned) model, so coefficients and SEs
        equal ``svyglm`` with the fixed effects as factor dummies (Frisch–Waugh–Lovell). df rule: k
        counts the absorbed coefficients like ``svyglm`` counts the dummies, except that a fixed effect
        nested in the primary sampling units counts one level (``ssc.fixef_k="nonnested"``, the
        default: its scores sum to zero within every PSU); ``ssc=ik.SSC(fixef_k="full")`` gives
        ``svyglm``'s df exactly. Singleton groups are dropped (their rows' scores are zero) unless
        ``drop_singletons=False``; only then does k equal svyglm's rank with singleton levels.
    cluster : column name, or list of names for multiway (Cameron–Gelbach–Miller) clustering.
    ssc : small-sample corrections, :class:`SSC` or "stata"/"fixest"/"none".
    na : "drop" (listwise, count reported in ``nobs_missing``) or "raise".
    collin_tol : a column whose residual norm after projection on earlier columns is below
        ``collin_tol`` times its norm is dropped (reported in ``collinear``, with a warning).
    drop_singletons, fe_tol, fe_max_iter : with absorbed fixed effects: drop singleton groups (default
        True); projection tolerance in (0, 1); iteration cap, an integer in [1, 2**31 - 1].

    Weights and cluster given as a pandas Series are aligned to ``data`` by index label; arrays are
    taken by position. A constant outcome warns (ImpactkitWarning).

    Returns
    -------
    RegressionResult
        ``coef``/``params``, ``se``, ``vcov``, ``pvalues``, ``conf_int(level)``, ``tidy()``, ``summary()``,
        ``wald_test(...)``, ``f_test`` (all slopes = 0), ``residuals``, ``fitted_values``,
        ``predict(newdata)``, ``fixef()``, ``nobs``, ``nobs_missing``, ``df_resid``, ``r2``, ``with_vcov(...)``.

    Raises
    ------
    ValueError (InvalidInputError)
        Unknown columns, malformed formulas, bad option values, too few observations; the message names
        the argument and the remedy. ``ConvergenceError`` (a ValueError) when the fixed-effect projection
        does not converge.

    Examples
    --------
    >>> import impactkit as ik
    >>> df = ik.datasets.load("thornton_hiv")
    >>> fit = ik.ols("got ~ any + age + distvct", df, cluster="villnum")     # CR1 by village
    >>> fit.tidy()
    >>> ik.ols("got ~ any + age | villnum", df, vcov="HC1").summary()        # village fixed effects
    >>> fit.predict(df.head())
    """
    if weight_type not in ("analytic", "probability"):
        raise InvalidInputError(f"weight_type must be 'analytic' or 'probability', got {weight_type!r}")
    check_fit_options(collin_tol=collin_tol, fe_tol=fe_tol, fe_max_iter=fe_max_iter)
    vcov, cluster = split_vcov(vcov, cluster)
    survey = design
    if survey is not None:
        replicated, taylor = design_sample(survey, data, weights, vcov, cluster, "ols", lambda d, w: ols(
            formula, d, weights=w, weight_type="probability", vcov="HC0", na=na, collin_tol=collin_tol))
        if replicated is not None:
            return replicated
        (weights, survey_pos, data), weight_type, kind = taylor, "probability", "survey"
    else:
        kind = _resolve_vcov(vcov, cluster)
    if weight_type == "probability" and weights is not None and kind == "iid":
        raise InvalidInputError("probability weights need a robust (HC) or cluster-robust (CR) vcov, not iid")
    s = _resolve_ssc(ssc)
    design = build_design(formula, data, weights=weights, cluster=cluster, na=na, as_columns=True)
    if survey is not None:
        spec = vcov_spec(kind, ssc=s, survey=survey, survey_rows=design_rows(survey_pos, design.positions))
    else:
        spec = vcov_spec(kind, design.clusters, s, cluster_fixed_effects=design.cluster_fixed_effects)
    if isinstance(design.X, list):  # absorbed fixed effects on plain columns: the caller's columns, no copy
        core = _core.ols_absorbed(design.X, design.y, design.weights, spec, float(collin_tol),
                                  weight_type == "probability", design.fixed_effects, bool(drop_singletons),
                                  float(fe_tol), int(fe_max_iter), True)
    else:
        core = _core.ols(design.X, design.y, design.weights, spec, float(collin_tol), weight_type == "probability",
                         design.fixed_effects, bool(drop_singletons), float(fe_tol), int(fe_max_iter), True)
    call = dict(data=data, weights=weights if survey is None else None, weight_type=weight_type if survey is None else "analytic",
                vcov=vcov, cluster=cluster, ssc=ssc, na=na, collin_tol=collin_tol, drop_singletons=drop_singletons,
                fe_tol=fe_tol, fe_max_iter=fe_max_iter, design=survey)
    result = RegressionResult(core, design, vcov_type=kind, call=call, formula=formula)
    warn_if_not_psd("ols", kind, result, stacklevel=2)
    if result.collinear:
        warnings.warn(f"ols: dropped collinear column(s) {result.collinear}", ImpactkitWarning, stacklevel=2)
    warn_if_constant_outcome(design.y, design.depvar, "ols", stacklevel=2)
    return result
