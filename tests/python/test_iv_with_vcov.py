"""IVResult.with_vcov recomputes the variance without refitting (impactkit::iv_with_vcov): the
second- and first-stage variances, partial first-stage F, Kleibergen–Paap F, effective F, Hansen J,
the reported over-identification test and the conventions, from the pieces the fit kept.

Reference: a fresh ik.iv fit with the new variance on the same data (same estimation sample).
Tolerance: coefficients exact (the same numbers), variances and every diagnostic rel 1e-12 (the same
computations from the same pieces; only HC0/HC1 first stages are summed in another order than the
fit's fused pass), df, counts and convention strings exact.
No refit: the C++ fit entry point is replaced by a counting spy (timing-independent).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit import _core

RTOL = 1e-12


def _data(n=2500, seed=11):
    rng = np.random.default_rng(seed)
    village = rng.integers(0, 90, n)
    hh = village * 10 + rng.integers(0, 3, n)            # households nested in villages
    year = rng.integers(0, 5, n)
    z1, z2, z3 = rng.normal(size=(3, n))
    x1 = rng.normal(size=n) + 0.05 * village
    u = rng.normal(size=n) * (1 + 0.5 * np.abs(x1))
    d = 0.6 * z1 + 0.3 * z2 + 0.2 * x1 + 0.5 * u + rng.normal(size=n)
    d2 = 0.4 * z3 - 0.2 * z1 + rng.normal(size=n)
    y = 1.0 + 0.7 * d - 0.2 * d2 + 0.4 * x1 + 0.01 * village + u
    df = pd.DataFrame(dict(y=y, d=d, d2=d2, x1=x1, z1=z1, z2=z2, z3=z3, village=village, hh=hh, year=year,
                           region=village // 15, w=rng.uniform(0.5, 2.0, n)))
    df.loc[rng.choice(n, 20, replace=False), "x1"] = np.nan      # missing values
    df.loc[n - 1, "hh"] = 99999                                  # a singleton household
    return df


class _Spy:
    def __init__(self, monkeypatch):
        self.calls = 0
        real = _core.iv_2sls

        def spy(*a, **k):
            self.calls += 1
            return real(*a, **k)
        monkeypatch.setattr(_core, "iv_2sls", spy)


def _close(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, equal_nan=True, err_msg=what)


def _same(a, b, text=True):
    assert list(a.coef.index) == list(b.coef.index)
    _close(a.coef, b.coef, "coef")
    _close(a.vcov, b.vcov, "vcov")
    np.testing.assert_array_equal(a.df_inference.to_numpy(), b.df_inference.to_numpy())
    assert (a.vcov_type, a.vcov_convention, a.n_clusters, a.nobs) == (b.vcov_type, b.vcov_convention, b.n_clusters, b.nobs)
    assert a.diagnostics_convention == b.diagnostics_convention
    fa, fb = a.first_stage, b.first_stage
    assert list(fa.columns) == list(fb.columns)
    for col in fa.columns:
        _close(fa[col], fb[col], f"first_stage {col}")
    for name in a.endogenous:
        ra, rb = a.first_stage_results[name], b.first_stage_results[name]
        _close(ra.vcov, rb.vcov, f"first-stage vcov of {name}")
        np.testing.assert_array_equal(ra.df_inference.to_numpy(), rb.df_inference.to_numpy())
        assert ra.vcov_convention == rb.vcov_convention
    for stat in ("cragg_donald_f", "kleibergen_paap_f", "effective_f"):
        _close(getattr(a, stat), getattr(b, stat), stat)
    for test in ("sargan", "hansen_j", "overid"):
        ta, tb = getattr(a, test), getattr(b, test)
        assert (ta.name, ta.df) == (tb.name, tb.df)
        _close([ta.statistic, ta.p_value], [tb.statistic, tb.p_value], test)
    if text:  # a refit on the estimation sample no longer sees the singleton rows it dropped
        assert a.summary().as_text() == b.summary().as_text()


OVERID = "y ~ x1 | d ~ z1 + z2 + z3"
TWO = "y ~ x1 | d + d2 ~ z1 + z2 + z3"
FE = "y ~ x1 | hh + year | d ~ z1 + z2"
CASES = [
    # (formula, fit kwargs, with_vcov args, with_vcov kwargs)
    (OVERID, dict(vcov="HC1"), ("CR1",), dict(cluster="village")),
    (OVERID, dict(cluster="village"), ("HC1",), {}),
    (OVERID, dict(vcov="HC1"), ("HC0",), {}),
    (OVERID, dict(vcov="HC1"), ("iid",), {}),
    (OVERID, dict(vcov="iid"), ("HC1",), {}),
    (OVERID, dict(vcov="HC1"), ("HC3",), {}),
    (OVERID, dict(vcov="HC1"), ("CR2",), dict(cluster="village")),
    (OVERID, dict(vcov="HC1"), ("CR0",), dict(cluster=["region", "year"])),            # multiway
    (OVERID, dict(vcov="HC1", weights="w", weight_type="probability"), ("CR1",), dict(cluster="region")),
    (OVERID, dict(vcov="HC1", weights="w"), ("iid",), {}),
    (OVERID, dict(vcov="HC1"), ("CR1",), dict(cluster="village", ssc=ik.SSC(adj=False))),
    (TWO, dict(vcov="HC1"), ("CR1",), dict(cluster="village")),
    (TWO, dict(cluster="village"), ("iid",), {}),
    (FE, dict(vcov="HC1"), ("CR1",), dict(cluster="village")),                          # hh nested in village
    (FE, dict(cluster="village"), ("HC1",), {}),
    (FE, dict(cluster="village"), ("CR1",), dict(cluster="year")),
    (FE, dict(vcov="HC1", weights="w"), ("CR1",), dict(cluster="region")),
    ("y ~ x1 | village | d ~ z1 + z2 + z3", dict(vcov="iid"), ("CR1",), dict(cluster=["region", "year"])),
]


@pytest.mark.parametrize("formula,fit_kw,args,kw", CASES)
def test_equals_fresh_fit_without_refit(monkeypatch, formula, fit_kw, args, kw):
    df = _data()
    fit = ik.iv(formula, df, **fit_kw)
    before = fit.vcov.copy()
    spy = _Spy(monkeypatch)
    new = fit.with_vcov(*args, **kw)
    assert spy.calls == 0, "with_vcov refitted"
    monkeypatch.undo()
    fresh_kw = {k: v for k, v in fit_kw.items() if k not in ("vcov", "cluster")}
    fresh = ik.iv(formula, df, vcov=args[0], **fresh_kw, **kw)
    _same(new, fresh)
    pd.testing.assert_frame_equal(fit.vcov, before)     # the original is unchanged
    if "ssc" not in kw:                                  # and back again
        _same(new.with_vcov(fit.vcov_type, cluster=fit_kw.get("cluster")), fit)


def test_survey_design_to_model_based_without_refit(monkeypatch):
    df = _data()
    design = ik.SurveyDesign(df, weights="w", strata="region", psu="village", nest=True)
    fit = ik.iv(OVERID, df, design=design)
    assert fit.with_vcov() is fit
    spy = _Spy(monkeypatch)
    new = fit.with_vcov("CR1", cluster="village")
    hc = fit.with_vcov("HC1")
    assert spy.calls == 0
    monkeypatch.undo()
    _same(new, ik.iv(OVERID, df, weights="w", weight_type="probability", vcov="CR1", cluster="village"))
    _same(hc, ik.iv(OVERID, df, weights="w", weight_type="probability", vcov="HC1"))


def test_refits_only_when_it_must(monkeypatch):
    df = _data()
    fe = ik.iv(FE, df, vcov="HC1")
    weighted = ik.iv(OVERID, df, weights="w", weight_type="probability")
    spy = _Spy(monkeypatch)
    full = fe.with_vcov("HC1", ssc=ik.SSC(fixef_k="full"))     # the absorbed count may change: refit
    assert spy.calls == 1
    with pytest.raises(ValueError, match="iid"):               # as a fresh fit refuses it
        weighted.with_vcov("iid")
    monkeypatch.undo()
    _same(full, ik.iv(FE, df, vcov="HC1", ssc=ik.SSC(fixef_k="full")), text=False)


def test_new_cluster_missing_on_sample_is_refused():
    df = _data()
    df["bad"] = df["village"].astype(float)
    df.loc[df.index[:3], "bad"] = np.nan
    fit = ik.iv(OVERID, df)
    with pytest.raises(ValueError, match="missing values in the estimation sample"):
        fit.with_vcov("CR1", cluster="bad")


def test_cpp_entry_checks_its_input():
    df = _data().dropna()
    X = np.asfortranarray(np.column_stack([np.ones(len(df)), df["x1"]]))
    D = np.asfortranarray(df[["d"]].to_numpy())
    Z = np.asfortranarray(df[["z1", "z2"]].to_numpy())
    core = _core.iv_2sls(X, D, Z, df["y"].to_numpy())
    short = np.zeros((len(df) - 1, 1), dtype=np.int32, order="F")
    with pytest.raises(ValueError, match="cluster labels have"):
        _core.iv_with_vcov(core, _core.make_vcov_spec("CR1", short))
