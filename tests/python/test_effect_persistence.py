"""ik.effect_persistence: per-round effects against statsmodels OLS (live) on the same interaction model,
the delta-method SEs of the decay against a hand-computed two-round case, a finite-difference Jacobian of
the exponential fit, and a seeded simulation.

Tolerances: per-round effects rel 1e-10 and their cluster SEs rel 1e-8 (statsmodels cov_type="cluster" =
impactkit CR1); the two-round closed form 1e-10; the Jacobian 1e-6 (central differences); simulated SD of
the decay rate within 20% of the mean delta-method SE (200 samples).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit.persistence import _exponential_fit


def _panel(seed=0, n=300, rounds=(1, 2, 3, 4, 5), d0=2.0, lam=0.35):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), len(rounds))
    t = np.tile(np.asarray(rounds, dtype=float), n)
    D = np.repeat(rng.integers(0, 2, n), len(rounds))
    u = np.repeat(rng.normal(size=n), len(rounds))
    x = rng.normal(size=len(t))
    y = 1 + 0.2 * t + D * d0 * np.exp(-lam * (t - rounds[0])) + 0.5 * x + u + rng.normal(size=len(t))
    return pd.DataFrame({"unit": unit, "round": t, "treat": D, "x": x, "y": y})


def test_per_round_effects_equal_statsmodels_ols():
    smf = pytest.importorskip("statsmodels.formula.api", reason="statsmodels is the live peer")
    d = _panel()
    p = ik.effect_persistence(d, outcome="y", treatment="treat", round="round", controls="x", cluster="unit")
    dd = d.assign(**{f"e{k}": d.treat * (d["round"] == r) for k, r in enumerate(sorted(d["round"].unique()))})
    ref = smf.ols("y ~ C(round) + e0 + e1 + e2 + e3 + e4 + x", dd).fit(cov_type="cluster", cov_kwds={"groups": dd.unit})
    keys = [f"e{k}" for k in range(5)]
    np.testing.assert_allclose(p.effects.coef.to_numpy(), ref.params[keys].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(p.effects.se.to_numpy(), ref.bse[keys].to_numpy(), rtol=1e-8)
    assert p.effects.coef.index.tolist() == ["effect[1]", "effect[2]", "effect[3]", "effect[4]", "effect[5]"]
    assert "treat x round interactions" in p.summary() and "exp(-decay_rate" in p.summary()
    assert p.decay.coef.index.tolist() == ["effect_0", "decay_rate", "half_life"]


def test_two_rounds_match_the_closed_form_delta_method():
    d = _panel(seed=1, rounds=(1, 3))
    p = ik.effect_persistence(d, outcome="y", treatment="treat", round="round", cluster="unit")
    d1, d2 = p.effects.coef.to_numpy()
    V = p.effects.vcov.to_numpy()
    lam = np.log(d1 / d2) / 2
    var = (V[0, 0] / d1 ** 2 + V[1, 1] / d2 ** 2 - 2 * V[0, 1] / (d1 * d2)) / 4
    assert p.decay.coef["decay_rate"] == pytest.approx(lam, rel=1e-10)
    assert p.decay.coef["effect_0"] == pytest.approx(d1, rel=1e-10)
    assert p.decay.se["decay_rate"] == pytest.approx(np.sqrt(var), rel=1e-10)
    assert p.decay.coef["half_life"] == pytest.approx(np.log(2) / lam, rel=1e-10)
    assert p.decay.se["half_life"] == pytest.approx(np.log(2) / lam ** 2 * np.sqrt(var), rel=1e-10)
    r = ik.effect_persistence(d, outcome="y", treatment="treat", round="round", cluster="unit", method="ratio")
    g = np.array([-d2 / d1 ** 2, 1 / d1])
    assert r.decay.coef["ratio_last_first"] == pytest.approx(d2 / d1, rel=1e-12)
    assert r.decay.se["ratio_last_first"] == pytest.approx(np.sqrt(g @ V @ g), rel=1e-10)
    assert r.decay.coef["decay_rate"] == pytest.approx(lam, rel=1e-10)
    assert r.decay.se["decay_rate"] == pytest.approx(np.sqrt(var), rel=1e-10)


def test_exponential_fit_jacobian_by_finite_differences():
    t = np.array([1.0, 2, 3, 5, 8])
    d = np.array([2.1, 1.5, 1.2, 0.55, 0.2])
    theta, A = _exponential_fit(t, d)
    h = 1e-6
    num = np.column_stack([(_exponential_fit(t, d + h * e)[0] - _exponential_fit(t, d - h * e)[0]) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(A, num, rtol=1e-6, atol=1e-9)


def test_delta_method_se_matches_simulation():
    lams, ses = [], []
    for s in range(200):
        p = ik.effect_persistence(_panel(seed=100 + s, n=200, rounds=(1, 2, 3, 4)), outcome="y", treatment="treat", round="round",
                                  cluster="unit")
        lams.append(p.decay.coef["decay_rate"])
        ses.append(p.decay.se["decay_rate"])
    assert np.std(lams, ddof=1) == pytest.approx(np.mean(ses), rel=0.2)
    assert np.mean(lams) == pytest.approx(0.35, abs=3 * np.std(lams) / np.sqrt(200) + 0.02)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(outcome="nope"), ValueError, "nope"),
    (dict(treatment="tr2"), ValueError, "0/1"),
    (dict(round="rstr"), TypeError, "numeric"),
    (dict(round="rnan"), ValueError, "missing or infinite"),
    (dict(round="one"), ValueError, "at least two rounds"),
    (dict(treatment="alltreated"), ValueError, "untreated"),
    (dict(method="linear"), ValueError, "method"),
    (dict(controls=5), TypeError, "controls"),
    (dict(cluster="nope"), ValueError, "nope"),
])
def test_effect_persistence_bad_input(kwargs, err, match):
    d = _panel(n=20, rounds=(1, 2))
    d["tr2"] = d.treat * 2
    d["rstr"] = d["round"].astype(str)
    d["rnan"] = d["round"].where(d.index != 3)
    d["one"] = 1.0
    d["alltreated"] = 1
    before = d.copy()
    args = dict(outcome="y", treatment="treat", round="round") | kwargs
    with pytest.raises(err, match=match):
        ik.effect_persistence(d, **args)
    pd.testing.assert_frame_equal(d, before)
    with pytest.raises(TypeError, match="DataFrame"):
        ik.effect_persistence(d.to_numpy(), outcome="y", treatment="treat", round="round")
    with pytest.raises(ValueError, match="no rows"):
        ik.effect_persistence(d.iloc[:0], outcome="y", treatment="treat", round="round")
