"""Bad and edge input for ik.mann_kendall and ik.sens_slope: each case gives a clear error naming the problem,
or a defined result (all ties: S = 0, Z = 0, p = 1); the caller's data is never modified."""
import numpy as np
import pandas as pd
import pytest

import impactkit as ik

X = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0])


@pytest.mark.parametrize("x,exc,match", [
    ([1.0, np.nan, 3.0, 4.0], ValueError, "NaN"),
    ([1.0, np.inf, 3.0, 4.0], ValueError, "inf"),
    ([1.0, -np.inf, 3.0, 4.0], ValueError, "-inf"),
    ([], ValueError, "at least 3"),
    ([1.0], ValueError, "at least 3"),
    ([1.0, 2.0], ValueError, "at least 3"),
    (np.ones((4, 2)), ValueError, "1-d"),
    (["a", "b", "c"], TypeError, "numbers"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0]}), TypeError, "DataFrame"),
    (3.0, TypeError, "1-d array"),
    ("abc", TypeError, "1-d array"),
    (np.array([1 + 1j, 2, 3]), TypeError, "complex"),
])
def test_bad_series(x, exc, match):
    with pytest.raises(exc, match=match):
        ik.mann_kendall(x)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"method": "spearman"}, ValueError, "method must be one of"),
    ({"method": None}, ValueError, "method must be one of"),
    ({"method": "seasonal"}, ValueError, "period >= 2"),
    ({"method": "seasonal", "period": 1}, ValueError, "period >= 2"),
    ({"method": "seasonal", "period": 5}, ValueError, "two cycles"),
    ({"method": "seasonal", "period": 2.0}, TypeError, "integer"),
    ({"period": 4}, ValueError, "period applies to method='seasonal' only"),
    ({"method": "hamed_rao", "lag": 0}, ValueError, "lag must be >= 1"),
    ({"method": "original", "lag": 2}, ValueError, "lag"),
    ({"alpha": 0.0}, ValueError, r"alpha must lie in \(0, 1\)"),
    ({"alpha": 1.5}, ValueError, "alpha"),
    ({"alpha": "0.05"}, TypeError, "alpha"),
])
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ik.mann_kendall(X, **kwargs)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"level": 1.0}, ValueError, "level"),
    ({"level": -0.1}, ValueError, "level"),
    ({"period": 1}, ValueError, "period"),
    ({"period": 5}, ValueError, "at least 10"),
])
def test_bad_sens_slope_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ik.sens_slope(X, **kwargs)


def test_sens_slope_needs_two_points():
    with pytest.raises(ValueError, match="at least 2"):
        ik.sens_slope([1.0])
    assert ik.sens_slope([1.0, 3.0]).slope == 2.0


@pytest.mark.parametrize("method", ["original", "hamed_rao", "yue_wang", "prewhitening", "trend_free_prewhitening"])
def test_all_ties_is_no_trend(method):
    res = ik.mann_kendall(np.full(30, 2.5), method=method)
    assert (res.s, res.z, res.p_value, res.slope, res.trend) == (0, 0.0, 1.0, 0.0, "no trend")
    assert res.intercept == 2.5 and res.tied_groups == 1


def test_seasonal_all_ties_and_sens_all_ties():
    res = ik.mann_kendall(np.zeros(24), method="seasonal", period=12)
    assert (res.s, res.p_value) == (0, 1.0)
    sen = ik.sens_slope(np.full(3000, 7.0))  # more than 2^21 slopes, all equal: the tie path
    assert (sen.slope, sen.conf_low, sen.conf_high, sen.intercept) == (0.0, 0.0, 0.0, 7.0)


def test_huge_and_tiny_magnitudes_scale():
    base = ik.mann_kendall(X)
    for scale in (1e-300, 1e300):
        r = ik.mann_kendall(X * scale)
        assert r.s == base.s and r.z == base.z
        assert r.slope == pytest.approx(base.slope * scale, rel=1e-12)


def test_inputs_unchanged_and_series_accepted():
    x = pd.Series(X.copy(), index=list("abcdefgh"))
    before = x.copy()
    ik.mann_kendall(x, method="trend_free_prewhitening")
    ik.sens_slope(x)
    pd.testing.assert_series_equal(x, before)
    ints = np.arange(10, dtype=np.int32)
    assert ik.mann_kendall(ints).s == 45
    assert ik.mann_kendall(list(range(10, 0, -1))).trend == "decreasing"


def test_values_near_the_double_range_are_refused_not_wrong():
    with pytest.raises(ValueError, match="too large in magnitude"):
        ik.mann_kendall([1.7e308, -1.7e308, 1.0, 2.0])
    with pytest.raises(ValueError, match="too large in magnitude"):
        ik.sens_slope([1e308, -1e308, 0.0])
