"""
Routine-data monitoring: trend tests, Theil-Sen slope, count intervals, control charts, LQAS, sample sizes.
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['cell_moments', 'control_chart', 'kendall_s', 'lqas_classify', 'lqas_risks', 'lqas_rule', 'mann_kendall', 'poisson_rate_intervals', 'proportion_intervals', 'round_cell_moments', 'run_rule_violations', 'sample_size_change', 'sample_size_proportion', 'sens_slope']
def cell_moments(columns: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.float64]], cells: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_cells: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    (count, mean, variance with divisor n-1, first infinite row per column or -1) per cell (rows) and column; NaN and inf values skipped, cell -1 ignored.
    """
def control_chart(values: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], sizes: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], kind: str, phase1_begin: typing.SupportsInt | typing.SupportsIndex, phase1_end: typing.SupportsInt | typing.SupportsIndex, max_revisions: typing.SupportsInt | typing.SupportsIndex, rules: str) -> dict:
    """
    Shewhart chart limits (phase I, optional revision) and run-rule violations.
    """
def kendall_s(x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> tuple[int, int, int, float]:
    """
    (S, tied pairs, tied groups, sum t(t-1)(2t+5)) of x by merge-sort inversion counting.
    """
def lqas_classify(successes: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], n: typing.SupportsInt | typing.SupportsIndex, rule: typing.SupportsInt | typing.SupportsIndex) -> typing.Annotated[numpy.typing.NDArray[numpy.int32], "[m, 1]"]:
    """
    1 where successes >= rule, else 0.
    """
def lqas_risks(n: typing.SupportsInt | typing.SupportsIndex, rule: typing.SupportsInt | typing.SupportsIndex, upper: typing.SupportsFloat | typing.SupportsIndex, lower: typing.SupportsFloat | typing.SupportsIndex) -> tuple[int, float, float]:
    """
    (rule, alpha, beta) of an LQAS decision rule.
    """
def lqas_rule(n: typing.SupportsInt | typing.SupportsIndex, upper: typing.SupportsFloat | typing.SupportsIndex, lower: typing.SupportsFloat | typing.SupportsIndex) -> tuple[int, float, float]:
    """
    (rule, alpha, beta): the rule minimising alpha + beta.
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
def round_cell_moments(columns: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.float64]], group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_groups: typing.SupportsInt | typing.SupportsIndex, baseline: typing.Annotated[numpy.typing.ArrayLike, numpy.bool], endline: typing.Annotated[numpy.typing.ArrayLike, numpy.bool]) -> tuple:
    """
    cell_moments of the cells g (baseline rows of group g) and n_groups + g (its endline rows), without a cell column.
    """
def run_rule_violations(z: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], rules: str) -> typing.Annotated[numpy.typing.NDArray[numpy.int32], "[m, 1]"]:
    """
    Per point, bit r-1 set when run rule r (Nelson numbering) is violated at that point.
    """
def sample_size_change(p1: typing.SupportsFloat | typing.SupportsIndex, p2: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, power: typing.SupportsFloat | typing.SupportsIndex, deff: typing.SupportsFloat | typing.SupportsIndex, response_rate: typing.SupportsFloat | typing.SupportsIndex) -> tuple[int, float, str]:
    """
    (n per round, unrounded n, formula) to detect a change p1 -> p2.
    """
def sample_size_proportion(p: typing.SupportsFloat | typing.SupportsIndex, margin: typing.SupportsFloat | typing.SupportsIndex, level: typing.SupportsFloat | typing.SupportsIndex, deff: typing.SupportsFloat | typing.SupportsIndex, population: typing.SupportsFloat | typing.SupportsIndex, response_rate: typing.SupportsFloat | typing.SupportsIndex) -> tuple[int, float, str]:
    """
    (n, unrounded n, formula) to estimate a proportion within a margin.
    """
def sens_slope(x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], period: typing.SupportsInt | typing.SupportsIndex, level: typing.SupportsFloat | typing.SupportsIndex) -> dict:
    """
    Theil-Sen slope with Sen's (1968) interval, without materialising the n(n-1)/2 slopes.
    """
