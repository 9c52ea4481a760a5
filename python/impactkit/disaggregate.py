"""The disaggregation table donors ask for: ``ik.disaggregate``.

Per target group (each level of each ``by`` dimension, plus everyone) and indicator: the baseline and
endline means (proportions for 0/1 outcomes) with intervals, the absolute change and the relative
change with intervals, the gap of the group to a reference group of its dimension at endline with its
interval, and p-values adjusted across the family of groups × indicators.

The round means, their (co)variances and the df come from :func:`impactkit.change.round_moments`
(independent rounds, paired panel, or domains of an :class:`ik.SurveyDesign` on the full design — Taylor
or replicate weights), so
every number here equals ``ik.change`` for the same group. The gap g − ref at endline has variance
V_g + V_ref − 2 Cov(g, ref): independent groups (iid; Welch–Satterthwaite df) or the design
covariance of the two domain means (design df).

Multiple testing (statsmodels ``multipletests`` conventions): the family is every (group, indicator)
row except the "all" rows — for the change the hypotheses "no change", for the gap "no gap" (reference
rows excluded). Holm (1979) step-down (default), Bonferroni, or Benjamini–Hochberg (1995) step-up
false-discovery rate; adjusted p-values are capped at 1 and made monotone as statsmodels does.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from ._render import CellTable, format_number, format_pvalue
from .change import (as_list, cell_moments, change_inference, check_frame, check_level, data_column, design_domain_means,
                     group_codes, independent_moments, outcome_values, period_mask, refuse_infinite, round_cell_moments, round_moments,
                     t_quantile, two_sided_p, welch_df)
from .errors import InvalidInputError

_ADJUST = ("holm", "bonferroni", "bh", "none")


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of a family (NaN entries are left out of the family and stay NaN).

    holm: p_(i) ← max_{j≤i} min(1, (m − j + 1) p_(j)) (Holm 1979); bonferroni: min(1, m p);
    bh: p_(i) ← min_{j≥i} min(1, m p_(j)/j) (Benjamini & Hochberg 1995). As statsmodels
    ``multipletests(method="holm" | "bonferroni" | "fdr_bh")``."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = q.size
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q, kind="mergesort")
    s = q[order]
    if method == "bonferroni":
        adj = np.minimum(1.0, m * s)
    elif method == "holm":
        adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * s))
    elif method == "bh":
        adj = np.minimum(1.0, np.minimum.accumulate((m * s / np.arange(1, m + 1))[::-1])[::-1])
    else:
        raise InvalidInputError(f"adjust must be one of {', '.join(_ADJUST)}, got {method!r}")
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def _interval(est, var, df, level):
    t = t_quantile(level, df)
    se = np.sqrt(var)
    return est - t * se, est + t * se


class Disaggregation:
    """The result of :func:`disaggregate`: ``table()`` (all numbers), ``to_dataframe()``,
    ``to_markdown()``, ``to_html()``, ``to_latex()`` (the formatted donor table), ``summary()``."""

    def __init__(self, frame: pd.DataFrame, *, has_change: bool, adjust: str, level: float, sampling: str, notes):
        self._frame = frame
        self.has_change = has_change
        self.adjust = adjust
        self.level = level
        self.sampling = sampling
        self._notes = list(notes)

    def table(self) -> pd.DataFrame:
        return self._frame.copy()

    def notes(self) -> list:
        lev = f"{self.level:.0%}"
        adj = {"holm": "Holm", "bonferroni": "Bonferroni", "bh": "Benjamini–Hochberg", "none": "no"}[self.adjust]
        out = [f"Intervals: {lev}, t-based. Sampling: {self.sampling}.",
               f"Adjusted p-values: {adj} adjustment across the family of groups × indicators (rows 'all' excluded)."]
        if self.has_change:
            out.append("Change: endline − baseline; relative change: endline/baseline − 1 (delta method).")
        out.append("Gap: group − reference group of the same dimension" + (" at endline." if self.has_change else "."))
        return out + self._notes

    def _cells(self, digits: int):
        f = self._frame

        def ci(est, lo, hi):
            return [f"{format_number(a, digits)} [{format_number(b, digits)}, {format_number(c, digits)}]"
                    for a, b, c in zip(est, lo, hi)]

        cols = {"Indicator": f["indicator"].astype(str), "Group": f["dimension"].astype(str) + "=" + f["group"].astype(str)}
        if self.has_change:
            cols["Baseline"] = ci(f["baseline"], f["baseline_low"], f["baseline_high"])
            cols["Endline"] = ci(f["endline"], f["endline_low"], f["endline_high"])
            cols["Change"] = ci(f["change"], f["change_low"], f["change_high"])
            cols["Relative change"] = ci(f["relative_change"], f["relative_low"], f["relative_high"])
            cols["p (adj.)"] = [format_pvalue(p) for p in f["change_p_adjusted"]]
        else:
            cols["Estimate"] = ci(f["endline"], f["endline_low"], f["endline_high"])
        cols["Gap to reference"] = ["reference" if r else c for r, c in zip(f["reference"], ci(f["gap"], f["gap_low"], f["gap_high"]))]
        cols["Gap p (adj.)"] = ["" if r else format_pvalue(p) for r, p in zip(f["reference"], f["gap_p_adjusted"])]
        cols["n"] = [str(int(n)) for n in f["n_endline"]]
        return pd.DataFrame(cols)

    def to_dataframe(self, digits: int = 3) -> pd.DataFrame:
        """The donor table: one row per indicator × group, estimates with intervals as text."""
        return self._cells(digits)

    def _cell_table(self, digits: int = 3) -> CellTable:
        d = self._cells(digits)
        return CellTable(list(d.columns), d.to_numpy().tolist(), title="Disaggregation", notes=self.notes(),
                         align=["l", "l"] + ["r"] * (d.shape[1] - 2))

    def to_markdown(self, digits: int = 3) -> str:
        return self._cell_table(digits).to_markdown()

    def to_html(self, digits: int = 3) -> str:
        return self._cell_table(digits).to_html()

    def to_latex(self, digits: int = 3) -> str:
        return self._cell_table(digits).to_latex()

    def summary(self, digits: int = 3) -> CellTable:
        return self._cell_table(digits)

    def __repr__(self) -> str:
        return f"<Disaggregation: {self._frame['indicator'].nunique()} indicator(s) x {len(self._frame) // max(1, self._frame['indicator'].nunique())} group(s)>"

    def __str__(self) -> str:
        return self._cell_table().as_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def _design_level_moments(data, outcome, groups, design, who):
    """Per group, the design-based mean (no period), in the layout of round_moments (endline)."""
    from .change import _rows_of

    codes, levels = groups
    _rows_of(design, data, who)
    names = levels if levels is not None else pd.DataFrame({"all": ["all"]})
    theta, V, conv, n = design_domain_means(design, outcome_values(data, outcome, who), codes, names, outcome, who)
    G = len(theta)
    return dict(m1=theta, v11=np.diag(V).copy(), n1=n, df1=np.full(G, float(conv.get("df", np.inf)))), (V, None, np.arange(G), theta)


def _gap(mom, full, ref: int):
    """(gap, variance, df) of each group's endline mean minus the reference group's."""
    m1, v11, df1 = mom["m1"], mom["v11"], mom["df1"]
    gap = m1 - m1[ref]
    if full is not None:
        V, _, i1, _ = full
        var = np.array([V[i1[g], i1[g]] + V[i1[ref], i1[ref]] - 2 * V[i1[g], i1[ref]] for g in range(len(m1))])
        return gap, var, df1.copy()
    var = v11 + v11[ref]
    df = welch_df(v11, np.full_like(v11, v11[ref]), df1, np.full_like(df1, df1[ref]))
    return gap, var, df


def disaggregate(data, *, outcomes, by, period: Optional[str] = None, baseline=None, endline=None,
                 unit_id: Optional[str] = None, design=None, reference: Optional[dict] = None, adjust: str = "holm",
                 level: float = 0.95, overall: bool = True) -> Disaggregation:
    """Indicators by target group, with change since baseline and gaps to a reference group.

    Parameters
    ----------
    data : DataFrame, one row per unit (and round); never modified.
    outcomes : column or list of columns (numeric or 0/1), or a dict {column: label}.
    by : column or list of columns; each is a dimension disaggregated on its own (sex, disability, ...).
    period, baseline, endline : the round column and the two rounds compared (default: its first and
        last values in sorted order). Without ``period`` the table shows levels and gaps only.
    unit_id : panel unit column (paired change). design : an :class:`ik.SurveyDesign` on ``data``.
    reference : {dimension: level} of the reference group of each dimension (default: its first level).
    adjust : "holm" (default), "bonferroni", "bh" (Benjamini–Hochberg) or "none".
    level : interval coverage. overall : add the "all" row per indicator.
    """
    who = "disaggregate"
    check_frame(data, who)
    level = check_level(level, who)
    if adjust not in _ADJUST:
        raise InvalidInputError(f"{who}: adjust must be one of {', '.join(_ADJUST)}, got {adjust!r}")
    labels = dict(outcomes) if isinstance(outcomes, dict) else {o: o for o in as_list(outcomes)}
    if not labels:
        raise InvalidInputError(f"{who}: outcomes is empty; name at least one outcome column")
    dims = as_list(by)
    if not dims:
        raise InvalidInputError(f"{who}: by is empty; name at least one group column")
    reference = dict(reference or {})
    for k in reference:
        if k not in dims:
            raise InvalidInputError(f"{who}: reference names {k!r}, which is not one of the by columns {dims}")
    masks = None
    if period is not None:
        per = data_column(data, period, "period", who)
        if baseline is None or endline is None:
            values = sorted(pd.unique(per.dropna()))
            baseline = (values[0] if values else None) if baseline is None else baseline
            endline = (values[-1] if values else None) if endline is None else endline
        masks = period_mask(per, baseline, "baseline", who), period_mask(per, endline, "endline", who)
    elif baseline is not None or endline is not None or unit_id is not None:
        raise InvalidInputError(f"{who}: baseline, endline and unit_id need period= (the round column)")
    iid = design is None and unit_id is None  # iid: all outcomes of a dimension in one C++ pass, which also finds ±inf
    ys = {o: outcome_values(data, o, who, check_infinite=not iid) for o in labels}
    groupings = [("all", None)] if overall else []
    groupings += [(d, d) for d in dims]
    blocks, sampling, notes = [], "", []
    for dim, col in groupings:
        groups = group_codes(data, [col] if col else [], who)
        levels = groups[1]
        G = 1 if levels is None else len(levels)
        names = ["all"] if levels is None else list(levels[col])
        ref = 0
        if col in reference:
            hits = [i for i, v in enumerate(names) if v == reference[col] or str(v) == str(reference[col])]
            if not hits:
                raise InvalidInputError(f"{who}: reference level {reference[col]!r} is not a level of {col!r} ({names[:20]})")
            ref = hits[0]
        if iid:  # one pass over all outcomes for this dimension (C++ cell moments)
            if period is None:
                *moments, infinite = cell_moments(list(ys.values()), groups[0], G, first_infinite=True)
                rows_used = len(data)
            else:
                *moments, infinite = round_cell_moments(list(ys.values()), groups[0], G, *masks)
                rows_used = int(np.count_nonzero(masks[0])) + int(np.count_nonzero(masks[1]))
            refuse_infinite(data, list(labels), infinite, who)
        for j, (o, lab) in enumerate(labels.items()):
            if iid:
                n, mean, var = (a[:, j] for a in moments)
                if period is not None:
                    mom, full = independent_moments(n, mean, var, G), None
                    sampling = "independent samples in the two rounds (repeated cross-sections); Welch–Satterthwaite df"
                else:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        mom, full = dict(m1=mean, v11=var / n, n1=n, df1=n - 1), None
                    sampling = "iid observations (s²/n)"
                missing = rows_used - int(n.sum())  # rows of the compared rounds without a value
                if missing and dim == "all":
                    notes.append(f"{lab}: {missing} row(s) with a missing outcome left out.")
            elif period is not None:
                mom, _, sampling, _, nts, full = round_moments(
                    data, outcome=o, period=period, baseline=baseline, endline=endline, unit_id=unit_id,
                    by=[col] if col else [], design=design, who=who, groups=groups, masks=masks)
                if dim == "all":
                    notes += [f"{lab}: {n}" for n in nts]
            else:
                mom, full = _design_level_moments(data, o, groups, design, who)
                sampling = "complex survey design (domains on the full design" + (
                    f"; {design.replicate_type} replicate weights)" if design._repw is not None else ")")
            b = {"indicator": [lab] * G, "dimension": [dim] * G, "group": names,
                 "reference": (np.arange(G) == ref) & (dim != "all")}
            if period is not None:
                for r, key in (("baseline", "0"), ("endline", "1")):
                    b[r] = mom[f"m{key}"]
                    b[f"{r}_se"] = np.sqrt(mom[f"v{key}{key}"])
                    b[f"{r}_low"], b[f"{r}_high"] = _interval(mom[f"m{key}"], mom[f"v{key}{key}"], mom[f"df{key}"], level)
                    b[f"n_{r}"] = mom[f"n{key}"].astype(np.int64)
                paired = unit_id is not None
                for kind, name in (("absolute", "change"), ("relative", "relative")):
                    est, vc, df = change_inference(mom, full, kind, paired)
                    var = np.diag(vc)
                    b["change" if kind == "absolute" else "relative_change"] = est
                    b[f"{name}_se"] = np.sqrt(var)
                    b[f"{name}_low"], b[f"{name}_high"] = _interval(est, var, df, level)
                    if kind == "absolute":
                        b["change_df"] = df
                        b["change_p"] = two_sided_p(est, np.sqrt(var), df)
            else:
                b["endline"] = mom["m1"]
                b["endline_se"] = np.sqrt(mom["v11"])
                b["endline_low"], b["endline_high"] = _interval(mom["m1"], mom["v11"], mom["df1"], level)
                b["n_endline"] = mom["n1"].astype(np.int64)
            gap, gvar, gdf = _gap(mom, full, ref)
            b["gap"] = gap
            b["gap_se"] = np.sqrt(gvar)
            b["gap_low"], b["gap_high"] = _interval(gap, gvar, gdf, level)
            b["gap_p"] = two_sided_p(gap, np.sqrt(gvar), gdf)
            for k in ("gap", "gap_se", "gap_low", "gap_high", "gap_p"):
                if dim == "all":
                    b[k] = np.full(G, np.nan)
                elif k != "gap":
                    b[k] = np.where(b["reference"], np.nan, b[k])
            blocks.append(pd.DataFrame(b))
    frame = pd.concat(blocks, ignore_index=True)
    # order: indicator, then dimension blocks as given
    frame["_o"] = frame["indicator"].map({lab: i for i, lab in enumerate(labels.values())})
    frame = frame.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    family = frame["dimension"] != "all"
    if period is not None:
        frame["change_p_adjusted"] = np.where(family, adjust_pvalues(np.where(family, frame["change_p"], np.nan), adjust), np.nan)
    gap_family = family & ~frame["reference"]
    frame["gap_p_adjusted"] = adjust_pvalues(np.where(gap_family, frame["gap_p"], np.nan), adjust)
    return Disaggregation(frame, has_change=period is not None, adjust=adjust, level=level, sampling=sampling,
                          notes=sorted(set(notes), key=notes.index))
