"""Results objects shared by every estimator.

:class:`EstimateResult` holds an estimate θ̂, its variance and the inference degrees of freedom, and
derives everything else (standard errors, tests, intervals, tidy tables, summaries, plots, Wald
tests) once for all estimators. :class:`RegressionResult` adds what a linear model reports.
"""
from __future__ import annotations

import copy
from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from .errors import InvalidInputError
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
                 vcov_type: str, vcov_convention: str, depvar: str = "", conventions: Optional[dict] = None,
                 by: Optional[pd.DataFrame] = None, terms: Optional[list] = None, null=0.0, interval=None):
        self._coef = coef
        self._vcov = vcov
        self._df = df_inference
        self.nobs = int(nobs)
        self.vcov_type = vcov_type
        self.vcov_convention = vcov_convention
        self.depvar = depvar
        #: the variance conventions as data (kind, factor and rule, df and rule, counts), when known
        self.conventions = dict(conventions) if conventions else {}
        # group columns (one row per estimate) and the term of each estimate, for tidy()
        self._by = None if by is None else by.reset_index(drop=True)
        self._terms = None if terms is None else [str(t) for t in terms]
        # the value tests are against (scalar or one per estimate), and an interval hook:
        # interval(result, level) -> (low, high) arrays; None: Wald-t, estimate ± t·SE
        self._null = np.broadcast_to(np.asarray(null, dtype=float), (len(coef),)).copy()
        self._interval = interval

    @classmethod
    def from_influence(cls, estimate, psi, design=None, *, names=None, nobs: Optional[int] = None,
                       n_params: Optional[int] = None, by: Optional[pd.DataFrame] = None, terms=None, null=0.0,
                       interval=None, depvar: str = "", **kwargs) -> "EstimateResult":
        """The result of any estimator from its estimate θ̂ (p values) and influence values ψ (n×p,
        θ̂ − θ ≈ Σ_i ψ_i) under a variance ``design``: "iid", "HC0"/"HC1"/"stata_ml", a cluster label
        array (n or n×m: CR1; ``("CR0", labels)`` for no factor), or an :class:`ik.SurveyDesign` whose
        rows are the rows of ψ. Every new estimator builds its result here (DESIGN.md §2)."""
        from .variance import variance_design

        est = np.atleast_1d(np.asarray(estimate, dtype=float))
        psi = np.asarray(psi, dtype=float)
        if psi.ndim == 1:
            psi = psi[:, None]
        if psi.shape[1] != est.shape[0]:
            raise InvalidInputError(f"from_influence: psi has {psi.shape[1]} columns but the estimate has {est.shape[0]} values")
        if names is None:
            names = list(estimate.index) if isinstance(estimate, pd.Series) else [f"theta{j}" for j in range(len(est))]
        vd = variance_design(design, psi.shape[0])
        out = _core.variance.influence_vcov(np.asfortranarray(psi), vd, int(n_params or 0))
        conv = dict(out["conventions"])
        V = np.asarray(out["vcov"])
        coef = pd.Series(est, index=names, name="estimate")
        return cls(coef, pd.DataFrame(V, index=names, columns=names), pd.Series(np.asarray(out["df"]), index=names, name="df"),
                   nobs=psi.shape[0] if nobs is None else nobs, vcov_type=conv["kind"], vcov_convention=conv["description"],
                   depvar=depvar, conventions=conv, by=by, terms=terms, null=null, interval=interval, **kwargs)

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
        """(estimate − null) / SE, the null being 0 unless the estimator set another."""
        null = getattr(self, "_null", None)
        b = self._coef.to_numpy() - (0.0 if null is None else null)
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(b / self.se.to_numpy(), index=self._coef.index, name="statistic")

    statistic = tstat

    @property
    def pvalues(self) -> pd.Series:
        p = _core.two_sided_p_values(self.tstat.to_numpy(), self._df.to_numpy(dtype=float))
        return pd.Series(p, index=self._coef.index, name="p_value")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals for every coefficient.

        Parameters
        ----------
        level : float, default 0.95
            Coverage, a number in (0, 1). The interval is estimate ± q·SE with q the
            (1 + level)/2 quantile of t with each coefficient's ``df_inference`` (normal where inf).

        Returns
        -------
        pandas.DataFrame
            Columns ``conf_low`` and ``conf_high``, indexed by term.

        Examples
        --------
        >>> fit = ik.ols("re78 ~ treat + age", ik.datasets.load("lalonde"))
        >>> fit.conf_int(0.90).loc["treat"]
        """
        if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.integer, np.floating)):
            raise TypeError(f"level must be a number in (0, 1) such as 0.95, got {type(level).__name__} {level!r}")
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        if getattr(self, "_interval", None) is not None:
            low, high = self._interval(self, level)
            return pd.DataFrame({"conf_low": np.asarray(low, dtype=float), "conf_high": np.asarray(high, dtype=float)},
                                index=self._coef.index)
        q = _core.t_quantiles(1 - (1 - level) / 2, self._df.to_numpy(dtype=float))
        se = self.se.to_numpy()
        b = self._coef.to_numpy()
        return pd.DataFrame({"conf_low": b - q * se, "conf_high": b + q * se}, index=self._coef.index)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """The coefficient table as a DataFrame, one row per term.

        Parameters
        ----------
        level : float, default 0.95
            Coverage of ``conf_low`` / ``conf_high`` (see :meth:`conf_int`).

        Returns
        -------
        pandas.DataFrame
            Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` (the same for
            every estimator); the statistic is (estimate − null)/SE and the p-value two-sided.

        Examples
        --------
        >>> fit = ik.ols("re78 ~ treat + age", ik.datasets.load("lalonde"))
        >>> fit.tidy().set_index("term").loc["treat", ["estimate", "std_error"]]
        """
        ci = self.conf_int(level)
        terms = getattr(self, "_terms", None)
        out = pd.DataFrame({
            "term": self._coef.index.astype(str) if terms is None else terms,
            "estimate": self._coef.to_numpy(),
            "std_error": self.se.to_numpy(),
            "statistic": self.tstat.to_numpy(),
            "p_value": self.pvalues.to_numpy(),
            "conf_low": ci["conf_low"].to_numpy(),
            "conf_high": ci["conf_high"].to_numpy(),
        })
        by = getattr(self, "_by", None)
        if by is not None:
            out = pd.concat([by.reset_index(drop=True), out], axis=1)
        return out

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
        """A printable summary: coefficient table, fit statistics and the conventions used.

        Returns
        -------
        Summary
            An object with ``str()`` (text), ``as_html()`` and ``as_latex()`` renderings; it does not
            print by itself (Jupyter shows the HTML).

        Examples
        --------
        >>> fit = ik.ols("re78 ~ treat + age", ik.datasets.load("lalonde"))
        >>> print(fit.summary())
        >>> fit.summary().as_latex()
        """
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


def cluster_codes_on_sample(data, cluster, positions, who):
    """n×m int32 cluster codes (Fortran order) of the columns or arrays ``cluster`` on the estimation rows
    ``positions`` of ``data`` (None: all rows), for a new variance of a fitted model; a missing label on
    the sample is an error (with_vcov never changes the sample)."""
    from ._formula import _column_or_array, cluster_specs

    codes = []
    for spec in cluster_specs(cluster):
        col = _column_or_array(data, spec, "cluster")
        vals = col.to_numpy() if positions is None else col.to_numpy()[np.asarray(positions)]
        if vals.dtype.kind not in "iub" and pd.isna(vals).any():  # integer labels cannot be missing
            raise InvalidInputError(f"{who}.with_vcov: the cluster variable has missing values in the estimation sample; "
                                    "with_vcov never changes the sample — refit the model with this cluster variable")
        ints = np.issubdtype(vals.dtype, np.integer) and len(vals) and \
            np.iinfo(np.int32).min <= vals.min() and vals.max() <= np.iinfo(np.int32).max
        # integer labels go as they are (C++ factorises any integers); others get codes here
        codes.append(vals.astype(np.int32, copy=False) if ints else pd.factorize(vals)[0].astype(np.int32, copy=False))
    return codes[0].reshape(-1, 1) if len(codes) == 1 else np.asfortranarray(np.column_stack(codes))  # one column: no copy


def _conditioned_columns(X, kept) -> bool:
    """The rule of least_squares.hpp "Conditioning" on the columns ``kept`` of X: a column dominated by its
    mean or out of the 2^±200 range."""
    n_rows = X.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        for j in kept:
            col = X[:, j]
            mean = col.mean()
            var = float(np.dot(col, col)) / n_rows - mean * mean
            big = max(abs(col.max()), abs(col.min()))
            if (var > 0 and mean * mean > 2.0 ** 20 * var) or not np.isfinite(var) or big > 2.0 ** 200 or 0 < big < 2.0 ** -200:
                return True
    return False


def rescore(result, X, kept, u, bread, n_params, positions, vcov, cluster, ssc, who, *, maximum_likelihood=False,
            normal=False, suffix="", conditioned=None, variance_of=None):
    """``result`` with another score-only variance (HC0/HC1, CR0/CR1, or back to its survey design),
    recomputed from the scores u_i·X[i, kept] and the bread without refitting (DESIGN.md §2): a new
    object, or None when the requested variance needs a refit. ``positions``: the data row of each
    row of X (None: all rows in order), to read new cluster labels on exactly the estimation sample.
    ``conditioned``:
    the fit's own word on whether it solved a transformed copy (None: check the columns here).
    ``variance_of(spec) -> dict`` replaces the sandwich of u_i·X[i, kept] (X, kept, u, bread unused) for
    fits that compute it themselves (absorbed fixed effects: _core.ols_within_vcov)."""
    from ._formula import cluster_specs
    from .variance import _resolve_ssc, _resolve_vcov, split_vcov, vcov_spec

    vcov, cluster = split_vcov(vcov, cluster)
    call = result._call
    design = call.get("design")
    if vcov is None and cluster is None and design is not None:
        return result
    if cluster is None and (vcov is None or (isinstance(vcov, str) and vcov.upper().startswith("CR"))):
        cluster = call.get("cluster")
    kind = _resolve_vcov(vcov, cluster)
    if kind not in ("HC0", "HC1", "CR0", "CR1"):
        return None
    # the fit solved a centred / power-of-two-equilibrated copy when a column is dominated by its mean
    # (mean² > 2^20·variance) or out of the 2^±200 range (least_squares.hpp, "Conditioning"); the raw
    # sandwich would lose those digits, so such models refit. The fit says so (``conditioned``);
    # without that flag the columns are checked here by the same rule (column by column on views of
    # X, no copy: var = E[x²] − mean² is accurate far beyond what the 2^20 threshold needs)
    if conditioned is None and variance_of is None:
        conditioned = _conditioned_columns(X, kept)
    if conditioned:
        return None
    clusters = cluster_codes_on_sample(call["data"], cluster, positions, who) if kind.startswith("CR") else None
    s = _resolve_ssc(ssc if ssc is not None else call.get("ssc"))
    spec = _core.make_vcov_spec(kind, clusters, s.adj, s.cluster_adj, s.cluster_df, s.fixef_k, bool(s.exact_redundancy),
                                maximum_likelihood=maximum_likelihood)
    if variance_of is not None:
        out = variance_of(spec)
    else:
        out = _core.sandwich_vcov(bread, X, kept, u, spec, n_params, normal)
    new = copy.copy(result)
    names = list(result._coef.index)
    new._vcov = pd.DataFrame(np.asarray(out["vcov"]), index=names, columns=names)
    new._df = pd.Series(np.asarray(out["df"]), index=names, name="df")
    new.vcov_type = kind
    new.vcov_convention = out["convention"] + suffix
    new.conventions = dict(out["conventions"])
    new.ssc_factor = float(out["factor"])
    cluster_names = [c if isinstance(c, str) else getattr(c, "name", None) or f"cluster {j}"
                     for j, c in enumerate(cluster_specs(cluster))] if clusters is not None else []
    new.n_clusters = dict(zip(cluster_names, [int(g) for g in out["n_clusters"]]))
    new._call = dict(call, vcov=vcov, cluster=cluster if kind.startswith("CR") else None,
                     ssc=ssc if ssc is not None else call.get("ssc"))
    if design is not None:  # the design's weights become probability weights of a model-based fit
        data = call["data"]
        new._call.update(design=None, weights=design._w[design.positions_of(data.index, f"{who}.with_vcov")],
                         weight_type="probability")
        if "weight_type" not in call:
            new._call.pop("weight_type")
    return new


class RegressionResult(EstimateResult):
    """A fitted linear regression (``ik.ols``)."""

    title = "OLS"

    def __init__(self, core, design, *, vcov_type: str, call: dict, formula: str):
        coef, vcov, df = core_tables(core, design)
        super().__init__(coef, vcov, df, nobs=core.nobs, vcov_type=vcov_type,
                         vcov_convention=core.vcov_convention, depvar=design.depvar,
                         conventions=dict(core.conventions) if hasattr(core, "conventions") else None)
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
        self._y = design.y  # for fitted values (a view of the caller's column when no row is dropped)
        self._positions = design.positions
        self._call = call
        # absorbed fixed effects
        self.fixed_effects = list(design.fe_names)
        self.fe_sizes = dict(zip(design.fe_names, [int(g) for g in core.fe_sizes]))
        self.k_fe = int(core.k_fe)
        self.n_singletons = int(core.n_singletons)
        self.r2_within = float(core.r2_within)
        self._fe_parts = (list(design.fe_names), list(design.fe_levels), core) if design.fe_names else None
        # what a new variance needs without a refit (DESIGN.md §2): the design matrix (a reference, not a
        # copy), the weights, the bread and the kept columns (absorbed fixed effects: _within_parts below)
        plain = not design.fe_names and isinstance(design.X, np.ndarray) and hasattr(core, "bread")
        self._conditioned = bool(core.conditioned) if hasattr(core, "conditioned") else None
        self._scores_parts = (design.X, design.weights, np.asarray(core.bread), list(core.kept_columns), design.positions,
                              int(core.rank)) if plain else None
        # with absorbed fixed effects: the within-transformed design the fit kept (C++ keep_within)
        self._within_parts = (core, design.weights, design.fixed_effects, design.positions) \
            if design.fe_names and getattr(core, "has_within", False) else None

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
            self._used_rows = used_rows
        return self._residuals.copy()

    resid = residuals

    @property
    def fitted_values(self) -> pd.Series:
        """Fitted values on the estimation sample, y − residual (absorbed fixed effects included; IV: [X, D]·b
        with the observed endogenous regressors), indexed like :attr:`residuals`."""
        resid = self.residuals
        y = self._y if len(self._used_rows) == 0 else self._y[self._used_rows]
        return pd.Series(y - resid.to_numpy(), index=resid.index, name="fitted")

    fittedvalues = fitted_values

    def _prediction_rhs(self) -> str:
        """The right-hand side whose model matrix the coefficients multiply."""
        from ._formula import _split_formula

        return _split_formula(self.formula)[0].split("~", 1)[1]

    def _fe_terms(self) -> list:
        from ._formula import _split_formula

        return _split_formula(self.formula)[1]

    def predict(self, newdata: Optional[pd.DataFrame] = None) -> pd.Series:
        """Fitted values, or predictions for new data through the model's formula.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            Without it: the fitted values on the estimation sample (:attr:`fitted_values`). With it: the
            regressors are built from ``newdata`` with the fitted formula and factor coding (same levels
            and reference categories), times the coefficients. With absorbed fixed effects, ``newdata``
            must hold the fixed-effect columns: each row adds the estimated effect of its level
            (:meth:`fixef`); a level not seen in the fit (or dropped as a singleton) has no estimate, so
            that row's prediction is NaN and an ``ImpactkitWarning`` counts them. Rows with a missing
            regressor are NaN.

        Returns
        -------
        pandas.Series
            Predictions indexed like ``newdata`` (or like :attr:`residuals` without it).

        Examples
        --------
        >>> df = ik.datasets.load("lalonde")
        >>> fit = ik.ols("re78 ~ treat + age", df)
        >>> fit.predict().head()
        >>> fit.predict(df.head(3).assign(treat=1))
        """
        if newdata is None:
            return self.fitted_values
        from ._predict import add_fixed_effects, fit_rows, linear_predictor

        fit_data = fit_rows(self._call["data"], getattr(self, "_positions", None))
        eta = linear_predictor(self._prediction_rhs(), fit_data, newdata, self._coef, self.formula)
        if self.fixed_effects:
            eta = add_fixed_effects(eta, newdata, self._fe_terms(), self.fixed_effects, self.fixef(), "predict")
        return eta.rename("predicted")

    @property
    def f_test(self) -> Optional[WaldTest]:
        """The overall F test: every slope (all coefficients but the intercept) = 0, a Wald test with this
        result's variance (robust / cluster-robust as chosen, as Stata and fixest report), F(q, df) with q
        the number of slopes and df the inference df (n − k, or G − 1 with clusters). None without slopes."""
        slopes = [t for t in self._coef.index if t != "Intercept"]
        if not slopes:
            return None
        R = np.zeros((len(slopes), len(self._coef)))
        for i, t in enumerate(slopes):
            R[i, list(self._coef.index).index(t)] = 1.0
        try:
            test = self.wald_test((R, np.zeros(len(slopes))))
        except ValueError:  # e.g. a singular variance of the slopes
            test = WaldTest(float("nan"), float("nan"), len(slopes), self.df_wald, "F", "R·b = r")
        return WaldTest(test.statistic, test.p_value, test.df_num, test.df_denom, "F", "all slopes = 0")

    def with_vcov(self, vcov: Optional[str] = None, *, cluster=None, ssc=None) -> "RegressionResult":
        """The same model with another variance estimator (a new object; this one is unchanged)."""
        from .regression import ols
        from .variance import refit_kwargs

        fast = self._variance_without_refit(vcov, cluster, ssc)
        if fast is not None:
            return fast
        return ols(self.formula, **refit_kwargs(self._call, self.residuals.index, vcov, cluster, ssc, "ols"))

    def _variance_without_refit(self, vcov, cluster, ssc):
        """HC0/HC1, CR0/CR1 (one- or multiway) or the design's variance: the sandwich from the kept
        design matrix (with absorbed fixed effects: the within-transformed one the fit kept), the
        residuals and the bread (no refit); None when the new variance needs leverages (HC2/HC3,
        CR2/CR3) or is iid."""
        parts = getattr(self, "_scores_parts", None)
        if type(self) is not RegressionResult:
            return None
        if parts is None:
            return self._absorbed_variance_without_refit(vcov, cluster, ssc)
        X, w, bread, kept, positions, rank = parts
        e = np.asarray(self._residual_parts[0].residuals) if self._residuals is None else self._residuals.to_numpy()
        if len(e) != X.shape[0]:
            return None
        design = self._call.get("design")
        if design is not None:
            w = design._w[design.positions_of(self.residuals.index, "ols.with_vcov")]
        return rescore(self, X, kept, e * w if w is not None else e, bread, rank, positions, vcov, cluster, ssc, "ols",
                       conditioned=self._conditioned)

    def _absorbed_variance_without_refit(self, vcov, cluster, ssc):
        """The same for a model with absorbed fixed effects: the sandwich of the within-transformed scores
        the fit kept (Frisch–Waugh–Lovell), summed in the fit's row order by C++ (_core.ols_within_vcov;
        nothing n×k is reordered), which also counts the absorbed coefficients nested in the new clusters.
        None (refit) without them, or when ``ssc`` changes (the absorbed count may change with it)."""
        parts = getattr(self, "_within_parts", None)
        if parts is None or ssc is not None:
            return None
        core, positions = parts[0], parts[3]
        rows = self.__dict__.get("_within_rows", False)
        if rows is False:  # the data rows of the used rows (None: all rows), once per fit (the binding copies)
            used = np.asarray(core.used_rows)
            if positions is None:
                rows = used if len(used) else None
            else:
                rows = np.flatnonzero(positions) if np.asarray(positions).dtype == bool else np.asarray(positions)
                rows = rows[used] if len(used) else rows
            self._within_rows = rows
        if (len(self._call["data"]) if rows is None else len(rows)) != int(core.nobs):
            return None
        return rescore(self, None, None, None, None, int(core.rank), rows, vcov, cluster, ssc, "ols",
                       conditioned=bool(core.conditioned), variance_of=lambda spec: _core.ols_within_vcov(core, spec))

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
        f = self.f_test
        if f is not None:
            value = "NaN" if not np.isfinite(f.statistic) else f"{f.statistic:.4g} (p = {f.p_value:.3g})"
            stats.append((f"Wald F({f.df_num}, {f.df_denom:g}), slopes = 0", value))
        return stats

    def notes(self) -> list:
        out = [f"Standard errors: {self.vcov_convention}."]
        if self.nobs_missing:
            out.append(f"{self.nobs_missing} row(s) with missing values were dropped (listwise).")
        if self.collinear:
            out.append(f"Dropped as collinear: {', '.join(self.collinear)}.")
        if self.fixed_effects:
            out.append(f"Absorbed fixed effects: {', '.join(self.fixed_effects)} ("
                       + (f"{self.k_fe} coefficients, all counted in the residual df" if self.k_fe else
                          "not counted in the residual df")
                       + (f"); {self.n_singletons} singleton row(s) dropped." if self.n_singletons else ")."))
        if self.f_test is not None:
            out.append(f"Wald F: all slopes = 0, tested with the {self.vcov_type} variance above.")
        return out
