"""Panel monitoring of beneficiary households followed over rounds: ``ik.panel_monitoring``.

- Retention per round r and baseline group g: the share of the units present at baseline (the first
  period) still observed at r, with a Wilson interval (``ik.proportion``); attrition = 1 − retention.
- Differential attrition: at each round, Pearson's χ² test of independence of retention and group
  (the (G − 1) df test of the G × 2 table; Pearson 1900) and, when ``covariates`` are given, the joint
  Wald test of the baseline covariates in a logit of retention (selective attrition on observables).
- Inverse-probability-of-retention weights (Wooldridge 2002, 2010 §19.8; Fitzgerald, Gottschalk &
  Moffitt 1998): per round, p̂_i = P(retained at r | baseline x_i) from the shared logit
  (``ik.logit``) on the baseline rows; a retained unit's row at r gets weight 1/p̂_i (baseline rows 1).
- Indicators per round on three samples: every unit observed ("unbalanced"), the units observed in
  every round ("balanced") and the unbalanced sample reweighted by the retention weights ("ipw"),
  with design-based standard errors that treat the units as PSUs and the weights as known
  (``ik.SurveyDesign(psu=unit_id)``; the estimation error of the weights is not propagated).
- Graduation: the share of observed units at each round whose outcome reaches a threshold, with a
  Wilson interval, per group.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from .change import as_list, check_frame, data_column, outcome_values, plain
from .errors import ImpactkitWarning, InvalidInputError


class PanelMonitoring:
    """Tables of :func:`panel_monitoring`: ``retention``, ``attrition_tests``, ``weights`` (a Series aligned
    with the data, or None), ``indicators`` and ``graduation`` (DataFrames, or None when not asked)."""

    def __init__(self, retention, attrition_tests, weights, indicators, graduation, notes):
        self.retention = retention
        self.attrition_tests = attrition_tests
        self.weights = weights
        self.indicators = indicators
        self.graduation = graduation
        self._notes = notes

    def notes(self) -> list:
        return list(self._notes)

    def __repr__(self) -> str:
        last = self.retention.query("group == 'all'").iloc[-1]
        return f"<PanelMonitoring: retention at period {last['period']} = {last['retention']:.3f} of {int(last['n_baseline'])} units>"


def _wilson(successes, trials, level):
    from .monitoring import proportion

    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    lo = np.full(s.shape, np.nan)
    hi = np.full(s.shape, np.nan)
    ok = n > 0
    if ok.any():
        r = proportion(s[ok], n[ok], method="wilson", level=level)
        lo[ok], hi[ok] = np.asarray(r.conf_low), np.asarray(r.conf_high)
    return lo, hi


def _pearson_chi2(table: np.ndarray):
    """(statistic, df, p) of Pearson's χ² test of independence on a r × c table of counts (rows and
    columns with zero totals dropped; no continuity correction)."""
    t = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan, 0, np.nan
    e = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
    stat = float(((t - e) ** 2 / e).sum())
    df = (t.shape[0] - 1) * (t.shape[1] - 1)
    return stat, df, float(_core.chi2_upper_tail(stat, float(df)))


def panel_monitoring(data, *, unit_id: str, period: str, by=None, covariates: Optional[str] = None, outcomes=None,
                     graduation: Optional[dict] = None, level: float = 0.95) -> PanelMonitoring:
    """Retention, differential attrition, retention weights, balanced/reweighted indicators, graduation.

    Parameters
    ----------
    data : DataFrame, one row per unit and period (never modified); the first period is the baseline.
    unit_id, period : columns of the unit and the round (periods sortable).
    by : column(s) of baseline groups for retention and graduation (the unit's value at baseline).
    covariates : right-hand side of the retention logit on baseline characteristics, e.g.
        ``"sex + age + C(region)"``; gives the retention weights and the selective-attrition test.
    outcomes : column(s) whose means are reported per round on the unbalanced, balanced and (with
        covariates) reweighted panels.
    graduation : ``{"column": name, "threshold": value}`` (optional ``"direction": ">=" | "<="``).
    """
    who = "panel_monitoring"
    check_frame(data, who)
    uid = data_column(data, unit_id, "unit_id", who)
    per = data_column(data, period, "period", who)
    for c, name in ((uid, "unit_id"), (per, "period")):
        if c.isna().any():
            raise InvalidInputError(f"{who}: {name} column {c.name!r} has missing values")
    if pd.DataFrame({"u": uid.to_numpy(), "p": per.to_numpy()}).duplicated().any():
        raise InvalidInputError(f"{who}: a unit has more than one row in one period; a panel has one row per unit and period")
    periods = sorted(pd.unique(per))
    if len(periods) < 2:
        raise InvalidInputError(f"{who}: the data have a single period ({plain(periods[0])!r}); retention needs at least two")
    by = as_list(by)
    base = data[per.to_numpy() == periods[0]]
    base_units = pd.Index(base[unit_id])
    present = {p: pd.Index(uid[per.to_numpy() == p]) for p in periods}
    groups = {"all": pd.Series("all", index=base_units)}
    for b in by:
        col = data_column(base, b, "by", who)
        if col.isna().any():
            raise InvalidInputError(f"{who}: by column {b!r} has missing values at baseline")
        groups[b] = pd.Series(col.to_numpy(), index=base_units)
    notes = [f"Baseline: period {plain(periods[0])!r} ({len(base_units)} units); later entrants are not counted in retention."]

    # retention and the chi-square test per round
    ret_rows, tests = [], []
    for p in periods[1:]:
        kept = base_units.isin(present[p])
        for dim, g in groups.items():
            frame = pd.DataFrame({"g": g.to_numpy(), "kept": kept})
            agg = frame.groupby("g", sort=True)["kept"].agg(["sum", "size"])
            lo, hi = _wilson(agg["sum"], agg["size"], level)
            ret_rows.append(pd.DataFrame({"period": p, "dimension": dim, "group": agg.index.astype(str) if dim == "all" else agg.index,
                                          "n_baseline": agg["size"].to_numpy(), "n_retained": agg["sum"].to_numpy(),
                                          "retention": (agg["sum"] / agg["size"]).to_numpy(), "conf_low": lo, "conf_high": hi,
                                          "attrition": 1 - (agg["sum"] / agg["size"]).to_numpy()}))
            if dim != "all":
                stat, df, pv = _pearson_chi2(np.column_stack([agg["sum"], agg["size"] - agg["sum"]]).astype(float))
                tests.append(dict(period=p, test=f"retention by {dim} (Pearson chi2)", statistic=stat, df=df, p_value=pv))
    retention = pd.concat(ret_rows, ignore_index=True)

    # retention weights from the shared logit on baseline characteristics
    weights = None
    if covariates is not None:
        from .glm import logit

        weights = pd.Series(np.nan, index=data.index, name="retention_weight")
        weights[per.to_numpy() == periods[0]] = 1.0
        bframe = base.reset_index(drop=True).copy()
        for p in periods[1:]:
            bframe["_retained"] = base_units.isin(present[p]).astype(float)
            if bframe["_retained"].min() == 1.0:
                weights[per.to_numpy() == p] = 1.0
                tests.append(dict(period=p, test="selective attrition (logit Wald)", statistic=0.0, df=0, p_value=1.0))
                continue
            fit = logit(f"_retained ~ {covariates}", bframe)
            terms = [t for t in fit.coef.index if t != "Intercept"]
            if terms:
                w = fit.wald_test(", ".join(f"{t} = 0" for t in terms), distribution="chi2")
                tests.append(dict(period=p, test="selective attrition (logit Wald)", statistic=float(w.statistic),
                                  df=int(w.df_num), p_value=float(w.p_value)))
            phat = pd.Series(np.asarray(fit.predict(bframe)), index=base_units)
            rows = np.flatnonzero(per.to_numpy() == p)
            u = uid.to_numpy()[rows]
            inbase = pd.Index(u).isin(base_units)
            weights.iloc[rows[inbase]] = 1.0 / phat.reindex(u[inbase]).to_numpy()
        if (weights.dropna() > 20).any():
            warnings.warn(f"{who}: some retention weights exceed 20 (predicted retention below 5%); consider trimming",
                          ImpactkitWarning, stacklevel=2)
        notes.append(f"Retention weights: 1 / P(retained | {covariates}) from a logit on the baseline rows, per round.")
    tests = pd.DataFrame(tests, columns=["period", "test", "statistic", "df", "p_value"])

    indicators = None
    if outcomes is not None:
        indicators = _panel_indicators(data, uid, per, periods, as_list(outcomes), weights, unit_id, period, who)
        notes.append("Indicator SEs treat units as PSUs and the weights as known (ik.SurveyDesign(psu=unit_id)).")
    grad = None
    if graduation is not None:
        grad = _graduation(data, uid, per, periods, graduation, groups, level, who)
    return PanelMonitoring(retention, tests, weights, indicators, grad, notes)


def _panel_indicators(data, uid, per, periods, outcomes, weights, unit_id, period, who):
    from .survey import SurveyDesign

    counts = pd.Series(uid.to_numpy()).map(pd.Series(uid.to_numpy()).value_counts())
    balanced = (counts == len(periods)).to_numpy()
    samples = [("unbalanced", np.ones(len(data), dtype=bool), None), ("balanced", balanced, None)]
    if weights is not None:
        samples.append(("ipw", weights.notna().to_numpy(), weights))
    for o in outcomes:
        if np.isnan(outcome_values(data, o, who)).any():
            raise InvalidInputError(f"{who}: outcome {o!r} has missing values; drop or impute them first")
    out = []
    for name, mask, w in samples:
        sub = data.loc[mask, [unit_id, period] + outcomes].copy()
        sub["_w"] = 1.0 if w is None else w[mask].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImpactkitWarning)
            des = SurveyDesign(sub, weights="_w", psu=unit_id)
        t = des.mean(outcomes, by=period).tidy()
        t.insert(0, "sample", name)
        t["n"] = t[period].map(sub[period].value_counts())
        out.append(t.rename(columns={"term": "outcome", period: "period"}))
    return pd.concat(out, ignore_index=True)[["sample", "outcome", "period", "n", "estimate", "std_error", "conf_low", "conf_high"]]


def _graduation(data, uid, per, periods, spec, groups, level, who):
    if not isinstance(spec, dict) or "column" not in spec or "threshold" not in spec:
        raise InvalidInputError(f"{who}: graduation must be a dict with 'column' and 'threshold'")
    y = outcome_values(data, spec["column"], who)
    direction = spec.get("direction", ">=")
    if direction not in (">=", "<="):
        raise InvalidInputError(f"{who}: graduation direction must be '>=' or '<=', got {direction!r}")
    met = (y >= spec["threshold"]) if direction == ">=" else (y <= spec["threshold"])
    ok = ~np.isnan(y)
    rows = []
    for dim, g in groups.items():
        grp = pd.Series(uid.to_numpy()).map(g).to_numpy()
        frame = pd.DataFrame({"p": per.to_numpy(), "g": grp, "met": met & ok, "ok": ok})
        frame = frame[pd.notna(frame["g"]) & frame["ok"]]
        agg = frame.groupby(["p", "g"], sort=True)["met"].agg(["sum", "size"]).reset_index()
        lo, hi = _wilson(agg["sum"], agg["size"], level)
        rows.append(pd.DataFrame({"period": agg["p"], "dimension": dim, "group": agg["g"], "n": agg["size"],
                                  "graduated": agg["sum"], "share": agg["sum"] / agg["size"], "conf_low": lo, "conf_high": hi}))
    return pd.concat(rows, ignore_index=True)
