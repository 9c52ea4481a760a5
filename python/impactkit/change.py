"""Change of an indicator between a baseline and an endline round: ``ik.change``.

Three sampling situations give three variances of the two round means (ȳ0, ȳ1), each per group:

- repeated cross-sections (no ``unit_id``, no ``design``): independent samples; Var(ȳt) = s_t²/n_t
  (s² with divisor n − 1), Cov = 0, and t with Welch–Satterthwaite df (Welch 1947) — as statsmodels
  ``ttest_ind(usevar="unequal")`` / ``CompareMeans.tconfint_diff``;
- a panel (``unit_id``): the units observed in both rounds, paired; Var(ȳt) = s_t²/n,
  Cov(ȳ0, ȳ1) = s_01/n, so Var(ȳ1 − ȳ0) = s_d²/n and t with n − 1 df (statsmodels ``ttest_rel``);
  the group of a unit is its baseline group;
- a complex survey (``design=ik.SurveyDesign``): the round × group domain means on the full design
  with their design covariance (Taylor linearisation, R ``svyby(..., covmat=TRUE)``; a household
  followed over rounds shares its PSU, so the covariance of the rounds is in the design), t with the
  design df (#PSU − #strata). A replicate-weight design (``ik.SurveyDesign(..., replicate_weights=,
  replicate_type=)``: JK1, JKn, BRR, Fay, bootstrap) re-estimates every domain mean under each replicate
  and takes their covariance by the replicate formula of the shared variance module (R ``svrepdesign``
  + ``svyby(covmat=TRUE)``), with df = rank of the replicate weights − 1 (R ``degf``).

Absolute change Δ = ȳ1 − ȳ0 with variance V11 + V00 − 2 V01. Relative change ρ = ȳ1/ȳ0 − 1 (a
fraction; −ρ is the reduction):
- delta method: Var(ρ) = (V11 − 2R V01 + R² V00)/ȳ0², R = ȳ1/ȳ0 (R ``svycontrast`` on a ratio);
  in the independent case its df is Welch–Satterthwaite's on the two linearised components;
- Fieller (1954): {R : (ȳ1 − R ȳ0)² ≤ t² (V11 − 2R V01 + R² V00)}, bounded when ȳ0² > t² V00
  (the baseline mean is significantly non-zero); otherwise unbounded (reported as ±inf).
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from .errors import ImpactkitWarning, InvalidInputError
from .results import EstimateResult
from .survey import _as_list, _column

_KINDS = ("absolute", "relative")
_INTERVALS = ("delta", "fieller")


# --------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------
as_list = _as_list


def data_column(data: pd.DataFrame, name, argument: str, who: str) -> pd.Series:
    """The column ``name`` of ``data`` with an error naming the function and the argument."""
    return _column(data, name, argument, who)


def outcome_values(data: pd.DataFrame, name, who: str, check_infinite: bool = True) -> np.ndarray:
    """float64 values of a numeric or boolean outcome column (NaN where missing; ±inf refused unless
    ``check_infinite=False``: then the caller refuses them from the cell-moment pass, see
    :func:`refuse_infinite`)."""
    col = data_column(data, name, "outcome", who)
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)) or pd.api.types.is_complex_dtype(col):
        raise TypeError(f"{who}: outcome column {name!r} must be numeric or boolean, got dtype {col.dtype}")
    v = col.to_numpy() if col.dtype == np.float64 else col.to_numpy(dtype=np.float64, na_value=np.nan)  # float64: no copy
    if check_infinite and np.isinf(v).any():
        refuse_infinite(data, [name], [int(np.flatnonzero(np.isinf(v))[0])], who)
    return v


def refuse_infinite(data: pd.DataFrame, names, first_rows, who: str) -> None:
    """Raise for the first outcome column with an infinite value (``first_rows``: its first row
    position per column, −1 when none)."""
    for name, i in zip(names, first_rows):
        if i >= 0:
            raise InvalidInputError(f"{who}: outcome column {name!r} has an infinite value at row {plain(data.index[i])!r}")


def check_frame(data, who: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if data.shape[0] == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    if data.columns.has_duplicates:
        raise InvalidInputError(f"{who}: the data have more than one column named {data.columns[data.columns.duplicated()][0]!r}")


def group_codes(data: pd.DataFrame, by: list, who: str):
    """(int32 codes per row, levels DataFrame) of the ``by`` columns (one group when empty)."""
    if not by:
        return np.zeros(len(data), dtype=np.int32), None
    cols = [data_column(data, b, "by", who) for b in by]
    for c in cols:
        if c.isna().any():
            raise InvalidInputError(f"{who}: by column {c.name!r} has missing values (first at row "
                                    f"{plain(c.index[c.isna().to_numpy()][0])!r}); every row needs a group")
    if len(cols) == 1:  # the survey module's sorted factorisation (a lookup table for compact integer labels)
        from .survey import _factorize_sorted

        codes, uniques = _factorize_sorted(cols[0])
        return codes, pd.DataFrame({by[0]: uniques})
    frame = pd.DataFrame({b: c.to_numpy() for b, c in zip(by, cols)})
    grouped = frame.groupby(by, sort=True, observed=True)
    return grouped.ngroup().to_numpy().astype(np.int32), grouped.size().reset_index()[by]


def plain(x):
    """A numpy scalar as the Python value it holds (for messages: 3, not np.int64(3))."""
    return x.item() if isinstance(x, np.generic) else x


def period_mask(col: pd.Series, value, argument: str, who: str) -> np.ndarray:
    mask = (col == value).to_numpy(dtype=bool, na_value=False)
    if not mask.any():
        levels = ", ".join(repr(plain(v)) for v in pd.unique(col.dropna())[:20])
        raise InvalidInputError(f"{who}: no rows have {col.name} == {value!r} ({argument}); the periods are: {levels}")
    return mask


def check_level(level, who: str) -> float:
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who}: level must be a number in (0, 1), got {level!r}")
    if not 0 < level < 1:
        raise InvalidInputError(f"{who}: level must be in (0, 1), got {level}")
    return float(level)


# --------------------------------------------------------------------------------------------------
# moments per cell (iid)
# --------------------------------------------------------------------------------------------------
def _float_columns(columns) -> list:
    cols = [columns] if isinstance(columns, np.ndarray) else list(columns)
    return [np.ascontiguousarray(c, dtype=np.float64) for c in cols]


def cell_moments(columns, cells: np.ndarray, n_cells: int, *, first_infinite: bool = False):
    """(count, mean, variance with divisor n − 1) per cell (rows) and column, from C++
    (``monitoring/cell_moments.hpp``: one cache-blocked pass, NaN/inf values skipped, cell −1 ignored,
    NaN variance below 2 values); with ``first_infinite`` also the first row of ±inf per column (−1:
    none). ``columns``: one float64 array or a list of them."""
    cells = np.ascontiguousarray(cells, dtype=np.int32)
    n, mean, var, inf = _core.monitoring.cell_moments(_float_columns(columns), cells, int(n_cells))
    out = np.asarray(n), np.asarray(mean), np.asarray(var)
    return out + (list(inf),) if first_infinite else out


def round_cell_moments(columns, codes: np.ndarray, G: int, b_mask: np.ndarray, e_mask: np.ndarray):
    """:func:`cell_moments` of the cells g (baseline rows of group g) and G + g (its endline rows),
    built inside the C++ pass (no cell column); returns (count, mean, variance, first infinite row per column)."""
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    n, mean, var, inf = _core.monitoring.round_cell_moments(_float_columns(columns), codes, int(G),
                                                            np.ascontiguousarray(b_mask, dtype=bool),
                                                            np.ascontiguousarray(e_mask, dtype=bool))
    return np.asarray(n), np.asarray(mean), np.asarray(var), list(inf)


def independent_moments(n, mean, var, G: int) -> dict:
    """Round moments of repeated cross-sections from the cell moments of cells (g, baseline) = g and
    (g, endline) = G + g: Var(ȳ) = s²/n, no covariance between rounds."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return dict(m0=mean[:G], m1=mean[G:], v00=var[:G] / n[:G], v11=var[G:] / n[G:], v01=np.zeros(G), n0=n[:G], n1=n[G:],
                    df0=n[:G] - 1, df1=n[G:] - 1)


def round_cells(codes: np.ndarray, G: int, b_mask: np.ndarray, e_mask: np.ndarray) -> np.ndarray:
    """Cell code per row: g at baseline, G + g at endline, −1 in other rounds."""
    codes = np.asarray(codes, dtype=np.int32)
    return np.where(b_mask | e_mask, codes + e_mask * np.int32(G), np.int32(-1))


# --------------------------------------------------------------------------------------------------
# the contrast: absolute or relative change and its intervals
# --------------------------------------------------------------------------------------------------
def welch_df(a: np.ndarray, b: np.ndarray, df_a: np.ndarray, df_b: np.ndarray) -> np.ndarray:
    """Satterthwaite df of a + b from two independent variance components with their df."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a + b) ** 2 / (a * a / df_a + b * b / df_b)


def change_estimates(m0, m1, v00, v11, v01, kind: str):
    """(estimate, variance) of ȳ1 − ȳ0 or ȳ1/ȳ0 − 1 (delta method), elementwise."""
    if kind == "absolute":
        return m1 - m0, v11 + v00 - 2 * v01
    with np.errstate(invalid="ignore", divide="ignore"):
        r = m1 / m0
        return r - 1.0, (v11 - 2 * r * v01 + r * r * v00) / (m0 * m0)


def fieller_interval(m0, m1, v00, v11, v01, t):
    """Fieller's interval for R = μ1/μ0: the R with (ȳ1 − R ȳ0)² ≤ t² (V11 − 2R V01 + R² V00), i.e.
    a R² + b R + c ≤ 0 with a = ȳ0² − t²V00, b = −2(ȳ0ȳ1 − t²V01), c = ȳ1² − t²V11 (Fieller 1954).
    Bounded when a > 0; otherwise (−inf, inf) (the set is unbounded: the baseline mean is not
    significantly different from zero)."""
    m0, m1, v00, v11, v01, t = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (m0, m1, v00, v11, v01, t)))
    t2 = t * t
    a = m0 * m0 - t2 * v00
    b = -2.0 * (m0 * m1 - t2 * v01)
    c = m1 * m1 - t2 * v11
    disc = b * b - 4 * a * c
    lo = np.full(a.shape, -np.inf)
    hi = np.full(a.shape, np.inf)
    ok = (a > 0) & (disc >= 0)
    root = np.sqrt(np.where(ok, disc, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(ok, (-b - root) / (2 * a), lo)
        hi = np.where(ok, (-b + root) / (2 * a), hi)
    bad = ~np.isfinite(m0) | ~np.isfinite(v00) | ~np.isfinite(v11)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def two_sided_p(est, se, df) -> np.ndarray:
    """Two-sided t p-values of est/se (normal for infinite df); NaN where se or df is undefined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.asarray(est, dtype=float) / np.asarray(se, dtype=float)
    df = np.broadcast_to(np.asarray(df, dtype=float), t.shape)
    p = np.full(t.shape, np.nan)
    ok = ~np.isnan(t) & (df > 0)
    if ok.any():
        p[ok] = _core.two_sided_p_values(np.ascontiguousarray(t[ok]), np.ascontiguousarray(df[ok]))
    return p


def t_quantile(level: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    ok = df > 0
    if ok.any():
        out[ok] = _core.t_quantiles(1 - (1 - level) / 2, np.ascontiguousarray(df[ok]))
    return out


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------
class ChangeResult(EstimateResult):
    """Change of an indicator between two rounds, per group (``ik.change``).

    ``coef`` / ``se`` / ``conf_int`` / ``tidy`` are those of the change (absolute: endline − baseline;
    relative: endline/baseline − 1); :meth:`table` adds the round means, their standard errors and the
    counts."""

    title = "Change"

    def __init__(self, *args, rounds: pd.DataFrame, kind: str, interval_method: str, sampling: str, baseline, endline,
                 outcome: str, extra_notes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.interval_method = interval_method
        self.sampling = sampling
        self.baseline = baseline
        self.endline = endline
        self.outcome = outcome
        self.title = f"{'Absolute' if kind == 'absolute' else 'Relative'} change in {outcome} ({baseline!r} → {endline!r})"
        self._rounds = rounds.reset_index(drop=True)
        self._extra_notes = list(extra_notes)

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Intervals at ``level``: Wald-t (or Fieller, see ``interval``); NaN where the df is undefined
        (a group with fewer than two observations in a round)."""
        check_level(level, "conf_int")
        if self._interval is not None:
            lo, hi = self._interval(self, level)
        else:
            t = t_quantile(level, self._df.to_numpy(dtype=float))
            b, se = self._coef.to_numpy(), self.se.to_numpy()
            lo, hi = b - t * se, b + t * se
        return pd.DataFrame({"conf_low": np.asarray(lo, dtype=float), "conf_high": np.asarray(hi, dtype=float)},
                            index=self._coef.index)

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(two_sided_p(self._coef.to_numpy(), self.se.to_numpy(), self._df.to_numpy()), index=self._coef.index,
                         name="p_value")

    def _fieller(self, level: float):
        r = self._rounds
        t = t_quantile(level, self._df.to_numpy(dtype=float))
        lo, hi = fieller_interval(r["baseline"], r["endline"], r["var_baseline"], r["var_endline"], r["cov"], t)
        return lo - 1.0, hi - 1.0

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """One row per group: group columns, baseline and endline means with SEs and counts, the change
        with SE, interval, df and two-sided p-value."""
        r = self._rounds
        ci = self.conf_int(level)
        out = pd.DataFrame({
            "baseline": r["baseline"], "baseline_se": np.sqrt(r["var_baseline"]), "n_baseline": r["n_baseline"],
            "endline": r["endline"], "endline_se": np.sqrt(r["var_endline"]), "n_endline": r["n_endline"],
            "change": self._coef.to_numpy(), "std_error": self.se.to_numpy(),
            "conf_low": ci["conf_low"].to_numpy(), "conf_high": ci["conf_high"].to_numpy(),
            "df": self._df.to_numpy(), "p_value": self.pvalues.to_numpy(),
        })
        if self._by is not None:
            out = pd.concat([self._by, out], axis=1)
        return out

    def notes(self) -> list:
        what = ("endline − baseline" if self.kind == "absolute" else
                f"endline / baseline − 1 (a fraction; interval by {'Fieller' if self.interval_method == 'fieller' else 'the delta method'})")
        return [f"Change: {what}.", f"Sampling: {self.sampling}.", f"Standard errors: {self.vcov_convention}."] + self._extra_notes


def _interval_hook(result: ChangeResult, level: float):
    return result._fieller(level)


def _rows_of(design, data, who):
    from .survey import SurveyDesign

    if not isinstance(design, SurveyDesign):
        raise TypeError(f"{who}: design must be an ik.SurveyDesign, got {type(design).__name__}")
    if data is not design._data and not (len(data.index) == design.n and data.index.equals(design.index)):
        raise InvalidInputError(f"{who}: data must be the DataFrame the design was built on (domains are estimated on the "
                                "full design); pass design._data or rebuild the design from this data")
    design.check_rows(data, None, who)


def round_moments(data: pd.DataFrame, *, outcome: str, period: str, baseline, endline, unit_id=None, by=None, design=None,
                  who: str = "change", groups=None, masks=None):
    """Per group: round means (m0, m1), their variances and covariance (v00, v11, v01), the counts and
    the df of the change; plus the group levels, sampling description, conventions and notes."""
    check_frame(data, who)
    by = as_list(by)
    if baseline == endline:
        raise InvalidInputError(f"{who}: baseline and endline are the same period ({plain(baseline)!r})")
    per = data_column(data, period, "period", who)
    if period in by or (unit_id is not None and unit_id in by):
        raise InvalidInputError(f"{who}: by must not contain the period or unit_id column")
    if masks is None:
        masks = period_mask(per, baseline, "baseline", who), period_mask(per, endline, "endline", who)
    b_mask, e_mask = masks
    y = outcome_values(data, outcome, who)
    notes = []
    if design is not None:
        if unit_id is not None:
            raise InvalidInputError(f"{who}: with design=, the pairing of rounds comes from the design (give the household or "
                                    "its cluster as the design's psu); leave unit_id unset")
        return _design_moments(data, design, y, outcome, per, period, baseline, endline, b_mask, e_mask, by, who)
    if unit_id is None:
        codes, levels = groups if groups is not None else group_codes(data, by, who)
        G = 1 if levels is None else len(levels)
        n, mean, var = (a[:, 0] for a in round_cell_moments(y, codes, G, b_mask, e_mask)[:3])
        dropped = int((np.isnan(y) & (b_mask | e_mask)).sum())
        if dropped:
            notes.append(f"{dropped} row(s) with a missing outcome left out.")
        mom = independent_moments(n, mean, var, G)
        sampling = "independent samples in the two rounds (repeated cross-sections); Welch–Satterthwaite df"
        conv = "iid within round: Var(mean) = s²/n (divisor n − 1), rounds independent"
        return mom, levels, sampling, conv, notes, None
    # panel: pair units observed in both rounds
    uid = data_column(data, unit_id, "unit_id", who)
    if uid.isna().any():
        raise InvalidInputError(f"{who}: unit_id column {unit_id!r} has missing values; every row needs its unit")
    codes, levels = groups if groups is not None else group_codes(data, by, who)
    G = 1 if levels is None else len(levels)
    frames = []
    for mask in (b_mask, e_mask):
        f = pd.DataFrame({"u": uid.to_numpy()[mask], "y": y[mask], "g": codes[mask]})
        dup = f["u"].duplicated()
        if dup.any():
            raise InvalidInputError(f"{who}: unit {f['u'][dup].iloc[0]!r} has more than one row in one round; "
                                    "a panel has one row per unit and period")
        frames.append(f.set_index("u"))
    both = frames[0].join(frames[1], how="inner", lsuffix="0", rsuffix="1")
    complete = both["y0"].notna() & both["y1"].notna()
    lost = (len(frames[0]) - len(both)) + (len(frames[1]) - len(both)) + int((~complete).sum())
    both = both[complete]
    if lost:
        notes.append(f"Paired on {len(both)} unit(s) with the outcome observed in both rounds; "
                     f"{lost} unit-round(s) without a partner (attrition, entry or a missing outcome) left out.")
    g = both["g0"].to_numpy()
    y0, y1 = both["y0"].to_numpy(), both["y1"].to_numpy()
    n, m, v = cell_moments([y0, y1], g, G)
    n, m0, m1, v0, v1 = n[:, 0], m[:, 0], m[:, 1], v[:, 0], v[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.bincount(g, weights=(y0 - m0[g]) * (y1 - m1[g]), minlength=G) / (n - 1)
        cov = np.where(n > 1, cov, np.nan)
        mom = dict(m0=m0, m1=m1, v00=v0 / n, v11=v1 / n, v01=cov / n, n0=n, n1=n, df0=n - 1, df1=n - 1)
    sampling = "paired: the units observed in both rounds (panel); group = the unit's baseline group; t with n − 1 df"
    conv = "iid units: Var(mean) = s²/n, Cov(round means) = s01/n (divisor n − 1)"
    return mom, levels, sampling, conv, notes, None


def design_domain_means(design, y: np.ndarray, domains: np.ndarray, levels: pd.DataFrame, outcome: str, who: str):
    """(means, design covariance, conventions) of ``y`` over the domains coded 0..D−1 in ``domains`` (−1:
    no domain), on the full design (one C++ pass, the shared linearisation of ik.SurveyDesign). A row with
    a missing value is outside every domain but stays in the design (R ``subset(design, !is.na(y))``)."""
    miss = np.isnan(y)
    dom = np.where(miss, -1, domains).astype(np.int32)
    theta, V, _, _, conv = design._ratio_of_totals([np.where(miss, 0.0, y)], "weights", None, who, [outcome],
                                                   codes=dom, levels=levels, D=len(levels))
    return theta[:, 0], V, conv, np.bincount(dom[dom >= 0], minlength=len(levels)).astype(float)


def _design_moments(data, design, y, outcome, per, period, baseline, endline, b_mask, e_mask, by, who):
    """Round × group domain means on the full design and their design covariance (one pass over the
    column in C++, the shared linearisation of ik.SurveyDesign). Domain g: baseline rows of group g;
    G + g: its endline rows. A row with a missing outcome is outside every domain but stays in the
    design (R ``svyby(..., na.rm=TRUE)``)."""
    _rows_of(design, data, who)
    codes, levels = group_codes(data, by, who)
    G = 1 if levels is None else len(levels)
    miss = np.isnan(y)
    names = pd.DataFrame({period: [baseline] * G + [endline] * G})
    if levels is not None:
        names = pd.concat([pd.concat([levels, levels], ignore_index=True), names], axis=1)
    theta, V, conv, counts = design_domain_means(design, y, round_cells(codes, G, b_mask, e_mask), names, outcome, who)
    i0, i1 = np.arange(G), G + np.arange(G)
    df = float(conv.get("df", np.inf))
    mom = dict(m0=theta[i0], m1=theta[i1], v00=V[i0, i0], v11=V[i1, i1], v01=V[i0, i1], n0=counts[i0], n1=counts[i1],
               df0=np.full(G, df), df1=np.full(G, df))
    method = f"{design.replicate_type} replicate weights" if design._repw is not None else "Taylor linearisation"
    sampling = f"complex survey design: round × group domain means on the full design ({method}); design df"
    notes = [f"{int((miss & (b_mask | e_mask)).sum())} row(s) with a missing outcome are outside the domains "
             "(they stay in the design)."] if (miss & (b_mask | e_mask)).any() else []
    return mom, levels, sampling, conv.get("description", ""), notes, (V, i0, i1, theta)


def change(data, *, outcome: str, period: str, baseline, endline, unit_id: Optional[str] = None, by=None, design=None,
           kind: str = "absolute", interval: str = "delta", level: float = 0.95) -> ChangeResult:
    """Change of the mean (or proportion, for a 0/1 outcome) of ``outcome`` from ``baseline`` to ``endline``.

    Parameters
    ----------
    data : DataFrame with one row per unit and round (never modified).
    outcome : numeric or boolean column. Rows with a missing outcome are left out (counted in the
        notes); with a design they are outside the domains but stay in the design.
    period : column of round labels; ``baseline`` and ``endline`` are two of its values.
    unit_id : column identifying units followed over rounds (panel): the change is then paired.
    by : column or list of columns of groups (one change per group).
    design : an :class:`ik.SurveyDesign` built on ``data``: design-based variance.
    kind : "absolute" (endline − baseline, e.g. percentage points of a proportion) or "relative"
        (endline / baseline − 1, a fraction; its negative is the reduction).
    interval : for ``kind="relative"``: "delta" (Wald-t on the delta-method SE) or "fieller".
    level : coverage of the intervals.

    Returns
    -------
    ChangeResult — ``tidy()``, ``table()``, ``summary()``, ``conf_int()``, ``plot()``.
    See the module docstring for the formulas and conventions.
    """
    who = "change"
    if kind not in _KINDS:
        raise InvalidInputError(f"{who}: kind must be 'absolute' or 'relative', got {kind!r}")
    if interval not in _INTERVALS:
        raise InvalidInputError(f"{who}: interval must be 'delta' or 'fieller', got {interval!r}")
    if interval == "fieller" and kind != "relative":
        raise InvalidInputError(f"{who}: the Fieller interval is for kind='relative' (a ratio of means)")
    check_level(level, who)
    mom, levels, sampling, conv, notes, full = round_moments(data, outcome=outcome, period=period, baseline=baseline,
                                                             endline=endline, unit_id=unit_id, by=by, design=design, who=who)
    return build_change(mom, levels, sampling, conv, notes, full, kind=kind, interval=interval, outcome=outcome,
                        baseline=baseline, endline=endline, paired=unit_id is not None, nobs=len(data))


def change_inference(mom: dict, full, kind: str, paired: bool):
    """(estimate, covariance matrix between groups, df) of the change per group from the round moments
    (``round_moments``): design: L V Lᵀ with L the (linearised) contrast of the domain means and the
    design df; paired: diagonal, n − 1 df; independent: diagonal, Welch–Satterthwaite df."""
    m0, m1, v00, v11, v01 = (mom[k] for k in ("m0", "m1", "v00", "v11", "v01"))
    est, var = change_estimates(m0, m1, v00, v11, v01, kind)
    G = len(est)
    if full is not None:  # design: the full covariance between groups, L V Lᵀ
        V, i0, i1, theta = full
        L = np.zeros((G, V.shape[0]))
        for g in range(G):
            if kind == "absolute":
                L[g, i1[g]], L[g, i0[g]] = 1.0, -1.0
            else:
                L[g, i1[g]], L[g, i0[g]] = 1.0 / m0[g], -m1[g] / (m0[g] * m0[g])
        vcov = L @ V @ L.T
        df = mom["df0"]
    else:
        vcov = np.diag(var)
        if paired:
            df = mom["df0"]
        elif kind == "absolute":
            df = welch_df(v11, v00, mom["df1"], mom["df0"])
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                df = welch_df(v11 / m0 ** 2, (m1 / m0) ** 2 * v00 / m0 ** 2, mom["df1"], mom["df0"])
    return est, vcov, np.asarray(df, dtype=float)


def build_change(mom, levels, sampling, conv, notes, full, *, kind, interval, outcome, baseline, endline, paired, nobs):
    m0, m1, v00, v11, v01 = (mom[k] for k in ("m0", "m1", "v00", "v11", "v01"))
    est, vcov, df = change_inference(mom, full, kind, paired)
    G = len(est)
    small = np.flatnonzero((mom["n0"] < 2) | (mom["n1"] < 2))
    if len(small) and full is None:
        warnings.warn(f"change: {len(small)} group(s) have fewer than 2 observations in a round; their standard errors are NaN",
                      ImpactkitWarning, stacklevel=3)
    if kind == "relative" and np.any(m0 == 0):
        warnings.warn("change: a group has a baseline mean of 0; its relative change is undefined (NaN or inf)",
                      ImpactkitWarning, stacklevel=3)
    if levels is None:
        names = ["change"]
        by_frame = None
    else:
        names = ["change [" + ", ".join(f"{c}={v}" for c, v in row.items()) + "]" for _, row in levels.iterrows()]
        by_frame = levels
    rounds = pd.DataFrame({"baseline": m0, "endline": m1, "var_baseline": v00, "var_endline": v11, "cov": v01,
                           "n_baseline": mom["n0"].astype(np.int64), "n_endline": mom["n1"].astype(np.int64)})
    return ChangeResult(pd.Series(est, index=names, name="estimate"), pd.DataFrame(vcov, index=names, columns=names),
                        pd.Series(np.asarray(df, dtype=float), index=names, name="df"), nobs=nobs,
                        vcov_type="survey" if full is not None else ("paired" if paired else "independent"),
                        vcov_convention=conv, depvar=outcome, by=by_frame, terms=["change"] * G,
                        interval=_interval_hook if interval == "fieller" else None, rounds=rounds, kind=kind,
                        interval_method=interval, sampling=sampling, baseline=baseline, endline=endline, outcome=outcome,
                        extra_notes=notes)
