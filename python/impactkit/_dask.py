"""Dask support: estimators on a ``dask.dataframe.DataFrame`` reduce each partition to a mergeable
accumulator (C++ ``core/design_accumulator.hpp``, ``targeting/streaming.hpp``), merge the accumulators in
a binary tree and finalize on the client (DESIGN.md §5). The numbers equal the in-memory call up to the
order of floating-point additions (tests: 1e-10 relative).

What a single pass cannot know is computed first, exactly, across partitions:
- labels: strata, PSU and by= columns are coded against their sorted global levels (integer strata and
  PSU labels are used as they are);
- an estimated line (``ik.relative_line``, ``ik.bottom``) and the cuts of quantile welfare groups: the
  weighted quantile by the laeken rule (welfare_line.hpp), found by narrowing a bracket with candidate
  pivots from every partition until few enough rows remain to finish on the client; and the kernel
  bandwidth h = σ̂ N̂^(−1/5) from weighted sums.
dask is never imported unless a dask object is passed.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

import numpy as np
import pandas as pd

from .errors import InvalidInputError

__all__ = ["is_dask_frame"]


def is_dask_frame(x) -> bool:
    """True for a dask DataFrame (without importing dask: a dask object exists only if dask is loaded)."""
    mod = sys.modules.get("dask.dataframe")
    return mod is not None and isinstance(x, mod.DataFrame)


def _check_frame(ddf, who: str, columns: Sequence):
    if ddf.columns.has_duplicates:
        raise InvalidInputError(f"{who}: the data have more than one column named {ddf.columns[ddf.columns.duplicated()][0]!r}")
    for c in columns:
        if c is None:
            continue
        if not isinstance(c, str):
            raise TypeError(f"{who}: column names must be str, got {type(c).__name__}")
        if c not in ddf.columns:
            cols = ", ".join(map(str, list(ddf.columns)[:30]))
            raise InvalidInputError(f"{who}: unknown column {c!r}; the data have: {cols}")


# --- running work on the partitions --------------------------------------------------------------

def _partition_offsets(ddf) -> np.ndarray:
    """The global row number of each partition's first row, then the number of rows."""
    lengths = ddf.map_partitions(len).compute()
    return np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))])


def map_partitions(ddf, fn: Callable, *args) -> list:
    """fn(partition, partition number, *args) on every partition; the list of results on the client."""
    import dask

    parts = ddf.to_delayed()
    return list(dask.compute(*[dask.delayed(fn)(p, k, *args) for k, p in enumerate(parts)]))


def _merge_pair(a, b):
    a.merge(b)
    return a


def tree_reduce(ddf, fn: Callable, *args, merge: Callable = _merge_pair):
    """fn(partition, partition number, *args) → accumulator on every partition, merged pairwise in a
    binary tree on the workers; the merged accumulator on the client."""
    import dask

    nodes = [dask.delayed(fn)(p, k, *args) for k, p in enumerate(ddf.to_delayed())]
    while len(nodes) > 1:
        nodes = [dask.delayed(merge)(nodes[i], nodes[i + 1]) if i + 1 < len(nodes) else nodes[i] for i in range(0, len(nodes), 2)]
    return nodes[0].compute()


# --- labels coded against global levels ----------------------------------------------------------

def _distinct_values(part: pd.DataFrame, k: int, name: str) -> np.ndarray:
    return pd.unique(part[name].dropna().to_numpy())


def _distinct_rows(part: pd.DataFrame, k: int, by: list) -> pd.DataFrame:
    return part[by].drop_duplicates()


@dataclass
class LabelCoder:
    """Codes a column of any partition against the column's sorted global levels (int64 labels as they are)."""

    name: str
    argument: str
    levels: Optional[pd.Index] = None  # None: integer labels used as they are

    @classmethod
    def of(cls, ddf, name: str, argument: str, integers_as_is: bool = True) -> "LabelCoder":
        dtype = ddf[name].dtype
        if integers_as_is and pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            return cls(name, argument)
        uniq = pd.unique(np.concatenate(map_partitions(ddf, _distinct_values, name)))
        return cls(name, argument, pd.Index(np.sort(np.asarray(uniq))))

    def codes(self, part: pd.DataFrame) -> np.ndarray:
        col = part[self.name]
        if col.isna().any():
            row = col.index[col.isna().to_numpy()][0]
            raise InvalidInputError(f"{self.argument} column {self.name!r} has missing values (first at row {row!r}); "
                                    "every row of a survey design needs its design variables")
        if self.levels is None:
            return col.to_numpy(dtype=np.int64)
        return self.levels.get_indexer(col.to_numpy()).astype(np.int64)

    def names(self) -> List[str]:
        return [] if self.levels is None else [str(v) for v in self.levels]


@dataclass
class DomainCoder:
    """Codes the by= columns of any partition against the sorted observed level combinations."""

    by: List[str]
    levels: Optional[pd.DataFrame] = None

    @classmethod
    def of(cls, ddf, by: List[str]) -> "DomainCoder":
        if not by:
            return cls(by)
        frame = pd.concat(map_partitions(ddf, _distinct_rows, by), ignore_index=True).drop_duplicates()
        for b in by:
            if frame[b].isna().any():
                raise InvalidInputError(f"by column {b!r} has missing values; every row must belong to a group")
        levels = frame.sort_values(by, kind="mergesort").reset_index(drop=True)
        return cls(by, levels)

    @property
    def n(self) -> int:
        return 1 if self.levels is None else len(self.levels)

    def codes(self, part: pd.DataFrame) -> Optional[np.ndarray]:
        if self.levels is None:
            return None
        for b in self.by:
            if part[b].isna().any():
                raise InvalidInputError(f"by column {b!r} has missing values; every row must belong to a group")
        if len(self.by) == 1:
            return pd.Index(self.levels[self.by[0]]).get_indexer(part[self.by[0]].to_numpy()).astype(np.int32)
        mi = pd.MultiIndex.from_frame(self.levels)
        return mi.get_indexer(pd.MultiIndex.from_frame(part[self.by])).astype(np.int32)


@dataclass
class DesignColumns:
    """How a partition's rows map onto the survey design: strata, PSU, FPC and weight columns."""

    weights: Optional[str] = None
    strata: Optional[LabelCoder] = None
    psu: Optional[LabelCoder] = None  # None: every row is its own PSU (labels: global row numbers)
    fpc: Optional[str] = None
    nest: bool = False
    lonely_psu: str = "fail"
    offsets: Optional[np.ndarray] = None  # partition offsets when rows are their own PSUs
    later: List[LabelCoder] = field(default_factory=list)  # stages 2.. of a multistage design (an FPC at every stage)
    later_fpc: List[str] = field(default_factory=list)
    units: Optional[pd.DataFrame] = None  # multistage: one row per finest sampling unit (stage codes, FPCs), sorted
    single_psu: bool = False  # one PSU for all rows: an estimate per weight set of a replicate design (its variance unused)

    @property
    def multistage(self) -> bool:
        return bool(self.later)

    def weights_of(self, part: pd.DataFrame) -> Optional[np.ndarray]:
        if self.weights is None:
            return None
        return _float_values(part[self.weights], "weights")

    def chunk(self, part: pd.DataFrame, k: int) -> dict:
        """strata, psu, fpc arrays of a partition (keyword arguments of the accumulators' update)."""
        strata = None if self.strata is None else self.strata.codes(part)
        if self.single_psu:
            psu = np.zeros(len(part), dtype=np.int64)
        elif self.psu is None:
            psu = np.arange(len(part), dtype=np.int64) + int(self.offsets[k])
        elif self.multistage:  # the finest unit stands in for the PSU; finalize() rebuilds the stages
            keys = pd.MultiIndex.from_frame(_stage_codes(part, self)[_UNIT_KEYS[:len(self.later) + 2]])
            psu = pd.MultiIndex.from_frame(self.units[_UNIT_KEYS[:len(self.later) + 2]]).get_indexer(keys).astype(np.int64)
        else:
            psu = self.psu.codes(part)
        fpc = None if self.fpc is None else _float_values(part[self.fpc], "fpc")
        return dict(strata=strata, psu=psu, fpc=fpc)

    def finalize_args(self) -> dict:
        return dict(lonely_psu=self.lonely_psu, strata_names=[] if self.strata is None else self.strata.names(),
                    psu_names=[] if self.psu is None else self.psu.names())

    def finalize(self, acc):
        """(the survey design over the streamed units, their totals U × (D·q) in the design's unit order).
        Single stage: the accumulator's PSUs. Multistage: one design row per finest unit with its labels and
        FPC at every stage (survey_design then nests the stages as in memory: R's multistage variance)."""
        if not self.multistage:
            return acc.design(**self.finalize_args()), np.asarray(acc.totals())
        return self.multistage_totals(acc.__getstate__())

    def finalize_stream(self, acc) -> dict:
        """The result dict of a TargetingAccumulator or PovertyAccumulator: its own finalize, or on a multistage
        design its C++ finalize over the design built from the finest units (finalize_on)."""
        if not self.multistage:
            return acc.finalize(**self.finalize_args())
        core, T = self.multistage_totals(acc.__getstate__()[-1])
        return acc.finalize_on(core, np.asfortranarray(T))

    def multistage_totals(self, state):
        """(the multistage survey design over the streamed finest units, their totals in its unit order) from an
        accumulator state (D, q, nest, fpc, rows, strata, psu, rows per PSU, positive rows, fpc, totals)."""
        from . import _core

        table = self.units.iloc[np.asarray(state[6], dtype=np.int64)]
        S = len(self.later) + 1

        def ranks(values):
            return np.unique(np.asarray(values), return_inverse=True)[1].astype(np.int32).ravel()

        strata = ranks(table["s"]) if self.strata is not None else None
        ids = np.asfortranarray(np.column_stack([ranks(table[f"p{j}"]) for j in range(S)]))
        fpc = np.asfortranarray(table[[f"f{j}" for j in range(S)]].to_numpy(dtype=np.float64))
        positive = (np.asarray(state[8]) > 0).astype(np.float64)  # R's degf counts units with a positive-weight row
        names = self.finalize_args()
        st_names = names["strata_names"] and [names["strata_names"][v] for v in np.unique(table["s"])]
        psu_names = names["psu_names"] and [names["psu_names"][v] for v in np.unique(table["p0"])]
        core = _core.variance.SurveyDesign(strata, ids, fpc, positive, self.nest, self.lonely_psu, st_names or [], psu_names or [])
        U = len(table)
        T = np.asarray(core.unit_totals_by_domain(np.asfortranarray(np.asarray(state[10])), None, np.zeros(U, dtype=np.int32), 1))
        return core, T


_UNIT_KEYS = ["s", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"]


def _stage_codes(part: pd.DataFrame, d: "DesignColumns") -> pd.DataFrame:
    """The coded stratum, unit labels per stage and FPCs per stage of a partition's rows (multistage designs)."""
    out = {"s": d.strata.codes(part) if d.strata is not None else np.zeros(len(part), dtype=np.int64), "p0": d.psu.codes(part)}
    for j, coder in enumerate(d.later, start=1):
        out[f"p{j}"] = coder.codes(part)
    for j, name in enumerate([d.fpc] + d.later_fpc):
        out[f"f{j}"] = _float_values(part[name], "fpc")
    return pd.DataFrame(out)


def _unit_rows(part: pd.DataFrame, k: int, d: "DesignColumns") -> pd.DataFrame:
    return _stage_codes(part, d).drop_duplicates()


def _plain(label):
    """A row label as a plain Python value (numpy scalars print as np.int64(...) under numpy 2)."""
    return label.item() if hasattr(label, "item") else label


def _float_values(col: pd.Series, argument: str) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise TypeError(f"{argument} column {col.name!r} must be numeric, got dtype {col.dtype}")
    v = col.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(v)
    if bad.any():
        raise InvalidInputError(f"{argument} column {col.name!r} has a missing or infinite value at row {_plain(col.index[bad][0])!r}")
    if argument == "weights" and (v < 0).any():
        raise InvalidInputError(f"weights column {col.name!r} has a negative weight at row {_plain(col.index[v < 0][0])!r}")
    return v


def design_columns(ddf, *, weights=None, strata=None, psu=None, fpc=None, nest=False, lonely_psu="fail", who: str) -> DesignColumns:
    """The design of a dask frame from column names (as ik.SurveyDesign in memory)."""
    if weights is not None and not isinstance(weights, str):
        raise TypeError(f"{who}: on a dask DataFrame, weights must be a column name, got {type(weights).__name__}")
    psu_list = [psu] if isinstance(psu, str) else list(psu or [])
    fpc_list = [fpc] if isinstance(fpc, str) else list(fpc or [])
    if len(fpc_list) > max(1, len(psu_list)):
        raise InvalidInputError(f"fpc has {len(fpc_list)} stages but psu has {max(1, len(psu_list))}")
    if fpc_list and weights is None:
        raise InvalidInputError(f"{who}: on a dask DataFrame give weights= with fpc= (weights derived from the FPC need the "
                                "sampled PSU counts before the pass)")
    _check_frame(ddf, who, [weights, strata] + psu_list + fpc_list)
    multistage = len(psu_list) > 1 and len(fpc_list) == len(psu_list)
    if not multistage:  # as in memory: without an FPC at every stage only stage 1 enters the variance (ultimate cluster)
        psu_list = psu_list[:1]
    d = DesignColumns(weights=weights, nest=bool(nest), lonely_psu=lonely_psu, fpc=fpc_list[0] if fpc_list else None)
    if strata is not None:
        d.strata = LabelCoder.of(ddf, strata, "strata")
    if psu_list:
        d.psu = LabelCoder.of(ddf, psu_list[0], "psu")
        if multistage:
            if len(psu_list) > len(_UNIT_KEYS) - 1:
                raise InvalidInputError(f"{who}: at most {len(_UNIT_KEYS) - 1} stages")
            d.later = [LabelCoder.of(ddf, c, "psu") for c in psu_list[1:]]
            d.later_fpc = fpc_list[1:]
            units = pd.concat(map_partitions(ddf, _unit_rows, d), ignore_index=True).drop_duplicates()
            keys = _UNIT_KEYS[:len(psu_list) + 1]
            dup = units.duplicated(keys)
            if dup.any():
                raise InvalidInputError(f"{who}: an fpc is not constant within a sampling unit (unit {units[dup].iloc[0][keys].tolist()} "
                                        "of the stage codes has two values); give each unit one population size or fraction")
            d.units = units.sort_values(keys, kind="mergesort").reset_index(drop=True)
    else:
        d.offsets = _partition_offsets(ddf)
        if d.offsets[-1] > _ROWS_AS_PSU_WARNING:  # offsets[-1]: all rows
            import warnings

            from .errors import ImpactkitWarning

            warnings.warn(f"{who}: without psu= every row is its own PSU, so the accumulators hold one row per observation "
                          f"({int(d.offsets[-1]):,} rows): memory grows with the data. Give the sampling units (psu=) of a "
                          "registry or survey to stream it in memory independent of n.", ImpactkitWarning, stacklevel=4)
    return d


_ROWS_AS_PSU_WARNING = 1_000_000  # rows beyond which a design without PSUs warns (accumulators ∝ rows)


# --- exact weighted quantiles across partitions ---------------------------------------------------

_FETCH_ROWS = 200_000  # finish on the client once a bracket holds at most this many rows
_PIVOTS = 128          # candidate pivots per partition and bracket per round
_SKETCH = 2048         # order statistics per partition, with their exact cumulative weights, in the first pass


def _positive_pairs(part: pd.DataFrame, y: str, w: Optional[str], domain_fn) -> tuple:
    yy = _float_values(part[y], "welfare") if len(part) else np.empty(0)
    ww = _float_values(part[w], "weights") if (w is not None and len(part)) else np.ones(len(yy))
    if domain_fn is not None and len(part):
        keep = domain_fn(part) >= 0
        yy, ww = yy[keep], ww[keep]
    keep = ww > 0
    return yy[keep], ww[keep]


def _q_first(part, k, y, w, domain_fn, sketch: int = _SKETCH):
    """The first pass: the positive weight total and row count, the bracket (−inf, inf]'s candidate pivots,
    a sketch of the partition's weighted CDF (_sketch_of), and the weighted moments of welfare over all
    analysis rows for the bandwidth (local mean and sum of squared deviations of y / m, m the partition's
    largest |y|: combined without cancellation)."""
    yy, ww = _analysis_pairs(part, y, w, domain_fn)
    m = float(np.max(np.abs(yy))) if len(yy) else 0.0
    W_all = float(np.sum(ww))  # pairwise sums: the bandwidth needs ~1e-15, not exact rounding
    moments = None
    if len(yy) and W_all > 0:
        ys = yy / (m or 1.0)
        mean = float(np.sum(ww * ys)) / W_all
        moments = (m or 1.0, W_all, mean, float(np.sum(ww * (ys - mean) ** 2)))
    pos = ww > 0
    ys, ws = yy[pos], ww[pos]
    order = np.argsort(ys)  # the order within a tie does not matter: C and R are taken after each run of ties
    ys, ws = ys[order], ws[order]
    return dict(W=np.sum(ws, dtype=np.longdouble), n=len(ys), max_abs=m, moments=moments, W_all=W_all,
                cand=_sorted_candidates(ys), sketch=_sketch_of(ys, ws, sketch))


def _order_statistics(n: int, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(count, n)).astype(np.int64))


def _sorted_candidates(ys: np.ndarray) -> tuple:
    """_q_candidates_of for the bracket (−inf, inf] from the sorted values."""
    if not len(ys):
        return (0, np.empty(0), np.inf, -np.inf)
    return (len(ys), ys[_order_statistics(len(ys), _PIVOTS)], ys[0], ys[-1])


def _sketch_of(ys: np.ndarray, ws: np.ndarray, count: int) -> tuple:
    """(v, C, R): `count` order statistics v of the sorted values ys (the smallest and largest among them),
    the weight C and the number R of the partition's rows ≤ each. Between two of them the partition's
    C(x) is bounded by theirs (brackets_from_sketches)."""
    if not len(ys):
        return (np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))
    v = np.unique(ys[_order_statistics(len(ys), count)])
    R = np.searchsorted(ys, v, side="right")
    return (v, np.cumsum(ws)[R - 1], R.astype(np.int64))


def brackets_from_sketches(sketches: list, totals: list, probs: Sequence[float], W: float) -> list:
    """Per p: (lo, hi, rows) with surely C(lo) < pW ≤ C(hi) and at most `rows` rows in (lo, hi], or None,
    from the partitions' sketches (_sketch_of) and positive weight totals. A partition's C(x) lies between
    C at its largest sketch value ≤ x (0 below its smallest) and C at its smallest value ≥ x (its total
    above its largest); summed over partitions these bound the global C(x) at every candidate x (all sketch
    values). Margins of 1e-9 of pW cover the rounding of the float sums, as in the narrowing rounds."""
    sketches = [(sk, t) for sk, t in zip(sketches, totals) if len(sk[0])]
    if not sketches:
        return [None] * len(probs)
    x = np.unique(np.concatenate([sk[0] for sk, _ in sketches]))
    c_low, c_up = np.zeros(len(x)), np.zeros(len(x))
    r_low, r_up = np.zeros(len(x), dtype=np.int64), np.zeros(len(x), dtype=np.int64)
    for (v, C, R), (W_k, n_k) in sketches:
        i = np.searchsorted(v, x, side="right") - 1  # the largest v ≤ x
        j = np.searchsorted(v, x, side="left")  # the smallest v ≥ x
        below, above = i >= 0, j < len(v)
        c_low += np.where(below, C[np.maximum(i, 0)], 0.0)
        r_low += np.where(below, R[np.maximum(i, 0)], 0)
        c_up += np.where(above, C[np.minimum(j, len(v) - 1)], W_k)
        r_up += np.where(above, R[np.minimum(j, len(v) - 1)], n_k)
    out = []
    for p in probs:
        target = float(p) * W
        surely_below = np.flatnonzero(c_up < target * (1 - 1e-9))
        surely_above = np.flatnonzero(c_low >= target * (1 + 1e-9))
        if not len(surely_above):
            out.append(None)
            continue
        a, b = (surely_below[-1] if len(surely_below) else None), surely_above[0]
        lo = x[a] if a is not None else -np.inf
        rows = int(r_up[b] - (r_low[a] if a is not None else 0))
        out.append((float(lo), float(x[b]), rows))
    return out


def _bandwidth_of(first: list, who: str) -> float:
    """h = σ̂ N̂^(−1/5) from the partitions' moments (Chan et al. 1979 pairwise combination), σ̂ on the
    welfare scaled by its largest magnitude as in memory (no overflow at 1e300)."""
    scale = max(f["max_abs"] for f in first) or 1.0
    total = math.fsum(f["W_all"] for f in first)
    if not total > 0:
        raise InvalidInputError(f"{who}: the analysis rows have no positive weight: the line cannot be estimated")
    parts = [(W, mean * (m / scale), M2 * (m / scale) ** 2) for m, W, mean, M2 in (f["moments"] for f in first if f["moments"])]
    mean = math.fsum(W * mu for W, mu, _ in parts) / total
    ss = math.fsum([M2 for _, _, M2 in parts] + [W * (mu - mean) ** 2 for W, mu, _ in parts])
    h = scale * math.sqrt(ss / total) / total ** 0.2
    if not h > 0:
        raise InvalidInputError(f"{who}: welfare is constant over the analysis rows: an estimated line has no density to linearise")
    return h


def _q_candidates(part, k, y, w, domain_fn, brackets):
    yy, ww = _positive_pairs(part, y, w, domain_fn)
    return _q_candidates_of(yy, brackets)


def _q_candidates_of(yy, brackets):
    out = []
    for lo, hi in brackets:
        sel = yy[(yy > lo) & (yy <= hi)]
        if len(sel) == 0:
            out.append((0, np.empty(0), np.inf, -np.inf))
            continue
        idx = np.unique(np.linspace(0, len(sel) - 1, min(_PIVOTS, len(sel))).astype(np.int64))
        s = np.partition(sel, idx)  # the order statistics at idx (0 and n−1 among them), O(n)
        out.append((len(sel), s[idx], s[0], s[-1]))
    return out


def _q_weights_at(part, k, y, w, domain_fn, brackets, pivots):
    """Per bracket: the weight of rows in (pivot_{j−1}, pivot_j] for every pivot j (lo before the first).
    Plain float sums: they only narrow the bracket, with a margin; the final step is exact."""
    yy, ww = _positive_pairs(part, y, w, domain_fn)
    out = []
    for (lo, hi), piv in zip(brackets, pivots):
        m = (yy > lo) & (yy <= hi)
        cell = np.searchsorted(piv, yy[m], side="left")
        out.append((np.bincount(cell, weights=ww[m], minlength=len(piv) + 1)[:len(piv)],
                    np.bincount(cell, minlength=len(piv) + 1)))  # weights per cell; rows per cell (+ beyond the last)
    return out


def _q_rows(part, k, y, w, domain_fn, brackets):
    """Per bracket: its rows (y, w) and the exactly rounded weight at or below lo."""
    yy, ww = _positive_pairs(part, y, w, domain_fn)
    out = []
    for lo, hi in brackets:
        m = (yy > lo) & (yy <= hi)
        out.append((yy[m], ww[m], np.sum(ww[yy <= lo], dtype=np.longdouble)))
    return out


def _q_next_above(part, k, y, w, domain_fn, values):
    yy, _ = _positive_pairs(part, y, w, domain_fn)
    return [yy[yy > v].min() if (yy > v).any() else np.inf for v in values]


def weighted_quantiles(ddf, y: str, w: Optional[str], probs: Sequence[float], domain_fn=None, who: str = "weighted_quantiles",
                       rule: str = "laeken") -> List[float]:
    """laeken's weighted quantiles (welfare_line.hpp) of column y over the rows with positive weight
    (and domain code ≥ 0 under domain_fn): Q_p is the smallest value v with C(v)/W ≥ p, C(v) the
    weight at or below v; when C(v)/W == p exactly, the mean of v and the next larger value.
    rule="math": R survey's qrule_math (survey._qrule_math: no averaging at an exact tie)."""
    return quantiles_and_bandwidth(ddf, y, w, probs, False, domain_fn, who, rule)[0]


def quantiles_and_bandwidth(ddf, y: str, w: Optional[str], probs: Sequence[float], bandwidth: bool, domain_fn=None,
                            who: str = "weighted_quantiles", rule: str = "laeken"):
    """(weighted_quantiles, and the kernel bandwidth of an estimated line when `bandwidth`, else nan): the
    first pass serves both."""
    first = map_partitions(ddf, _q_first, y, w, domain_fn, _SKETCH)
    h = _bandwidth_of(first, who) if bandwidth else float("nan")
    W = np.sum([f["W"] for f in first], dtype=np.longdouble)  # weight sums in long double, as in memory
    if sum(f["n"] for f in first) == 0 or not W > 0:
        raise InvalidInputError(f"{who}: no analysis row has a positive weight: welfare quantiles are undefined")
    # brackets (lo, hi] with C(lo)/W < p ≤ C(hi)/W; below = C(lo)
    state = [dict(p=float(p), lo=-np.inf, hi=np.inf, below=0.0, done=None) for p in probs]
    # the first pass's sketches bracket each quantile; a bracket of few rows is fetched at once, the others
    # are narrowed from (−inf, inf] by rounds of candidate pivots
    sketched = brackets_from_sketches([f["sketch"] for f in first], [(float(f["W"]), f["n"]) for f in first], probs, float(W))
    for s, b in zip(state, sketched):
        if b is not None and b[2] <= _FETCH_ROWS:
            s["lo"], s["hi"], s["fetch"] = b[0], b[1], True
    cand = [[f["cand"]] * len(state) for f in first]  # the first round's candidates: one bracket for all
    for _ in range(64):
        active = [s for s in state if s["done"] is None]
        if not active:
            break
        small = [s for s in active if s.get("fetch")]  # few rows left: no candidates needed
        active = [s for s in active if not s.get("fetch")]
        brackets = [(s["lo"], s["hi"]) for s in active]
        if cand is None and active:
            cand = map_partitions(ddf, _q_candidates, y, w, domain_fn, brackets)
        narrow = []
        for j, s in enumerate(active):
            count = sum(c[j][0] for c in cand)
            vmin = min(c[j][2] for c in cand)
            vmax = max(c[j][3] for c in cand)
            if count <= _FETCH_ROWS or vmin == vmax or s.get("force"):
                small.append(s)
            else:
                piv = np.unique(np.concatenate([c[j][1] for c in cand]))
                narrow.append((s, piv))
        cand = None
        if small:
            rows = map_partitions(ddf, _q_rows, y, w, domain_fn, [(s["lo"], s["hi"]) for s in small])
            for j, s in enumerate(small):
                ys = np.concatenate([r[j][0] for r in rows])
                ws = np.concatenate([r[j][1] for r in rows])
                s["below"] = np.sum([r[j][2] for r in rows], dtype=np.longdouble)  # C(lo) for the final step
                _finish_quantile(s, ys, ws, W, rule)
        if narrow:
            # brackets shared by several quantiles (the first round) are counted once
            keys = list(dict.fromkeys((s["lo"], s["hi"]) for s, _ in narrow))
            pivots = {(s["lo"], s["hi"]): piv for s, piv in narrow}
            sums = map_partitions(ddf, _q_weights_at, y, w, domain_fn, keys, [pivots[key] for key in keys])
            for s, piv in narrow:
                j = keys.index((s["lo"], s["hi"]))
                cum = float(s["below"]) + np.cumsum(np.sum([r[j][0] for r in sums], axis=0))  # ≈ C(pivot)
                rows_in = np.sum([r[j][1] for r in sums], axis=0)  # rows per cell; the last: beyond the last pivot
                target = s["p"] * float(W)
                below = np.flatnonzero(cum < target * (1 - 1e-9))  # surely C(pivot)/W < p (float sums: error ≪ 1e-9)
                above = np.flatnonzero(cum >= target * (1 + 1e-9))  # surely C(pivot)/W ≥ p
                s["force"] = not len(below) and not len(above)  # no progress: finish with the rows of the bracket
                first = below[-1] + 1 if len(below) else 0  # cells of the new bracket: first..last
                last = above[0] if len(above) else len(piv)
                if len(below):
                    s["lo"], s["below"] = piv[below[-1]], cum[below[-1]]
                if len(above):
                    s["hi"] = piv[above[0]]
                s["fetch"] = int(rows_in[first:last + 1].sum()) <= _FETCH_ROWS
    # an exact tie at the end of a run: the next larger value over all partitions
    ties = [s for s in state if s["done"] == "tie"]
    if ties:
        nxt = map_partitions(ddf, _q_next_above, y, w, domain_fn, [s["v"] for s in ties])
        for j, s in enumerate(ties):
            n = min(r[j] for r in nxt)
            s["done"] = s["v"] if not np.isfinite(n) else 0.5 * (s["v"] + n)
    return [float(s["done"]) for s in state], h


def _finish_quantile(s: dict, ys: np.ndarray, ws: np.ndarray, W, rule: str = "laeken"):
    """The quantile from the rows of its bracket (C(lo) = s['below']): shares C(v)/W at the end of each run of
    equal values in long double, as in memory (welfare_line.cpp); rule "math": R's qrule_math on the
    bracket's rows with cumulative weights from C(lo) (survey._qrule_math)."""
    if not len(ys):
        s["done"] = float(s["hi"])
        return
    order = np.argsort(ys, kind="stable")
    ys, ws = ys[order], ws[order]
    if rule == "lower":  # the first value whose cumulative weight share reaches p (lorenz.cpp: no averaging at a tie)
        cum = np.longdouble(s["below"]) + np.cumsum(ws.astype(np.longdouble))
        hit = np.flatnonzero((cum / W).astype(np.float64) >= s["p"])
        s["done"] = float(ys[hit[0]] if len(hit) else ys[-1])
        return
    if rule == "math":
        from .survey import _qrule_math

        cw = (np.longdouble(s["below"]) + np.cumsum(ws, dtype=np.longdouble)).astype(np.float64)
        s["done"] = _qrule_math(ys, (cw, float(W)), s["p"])
        return
    values, start = np.unique(ys, return_index=True)
    stop = np.append(start[1:], len(ys))
    cum = np.longdouble(s["below"]) + np.cumsum(ws.astype(np.longdouble))[stop - 1]
    share = (cum / W).astype(np.float64)
    hit = np.flatnonzero(share >= s["p"])
    if not len(hit):  # p within rounding of 1: the largest value
        s["done"] = float(values[-1])
        return
    j = int(hit[0])
    v = float(values[j])
    if share[j] != s["p"]:
        s["done"] = v
    elif j + 1 < len(values):
        s["done"] = 0.5 * (v + float(values[j + 1]))
    else:
        s["done"], s["v"] = "tie", v


def _analysis_pairs(part, y, w, domain_fn):
    yy = _float_values(part[y], "welfare") if len(part) else np.empty(0)
    ww = _float_values(part[w], "weights") if (w is not None and len(part)) else np.ones(len(yy))
    if domain_fn is not None and len(part):
        keep = domain_fn(part) >= 0
        yy, ww = yy[keep], ww[keep]
    return yy, ww


# --- SurveyDesign on a dask frame --------------------------------------------------------------------

def _column_values(part: pd.DataFrame, name: str, argument: str) -> np.ndarray:
    col = part[name]
    if pd.api.types.is_bool_dtype(col):
        col = col.astype(np.float64)
    if not pd.api.types.is_numeric_dtype(col):
        raise TypeError(f"{argument} column {name!r} must be numeric (dtype {col.dtype}); use proportion() for a categorical variable")
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _totals_part(part, k, design: DesignColumns, domains: DomainCoder, columns: list, with_weights: bool, names: list):
    """One partition's DesignAccumulator of w·column (+ w) per (stratum, PSU, domain)."""
    from . import _core

    acc = _core.variance.DesignAccumulator(domains.n, len(columns) + int(with_weights), design.nest, design.fpc is not None)
    if len(part):
        acc.update_columns(columns=_value_columns(part, columns), weights=design.weights_of(part), domain=domains.codes(part),
                           with_weights=with_weights, names=names, **design.chunk(part, k))
    return acc


def _replicate_part(part, k, design: DesignColumns, domains: DomainCoder, columns: list, with_weights: bool, repw: list):
    """One partition's totals for a replicate-weight design: per domain the full-sample totals (D × q), the
    replicate totals (R × D × q) and the Gram matrix of the replicate weights (R × R, for their rank)."""
    R, D = len(repw), domains.n
    q = len(columns) + int(with_weights)
    out = dict(rows=len(part), T=np.zeros((D, q)), RT=np.zeros((R, D, q)), G=np.zeros((R, R)))
    if not len(part):
        return out
    X = np.column_stack(_value_columns(part, columns) + ([np.ones(len(part))] if with_weights else []))
    w = design.weights_of(part)
    w = np.ones(len(part)) if w is None else w
    Wr = _replicate_weight_matrix(part, repw)
    dom = domains.codes(part)
    dom = np.zeros(len(part), dtype=np.int32) if dom is None else dom
    for d in range(D):
        m = dom == d
        out["T"][d] = w[m] @ X[m]
        out["RT"][:, d, :] = Wr[m].T @ X[m]
    out["G"] = Wr.T @ Wr
    return out


def _add_replicate(a: dict, b: dict) -> dict:
    return {key: a[key] + b[key] for key in a}


def _gram_rank(G: np.ndarray, tol: float = 1e-5) -> int:
    """R's qr(A, tol) rank (survey._qr_rank) from the Gram matrix AᵀA: column j counts when its squared norm
    after projection on the columns kept before it is at least tol² times its squared norm."""
    kept: list = []
    for j in range(G.shape[0]):
        if G[j, j] <= 0:
            continue
        resid = G[j, j]
        if kept:
            GK = G[np.ix_(kept, kept)]
            g = G[kept, j]
            resid = G[j, j] - g @ np.linalg.solve(GK, g)
        if resid >= tol * tol * G[j, j]:
            kept.append(j)
    return len(kept)


def _value_columns(part: pd.DataFrame, columns: list) -> list:
    """The partition's per-row values of ("column", name, argument) or ("level", name, level) entries."""
    cols = []
    for kind, name, extra in columns:
        if kind == "column":
            cols.append(_column_values(part, name, extra))
        elif kind == "at_most":  # 1{y ≤ value}
            cols.append((_float_values(part[name], "var") <= extra).astype(np.float64))
        else:  # an indicator of one level of a categorical column
            col = part[name]
            if col.isna().any():
                raise InvalidInputError(f"var column {name!r} has missing values; every row needs a level")
            cols.append((col.to_numpy() == extra).astype(np.float64))
    return cols


def _in_domain(domains: DomainCoder, d: int, part: pd.DataFrame) -> np.ndarray:
    return np.where(domains.codes(part) == d, 0, -1)


def _domain_ends(part, k, y, w, domain_fn):
    yy, _ = _positive_pairs(part, y, w, domain_fn)
    return (float(yy.min()), float(yy.max())) if len(yy) else None


def _domain_psu_pairs(part, k, cols: DesignColumns, domains: DomainCoder) -> pd.DataFrame:
    """The distinct (domain, stratum, stage-1 PSU) of a partition's rows with positive weight."""
    if not len(part):
        return pd.DataFrame({"d": [], "s": [], "p": []})
    w = cols.weights_of(part)
    dom = domains.codes(part)
    frame = pd.DataFrame({"d": np.zeros(len(part), dtype=np.int32) if dom is None else dom,
                          "s": cols.strata.codes(part) if cols.strata is not None else np.zeros(len(part), dtype=np.int64),
                          "p": cols.psu.codes(part) if cols.psu is not None else np.arange(len(part), dtype=np.int64) + int(cols.offsets[k])})
    return frame[w > 0].drop_duplicates() if w is not None else frame.drop_duplicates()


class DaskSurveyDesign:
    """``ik.SurveyDesign`` over a dask DataFrame: the design columns are named as in memory (weights, strata,
    psu and fpc per stage, nest, lonely_psu; or replicate weights). ``mean``, ``total``, ``ratio`` and
    ``proportion`` stream one pass each (a DesignAccumulator per partition, merged in a tree; replicate
    designs: full-sample and per-replicate totals per domain); the design's counts, the lonely-PSU rule and
    the FPC are decided at finalize from the merged counts. A multistage design with an FPC at every stage
    keeps one total per finest unit (R's multistage variance); otherwise stage 1 only (ultimate cluster), as
    in memory. Pass it as ``design=`` to ``ik.targeting`` or ``ik.fgt`` on the same dask frame."""

    _repw = None

    def __init__(self, data, weights=None, strata=None, psu=None, fpc=None, lonely_psu: str = "fail", nest: bool = False,
                 replicate_weights=None, replicate_type=None, scale=None, rscales=None, mse: bool = False, fay_rho=None):
        from .survey import _LONELY, _as_list, _replicate_type

        if not isinstance(lonely_psu, str) or lonely_psu.lower() not in _LONELY:
            raise InvalidInputError(f"lonely_psu must be one of {', '.join(_LONELY)}, got {lonely_psu!r}")
        self.replicate_type = None
        if replicate_weights is not None or replicate_type is not None:
            names = _as_list(replicate_weights)
            self.replicate_type = _replicate_type(replicate_type, len(names), rscales, scale, fay_rho)
            _check_frame(data, "SurveyDesign", names)
            self.replicate_names = names
            self._repw = tuple(names)
            self._rep_options = dict(scale=scale, rscales=rscales, mse=mse, fay_rho=fay_rho)
        elif weights is None and fpc is None:
            import warnings

            from .errors import ImpactkitWarning

            warnings.warn("SurveyDesign: no weights or fpc given; assuming equal probability (every weight 1)", ImpactkitWarning, stacklevel=3)
        self._data = data
        self.lonely_psu = lonely_psu.lower()
        self.nest = bool(nest)
        self.weights_name = weights
        self.strata_name = strata
        self.psu_names = [psu] if isinstance(psu, str) else list(psu or [])
        self.fpc_names = [fpc] if isinstance(fpc, str) else list(fpc or [])
        if self._repw is not None:  # the variance comes from the replicates: only the weights are streamed
            _check_frame(data, "SurveyDesign", [weights])
            self._columns = DesignColumns(weights=weights)
        else:
            self._columns = design_columns(data, weights=weights, strata=strata, psu=psu, fpc=fpc, nest=nest, lonely_psu=self.lonely_psu,
                                           who="SurveyDesign")
        self.n = None  # rows: known after the first pass

    def __repr__(self) -> str:
        if self._repw is not None:
            return (f"<SurveyDesign on a dask DataFrame ({self._data.npartitions} partitions): {len(self._repw)} {self.replicate_type} "
                    "replicate weights>")
        return (f"<SurveyDesign on a dask DataFrame ({self._data.npartitions} partitions): strata={self.strata_name!r}, "
                f"psu={self.psu_names[0] if self.psu_names else None!r}, lonely_psu={self.lonely_psu!r}>")

    def _stream(self, columns: list, with_weights: bool, by, names: list):
        from .survey import _as_list

        by_names = _as_list(by)
        _check_frame(self._data, "SurveyDesign", by_names + [c[1] for c in columns])
        domains = DomainCoder.of(self._data, by_names)
        acc = tree_reduce(self._data, _totals_part, self._columns, domains, columns, with_weights, names)
        if acc.rows == 0:
            raise InvalidInputError("SurveyDesign: the dask DataFrame has no rows")
        core, T = self._columns.finalize(acc)
        self.n = int(acc.rows)
        return acc, core, T, domains

    def _estimate(self, columns, ratio_den, by, who, names, terms, statistic):
        from .survey import SurveyDesign, _ratios_of_unit_totals

        p = len(columns) - (1 if isinstance(ratio_den, tuple) else 0)
        if self._repw is not None:
            return self._replicate_estimate(columns, ratio_den, by, who, terms, statistic, p)
        acc, core, T, domains = self._stream(columns, ratio_den == "weights", by, names)
        theta, psi = _ratios_of_unit_totals(T, domains.n, p, ratio_den is not None, domains.levels, who)
        V = np.asarray(core.variance_of_unit_totals(psi))
        conv = dict(acc.conventions(core))
        return SurveyDesign._result(self, theta, V, terms, domains.levels, by, conv, statistic=statistic, nobs=int(acc.rows))

    def _replicate_estimate(self, columns, ratio_den, by, who, terms, statistic, p):
        """As SurveyDesign._ratio_of_totals with replicate weights: θ from the full-sample totals, θ_r from each
        replicate's totals, and the shared replicate variance (variance.replicate_vcov)."""
        from . import _core
        from .survey import SurveyDesign, _as_list, _ratios_of_unit_totals, _replicate_variance_design

        by_names = _as_list(by)
        _check_frame(self._data, "SurveyDesign", by_names + [c[1] for c in columns])
        domains = DomainCoder.of(self._data, by_names)
        tot = tree_reduce(self._data, _replicate_part, self._columns, domains, columns, ratio_den == "weights", list(self._repw),
                          merge=_add_replicate)
        if tot["rows"] == 0:
            raise InvalidInputError("SurveyDesign: the dask DataFrame has no rows")
        self.n = int(tot["rows"])
        D = domains.n
        theta, _ = _ratios_of_unit_totals(tot["T"].reshape(1, -1), D, p, ratio_den is not None, domains.levels, who)
        RT = tot["RT"]
        with np.errstate(divide="ignore", invalid="ignore"):
            reps = RT[:, :, :p] / RT[:, :, p:p + 1] if ratio_den is not None else RT[:, :, :p]
        design = _replicate_variance_design(self.replicate_type, _gram_rank(tot["G"]), **self._rep_options)
        est = _core.variance.replicate_vcov(theta.ravel(), np.ascontiguousarray(reps.reshape(len(self._repw), D * p)), design)
        return SurveyDesign._result(self, theta, np.asarray(est["vcov"]), terms, domains.levels, by, dict(est["conventions"]),
                                    statistic=statistic, nobs=self.n)

    def mean(self, var, by=None):
        """Weighted mean per domain (svymean), one pass over the partitions."""
        from .survey import _as_list

        names = _as_list(var)
        cols = [("column", v, "var") for v in names]
        return self._estimate(cols, "weights", by, "mean", [f"var column {v!r}" for v in names], names, "mean")

    def total(self, var, by=None):
        """Weighted total per domain (svytotal), one pass over the partitions."""
        from .survey import _as_list

        names = _as_list(var)
        cols = [("column", v, "var") for v in names]
        return self._estimate(cols, None, by, "total", [f"var column {v!r}" for v in names], names, "total")

    def ratio(self, numerator: str, denominator: str, by=None):
        """Ratio of totals Σ w y / Σ w x per domain (svyratio), one pass over the partitions."""
        cols = [("column", numerator, "numerator"), ("column", denominator, "denominator")]
        return self._estimate(cols, ("denominator",), by, "ratio",
                              [f"var column {numerator!r}", f"denominator column {denominator!r}"], [f"{numerator}/{denominator}"], "ratio")

    def proportion(self, var: str, by=None):
        """Share of each level of a categorical variable per domain (svymean on a factor)."""
        _check_frame(self._data, "SurveyDesign", [var])
        lev = np.sort(pd.unique(np.concatenate(map_partitions(self._data, _distinct_values, var))))  # missing values: refused per partition
        cols = [("level", var, v) for v in lev]
        terms = [f"{var}={v}" for v in lev]
        return self._estimate(cols, "weights", by, "proportion", terms, terms, "proportion")

    def quantile(self, var: str, q, by=None, level: float = 0.95):
        """Weighted quantiles with Woodruff intervals, as SurveyDesign.quantile in memory (R svyquantile,
        qrule="math", interval.type="mean"): the exact distributed quantile per domain, one streamed pass for
        the design SE of the estimated CDF at every quantile, and the quantiles at p̂ ∓ t·SE."""
        from . import _core
        from .survey import _as_list, _quantile_arguments, _woodruff_result

        qs = _quantile_arguments(q, level)
        by_names = _as_list(by)
        _check_frame(self._data, "SurveyDesign", [var] + by_names)
        domains = DomainCoder.of(self._data, by_names)
        D, Q = domains.n, len(qs)
        theta = np.array([self._domain_quantiles(var, domains, d, qs) for d in range(D)])
        # p̂ = the domain mean of 1{y ≤ q̂_dj} and its design variance: all D·Q indicators in one pass
        cols = [("at_most", var, float(theta[d, j])) for d in range(D) for j in range(Q)]
        cdf = self._estimate(cols, "weights", by, "quantile", [f"var column {var!r}"] * len(cols), [str(k) for k in range(len(cols))], "mean")
        at = [d * D * Q + d * Q + j for d in range(D) for j in range(Q)]
        pm = cdf.params.to_numpy()[at].reshape(D, Q)
        se_p = np.sqrt(np.diag(cdf.vcov.to_numpy())[at]).reshape(D, Q)
        dfs = np.repeat(self._domain_dfs(domains) if self._repw is None else np.full(D, float(cdf.conventions["df"])), Q).reshape(D, Q)
        t = np.array([[float(_core.t_quantiles(1 - (1 - level) / 2, np.array([v]))[0]) for v in row] for row in dfs])
        pl, pu = pm - t * se_p, pm + t * se_p
        lo, hi = np.full((D, Q), np.nan), np.full((D, Q), np.nan)
        for d in range(D):
            want = [(p, "lo", j) for j, p in enumerate(pl[d]) if p >= 0] + [(p, "hi", j) for j, p in enumerate(pu[d]) if p <= 1]
            vals = self._domain_quantiles(var, domains, d, [p for p, _, _ in want]) if want else []
            for v, (_, side, j) in zip(vals, want):
                (lo if side == "lo" else hi)[d, j] = v
        conv = dict(cdf.conventions) if self._repw is None else {"description": f"{self.replicate_type} replicate weights",
                                                                  "df": float(cdf.conventions["df"])}
        return _woodruff_result(self, theta, lo, hi, dfs, qs, var, domains.levels, by, level, conv)

    def _domain_quantiles(self, var: str, domains: DomainCoder, d: int, probs: list) -> list:
        """qrule_math quantiles of var over domain d's rows with positive weight (p = 0: the smallest value, p = 1: the largest)."""
        import functools

        fn = None if domains.levels is None else functools.partial(_in_domain, domains, d)
        inner = [p for p in probs if 0 < p < 1]
        try:
            got = dict(zip(inner, weighted_quantiles(self._data, var, self._columns.weights, inner, fn, "quantile", rule="math"))) if inner else {}
            if len(inner) < len(probs):
                ends = [e for e in map_partitions(self._data, _domain_ends, var, self._columns.weights, fn) if e is not None]
                got[0.0] = min(e[0] for e in ends)
                got[1.0] = max(e[1] for e in ends)
        except InvalidInputError as e:
            if "no analysis row has a positive weight" not in str(e) and "end" not in str(e):
                raise
            lev = "" if domains.levels is None else f" {domains.levels.iloc[d].to_dict()}"
            raise InvalidInputError(f"quantile: the domain{lev} has no rows with positive weight; the quantile is undefined there") from None
        return [got[0.0] if p <= 0 else got[1.0] if p >= 1 else got[p] for p in probs]

    def _domain_dfs(self, domains: DomainCoder) -> np.ndarray:
        """Per domain #PSU − #strata among its rows with positive weight (R's degf of the subset design)."""
        pairs = pd.concat(map_partitions(self._data, _domain_psu_pairs, self._columns, domains), ignore_index=True).drop_duplicates()
        return np.array([float(len(g) - g["s"].nunique()) for _, g in pairs.groupby("d")] if len(pairs) else [], dtype=float)


# --- ik.targeting and ik.fgt on a dask frame -------------------------------------------------------

def _design_of(data, design, weights, who: str) -> DesignColumns:
    """The design columns of design= / weights= (a DesignColumns is taken as it is: one weight set of a
    replicate design). A replicate design's weights only: callers take its replicates from replicate_design()."""
    if isinstance(design, DesignColumns):
        return design
    if design is not None:
        if weights is not None:
            raise InvalidInputError(f"{who}: give weights= or design=, not both (the design carries its weights)")
        if not isinstance(design, DaskSurveyDesign):
            raise TypeError(f"{who}: on a dask DataFrame, design must be ik.SurveyDesign built from the same dask DataFrame, "
                            f"got {type(design).__name__}")
        _check_same_frame(design, data, who)
        if design._repw is not None:  # the public functions take replicate designs through replicate_index / their own path
            raise InvalidInputError(f"{who}: replicate-weight designs are not supported by this function on a dask DataFrame")
        return design._columns
    return design_columns(data, weights=weights, who=who)


def _check_same_frame(design: "DaskSurveyDesign", data, who: str) -> None:
    """A dask design holds no row labels to match (pandas' SurveyDesign.check_rows), so it must describe the rows
    of `data`: the same frame (or one with the same graph name: the same data and operations) passes at once;
    another frame passes only if it has the same partitions holding the same design columns (weights, strata,
    PSUs, FPCs, replicate weights; one pass over those columns). Otherwise the first differing column and
    partition are named."""
    if design._data is data or design._data._name == data._name:
        return
    head = f"{who}: the design was built from a different dask DataFrame"
    names = [c for c in [design.weights_name, design.strata_name, *design.psu_names, *design.fpc_names,
                         *getattr(design, "replicate_names", [])] if c is not None]
    missing = [c for c in names if c not in data.columns]
    if missing:
        raise InvalidInputError(f"{head}: the data have no design column {missing[0]!r}; build the design from this frame")
    if design._data.npartitions != data.npartitions:
        raise InvalidInputError(f"{head} ({design._data.npartitions} partitions, the data {data.npartitions}); build the design from this frame")
    import dask

    diffs = dask.compute(*[dask.delayed(_design_column_difference)(a, b, names)
                           for a, b in zip(design._data.to_delayed(), data.to_delayed())])
    for k, diff in enumerate(diffs):
        if diff is not None:
            raise InvalidInputError(f"{head}: {diff} in partition {k}; build the design from this frame")


def _design_column_difference(a: pd.DataFrame, b: pd.DataFrame, names: list) -> Optional[str]:
    """What differs between two partitions' design columns (None if nothing)."""
    if len(a) != len(b):
        return f"the partition has {len(a)} rows in the design's frame and {len(b)} in the data"
    for c in names:
        if not a[c].reset_index(drop=True).equals(b[c].reset_index(drop=True)):
            return f"column {c!r} differs from the design's"
    return None


def replicate_design(design, data, who: str) -> Optional[DaskSurveyDesign]:
    """The design when it is a replicate-weight DaskSurveyDesign built from `data`, else None."""
    if not (isinstance(design, DaskSurveyDesign) and design._repw is not None):
        return None
    _check_same_frame(design, data, who)
    return design


def _weight_sets(design: DaskSurveyDesign) -> List[DesignColumns]:
    """One single-PSU DesignColumns per weight set of a replicate design: the full sample, then each replicate."""
    return [DesignColumns(weights=w, single_psu=True, lonely_psu="certainty") for w in (design._columns.weights,) + design._repw]


def _replicate_weight_matrix(part: pd.DataFrame, names: list) -> np.ndarray:
    """The partition's replicate weights (rows × R), checked finite and non-negative."""
    if not len(part):
        return np.zeros((0, len(names)))
    Wr = np.column_stack([_float_values(part[c], "replicate_weights") for c in names])
    neg = (Wr < 0).any(axis=1)
    if neg.any():
        raise InvalidInputError(f"replicate_weights must be non-negative (row {_plain(part.index[neg][0])!r})")
    return Wr


def _replicate_gram(part, k, names: list) -> np.ndarray:
    Wr = _replicate_weight_matrix(part, names)
    return Wr.T @ Wr


def replicate_variance_design(data, design: DaskSurveyDesign):
    """The shared replicate variance design of a replicate DaskSurveyDesign (df from the rank of its replicate
    weights, as in memory)."""
    from .survey import _replicate_variance_design

    G = np.sum(map_partitions(data, _replicate_gram, list(design._repw)), axis=0)
    return _replicate_variance_design(design.replicate_type, _gram_rank(G), **design._rep_options)


def replicate_index(data, design: DaskSurveyDesign, estimate: Callable, sort_by: Optional[str] = None, columns: Sequence = (),
                    who: str = "index") -> tuple:
    """An index under a replicate design on a dask frame, as welfare_index with replicate weights in memory:
    ``estimate(frame, cols)`` → (out, levels, by names, rows) re-estimates the index (its quantiles and an
    estimated line included) on ``frame`` with each weight set; the replicate variance is C++'s
    (replicate_index_variance). A rank index names its key (``sort_by``) and the other columns it reads: the
    frame is then sorted by the key once, with every weight column, and each weight set reuses the sort."""
    from . import _core

    frame = data if sort_by is None else sorted_frame(data, sort_by, list(columns) + [design._columns.weights, *design._repw], who)
    runs = [estimate(frame, cols) for cols in _weight_sets(design)]
    out, levels, by_names, rows = runs[0]
    reps = np.array([np.asarray(r[0]["estimate"], dtype=float) for r in runs[1:]])
    lines = np.array([float(r[0]["line"]) for r in runs[1:]])
    v = _core.targeting.replicate_index_variance(np.asarray(out["estimate"], dtype=float), np.ascontiguousarray(reps),
                                                 float(out["line"]), lines, np.isfinite(out.get("bandwidth", np.nan)),
                                                 replicate_variance_design(frame, design))
    return {**out, **v}, levels, by_names, rows


_SORTED_BY: dict = {}  # graph name of a persisted frame sorted by sorted_frame → its sort key


def sorted_frame(data, key: str, columns: Sequence, who: str):
    """The columns used (key first) sorted by the key and persisted, registered so that rank_indices reuses the
    sort instead of sorting again (one shuffle for all weight sets of a replicate design)."""
    _check_frame(data, who, [key] + [c for c in columns if c is not None])
    used = list(dict.fromkeys([key] + [c for c in columns if c is not None]))
    ordered = data[used].sort_values(key).persist()
    _SORTED_BY[ordered._name] = key
    return ordered


def _line_values(data, y: str, cols: DesignColumns, line_args: dict, domains: DomainCoder, who: str):
    """(Q_p, h) of an estimated line over the analysis rows; (nan, nan) for a fixed line or a column."""
    if line_args["rule"] != "quantile_line":
        return float("nan"), float("nan")
    qs, h = quantiles_and_bandwidth(data, y, cols.weights, [line_args["line_quantile"]], True, None, who)
    return qs[0], h


@dataclass
class HouseholdFirstRows:
    """unit="households" on a dask frame: a household counts once, with its first row in data order (as in
    memory). The frame gains a global row id; a pass of per-partition first rows and value ranges per
    household gives every household's first row (a table of #households on the client) and checks that the
    household's values are constant. Called on a partition: 0 for counted rows, −1 (in no domain) otherwise."""

    name: str
    first: pd.Series  # household id → global row number of its first row

    @property
    def n(self) -> int:
        return len(self.first)

    def __call__(self, part: pd.DataFrame) -> np.ndarray:
        counted = self.first.reindex(part[self.name].to_numpy()).to_numpy() == part["__ik_row"].to_numpy()
        return np.where(counted, 0, -1).astype(np.int32)

    @classmethod
    def of(cls, data, household: str, constant: dict, who: str):
        import dask

        offsets = _partition_offsets(data)
        data = dd_from_delayed([dask.delayed(_with_row_ids)(p, int(o)) for p, o in zip(data.to_delayed(), offsets)],
                               data._meta.assign(__ik_row=np.zeros(0, dtype=np.int64)))
        summary = pd.concat(map_partitions(data, _household_ranges, household, list(constant)), ignore_index=True)
        agg = summary.groupby("h", sort=False).agg(**{"row": ("row", "min")},
                                                   **{f"lo{j}": (f"lo{j}", "min") for j in range(len(constant))},
                                                   **{f"hi{j}": (f"hi{j}", "max") for j in range(len(constant))})
        varying = [what for j, what in enumerate(constant.values()) if (agg[f"lo{j}"] != agg[f"hi{j}"]).any()]
        if varying:
            raise InvalidInputError(f"{who}: unit='households' needs {', '.join(varying)} constant within each household")
        return data, cls(household, agg["row"])


def _household_ranges(part: pd.DataFrame, k: int, household: str, columns: list) -> pd.DataFrame:
    """Per household in the partition: its first global row and the smallest and largest value of each column."""
    if part[household].isna().any():
        raise InvalidInputError(f"targeting: household column {household!r} has missing values")
    frame = pd.DataFrame({"h": part[household].to_numpy(), "row": part["__ik_row"].to_numpy()})
    for j, c in enumerate(columns):
        numeric = pd.api.types.is_numeric_dtype(part[c]) or pd.api.types.is_bool_dtype(part[c])
        v = part[c].to_numpy(dtype=np.float64, na_value=np.nan) if numeric else np.zeros(len(part))  # refused in the pass
        frame[f"lo{j}"] = v
        frame[f"hi{j}"] = v
    g = frame.groupby("h", sort=False)
    return g.agg(**{"row": ("row", "min")}, **{f"lo{j}": (f"lo{j}", "min") for j in range(len(columns))},
                 **{f"hi{j}": (f"hi{j}", "max") for j in range(len(columns))}).reset_index()


def _targeting_update(acc, part, k, plan: dict, cols: DesignColumns):
    from .targeting import _indicator, _numeric

    domain = plan["domains"].codes(part)
    if plan["households"] is not None:  # only a household's first row counts; the others stay in the design
        domain = np.where(plan["households"](part) == 0, 0 if domain is None else domain, -1).astype(np.int32)
    acc.update(target=_indicator(part, plan["target"], "target") if plan["target"] else None,
               beneficiary=_indicator(part, plan["beneficiary"], "beneficiary"),
               benefit=_numeric(part, plan["benefit"], "benefit") if plan["benefit"] else None,
               welfare=_numeric(part, plan["welfare"], "welfare"), weights=cols.weights_of(part),
               domain=domain, **cols.chunk(part, k))


def _poverty_update(acc, part, k, plan: dict, cols: DesignColumns):
    from .targeting import _numeric

    acc.update(welfare=_numeric(part, plan["welfare"], "variable"), weights=cols.weights_of(part), domain=plan["domains"].codes(part),
               **cols.chunk(part, k))


def _stream_part(part, k, plan: dict):
    """A partition's accumulator (plan["accumulator"] of _core.targeting) per weight set: one for a Taylor
    design, one per replicate (after the full sample's) for a replicate design (plan["weight_sets"])."""
    from . import _core

    make = getattr(_core.targeting, plan["accumulator"])
    accs = [make(**setup) for setup in plan["setups"]]
    if len(part):
        for acc, cols in zip(accs, plan["weight_sets"]):
            plan["update"](acc, part, k, plan, cols)
    return accs


def _merge_streams(a: list, b: list) -> list:
    for x, y in zip(a, b):
        x.merge(y)
    return a


def _stream(data, plan: dict, setup: dict, cols: DesignColumns, replicates: Optional[DaskSurveyDesign], line_column: str,
            quantile_fn, who: str) -> dict:
    """Streams the accumulators of plan and finalizes them in C++: a Taylor design (single or multistage) with
    its own finalize, a replicate design with one accumulator per weight set (an estimated line re-estimated
    with each replicate's weights, exactly across partitions) and finalize_replicates."""
    if replicates is None:
        plan.update(setups=[setup], weight_sets=[cols])
        accs = tree_reduce(data, _stream_part, plan, merge=_merge_streams)
        if accs[0].rows == 0:
            raise InvalidInputError(f"{who}: data has no rows")
        plan["rows"] = accs[0].rows
        return cols.finalize_stream(accs[0])
    sets = _weight_sets(replicates)
    setups = [setup]
    for w in sets[1:]:
        q = setup["line_q"]
        if setup["rule"] == "quantile_line":
            q = weighted_quantiles(data, line_column, w.weights, [setup["line_quantile"]], quantile_fn, who)[0]
        setups.append({**setup, "line_q": q})
    plan.update(setups=setups, weight_sets=sets)
    accs = tree_reduce(data, _stream_part, plan, merge=_merge_streams)
    if accs[0].rows == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    plan["rows"] = accs[0].rows
    return accs[0].finalize_replicates(accs[1:], replicate_variance_design(data, replicates))


def targeting(data, *, welfare, beneficiary, target, benefit, design, weights, unit, household, by, incidence, target_rule):
    """ik.targeting on a dask DataFrame (see targeting.targeting for the arguments)."""
    from .survey import _as_list
    from .targeting import TargetingResult, bottom, poverty_line, relative_line

    who = "targeting"
    by_names = _as_list(by)
    _check_frame(data, who, [welfare, beneficiary, benefit, target if isinstance(target, str) else None] + by_names)
    replicates = replicate_design(design, data, who)
    if replicates is not None and weights is not None:
        raise InvalidInputError(f"{who}: give weights= or design=, not both (the design carries its weights)")
    cols = replicates._columns if replicates is not None else _design_of(data, design, weights, who)
    domains = DomainCoder.of(data, by_names)
    households = None
    if unit == "households":
        if household is None:
            raise InvalidInputError(f"{who}: unit='households' needs household= (the household id column)")
        _check_frame(data, who, [household])
        what = {welfare: f"welfare {welfare!r}", beneficiary: f"beneficiary {beneficiary!r}", benefit: f"benefit {benefit!r}",
                target if isinstance(target, str) else None: "the target"}
        data, households = HouseholdFirstRows.of(data, household, {c: v for c, v in what.items() if c is not None}, who)
    elif household is not None:
        raise InvalidInputError(f"{who}: household= is used with unit='households'")
    kind, line, p, s, strict = "column", float("nan"), 0.5, 1.0, True
    if isinstance(target, poverty_line):
        kind, line, strict = "fixed_line", float(target.value), target.strict
    elif isinstance(target, relative_line):
        kind, p, s, strict = "quantile_line", 0.5, float(target.share), target.strict
    elif isinstance(target, bottom):
        kind, p, s, strict = "quantile_line", float(target.share), 1.0, False
    K = 0 if incidence is None else incidence.k
    probs = [j / K for j in range(1, K)]
    want = probs + ([p] if kind == "quantile_line" else [])
    qs, h = quantiles_and_bandwidth(data, welfare, cols.weights, want, kind == "quantile_line", households, who) if want else ([], float("nan"))
    cuts = qs[:len(probs)]
    q = qs[-1] if kind == "quantile_line" else float("nan")
    setup = dict(rule=kind, line_value=line, line_quantile=p, line_share=s, strict=strict, line_q=q, line_h=h, amounts=benefit is not None,
                 welfare=True, n_domains=domains.n, n_welfare_groups=K, welfare_cuts=cuts, nest=cols.nest, fpc=cols.fpc is not None)
    plan = dict(accumulator="TargetingAccumulator", update=_targeting_update, domains=domains, target=target if kind == "column" else None,
                beneficiary=beneficiary, benefit=benefit, welfare=welfare, households=households)
    out = _stream(data, plan, setup, cols, replicates, welfare, households, who)
    return TargetingResult._build(out, domains.levels, by_names, None, rule=target_rule, unit=unit, welfare=welfare, benefit=benefit,
                                  cuts=np.asarray(out["welfare_cuts"], dtype=float) if K else None,
                                  nobs=int(plan["rows"]) if households is None else households.n)


def poverty(index: str, alpha: float, data, variable: str, line_args: dict, design, weights, by, who: str):
    """(out dict, levels, by names, rows) of ik.fgt / ik.watts on a dask DataFrame."""
    from .survey import _as_list

    by_names = _as_list(by)
    _check_frame(data, who, [variable] + by_names)
    replicates = replicate_design(design, data, who)
    if replicates is not None and weights is not None:
        raise InvalidInputError(f"{who}: give weights= or design=, not both (the design carries its weights)")
    cols = replicates._columns if replicates is not None else _design_of(data, design, weights, who)
    domains = DomainCoder.of(data, by_names)
    q, h = _line_values(data, variable, cols, line_args, domains, who)
    setup = dict(index=index, alpha=float(alpha), rule=line_args["rule"], line_value=line_args["line_value"],
                 line_quantile=line_args["line_quantile"], line_share=line_args["line_share"], strict=line_args["strict"], line_q=q,
                 line_h=h, n_domains=domains.n, nest=cols.nest, fpc=cols.fpc is not None)
    plan = dict(accumulator="PovertyAccumulator", update=_poverty_update, domains=domains, welfare=variable)
    out = _stream(data, plan, setup, cols, replicates, variable, None, who)
    return out, domains.levels, by_names, int(plan["rows"])


# --- Rank indices on a dask frame (Gini, concentration, Kakwani, Sen): a global sort, then sums again -----
#
# The rank totals of rank_totals.hpp: per domain and PSU the totals of w and, per value column h (centred
# e = h − c, c the domain mean), of w·(midN e − midE), w·midN·e and w·e, with midN / midE the mid-point
# cumulative weight / Σ w e of a row's tie run. After a global sort the partitions hold consecutive key ranges
# (a tie run may straddle partitions only at their smallest and largest keys), so a first pass of per-partition
# totals gives every row its cumulative sums; the index and its influence totals then come from C++
# (rank_index_from_totals), the same finalizers as the in-memory path.

def _with_row_ids(part: pd.DataFrame, offset: int) -> pd.DataFrame:
    return part.assign(__ik_row=np.arange(len(part), dtype=np.int64) + offset)


@dataclass
class RankSpec:
    """What a rank index reads: the key column, the value columns, and the checks of the calling index."""

    who: str
    key: str
    values: List[str]
    key_nonnegative: Optional[str] = None  # message head when the key must be ≥ 0 (Gini, Kakwani)
    bounds: Optional[tuple] = None  # (a, b): values[0] must lie in [a, b] (bounded concentration indices)
    poverty: Optional[tuple] = None  # Sen: (z, strict, Q); the values are y·1{poor}, 1{poor} (and 1{y ≤ Q}), from the key

    def columns(self) -> List[str]:
        """The data columns read (derived values excluded)."""
        return [self.key] + ([] if self.poverty else [v for v in self.values if v != self.key])


def _rank_rows(part, spec: RankSpec, cols: DesignColumns, domains: DomainCoder):
    """(key, [values], weights, domain codes) of a partition, checked as in memory."""
    n = len(part)
    y = _float_values(part[spec.key], "variable") if n else np.empty(0)
    if spec.poverty:
        z, strict, q = spec.poverty
        poor = y < z if strict else y <= z
        neg = poor & (y < 0)
        if neg.any():
            raise InvalidInputError(f"{spec.who}: the Sen index needs welfare ≥ 0 below the line (the Gini of the poor); welfare is "
                                    f"{float(y[neg][0])!r} at row {_plain(part.index[neg][0])!r}")
        H = [np.where(poor, y, 0.0), poor.astype(np.float64)] + ([(y <= q).astype(np.float64)] if np.isfinite(q) else [])
    else:
        H = [y if v == spec.key else (_float_values(part[v], "variable") if n else np.empty(0)) for v in spec.values]
    if spec.key_nonnegative and (y < 0).any():
        raise InvalidInputError(f"{spec.who}: {spec.key_nonnegative} is {float(y[y < 0][0])!r} at row {_plain(part.index[y < 0][0])!r}")
    if spec.bounds is not None:
        lo, hi = spec.bounds
        bad = ~((H[0] >= lo) & (H[0] <= hi))
        if bad.any():
            raise InvalidInputError(f"{spec.who}: the outcome {float(H[0][bad][0])!r} at row {_plain(part.index[bad][0])!r} lies outside its "
                                    f"bounds [{lo:g}, {hi:g}]")
    w = cols.weights_of(part) if n else np.empty(0)
    w = np.ones(n) if w is None else w
    dom = domains.codes(part) if n else np.empty(0, dtype=np.int32)
    dom = np.zeros(n, dtype=np.int32) if dom is None else dom
    return y, H, w, dom


def _rank_edges(part, k, spec: RankSpec, cols, domains):
    """Per domain: total weight, Σ w h per value, and at the partition's smallest and largest key the run's
    weight and Σ w h per value."""
    y, H, w, dom = _rank_rows(part, spec, cols, domains)
    out = []
    for d in range(domains.n):
        m = dom == d
        yd, wd = y[m], w[m]
        if len(yd) == 0:
            out.append(None)
            continue
        wh = [wd * h[m] for h in H]
        lo, hi = yd.min(), yd.max()
        at_lo, at_hi = yd == lo, yd == hi
        out.append(dict(W=math.fsum(wd), Y=[math.fsum(x) for x in wh], lo=lo, hi=hi,
                        w_lo=math.fsum(wd[at_lo]), w_hi=math.fsum(wd[at_hi]),
                        h_lo=[math.fsum(x[at_lo]) for x in wh], h_hi=[math.fsum(x[at_hi]) for x in wh]))
    return out


def _run_at(edge, v, j=None) -> float:
    """The weight (j None) or Σ w h_j of the partition's tie run at key v (0 if v is not at its edges)."""
    if edge is None:
        return 0.0
    if edge["lo"] == v:
        return edge["w_lo"] if j is None else edge["h_lo"][j]
    if edge["hi"] == v:
        return edge["w_hi"] if j is None else edge["h_hi"][j]
    return 0.0


def _rank_runs(edges: list, D: int, J: int):
    """The domain means c_dj of the values, and per partition and domain: the weight C and Σ w e_j (E) of the
    earlier partitions, and for its edge runs (weight before, total weight, Σ w e_j before, Σ w e_j total)."""
    P = len(edges)
    centre = []
    for d in range(D):
        W = math.fsum(edges[q][d]["W"] for q in range(P) if edges[q][d] is not None)
        centre.append([math.fsum(edges[q][d]["Y"][j] for q in range(P) if edges[q][d] is not None) / W if W > 0 else 0.0
                       for j in range(J)])
    runs = []
    for p in range(P):
        per_domain = []
        for d in range(D):
            e = edges[p][d]
            if e is None:
                per_domain.append(None)
                continue
            earlier = [edges[q][d] for q in range(p) if edges[q][d] is not None]
            C = math.fsum(x["W"] for x in earlier)
            E = [math.fsum(x["Y"][j] - centre[d][j] * x["W"] for x in earlier) for j in range(J)]
            r = {}
            for v in {e["lo"], e["hi"]}:
                wb = math.fsum(_run_at(edges[q][d], v) for q in range(p))
                wt = math.fsum(_run_at(edges[q][d], v) for q in range(P))
                eb = [math.fsum(_run_at(edges[q][d], v, j) for q in range(p)) - centre[d][j] * wb for j in range(J)]
                et = [math.fsum(_run_at(edges[q][d], v, j) for q in range(P)) - centre[d][j] * wt for j in range(J)]
                r[v] = (wb, wt, eb, et)
            per_domain.append(dict(C=C, E=E, runs=r))
        runs.append(per_domain)
    return centre, runs


def _rank_part(part, k, spec: RankSpec, cols: DesignColumns, domains: DomainCoder, runs, centre):
    from . import _core

    J = len(spec.values)
    acc = _core.variance.DesignAccumulator(domains.n, 1 + 3 * J, cols.nest, cols.fpc is not None)
    if not len(part):
        return acc
    y, H, w, dom = _rank_rows(part, spec, cols, domains)
    order = np.argsort(y, kind="stable")
    n = len(y)
    midN = np.zeros(n)
    e = [np.zeros(n) for _ in range(J)]
    midE = [np.zeros(n) for _ in range(J)]
    for d in range(domains.n):
        info = runs[k][d]
        if info is None:
            continue
        rows = order[dom[order] == d]
        yd, wd = y[rows], w[rows].astype(np.longdouble)
        values, start = np.unique(yd, return_index=True)
        counts = np.diff(np.append(start, len(yd)))
        local = np.add.reduceat(wd, start)  # weight of each run of equal keys here
        before = np.zeros(len(values), dtype=np.longdouble)  # the run's weight in earlier partitions
        total = local.copy()  # the run's weight over all partitions
        edge = [j for j in {0, len(values) - 1} if values[j] in info["runs"]]  # only the edge runs can straddle partitions
        for j in edge:
            before[j], total[j] = info["runs"][values[j]][:2]
        c_excl = np.cumsum(local) - local  # weight of the earlier runs in this partition
        midN[rows] = np.repeat((info["C"] + c_excl - before + total / 2).astype(np.float64), counts)
        for j in range(J):
            ej = H[j][rows] - centre[d][j]
            e[j][rows] = ej
            local_e = np.add.reduceat(wd * ej, start)
            e_before = np.zeros(len(values), dtype=np.longdouble)
            e_total = local_e.copy()
            for r in edge:
                e_before[r], e_total[r] = info["runs"][values[r]][2][j], info["runs"][values[r]][3][j]
            e_excl = np.cumsum(local_e) - local_e
            midE[j][rows] = np.repeat((info["E"][j] + e_excl - e_before + e_total / 2).astype(np.float64), counts)
    columns = [np.ones(n)]
    for j in range(J):
        columns += [midN * e[j] - midE[j], midN * e[j], e[j]]
    acc.update_columns(columns=columns, weights=w, domain=dom if domains.levels is not None else None, with_weights=False,
                       **cols.chunk(part, k))
    return acc


def _rank_check(part, k, spec, cols, domains):
    _rank_rows(part, spec, cols, domains)
    return len(part)


def rank_indices(data, spec: RankSpec, design, weights, by, cols: Optional[DesignColumns] = None):
    """The rank totals of the value columns ranked by the key (rank_totals.hpp): T, the unit totals U × D·(1 + 3J)
    (per domain w, and per value j at 1 + 3j: w·(midN e − midE), w·midN·e, w·e with e = h − centre), and the
    centres (D × J); with the accumulator, the design, the domains and the sorted frame. One shuffle (a global
    sort by the key), then two passes."""
    from .survey import _as_list

    who = spec.who
    by_names = _as_list(by)
    _check_frame(data, who, spec.columns() + by_names)
    cols = _design_of(data, design, weights, who) if cols is None else cols
    domains = DomainCoder.of(data, by_names)
    if cols.psu is None and not cols.single_psu:  # rows are their own PSUs: fix their labels before the sort moves them
        import dask

        offsets = _partition_offsets(data)
        data = dd_from_delayed([dask.delayed(_with_row_ids)(p, int(o)) for p, o in zip(data.to_delayed(), offsets)],
                               data._meta.assign(__ik_row=np.zeros(0, dtype=np.int64)))
        cols = DesignColumns(**{**cols.__dict__, "psu": LabelCoder("__ik_row", "psu")})
    if sum(map_partitions(data, _rank_check, spec, cols, domains)) == 0:  # clear errors before the shuffle
        raise InvalidInputError(f"{who}: data has no rows")
    needed = spec.columns() + by_names + [c for c in (cols.weights, cols.fpc, cols.strata and cols.strata.name,
                                                                  cols.psu and cols.psu.name) if c]
    needed += [c.name for c in cols.later] + cols.later_fpc
    # shuffle only the columns used, once: persisted for the two passes over the sorted partitions (a frame
    # from sorted_frame is already sorted by the key: reused as it is)
    if _SORTED_BY.get(data._name) == spec.key:
        ordered = data
    else:
        ordered = data[list(dict.fromkeys(needed))].sort_values(spec.key).persist()
    edges = map_partitions(ordered, _rank_edges, spec, cols, domains)
    D, J = domains.n, len(spec.values)
    centre, runs = _rank_runs(edges, D, J)
    acc = tree_reduce(ordered, _rank_part, spec, cols, domains, runs, centre)
    if acc.rows == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    core, T = cols.finalize(acc)
    return dict(T=np.asfortranarray(T), centre=np.asarray(centre, dtype=np.float64).reshape(D, J), acc=acc, core=core,
                levels=domains.levels, by_names=by_names, rows=int(acc.rows), ordered=ordered, cols=cols, domains=domains)


def _rank_index(r: dict, index: str, **kwargs) -> tuple:
    """(out dict, levels, by names, rows) of a rank index from rank_indices' totals, finalized in C++
    (rank_index_from_totals: the same function as the in-memory path, rank_totals.hpp)."""
    from . import _core

    out = _from_totals(r["acc"], r["core"], _core.targeting.rank_index_from_totals(index, r["T"], r["centre"], r["core"], **kwargs))
    return out, r["levels"], r["by_names"], r["rows"]


def gini(data, variable: str, design, weights, by, who: str = "gini"):
    """(out dict, levels, by names, rows) of ik.gini on a dask DataFrame: the concentration index of welfare
    ranked by itself."""
    r = rank_indices(data, RankSpec(who, variable, [variable], key_nonnegative="the Gini coefficient needs welfare ≥ 0; welfare"),
                     design, weights, by)
    return _rank_index(r, "concentration")


def concentration(data, variable: str, rank_by: str, kind: str, lower: float, upper: float, design, weights, by, who: str):
    """(out dict, levels, by names, rows) of ik.concentration_index on a dask DataFrame."""
    bounded = kind in ("erreygers", "wagstaff")
    r = rank_indices(data, RankSpec(who, rank_by, [variable], bounds=(lower, upper) if bounded else None), design, weights, by)
    return _rank_index(r, "concentration", kind=kind, lower=float(lower), upper=float(upper))


def _kernel_sums(part, k, variable, cols: DesignColumns, domains: DomainCoder, z: float, q: float, h: float):
    """Per domain Σ w φ_h(z − y), and over all rows Σ w φ_h(Q − y) (the densities of an estimated line)."""
    from .targeting import _numeric

    if not len(part):
        return np.zeros(domains.n), 0.0
    y = _numeric(part, variable, "variable")
    w = cols.weights_of(part)
    w = np.ones(len(y)) if w is None else w
    dom = domains.codes(part)

    def phi(u):  # as C++ lines::gaussian_kernel: 0 where e^(−t) would leave the normal range (t > 700)
        t = 0.5 * (u / h) ** 2
        return np.where(t > 700.0, 0.0, np.exp(-np.minimum(t, 700.0))) / (math.sqrt(2 * math.pi) * h)

    at_z = w * phi(z - y)
    per_domain = np.bincount(np.zeros(len(y), dtype=np.int64) if dom is None else dom, weights=at_z, minlength=domains.n)
    return per_domain, float(np.sum(w * phi(q - y)))


def sen(data, variable: str, line_args: dict, design, weights, by):
    """(out dict, levels, by names, rows) of ik.sen on a dask DataFrame: the rank totals of y·1{poor}, 1{poor}
    (and 1{y ≤ Q_p} for an estimated line, with the kernel sums at the line and the quantile) ranked by welfare,
    finalized by C++ sen_from_totals (rank_totals.hpp), as in memory."""
    who = "sen"
    cols = _design_of(data, design, weights, who)
    _check_frame(data, who, [variable])
    estimated = line_args["rule"] == "quantile_line"
    q, h = float("nan"), float("nan")
    if estimated:
        qs, h = quantiles_and_bandwidth(data, variable, cols.weights, [line_args["line_quantile"]], True, None, who)
        q = qs[0]
        z = line_args["line_share"] * q
    else:
        z = line_args["line_value"]
    if not (np.isfinite(z) and z > 0):
        raise InvalidInputError(f"{who}: the poverty line must be positive (the index divides by it); it is {z!r}")
    spec = RankSpec(who, variable, ["__poor_y", "__poor"] + (["__below_q"] if estimated else []), poverty=(z, line_args["strict"], q))
    r = rank_indices(data, spec, None, None, by, cols=cols)
    kernel, density = None, float("nan")
    if estimated:
        sums = map_partitions(r["ordered"], _kernel_sums, variable, cols, r["domains"], z, q, h)
        kernel = np.sum([a for a, _ in sums], axis=0)
        density = math.fsum(b for _, b in sums)
    return _rank_index(r, "sen", rule=line_args["rule"], line_quantile=float(line_args["line_quantile"]),
                       line_share=float(line_args["line_share"]), strict=bool(line_args["strict"]), z=float(z), q=float(q), h=float(h),
                       kernel_at_line=kernel, density=density)


def kakwani(data, payment: str, income: str, design, weights, by):
    """(out dict, levels, by names, rows) of ik.kakwani on a dask DataFrame: C(payment by income) − G(income)."""
    r = rank_indices(data, RankSpec("kakwani", income, [payment, income],
                                    key_nonnegative="the Kakwani index needs income ≥ 0 (its Gini); income"), design, weights, by)
    return _rank_index(r, "kakwani")


def dd_from_delayed(parts, meta):
    import dask.dataframe as dd

    return dd.from_delayed(parts, meta=meta, verify_meta=False)


# --- Theil, MLD and Atkinson on a dask frame: generalized-entropy totals per PSU ----------------------
#
# As in memory (targeting/inequality.cpp, inequality_measure), per domain the totals N = Σ w, Y = Σ w u and
# G = Σ w g(u), u = y / max|y| (the indices are scale-free; the totals stay in range), with g(u) = u log u
# (Theil), log u (MLD, Atkinson ε = 1) or u^(1−ε) (Atkinson). One pass of mergeable PSU totals; the index
# θ(N, Y, G) and its influence per PSU come from those totals in C++ (inequality_from_totals, inequality.hpp).

def _max_abs(part, k, variable):
    y = _float_values(part[variable], "variable") if len(part) else np.empty(0)
    return float(np.max(np.abs(y))) if len(y) else 0.0


def _entropy_part(part, k, variable, cols: DesignColumns, domains: DomainCoder, index: str, epsilon: float, scale: float):
    from . import _core

    acc = _core.variance.DesignAccumulator(domains.n, 3, cols.nest, cols.fpc is not None)
    if not len(part):
        return acc
    y = _float_values(part[variable], "variable")
    logs = index == "mld" or (index == "atkinson" and epsilon == 1)
    positive = logs or (index == "atkinson" and epsilon > 1)
    bad = (y < 0) | ((y <= 0) if positive else False)
    if bad.any():
        raise InvalidInputError(f"{index}: the index needs welfare {'> 0' if positive else '≥ 0'}; welfare is {float(y[bad][0])!r} at row "
                                f"{_plain(part.index[bad][0])!r}")
    u = y / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        if index == "theil":
            g = np.where(u > 0, u * np.log(np.where(u > 0, u, 1.0)), 0.0)
        elif logs:
            g = np.log(u)
        else:
            g = u ** (1.0 - epsilon)
    acc.update_columns(columns=[np.ones(len(y)), u, g], weights=cols.weights_of(part), domain=domains.codes(part), with_weights=False,
                       names=["1", variable, f"g({variable})"], **cols.chunk(part, k))
    return acc


def entropy_index(index: str, epsilon: float, data, variable: str, design, weights, by, who: str):
    """(out dict, levels, by names, rows) of ik.theil / ik.mld / ik.atkinson on a dask DataFrame."""
    from .survey import _as_list

    from . import _core

    by_names = _as_list(by)
    _check_frame(data, who, [variable] + by_names)
    cols = _design_of(data, design, weights, who)
    domains = DomainCoder.of(data, by_names)
    scale = max(map_partitions(data, _max_abs, variable)) if data.npartitions else 0.0
    acc = tree_reduce(data, _entropy_part, variable, cols, domains, index, float(epsilon), scale if scale > 0 else 1.0)
    if acc.rows == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    core, T = cols.finalize(acc)
    # the index and its influence from the unit totals: C++ inequality_from_totals, as in memory
    out = _from_totals(acc, core, _core.targeting.inequality_from_totals(index, float(epsilon), np.asfortranarray(T), domains.n, core))
    return out, domains.levels, by_names, int(acc.rows)


def _from_totals(acc, core, out) -> dict:
    """The result dict of an index finalized in C++ from streamed totals, with the accumulator's conventions
    (counts over the streamed rows)."""
    out = dict(out)
    out["conventions"] = dict(acc.conventions(core))
    return out


# --- Lorenz ordinates, quantile shares and the QSR on a dask frame: exact quantiles, then one pass -------
#
# The quantiles Q_p per domain are found first (exact, across partitions: the lower quantile for the Lorenz
# curve, laeken's for the QSR); then one pass streams the PSU totals of the partial-total variables of
# lorenz.hpp (w, w·y, and per share w·y·1{y<Q}, w·1{y<Q}, w·1{y=Q}, w·(y − Q)·1{y ≤ Q}), and C++
# lorenz_from_totals (the in-memory path's own finalizer) gives the indices and their influence totals.

def _partial_part(part, k, variable, cols: DesignColumns, domains: DomainCoder, Q: np.ndarray):
    from . import _core

    D, K = Q.shape
    acc = _core.variance.DesignAccumulator(D, 2 + 4 * K, cols.nest, cols.fpc is not None)
    if not len(part):
        return acc
    y = _float_values(part[variable], "variable")
    dom = domains.codes(part)
    q = Q[np.zeros(len(y), dtype=np.int64) if dom is None else dom]  # each row's quantiles (n × K); NaN: undefined domain
    columns = [np.ones(len(y)), y]
    for j in range(K):
        below, at = y < q[:, j], y == q[:, j]
        columns += [np.where(below, y, 0.0), below.astype(np.float64), at.astype(np.float64), np.where(below | at, y - q[:, j], 0.0)]
    acc.update_columns(columns=columns, weights=cols.weights_of(part), domain=dom, with_weights=False, **cols.chunk(part, k))
    return acc


def partial_totals(data, variable: str, probs: list, rule: str, design, weights, by, who: str):
    """The exact per-domain quantiles Q (D × K) and the streamed PSU totals for the Lorenz family."""
    import functools

    from .survey import _as_list

    by_names = _as_list(by)
    _check_frame(data, who, [variable] + by_names)
    cols = _design_of(data, design, weights, who)
    domains = DomainCoder.of(data, by_names)
    Q = np.full((domains.n, len(probs)), np.nan)
    for d in range(domains.n):
        fn = None if domains.levels is None else functools.partial(_in_domain, domains, d)
        inner = [p for p in probs if p < 1]
        try:
            got = weighted_quantiles(data, variable, cols.weights, inner, fn, who, rule=rule) if inner else []
            if len(inner) < len(probs):
                got = list(got) + [max(e[1] for e in map_partitions(data, _domain_ends, variable, cols.weights, fn) if e is not None)]
        except InvalidInputError as e:
            if "no analysis row has a positive weight" not in str(e) and "no rows" not in str(e):
                raise
            continue  # no positive weight in the domain: undefined there (as in memory)
        Q[d] = got
    acc = tree_reduce(data, _partial_part, variable, cols, domains, Q)
    if acc.rows == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    core, T = cols.finalize(acc)
    return Q, acc, core, np.asfortranarray(T), domains, by_names


def lorenz(data, variable: str, probs: list, generalized: bool, design, weights, by, who: str, shares: bool = False):
    """(out dict, levels, by names, rows) of ik.lorenz on a dask DataFrame (ik.quantile_shares with shares=True:
    the groups between the cuts probs)."""
    from . import _core

    Q, acc, core, T, domains, by_names = partial_totals(data, variable, probs, "lower", design, weights, by, who)
    index = "quantile_shares" if shares else "generalized_lorenz" if generalized else "lorenz"
    return _from_totals(acc, core, _core.targeting.lorenz_from_totals(index, T, Q, probs, core)), domains.levels, by_names, int(acc.rows)


def qsr(data, variable: str, lower: float, upper: float, design, weights, by, who: str = "qsr"):
    """(out dict, levels, by names, rows) of ik.qsr on a dask DataFrame (laeken's quantiles, T_p = Σ_{y≤Q} w y)."""
    from . import _core

    Q, acc, core, T, domains, by_names = partial_totals(data, variable, [lower, upper], "laeken", design, weights, by, who)
    out = _core.targeting.lorenz_from_totals("qsr", T, Q, [lower, upper], core)
    return _from_totals(acc, core, out), domains.levels, by_names, int(acc.rows)
