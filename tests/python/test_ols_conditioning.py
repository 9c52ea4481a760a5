"""ik.ols on badly scaled data: regressors shifted by 1e6–1e9, columns scaled by 1e±160, 1e±200, 1e±300.

Least squares is invariant to shifting a regressor when there is an intercept, and to scaling
columns; impactkit solves every fit on a centred, power-of-two-equilibrated copy of the design
(core/least_squares.hpp, "Conditioning") so that its variances are as accurate as its coefficients.

References (every assertion states its tolerance):
- exact transformation of the unshifted / unscaled fit (always): x1 → x1 + c leaves the slopes and
  their standard errors unchanged and moves the intercept to b0 − c·b1 with variance
  V00 − 2c·V01 + c²·V11 (x1 is quantised to multiples of 2^-20 so that x1 + c is exact for c ≤ 1e9);
  [X y] → s·[X y] leaves every coefficient and variance unchanged. Tolerance rel 1e-9
  (measured ≤ 1e-14).
- statsmodels OLS (HC1, HC3, cluster = CR1) where the peer itself is accurate: its own shifted fit
  reproduces its unshifted fit to rel 1e-9 (HC1 at c = 1e6; statsmodels' HC3 is off by 2e-6 at
  c = 1e6 and every statsmodels variance by ~100% at c ≥ 1e8); then rel 1e-8 (coefficients 1e-9).
  Unshifted data: always compared.
- pyfixest feols with an absorbed fixed effect and CRV1 (it demeans, so offsets do not hurt it):
  every offset, rel 1e-8. pyfixest does not converge or reports every variable collinear at the
  extreme scales, so those are compared with the exact transformation only.
- Where a variance cannot be held in a double at all (x2·1e300 alone: var ≈ 1e-603), ik.ols raises
  InvalidInputError naming the coefficient and the remedy; it never returns 0 or drops the column.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit.errors import ImpactkitWarning, InvalidInputError

EXACT_RTOL = 1e-9
PEER_RTOL = 1e-8
PEER_COEF_RTOL = 1e-9
PEER_SELF_RTOL = 1e-9
OFFSETS = [1e6, 1e7, 1e8, 1e9]
SCALES = [1e160, 1e-160, 1e200, 1e-200, 1e300, 1e-300]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """y = 1 + 2·x1 − x2 + cluster shock + heteroskedastic noise; n = 500, 30 clusters, 20 fixed-effect levels."""
    rng = np.random.default_rng(20240611)
    n, G = 500, 30
    g = rng.integers(0, G, n)
    x1 = np.ldexp(np.round(np.ldexp(rng.normal(size=n), 20)), -20)
    x2 = rng.normal(size=n)
    y = 1 + 2 * x1 - x2 + rng.normal(size=G)[g] + rng.normal(size=n) * (1 + np.abs(x1))
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g, "fe": rng.integers(0, 20, n), "w": 0.5 + (np.arange(n) % 7) / 3})


def fit(df: pd.DataFrame, vcov: str, formula: str = "y ~ x1 + x2", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImpactkitWarning)  # no spurious "not positive semi-definite" warning
        return ik.ols(formula, df, vcov=vcov, cluster="g" if vcov.startswith("CR") else None, **kw)


def shifted(df: pd.DataFrame, c: float) -> pd.DataFrame:
    out = df.copy()
    out["x1"] = out["x1"] + c
    return out


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def transformed(base, c: float):
    """Intercept, its standard error and the slopes of the unshifted fit moved to x1 + c (exact)."""
    V = base.vcov.to_numpy()
    b0 = base.coef["Intercept"] - c * base.coef["x1"]
    se0 = np.sqrt(V[0, 0] - 2 * c * V[0, 1] + c * c * V[1, 1])
    return b0, se0


# --- offsets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("vcov", ["HC0", "HC1", "HC2", "HC3", "CR1", "CR2", "CR3"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("c", OFFSETS)
def test_offset_regressor_matches_exact_transformation(data, vcov, weighted, c):
    kw = {"weights": "w"} if weighted else {}
    base = fit(data, vcov, **kw)
    r = fit(shifted(data, c), vcov, **kw)
    assert r.collinear == []
    assert rel(r.coef[["x1", "x2"]], base.coef[["x1", "x2"]]) <= EXACT_RTOL
    assert rel(r.se[["x1", "x2"]], base.se[["x1", "x2"]]) <= EXACT_RTOL
    assert rel(r.df_inference[["x1", "x2"]], base.df_inference[["x1", "x2"]]) <= EXACT_RTOL  # CR2 Satterthwaite df
    b0, se0 = transformed(base, c)
    assert rel(r.coef["Intercept"], b0) <= EXACT_RTOL
    assert rel(r.se["Intercept"], se0) <= EXACT_RTOL
    assert rel(r.pvalues[["x1", "x2"]], base.pvalues[["x1", "x2"]]) <= 1e-7


def _statsmodels(df: pd.DataFrame, vcov: str):
    sm = pytest.importorskip("statsmodels.api", reason="statsmodels not installed")
    X = sm.add_constant(df[["x1", "x2"]])
    model = sm.OLS(df["y"], X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if vcov == "CR1":
            return model.fit(cov_type="cluster", cov_kwds={"groups": df["g"]})
        return model.fit(cov_type=vcov)


@pytest.mark.parametrize("vcov", ["HC1", "HC3", "CR1"])
@pytest.mark.parametrize("c", [0.0] + OFFSETS)
def test_offset_regressor_vs_statsmodels_where_it_is_accurate(data, vcov, c):
    d = shifted(data, c) if c else data
    r = fit(d, vcov)
    peer = _statsmodels(d, vcov)
    if c:
        peer0 = _statsmodels(data, vcov)
        peer_error = rel(peer.bse.to_numpy()[1:], peer0.bse.to_numpy()[1:])
        if not peer_error <= PEER_SELF_RTOL:
            # the peer is not accurate here (its own shifted fit is off by peer_error); the exact
            # transformation (test above) is the reference, and impactkit must beat the peer
            base = fit(data, vcov)
            assert rel(r.se[["x1", "x2"]], base.se[["x1", "x2"]]) <= EXACT_RTOL < peer_error
            return
    assert rel(r.coef.to_numpy(), peer.params.to_numpy()) <= PEER_COEF_RTOL
    assert rel(r.se.to_numpy(), peer.bse.to_numpy()) <= PEER_RTOL


@pytest.mark.parametrize("c", [0.0] + OFFSETS)
def test_offset_with_absorbed_fixed_effect_vs_pyfixest(data, c):
    pf = pytest.importorskip("pyfixest", reason="pyfixest not installed")
    d = shifted(data, c) if c else data
    r = fit(d, "CR1", "y ~ x1 + x2 | fe")
    assert r.collinear == []  # x1 + 1e7 used to be judged collinear with the fixed effect
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = pf.feols("y ~ x1 + x2 | fe", data=d, vcov={"CRV1": "g"})
    assert rel(r.coef[["x1", "x2"]], peer.coef()[["x1", "x2"]]) <= PEER_COEF_RTOL
    assert rel(r.se[["x1", "x2"]], peer.se()[["x1", "x2"]]) <= PEER_RTOL
    base = fit(data, "CR1", "y ~ x1 + x2 | fe")
    assert rel(r.se, base.se) <= EXACT_RTOL


@pytest.mark.parametrize("c", OFFSETS)
def test_offset_outcome(data, c):
    yq = np.ldexp(np.round(np.ldexp(data["y"].to_numpy(), 10)), -10)  # y + c exact
    d0 = data.assign(y=yq)
    base = fit(d0, "HC1")
    r = fit(d0.assign(y=yq + c), "HC1")
    assert rel(r.coef["Intercept"], base.coef["Intercept"] + c) <= EXACT_RTOL
    assert rel(r.coef[["x1", "x2"]], base.coef[["x1", "x2"]]) <= EXACT_RTOL
    assert rel(r.se, base.se) <= EXACT_RTOL
    assert abs(r.r2 - base.r2) <= EXACT_RTOL


# --- scales -------------------------------------------------------------------------------------

@pytest.mark.parametrize("s", SCALES)
@pytest.mark.parametrize("vcov", ["HC1", "HC3", "CR1"])
def test_scaled_columns_without_intercept(data, s, vcov):
    """y, x1 and x2 times s, no intercept: the same coefficients and standard errors (statsmodels
    gives inf or 0 standard errors here)."""
    base = fit(data, vcov, "y ~ 0 + x1 + x2")
    d = data.assign(y=data["y"] * s, x1=data["x1"] * s, x2=data["x2"] * s)
    r = fit(d, vcov, "y ~ 0 + x1 + x2")
    assert r.collinear == []
    assert rel(r.coef, base.coef) <= EXACT_RTOL
    assert rel(r.se, base.se) <= EXACT_RTOL
    assert np.all(r.se > 0)


@pytest.mark.parametrize("s", SCALES + [1e154])
def test_scaled_columns_with_absorbed_fixed_effect(data, s):
    """y, x1 and x2 times s with an absorbed fixed effect (y·1e154 used to give every coefficient
    and SE exactly 0; pyfixest fails to converge or drops everything at these scales)."""
    base = fit(data, "CR1", "y ~ x1 + x2 | fe")
    d = data.assign(y=data["y"] * s, x1=data["x1"] * s, x2=data["x2"] * s)
    r = fit(d, "CR1", "y ~ x1 + x2 | fe")
    assert r.collinear == []
    assert rel(r.coef, base.coef) <= EXACT_RTOL
    assert rel(r.se, base.se) <= EXACT_RTOL
    assert abs(r.r2_within - base.r2_within) <= EXACT_RTOL


def test_outcome_times_1e154_with_fixed_effect(data):
    base = fit(data, "CR1", "y ~ x1 + x2 | fe")
    r = fit(data.assign(y=data["y"] * 1e154), "CR1", "y ~ x1 + x2 | fe")
    assert rel(r.coef, base.coef * 1e154) <= EXACT_RTOL
    assert rel(r.se, base.se * 1e154) <= EXACT_RTOL
    assert np.all(r.pvalues > 0)


@pytest.mark.parametrize("s", [1e150, 1e-150, 1e100, 1e-100])
def test_one_regressor_scaled_keeps_it_and_its_neighbours(data, s):
    base = fit(data, "HC1")
    r = fit(data.assign(x2=data["x2"] * s), "HC1")
    assert r.collinear == []
    assert rel(r.coef[["Intercept", "x1"]], base.coef[["Intercept", "x1"]]) <= EXACT_RTOL
    assert rel(r.se[["Intercept", "x1"]], base.se[["Intercept", "x1"]]) <= EXACT_RTOL
    assert rel(r.coef["x2"], base.coef["x2"] / s) <= EXACT_RTOL
    assert rel(r.se["x2"], base.se["x2"] / s) <= EXACT_RTOL


@pytest.mark.parametrize("s", SCALES)
def test_unrepresentable_variance_raises_never_zero(data, s):
    """x2·s alone (var(b2) ≈ 1e∓2·log10 s) or y·s alone (var(b0)): beyond double precision, a
    clear error instead of a dropped column or a standard error of 0."""
    with pytest.raises(InvalidInputError, match="outside the range of double precision"):
        fit(data.assign(x2=data["x2"] * s), "HC1")
    with pytest.raises(InvalidInputError, match="outside the range of double precision"):
        fit(data.assign(y=data["y"] * s), "CR1")
