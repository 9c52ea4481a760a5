"""ik.proportion against statsmodels proportion_confint (live; abs 1e-12) for every method, and ik.rate against
the exact Poisson (Garwood) interval written with scipy chi-square quantiles, chi2(α/2; 2d)/2T and
chi2(1−α/2; 2d+2)/2T (abs/rel 1e-12). Edge grid: 0 and all successes, one trial, fractional counts, bad input."""
import numpy as np
import pandas as pd
import pytest

import impactkit as ik

smp = pytest.importorskip("statsmodels.stats.proportion")
stats = pytest.importorskip("scipy.stats")

SM_NAME = {"wilson": "wilson", "clopper_pearson": "beta", "jeffreys": "jeffreys", "agresti_coull": "agresti_coull",
           "normal": "normal"}
X = np.array([0, 1, 3, 17, 50, 99, 100, 0, 1, 7.5])
N = np.array([100, 100, 10, 40, 100, 100, 100, 1, 1, 12.0])


@pytest.mark.parametrize("method", list(SM_NAME))
@pytest.mark.parametrize("level", [0.95, 0.9, 0.999])
def test_proportion_matches_statsmodels(method, level):
    res = ik.proportion(X, N, method=method, level=level)
    lo, hi = smp.proportion_confint(X, N, alpha=1 - level, method=SM_NAME[method])
    np.testing.assert_allclose(res.conf_low, lo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.conf_high, hi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.estimate, X / N, rtol=0, atol=1e-15)


def test_proportion_scalar_and_series():
    r = ik.proportion(45, 60)
    lo, hi = smp.proportion_confint(45, 60, method="wilson")
    assert isinstance(r.estimate, float) and r.estimate == 0.75
    assert r.conf_low == pytest.approx(lo, abs=1e-12) and r.conf_high == pytest.approx(hi, abs=1e-12)
    idx = ["girls", "boys", "disability"]
    s = ik.proportion(pd.Series([30, 25, 4], index=idx), pd.Series([50, 50, 9], index=idx), method="jeffreys")
    assert list(s.estimate.index) == idx
    tidy = s.tidy()
    assert list(tidy.columns) == ["term", "successes", "trials", "estimate", "conf_low", "conf_high", "method", "level"]
    assert list(tidy["term"]) == idx
    assert "jeffreys" in str(s.summary()).lower() or "Jeffreys" in str(s.summary())
    # one denominator broadcast over several numerators
    b = ik.proportion([1, 2, 3], 10)
    np.testing.assert_allclose(b.estimate, [0.1, 0.2, 0.3])


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_rate_matches_garwood_chi2(level):
    d = np.array([0, 1, 2, 10, 57, 1000, 3.0])
    T = np.array([100.0, 250.0, 12.5, 1000.0, 3e4, 2e5, 0.5])
    r = ik.rate(d, T, level=level)
    a = 1 - level
    lo = np.where(d == 0, 0.0, stats.chi2.ppf(a / 2, 2 * d) / 2 / T)
    hi = stats.chi2.ppf(1 - a / 2, 2 * d + 2) / 2 / T
    np.testing.assert_allclose(r.conf_low, lo, rtol=1e-12, atol=0)
    np.testing.assert_allclose(r.conf_high, hi, rtol=1e-12, atol=0)
    # and through gamma quantiles, per 1,000 person-years
    k = ik.rate(d, T, level=level, per=1000)
    np.testing.assert_allclose(k.conf_high, 1000 * stats.gamma.ppf(1 - a / 2, d + 1) / T, rtol=1e-12)
    np.testing.assert_allclose(k.estimate, 1000 * d / T, rtol=1e-15)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ik.proportion(5, 0), ValueError, "trials must be positive"),
    (lambda: ik.proportion(-1, 10), ValueError, r"successes must lie in \[0, trials\]"),
    (lambda: ik.proportion(11, 10), ValueError, r"successes must lie in \[0, trials\]"),
    (lambda: ik.proportion(np.nan, 10), ValueError, "NaN"),
    (lambda: ik.proportion(3, np.inf), ValueError, "inf"),
    (lambda: ik.proportion([1, 2], [3, 4, 5]), ValueError, "2 values but trials has 3"),
    (lambda: ik.proportion([], []), ValueError, "empty"),
    (lambda: ik.proportion(1, 2, method="exact"), ValueError, "method must be one of"),
    (lambda: ik.proportion(1, 2, level=95), ValueError, "level"),
    (lambda: ik.proportion("1", 2), TypeError, "numeric"),
    (lambda: ik.proportion(np.ones((2, 2)), 4), ValueError, "1-d"),
    (lambda: ik.proportion(pd.Series([1, 2], index=[0, 1]), pd.Series([3, 4], index=[1, 2])), ValueError,
     "indexed differently"),
    (lambda: ik.proportion(pd.DataFrame({"a": [1]}), 2), TypeError, "DataFrame"),
    (lambda: ik.rate(1, 0), ValueError, "person_time must be positive"),
    (lambda: ik.rate(-1, 10), ValueError, "events must be >= 0"),
    (lambda: ik.rate(1, 10, per=0), ValueError, "per must be a positive"),
    (lambda: ik.rate([1, np.nan], [1, 2]), ValueError, "NaN"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_caller_data_unchanged_and_plot():
    x = pd.Series([3, 5], index=["a", "b"])
    n = pd.Series([10, 10], index=["a", "b"])
    x0, n0 = x.copy(), n.copy()
    r = ik.proportion(x, n, method="clopper_pearson")
    pd.testing.assert_series_equal(x, x0)
    pd.testing.assert_series_equal(n, n0)
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    assert r.plot() is not None
