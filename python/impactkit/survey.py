"""Complex survey designs: ``ik.SurveyDesign`` and design-based descriptive estimators.

A design is described once (weights, strata, PSUs and later-stage units, finite-population
corrections, the lonely-PSU rule, or replicate weights), factorised once in C++ and reused by every
estimate. Every estimator here is a smooth function of weighted totals, so its influence values are
linear in the totals: each estimate needs one pass over its columns (the totals per sampling unit
and domain), and the linearisation then works on the #units × #domains table (Binder 1983; Lumley
2010, appendix C). Domains (``by=``) are estimated on the full design with zero weight outside the
domain, never by subsetting first, so PSU counts and degrees of freedom are those of the design.
The numbers equal R ``survey``'s (svymean, svytotal, svyratio, svyquantile, svyby, svyglm) under
every design and lonely-PSU rule; ``tests/reference/r/survey`` holds the R calls and values.
"""
from __future__ import annotations

import warnings
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _core
from .errors import ImpactkitWarning, InvalidInputError
from .results import EstimateResult

_v = _core.variance

_REPLICATE_TYPES = {"JK1": "JK1", "JKN": "JKn", "BRR": "BRR", "FAY": "Fay", "BOOTSTRAP": "bootstrap", "OTHER": "other"}
_LONELY = ("fail", "remove", "certainty", "average", "adjust")


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _column(data: pd.DataFrame, name, argument: str, who: str = "") -> pd.Series:
    """The column ``name`` of ``data``; errors name the argument (after ``who: `` when given)."""
    pre = f"{who}: " if who else ""
    if not isinstance(name, str):
        raise TypeError(f"{pre}{argument} must be a column name (str), got {type(name).__name__}")
    if name not in data.columns:
        cols = ", ".join(map(str, list(data.columns)[:30]))
        raise InvalidInputError(f"{pre}{argument}: unknown column {name!r}; the data have: {cols}")
    col = data[name]
    if isinstance(col, pd.DataFrame):
        raise InvalidInputError(f"{pre}the data have more than one column named {name!r}")
    return col


def _factorize_sorted(col: pd.Series):
    """(int32 codes, sorted levels) of a column without missing values. Integer columns whose values
    span a range of at most 4n take a lookup table (two passes, no hashing); others pd.factorize."""
    if pd.api.types.is_integer_dtype(col.dtype) and len(col):
        a = col.to_numpy()
        if a.dtype.itemsize < 4:  # value − lo in int8/int16 arithmetic would wrap (−100..100 as int8)
            a = a.astype(np.int32)
        lo, hi = int(a.min()), int(a.max())
        if hi - lo <= 4 * len(a) + 16:
            offset = np.empty(len(a), dtype=np.int32)  # value − lo, written once (no int64 temporary)
            np.subtract(a, lo, out=offset, casting="unsafe")
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[offset] = True
            if present.all():  # every label in lo..hi occurs: the offsets are the codes
                return offset, np.arange(lo, hi + 1)
            return (np.cumsum(present, dtype=np.int32) - 1).take(offset), np.flatnonzero(present) + lo
    codes, levels = pd.factorize(col, sort=True)
    return codes.astype(np.int32), np.asarray(levels)


def _codes(col: pd.Series, argument: str):
    """(int32 codes, level names as str) of a design column."""
    if col.isna().any():
        row = col.index[col.isna().to_numpy()][0]
        raise InvalidInputError(f"{argument} column {col.name!r} has missing values (first at row {row!r}); "
                                "every row of a survey design needs its design variables")
    codes, levels = _factorize_sorted(col)
    return codes, [str(v) for v in levels]


def _qr_rank(a: np.ndarray, tol: float = 1e-5) -> int:
    """Rank as R's qr(a, tol) (LINPACK dqrdc2): a column counts when its norm after projection on the
    columns kept before it is at least ``tol`` times its original norm."""
    q = np.zeros((a.shape[0], 0))
    rank = 0
    for j in range(a.shape[1]):
        v = a[:, j].astype(np.float64)
        norm0 = np.linalg.norm(v)
        if norm0 == 0:
            continue
        for _ in range(2):  # re-orthogonalise once
            v = v - q @ (q.T @ v)
        if np.linalg.norm(v) >= tol * norm0:
            q = np.column_stack([q, v / np.linalg.norm(v)])
            rank += 1
    return rank


def _replicate_type(replicate_type, n_replicates: int, rscales, scale, fay_rho) -> str:
    """The replicate type's canonical name, after checking the options it needs (R svrepdesign)."""
    if n_replicates < 2:
        raise InvalidInputError("replicate_weights must name at least 2 columns of replicate weights")
    if replicate_type is None or str(replicate_type).upper() not in _REPLICATE_TYPES:
        raise InvalidInputError(f"replicate_type must be one of JK1, JKn, BRR, Fay, bootstrap, other; got {replicate_type!r}")
    rtype = _REPLICATE_TYPES[str(replicate_type).upper()]
    if rtype == "Fay" and fay_rho is None:
        raise InvalidInputError("replicate_type='Fay' needs fay_rho")
    if rtype == "JKn" and rscales is None:
        raise InvalidInputError("replicate_type='JKn' needs rscales ((n_h - 1)/n_h for each replicate's stratum)")
    rs = None if rscales is None else np.asarray(rscales, dtype=np.float64)
    if rs is not None and (rs.shape != (n_replicates,) or not np.all(np.isfinite(rs)) or (rs < 0).any()):
        raise InvalidInputError(f"rscales must be {n_replicates} non-negative numbers, one per replicate")
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise InvalidInputError(f"scale must be positive, got {scale!r}")
    return rtype


def _replicate_variance_design(rtype: str, rank: int, scale, rscales, mse: bool, fay_rho):
    """The shared replicate variance design; df = rank of the replicate weights − 1 (R's degf)."""
    rs = None if rscales is None else np.asarray(rscales, dtype=np.float64)
    return _v.VarianceDesign.replicates(rtype, float("nan") if scale is None else float(scale), rs, bool(mse),
                                        0.0 if fay_rho is None else float(fay_rho), float(rank - 1))


def _float_column(col: pd.Series, argument: str) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise TypeError(f"{argument} column {col.name!r} must be numeric, got dtype {col.dtype}")
    v = col.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(v)
    if bad.any():
        row = col.index[bad][0]
        raise InvalidInputError(f"{argument} column {col.name!r} has a missing or infinite value at row {row!r}")
    return v


class SurveyDesign:
    """A complex survey design over the rows of ``data`` (R ``svydesign`` / ``svrepdesign`` semantics).

    Parameters
    ----------
    data : DataFrame (never modified; the design keeps a reference to read analysis variables).
    weights : column of sampling weights (≥ 0). Default: 1 / (product of the stage sampling fractions)
        when ``fpc`` is given, else 1 for every row (with a warning, as R).
    strata : column of first-stage strata. Default: one stratum.
    psu : column of primary sampling units, or a list of columns, one per stage (``["district",
        "school"]``). Default: each row is its own PSU.
    fpc : finite-population correction per stage (column or list of columns, like ``psu``): the
        population number of units (> 1) or the sampling fraction (≤ 1), constant within a stratum
        (stage 1) or a sampled unit (later stages). With an FPC at every stage of a multi-stage design
        the variance is R survey's multistage variance; otherwise the ultimate-cluster approximation
        (first stage only, with replacement unless the first-stage FPC is given).
    lonely_psu : rule for strata with a single PSU: "fail" (error), "remove" or "certainty" (no
        contribution), "average" (the average contribution of the other strata), "adjust" (centred
        at the grand mean) — R's ``options(survey.lonely.psu=)``.
    nest : PSU labels repeat across strata and name different PSUs.
    replicate_weights : list of columns of replicate weights (full weights per replicate, R's
        ``combined.weights=TRUE``); then ``replicate_type`` is "JK1", "JKn", "BRR", "Fay",
        "bootstrap" or "other", with ``scale``, ``rscales``, ``mse`` and ``fay_rho`` as R
        ``svrepdesign`` (defaults: JK1 (R−1)/R, BRR 1/R, Fay 1/(R(1−ρ)²), bootstrap 1/(R−1)).

    Examples
    --------
    >>> d = ik.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    >>> d.mean("api00", by="stype").tidy()
    """

    def __new__(cls, data=None, *args, **kwargs):
        from ._dask import DaskSurveyDesign, is_dask_frame

        if is_dask_frame(data):  # a lazy design over a dask DataFrame (its estimates stream the partitions)
            return DaskSurveyDesign(data, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, data, weights=None, strata=None, psu=None, fpc=None, lonely_psu: str = "fail",
                 nest: bool = False, replicate_weights=None, replicate_type: Optional[str] = None,
                 scale: Optional[float] = None, rscales=None, mse: bool = False, fay_rho: Optional[float] = None):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        if data.shape[0] == 0:
            raise InvalidInputError("SurveyDesign: data has no rows")
        if data.columns.has_duplicates:
            dup = data.columns[data.columns.duplicated()][0]
            raise InvalidInputError(f"SurveyDesign: the data have more than one column named {dup!r}")
        if not data.index.is_unique:
            raise InvalidInputError("SurveyDesign: the data's index has duplicate labels; reset it (data.reset_index(drop=True))")
        if not isinstance(lonely_psu, str) or lonely_psu.lower() not in _LONELY:
            raise InvalidInputError(f"lonely_psu must be one of {', '.join(_LONELY)}, got {lonely_psu!r}")
        self._data = data
        self.index = data.index
        self.n = int(data.shape[0])
        self.lonely_psu = lonely_psu.lower()
        self.nest = bool(nest)
        self.strata_name = strata
        self.psu_names = _as_list(psu)
        self.fpc_names = _as_list(fpc)
        if len(self.fpc_names) > max(1, len(self.psu_names)):
            raise InvalidInputError(f"fpc has {len(self.fpc_names)} stages but psu has {max(1, len(self.psu_names))}")

        strata_codes, strata_levels = _codes(_column(data, strata, "strata"), "strata") if strata is not None else (None, [])
        ids, psu_levels = None, []
        if self.psu_names:
            coded = [_codes(_column(data, c, "psu"), "psu") for c in self.psu_names]
            ids = np.asfortranarray(np.column_stack([c for c, _ in coded]))
            psu_levels = coded[0][1]
        fpc_m = None
        if self.fpc_names:
            fpc_m = np.asfortranarray(np.column_stack([_float_column(_column(data, c, "fpc"), "fpc") for c in self.fpc_names]))
            if (fpc_m <= 0).any():
                raise InvalidInputError("fpc must be positive (a population size > 1 or a sampling fraction in (0, 1])")
            for j, c in enumerate(self.fpc_names):
                col = fpc_m[:, j]
                if (col > 1).any() and (col < 1).any():
                    raise InvalidInputError(f"fpc column {c!r} mixes sampling fractions (< 1) and population sizes (> 1); "
                                            "give one or the other for every row")
        if weights is not None:
            w = _float_column(_column(data, weights, "weights"), "weights")
            if (w < 0).any():
                row = data.index[np.flatnonzero(w < 0)[0]]
                raise InvalidInputError(f"weights column {weights!r} has a negative weight at row {row!r}")
        elif fpc_m is not None:
            w = 1.0 / self._sampling_probability(strata_codes, ids, fpc_m)
        else:
            if replicate_weights is None:
                warnings.warn("SurveyDesign: no weights or fpc given; assuming equal probability (every weight 1)",
                              ImpactkitWarning, stacklevel=2)
            w = np.ones(self.n)
        self.weights_name = weights
        self._w = np.ascontiguousarray(w, dtype=np.float64)
        self._core = _v.SurveyDesign(strata_codes, ids, fpc_m, self._w, self.nest, self.lonely_psu, strata_levels, psu_levels)
        self._psu_codes = ids[:, 0] if ids is not None else np.arange(self.n, dtype=np.int32)
        self._strata_codes = strata_codes if strata_codes is not None else np.zeros(self.n, dtype=np.int32)
        # candidate welfare-group cuts of ik.targeting per (welfare, K, by, unit, rows): only a hint, which the
        # C++ pass confirms against the data before using it
        self._welfare_cuts_cache = {}

        # replicate weights
        self.replicate_type = None
        self._repw = None
        if replicate_weights is not None or replicate_type is not None:
            names = _as_list(replicate_weights)
            rtype = _replicate_type(replicate_type, len(names), rscales, scale, fay_rho)
            repw = np.asfortranarray(np.column_stack([_float_column(_column(data, c, "replicate_weights"), "replicate_weights")
                                                      for c in names]))
            if (repw < 0).any():
                raise InvalidInputError("replicate_weights must be non-negative")
            # R: degf = rank of the replicate weights - 1
            self._repw = repw
            self.replicate_type = rtype
            self.replicate_names = names
            self._rep_design = _replicate_variance_design(rtype, _qr_rank(repw), scale, rscales, mse, fay_rho)

    # ------------------------------------------------------------------------------------------
    def _sampling_probability(self, strata, ids, fpc_m) -> np.ndarray:
        """Π_s n_s/N_s per row from the FPCs (R's svydesign without weights)."""
        n = self.n
        parent = strata if strata is not None else np.zeros(n, dtype=np.int64)
        parent = parent.astype(np.int64)
        prob = np.ones(n)
        for s in range(fpc_m.shape[1]):
            unit = ids[:, s].astype(np.int64) if ids is not None else np.arange(n, dtype=np.int64)
            key = parent * (np.int64(1) << 32) + unit
            frame = pd.DataFrame({"p": parent, "u": key})
            n_sampled = frame.groupby("p")["u"].transform("nunique").to_numpy(dtype=np.float64)
            f = fpc_m[:, s]
            prob *= np.where(f <= 1, f, n_sampled / f)
            parent = key if (s > 0 or self.nest or ids is None) else unit
            parent = pd.factorize(parent)[0].astype(np.int64)
        return prob

    @property
    def df(self) -> float:
        """Degrees of freedom of the design: #PSU − #strata (R ``degf``), or rank of the replicate weights − 1."""
        if self._repw is not None:
            return float(self._rep_design_df())
        return float(self._core.df)

    def _rep_design_df(self) -> float:
        return float(_qr_rank(self._repw) - 1)

    @property
    def n_strata(self) -> int:
        return int(self._core.n_strata)

    @property
    def n_psu(self) -> int:
        return int(self._core.n_psu)

    @property
    def weights(self) -> pd.Series:
        return pd.Series(self._w, index=self.index, name=self.weights_name or "weight")

    def conventions(self) -> dict:
        return dict(self._core.conventions())

    def __repr__(self) -> str:
        if self._repw is not None:
            return f"<SurveyDesign: {self.n} rows, {self._repw.shape[1]} {self.replicate_type} replicate weights>"
        c = self._core
        return (f"<SurveyDesign: {self.n} rows, {c.n_strata} strata, {c.n_psu} PSUs, {c.n_stages} stage(s) in the variance, "
                f"{'with' if c.has_fpc else 'without'} FPC, lonely_psu={self.lonely_psu!r}>")

    # --- rows of the data, alignment with an estimator's data -----------------------------------
    def positions_of(self, index: pd.Index, who: str, data: Optional[pd.DataFrame] = None) -> np.ndarray:
        """Design row positions of the rows labelled ``index`` (an estimator's sample). With ``data`` (the
        estimator's frame), the design columns it carries must hold the design's values on those rows (see
        :meth:`check_rows`)."""
        if index.equals(self.index):
            pos = np.arange(self.n, dtype=np.int64)
        else:
            pos = self.index.get_indexer(index)
            if (pos < 0).any():
                missing = index[pos < 0][:5].tolist()
                raise InvalidInputError(f"{who}: rows {missing} of the data are not rows of the survey design; build the design "
                                        "from the same DataFrame (or a frame with the same index)")
            pos = pos.astype(np.int64)
        if data is not None:
            self.check_rows(data, pos, who)
        return pos

    def check_rows(self, data: pd.DataFrame, pos: Optional[np.ndarray], who: str) -> None:
        """Rows are matched to the design by index label; a frame that was shuffled and re-indexed would match
        the wrong rows silently. So every design column (weights, strata, PSUs, FPCs) that ``data`` also has
        must equal the design's value on the matched row (``pos``: design row of each data row; None: the
        same rows in order). Nothing to check when ``data`` is the design's own frame."""
        if data is self._data:
            return
        from ._dask import _plain

        for name in dict.fromkeys([self.weights_name, self.strata_name] + self.psu_names + self.fpc_names):
            if not isinstance(name, str) or name not in data.columns or name not in self._data.columns:
                continue
            mine = self._data[name].to_numpy()
            theirs = data[name].to_numpy()
            if pos is not None:
                mine = mine[pos]
            if len(mine) != len(theirs):
                continue  # a length mismatch is reported by the caller's own row check
            same = (mine == theirs) | (pd.isna(mine) & pd.isna(theirs))
            if not np.all(same):
                row = data.index[int(np.flatnonzero(~np.asarray(same))[0])]
                raise InvalidInputError(
                    f"{who}: the data's design column {name!r} differs from the survey design's at row {_plain(row)!r}: "
                    "the rows are matched to the design by index label, so this frame's rows are not the design's "
                    "(reordered and re-indexed?); pass the frame the design was built on, or rebuild the design")

    def _variable(self, name, argument: str = "var", check: bool = True) -> np.ndarray:
        """The float64 values of a numeric column (no copy when it is float64 already); ``check``:
        refuse NaN/inf here (the C++ totals check them in their own pass otherwise)."""
        col = _column(self._data, name, argument)
        if pd.api.types.is_bool_dtype(col):
            col = col.astype(np.float64)
        if not pd.api.types.is_numeric_dtype(col):
            raise TypeError(f"{argument} column {name!r} must be numeric (dtype {col.dtype}); use proportion() for a categorical variable")
        v = col.to_numpy() if col.dtype == np.float64 else col.to_numpy(dtype=np.float64, na_value=np.nan)
        if check:
            bad = ~np.isfinite(v)
            if bad.any():
                row = self.index[bad][0]
                raise InvalidInputError(f"{argument} column {name!r} has a missing or infinite value at row {row!r}; "
                                        "drop or impute it when building the data (domains are estimated on the full design)")
        return v

    def _domains(self, by):
        """(codes int32 n or None, levels DataFrame D×len(by) or None) for ``by`` (None: one domain)."""
        names = _as_list(by)
        if not names:
            return None, None
        cols = [_column(self._data, b, "by") for b in names]
        for c in cols:
            if c.isna().any():
                raise InvalidInputError(f"by column {c.name!r} has missing values; every row must belong to a domain")
        if len(cols) == 1:
            codes, uniques = _factorize_sorted(cols[0])
            return codes, pd.DataFrame({names[0]: uniques})
        frame = pd.DataFrame({b: c.to_numpy() for b, c in zip(names, cols)})
        grouped = frame.groupby(names, sort=True, observed=True)
        codes = grouped.ngroup().to_numpy().astype(np.int32)
        levels = grouped.size().reset_index()[names]
        return codes, levels

    # --- the shared linearisation --------------------------------------------------------------
    def _ratio_of_totals(self, num: list, den, by, who: str, names: Sequence[str] = (), codes=None, levels=None, D=None):
        """Estimates Y_dj / X_d or Y_dj per domain d and numerator column j, and their design variance,
        from the totals per sampling unit and domain (one pass over the columns, in C++).

        num: the numerator columns (float64 arrays); den: None (totals), "weights" (means: X_d = Σ w) or
        an array (ratios). Influence totals per unit u: (Y_udj − θ_dj X_ud)/X_d, or Y_udj for a total."""
        if codes is None and D is None:
            codes, levels = self._domains(by)
        if D is None:
            D = 1 if levels is None else len(levels)
        p = len(num)
        cols = list(num) + ([den] if isinstance(den, np.ndarray) else [])
        q = len(cols) + (1 if isinstance(den, str) else 0)
        labels = [f"{'var' if j < p else 'denominator'} column {n!r}" for j, n in enumerate(names)]
        T = np.asarray(self._core.unit_totals_of_columns(cols, self._w, codes, D, isinstance(den, str), labels))  # U × (D·q)
        theta, psi = _ratios_of_unit_totals(T, D, p, den is not None, levels, who)
        if self._repw is not None:
            dom = np.zeros(self.n, dtype=np.int32) if codes is None else codes
            stacked = np.column_stack(cols + ([np.ones(self.n)] if isinstance(den, str) else []))
            reps = self._replicate_estimates(stacked, dom, D, p, den is not None)
            est = _v.replicate_vcov(theta.ravel(), reps, self._rep_design)
            V = np.asarray(est["vcov"])
            conventions = dict(est["conventions"])
        else:
            V = np.asarray(self._core.variance_of_unit_totals(psi))
            conventions = self.conventions()
        return theta, V, codes, levels, conventions

    def _replicate_estimates(self, cols: np.ndarray, codes: np.ndarray, D: int, p: int, ratio: bool) -> np.ndarray:
        """R × (D·p) replicate estimates from the replicate weights (one matrix product per domain)."""
        R = self._repw.shape[1]
        out = np.empty((R, D * p))
        for d in range(D):
            m = codes == d
            tot = self._repw[m].T @ cols[m]  # R × q
            if ratio:
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[:, d * p:(d + 1) * p] = tot[:, :p] / tot[:, p:p + 1]
            else:
                out[:, d * p:(d + 1) * p] = tot[:, :p]
        return out

    def _result(self, theta, V, terms, levels, by, conventions, *, statistic: str, deff=None, nobs=None, interval=None,
                extra=None) -> "SurveyEstimate":
        D, p = theta.shape
        by_names = _as_list(by)
        if levels is None:
            names = list(terms)
            by_frame = None
        else:
            names, rows = [], []
            for d in range(D):
                lev = levels.iloc[d]
                tag = ", ".join(f"{b}={lev[b]}" for b in by_names)
                for t in terms:
                    names.append(f"{t} [{tag}]")
                    rows.append(lev.to_dict())
            by_frame = pd.DataFrame(rows, columns=by_names)
        term_col = list(terms) * D
        df = float(conventions.get("df", np.inf))
        coef = pd.Series(theta.ravel(), index=names, name="estimate")
        vcov = pd.DataFrame(V, index=names, columns=names)
        dfs = pd.Series(np.full(len(names), df), index=names, name="df")
        return SurveyEstimate(coef, vcov, dfs, nobs=self.n if nobs is None else nobs, vcov_type="survey" if self._repw is None else self.replicate_type,
                              vcov_convention=conventions.get("description", ""), conventions=conventions, by=by_frame,
                              terms=term_col, statistic_name=statistic, deff=deff, interval=interval, extra=extra)

    def _deff(self, kind: str, y: list, codes, D: int, V: np.ndarray) -> np.ndarray:
        """R's deff=TRUE: design variance over the variance under simple random sampling without
        replacement of the same size, svyvar·(N − n)/(N·n) (mean) or svyvar·N²·(N − n)/(N·n) (total),
        with svyvar = n/(n−1)·Σ w (y − ȳ)² / Σ w over the domain's rows with positive weight (Taylor
        designs, svymean.survey.design2) or over all the domain's rows, zero full-sample weights
        included (replicate designs: n = length(pweights) in svymean.svyrep.design)."""
        p = len(y)
        out = np.empty(D * p)
        counted = np.ones(self.n, dtype=bool) if self._repw is not None else (self._w != 0)
        for d in range(D):
            m = counted if codes is None else ((codes == d) & counted)
            w = self._w[m]
            nobs, N = float(m.sum()), float(w.sum())
            for j in range(p):
                yy = y[j][m]
                mu = np.sum(w * yy) / N
                svyvar = nobs / (nobs - 1) * np.sum(w * (yy - mu) ** 2) / N if nobs > 1 else np.nan
                vsrs = svyvar * (N - nobs) / (N * nobs)
                if kind == "total":
                    vsrs *= N * N
                k = d * p + j
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[k] = V[k, k] / vsrs if N >= nobs else np.nan
        return out

    def _deff_of(self, kind, y, codes, D, V):
        """Design effects on first use (one more pass per domain; not needed for the estimate)."""
        return lambda: self._deff(kind, y, codes, D, V)

    # --- estimators ------------------------------------------------------------------------------
    def mean(self, var: Union[str, Sequence[str]], by=None) -> "SurveyEstimate":
        """Design-weighted mean Σ w y / Σ w (per domain), linearised: ψ_i = w_i (y_i − ȳ)/Σ w (svymean)."""
        names = _as_list(var)
        y = [self._variable(v, check=False) for v in names]
        theta, V, codes, levels, conv = self._ratio_of_totals(y, "weights", by, "mean", names)
        return self._result(theta, V, names, levels, by, conv, statistic="mean",
                            deff=self._deff_of("mean", y, codes, theta.shape[0], V))

    def total(self, var: Union[str, Sequence[str]], by=None) -> "SurveyEstimate":
        """Design-weighted total Σ w y (per domain) (svytotal)."""
        names = _as_list(var)
        y = [self._variable(v, check=False) for v in names]
        theta, V, codes, levels, conv = self._ratio_of_totals(y, None, by, "total", names)
        return self._result(theta, V, names, levels, by, conv, statistic="total",
                            deff=self._deff_of("total", y, codes, theta.shape[0], V))

    def proportion(self, var: str, by=None) -> "SurveyEstimate":
        """Share of each level of a categorical variable (per domain): the mean of its indicators
        (svymean on a factor). Terms are "var=level"."""
        col = _column(self._data, var, "var")
        if col.isna().any():
            raise InvalidInputError(f"var column {var!r} has missing values; every row needs a level")
        lcodes, lev = pd.factorize(col, sort=True)
        ind = [(lcodes == k).astype(np.float64) for k in range(len(lev))]
        theta, V, dcodes, dlevels, conv = self._ratio_of_totals(ind, "weights", by, "proportion",
                                                                [f"{var}={v}" for v in lev])
        return self._result(theta, V, [f"{var}={v}" for v in lev], dlevels, by, conv, statistic="proportion",
                            deff=self._deff_of("mean", ind, dcodes, theta.shape[0], V))

    def ratio(self, numerator: str, denominator: str, by=None) -> "SurveyEstimate":
        """Ratio of totals Σ w y / Σ w x (per domain), ψ_i = w_i (y_i − R x_i)/Σ w x (svyratio)."""
        y = self._variable(numerator, "numerator", check=False)
        x = self._variable(denominator, "denominator", check=False)
        theta, V, codes, levels, conv = self._ratio_of_totals([y], x, by, "ratio", [numerator, denominator])
        return self._result(theta, V, [f"{numerator}/{denominator}"], levels, by, conv, statistic="ratio")

    def quantile(self, var: str, q: Union[float, Sequence[float]], by=None, level: float = 0.95) -> "SurveyEstimate":
        """Weighted quantiles with Woodruff (1952) intervals, as R ``svyquantile(..., qrule="math",
        interval.type="mean")``.

        Quantile rule ("math"): with the domain's rows sorted by y and F(k) the weight share of the
        first k rows, the quantile is y_(k) when F(k) equals q exactly, else y_(k+1), k the last row
        with F(k) ≤ q (the inverse of the weighted empirical CDF). Interval: p̂ = weighted share of
        rows with y ≤ q̂ and its design SE; (p̂ ∓ t·SE) mapped back through the quantile rule, with t
        from the domain's design df (#PSU − #strata among its rows). Standard error: interval width /
        (2 t), at the level used (R's convention; 95% by default)."""
        qs = _quantile_arguments(q, level)
        y = self._variable(var)
        codes, levels = self._domains(by)
        D = 1 if levels is None else len(levels)
        if codes is None:
            codes = np.zeros(self.n, dtype=np.int32)
        theta = np.empty((D, len(qs)))
        lo = np.empty_like(theta)
        hi = np.empty_like(theta)
        dfs = np.empty_like(theta)
        for d in range(D):
            m = (codes == d) & (self._w > 0)
            if not m.any():
                lev = "" if levels is None else f" {levels.iloc[d].to_dict()}"
                raise InvalidInputError(f"quantile: the domain{lev} has no rows with positive weight; the quantile is undefined there")
            yd, wd = y[m], self._w[m]
            order = np.argsort(yd, kind="stable")
            ys, cw = yd[order], _cumulative_weights(wd[order])
            df_d = self._domain_df(m) if self._repw is None else self.df
            tq = float(_core.t_quantiles(1 - (1 - level) / 2, np.array([df_d]))[0])
            for j, p in enumerate(qs):
                qhat = _qrule_math(ys, cw, p)
                ind = (y <= qhat).astype(np.float64)[:, None]
                dom = np.where(codes == d, 0, -1).astype(np.int32)
                pm, pv = self._domain_mean_variance(ind, dom)
                se_p = np.sqrt(pv)
                pl, pu = pm - tq * se_p, pm + tq * se_p
                theta[d, j] = qhat
                lo[d, j] = _qrule_math(ys, cw, pl) if 0 <= pl else np.nan
                hi[d, j] = _qrule_math(ys, cw, pu) if pu <= 1 else np.nan
                dfs[d, j] = df_d
        conv = self.conventions() if self._repw is None else {"description": f"{self.replicate_type} replicate weights", "df": self.df}
        return _woodruff_result(self, theta, lo, hi, dfs, qs, var, levels, by, level, conv)

    def _domain_df(self, mask: np.ndarray) -> float:
        """#PSU − #strata among the rows in ``mask`` (R's degf of the subset design)."""
        return float(len(np.unique(self._psu_codes[mask].astype(np.int64) + (self._strata_codes[mask].astype(np.int64) << 32)))
                     - len(np.unique(self._strata_codes[mask])))

    def _domain_mean_variance(self, y: np.ndarray, dom: np.ndarray):
        T = np.asarray(self._core.unit_totals_by_domain(np.asfortranarray(np.column_stack([y, np.ones(self.n)])), self._w, dom, 1))
        Y, X = T[:, 0].sum(), T[:, 1].sum()
        m = Y / X
        if self._repw is not None:
            sel = dom == 0
            rt = self._repw[sel].T @ np.column_stack([y[sel, 0], np.ones(sel.sum())])
            est = _v.replicate_vcov(np.array([m]), (rt[:, 0] / rt[:, 1])[:, None], self._rep_design)
            return m, float(np.asarray(est["vcov"])[0, 0])
        psi = (T[:, 0] - m * T[:, 1]) / X
        return m, float(np.asarray(self._core.variance_of_unit_totals(psi[:, None]))[0, 0])


def _ratios_of_unit_totals(T: np.ndarray, D: int, p: int, ratio: bool, levels, who: str):
    """θ (D × p) and the influence totals per unit (U × D·p) of Y_dj / X_d (ratio; X in column p of each
    domain's block) or Y_dj from the totals per (unit, domain) T (U × D·q): (Y_udj − θ_dj X_ud)/X_d or Y_udj."""
    U = T.shape[0]
    q = T.shape[1] // D
    T3 = T.reshape(U, D, q)
    tot = T3.sum(axis=0)  # D × q
    if ratio:
        X = tot[:, p]
        empty = np.flatnonzero(X == 0)
        if len(empty):
            lev = "" if levels is None else f" {levels.iloc[empty[0]].to_dict()}"
            raise InvalidInputError(f"{who}: the domain{lev} has a zero denominator total (no rows with positive weight); "
                                    "the estimate is undefined there")
        theta = tot[:, :p] / X[:, None]
        psi = (T3[:, :, :p] - theta[None, :, :] * T3[:, :, p:p + 1]) / X[None, :, None]
    else:
        theta = tot[:, :p]
        psi = T3[:, :, :p]
    return theta, np.asfortranarray(psi.reshape(U, D * p))


def _cumulative_weights(w_sorted: np.ndarray):
    """(cumulative weights, total) accumulated in extended precision and rounded to double, as R's
    cumsum() and sum() do: the quantile rule compares them exactly, so the rounding must match."""
    return np.cumsum(w_sorted, dtype=np.longdouble).astype(np.float64), float(np.sum(w_sorted, dtype=np.longdouble))


def _qrule_math(ys: np.ndarray, cwW, p: float) -> float:
    """R survey's qrule_math on sorted values ys with (cumulative weights, total weight) cwW."""
    cw, W = cwW
    k = int(np.searchsorted(cw, p * W, side="right")) - 1  # last k with cw[k] <= p W
    if k < 0:
        return float(ys[0])
    if p - cw[k] / W == 0 or k == len(ys) - 1:
        return float(ys[k])
    return float(ys[k + 1])


def _woodruff_result(design, theta, lo, hi, dfs, qs, var, levels, by, level, conv) -> "SurveyEstimate":
    """The quantile estimate (D × Q) with its Woodruff interval [lo, hi] and SE = width / (2 t_df) (R's convention)."""
    se = (hi - lo) / (2 * np.array([[float(_core.t_quantiles(1 - (1 - level) / 2, np.array([v]))[0]) for v in row] for row in dfs]))
    V = np.diag(se.ravel() ** 2)
    conv = dict(conv)
    conv["description"] = ("Woodruff interval (quantile rule 'math': inverse of the weighted empirical CDF) from the design "
                           "SE of the estimated CDF at the quantile; standard error = interval width / (2 t). "
                           + conv.get("description", ""))
    res = SurveyDesign._result(design, theta, V, [f"{var} (q={p:g})" for p in qs], levels, by, conv, statistic="quantile",
                               interval=_fixed_interval(lo.ravel(), hi.ravel(), level))
    res._df = pd.Series(dfs.ravel(), index=res._coef.index, name="df")
    return res


def _quantile_arguments(q, level) -> list:
    qs = [float(v) for v in _as_list(q)]
    for v in qs:
        if not 0 < v < 1:
            raise InvalidInputError(f"quantile: q must be in (0, 1), got {v}")
    if not 0 < level < 1:
        raise InvalidInputError(f"quantile: level must be in (0, 1), got {level}")
    return qs


def _fixed_interval(lo: np.ndarray, hi: np.ndarray, level: float):
    def interval(result, lev):
        if abs(lev - level) > 1e-12:
            raise InvalidInputError(f"this quantile's Woodruff interval was computed at level {level}; "
                                    f"call quantile(..., level={lev}) for another level")
        return lo, hi

    return interval


class SurveyEstimate(EstimateResult):
    """Design-based estimates (means, totals, proportions, ratios, quantiles), by domain."""

    title = "Survey estimates"

    def __init__(self, *args, deff=None, statistic_name: str = "", extra=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.statistic_name = statistic_name
        self.title = f"Survey {statistic_name}" if statistic_name else self.title
        self._deff = deff  # None, or a function computing them on first use

    @property
    def deff(self) -> pd.Series:
        """Design effects: design variance / variance under simple random sampling without
        replacement of the same size (R ``deff=TRUE``; replicate designs as svymean.svyrep.design)."""
        if self._deff is None:
            raise InvalidInputError("design effects are defined for means, totals and proportions (Taylor or replicate designs)")
        if callable(self._deff):
            self._deff = pd.Series(np.asarray(self._deff(), dtype=float), index=self._coef.index, name="deff")
        return self._deff.copy()
