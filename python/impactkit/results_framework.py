"""Results frameworks: indicators with baselines and targets, evaluated on monitoring data with
honest uncertainty — ``ik.ResultsFramework``.

For indicator k (baseline b, target T, direction "increase" or "decrease") and its actual θ̂ at a
period (the mean of a column of the monitoring data — a proportion for a 0/1 column — per group, or a
value supplied with its SE), with SE s and df ν (iid: s²/n, n − 1 df; a survey design: domain means on
the full design, design df):

- interval: θ̂ ± t_ν s;
- achievement θ̂/T and progress (θ̂ − b)/(T − b), linear in θ̂ (b and T are fixed numbers), so their
  intervals are those of θ̂ mapped the same way (progress is undefined when T = b);
- milestone m_p: the value expected at period p on the straight line from b at the baseline period
  to T at the target period (T itself when no baseline period is given or p is past the target
  period);
- probability the milestone (target) is met: P(θ ≥ m) for "increase", P(θ ≤ m) for "decrease",
  with θ ~ θ̂ + s·t_ν (the posterior under a flat prior, equivalently the one-sided p-value of the
  test θ = m);
- status (:class:`StatusRule`): "on track" when that probability is at least ``on_track`` (0.8 by
  default), "off track" when below ``off_track`` (0.2), otherwise "at risk".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from ._render import CellTable, format_number
from .change import (as_list, cell_moments, check_frame, check_level, data_column, design_domain_means, group_codes,
                     outcome_values, t_quantile)
from .errors import InvalidInputError

_DIRECTIONS = ("increase", "decrease")
_STATUS_COLOURS = {"on track": "#1a7f37", "at risk": "#b58100", "off track": "#c62828", "no data": "#777777"}


@dataclass(frozen=True)
class StatusRule:
    """Status of an indicator from the probability that its milestone is met (see the module docstring).

    on_track: minimum probability for "on track"; off_track: below it "off track"; in between
    "at risk". trajectory: "linear" (milestones on the line from baseline to target) or "target"
    (every period is judged against the final target)."""
    on_track: float = 0.8
    off_track: float = 0.2
    trajectory: str = "linear"

    def __post_init__(self):
        if not 0 < self.off_track <= self.on_track < 1:
            raise InvalidInputError(f"StatusRule: need 0 < off_track <= on_track < 1, got {self.off_track}, {self.on_track}")
        if self.trajectory not in ("linear", "target"):
            raise InvalidInputError(f"StatusRule: trajectory must be 'linear' or 'target', got {self.trajectory!r}")

    def describe(self) -> str:
        line = ("the milestone on the straight line from the baseline to the target" if self.trajectory == "linear"
                else "the final target")
        return (f"Status: P(indicator meets {line}) >= {self.on_track:g}: on track; < {self.off_track:g}: off track; "
                "otherwise at risk (t approximation to the sampling distribution of the actual).")

    def classify(self, probability) -> np.ndarray:
        p = np.asarray(probability, dtype=float)
        out = np.where(p >= self.on_track, "on track", np.where(p < self.off_track, "off track", "at risk")).astype(object)
        out[~np.isfinite(p)] = "no data"
        return out


_REQUIRED = ("id", "name", "direction", "baseline", "target")


class ResultsFramework:
    """A results framework: one row per indicator.

    Columns of ``indicators`` (a DataFrame or a list of dicts): ``id``, ``name``, ``direction``
    ("increase" | "decrease"), ``baseline``, ``target``; optional ``unit`` (text for tables),
    ``baseline_period``, ``target_period`` (numbers on the period scale of the data, for milestones),
    ``column`` (the monitoring-data column whose mean is the actual; a 0/1 column gives a proportion),
    ``statistic`` ("mean", or "proportion": the same mean, with the column checked to hold only 0/1).
    Indicators without ``column`` take their actuals from ``evaluate(actuals=...)``."""

    def __init__(self, indicators, *, rule: Optional[StatusRule] = None):
        if isinstance(indicators, (list, tuple)):
            indicators = pd.DataFrame(list(indicators))
        if not isinstance(indicators, pd.DataFrame):
            raise TypeError(f"ResultsFramework: indicators must be a DataFrame or a list of dicts, got {type(indicators).__name__}")
        if len(indicators) == 0:
            raise InvalidInputError("ResultsFramework: no indicators given")
        missing = [c for c in _REQUIRED if c not in indicators.columns]
        if missing:
            raise InvalidInputError(f"ResultsFramework: the indicator table lacks column(s) {missing}; need {list(_REQUIRED)}")
        ind = indicators.copy().reset_index(drop=True)
        for c in ("unit", "column"):
            if c not in ind.columns:
                ind[c] = None
        if "statistic" in ind.columns:  # how the actual is computed from its column
            bad_stat = ind["statistic"].notna() & ~ind["statistic"].isin(("mean", "proportion"))
            if bad_stat.any():
                raise InvalidInputError(f"ResultsFramework: indicator {ind['id'][bad_stat].iloc[0]!r} has statistic "
                                        f"{ind['statistic'][bad_stat].iloc[0]!r}; use 'mean' or 'proportion' (the mean of a 0/1 column)")
            ind["statistic"] = ind["statistic"].fillna("mean")
        else:
            ind["statistic"] = "mean"
        for c in ("baseline_period", "target_period"):
            if c not in ind.columns:
                ind[c] = np.nan
        if ind["id"].duplicated().any():
            raise InvalidInputError(f"ResultsFramework: indicator id {ind['id'][ind['id'].duplicated()].iloc[0]!r} appears twice")
        bad = ~ind["direction"].isin(_DIRECTIONS)
        if bad.any():
            raise InvalidInputError(f"ResultsFramework: indicator {ind['id'][bad].iloc[0]!r} has direction "
                                    f"{ind['direction'][bad].iloc[0]!r}; use 'increase' or 'decrease'")
        for c in ("baseline", "target"):
            v = pd.to_numeric(ind[c], errors="coerce").to_numpy(dtype=float)
            if not np.isfinite(v).all():
                raise InvalidInputError(f"ResultsFramework: indicator {ind['id'][~np.isfinite(v)].iloc[0]!r} has a missing or "
                                        f"non-numeric {c}")
            ind[c] = v
        wrong = ((ind["direction"] == "increase") & (ind["target"] < ind["baseline"])) | \
                ((ind["direction"] == "decrease") & (ind["target"] > ind["baseline"]))
        if wrong.any():
            raise InvalidInputError(f"ResultsFramework: indicator {ind['id'][wrong].iloc[0]!r}: its target lies on the wrong side "
                                    "of its baseline for its direction")
        self.indicators = ind
        self.rule = rule or StatusRule()

    def __repr__(self) -> str:
        return f"<ResultsFramework: {len(self.indicators)} indicator(s); {self.rule.describe()}>"

    def report(self, path, *, title: str, data, period: str, **kwargs):
        """One self-contained HTML page (and its Markdown twin beside it): status overview, indicator
        table with status colours and intervals, progress and trend charts, disaggregation
        (``disaggregate_by=``), panel retention (``unit_id=``) and a methods box. Keyword arguments:
        see :func:`impactkit.monitoring_report.write_report`. Returns (html path, markdown path)."""
        from .monitoring_report import write_report

        return write_report(self, path, title=title, data=data, period=period, **kwargs)

    # ------------------------------------------------------------------------------------------
    def evaluate(self, data=None, *, period: str, by=None, design=None, actuals: Optional[pd.DataFrame] = None,
                 level: float = 0.95, rule: Optional[StatusRule] = None) -> "FrameworkEvaluation":
        """Actuals, achievement, progress, probability of meeting the milestone and status per indicator,
        period and group (``by``: column or list; each is a dimension of its own, plus everyone).

        ``actuals``: supplied values for indicators without a ``column``: a DataFrame with columns
        ``id``, ``period``, ``value``, ``se`` (and optionally ``df``; default normal)."""
        who = "ResultsFramework.evaluate"
        level = check_level(level, who)
        rule = rule or self.rule
        rows = []
        ind = self.indicators
        from_data = ind[ind["column"].notna()]
        if len(from_data):
            if data is None:
                raise InvalidInputError(f"{who}: indicators {list(from_data['id'])} are computed from data; pass data=")
            check_frame(data, who)
            for _, r in from_data[from_data["statistic"] == "proportion"].iterrows():
                v = outcome_values(data, r["column"], who)
                if not np.isin(v[~np.isnan(v)], (0.0, 1.0)).all():
                    raise InvalidInputError(f"{who}: indicator {r['id']!r} is a proportion but column {r['column']!r} has "
                                            "values other than 0 and 1")
            rows.append(_period_means(data, list(from_data["column"]), period, as_list(by), design, who)
                        .merge(from_data[["id", "column"]], on="column").drop(columns="column"))
        supplied = ind[ind["column"].isna()]
        if len(supplied):
            if actuals is None:
                raise InvalidInputError(f"{who}: indicators {list(supplied['id'])} have no column; pass their values in actuals=")
            need = [c for c in ("id", "period", "value", "se") if c not in actuals.columns]
            if need:
                raise InvalidInputError(f"{who}: actuals lacks column(s) {need}")
            a = actuals[actuals["id"].isin(supplied["id"])]
            rows.append(pd.DataFrame({"id": a["id"].to_numpy(), "period": a["period"].to_numpy(), "dimension": "all",
                                      "group": "all", "estimate": a["value"].to_numpy(dtype=float),
                                      "std_error": a["se"].to_numpy(dtype=float),
                                      "df": a["df"].to_numpy(dtype=float) if "df" in a.columns else np.inf, "n": np.nan}))
        frame = pd.concat(rows, ignore_index=True).merge(ind, on="id", how="left")
        return FrameworkEvaluation(_assess(frame, rule, level), rule=rule, level=level,
                                   sampling="complex survey design (domain means on the full design)" if design is not None
                                   else "iid observations within period and group (s²/n, n − 1 df)")


def _period_means(data, columns, period, by, design, who) -> pd.DataFrame:
    """Mean, SE, df and n of each column per period × group (each ``by`` dimension, plus everyone)."""
    per = data_column(data, period, "period", who)
    if per.isna().any():
        raise InvalidInputError(f"{who}: period column {period!r} has missing values")
    ys = [outcome_values(data, c, who) for c in columns]
    out = []
    for dim in ["all"] + by:
        cols = [period] if dim == "all" else [dim, period]
        codes, levels = group_codes(data, cols, who)
        if design is not None:
            from .change import _rows_of

            _rows_of(design, data, who)
            D = len(levels)
            theta, se, n = (np.empty((D, len(columns))) for _ in range(3))
            df = np.full(theta.shape, design.df)
            for j, y in enumerate(ys):  # a missing outcome puts its row outside every domain (it stays in the design)
                th, V, _, n[:, j] = design_domain_means(design, y, codes, levels, columns[j], who)
                theta[:, j], se[:, j] = th, np.sqrt(np.diag(V))
        else:
            n, theta, var = cell_moments(ys, codes.astype(np.int32), len(levels))
            with np.errstate(invalid="ignore", divide="ignore"):
                se, df = np.sqrt(var / n), n - 1
        for j, c in enumerate(columns):
            out.append(pd.DataFrame({"column": c, "period": levels[period].to_numpy(), "dimension": dim,
                                     "group": "all" if dim == "all" else levels[dim].to_numpy(),
                                     "estimate": theta[:, j], "std_error": se[:, j], "df": df[:, j], "n": n[:, j]}))
    return pd.concat(out, ignore_index=True)


def _assess(f: pd.DataFrame, rule: StatusRule, level: float) -> pd.DataFrame:
    """Adds intervals, achievement, progress, milestone, probability and status to the actuals."""
    est, se, df = (f[c].to_numpy(dtype=float) for c in ("estimate", "std_error", "df"))
    b, T = f["baseline"].to_numpy(dtype=float), f["target"].to_numpy(dtype=float)
    t = t_quantile(level, df)
    f["conf_low"], f["conf_high"] = est - t * se, est + t * se
    with np.errstate(invalid="ignore", divide="ignore"):
        f["achievement"] = est / T
        lo, hi = f["conf_low"] / T, f["conf_high"] / T
        f["achievement_low"], f["achievement_high"] = np.minimum(lo, hi), np.maximum(lo, hi)
        span = np.where(T == b, np.nan, T - b)
        f["progress"] = (est - b) / span
        lo, hi = (f["conf_low"] - b) / span, (f["conf_high"] - b) / span
        f["progress_low"], f["progress_high"] = np.minimum(lo, hi), np.maximum(lo, hi)
        p0, pT = f["baseline_period"].to_numpy(dtype=float), f["target_period"].to_numpy(dtype=float)
        per = pd.to_numeric(f["period"], errors="coerce").to_numpy(dtype=float)
        frac = np.clip((per - p0) / (pT - p0), 0.0, 1.0)
        use_line = (rule.trajectory == "linear") & np.isfinite(frac)
        f["milestone"] = np.where(use_line, b + frac * (T - b), T)
        sign = np.where(f["direction"].to_numpy() == "increase", 1.0, -1.0)
        z = sign * (est - f["milestone"].to_numpy()) / se
    prob = np.full(len(f), np.nan)
    ok = np.isfinite(z) & (df > 0)
    if ok.any():
        prob[ok] = _t_cdf(z[ok], df[ok])
    exact = (se == 0) & np.isfinite(est)  # no sampling error (all successes, supplied exactly)
    prob[exact] = (sign[exact] * (est[exact] - f["milestone"].to_numpy()[exact]) >= 0).astype(float)
    f["probability_met"] = prob
    f["status"] = rule.classify(prob)
    cols = ["id", "name", "unit", "direction", "period", "dimension", "group", "n", "estimate", "std_error", "df", "conf_low",
            "conf_high", "baseline", "target", "milestone", "achievement", "achievement_low", "achievement_high", "progress",
            "progress_low", "progress_high", "probability_met", "status"]
    return f[cols].sort_values(["id", "dimension", "group", "period"], key=None, kind="stable").reset_index(drop=True)


def _t_cdf(z: np.ndarray, df: np.ndarray) -> np.ndarray:
    """P(T ≤ z) for Student t with df (normal for inf) from the shared two-sided p-values:
    P(T ≤ z) = 1 − p/2 for z ≥ 0, p/2 for z < 0."""
    p = np.asarray(_core.two_sided_p_values(np.ascontiguousarray(z, dtype=float), np.ascontiguousarray(df, dtype=float)))
    return np.where(z >= 0, 1 - p / 2, p / 2)


class FrameworkEvaluation:
    """The evaluation of a results framework: ``table()`` (every number), ``summary()`` (the donor
    table with status colours), ``plot()`` (progress bars with intervals; indicator trends)."""

    def __init__(self, frame: pd.DataFrame, *, rule: StatusRule, level: float, sampling: str):
        self._frame = frame
        self.rule = rule
        self.level = level
        self.sampling = sampling

    def table(self) -> pd.DataFrame:
        return self._frame.copy()

    def latest(self) -> pd.DataFrame:
        """Rows of the last period with data for each indicator and group."""
        f = self._frame
        last = f.groupby("id")["period"].transform("max")
        return f[f["period"] == last].reset_index(drop=True)

    def notes(self) -> list:
        return [f"Intervals: {self.level:.0%}, t-based; sampling: {self.sampling}.",
                "Achievement = actual / target; progress = (actual − baseline) / (target − baseline); both with the "
                "interval of the actual mapped through the same line (baseline and target are fixed numbers).",
                self.rule.describe()]

    def summary(self, *, period=None, digits: int = 3) -> CellTable:
        """The donor table for one period (default: each indicator's latest), groups "all" only unless
        the evaluation was split by group (then every group)."""
        f = self.latest() if period is None else self._frame[self._frame["period"] == period]
        rows, styles = [], []
        for _, r in f.iterrows():
            unit = "" if r["unit"] is None or (isinstance(r["unit"], float) and np.isnan(r["unit"])) else f" {r['unit']}"
            grp = "all" if r["dimension"] == "all" else f"{r['dimension']}={r['group']}"
            rows.append([str(r["id"]), str(r["name"]), grp, str(r["period"]), format_number(r["baseline"], digits) + unit,
                         format_number(r["target"], digits) + unit,
                         f"{format_number(r['estimate'], digits)} [{format_number(r['conf_low'], digits)}, "
                         f"{format_number(r['conf_high'], digits)}]",
                         f"{format_number(100 * r['progress'], digits)}% [{format_number(100 * r['progress_low'], digits)}, "
                         f"{format_number(100 * r['progress_high'], digits)}]",
                         format_number(r["probability_met"], 2), str(r["status"])])
            styles.append(f"border-left:6px solid {_STATUS_COLOURS[r['status']]};")
        header = ["ID", "Indicator", "Group", "Period", "Baseline", "Target", "Actual [CI]", "Progress [CI]", "P(met)", "Status"]
        return CellTable(header, rows, title="Results framework", notes=self.notes(),
                         align=["l", "l", "l", "l", "r", "r", "r", "r", "r", "l"], row_styles=styles)

    def to_markdown(self, **kw) -> str:
        return self.summary(**kw).to_markdown()

    def to_html(self, **kw) -> str:
        return self.summary(**kw).to_html()

    def to_latex(self, **kw) -> str:
        return self.summary(**kw).to_latex()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        counts = self.latest().query("dimension == 'all'")["status"].value_counts().to_dict()
        return f"<FrameworkEvaluation: {self._frame['id'].nunique()} indicator(s); latest status {counts}>"

    def plot(self, kind: str = "progress", ax=None, **kwargs):
        """kind="progress": horizontal bars of progress towards the target (latest period, everyone) with
        intervals, coloured by status, and the milestone marked; kind="trend": each indicator's actual
        with intervals over periods against its target line."""
        import matplotlib.pyplot as plt

        if kind == "progress":
            f = self.latest().query("dimension == 'all'").reset_index(drop=True)
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(f)))
            y = np.arange(len(f))[::-1]
            ax.barh(y, 100 * f["progress"], color=[_STATUS_COLOURS[s] for s in f["status"]], alpha=0.8, **kwargs)
            err = np.vstack([100 * (f["progress"] - f["progress_low"]), 100 * (f["progress_high"] - f["progress"])])
            ax.errorbar(100 * f["progress"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3)
            span = (f["target"] - f["baseline"]).replace(0, np.nan)
            ax.scatter(100 * (f["milestone"] - f["baseline"]) / span, y, marker="|", s=200, color="black", label="milestone")
            ax.axvline(100, color="grey", linestyle="--", linewidth=1)
            ax.set_yticks(y)
            ax.set_yticklabels([f"{i}: {n}" for i, n in zip(f["id"], f["name"])])
            ax.set_xlabel("progress towards target (%)")
            ax.legend(loc="lower right", fontsize="small")
            return ax
        if kind == "trend":
            f = self._frame.query("dimension == 'all'")
            ids = list(dict.fromkeys(f["id"]))
            if ax is None:
                _, axes = plt.subplots(1, len(ids), figsize=(3.2 * len(ids), 2.8), squeeze=False)
                axes = axes[0]
            else:
                axes = np.atleast_1d(ax)
            for a, i in zip(axes, ids):
                s = f[f["id"] == i]
                x = pd.to_numeric(s["period"], errors="coerce")
                a.errorbar(x, s["estimate"], yerr=[s["estimate"] - s["conf_low"], s["conf_high"] - s["estimate"]], fmt="o-",
                           capsize=3)
                a.axhline(s["target"].iloc[0], color="grey", linestyle="--", linewidth=1)
                a.set_title(f"{i}: {s['name'].iloc[0]}", fontsize="small")
            return axes
        raise InvalidInputError(f"plot: kind must be 'progress' or 'trend', got {kind!r}")
