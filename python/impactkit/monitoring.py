"""Routine-data monitoring tools: Mann–Kendall trend tests and the Theil–Sen slope.

The numbers come from C++ (``impactkit/monitoring/trend_tests.hpp``: formulas, sources, and the
O(n log n) algorithms); this module checks the input, names the problem when it is bad and wraps the
result. Conventions follow pymannkendall 1.4 (every variant) and, for Sen's interval,
``scipy.stats.theilslopes``; the tests run both live.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from ._render import format_number, format_pvalue, html_escape, latex_escape
from .errors import InvalidInputError

_METHODS = ("original", "hamed_rao", "yue_wang", "prewhitening", "trend_free_prewhitening", "seasonal")


def _series(x, who: str) -> np.ndarray:
    """x as a contiguous 1-d float64 array (a copy only when x is not already one; x is never modified)."""
    if isinstance(x, (pd.DataFrame,)):
        raise TypeError(f"{who}: x must be one series (1-d array, list or pandas Series), got a DataFrame")
    if isinstance(x, (str, bytes)) or np.isscalar(x):
        raise TypeError(f"{who}: x must be a 1-d array, list or pandas Series of numbers, got {type(x).__name__}")
    values = x.to_numpy() if isinstance(x, pd.Series) else np.asarray(x)
    if values.dtype == object or not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
        raise TypeError(f"{who}: x must hold numbers, got dtype {values.dtype}")
    if np.iscomplexobj(values):
        raise TypeError(f"{who}: x must hold real numbers, got complex values")
    if values.ndim != 1:
        raise InvalidInputError(f"{who}: x must be 1-d (one series in time order), got shape {values.shape}")
    return np.ascontiguousarray(values, dtype=np.float64)


def _int_option(value, name: str, who: str, *, allow_none: bool = True) -> int:
    if value is None and allow_none:
        return -1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an integer, got {value!r}")
    return int(value)


def _probability(value, name: str, who: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{who}: {name} must be a number in (0, 1), got {value!r}")
    value = float(value)
    if not 0 < value < 1:
        raise InvalidInputError(f"{who}: {name} must lie in (0, 1), got {value}")
    return value


class TrendTestResult:
    """A Mann–Kendall test: S, Var(S), Z, p, Kendall's τ, the Theil–Sen line, and the decision at α."""

    _FIELDS = ("s", "var_s", "z", "p_value", "tau", "slope", "intercept")

    def __init__(self, core: dict, *, alpha: float, period: Optional[int], lag: Optional[int], x: np.ndarray,
                 index=None):
        self.method = core["method"]
        self.nobs = int(x.size)
        self.n_tested = int(core["n"])
        self.s = int(core["s"])
        self.var_s = float(core["var_s"])
        self.var_s_uncorrected = float(core["var_s_uncorrected"])
        self.z = float(core["z"])
        self.p_value = float(core["p_value"])
        self.tau = float(core["tau"])
        self.slope = float(core["slope"])
        self.intercept = float(core["intercept"])
        self.correction = float(core["correction"])
        self.lag1_autocorrelation = float(core["lag1_autocorrelation"])
        self.tied_groups = int(core["tied_groups"])
        self.alpha = alpha
        self.period = period
        self.lag = lag
        self.trend = {1: "increasing", -1: "decreasing", 0: "no trend"}[int(core["trend"])]
        self.h = self.trend != "no trend"
        self.description = core["description"]
        self._x = x
        self._index = index

    def tidy(self) -> pd.DataFrame:
        """One row: method, n, s, var_s, z, p_value, tau, slope, intercept, trend."""
        row = {"method": self.method, "n": self.n_tested}
        row.update({f: getattr(self, f) for f in self._FIELDS})
        row["trend"] = self.trend
        return pd.DataFrame([row])

    def notes(self) -> list:
        notes = ["S = sum over i<j of sign(x_j - x_i); Var(S) corrected for ties; "
                 "Z = (S - sign S)/sqrt(Var S); two-sided normal p-value.",
                 f"Trend declared when |Z| > z(1 - alpha/2), alpha = {self.alpha:g}.",
                 "Slope: Theil-Sen (median pairwise slope per time step); intercept median(x) - median(t)*slope."]
        if self.method == "hamed_rao":
            notes.append(f"Hamed-Rao (1998): Var(S) x {self.correction:.6g} from the significant lag autocorrelations "
                         "of the ranks of the detrended series.")
        if self.method == "yue_wang":
            notes.append(f"Yue-Wang (2004): Var(S) x {self.correction:.6g} from the autocorrelations of the detrended series.")
        if self.method in ("prewhitening", "trend_free_prewhitening"):
            notes.append(f"Lag-1 autocorrelation r1 = {self.lag1_autocorrelation:.6g} removed before testing "
                         f"({self.n_tested} values tested).")
        if self.method == "seasonal":
            notes.append(f"Seasonal (Hirsch-Slack 1982): S and Var(S) summed over {self.period} seasons; "
                         "slope per cycle.")
        return notes

    def summary(self) -> "MonitoringSummary":
        rows = [("Method", self.method), ("Observations", f"{self.nobs:,}"), ("S", f"{self.s:,}"),
                ("Var(S)", format_number(self.var_s)), ("Z", format_number(self.z)),
                ("p-value", format_pvalue(self.p_value)), ("Kendall tau", format_number(self.tau)),
                ("Sen's slope", format_number(self.slope)), ("Intercept", format_number(self.intercept)),
                ("Trend", self.trend)]
        return MonitoringSummary("Mann-Kendall trend test", rows, self.notes())

    def plot(self, ax=None, **kwargs):
        """The series with its Theil–Sen line (matplotlib Axes)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t = np.arange(self.nobs)
        ax.plot(t, self._x, marker="o", linestyle="-", linewidth=1, markersize=3, label="observed", **kwargs)
        per = self.period if self.method == "seasonal" else 1
        ax.plot(t, self.intercept + self.slope * t / per, color="C3",
                label=f"Sen's slope {self.slope:.4g}" + (" per cycle" if per > 1 else ""))
        ax.set_xlabel("time index")
        ax.set_title(f"Mann-Kendall ({self.method}): {self.trend}, p = {format_pvalue(self.p_value)}")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return (f"<TrendTestResult {self.method}: S={self.s}, z={self.z:.4g}, p={self.p_value:.4g}, "
                f"slope={self.slope:.4g}, {self.trend}>")

    def _repr_html_(self) -> str:
        return self.summary().as_html()


class SensSlopeResult:
    """The Theil–Sen slope with Sen's (1968) interval."""

    def __init__(self, core: dict, *, level: float, period: Optional[int], nobs: int):
        self.slope = float(core["slope"])
        self.intercept = float(core["intercept"])
        self.conf_low = float(core["conf_low"])
        self.conf_high = float(core["conf_high"])
        self.n_slopes = int(core["n_slopes"])
        self.var_s = float(core["var_s"])
        self.rank_low = int(core["rank_low"])
        self.rank_high = int(core["rank_high"])
        self.level = level
        self.period = period
        self.nobs = nobs
        self.description = core["description"]

    def tidy(self) -> pd.DataFrame:
        """Rows slope and intercept: term, estimate, conf_low, conf_high (the intercept has no interval)."""
        return pd.DataFrame({"term": ["slope", "intercept"], "estimate": [self.slope, self.intercept],
                             "conf_low": [self.conf_low, np.nan], "conf_high": [self.conf_high, np.nan]})

    def notes(self) -> list:
        return [f"Median of the {self.n_slopes:,} pairwise slopes (x_j - x_i)/(j - i)"
                + (f" within each of {self.period} seasons (per cycle)" if self.period else "") + ".",
                f"{100 * self.level:g}% interval: Sen (1968) eq. 2.6, sorted slopes {self.rank_low} and {self.rank_high} "
                "(0-based; scipy.stats.theilslopes' rule), Var(S) with ties."]

    def summary(self) -> "MonitoringSummary":
        rows = [("Observations", f"{self.nobs:,}"), ("Slope", format_number(self.slope)),
                (f"{100 * self.level:g}% interval", f"[{format_number(self.conf_low)}, {format_number(self.conf_high)}]"),
                ("Intercept", format_number(self.intercept))]
        return MonitoringSummary("Theil-Sen slope", rows, self.notes())

    def __repr__(self) -> str:
        return f"<SensSlopeResult slope={self.slope:.4g} [{self.conf_low:.4g}, {self.conf_high:.4g}]>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()


class MonitoringSummary:
    """A two-column summary (label, value) with notes; text (str) and HTML renderings."""

    def __init__(self, title: str, rows: list, notes: list):
        self.title, self.rows, self.notes = title, rows, notes

    def as_text(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        lines = [self.title, "=" * len(self.title)]
        lines += [f"{label:<{width}}  {value}" for label, value in self.rows]
        lines += [""] + [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_html(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html_escape(a)}</th><td>{html_escape(b)}</td></tr>"
                       for a, b in self.rows)
        notes = "".join(f"<li>{html_escape(n)}</li>" for n in self.notes)
        return f"<div><strong>{html_escape(self.title)}</strong><table>{body}</table><ul>{notes}</ul></div>"

    def as_latex(self) -> str:
        body = "\n".join(f"{latex_escape(a)} & {latex_escape(b)} \\\\" for a, b in self.rows)
        notes = "\n".join(f"\\item {latex_escape(n)}" for n in self.notes)
        return (f"\\textbf{{{latex_escape(self.title)}}}\n\\begin{{tabular}}{{ll}}\n{body}\n\\end{{tabular}}\n"
                f"\\begin{{itemize}}\n{notes}\n\\end{{itemize}}")

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def mann_kendall(x, *, method: str = "original", period: Optional[int] = None, alpha: float = 0.05,
                 lag: Optional[int] = None) -> TrendTestResult:
    """Mann–Kendall test for a monotonic trend in a series observed at equally spaced times.

    ``method``: "original" (Mann 1945, Kendall 1975), "hamed_rao" (Hamed & Rao 1998) or "yue_wang"
    (Yue & Wang 2004) variance corrections for autocorrelation (``lag``: use lags 1..lag only; default all),
    "prewhitening" / "trend_free_prewhitening" (Yue & Wang 2002), "seasonal" (Hirsch, Slack & Smith 1982;
    ``period`` observations per cycle). Ties are corrected for. O(n log n). NaN or inf in x is an error:
    drop or impute missing values first (the time index must stay equally spaced).
    """
    who = "mann_kendall"
    if not isinstance(method, str) or method not in _METHODS:
        raise InvalidInputError(f"{who}: method must be one of {', '.join(repr(m) for m in _METHODS)}; got {method!r}")
    values = _series(x, who)
    p = _int_option(period, "period", who)
    if method == "seasonal" and p < 2:
        raise InvalidInputError(f"{who}: method='seasonal' needs period >= 2 (observations per cycle), got {period!r}")
    if method != "seasonal" and period is not None:
        raise InvalidInputError(f"{who}: period applies to method='seasonal' only")
    lg = _int_option(lag, "lag", who)
    if lag is not None and lg < 1:
        raise InvalidInputError(f"{who}: lag must be >= 1, got {lag}")
    a = _probability(alpha, "alpha", who)
    core = _core.monitoring.mann_kendall(values, method, max(p, 0), a, lg)
    return TrendTestResult(core, alpha=a, period=period, lag=lag, x=values)


def sens_slope(x, *, period: Optional[int] = None, level: float = 0.95) -> SensSlopeResult:
    """Theil–Sen slope of x per time step (per cycle with ``period``) with Sen's (1968) interval.

    Exact median of the n(n−1)/2 pairwise slopes, found without materialising them (O(n log n) steps).
    """
    who = "sens_slope"
    values = _series(x, who)
    p = _int_option(period, "period", who)
    if period is not None and p < 2:
        raise InvalidInputError(f"{who}: period must be >= 2 (observations per cycle), got {period!r}")
    lev = _probability(level, "level", who)
    core = _core.monitoring.sens_slope(values, max(p, 0), lev)
    return SensSlopeResult(core, level=lev, period=period, nobs=int(values.size))


# ---------------------------------------------------------------------------------------------------------
# Indicators from counts: proportions and rates per person-time


_PROPORTION_METHODS = ("wilson", "clopper_pearson", "jeffreys", "agresti_coull", "normal")


def _counts(values, name: str, who: str):
    """(float64 1-d array, index or None, was_scalar) of a count argument; never modifies the caller's data."""
    if isinstance(values, pd.DataFrame):
        raise TypeError(f"{who}: {name} must be a number, 1-d array, list or Series, got a DataFrame")
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{who}: {name} must be numeric, got a string")
    index = values.index if isinstance(values, pd.Series) else None
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise TypeError(f"{who}: {name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim > 1:
        raise InvalidInputError(f"{who}: {name} must be a number or 1-d, got shape {arr.shape}")
    return arr.astype(np.float64).reshape(-1), index, arr.ndim == 0


def _paired_counts(a, b, names, who: str):
    (x, ix, sx), (y, iy, sy) = _counts(a, names[0], who), _counts(b, names[1], who)
    if ix is not None and iy is not None and not ix.equals(iy):
        raise InvalidInputError(f"{who}: {names[0]} and {names[1]} are Series indexed differently; align them first "
                                "(e.g. b.reindex(a.index))")
    if x.size == 0 or y.size == 0:
        raise InvalidInputError(f"{who}: {names[0]} and {names[1]} must not be empty")
    if x.size != y.size:
        if x.size == 1:
            x = np.full(y.size, x[0])
        elif y.size == 1:
            y = np.full(x.size, y[0])
        else:
            raise InvalidInputError(f"{who}: {names[0]} has {x.size} values but {names[1]} has {y.size}")
    index = ix if ix is not None else iy
    return np.ascontiguousarray(x), np.ascontiguousarray(y), index, sx and sy


class IndicatorIntervals:
    """Estimates from counts with their intervals: proportions (x/n) or rates (events per person-time)."""

    def __init__(self, kind: str, numerator, denominator, estimate, low, high, *, index, scalar: bool, method: str,
                 level: float, per: float = 1.0, names=("successes", "trials")):
        self.kind, self.method, self.level, self.per, self._names = kind, method, level, per, names
        idx = pd.RangeIndex(len(estimate)) if index is None else index
        self._table = pd.DataFrame({names[0]: numerator, names[1]: denominator, "estimate": np.asarray(estimate) * per,
                                    "conf_low": np.asarray(low) * per, "conf_high": np.asarray(high) * per}, index=idx)
        self._scalar = scalar

    def _column(self, name):
        col = self._table[name]
        return float(col.iloc[0]) if self._scalar else col

    @property
    def estimate(self):
        return self._column("estimate")

    @property
    def conf_low(self):
        return self._column("conf_low")

    @property
    def conf_high(self):
        return self._column("conf_high")

    def tidy(self) -> pd.DataFrame:
        """term (the index label), the counts, estimate, conf_low, conf_high, method, level."""
        out = self._table.rename_axis("term").reset_index()
        out["method"] = self.method
        out["level"] = self.level
        return out

    def notes(self) -> list:
        if self.kind == "rate":
            unit = "" if self.per == 1 else f" per {self.per:g} units of person-time"
            return [f"Rate = events / person-time{unit}; exact Poisson (Garwood 1936) {100 * self.level:g}% interval "
                    "from gamma quantiles."]
        words = {"wilson": "Wilson score (1927)", "clopper_pearson": "Clopper-Pearson exact (1934)",
                 "jeffreys": "Jeffreys (Brown, Cai & DasGupta 2001), no boundary modification",
                 "agresti_coull": "Agresti-Coull (1998)", "normal": "Wald normal approximation"}[self.method]
        return [f"Proportion = successes / trials; {100 * self.level:g}% interval: {words} (statsmodels' conventions;"
                " Wilson, Agresti-Coull and Wald clipped to [0, 1])."]

    def summary(self) -> "MonitoringSummary":
        rows = [(str(i), f"{format_number(r.estimate)} [{format_number(r.conf_low)}, {format_number(r.conf_high)}]"
                 f"  ({r[self._names[0]]:g} / {r[self._names[1]]:g})") for i, r in self._table.iterrows()]
        title = "Rates with exact Poisson intervals" if self.kind == "rate" else f"Proportions ({self.method} intervals)"
        return MonitoringSummary(title, rows, self.notes())

    def plot(self, ax=None, **kwargs):
        """Estimates with their intervals (matplotlib Axes)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t = self._table
        y = np.arange(len(t))
        ax.errorbar(t["estimate"], y, xerr=[t["estimate"] - t["conf_low"], t["conf_high"] - t["estimate"]], fmt="o",
                    capsize=3, **kwargs)
        ax.set_yticks(y)
        ax.set_yticklabels([str(i) for i in t.index])
        ax.set_xlabel(("rate" if self.kind == "rate" else "proportion") + f" ({100 * self.level:g}% interval)")
        return ax

    def __repr__(self) -> str:
        if self._scalar:
            return (f"<IndicatorIntervals {self.kind} {self.estimate:.4g} [{self.conf_low:.4g}, {self.conf_high:.4g}], "
                    f"{self.method}>")
        return f"<IndicatorIntervals {len(self._table)} {self.kind}s, {self.method}>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def proportion(successes, trials, *, method: str = "wilson", level: float = 0.95) -> IndicatorIntervals:
    """Proportions successes/trials with confidence intervals (scalars, arrays or aligned Series).

    ``method``: "wilson" (default), "clopper_pearson", "jeffreys", "agresti_coull", "normal" — statsmodels'
    ``proportion_confint`` conventions (``beta`` is clopper_pearson). Counts may be fractional (weighted).
    """
    who = "proportion"
    if not isinstance(method, str) or method not in _PROPORTION_METHODS:
        raise InvalidInputError(f"{who}: method must be one of {', '.join(repr(m) for m in _PROPORTION_METHODS)}; "
                                f"got {method!r}")
    lev = _probability(level, "level", who)
    x, n, index, scalar = _paired_counts(successes, trials, ("successes", "trials"), who)
    est, lo, hi = _core.monitoring.proportion_intervals(x, n, method, lev)
    return IndicatorIntervals("proportion", x, n, est, lo, hi, index=index, scalar=scalar, method=method, level=lev)


def rate(events, person_time, *, level: float = 0.95, per: float = 1.0) -> IndicatorIntervals:
    """Rates events/person_time with exact Poisson (Garwood) intervals, optionally per ``per`` units of time
    (e.g. ``per=1000`` for a rate per 1,000 person-years)."""
    who = "rate"
    lev = _probability(level, "level", who)
    if isinstance(per, bool) or not isinstance(per, (int, float, np.integer, np.floating)) or not (np.isfinite(per) and per > 0):
        raise InvalidInputError(f"{who}: per must be a positive number, got {per!r}")
    d, T, index, scalar = _paired_counts(events, person_time, ("events", "person_time"), who)
    est, lo, hi = _core.monitoring.poisson_rate_intervals(d, T, lev)
    return IndicatorIntervals("rate", d, T, est, lo, hi, index=index, scalar=scalar, method="garwood", level=lev,
                              per=float(per), names=("events", "person_time"))


# ---------------------------------------------------------------------------------------------------------
# Control charts, LQAS and survey sample sizes

_CHART_KINDS = ("p", "np", "c", "u", "xmr", "laney_p")
_RULE_NAMES = {1: "beyond 3 sigma", 2: "run on one side of the centre", 3: "six points trending",
               4: "fourteen points alternating", 5: "two of three beyond 2 sigma", 6: "four of five beyond 1 sigma",
               7: "fifteen within 1 sigma", 8: "eight beyond 1 sigma on either side"}


def _column_or_array(data, value, name: str, who: str, n_rows: Optional[int]):
    """A column name of `data`, or array-like; float64 1-d. Series must be indexed like `data`."""
    if value is None:
        return None
    if isinstance(value, str):
        if data is None:
            raise InvalidInputError(f"{who}: {name}={value!r} names a column but no data was given")
        if value not in data.columns:
            raise InvalidInputError(f"{who}: {name}: unknown column {value!r}; data has {list(data.columns)}")
        value = data[value]
    if isinstance(value, pd.Series) and data is not None and not value.index.equals(data.index):
        raise InvalidInputError(f"{who}: {name} is a Series indexed unlike the data; align it first")
    arr, _, scalar = _counts(value, name, who)
    if scalar:
        raise InvalidInputError(f"{who}: {name} must hold one value per sample, got a scalar")
    if n_rows is not None and arr.size != n_rows:
        raise InvalidInputError(f"{who}: {name} has {arr.size} values but there are {n_rows} samples")
    return np.ascontiguousarray(arr)


class ControlChartResult:
    """A Shewhart chart: statistic, centre line, limits, σ per sample, run-rule violations, phase-I revision."""

    def __init__(self, core: dict, *, kind: str, rules: str, phase1, index):
        self.kind, self.rules, self.phase1 = kind, rules, phase1
        self.centre_estimate = float(core["centre_estimate"])
        self.mean_moving_range = float(core["mean_moving_range"])
        self.sigma_z = float(core["sigma_z"])
        self.revisions = int(core["revisions"])
        self.description = core["description"]
        v = np.asarray(core["violations"])
        self._table = pd.DataFrame({"statistic": core["statistic"], "centre": core["centre"], "lower": core["lower"],
                                    "upper": core["upper"], "sigma": core["sigma"],
                                    "excluded": np.asarray(core["excluded"]).astype(bool)}, index=index)
        self._table["out_of_control"] = v != 0
        self._table["rules"] = [",".join(str(r) for r in range(1, 9) if code >> (r - 1) & 1) for code in v]
        self._codes = v

    def tidy(self) -> pd.DataFrame:
        """One row per sample: statistic, centre, lower, upper, sigma, excluded (by revision), out_of_control, rules."""
        return self._table.rename_axis("sample").reset_index()

    @property
    def violations(self) -> pd.DataFrame:
        """Samples with at least one run-rule violation, one row per (sample, rule)."""
        rows = [(i, r, _RULE_NAMES[r]) for i, code in zip(self._table.index, self._codes) for r in range(1, 9)
                if code >> (r - 1) & 1]
        return pd.DataFrame(rows, columns=["sample", "rule", "description"])

    def notes(self) -> list:
        lim = {"p": "p-bar +/- 3 sqrt(p-bar(1-p-bar)/n_i)", "np": "n p-bar +/- 3 sqrt(n p-bar(1-p-bar))",
               "c": "c-bar +/- 3 sqrt(c-bar)", "u": "u-bar +/- 3 sqrt(u-bar/n_i)",
               "xmr": "x-bar +/- 3 MR-bar/1.128", "laney_p": "p-bar +/- 3 sigma_p,i sigma_z (Laney 2002)"}[self.kind]
        out = [f"Limits {lim} (Montgomery, Introduction to SQC); phase I = samples {self.phase1[0]}..{self.phase1[1] - 1}."]
        if self.revisions:
            out.append(f"Revised {self.revisions} time(s): {int(self._table['excluded'].sum())} phase-I sample(s) outside "
                       "their limits dropped from the centre line.")
        out.append({"nelson": "Run rules: Nelson (1984) 1-8.", "western_electric":
                    "Run rules: Western Electric (1956): 1, 2 (8 on one side), 5, 6.", "none": "No run rules."}[self.rules])
        return out

    def summary(self) -> "MonitoringSummary":
        t = self._table
        rows = [("Chart", self.kind), ("Samples", f"{len(t):,}"),
                ("Centre estimate" + (" (p-bar)" if self.kind == "np" else ""), format_number(self.centre_estimate)),
                ("Out of control", f"{int(t['out_of_control'].sum())} sample(s)")]
        rows += [(f"Sample {r.sample}", f"rule {r.rule}: {r.description}") for r in self.violations.itertuples()][:20]
        return MonitoringSummary(f"{self.kind} control chart", rows, self.notes())

    def plot(self, ax=None, **kwargs):
        """The statistic with centre line and (step) limits; violations in red (matplotlib Axes)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t = self._table
        x = np.arange(len(t))
        ax.plot(x, t["statistic"], marker="o", markersize=3, linewidth=1, label=self.kind, **kwargs)
        ax.step(x, t["centre"], where="mid", color="k", linewidth=1, label="centre")
        ax.step(x, t["upper"], where="mid", color="C3", linestyle="--", linewidth=1, label="limits")
        ax.step(x, t["lower"], where="mid", color="C3", linestyle="--", linewidth=1)
        bad = t["out_of_control"].to_numpy()
        ax.scatter(x[bad], t["statistic"].to_numpy()[bad], color="C3", zorder=3, label="rule violated")
        ax.set_xlabel("sample")
        ax.set_title(f"{self.kind} chart")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        centre = self._table["centre"]
        line = f"{centre.iloc[0]:.4g}" if np.allclose(centre, centre.iloc[0]) else f"{self.centre_estimate:.4g} per unit"
        return (f"<ControlChartResult {self.kind}: centre {line}, "
                f"{int(self._table['out_of_control'].sum())} of {len(self._table)} samples flagged>")

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def control_chart(data=None, *, kind: str = "p", values=None, sizes=None, phase1=None, revise: bool = False,
                  rules: str = "nelson") -> ControlChartResult:
    """Shewhart control chart with phase-I limits, optional revision and run-rule flags.

    ``values``: counts (p, np, laney_p: nonconforming; c, u: events) or measurements (xmr), a column of ``data``
    or an array; ``sizes``: sample sizes (p, np, laney_p) or inspection units (u). ``phase1 = (begin, end)``:
    the samples (positions, end exclusive) that set the centre line (default: all). ``revise``: drop phase-I
    samples outside their limits and recompute until none is. ``rules``: "nelson", "western_electric", "none".
    """
    who = "control_chart"
    if not isinstance(kind, str) or kind not in _CHART_KINDS:
        raise InvalidInputError(f"{who}: kind must be one of {', '.join(repr(k) for k in _CHART_KINDS)}; got {kind!r}")
    if data is not None and not isinstance(data, pd.DataFrame):
        values, data = (data if values is None else values), None  # ik.control_chart(array, kind=...)
    if values is None:
        raise InvalidInputError(f"{who}: values is required (a column of data or an array)")
    v = _column_or_array(data, values, "values", who, None)
    if v.size == 0:
        raise InvalidInputError(f"{who}: needs at least one sample, got none")
    needs = kind in ("p", "np", "u", "laney_p")
    if needs and sizes is None:
        raise InvalidInputError(f"{who}: kind={kind!r} needs sizes (trials or inspection units per sample)")
    n = _column_or_array(data, sizes, "sizes", who, v.size) if needs else np.empty(0)
    if phase1 is None:
        begin, end = 0, v.size
    else:
        try:
            begin, end = (int(phase1[0]), int(phase1[1]))
        except (TypeError, ValueError, IndexError):
            raise TypeError(f"{who}: phase1 must be a pair (begin, end) of sample positions, got {phase1!r}") from None
    if isinstance(revise, (bool, np.bool_)):
        rounds = -1 if revise else 0
    elif isinstance(revise, (int, np.integer)) and revise >= 0:
        rounds = int(revise)
    else:
        raise TypeError(f"{who}: revise must be True/False or a number of revision rounds >= 0, got {revise!r}")
    if rules not in ("nelson", "western_electric", "none"):
        raise InvalidInputError(f"{who}: rules must be 'nelson', 'western_electric' or 'none'; got {rules!r}")
    core = _core.monitoring.control_chart(v, n, kind, begin, end, rounds, rules)
    index = data.index if data is not None else pd.RangeIndex(v.size)
    return ControlChartResult(core, kind=kind, rules=rules, phase1=(begin, end), index=index)


class LqasRule:
    """An LQAS decision rule: an area reaches the upper threshold when successes >= rule; its α and β risks."""

    def __init__(self, n: int, rule: int, upper: float, lower: float, alpha: float, beta: float):
        self.n, self.rule, self.upper, self.lower, self.alpha, self.beta = n, rule, upper, lower, alpha, beta

    def classify(self, successes, *, names=None) -> pd.DataFrame:
        """Classify supervision areas from their success counts (of n each): reached / not reached."""
        arr, index, _ = _counts(successes, "successes", "lqas_rule.classify")
        flags = np.asarray(_core.monitoring.lqas_classify(np.ascontiguousarray(arr), self.n, self.rule)).astype(bool)
        idx = names if names is not None else (index if index is not None else pd.RangeIndex(arr.size))
        return pd.DataFrame({"area": list(idx), "successes": arr, "n": self.n, "rule": self.rule,
                             "classification": np.where(flags, "reached", "not reached")})

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([{"n": self.n, "upper": self.upper, "lower": self.lower, "rule": self.rule,
                              "alpha": self.alpha, "beta": self.beta}])

    def __repr__(self) -> str:
        return (f"<LqasRule n={self.n}: reached if successes >= {self.rule} (upper {self.upper:g}, lower {self.lower:g}; "
                f"alpha {self.alpha:.3f}, beta {self.beta:.3f})>")


def _lqas_args(n, upper, lower, who):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{who}: n must be an integer, got {n!r}")
    for name, v in (("upper", upper), ("lower", lower)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{who}: {name} must be a number in [0, 1], got {v!r}")
    return int(n), float(upper), float(lower)


def lqas_rule(n, upper, lower, *, rule: Optional[int] = None) -> LqasRule:
    """LQAS decision rule for n respondents per area and thresholds lower < upper: the rule d minimising α + β
    (α = P(successes < d | upper), β = P(successes >= d | lower)); with ``rule`` given, that rule's risks."""
    who = "lqas_rule"
    n, upper, lower = _lqas_args(n, upper, lower, who)
    if rule is None:
        d, a, b = _core.monitoring.lqas_rule(n, upper, lower)
    else:
        if isinstance(rule, bool) or not isinstance(rule, (int, np.integer)):
            raise TypeError(f"{who}: rule must be an integer, got {rule!r}")
        d, a, b = _core.monitoring.lqas_risks(n, int(rule), upper, lower)
    return LqasRule(n, int(d), upper, lower, float(a), float(b))


def lqas_table(n, *, targets=None, grey_zone: float = 0.30) -> pd.DataFrame:
    """Decision rules for sample size n by upper threshold (10%, 15%, …, 95% by default), lower = upper − grey_zone
    (at least 0), with α and β and whether both are at most 10%."""
    who = "lqas_table"
    targets = np.round(np.arange(0.10, 0.951, 0.05), 2) if targets is None else np.asarray(targets, dtype=float)
    rows = []
    for u in targets:
        r = lqas_rule(n, float(u), max(float(u) - grey_zone, 0.0))
        rows.append({"upper": r.upper, "lower": r.lower, "rule": r.rule, "alpha": r.alpha, "beta": r.beta,
                     "both_risks_at_most_10pct": r.alpha <= 0.1 and r.beta <= 0.1})
    if not rows:
        raise InvalidInputError(f"{who}: targets is empty")
    return pd.DataFrame(rows)


class SampleSize:
    """A survey sample size with the formula used."""

    def __init__(self, n: int, n_unrounded: float, formula: str, inputs: dict):
        self.n, self.n_unrounded, self.formula, self.inputs = int(n), float(n_unrounded), formula, inputs

    def __int__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"<SampleSize n={self.n} ({self.n_unrounded:.2f} before rounding up): {self.formula}>"


def sample_size_proportion(p: float, *, margin: Optional[float] = None, p2: Optional[float] = None,
                           level: float = 0.95, alpha: float = 0.05, power: float = 0.8, deff: float = 1.0,
                           population: Optional[float] = None, response_rate: float = 1.0) -> SampleSize:
    """Survey sample size for a proportion.

    With ``margin``: respondents to estimate p within ±margin at ``level`` (Cochran 1977),
    deff·z²p(1−p)/e², finite-population corrected with ``population``. With ``p2``: respondents per round to
    detect a change p → p2 (two-sided ``alpha``, ``power``; Fleiss et al. 2003 eq. 4.14 without continuity
    correction). Both divided by ``response_rate``; rounded up.
    """
    who = "sample_size_proportion"
    if (margin is None) == (p2 is None):
        raise InvalidInputError(f"{who}: give exactly one of margin (estimate p) or p2 (detect a change p -> p2)")
    num = [("p", p), ("deff", deff), ("response_rate", response_rate)]
    num += [("margin", margin), ("level", level)] if margin is not None else [("p2", p2), ("alpha", alpha), ("power", power)]
    for name, v in num:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{who}: {name} must be a number, got {v!r}")
    if margin is not None:
        pop = 0.0 if population is None else float(population)
        n, raw, f = _core.monitoring.sample_size_proportion(float(p), float(margin), float(level), float(deff), pop,
                                                             float(response_rate))
        return SampleSize(n, raw, f, {"p": p, "margin": margin, "level": level, "deff": deff, "population": population,
                                      "response_rate": response_rate})
    if population is not None:
        raise InvalidInputError(f"{who}: population applies to margin= (estimating p) only")
    n, raw, f = _core.monitoring.sample_size_change(float(p), float(p2), float(alpha), float(power), float(deff),
                                                     float(response_rate))
    return SampleSize(n, raw, f, {"p1": p, "p2": p2, "alpha": alpha, "power": power, "deff": deff,
                                  "response_rate": response_rate})


__all__ = ["mann_kendall", "sens_slope", "TrendTestResult", "SensSlopeResult", "MonitoringSummary", "proportion", "rate",
           "IndicatorIntervals", "control_chart", "ControlChartResult", "lqas_rule", "lqas_table", "LqasRule",
           "sample_size_proportion", "SampleSize"]
