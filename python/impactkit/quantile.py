"""Weighted linear quantile regression: ``ik.quantreg``.

The fit is C++ (``impactkit/core/quantile_regression.hpp``): the Frisch–Newton interior-point method
of Portnoy & Koenker (1997), finished on the exact basic (simplex) solution, so coefficients equal R
quantreg ``rq(method = "br")`` for data in general position. Standard errors:

- ``vcov="ker"`` (default): quantreg ``summary.rq(se = "ker")``, Powell's kernel sandwich
  τ(1 − τ) H⁻¹ J H⁻¹ with a Gaussian kernel and the Hall–Sheather bandwidth; weights as quantreg (rows
  of X and y scaled by w); t with n − p df as quantreg.
- ``cluster=`` or ``design=`` (an :class:`ik.SurveyDesign`): influence values
  ψ_i = H⁻¹ w_i x_i (τ − 1{e_i < 0}), H = Σ w_i f̂_i x_i x_iᵀ (Powell kernel on the residuals), handed to
  the shared variance module (CR1 clusters; Taylor linearisation of the design).
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from ._formula import build_design, warn_if_constant_outcome
from ._predict import fit_rows, linear_predictor
from .errors import ImpactkitWarning, InvalidInputError
from .results import EstimateResult
from .variance import design_rows, design_sample

__all__ = ["quantreg", "QuantRegResult"]


def _check_quantile(q, who: str) -> float:
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)) or not (0 < q < 1):
        raise InvalidInputError(f"{who}: quantile must be a number in (0, 1), got {q!r}")
    return float(q)


class QuantRegResult(EstimateResult):
    """A quantile regression fit (``ik.quantreg``): the shared results object plus residuals,
    fitted values, ``predict(newdata)``, the objective Σ w ρ_τ(e) and the kernel bandwidth."""

    title = "Quantile regression"

    def fit_stats(self) -> list:
        return [("Observations", f"{self.nobs:,}"), ("Quantile", f"{self.quantile:g}"),
                ("Objective", f"{self.objective:.6g}"), ("Kernel bandwidth", f"{self.bandwidth:.4g}")]

    def notes(self) -> list:
        n = [f"Standard errors: {self.vcov_convention}.",
             f"Frisch-Newton interior point ({self.iterations} iterations)"
             + (", finished on the exact basic solution." if self.vertex else "; interior-point solution (no vertex snap).")]
        if self.nobs_missing:
            n.append(f"{self.nobs_missing} row(s) with missing values dropped.")
        return n

    @property
    def fitted_values(self) -> pd.Series:
        return pd.Series(self._y - self._resid, index=self._index)

    @property
    def residuals(self) -> pd.Series:
        return pd.Series(self._resid, index=self._index)

    def predict(self, newdata: Optional[pd.DataFrame] = None) -> pd.Series:
        """x'b for the fitted rows (None) or for ``newdata`` through the model's formula (same factor
        levels and transforms as in the fit)."""
        if newdata is None:
            return self.fitted_values
        rhs = self.formula.split("~", 1)[1]
        return linear_predictor(rhs, self._fit_data, newdata, self._coef, self.formula)


def quantreg(formula: str, data: pd.DataFrame, *, quantile: float = 0.5, weights=None, design=None, vcov: Optional[str] = None,
             cluster=None, na: str = "drop", tolerance: float = 1e-12, max_iter: int = 200) -> QuantRegResult:
    """Weighted linear quantile regression at ``quantile`` τ: argmin_b Σ w_i ρ_τ(y_i − x_iᵀb).

    Parameters
    ----------
    formula : "y ~ x1 + C(region)" (formulaic; intercept unless "- 1"); no absorbed fixed effects.
    data : pandas DataFrame (never modified).
    quantile : τ in (0, 1).
    weights : column name or array of positive weights (quantreg's ``weights``).
    design : :class:`ik.SurveyDesign` over the rows of ``data``: its weights, and a design-based variance
        (Taylor linearisation of the influence values; replicate designs refit per replicate).
    vcov : "ker" (default, quantreg summary.rq(se="ker")), or None with ``cluster`` (CR1 on the
        influence values).
    cluster : column name or labels for a cluster-robust variance.
    na : "drop" (listwise) or "raise".

    Returns
    -------
    QuantRegResult (``coef``, ``se``, ``tidy()``, ``summary()``, ``predict(newdata)``, ``residuals``).
    """
    who = "quantreg"
    q = _check_quantile(quantile, who)
    if vcov not in (None, "ker"):
        raise InvalidInputError(f"{who}: vcov must be 'ker' (quantreg's Powell kernel sandwich); use cluster= or design= "
                                f"for cluster- or design-based variances, got {vcov!r}")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if "|" in formula:
        raise InvalidInputError(f"{who}: absorbed fixed effects are not supported; write them as C(fe) regressors")
    survey = design
    survey_pos = None
    if survey is not None:
        replicated, taylor = design_sample(survey, data, weights, vcov, cluster, who, lambda d, w: quantreg(
            formula, d, quantile=q, weights=w, na=na, tolerance=tolerance, max_iter=max_iter))
        if replicated is not None:
            return replicated
        weights, survey_pos, data = taylor
    elif cluster is not None and vcov == "ker":
        raise InvalidInputError(f"{who}: vcov='ker' is the iid kernel sandwich; leave vcov unset with cluster=")
    d = build_design(formula, data, weights=weights, cluster=cluster, na=na)
    X, y, w = d.X, d.y, d.weights
    p = X.shape[1]
    if X.shape[0] <= p:
        raise InvalidInputError(f"{who}: {X.shape[0]} observations for {p} coefficients; quantile regression needs more "
                                "observations than coefficients")
    try:
        out = _core.quantile_regression(X, y, np.empty(0) if w is None else w, q, float(tolerance), int(max_iter), True)
    except ValueError as exc:
        msg = str(exc)
        import re

        m = re.search(r"column (\d+) of X is (collinear|zero)", msg)
        if m:
            raise InvalidInputError(f"{who}: regressor {d.terms[int(m.group(1))]!r} is {m.group(2)}"
                                    + (" with earlier regressors" if m.group(2) == "collinear" else "") + "; drop it") from None
        raise
    coef_v = np.asarray(out["coef"])
    e = np.asarray(out["residuals"])
    names = list(d.terms)
    coef = pd.Series(coef_v, index=names, name="estimate")
    warn_if_constant_outcome(y, d.depvar, who, stacklevel=3)
    if survey is None and cluster is None:
        k = _core.quantile_kernel_vcov(X, e, np.empty(0) if w is None else w, q)
        V = np.asarray(k["vcov"])
        df = X.shape[0] - p
        conv = {"kind": "ker", "df": float(df), "df_rule": "n-k",
                "description": "Powell kernel sandwich tau(1-tau) H^-1 J H^-1 (quantreg se='ker': Gaussian kernel, "
                               f"Hall-Sheather bandwidth {float(k['bandwidth']):.4g}); t with n-k df ({df})"}
        res = QuantRegResult(coef, pd.DataFrame(V, index=names, columns=names), pd.Series(np.full(p, float(df)), index=names, name="df"),
                             nobs=X.shape[0], vcov_type="ker", vcov_convention=conv["description"], depvar=d.depvar,
                             conventions=conv)
        bandwidth = float(k["bandwidth"])
    else:
        ww = np.ones(X.shape[0]) if w is None else w
        k = _core.powell_hessian(X, e, ww, q)
        Hinv = np.linalg.inv(np.asarray(k["hessian"]))
        psi = (X * (ww * (q - (e < 0)))[:, None]) @ Hinv
        if survey is not None:
            full = np.zeros((survey.n, p))
            full[design_rows(survey_pos, d.positions)] = psi
            res = QuantRegResult.from_influence(coef, full, survey, nobs=X.shape[0], n_params=p, depvar=d.depvar)
        else:
            res = QuantRegResult.from_influence(coef, psi, ("CR1", d.clusters), nobs=X.shape[0], n_params=p, depvar=d.depvar)
        bandwidth = float(k["bandwidth"])
    res.quantile = q
    res.formula = formula
    res.objective = float(out["objective"])
    res.iterations = int(out["iterations"])
    res.vertex = bool(out["vertex"])
    res.bandwidth = bandwidth
    res.nobs_missing = d.n_missing
    res.weights = w
    res._y, res._resid, res._index = y, e, d.index
    res._fit_data = fit_rows(data, d.positions)
    res._call = dict(data=data, weights=weights if survey is None else None, design=survey, quantile=q, na=na)
    return res
