"""ik.quantreg (weighted linear quantile regression, C++ Frisch-Newton + vertex) against R quantreg and
statsmodels QuantReg.

References (tests/reference/r/pmt/make_pmt_reference.R, R 4.2.2, quantreg 5.94, survey 4.1.1):
- coefficients: rq(method = "br") (exact simplex), unweighted and weighted; tolerance 1e-9 absolute
  (the data are continuous, so the solution is unique; both sides are the same vertex up to rounding);
- standard errors: summary.rq(se = "ker") (Powell kernel sandwich, Gaussian kernel, Hall-Sheather
  bandwidth; weights as quantreg: rows scaled by w); relative tolerance 1e-9;
- design-based SEs: an independent linearisation in R survey (svytotal of the influence values under a
  stratified cluster design); relative tolerance 1e-9, df #PSU - #strata; JK1 replicate weights: R
  withReplicates refitting rq per replicate, relative tolerance 1e-9.
statsmodels QuantReg (unweighted; iteratively reweighted least squares, which approaches the vertex
without reaching it): coefficients to 1e-5 absolute with p_tol=1e-12, and its objective never below ours.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF = Path(__file__).resolve().parents[1] / "reference" / "r" / "pmt"
FORMULA = "y ~ x1 + x2 + np.log(x3) + C(region)"


@pytest.fixture(scope="module")
def ref():
    return json.loads((REF / "pmt_reference.json").read_text())


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(REF / "pmt_data.csv")
    d["region"] = pd.Categorical(d["region"], categories=["east", "north", "south"])
    return d


@pytest.mark.parametrize("case", range(4))
def test_coefficients_and_kernel_se_equal_r_quantreg(ref, data, case):
    c = ref["cases"][case]
    before = data.copy()
    r = ik.quantreg(FORMULA, data, quantile=c["tau"], weights="w" if c["weighted"] else None)
    pd.testing.assert_frame_equal(data, before)
    assert list(r.coef.index) == ["Intercept", "x1", "x2", "np.log(x3)", "C(region)[T.north]", "C(region)[T.south]"]
    np.testing.assert_allclose(r.coef.to_numpy(), c["coef"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.se.to_numpy(), c["se_ker"], rtol=1e-9)
    assert r.objective == pytest.approx(c["objective"], rel=1e-10)
    assert r.vertex
    assert r.df_inference.iloc[0] == len(data) - 6  # quantreg: t with n - p df
    t = r.tidy()
    assert list(t.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


def test_design_based_se_equals_r_survey_linearisation(ref, data):
    c = ref["design"][0]
    des = ik.SurveyDesign(data, weights="w", strata="strata", psu="psu")
    r = ik.quantreg(FORMULA, data, quantile=c["tau"], design=des)
    np.testing.assert_allclose(r.coef.to_numpy(), c["coef"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.bandwidth, c["bandwidth"], rtol=1e-12)
    np.testing.assert_allclose(r.se.to_numpy(), c["se_design"], rtol=1e-9)
    assert r.df_inference.iloc[0] == c["df"] - 6 + 1 or r.df_inference.iloc[0] == c["df"]
    assert r.conventions["kind"] == "survey"


def test_replicate_design_equals_r_withreplicates(ref, data):
    """JK1 replicate weights: the fit is redone per replicate (R withReplicates of rq), SE rel 1e-9."""
    c = ref["replicate"][0]
    d = data.copy()
    for k in range(20):
        d[f"r{k}"] = np.where(d.psu == k + 1, 0.0, d.w * 20 / 19)
    des = ik.SurveyDesign(d, weights="w", replicate_weights=[f"r{k}" for k in range(20)], replicate_type="JK1")
    r = ik.quantreg(c["formula"], d, quantile=c["tau"], design=des)
    np.testing.assert_allclose(r.coef.to_numpy(), c["coef"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.se.to_numpy(), c["se"], rtol=1e-9)


def test_statsmodels_quantreg_live(data):
    sm = pytest.importorskip("statsmodels.api")
    # continuous regressors only: with dummies the solution can be a segment (tau * group size an integer),
    # where any point is optimal (seen at tau = 0.8 with region); here it is unique
    X = np.column_stack([np.ones(len(data)), data.x1, data.x2, np.log(data.x3)]).astype(float)
    for tau in (0.2, 0.3, 0.5, 0.8):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = sm.QuantReg(data.y.to_numpy(), X).fit(q=tau, max_iter=5000, p_tol=1e-12)
        r = ik.quantreg("y ~ x1 + x2 + np.log(x3)", data, quantile=tau)
        np.testing.assert_allclose(r.coef.to_numpy(), s.params, rtol=0, atol=1e-5)  # IRLS stops near the vertex
        e = data.y.to_numpy() - X @ s.params
        obj_sm = float(np.sum(e * (tau - (e < 0))))
        assert r.objective <= obj_sm + 1e-9


def test_core_matches_interior_point_without_vertex_snap(data):
    X = np.asfortranarray(np.column_stack([np.ones(len(data)), data.x1, data.x2]))
    y = data.y.to_numpy()
    a = ik._core.quantile_regression(X, y, np.empty(0), 0.3, 1e-12, 200, True)
    b = ik._core.quantile_regression(X, y, np.empty(0), 0.3, 1e-12, 200, False)
    np.testing.assert_allclose(a["coef"], b["coef"], atol=1e-7)
    assert a["objective"] <= b["objective"] + 1e-10
    # integer weights = replicated rows
    w = (np.arange(len(y)) % 3 + 1).astype(float)
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    c = ik._core.quantile_regression(X, y, w, 0.3, 1e-12, 200, True)
    d = ik._core.quantile_regression(np.asfortranarray(X[rows]), y[rows], np.empty(0), 0.3, 1e-12, 200, True)
    np.testing.assert_allclose(c["coef"], d["coef"], atol=1e-9)
    assert c["objective"] == pytest.approx(d["objective"], rel=1e-10)


def test_equivariance_and_thread_independence(data):
    r = ik.quantreg(FORMULA, data, quantile=0.35, weights="w")
    d2 = data.assign(y=3.0 * data.y + 2.0)
    r2 = ik.quantreg(FORMULA, d2, quantile=0.35, weights="w")
    expect = 3.0 * r.coef.to_numpy()
    expect[0] += 2.0
    np.testing.assert_allclose(r2.coef.to_numpy(), expect, atol=1e-9)
    n0 = ik.get_num_threads()
    try:
        ik.set_num_threads(1)
        a = ik.quantreg(FORMULA, data, quantile=0.35, weights="w")
        ik.set_num_threads(2)
        b = ik.quantreg(FORMULA, data, quantile=0.35, weights="w")
    finally:
        ik.set_num_threads(n0)
    assert np.array_equal(a.coef.to_numpy(), b.coef.to_numpy()) and np.array_equal(a.se.to_numpy(), b.se.to_numpy())


def test_larger_problem_converges_to_vertex():
    rng = np.random.default_rng(5)
    n, p = 20000, 12
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.normal(size=(n, p - 1)) * rng.uniform(0.01, 100, p - 1)]))
    y = X @ rng.normal(size=p) + rng.standard_t(3, n)
    out = ik._core.quantile_regression(X, y, rng.uniform(0.2, 5, n), 0.25, 1e-12, 200, True)
    assert out["vertex"] and out["iterations"] < 60
    # optimality (subgradient) check at the vertex: moving any coefficient a little does not lower the loss
    w = rng.uniform(0.2, 5, n)  # different weights: refit
    out = ik._core.quantile_regression(X, y, w, 0.25, 1e-12, 200, True)
    b = np.asarray(out["coef"])

    def loss(bb):
        e = y - X @ bb
        return float(w @ (e * (0.25 - (e < 0))))

    base = loss(b)
    for j in range(p):
        for step in (1e-6, -1e-6):
            bb = b.copy()
            bb[j] += step * max(1.0, abs(b[j]))
            assert loss(bb) >= base - 1e-9 * abs(base)


def test_predict_and_cluster_variance(data):
    r = ik.quantreg(FORMULA, data, quantile=0.5, cluster="psu")
    assert r.conventions["kind"] == "cluster"
    p = r.predict(data.head(7))
    np.testing.assert_allclose(p.to_numpy(), r.fitted_values.to_numpy()[:7], atol=1e-12)
    assert "Quantile regression" in str(r.summary())


@pytest.mark.parametrize("tau", [0.1, 0.3, 0.5])
def test_preprocessing_gives_the_same_optimum(tau):
    """Portnoy-Koenker preprocessing (forced on at n = 30,000; automatic for large n) returns the same
    vertex as the direct interior-point solve: coefficients to 1e-10, objective to 1e-12 relative."""
    rng = np.random.default_rng(11)
    n, p = 30000, 6
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))]))
    y = X @ rng.normal(size=p) + rng.standard_t(3, n) * (1 + np.abs(X[:, 1]))
    w = rng.uniform(0.5, 2, n)
    a = ik._core.quantile_regression(X, y, w, tau, 1e-12, 200, True, 0)
    b = ik._core.quantile_regression(X, y, w, tau, 1e-12, 200, True, 1)
    assert not a["preprocessed"] and b["preprocessed"] and b["reduced_rows"] < n / 2
    assert a["vertex"] and b["vertex"]
    np.testing.assert_allclose(b["coef"], a["coef"], rtol=0, atol=1e-10)
    assert b["objective"] == pytest.approx(a["objective"], rel=1e-12)


def test_preprocessing_with_a_rare_dummy_falls_back_to_the_same_optimum():
    """A dummy with 3 ones in 30,000 rows is missing from the subsample (or globbed away): the
    preprocessing detects the rank loss and solves the full problem; same optimum as without it."""
    rng = np.random.default_rng(12)
    n = 30000
    rare = np.zeros(n)
    rare[[5, 17000, 29000]] = 1.0
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.normal(size=n), rare]))
    y = X @ np.array([1.0, 2.0, 5.0]) + rng.standard_t(3, n)
    a = ik._core.quantile_regression(X, y, np.empty(0), 0.3, 1e-12, 200, True, 0)
    b = ik._core.quantile_regression(X, y, np.empty(0), 0.3, 1e-12, 200, True, 1)
    np.testing.assert_allclose(b["coef"], a["coef"], rtol=0, atol=1e-9)
    assert b["objective"] == pytest.approx(a["objective"], rel=1e-12)
