"""
Targeting accuracy: coverage, exclusion and inclusion errors, leakage, incidence.
"""
from __future__ import annotations
import impactkit._core.variance
import numpy
import numpy.typing
import typing
__all__: list[str] = ['gini', 'inequality_measure', 'poverty_measure', 'targeting_accuracy', 'targeting_accuracy_replicates']
def gini(welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, design: impactkit._core.variance.VarianceDesign) -> dict:
    """
    Gini coefficient per domain with its linearised design variance.
    """
def inequality_measure(index: str, epsilon: typing.SupportsFloat | typing.SupportsIndex, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, design: impactkit._core.variance.VarianceDesign) -> dict:
    """
    Theil, mean log deviation or Atkinson(epsilon) per domain with its design variance.
    """
def poverty_measure(index: str, alpha: typing.SupportsFloat | typing.SupportsIndex, rule: str, line_value: typing.SupportsFloat | typing.SupportsIndex, line_quantile: typing.SupportsFloat | typing.SupportsIndex, line_share: typing.SupportsFloat | typing.SupportsIndex, strict: bool, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, design: impactkit._core.variance.VarianceDesign) -> dict:
    """
    FGT(alpha) or Watts poverty index per domain with its design variance.
    """
def targeting_accuracy(rule: str, target: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, poverty_line: typing.SupportsFloat | typing.SupportsIndex, line_quantile: typing.SupportsFloat | typing.SupportsIndex, line_share: typing.SupportsFloat | typing.SupportsIndex, strict: bool, beneficiary: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], benefit: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, welfare_group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_welfare_groups: typing.SupportsInt | typing.SupportsIndex, design: impactkit._core.variance.VarianceDesign) -> dict:
    """
    Targeting metrics per domain with their joint survey-design variance.
    """
def targeting_accuracy_replicates(rule: str, target: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, poverty_line: typing.SupportsFloat | typing.SupportsIndex, line_quantile: typing.SupportsFloat | typing.SupportsIndex, line_share: typing.SupportsFloat | typing.SupportsIndex, strict: bool, beneficiary: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], benefit: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, welfare_group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_welfare_groups: typing.SupportsInt | typing.SupportsIndex, replicate_weights: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], design: impactkit._core.variance.VarianceDesign) -> dict:
    """
    Targeting metrics per domain with their replicate-weight variance.
    """
