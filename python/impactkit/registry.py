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
from ._dask import is_dask_frame
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
    if is_dask_frame(registry):
        return _registry_overlap_dask(registry, rosters, key=key, eligible=eligible, by=by)
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
    by_names = _as_list(by)
    el, groups = _eligible_and_groups(registry, eligible, by_names, who)

    uniq, duplicates = _rosters(rosters, key)
    counts = _OverlapCounts.of(keys.to_numpy(), el, pd.DataFrame({b: g.to_numpy() for b, g in zip(by_names, groups)}), uniq, by_names)
    return counts.result(uniq, duplicates, by_names, who)


def _eligible_and_groups(registry: pd.DataFrame, eligible: str, by_names: list, who: str):
    el = _column(registry, eligible, "eligible")
    if el.isna().any():
        raise InvalidInputError(f"{who}: eligible column {eligible!r} has missing values")
    if pd.api.types.is_bool_dtype(el):
        el = el.to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(el) and el.isin([0, 1]).all():
        el = el.to_numpy() == 1
    else:
        raise InvalidInputError(f"{who}: eligible column {eligible!r} must be boolean or 0/1")
    groups = [_column(registry, b, "by") for b in by_names]
    for g in groups:
        if g.isna().any():
            raise InvalidInputError(f"{who}: by column {g.name!r} has missing values")
    return el, groups


def _overlap_part(part: pd.DataFrame, k: int, key: str, eligible: str, by_names: list, rosters: Dict[str, pd.Index]):
    """One partition of a dask registry reduced to its counts."""
    keys = part[key]
    if keys.isna().any():
        raise InvalidInputError(f"registry_overlap: the registry has a missing {key!r}")
    el, groups = _eligible_and_groups(part, eligible, by_names, "registry_overlap")
    return _OverlapCounts.of(keys.to_numpy(), el, pd.DataFrame({b: g.to_numpy() for b, g in zip(by_names, groups)}), rosters, by_names)


def _registry_overlap_dask(registry, rosters, *, key: str, eligible: str, by) -> "RegistryOverlap":
    """registry_overlap on a dask registry: each partition reduced to counts, merged in a tree (keys must be
    unique across partitions: checked with a distributed value count)."""
    from . import _dask

    who = "registry_overlap"
    if not isinstance(rosters, Mapping) or not rosters:
        raise TypeError(f"{who}: rosters must be a non-empty mapping from programme name to its served keys")
    if ALL in rosters:
        raise InvalidInputError(f"{who}: {ALL!r} is reserved for the combined row; rename that programme")
    by_names = _as_list(by)
    _dask._check_frame(registry, who, [key, eligible] + by_names)
    counts = registry[key].value_counts()
    dup = counts[counts > 1].compute()
    if len(dup):
        raise InvalidInputError(f"{who}: the registry lists household(s) {sorted(dup.index.tolist())[:5]} more than once; {key!r} must be unique")
    uniq, duplicates = _rosters(rosters, key)
    acc = _dask.tree_reduce(registry, _overlap_part, key, eligible, by_names, uniq)
    return acc.result(uniq, duplicates, by_names, who)


def _rosters(rosters: Mapping[str, object], key: str):
    """(programme → its distinct keys, programme → keys listed more than once)."""
    uniq, duplicates = {}, {}
    for name, roster in rosters.items():
        rk = _roster_keys(str(name), roster, key)
        dup = rk[rk.duplicated()]
        if len(dup):
            duplicates[str(name)] = pd.Index(dup.unique())
        uniq[str(name)] = pd.Index(rk.drop_duplicates().to_numpy())
    return uniq, duplicates


_COUNTS = ["registered", "eligible", "served", "eligible_served", "eligible_unserved", "ineligible_served", "served_by_several"]


class _OverlapCounts:
    """Mergeable counts of a registry (or one part of it): per programme and group the counts of
    ``_COUNTS``, and per programme which roster keys were found. Parts of a registry add (merge)."""

    def __init__(self, counts: pd.DataFrame, found: Dict[str, np.ndarray], rows: int):
        self.counts, self.found, self.rows = counts, found, rows

    @classmethod
    def of(cls, keys: np.ndarray, eligible: np.ndarray, groups: pd.DataFrame, rosters: Dict[str, pd.Index], by_names: list):
        index = pd.Index(keys)
        served, found = {}, {}
        for name, rk in rosters.items():
            flag = index.isin(rk)
            served[name] = flag
            found[name] = rk.isin(index)
        n_served = np.sum(np.column_stack(list(served.values())), axis=1) if len(index) else np.zeros(0, dtype=int)
        several = n_served > 1
        served[ALL] = n_served > 0
        frame = groups.reset_index(drop=True).copy()
        frame["_eligible"] = eligible
        frame["_several"] = several
        parts = []
        for name, flag in served.items():
            e, s, v = frame["_eligible"].to_numpy(), flag, frame["_several"].to_numpy()
            f = frame[by_names].copy()
            f["programme"] = name
            f["registered"] = 1
            f["eligible"] = e.astype(np.int64)
            f["served"] = s.astype(np.int64)
            f["eligible_served"] = (e & s).astype(np.int64)
            f["eligible_unserved"] = (e & ~s).astype(np.int64)
            f["ineligible_served"] = (~e & s).astype(np.int64)
            f["served_by_several"] = (s & v).astype(np.int64)
            parts.append(f.groupby(["programme"] + by_names, sort=False, observed=True)[_COUNTS].sum())
        counts = pd.concat(parts) if parts else pd.DataFrame(columns=_COUNTS)
        return cls(counts, found, len(index))

    def merge(self, other: "_OverlapCounts") -> "_OverlapCounts":
        if len(other.counts):
            self.counts = other.counts if not len(self.counts) else self.counts.add(other.counts, fill_value=0).astype(np.int64)
        self.found = {k: v | other.found[k] for k, v in self.found.items()}
        self.rows += other.rows
        return self

    def result(self, rosters: Dict[str, pd.Index], duplicates: dict, by_names: list, who: str) -> "RegistryOverlap":
        unknown = {name: rk[~self.found[name]] for name, rk in rosters.items() if (~self.found[name]).any()}
        if unknown:
            warnings.warn(f"{who}: roster keys not in the registry: " + ", ".join(f"{k}: {len(v)}" for k, v in unknown.items())
                          + " (see .unknown_keys; they are not counted)", ImpactkitWarning, stacklevel=3)
        order = list(rosters) + [ALL]
        c = self.counts.reset_index()
        c["_p"] = c["programme"].map({p: i for i, p in enumerate(order)})
        c = c.sort_values(["_p"] + by_names, kind="mergesort").drop(columns="_p").reset_index(drop=True)
        rows = []
        for rec in c.to_dict("records"):
            row = {"programme": rec["programme"], **{b: rec[b] for b in by_names}, **{k: int(rec[k]) for k in _COUNTS}}
            row["coverage"] = row["eligible_served"] / row["eligible"] if row["eligible"] else np.nan
            row["exclusion"] = row["eligible_unserved"] / row["eligible"] if row["eligible"] else np.nan
            row["leakage"] = row["ineligible_served"] / row["served"] if row["served"] else np.nan
            row["overlap"] = row["served_by_several"] / row["served"] if row["served"] else np.nan
            rows.append(row)
        return RegistryOverlap(pd.DataFrame(rows), unknown, duplicates, by_names, int(self.rows))
