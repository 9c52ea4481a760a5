"""Shared registries of eligible families: who is served by which programme (``ik.registry_overlap``).

Several organisations serving one area share a registry of households with an eligibility flag; each
keeps a roster of the households it serves. The overlap table counts, per programme and for all
programmes together, and per group of the registry: eligible households, eligible served and unserved,
households served by more than one programme, and ineligible households served, with the rates built
from them. A registry is a census of the households it lists, so these are exact counts without
sampling variance. Keys in a roster that the registry does not list are reported (``unknown_keys``),
never dropped silently; a key listed twice in one roster counts once (reported in ``duplicate_keys``).
"""
from __future__ import annotations

import warnings
from typing import Dict, Mapping

import numpy as np
import pandas as pd

from .errors import ImpactkitWarning, InvalidInputError
from .survey import _as_list, _column

__all__ = ["registry_overlap", "RegistryOverlap"]

ALL = "any programme"


class RegistryOverlap:
    """Result of :func:`registry_overlap`: ``table()``, ``unknown_keys``, ``duplicate_keys``, ``summary()``."""

    def __init__(self, table: pd.DataFrame, unknown: Dict[str, pd.Index], duplicates: Dict[str, pd.Index], by: list, n_registry: int):
        self._table = table
        self.unknown_keys = unknown
        self.duplicate_keys = duplicates
        self.by = by
        self.n_registry = n_registry

    def table(self) -> pd.DataFrame:
        """One row per programme (and ``"any programme"``) and group: counts and rates."""
        return self._table.copy()

    def summary(self) -> str:
        lines = [f"Registry overlap: {self.n_registry:,} registered households, {len(self.unknown_keys)} roster(s) with unknown keys",
                 "Counts are exact (a registry is a census of the households it lists; no sampling variance).",
                 "coverage = eligible served / eligible; leakage = ineligible served / served; "
                 "overlap = served by more than one programme / served."]
        for prog, keys in self.unknown_keys.items():
            lines.append(f"  {prog}: {len(keys):,} roster key(s) not in the registry, e.g. {list(keys[:5])}")
        for prog, keys in self.duplicate_keys.items():
            lines.append(f"  {prog}: {len(keys):,} key(s) listed more than once (counted once)")
        cols = ["programme"] + self.by + ["eligible", "eligible_served", "eligible_unserved", "ineligible_served",
                                           "served_by_several", "coverage", "leakage", "overlap"]
        lines.append(self._table[cols].to_string(index=False))
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self) -> str:
        return f"<RegistryOverlap: {self.n_registry:,} households, {self._table['programme'].nunique() - 1} programme(s)>"


def _roster_keys(name: str, roster, key: str) -> pd.Series:
    if isinstance(roster, pd.DataFrame):
        col = _column(roster, key, f"roster {name!r} key")
    elif isinstance(roster, pd.Series):
        col = roster
    elif isinstance(roster, (list, tuple, np.ndarray, pd.Index)):
        col = pd.Series(np.asarray(roster))
    else:
        raise TypeError(f"registry_overlap: roster {name!r} must be a DataFrame with column {key!r}, a Series or a list of keys, "
                        f"got {type(roster).__name__}")
    if col.isna().any():
        raise InvalidInputError(f"registry_overlap: roster {name!r} has a missing key")
    return col


def registry_overlap(registry: pd.DataFrame, rosters: Mapping[str, object], *, key: str, eligible: str, by=None) -> RegistryOverlap:
    """Overlap of several programmes' rosters with a shared registry of eligible households.

    Parameters
    ----------
    registry : DataFrame, one row per household (``key`` unique), never modified.
    rosters : mapping from programme name to the households it serves: a DataFrame with column ``key``,
        a Series or a list of keys.
    key : the household id column (in the registry and the roster DataFrames).
    eligible : boolean (or 0/1) registry column: eligible for the programmes.
    by : registry column(s): every count per group (children's households, female-headed, district …).

    Returns
    -------
    RegistryOverlap
        ``table()`` with, per programme and for ``"any programme"`` and per group: ``registered``,
        ``eligible``, ``served``, ``eligible_served``, ``eligible_unserved``, ``ineligible_served``,
        ``served_by_several`` and the rates ``coverage``, ``exclusion``, ``leakage``, ``overlap``.

    Examples
    --------
    >>> r = ik.registry_overlap(reg, {"NGO A": a, "NGO B": b}, key="hh_id", eligible="eligible", by="district")
    >>> r.table(); r.unknown_keys
    """
    who = "registry_overlap"
    if not isinstance(registry, pd.DataFrame):
        raise TypeError(f"{who}: registry must be a pandas DataFrame, got {type(registry).__name__}")
    if not isinstance(rosters, Mapping) or not rosters:
        raise TypeError(f"{who}: rosters must be a non-empty mapping from programme name to its served keys")
    if ALL in rosters:
        raise InvalidInputError(f"{who}: {ALL!r} is reserved for the combined row; rename that programme")
    keys = _column(registry, key, "key")
    if keys.isna().any():
        raise InvalidInputError(f"{who}: the registry has a missing {key!r}")
    if keys.duplicated().any():
        dup = keys[keys.duplicated()].unique()[:5].tolist()
        raise InvalidInputError(f"{who}: the registry lists household(s) {dup} more than once; {key!r} must be unique")
    el = _column(registry, eligible, "eligible")
    if el.isna().any():
        raise InvalidInputError(f"{who}: eligible column {eligible!r} has missing values")
    if pd.api.types.is_bool_dtype(el):
        el = el.to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(el) and el.isin([0, 1]).all():
        el = el.to_numpy() == 1
    else:
        raise InvalidInputError(f"{who}: eligible column {eligible!r} must be boolean or 0/1")
    by_names = _as_list(by)
    groups = [_column(registry, b, "by") for b in by_names]
    for g in groups:
        if g.isna().any():
            raise InvalidInputError(f"{who}: by column {g.name!r} has missing values")

    index = pd.Index(keys.to_numpy())
    served = {}
    unknown, duplicates = {}, {}
    for name, roster in rosters.items():
        rk = _roster_keys(str(name), roster, key)
        dup = rk[rk.duplicated()]
        if len(dup):
            duplicates[str(name)] = pd.Index(dup.unique())
        pos = index.get_indexer(pd.Index(rk.drop_duplicates().to_numpy()))
        if (pos < 0).any():
            unknown[str(name)] = pd.Index(rk.drop_duplicates().to_numpy()[pos < 0])
        flag = np.zeros(len(index), dtype=bool)
        flag[pos[pos >= 0]] = True
        served[str(name)] = flag
    if unknown:
        warnings.warn(f"{who}: roster keys not in the registry: " + ", ".join(f"{k}: {len(v)}" for k, v in unknown.items())
                      + " (see .unknown_keys; they are not counted)", ImpactkitWarning, stacklevel=2)
    n_served = np.sum(np.column_stack(list(served.values())), axis=1)
    several = n_served > 1
    served[ALL] = n_served > 0

    frame = pd.DataFrame({b: g.to_numpy() for b, g in zip(by_names, groups)})
    frame["_eligible"] = el
    frame["_several"] = several
    rows = []
    for name, flag in served.items():
        f = frame.assign(_served=flag)
        grouped = f.groupby(by_names, sort=True, observed=True) if by_names else [((), f)]
        for lev, part in grouped:
            lev = lev if isinstance(lev, tuple) else (lev,)
            e, s = part["_eligible"].to_numpy(), part["_served"].to_numpy()
            row = {"programme": name, **dict(zip(by_names, lev)), "registered": len(part), "eligible": int(e.sum()),
                   "served": int(s.sum()), "eligible_served": int((e & s).sum()), "eligible_unserved": int((e & ~s).sum()),
                   "ineligible_served": int((~e & s).sum()), "served_by_several": int((s & part["_several"].to_numpy()).sum())}
            with np.errstate(divide="ignore", invalid="ignore"):
                row["coverage"] = row["eligible_served"] / row["eligible"] if row["eligible"] else np.nan
                row["exclusion"] = row["eligible_unserved"] / row["eligible"] if row["eligible"] else np.nan
                row["leakage"] = row["ineligible_served"] / row["served"] if row["served"] else np.nan
                row["overlap"] = row["served_by_several"] / row["served"] if row["served"] else np.nan
            rows.append(row)
    return RegistryOverlap(pd.DataFrame(rows), unknown, duplicates, by_names, len(index))
