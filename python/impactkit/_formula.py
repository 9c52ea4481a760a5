"""From a DataFrame and a formula to contiguous float64 arrays for the C++ core.

Python does the column look-up, formula expansion (formulaic), missing-value screening (listwise,
with the count reported) and factor coding; C++ does the numbers (DESIGN.md §4). The caller's
DataFrame is never modified: every step works on new objects.
"""
from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from .errors import InvalidInputError

ArrayLike = Union[str, Sequence, np.ndarray, pd.Series]


@dataclass
class Design:
    y: np.ndarray                     # (n,) float64
    X: np.ndarray                     # (n, k) float64, Fortran order
    terms: list                       # column names of X
    depvar: str
    index: pd.Index                   # row labels (of `data`) used
    n_missing: int                    # rows dropped for missing values
    weights: Optional[np.ndarray] = None
    clusters: Optional[np.ndarray] = None      # (n, m) int32, Fortran order
    cluster_names: list = field(default_factory=list)
    fixed_effects: Optional[np.ndarray] = None  # (n, K) int32 codes, Fortran order
    fe_names: list = field(default_factory=list)
    fe_levels: list = field(default_factory=list)  # per FE: level of each label, or None (labels are levels)
    cluster_fixed_effects: list = field(default_factory=list)  # cluster dims that are FE dims (then clusters is None)
    positions: Optional[np.ndarray] = None     # rows of `data` used, for .iloc (bool mask or positions); None: all
    extra: dict = field(default_factory=dict)  # further columns screened with the design (e.g. the offset), kept rows


def _check_frame(data) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    return data


def _columns_list(data: pd.DataFrame, limit: int = 20) -> str:
    cols = [str(c) for c in data.columns]
    return ", ".join(cols[:limit]) + (f", ... ({len(cols)} columns)" if len(cols) > limit else "")


# fixest / pyfixest formula functions impactkit does not implement (yet), with what to write instead
_FIXEST_FUNCTIONS = re.compile(r"(?<![\w.])(i|sw|sw0|csw|csw0|mvsw)\s*\(")


def _has_top_level(text: str, ch: str) -> bool:
    depth = 0
    for c in text:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == ch and depth == 0:
            return True
    return False


def check_formula_syntax(formula: str) -> None:
    """Refuses fixest-only syntax (``i()``, stepwise ``sw()/csw()/csw0()``, several outcomes) with a
    message saying what to write instead, before any column look-up would call it an unknown column."""
    m = _FIXEST_FUNCTIONS.search(formula)
    if m:
        fn = m.group(1)
        if fn == "i":
            raise InvalidInputError(
                f"formula {formula!r}: fixest's i() is not supported yet; write C(var) for the dummies of a factor "
                "(C(var, contr.treatment(base='ref')) to choose the reference level) and C(var):x for its "
                "interaction with x")
        raise InvalidInputError(
            f"formula {formula!r}: fixest's stepwise {fn}() is not supported yet; fit one model per specification "
            "and put them side by side with ik.etable([fit1, fit2, ...])")
    lhs = formula.split("~", 1)[0]
    if _has_top_level(lhs, "+") or re.match(r"\s*c\s*\(", lhs):
        raise InvalidInputError(
            f"formula {formula!r}: several outcomes in one formula are not supported yet; fit one model per outcome, "
            "e.g. [ik.ols(f'{y} ~ x', df) for y in ['y1', 'y2']], and combine them with ik.etable")


def _split_formula(formula: str):
    """'y ~ x1 + x2 | fe1 + fe2^fe3' → ('y ~ x1 + x2', [['fe1'], ['fe2', 'fe3']])."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string like 'y ~ x1 + x2', got {type(formula).__name__}")
    if "~" not in formula:
        raise InvalidInputError(f"formula {formula!r} has no '~': write it as 'outcome ~ regressors'")
    check_formula_syntax(formula)
    lhs, rhs = formula.split("~", 1)
    if not lhs.strip():
        raise InvalidInputError(f"formula {formula!r} has no outcome left of '~': write it as 'outcome ~ regressors'")
    if not rhs.split("|", 1)[0].strip():
        raise InvalidInputError(f"formula has no right-hand side ({formula!r}); write 'y ~ 1' for an "
                                "intercept-only model")
    parts = formula.split("|")
    if len(parts) > 2:
        raise InvalidInputError(f"formula {formula!r}: at most one '|' part (the absorbed fixed effects) is allowed")
    fe = []
    if len(parts) == 2:
        for term in parts[1].split("+"):
            term = term.strip()
            if not term or term == "0":
                continue
            fe.append([v.strip() for v in term.split("^")])
        if not fe:
            raise InvalidInputError(f"formula {formula!r}: the part after '|' names no fixed effect")
    return parts[0].strip(), fe


def _required_variables(formula: str, data: pd.DataFrame) -> list:
    from formulaic import Formula

    try:
        parsed = Formula(formula)
    except Exception as exc:  # formulaic raises its own parser errors
        raise InvalidInputError(f"cannot parse formula {formula!r}: {exc}") from None
    names = []
    for v in sorted(parsed.required_variables, key=str):
        name = str(v)
        if name in data.columns:
            names.append(name)
        elif not _is_known_callable(name):
            raise InvalidInputError(f"formula {formula!r} refers to unknown column {name!r}; "
                                    f"available columns: {', '.join(map(str, data.columns[:20]))}"
                                    + (" ..." if len(data.columns) > 20 else ""))
    return names


def _is_known_callable(name: str) -> bool:
    # transforms such as np.log, C, center, scale, poly are resolved by formulaic, not data columns
    return "." in name or name in {"C", "np", "center", "scale", "poly", "lag", "bs", "I", "Q", "log", "exp", "sqrt"}


def _column_or_array(data: pd.DataFrame, spec: ArrayLike, what: str) -> pd.Series:
    """The values of a per-row argument (weights, cluster, offset, exposure) as a Series on ``data.index``.

    A column name is looked up; a pandas Series is aligned to the data by index label (as pandas does),
    so a reordered Series gives the same fit; an array or list is taken by position."""
    if isinstance(spec, str):
        if spec not in data.columns:
            raise InvalidInputError(f"{what} column {spec!r} is not in the data; available columns: {_columns_list(data)}")
        col = data[spec]
        if isinstance(col, pd.DataFrame):
            raise InvalidInputError(f"the data have {col.shape[1]} columns named {spec!r} ({what}); rename the duplicates")
        return col
    if isinstance(spec, pd.DataFrame):
        raise InvalidInputError(f"{what} must be a column name, a 1-D array or a Series, got a DataFrame with "
                                f"{spec.shape[1]} column(s)" + ("; for multiway clustering pass a list of columns"
                                                               if what == "cluster" else ""))
    if isinstance(spec, pd.Series):
        if spec.index.equals(data.index):
            return spec
        if not spec.index.is_unique:
            raise InvalidInputError(f"{what} is a pandas Series whose index differs from the data's and has duplicate "
                                    f"labels, so it cannot be aligned by label; give it the data's index, or pass "
                                    f"{what}.to_numpy() to use it by position")
        missing = ~data.index.isin(spec.index)
        if missing.any():
            raise InvalidInputError(f"{what} is a pandas Series whose index lacks {int(missing.sum())} of the data's row "
                                    f"labels (e.g. {list(data.index[missing][:3])}); a Series is aligned to the data by "
                                    f"index label: reindex it, or pass {what}.to_numpy() to use it by position")
        return spec.reindex(data.index)
    arr = np.asarray(spec)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InvalidInputError(f"{what} must be one-dimensional (one value per row), got an array of shape {arr.shape}"
                                + ("; for multiway clustering pass a list of columns, e.g. cluster=['a', 'b']"
                                   if what == "cluster" else ""))
    if len(arr) != len(data):
        raise InvalidInputError(f"{what} has {len(arr)} rows but data has {len(data)}")
    return pd.Series(arr, index=data.index)


def by_position(data: pd.DataFrame, spec, what: str, index: pd.Index):
    """A per-row argument for a copy of ``data`` with another row index (e.g. positional): column
    names pass through; arrays and Series (aligned to ``data`` by label first) become Series on
    ``index``, keeping a Series' name."""
    if spec is None or isinstance(spec, str):
        return spec
    col = _column_or_array(data, spec, what)
    return pd.Series(col.to_numpy(), index=index, name=spec.name if isinstance(spec, pd.Series) else None)


def cluster_specs(cluster) -> list:
    """The list of cluster specifications (one per dimension) of a ``cluster=`` argument."""
    if isinstance(cluster, pd.DataFrame):  # one dimension per column
        return [cluster[c] for c in cluster.columns]
    if isinstance(cluster, (str, pd.Series, np.ndarray)):
        return [cluster]
    return list(cluster)


def warn_if_constant_outcome(y: np.ndarray, depvar: str, who: str, stacklevel: int = 3) -> None:
    """ImpactkitWarning when the outcome takes one value on the rows used: every residual is then 0 and so
    are the standard errors (t = inf or NaN, p = 0): the estimates are not informative."""
    import warnings

    from .errors import ImpactkitWarning

    if len(y) and y.min() == y.max():
        warnings.warn(f"{who}: the outcome is constant ({depvar} = {y[0]:g} in every row used): it does not vary with "
                      "the regressors, so the fit is exact and the (robust) standard errors degenerate to 0, with t "
                      "infinite or undefined; nothing is learnt about the regressors",
                      ImpactkitWarning, stacklevel=stacklevel + 1)


_INT32_MAX = 2**31 - 1


def check_int(name: str, value, lo: int = 1, hi: int = _INT32_MAX) -> int:
    """An integer option in [lo, hi] (the C++ core takes a 32-bit int), with a message naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer in [{lo}, {hi}], got {type(value).__name__} {value!r}")
    if not lo <= value <= hi:
        raise InvalidInputError(f"{name} must be in [{lo}, {hi}], got {value}")
    return int(value)


def check_fraction(name: str, value, *, zero_ok: bool = False) -> float:
    """A tolerance in (0, 1) (or [0, 1) with ``zero_ok``), with a message naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in {'[' if zero_ok else '('}0, 1), got {type(value).__name__} {value!r}")
    if not ((0 <= value if zero_ok else 0 < value) and value < 1):
        raise InvalidInputError(f"{name} must be in {'[' if zero_ok else '('}0, 1), got {value}")
    return float(value)


def check_fit_options(*, collin_tol, fe_tol, fe_max_iter, tol=None, max_iter=None) -> None:
    """Validate the numeric options shared by the estimators before they reach the C++ signature."""
    check_fraction("collin_tol", collin_tol, zero_ok=True)
    check_fraction("fe_tol", fe_tol)
    check_int("fe_max_iter", fe_max_iter)
    if tol is not None:
        check_fraction("tol", tol)
    if max_iter is not None:
        check_int("max_iter", max_iter)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def _plain_terms(formula: str, data: pd.DataFrame):
    """(outcome, [regressors], intercept) when the formula names plain numeric columns only, else None.

    Such formulas skip formulaic's materialisation (a large share of the time on big data); the result
    is identical to formulaic's (same columns, same order, "Intercept" first)."""
    lhs, rhs = formula.split("~", 1)
    lhs = lhs.strip()
    if not _IDENT.match(lhs) or lhs not in data.columns:
        return None
    intercept, names = True, []
    tokens = [t.strip() for t in re.split(r"(?=[+-])", rhs.replace(" ", "")) if t.strip()]
    for tok in tokens:
        sign, body = (tok[0], tok[1:]) if tok[0] in "+-" else ("+", tok)
        if body in ("0", "1"):
            intercept = (body == "1") == (sign == "+")
            continue
        if sign == "-" or not _IDENT.match(body) or body not in data.columns or body in names:
            return None
        names.append(body)
    for c in [lhs] + names:
        dt = data[c].dtype
        if not (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt)) or isinstance(dt, pd.CategoricalDtype):
            return None
    return lhs, names, intercept


def _missing_mask(columns: dict, n: int) -> np.ndarray:
    """Rows with a missing value in any used column; ±inf is an error naming the column."""
    bad = np.zeros(n, dtype=bool)
    for name, col in columns.items():
        dt = col.dtype
        if pd.api.types.is_float_dtype(dt) and isinstance(dt, np.dtype):
            vals = col.to_numpy()
            with np.errstate(over="ignore", invalid="ignore"):
                total = np.add.reduce(vals, axis=None)
            if np.isfinite(total):
                continue  # one pass: a NaN or ±inf anywhere makes the sum non-finite
            inf = np.isinf(vals)
            if inf.any():
                raise InvalidInputError(f"column {name!r} has {int(inf.sum())} infinite value(s); "
                                        "replace them or set them to NaN to drop those rows")
            bad |= np.isnan(vals)
        elif pd.api.types.is_integer_dtype(dt) and isinstance(dt, np.dtype):
            continue  # numpy integers cannot be missing
        else:
            if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt):
                vals = col.to_numpy(dtype=float, na_value=np.nan)
                if np.isinf(vals).any():
                    raise InvalidInputError(f"column {name!r} has {int(np.isinf(vals).sum())} infinite value(s); "
                                            "replace them or set them to NaN to drop those rows")
            bad |= col.isna().to_numpy()
    return bad


def _kept(values: np.ndarray, keep: Optional[np.ndarray]) -> np.ndarray:
    return values[keep] if keep is not None else values


def _label_codes(parts: list, keep: Optional[np.ndarray], *, borrow: bool = False):
    """Integer labels for a grouping (one column or the interaction of several) on the kept rows.

    Returns (labels, levels): integer columns within the int32 range pass through as they are
    (the C++ core factorises them in O(n)) with levels None -- as int32, or with ``borrow`` in their
    own int32/int64 dtype without a copy; others are factorised here (int32 codes)."""
    if keep is not None:
        parts = [p[keep] for p in parts]
    if len(parts) == 1:
        col = parts[0]
        dt = col.dtype
        if pd.api.types.is_integer_dtype(dt) and isinstance(dt, np.dtype) and len(col):
            vals = col.to_numpy()
            if vals.min() >= np.iinfo(np.int32).min and vals.max() <= np.iinfo(np.int32).max:
                if borrow and vals.dtype in (np.int32, np.int64):
                    return vals, None
                return vals.astype(np.int32), None
        if isinstance(dt, pd.CategoricalDtype):
            return col.cat.codes.to_numpy().astype(np.int32), list(col.cat.categories)
        codes, uniques = pd.factorize(col, sort=False)
        return codes.astype(np.int32), list(uniques)
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays(parts), sort=False)
    return codes.astype(np.int32), ["^".join(map(str, u)) for u in uniques]


def _refuse_duplicate_columns(formula: str, data: pd.DataFrame, fe_terms: list, weights, cluster) -> None:
    """ValueError naming a duplicated column name the model uses (pandas would hand back a DataFrame)."""
    dups = set(data.columns[data.columns.duplicated()])
    if not dups:
        return
    named = list(_required_variables(formula, data)) + [v for term in fe_terms for v in term]
    named += [w for w in [weights] + (cluster_specs(cluster) if cluster is not None else []) if isinstance(w, str)]
    clash = sorted({str(c) for c in named if c in dups})
    if clash:
        raise InvalidInputError(f"the data have several columns named {', '.join(map(repr, clash))}; column names must be "
                                "unique: rename or drop the duplicates (e.g. df.loc[:, ~df.columns.duplicated()])")


def _check_used_columns(formula: str, data: pd.DataFrame, used: list) -> None:
    """Refuse columns that would fail obscurely or silently change meaning in the design."""
    if "Intercept" in used:
        raise InvalidInputError("the data have a column named 'Intercept', which clashes with the name of the intercept "
                                "term; rename it, e.g. df.rename(columns={'Intercept': 'intercept_col'})")
    lhs = formula.split("~", 1)[0].strip()
    for name in used:
        col = data[name]
        dt = col.dtype
        if pd.api.types.is_datetime64_any_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt) or isinstance(dt, pd.PeriodDtype):
            how = (f"df[{name!r}].dt.days or .dt.total_seconds()" if pd.api.types.is_timedelta64_dtype(dt) else
                   f"df[{name!r}].dt.year, or days since a date: (df[{name!r}] - df[{name!r}].min()).dt.days")
            raise InvalidInputError(f"column {name!r} has dtype {dt}, which cannot enter a regression; convert it to "
                                    f"numbers first, e.g. {how} (or C(...) of such a conversion for period dummies)")
        if name == lhs or not (pd.api.types.is_object_dtype(dt) or isinstance(dt, pd.StringDtype)):
            continue
        if re.search(r"(?<![\w.])C\(\s*" + re.escape(str(name)) + r"\s*[,)]", formula):
            continue  # explicitly categorical
        values = col.dropna()
        if len(values) == 0:
            continue
        numeric = pd.to_numeric(values, errors="coerce").notna()
        n_num = int(numeric.sum())
        if n_num and n_num >= len(values) / 2:
            odd = list(pd.unique(values[~numeric.to_numpy()]))[:3]
            raise InvalidInputError(
                f"column {name!r} has dtype {dt} but {n_num} of its {len(values)} values are numbers"
                + (f" (not numbers: {', '.join(map(repr, odd))})" if odd else " stored as text")
                + "; a non-numeric column is coded as one dummy per distinct value. Convert it with "
                f"pd.to_numeric(df[{name!r}], errors='coerce') (entries that are not numbers become missing and their rows "
                f"are dropped), or write C({name}) if the dummies are intended")
        levels = int(values.nunique())
        if levels >= 20 and levels >= len(values) / 2:
            raise InvalidInputError(
                f"column {name!r} is non-numeric with {levels} distinct values in {len(values)} rows: as a categorical "
                f"regressor it would add {levels - 1} dummy columns (is it an identifier?). Absorb it as a fixed effect "
                f"('... | {name}'), write C({name}) if the dummies are intended, or convert it to numbers")


def build_design(formula: str, data: pd.DataFrame, *, weights: Optional[ArrayLike] = None,
                 cluster: Optional[Union[ArrayLike, list]] = None, na: str = "drop", as_columns: bool = False,
                 extra: Optional[dict] = None) -> Design:
    """The numeric design of a formula. With ``as_columns`` and absorbed fixed effects on a formula of
    plain columns, X is a list of 1-d float64 columns and fixed_effects a list of 1-d label columns,
    views of the caller's data where no row is dropped (read-only use; for ``_core.ols_absorbed``).
    ``extra``: {name: numeric Series on ``data.index``} screened for missing values with the design;
    their kept rows are returned in ``Design.extra``."""
    data = _check_frame(data)
    formula, fe_terms = _split_formula(formula)
    if na not in ("drop", "raise"):
        raise InvalidInputError(f"na must be 'drop' or 'raise', got {na!r}")
    if len(data) == 0:
        raise InvalidInputError("the data have zero rows")
    _refuse_duplicate_columns(formula, data, fe_terms, weights, cluster)
    plain = _plain_terms(formula, data)
    used = [plain[0]] + plain[1] if plain else _required_variables(formula, data)
    if not plain:
        _check_used_columns(formula, data, used)
    elif "Intercept" in used:
        _check_used_columns(formula, data, ["Intercept"])
    cols = {name: data[name] for name in used}
    if weights is not None:
        wcol = _column_or_array(data, weights, "weights")
        if not pd.api.types.is_numeric_dtype(wcol) or pd.api.types.is_bool_dtype(wcol):
            raise TypeError(f"weights must be numeric, got dtype {wcol.dtype}")
        n_bad = int(wcol.isna().sum())
        if n_bad:
            raise InvalidInputError(f"weights have {n_bad} missing value(s); weights must be positive and finite "
                                    "(drop those rows first if that is intended)")
        cols["(weights)"] = wcol
    cluster_names, cluster_columns = [], []  # cluster_columns: the column name, or None for an array
    if cluster is not None:
        specs = cluster_specs(cluster)
        if not specs:
            raise InvalidInputError("cluster is an empty list")
        for j, c in enumerate(specs):
            name = c if isinstance(c, str) else (c.name if isinstance(c, pd.Series) and c.name is not None else f"cluster{j}")
            cluster_names.append(str(name))
            cluster_columns.append(c if isinstance(c, str) else None)
            cols[f"(cluster {j})"] = _column_or_array(data, c, "cluster")
    for j, term in enumerate(fe_terms):
        for v in term:
            if v not in data.columns:
                raise InvalidInputError(f"fixed effect {v!r} is not a column of the data; available columns: "
                                        f"{_columns_list(data)}")
            cols[f"(fe {j}: {v})"] = data[v]
    for name, col in (extra or {}).items():
        cols[f"({name})"] = col

    bad_rows = _missing_mask(cols, len(data))
    n_missing = int(bad_rows.sum())
    if n_missing and na == "raise":
        counts = {k: int(v.isna().sum()) for k, v in cols.items() if v.isna().any()}
        raise InvalidInputError(f"missing values in {counts} (na='raise'); use na='drop' to drop those rows")
    if n_missing == len(data):
        raise InvalidInputError("every row has a missing value in a used column; nothing to fit")
    keep = ~bad_rows if n_missing else None
    index = data.index[keep] if n_missing else data.index

    if plain:
        depvar, names, intercept = plain
        if fe_terms:
            intercept = False  # absorbed by the fixed effects
        terms = (["Intercept"] if intercept else []) + names
        if not terms:
            raise InvalidInputError(f"formula {formula!r} has no regressors"
                                    + (" besides the fixed effects" if fe_terms else " (and no intercept)"))
        n = len(index)
        if fe_terms and as_columns:  # views of the caller's columns (C++ only reads them)
            X = [np.ascontiguousarray(_kept(cols[name].to_numpy(dtype=np.float64), keep)) for name in names]
        else:
            X = np.empty((n, len(terms)), dtype=np.float64, order="F")
            offset = 0
            if intercept:
                X[:, 0] = 1.0
                offset = 1
            for j, name in enumerate(names):
                X[:, offset + j] = _kept(cols[name].to_numpy(dtype=np.float64), keep)
        y = np.ascontiguousarray(_kept(cols[depvar].to_numpy(dtype=np.float64), keep))
    else:
        sub = data.loc[keep, used] if n_missing else data[used]
        from formulaic import model_matrix

        try:
            mm = model_matrix(formula, sub, na_action="raise")
        except Exception as exc:
            raise InvalidInputError(f"cannot build the design for {formula!r}: {exc}") from None
        lhs, rhs = mm.lhs, mm.rhs
        y_col = formula.split("~", 1)[0].strip()
        if y_col in sub.columns and not (pd.api.types.is_numeric_dtype(sub[y_col]) or pd.api.types.is_bool_dtype(sub[y_col])):
            raise TypeError(f"outcome column {y_col!r} has dtype {sub[y_col].dtype}; it must be numeric")
        if lhs.shape[1] != 1:
            raise TypeError(f"the outcome of {formula!r} must be one numeric column, got columns {list(lhs.columns)}; "
                            "is the outcome a string or categorical?")
        depvar = str(lhs.columns[0])
        terms = [str(c) for c in rhs.columns]
        if fe_terms and "Intercept" in terms:  # absorbed by the fixed effects
            rhs = rhs.drop(columns="Intercept")
            terms.remove("Intercept")
        if not terms:
            raise InvalidInputError(f"formula {formula!r} has no regressors"
                                    + (" besides the fixed effects" if fe_terms else " (and no intercept)"))
        X = np.asfortranarray(rhs.to_numpy(dtype=np.float64))
        y = np.ascontiguousarray(lhs.to_numpy(dtype=np.float64).ravel())

    w = None
    if weights is not None:
        wcol = cols["(weights)"]
        if not pd.api.types.is_numeric_dtype(wcol):
            raise TypeError(f"weights must be numeric, got dtype {wcol.dtype}")
        wv = wcol.to_numpy(dtype=np.float64)
        w = np.ascontiguousarray(wv[keep] if keep is not None else wv)
        if (w <= 0).any():
            raise InvalidInputError(f"weights must be positive; {int((w <= 0).sum())} row(s) have weight <= 0")
    clusters, cluster_fe = None, []
    if cluster_names and as_columns and plain and fe_terms:
        # clustering on absorbed fixed effects given by name (the usual case): the C++ core uses their level
        # codes, so the cluster columns are neither converted here nor compared there
        single = [t[0] if len(t) == 1 else None for t in fe_terms]
        if all(c is not None and c in single for c in cluster_columns):
            cluster_fe = [single.index(c) for c in cluster_columns]
    if cluster_names and not cluster_fe:
        codes = [_label_codes([cols[f"(cluster {j})"]], keep)[0] for j in range(len(cluster_names))]
        clusters = np.asfortranarray(np.column_stack(codes))
    fixed_effects, fe_names, fe_levels = None, [], []
    if fe_terms:
        codes = []
        for j, term in enumerate(fe_terms):
            c, levels = _label_codes([cols[f"(fe {j}: {v})"] for v in term], keep, borrow=as_columns and plain is not None)
            codes.append(c)
            fe_names.append("^".join(term))
            fe_levels.append(levels)
        fixed_effects = codes if as_columns and plain else np.asfortranarray(np.column_stack(codes))
    kept_extra = {name: np.ascontiguousarray(_kept(cols[f"({name})"].to_numpy(dtype=np.float64), keep))
                  for name in (extra or {})}
    return Design(y=y, X=X, terms=terms, depvar=depvar, index=index,
                  n_missing=n_missing, weights=w, clusters=clusters, cluster_names=cluster_names,
                  fixed_effects=fixed_effects, fe_names=fe_names, fe_levels=fe_levels, cluster_fixed_effects=cluster_fe,
                  positions=keep, extra=kept_extra)
