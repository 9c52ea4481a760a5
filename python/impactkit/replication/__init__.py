"""Replication catalogue: published studies re-run from the data shipped with impactkit.

>>> from impactkit import replication
>>> report = replication.run()                 # every registered study
>>> print(report.to_text())                    # also .to_markdown(), .to_html(), .write(dir)
>>> report.exit_code()                         # 0 if every figure reproduced, else 1

Each study is a :class:`Study` whose ``compute(data)`` re-computes the published numbers with
impactkit's public API and returns :class:`Figure` objects. A figure passes when the reproduced value
rounds to the published one at the published precision (|reproduced − published| ≤ 0.5·10^−decimals,
plus 1e−9 slack).

Adding a study (for a later capability): write a module in ``impactkit/replication/studies/`` that
builds a ``Study`` and calls :func:`register`, and import it in ``studies/__init__.py``. The command
line ``impactkit reproduce`` picks it up; ``tests/python/test_reproduce.py`` checks every registered
study's figures.
"""
from ._catalogue import (SLACK, Figure, Report, Study, StudyResult, catalogue, get_study, list_studies, register,
                         run, unregister)
from . import studies  # noqa: F401,E402  (importing it registers the built-in studies)

__all__ = ["Figure", "Study", "StudyResult", "Report", "run", "register", "unregister", "get_study",
           "list_studies", "catalogue", "SLACK"]
