"""Poverty and inequality indices with design-based standard errors (``ik.fgt``, ``ik.watts``,
``ik.gini``), per group on the full design.

The C++ side (``impactkit/targeting/poverty.hpp``, ``inequality.hpp``) gives the formulas and their
linearisation. Conventions: FGT and Watts count welfare strictly below the line unless the line says
otherwise (``ik.poverty_line(z, strict=False)``); an estimated line (``ik.relative_line``,
``ik.bottom``) is estimated once on all analysis rows (a national line, as Eurostat's) and enters every
standard error by linearisation; the Gini coefficient is Eurostat's / laeken's, returned as a fraction
(laeken prints 100·G), with tied welfare values sharing mid-point ranks.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from . import _core, _dask
from .errors import InvalidInputError
from .results import EstimateResult
from .survey import SurveyDesign, _as_list
from .targeting import _codes_of, _design_for, _line_args, _numeric, _spreader

_t = _core.targeting
_v = _core.variance

__all__ = ["fgt", "watts", "gini", "theil", "mld", "atkinson", "arpr", "arpt", "WelfareIndexResult"]


class WelfareIndexResult(EstimateResult):
    """A poverty or inequality index per group with its design-based variance."""

    title = "Welfare index"

    def fit_stats(self) -> list:
        out = [("Observations", f"{self.nobs:,}"), ("Welfare", repr(self.welfare))]
        if np.isfinite(self.line):
            out.append(("Line", f"{self.line:.6g}" + (" (estimated)" if np.isfinite(self.bandwidth) else "")))
        return out

    def notes(self) -> list:
        n = [f"Standard errors: {self.vcov_convention}."]
        if np.isfinite(self.bandwidth):
            n.append(f"The estimated line enters the variance by linearisation (Gaussian kernel, bandwidth {self.bandwidth:.4g}).")
        n.append(self.definition)
        return n


def _prepare(data, variable, design, weights, by, who):
    if _dask.is_dask_frame(data):
        raise TypeError(f"{who}: a dask DataFrame is not supported here yet (on Dask: ik.fgt, ik.watts, ik.arpr, ik.arpt, ik.gini, "
                        "ik.targeting, SurveyDesign mean/total/ratio/proportion); compute() a sample or the groups first")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    d = _design_for(data, design, weights, who)
    if d._repw is not None:
        raise InvalidInputError(f"{who}: replicate-weight designs are not supported yet; use a design with strata and PSUs")
    y = _numeric(data, variable, "variable")
    by_names = _as_list(by)
    codes, levels = _codes_of(data, by_names)
    pos = d.positions_of(data.index, who)
    spread = _spreader(pos, d.n)
    dom = np.zeros(len(data), dtype=np.int32) if codes is None else codes
    D = 1 if levels is None else len(levels)
    args = dict(welfare=spread(y), weights=d._w, domain=spread(dom, -1, np.int32), n_domains=D,
                design=_v.VarianceDesign.survey(d._core))
    return args, levels, by_names, len(data)


def _result(out, name: str, levels, by_names, nobs, variable, definition) -> WelfareIndexResult:
    est = np.asarray(out["estimate"], dtype=float)
    V = np.asarray(out["vcov"], dtype=float)
    conv = dict(out["conventions"])
    D = len(est)
    if levels is None:
        names, by_frame = [name], None
    else:
        names = [f"{name} [" + ", ".join(f"{b}={levels.iloc[k][b]}" for b in by_names) + "]" for k in range(D)]
        by_frame = levels.reset_index(drop=True)
    res = WelfareIndexResult(pd.Series(est, index=names, name="estimate"), pd.DataFrame(V, index=names, columns=names),
                             pd.Series(np.full(D, float(conv.get("df", np.inf))), index=names, name="df"), nobs=nobs,
                             vcov_type=conv.get("kind", "survey"), vcov_convention=conv.get("description", ""),
                             conventions=conv, by=by_frame, terms=[name] * D)
    res.title = definition.split(":")[0]
    res.definition = definition
    res.welfare = variable
    res.line = float(out["line"])
    res.bandwidth = float(out["bandwidth"])
    res.line_variance = float(out.get("line_variance", float("nan")))
    if out["undefined"]:
        import warnings

        from .errors import ImpactkitWarning

        warnings.warn(f"{name}: undefined (no positive weight or zero total welfare) in {len(out['undefined'])} group(s); NaN there",
                      ImpactkitWarning, stacklevel=3)
    return res


def fgt(data: pd.DataFrame, variable: str, *, line, alpha: float = 0, design: Optional[SurveyDesign] = None, weights=None,
        by=None) -> WelfareIndexResult:
    """Foster–Greer–Thorbecke poverty index FGT_α = Σ w 1{y < z} ((z − y)/z)^α / Σ w (α = 0 headcount
    ratio, 1 poverty gap, 2 severity), per group, with its design-based standard error.

    Parameters
    ----------
    data : DataFrame (never modified); variable : the welfare column.
    line : a number or ``ik.poverty_line(z, strict=)`` (fixed), ``ik.relative_line(0.6)`` or ``ik.bottom(p)``
        (estimated on all analysis rows; enters the SE by linearisation).
    alpha : α ≥ 0. design / weights / by : as :func:`ik.targeting`.

    Examples
    --------
    >>> ik.fgt(df, "income", line=125, alpha=1).tidy()
    """
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not (np.isfinite(alpha) and alpha >= 0):
        raise InvalidInputError(f"fgt: alpha must be a finite number ≥ 0, got {alpha!r}")
    if _dask.is_dask_frame(data):
        out, levels, by_names, nobs = _dask.poverty("fgt", float(alpha), data, variable, _line_args(line, "fgt"), design, weights, by, "fgt")
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "fgt")
        out = _t.poverty_measure("fgt", float(alpha), **_line_args(line, "fgt"), **args)
    a = f"{alpha:g}"
    return _result(out, f"fgt{a}", levels, by_names, nobs, variable,
                   f"FGT({a}) poverty index: Σ w·1{{y < z}}·((z − y)/z)^{a} / Σ w (Foster, Greer & Thorbecke 1984)")


def watts(data: pd.DataFrame, variable: str, *, line, design: Optional[SurveyDesign] = None, weights=None,
          by=None) -> WelfareIndexResult:
    """Watts poverty index Σ w 1{y < z} log(z / y) / Σ w per group, with its design-based standard
    error; welfare below the line must be positive (else a clear error). Arguments as :func:`fgt`."""
    if _dask.is_dask_frame(data):
        out, levels, by_names, nobs = _dask.poverty("watts", 0.0, data, variable, _line_args(line, "watts"), design, weights, by, "watts")
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "watts")
        out = _t.poverty_measure("watts", 0.0, **_line_args(line, "watts"), **args)
    return _result(out, "watts", levels, by_names, nobs, variable, "Watts poverty index: Σ w·1{y < z}·log(z/y) / Σ w (Watts 1968)")


def gini(data: pd.DataFrame, variable: str, *, design: Optional[SurveyDesign] = None, weights=None, by=None) -> WelfareIndexResult:
    """Gini coefficient per group (Eurostat / laeken formula, as a fraction) with its linearised
    design-based standard error (Langel & Tillé 2013); welfare must be ≥ 0.

    Examples
    --------
    >>> ik.gini(eusilc, "eqIncome", design=ik.SurveyDesign(eusilc, weights="rb050", psu="db030"), by="db040")

    On a dask DataFrame the partitions are sorted by welfare (one shuffle); tied values keep mid-point
    ranks across partitions, so the result equals the in-memory one.
    """
    if _dask.is_dask_frame(data):  # exact on Dask: a global sort by welfare, then per-PSU sums
        out, levels, by_names, nobs = _dask.gini(data, variable, design, weights, by)
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "gini")
        out = _t.gini(**args)
    return _result(out, "gini", levels, by_names, nobs, variable,
                   "Gini coefficient: [2 Σ w y C − Σ w² y] / (N T) − 1 over rows in welfare order (Eurostat, laeken::gini / 100)")


def _smooth_index(index: str, epsilon: float, name: str, definition: str, data, variable, design, weights, by):
    args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, name)
    out = _t.inequality_measure(index, float(epsilon), **args)
    return _result(out, name, levels, by_names, nobs, variable, definition)


def theil(data: pd.DataFrame, variable: str, *, design: Optional[SurveyDesign] = None, weights=None, by=None) -> WelfareIndexResult:
    """Theil index GE(1) = Σ w (y/μ) log(y/μ) / Σ w per group, with its design-based SE (welfare ≥ 0)."""
    return _smooth_index("theil", 0.0, "theil", "Theil index GE(1): t(y log y)/t(y) − log μ (Theil 1967)", data, variable, design,
                         weights, by)


def mld(data: pd.DataFrame, variable: str, *, design: Optional[SurveyDesign] = None, weights=None, by=None) -> WelfareIndexResult:
    """Mean log deviation GE(0) = Σ w log(μ/y) / Σ w per group, with its design-based SE (welfare > 0)."""
    return _smooth_index("mld", 0.0, "mld", "Mean log deviation GE(0): log μ − t(log y)/N", data, variable, design, weights, by)


def atkinson(data: pd.DataFrame, variable: str, *, epsilon: float = 1.0, design: Optional[SurveyDesign] = None, weights=None,
             by=None) -> WelfareIndexResult:
    """Atkinson index A(ε) = 1 − (equally distributed equivalent welfare)/μ per group, with its design-based
    SE: ε > 0 (inequality aversion); welfare > 0 for ε ≥ 1, ≥ 0 otherwise."""
    if isinstance(epsilon, (bool, np.bool_)) or not isinstance(epsilon, (int, float, np.integer, np.floating)) or not (np.isfinite(epsilon) and epsilon > 0):
        raise InvalidInputError(f"atkinson: epsilon must be a finite number > 0, got {epsilon!r}")
    e = f"{epsilon:g}"
    return _smooth_index("atkinson", float(epsilon), f"atkinson{e}",
                         f"Atkinson index A({e}) = 1 − [mean of y^(1−ε)]^(1/(1−ε)) / μ (Atkinson 1970)", data, variable, design,
                         weights, by)


def arpr(data: pd.DataFrame, variable: str, *, share: float = 0.6, design: Optional[SurveyDesign] = None, weights=None,
         by=None) -> WelfareIndexResult:
    """At-risk-of-poverty rate (Eurostat): the share with welfare below ``share`` × the weighted median
    (the at-risk-of-poverty threshold, estimated on all rows, ``result.line``), with the threshold's
    estimation in the SE by linearisation. Equal to ``ik.fgt(..., line=ik.relative_line(share), alpha=0)``."""
    from .targeting import relative_line

    r = fgt(data, variable, line=relative_line(share), alpha=0, design=design, weights=weights, by=by)
    r.title = "At-risk-of-poverty rate"
    return r


def arpt(data: pd.DataFrame, variable: str, *, share: float = 0.6, design: Optional[SurveyDesign] = None,
         weights=None) -> EstimateResult:
    """At-risk-of-poverty threshold (Eurostat): ``share`` × the weighted median of welfare (laeken rule),
    with its linearised design-based SE (Osier 2009: the median's influence −(1{y ≤ Q} − 0.5)/(N̂ f̂(Q)),
    convey's bandwidth and Gaussian density)."""
    from .targeting import relative_line

    r = fgt(data, variable, line=relative_line(share), alpha=0, design=design, weights=weights)
    if not np.isfinite(r.line_variance):
        raise InvalidInputError("arpt: the threshold's variance (welfare units squared) is outside the range of a double at this "
                                "welfare scale; rescale welfare (e.g. to thousands)")
    name = "arpt"
    res = EstimateResult(pd.Series([r.line], index=[name], name="estimate"),
                         pd.DataFrame([[r.line_variance]], index=[name], columns=[name]),
                         r.df_inference.iloc[:1].set_axis([name]), nobs=r.nobs, vcov_type=r.vcov_type,
                         vcov_convention=r.vcov_convention, conventions=r.conventions, terms=[name])
    res.title = "At-risk-of-poverty threshold"
    res.bandwidth = r.bandwidth
    return res
