"""Financial vulnerability of organisations on organisation-year panels: ``ik.financial_indicators`` and
``ik.vulnerability``.

Indicators (one row per organisation and year; R = total revenue, X = total expenses, R_i revenue of source i):
  * equity_ratio = net assets / R (Tuckman & Chang 1991, "equity balance"; Greenlee & Trussel 2000, EQUITY);
  * revenue_hhi = Σ_i (R_i / Σ R)² (Herfindahl index of revenue sources, Tuckman & Chang 1991) and
    revenue_hhi_normalised = (HHI − 1/m) / (1 − 1/m) over the m source columns given (0: equal shares, 1: one
    source);
  * admin_cost_ratio = administrative expenses / X (Tuckman & Chang 1991);
  * operating_margin = (R − X) / R (Tuckman & Chang 1991; Greenlee & Trussel 2000, MARGIN);
  * grant_dependence = grants / R; largest_donor_share = largest donor's revenue / R;
  * revenue_entropy = −Σ_i s_i ln s_i over sources with share s_i > 0 (0: one source, ln m: equal shares);
  * revenue_volatility = sample SD (ddof 1) of annual growth R_t / R_{t−1} − 1 over the ``window`` most recent
    years up to t (consecutive years only; NaN with fewer than two growth rates);
  * reserve_months = operating reserves / X × 12, cash_months = cash / X × 12 (Hager 2001 discusses
    reserves as a buffer; the months convention follows common sector practice).
A ratio with a zero denominator is NaN (with a warning naming the count); missing inputs give NaN for the
indicators that use them.

Vulnerability (``ik.vulnerability``): the Tuckman–Chang count of the four indicators in the vulnerable
quintile of a reference panel (per sector with ``sector=``): the bottom quintile of equity ratio, operating
margin and administrative cost ratio, and the top quintile of revenue concentration (HHI). A logit model of
a distress outcome on the indicators (Greenlee & Trussel 2000; Hager 2001 tests the Tuckman–Chang model
across sectors) is fitted with the shared ``ik.logit`` (clustered by organisation), or evaluated at
coefficients the caller supplies; no published coefficients are built in. It is reported beside a
size-only baseline (log revenue) with AUC, Brier score and log-loss, out of sample when a split is given.
"""
from __future__ import annotations

import warnings
from typing import Dict, Optional, Sequence

import numpy as np
import pandas as pd

from ._dask import _plain
from .errors import ImpactkitWarning, InvalidInputError
from .survey import _as_list, _column

__all__ = ["financial_indicators", "vulnerability", "VulnerabilityResult", "classification_metrics"]

TUCKMAN_CHANG = ("equity_ratio", "revenue_hhi", "admin_cost_ratio", "operating_margin")
# The vulnerable tail of each Tuckman–Chang indicator: "low" bottom quintile, "high" top quintile.
_VULNERABLE_TAIL = {"equity_ratio": "low", "operating_margin": "low", "admin_cost_ratio": "low", "revenue_hhi": "high"}


def _values(data, name, argument, *, allow_nan=True):
    col = _column(data, name, argument)
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise TypeError(f"{argument} column {name!r} must be numeric (dtype {col.dtype})")
    v = col.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(v).any():
        raise InvalidInputError(f"{argument} column {name!r} has an infinite value at row {_plain(col.index[np.isinf(v)][0])!r}")
    if not allow_nan and np.isnan(v).any():
        raise InvalidInputError(f"{argument} column {name!r} has a missing value at row {_plain(col.index[np.isnan(v)][0])!r}")
    return v


def _ratio(num, den, name, zero_counts):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    out[np.isnan(num) | np.isnan(den)] = np.nan
    z = int(np.sum(den == 0))
    if z:
        zero_counts[name] = z
    return out


def _panel_keys(data, org, year, who):
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    o = _column(data, org, "org")
    if o.isna().any():
        raise InvalidInputError(f"{who}: org column {org!r} has a missing value at row {_plain(o.index[o.isna().to_numpy()][0])!r}")
    y = _values(data, year, "year", allow_nan=False)
    if np.any(y != np.round(y)):
        raise InvalidInputError(f"{who}: year column {year!r} must hold whole years")
    dup = pd.DataFrame({"o": o.to_numpy(), "y": y}).duplicated()
    if dup.any():
        i = int(np.argmax(dup.to_numpy()))
        raise InvalidInputError(f"{who}: organisation {_plain(o.iloc[i])!r} has more than one row for year {int(y[i])}")
    return o, y


def _revenue_volatility(org, year, revenue, window):
    """SD of annual growth over the `window` calendar years up to t (growth needs the previous year), per
    organisation; years missing from the panel count as missing growth."""
    out = np.full(len(year), np.nan)
    codes, _ = pd.factorize(org)
    for g in range(codes.max() + 1):
        pos = np.flatnonzero(codes == g)
        y = year[pos].astype(np.int64)
        first = y.min()
        dense = np.full(y.max() - first + 1, np.nan)
        dense[y - first] = revenue[pos]
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.r_[np.nan, np.where(dense[:-1] > 0, dense[1:] / dense[:-1] - 1, np.nan)]
        sd = pd.Series(growth).rolling(window, min_periods=2).std(ddof=1).to_numpy()
        out[pos] = sd[y - first]
    return out


def financial_indicators(data: pd.DataFrame, *, org: str, year: str, revenue_sources: Sequence[str],
                         expenses: str, total_revenue: Optional[str] = None, net_assets: Optional[str] = None,
                         admin_expenses: Optional[str] = None, grants=None, largest_donor: Optional[str] = None,
                         reserves: Optional[str] = None, cash: Optional[str] = None,
                         volatility_window: int = 5) -> pd.DataFrame:
    """Financial indicators per organisation-year (definitions in the module docstring: Tuckman & Chang 1991;
    Greenlee & Trussel 2000; Hager 2001).

    ``revenue_sources``: the columns of revenue by source (non-negative; at least one); total revenue is
    ``total_revenue`` when given, else their sum. ``grants``: a column or list of columns summed. Indicators
    whose inputs are not given are left out. Returns a DataFrame with ``org``, ``year``, ``total_revenue``
    and the indicators, in the data's row order and index.
    """
    who = "financial_indicators"
    o, y = _panel_keys(data, org, year, who)
    sources = _as_list(revenue_sources)
    if not sources:
        raise InvalidInputError(f"{who}: give at least one revenue_sources column")
    S = np.column_stack([_values(data, s, "revenue_sources") for s in sources])
    if np.any(S < 0):
        r, c = np.argwhere(S < 0)[0]
        raise InvalidInputError(f"{who}: revenue source {sources[c]!r} is negative at row {_plain(data.index[r])!r}; sources must be >= 0")
    if isinstance(volatility_window, (bool, np.bool_)) or not isinstance(volatility_window, (int, np.integer)) or volatility_window < 3:
        raise InvalidInputError(f"{who}: volatility_window must be an integer >= 3 (years; two growth rates at least), got {volatility_window!r}")
    X = _values(data, expenses, "expenses")
    source_total = S.sum(axis=1)
    R = _values(data, total_revenue, "total_revenue") if total_revenue is not None else source_total
    zero = {}
    out = pd.DataFrame({org: o.to_numpy(), year: y}, index=data.index)
    out["total_revenue"] = R
    shares = S / np.where(source_total > 0, source_total, np.nan)[:, None]
    m = len(sources)
    hhi = np.sum(shares ** 2, axis=1)
    out["revenue_hhi"] = hhi
    out["revenue_hhi_normalised"] = (hhi - 1 / m) / (1 - 1 / m) if m > 1 else np.where(np.isnan(hhi), np.nan, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["revenue_entropy"] = -np.sum(np.where(shares > 0, shares * np.log(np.where(shares > 0, shares, 1)), 0), axis=1) \
            + np.where(np.isnan(hhi), np.nan, 0)
    if int(np.sum(source_total == 0)):
        zero["revenue shares"] = int(np.sum(source_total == 0))
    if net_assets is not None:
        out["equity_ratio"] = _ratio(_values(data, net_assets, "net_assets"), R, "equity_ratio", zero)
    if admin_expenses is not None:
        out["admin_cost_ratio"] = _ratio(_values(data, admin_expenses, "admin_expenses"), X, "admin_cost_ratio", zero)
    out["operating_margin"] = _ratio(R - X, R, "operating_margin", zero)
    g = _as_list(grants)
    if g:
        out["grant_dependence"] = _ratio(np.sum([_values(data, c, "grants") for c in g], axis=0), R, "grant_dependence", zero)
    if largest_donor is not None:
        out["largest_donor_share"] = _ratio(_values(data, largest_donor, "largest_donor"), R, "largest_donor_share", zero)
    out["revenue_volatility"] = _revenue_volatility(o.to_numpy(), y, R, int(volatility_window))
    if reserves is not None:
        out["reserve_months"] = _ratio(12 * _values(data, reserves, "reserves"), X, "reserve_months", zero)
    if cash is not None:
        out["cash_months"] = _ratio(12 * _values(data, cash, "cash"), X, "cash_months", zero)
    if zero:
        warnings.warn(f"{who}: zero denominators give NaN: " + ", ".join(f"{k} ({v} rows)" for k, v in zero.items()),
                      ImpactkitWarning, stacklevel=2)
    return out


def classification_metrics(y, p) -> Dict[str, float]:
    """AUC (Mann–Whitney, ties counted one half), Brier score mean (p − y)² and log-loss −mean(y ln p +
    (1 − y) ln(1 − p)) (p clipped to [1e-15, 1 − 1e-15], scikit-learn's rule) of probabilities p for 0/1 y."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n1, n0 = float(y.sum()), float(len(y) - y.sum())
    if n1 > 0 and n0 > 0:
        ranks = pd.Series(p).rank(method="average").to_numpy()
        auc = (ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    else:
        auc = float("nan")
    pc = np.clip(p, 1e-15, 1 - 1e-15)
    return {"auc": float(auc), "brier": float(np.mean((p - y) ** 2)),
            "log_loss": float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))), "n": int(len(y)), "events": int(n1)}


class VulnerabilityResult:
    """``flags`` (one row per organisation-year: a 0/1 flag per Tuckman–Chang indicator and their ``count``),
    ``cutoffs`` (the quintile cut points of the reference panel), ``model`` / ``baseline`` (the fitted
    ``ik.logit`` results; ``model`` is None with supplied coefficients), ``coefficients`` (those used),
    ``predictions`` and ``metrics()`` (AUC / Brier / log-loss of each model)."""

    def __init__(self, flags, cutoffs, model, baseline, coefficients, predictions, metrics, sample):
        self.flags = flags
        self.cutoffs = cutoffs
        self.model = model
        self.baseline = baseline
        self.coefficients = coefficients
        self.predictions = predictions
        self._metrics = metrics
        self.sample = sample

    def metrics(self) -> pd.DataFrame:
        return self._metrics

    def __repr__(self):
        return f"<VulnerabilityResult: {len(self.flags)} organisation-years, metrics on the {self.sample} sample>"


def _quintile_cutoffs(ref: pd.DataFrame, indicators, sector):
    rows = []
    groups = ref.groupby(sector, sort=True) if sector else [(None, ref)]
    for key, part in groups:
        for ind in indicators:
            v = part[ind].dropna()
            if len(v) < 5:
                raise InvalidInputError(f"vulnerability: the reference panel has {len(v)} non-missing values of {ind!r}"
                                        + (f" in sector {key!r}" if sector else "") + "; quintiles need at least 5")
            tail = _VULNERABLE_TAIL[ind]
            cut = float(np.quantile(v, 0.2 if tail == "low" else 0.8))
            rows.append({**({sector: key} if sector else {}), "indicator": ind, "tail": tail, "cutoff": cut})
    return pd.DataFrame(rows)


def _flags(ind: pd.DataFrame, cutoffs: pd.DataFrame, sector_values, sector):
    out = pd.DataFrame(index=ind.index)
    count = np.zeros(len(ind))
    for name in TUCKMAN_CHANG:
        c = cutoffs[cutoffs["indicator"] == name]
        if sector:
            cut = pd.Series(c["cutoff"].to_numpy(), index=c[sector].to_numpy()).reindex(sector_values).to_numpy()
            if np.isnan(cut).any():
                missing = pd.Series(sector_values)[np.isnan(cut)].iloc[0]
                raise InvalidInputError(f"vulnerability: sector {_plain(missing)!r} is not in the reference panel")
        else:
            cut = float(c["cutoff"].iloc[0])
        v = ind[name].to_numpy()
        flag = v <= cut if _VULNERABLE_TAIL[name] == "low" else v >= cut
        flag = np.where(np.isnan(v), np.nan, flag.astype(float))
        out[f"{name}_flag"] = flag
        count = count + np.nan_to_num(flag)
    out["count"] = count
    return out


def vulnerability(indicators: pd.DataFrame, *, org: str, reference: Optional[pd.DataFrame] = None,
                  sector: Optional[str] = None, outcome: Optional[str] = None, size: str = "total_revenue",
                  predictors: Sequence[str] = TUCKMAN_CHANG, coefficients: Optional[Dict[str, float]] = None,
                  test=None) -> VulnerabilityResult:
    """Tuckman & Chang (1991) vulnerability flags and a logit vulnerability model.

    ``indicators``: the output of :func:`financial_indicators` (with ``equity_ratio``, ``admin_cost_ratio``:
    give ``net_assets`` and ``admin_expenses`` there), plus the ``outcome`` (0/1 distress, e.g. a 20%
    three-year fall in programme spending as Greenlee & Trussel 2000) and ``sector`` columns when used.
    ``reference``: the panel the quintiles are fitted on (default: ``indicators`` itself).

    With ``outcome``: the model ``outcome ~ predictors + log(size)`` by ``ik.logit`` clustered by ``org`` (or
    evaluated at ``coefficients``, a mapping term → value with "Intercept"), and the size-only baseline
    ``outcome ~ log(size)``. ``test``: a boolean column name or array marking hold-out rows; models are fitted
    on the other rows and the metrics computed on the test rows (in-sample without it). Rows with a missing
    predictor or outcome are dropped (the count is in ``metrics()``).
    """
    from .glm import logit

    who = "vulnerability"
    if not isinstance(indicators, pd.DataFrame):
        raise TypeError(f"{who}: indicators must be a pandas DataFrame, got {type(indicators).__name__}")
    if len(indicators) == 0:
        raise InvalidInputError(f"{who}: indicators has no rows")
    for name in TUCKMAN_CHANG:
        _column(indicators, name, "indicators")
    ref = indicators if reference is None else reference
    if not isinstance(ref, pd.DataFrame):
        raise TypeError(f"{who}: reference must be a pandas DataFrame, got {type(ref).__name__}")
    if sector is not None:
        _column(ref, sector, "sector")
        if ref[sector].isna().any() or _column(indicators, sector, "sector").isna().any():
            raise InvalidInputError(f"{who}: sector column {sector!r} has missing values")
    cutoffs = _quintile_cutoffs(ref, TUCKMAN_CHANG, sector)
    flags = _flags(indicators, cutoffs, None if sector is None else indicators[sector].to_numpy(), sector)
    if outcome is None:
        return VulnerabilityResult(flags, cutoffs, None, None, None, None, None, "none")

    preds = list(predictors)
    used = preds + [size, outcome, org]
    frame = pd.DataFrame({c: _column(indicators, c, "predictors" if c in preds else c).to_numpy() for c in dict.fromkeys(used)},
                         index=indicators.index)
    sz = frame[size].to_numpy(dtype=float)
    if np.any(sz[~np.isnan(sz)] <= 0):
        raise InvalidInputError(f"{who}: size column {size!r} must be positive (its log enters the models)")
    frame["log_size"] = np.log(sz)
    if test is None:
        is_test = np.zeros(len(frame), dtype=bool)
    else:
        if isinstance(test, str):
            t = _column(indicators, test, "test")
        elif isinstance(test, pd.Series):  # aligned by index label, as every per-row argument
            missing = ~indicators.index.isin(test.index)
            if missing.any():
                raise InvalidInputError(f"{who}: the test Series lacks the data's row label {_plain(indicators.index[missing][0])!r}")
            t = test.loc[indicators.index]
        else:
            arr = np.asarray(test)
            if arr.ndim != 1 or len(arr) != len(frame):
                raise InvalidInputError(f"{who}: test must have one value per row ({len(frame)}), got shape {arr.shape}")
            t = pd.Series(arr, index=indicators.index)
        if t.isna().any() or not (pd.api.types.is_bool_dtype(t) or set(np.unique(t.to_numpy())) <= {0, 1}):
            raise InvalidInputError(f"{who}: test must be boolean (or 0/1) with one value per row, True marking hold-out rows")
        is_test = t.to_numpy().astype(bool)
    ok = frame[preds + ["log_size", outcome]].notna().all(axis=1).to_numpy()
    n_dropped = int((~ok).sum())
    train = frame[ok & ~is_test]
    evaluate = frame[ok & is_test] if test is not None else frame[ok]
    if len(evaluate) == 0 or len(train) == 0:
        raise InvalidInputError(f"{who}: the split leaves no rows to fit or to evaluate")
    rhs = " + ".join(preds + ["log_size"])
    baseline = logit(f"{outcome} ~ log_size", train, cluster=org)
    if coefficients is None:
        model = logit(f"{outcome} ~ {rhs}", train, cluster=org)
        coefs = model.params
    else:
        model = None
        coefs = pd.Series(coefficients, dtype=float)
        unknown = set(coefs.index) - set(preds + ["log_size", "Intercept"])
        if unknown or "Intercept" not in coefs.index:
            raise InvalidInputError(f"{who}: coefficients need 'Intercept' and terms among {preds + ['log_size']}; got {list(coefs.index)}")
    X = evaluate[[c for c in coefs.index if c != "Intercept"]].to_numpy(dtype=float)
    eta = coefs.get("Intercept", 0.0) + X @ coefs.drop("Intercept").to_numpy()
    p_model = 1 / (1 + np.exp(-eta))
    bc = baseline.params
    p_base = 1 / (1 + np.exp(-(bc["Intercept"] + bc["log_size"] * evaluate["log_size"].to_numpy())))
    y = evaluate[outcome].to_numpy(dtype=float)
    if not np.all((y == 0) | (y == 1)):
        raise InvalidInputError(f"{who}: outcome column {outcome!r} must be 0/1")
    sample = "test" if test is not None else "estimation (in-sample)"
    label = "supplied coefficients" if coefficients is not None else "indicators + log size (refitted)"
    metrics = pd.DataFrame([{"model": label, **classification_metrics(y, p_model)},
                            {"model": "log size only (baseline)", **classification_metrics(y, p_base)}])
    metrics["sample"] = sample
    metrics["rows_dropped_missing"] = n_dropped
    predictions = pd.DataFrame({"p_model": p_model, "p_baseline": p_base, outcome: y}, index=evaluate.index)
    return VulnerabilityResult(flags, cutoffs, model, baseline, coefs, predictions, metrics, sample)
