"""Variance designs for the variance contract (DESIGN.md §2).

An estimator supplies its influence values ψ (or scores and a bread); the *variance design* says how
the data were sampled or clustered. This module turns what a user writes — ``"HC1"``, a cluster
column, an :class:`ik.SurveyDesign` — into the C++ ``VarianceDesign`` the one variance entry takes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from . import _core
from .errors import InvalidInputError

_VCOV = {"IID": "iid", "CLASSICAL": "iid", "NONROBUST": "iid", "HC0": "HC0", "HC1": "HC1", "ROBUST": "HC1",
         "HETERO": "HC1", "HC2": "HC2", "HC3": "HC3", "CR0": "CR0", "CR1": "CR1", "CLUSTER": "CR1",
         "CR2": "CR2", "CR3": "CR3",
         # pyfixest / fixest names: CRV1 is CR1, CRV3 the cluster jackknife CR3
         "CRV1": "CR1", "CRV3": "CR3"}


@dataclass(frozen=True)
class SSC:
    """Small-sample corrections (fixest's ``ssc`` vocabulary).

    adj: (n−1)/(n−k) in CR1. cluster_adj: G/(G−1) in CR1. cluster_df: with multiway clustering,
    "min" uses G = min over dimensions in every term (fixest, pyfixest, reghdfe), "conventional"
    each term's own G (Cameron–Gelbach–Miller, statsmodels).
    fixef_k: how absorbed fixed effects count in k — "nonnested" (all but those nested in a cluster
    variable; fixest, pyfixest and reghdfe), "full" or "none".
    exact_redundancy: count redundant fixed-effect levels exactly from the connected components of
    the first two dimensions (reghdfe) instead of one per extra dimension (fixest, pyfixest); they
    differ only when the two dimensions split into several disconnected groups.
    """
    adj: bool = True
    cluster_adj: bool = True
    cluster_df: str = "min"
    fixef_k: str = "nonnested"
    exact_redundancy: bool = False

    def __post_init__(self):
        if self.cluster_df not in ("min", "conventional"):
            raise InvalidInputError(f"cluster_df must be 'min' or 'conventional', got {self.cluster_df!r}")
        if self.fixef_k not in ("nonnested", "full", "none"):
            raise InvalidInputError(f"fixef_k must be 'nonnested', 'full' or 'none', got {self.fixef_k!r}")

    @classmethod
    def stata(cls) -> "SSC":
        """Stata regress/reghdfe: G/(G-1)(n-1)/(n-k), G_min, nested FE not counted, exact redundancy."""
        return cls(True, True, "min", "nonnested", True)

    @classmethod
    def fixest(cls) -> "SSC":
        """fixest/pyfixest defaults (the impactkit default)."""
        return cls(True, True, "min", "nonnested", False)

    @classmethod
    def none(cls) -> "SSC":
        return cls(False, False, "min", "none", False)


def _resolve_ssc(ssc) -> SSC:
    if ssc is None:
        return SSC()
    if isinstance(ssc, SSC):
        return ssc
    if isinstance(ssc, str):
        presets = {"stata": SSC.stata, "fixest": SSC.fixest, "none": SSC.none}
        if ssc.lower() not in presets:
            raise InvalidInputError(f"unknown ssc preset {ssc!r}; use one of {sorted(presets)} or ik.SSC(...)")
        return presets[ssc.lower()]()
    if isinstance(ssc, dict):
        return SSC(**ssc)
    raise TypeError(f"ssc must be None, a preset name, a dict or ik.SSC, got {type(ssc).__name__}")


def split_vcov(vcov, cluster):
    """pyfixest's ``vcov={"CRV1": "col"}`` form → (name, cluster); anything else unchanged."""
    if isinstance(vcov, dict):
        if len(vcov) != 1:
            raise InvalidInputError(f"vcov as a dict names one cluster-robust kind, e.g. {{'CRV1': 'village'}}; got {vcov!r}")
        (name, col), = vcov.items()
        if cluster is not None and cluster != col:
            raise InvalidInputError(f"vcov={vcov!r} names the cluster column {col!r} but cluster={cluster!r} was also given")
        if not isinstance(name, str) or not _VCOV.get(name.upper(), "").startswith("CR"):
            raise InvalidInputError(f"vcov dict key must be a cluster-robust kind (CRV1, CRV3, CR0-CR3), got {name!r}")
        return name, col
    return vcov, cluster


def _resolve_vcov(vcov: Optional[str], cluster) -> str:
    if vcov is None:
        return "CR1" if cluster is not None else "HC1"
    if not isinstance(vcov, str):
        raise TypeError(f"vcov must be a string such as 'HC1' or 'CR1' (or {{'CRV1': 'column'}}), got {type(vcov).__name__}")
    key = vcov.upper()
    if key not in _VCOV:
        raise InvalidInputError(f"unknown vcov {vcov!r}; use iid, HC0, HC1, HC2, HC3, CR0, CR1, CR2 or CR3 "
                                "(pyfixest names: hetero, CRV1, CRV3)")
    kind = _VCOV[key]
    if kind.startswith("CR") and cluster is None:
        raise InvalidInputError(f"vcov {vcov!r} is cluster-robust: pass cluster='column' (or a list for multiway)")
    if not kind.startswith("CR") and cluster is not None:
        raise InvalidInputError(f"cluster was given but vcov {vcov!r} is not cluster-robust; use CR0-CR3")
    return kind


def vcov_spec(kind: str, clusters=None, ssc: Optional[SSC] = None, *, cluster_fixed_effects=(), survey=None, survey_rows=None):
    """The C++ VcovSpec every estimator binding takes: ``kind`` as resolved by ``_resolve_vcov`` (or
    "survey" with an :class:`ik.SurveyDesign` and the design row of each estimation row)."""
    s = ssc if ssc is not None else SSC()
    if survey is not None:
        rows = np.arange(survey.n, dtype=np.int64) if survey_rows is None else np.asarray(survey_rows, dtype=np.int64)
        # fixef_k / exact_redundancy: how absorbed fixed effects count in k of the design df
        return _core.make_vcov_spec("survey", fixef_k=s.fixef_k, exact_redundancy=bool(s.exact_redundancy),
                                    survey=survey._core, survey_rows=rows)
    return _core.make_vcov_spec(kind, clusters, s.adj, s.cluster_adj, s.cluster_df, s.fixef_k, bool(s.exact_redundancy),
                                list(cluster_fixed_effects))


def _check_design(design, weights, who: str):
    from .survey import SurveyDesign

    if not isinstance(design, SurveyDesign):
        raise TypeError(f"{who}: design must be an ik.SurveyDesign, got {type(design).__name__}")
    if weights is not None:
        raise InvalidInputError(f"{who}: pass either weights= or design= (the design carries the sampling weights), not both")


def survey_weights(design, data, weights, who: str):
    """(weights, design row of each row, data) for ``design=`` with Taylor linearisation: rows with zero
    sampling weight are left out of the fit (they contribute nothing; their PSUs still count in the
    design). Refuses ``weights=`` beside a design (the design's weights are the sampling weights)."""
    _check_design(design, weights, who)
    pos = design.positions_of(data.index, who, data)
    w = design._w[pos]
    keep = w > 0
    if not keep.all():
        data, w, pos = data.iloc[np.flatnonzero(keep)], w[keep], pos[keep]
    return w, pos, data


def design_sample(design, data, weights, vcov, cluster, who: str, refit):
    """``design=`` for an estimator. Replicate designs: (the result, None) — the full-sample fit and one
    refit per set of replicate weights through ``refit(data, weights)``. Taylor designs: (None,
    (sampling weights, design row of each data row, data without zero-weight rows))."""
    if vcov not in (None, "survey") or cluster is not None:
        raise InvalidInputError(f"{who}: design= gives the design-based variance; leave vcov and cluster unset")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _check_design(design, weights, who)
    if design._repw is not None:
        return replicate_refit(refit, data, design, who), None
    return None, survey_weights(design, data, weights, who)


def design_rows(survey_pos: np.ndarray, positions) -> np.ndarray:
    """The design row of each estimation row: ``positions`` are the rows of the data the estimator
    kept (None: all)."""
    return survey_pos if positions is None else survey_pos[np.asarray(positions)]


def replicate_refit(fit, data, design, who: str):
    """A model under a replicate-weight design (R svyglm on a svrepdesign): the full-sample fit with the
    design's weights, and one refit per set of replicate weights (rows with zero replicate weight left
    out); V = scale Σ_r rscale_r (θ̂_r − θ̄)(θ̂_r − θ̄)ᵀ, t on rank(replicate weights) − k df.
    ``fit(data, weights)`` fits the model."""
    _check_design(design, None, who)
    pos = design.positions_of(data.index, who, data)

    def run(w):
        keep = np.flatnonzero(w > 0)
        return fit(data.iloc[keep], w[keep])

    full = run(design._w[pos])
    names = list(full.coef.index)
    reps = np.empty((design._repw.shape[1], len(names)))
    for r in range(design._repw.shape[1]):
        coef = run(design._repw[pos, r]).coef
        if list(coef.index) != names:
            raise InvalidInputError(f"{who}: replicate {r + 1} does not estimate the same coefficients ({list(coef.index)}) as "
                                    f"the full sample ({names}); a regressor is collinear in that replicate")
        reps[r] = coef.to_numpy()
    out = _core.variance.replicate_vcov(full.coef.to_numpy(), reps, design._rep_design)
    conv = dict(out["conventions"])
    df = design.df - len(names) + 1  # R svyglm: degf(design) + 1 - rank
    conv["df"], conv["df_rule"] = df, "rank(replicate weights)-k"
    conv["description"] = conv["description"].split("; t with")[0] + f"; t with rank(replicate weights)-k df ({df:g})"
    full._vcov = pd.DataFrame(np.asarray(out["vcov"]), index=names, columns=names)
    full._df = pd.Series(np.full(len(names), float(df)), index=names, name="df")
    full.vcov_type = design.replicate_type
    full.vcov_convention = conv["description"]
    full.conventions = conv
    full._call = dict(full._call, data=data, weights=None, design=design)
    if hasattr(full, "weight_type"):
        full.weight_type = "probability"
    return full


_HC_FACTORS = {"HC0": "none", "HC1": "n/(n-k)", "HETERO": "n/(n-k)", "ROBUST": "n/(n-k)", "STATA_ML": "n/(n-1)"}


def _labels(labels, n: int) -> np.ndarray:
    a = labels.to_numpy() if isinstance(labels, (pd.Series, pd.DataFrame)) else np.asarray(labels)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] != n:
        raise InvalidInputError(f"cluster labels must have one row per observation ({n}), got shape {a.shape}")
    cols = []
    for j in range(a.shape[1]):
        col = pd.Series(a[:, j])
        if col.isna().any():
            raise InvalidInputError(f"cluster labels (dimension {j}) have missing values")
        cols.append(pd.factorize(col)[0].astype(np.int32))
    return np.asfortranarray(np.column_stack(cols))


def variance_design(design, n: int):
    """The C++ VarianceDesign for ``design``: "iid"; "HC0", "HC1" (n/(n−k)), "stata_ml" (n/(n−1));
    cluster labels (array, Series or n×m frame; CR1) or ``("CR0" | "CR1" | "CR1_G", labels)``; an
    :class:`ik.SurveyDesign` with one row per observation; or a VarianceDesign itself."""
    from .survey import SurveyDesign

    V = _core.variance.VarianceDesign
    if design is None:
        return V.heteroskedastic("n/(n-k)")
    if isinstance(design, V):
        return design
    if isinstance(design, SurveyDesign):
        if design._repw is not None:
            raise InvalidInputError("a replicate-weight design re-evaluates the estimator with each set of replicate weights; "
                                    "influence values alone cannot give its variance")
        if design.n != n:
            raise InvalidInputError(f"the survey design has {design.n} rows but the influence values have {n}")
        return V.survey(design._core)
    if isinstance(design, str):
        key = design.upper()
        if key == "IID":
            return V.iid()
        if key in _HC_FACTORS:
            return V.heteroskedastic(_HC_FACTORS[key])
        raise InvalidInputError(f"unknown variance design {design!r}; use 'iid', 'HC0', 'HC1', 'stata_ml', cluster labels or an ik.SurveyDesign")
    if isinstance(design, tuple) and len(design) == 2 and isinstance(design[0], str):
        kind, labels = design
        # CR1: Stata's G/(G-1)(n-1)/(n-k); CR1_G: G/(G-1) alone, the one-stage cluster sample with
        # replacement of R survey (svydesign(ids=~cluster)); CR0: no factor
        factors = {"CR0": "none", "CR1": "G/(G-1)*(n-1)/(n-k)", "CR1_G": "G/(G-1)"}
        if kind.upper() not in factors:
            raise InvalidInputError(f"cluster variance must be 'CR0', 'CR1' or 'CR1_G', got {kind!r}")
        return V.cluster(_labels(labels, n), factors[kind.upper()], "min")
    return V.cluster(_labels(design, n), "G/(G-1)*(n-1)/(n-k)", "min")


def refit_kwargs(call: dict, used_index: pd.Index, vcov, cluster, ssc, who: str) -> dict:
    """Arguments that refit a model with another variance on exactly its estimation sample.

    ``with_vcov`` never changes the sample: the rows used at fit time (after dropping missing values,
    missing cluster labels, singletons, separated observations) are passed again, so a cluster
    column that was missing on some rows, or a new cluster column, cannot bring rows back or drop
    others. A new cluster column with missing values on the sample is an error."""
    kwargs = {k: v for k, v in call.items() if not k.startswith("_")}
    vcov, cluster = split_vcov(vcov, cluster)
    survey = kwargs.get("design")
    if survey is not None:
        if vcov is None and cluster is None:
            return kwargs  # the same design-based variance
        # another variance on a design fit: the design's sampling weights as probability weights
        kwargs["design"] = None
        kwargs["weights"] = survey.weights.to_numpy()[survey.positions_of(call["data"].index, who)]
        if "weight_type" in kwargs:
            kwargs["weight_type"] = "probability"
    kwargs["vcov"] = vcov
    is_cluster = vcov is None or (isinstance(vcov, str) and _VCOV.get(vcov.upper(), "").startswith("CR"))
    kwargs["cluster"] = cluster if cluster is not None else (call.get("cluster") if is_cluster else None)
    if ssc is not None:
        kwargs["ssc"] = ssc
    data = call["data"]
    if len(used_index) == len(data.index) and used_index.equals(data.index):
        return kwargs
    if not data.index.is_unique:
        raise InvalidInputError(f"{who}.with_vcov: the data's index has duplicate labels, so the estimation sample cannot be "
                                "selected again; reset the index (data.reset_index(drop=True)) and refit")
    pos = data.index.get_indexer(used_index)
    kwargs["data"] = data.iloc[pos]
    for name in ("weights", "offset", "exposure"):
        v = kwargs.get(name)
        if v is not None and not isinstance(v, (str, pd.Series)):
            kwargs[name] = np.asarray(v)[pos]
    new_cluster = kwargs["cluster"]
    if new_cluster is not None:
        for c in ([new_cluster] if isinstance(new_cluster, str) else list(new_cluster)):
            if isinstance(c, str) and c in data.columns and data[c].iloc[pos].isna().any():
                raise InvalidInputError(f"{who}.with_vcov: cluster column {c!r} has missing values in the estimation sample; "
                                        "with_vcov never changes the sample — refit the model with this cluster variable")
    return kwargs


def warn_if_not_psd(who: str, kind: str, result, stacklevel: int = 3) -> None:
    """ImpactkitWarning naming the coefficients whose variance is negative or undefined (their SEs are
    NaN). Only with two or more cluster dimensions is a negative variance expected (the inclusion-
    exclusion sum of the multiway sandwich need not be PSD: Cameron, Gelbach & Miller 2011, §2.3);
    otherwise it is a numerical failure and the message says so."""
    import warnings

    from .errors import ImpactkitWarning

    bad = [t for t, v in zip(result.coef.index, np.diag(result.vcov.to_numpy())) if not v >= 0]
    if not bad:
        return
    if len(getattr(result, "n_clusters", {}) or {}) >= 2:
        why = "multiway clustering can do this: Cameron, Gelbach & Miller 2011, section 2.3"
    else:
        why = ("the variance is negative or undefined in floating point; check for nearly collinear regressors or "
               "regressors that are almost constant within clusters")
    warnings.warn(f"{who}: the {kind} variance is not positive semi-definite; standard errors of {bad} are NaN ({why})",
                  ImpactkitWarning, stacklevel=stacklevel + 1)
