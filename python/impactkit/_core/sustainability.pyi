"""
Survival of services and of effects: Kaplan-Meier curves, log-rank tests, Cox models, concordance.
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['concordance', 'cox_ph_test', 'coxph', 'kaplan_meier', 'km_evaluate', 'logrank']
def concordance(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], event: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], entry: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_strata: typing.SupportsInt | typing.SupportsIndex, score: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> dict:
    """
    Harrell's concordance of a risk score (higher = earlier event) with R survival's pair counts, its per-row influence and R's cvar.
    """
def cox_ph_test(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], event: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], entry: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_strata: typing.SupportsInt | typing.SupportsIndex, X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], beta: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], ties: str, g: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> dict:
    """
    Grambsch-Therneau sums at beta: the 2p x 2p information of (x, x g(t)), the time-weighted score and the Schoenfeld residuals.
    """
def coxph(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], event: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], entry: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_strata: typing.SupportsInt | typing.SupportsIndex, X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], ties: str, max_iter: typing.SupportsInt | typing.SupportsIndex = 30) -> dict:
    """
    Cox proportional-hazards fit: coefficients, information, score residuals, log-likelihoods.
    """
def kaplan_meier(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], event: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, entry: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_groups: typing.SupportsInt | typing.SupportsIndex, level: typing.SupportsFloat | typing.SupportsIndex, conf_type: str) -> list:
    """
    Kaplan-Meier curve per group with Greenwood variance and confidence limits.
    """
def km_evaluate(time: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], at_risk: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], events: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], survival: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], log_std_error: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], level: typing.SupportsFloat | typing.SupportsIndex, conf_type: str, quantiles: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], tau: typing.SupportsFloat | typing.SupportsIndex | None = None, at: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex] = []) -> dict:
    """
    Quantiles with intervals, the restricted mean to tau and S(t) at given times, read off a stored Kaplan-Meier curve.
    """
def logrank(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], event: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], entry: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_groups: typing.SupportsInt | typing.SupportsIndex, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_strata: typing.SupportsInt | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    Log-rank / Fleming-Harrington G^rho test across groups, stratified.
    """
