"""ik.iv and the GLMs (logit, probit, poisson) on regressors shifted by 1e6–1e9: their variances are
as accurate as their coefficients (the OLS standard of test_ols_conditioning.py).

Reference: the exact transformation of the unshifted fit. With an intercept, shifting x1, the
instrument z and the endogenous d by c leaves the slopes and their standard errors unchanged (the
columns are quantised to multiples of 2^-20 so that x + c is exact for c ≤ 1e9). The GLM bread and
scores are formed on the centred / equilibrated copy the information matrix was solved on (before:
logit HC1 NaN at c = 1e8 and 23× too large at 1e9, silently).
Tolerance, every variance kind (iid, HC1, CR1; IV also HC3): slope SEs rel 1e-8 for c ≤ 1e8; at
c = 1e9 rel 1e-8 + 10 × the slopes' own relative error (the IRLS/2SLS coefficients themselves move
by up to 4e-6 for Poisson there; measured SE errors ≤ 2× that). No warning is raised.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

OFFSETS = [1e6, 1e7, 1e8, 1e9]
KINDS = {"iv": ["iid", "HC1", "HC3", "CR1"], "logit": ["iid", "HC1", "CR1"], "probit": ["iid", "HC1", "CR1"],
         "poisson": ["iid", "HC1", "CR1"]}
CASES = [(m, v) for m, kinds in KINDS.items() for v in kinds]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(20240611)
    n = 2000

    def q(a):
        return np.ldexp(np.round(np.ldexp(a, 20)), -20)

    z, x1 = q(rng.normal(size=n)), q(rng.normal(size=n))
    d = q(0.8 * z + 0.3 * x1 + rng.normal(size=n))
    y = 1 + 0.5 * d - 0.2 * x1 + rng.normal(size=n) * (1 + np.abs(x1))
    return pd.DataFrame(dict(y=y, yb=(y > 1).astype(float), yc=rng.poisson(np.exp(0.3 + 0.2 * x1)), x1=x1, d=d, z=z,
                             g=rng.integers(0, 40, n)))


def _fit(model, vcov, df):
    kw = dict(vcov=vcov, cluster="g" if vcov == "CR1" else None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if model == "iv":
            return ik.iv("y ~ x1 | d ~ z", df, **kw), ["x1", "d"]
        return getattr(ik, model)(("yc" if model == "poisson" else "yb") + " ~ x1", df, **kw), ["x1"]


@pytest.mark.parametrize("c", OFFSETS)
@pytest.mark.parametrize("model,vcov", CASES)
def test_shifted_copy_same_standard_errors(data, model, vcov, c):
    base, terms = _fit(model, vcov, data)
    shifted = data.copy()
    for col in ("x1", "z", "d"):
        shifted[col] = shifted[col] + c
    fit, _ = _fit(model, vcov, shifted)
    coef_err = np.max(np.abs(fit.coef[terms].to_numpy() / base.coef[terms].to_numpy() - 1))
    tol = 1e-8 if c <= 1e8 else 1e-8 + 10 * coef_err
    assert coef_err < 1e-5
    np.testing.assert_allclose(fit.se[terms].to_numpy(), base.se[terms].to_numpy(), rtol=tol, atol=0)
