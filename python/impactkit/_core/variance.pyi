"""
The variance contract: influence values or scores + a variance design.
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['DesignAccumulator', 'SurveyDesign', 'VarianceDesign', 'influence_vcov', 'replicate_vcov', 'score_vcov']
class SurveyDesign:
    """
    A complex survey design factorised once (R svydesign semantics).
    """
    def __init__(self, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int32, "[m, 1]"] | None, ids: typing.Annotated[numpy.typing.ArrayLike, numpy.int32, "[m, n]"] | None, fpc: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"] | None, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None, nest: bool = False, lonely_psu: str = 'fail', strata_names: collections.abc.Sequence[str] = [], psu_names: collections.abc.Sequence[str] = []) -> None:
        ...
    def conventions(self) -> dict:
        """
        The conventions of this design's variance, as a dict with a 'description'.
        """
    def unit_totals(self, values: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], weights: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"] | None = None) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        Totals of weights*values per finest sampling unit (U x p).
        """
    def unit_totals_by_domain(self, values: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], weights: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"] | None, domain: typing.Annotated[numpy.typing.NDArray[numpy.int32], "[m, 1]"], n_domains: typing.SupportsInt | typing.SupportsIndex) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        Totals per (unit, domain): U x (D*p), column d*p + j.
        """
    def unit_totals_of_columns(self, columns: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.float64]], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, n_domains: typing.SupportsInt | typing.SupportsIndex, with_weights: bool, names: collections.abc.Sequence[str] = []) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        Totals per (unit, domain) of weights*column for each column (+ the weights): U x (D*q), column d*q + j.
        """
    def variance_of_unit_totals(self, totals: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"]) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        Design variance of the sum of psi from its totals per unit.
        """
    @property
    def df(self) -> float:
        ...
    @property
    def has_fpc(self) -> bool:
        ...
    @property
    def lonely_psu(self) -> str:
        ...
    @property
    def n_lonely_strata(self) -> int:
        ...
    @property
    def n_psu(self) -> int:
        ...
    @property
    def n_stages(self) -> int:
        ...
    @property
    def n_strata(self) -> int:
        ...
    @property
    def n_units(self) -> int:
        ...
    @property
    def rows(self) -> int:
        ...
class VarianceDesign:
    """
    How the data were sampled or clustered (iid, HC, clusters, survey, replicates).
    """
    @staticmethod
    def cluster(labels: typing.Annotated[numpy.typing.ArrayLike, numpy.int32, "[m, n]"], factor: str = 'G/(G-1)*(n-1)/(n-k)', cluster_df: str = 'min') -> VarianceDesign:
        ...
    @staticmethod
    def heteroskedastic(factor: str = 'n/(n-k)') -> VarianceDesign:
        ...
    @staticmethod
    def iid() -> VarianceDesign:
        ...
    @staticmethod
    def replicates(type: str, scale: typing.SupportsFloat | typing.SupportsIndex = ..., rscales: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None, mse: bool = False, fay_rho: typing.SupportsFloat | typing.SupportsIndex = 0.0, df: typing.SupportsFloat | typing.SupportsIndex = ...) -> VarianceDesign:
        ...
    @staticmethod
    def survey(design: SurveyDesign) -> VarianceDesign:
        ...
    @property
    def kind(self) -> str:
        ...
class DesignAccumulator:
    """
    Mergeable weighted totals per (stratum, PSU, domain) of streamed columns (core/design_accumulator.hpp).
    """
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, n_domains: typing.SupportsInt | typing.SupportsIndex, n_variables: typing.SupportsInt | typing.SupportsIndex, nest: bool, fpc: bool) -> None:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    def conventions(self, design: SurveyDesign) -> dict:
        """
        The design's conventions with the number of rows streamed.
        """
    def design(self, lonely_psu: str, strata_names: collections.abc.Sequence[str] = [], psu_names: collections.abc.Sequence[str] = []) -> SurveyDesign:
        """
        The survey design over the PSUs streamed (one row per PSU, in (stratum, PSU) label order).
        """
    def merge(self, other: DesignAccumulator) -> None:
        """
        Adds another accumulator's totals (the same PSU in both: added).
        """
    def totals(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        Totals per PSU and domain in design order: U x (D*q).
        """
    def update_columns(self, strata: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, psu: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], fpc: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, columns: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.float64]], weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, domain: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None, with_weights: bool, names: collections.abc.Sequence[str] = []) -> None:
        """
        Adds a chunk: totals per (stratum, PSU, domain) of weights*column for each column (+ the weights).
        """
    @property
    def n_psu(self) -> int:
        ...
    @property
    def rows(self) -> int:
        ...
def influence_vcov(psi: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], design: VarianceDesign, n_params: typing.SupportsInt | typing.SupportsIndex = 0) -> dict:
    """
    Variance of theta-hat from its n x p influence values psi (theta-hat - theta ~ sum psi_i) under a variance design.
    """
def replicate_vcov(theta: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], replicates: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], design: VarianceDesign) -> dict:
    """
    Replicate-weight variance from the full-sample estimate and the R x p replicate estimates.
    """
def score_vcov(bread: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], Z: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], u: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"] | None, design: VarianceDesign, n_params: typing.SupportsInt | typing.SupportsIndex) -> dict:
    """
    Sandwich B M B with the meat from scores u_i * Z_i under a variance design.
    """
