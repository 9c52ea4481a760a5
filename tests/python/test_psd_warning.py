"""The "variance not positive semi-definite" warning lives once (variance.warn_if_not_psd, used by
ols, iv and the GLMs) and blames multiway clustering only when there are two or more cluster
dimensions (Cameron, Gelbach & Miller 2011, §2.3); otherwise it names a numerical failure."""
from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit.variance import warn_if_not_psd


def _result(diag, n_clusters):
    names = ["a", "b"]
    return types.SimpleNamespace(coef=pd.Series([1.0, 2.0], index=names),
                                 vcov=pd.DataFrame(np.diag(diag), index=names, columns=names), n_clusters=n_clusters)


def test_multiway_named_only_with_two_dimensions():
    with pytest.warns(ik.ImpactkitWarning, match=r"standard errors of \['b'\] are NaN \(multiway clustering"):
        warn_if_not_psd("ols", "CR1", _result([1.0, -1.0], {"g": 10, "h": 12}))
    with pytest.warns(ik.ImpactkitWarning, match="negative or undefined in floating point") as rec:
        warn_if_not_psd("ols", "CR1", _result([np.nan, 1.0], {"g": 10}))
    assert "multiway" not in str(rec[0].message)
    with pytest.warns(ik.ImpactkitWarning, match="negative or undefined"):
        warn_if_not_psd("iv", "HC1", _result([-1.0, 1.0], {}))


def test_no_warning_when_psd(recwarn):
    warn_if_not_psd("ols", "HC1", _result([1.0, 0.0], {}))
    assert not [w for w in recwarn if issubclass(w.category, ik.ImpactkitWarning)]


def test_two_way_fit_warns_about_multiway():
    # a two-way clustered fit whose inclusion-exclusion sum is negative for x (clusters crossing so
    # that the intersection meat dominates)
    rng = np.random.default_rng(3)
    n = 60
    a, b = np.repeat(np.arange(3), 20), np.tile(np.arange(20), 3)
    x = rng.normal(size=n)
    y = x * (1 + (a == b % 3)) + rng.normal(size=n) * 0.01
    df = pd.DataFrame(dict(y=y, x=x, a=a, b=b))
    fits = []
    import warnings
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for seed in range(40):
            r = np.random.default_rng(seed)
            df["y"] = df["x"] * r.normal(size=n) + r.normal(size=n) * 0.01
            fits.append(ik.ols("y ~ x", df, cluster=["a", "b"], vcov="CR0"))
    msgs = [str(w.message) for w in rec if "not positive semi-definite" in str(w.message)]
    assert msgs, "no non-PSD two-way fit found"
    assert all("multiway clustering" in m for m in msgs)
