"""Coefficient plots. matplotlib is imported only when a plot is drawn (``pip install impactkit[plot]``)."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

__all__ = ["coefplot"]

_INTERCEPT_NAMES = {"intercept", "(intercept)", "const", "_cons", "constant"}


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("coefplot needs matplotlib: pip install matplotlib (or impactkit[plot])") from exc
    return plt


def _as_models(results_or_list, labels):
    if isinstance(results_or_list, dict):
        models = list(results_or_list.values())
        if labels is None:
            labels = [str(k) for k in results_or_list]
    elif isinstance(results_or_list, (list, tuple)):
        models = list(results_or_list)
    else:
        models = [results_or_list]
    if not models:
        raise ValueError("coefplot: no results given")
    for i, m in enumerate(models):
        if not (hasattr(m, "coef") and hasattr(m, "conf_int")):
            raise TypeError(f"coefplot: result {i + 1} ({type(m).__name__}) has no 'coef'/'conf_int'; pass fitted results")
    if labels is None:
        labels = [f"({i + 1})" for i in range(len(models))] if len(models) > 1 else [None]
    labels = list(labels)
    if len(labels) != len(models):
        raise ValueError(f"coefplot: {len(labels)} label(s) for {len(models)} model(s)")
    return models, labels


def coefplot(results_or_list, *, level: float = 0.95, ax=None, drop_intercept: bool = True,
             terms: Optional[Sequence[str]] = None, labels: Optional[Sequence[str]] = None, title: Optional[str] = None):
    """Point estimates with confidence-interval whiskers, one row per term, models side by side.

    Parameters
    ----------
    results_or_list : a fitted result, a list of them, or a dict ``{label: result}``.
    level : confidence level of the whiskers (each result's own ``conf_int(level)``, so t/normal
        reference and degrees of freedom follow that result's conventions).
    ax : a matplotlib Axes to draw on; a new figure is made when ``None``.
    drop_intercept : leave out the intercept (``Intercept``, ``(Intercept)``, ``const``, ``_cons``).
    terms : the terms to show, in this order (overrides ``drop_intercept``).
    labels : legend labels of the models (default ``(1)``, ``(2)``, ...; no legend for one model).
    title : Axes title.

    Returns the matplotlib Axes. Terms run top to bottom in first-appearance order; the vertical
    line marks zero.
    """
    if not 0 < level < 1:
        raise ValueError(f"coefplot: level must be in (0, 1), got {level!r}")
    models, labels = _as_models(results_or_list, labels)

    coefs, cis = [], []
    for m in models:
        b = m.coef
        ci = m.conf_int(level)
        b = b.rename(index=str)
        ci = ci.rename(index=str)
        coefs.append(b)
        cis.append(ci)

    if terms is not None:
        if isinstance(terms, str):
            terms = [terms]
        show: List[str] = [str(t) for t in terms]
        known = set().union(*[set(b.index) for b in coefs])
        missing = [t for t in show if t not in known]
        if missing:
            raise ValueError(f"coefplot: term(s) {missing} not in any model; available: {sorted(known)}")
    else:
        show, seen = [], set()
        for b in coefs:
            for t in b.index:
                if t not in seen:
                    seen.add(t)
                    show.append(t)
        if drop_intercept:
            show = [t for t in show if t.lower() not in _INTERCEPT_NAMES]
    if not show:
        raise ValueError("coefplot: no terms to plot (only an intercept? use drop_intercept=False)")

    plt = _import_pyplot()
    own_figure = ax is None
    if own_figure:
        height = min(12.0, 1.2 + 0.45 * len(show) * max(1, 0.6 * len(models)))
        _, ax = plt.subplots(figsize=(6.4, max(2.4, height)))

    n_models = len(models)
    span = 0.6 if n_models > 1 else 0.0
    offsets = np.linspace(-span / 2, span / 2, n_models) if n_models > 1 else np.zeros(1)
    ypos = np.arange(len(show), dtype=float)
    markers = ["o", "s", "D", "^", "v", "P", "X", "*"]
    for k, (b, ci, lab) in enumerate(zip(coefs, cis, labels)):
        present = [t for t in show if t in b.index]
        if not present:
            continue
        rows = np.array([show.index(t) for t in present], dtype=float)
        y = rows + offsets[k]
        est = b.loc[present].to_numpy(dtype=float)
        lo = ci.loc[present, "conf_low"].to_numpy(dtype=float)
        hi = ci.loc[present, "conf_high"].to_numpy(dtype=float)
        err = np.vstack([est - lo, hi - est])
        ax.errorbar(est, y, xerr=err, fmt=markers[k % len(markers)], capsize=3, markersize=5, linewidth=1.4,
                    label=lab, color=f"C{k}")
    ax.axvline(0.0, color="0.5", linestyle="--", linewidth=1.0, zorder=0)
    ax.set_yticks(ypos)
    ax.set_yticklabels(show)
    ax.set_ylim(len(show) - 0.5, -0.5)  # first term on top
    ax.set_xlabel(f"Estimate with {100 * level:g}% confidence interval")
    if title is not None:
        ax.set_title(title)
    elif n_models == 1:
        dv = getattr(models[0], "depvar", "")
        if dv:
            ax.set_title(f"Dependent variable: {dv}")
    if n_models > 1:
        ax.legend(loc="best", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    if own_figure:
        ax.figure.tight_layout()
    return ax
