"""Costing and value-for-money helpers: ingredients costing, inflation to a base year, currency / PPP
conversion, discounting (annual, mid-year, continuous), NPV, IRR, benefit–cost ratio, DALYs (Murray 1994,
with optional age weighting) and QALYs.

Conventions (stated once, used by every helper): a flow at period ``t`` (``t = 0, 1, 2, …``; period 0 is the
base year) is discounted by
  * ``timing="annual"``:     (1 + r)^−t           (flows at the start of each period; numpy_financial.npv);
  * ``timing="mid-year"``:   (1 + r)^−(t + 0.5)   (flows spread over the period, counted at its middle);
  * ``timing="continuous"``: e^−r·t               (r a continuous rate, as in the GBD DALY formulas).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .errors import InvalidInputError
from .survey import _as_list
from .targeting import _numeric

__all__ = ["ingredients_cost", "inflate", "convert_currency", "discount_factors", "present_value", "npv", "irr",
           "benefit_cost_ratio", "yll", "yld", "qaly"]

_TIMINGS = ("annual", "mid-year", "continuous")


def _vector(x, name: str, who: str) -> np.ndarray:
    try:
        v = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be numeric, got {type(x).__name__}") from None
    if v.ndim > 1:
        raise InvalidInputError(f"{who}: {name} must be a number or 1-d, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise InvalidInputError(f"{who}: {name} has a missing or infinite value; drop or impute it first")
    return v


def _rate(rate, who: str, name: str = "rate") -> float:
    if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, (int, float, np.integer, np.floating)) or not np.isfinite(rate) \
            or rate <= -1:
        raise InvalidInputError(f"{who}: {name} must be a finite number > -1, got {rate!r}")
    return float(rate)


def ingredients_cost(data: pd.DataFrame, *, quantity: str, unit_cost: str, by=None) -> pd.Series:
    """Ingredients (bottom-up) costing: Σ quantity × unit cost, in total or per group of ``by`` columns."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"ingredients_cost: data must be a pandas DataFrame, got {type(data).__name__}")
    q = _numeric(data, quantity, "quantity")
    u = _numeric(data, unit_cost, "unit_cost")
    if np.any(q < 0) or np.any(u < 0):
        raise InvalidInputError("ingredients_cost: quantities and unit costs must be non-negative")
    line = pd.Series(q * u, index=data.index, name="cost")
    by = _as_list(by)
    if not by:
        return pd.Series({"cost": float(line.sum())})
    return line.groupby([data[b] for b in by], sort=True).sum()


def inflate(amount, *, from_year, to_year, price_index) -> np.ndarray:
    """Express amounts of ``from_year`` prices in ``to_year`` prices: amount × I(to_year) / I(from_year), with
    ``price_index`` a mapping (dict or Series) year → index (e.g. a CPI or GDP deflator series)."""
    who = "inflate"
    idx = pd.Series(price_index, dtype=float) if not isinstance(price_index, pd.Series) else price_index.astype(float)
    if idx.isna().any() or np.any(idx.to_numpy() <= 0):
        raise InvalidInputError(f"{who}: price_index values must be positive numbers")
    a = _vector(amount, "amount", who)
    years = np.broadcast_to(np.asarray(from_year), a.shape) if a.ndim else np.asarray(from_year)
    for y in np.unique(np.atleast_1d(years)).tolist() + [to_year]:
        if y not in idx.index:
            raise InvalidInputError(f"{who}: year {y!r} is not in price_index (years {list(idx.index)[:10]}...)")
    factor = idx[to_year] / idx.reindex(np.atleast_1d(years)).to_numpy()
    out = a * (factor if a.ndim else factor[0])
    return out


def convert_currency(amount, *, rate) -> np.ndarray:
    """Convert local-currency amounts: amount / rate, with ``rate`` local currency units per unit of the target
    currency — a market exchange rate (e.g. LCU per US$), or the World Bank PPP conversion factor (LCU per
    international $) for purchasing-power-parity dollars."""
    a = _vector(amount, "amount", "convert_currency")
    r = _vector(rate, "rate", "convert_currency")
    if np.any(r <= 0):
        raise InvalidInputError("convert_currency: rate must be positive (local currency units per target unit)")
    return a / r


def discount_factors(rate: float, times, *, timing: str = "annual") -> np.ndarray:
    """Discount factor of each period ``t`` (see the module conventions)."""
    who = "discount_factors"
    r = _rate(rate, who)
    t = _vector(times, "times", who)
    if timing == "annual":
        return (1 + r) ** -t
    if timing == "mid-year":
        return (1 + r) ** -(t + 0.5)
    if timing == "continuous":
        return np.exp(-r * t)
    raise InvalidInputError(f"{who}: timing must be one of {_TIMINGS}, got {timing!r}")


def present_value(values, rate: float, *, times=None, timing: str = "annual") -> float:
    """Σ_t values_t × discount factor(t); ``times`` default 0, 1, 2, …"""
    v = _vector(values, "values", "present_value")
    t = np.arange(v.size, dtype=float) if times is None else _vector(times, "times", "present_value")
    if t.shape != v.shape:
        raise InvalidInputError(f"present_value: values and times must have the same length, got {v.size} and {t.size}")
    return float(np.sum(v * discount_factors(rate, t, timing=timing)))


def npv(rate: float, values, *, timing: str = "annual") -> float:
    """Net present value of a stream of net flows (benefits − costs) at periods 0, 1, 2, …; with the default
    timing equal to ``numpy_financial.npv(rate, values)``."""
    return present_value(values, rate, timing=timing)


def irr(values, *, tol: float = 1e-12, max_iter: int = 200) -> float:
    """Internal rate of return: the rate r > −1 with NPV(r) = 0 for flows at periods 0, 1, 2, … Needs a sign
    change in the flows; when NPV has several roots, the one closest to 0 (numpy_financial.irr's rule). Found
    from the real roots of the polynomial Σ v_t x^t (x = 1/(1+r)), polished by Newton steps."""
    v = _vector(values, "values", "irr")
    if v.size < 2 or not (np.any(v > 0) and np.any(v < 0)):
        raise InvalidInputError("irr: the flows need at least one negative and one positive value (a sign change)")
    roots = np.roots(v[::-1])  # coefficients of x^(n-1) .. x^0
    x = roots[(np.abs(roots.imag) < 1e-8 * np.maximum(1, np.abs(roots))) & (roots.real > 0)].real
    if x.size == 0:
        return float("nan")
    rates = 1 / x - 1
    r = float(rates[np.argmin(np.abs(rates))])
    t = np.arange(v.size, dtype=float)
    for _ in range(max_iter):  # Newton on NPV(r)
        d = (1 + r) ** -t
        f, df = np.sum(v * d), np.sum(-t * v * d / (1 + r))
        if df == 0:
            break
        step = f / df
        r -= step
        if abs(step) < tol * max(1, abs(r)):
            break
    return r


def benefit_cost_ratio(benefits, costs, rate: float, *, timing: str = "annual") -> float:
    """Present value of benefits / present value of costs (flows at periods 0, 1, 2, …)."""
    b = present_value(benefits, rate, timing=timing)
    c = present_value(costs, rate, timing=timing)
    if c <= 0:
        raise InvalidInputError("benefit_cost_ratio: the present value of costs must be positive")
    return b / c


def _murray(a, L, D, r, age_weighting, C, beta, K):
    """Murray (1994, eq. 2; Fox-Rushby & Hanson 2001, eq. 1) closed form of
    ∫_a^{a+L} D [K C x e^{−βx} + (1 − K)] e^{−r(x − a)} dx (continuous discounting at r, age weight C x e^{−βx})."""
    K = K if age_weighting else 0.0
    out = np.zeros(np.broadcast(a, L, D).shape)
    if K:
        s = r + beta
        aw = K * C * np.exp(r * a) / s ** 2 * (np.exp(-s * (a + L)) * (-s * (a + L) - 1) - np.exp(-s * a) * (-s * a - 1))
        out = out + aw
    plain = (1 - K) * (L if r == 0 else (1 - np.exp(-r * L)) / r)
    return D * (out + plain)


def _daly_args(age, duration, who):
    a = _vector(age, "age", who)
    L = _vector(duration, "duration", who)
    if np.any(a < 0) or np.any(L < 0):
        raise InvalidInputError(f"{who}: ages and durations must be non-negative")
    return a, L


def yll(age, life_expectancy, *, rate: float = 0.03, age_weighting: bool = False, C: float = 0.1658, beta: float = 0.04,
        K: float = 1.0):
    """Years of life lost for deaths at ``age`` with remaining ``life_expectancy`` (Murray 1994 / GBD 1990:
    continuous discounting at ``rate``; with ``age_weighting`` the weight C·x·e^{−βx}, modulated by K)."""
    a, L = _daly_args(age, life_expectancy, "yll")
    r = _rate(rate, "yll")
    if r < 0:
        raise InvalidInputError("yll: rate must be non-negative")
    return _murray(a, L, 1.0, r, age_weighting, C, beta, K)


def yld(age, duration, disability_weight, *, rate: float = 0.03, age_weighting: bool = False, C: float = 0.1658,
        beta: float = 0.04, K: float = 1.0):
    """Years lived with disability: the Murray (1994) integral of ``disability_weight`` over ``duration``
    years from onset at ``age`` (same discounting and age weighting as :func:`yll`). DALY = YLL + YLD."""
    a, L = _daly_args(age, duration, "yld")
    D = _vector(disability_weight, "disability_weight", "yld")
    if np.any(D < 0) or np.any(D > 1):
        raise InvalidInputError("yld: disability weights must be in [0, 1]")
    r = _rate(rate, "yld")
    if r < 0:
        raise InvalidInputError("yld: rate must be non-negative")
    return _murray(a, L, D, r, age_weighting, C, beta, K)


def qaly(utility, *, durations=1.0, rate: float = 0.0, timing: str = "annual") -> float:
    """Quality-adjusted life years: Σ_t utility_t × duration_t × discount factor(t) over periods 0, 1, 2, …
    (utilities on the 0 = dead, 1 = full health scale; negative utilities, states worse than death, allowed)."""
    u = _vector(utility, "utility", "qaly")
    d = np.broadcast_to(_vector(durations, "durations", "qaly"), u.shape)
    if np.any(d < 0):
        raise InvalidInputError("qaly: durations must be non-negative")
    if np.any(u > 1):
        raise InvalidInputError("qaly: utilities must be at most 1 (full health)")
    return present_value(u * d, rate, timing=timing)
