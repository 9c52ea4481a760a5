"""ik.cloglog (shared GLM) against statsmodels GLM Binomial(link=CLogLog), run live, and
ik.person_period / ik.discrete_hazard against statsmodels on the expanded data and the life table.

Conventions and tolerances:
- statsmodels GLM's model-based ("nonrobust") SEs use the expected (Fisher) information: compared with
  information="expected"; its robust / cluster SEs use the observed Hessian as bread: compared with
  impactkit's default (observed). Coefficients rel 1e-8, SEs rel 1e-6, log-likelihood rel 1e-10.
- statsmodels cov_type="cluster" = impactkit CR1 (G/(G−1)·(N−1)/(N−K)).
- With one term per round and no covariates, the fitted hazard of round t is the life-table hazard
  d_t / n_t (events over units at risk) exactly: checked to 1e-10.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

sm = pytest.importorskip("statsmodels.api", reason="statsmodels is the live peer")
smf = pytest.importorskip("statsmodels.formula.api")


def _binary(seed=0, n=800):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.integers(0, 3, n), "g": rng.integers(0, 40, n), "w": rng.uniform(0.5, 2, n)})
    eta = -0.8 + 0.6 * d.x1 - 0.3 * d.x2
    d["y"] = (rng.random(n) < -np.expm1(-np.exp(eta))).astype(float)
    return d


def test_cloglog_equals_statsmodels_glm():
    d = _binary()
    ref = smf.glm("y ~ x1 + C(x2)", d, family=sm.families.Binomial(link=sm.families.links.CLogLog())).fit(tol=1e-14)
    ours = ik.cloglog("y ~ x1 + C(x2)", d, vcov="iid", information="expected")
    names = list(ours.coef.index)  # patsy orders the terms differently
    np.testing.assert_allclose(ours.coef.to_numpy(), ref.params[names].to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours.se.to_numpy(), ref.bse[names].to_numpy(), rtol=1e-6)
    assert ours.loglik == pytest.approx(ref.llf, rel=1e-10)
    assert ours.loglik_null == pytest.approx(ref.llnull, rel=1e-10)  # intercept-only model
    refc = smf.glm("y ~ x1 + C(x2)", d, family=sm.families.Binomial(link=sm.families.links.CLogLog())).fit(
        tol=1e-14, cov_type="cluster", cov_kwds={"groups": d.g})
    oursc = ik.cloglog("y ~ x1 + C(x2)", d, cluster="g")  # statsmodels' robust bread is the observed Hessian
    np.testing.assert_allclose(oursc.se.to_numpy(), refc.bse[names].to_numpy(), rtol=1e-6)
    # prior weights (statsmodels freq_weights) and the observed-information default (same estimate)
    refw = smf.glm("y ~ x1", d, family=sm.families.Binomial(link=sm.families.links.CLogLog()), freq_weights=d.w).fit(tol=1e-14)
    oursw = ik.cloglog("y ~ x1", d, weights="w", vcov="iid", information="expected")
    np.testing.assert_allclose(oursw.coef.to_numpy(), refw.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(oursw.se.to_numpy(), refw.bse.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ik.cloglog("y ~ x1 + C(x2)", d).coef.to_numpy(), ref.params[names].to_numpy(), rtol=1e-8)
    p = ours.predict(d.head(5))
    np.testing.assert_allclose(p.to_numpy(), ref.predict(d.head(5)).to_numpy(), rtol=1e-8)


def test_cloglog_extreme_linear_predictors_stay_finite():
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(size=300), [30.0, -30.0]]
    y = np.r_[(rng.random(300) < 0.4).astype(float), [1.0, 0.0]]
    fit = ik.cloglog("y ~ x", pd.DataFrame({"x": x, "y": y}))
    assert np.isfinite(fit.coef).all() and np.isfinite(fit.se).all()


def _units(seed=0, n=400, rounds=6):
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    age = rng.normal(40, 10, n).round()
    h = 1 / (1 + np.exp(-(-2.0 + 0.1 * np.arange(1, rounds + 1)[None, :] - 0.5 * treated[:, None] + 0.02 * (age[:, None] - 40))))
    happened = rng.random((n, rounds)) < h
    first = np.where(happened.any(1), happened.argmax(1) + 1, rounds)
    drop = rng.integers(2, rounds + 1, n)  # attrition: last round seen
    time = np.minimum(first, drop)
    event = (happened.any(1) & (first <= drop)).astype(int)
    return pd.DataFrame({"unit": np.arange(n) + 1000, "time": time, "event": event, "treated": treated, "age": age,
                         "entry": np.where(rng.random(n) < 0.2, np.minimum(time - 1, 1), 0)})


def test_person_period_rows():
    d = pd.DataFrame({"id": ["a", "b", "c"], "t": [3, 1, 2], "e": [1, 0, 0], "x": [0.5, 1.5, 2.5], "en": [1, 0, 0]})
    pp = ik.person_period(d, id="id", time="t", event="e")
    assert pp.id.tolist() == ["a", "a", "a", "b", "c", "c"]
    assert pp.period.tolist() == [1, 2, 3, 1, 1, 2]
    assert pp.event_now.tolist() == [0, 0, 1, 0, 0, 0]
    assert pp.x.tolist() == [0.5, 0.5, 0.5, 1.5, 2.5, 2.5]
    pe = ik.person_period(d, id="id", time="t", event="e", entry="en")
    assert pe.period.tolist() == [2, 3, 1, 1, 2] and pe.event_now.tolist() == [0, 1, 0, 0, 0]


@pytest.mark.parametrize("link", ["logit", "cloglog"])
def test_discrete_hazard_equals_statsmodels_on_expanded_data(link):
    d = _units()
    fit = ik.discrete_hazard(d, id="unit", time="time", event="event", formula="treated + age", link=link, entry="entry")
    pp = fit.person_period
    assert len(pp) == int((d.time - d.entry).sum())
    L = sm.families.links.Logit() if link == "logit" else sm.families.links.CLogLog()
    ref = smf.glm("event_now ~ C(period) + treated + age", pp, family=sm.families.Binomial(link=L)).fit(
        tol=1e-14, cov_type="cluster", cov_kwds={"groups": pp.unit})
    names = list(fit.coef.index)
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.params[names].to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(fit.se.to_numpy(), ref.bse[names].to_numpy(), rtol=1e-6)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-10)
    assert fit.link == link


def test_discrete_hazard_round_terms_reproduce_the_life_table():
    d = _units(seed=2)
    fit = ik.discrete_hazard(d, id="unit", time="time", event="event", link="logit")
    pp = fit.person_period
    life = pp.groupby("period").event_now.mean()
    grid = pd.DataFrame({"period": life.index})
    np.testing.assert_allclose(fit.predict(grid).to_numpy(), life.to_numpy(), rtol=1e-10)
    lin = ik.discrete_hazard(d, id="unit", time="time", event="event", formula="treated", baseline="linear")
    assert list(lin.coef.index) == ["Intercept", "period", "treated"]


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(time="nope"), ValueError, "nope"),
    (dict(time="frac"), ValueError, "whole rounds"),
    (dict(time="zero"), ValueError, "after entry"),
    (dict(time="tnan"), ValueError, "missing or infinite"),
    (dict(event="e2"), ValueError, "0/1"),
    (dict(id="dup"), ValueError, "one row per unit"),
    (dict(id="idnan"), ValueError, "missing"),
    (dict(entry="late"), ValueError, "after entry"),
    (dict(entry="neg"), ValueError, "entry must be"),
    (dict(link="probit"), ValueError, "link"),
    (dict(baseline="spline"), ValueError, "baseline"),
    (dict(formula=3), TypeError, "formula"),
    (dict(formula="nope"), ValueError, "nope"),
    (dict(period="x"), ValueError, "already have a column"),
])
def test_discrete_hazard_bad_input(kwargs, err, match):
    d = pd.DataFrame({"id": [1, 2, 3, 4], "t": [2, 3, 1, 2], "e": [1, 0, 1, 0], "x": [0.1, 0.2, 0.3, 0.4], "frac": [1.5, 2, 1, 1],
                      "zero": [0, 1, 1, 1], "tnan": [1, np.nan, 1, 1], "e2": [1, 2, 0, 0], "dup": [1, 1, 2, 3],
                      "idnan": [1, np.nan, 2, 3], "late": [2, 0, 0, 0], "neg": [-1, 0, 0, 0]})
    before = d.copy()
    args = dict(id="id", time="t", event="e", formula="x") | kwargs
    with pytest.raises(err, match=match):
        ik.discrete_hazard(d, **args)
    pd.testing.assert_frame_equal(d, before)
    with pytest.raises(TypeError, match="DataFrame"):
        ik.discrete_hazard(d.to_numpy(), id="id", time="t", event="e")
    with pytest.raises(ValueError, match="no rows"):
        ik.person_period(d.iloc[:0], id="id", time="t", event="e")
