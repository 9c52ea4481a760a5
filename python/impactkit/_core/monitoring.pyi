"""
Routine-data monitoring: Mann-Kendall trend tests, Theil-Sen slope.
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
__all__: list[str] = ['kendall_s', 'mann_kendall', 'poisson_rate_intervals', 'proportion_intervals', 'sens_slope']
def kendall_s(x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> tuple[int, int, int, float]:
    """
    (S, tied pairs, tied groups, sum t(t-1)(2t+5)) of x by merge-sort inversion counting.
    """
def mann_kendall(x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], method: str, period: typing.SupportsInt | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, lag: typing.SupportsInt | typing.SupportsIndex) -> dict:
    """
    Mann-Kendall trend test (S, Var(S) with ties, Z, p, tau) and the Theil-Sen slope; lag -1: all lags.
    """
def poisson_rate_intervals(events: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], person_time: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], level: typing.SupportsFloat | typing.SupportsIndex) -> tuple:
    """
    (estimate, conf_low, conf_high) of events/person_time with exact (Garwood) Poisson intervals.
    """
def proportion_intervals(successes: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], trials: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], method: str, level: typing.SupportsFloat | typing.SupportsIndex) -> tuple:
    """
    (estimate, conf_low, conf_high) of successes/trials; method wilson | clopper_pearson | jeffreys | agresti_coull | normal.
    """
def sens_slope(x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], period: typing.SupportsInt | typing.SupportsIndex, level: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    Theil-Sen slope with Sen's (1968) interval, without materialising the n(n-1)/2 slopes.
    """
