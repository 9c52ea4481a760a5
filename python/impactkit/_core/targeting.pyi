"""
Targeting accuracy: coverage, exclusion and inclusion errors, leakage, incidence.
"""
from __future__ import annotations
import collections.abc
import impactkit._core.variance
import numpy
import numpy.typing
import typing
__all__: list[str] = ['PovertyAccumulator', 'TargetingAccumulator', 'inequality_from_totals', 'lorenz_from_totals', 'rank_index_from_totals', 'replicate_index_variance', 'targeting_accuracy', 'welfare_index']
class TargetingAccumulator:
    """
    ik.targeting streamed in chunks: update, merge, finalize (targeting/streaming.hpp).
    """
    def __getstate__(self) -> tuple[tuple, tuple]:
        ...
    def __init__(self, rule: str, line_value: typing.SupportsFloat | typing.SupportsIndex, line_quantile: typing.SupportsFloat | typing.SupportsIndex, line_share: typing.SupportsFloat | typing.SupportsIndex, strict: bool, line_q: typing.SupportsFloat | typing.SupportsIndex, line_h: typing.SupportsFloat | typing.SupportsIndex, amounts: bool, welfare: bool, n_domains: typing.SupportsInt | typing.SupportsIndex, n_welfare_groups: typing.SupportsInt | typing.SupportsIndex, welfare_cuts: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], nest: bool, fpc: bool) -> None:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    def finalize(self, lonely_psu: str, strata_names: collections.abc.Sequence[str] = [], psu_names: collections.abc.Sequence[str] = []) -> dict:
        """
        The metrics and their design variance (the dict of targeting_accuracy).
        """
    def finalize_on(self, design: impactkit._core.variance.SurveyDesign, unit_totals: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"]) -> dict:
        """
        finalize() on a design built outside (a multistage design over the streamed PSUs) with the totals in its unit order.
        """
    def finalize_replicates(self, replicates: collections.abc.Sequence[TargetingAccumulator], design: impactkit._core.variance.VarianceDesign) -> dict:
        """
        The metrics with their replicate-weight variance; this accumulator and each replicate's streamed with a single PSU.
        """
    def merge(self, other: TargetingAccumulator) -> None:
        ...
    def update(self, target: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, beneficiary: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], benefit: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, psu: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], fpc: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None) -> None:
        """
        Adds a chunk of rows with their design columns.
        """
    @property
    def n_psu(self) -> int:
        ...
    @property
    def rows(self) -> int:
        ...
class PovertyAccumulator:
    """
    ik.fgt / ik.watts streamed in chunks: update, merge, finalize (targeting/streaming.hpp).
    """
    def __getstate__(self) -> tuple[str, float, str, float, float, float, bool, float, float, tuple]:
        ...
    def __init__(self, index: str, alpha: typing.SupportsFloat | typing.SupportsIndex, rule: str, line_value: typing.SupportsFloat | typing.SupportsIndex, line_quantile: typing.SupportsFloat | typing.SupportsIndex, line_share: typing.SupportsFloat | typing.SupportsIndex, strict: bool, line_q: typing.SupportsFloat | typing.SupportsIndex, line_h: typing.SupportsFloat | typing.SupportsIndex, n_domains: typing.SupportsInt | typing.SupportsIndex, nest: bool, fpc: bool) -> None:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    def finalize(self, lonely_psu: str, strata_names: collections.abc.Sequence[str] = [], psu_names: collections.abc.Sequence[str] = []) -> dict:
        ...
    def finalize_on(self, design: impactkit._core.variance.SurveyDesign, unit_totals: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"]) -> dict:
        ...
    def finalize_replicates(self, replicates: collections.abc.Sequence[PovertyAccumulator], design: impactkit._core.variance.VarianceDesign) -> dict:
        ...
    def merge(self, other: PovertyAccumulator) -> None:
        ...
    def update(self, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, psu: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], fpc: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None) -> None:
        ...
    @property
    def rows(self) -> int:
        ...
def inequality_from_totals(index: str, epsilon: typing.SupportsFloat | typing.SupportsIndex, unit_totals: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], n_domains: typing.SupportsInt | typing.SupportsIndex, design: impactkit._core.variance.SurveyDesign) -> dict:
    """
    Theil, MLD or Atkinson per domain from the unit totals of w, w·u, w·g(u) (U × 3·D, the streamed pass of inequality_measure).
    """
def lorenz_from_totals(index: str, unit_totals: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], quantiles: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], shares: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], design: impactkit._core.variance.SurveyDesign) -> dict:
    """
    Lorenz ordinates, quantile shares or the QSR per domain from the unit totals of the partial-total variables (lorenz.hpp; U × D·(2 + 4K)) at the domain quantiles (D × K): the part after the pass over the rows.
    """
def rank_index_from_totals(index: str, unit_totals: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], centre: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], design: impactkit._core.variance.SurveyDesign, kind: str = 'standard', lower: typing.SupportsFloat | typing.SupportsIndex = ..., upper: typing.SupportsFloat | typing.SupportsIndex = ..., rule: str = 'fixed_line', line_quantile: typing.SupportsFloat | typing.SupportsIndex = 0.5, line_share: typing.SupportsFloat | typing.SupportsIndex = 1.0, strict: bool = True, z: typing.SupportsFloat | typing.SupportsIndex = ..., q: typing.SupportsFloat | typing.SupportsIndex = ..., h: typing.SupportsFloat | typing.SupportsIndex = ..., kernel_at_line: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None, density: typing.SupportsFloat | typing.SupportsIndex = ...) -> dict:
    """
    A concentration index (Gini: welfare ranked by itself), the Kakwani index or the Sen index per domain from the rank totals (rank_totals.hpp; U × D·(1 + 3J) with the D × J centres): the part after the pass over the sorted rows.
    """
def replicate_index_variance(estimate: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"], replicates: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], line: typing.SupportsFloat | typing.SupportsIndex, line_replicates: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"], estimated_line: bool, design: impactkit._core.variance.VarianceDesign) -> dict:
    """
    An index's replicate variance from its estimates per replicate (welfare_index.hpp set_replicate_variance), with the replicate variance of an estimated line; for indices re-estimated per replicate outside C++ (a dask frame).
    """
def targeting_accuracy(rule: str, target: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, poverty_line: typing.SupportsFloat | typing.SupportsIndex, line_quantile: typing.SupportsFloat | typing.SupportsIndex, line_share: typing.SupportsFloat | typing.SupportsIndex, strict: bool, beneficiary: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], benefit: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, welfare_group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_welfare_groups: typing.SupportsInt | typing.SupportsIndex, design: impactkit._core.variance.VarianceDesign, replicate_weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None = None, welfare_cuts_hint: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex] | None = None) -> dict:
    """
    Targeting metrics per domain with their joint survey-design (linearised) or replicate-weight variance (each replicate re-estimates the metrics, an estimated line included). welfare_cuts_hint: candidate quantile-group cuts, used when the pass confirms them (survey designs).
    """
def welfare_index(index: str, parameter: typing.SupportsFloat | typing.SupportsIndex, rule: str, line_value: typing.SupportsFloat | typing.SupportsIndex, line_quantile: typing.SupportsFloat | typing.SupportsIndex, line_share: typing.SupportsFloat | typing.SupportsIndex, strict: bool, shares: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], concentration: str, lower: typing.SupportsFloat | typing.SupportsIndex, upper: typing.SupportsFloat | typing.SupportsIndex, convention: str, welfare: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], values: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, design: impactkit._core.variance.VarianceDesign, replicate_weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None = None) -> dict:
    """
    Any poverty or inequality index per domain (welfare_index.hpp) with its survey-design (linearised) or replicate-weight variance (each replicate re-estimates the index).
    """
