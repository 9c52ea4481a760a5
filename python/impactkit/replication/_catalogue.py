"""Figures, studies, the catalogue registry and :func:`run`.

A :class:`Study` names a published study, the shipped dataset it uses and a function that re-computes
its published numbers with impactkit's public API, returning a list of :class:`Figure`. A figure
passes when the reproduced value rounds to the published one at the published precision:

    |reproduced - published| <= 0.5 * 10**(-decimals) + 1e-9

(the 1e-9 slack only absorbs binary floating-point representation of the published decimal).
"""
from __future__ import annotations

import math
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import pandas as pd

__all__ = ["Figure", "Study", "StudyResult", "Report", "register", "unregister", "get_study", "list_studies",
           "catalogue", "run", "SLACK"]

#: absolute slack added to the rounding tolerance (floating-point representation of the published decimal)
SLACK = 1e-9


@dataclass(frozen=True)
class Figure:
    """One published number and its reproduction.

    Parameters
    ----------
    label : what the number is, e.g. ``"NJ FTE before: mean"``.
    reproduced : the value computed now from the shipped data (never typed in by hand).
    published : the value printed in the source.
    decimals : number of decimals printed in the source (0 for ``1,794``; negative for rounding to
        tens, hundreds, ...).
    convention : how the reproduced value was computed (sample, estimator, variance convention), in
        plain words.
    known_deviation : ``None``, or a written explanation of why this figure is known not to reproduce
        (for example, a published number that the source's own table contradicts). Such a figure
        still counts as failed unless the caller explicitly allows documented deviations
        (:meth:`Report.exit_code` with ``allow_documented=True``; CLI ``--allow-documented``).
    source : where in the source the number is printed (table, page, row or column), e.g.
        ``"Table 3, PA before"``; empty when that has not been verified (the reports then say so).
    """

    label: str
    reproduced: float
    published: float
    decimals: int
    convention: str
    known_deviation: Optional[str] = None
    source: str = ""

    def __post_init__(self):
        if not isinstance(self.decimals, int) or isinstance(self.decimals, bool):
            raise TypeError(f"Figure {self.label!r}: decimals must be an int, got {self.decimals!r}")
        try:
            object.__setattr__(self, "reproduced", float(self.reproduced))
            object.__setattr__(self, "published", float(self.published))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Figure {self.label!r}: reproduced and published must be numbers ({exc})") from None
        if not math.isfinite(self.published):
            raise ValueError(f"Figure {self.label!r}: published value must be finite, got {self.published!r}")

    @property
    def tolerance(self) -> float:
        """Half a unit in the last published decimal: 0.005 for 2 decimals, 0.5 for 0 decimals."""
        return 0.5 * 10.0 ** (-self.decimals)

    @property
    def difference(self) -> float:
        return self.reproduced - self.published

    @property
    def passed(self) -> bool:
        """True when the reproduced value rounds to the published figure at the published precision."""
        d = self.difference
        return math.isfinite(d) and abs(d) <= self.tolerance + SLACK

    @property
    def status(self) -> str:
        """``"pass"``, ``"FAIL"``, or ``"FAIL (documented)"`` for a failed figure with a known deviation."""
        if self.passed:
            return "pass"
        return "FAIL (documented)" if self.known_deviation else "FAIL"

    @property
    def precision(self) -> str:
        """The published precision in words, e.g. ``"2 dp (±0.005)"``."""
        return f"{self.decimals} dp (±{_fmt_number(self.tolerance, max(self.decimals + 1, 0))})"

    def format_source(self) -> str:
        """Where the published number is printed, or a statement that this is not recorded."""
        return self.source or "table/page not recorded"

    def format_published(self) -> str:
        return _fmt_number(self.published, max(self.decimals, 0))

    def format_reproduced(self, extra: int = 2) -> str:
        """The reproduced value with ``extra`` more decimals than published, so the rounding is visible."""
        return _fmt_number(self.reproduced, max(self.decimals, 0) + extra)


def _fmt_number(x: float, decimals: int) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:,.{decimals}f}"


@dataclass(frozen=True)
class Study:
    """A published study re-run from data shipped with impactkit.

    Parameters
    ----------
    key : short identifier used on the command line (``impactkit reproduce --study KEY``).
    title : human-readable title, e.g. ``"Card & Krueger (1994), Table 3"``.
    citation : full reference of the source of the published figures.
    dataset : name of the shipped dataset (:func:`impactkit.datasets.load`) passed to ``compute``.
    compute : function ``compute(data: DataFrame) -> list[Figure]``; it receives a fresh copy of the
        dataset and must compute every reproduced value with impactkit's public API.
    description : optional notes on sample definitions or data handling, shown in the reports.
    """

    key: str
    title: str
    citation: str
    dataset: str
    compute: Callable[[pd.DataFrame], List[Figure]] = field(repr=False)
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.key, str) or not self.key or any(c.isspace() for c in self.key):
            raise ValueError(f"Study key must be a non-empty string without spaces, got {self.key!r}")
        if not callable(self.compute):
            raise TypeError(f"Study {self.key!r}: compute must be callable")

    def run(self) -> "StudyResult":
        """Load the dataset, compute the figures; errors and warnings are captured, not raised."""
        from ..datasets import load as load_dataset

        figures: List[Figure] = []
        error: Optional[str] = None
        error_detail: Optional[str] = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                data = load_dataset(self.dataset)
                figures = list(self.compute(data))
                bad = [f for f in figures if not isinstance(f, Figure)]
                if bad:
                    raise TypeError(f"compute returned {len(bad)} object(s) that are not Figure: {bad[0]!r}")
                if not figures:
                    raise ValueError("compute returned no figures")
            except Exception as exc:  # a broken study is reported (and fails the run), not raised
                figures = []
                error = f"{type(exc).__name__}: {exc}"
                error_detail = traceback.format_exc()
        msgs = []
        for w in caught:
            m = f"{w.category.__name__}: {w.message}"
            if m not in msgs:
                msgs.append(m)
        return StudyResult(self, tuple(figures), error=error, error_detail=error_detail, warnings=tuple(msgs))


@dataclass(frozen=True)
class StudyResult:
    """Outcome of :meth:`Study.run`: the figures, or the error that stopped the study."""

    study: Study
    figures: Tuple[Figure, ...]
    error: Optional[str] = None
    error_detail: Optional[str] = None
    warnings: Tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.error is None and all(f.passed for f in self.figures)


@dataclass(frozen=True)
class Report:
    """Results of :func:`run` for a list of studies, with writers for Markdown, HTML and plain text."""

    results: Tuple[StudyResult, ...]
    versions: Tuple[Tuple[str, str], ...] = ()

    # ---- counts ---------------------------------------------------------------------------------
    def figures(self) -> Iterator[Tuple[Study, Figure]]:
        for r in self.results:
            for f in r.figures:
                yield r.study, f

    @property
    def n_figures(self) -> int:
        return sum(len(r.figures) for r in self.results)

    @property
    def n_passed(self) -> int:
        return sum(f.passed for _, f in self.figures())

    @property
    def failures(self) -> List[Tuple[Study, Figure]]:
        """Failed figures, documented deviations included."""
        return [(s, f) for s, f in self.figures() if not f.passed]

    @property
    def errors(self) -> List[StudyResult]:
        """Studies whose computation raised (they produce no figures and fail the run)."""
        return [r for r in self.results if r.error is not None]

    @property
    def ok(self) -> bool:
        """True when every figure of every study passed and no study raised."""
        return not self.failures and not self.errors

    def exit_code(self, allow_documented: bool = False) -> int:
        """0 if everything reproduced, else 1.

        With ``allow_documented=True`` a failed figure that carries a written ``known_deviation`` does
        not count; an undocumented failure or a study error still gives 1.
        """
        if self.errors:
            return 1
        for _, f in self.failures:
            if not (allow_documented and f.known_deviation):
                return 1
        return 0

    def summary(self) -> str:
        n_doc = sum(1 for _, f in self.failures if f.known_deviation)
        parts = [f"{self.n_passed} of {self.n_figures} figures reproduced"]
        n_fail = len(self.failures)
        if n_fail:
            parts.append(f"{n_fail} failed" + (f" ({n_doc} with a documented deviation)" if n_doc else ""))
        if self.errors:
            parts.append(f"{len(self.errors)} stud{'y' if len(self.errors) == 1 else 'ies'} raised an error")
        return "; ".join(parts) + f" ({len(self.results)} stud{'y' if len(self.results) == 1 else 'ies'})"

    # ---- writers (see _report.py) --------------------------------------------------------------
    def to_markdown(self) -> str:
        from ._report import to_markdown
        return to_markdown(self)

    def to_html(self) -> str:
        from ._report import to_html
        return to_html(self)

    def to_text(self, width: Optional[int] = None) -> str:
        from ._report import to_text
        return to_text(self, width=width)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        from ._report import html_table
        return html_table(self)

    def write(self, out_dir) -> Dict[str, str]:
        """Write ``report.md`` and ``report.html`` into ``out_dir`` (created if needed); returns their paths."""
        import os

        os.makedirs(out_dir, exist_ok=True)
        paths = {}
        for name, text in (("report.md", self.to_markdown()), ("report.html", self.to_html())):
            p = os.path.join(out_dir, name)
            with open(p, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            paths[name] = p
        return paths


# ---- registry -----------------------------------------------------------------------------------
_REGISTRY: Dict[str, Study] = {}


def register(study: Study, *, replace: bool = False) -> Study:
    """Add a study to the catalogue (in order of registration). Returns the study.

    Raises ``ValueError`` if a study with the same key exists, unless ``replace=True``.
    """
    if not isinstance(study, Study):
        raise TypeError(f"register expects a Study, got {type(study).__name__}")
    if study.key in _REGISTRY and not replace:
        raise ValueError(f"a study with key {study.key!r} is already registered")
    _REGISTRY[study.key] = study
    return study


def unregister(key: str) -> None:
    """Remove a study from the catalogue (``KeyError`` if absent)."""
    del _REGISTRY[key]


def list_studies() -> List[str]:
    """Keys of the registered studies, in catalogue order."""
    return list(_REGISTRY)


def catalogue() -> List[Study]:
    """The registered studies, in catalogue order."""
    return list(_REGISTRY.values())


def get_study(key: str) -> Study:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValueError(f"unknown study {key!r}; registered studies: {', '.join(_REGISTRY) or '(none)'}") from None


def _versions() -> Tuple[Tuple[str, str], ...]:
    import platform

    import numpy

    from .. import __version__

    out = [("impactkit", __version__), ("python", platform.python_version()), ("numpy", numpy.__version__),
           ("pandas", pd.__version__)]
    return tuple(out)


def run(studies: Union[None, str, Study, Iterable[Union[str, Study]]] = None) -> Report:
    """Re-run studies and collect their figures.

    Parameters
    ----------
    studies : ``None`` for the whole catalogue, or keys / :class:`Study` objects (a single key or study
        is accepted too). Unknown keys raise ``ValueError`` naming the registered ones.
    """
    if studies is None:
        chosen: Sequence[Study] = list(_REGISTRY.values())
    else:
        if isinstance(studies, (str, Study)):
            studies = [studies]
        chosen = []
        for s in studies:
            st = s if isinstance(s, Study) else get_study(s)
            if st not in chosen:
                chosen.append(st)
    return Report(tuple(st.run() for st in chosen), versions=_versions())
