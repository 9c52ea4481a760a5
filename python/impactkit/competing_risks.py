"""Competing risks — a service can close, or be taken over by government: cumulative incidence per cause
(``ik.cumulative_incidence``, Aalen–Johansen), Gray's test that groups' incidence curves are equal
(``ik.gray_test``) and Fine–Gray subdistribution hazards regression (``ik.finegray``).

Formulas and conventions live with the C++ code (``impactkit/sustainability/competing_risks.hpp``): the
variance is the delta-method estimator of R ``cmprsk::cuminc`` (R ``survfit``'s multi-state std.err is the
infinitesimal jackknife instead: same estimates, a different variance); intervals "log-log" (default),
"log" or "plain"; Gray's test as ``cuminc(...)$Tests`` (strata and ρ too); Fine–Gray as ``cmprsk::crr``
(Breslow ties, crr's robust variance including the censoring-distribution term), fitted as a weighted Cox
model on counting-process rows (``ik.coxph``'s solver).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from .errors import InvalidInputError
from .survey import _as_list, _column
from .survival import _CONF_TYPES, CoxResult, _level
from .targeting import _codes_of, _numeric

_cr = _core.competing_risks

__all__ = ["cumulative_incidence", "gray_test", "finegray", "CumulativeIncidenceResult", "GrayTestResult", "FineGrayResult"]


def _status_codes(data: pd.DataFrame, event: str, censored, who: str):
    """The event column as int32 codes (0 censored, 1..C the causes in sorted order) and the cause labels."""
    col = _column(data, event, "event")
    if col.isna().any():
        raise InvalidInputError(f"{who}: event column {event!r} has a missing value at row {col.index[col.isna().to_numpy()][0]!r}")
    values = col.to_numpy()
    is_cens = values == censored
    if np.ndim(is_cens) == 0:  # comparison of incompatible types
        is_cens = np.zeros(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        v = col.to_numpy(dtype=np.float64)
        if not np.isfinite(v).all():
            raise InvalidInputError(f"{who}: event column {event!r} has an infinite value")
    causes = pd.unique(values[~is_cens])
    try:
        causes = np.sort(causes)
    except TypeError:
        raise TypeError(f"{who}: event column {event!r} mixes types that cannot be ordered") from None
    if len(causes) == 0:
        raise InvalidInputError(f"{who}: event column {event!r} has no events (every row equals the censoring code {censored!r})")
    codes = np.zeros(len(values), dtype=np.int32)
    codes[~is_cens] = np.searchsorted(causes, values[~is_cens]).astype(np.int32) + 1
    return codes, causes.tolist()


def _inputs(data, time, event, censored, who):
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    t = _numeric(data, time, "time")
    if (t < 0).any():
        i = int(np.argmax(t < 0))
        raise InvalidInputError(f"{who}: time must be non-negative; row {data.index[i]!r} has {t[i]!r}")
    status, causes = _status_codes(data, event, censored, who)
    return t, status, causes


def _select_causes(cause, causes, who):
    if cause is None:
        return list(range(len(causes)))
    wanted = cause if isinstance(cause, (list, tuple)) else [cause]
    out = []
    for c in wanted:
        hits = [k for k, lab in enumerate(causes) if lab == c]
        if not hits:
            raise InvalidInputError(f"{who}: cause {c!r} does not occur in the event column (causes: {causes})")
        out.append(hits[0])
    return out


class CumulativeIncidenceResult:
    """Cumulative incidence curves per group and cause: ``table()``, ``cif_at(t)``, ``plot()``."""

    def __init__(self, tables, levels, by, causes, chosen, level, conf_type):
        self._tables = tables
        self._levels = levels
        self._by = by
        self.causes = [causes[k] for k in chosen]
        self._chosen = chosen
        self._all_causes = causes
        self.level = level
        self.conf_type = conf_type
        self.variance_convention = "delta method of R cmprsk::cuminc (Gray 1988), with its tie correction"

    def _group(self, g):
        return {} if self._levels is None else {b: self._levels.iloc[g][b] for b in self._by}

    def table(self) -> pd.DataFrame:
        """One row per group, cause and distinct exit time: time, at_risk, events (of the cause), competing
        (events of other causes), censored, incidence, std_error, conf_low, conf_high."""
        parts = []
        for g, c in enumerate(self._tables):
            E = np.asarray(c["events"])
            for k in self._chosen:
                f = pd.DataFrame({"cause": self._all_causes[k], "time": c["time"], "at_risk": c["at_risk"], "events": E[:, k],
                                  "competing": E.sum(axis=1) - E[:, k], "censored": c["censored"],
                                  "incidence": np.asarray(c["incidence"])[:, k],
                                  "std_error": np.sqrt(np.maximum(np.asarray(c["variance"])[:, k], 0.0)),
                                  "conf_low": np.asarray(c["conf_low"])[:, k], "conf_high": np.asarray(c["conf_high"])[:, k]})
                for name, v in reversed(list(self._group(g).items())):
                    f.insert(0, name, v)
                parts.append(f)
        return pd.concat(parts, ignore_index=True)

    tidy = table

    def cif_at(self, times) -> pd.DataFrame:
        """F_c(t) at the given times per group and cause (right-continuous step function; 0 before the first
        exit, the last value after the last) with its standard error and interval."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if t.ndim != 1 or np.isnan(t).any():
            raise InvalidInputError("cumulative_incidence: times must be a number or 1-d list of numbers without NaN")
        parts = []
        for g, c in enumerate(self._tables):
            j = np.searchsorted(np.asarray(c["time"]), t, side="right") - 1
            ok, jj = j >= 0, np.maximum(j, 0)
            for k in self._chosen:
                col = {key: np.where(ok, np.asarray(c[key])[jj, k], 0.0) for key in ("incidence", "variance", "conf_low", "conf_high")}
                f = pd.DataFrame({"cause": [self._all_causes[k]] * len(t), "time": t, "incidence": col["incidence"],
                                  "std_error": np.sqrt(np.maximum(col["variance"], 0.0)), "conf_low": col["conf_low"],
                                  "conf_high": col["conf_high"]})
                for name, v in reversed(list(self._group(g).items())):
                    f.insert(0, name, v)
                parts.append(f)
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> str:
        lines = [f"Cumulative incidence (Aalen–Johansen; variance: {self.variance_convention}; "
                 f"{self.conf_type} {self.level:.0%} intervals)"]
        for g, c in enumerate(self._tables):
            name = ", ".join(f"{k}={v}" for k, v in self._group(g).items()) or "all"
            last = np.asarray(c["incidence"])[-1]
            parts = ", ".join(f"F[{self._all_causes[k]}]({c['time'][-1]:g}) = {last[k]:.4g}" for k in self._chosen)
            lines.append(f"  {name}: n = {c['at_risk'][0]:g}, {parts}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<CumulativeIncidenceResult: {len(self._tables)} group(s) x {len(self._chosen)} cause(s), {self.conf_type} intervals>"

    def _repr_html_(self) -> str:
        return "<p>" + self.summary().replace("\n", "<br>") + "</p>"

    def plot(self, ax=None, **kwargs):
        """Step curves of F_c(t) per group and cause with shaded intervals."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.5))
        for g, c in enumerate(self._tables):
            t = np.r_[min(0.0, c["time"][0]), c["time"]]
            for k in self._chosen:
                name = ", ".join([f"{v}" for v in self._group(g).values()] + [f"cause {self._all_causes[k]}"])
                line, = ax.step(t, np.r_[0.0, np.asarray(c["incidence"])[:, k]], where="post", label=name, **kwargs)
                ax.fill_between(t, np.r_[0.0, np.asarray(c["conf_low"])[:, k]], np.r_[0.0, np.asarray(c["conf_high"])[:, k]],
                                step="post", alpha=0.2, color=line.get_color(), lw=0)
        ax.set_ylim(0, 1.0)
        ax.set_xlabel("time")
        ax.set_ylabel("cumulative incidence F(t)")
        ax.legend(frameon=False)
        return ax


def cumulative_incidence(data: pd.DataFrame, *, time: str, event: str, cause=None, by=None, censored=0,
                         conf_type: str = "log-log", level: float = 0.95) -> CumulativeIncidenceResult:
    """Aalen–Johansen cumulative incidence of each cause, per group, with cmprsk's variance.

    Parameters
    ----------
    time : exit time column (≥ 0). event : status column: the censoring code ``censored`` (default 0) or the
        cause of the event (any labels: 1/2, "closed"/"taken over"). cause : cause(s) to report (default all).
    by : group column(s). conf_type : "log-log" (default; F^exp(±z se/(F log F))), "log" or "plain".

    Examples
    --------
    >>> ci = ik.cumulative_incidence(services, time="years", event="outcome", by="funding")
    >>> ci.cif_at([1, 3, 5]); ci.plot()
    """
    who = "cumulative_incidence"
    if conf_type not in _CONF_TYPES:
        raise InvalidInputError(f"{who}: conf_type must be one of {_CONF_TYPES}, got {conf_type!r}")
    lv = _level(level, who)
    t, status, causes = _inputs(data, time, event, censored, who)
    chosen = _select_causes(cause, causes, who)
    by_names = _as_list(by)
    codes, levels = _codes_of(data, by_names)
    G = 1 if levels is None else len(levels)
    tables = _cr.cumulative_incidence(t, status, len(causes), codes, G, lv, conf_type)
    return CumulativeIncidenceResult(tables, levels, by_names, causes, chosen, lv, conf_type)


class GrayTestResult:
    """Gray's test per cause: ``table()`` (cause, statistic, df, p_value — as ``cmprsk::cuminc(...)$Tests``)."""

    def __init__(self, rows, group, rho, stratified):
        self._rows = rows
        self.group = group
        self.rho = rho
        self.stratified = stratified

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{k: r[k] for k in ("cause", "statistic", "df", "p_value")} for r in self._rows])

    tidy = table

    def summary(self) -> str:
        head = f"Gray's test{' (stratified)' if self.stratified else ''}, rho = {self.rho:g}, across {self.group}:"
        return "\n".join([head] + [f"  cause {r['cause']}: chi2 = {r['statistic']:.4f} on {r['df']} df, p = {r['p_value']:.4g}"
                                   for r in self._rows])

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<GrayTestResult: {len(self._rows)} cause(s) across {self.group}>"

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[0]}</p>" + self.table().to_html(index=False)


def gray_test(data: pd.DataFrame, *, time: str, event: str, group: str, cause=None, strata=None, rho: float = 0.0,
              censored=0) -> GrayTestResult:
    """Gray's (1988) K-sample test that the groups' cumulative incidence curves of each cause are equal,
    stratified by ``strata``, with weight (1 − F(t−))^ρ (R ``cmprsk::cuminc(time, event, group, strata, rho)``).
    The statistic is χ² on (groups − 1) df; NaN where its variance is singular (cmprsk reports −1)."""
    who = "gray_test"
    if isinstance(rho, (bool, np.bool_)) or not isinstance(rho, (int, float, np.integer, np.floating)) or not (np.isfinite(rho) and rho >= 0):
        raise InvalidInputError(f"{who}: rho must be a finite number ≥ 0, got {rho!r}")
    t, status, causes = _inputs(data, time, event, censored, who)
    chosen = _select_causes(cause, causes, who)
    codes, levels = _codes_of(data, [group])
    if len(levels) < 2:
        raise InvalidInputError(f"{who}: group column {group!r} has a single level; the test needs at least two groups")
    s_names = _as_list(strata)
    scodes, slevels = _codes_of(data, s_names)
    rows = []
    for k in chosen:
        out = _cr.gray_test(t, status, len(causes), codes, len(levels), scodes, 1 if slevels is None else len(slevels), k + 1, float(rho))
        stat, df = float(out["statistic"]), int(out["df"])
        p = float(_core.chi2_upper_tail(stat, df)) if np.isfinite(stat) else float("nan")
        rows.append({"cause": causes[k], "statistic": stat, "df": df, "p_value": p, "score": np.asarray(out["score"]),
                     "variance": np.asarray(out["variance"])})
    return GrayTestResult(rows, group, float(rho), bool(s_names))


class FineGrayResult(CoxResult):
    """A Fine–Gray fit: coefficients (log subdistribution hazard ratios) with crr's robust SEs,
    ``hazard_ratios()`` (subdistribution hazard ratios), log pseudo-likelihoods and tests."""

    title = "Fine–Gray subdistribution hazards"

    def fit_stats(self) -> list:
        return [("Observations", f"{self.nobs:,}"), (f"Events (cause {self.cause})", f"{self.n_events:g}"),
                ("Log pseudo-likelihood", f"{self.loglik:.4f}"), ("Ties", "breslow")]


def finegray(formula: str, data: pd.DataFrame, *, time: str, event: str, cause, censored=0, cluster=None,
             cengroup: Optional[str] = None) -> FineGrayResult:
    """Fine–Gray (1999) proportional subdistribution hazards regression for one cause (R ``cmprsk::crr``).

    Parameters
    ----------
    formula : right-hand side, e.g. ``"age + C(region)"`` (a ``"~"`` prefix is accepted).
    time, event : exit time and status column (``censored`` code, default 0, or the cause label).
    cause : the cause of interest (a label of ``event``). cluster : cluster column(s) for the robust variance.
    cengroup : column whose groups each get their own censoring distribution G (R ``crr(..., cengroup=)``),
        for censoring that differs by group (e.g. by region or funding round).

    Rows failing from another cause stay in the risk set after their event with weight G(t−)/G(T−) (G: the
    Kaplan–Meier curve of the censoring times); the model is solved as a weighted Cox model (Breslow ties) on
    counting-process rows. Variance: crr's sandwich I⁻¹ (Σ (η_i + ψ_i)(η_i + ψ_i)ᵀ) I⁻¹, whose ψ accounts for
    estimating G, with no small-sample factor, through the shared variance module; z inference.

    Examples
    --------
    >>> fg = ik.finegray("age + C(region)", services, time="years", event="outcome", cause="closed")
    >>> fg.hazard_ratios()
    """
    from ._formula import build_design

    who = "finegray"
    if not isinstance(formula, str):
        raise TypeError(f"{who}: formula must be a string such as 'age + C(region)', got {type(formula).__name__}")
    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    if not rhs.strip():
        raise InvalidInputError(f"{who}: the formula has no covariates")
    t_all, status_all, causes = _inputs(data, time, event, censored, who)
    k = _select_causes(cause, causes, who)
    if len(k) != 1:
        raise InvalidInputError(f"{who}: give one cause of interest, got {cause!r}")
    cl_names = _as_list(cluster)
    for c in cl_names:
        _column(data, c, "cluster")
    extra = {"(status)": pd.Series(status_all.astype(float), index=data.index)}
    n_cg = 1
    if cengroup is not None:
        col = _column(data, cengroup, "cengroup", who)
        if col.isna().any():
            raise InvalidInputError(f"{who}: cengroup column {cengroup!r} has a missing value at row {col.index[col.isna().to_numpy()][0]!r}")
        cg_codes, cg_levels = _codes_of(data, [cengroup])
        n_cg = len(cg_levels)
        extra["(cengroup)"] = pd.Series(cg_codes.astype(float), index=data.index)
    d = build_design(f"{time} ~ {rhs}", data, extra=extra)
    keep = [j for j, name in enumerate(d.terms) if name != "Intercept"]
    terms = [d.terms[j] for j in keep]
    if not terms:
        raise InvalidInputError(f"{who}: the formula has no covariates")
    X = np.asfortranarray(d.X[:, keep])
    status = np.ascontiguousarray(d.extra["(status)"], dtype=np.int32)
    cg = None if cengroup is None else np.ascontiguousarray(d.extra["(cengroup)"], dtype=np.int32)
    out = _cr.finegray(np.ascontiguousarray(d.y, dtype=float), status, len(causes), k[0] + 1, X, cengroup=cg, n_cengroups=n_cg)
    b = np.asarray(out["coef"])
    Vm = np.linalg.inv(np.asarray(out["information"]))
    psi = np.asarray(out["scores"]) @ Vm
    if cl_names:
        labels = data[cl_names].to_numpy()
        if d.positions is not None:
            labels = labels[d.positions]
        design = ("CR0", labels if len(cl_names) > 1 else labels[:, 0])
    else:
        design = "HC0"
    res = FineGrayResult.from_influence(pd.Series(b, index=terms), psi, design, nobs=len(d.y), n_params=len(b))
    res.cengroup = cengroup
    res.vcov_convention = ("robust (Fine-Gray sandwich with the censoring-distribution term, as R cmprsk::crr" +
                           (f", censoring distribution by {cengroup}" if cengroup is not None else "") +
                           (f", clustered by {', '.join(cl_names)}" if cl_names else "") + ", no small-sample factor); z inference")
    res._df = pd.Series(np.full(len(b), np.inf), index=terms, name="df")
    res.model_vcov = pd.DataFrame(Vm, index=terms, columns=terms)
    res.loglik, res.loglik_null = float(out["loglik"]), float(out["loglik_null"])
    res.score_test = float(out["score_test"])
    res.n_events = float(out["n_events"])
    res.ties = "breslow"
    res.iterations = int(out["iterations"])
    res.cause = causes[k[0]]
    res.weighted_rows = int(out["weighted_rows"])
    return res
