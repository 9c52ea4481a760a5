"""Mann–Kendall variants and the Theil–Sen slope against live peers.

- pymannkendall 1.4 (PyPI) for every variant: S exactly; Var(S), z, p, Tau, slope, intercept to 1e-10
  (absolute, and relative for Var(S) and large values). Its conventions: Var(S) tie-corrected; Z with continuity
  correction; p two-sided normal; Hamed–Rao on the ranks of x_t − tβ with lags screened at z_{1−α/2}/√n;
  Yue–Wang on x_t − tβ; seasonal by padding to whole cycles; intercept median(x) − (n−1)/2·β.
- scipy.stats.theilslopes for Sen's interval (its rule: Sen 1968 eq. 2.6, indices rounded half to even) to 1e-12.
The long series (n ≥ 2100, more than 2^21 slopes) exercise the selection that never materialises the slopes,
and the FFT autocorrelations (n·lags > 4e6).
"""
import numpy as np
import pytest

import impactkit as ik

mk = pytest.importorskip("pymannkendall", reason="pymannkendall (PyPI) is the live reference for the trend tests")
stats = pytest.importorskip("scipy.stats")

TOL = 1e-10

PEER = {
    "original": lambda x, **k: mk.original_test(x, **k),
    "hamed_rao": lambda x, **k: mk.hamed_rao_modification_test(x, **k),
    "yue_wang": lambda x, **k: mk.yue_wang_modification_test(x, **k),
    "prewhitening": lambda x, **k: mk.pre_whitening_modification_test(x, **k),
    "trend_free_prewhitening": lambda x, **k: mk.trend_free_pre_whitening_modification_test(x, **k),
}


def _series(kind, n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    if kind == "noise":
        return rng.normal(size=n)
    if kind == "trend_ar1":  # trend plus AR(1) noise: the autocorrelation corrections matter
        e = np.zeros(n)
        for i in range(1, n):
            e[i] = 0.6 * e[i - 1] + rng.normal()
        return 0.01 * t + e
    if kind == "ties":  # few distinct values: many tied groups and many tied slopes
        return np.round(rng.normal(size=n) + 0.002 * t)
    if kind == "counts":
        return rng.poisson(3 + 0.001 * t).astype(float)
    raise ValueError(kind)


def _close(a, b, what):
    assert abs(a - b) <= TOL * max(1.0, abs(b)), f"{what}: impactkit {a!r} vs pymannkendall {b!r}"


def _compare(res, ref):
    assert res.s == int(ref.s)
    _close(res.var_s, float(ref.var_s), "var_s")
    _close(res.z, float(ref.z), "z")
    _close(res.p_value, float(ref.p), "p")
    _close(res.tau, float(ref.Tau), "tau")
    _close(res.slope, float(ref.slope), "slope")
    _close(res.intercept, float(ref.intercept), "intercept")
    assert res.trend == ref.trend and res.h == bool(ref.h)


@pytest.mark.parametrize("method", list(PEER))
@pytest.mark.parametrize("kind,n", [("noise", 40), ("trend_ar1", 150), ("ties", 90), ("counts", 300),
                                     ("trend_ar1", 2300), ("ties", 2200)])
def test_variants_match_pymannkendall(method, kind, n):
    x = _series(kind, n, seed=n)
    _compare(ik.mann_kendall(x, method=method), PEER[method](x))


@pytest.mark.parametrize("method", ["hamed_rao", "yue_wang"])
@pytest.mark.parametrize("lag", [1, 3])
def test_limited_lags_match_pymannkendall(method, lag):
    x = _series("trend_ar1", 120, seed=7)
    _compare(ik.mann_kendall(x, method=method, lag=lag), PEER[method](x, lag=lag))


@pytest.mark.parametrize("alpha", [0.01, 0.1])
def test_alpha_moves_hamed_rao_screening_and_decision(alpha):
    x = _series("trend_ar1", 200, seed=3)
    _compare(ik.mann_kendall(x, method="hamed_rao", alpha=alpha), mk.hamed_rao_modification_test(x, alpha=alpha))


@pytest.mark.parametrize("kind,n,period", [("noise", 12 * 10, 12), ("trend_ar1", 12 * 10 + 5, 12),
                                            ("ties", 4 * 40 + 3, 4), ("counts", 4 * 2200, 4)])
def test_seasonal_matches_pymannkendall(kind, n, period):
    x = _series(kind, n, seed=period + n)
    _compare(ik.mann_kendall(x, method="seasonal", period=period), mk.seasonal_test(x, period=period))
    sen = ik.sens_slope(x, period=period)
    ref = mk.seasonal_sens_slope(x, period=period)
    _close(sen.slope, float(ref.slope), "seasonal slope")
    _close(sen.intercept, float(ref.intercept), "seasonal intercept")


@pytest.mark.parametrize("kind,n", [("noise", 2), ("noise", 3), ("noise", 60), ("ties", 61), ("trend_ar1", 2500),
                                     ("ties", 2600), ("counts", 3000)])
@pytest.mark.parametrize("level", [0.95, 0.80])
def test_sens_slope_matches_pymannkendall_and_scipy_interval(kind, n, level):
    x = _series(kind, n, seed=11 * n)
    res = ik.sens_slope(x, level=level)
    ref = mk.sens_slope(x)
    _close(res.slope, float(ref.slope), "slope")
    _close(res.intercept, float(ref.intercept), "intercept")
    sc = stats.theilslopes(x, np.arange(n), alpha=level)
    assert res.slope == pytest.approx(sc.slope, abs=1e-12)
    assert res.conf_low == pytest.approx(sc.low_slope, abs=1e-12)
    assert res.conf_high == pytest.approx(sc.high_slope, abs=1e-12)
    assert res.conf_low <= res.slope <= res.conf_high


def test_s_statistic_equals_direct_sum_of_signs():
    x = _series("ties", 500, seed=5)
    d = np.sign(x[None, :] - x[:, None])
    assert ik.mann_kendall(x).s == int(np.triu(d, 1).sum())


def test_result_objects_render():
    x = _series("trend_ar1", 80, seed=2)
    res = ik.mann_kendall(x, method="yue_wang")
    tidy = res.tidy()
    assert list(tidy.columns) == ["method", "n", "s", "var_s", "z", "p_value", "tau", "slope", "intercept", "trend"]
    assert "Yue-Wang" in str(res.summary()) and "<table>" in res._repr_html_()
    assert "\\begin{tabular}" in res.summary().as_latex()
    sen = ik.sens_slope(x)
    assert list(sen.tidy()["term"]) == ["slope", "intercept"] and "interval" in str(sen.summary())
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert len(ax.lines) == 2
