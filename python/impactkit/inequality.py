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

__all__ = ["fgt", "watts", "sen", "gini", "theil", "mld", "atkinson", "arpr", "arpt", "lorenz", "quantile_shares", "qsr",
           "concentration_index", "kakwani", "WelfareIndexResult", "LorenzResult"]


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


def _prepare(data, variable, design, weights, by, who, extra=()):
    if _dask.is_dask_frame(data):
        raise TypeError(f"{who}: a dask DataFrame is not supported here; compute() a sample or the groups first")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    d = _design_for(data, design, weights, who)
    y = _numeric(data, variable, "variable")
    by_names = _as_list(by)
    codes, levels = _codes_of(data, by_names)
    pos = None if data.index is d.index or data.index.equals(d.index) else d.positions_of(data.index, who)
    d.check_rows(data, pos, who)
    spread = _spreader(pos, d.n)
    dom = np.zeros(len(data), dtype=np.int32) if codes is None else codes
    D = 1 if levels is None else len(levels)
    args = dict(welfare=spread(y), weights=d._w, domain=spread(dom, -1, np.int32), n_domains=D)
    if d._repw is not None:  # every replicate re-estimates the index (welfare_index.hpp)
        args.update(design=d._rep_design, replicate_weights=d._repw)
    else:
        args["design"] = _v.VarianceDesign.survey(d._core)
    for key, (column, argument) in dict(extra).items():
        args[key] = spread(_numeric(data, column, argument))
    return args, levels, by_names, len(data)


def _dask_index(data, design, weights, run, sort_by: Optional[str] = None, columns=(), who: str = "index"):
    """``run(frame, design, weights)`` → (out, levels, by names, rows) of an index on a dask frame; under a
    replicate design every weight set re-estimates the index (``_dask.replicate_index``, as welfare_index in
    memory). Rank indices give their key (``sort_by``) and the columns they read (``columns``): the frame is
    then sorted once for all weight sets (``who`` names the function in errors)."""
    replicates = _dask.replicate_design(design, data, who)
    if replicates is None:
        return run(data, design, weights)
    if weights is not None:
        raise InvalidInputError("give weights= or design=, not both (the design carries its weights)")
    return _dask.replicate_index(data, replicates, lambda frame, cols: run(frame, cols, None), sort_by=sort_by,
                                 columns=columns, who=who)


_NO_LINE = dict(rule="none", line_value=float("nan"), line_quantile=0.5, line_share=1.0, strict=True)


def _evaluate(index: str, args: dict, *, parameter=0.0, line=None, shares=(), kind="standard", lower=float("nan"),
              upper=float("nan"), convention="eurostat", values=None) -> dict:
    """Every index through the one C++ entry (``_core.targeting.welfare_index``, welfare_index.hpp): the
    design's linearised variance, or under a replicate design each replicate re-estimating the index."""
    la = _NO_LINE if line is None else line
    return _t.welfare_index(index, float(parameter), la["rule"], la["line_value"], la["line_quantile"], la["line_share"], la["strict"],
                            [float(x) for x in shares], kind, float(lower), float(upper), convention, args["welfare"], values,
                            args["weights"], args["domain"], args["n_domains"], args["design"], args.get("replicate_weights"))


def _result(out, name, levels, by_names, nobs, variable, definition, *, labels=None, label_frame=None,
            cls=None) -> WelfareIndexResult:
    """The shared results object. ``labels``: the K statistics per group (estimates are domain-major) with
    ``label_frame`` (K rows) giving their columns in ``tidy()``; default one statistic named ``name``."""
    est = np.asarray(out["estimate"], dtype=float)
    V = np.asarray(out["vcov"], dtype=float)
    conv = dict(out["conventions"])
    labels = [name] if labels is None else list(labels)
    K = len(labels)
    D = len(est) // K
    if levels is None:
        names = list(labels)
        by_frame = None if label_frame is None else label_frame.reset_index(drop=True)
    else:
        names = [f"{lab} [" + ", ".join(f"{b}={levels.iloc[d][b]}" for b in by_names) + "]" for d in range(D) for lab in labels]
        by_frame = levels.loc[levels.index.repeat(K)].reset_index(drop=True)
        if label_frame is not None:
            by_frame = pd.concat([by_frame, pd.concat([label_frame] * D, ignore_index=True)], axis=1)
    res = (cls or WelfareIndexResult)(pd.Series(est, index=names, name="estimate"), pd.DataFrame(V, index=names, columns=names),
                                      pd.Series(np.full(len(est), float(conv.get("df", np.inf))), index=names, name="df"),
                                      nobs=nobs, vcov_type=conv.get("kind", "survey"),
                                      vcov_convention=conv.get("description", ""), conventions=conv, by=by_frame,
                                      terms=labels * D)
    res.title = definition.split(":")[0]
    res.definition = definition
    res.welfare = variable
    res.line = float(out["line"])
    res.bandwidth = float(out["bandwidth"])
    res.line_variance = float(out.get("line_variance", float("nan")))
    if out["undefined"]:
        import warnings

        from .errors import ImpactkitWarning

        warnings.warn(f"{name}: undefined in {len(out['undefined'])} group(s) (no positive weight, or a zero total or "
                      "denominator); NaN there", ImpactkitWarning, stacklevel=3)
    return res


def _check_number(value, who, what, low=None, high=None, open_low=True, open_high=True):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise InvalidInputError(f"{who}: {what} must be a finite number, got {value!r}")
    if low is not None and (value <= low if open_low else value < low):
        raise InvalidInputError(f"{who}: {what} must be {'>' if open_low else '≥'} {low:g}, got {value!r}")
    if high is not None and (value >= high if open_high else value > high):
        raise InvalidInputError(f"{who}: {what} must be {'<' if open_high else '≤'} {high:g}, got {value!r}")
    return float(value)


def _shares(values, who, what, allow_one):
    try:
        v = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {what} must be numbers, got {values!r}") from None
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0) or np.any(v > 1 if allow_one else v >= 1) or np.any(np.diff(v) <= 0):
        raise InvalidInputError(f"{who}: {what} must increase strictly within (0, {'1]' if allow_one else '1)'}, got {list(v)}")
    return [float(x) for x in v]


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
    la = _line_args(line, "fgt")
    if _dask.is_dask_frame(data):
        out, levels, by_names, nobs = _dask.poverty("fgt", float(alpha), data, variable, la, design, weights, by, "fgt")
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "fgt")
        out = _evaluate("fgt", args, parameter=float(alpha), line=la)
    a = f"{alpha:g}"
    return _result(out, f"fgt{a}", levels, by_names, nobs, variable,
                   f"FGT({a}) poverty index: Σ w·1{{y < z}}·((z − y)/z)^{a} / Σ w (Foster, Greer & Thorbecke 1984)")


def watts(data: pd.DataFrame, variable: str, *, line, design: Optional[SurveyDesign] = None, weights=None,
          by=None) -> WelfareIndexResult:
    """Watts poverty index Σ w 1{y < z} log(z / y) / Σ w per group, with its design-based standard
    error; welfare below the line must be positive (else a clear error). Arguments as :func:`fgt`."""
    la = _line_args(line, "watts")
    if _dask.is_dask_frame(data):
        out, levels, by_names, nobs = _dask.poverty("watts", 0.0, data, variable, la, design, weights, by, "watts")
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "watts")
        out = _evaluate("watts", args, line=la)
    return _result(out, "watts", levels, by_names, nobs, variable, "Watts poverty index: Σ w·1{y < z}·log(z/y) / Σ w (Watts 1968)")


def gini(data: pd.DataFrame, variable: str, *, design: Optional[SurveyDesign] = None, weights=None, by=None,
         convention: str = "eurostat") -> WelfareIndexResult:
    """Gini coefficient per group (Eurostat / laeken formula, as a fraction) with its linearised
    design-based standard error (Langel & Tillé 2013); welfare must be ≥ 0.

    ``convention="convey"`` gives R convey's svygini instead: Σ (2 C_i − 1) w_i y_i / (N T) − 1 (equal to
    Eurostat's with unit weights) and the linearised variable of convey's contrast of totals.

    Examples
    --------
    >>> ik.gini(eusilc, "eqIncome", design=ik.SurveyDesign(eusilc, weights="rb050", psu="db030"), by="db040")

    On a dask DataFrame the partitions are sorted by welfare (one shuffle); tied values keep mid-point
    ranks across partitions, so the result equals the in-memory one.
    """
    if convention not in ("eurostat", "convey"):
        raise InvalidInputError(f"gini: convention must be 'eurostat' or 'convey', got {convention!r}")
    if _dask.is_dask_frame(data):  # exact on Dask: a global sort by welfare, then per-PSU sums
        if convention != "eurostat":
            raise TypeError("gini: on a dask DataFrame only convention='eurostat' is supported")
        out, levels, by_names, nobs = _dask_index(data, design, weights, lambda x, d, w: _dask.gini(x, variable, d, w, by),
                                                  sort_by=variable, columns=_as_list(by), who="gini")
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "gini")
        out = _evaluate("gini", args, convention=convention)
    if convention == "convey":
        return _result(out, "gini", levels, by_names, nobs, variable,
                       "Gini coefficient: Σ (2 C − 1) w y / (N T) − 1 over rows in welfare order (R convey::svygini)")
    return _result(out, "gini", levels, by_names, nobs, variable,
                   "Gini coefficient: [2 Σ w y C − Σ w² y] / (N T) − 1 over rows in welfare order (Eurostat, laeken::gini / 100)")


def _smooth_index(index: str, epsilon: float, name: str, definition: str, data, variable, design, weights, by):
    if _dask.is_dask_frame(data):  # one pass of generalized-entropy totals per PSU
        out, levels, by_names, nobs = _dask_index(data, design, weights,
                                                  lambda x, d, w: _dask.entropy_index(index, float(epsilon), x, variable, d, w, by, name),
                                                  who=name)
        return _result(out, name, levels, by_names, nobs, variable, definition)
    args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, name)
    out = _evaluate(index, args, parameter=float(epsilon))
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


def sen(data: pd.DataFrame, variable: str, *, line, design: Optional[SurveyDesign] = None, weights=None,
        by=None) -> WelfareIndexResult:
    """Sen (1976) poverty index S = H·[I + (1 − I)·G_p] per group, with H the headcount ratio, I the
    income-gap ratio of the poor (1 − their mean welfare / z) and G_p the Gini coefficient of welfare among
    the poor (Eurostat formula), with its linearised design-based SE. ``line``: a fixed line (a number or
    ``ik.poverty_line(z, strict=)``), or an estimated line (``ik.relative_line(share)``, ``ik.bottom(p)``) whose
    estimation enters the SE by linearisation (∂S/∂z · IF(z), as for ik.fgt); welfare below it must be ≥ 0."""
    a = _line_args(line, "sen")
    if _dask.is_dask_frame(data):  # exact on Dask: a global sort by welfare, then per-PSU sums
        out, levels, by_names, nobs = _dask_index(data, design, weights, lambda x, d, w: _dask.sen(x, variable, a, d, w, by),
                                                  sort_by=variable, columns=_as_list(by), who="sen")
        return _result(out, "sen", levels, by_names, nobs, variable,
                       "Sen poverty index: H·[I + (1 − I)·G_p], G_p the Gini among the poor (Sen 1976)")
    args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "sen")
    out = _evaluate("sen", args, line=a)
    return _result(out, "sen", levels, by_names, nobs, variable,
                   "Sen poverty index: H·[I + (1 − I)·G_p], G_p the Gini among the poor (Sen 1976)")


class LorenzResult(WelfareIndexResult):
    """Lorenz ordinates L(p) (or generalised GL(p)) per group with their joint design variance; ``tidy()``
    has a column ``p``; ``plot()`` draws the curve with pointwise intervals."""

    title = "Lorenz curve"

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        """The Lorenz curve of each group through (0, 0) and the estimated ordinates, with pointwise intervals
        (and the line of equality for L(p))."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 5))
        t = self.tidy(level)
        group_cols = [c for c in t.columns if c not in ("p", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")]
        groups = [((), t)] if not group_cols else list(t.groupby(group_cols, sort=False))
        for key, g in groups:
            label = None if not group_cols else ", ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            p = np.r_[0.0, g["p"].to_numpy()]
            est = np.r_[0.0, g["estimate"].to_numpy()]
            line, = ax.plot(p, est, marker="o", ms=3, label=label, **kwargs)
            ax.fill_between(g["p"], g["conf_low"], g["conf_high"], color=line.get_color(), alpha=0.2, lw=0)
        if not self.generalized:
            ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", label="equality")
        ax.set_xlabel("cumulative population share p")
        ax.set_ylabel("generalised Lorenz GL(p)" if self.generalized else "cumulative welfare share L(p)")
        ax.set_title(self.title)
        if group_cols or not self.generalized:
            ax.legend(frameon=False, fontsize=8)
        return ax


def lorenz(data: pd.DataFrame, variable: str, *, points=None, generalized: bool = False, design: Optional[SurveyDesign] = None,
           weights=None, by=None) -> LorenzResult:
    """Lorenz ordinates L(p) = Σ w y·1{y ≤ Q_p} / Σ w y (the share of welfare held by the units at or below
    the weighted p-quantile, laeken's quantile rule) per group, or the generalised Lorenz ordinates GL(p) =
    Σ w y·1{y ≤ Q_p} / Σ w (Shorrocks 1983), with their joint linearised design-based variance (Kovačević &
    Binder 1997: IF(T_p) = (y − Q_p)·1{y ≤ Q_p} + p·Q_p, no density needed).

    Parameters
    ----------
    points : increasing population shares in (0, 1]; default 0.05, 0.10, …, 1.
    generalized : GL(p) instead of L(p).

    Examples
    --------
    >>> ik.lorenz(eusilc, "eqIncome", weights="rb050", points=[0.2, 0.4, 0.6, 0.8]).tidy()
    """
    p = [round(0.05 * k, 10) for k in range(1, 21)] if points is None else _shares(points, "lorenz", "points", True)
    who = "generalized_lorenz" if generalized else "lorenz"
    if _dask.is_dask_frame(data):  # exact quantiles across partitions, then one pass of PSU totals
        out, levels, by_names, nobs = _dask_index(data, design, weights,
                                                  lambda x, d, w: _dask.lorenz(x, variable, p, bool(generalized), d, w, by, who), who=who)
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, who)
        out = _evaluate(who, args, shares=p)
    sym = "GL" if generalized else "L"
    res = _result(out, sym, levels, by_names, nobs, variable,
                  ("Generalised Lorenz ordinates: GL(p) = Σ w y·1{y ≤ Q_p} / Σ w (Shorrocks 1983)" if generalized else
                   "Lorenz ordinates: L(p) = Σ w y·1{y ≤ Q_p} / Σ w y, Q_p the weighted p-quantile (laeken's rule)"),
                  labels=[f"{sym}({x:g})" for x in p], label_frame=pd.DataFrame({"p": p}), cls=LorenzResult)
    res.generalized = bool(generalized)
    res.points = p
    return res


def quantile_shares(data: pd.DataFrame, variable: str, *, groups: int = 5, cuts=None, design: Optional[SurveyDesign] = None,
                    weights=None, by=None) -> WelfareIndexResult:
    """Shares of total welfare held by each quantile group (quintiles by default: the bottom 20%, …, the
    top 20%) per group, with their joint linearised design-based variance; the shares of a group sum to 1.
    Group k holds the units with Q_{c_k} < y ≤ Q_{c_(k+1)} (laeken's quantile rule, as ``ik.qsr``).

    Parameters
    ----------
    groups : the number of equal-population groups (cuts k/groups), or
    cuts : increasing population shares in (0, 1) between the groups.
    """
    if cuts is None:
        if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)) or groups < 2:
            raise InvalidInputError(f"quantile_shares: groups must be an integer ≥ 2, got {groups!r}")
        cuts = [k / groups for k in range(1, int(groups))]
    c = _shares(cuts, "quantile_shares", "cuts", False)
    if _dask.is_dask_frame(data):  # the Lorenz ordinates at the cuts, differenced in C++ (lorenz.cpp's quantile_shares)
        out, levels, by_names, nobs = _dask_index(data, design, weights,
                                                  lambda x, d, w: _dask.lorenz(x, variable, c, False, d, w, by, "quantile_shares", shares=True),
                                                  who="quantile_shares")
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "quantile_shares")
        out = _evaluate("quantile_shares", args, shares=c)
    edges = [0.0] + c + [1.0]
    frame = pd.DataFrame({"p_low": edges[:-1], "p_high": edges[1:]})
    labels = [f"share({lo:g}-{hi:g}]" for lo, hi in zip(edges[:-1], edges[1:])]
    return _result(out, "share", levels, by_names, nobs, variable,
                   "Quantile-group welfare shares: L(p_high) − L(p_low), L the Lorenz ordinate (laeken's quantile rule)",
                   labels=labels, label_frame=frame)


def qsr(data: pd.DataFrame, variable: str, *, lower: float = 0.2, upper: float = 0.8, design: Optional[SurveyDesign] = None,
        weights=None, by=None) -> WelfareIndexResult:
    """Quintile share ratio S80/S20 (Eurostat; laeken::qsr): Σ w y·1{y > Q_0.8} / Σ w y·1{y ≤ Q_0.2} per
    group, with its linearised design-based SE (convey's svyqsr linearisation on laeken's quantiles).
    ``lower`` / ``upper`` give other ratios (e.g. 0.1 and 0.9 for S90/S10)."""
    lo = _check_number(lower, "qsr", "lower", 0, 1)
    hi = _check_number(upper, "qsr", "upper", 0, 1)
    if not lo < hi:
        raise InvalidInputError(f"qsr: needs lower < upper, got {lower!r} and {upper!r}")
    if _dask.is_dask_frame(data):  # exact quantiles across partitions, then one pass of PSU totals
        out, levels, by_names, nobs = _dask_index(data, design, weights, lambda x, d, w: _dask.qsr(x, variable, lo, hi, d, w, by), who="qsr")
    else:
        args, levels, by_names, nobs = _prepare(data, variable, design, weights, by, "qsr")
        out = _evaluate("qsr", args, shares=(lo, hi))
    return _result(out, "qsr", levels, by_names, nobs, variable,
                   f"Quintile share ratio: Σ w y·1{{y > Q_{hi:g}}} / Σ w y·1{{y ≤ Q_{lo:g}}} (Eurostat S80/S20, laeken::qsr)")


_CONCENTRATION_KINDS = {
    "standard": "Concentration index: C = 2 cov_w(h, R)/μ, R the mid-point fractional rank (Kakwani, Wagstaff & van Doorslaer 1997)",
    "generalized": "Generalized concentration index: μ·C (Wagstaff, Paci & van Doorslaer 1991)",
    "erreygers": "Erreygers-corrected concentration index: 4 μ C / (b − a) (Erreygers 2009)",
    "wagstaff": "Wagstaff-normalised concentration index: (b − a) μ C / ((b − μ)(μ − a)) (Wagstaff 2005)",
}


def concentration_index(data: pd.DataFrame, variable: str, *, rank_by: str, kind: str = "standard", bounds=None,
                        design: Optional[SurveyDesign] = None, weights=None, by=None) -> WelfareIndexResult:
    """Concentration index of ``variable`` (h: health, benefit, service use) across the distribution of
    ``rank_by`` (welfare), per group, with its linearised design-based SE. Ties in ``rank_by`` share
    mid-point ranks, so no answer depends on row order.

    Parameters
    ----------
    kind : "standard" (C = 2 cov(h, R)/μ), "generalized" (μ·C), "erreygers" (4μC/(b − a)) or "wagstaff"
        ((b − a)μC/((b − μ)(μ − a)); C/(1 − μ) for a binary outcome).
    bounds : (a, b), the bounds of h, for "erreygers" and "wagstaff"; default (0, 1) when h is binary.

    Negative values mean h is concentrated among the poor (pro-poor); with ``variable == rank_by`` the
    standard index is the Gini coefficient.
    """
    if kind not in _CONCENTRATION_KINDS:
        raise InvalidInputError(f"concentration_index: kind must be one of {sorted(_CONCENTRATION_KINDS)}, got {kind!r}")
    dask = _dask.is_dask_frame(data)
    if not dask:
        args, levels, by_names, nobs = _prepare(data, rank_by, design, weights, by, "concentration_index",
                                                extra={"values": (variable, "variable")})
    lower = upper = float("nan")
    if kind in ("erreygers", "wagstaff"):
        if bounds is None:
            if dask:
                binary = bool(data[variable].isin([0, 1]).all().compute())
            else:
                h = _numeric(data, variable, "variable")
                binary = bool(np.all((h == 0) | (h == 1)))
            if not binary:
                raise InvalidInputError(f"concentration_index: kind={kind!r} needs bounds=(a, b) for a non-binary outcome")
            bounds = (0.0, 1.0)
        try:
            lower, upper = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise TypeError(f"concentration_index: bounds must be a pair of numbers (a, b), got {bounds!r}") from None
        if not (np.isfinite(lower) and np.isfinite(upper) and lower < upper):
            raise InvalidInputError(f"concentration_index: bounds must be finite with a < b, got {bounds!r}")
    name = {"standard": "ci", "generalized": "gci", "erreygers": "eci", "wagstaff": "wci"}[kind]
    if dask:  # exact on Dask: a global sort by rank_by, then per-PSU sums
        out, levels, by_names, nobs = _dask_index(data, design, weights,
                                                  lambda x, d, w: _dask.concentration(x, variable, rank_by, kind, lower, upper, d, w, by,
                                                                                      "concentration_index"),
                                                  sort_by=rank_by, columns=[variable] + _as_list(by), who="concentration_index")
        res = _result(out, name, levels, by_names, nobs, variable, _CONCENTRATION_KINDS[kind])
        res.rank_by = rank_by
        return res
    values = args.pop("values")
    out = _evaluate("concentration_index", args, kind=kind, lower=lower, upper=upper, values=values)
    res = _result(out, name, levels, by_names, nobs, variable, _CONCENTRATION_KINDS[kind])
    res.rank_by = rank_by
    return res


def kakwani(data: pd.DataFrame, payment: str, *, income: str, design: Optional[SurveyDesign] = None, weights=None,
            by=None) -> WelfareIndexResult:
    """Kakwani (1977) index: the concentration index of ``payment`` (a tax or a benefit) ranked by
    ``income`` minus the Gini coefficient of ``income`` (≥ 0), per group, with its linearised design-based
    SE. For a tax, K > 0 is progressive; for a benefit, K < 0 means it is distributed more equally than
    income (pro-poor relative to income)."""
    if _dask.is_dask_frame(data):  # exact on Dask: a global sort by income, then per-PSU sums
        out, levels, by_names, nobs = _dask_index(data, design, weights, lambda x, d, w: _dask.kakwani(x, payment, income, d, w, by),
                                                  sort_by=income, columns=[payment] + _as_list(by), who="kakwani")
    else:
        args, levels, by_names, nobs = _prepare(data, income, design, weights, by, "kakwani", extra={"payment": (payment, "payment")})
        pay = args.pop("payment")
        out = _evaluate("kakwani", args, values=pay)
    res = _result(out, "kakwani", levels, by_names, nobs, payment,
                  "Kakwani index: C(payment ranked by income) − Gini(income) (Kakwani 1977)")
    res.income = income
    return res
