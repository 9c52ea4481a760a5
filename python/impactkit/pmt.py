"""Proxy means tests: ``ik.pmt`` (issue 14 §3).

A PMT predicts a household's welfare from easily observed characteristics (assets, housing, household
composition) on a household survey, then ranks a registry by the prediction. Three models:

- ``method="ols"``: (log) welfare on the proxies (``ik.ols``; weights or ``design=`` as there);
- ``method="quantile"``: the ``quantile``-th conditional quantile of (log) welfare (``ik.quantreg``;
  0.2–0.4 is common PMT practice: it fits the lower part of the distribution where the poor are);
- ``method="logit"``: the probability of being poor, ``target`` (a 0/1 column, or ``ik.poverty_line(z)``
  on the welfare measure) on the proxies (``ik.logit``).

The left-hand side of the formula is the welfare outcome the model predicts (``"np.log(cons) ~ ..."``);
``welfare=`` names the column in levels (default: the outcome itself, or ``x`` in ``log(x)`` /
``np.log(x)``). Poverty lines are always given in welfare levels; the PMT maps them through the
outcome's transform.

Definitions used by :meth:`PMT.evaluate` (out-of-sample, k-fold; each household scored by the model
fitted without its fold). With the *need* of a household its predicted probability of being poor
(logit) or minus its predicted outcome (ols, quantile), and ``eligible`` the households selected:

- coverage c: the weighted share of the population selected; the selected are those whose need exceeds
  the weighted (1 − c)-quantile of need (first value whose cumulative weight share reaches 1 − c), so
  the achieved coverage is at most c (equal without ties) and is reported;
- ``exclusion_error`` = Σ w·poor·(1 − eligible) / Σ w·poor, ``inclusion_error_beneficiaries`` (leakage
  rate) = Σ w·(1 − poor)·eligible / Σ w·eligible, ``inclusion_error_nontarget`` = Σ w·(1 − poor)·eligible
  / Σ w·(1 − poor): the definitions of ``ik.targeting`` (equal to it; tested), with poor = welfare < line;
- ROC: the weighted true-positive rate Σ w·poor·1{need ≥ t} / Σ w·poor against the false-positive rate
  over all distinct thresholds t, from (0, 0); AUC the trapezoidal area (scikit-learn ``roc_auc_score``
  with ``sample_weight``);
- budget-neutral comparison (Brown, Ravallion & van de Walle 2018, J. Dev. Econ. 134, "A poor means
  test? Econometric targeting in Africa"): at coverage c and a transfer T per selected person the budget
  is B = T·c·N (N the weighted population). Scenarios: ``pmt`` (the selected get T), ``universal`` (every
  person gets B/N = c·T), ``random`` (each person selected with probability c, as a lottery over the same
  number of slots: the exact expectation c·m(y + T) + (1 − c)·m(y) of each measure m that is a population
  mean, no simulation), ``perfect`` (the poorest c by true welfare get T) and ``none`` (no transfer).
  Measures on post-transfer welfare y + transfer: FGT0 (headcount) and FGT1 (poverty gap),
  FGT_α = Σ w·1{y < z}·(1 − y/z)^α / Σ w (as ``ik.fgt``), and the share of the budget reaching the
  pre-transfer poor. T defaults to the mean shortfall of the poor, z·FGT1/FGT0.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .errors import ImpactkitWarning, InvalidInputError
from .survey import SurveyDesign
from .targeting import poverty_line

__all__ = ["pmt", "PMT", "PMTCutoff", "PMTEvaluation"]

_METHODS = ("ols", "quantile", "logit")
_LOG = re.compile(r"^\s*(?:np\.|numpy\.)?log\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_POOR = "pmt_poor_"
_WEIGHT = "pmt_weight_"


def _number(v, name: str, who: str) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
        raise InvalidInputError(f"{who}: {name} must be a finite number, got {v!r}")
    return float(v)


def _share(v, name: str, who: str) -> float:
    v = _number(v, name, who)
    if not 0 < v < 1:
        raise InvalidInputError(f"{who}: {name} must be in (0, 1), got {v!r}")
    return v


def _line_value(line, who: str) -> float:
    if isinstance(line, poverty_line):
        return float(line.value)
    if line is None:
        raise InvalidInputError(f"{who}: give line= (a poverty line in welfare levels, or ik.poverty_line(z))")
    return _number(line, "line", who)


def _frame(data, who: str, what: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: {what} must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: {what} has no rows")
    if data.columns.has_duplicates:
        raise InvalidInputError(f"{who}: {what} has more than one column named {data.columns[data.columns.duplicated()][0]!r}")
    return data


def _weights_of(data: pd.DataFrame, weights, who: str) -> np.ndarray:
    """Positive finite weights per row of ``data`` (None: ones); a Series is aligned by label."""
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        if weights not in data.columns:
            raise InvalidInputError(f"{who}: weights column {weights!r} is not in the data")
        col = data[weights]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            raise TypeError(f"{who}: weights column {weights!r} must be numeric (dtype {col.dtype})")
        w = col.to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(weights, pd.Series):
        if not weights.index.equals(data.index):
            if not weights.index.is_unique or not data.index.isin(weights.index).all():
                raise InvalidInputError(f"{who}: the weights Series is indexed unlike the data (labels missing or repeated)")
            weights = weights.reindex(data.index)
        w = weights.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(data),):
            raise InvalidInputError(f"{who}: weights has shape {w.shape} but the data have {len(data)} rows")
    bad = ~(np.isfinite(w) & (w > 0))
    if bad.any():
        raise InvalidInputError(f"{who}: weights must be positive and finite; row {data.index[np.flatnonzero(bad)[0]]!r} has "
                                f"{w[bad][0]!r}")
    return w


# --------------------------------------------------------------------------------------------------
# weighted selection, errors, ROC, FGT
# --------------------------------------------------------------------------------------------------
def _select_top(need: np.ndarray, w: np.ndarray, coverage: float) -> np.ndarray:
    """eligible = need > the weighted (1 − coverage)-quantile of need (first value whose cumulative
    weight share reaches 1 − coverage): the achieved coverage is at most ``coverage``."""
    order = np.argsort(need, kind="stable")
    cum = np.cumsum(w[order])
    share = cum / cum[-1]
    k = int(np.searchsorted(share, 1.0 - coverage - 1e-12, side="left"))
    t = need[order[min(k, len(need) - 1)]]
    return need > t


def _errors(poor: np.ndarray, eligible: np.ndarray, w: np.ndarray) -> dict:
    P = float(w @ poor)
    E = float(w @ eligible)
    N = float(w.sum())
    pe = float(w @ (poor * eligible))
    nan = float("nan")
    return {"coverage": E / N,
            "exclusion_error": (P - pe) / P if P > 0 else nan,
            "inclusion_error_beneficiaries": (E - pe) / E if E > 0 else nan,
            "inclusion_error_nontarget": (E - pe) / (N - P) if N - P > 0 else nan,
            "poor_covered": pe / P if P > 0 else nan}


def roc_curve(poor: np.ndarray, need: np.ndarray, w: np.ndarray):
    """Weighted ROC (fpr, tpr, thresholds) over the distinct values of ``need``, from (0, 0), and the
    trapezoidal AUC (scikit-learn ``roc_curve`` / ``roc_auc_score`` with ``sample_weight``)."""
    order = np.argsort(-need, kind="stable")
    s, y, ww = need[order], poor[order], w[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # the last row of each distinct value
    tps = np.cumsum(ww * y)[last]
    fps = np.cumsum(ww * (1 - y))[last]
    tpr = np.r_[0.0, tps / tps[-1]] if tps[-1] > 0 else np.full(len(tps) + 1, np.nan)
    fpr = np.r_[0.0, fps / fps[-1]] if fps[-1] > 0 else np.full(len(fps) + 1, np.nan)
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    return fpr, tpr, np.r_[np.inf, s[last]], auc


def _fgt(y: np.ndarray, z: float, w: np.ndarray, alpha: float) -> float:
    """FGT_α = Σ w 1{y < z} (1 − y/z)^α / Σ w (Foster, Greer & Thorbecke 1984; ik.fgt with a fixed line)."""
    g = np.where(y < z, 1.0 - y / z, 0.0)
    return float(w @ (np.where(y < z, 1.0, 0.0) if alpha == 0 else g ** alpha) / w.sum())


def _budget_table(welfare: np.ndarray, poor: np.ndarray, need: np.ndarray, w: np.ndarray, z: float, transfer: float,
                  grid: Sequence[float]) -> pd.DataFrame:
    rows = []
    N = float(w.sum())

    def measures(post, to_poor, budget):
        return {"fgt0": _fgt(post, z, w, 0), "fgt1": _fgt(post, z, w, 1),
                "budget_share_to_poor": to_poor / budget if budget > 0 else float("nan")}

    base = {"fgt0": _fgt(welfare, z, w, 0), "fgt1": _fgt(welfare, z, w, 1), "budget_share_to_poor": float("nan")}
    topped = {"fgt0": _fgt(welfare + transfer, z, w, 0), "fgt1": _fgt(welfare + transfer, z, w, 1)}
    P = float(w @ poor)
    for c in grid:
        budget = transfer * c * N
        sel = _select_top(need, w, c)
        achieved = float(w @ sel) / N
        budget_pmt = transfer * achieved * N  # the budget actually spent (equal to B without ties)
        scen = {"none": dict(base, coverage=0.0, budget=0.0)}
        scen["pmt"] = dict(measures(welfare + transfer * sel, transfer * float(w @ (sel * poor)), budget_pmt),
                           coverage=achieved, budget=budget_pmt)
        scen["universal"] = dict(measures(welfare + budget / N, budget / N * P, budget), coverage=1.0, budget=budget)
        scen["random"] = {"fgt0": c * topped["fgt0"] + (1 - c) * base["fgt0"],
                          "fgt1": c * topped["fgt1"] + (1 - c) * base["fgt1"],
                          "budget_share_to_poor": P / N, "coverage": c, "budget": budget}
        perfect = _select_top(-welfare, w, c)
        ach = float(w @ perfect) / N
        scen["perfect"] = dict(measures(welfare + transfer * perfect, transfer * float(w @ (perfect * poor)), transfer * ach * N),
                               coverage=ach, budget=transfer * ach * N)
        for name, m in scen.items():
            rows.append({"target_coverage": c, "scenario": name, **m})
    cols = ["target_coverage", "scenario", "coverage", "budget", "fgt0", "fgt1", "budget_share_to_poor"]
    return pd.DataFrame(rows)[cols]


# --------------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PMTCutoff:
    """An eligibility rule on PMT scores: ``eligible(registry)`` gives the selected rows.

    ``threshold`` is on the score scale (predicted outcome for ols/quantile: eligible when the score is
    below it; probability of being poor for logit: eligible when above it). ``coverage`` is the weighted
    share of the fitting sample the rule selects; ``rule`` says how the threshold was set."""

    threshold: float
    below: bool
    coverage: float
    rule: str
    pmt: "PMT"

    def eligible(self, registry: pd.DataFrame) -> pd.Series:
        s = self.pmt.score(registry)
        out = s < self.threshold if self.below else s > self.threshold
        return out.rename("eligible")

    def __repr__(self) -> str:
        side = "<" if self.below else ">"
        return f"PMTCutoff(score {side} {self.threshold:.6g}; {self.rule}; in-sample coverage {self.coverage:.4g})"


class PMT:
    """A fitted proxy means test (``ik.pmt``). ``model`` is the underlying fit (``ik.ols``, ``ik.quantreg``
    or ``ik.logit`` result); ``score``, ``cutoff``, ``evaluate``; ``table()`` / ``summary()`` are the
    model's."""

    def __init__(self, *, formula, method, quantile, target, welfare, weights, design, data, model, outcome_of):
        self.formula = formula
        self.method = method
        self.quantile = quantile
        self.target = target
        self.welfare = welfare
        self.model = model
        self._weights = weights
        self._design = design
        self._fit_sample = data
        self._outcome_of = outcome_of

    # --- prediction ---------------------------------------------------------------------------------
    def _rhs_variables(self, data: pd.DataFrame) -> list:
        from formulaic import Formula

        rhs = self.formula.split("~", 1)[1]
        names = sorted({str(v) for v in Formula(rhs).required_variables}, key=str)
        return [v for v in names if v in data.columns or not (v in {"C", "np", "log", "exp", "sqrt", "I", "center", "scale"} or "." in v)]

    def score(self, registry: pd.DataFrame) -> pd.Series:
        """Predicted outcome (ols, quantile: on the scale of the formula's left-hand side) or probability
        of being poor (logit) for each row of ``registry`` (indexed like it). Columns the model needs that
        the registry lacks, missing values in them and factor levels not seen in the fit raise
        InvalidInputError naming them."""
        who = "pmt.score"
        registry = _frame(registry, who, "registry")
        fit_data = self._fit_sample
        need = self._rhs_variables(fit_data)
        missing = [v for v in need if v not in registry.columns]
        if missing:
            raise InvalidInputError(f"{who}: the registry lacks the column(s) {missing} used by the model {self.formula!r}")
        for v in need:
            col = registry[v]
            if col.isna().any():
                raise InvalidInputError(f"{who}: registry column {v!r} has {int(col.isna().sum())} missing value(s) "
                                        f"(first at row {col.index[col.isna().to_numpy()][0]!r}); impute or drop them first")
            ref = fit_data[v]
            categorical = (not pd.api.types.is_numeric_dtype(ref)) or pd.api.types.is_bool_dtype(ref) \
                or re.search(r"C\(\s*" + re.escape(v) + r"\s*[,)]", self.formula) is not None
            if categorical:
                seen = pd.Index(pd.unique(ref.astype(object)))
                new = pd.Index(pd.unique(col.astype(object))).difference(seen)
                if len(new):
                    raise InvalidInputError(f"{who}: registry column {v!r} has level(s) {list(new)[:5]} not seen when the PMT "
                                            "was fitted; no coefficient exists for them (recode them to a fitted level)")
            elif pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
                raise TypeError(f"{who}: registry column {v!r} must be numeric like the fitting data (dtype {col.dtype})")
        if self.method == "logit":
            out = self.model.predict(registry, type="response")
        else:
            out = self.model.predict(registry)
        return pd.Series(np.asarray(out, dtype=float), index=registry.index, name="score")

    def _need(self, score: np.ndarray) -> np.ndarray:
        return score if self.method == "logit" else -score

    def _in_sample(self):
        """(scores, weights) of the fitting sample."""
        s = self.score(self._fit_sample).to_numpy()
        w = np.ones(len(s)) if self._weights is None else np.asarray(self._weights, dtype=float)
        return s, w

    # --- cutoffs ------------------------------------------------------------------------------------
    def cutoff(self, *, line=None, coverage=None, probability=None) -> PMTCutoff:
        """An eligibility rule: ``line=`` (ols, quantile: predicted welfare below the line, given in welfare
        levels), ``coverage=`` (the weighted share c of the fitting sample with the highest need: the
        threshold is the weighted c-quantile of the predicted outcome, or (1 − c)-quantile of the
        probability), or ``probability=`` (logit: predicted probability of being poor above it)."""
        who = "pmt.cutoff"
        given = [k for k, v in (("line", line), ("coverage", coverage), ("probability", probability)) if v is not None]
        if len(given) != 1:
            raise InvalidInputError(f"{who}: give exactly one of line=, coverage= or probability=, got {given or 'none'}")
        s, w = self._in_sample()
        below = self.method != "logit"
        if line is not None:
            if self.method == "logit":
                raise InvalidInputError(f"{who}: a logit PMT predicts the probability of being poor; give coverage= or probability=")
            z = _line_value(line, who)
            t = float(self._outcome_of(z))
            rule = f"predicted outcome below the line {z:g} ({t:.6g} on the outcome scale)"
        elif coverage is not None:
            c = _share(coverage, "coverage", who)
            need = self._need(s)
            order = np.argsort(need, kind="stable")
            share = np.cumsum(w[order]) / w.sum()
            k = min(int(np.searchsorted(share, 1.0 - c - 1e-12, side="left")), len(s) - 1)
            t = float(s[order[k]])
            rule = f"weighted coverage {c:g} of the fitting sample"
        else:
            if self.method != "logit":
                raise InvalidInputError(f"{who}: probability= is for method='logit'; give line= or coverage=")
            t = _share(probability, "probability", who)
            rule = f"predicted probability of being poor above {t:g}"
        sel = s < t if below else s > t
        return PMTCutoff(threshold=t, below=below, coverage=float(w @ sel) / float(w.sum()), rule=rule, pmt=self)

    # --- out-of-sample evaluation -------------------------------------------------------------------
    def evaluate(self, data: pd.DataFrame, *, line=None, folds: int = 5, groups=None, seed: int = 0,
                 coverage: Optional[Sequence[float]] = None, transfer: Optional[float] = None, weights=None) -> "PMTEvaluation":
        """Out-of-sample accuracy by k-fold cross-validation on ``data`` (the survey; never modified).

        The rows (or, with ``groups=``, whole groups such as clusters or villages) are split at random
        (``seed``; numpy's PCG64, so the same for any thread count) into ``folds`` folds; each fold is
        scored by the model refitted on the others. Poverty is welfare < ``line`` (welfare levels; default:
        the PMT's target line). Returns exclusion and inclusion errors over the ``coverage`` grid (default
        0.05, 0.10, ..., 0.95) and at the line rule, the ROC and weighted AUC, and the budget-neutral
        comparison with universal, random and perfect targeting (module docstring). ``weights``: column,
        array or Series (default: the PMT's weights when ``data`` is its fitting data, else equal)."""
        who = "pmt.evaluate"
        data = _frame(data, who)
        if line is None and isinstance(self.target, poverty_line):
            line = self.target
        z = _line_value(line, who)
        if isinstance(folds, (bool, np.bool_)) or not isinstance(folds, (int, np.integer)) or folds < 2:
            raise InvalidInputError(f"{who}: folds must be an integer of at least 2, got {folds!r}")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InvalidInputError(f"{who}: seed must be a non-negative integer, got {seed!r}")
        grid = np.round(np.arange(0.05, 0.951, 0.05), 2) if coverage is None else np.asarray(
            [_share(c, "coverage", who) for c in np.atleast_1d(coverage)], dtype=float)
        if len(grid) == 0:
            raise InvalidInputError(f"{who}: coverage is empty")
        if weights is None and data is self._data:
            weights = self._w_full
        w_all = _weights_of(data, weights, who)
        # rows usable: every model variable and the welfare column present
        if self.welfare not in data.columns:
            raise InvalidInputError(f"{who}: the welfare column {self.welfare!r} is not in the data")
        from ._formula import build_design

        d = build_design(self._fit_formula, self._with_target(data, who), na="drop")
        pos = np.flatnonzero(d.positions) if d.positions is not None else np.arange(len(data))
        sub = data.iloc[pos]
        welfare = pd.to_numeric(sub[self.welfare], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(welfare)):
            raise InvalidInputError(f"{who}: welfare column {self.welfare!r} has missing or non-finite values in rows the model uses")
        w = w_all[pos]
        poor = (welfare < z).astype(float)
        n = len(sub)
        if n < 2 * folds:
            raise InvalidInputError(f"{who}: {n} usable rows for {folds} folds; give fewer folds or more data")
        rng = np.random.default_rng(int(seed))
        if groups is None:
            fold = np.empty(n, dtype=np.int64)
            fold[rng.permutation(n)] = np.arange(n) % folds
        else:
            g = data[groups].iloc[pos] if isinstance(groups, str) and groups in data.columns else None
            if g is None:
                if isinstance(groups, str):
                    raise InvalidInputError(f"{who}: groups column {groups!r} is not in the data")
                raise TypeError(f"{who}: groups must be a column name, got {type(groups).__name__}")
            if g.isna().any():
                raise InvalidInputError(f"{who}: groups column {groups!r} has missing values")
            codes, uniques = pd.factorize(g, sort=True)
            if len(uniques) < folds:
                raise InvalidInputError(f"{who}: {len(uniques)} groups for {folds} folds; every fold needs a group")
            gf = np.empty(len(uniques), dtype=np.int64)
            gf[rng.permutation(len(uniques))] = np.arange(len(uniques)) % folds
            fold = gf[codes]
        score = np.empty(n)
        for f in range(folds):
            test = fold == f
            train = sub.iloc[np.flatnonzero(~test)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ImpactkitWarning)
                model = self._refit(train, w[~test])
            try:
                score[test] = model.score(sub.iloc[np.flatnonzero(test)]).to_numpy()
            except InvalidInputError as exc:
                raise InvalidInputError(f"{who}: fold {f + 1} cannot be scored by the model fitted on the other folds: {exc}") from None
        need = self._need(score)
        rows = []
        for c in grid:
            sel = _select_top(need, w, float(c))
            # the score of the last household selected (largest predicted outcome / smallest probability)
            edge = float(-np.min(need[sel])) if sel.any() else float("nan")
            rows.append({"rule": "coverage", "target_coverage": float(c), "threshold": -edge if self.method == "logit" else edge,
                         **_errors(poor, sel.astype(float), w)})
        if self.method != "logit":
            t = float(self._outcome_of(z))
            sel = score < t
            rows.append({"rule": "line", "target_coverage": np.nan, "threshold": t, **_errors(poor, sel.astype(float), w)})
        errors = pd.DataFrame(rows)
        fpr, tpr, thr, auc = roc_curve(poor, need, w)
        if transfer is None:
            f0, f1 = _fgt(welfare, z, w, 0), _fgt(welfare, z, w, 1)
            T = z * f1 / f0 if f0 > 0 else float("nan")
        else:
            T = _number(transfer, "transfer", who)
            if T <= 0:
                raise InvalidInputError(f"{who}: transfer must be positive, got {transfer!r}")
        budget = _budget_table(welfare, poor, need, w, z, T, grid) if np.isfinite(T) else None
        if budget is None:
            warnings.warn(f"{who}: nobody is poor at line {z:g}; no budget comparison", ImpactkitWarning, stacklevel=2)
        return PMTEvaluation(errors=errors, roc=pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr}), auc=auc,
                             budget=budget, transfer=T, line=z, folds=folds, seed=int(seed), groups=groups, method=self.method,
                             n=n, poor_share=float(w @ poor / w.sum()), scores=pd.Series(score, index=sub.index, name="oos_score"),
                             fold=pd.Series(fold + 1, index=sub.index, name="fold"),
                             frame=pd.DataFrame({"welfare": welfare, "poor": poor, "need": need, "w": w}, index=sub.index))

    # --- internals ----------------------------------------------------------------------------------
    def _with_target(self, data: pd.DataFrame, who: str) -> pd.DataFrame:
        return data if self.method != "logit" else data.assign(**{_POOR: _target_indicator(data, self.target, self.welfare, who)})

    def _refit(self, train: pd.DataFrame, w: np.ndarray) -> "PMT":
        return pmt(self.formula, train, method=self.method, quantile=self.quantile, target=self.target, welfare=self.welfare,
                   weights=w)

    # --- results ------------------------------------------------------------------------------------
    def table(self, level: float = 0.95) -> pd.DataFrame:
        return self.model.tidy(level)

    def summary(self):
        return self.model.summary()

    def _repr_html_(self) -> str:
        return self.model._repr_html_()

    def __repr__(self) -> str:
        q = f" at quantile {self.quantile:g}" if self.method == "quantile" else ""
        return f"<PMT {self.method}{q}: {self.formula!r}, {self.model.nobs:,} observations>"


def _target_indicator(data: pd.DataFrame, target, welfare: str, who: str) -> np.ndarray:
    """0/1 poverty indicator for the logit PMT: a 0/1 or boolean column, or welfare < line."""
    if isinstance(target, poverty_line):
        v = pd.to_numeric(data[welfare], errors="coerce").to_numpy(dtype=float)
        out = np.where(np.isnan(v), np.nan, (v < target.value) if target.strict else (v <= target.value))
        return out.astype(float)
    if isinstance(target, str):
        if target not in data.columns:
            raise InvalidInputError(f"{who}: target column {target!r} is not in the data")
        col = data[target]
        if pd.api.types.is_bool_dtype(col):
            return col.astype(float).to_numpy()
        if not pd.api.types.is_numeric_dtype(col):
            raise TypeError(f"{who}: target column {target!r} must be boolean or 0/1 (dtype {col.dtype})")
        v = col.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isfinite(v) & (v != 0) & (v != 1)
        if bad.any():
            raise InvalidInputError(f"{who}: target column {target!r} must be 0/1; row {col.index[bad][0]!r} has {v[bad][0]!r}")
        return v
    raise TypeError(f"{who}: target must be a 0/1 column name or ik.poverty_line(z), got {type(target).__name__}")


def _welfare_column(formula: str, welfare: Optional[str], data: pd.DataFrame, who: str) -> str:
    lhs = formula.split("~", 1)[0]
    if welfare is None:
        m = _NAME.match(lhs) or _LOG.match(lhs)
        if not m:
            raise InvalidInputError(f"{who}: cannot tell the welfare column from the outcome {lhs.strip()!r}; give welfare= "
                                    "(the column in levels)")
        welfare = m.group(1)
    if not isinstance(welfare, str):
        raise TypeError(f"{who}: welfare must be a column name, got {type(welfare).__name__}")
    if welfare not in data.columns:
        raise InvalidInputError(f"{who}: welfare column {welfare!r} is not in the data")
    return welfare


def pmt(formula: str, data: pd.DataFrame, *, method: str = "ols", quantile: Optional[float] = None, target=None,
        welfare: Optional[str] = None, design: Optional[SurveyDesign] = None, weights=None) -> PMT:
    """Fit a proxy means test.

    Parameters
    ----------
    formula : "np.log(cons) ~ rooms + C(roof) + hhsize + ..." — the outcome is (log) welfare.
    data : the household survey (pandas DataFrame; never modified).
    method : "ols", "quantile" (needs ``quantile``, e.g. 0.3) or "logit" (needs ``target``).
    quantile : τ in (0, 1) for method="quantile".
    target : logit: a 0/1 or boolean column (poor), or ``ik.poverty_line(z)`` on the welfare column (in
        levels). For ols/quantile, an ``ik.poverty_line`` here is the default line of ``evaluate``.
    welfare : the welfare column in levels (default: the outcome, or x in log(x) / np.log(x)).
    design : ``ik.SurveyDesign`` (its weights; design-based standard errors of the model).
    weights : sampling weights (column name, array or Series), when there is no design.

    Returns
    -------
    PMT: ``score(registry)``, ``cutoff(line= | coverage= | probability=)``, ``evaluate(data, folds=, groups=,
    seed=, line=)``, ``table()``, ``summary()``, ``model``.
    """
    from .glm import logit
    from .quantile import quantreg
    from .regression import ols

    who = "pmt"
    if not isinstance(formula, str):
        raise TypeError(f"{who}: formula must be a string like 'np.log(cons) ~ x1 + C(x2)', got {type(formula).__name__}")
    if "~" not in formula:
        raise InvalidInputError(f"{who}: formula {formula!r} has no '~'")
    if "|" in formula:
        raise InvalidInputError(f"{who}: absorbed fixed effects are not supported in a PMT; write them as C(fe) regressors")
    data = _frame(data, who)
    if method not in _METHODS:
        raise InvalidInputError(f"{who}: method must be one of {', '.join(_METHODS)}, got {method!r}")
    if method == "quantile":
        if quantile is None:
            raise InvalidInputError(f"{who}: method='quantile' needs quantile= (e.g. 0.3)")
        quantile = _share(quantile, "quantile", who)
    elif quantile is not None:
        raise InvalidInputError(f"{who}: quantile= is for method='quantile'")
    if target is not None and not isinstance(target, (str, poverty_line)):
        raise TypeError(f"{who}: target must be a 0/1 column name or ik.poverty_line(z), got {type(target).__name__}")
    if method == "logit" and target is None:
        raise InvalidInputError(f"{who}: method='logit' needs target= (a 0/1 column, or ik.poverty_line(z))")
    if method != "logit" and isinstance(target, str):
        raise InvalidInputError(f"{who}: a target column is for method='logit'; for {method!r} give target=ik.poverty_line(z) "
                                "or line= in evaluate")
    if design is not None and weights is not None:
        raise InvalidInputError(f"{who}: give weights= or design=, not both (the design carries its weights)")
    if design is not None and not isinstance(design, SurveyDesign):
        raise TypeError(f"{who}: design must be an ik.SurveyDesign, got {type(design).__name__}")
    welfare = _welfare_column(formula, welfare, data, who)
    lhs, rhs = formula.split("~", 1)
    fit_formula = formula if method != "logit" else f"{_POOR} ~ {rhs}"
    for name in (_POOR, _WEIGHT):
        if name in data.columns:
            raise InvalidInputError(f"{who}: the data have a column named {name!r}, which the PMT uses internally")
    if design is not None:
        w_full = design._w[design.positions_of(data.index, who, data)]
    else:
        w_full = _weights_of(data, weights, who)
    extra = {_WEIGHT: w_full}
    if method == "logit":
        extra[_POOR] = _target_indicator(data, target, welfare, who)
    fit_data = data.assign(**extra)  # a new frame: the caller's data are not modified
    wname = _WEIGHT if weights is not None else None
    if method == "ols":
        model = ols(formula, fit_data, weights=wname, weight_type="probability" if wname else "analytic", design=design)
    elif method == "quantile":
        model = quantreg(formula, fit_data, quantile=quantile, weights=wname, design=design)
    else:
        model = logit(fit_formula, fit_data, weights=wname, design=design)
    rows = _fit_rows(model)
    w = rows[_WEIGHT].to_numpy(dtype=float) if (design is not None or weights is not None) else None

    def outcome_of(value: float) -> float:
        from formulaic import model_matrix

        try:
            with np.errstate(all="ignore"):
                mm = model_matrix(f"{lhs} ~ 1", pd.DataFrame({welfare: [float(value)]}), na_action="ignore")
            t = float(np.asarray(mm.lhs, dtype=float).ravel()[0])
        except Exception as exc:
            raise InvalidInputError(f"{who}: cannot map the line {value!r} through the outcome {lhs.strip()!r}: {exc}") from None
        if not np.isfinite(t):
            raise InvalidInputError(f"{who}: cannot map the line {value!r} through the outcome {lhs.strip()!r}: it gives {t!r}")
        return t

    out = PMT(formula=formula, method=method, quantile=quantile, target=target, welfare=welfare, weights=w, design=design,
              data=rows, model=model, outcome_of=outcome_of)
    out._fit_formula = fit_formula
    out._w_full = w_full if (design is not None or weights is not None) else None
    out._data = data
    return out


def _fit_rows(model) -> pd.DataFrame:
    """The rows of the data the model was fitted on."""
    if hasattr(model, "_fit_data"):
        return model._fit_data
    from ._predict import fit_rows

    return fit_rows(model._call["data"], getattr(model, "_positions", None))


class _Text:
    """A summary with text and HTML renderings (``str()`` / Jupyter)."""

    def __init__(self, text: str, html: str):
        self._text, self._html = text, html

    def as_text(self) -> str:
        return self._text

    def as_html(self) -> str:
        return self._html

    def _repr_html_(self) -> str:
        return self._html

    def __str__(self) -> str:
        return self._text

    __repr__ = __str__


class PMTEvaluation:
    """Out-of-sample accuracy of a PMT (``PMT.evaluate``): ``errors`` (by coverage and at the line rule),
    ``roc`` and ``auc``, ``budget`` (budget-neutral comparison), ``table()``, ``summary()``, ``plot()``,
    ``targeting(coverage=)`` (the full ``ik.targeting`` metrics with standard errors at one cutoff)."""

    def __init__(self, *, errors, roc, auc, budget, transfer, line, folds, seed, groups, method, n, poor_share, scores, fold, frame):
        self.errors = errors
        self.roc = roc
        self.auc = auc
        self.budget = budget
        self.transfer = transfer
        self.line = line
        self.folds = folds
        self.seed = seed
        self.groups = groups
        self.method = method
        self.nobs = n
        self.poor_share = poor_share
        #: out-of-sample score of each evaluated row (model fitted without its fold), and its fold (1..k)
        self.scores = scores
        self.fold = fold
        self._frame = frame

    def table(self) -> pd.DataFrame:
        """Tidy long table: metric, rule, target_coverage, coverage, estimate (errors by cutoff, then the
        AUC)."""
        metrics = ["exclusion_error", "inclusion_error_beneficiaries", "inclusion_error_nontarget"]
        t = self.errors.melt(id_vars=["rule", "target_coverage", "coverage", "threshold"], value_vars=metrics,
                             var_name="metric", value_name="estimate")
        t = t[["metric", "rule", "target_coverage", "coverage", "threshold", "estimate"]]
        auc = pd.DataFrame([{"metric": "auc", "rule": "roc", "target_coverage": np.nan, "coverage": np.nan,
                             "threshold": np.nan, "estimate": self.auc}])
        return pd.concat([t, auc], ignore_index=True)

    def targeting(self, coverage: float, **kwargs):
        """``ik.targeting`` of the out-of-sample selection at ``coverage`` (weights as in the evaluation):
        every targeting metric with its standard error, conditional on the PMT scores."""
        from .targeting import targeting

        c = _share(coverage, "coverage", "PMTEvaluation.targeting")
        f = self._frame
        sel = _select_top(f["need"].to_numpy(), f["w"].to_numpy(), c)
        frame = pd.DataFrame({"welfare": f["welfare"].to_numpy(), "eligible": sel, "w": f["w"].to_numpy()})
        return targeting(frame, welfare="welfare", beneficiary="eligible", target=poverty_line(self.line), weights="w", **kwargs)

    def _lines(self) -> list:
        out = [f"PMT evaluation ({self.method}), {self.folds}-fold cross-validation"
               + (f" by groups {self.groups!r}" if self.groups is not None else "") + f", seed {self.seed}",
               f"Observations: {self.nobs:,}; poverty line {self.line:g}; poor (weighted) {self.poor_share:.4f}",
               f"Weighted AUC: {self.auc:.4f}"]
        return out

    def summary(self) -> _Text:
        from ._render import html_escape

        e = self.errors
        show = e[(e["rule"] == "line") | e["target_coverage"].round(2).isin([0.1, 0.2, 0.3, 0.4, 0.5])]
        cols = ["rule", "target_coverage", "coverage", "exclusion_error", "inclusion_error_beneficiaries", "inclusion_error_nontarget"]
        lines = self._lines() + ["", "Out-of-sample targeting errors:", show[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}")]
        html = "<p>" + "<br>".join(html_escape(x) for x in self._lines()) + "</p>" + show[cols].to_html(index=False, float_format=lambda v: f"{v:.4f}")
        if self.budget is not None:
            b = self.budget
            c = b["target_coverage"].unique()
            pick = c[np.argmin(np.abs(c - self.poor_share))]
            sub = b[b["target_coverage"] == pick]
            head = (f"Budget-neutral comparison at coverage {pick:g} (transfer {self.transfer:.4g} per selected person; "
                    "Brown, Ravallion & van de Walle 2018):")
            lines += ["", head, sub.drop(columns="target_coverage").to_string(index=False, float_format=lambda v: f"{v:.4f}")]
            html += f"<p>{html_escape(head)}</p>" + sub.drop(columns="target_coverage").to_html(index=False, float_format=lambda v: f"{v:.4f}")
        notes = ["Errors are out-of-sample point estimates; PMTEvaluation.targeting(coverage) gives design-based SEs "
                 "conditional on the scores.", "Random allocation is the exact expectation over lotteries of the same slots."]
        lines += [""] + notes
        html += "<p>" + "<br>".join(html_escape(x) for x in notes) + "</p>"
        return _Text("\n".join(lines), html)

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return f"<PMTEvaluation {self.method}: {self.folds} folds, {self.nobs:,} observations, AUC {self.auc:.4f}>"

    def plot(self, kind: str = "errors", ax=None):
        """``kind="errors"``: exclusion and inclusion errors against coverage; ``"roc"``: the ROC curve;
        ``"budget"``: FGT1 after transfer against coverage by scenario. Returns the matplotlib Axes."""
        from .plotting import _import_pyplot

        if kind not in ("errors", "roc", "budget"):
            raise InvalidInputError(f"plot: kind must be 'errors', 'roc' or 'budget', got {kind!r}")
        plt = _import_pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if kind == "errors":
            e = self.errors[self.errors["rule"] == "coverage"]
            ax.plot(e["coverage"], e["exclusion_error"], marker="o", label="exclusion error")
            ax.plot(e["coverage"], e["inclusion_error_beneficiaries"], marker="s", label="inclusion error (leakage)")
            ax.axvline(self.poor_share, color="grey", linestyle=":", label="poverty rate")
            ax.set_xlabel("coverage (weighted share selected)")
            ax.set_ylabel("error rate")
        elif kind == "roc":
            ax.plot(self.roc["fpr"], self.roc["tpr"], label=f"PMT (AUC {self.auc:.3f})")
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
            ax.set_xlabel("false-positive rate (non-poor selected)")
            ax.set_ylabel("true-positive rate (poor selected)")
        else:
            if self.budget is None:
                raise InvalidInputError("plot: no budget comparison (nobody poor)")
            for name, g in self.budget[self.budget["scenario"] != "none"].groupby("scenario", sort=False):
                ax.plot(g["target_coverage"], g["fgt1"], marker="o", label=name)
            ax.axhline(float(self.budget[self.budget["scenario"] == "none"]["fgt1"].iloc[0]), color="grey", linestyle=":",
                       label="no transfer")
            ax.set_xlabel("coverage of the PMT (budget = transfer × coverage × population)")
            ax.set_ylabel("poverty gap (FGT1) after transfer")
        ax.legend()
        return ax
