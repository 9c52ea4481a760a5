"""Binary and count outcome models: ``ik.logit``, ``ik.probit``, ``ik.cloglog``, ``ik.poisson``.

Maximum likelihood by iteratively reweighted least squares in C++ (``include/impactkit/core/glm.hpp``),
with absorbed fixed effects ("y ~ x | fe1 + fe2", as fixest ``feglm``/``fepois``), detection of
separation (Correia, Guimarães & Zylkin 2021) and the project's variance module (model-based,
HC0/HC1, CR0/CR1 one- or multiway). Python does the formula, missing values and factor coding
(``_formula.build_design``, shared with ``ik.ols``); C++ does the numbers.
"""
from __future__ import annotations

import warnings
from typing import Optional, Union

import numpy as np
import pandas as pd

from . import _core
from ._formula import _column_or_array, _split_formula, build_design, check_fit_options, warn_if_constant_outcome
from .errors import ImpactkitWarning, InvalidInputError
from .variance import _resolve_ssc, _resolve_vcov, design_rows, design_sample, split_vcov, vcov_spec, warn_if_not_psd
from .results import EstimateResult, _fmt_int, core_tables

__all__ = ["logit", "probit", "cloglog", "poisson", "GlmResult"]

_TITLES = {"logit": "Logit", "probit": "Probit", "cloglog": "Complementary log-log", "poisson": "Poisson"}


def _fmt(v: float, digits: int = 4) -> str:
    return "NaN" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


class GlmResult(EstimateResult):
    """A fitted logit, probit or Poisson model (``ik.logit``, ``ik.probit``, ``ik.poisson``).

    Besides the shared inference (``coef``, ``se``, ``vcov``, ``pvalues`` with the normal reference,
    ``conf_int``, ``tidy``, ``wald_test``, ``summary``, ``plot``): ``loglik``, ``loglik_null``,
    ``deviance``, ``null_deviance``, ``pseudo_r2`` (McFadden), ``iterations``, ``fitted_values``
    (probabilities or means), ``linear_predictor``, ``predict(newdata)``, ``fixef()``, and the rows
    dropped on the way: ``nobs_missing`` (missing values), ``n_fe_dropped`` (fixed-effect groups whose
    outcome is constant), ``n_singletons``, ``n_separated`` / ``separated`` (separated observations).
    """

    def __init__(self, core, design, *, family: str, vcov_type: str, call: dict, formula: str,
                 n_missing_extra: int = 0, offset: Optional[np.ndarray] = None):
        coef, vcov, df = core_tables(core, design)
        super().__init__(coef, vcov, df, nobs=core.nobs, vcov_type=vcov_type,
                         vcov_convention=core.vcov_convention, depvar=design.depvar, conventions=dict(core.conventions))
        self.family = family
        self.title = _TITLES[family]
        self.formula = formula
        self.loglik = float(core.loglik)
        self.loglik_null = float(core.loglik_null)
        self.deviance = float(core.deviance)
        self.null_deviance = float(core.null_deviance)
        self.pseudo_r2 = float(core.pseudo_r2)
        self.iterations = int(core.iterations)
        self.information = str(core.information)
        self.weighted = bool(core.weighted)
        self.has_offset = bool(core.has_offset)
        self.rank = int(core.rank)
        self.k_fe = int(core.k_fe)
        self.df_resid = float(core.nobs - core.rank - core.k_fe)
        self.nobs_missing = int(design.n_missing) + int(n_missing_extra)
        self.collinear = [design.terms[j] for j in core.dropped_columns]
        self.n_clusters = dict(zip(design.cluster_names, [int(g) for g in core.n_clusters]))
        self.ssc_factor = float(core.ssc_factor)
        self.n_fe_dropped = int(core.n_fe_dropped)
        self.n_singletons = int(core.n_singletons)
        sep_rows = np.asarray(core.separated_rows, dtype=np.int64)
        self.separated = design.index[sep_rows] if len(sep_rows) else design.index[:0]
        self.n_separated = int(len(sep_rows))
        self.separating_terms = [design.terms[j] for j in core.separating_columns]
        self.separation_checked = bool(core.separation_checked)
        self.n_boundary = int(core.n_boundary)
        used = design.index if len(core.used_rows) == 0 else design.index[np.asarray(core.used_rows)]
        self._used_index = used
        self._y = np.asarray(design.y)[np.asarray(core.used_rows, dtype=np.int64)] if len(core.used_rows) else np.asarray(design.y)
        self._fitted = pd.Series(np.array(core.fitted), index=used, name="fitted")
        self._eta = pd.Series(np.array(core.linear_predictor), index=used, name="linear_predictor")
        self._call = call
        self._design_index = design.index
        self._positions = design.positions
        # a new score-only variance needs no refit: X (a reference), the used rows, the bread and u_i
        used_rows = np.asarray(core.used_rows, dtype=np.int64) if len(core.used_rows) else None
        if not design.fe_names and len(core.score_weights) and isinstance(design.X, np.ndarray):
            pos = used_rows if design.positions is None else (np.asarray(design.positions) if used_rows is None
                                                              else np.asarray(design.positions)[used_rows])
            self._scores_parts = (design.X, used_rows, list(core.kept_columns), np.asarray(core.score_weights),
                                  np.asarray(core.bread), pos)
        else:
            self._scores_parts = None
        self._terms = list(design.terms)
        self.fixed_effects = list(design.fe_names)
        self.fe_sizes = dict(zip(design.fe_names, [int(g) for g in core.fe_sizes]))
        self._fixef = None
        if design.fe_names:
            self._fixef = {}
            for name, lev, labels, values in zip(design.fe_names, design.fe_levels, core.fixef_labels, core.fixef):
                labels = np.asarray(labels)  # integer labels as passed to C++; `lev` maps codes to levels
                idx = pd.Index(labels if lev is None else np.asarray(lev, dtype=object)[labels], name=name)
                self._fixef[name] = pd.Series(np.array(values), index=idx, name=name)
        self._core = core

    # --- fit statistics --------------------------------------------------------------------------
    @property
    def aic(self) -> float:
        """-2 loglik + 2 k, k counting the coefficients and absorbed fixed effects."""
        return -2.0 * self.loglik + 2.0 * (self.rank + self.k_fe)

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + np.log(self.nobs) * (self.rank + self.k_fe)

    @property
    def fitted_values(self) -> pd.Series:
        """Fitted probabilities (logit, probit) or means (Poisson) on the estimation sample."""
        return self._fitted.copy()

    fittedvalues = fitted_values

    @property
    def linear_predictor(self) -> pd.Series:
        """x'b (+ offset + fixed effects) on the estimation sample."""
        return self._eta.copy()

    @property
    def resid_response(self) -> pd.Series:
        """y − fitted value on the estimation sample."""
        return pd.Series(self._y - self._fitted.to_numpy(), index=self._used_index, name="resid_response")

    def fixef(self) -> dict:
        """Estimated fixed effects on the link scale: {name: Series indexed by level}. Dimensions after
        the first have their first level set to 0 (the shift moved into the first), as in fixest."""
        if self._fixef is None:
            raise ValueError("this model has no absorbed fixed effects")
        return {k: v.copy() for k, v in self._fixef.items()}

    # --- prediction ------------------------------------------------------------------------------
    def predict(self, newdata: Optional[pd.DataFrame] = None, type: str = "response", *, offset=None,
                exposure=None) -> pd.Series:
        """Predicted probabilities / means (``type="response"``) or the linear predictor (``"link"``).

        Without ``newdata``: the fitted values on the estimation sample. With ``newdata``: the
        regressors are built with the fitted model's formula (same factor levels); fixed-effect levels
        not seen in the fit give NaN, with an ImpactkitWarning counting those rows. ``offset`` /
        ``exposure`` (Poisson): a column name or array for ``newdata``; when the model has an offset and
        neither is given, the fit's offset column is used.
        """
        if type not in ("response", "link"):
            raise InvalidInputError(f"type must be 'response' or 'link', got {type!r}")
        if newdata is None:
            return self.fitted_values if type == "response" else self.linear_predictor
        from ._predict import add_fixed_effects, fit_rows, linear_predictor

        rhs_formula, fe_terms = _split_formula(self.formula)
        fit_data = fit_rows(self._call["data"], self._positions)
        eta = linear_predictor(rhs_formula.split("~", 1)[1], fit_data, newdata, self._coef, self.formula)
        if self._fixef is not None:
            eta = add_fixed_effects(eta, newdata, fe_terms, self.fixed_effects, self._fixef, "predict")
        if self.family == "poisson":
            off = None
            if offset is not None and exposure is not None:
                raise InvalidInputError("give offset or exposure, not both")
            if offset is not None:
                off = _column_or_array(newdata, offset, "offset").astype(float)
            elif exposure is not None:
                off = np.log(_column_or_array(newdata, exposure, "exposure").astype(float))
            elif self.has_offset:
                spec_off, kind = self._call.get("_offset_spec", (None, None))
                if isinstance(spec_off, str) and spec_off in newdata.columns:
                    vals = newdata[spec_off].astype(float)
                    off = np.log(vals) if kind == "exposure" else vals
                else:
                    raise InvalidInputError("the model has an offset: pass offset= or exposure= for newdata")
            if off is not None:
                eta = pd.Series(eta.to_numpy() + np.asarray(off, dtype=float), index=eta.index)  # by position
        if type == "link":
            return eta.rename("linear_predictor")
        e = eta.to_numpy(dtype=float)
        if self.family == "logit":
            mu = 1.0 / (1.0 + np.exp(-e))
        elif self.family == "probit":  # Φ(e) = erfc(−e/√2)/2 (no SciPy needed)
            import math

            mu = 0.5 * np.vectorize(math.erfc, otypes=[float])(-e / math.sqrt(2.0)) if len(e) else e
        elif self.family == "cloglog":
            mu = -np.expm1(-np.exp(e))
        else:
            mu = np.exp(e)
        return pd.Series(mu, index=newdata.index, name="predicted")

    # --- variants --------------------------------------------------------------------------------
    def with_vcov(self, vcov: Optional[str] = None, *, cluster=None, ssc=None) -> "GlmResult":
        """The same model with another variance estimator (a new object; this one is unchanged)."""
        from .results import rescore
        from .variance import refit_kwargs

        parts = getattr(self, "_scores_parts", None)
        if parts is not None:
            X, used, kept, u, bread, positions = parts
            Xu = X if used is None else X[used]
            ml = isinstance(ssc if ssc is not None else self._call.get("ssc"), str) and \
                (ssc if ssc is not None else self._call.get("ssc")).lower() == "stata"
            suffix = self.vcov_convention[self.vcov_convention.find("; bread:"):] if "; bread:" in self.vcov_convention else ""
            fast = rescore(self, np.asfortranarray(Xu), kept, u, bread, len(kept), positions, vcov, cluster,
                           None if ml else ssc, self.family, maximum_likelihood=ml, normal=True, suffix=suffix)
            if fast is not None:
                if ml:
                    fast._call["ssc"] = "stata"
                return fast
        return _FITTERS[self.family](self.formula, **refit_kwargs(self._call, self._used_index, vcov, cluster, ssc, self.family))

    # --- presentation ----------------------------------------------------------------------------
    def fit_stats(self) -> list:
        stats = [("Observations", _fmt_int(self.nobs))]
        if self.nobs_missing:
            stats.append(("Rows dropped (missing)", _fmt_int(self.nobs_missing)))
        if self.n_fe_dropped:
            stats.append((f"Rows dropped (FE groups, y {'all 0' if self.family == 'poisson' else 'constant'})", _fmt_int(self.n_fe_dropped)))
        if self.n_singletons:
            stats.append(("Singletons dropped", _fmt_int(self.n_singletons)))
        if self.n_separated:
            stats.append(("Separated rows dropped", _fmt_int(self.n_separated)))
        for name, g in self.fe_sizes.items():
            stats.append((f"Fixed effects ({name})", _fmt_int(g)))
        stats += [("Log-likelihood", f"{self.loglik:.4f}"), ("Pseudo R² (McFadden)", _fmt(self.pseudo_r2)),
                  ("Deviance", f"{self.deviance:.4f}"), ("IRLS iterations", str(self.iterations))]
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
            out.append(f"Absorbed fixed effects: {', '.join(self.fixed_effects)} ("
                       + (f"{self.k_fe} coefficients, all counted in the residual df" if self.k_fe else
                          "not counted in the residual df")
                       + (f"); {self.n_singletons} singleton row(s) dropped." if self.n_singletons else ")."))
        if self.n_fe_dropped:
            what = "all-zero outcome" if self.family == "poisson" else "outcome all 0 or all 1"
            out.append(f"{self.n_fe_dropped} row(s) dropped in fixed-effect groups with an {what} "
                       "(their fixed effect is infinite; fixest/pyfixest/ppmlhdfe do the same).")
        if self.n_separated:
            terms = f" (regressors involved: {', '.join(self.separating_terms)})" if self.separating_terms else ""
            out.append(f"{self.n_separated} separated observation(s) dropped{terms}: their fitted "
                       + ("means are 0" if self.family == "poisson" else "probabilities are 0 or 1")
                       + " at any finite estimate (Correia, Guimarães & Zylkin 2021 iterative rectifier).")
        if self.n_boundary:
            out.append(f"{self.n_boundary} fitted value(s) within 1e-8 of the boundary"
                       + (" (no separation found)." if self.separation_checked else "; separation was not verified."))
        if self.information == "expected" and self.family in ("probit", "cloglog"):
            out.append("Bread: expected (Fisher) information, as R glm and fixest.")
        return out


def _with_term_names(exc: Exception, terms: list) -> Exception:
    """The C++ message with the regressors it refers to by column number of X named by their terms."""
    import re

    def names(m):
        idx = [int(i) for i in re.findall(r"\d+", m.group(1))]
        if not all(0 <= i < len(terms) for i in idx):
            return m.group(0)
        return "regressors involved: " + ", ".join(terms[i] for i in idx)

    msg = re.sub(r"columns of X involved: (\d+(?:, \d+)*)", names, str(exc))
    return exc if msg == str(exc) else type(exc)(msg)


def _fit(family: str, formula: str, data, *, weights=None, offset=None, exposure=None, vcov=None, cluster=None,
         ssc=None, na="drop", information=None, separation="drop", check_separation="auto",
         drop_singletons=True, fe_tol=1e-10, fe_max_iter=10000, tol=1e-10, max_iter=100,
         collin_tol=1e-10, design=None) -> GlmResult:
    check_fit_options(collin_tol=collin_tol, fe_tol=fe_tol, fe_max_iter=fe_max_iter, tol=tol, max_iter=max_iter)
    vcov, cluster = split_vcov(vcov, cluster)
    survey = design
    if information is None:  # R svyglm's bread is the Fisher (expected) information of the IRLS fit
        information = "expected" if survey is not None else "observed"
    if survey is not None:
        kw = dict(offset=offset, exposure=exposure, na=na, information=information, separation=separation,
                  check_separation=check_separation, tol=tol, max_iter=max_iter, collin_tol=collin_tol)
        if family != "poisson":
            kw.pop("offset"), kw.pop("exposure")
        replicated, taylor = design_sample(survey, data, weights, vcov, cluster, family,
                                           lambda d, w: _fit(family, formula, d, weights=w, vcov="HC0", **kw))
        if replicated is not None:
            return replicated
        (weights, survey_pos, data), kind = taylor, "survey"
    else:
        kind = _resolve_vcov(vcov, cluster)
    if kind in ("HC2", "HC3", "CR2", "CR3"):
        raise InvalidInputError(f"vcov {kind} is not available for {family}: its leverage adjustment is defined for "
                                "least squares; use iid, HC0, HC1, CR0 or CR1")
    stata_ml = isinstance(ssc, str) and ssc.lower() == "stata"
    s = _resolve_ssc(None if stata_ml else ssc)
    if information not in ("observed", "expected"):
        raise InvalidInputError(f"information must be 'observed' or 'expected', got {information!r}")
    if separation not in ("drop", "raise"):
        raise InvalidInputError(f"separation must be 'drop' or 'raise', got {separation!r}")
    if check_separation not in ("auto", "always", "never"):
        raise InvalidInputError(f"check_separation must be 'auto', 'always' or 'never', got {check_separation!r}")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")

    # offset / exposure (Poisson): screened for missing values together with the design
    # (aligned to the data like weights: a Series by label, an array by position; missing values drop rows)
    n_extra, extra, off_kind = 0, None, None
    if offset is not None or exposure is not None:
        if family != "poisson":
            raise InvalidInputError(f"offset/exposure are supported for poisson only, not {family}")
        if offset is not None and exposure is not None:
            raise InvalidInputError("give offset or exposure, not both")
        off_kind = "offset" if offset is not None else "exposure"
        raw = _column_or_array(data, offset if offset is not None else exposure, off_kind)
        if not pd.api.types.is_numeric_dtype(raw):
            raise TypeError(f"{off_kind} must be numeric, got dtype {raw.dtype}")
        vals = raw.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(vals).any():
            raise InvalidInputError(f"{off_kind} has infinite value(s)")
        if off_kind == "exposure":
            if (vals <= 0).any():
                raise InvalidInputError(f"exposure must be positive; {int((vals <= 0).sum())} row(s) are not")
            with np.errstate(invalid="ignore"):
                vals = np.log(vals)
        extra = {"offset": pd.Series(vals, index=data.index)}
    design = build_design(formula, data, weights=weights, cluster=cluster, na=na, extra=extra)
    off = design.extra.get("offset")
    if survey is not None:
        if design.fe_names:
            raise InvalidInputError(f"{family}: design= with absorbed fixed effects is not supported yet; write the fixed "
                                    "effects as C(fe) regressors")
        spec = vcov_spec(kind, survey=survey, survey_rows=design_rows(survey_pos, design.positions))
    else:
        spec = vcov_spec(kind, design.clusters, s)
    try:
        core = _core.glm(design.X, design.y, family, design.weights, off, spec, stata_ml, design.fixed_effects,
                         bool(drop_singletons), float(fe_tol), int(fe_max_iter), float(tol), int(max_iter), float(collin_tol),
                         information, check_separation, separation)
    except ValueError as exc:
        raise _with_term_names(exc, design.terms) from None
    call = dict(data=data, weights=None if survey is not None else weights, vcov=vcov, cluster=cluster, ssc=ssc, na=na,
                design=survey, information=information,
                separation=separation, check_separation=check_separation, drop_singletons=drop_singletons,
                fe_tol=fe_tol, fe_max_iter=fe_max_iter, tol=tol, max_iter=max_iter, collin_tol=collin_tol)
    if family == "poisson":
        call.update(offset=offset, exposure=exposure)
        call["_offset_spec"] = (offset if offset is not None else exposure, off_kind)
    result = GlmResult(core, design, family=family, vcov_type=kind, call=call, formula=formula,
                       n_missing_extra=n_extra)
    if result.n_separated:
        terms = f" (regressors involved: {', '.join(result.separating_terms)})" if result.separating_terms else ""
        gone = [t for t in result.collinear if t in result.separating_terms]
        warnings.warn(f"{family}: {result.n_separated} separated observation(s) dropped{terms}; the model was refitted "
                      "without them" + (f", where {gone} became collinear and were dropped" if gone else "")
                      + " (separation='raise' to get an error instead)", ImpactkitWarning, stacklevel=3)
    if result.n_fe_dropped:
        what = "an all-zero outcome" if family == "poisson" else "a constant outcome"
        warnings.warn(f"{family}: {result.n_fe_dropped} row(s) dropped in fixed-effect groups with {what}",
                      ImpactkitWarning, stacklevel=3)
    if result.n_boundary and not result.separation_checked:
        warnings.warn(f"{family}: {result.n_boundary} fitted value(s) within 1e-8 of the boundary and separation was not "
                      "verified; check the estimates (check_separation='always')", ImpactkitWarning, stacklevel=3)
    warn_if_not_psd(family, kind, result, stacklevel=3)
    other = [t for t in result.collinear if t not in result.separating_terms]
    if other:
        warnings.warn(f"{family}: dropped collinear column(s) {other}", ImpactkitWarning, stacklevel=3)
    warn_if_constant_outcome(result._y, design.depvar, family, stacklevel=3)  # Poisson (binary models refuse it)
    return result


_DOC = """{title} regression by maximum likelihood (IRLS), with robust or cluster-robust standard errors.

    Parameters
    ----------
    formula : "y ~ x1 + C(region)" (formulaic syntax; intercept unless "- 1"), optionally with absorbed
        fixed effects after a bar: "y ~ x1 + x2 | household + round" ("a^b" for an interaction).{outcome}
    data : pandas DataFrame (never modified).
    weights : column name or array of positive prior weights (each observation's log-likelihood is
        multiplied by its weight; robust/cluster variances treat them as sampling weights).{offset}
    vcov : "iid" (model-based: inverse information), "HC0", "HC1", "CR0", "CR1". Default HC1, or CR1 when
        ``cluster`` is given (statsmodels' default is model-based: pass vcov="iid" to match it).
    cluster : column name, or list of names for multiway (Cameron–Gelbach–Miller) clustering.
    ssc : small-sample corrections. Default (= "fixest", statsmodels): HC1 n/(n−k), CR1
        G/(G−1)·(n−1)/(n−k), k counting absorbed fixed effects (those nested in the clusters excluded
        for CR1). "stata": Stata's maximum-likelihood convention (logit, probit, poisson commands),
        HC1 n/(n−1) and CR1 G/(G−1), absorbed fixed effects not counted. Or
        ik.SSC(adj=..., cluster_adj=..., cluster_df=..., fixef_k=..., exact_redundancy=...).
    na : "drop" (listwise, count in ``nobs_missing``) or "raise".
    information : "observed" (default; Stata, statsmodels) or "expected" (R glm, fixest) information
        matrix as the bread; they differ for probit only.
    separation : "drop" (default; Stata, ppmlhdfe, pyfixest): separated observations are dropped and the
        model refitted, with a warning and the count in ``n_separated``; "raise": InvalidInputError.
    check_separation : "auto" (when fitted values approach the boundary or the fit does not converge),
        "always", or "never".
    drop_singletons, fe_tol, fe_max_iter : fixed-effect singletons and projection tolerance / cap.
    tol, max_iter : IRLS convergence on the relative deviance change, iteration cap (ConvergenceError).
    collin_tol : as in ``ik.ols``.
    design : an :class:`ik.SurveyDesign` over the rows of ``data``: design-based variance equal to R
        ``svyglm`` (quasibinomial / quasipoisson families), t on #PSU − #strata − k + 1 df.

    Inference is normal (z), as statsmodels, Stata and fixest report for these models (t with the
    design df under ``design=``, as R svyglm). Weights, cluster{offset_note} given as a pandas Series are
    aligned to ``data`` by index label; arrays are taken by position.

    Returns
    -------
    GlmResult
        ``coef``, ``se``, ``vcov``, ``pvalues``, ``conf_int(level)``, ``tidy()``, ``summary()``,
        ``wald_test(...)``, ``loglik``, ``pseudo_r2``, ``fitted_values``, ``predict(newdata, type=...)``,
        ``fixef()``, and the rows dropped on the way (``nobs_missing``, ``n_separated``, ...).

    Raises
    ------
    ValueError (InvalidInputError)
        Bad outcome (e.g. not 0/1), separation with ``separation="raise"`` (naming the regressors
        involved), bad options; ``ConvergenceError`` (a ValueError) when IRLS hits ``max_iter``.

    Examples
    --------
    >>> import impactkit as ik
    >>> df = ik.datasets.load("{example_data}")
    >>> fit = ik.{name}("{example_formula}", df{example_kw})
    >>> fit.tidy()
    >>> fit.predict(df.head())
    """


def logit(formula: str, data, *, weights=None, vcov: Optional[str] = None, cluster: Union[str, list, None] = None,
          ssc=None, na: str = "drop", information: Optional[str] = None, separation: str = "drop",
          check_separation: str = "auto", drop_singletons: bool = True, fe_tol: float = 1e-10,
          fe_max_iter: int = 10000, tol: float = 1e-10, max_iter: int = 100, collin_tol: float = 1e-10,
          design=None) -> GlmResult:
    return _fit("logit", formula, data, weights=weights, vcov=vcov, cluster=cluster, ssc=ssc, na=na,
                information=information, separation=separation, check_separation=check_separation,
                drop_singletons=drop_singletons, fe_tol=fe_tol, fe_max_iter=fe_max_iter, tol=tol, max_iter=max_iter,
                collin_tol=collin_tol, design=design)


def probit(formula: str, data, *, weights=None, vcov: Optional[str] = None, cluster: Union[str, list, None] = None,
           ssc=None, na: str = "drop", information: Optional[str] = None, separation: str = "drop",
           check_separation: str = "auto", drop_singletons: bool = True, fe_tol: float = 1e-10,
           fe_max_iter: int = 10000, tol: float = 1e-10, max_iter: int = 100, collin_tol: float = 1e-10,
           design=None) -> GlmResult:
    return _fit("probit", formula, data, weights=weights, vcov=vcov, cluster=cluster, ssc=ssc, na=na,
                information=information, separation=separation, check_separation=check_separation,
                drop_singletons=drop_singletons, fe_tol=fe_tol, fe_max_iter=fe_max_iter, tol=tol, max_iter=max_iter,
                collin_tol=collin_tol, design=design)


def cloglog(formula: str, data, *, weights=None, vcov: Optional[str] = None, cluster: Union[str, list, None] = None,
            ssc=None, na: str = "drop", information: Optional[str] = None, separation: str = "drop",
            check_separation: str = "auto", drop_singletons: bool = True, fe_tol: float = 1e-10,
            fe_max_iter: int = 10000, tol: float = 1e-10, max_iter: int = 100, collin_tol: float = 1e-10,
            design=None) -> GlmResult:
    return _fit("cloglog", formula, data, weights=weights, vcov=vcov, cluster=cluster, ssc=ssc, na=na,
                information=information, separation=separation, check_separation=check_separation,
                drop_singletons=drop_singletons, fe_tol=fe_tol, fe_max_iter=fe_max_iter, tol=tol, max_iter=max_iter,
                collin_tol=collin_tol, design=design)


def poisson(formula: str, data, *, weights=None, offset=None, exposure=None, vcov: Optional[str] = None,
            cluster: Union[str, list, None] = None, ssc=None, na: str = "drop", information: Optional[str] = None,
            separation: str = "drop", check_separation: str = "auto", drop_singletons: bool = True,
            fe_tol: float = 1e-10, fe_max_iter: int = 10000, tol: float = 1e-10, max_iter: int = 100,
            collin_tol: float = 1e-10, design=None) -> GlmResult:
    return _fit("poisson", formula, data, weights=weights, offset=offset, exposure=exposure, vcov=vcov,
                cluster=cluster, ssc=ssc, na=na, information=information, separation=separation,
                check_separation=check_separation, drop_singletons=drop_singletons, fe_tol=fe_tol,
                fe_max_iter=fe_max_iter, tol=tol, max_iter=max_iter, collin_tol=collin_tol, design=design)


_BINARY = "\n        The outcome must be 0/1 (bool or numeric); fixed-effect groups whose outcome is all 0 or all 1 are dropped."
_THORNTON = dict(example_data="thornton_hiv", example_formula="got ~ any + age + distvct", example_kw=', cluster="villnum"',
                 offset_note="")
logit.__doc__ = _DOC.format(title="Logit", outcome=_BINARY, offset="", name="logit", **_THORNTON)
probit.__doc__ = _DOC.format(title="Probit", outcome=_BINARY, offset="", name="probit", **_THORNTON)
cloglog.__doc__ = _DOC.format(title="Complementary log-log (binary; P(y = 1) = 1 − exp(−exp(xβ)))", outcome=_BINARY, offset="",
                              name="cloglog", **_THORNTON)
poisson.__doc__ = _DOC.format(
    title="Poisson (pseudo-maximum-likelihood, PPML)", name="poisson", example_data="cattaneo2",
    example_formula="nprenatal ~ mmarried + medu", example_kw="", offset_note=", offset and exposure",
    outcome="\n        The outcome must be non-negative (need not be integer); fixed-effect groups with an all-zero outcome are dropped.",
    offset="\n    offset, exposure : column name or array; the offset enters the linear predictor with coefficient 1,"
           "\n        exposure as its logarithm (at most one of the two).")

_FITTERS = {"logit": logit, "probit": probit, "cloglog": cloglog, "poisson": poisson}
