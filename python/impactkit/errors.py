"""Exceptions and warnings of impactkit.

C++ ``impactkit::invalid_input`` arrives as :class:`InvalidInputError` (a ``ValueError``) and
``impactkit::convergence_error`` as :class:`ConvergenceError` (a ``ValueError``, and a ``RuntimeError`` as
it was before, so either ``except`` clause catches it). Soft problems
(dropped rows, collinear columns) warn with :class:`ImpactkitWarning`.
"""
from ._core import ConvergenceError, InvalidInputError


class ImpactkitWarning(UserWarning):
    """A soft problem impactkit handled for you (e.g. dropped collinear columns)."""


__all__ = ["InvalidInputError", "ConvergenceError", "ImpactkitWarning"]
