"""Bad input and edge cases of ik.cumulative_incidence and ik.gray_test (DESIGN.md §6): clear errors naming
the problem, sensible results on degenerate data, caller data never modified."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

D = pd.DataFrame({"t": [1.0, 2, 2, 3, 4, 5, 6, 7], "e": [1, 2, 0, 1, 1, 2, 0, 1], "g": list("abababab"),
                  "s": [0, 0, 0, 0, 1, 1, 1, 1]})


def _ci(data, **kw):
    return ik.cumulative_incidence(data, **{"time": "t", "event": "e", **kw})


def _gray(data, **kw):
    return ik.gray_test(data, **{"time": "t", "event": "e", "group": "g", **kw})


@pytest.mark.parametrize("change, message", [
    (lambda d: d.assign(t=[np.nan] + list(d.t[1:])), "missing or infinite"),
    (lambda d: d.assign(t=[np.inf] + list(d.t[1:])), "missing or infinite"),
    (lambda d: d.assign(t=[-1.0] + list(d.t[1:])), "non-negative"),
    (lambda d: d.assign(e=[np.nan] + list(d.e[1:])), "missing value"),
    (lambda d: d.assign(e=[np.inf] + list(d.e[1:])), "infinite"),
    (lambda d: d.assign(e=0), "no events"),
    (lambda d: d.iloc[:0], "no rows"),
    (lambda d: d.assign(g=[None] + list(d.g[1:])), "missing"),
])
def test_bad_columns(change, message):
    bad = change(D.copy())
    for call in (lambda: _ci(bad, by="g"), lambda: _gray(bad)):
        with pytest.raises(ik.InvalidInputError, match=message):
            call()


def test_bad_arguments():
    with pytest.raises(ik.InvalidInputError, match="not in the data|unknown|no column"):
        _ci(D, time="nope")
    with pytest.raises(ik.InvalidInputError):
        _ci(D, event="nope")
    with pytest.raises(ik.InvalidInputError, match="cause 3"):
        _ci(D, cause=3)
    with pytest.raises(ik.InvalidInputError, match="conf_type"):
        _ci(D, conf_type="arcsine")
    with pytest.raises(ik.InvalidInputError, match="level"):
        _ci(D, level=1.5)
    with pytest.raises(TypeError, match="DataFrame"):
        _ci(D.to_dict())
    with pytest.raises(TypeError, match="numeric"):
        _ci(D.assign(t=D.t.astype(str)))
    with pytest.raises(ik.InvalidInputError, match="rho"):
        _gray(D, rho=-1)
    with pytest.raises(ik.InvalidInputError, match="single level"):
        _gray(D.assign(g="a"))
    with pytest.raises(ik.InvalidInputError):
        _gray(D, strata="nope")


def test_data_not_modified_and_index_free():
    d = D.copy()
    d.index = [10, 3, 7, 1, 99, 5, 2, 8]
    before = d.copy()
    a = _ci(d, by="g").table()
    b = _ci(D, by="g").table()
    _gray(d, strata="s")
    pd.testing.assert_frame_equal(d, before)
    pd.testing.assert_frame_equal(a, b)


def test_degenerate_data():
    # one row, one event: F = 1 with cmprsk's variance 1 (R: cuminc(3, 1)$`1 1`$var = 0 0 1 1)
    one = _ci(pd.DataFrame({"t": [3.0], "e": [1]})).table()
    assert one["incidence"].tolist() == [1.0] and one["std_error"].tolist() == [1.0]
    # all events at one time, ties everywhere: F = share of each cause; variances as R
    # cuminc(rep(2, 6), c(1, 1, 2, 1, 2, 0)): 0.05 and 0.0444444444 (= 2/45), rel 1e-12
    d = pd.DataFrame({"t": [2.0] * 6, "e": [1, 1, 2, 1, 2, 0]})
    tab = _ci(d).table()
    np.testing.assert_allclose(tab["incidence"], [0.5, 2 / 6])
    np.testing.assert_allclose(tab["std_error"] ** 2, [0.05, 2 / 45], rtol=1e-12)
    # a group with one member
    d = D.assign(g=list("aaaaaaab"))
    res = _ci(d, by="g")
    assert res.table().query("g == 'b'")["incidence"].max() == 1.0
    g = _gray(d)
    assert np.isnan(g.table()["statistic"]).all() or (g.table()["statistic"] >= 0).all()
    # no events of a cause in a group: curve stays 0
    d = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [1, 1, 2, 2], "g": ["a", "a", "b", "b"]})
    tab = _ci(d, by="g").table()
    assert (tab.query("g == 'a' and cause == 2")["incidence"] == 0).all()
    # R cuminc(c(1,2,3,4), c(1,1,2,2), c("a","a","b","b"))$Tests: 2.815081 and -1 (singular variance; NaN here)
    out = _gray(d).table()
    assert abs(out["statistic"].iloc[0] - 2.815081) < 1e-6 and np.isnan(out["statistic"].iloc[1]) and (out["df"] == 1).all()
    # cif_at before the first time and after the last
    res = _ci(D)
    at = res.cif_at([-1, 100])
    assert at.query("time == -1")["incidence"].eq(0).all()
    assert np.allclose(at.query("time == 100")["incidence"].sum(), 1.0 - 0.0) or at.query("time == 100")["incidence"].sum() <= 1
    with pytest.raises(ik.InvalidInputError, match="NaN"):
        res.cif_at([np.nan])


def test_huge_and_tiny_times_scale_free():
    a = _ci(D, by="g").table()
    for scale in (1e-300, 1e300):
        b = _ci(D.assign(t=D.t * scale), by="g").table()
        np.testing.assert_allclose(b["incidence"], a["incidence"], rtol=1e-14)
        np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=1e-12)
    g1 = _gray(D).table()["statistic"].to_numpy()
    g2 = _gray(D.assign(t=D.t + 1e9)).table()["statistic"].to_numpy()
    np.testing.assert_allclose(g1, g2, rtol=1e-12)


def test_finegray_bad_input():
    d = D.assign(x=[0.1, -1, 2, 0.3, 0.5, -0.2, 1, 0])
    with pytest.raises(ik.InvalidInputError, match="cause 5"):
        ik.finegray("x", d, time="t", event="e", cause=5)
    with pytest.raises(ik.InvalidInputError, match="no covariates"):
        ik.finegray(" ", d, time="t", event="e", cause=1)
    with pytest.raises(TypeError, match="formula"):
        ik.finegray(3, d, time="t", event="e", cause=1)
    with pytest.raises(ik.InvalidInputError, match="missing or infinite"):
        ik.finegray("x", d.assign(t=[np.nan] + list(d.t[1:])), time="t", event="e", cause=1)
    with pytest.raises(ik.InvalidInputError):  # collinear covariates
        ik.finegray("x + z", d.assign(z=2 * d.x), time="t", event="e", cause=1)
    with pytest.raises(ik.InvalidInputError):
        ik.finegray("x", d, time="t", event="e", cause=1, cluster="nope")
    rng = np.random.default_rng(3)
    big = pd.DataFrame({"t": rng.exponential(1, 80).round(1), "e": rng.integers(0, 3, 80), "x": rng.normal(size=80),
                        "g": rng.integers(0, 10, 80)}, index=rng.permutation(80) + 100)
    before = big.copy()
    fit = ik.finegray("x", big, time="t", event="e", cause=2, cluster="g")
    pd.testing.assert_frame_equal(big, before)
    assert np.isfinite(fit.se).all() and "clustered by g" in fit.vcov_convention
    # cengroup: unknown column, missing value, wrong type; the caller's data untouched; string labels work
    with pytest.raises(ik.InvalidInputError, match="cengroup: unknown column 'nope'"):
        ik.finegray("x", big, time="t", event="e", cause=2, cengroup="nope")
    with pytest.raises(ik.InvalidInputError, match="cengroup column 'c' has a missing value"):
        ik.finegray("x", big.assign(c=[np.nan] + [1.0] * 79), time="t", event="e", cause=2, cengroup="c")
    with pytest.raises(TypeError, match="cengroup must be a column name"):
        ik.finegray("x", big, time="t", event="e", cause=2, cengroup=["g"])
    lab = big.assign(c=np.where(big.g < 5, "north", "south"))
    before = lab.copy()
    by_label = ik.finegray("x", lab, time="t", event="e", cause=2, cengroup="c")
    by_code = ik.finegray("x", lab.assign(c=(lab.g >= 5).astype(int)), time="t", event="e", cause=2, cengroup="c")
    pd.testing.assert_frame_equal(lab, before)
    np.testing.assert_allclose(by_label.se.to_numpy(), by_code.se.to_numpy(), rtol=1e-12)
    assert np.isfinite(by_label.se).all()
