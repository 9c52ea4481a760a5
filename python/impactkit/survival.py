"""Survival of services and of effects: Kaplan–Meier curves (``ik.kaplan_meier``) and log-rank /
Fleming–Harrington tests (``ik.logrank``).

Formulas and conventions live with the C++ code (``impactkit/sustainability/survival.hpp``): Greenwood
variance; intervals "plain", "log" (R survfit's default) or "log-log" (the default here, as Stata and
lifelines); quantiles and their intervals by R's ``quantile.survfit`` rule; the restricted mean to τ with
R's ``print.survfit(rmean=)`` variance; log-rank G^ρ as R ``survdiff``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from .errors import InvalidInputError
from .results import EstimateResult
from .survey import _as_list
from .targeting import _codes_of, _indicator, _numeric

_s = _core.sustainability

__all__ = ["kaplan_meier", "logrank", "coxph", "KaplanMeierResult", "LogrankResult", "CoxResult"]

_CONF_TYPES = ("log-log", "log", "plain")


def _z(level: float) -> float:
    return float(_core.t_quantiles(0.5 + level / 2, np.array([np.inf]))[0])


def _level(level, who):
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.integer, np.floating)) or not 0 < level < 1:
        raise InvalidInputError(f"{who}: level must be a number in (0, 1), got {level!r}")
    return float(level)


def _survival_columns(data, time, event, entry, who):
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    t = _numeric(data, time, "time")
    e = _indicator(data, event, "event")
    en = None if entry is None else _numeric(data, entry, "entry")
    if en is not None and np.any(en >= t):
        i = int(np.argmax(en >= t))
        raise InvalidInputError(f"{who}: entry must be before the exit time; row {data.index[i]!r} enters at {en[i]!r} and leaves at {t[i]!r}")
    return t, e, en


class KaplanMeierResult:
    """Kaplan–Meier curves per group: ``table()``, ``median()``, ``quantile(p)``, ``survival_at(t)``,
    ``rmst(tau)`` (and ``rmst_difference(tau)`` between two groups), ``plot()``."""

    def __init__(self, curves, levels, by, level, conf_type):
        self._curves = curves
        self._levels = levels
        self._by = by
        self.level = level
        self.conf_type = conf_type

    def _evaluate(self, c, **what):
        """Quantiles, RMST or S(t) read off one stored curve (no refit)."""
        return _s.km_evaluate(c["time"], c["at_risk"], c["events"], c["survival"], c["log_std_error"], self.level,
                              self.conf_type, **what)

    def _group_frame(self, g):
        if self._levels is None:
            return {}
        return {b: self._levels.iloc[g][b] for b in self._by}

    def table(self) -> pd.DataFrame:
        """One row per group and distinct exit time: time, at_risk, events, censored, survival, std_error
        (of S, Greenwood), conf_low, conf_high."""
        parts = []
        for g, c in enumerate(self._curves):
            S = np.asarray(c["survival"])
            f = pd.DataFrame({"time": c["time"], "at_risk": c["at_risk"], "events": c["events"], "censored": c["censored"],
                              "survival": S, "std_error": S * np.asarray(c["log_std_error"]),
                              "conf_low": c["conf_low"], "conf_high": c["conf_high"]})
            for k, v in reversed(list(self._group_frame(g).items())):
                f.insert(0, k, v)
            parts.append(f)
        return pd.concat(parts, ignore_index=True)

    tidy = table

    def quantile(self, p: float = 0.5) -> pd.DataFrame:
        """The p-quantile of the survival time per group (first time with S ≤ 1 − p; R's midpoint rule on a
        flat stretch at 1 − p) with its interval from the confidence curves; NaN where not reached."""
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 < p < 1:
            raise InvalidInputError(f"kaplan_meier: the quantile must be in (0, 1), got {p!r}")
        rows = []
        for g, c in enumerate(self._curves):
            q = np.asarray(self._evaluate(c, quantiles=[float(p)])["quantiles"])[0]
            rows.append({**self._group_frame(g), "quantile": float(p), "estimate": q[0], "conf_low": q[1], "conf_high": q[2]})
        return pd.DataFrame(rows)

    def median(self) -> pd.DataFrame:
        """Median survival time per group with its confidence interval."""
        return self.quantile(0.5)

    def survival_at(self, times) -> pd.DataFrame:
        """S(t) at the given times per group (step function; 1 before the first exit) with its interval."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if np.isnan(t).any():
            raise InvalidInputError("kaplan_meier: times must not be NaN")
        rows = []
        for g, c in enumerate(self._curves):
            ev = self._evaluate(c, quantiles=[], at=t.tolist())
            j = np.searchsorted(np.asarray(c["time"]), t, side="right") - 1  # the row whose limits apply
            for k, tk in enumerate(t):
                S = ev["survival"][k]
                lo, hi = (1.0, 1.0) if j[k] < 0 else (c["conf_low"][j[k]], c["conf_high"][j[k]])
                rows.append({**self._group_frame(g), "time": tk, "survival": S, "std_error": S * ev["log_std_error"][k],
                             "conf_low": lo, "conf_high": hi})
        return pd.DataFrame(rows)

    def rmst(self, tau: float) -> pd.DataFrame:
        """Restricted mean survival time to ``tau`` per group, ∫_0^τ S(t) dt, with its standard error and
        normal interval (R ``print(survfit, rmean = tau)``)."""
        if isinstance(tau, (bool, np.bool_)) or not isinstance(tau, (int, float, np.integer, np.floating)) or not np.isfinite(tau):
            raise InvalidInputError(f"kaplan_meier: tau must be a finite number, got {tau!r}")
        z = _z(self.level)
        rows = []
        for g, c in enumerate(self._curves):
            m, v = self._evaluate(c, quantiles=[], tau=float(tau))["rmst"]
            se = float(np.sqrt(v))
            rows.append({**self._group_frame(g), "tau": float(tau), "estimate": m, "std_error": se,
                         "conf_low": m - z * se, "conf_high": m + z * se})
        return pd.DataFrame(rows)

    def rmst_difference(self, tau: float) -> pd.DataFrame:
        """Difference in restricted mean survival time (second group − first) of a two-group fit, with the
        SE of independent groups and a normal interval and p-value."""
        if len(self._curves) != 2:
            raise InvalidInputError(f"kaplan_meier: rmst_difference needs exactly two groups, the fit has {len(self._curves)}")
        r = self.rmst(tau)
        d = float(r.estimate.iloc[1] - r.estimate.iloc[0])
        se = float(np.hypot(r.std_error.iloc[0], r.std_error.iloc[1]))
        z = _z(self.level)
        p = float(_core.two_sided_p_values(np.array([d / se]), np.array([np.inf]))[0]) if se > 0 else float("nan")
        return pd.DataFrame([{"tau": float(tau), "estimate": d, "std_error": se, "conf_low": d - z * se, "conf_high": d + z * se,
                              "p_value": p}])

    def summary(self) -> str:
        lines = [f"Kaplan–Meier survival ({self.conf_type} {self.level:.0%} intervals, Greenwood variance)"]
        med = self.median()
        for g, c in enumerate(self._curves):
            name = ", ".join(f"{k}={v}" for k, v in self._group_frame(g).items()) or "all"
            m = med.iloc[g]
            lines.append(f"  {name}: n = {c['at_risk'][0] if len(c['at_risk']) else 0:g} at first exit, events = {np.sum(c['events']):g}, "
                         f"median = {m.estimate:.4g} [{m.conf_low:.4g}, {m.conf_high:.4g}]")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<KaplanMeierResult: {len(self._curves)} curve(s), {self.conf_type} intervals>"

    def _repr_html_(self) -> str:
        return "<p>" + self.summary().replace("\n", "<br>") + "</p>" + self.median().to_html(index=False)

    def plot(self, ax=None, at_risk: bool = True, **kwargs):
        """Step curves with shaded intervals and, below, the number at risk at the axis ticks."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.5))
        ticks = None
        for g, c in enumerate(self._curves):
            t = np.r_[0.0 if not len(c["time"]) else min(0.0, c["time"][0]), c["time"]]
            name = ", ".join(f"{v}" for v in self._group_frame(g).values()) or None
            line, = ax.step(t, np.r_[1.0, c["survival"]], where="post", label=name, **kwargs)
            ax.fill_between(t, np.r_[1.0, c["conf_low"]], np.r_[1.0, c["conf_high"]], step="post", alpha=0.2, color=line.get_color(), lw=0)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("time")
        ax.set_ylabel("survival S(t)")
        if self._levels is not None:
            ax.legend(frameon=False)
        if at_risk:
            ticks = [x for x in ax.get_xticks() if ax.get_xlim()[0] <= x <= ax.get_xlim()[1]]
            for g, c in enumerate(self._curves):
                counter = []
                for x in ticks:
                    j = np.searchsorted(np.asarray(c["time"]), x, side="left")
                    counter.append(f"{c['at_risk'][j]:g}" if j < len(c["time"]) else "0")
                ax.annotate("  ".join(counter), xy=(0, -0.18 - 0.06 * g), xycoords="axes fraction", fontsize=7)
        return ax


def kaplan_meier(data: pd.DataFrame, *, time: str, event: str, by=None, weights: Optional[str] = None, entry: Optional[str] = None,
                 conf_type: str = "log-log", level: float = 0.95) -> KaplanMeierResult:
    """Kaplan–Meier survival curves per group with Greenwood variance.

    Parameters
    ----------
    time, event : exit time and event indicator (1 event, 0 censored) columns.
    by : group column(s). weights : case weights (≥ 0). entry : delayed-entry (left truncation) time, before
        the exit time; a row is at risk at t when entry < t ≤ time (R's counting-process convention).
    conf_type : "log-log" (default), "log" or "plain". level : interval coverage.

    Examples
    --------
    >>> km = ik.kaplan_meier(services, time="years", event="closed", by="funding")
    >>> km.median(); km.rmst(5); km.plot()
    """
    who = "kaplan_meier"
    if conf_type not in _CONF_TYPES:
        raise InvalidInputError(f"{who}: conf_type must be one of {_CONF_TYPES}, got {conf_type!r}")
    lv = _level(level, who)
    t, e, en = _survival_columns(data, time, event, entry, who)
    w = None if weights is None else _numeric(data, weights, "weights")
    if w is not None and (w < 0).any():
        raise InvalidInputError(f"{who}: weights must be non-negative")
    by_names = _as_list(by)
    codes, levels = _codes_of(data, by_names)
    G = 1 if levels is None else len(levels)
    curves = _s.kaplan_meier(t, e, w, en, codes, G, lv, conf_type)
    return KaplanMeierResult(curves, levels, by_names, lv, conf_type)


class LogrankResult:
    """Log-rank / Fleming–Harrington test: ``statistic`` (χ²), ``df``, ``p_value``, ``table()`` (observed,
    expected per group)."""

    def __init__(self, out, levels, group, rho, stratified):
        self.statistic = float(out["statistic"])
        self.df = int(out["df"])
        self.p_value = float(_core.chi2_upper_tail(self.statistic, self.df)) if np.isfinite(self.statistic) else float("nan")
        self.rho = rho
        self.stratified = stratified
        self._levels = levels
        self._group = group
        self.observed = np.asarray(out["observed"])
        self.expected = np.asarray(out["expected"])
        self.variance = np.asarray(out["variance"])

    def table(self) -> pd.DataFrame:
        f = self._levels.copy().reset_index(drop=True)
        f["observed"] = self.observed
        f["expected"] = self.expected
        f["o_minus_e"] = self.observed - self.expected
        f["variance"] = np.diag(self.variance)
        return f

    def summary(self) -> str:
        name = "Log-rank" if self.rho == 0 else f"Fleming–Harrington G^{self.rho:g}"
        return (f"{name} test{' (stratified)' if self.stratified else ''} across {self._group}: chi2 = {self.statistic:.4f} "
                f"on {self.df} df, p = {self.p_value:.4g}")

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<LogrankResult chi2={self.statistic:.4g}, df={self.df}, p={self.p_value:.4g}>"

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.table().to_html(index=False)


def logrank(data: pd.DataFrame, *, time: str, event: str, group: str, strata=None, rho: float = 0.0,
            entry: Optional[str] = None) -> LogrankResult:
    """Log-rank test (ρ = 0) or Fleming–Harrington G^ρ test (weights S(t−)^ρ of the pooled Kaplan–Meier) that
    the survival curves of the groups are equal, stratified by ``strata`` (R ``survdiff``)."""
    who = "logrank"
    if isinstance(rho, (bool, np.bool_)) or not isinstance(rho, (int, float, np.integer, np.floating)) or not (np.isfinite(rho) and rho >= 0):
        raise InvalidInputError(f"{who}: rho must be a finite number ≥ 0, got {rho!r}")
    t, e, en = _survival_columns(data, time, event, entry, who)
    codes, levels = _codes_of(data, [group])
    if len(levels) < 2:
        raise InvalidInputError(f"{who}: group column {group!r} has a single level; the test needs at least two groups")
    s_names = _as_list(strata)
    scodes, slevels = _codes_of(data, s_names)
    out = _s.logrank(t, e, en, codes, len(levels), scodes, 1 if slevels is None else len(slevels), float(rho))
    return LogrankResult(out, levels, group, float(rho), bool(s_names))


class CoxResult(EstimateResult):
    """A Cox proportional-hazards fit: coefficients (log hazard ratios) with model-based or robust SEs,
    ``hazard_ratios()``, log-likelihoods and the likelihood-ratio, Wald and score tests."""

    title = "Cox proportional hazards"

    def hazard_ratios(self, level: float = 0.95) -> pd.DataFrame:
        """exp(β) with the exponentiated interval per term."""
        ci = self.conf_int(level)
        return pd.DataFrame({"term": self.coef.index, "hazard_ratio": np.exp(self.coef.to_numpy()),
                             "conf_low": np.exp(ci["conf_low"].to_numpy()), "conf_high": np.exp(ci["conf_high"].to_numpy())})

    def tests(self) -> pd.DataFrame:
        """Likelihood-ratio, Wald (with the reported variance) and score tests that all β = 0 (χ², df = p)."""
        p = len(self.coef)
        b = self.coef.to_numpy()
        wald = float(b @ np.linalg.solve(self.vcov.to_numpy(), b))
        rows = [("likelihood ratio", 2 * (self.loglik - self.loglik_null)), ("wald", wald), ("score", self.score_test)]
        return pd.DataFrame([{"test": k, "statistic": v, "df": p, "p_value": float(_core.chi2_upper_tail(v, p))} for k, v in rows])

    def fit_stats(self) -> list:
        return [("Observations", f"{self.nobs:,}"), ("Events", f"{self.n_events:g}"), ("Log-likelihood", f"{self.loglik:.4f}"),
                ("Ties", self.ties)]

    def notes(self) -> list:
        lr = self.tests().iloc[0]
        return [f"Standard errors: {self.vcov_convention}.",
                f"Likelihood-ratio test: chi2({int(lr.df)}) = {lr.statistic:.4f}, p = {lr.p_value:.4g}."]


def coxph(formula: str, data: pd.DataFrame, *, time: str, event: str, entry: Optional[str] = None, ties: str = "efron",
          strata=None, weights: Optional[str] = None, cluster=None, robust: Optional[bool] = None) -> CoxResult:
    """Cox proportional-hazards regression by maximum partial likelihood.

    Parameters
    ----------
    formula : right-hand side, e.g. ``"age + C(region)"`` (a ``"~"`` prefix is accepted); categorical terms are
        coded against a reference level, as R coxph. time, event : exit time and event (1) / censored (0).
    entry : entry time for delayed entry and time-varying covariates (counting-process rows, (entry, time]).
    ties : "efron" (R's default) or "breslow". strata : column(s) with separate baseline hazards.
    weights : case weights (> 0). cluster : cluster column(s) for the robust variance; ``robust=True``
        without clusters treats each row as its own cluster.

    Variance: model-based I(β̂)⁻¹ by default; with ``cluster`` or ``robust=True`` the sandwich
    I⁻¹ (Σ_g L_g L_gᵀ) I⁻¹ of the weighted score residuals (R coxph's robust variance, which applies no
    small-sample factor), through the shared variance module. Inference on the normal distribution (z).

    Examples
    --------
    >>> fit = ik.coxph("age + C(region)", services, time="years", event="closed", cluster="district")
    >>> fit.hazard_ratios(); fit.tests()
    """
    from ._formula import build_design

    who = "coxph"
    if ties not in ("efron", "breslow"):
        raise InvalidInputError(f"{who}: ties must be 'efron' or 'breslow', got {ties!r}")
    if not isinstance(formula, str):
        raise TypeError(f"{who}: formula must be a string such as 'age + C(region)', got {type(formula).__name__}")
    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    if not rhs.strip():
        raise InvalidInputError(f"{who}: the formula has no covariates")
    t_all, e_all, en_all = _survival_columns(data, time, event, entry, who)
    if time in data.columns and rhs.strip() == time:
        raise InvalidInputError(f"{who}: the time column cannot be a covariate")
    extra = {"(event)": pd.Series(e_all, index=data.index)}
    if en_all is not None:
        extra["(entry)"] = pd.Series(en_all, index=data.index)
    s_names = _as_list(strata)
    scodes, slevels = _codes_of(data, s_names)
    if scodes is not None:
        extra["(strata)"] = pd.Series(scodes.astype(float), index=data.index)
    cl_names = _as_list(cluster)
    for c in cl_names:
        if c not in data.columns:
            raise InvalidInputError(f"{who}: cluster column {c!r} is not in the data")
    d = build_design(f"{time} ~ {rhs}", data, weights=weights, extra=extra)
    keep = [j for j, name in enumerate(d.terms) if name != "Intercept"]
    X = np.asfortranarray(d.X[:, keep])
    terms = [d.terms[j] for j in keep]
    if not terms:
        raise InvalidInputError(f"{who}: the formula has no covariates")
    ev = np.ascontiguousarray(d.extra["(event)"], dtype=float)
    en = None if en_all is None else np.ascontiguousarray(d.extra["(entry)"], dtype=float)
    st = None if scodes is None else np.ascontiguousarray(d.extra["(strata)"], dtype=np.int32)
    w = None if d.weights is None else np.ascontiguousarray(d.weights, dtype=float)
    out = _s.coxph(np.ascontiguousarray(d.y, dtype=float), ev, en, w, st, 1 if slevels is None else len(slevels), X, ties)
    b = np.asarray(out["coef"])
    Vm = np.linalg.inv(np.asarray(out["information"]))
    nobs = len(d.y)
    if cl_names or robust:
        # ψ_i = w_i L_i I⁻¹: the robust variance is the cluster (or row) sum of ψψᵀ with no factor
        L = np.asarray(out["score_residuals"])
        psi = (L if w is None else L * w[:, None]) @ Vm
        if cl_names:
            labels = data[cl_names].to_numpy()
            if d.positions is not None:
                labels = labels[d.positions]
            design = ("CR0", labels if len(cl_names) > 1 else labels[:, 0])
        else:
            design = "HC0"
        res = CoxResult.from_influence(pd.Series(b, index=terms), psi, design, nobs=nobs, n_params=len(b))
        res.vcov_convention = ("robust (sandwich of score residuals" + (f", clustered by {', '.join(cl_names)}" if cl_names else "") +
                               ", no small-sample factor, as R coxph); z inference")
    else:
        res = CoxResult(pd.Series(b, index=terms), pd.DataFrame(Vm, index=terms, columns=terms),
                        pd.Series(np.full(len(b), np.inf), index=terms), nobs=nobs, vcov_type="model",
                        vcov_convention="model-based: inverse of the observed information; z inference",
                        conventions={"kind": "model", "df_rule": "normal"})
    res._df = pd.Series(np.full(len(b), np.inf), index=terms, name="df")
    res.model_vcov = pd.DataFrame(Vm, index=terms, columns=terms)
    res.loglik, res.loglik_null = float(out["loglik"]), float(out["loglik_null"])
    res.score_test = float(out["score_test"])
    res.n_events = float(out["n_events"])
    res.ties = ties
    res.iterations = int(out["iterations"])
    return res
