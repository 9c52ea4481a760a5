"""
Cost-effectiveness: ICER frontier, acceptability curve, EVPI, ICER intervals.
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
__all__: list[str] = ['acceptability', 'icer_bootstrap', 'icer_fieller', 'icer_frontier']
def acceptability(cost: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], effect: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], lambdas: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> dict:
    """
    From draws x strategies of cost and effect: CEAC, expected NMB, CE-frontier strategy and EVPI per willingness to pay.
    """
def icer_bootstrap(cost_difference: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], effect_difference: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], replicates: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, level: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    ICER with a percentile interval from a seeded paired bootstrap of the rows (same result for any thread count).
    """
def icer_fieller(cost_difference: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], effect_difference: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], level: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    ICER with Fieller's interval.
    """
def icer_frontier(cost: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], effect: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> dict:
    """
    ICER frontier with strong (D) and extended (ED) dominance; ND on the frontier.
    """
