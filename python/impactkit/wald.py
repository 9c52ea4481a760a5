"""Wald tests of linear restrictions, written as text ("treat = 0, x1 = x2") or as (R, r)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import _core
from .errors import InvalidInputError


@dataclass(frozen=True)
class WaldTest:
    """H0: R·θ = r. `statistic` is F = W/q (distribution "F") or W (distribution "chi2")."""
    statistic: float
    p_value: float
    df_num: int
    df_denom: float
    distribution: str
    hypothesis: str

    def __repr__(self) -> str:
        if self.distribution == "F":
            dist = f"F({self.df_num}, {self.df_denom:g})"
        else:
            dist = f"chi2({self.df_num})"
        return f"<WaldTest {self.hypothesis}: {dist} = {self.statistic:.4g}, p = {self.p_value:.4g}>"


_NUMBER = re.compile(r"\s*(\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)\s*")


def _split_top_level(text: str, sep: str) -> list:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _unknown_coefficient(rest: str, names: list) -> str:
    import difflib

    word = re.match(r"[^\s=+\-*,]+", rest)
    word = word.group(0) if word else rest.strip()
    close = difflib.get_close_matches(word, [str(n) for n in names], n=1, cutoff=0.5)
    return (f"unknown coefficient {word!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; the coefficients are: {', '.join(map(str, names))}")


def _parse_side(expr: str, names: list, row: np.ndarray, sign: float) -> float:
    """Adds the coefficients of `expr` (a linear combination) to `row`; returns its constant."""
    by_length = sorted(names, key=len, reverse=True)
    s, pos, const = expr.strip(), 0, 0.0
    if not s:
        raise InvalidInputError("empty side in a restriction")
    expect_term = True
    while pos < len(s):
        while pos < len(s) and s[pos].isspace():
            pos += 1
        if pos >= len(s):
            break
        term_sign = 1.0
        if s[pos] in "+-":
            term_sign = -1.0 if s[pos] == "-" else 1.0
            pos += 1
            while pos < len(s) and s[pos].isspace():
                pos += 1
        elif not expect_term:
            raise InvalidInputError(f"cannot read {s!r} at {s[pos:]!r}; write e.g. '2*x1 - x2 = 0'")
        factor = 1.0
        m = _NUMBER.match(s, pos)
        name_here = next((nm for nm in by_length if s.startswith(nm, pos)), None)
        if m and name_here is None:
            factor = float(m.group(1))
            if not np.isfinite(factor):
                raise InvalidInputError(f"the hypothesis value {m.group(1).strip()!r} in {expr.strip()!r} is not finite "
                                        "(it overflows a double); hypothesis values and factors must be finite numbers")
            pos = m.end()
            if pos < len(s) and s[pos] == "*":
                pos += 1
                while pos < len(s) and s[pos].isspace():
                    pos += 1
                name_here = next((nm for nm in by_length if s.startswith(nm, pos)), None)
                if name_here is None:
                    raise InvalidInputError(_unknown_coefficient(s[pos:], names))
            else:
                const += sign * term_sign * factor
                expect_term = False
                continue
        if name_here is None:
            raise InvalidInputError(_unknown_coefficient(s[pos:], names))
        pos += len(name_here)
        while pos < len(s) and s[pos].isspace():
            pos += 1
        if pos < len(s) and s[pos] == "*":  # name * number
            m = _NUMBER.match(s, pos + 1)
            if not m:
                raise InvalidInputError(f"expected a number after '*' in {s!r}")
            factor *= float(m.group(1))
            if not np.isfinite(factor):
                raise InvalidInputError(f"the factor in {s!r} is not finite; hypothesis values and factors must be finite")
            pos = m.end()
        row[names.index(name_here)] += sign * term_sign * factor
        expect_term = False
    return const


def parse_restrictions(hypothesis: str, names: list):
    """'a = 0, b - 2*c = 1' → (R, r) over the coefficient `names`."""
    rows, rhs = [], []
    for part in _split_top_level(hypothesis, ","):
        if not part.strip():
            continue
        sides = _split_top_level(part, "=")
        if len(sides) == 1:
            sides = [sides[0], "0"]
        if len(sides) != 2:
            raise InvalidInputError(f"restriction {part.strip()!r} must have exactly one '='")
        row = np.zeros(len(names))
        c_left = _parse_side(sides[0], names, row, 1.0)
        c_right = _parse_side(sides[1], names, row, -1.0)
        if not row.any():
            raise InvalidInputError(f"restriction {part.strip()!r} involves no coefficient")
        rows.append(row)
        rhs.append(-(c_left + c_right))
    if not rows:
        raise InvalidInputError("no restriction given")
    return np.vstack(rows), np.asarray(rhs, dtype=float)


def wald_test(coef, vcov, names, hypothesis, df_denom: float, distribution: str = "F") -> WaldTest:
    if isinstance(hypothesis, str):
        R, r = parse_restrictions(hypothesis, list(names))
        label = hypothesis
    else:
        try:
            R, r = hypothesis
        except (TypeError, ValueError):
            raise TypeError("hypothesis must be a string like 'x1 = 0, x2 = x3' or a tuple (R, r)") from None
        R = np.atleast_2d(np.asarray(R, dtype=float))
        r = np.atleast_1d(np.asarray(r, dtype=float))
        if not (np.isfinite(R).all() and np.isfinite(r).all()):
            raise InvalidInputError("the hypothesis (R, r) is not finite (a value is NaN or inf); R and r must be finite")
        label = f"R·b = r ({R.shape[0]} restriction(s))"
    if distribution not in ("F", "chi2"):
        raise InvalidInputError(f"distribution must be 'F' or 'chi2', got {distribution!r}")
    out = _core.wald_test(np.asarray(coef, float), np.asarray(vcov, float), R, r, float(df_denom))
    if distribution == "F":
        return WaldTest(out["statistic_f"], out["p_value_f"], out["df_num"], out["df_denom"], "F", label)
    return WaldTest(out["statistic_chi2"], out["p_value_chi2"], out["df_num"], float("inf"), "chi2", label)
