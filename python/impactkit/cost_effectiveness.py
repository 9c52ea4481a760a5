"""Cost-effectiveness and value for money: ``ik.cea`` (cost per unit of outcome and per beneficiary, the ICER
frontier with strong and extended dominance, net monetary benefit; from probabilistic draws the
acceptability curve and frontier, EVPI, and ICER intervals by paired seeded bootstrap and Fieller's method;
CE-plane and CEAC plots).

The numerics (frontier, CEAC/EVPI over a λ grid, bootstrap) are C++
(``impactkit/sustainability/cost_effectiveness.hpp``, where the formulas and sources are), so C++ users get the
same numbers. Costing, discounting, DALY/QALY and NPV/IRR helpers are in :mod:`impactkit.costing`.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from ._dask import _plain
from .errors import InvalidInputError
from .plotting import _import_pyplot
from .survey import _column
from .survival import _level
from .targeting import _numeric

_ce = _core.cost_effectiveness

__all__ = ["cea", "CEAResult"]


def _wtp_grid(wtp, who) -> np.ndarray:
    if wtp is None:
        raise InvalidInputError(f"{who}: give the willingness to pay per unit of effect (wtp=, a number or a grid)")
    try:
        w = np.atleast_1d(np.asarray(wtp, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"{who}: wtp must be a number or a sequence of numbers, got {type(wtp).__name__}") from None
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)):
        raise InvalidInputError(f"{who}: wtp must be finite numbers (one or a 1-d grid), got {wtp!r}")
    return np.ascontiguousarray(w)


class CEAResult:
    """Cost-effectiveness of mutually exclusive strategies (``ik.cea``): ``table()``, ``frontier()``, ``nmb(wtp)``;
    with draws also ``ceac(wtp)``, ``evpi(wtp)``, ``icer_interval(...)``; ``plot_plane()``, ``plot_ceac(wtp)``."""

    def __init__(self, strategies, cost, effect, beneficiaries, cost_draws, effect_draws, effect_name):
        self.strategies = list(strategies)
        self.cost = np.asarray(cost, dtype=float)
        self.effect = np.asarray(effect, dtype=float)
        self.beneficiaries = beneficiaries
        self._cost_draws = cost_draws  # n draws × k strategies, or None
        self._effect_draws = effect_draws
        self.effect_name = effect_name
        self._frontier = _ce.icer_frontier(self.cost, self.effect)
        self.n_draws = 0 if cost_draws is None else cost_draws.shape[0]
        self._acceptability_cache = None

    def __repr__(self):
        nd = len(self._frontier["frontier"])
        extra = f", {self.n_draws} draws" if self.n_draws else ""
        return f"<CEAResult: {len(self.strategies)} strategies, {nd} on the frontier{extra}>"

    def describe(self) -> str:
        return self._frontier["description"]

    def table(self) -> pd.DataFrame:
        """One row per strategy, by increasing cost: cost, effect, cost_per_effect (average cost-effectiveness
        ratio C/E), cost_per_beneficiary (when beneficiaries were given), status (ND on the frontier, ED
        extendedly dominated, D strongly dominated), incremental_cost, incremental_effect and icer against the
        previous frontier strategy (NaN off the frontier). Means over draws when draws were given."""
        with np.errstate(divide="ignore", invalid="ignore"):
            f = pd.DataFrame({"strategy": self.strategies, "cost": self.cost, "effect": self.effect,
                              "cost_per_effect": np.where(self.effect != 0, self.cost / self.effect, np.nan)})
            if self.beneficiaries is not None:
                f["beneficiaries"] = self.beneficiaries
                f["cost_per_beneficiary"] = self.cost / self.beneficiaries
        f["status"] = self._frontier["status"]
        f["incremental_cost"] = np.asarray(self._frontier["incremental_cost"])
        f["incremental_effect"] = np.asarray(self._frontier["incremental_effect"])
        f["icer"] = np.asarray(self._frontier["icer"])
        return f.sort_values(["cost", "effect"], ascending=[True, False], kind="stable").reset_index(drop=True)

    tidy = table

    def frontier(self) -> pd.DataFrame:
        """The non-dominated strategies by increasing cost with their ICERs."""
        t = self.table()
        return t[t["status"] == "ND"].reset_index(drop=True)

    def nmb(self, wtp) -> pd.DataFrame:
        """Net monetary benefit λ·E − C of each strategy at each willingness to pay λ (means over draws), and
        whether it is the best (highest NMB) strategy at that λ."""
        w = _wtp_grid(wtp, "CEAResult.nmb")
        rows = []
        for lam in w:
            v = lam * self.effect - self.cost
            best = int(np.argmax(v))
            for j, s in enumerate(self.strategies):
                rows.append({"wtp": lam, "strategy": s, "nmb": v[j], "best": j == best})
        return pd.DataFrame(rows)

    def _need_draws(self, who):
        if self._cost_draws is None:
            raise InvalidInputError(f"CEAResult.{who}: needs probabilistic draws; pass draw= (the draw column) to ik.cea")

    def _acceptability(self, wtp, who):
        self._need_draws(who)
        w = _wtp_grid(wtp, f"CEAResult.{who}")
        key = w.tobytes()
        if self._acceptability_cache is None or self._acceptability_cache[0] != key:  # ceac() then evpi(): one pass
            self._acceptability_cache = (key, _ce.acceptability(self._cost_draws, self._effect_draws, w))
        return w, self._acceptability_cache[1]

    def ceac(self, wtp) -> pd.DataFrame:
        """Cost-effectiveness acceptability curve: per λ and strategy the share of draws in which it has the
        highest NMB (probability), and ``on_frontier``: the strategy with the highest expected NMB (the
        acceptability frontier, Fenwick et al. 2001). Ties within a draw go to the strategy listed first."""
        w, a = self._acceptability(wtp, "ceac")
        P = np.asarray(a["probability_best"])
        opt = np.asarray(a["optimal"])
        k = len(self.strategies)
        return pd.DataFrame({"wtp": np.repeat(w, k), "strategy": np.tile(np.array(self.strategies, dtype=object), len(w)),
                             "probability": P.reshape(-1), "on_frontier": (np.arange(k)[None, :] == opt[:, None]).reshape(-1)})

    def evpi(self, wtp) -> pd.DataFrame:
        """Expected value of perfect information per decision, E[max_j NMB_j] − max_j E[NMB_j], at each λ (with
        the optimal strategy under current information)."""
        w, a = self._acceptability(wtp, "evpi")
        return pd.DataFrame({"wtp": w, "evpi": np.asarray(a["evpi"]),
                             "optimal": [self.strategies[j] for j in np.asarray(a["optimal"])]})

    def icer_interval(self, strategy, reference, *, method: str = "bootstrap", level: float = 0.95,
                      replicates: int = 2000, seed: int = 0) -> dict:
        """ICER of ``strategy`` against ``reference`` (mean ΔC / mean ΔE over draws) with an interval:
        ``method="bootstrap"`` resamples draws (both strategies of a draw together) ``replicates`` times from
        ``seed`` (percentile interval; the same for any thread count); ``"fieller"`` Fieller's interval (NaN
        limits, ``bounded=False``, when ΔE is not significantly different from 0).

        Both intervals describe the sampling uncertainty of the two means over the rows. With one row per
        patient and strategy (trial data) that is the usual ICER confidence interval. With probabilistic
        sensitivity draws it is only the Monte Carlo precision of the mean ICER, which shrinks as draws are
        added; the decision uncertainty of a PSA is in :meth:`ceac` and :meth:`evpi`."""
        self._need_draws("icer_interval")
        idx = {s: j for j, s in enumerate(self.strategies)}
        for name, s in (("strategy", strategy), ("reference", reference)):
            if s not in idx:
                raise InvalidInputError(f"CEAResult.icer_interval: unknown {name} {s!r}; strategies: {self.strategies}")
        if strategy == reference:
            raise InvalidInputError("CEAResult.icer_interval: strategy and reference must differ")
        level = _level(level, "CEAResult.icer_interval")
        b, a = idx[strategy], idx[reference]
        dc = np.ascontiguousarray(self._cost_draws[:, b] - self._cost_draws[:, a])
        de = np.ascontiguousarray(self._effect_draws[:, b] - self._effect_draws[:, a])
        if method == "bootstrap":
            if isinstance(replicates, (bool, np.bool_)) or not isinstance(replicates, (int, np.integer)) or replicates < 2:
                raise InvalidInputError(f"CEAResult.icer_interval: replicates must be an integer >= 2, got {replicates!r}")
            if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise InvalidInputError(f"CEAResult.icer_interval: seed must be a non-negative integer, got {seed!r}")
            out = _ce.icer_bootstrap(dc, de, int(replicates), int(seed), level)
        elif method == "fieller":
            out = _ce.icer_fieller(dc, de, level)
        else:
            raise InvalidInputError(f"CEAResult.icer_interval: method must be 'bootstrap' or 'fieller', got {method!r}")
        return {"strategy": strategy, "reference": reference, "level": level, **dict(out)}

    def plot_plane(self, reference=None, *, ax=None, draws: bool = True):
        """The cost-effectiveness plane: incremental effect (x) and cost (y) of each strategy against
        ``reference`` (default: the cheapest), draws as a cloud, means as points, the frontier as a line."""
        plt = _import_pyplot()
        if ax is None:
            _, ax = plt.subplots()
        t = self.table()
        ref = t["strategy"].iloc[0] if reference is None else reference
        if ref not in self.strategies:
            raise InvalidInputError(f"CEAResult.plot_plane: unknown reference {ref!r}")
        r = self.strategies.index(ref)
        for j, s in enumerate(self.strategies):
            if draws and self._cost_draws is not None:
                ax.scatter(self._effect_draws[:, j] - self._effect_draws[:, r], self._cost_draws[:, j] - self._cost_draws[:, r],
                           s=4, alpha=0.2)
        ax.scatter(self.effect - self.effect[r], self.cost - self.cost[r], color="black", zorder=3)
        for j, s in enumerate(self.strategies):
            ax.annotate(str(s), (self.effect[j] - self.effect[r], self.cost[j] - self.cost[r]), textcoords="offset points",
                        xytext=(4, 4))
        fr = self.frontier()
        ax.plot(fr["effect"] - self.effect[r], fr["cost"] - self.cost[r], color="black", lw=1)
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlabel(f"incremental {self.effect_name}")
        ax.set_ylabel("incremental cost")
        ax.set_title(f"Cost-effectiveness plane (against {ref})")
        return ax

    def plot_ceac(self, wtp, *, ax=None):
        """The acceptability curve of each strategy over the λ grid, the frontier strategy marked."""
        plt = _import_pyplot()
        if ax is None:
            _, ax = plt.subplots()
        c = self.ceac(wtp)
        for s in self.strategies:
            part = c[c["strategy"] == s]
            line, = ax.plot(part["wtp"], part["probability"], label=str(s))
            on = part[part["on_frontier"]]
            ax.scatter(on["wtp"], on["probability"], color=line.get_color(), s=10)
        ax.set_xlabel(f"willingness to pay per unit of {self.effect_name}")
        ax.set_ylabel("probability cost-effective")
        ax.set_ylim(-0.02, 1.02)
        ax.legend()
        return ax


def _strategy_labels(data, strategy):
    col = _column(data, strategy, "strategy")
    if col.isna().any():
        raise InvalidInputError(f"strategy column {strategy!r} has a missing value at row {_plain(col.index[col.isna().to_numpy()][0])!r}")
    return col


def cea(data: pd.DataFrame, *, cost: str, effect: str, strategy: str, draw: Optional[str] = None,
        beneficiaries: Optional[str] = None) -> CEAResult:
    """Cost-effectiveness analysis of mutually exclusive strategies.

    ``data`` holds one row per strategy (``cost``, ``effect`` per strategy, e.g. per person or in total),
    or, with ``draw=``, one row per probabilistic draw and strategy (every draw must hold every strategy
    once). ``beneficiaries`` (one row per strategy only): the number reached, for cost per beneficiary.

    The frontier follows Drummond et al. (2015, ch. 4) and R dampack ``calculate_icers``: strategies costing
    at least as much as another and no more effective are strongly dominated (D); among the rest those whose
    ICER exceeds the next strategy's are extendedly dominated (ED), until ICERs rise along the frontier (ND).

    >>> res = ik.cea(df, cost="cost", effect="qaly", strategy="strategy")
    >>> res.table(); res.nmb(wtp=50_000)
    """
    who = "cea"
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise InvalidInputError(f"{who}: data has no rows")
    s = _strategy_labels(data, strategy)
    c = _numeric(data, cost, "cost")
    e = _numeric(data, effect, "effect")
    if draw is None:
        dup = s.duplicated()
        if dup.any():
            raise InvalidInputError(f"{who}: strategy {_plain(s[dup].iloc[0])!r} appears on more than one row; give one row per "
                                    "strategy, or draw= for probabilistic draws (one row per draw and strategy)")
        ben = None
        if beneficiaries is not None:
            ben = _numeric(data, beneficiaries, "beneficiaries")
            if np.any(ben <= 0):
                raise InvalidInputError(f"{who}: beneficiaries must be positive; row {_plain(data.index[np.argmax(ben <= 0)])!r} has "
                                        f"{ben[np.argmax(ben <= 0)]!r}")
        return CEAResult(list(s), c, e, ben, None, None, effect)
    if beneficiaries is not None:
        raise InvalidInputError(f"{who}: beneficiaries= needs one row per strategy (not draws); compute cost per "
                                "beneficiary from the mean costs")
    d = _column(data, draw, "draw")
    if d.isna().any():
        raise InvalidInputError(f"draw column {draw!r} has a missing value at row {_plain(d.index[d.isna().to_numpy()][0])!r}")
    frame = pd.DataFrame({"d": d.to_numpy(), "s": s.to_numpy(), "c": c, "e": e})
    dup = frame.duplicated(["d", "s"])
    if dup.any():
        r = frame[dup].iloc[0]
        raise InvalidInputError(f"{who}: draw {_plain(r['d'])!r} holds strategy {_plain(r['s'])!r} more than once")
    strategies = list(pd.unique(frame["s"]))
    C = frame.pivot(index="d", columns="s", values="c")[strategies]
    E = frame.pivot(index="d", columns="s", values="e")[strategies]
    if C.isna().any().any():
        miss = C.isna().stack()
        dr, st = miss[miss].index[0]
        raise InvalidInputError(f"{who}: draw {_plain(dr)!r} lacks strategy {_plain(st)!r}; every draw must hold every strategy")
    Cd = np.asfortranarray(C.to_numpy(dtype=np.float64))
    Ed = np.asfortranarray(E.to_numpy(dtype=np.float64))
    return CEAResult(strategies, Cd.mean(axis=0), Ed.mean(axis=0), None, Cd, Ed, effect)
