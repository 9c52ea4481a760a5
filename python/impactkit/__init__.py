"""impactkit: statistics for monitoring and evaluation of social programmes.

>>> import impactkit as ik
>>> fit = ik.ols("re78 ~ treat", ik.datasets.load("lalonde"), vcov="HC1")
"""
from . import _core, datasets
from ._threads import get_num_threads, set_num_threads
from .errors import ConvergenceError, ImpactkitWarning, InvalidInputError
from .etable import etable  # eager: the function must shadow the submodule of the same name
from .plotting import coefplot
from .glm import GlmResult, cloglog, logit, poisson, probit
from .iv import IVResult, iv
from .regression import SSC, ols
from .results import EstimateResult, RegressionResult
from .survey import SurveyDesign, SurveyEstimate
from .targeting import TargetingResult, bottom, poverty_line, quantile_groups, relative_line, targeting
from .inequality import (LorenzResult, WelfareIndexResult, arpr, arpt, atkinson, concentration_index, fgt, gini, kakwani,
                         lorenz, mld, qsr, quantile_shares, sen, theil, watts)
from .registry import RegistryOverlap, registry_overlap
from .discrete_time import discrete_hazard, person_period
from .persistence import EffectPersistenceResult, effect_persistence
from .survival import ConcordanceResult, CoxResult, PHTestResult, KaplanMeierResult, LogrankResult, concordance, coxph, kaplan_meier, logrank
from .competing_risks import CumulativeIncidenceResult, FineGrayResult, GrayTestResult, cumulative_incidence, finegray, gray_test
from .quantile import QuantRegResult, quantreg
from .pmt import PMT, PMTCutoff, PMTEvaluation, pmt
from .change import ChangeResult, change
from .disaggregate import Disaggregation, adjust_pvalues, disaggregate
from .results_framework import FrameworkEvaluation, ResultsFramework, StatusRule
from .panel_monitoring import PanelMonitoring, panel_monitoring
from .monitoring import (ControlChartResult, IndicatorIntervals, LqasRule, SampleSize, SensSlopeResult, TrendTestResult,
                         control_chart, lqas_rule, lqas_table, mann_kendall, proportion, rate, sample_size_proportion,
                         sens_slope)
from .wald import WaldTest
from .cost_effectiveness import CEAResult, cea
from .costing import (benefit_cost_ratio, convert_currency, discount_factors, ingredients_cost, inflate, irr, npv,
                      present_value, qaly, yld, yll)
from .financial import VulnerabilityResult, financial_indicators, vulnerability

__version__ = "0.1.0"


__all__ = ["ols", "iv", "IVResult", "logit", "probit", "cloglog", "poisson", "GlmResult", "SSC", "EstimateResult", "RegressionResult", "SurveyDesign", "SurveyEstimate", "targeting", "poverty_line", "relative_line", "bottom", "quantile_groups", "TargetingResult", "fgt", "watts", "gini", "theil", "mld", "atkinson", "arpr", "arpt", "sen", "lorenz", "quantile_shares", "qsr", "concentration_index", "kakwani", "WelfareIndexResult", "LorenzResult", "registry_overlap", "RegistryOverlap", "kaplan_meier", "logrank", "coxph", "KaplanMeierResult", "LogrankResult", "CoxResult", "concordance", "ConcordanceResult", "PHTestResult", "person_period", "discrete_hazard", "effect_persistence", "EffectPersistenceResult", "cumulative_incidence", "gray_test", "finegray", "CumulativeIncidenceResult", "GrayTestResult", "FineGrayResult", "WaldTest", "etable", "coefplot", "datasets", "quantreg", "QuantRegResult", "pmt", "PMT", "PMTCutoff", "PMTEvaluation", "mann_kendall", "sens_slope", "TrendTestResult", "SensSlopeResult", "proportion", "rate", "IndicatorIntervals", "control_chart", "ControlChartResult", "lqas_rule", "lqas_table", "LqasRule", "sample_size_proportion", "SampleSize", "change", "ChangeResult", "disaggregate", "Disaggregation", "adjust_pvalues", "ResultsFramework", "FrameworkEvaluation", "StatusRule", "panel_monitoring", "PanelMonitoring",
           "cea", "CEAResult", "ingredients_cost", "inflate", "convert_currency", "discount_factors", "present_value", "npv", "irr",
           "benefit_cost_ratio", "yll", "yld", "qaly", "financial_indicators", "vulnerability", "VulnerabilityResult",
           "InvalidInputError", "ConvergenceError", "ImpactkitWarning", "set_num_threads", "get_num_threads"]
