"""Predictions for new data through a fitted model's formula (shared by OLS, IV and the GLMs).

The regressors of ``newdata`` are built with the model specification formulaic learnt on the rows
used in the fit (same factor levels and reference categories, same transforms), then multiplied by
the coefficients. Absorbed fixed effects are added from ``fixef()``: a level seen in the fit gets its
estimated effect; a level not seen (or emptied by singleton removal) has no estimate, so its row is NaN
and a warning says how many rows that concerns.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import pandas as pd

from .errors import ImpactkitWarning, InvalidInputError


def fit_rows(data: pd.DataFrame, positions: Optional[np.ndarray]) -> pd.DataFrame:
    """The rows of the caller's data used in the fit (by position: duplicate labels are harmless)."""
    return data if positions is None else data.iloc[positions]


def linear_predictor(rhs: str, fit_data: pd.DataFrame, newdata, coef: pd.Series, formula: str) -> pd.Series:
    """x'b for each row of ``newdata`` (NaN where a regressor is missing), indexed like ``newdata``."""
    if not isinstance(newdata, pd.DataFrame):
        raise TypeError(f"newdata must be a pandas DataFrame, got {type(newdata).__name__}")
    from formulaic import model_matrix

    spec = model_matrix(rhs, fit_data).model_spec
    try:
        Xn = spec.get_model_matrix(newdata, na_action="ignore")
    except Exception as exc:
        raise InvalidInputError(f"cannot build the regressors of {formula!r} for newdata: {exc}") from None
    cols = [str(c) for c in Xn.columns]
    missing = [c for c in coef.index if c not in cols]
    if missing:
        raise InvalidInputError(f"newdata does not produce the column(s) {missing} of the fitted model")
    Xn = pd.DataFrame(np.asarray(Xn, dtype=float), columns=cols)
    eta = Xn[list(coef.index)].to_numpy() @ coef.to_numpy() if len(coef) else np.zeros(len(newdata))
    return pd.Series(eta, index=newdata.index)


def add_fixed_effects(eta: pd.Series, newdata: pd.DataFrame, fe_terms: list, fe_names: list, fixef: dict,
                      who: str) -> pd.Series:
    """eta + the estimated fixed effect of each row's level in every dimension; unseen levels give NaN
    (with one ImpactkitWarning counting those rows per dimension)."""
    out = eta.to_numpy(dtype=float).copy()
    unseen = {}
    for name, term in zip(fe_names, fe_terms):
        absent = [v for v in term if v not in newdata.columns]
        if absent:
            raise InvalidInputError(f"newdata lacks the fixed-effect column(s) {absent}: a model with absorbed fixed "
                                    "effects predicts from their estimated levels (fixef())")
        key = newdata[term[0]] if len(term) == 1 else newdata[term].astype(str).agg("^".join, axis=1)
        effects = fixef[name]
        if len(term) == 1 and effects.index.dtype != key.dtype:
            # the fit may have stored integer labels; compare values of one type
            try:
                key = key.astype(effects.index.dtype)
            except (TypeError, ValueError):
                pass
        values = pd.Index(effects.index).get_indexer(pd.Index(key))
        found = values >= 0
        add = np.full(len(out), np.nan)
        add[found] = effects.to_numpy()[values[found]]
        n_unseen = int((~found & key.notna().to_numpy()).sum())
        if n_unseen:
            unseen[name] = n_unseen
        out = out + add
    if unseen:
        rows = ", ".join(f"{k}: {v}" for k, v in unseen.items())
        warnings.warn(f"{who}: newdata has fixed-effect levels not seen in the fit ({rows} row(s)); no effect is "
                      "estimated for them, so their predictions are NaN", ImpactkitWarning, stacklevel=3)
    return pd.Series(out, index=eta.index)
