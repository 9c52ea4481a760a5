"""Targeting accuracy: did the programme reach the target group, and how do benefits fall across the
welfare distribution (``ik.targeting``).

Every metric is a smooth function of design-weighted population totals, estimated per group on the
full design and linearised on the shared survey machinery (C++ ``impactkit/targeting/
targeting_accuracy.hpp``; the formulas are in its header comment). Standard errors are therefore
R ``survey``'s ``svyratio`` / ``svytotal`` / ``svycontrast`` standard errors under the same design
(``tests/reference/r/targeting`` holds the R calls and values).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _core, _dask
from ._dask import is_dask_frame
from .errors import ImpactkitWarning, InvalidInputError
from .results import EstimateResult
from .survey import SurveyDesign, _as_list, _column, _factorize_sorted

_t = _core.targeting
_v = _core.variance

__all__ = ["targeting", "poverty_line", "relative_line", "bottom", "quantile_groups", "TargetingResult"]


@dataclass(frozen=True)
class poverty_line:
    """An absolute poverty line: the target group is everyone with welfare below ``value``
    (``strict=True``, the FGT convention y < z) or at or below it (``strict=False``)."""

    value: float
    strict: bool = True

    def __post_init__(self):
        v = self.value
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise InvalidInputError(f"poverty_line: the line must be a finite number, got {v!r}")

    def describe(self) -> str:
        return f"welfare {'<' if self.strict else '≤'} {self.value:g} (absolute poverty line)"


def _share(value, name: str, who: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 < value < 1:
        raise InvalidInputError(f"{who}: {name} must be a number in (0, 1), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class relative_line:
    """A relative poverty line, ``share`` × the weighted median of welfare over the analysis rows
    (Eurostat's at-risk-of-poverty threshold with 0.6); the target group is welfare below it
    (``strict=True``, as Eurostat) or at or below it. The line is estimated, and its estimation enters
    every standard error by linearisation (Osier 2009); the result reports it as the metric ``line``."""

    share: float = 0.6
    strict: bool = True

    def __post_init__(self):
        if isinstance(self.share, (bool, np.bool_)) or not isinstance(self.share, (int, float, np.integer, np.floating)) \
                or not (np.isfinite(self.share) and self.share > 0):
            raise InvalidInputError(f"relative_line: share must be a positive number, got {self.share!r}")

    def describe(self) -> str:
        return f"welfare {'<' if self.strict else '≤'} {self.share:g} × weighted median (estimated relative line)"


@dataclass(frozen=True)
class bottom:
    """The poorest ``share`` of the population: welfare at or below the weighted ``share``-quantile
    (laeken rule); the quantile is estimated and enters the standard errors by linearisation."""

    share: float = 0.2

    def __post_init__(self):
        _share(self.share, "share", "bottom")

    def describe(self) -> str:
        return f"welfare ≤ weighted {self.share:g}-quantile (bottom {100 * self.share:g}%, estimated)"


@dataclass(frozen=True)
class quantile_groups:
    """``k`` welfare groups of equal population share (quintiles: k=5), cut at the weighted quantiles
    j/k of welfare (Eurostat/laeken rule: the first value whose cumulative weight share reaches j/k,
    the mean of it and the next value on an exact tie). A row at a cut point belongs to the lower group.
    Group membership is held fixed in the variance (conditional on the ranking), as ADePT and ASPIRE do."""

    k: int = 5

    def __post_init__(self):
        if isinstance(self.k, (bool, np.bool_)) or not isinstance(self.k, (int, np.integer)) or not 2 <= self.k <= 100:
            raise InvalidInputError(f"quantile_groups: k must be an integer in 2..100, got {self.k!r}")


def _indicator(data: pd.DataFrame, name: str, argument: str) -> np.ndarray:
    col = _column(data, name, argument)
    if col.dtype == np.float64:  # fast path: every non-zero value is 1 (NaN is non-zero and not 1: the checks below)
        v = col.to_numpy()
        if np.count_nonzero(v) == np.count_nonzero(v == 1.0):
            return v
    if col.isna().any():
        raise InvalidInputError(f"{argument} column {name!r} has a missing value at row {col.index[col.isna().to_numpy()][0]!r}")
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(col):
        raise TypeError(f"{argument} column {name!r} must be boolean or 0/1 (dtype {col.dtype})")
    v = col.to_numpy(dtype=np.float64)
    bad = (v != 0) & (v != 1)
    if bad.any():
        raise InvalidInputError(f"{argument} column {name!r} must be boolean or 0/1; row {col.index[bad][0]!r} has {v[bad][0]!r}")
    return v


def _numeric(data: pd.DataFrame, name: str, argument: str) -> np.ndarray:
    col = _column(data, name, argument)
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise TypeError(f"{argument} column {name!r} must be numeric (dtype {col.dtype})")
    v = col.to_numpy(dtype=np.float64) if col.dtype == np.float64 else col.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isfinite(np.add.reduce(v)):  # one pass, no temporary: NaN and ±inf propagate (an overflow falls through)
        return v
    bad = ~np.isfinite(v)
    if bad.any():
        raise InvalidInputError(f"{argument} column {name!r} has a missing or infinite value at row {col.index[bad][0]!r}; "
                                "drop or impute it first")
    return v


def _design_for(data: pd.DataFrame, design, weights, who: str) -> SurveyDesign:
    if design is not None:
        if weights is not None:
            raise InvalidInputError(f"{who}: give weights= or design=, not both (the design carries its weights)")
        if not isinstance(design, SurveyDesign):
            raise TypeError(f"{who}: design must be an ik.SurveyDesign, got {type(design).__name__}")
        return design
    if weights is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImpactkitWarning)
            return SurveyDesign(data)
    if isinstance(weights, str):
        return SurveyDesign(data, weights=weights)
    w = weights
    if isinstance(w, pd.Series):
        if not w.index.equals(data.index):
            if not w.index.is_unique or not data.index.isin(w.index).all():
                raise InvalidInputError(f"{who}: the weights Series is indexed unlike the data (labels missing or repeated)")
            w = w.reindex(data.index)
        w = w.to_numpy(dtype=np.float64, na_value=np.nan)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (len(data),):
        raise InvalidInputError(f"{who}: weights has shape {w.shape} but the data have {len(data)} rows")
    frame = pd.DataFrame({"__w": w}, index=data.index)
    return SurveyDesign(frame, weights="__w")


def _codes_of(data: pd.DataFrame, by: list):
    if not by:
        return None, None
    cols = [_column(data, b, "by") for b in by]
    for c in cols:
        if c.isna().any():
            raise InvalidInputError(f"by column {c.name!r} has missing values; every row must belong to a group")
    if len(cols) == 1:
        codes, uniques = _factorize_sorted(cols[0])
        return codes.astype(np.int32, copy=False), pd.DataFrame({by[0]: uniques})
    frame = pd.DataFrame({b: c.to_numpy() for b, c in zip(by, cols)})
    grouped = frame.groupby(by, sort=True, observed=True)
    return grouped.ngroup().to_numpy().astype(np.int32), grouped.size().reset_index()[by]


def _spreader(pos: Optional[np.ndarray], n: int):
    """A function placing the values of the data's rows on the design's n rows (``fill`` elsewhere); pos None:
    the data are the design's rows in order (no copy of float64 columns)."""
    identity = pos is None or (len(pos) == n and np.array_equal(pos, np.arange(n)))

    def spread(v, fill=0.0, dtype=np.float64):
        if identity:
            return np.ascontiguousarray(v, dtype=dtype)
        out = np.full(n, fill, dtype=dtype)
        out[pos] = v
        return out

    return spread


def _line_args(line, who: str) -> dict:
    """The C++ arguments of a welfare line given as a number, ik.poverty_line, ik.relative_line or ik.bottom."""
    if isinstance(line, (int, float, np.integer, np.floating)) and not isinstance(line, (bool, np.bool_)):
        line = poverty_line(float(line))
    if isinstance(line, poverty_line):
        return dict(rule="fixed_line", line_value=float(line.value), line_quantile=0.5, line_share=1.0, strict=line.strict)
    if isinstance(line, relative_line):
        return dict(rule="quantile_line", line_value=float("nan"), line_quantile=0.5, line_share=float(line.share), strict=line.strict)
    if isinstance(line, bottom):
        return dict(rule="quantile_line", line_value=float("nan"), line_quantile=float(line.share), line_share=1.0, strict=False)
    raise TypeError(f"{who}: line must be a number, ik.poverty_line(z), ik.relative_line(share) or ik.bottom(share), "
                    f"got {type(line).__name__}")


def targeting(data: pd.DataFrame, *, welfare: str, beneficiary: str, target, benefit: Optional[str] = None,
              design: Optional[SurveyDesign] = None, weights=None, unit: str = "persons", household: Optional[str] = None,
              by=None, incidence: Optional[quantile_groups] = quantile_groups(5)) -> "TargetingResult":
    """Targeting accuracy of a programme, with design-based standard errors, per group.

    Parameters
    ----------
    data : DataFrame, one row per person (or per household), never modified; or a dask DataFrame (each
        partition is reduced to a mergeable accumulator, merged in a tree; ``design`` then is an
        ``ik.SurveyDesign`` built from the same dask frame — single-stage, multistage or replicate-weight —
        and ``weights`` a column name).
    welfare : column ranking welfare (per-capita consumption or income), used for the poverty line,
        the welfare groups of the incidence tables, adequacy and the poverty-gap reduction.
    beneficiary : boolean (or 0/1) column: receives the programme.
    target : the target group: a boolean (or 0/1) column name, ``ik.poverty_line(z)`` (fixed line),
        ``ik.relative_line(0.6)`` (share of the weighted median) or ``ik.bottom(0.2)`` (poorest share);
        estimated lines enter the standard errors by linearisation.
    benefit : column of benefit amounts (0 for non-beneficiaries). Without it CGH, leakage and
        incidence count beneficiaries instead of amounts (the result says which).
    design : ``ik.SurveyDesign`` over the rows of ``data`` (strata, PSUs, FPC, lonely-PSU rule, or
        replicate weights). Without it the rows are an independent sample, weighted by ``weights``
        (column name or array) when given (R ``svydesign(ids=~1, weights=)``).
    unit : "persons" (each row counts with its weight) or "households" (one row per ``household``: the
        first, with its weight; welfare, beneficiary, target and benefit must be constant within it).
    by : column or list of columns: every metric per group, estimated on the full design.
    incidence : ``ik.quantile_groups(k)`` (default quintiles) for beneficiary and benefit incidence and
        coverage by welfare group, or None.

    Returns
    -------
    TargetingResult
        ``table()`` (metric, group, estimate, std_error, conf_low, conf_high, denominator),
        ``summary()``, ``test_equal(metric)``, ``plot()``, and the shared ``tidy()`` / ``vcov``.

    Examples
    --------
    >>> r = ik.targeting(df, welfare="pcexp", beneficiary="pkh", target=ik.poverty_line(1.9 * 365),
    ...                  benefit="transfer", design=ik.SurveyDesign(df, weights="wt", strata="prov", psu="ea"),
    ...                  by="sex")
    >>> r.table()
    >>> r.test_equal("coverage")
    """
    who = "targeting"
    if is_dask_frame(data):
        if unit not in ("persons", "households"):
            raise InvalidInputError(f"{who}: unit must be 'persons' or 'households', got {unit!r}")
        if incidence is not None and not isinstance(incidence, quantile_groups):
            raise TypeError(f"{who}: incidence must be ik.quantile_groups(k) or None, got {type(incidence).__name__}")
        if not isinstance(target, (poverty_line, relative_line, bottom, str)):
            raise TypeError(f"{who}: target must be a column name, ik.poverty_line(z), ik.relative_line(share) or ik.bottom(share), "
                            f"got {type(target).__name__}")
        return _dask.targeting(data, welfare=welfare, beneficiary=beneficiary, target=target, benefit=benefit, design=design,
                               weights=weights, unit=unit, household=household, by=by, incidence=incidence,
                               target_rule=f"column {target!r}" if isinstance(target, str) else target.describe())
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    if data.columns.has_duplicates:
        raise InvalidInputError(f"{who}: the data have more than one column named {data.columns[data.columns.duplicated()][0]!r}")
    if unit not in ("persons", "households"):
        raise InvalidInputError(f"{who}: unit must be 'persons' or 'households', got {unit!r}")
    if incidence is not None and not isinstance(incidence, quantile_groups):
        raise TypeError(f"{who}: incidence must be ik.quantile_groups(k) or None, got {type(incidence).__name__}")
    d = _design_for(data, design, weights, who)
    n = d.n
    pos = None if data.index is d.index or data.index.equals(d.index) else d.positions_of(data.index, who)
    d.check_rows(data, pos, who)

    # float64 columns go to C++ as they are (no copy, no Python pass): it checks every row, and on its error
    # the Python checks run to name the column and the row label (`deferred`)
    deferred = []

    def column(name, argument, convert):
        col = _column(data, name, argument)
        if col.dtype == np.float64:
            deferred.append(lambda: convert(data, name, argument))
            return col.to_numpy()
        return convert(data, name, argument)

    y = column(welfare, "welfare", _numeric)
    B = column(beneficiary, "beneficiary", _indicator)
    amounts = None if benefit is None else column(benefit, "benefit", _numeric)
    T, line, p, s, strict = None, float("nan"), 0.5, 1.0, True
    if isinstance(target, poverty_line):
        kind, line, strict = "fixed_line", float(target.value), target.strict
    elif isinstance(target, relative_line):
        kind, p, s, strict = "quantile_line", 0.5, float(target.share), target.strict
    elif isinstance(target, bottom):
        kind, p, s, strict = "quantile_line", float(target.share), 1.0, False
    elif isinstance(target, str):
        kind, T = "column", column(target, "target", _indicator)
    else:
        raise TypeError(f"{who}: target must be a column name, ik.poverty_line(z), ik.relative_line(share) or ik.bottom(share), "
                        f"got {type(target).__name__}")
    rule = f"column {target!r}" if kind == "column" else target.describe()

    by_names = _as_list(by)
    codes, levels = _codes_of(data, by_names)
    counted = None  # households: the first row of each
    if unit == "households":
        if household is None:
            raise InvalidInputError(f"{who}: unit='households' needs household= (the household id column)")
        hh = _column(data, household, "household")
        if hh.isna().any():
            raise InvalidInputError(f"{who}: household column {household!r} has missing values")
        frame = pd.DataFrame({"h": hh.to_numpy(), "y": y, "B": B})
        if T is not None:
            frame["T"] = T
        if amounts is not None:
            frame["b"] = amounts
        varying = frame.groupby("h", sort=False).nunique().gt(1).any()
        if varying.any():
            what = {"y": f"welfare {welfare!r}", "B": f"beneficiary {beneficiary!r}", "T": "the target", "b": f"benefit {benefit!r}"}
            raise InvalidInputError(f"{who}: unit='households' needs {', '.join(what[c] for c in varying.index[varying])} "
                                    "constant within each household")
        counted = ~hh.duplicated().to_numpy()
    elif household is not None:
        raise InvalidInputError(f"{who}: household= is used with unit='households'")

    w_all = d._w
    K = 0 if incidence is None else incidence.k

    D = 1 if levels is None else len(levels)
    spread = _spreader(pos, n)
    if codes is None and unit == "persons" and pos is None:
        domain = None  # every row in the one domain
    else:
        dom = np.zeros(len(data), dtype=np.int32) if codes is None else codes
        domain = spread(dom if counted is None else np.where(counted, dom, -1).astype(np.int32), -1, np.int32)

    args = dict(rule=kind, target=None if T is None else spread(T), poverty_line=line, line_quantile=p, line_share=s, strict=strict,
                beneficiary=spread(B), benefit=None if amounts is None else spread(amounts), welfare=spread(y), weights=w_all, domain=domain, n_domains=D,
                welfare_group=None, n_welfare_groups=K)
    try:
        if d._repw is not None:
            out = _t.targeting_accuracy(**args, design=d._rep_design, replicate_weights=d._repw)
        else:
            # the quantile-group cuts of an earlier call on this design with the same welfare and groups are
            # offered again: C++ uses them only when its pass confirms they are still the weighted quantiles
            key = (welfare, K, tuple(by_names), unit, len(data))
            cache = d.__dict__.setdefault("_welfare_cuts_cache", {})
            hint = cache.get(key) if K > 1 else None
            out = _t.targeting_accuracy(**args, design=_v.VarianceDesign.survey(d._core), welfare_cuts_hint=hint)
            if K > 1:
                cache[key] = list(out["welfare_cuts"])
    except InvalidInputError:
        for check in deferred:  # the column and row label of a bad value
            check()
        raise
    cuts = np.asarray(out["welfare_cuts"], dtype=float) if K else None
    return TargetingResult._build(out, levels, by_names, d, rule=rule, unit=unit, welfare=welfare, benefit=benefit,
                                  cuts=cuts, nobs=len(data) if counted is None else int(counted.sum()))


class TargetingResult(EstimateResult):
    """Targeting metrics per group with design-based standard errors (``ik.targeting``)."""

    title = "Targeting accuracy"

    @classmethod
    def _build(cls, out: dict, levels, by_names, design, *, rule, unit, welfare, benefit, cuts, nobs):
        metrics = list(out["metrics"])
        words = list(out["denominators"])
        wgroups = list(out["welfare_groups"])
        est = np.asarray(out["estimate"])
        V = np.asarray(out["vcov"])
        conv = dict(out["conventions"])
        D, M = est.shape
        labels = [m if g < 0 else f"{m}[Q{g + 1}]" for m, g in zip(metrics, wgroups)]
        names, rows = [], []
        for dd in range(D):
            tag = "" if levels is None else " [" + ", ".join(f"{b}={levels.iloc[dd][b]}" for b in by_names) + "]"
            for lab in labels:
                names.append(lab + tag)
                rows.append({} if levels is None else levels.iloc[dd].to_dict())
        by_frame = None if levels is None else pd.DataFrame(rows, columns=by_names)
        df = float(conv.get("df", np.inf))
        coef = pd.Series(est.ravel(), index=names, name="estimate")
        res = cls(coef, pd.DataFrame(V, index=names, columns=names), pd.Series(np.full(len(names), df), index=names, name="df"),
                  nobs=nobs, vcov_type=conv.get("kind", "survey"), vcov_convention=conv.get("description", ""), conventions=conv,
                  by=by_frame, terms=labels * D)
        res.metric_names = metrics
        res._metric = metrics * D
        res._welfare_group = [None if g < 0 else g + 1 for g in wgroups] * D
        res._words = words * D
        res._levels = levels
        res._by_names = by_names
        res.target_rule = rule
        res.unit = unit
        res.welfare = welfare
        res.amounts = bool(out["amounts"])
        res.welfare_cuts = cuts
        res.line = float(out["line"])
        res.bandwidth = float(out["bandwidth"])
        if out.get("line_variance_out_of_range"):
            warnings.warn("targeting: the variance of the estimated line (in welfare units squared) is outside the range of a "
                          "double at this welfare scale and is reported as NaN; rescale welfare (e.g. to thousands) for the "
                          "line's SE. The other metrics are unaffected.", ImpactkitWarning, stacklevel=3)
        res.undefined = [(dd, metrics[m]) for dd, m in out["undefined"]]
        if res.undefined:
            where = ", ".join(f"{metrics[m]}" + ("" if levels is None else f" ({levels.iloc[dd].to_dict()})") for dd, m in out["undefined"][:6])
            warnings.warn(f"targeting: undefined (zero denominator: no members, no beneficiaries or no benefit) and NaN: {where}",
                          ImpactkitWarning, stacklevel=3)
        return res

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table: metric, group columns, welfare_group (incidence rows), estimate, std_error,
        conf_low, conf_high, denominator (in words)."""
        ci = self.conf_int(level)
        out = pd.DataFrame({"metric": self._metric})
        if self._by is not None:
            out = pd.concat([out, self._by.reset_index(drop=True)], axis=1)
        out["welfare_group"] = pd.array(self._welfare_group, dtype="Int64")
        out["estimate"] = self._coef.to_numpy()
        out["std_error"] = self.se.to_numpy()
        out["conf_low"] = ci["conf_low"].to_numpy()
        out["conf_high"] = ci["conf_high"].to_numpy()
        out["denominator"] = self._words
        return out

    def get(self, metric: str) -> pd.DataFrame:
        """The rows of :meth:`table` for one metric."""
        if metric not in self.metric_names:
            raise InvalidInputError(f"unknown metric {metric!r}; the metrics are: {', '.join(dict.fromkeys(self.metric_names))}")
        t = self.table()
        return t[t["metric"] == metric].reset_index(drop=True)

    def test_equal(self, metric: str):
        """Design-based Wald test that ``metric`` is equal across the groups of ``by=`` (F on
        (G − 1, design df) and χ² on G − 1; for incidence metrics, per welfare group jointly)."""
        from .wald import wald_test

        if self._levels is None or len(self._levels) < 2:
            raise InvalidInputError("test_equal needs by= with at least two groups")
        if metric not in self.metric_names:
            raise InvalidInputError(f"unknown metric {metric!r}; the metrics are: {', '.join(dict.fromkeys(self.metric_names))}")
        idx = [i for i, m in enumerate(self._metric) if m == metric]
        b = self._coef.to_numpy()[idx]
        V = self._vcov.to_numpy()[np.ix_(idx, idx)]
        if not np.all(np.isfinite(b)) or not np.all(np.isfinite(V)):
            raise InvalidInputError(f"test_equal: {metric!r} is undefined in some group")
        D = len(self._levels)
        per = len(idx) // D  # welfare groups of an incidence metric, else 1
        R = []
        for dd in range(1, D):
            for j in range(per):
                r = np.zeros(len(idx))
                r[j] = 1.0
                r[dd * per + j] = -1.0
                R.append(r)
        names = [self._coef.index[i] for i in idx]
        return wald_test(b, V, names, (np.asarray(R), np.zeros(len(R))), self.df_wald, "F")

    def fit_stats(self) -> list:
        out = [("Observations", f"{self.nobs:,}"), ("Target group", self.target_rule), ("Unit", self.unit)]
        if self.welfare_cuts is not None:
            out.append(("Welfare groups", f"{len(self.welfare_cuts) + 1} quantile groups of {self.welfare!r}"))
        return out

    def notes(self) -> list:
        n = [f"Standard errors: {self.vcov_convention}.",
             "Amount metrics (cgh, leakage_amount, benefit_incidence) use " +
             ("benefit amounts." if self.amounts else "beneficiary counts (no benefit column given)."),
             "Welfare groups are held fixed in the variance (conditional on the ranking)."]
        return n

    def plot(self, ax=None, level: float = 0.95, metric: str = "beneficiary_incidence"):
        """Incidence bars by welfare group with confidence intervals (one bar colour per group of by=)."""
        import matplotlib.pyplot as plt

        t = self.table(level)
        t = t[t["metric"] == metric]
        if t.empty:
            raise InvalidInputError(f"plot: no {metric!r} rows (incidence=None, or no benefit column for benefit_incidence)")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        groups = [()] if self._levels is None else [tuple(r) for r in self._levels.itertuples(index=False)]
        width = 0.8 / len(groups)
        for j, g in enumerate(groups):
            sub = t if self._levels is None else t[(t[self._by_names] == pd.Series(g, index=self._by_names)).all(axis=1)]
            x = sub["welfare_group"].to_numpy(dtype=float) + (j - (len(groups) - 1) / 2) * width
            est = sub["estimate"].to_numpy()
            err = np.vstack([est - sub["conf_low"].to_numpy(), sub["conf_high"].to_numpy() - est])
            ax.bar(x, est, width=width, yerr=err, capsize=3, label=", ".join(map(str, g)) or None)
        ax.set_xlabel(f"welfare group of {self.welfare!r} (1 = poorest)")
        ax.set_ylabel(metric.replace("_", " "))
        if self._levels is not None:
            ax.legend(title=", ".join(self._by_names))
        return ax
