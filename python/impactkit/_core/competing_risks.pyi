"""
Competing risks: cumulative incidence per cause, Gray's test, Fine-Gray regression.
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
__all__: list[str] = ['cumulative_incidence', 'finegray', 'gray_test']
def cumulative_incidence(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], status: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_causes: typing.SupportsInt | typing.SupportsIndex, group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_groups: typing.SupportsInt | typing.SupportsIndex, level: typing.SupportsFloat | typing.SupportsIndex, conf_type: str) -> list:
    """
    Aalen-Johansen cumulative incidence of each cause per group (times x causes matrices) with cmprsk's variance and intervals.
    """
def finegray(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], status: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_causes: typing.SupportsInt | typing.SupportsIndex, cause: typing.SupportsInt | typing.SupportsIndex, X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], max_iter: typing.SupportsInt | typing.SupportsIndex = 30, cengroup: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None = None, n_cengroups: typing.SupportsInt | typing.SupportsIndex = 1) -> dict:
    """
    Fine-Gray subdistribution hazards fit: coefficients, information, per-row influence numerators (eta + psi), log-likelihoods; cengroup codes (0..n_cengroups-1) estimate the censoring distribution by group (cmprsk crr's cengroup).
    """
def gray_test(time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], status: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_causes: typing.SupportsInt | typing.SupportsIndex, group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_groups: typing.SupportsInt | typing.SupportsIndex, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_strata: typing.SupportsInt | typing.SupportsIndex, cause: typing.SupportsInt | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    Gray's K-sample test that the groups' cumulative incidence curves of one cause are equal.
    """
