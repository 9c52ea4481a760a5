"""From a DataFrame and a formula to contiguous float64 arrays for the C++ core.

Python does the column look-up, formula expansion (formulaic), missing-value screening (listwise,
with the count reported) and factor coding; C++ does the numbers (DESIGN.md §4). The caller's
DataFrame is never modified: every step works on new objects.
"""
from __future__ import annotations

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
    fe_levels: list = field(default_factory=list)  # per FE: labels of codes 0..G-1


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


def build_design(formula: str, data: pd.DataFrame, *, weights: Optional[ArrayLike] = None,
                 cluster: Optional[Union[ArrayLike, list]] = None, na: str = "drop") -> Design:
    data = _check_frame(data)
    formula, fe_terms = _split_formula(formula)
    if na not in ("drop", "raise"):
        raise InvalidInputError(f"na must be 'drop' or 'raise', got {na!r}")
    used = _required_variables(formula, data)
    cols = {name: data[name] for name in used}
    if weights is not None:
        cols["(weights)"] = _column_or_array(data, weights, "weights")
    cluster_names = []
    if cluster is not None:
        specs = [cluster] if isinstance(cluster, (str, pd.Series)) or (
            isinstance(cluster, np.ndarray) and cluster.ndim == 1) else list(cluster)
        if not specs:
            raise InvalidInputError("cluster is an empty list")
        for j, c in enumerate(specs):
            name = c if isinstance(c, str) else (c.name if isinstance(c, pd.Series) and c.name is not None else f"cluster{j}")
            cluster_names.append(str(name))
            cols[f"(cluster {j})"] = _column_or_array(data, c, "cluster")
    for j, term in enumerate(fe_terms):
        for v in term:
            if v not in data.columns:
                raise InvalidInputError(f"fixed effect {v!r} is not a column of the data")
            cols[f"(fe {j}: {v})"] = data[v]
    if len(data) == 0:
        raise InvalidInputError("the data have zero rows")
    frame = pd.DataFrame(cols, index=data.index) if cols else pd.DataFrame(index=data.index)

    for name, col in frame.items():
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            vals = col.to_numpy(dtype=float, na_value=np.nan)
            if np.isinf(vals).any():
                raise InvalidInputError(f"column {name!r} has {int(np.isinf(vals).sum())} infinite value(s); "
                                        "replace them or set them to NaN to drop those rows")
    missing = frame.isna()
    bad_rows = missing.any(axis=1).to_numpy()
    n_missing = int(bad_rows.sum())
    if n_missing and na == "raise":
        counts = {k: int(v) for k, v in missing.sum().items() if v}
        raise InvalidInputError(f"missing values in {counts} (na='raise'); use na='drop' to drop those rows")
    if n_missing == len(frame):
        raise InvalidInputError("every row has a missing value in a used column; nothing to fit")
    sub = data.loc[~bad_rows, used] if n_missing else data[used]

    from formulaic import model_matrix

    try:
        mm = model_matrix(formula, sub, na_action="raise")
    except Exception as exc:
        raise InvalidInputError(f"cannot build the design for {formula!r}: {exc}") from None
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise TypeError(f"the outcome of {formula!r} must be one numeric column, got columns {list(lhs.columns)}; "
                        "is the outcome a string or categorical?")
    depvar = str(lhs.columns[0])
    y_col = formula.split("~", 1)[0].strip()
    if y_col in sub.columns and not (pd.api.types.is_numeric_dtype(sub[y_col]) or pd.api.types.is_bool_dtype(sub[y_col])):
        raise TypeError(f"outcome column {y_col!r} has dtype {sub[y_col].dtype}; it must be numeric")
    if rhs.shape[1] == 0:
        raise InvalidInputError(f"formula {formula!r} has no regressors (and no intercept)")
    terms = [str(c) for c in rhs.columns]
    if fe_terms and "Intercept" in terms:  # absorbed by the fixed effects
        rhs = rhs.drop(columns="Intercept")
        terms.remove("Intercept")
        if rhs.shape[1] == 0:
            raise InvalidInputError(f"formula {formula!r} has no regressors besides the fixed effects")
    X = np.asfortranarray(rhs.to_numpy(dtype=np.float64))
    y = np.ascontiguousarray(lhs.to_numpy(dtype=np.float64).ravel())
    keep = ~bad_rows
    w = None
    if weights is not None:
        wcol = frame["(weights)"][keep]
        if not pd.api.types.is_numeric_dtype(wcol):
            raise TypeError(f"weights must be numeric, got dtype {wcol.dtype}")
        w = np.ascontiguousarray(wcol.to_numpy(dtype=np.float64))
        if (w <= 0).any():
            raise InvalidInputError(f"weights must be positive; {int((w <= 0).sum())} row(s) have weight <= 0")
    clusters = None
    if cluster_names:
        codes = [pd.factorize(frame[f"(cluster {j})"][keep], sort=False)[0] for j in range(len(cluster_names))]
        clusters = np.asfortranarray(np.column_stack(codes).astype(np.int32))
    fixed_effects, fe_names, fe_levels = None, [], []
    if fe_terms:
        codes = []
        for j, term in enumerate(fe_terms):
            parts = [frame[f"(fe {j}: {v})"][keep] for v in term]
            if len(parts) == 1:
                c, uniques = pd.factorize(parts[0], sort=False)
                levels = list(uniques)
            else:
                c, uniques = pd.factorize(pd.MultiIndex.from_arrays(parts), sort=False)
                levels = ["^".join(map(str, u)) for u in uniques]
            codes.append(c)
            fe_names.append("^".join(term))
            fe_levels.append(levels)
        fixed_effects = np.asfortranarray(np.column_stack(codes).astype(np.int32))
    return Design(y=y, X=X, terms=terms, depvar=depvar, index=sub.index,
                  n_missing=n_missing, weights=w, clusters=clusters, cluster_names=cluster_names,
                  fixed_effects=fixed_effects, fe_names=fe_names, fe_levels=fe_levels)
