"""Discrete-time hazard models for follow-up rounds: ``ik.person_period`` expands one row per unit into one
row per unit and round at risk, and ``ik.discrete_hazard`` fits a logit or complementary log-log hazard on
it through the shared GLM (``ik.logit`` / ``ik.cloglog``), cluster-robust by unit by default.

Model (Allison 1982; Singer & Willett 2003, ch. 10–12): for unit i at risk in round t,
  h_it = P(event in t | no event before t, x_i) = F(α_t + x_iᵀβ),
with F the logistic (log-odds of the hazard) or the complementary log-log 1 − exp(−exp(·)) (a grouped-time
proportional-hazards model: exp(β) are hazard ratios of the underlying continuous-time model; Prentice &
Gloeckler 1978). The likelihood of the person-period rows is exactly the discrete-time survival
likelihood, so an ordinary binary GLM on them is the maximum-likelihood fit.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from .errors import InvalidInputError
from .survey import _column
from .targeting import _indicator, _numeric

__all__ = ["person_period", "discrete_hazard"]

_BASELINES = ("rounds", "linear", "none")


def _rounds(data: pd.DataFrame, name: str, argument: str, who: str) -> np.ndarray:
    v = _numeric(data, name, argument)
    if not np.all(v == np.round(v)):
        i = int(np.argmax(v != np.round(v)))
        raise InvalidInputError(f"{who}: {argument} column {name!r} must hold whole rounds; row {data.index[i]!r} has {v[i]!r}")
    return v.astype(np.int64)


def person_period(data: pd.DataFrame, *, id: str, time: str, event: str, entry: Optional[str] = None,
                  period: str = "period", outcome: str = "event_now") -> pd.DataFrame:
    """One row per unit and round at risk: the unit's columns repeated for rounds entry + 1, …, time, with
    ``period`` (the round) and ``outcome`` (1 in the unit's last round if its event happened then, else 0).

    Parameters
    ----------
    id : unit identifier (one row per unit). time : the last round observed (whole number ≥ 1): the round of
        the event, or the last round seen without it. event : 1 if the event happened in round ``time``, 0 if
        the unit was censored after it. entry : rounds already passed when observation began (default 0;
        left truncation: the unit is at risk from round entry + 1).
    """
    who = "person_period"
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    for name in (period, outcome):
        if name in data.columns:
            raise InvalidInputError(f"{who}: the data already have a column {name!r}; choose another name with "
                                    f"{'period' if name == period else 'outcome'}=")
    ids = _column(data, id, "id")
    if ids.isna().any():
        raise InvalidInputError(f"{who}: id column {id!r} has missing values")
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        raise InvalidInputError(f"{who}: id column {id!r} must have one row per unit; {dup!r} appears more than once")
    t = _rounds(data, time, "time", who)
    e = _indicator(data, event, "event")
    en = np.zeros(len(t), dtype=np.int64) if entry is None else _rounds(data, entry, "entry", who)
    if (en < 0).any():
        raise InvalidInputError(f"{who}: entry must be ≥ 0; row {data.index[int(np.argmax(en < 0))]!r} has {en[en < 0][0]}")
    bad = t <= en
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidInputError(f"{who}: time must be after entry (at least round 1); row {data.index[i]!r} has time {t[i]} "
                                f"and entry {en[i]}")
    k = t - en
    rows = np.repeat(np.arange(len(t)), k)
    start = np.cumsum(k) - k
    offset = np.arange(len(rows)) - np.repeat(start, k)
    out = data.iloc[rows].reset_index(drop=True)
    out[period] = en[rows] + 1 + offset
    out[outcome] = ((out[period].to_numpy() == t[rows]) & (e[rows] == 1)).astype(np.float64)
    return out


def discrete_hazard(data: pd.DataFrame, *, id: str, time: str, event: str, formula: str = "", link: str = "logit",
                    baseline: str = "rounds", entry: Optional[str] = None, weights: Optional[str] = None,
                    vcov: Optional[str] = "CR1", cluster=None, period: str = "period"):
    """Discrete-time hazard model on person-period data built from one row per unit.

    Parameters
    ----------
    id, time, event, entry : as :func:`person_period` (time = last round observed, event = 1 if the event
        happened in it). formula : right-hand side of unit covariates, e.g. ``"treated + C(region)"``
        (may be empty; may use ``period``). link : "logit" (default) or "cloglog".
    baseline : the baseline hazard α_t: "rounds" (default; one term per round, ``C(period)``), "linear"
        (α + γ·period) or "none" (write it in ``formula`` yourself).
    weights : unit weights column (repeated on the unit's rounds). vcov, cluster : the variance; by default
        CR1 clustered by ``id`` (each unit contributes several dependent rows), as statsmodels'
        ``cov_type="cluster"`` / R ``sandwich::vcovCL(type = "HC1")`` on the expanded data.

    Returns the :class:`GlmResult` of the shared GLM with ``person_period`` (the expanded data, which the
    caller can refit) and ``link`` attached.

    Examples
    --------
    >>> fit = ik.discrete_hazard(services, id="service", time="last_round", event="closed",
    ...                          formula="grant_funded + C(region)", link="cloglog")
    >>> fit.tidy()
    """
    from .glm import cloglog, logit

    who = "discrete_hazard"
    if link not in ("logit", "cloglog"):
        raise InvalidInputError(f"{who}: link must be 'logit' or 'cloglog', got {link!r}")
    if baseline not in _BASELINES:
        raise InvalidInputError(f"{who}: baseline must be one of {_BASELINES}, got {baseline!r}")
    if not isinstance(formula, str):
        raise TypeError(f"{who}: formula must be a string of covariates such as 'treated + age', got {type(formula).__name__}")
    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    outcome = "event_now"
    if isinstance(data, pd.DataFrame):
        while outcome in data.columns:
            outcome = "_" + outcome
    pp = person_period(data, id=id, time=time, event=event, entry=entry, period=period, outcome=outcome)
    terms = {"rounds": [f"C({period})"], "linear": [period], "none": []}[baseline] + ([rhs.strip()] if rhs.strip() else [])
    if not terms:
        raise InvalidInputError(f"{who}: the model has no terms; give a formula or a baseline")
    if baseline == "rounds" and pp[period].nunique() < 2 and not rhs.strip():
        raise InvalidInputError(f"{who}: every unit is at risk in one round only; use baseline='none' with covariates")
    fml = f"{outcome} ~ " + " + ".join(terms)
    cl = id if (cluster is None and vcov in ("CR1", "CR0")) else cluster
    fit = (logit if link == "logit" else cloglog)(fml, pp, weights=weights, vcov=vcov, cluster=cl)
    fit.person_period = pp
    fit.link = link
    return fit
