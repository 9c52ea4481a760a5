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


def _check_frame(data) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    return data


def _split_formula(formula: str):
    """'y ~ x1 + x2 | fe1 + fe2^fe3' → ('y ~ x1 + x2', [['fe1'], ['fe2', 'fe3']])."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string like 'y ~ x1 + x2', got {type(formula).__name__}")
    if "~" not in formula:
        raise InvalidInputError(f"formula {formula!r} has no '~': write it as 'outcome ~ regressors'")
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
    if isinstance(spec, str):
        if spec not in data.columns:
            raise InvalidInputError(f"{what} column {spec!r} is not in the data")
        return data[spec]
    arr = pd.Series(np.asarray(spec), index=data.index)  if not isinstance(spec, pd.Series) else spec
    if len(arr) != len(data):
        raise InvalidInputError(f"{what} has length {len(arr)} but the data have {len(data)} rows")
    if isinstance(spec, pd.Series) and not spec.index.equals(data.index):
        arr = pd.Series(spec.to_numpy(), index=data.index)
    return arr


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
            if np.isfinite(np.add.reduce(vals, axis=None)):
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


def build_design(formula: str, data: pd.DataFrame, *, weights: Optional[ArrayLike] = None,
                 cluster: Optional[Union[ArrayLike, list]] = None, na: str = "drop", as_columns: bool = False) -> Design:
    """The numeric design of a formula. With ``as_columns`` and absorbed fixed effects on a formula of
    plain columns, X is a list of 1-d float64 columns and fixed_effects a list of 1-d label columns,
    views of the caller's data where no row is dropped (read-only use; for ``_core.ols_absorbed``)."""
    data = _check_frame(data)
    formula, fe_terms = _split_formula(formula)
    if na not in ("drop", "raise"):
        raise InvalidInputError(f"na must be 'drop' or 'raise', got {na!r}")
    if len(data) == 0:
        raise InvalidInputError("the data have zero rows")
    plain = _plain_terms(formula, data)
    used = [plain[0]] + plain[1] if plain else _required_variables(formula, data)
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
        specs = [cluster] if isinstance(cluster, (str, pd.Series)) or (
            isinstance(cluster, np.ndarray) and cluster.ndim == 1) else list(cluster)
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
                raise InvalidInputError(f"fixed effect {v!r} is not a column of the data")
            cols[f"(fe {j}: {v})"] = data[v]

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
    return Design(y=y, X=X, terms=terms, depvar=depvar, index=index,
                  n_missing=n_missing, weights=w, clusters=clusters, cluster_names=cluster_names,
                  fixed_effects=fixed_effects, fe_names=fe_names, fe_levels=fe_levels, cluster_fixed_effects=cluster_fe)
