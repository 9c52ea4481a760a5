"""with_vcov on models with absorbed fixed effects recomputes HC0/HC1, CR0/CR1 (one- or multiway)
and the switch from a survey design to a model-based variance without refitting, from the
within-transformed design, residuals and bread the fit keeps (Frisch–Waugh–Lovell).

Reference: a fresh ik.ols fit with the new variance on the same data (same estimation sample).
Tolerance: coefficients exact (the same object), variance rel 1e-12 (the same sandwich from the
same scores, summed in another row order), df and conventions exact.
No refit: the C++ fit entry points are replaced by counting spies (timing-independent).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit import _core

RTOL = 1e-12


def _data(n=3000, seed=7):
    rng = np.random.default_rng(seed)
    village = rng.integers(0, 120, n)
    hh = village * 10 + rng.integers(0, 3, n)          # households nested in villages
    year = rng.integers(0, 6, n)
    x1 = rng.normal(size=n) + 0.1 * village
    x2 = rng.normal(size=n) + year
    y = 1.0 + 0.5 * x1 - 0.3 * x2 + 0.02 * village + 0.1 * year + rng.normal(size=n) * (1 + np.abs(x1))
    df = pd.DataFrame(dict(y=y, x1=x1, x2=x2, village=village, hh=hh, year=year,
                           region=village // 20, w=rng.uniform(0.5, 2.0, n)))
    df.loc[rng.choice(n, 25, replace=False), "x2"] = np.nan      # missing values
    df.loc[n - 1, "hh"] = 99999                                  # a singleton household
    return df


class _Spy:
    def __init__(self, monkeypatch):
        self.calls = 0
        for name in ("ols", "ols_absorbed"):
            real = getattr(_core, name)

            def spy(*a, _real=real, **k):
                self.calls += 1
                return _real(*a, **k)
            monkeypatch.setattr(_core, name, spy)


def _same(a, b):
    assert list(a.coef.index) == list(b.coef.index)
    np.testing.assert_allclose(a.coef.to_numpy(), b.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.vcov.to_numpy(), b.vcov.to_numpy(), rtol=RTOL, atol=0)
    np.testing.assert_array_equal(a.df_inference.to_numpy(), b.df_inference.to_numpy())
    assert a.vcov_type == b.vcov_type
    assert a.vcov_convention == b.vcov_convention
    assert a.n_clusters == b.n_clusters
    assert a.nobs == b.nobs


CASES = [
    # (formula, fit kwargs, with_vcov args, with_vcov kwargs)
    ("y ~ x1 + x2 | hh + year", dict(vcov="HC1"), ("CR1",), dict(cluster="village")),   # hh nested in village
    ("y ~ x1 + x2 | hh + year", dict(cluster="village"), ("HC1",), {}),
    ("y ~ x1 + x2 | hh + year", dict(vcov="HC1"), ("HC0",), {}),
    ("y ~ x1 + x2 | village", dict(vcov="HC1"), ("CR0",), dict(cluster=["region", "year"])),  # multiway
    ("y ~ x1 + x2 | village + year", dict(vcov="HC1", weights="w"), ("CR1",), dict(cluster="hh")),  # village not nested in hh
    ("y ~ x1 + x2 | village", dict(vcov="HC1", weights="w", weight_type="probability"), ("CR1",), dict(cluster="region")),
    ("y ~ x1 + C(year) | hh", dict(vcov="HC1"), ("CR1",), dict(cluster="village")),   # formulaic path (matrix X)
]


@pytest.mark.parametrize("formula,fit_kw,args,kw", CASES)
def test_equals_fresh_fit_without_refit(monkeypatch, formula, fit_kw, args, kw):
    df = _data()
    fit = ik.ols(formula, df, **fit_kw)
    spy = _Spy(monkeypatch)
    new = fit.with_vcov(*args, **kw)
    assert spy.calls == 0, "with_vcov refitted"
    fresh_kw = {k: v for k, v in fit_kw.items() if k not in ("vcov", "cluster")}
    fresh = ik.ols(formula, df, vcov=args[0], **fresh_kw, **kw)
    _same(new, fresh)
    # the original is unchanged
    _same(fit, ik.ols(formula, df, **fit_kw))


def test_survey_design_to_model_based_without_refit(monkeypatch):
    df = _data()
    design = ik.SurveyDesign(df, weights="w", strata="region", psu="village", nest=True)
    fit = ik.ols("y ~ x1 + x2 | hh", df, design=design)
    spy = _Spy(monkeypatch)
    new = fit.with_vcov("CR1", cluster="village")
    assert spy.calls == 0
    assert fit.with_vcov() is fit
    fresh = ik.ols("y ~ x1 + x2 | hh", df, weights="w", weight_type="probability", vcov="CR1", cluster="village")
    _same(new, fresh)


def test_needs_refit_when_it_must(monkeypatch):
    df = _data()
    fit = ik.ols("y ~ x1 + x2 | hh + year", df, vcov="HC1")
    spy = _Spy(monkeypatch)
    iid = fit.with_vcov("iid")
    assert spy.calls == 1
    fit.with_vcov("HC1", ssc=ik.SSC(fixef_k="full"))  # the absorbed count may change: refit
    assert spy.calls == 2
    _same(iid, ik.ols("y ~ x1 + x2 | hh + year", df, vcov="iid"))


def test_new_cluster_missing_on_sample_is_refused():
    df = _data()
    df["bad"] = df["village"].astype(float)
    df.loc[df.index[:3], "bad"] = np.nan
    fit = ik.ols("y ~ x1 + x2 | hh", df)
    with pytest.raises(ValueError, match="missing values in the estimation sample"):
        fit.with_vcov("CR1", cluster="bad")
