"""Results objects shared by every estimator.

:class:`EstimateResult` holds an estimate θ̂, its variance and the inference degrees of freedom, and
derives everything else (standard errors, tests, intervals, tidy tables, summaries, plots, Wald
tests) once for all estimators. :class:`RegressionResult` adds what a linear model reports.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from .wald import WaldTest, wald_test


def _fmt_int(n) -> str:
    return f"{int(n):,}"


def core_tables(core, design):
    """(coef Series, vcov DataFrame, df Series) of a C++ result over its kept columns, named by the design."""
    names = [design.terms[j] for j in core.kept_columns]
    coef = pd.Series(np.array(core.coef), index=names, name="estimate")
    vcov = pd.DataFrame(np.array(core.vcov), index=names, columns=names)
    df = pd.Series(np.array(core.df_inference), index=names, name="df")
    return coef, vcov, df


class EstimateResult:
    """θ̂ with variance V and inference df; the shared results machinery (DESIGN.md §4)."""

    title = "Estimates"

    def __init__(self, coef: pd.Series, vcov: pd.DataFrame, df_inference: pd.Series, *, nobs: int,
                 vcov_type: str, vcov_convention: str, depvar: str = ""):
        self._coef = coef
        self._vcov = vcov
        self._df = df_inference
        self.nobs = int(nobs)
        self.vcov_type = vcov_type
        self.vcov_convention = vcov_convention
        self.depvar = depvar

    # --- estimates and inference -------------------------------------------------------------
    @property
    def coef(self) -> pd.Series:
        return self._coef.copy()

    params = coef

    @property
    def vcov(self) -> pd.DataFrame:
        return self._vcov.copy()

    @property
    def se(self) -> pd.Series:
        d = np.diag(self._vcov.to_numpy())
        with np.errstate(invalid="ignore"):  # negative variance (multiway clustering) -> NaN, never 0
            return pd.Series(np.where(d >= 0, np.sqrt(np.abs(d)), np.nan), index=self._coef.index, name="std_error")

    @property
    def df_inference(self) -> pd.Series:
        """Degrees of freedom of the t reference distribution per coefficient (inf: normal)."""
        return self._df.copy()

    @property
    def tstat(self) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(self._coef.to_numpy() / self.se.to_numpy(), index=self._coef.index, name="statistic")

    statistic = tstat

    @property
    def pvalues(self) -> pd.Series:
        p = _core.two_sided_p_values(self.tstat.to_numpy(), self._df.to_numpy(dtype=float))
        return pd.Series(p, index=self._coef.index, name="p_value")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        q = _core.t_quantiles(1 - (1 - level) / 2, self._df.to_numpy(dtype=float))
        se = self.se.to_numpy()
        b = self._coef.to_numpy()
        return pd.DataFrame({"conf_low": b - q * se, "conf_high": b + q * se}, index=self._coef.index)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        ci = self.conf_int(level)
        return pd.DataFrame({
            "term": self._coef.index.astype(str),
            "estimate": self._coef.to_numpy(),
            "std_error": self.se.to_numpy(),
            "statistic": self.tstat.to_numpy(),
            "p_value": self.pvalues.to_numpy(),
            "conf_low": ci["conf_low"].to_numpy(),
            "conf_high": ci["conf_high"].to_numpy(),
        })

    @property
    def df_wald(self) -> float:
        """Denominator df for joint F tests: the smallest per-coefficient df."""
        return float(np.min(self._df.to_numpy())) if len(self._df) else float("inf")

    def wald_test(self, hypothesis, distribution: str = "F") -> WaldTest:
        """Test linear restrictions: ``"treat = 0, x1 = x2"`` or a tuple ``(R, r)``."""
        return wald_test(self._coef.to_numpy(), self._vcov.to_numpy(), list(self._coef.index), hypothesis,
                         self.df_wald, distribution)

    # --- presentation ------------------------------------------------------------------------
    def fit_stats(self) -> list:
        return [("Observations", _fmt_int(self.nobs))]

    def notes(self) -> list:
        return [f"Standard errors: {self.vcov_convention}."]

    def summary(self):
        from ._render import Summary

        return Summary(self)

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        from .plotting import coefplot

        return coefplot(self, ax=ax, level=level, **kwargs)

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={v:.4g}" for k, v in list(self._coef.items())[:4])
        more = ", ..." if len(self._coef) > 4 else ""
        return f"<{type(self).__name__} {self.title}: {head}{more} (n={self.nobs}, vcov={self.vcov_type})>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __str__(self) -> str:
        return str(self.summary())


class RegressionResult(EstimateResult):
    """A fitted linear regression (``ik.ols``)."""

    title = "OLS"

    def __init__(self, core, design, *, vcov_type: str, call: dict, formula: str):
        coef, vcov, df = core_tables(core, design)
        super().__init__(coef, vcov, df, nobs=core.nobs, vcov_type=vcov_type,
                         vcov_convention=core.vcov_convention, depvar=design.depvar)
        if core.weighted:
            self.title = "WLS"
        self.formula = formula
        self.r2 = float(core.r2)
        self.adj_r2 = float(core.adj_r2)
        self.rss = float(core.rss)
        self.tss = float(core.tss)
        self.sigma = float(core.sigma)
        self.df_resid = float(core.df_resid)
        self.has_intercept = bool(core.has_intercept)
        self.nobs_missing = int(design.n_missing)
        self.collinear = [design.terms[j] for j in core.dropped_columns]
        self.n_clusters = dict(zip(design.cluster_names, [int(g) for g in core.n_clusters]))
        self.ssc_factor = float(core.ssc_factor)
        # the residual Series (and its index of used rows) is built on first use
        self._residual_parts = (core, design.index)
        self._residuals = None
        self._call = call
        # absorbed fixed effects
        self.fixed_effects = list(design.fe_names)
        self.fe_sizes = dict(zip(design.fe_names, [int(g) for g in core.fe_sizes]))
        self.k_fe = int(core.k_fe)
        self.n_singletons = int(core.n_singletons)
        self.r2_within = float(core.r2_within)
        self._fe_parts = (list(design.fe_names), list(design.fe_levels), core) if design.fe_names else None

    def fixef(self) -> dict:
        """Estimated fixed effects: {name: Series indexed by level}. Dimensions after the first have
        their first level set to 0 (the shift is moved into the first dimension), as in fixest."""
        if self._fe_parts is None:
            raise ValueError("this model has no absorbed fixed effects")
        names, levels, core = self._fe_parts
        out = {}
        for name, lev, labels, values in zip(names, levels, core.fixef_labels, core.fixef):
            labels = np.asarray(labels)
            idx = pd.Index(labels if lev is None else np.asarray(lev, dtype=object)[labels], name=name)
            out[name] = pd.Series(np.array(values), index=idx, name=name)
        return out

    @property
    def residuals(self) -> pd.Series:
        if self._residuals is None:
            core, index = self._residual_parts
            used_rows = np.asarray(core.used_rows)
            used = index if len(used_rows) == 0 else index[used_rows]
            self._residuals = pd.Series(np.asarray(core.residuals), index=used, name="residual")
            self._residual_parts = None
        return self._residuals.copy()

    resid = residuals

    def with_vcov(self, vcov: Optional[str] = None, *, cluster=None, ssc=None) -> "RegressionResult":
        """The same model with another variance estimator (a new object; this one is unchanged)."""
        from .regression import ols

        kwargs = dict(self._call)
        kwargs["vcov"] = vcov
        kwargs["cluster"] = cluster if cluster is not None else (kwargs.get("cluster") if vcov is None or str(vcov).upper().startswith("CR") else None)
        if ssc is not None:
            kwargs["ssc"] = ssc
        return ols(self.formula, **kwargs)

    def fit_stats(self) -> list:
        stats = [("Observations", _fmt_int(self.nobs))]
        if self.nobs_missing:
            stats.append(("Rows dropped (missing)", _fmt_int(self.nobs_missing)))
        if self.n_singletons:
            stats.append(("Singletons dropped", _fmt_int(self.n_singletons)))
        for name, g in self.fe_sizes.items():
            stats.append((f"Fixed effects ({name})", _fmt_int(g)))
        stats += [("R²", f"{self.r2:.4f}"), ("Adj. R²", f"{self.adj_r2:.4f}")]
        if self.fixed_effects:
            stats.append(("Within R²", f"{self.r2_within:.4f}"))
        stats += [("Residual SE", f"{self.sigma:.4g}"), ("Residual df", f"{self.df_resid:g}")]
        for name, g in self.n_clusters.items():
            stats.append((f"Clusters ({name})", _fmt_int(g)))
        return stats

    def notes(self) -> list:
        out = [f"Standard errors: {self.vcov_convention}."]
        if self.nobs_missing:
            out.append(f"{self.nobs_missing} row(s) with missing values were dropped (listwise).")
        if self.collinear:
            out.append(f"Dropped as collinear: {', '.join(self.collinear)}.")
        if self.fixed_effects:
            out.append(f"Absorbed fixed effects: {', '.join(self.fixed_effects)} ({self.k_fe} coefficients counted in n-k)"
                       + (f"; {self.n_singletons} singleton row(s) dropped." if self.n_singletons else "."))
        return out
