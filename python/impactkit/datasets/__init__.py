"""Public research datasets shipped with impactkit.

>>> import impactkit as ik
>>> ik.datasets.list_datasets()
['california_prop99', 'card_krueger', 'cattaneo2', 'eusilc', 'lalonde', 'lee2008_senate', 'mpdta', 'thornton_hiv', 'uruguay_panes']
>>> df = ik.datasets.load("lalonde")          # a fresh pandas DataFrame each call
>>> print(ik.datasets.describe("lalonde"))    # where the data came from

The files live in ``impactkit/datasets/data/`` inside the installed package and are read with
:mod:`importlib.resources`, so this works from a wheel, an editable install or a source tree.
Their provenance (study, source, rows, SHA-256) is in ``data/PROVENANCE.md``.
"""
from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from importlib import resources
from typing import Dict, List

import pandas as pd

__all__ = ["load", "list_datasets", "describe", "path", "monitoring"]


@dataclass(frozen=True)
class _Entry:
    file: str
    sep: str = ","
    rows: int = 0


_REGISTRY: Dict[str, _Entry] = {
    "lalonde": _Entry("lalonde_nsw_dw.csv", rows=445),
    "card_krueger": _Entry("card_krueger.csv", rows=820),
    "thornton_hiv": _Entry("thornton_hiv.csv", rows=4820),
    "mpdta": _Entry("mpdta.csv", rows=2500),
    "lee2008_senate": _Entry("lee2008_senate.csv", rows=1390),
    "california_prop99": _Entry("california_prop99.csv", sep=";", rows=1209),
    "cattaneo2": _Entry("cattaneo2.csv", rows=4642),
    "uruguay_panes": _Entry("uruguay_panes_transfers_rdd.csv", rows=1948),
    "eusilc": _Entry("eusilc.csv", rows=14827),
    "grosh_targeting_example": _Entry("grosh_targeting_example.csv", rows=10),
    "haughton_khandker_examples": _Entry("haughton_khandker_examples.csv", rows=14),
    "freireich_leukemia": _Entry("freireich_leukemia.csv", rows=42),
    "monitoring_panel": _Entry("monitoring_panel.csv", rows=3470),
    "dampack_cdiff_strategies": _Entry("dampack_cdiff_strategies.csv", rows=11),
}

_PROVENANCE = "PROVENANCE.md"


def list_datasets() -> List[str]:
    """Names accepted by :func:`load` and :func:`describe`, sorted."""
    return sorted(_REGISTRY)


def _entry(name) -> _Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"impactkit.datasets: unknown dataset {name!r}; valid names are: {', '.join(list_datasets())}")
    return _REGISTRY[name]


def _data_dir():
    return resources.files(__name__).joinpath("data")


def path(name: str) -> str:
    """Filesystem path of the shipped file for ``name`` (for tools that want a file, not a DataFrame).

    Only meaningful when the package is installed unzipped (the usual case); prefer :func:`load`.
    """
    return str(_data_dir().joinpath(_entry(name).file))


@functools.lru_cache(maxsize=None)
def _read_bytes(file: str) -> bytes:
    return _data_dir().joinpath(file).read_bytes()


def load(name: str) -> pd.DataFrame:
    """Load a shipped dataset as a new :class:`pandas.DataFrame`.

    Every call returns an independent DataFrame, so callers may modify it freely. Missing values
    (``NA`` or empty fields in the files) are NaN. Column names are those of the source.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`: ``lalonde``, ``card_krueger``, ``thornton_hiv``, ``mpdta``,
        ``lee2008_senate``, ``california_prop99``, ``cattaneo2``, ``uruguay_panes``, ``eusilc``.

    Raises
    ------
    ValueError
        If ``name`` is not a shipped dataset (the message lists the valid names).
    """
    entry = _entry(name)
    return pd.read_csv(io.BytesIO(_read_bytes(entry.file)), sep=entry.sep)


@functools.lru_cache(maxsize=None)
def _provenance_text() -> str:
    return _data_dir().joinpath(_PROVENANCE).read_text(encoding="utf-8")


def describe(name: str) -> str:
    """Provenance of a shipped dataset: study, content, source, rows, file, checksum, reference.

    Raises ``ValueError`` for an unknown name, like :func:`load`.
    """
    _entry(name)
    text = _provenance_text()
    m = re.search(rf"^## {re.escape(name)}\s*$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if m is None:  # pragma: no cover - PROVENANCE.md and the registry are kept in step by the tests
        raise RuntimeError(f"impactkit.datasets: no provenance section for {name!r} in {_PROVENANCE}")
    return f"{name}\n{'=' * len(name)}\n{m.group(1).strip()}\n"

from . import monitoring  # noqa: E402  (the synthetic monitoring panel generator and its results framework)
