"""Survival of services and of effects: Kaplan–Meier curves (``ik.kaplan_meier``), log-rank /
Fleming–Harrington tests (``ik.logrank``), Cox models (``ik.coxph``) and Harrell's concordance
(``ik.concordance``, ``CoxResult.concordance()``).

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

__all__ = ["kaplan_meier", "logrank", "coxph", "concordance", "KaplanMeierResult", "LogrankResult", "CoxResult", "ConcordanceResult",
           "PHTestResult"]

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
            with np.errstate(invalid="ignore"):  # S = 0 with an infinite SE of log S: NaN, as R's summary
                se = S * np.asarray(c["log_std_error"])
            f = pd.DataFrame({"time": c["time"], "at_risk": c["at_risk"], "events": c["events"], "censored": c["censored"],
                              "survival": S, "std_error": se,
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

    def check_ph(self, transform: str = "km") -> "PHTestResult":
        """Test of proportional hazards (Grambsch & Therneau 1994) per term and globally, with the scaled
        Schoenfeld residuals, equal to R ``cox.zph(fit, transform, terms = TRUE)`` (survival ≥ 3.0): the score
        test, at β̂ and without refitting, for adding x·g(t) with g the transformed event time centred at
        its mean over events. transform : "km" (1 − the Kaplan–Meier S(t−) of all rows, unweighted; R's
        default), "rank" (rank of the time among all rows) or "identity"."""
        return _check_ph(self, transform)

    def concordance(self) -> "ConcordanceResult":
        """Harrell's C of the linear predictor on the estimation rows (within strata, with the fit's weights;
        the SE clustered as the fit's variance), as R ``coxph``'s ``concordance`` component."""
        if self._concordance is None:
            self._concordance = _concordance_of(**self._concordance_args)
        return self._concordance

    def fit_stats(self) -> list:
        c = self.concordance()
        return [("Observations", f"{self.nobs:,}"), ("Events", f"{self.n_events:g}"), ("Log-likelihood", f"{self.loglik:.4f}"),
                ("Concordance", f"{c.estimate:.4f} (SE {c.std_error:.4f})"), ("Ties", self.ties)]

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
    res._concordance = None
    res._rows = dict(time=np.ascontiguousarray(d.y, dtype=float), event=ev, entry=en, weights=w, strata=st,
                     n_strata=1 if slevels is None else len(slevels))
    res._X = X
    res._concordance_args = dict(**res._rows, score=_linear_predictor(X, b), design=design if (cl_names or robust) else "HC0")
    return res


def _linear_predictor(X: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Xβ summed column by column in elementwise operations, so that rows with equal covariates get exactly
    equal predictors (a BLAS product may round rows differently): the concordance counts them as tied."""
    lp = X[:, 0] * b[0]
    for j in range(1, len(b)):
        lp += X[:, j] * b[j]
    return np.ascontiguousarray(lp)


class ConcordanceResult(EstimateResult):
    """Harrell's concordance C with R survival's pair counts (``counts``: concordant, discordant, tied_x,
    tied_y, tied_xy), its infinitesimal-jackknife standard error (R ``concordance()``'s ``var``), Somers' d
    and R's ``cvar`` (``cox_variance``). The test statistic is (C − 0.5)/SE."""

    title = "Concordance"

    @property
    def estimate(self) -> float:
        return float(self.coef.iloc[0])

    @property
    def std_error(self) -> float:
        return float(self.se.iloc[0])

    @property
    def somers_d(self) -> float:
        return 2 * self.estimate - 1

    def fit_stats(self) -> list:
        c = self.counts
        return [("Concordant", f"{c['concordant']:g}"), ("Discordant", f"{c['discordant']:g}"), ("Tied on score", f"{c['tied_x']:g}"),
                ("Tied on time", f"{c['tied_y']:g}"), ("Tied on both", f"{c['tied_xy']:g}")]

    def notes(self) -> list:
        return [f"Standard error: {self.vcov_convention}.",
                "Pairs: the row with the earlier event against rows still at risk (censored rows at their exit time count as at "
                "risk); C = (concordant + tied_x / 2) / (concordant + discordant + tied_x), as R survival's concordance()."]


def _concordance_of(time, event, entry, weights, strata, n_strata, score, design, higher="risk"):
    out = _s.concordance(time, event, entry, weights, strata, n_strata, score)
    if not np.isfinite(out["concordance"]):
        raise InvalidInputError("concordance: there is no comparable pair (no event with a later exit or censoring in its stratum)")
    flip = higher == "time"  # score predicts survival time: concordant and discordant swap (R reverse = FALSE)
    c = out["concordance"]
    psi = np.asarray(out["influence"])
    counts = {k: float(out[k]) for k in ("concordant", "discordant", "tied_x", "tied_y", "tied_xy")}
    if flip:
        c, psi = 1 - c, -psi
        counts["concordant"], counts["discordant"] = counts["discordant"], counts["concordant"]
    res = ConcordanceResult.from_influence(pd.Series([c], index=["concordance"]), psi[:, None], design, nobs=len(time), null=0.5)
    res._df = pd.Series([np.inf], index=["concordance"], name="df")
    res.vcov_convention = ("infinitesimal jackknife (sum of squared " + ("cluster totals of " if isinstance(design, tuple) else "") +
                           "per-row influences, no small-sample factor, as R concordance()); z inference")
    res.counts = counts
    res.cox_variance = float(out["cox_variance"])
    res.higher = higher
    return res


def concordance(data: pd.DataFrame, *, time: str, event: str, score: str, higher: str = "risk", entry: Optional[str] = None,
                strata=None, weights: Optional[str] = None, cluster=None) -> ConcordanceResult:
    """Harrell's concordance of a score with survival times (R survival ``concordance()``).

    Parameters
    ----------
    time, event : exit time and event indicator (1 event, 0 censored). score : numeric column.
    higher : "risk" (default) when a higher score predicts an earlier event (a risk score or Cox linear
        predictor; R ``concordance(..., reverse = TRUE)``), "time" when it predicts a longer survival (R's
        default ``reverse = FALSE``).
    entry : delayed-entry time ((entry, time] rows). strata : pairs are formed within strata only.
    weights : case weights (> 0); each pair counts w_i w_j. cluster : cluster column(s) for the standard error.

    The standard error is R's infinitesimal jackknife (per-row influences summed by cluster, no small-sample
    factor), through the shared variance module. Scores are compared exactly; times too (no ``timefix``).

    Examples
    --------
    >>> ik.concordance(services, time="years", event="closed", score="risk_score").tidy()
    """
    who = "concordance"
    if higher not in ("risk", "time"):
        raise InvalidInputError(f"{who}: higher must be 'risk' or 'time', got {higher!r}")
    t, e, en = _survival_columns(data, time, event, entry, who)
    sc = _numeric(data, score, "score")
    w = None if weights is None else _numeric(data, weights, "weights")
    if w is not None and not (w > 0).all():
        raise InvalidInputError(f"{who}: weights must be positive")
    s_names = _as_list(strata)
    scodes, slevels = _codes_of(data, s_names)
    cl_names = _as_list(cluster)
    for c in cl_names:
        if c not in data.columns:
            raise InvalidInputError(f"{who}: cluster column {c!r} is not in the data")
    if cl_names:
        labels = data[cl_names].to_numpy()
        if pd.isna(data[cl_names]).to_numpy().any():
            raise InvalidInputError(f"{who}: cluster column(s) {cl_names} have missing values")
        design = ("CR0", labels if len(cl_names) > 1 else labels[:, 0])
    else:
        design = "HC0"
    return _concordance_of(t, e, en, w, scodes, 1 if slevels is None else len(slevels), np.ascontiguousarray(sc, dtype=float),
                           design, higher)


# --- proportional-hazards check ------------------------------------------------------------------


def _term_of(column: str) -> str:
    """The model term of a design column: the name without its level labels ("C(ecog)[T.1]" -> "C(ecog)")."""
    import re

    return re.sub(r"\[[^\]]*\]", "", column)


def _transformed_times(rows: dict, transform: str) -> np.ndarray:
    t = rows["time"]
    if transform == "identity":
        return t.copy()
    if transform == "rank":
        return pd.Series(t).rank(method="average").to_numpy()
    # "km": 1 − S(t−) of the unweighted, unstratified Kaplan–Meier curve of all rows (R cox.zph)
    c = _s.kaplan_meier(t, rows["event"], None, rows["entry"], None, 1, 0.95, "plain")[0]
    S = np.r_[1.0, np.asarray(c["survival"])]
    return 1 - S[np.searchsorted(np.asarray(c["time"]), t, side="left")]


class PHTestResult:
    """Grambsch–Therneau test of proportional hazards: ``table()`` (term, chisq, df, p_value; last row
    GLOBAL), ``residuals`` (scaled Schoenfeld residuals, one row per event, in order of stratum and time;
    a multi-column term gets the residual of its linear predictor β_termᵀx), ``x`` (transformed event
    times), ``var`` (R's ``var``), ``plot(term)``."""

    def __init__(self, table, residuals, x, time, var, transform):
        self._table = table
        self.residuals = residuals
        self.x = x
        self.time = time
        self.var = var
        self.transform = transform

    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def summary(self) -> str:
        lines = [f"Test of proportional hazards (Grambsch–Therneau, transform = {self.transform!r}; as R cox.zph):"]
        for r in self._table.itertuples():
            lines.append(f"  {r.term:<20} chi2 = {r.chisq:9.4f}  df = {r.df:d}  p = {r.p_value:.4g}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        g = self._table.iloc[-1]
        return f"<PHTestResult global chi2={g.chisq:.4g}, df={g.df}, p={g.p_value:.4g}>"

    def _repr_html_(self) -> str:
        return f"<p>{self.summary().splitlines()[0]}</p>" + self._table.to_html(index=False)

    def plot(self, term=None, ax=None, df: int = 4):
        """Scaled Schoenfeld residuals of ``term`` (default the first) against the transformed time, with a
        natural cubic spline smooth (``df`` degrees of freedom beside the intercept, knots at quantiles; as
        R's plot.cox.zph) and its ±2 SE band; a flat smooth supports proportional hazards."""
        import matplotlib.pyplot as plt

        names = list(self.residuals.columns)
        term = names[0] if term is None else term
        if term not in names:
            raise InvalidInputError(f"check_ph: unknown term {term!r}; the terms are {names}")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        y = self.residuals[term].to_numpy()
        ok = np.isfinite(y)
        x, y = self.x[ok], y[ok]
        ax.scatter(x, y, s=8, alpha=0.6)
        if len(np.unique(x)) > df + 1:
            grid = np.linspace(x.min(), x.max(), 100)
            B, G = _natural_spline(x, grid, df)
            coef, *_ = np.linalg.lstsq(B, y, rcond=None)
            resid = y - B @ coef
            s2 = resid @ resid / max(len(y) - B.shape[1], 1)
            cov = s2 * np.linalg.pinv(B.T @ B)
            fit = G @ coef
            se = np.sqrt(np.einsum("ij,jk,ik->i", G, cov, G))
            ax.plot(grid, fit, color="C1")
            ax.plot(grid, fit + 2 * se, color="C1", ls="--", lw=0.8)
            ax.plot(grid, fit - 2 * se, color="C1", ls="--", lw=0.8)
        ax.set_xlabel(f"time ({self.transform})")
        ax.set_ylabel(f"Beta(t) for {term}")
        return ax


def _natural_spline(x: np.ndarray, grid: np.ndarray, df: int):
    """Natural cubic spline bases (intercept, x and df − 1 truncated-power terms; Hastie, Tibshirani &
    Friedman 2009, eq. 5.4–5.5) with boundary knots at the range and interior knots at quantiles of x."""
    knots = np.quantile(x, np.linspace(0, 1, df + 1))

    def basis(v):
        K = len(knots)
        d = lambda k: (np.clip(v - knots[k], 0, None) ** 3 - np.clip(v - knots[-1], 0, None) ** 3) / (knots[-1] - knots[k])
        return np.column_stack([np.ones_like(v), v] + [d(k) - d(K - 2) for k in range(K - 2)])

    return basis(x), basis(grid)


def _check_ph(fit: "CoxResult", transform: str) -> PHTestResult:
    if transform not in ("km", "rank", "identity"):
        raise InvalidInputError(f"check_ph: transform must be 'km', 'rank' or 'identity', got {transform!r}")
    rows, X = fit._rows, fit._X
    b = fit.coef.to_numpy()
    p = len(b)
    tt = _transformed_times(rows, transform)
    event = rows["event"] == 1
    g = np.ascontiguousarray(tt - tt[event].mean())
    out = _s.cox_ph_test(rows["time"], rows["event"], rows["entry"], rows["weights"], rows["strata"], rows["n_strata"], X, b,
                         fit.ties, g)
    imat = np.asarray(out["information"])
    u = np.r_[np.zeros(p), np.asarray(out["time_score"])]
    names = list(fit.coef.index)
    terms = list(dict.fromkeys(_term_of(c) for c in names))
    cols = [[j for j, c in enumerate(names) if _term_of(c) == t] for t in terms]
    rows_out = []
    for t, jj in zip(terms, cols):
        kk = list(range(p)) + [p + j for j in jj]
        stat = float(u[kk] @ np.linalg.solve(imat[np.ix_(kk, kk)], u[kk]))
        rows_out.append((t, stat, len(jj)))
    rows_out.append(("GLOBAL", float(u @ np.linalg.solve(imat, u)), p))
    table = pd.DataFrame([{"term": t, "chisq": c, "df": k, "p_value": float(_core.chi2_upper_tail(c, k))} for t, c, k in rows_out])
    # scaled Schoenfeld residuals: events in order of (stratum, time, row), as R
    ev_rows = np.asarray(out["event_rows"])
    strata = np.zeros(len(rows["time"]), dtype=np.int64) if rows["strata"] is None else rows["strata"].astype(np.int64)
    order = np.lexsort((ev_rows, rows["time"][ev_rows], strata[ev_rows]))
    ev_rows = ev_rows[order]
    R = np.asarray(out["schoenfeld"])[order]
    # events per stratum for the covariates that vary within it (R's `used`)
    S = rows["n_strata"]
    used = np.zeros((S, p))
    for s_ in range(S):
        in_s = strata == s_
        varies = (X[in_s].max(axis=0) > X[in_s].min(axis=0)) if in_s.any() else np.zeros(p, dtype=bool)
        used[s_] = np.where(varies, event[in_s].sum(), 0)
    wt = sum(np.minimum.outer(u_, u_) for u_ in used)
    vmean = imat[:p, :p] / np.where(wt == 0, 1, wt)
    T = np.zeros((p, len(terms)))
    for i, jj in enumerate(cols):
        T[jj, i] = 1.0 if len(jj) == 1 else b[jj]
    R = R @ T
    vmean = T.T @ vmean @ T
    used = used[:, [jj[0] for jj in cols]]
    sgrp = strata[ev_rows]
    for s_ in range(S):
        k = np.flatnonzero(used[s_] > 0)
        j = sgrp == s_
        if not j.any():
            continue
        R[np.ix_(j, k)] = np.linalg.solve(vmean[np.ix_(k, k)], R[np.ix_(j, k)].T).T
        R[np.ix_(j, np.setdiff1d(np.arange(len(terms)), k))] = np.nan
    for i, jj in enumerate(cols):
        R[:, i] += b[jj[0]] if len(jj) == 1 else 1.0
    resid = pd.DataFrame(R, columns=terms)
    return PHTestResult(table, resid, tt[ev_rows], rows["time"][ev_rows], np.linalg.inv(vmean), transform)
