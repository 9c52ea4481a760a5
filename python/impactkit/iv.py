"""Instrumental variables, two-stage least squares: ``ik.iv``.

>>> fit = ik.iv("y ~ x1 + x2 | d ~ z1 + z2", df)              # no fixed effects
>>> fit = ik.iv("y ~ x1 | village + year | d ~ z1 + z2", df, cluster="village")
>>> fit.first_stage                 # per endogenous regressor: R², partial R², partial F
>>> fit.kp_f, fit.effective_f, fit.overid

The formula follows fixest/pyfixest: ``outcome ~ exogenous [| fixed effects] | endogenous ~ instruments``.
The C++ core (``impactkit::iv_2sls``, include/impactkit/impact/iv.hpp) documents every statistic and
its convention.
"""
from __future__ import annotations

import re
import warnings
from collections import namedtuple
from typing import Optional, Union

import numpy as np
import pandas as pd

from . import _core
from ._formula import (Design, _check_frame, _required_variables, _split_formula, build_design, by_position,
                       check_fit_options, check_formula_syntax, cluster_specs, warn_if_constant_outcome)
from .errors import ImpactkitWarning, InvalidInputError
from .variance import _resolve_ssc, _resolve_vcov, design_rows, design_sample, split_vcov, vcov_spec, warn_if_not_psd
from .results import RegressionResult

__all__ = ["iv", "IVResult", "OverIdTest"]

#: An over-identification test: chi²(df) statistic and p-value (NaN when not defined).
OverIdTest = namedtuple("OverIdTest", ["name", "statistic", "df", "p_value"])


def _split_iv_formula(formula: str):
    """'y ~ x | fe1 + fe2 | d1 + d2 ~ z1 + z2' → ('y ~ x', 'fe1 + fe2' or None, 'd1 + d2', 'z1 + z2')."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string like 'y ~ x | d ~ z', got {type(formula).__name__}")
    check_formula_syntax(formula)
    parts = [p.strip() for p in formula.split("|")]
    if len(parts) < 2 or "~" not in parts[-1]:
        raise InvalidInputError(
            f"formula {formula!r} has no instrumental-variables part: write 'y ~ x | d ~ z' or, with absorbed fixed "
            "effects, 'y ~ x | fe1 + fe2 | d ~ z' (endogenous regressors left of the second '~', excluded instruments "
            "right of it); for a model without endogenous regressors use ik.ols")
    if len(parts) > 3:
        raise InvalidInputError(f"formula {formula!r}: use at most two '|' (outcome ~ exogenous | fixed effects | "
                                "endogenous ~ instruments)")
    main = parts[0]
    if "~" not in main:
        raise InvalidInputError(f"formula {formula!r} has no '~' in its first part: write it as 'outcome ~ exogenous | ...'")
    fe = parts[1] if len(parts) == 3 else None
    if fe is not None and "~" in fe:
        raise InvalidInputError(f"formula {formula!r}: the middle part names absorbed fixed effects and cannot contain '~'")
    if parts[-1].count("~") != 1:
        raise InvalidInputError(f"formula {formula!r}: the last part must be 'endogenous ~ instruments'")
    endog, instr = (s.strip() for s in parts[-1].split("~"))
    if not endog:
        raise InvalidInputError(f"formula {formula!r} names no endogenous regressor left of the last '~'")
    if not instr:
        raise InvalidInputError(f"formula {formula!r} names no excluded instrument right of the last '~'")
    return main, fe, endog, instr


def _rhs_matrix(rhs: str, data: pd.DataFrame, what: str, formula: str) -> pd.DataFrame:
    """Model matrix of a right-hand side (factor coding with a reference level), without the intercept."""
    from formulaic import model_matrix

    try:
        mm = model_matrix(rhs, data, na_action="raise")
    except Exception as exc:
        raise InvalidInputError(f"cannot build the {what} of {formula!r} from {rhs!r}: {exc}") from None
    mm = pd.DataFrame(mm)
    if "Intercept" in mm.columns:
        mm = mm.drop(columns="Intercept")
    if mm.shape[1] == 0:
        raise InvalidInputError(f"formula {formula!r}: {rhs!r} gives no {what}")
    return mm


def _named_error(exc: Exception, endog: list, instr: list) -> Exception:
    """Add the column names to the C++ messages that refer to instruments / endogenous regressors by index."""
    msg = str(exc)
    msg = re.sub(r"excluded instrument (\d+)", lambda m: f"excluded instrument {instr[int(m.group(1))]!r}"
                 if int(m.group(1)) < len(instr) else m.group(0), msg)
    msg = re.sub(r"endogenous regressor (\d+)", lambda m: f"endogenous regressor {endog[int(m.group(1))]!r}"
                 if int(m.group(1)) < len(endog) else m.group(0), msg)
    return type(exc)(msg)


def _fmt_stat(x: float, digits: int = 4) -> str:
    return "NaN" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


class IVResult(RegressionResult):
    """A fitted instrumental-variables (2SLS) regression (``ik.iv``).

    Everything of :class:`RegressionResult` (second-stage coefficients, variance, tidy, summary, etable)
    plus the first stages and the weak-instrument and over-identification statistics:

    first_stage : DataFrame, one row per endogenous regressor: ``r2`` (first stage, including absorbed
        fixed effects), ``partial_r2`` (of the excluded instruments, after partialling out the exogenous
        regressors), ``f_stat`` (partial F: Wald test of the excluded instruments with the first-stage
        variance of the model's kind, divided by their number), ``f_p_value``, ``f_df_num``, ``f_df_denom``.
    first_stage_f : Series of the partial F statistics.
    first_stage_results : {endogenous: RegressionResult} — the full first-stage regressions.
    cragg_donald_f : Cragg–Donald Wald F (iid; the statistic of Stock–Yogo's tables).
    kp_f : Kleibergen–Paap rk Wald F (robust / cluster-robust kinds; NaN for iid), as Stata's ivreg2.
    effective_f : Montiel Olea–Pflueger effective F (one endogenous regressor; NaN otherwise).
    overid : OverIdTest — Sargan (iid) or Hansen J (robust / cluster), chi²(#instruments − #endogenous);
        NaN when exactly identified. ``sargan`` and ``hansen_j`` hold both where defined.
    """

    title = "IV (2SLS)"

    def __init__(self, core, design, *, vcov_type: str, call: dict, formula: str, endogenous: list,
                 instruments: list, exogenous: list, first_stage_designs: list, first_stage_formulas: list):
        super().__init__(core.fit, design, vcov_type=vcov_type, call=call, formula=formula)
        # what with_vcov needs to build this result again with another variance (no refit; DESIGN.md §2)
        self._iv_parts = (core, design, dict(endogenous=endogenous, instruments=instruments, exogenous=exogenous,
                                             first_stage_designs=first_stage_designs,
                                             first_stage_formulas=first_stage_formulas))
        if core.fit.weighted:
            self.title = "IV (weighted 2SLS)"
        self.endogenous = list(endogenous)
        self.instruments = list(instruments)
        self.exogenous = list(exogenous)
        self.diagnostics_convention = str(core.diagnostics_convention)
        self.first_stage_results = {}
        rows = []
        for name, fs, fdesign, fformula in zip(self.endogenous, core.first_stage, first_stage_designs, first_stage_formulas):
            res = RegressionResult(fs.fit, fdesign, vcov_type=vcov_type, call=call, formula=fformula)
            res.title = "IV first stage"
            self.first_stage_results[name] = res
            rows.append({"r2": float(fs.fit.r2), "partial_r2": float(fs.partial_r2), "f_stat": float(fs.f_stat),
                         "f_p_value": float(fs.f_p_value), "f_df_num": int(fs.f_df_num), "f_df_denom": float(fs.f_df_denom)})
        self._first_stage = pd.DataFrame(rows, index=pd.Index(self.endogenous, name="endogenous"))
        self.cragg_donald_f = float(core.cragg_donald_f)
        self.kleibergen_paap_f = float(core.kleibergen_paap_f)
        self.effective_f = float(core.effective_f)
        self.sargan = OverIdTest(str(core.sargan.name), float(core.sargan.statistic), int(core.sargan.df),
                                 float(core.sargan.p_value))
        self.hansen_j = OverIdTest(str(core.hansen_j.name), float(core.hansen_j.statistic), int(core.hansen_j.df),
                                   float(core.hansen_j.p_value))
        self.overid = OverIdTest(str(core.overid.name), float(core.overid.statistic), int(core.overid.df),
                                 float(core.overid.p_value))

    # --- first stage and diagnostics ----------------------------------------------------------
    @property
    def first_stage(self) -> pd.DataFrame:
        return self._first_stage.copy()

    @property
    def first_stage_f(self) -> pd.Series:
        return self._first_stage["f_stat"].rename("first_stage_f")

    @property
    def kp_f(self) -> float:
        return self.kleibergen_paap_f

    def first_stage_tidy(self, level: float = 0.95) -> pd.DataFrame:
        """All first-stage coefficients in one long table with a leading ``endogenous`` column."""
        frames = []
        for name, res in self.first_stage_results.items():
            t = res.tidy(level)
            t.insert(0, "endogenous", name)
            frames.append(t)
        return pd.concat(frames, ignore_index=True)

    def with_vcov(self, vcov: Optional[str] = None, *, cluster=None, ssc=None) -> "IVResult":
        """The same model with another variance estimator (a new object; this one is unchanged).

        No refit: the second- and first-stage variances and every statistic of the variance kind (partial
        first-stage F, Kleibergen–Paap F, effective F, Hansen J) are recomputed in C++ from the pieces the
        fit kept (``impactkit::iv_with_vcov``), for every kind (iid, HC0–HC3, CR0–CR3, and from a survey
        design to a model-based variance), so the result equals a fresh ``ik.iv`` with that variance. The
        model is refitted on the same sample only when a new ``ssc`` may change the absorbed fixed-effect
        count, or when the fit kept no pieces (replicate designs)."""
        from .variance import refit_kwargs

        fast = self._variance_without_refit(vcov, cluster, ssc)
        if fast is not None:
            return fast
        return iv(self.formula, **refit_kwargs(self._call, self.residuals.index, vcov, cluster, ssc, "iv"))

    def _variance_without_refit(self, vcov, cluster, ssc):
        from .results import cluster_codes_on_sample

        parts = getattr(self, "_iv_parts", None)
        if parts is None:
            return None
        core, design, kwargs = parts
        vcov, cluster = split_vcov(vcov, cluster)
        call = self._call
        survey = call.get("design")
        if vcov is None and cluster is None and survey is not None:
            return self
        if cluster is None and (vcov is None or (isinstance(vcov, str) and vcov.upper().startswith("CR"))):
            cluster = call.get("cluster")
        kind = _resolve_vcov(vcov, cluster)
        probability = survey is not None or (call.get("weights") is not None and call.get("weight_type") == "probability")
        if (self.fixed_effects and ssc is not None) or (kind == "iid" and probability):
            return None  # the absorbed count may change / the refit gives the error a fresh fit gives
        clusters = cluster_codes_on_sample(call["data"], cluster, self._positions, "iv") if kind.startswith("CR") else None
        spec = vcov_spec(kind, clusters, _resolve_ssc(ssc if ssc is not None else call.get("ssc")))
        new_core = _core.iv_with_vcov(core, spec)
        new_call = dict(call, vcov=vcov, cluster=cluster if kind.startswith("CR") else None,
                        ssc=ssc if ssc is not None else call.get("ssc"))
        if survey is not None:  # the design's weights become probability weights of a model-based fit
            new_call.update(design=None, weight_type="probability",
                            weights=survey._w[survey.positions_of(call["data"].index, "iv.with_vcov")])
        result = IVResult(new_core, design, vcov_type=kind, call=new_call, formula=self.formula, **kwargs)
        names = [c if isinstance(c, str) else str(c.name) if isinstance(c, pd.Series) and c.name is not None else f"cluster{j}"
                 for j, c in enumerate(cluster_specs(cluster))] if clusters is not None else []  # as build_design names them
        for res in (result, *result.first_stage_results.values()):  # the fit's design named its own clusters
            res.n_clusters = dict(zip(names, [int(g) for g in res._residual_parts[0].n_clusters]))
        warn_if_not_psd("iv", kind, result, stacklevel=3)
        return result

    # --- prediction ------------------------------------------------------------------------------
    def _prediction_rhs(self) -> str:
        """Exogenous and endogenous regressors: the structural equation y = [X, D]b."""
        main, _, endog, _ = _split_iv_formula(self.formula)
        return f"{main.split('~', 1)[1]} + {endog}"

    def _fe_terms(self) -> list:
        main, fe, _, _ = _split_iv_formula(self.formula)
        return _split_formula(f"{main} | {fe}")[1] if fe else []

    # --- presentation ----------------------------------------------------------------------------
    def fit_stats(self) -> list:
        stats = super().fit_stats()
        for name, row in self._first_stage.iterrows():
            stats.append((f"First-stage F ({name})", _fmt_stat(row["f_stat"])))
        if len(self.endogenous) > 1 or self.vcov_type == "iid":
            stats.append(("Cragg-Donald F", _fmt_stat(self.cragg_donald_f)))
        if np.isfinite(self.kleibergen_paap_f):
            stats.append(("Kleibergen-Paap F", _fmt_stat(self.kleibergen_paap_f)))
        if np.isfinite(self.effective_f):
            stats.append(("Effective F", _fmt_stat(self.effective_f)))
        if self.overid.df > 0:
            stats.append((f"{self.overid.name} (df {self.overid.df})",
                          f"{_fmt_stat(self.overid.statistic)} (p = {_fmt_stat(self.overid.p_value, 3)})"))
        return stats

    def notes(self) -> list:
        out = super().notes()
        out.append(f"Endogenous: {', '.join(self.endogenous)}; excluded instruments: {', '.join(self.instruments)}.")
        out.append(self.diagnostics_convention)
        weak = [n for n, f in self.first_stage_f.items() if np.isfinite(f) and f < 10]
        if weak:
            out.append(f"Weak instruments? First-stage F below 10 for {', '.join(weak)} (Staiger-Stock rule of thumb).")
        return out


def iv(formula: str, data, *, weights=None, weight_type: str = "analytic", vcov: Optional[str] = None,
       cluster: Union[str, list, None] = None, ssc=None, na: str = "drop", collin_tol: float = 1e-10,
       drop_singletons: bool = True, fe_tol: float = 1e-8, fe_max_iter: int = 10000, design=None) -> IVResult:
    """Instrumental variables by two-stage least squares, with robust, cluster-robust or classical SEs.

    Parameters
    ----------
    formula : ``"y ~ x1 + x2 | d ~ z1 + z2"`` or, with absorbed fixed effects,
        ``"y ~ x1 + x2 | fe1 + fe2 | d ~ z1 + z2"`` (fixest/pyfixest syntax). Left of the last ``~`` the
        endogenous regressors (``d1 + d2``), right of it the excluded instruments; exogenous regressors
        (with an intercept unless ``- 1``, dropped when fixed effects are absorbed) are used as their own
        instruments. Terms use formulaic syntax (``C(region)``, ``np.log(x)``, ...).
    data : pandas DataFrame (never modified).
    weights, weight_type, vcov, cluster, ssc, na, collin_tol, drop_singletons, fe_tol, fe_max_iter :
        as :func:`impactkit.ols`. The default variance is HC1, or CR1 when ``cluster`` is given; every kind
        (iid, HC0–HC3, CR0–CR3) is the 2SLS sandwich with the second-stage design [X, D̂] and the structural
        residuals y − [X, D]b.

    Returns
    -------
    IVResult
        Second-stage estimates (everything of :class:`RegressionResult`: ``tidy()``, ``summary()``,
        ``predict(newdata)`` with y = [X, D]·b, ...) plus ``first_stage``, ``first_stage_f``,
        ``cragg_donald_f``, ``kp_f``, ``effective_f`` and ``overid``.

    Raises
    ------
    ValueError (InvalidInputError)
        Malformed formula (e.g. an empty fixed-effect part ``'y ~ x | | d ~ z'``), under-identification,
        unknown columns; the message names the part at fault.

    Examples
    --------
    >>> import impactkit as ik
    >>> df = ik.datasets.load("card_krueger")
    >>> fit = ik.iv("fte ~ d | nj ~ bk", df)            # illustration of the syntax only
    >>> fit.first_stage
    >>> ik.iv("fte ~ 1 | id | wage ~ d_nj", df, cluster="id").tidy()
    """
    data = _check_frame(data)
    if weight_type not in ("analytic", "probability"):
        raise InvalidInputError(f"weight_type must be 'analytic' or 'probability', got {weight_type!r}")
    main, fe, endog_rhs, instr_rhs = _split_iv_formula(formula)
    check_fit_options(collin_tol=collin_tol, fe_tol=fe_tol, fe_max_iter=fe_max_iter)
    vcov, cluster = split_vcov(vcov, cluster)
    survey = design
    if survey is not None:
        if fe is not None:
            raise InvalidInputError("iv: design= with absorbed fixed effects is not supported yet; write the fixed effects as "
                                    "C(fe) regressors")
        replicated, taylor = design_sample(survey, data, weights, vcov, cluster, "iv", lambda d, w: iv(
            formula, d, weights=w, weight_type="probability", vcov="HC0", na=na, collin_tol=collin_tol))
        if replicated is not None:
            return replicated
        (weights, survey_pos, data), weight_type, kind = taylor, "probability", "survey"
    else:
        kind = _resolve_vcov(vcov, cluster)
    if weight_type == "probability" and weights is not None and kind == "iid":
        raise InvalidInputError("probability weights need a robust (HC) or cluster-robust (CR) vcov, not iid")
    s = _resolve_ssc(ssc)
    # column checks with messages that name the part of the formula at fault
    if fe is not None and not fe.strip():  # 'y ~ x | | d ~ z': refused as ols refuses 'y ~ x |'
        raise InvalidInputError(f"formula {formula!r}: the part after '|' names no fixed effect")
    _split_formula(main if fe is None else f"{main} | {fe}")  # outcome, right-hand side, fixed-effect part (as ols)
    fe_part = f" | {fe}" if fe else ""
    _required_variables(main, data)
    _required_variables(f"{endog_rhs} ~ {instr_rhs}", data)

    # Rows: listwise deletion over every variable of every part (build_design on the union of terms),
    # on a positional copy of the index so that duplicate row labels cannot multiply rows; weights and
    # cluster Series are aligned to `data` by label first.
    frame = data.reset_index(drop=True)
    weights_rows = by_position(data, weights, "weights", frame.index)
    cluster_rows = None if cluster is None else [by_position(data, c, "cluster", frame.index) for c in cluster_specs(cluster)]
    lhs, rhs = (p.strip() for p in main.split("~", 1))
    union = f"{lhs} ~ {rhs} + {endog_rhs} + {instr_rhs}{fe_part}"
    rows = build_design(union, frame, weights=weights_rows, cluster=cluster_rows, na=na)
    sub = frame.loc[rows.index]

    from formulaic import model_matrix

    try:
        mm = model_matrix(main, sub, na_action="raise")
    except Exception as exc:
        raise InvalidInputError(f"cannot build the design for {main!r}: {exc}") from None
    Xdf = pd.DataFrame(mm.rhs)
    if fe and "Intercept" in Xdf.columns:  # absorbed by the fixed effects
        Xdf = Xdf.drop(columns="Intercept")
    Ddf = _rhs_matrix(endog_rhs, sub, "endogenous regressors", formula)
    Zdf = _rhs_matrix(instr_rhs, sub, "excluded instruments", formula)
    xn, dn, zn = [str(c) for c in Xdf.columns], [str(c) for c in Ddf.columns], [str(c) for c in Zdf.columns]
    for a, an, b, bn in ((xn, "exogenous regressor", dn, "endogenous regressor"), (xn, "exogenous regressor", zn, "instrument"),
                         (dn, "endogenous regressor", zn, "instrument")):
        both = [t for t in a if t in b]
        if both:
            raise InvalidInputError(f"formula {formula!r}: {both} appear(s) both as {an} and as {bn}")
    if len(zn) < len(dn):
        raise InvalidInputError(f"formula {formula!r} is under-identified: {len(dn)} endogenous regressor(s) {dn} but only "
                                f"{len(zn)} excluded instrument(s) {zn}; add instruments")

    n = len(sub)
    X = np.asfortranarray(Xdf.to_numpy(dtype=np.float64)) if xn else np.zeros((n, 0), order="F")
    D = np.asfortranarray(Ddf.to_numpy(dtype=np.float64))
    Z = np.asfortranarray(Zdf.to_numpy(dtype=np.float64))
    try:
        spec = (vcov_spec(kind, survey=survey, survey_rows=design_rows(survey_pos, rows.index)) if survey is not None
                else vcov_spec(kind, rows.clusters, s))
        core = _core.iv_2sls(X, D, Z, rows.y, rows.weights, spec, float(collin_tol),
                             weight_type == "probability", rows.fixed_effects, bool(drop_singletons), float(fe_tol), int(fe_max_iter))
    except ValueError as exc:
        raise _named_error(exc, dn, zn) from None

    index = data.index[np.asarray(rows.index)]
    design = Design(y=rows.y, X=X, terms=xn + dn, depvar=rows.depvar, index=index, n_missing=rows.n_missing,
                    weights=rows.weights, clusters=rows.clusters, cluster_names=rows.cluster_names,
                    fixed_effects=rows.fixed_effects, fe_names=rows.fe_names, fe_levels=rows.fe_levels,
                    positions=np.asarray(rows.index))
    fs_designs, fs_formulas = [], []
    for j, name in enumerate(dn):
        fs_designs.append(Design(y=np.ascontiguousarray(D[:, j]), X=X, terms=xn + zn, depvar=name, index=index, n_missing=rows.n_missing,
                                 weights=rows.weights, clusters=rows.clusters, cluster_names=rows.cluster_names,
                                 fixed_effects=rows.fixed_effects, fe_names=rows.fe_names, fe_levels=rows.fe_levels,
                                 positions=np.asarray(rows.index)))
        fs_formulas.append(f"{name} ~ {rhs} + {instr_rhs}{fe_part}")
    call = dict(data=data, weights=weights if survey is None else None, weight_type=weight_type if survey is None else "analytic",
                vcov=vcov, cluster=cluster, ssc=ssc, na=na, collin_tol=collin_tol, drop_singletons=drop_singletons,
                fe_tol=fe_tol, fe_max_iter=fe_max_iter, design=survey)
    result = IVResult(core, design, vcov_type=kind, call=call, formula=formula, endogenous=dn, instruments=zn,
                      exogenous=xn, first_stage_designs=fs_designs, first_stage_formulas=fs_formulas)
    warn_if_not_psd("iv", kind, result, stacklevel=2)
    if result.collinear:
        warnings.warn(f"iv: dropped collinear exogenous column(s) {result.collinear}", ImpactkitWarning, stacklevel=2)
    warn_if_constant_outcome(rows.y, rows.depvar, "iv", stacklevel=2)
    return result
