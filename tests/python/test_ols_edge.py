"""Edge-case grid for ik.ols (DESIGN.md §6; issue 2 "Bad input").

NaN, ±inf, empty, one observation, unknown columns, non-numeric outcome, one cluster, bad weights,
collinear columns, constant outcome, rank-zero design, all / none treated, huge and tiny magnitudes,
and the rule that the caller's DataFrame is never modified. Every bad input must give a clear
ValueError (ik.InvalidInputError) or TypeError naming the problem — never a crash.

Tolerances are stated per assertion; exact (bitwise) where the arithmetic is exact.
"""
from __future__ import annotations

import contextlib
import copy
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik


@pytest.fixture
def df():
    rng = np.random.default_rng(12345)
    n = 200
    d = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.normal(size=n),
        "treat": rng.integers(0, 2, n).astype(float),
        "g": rng.integers(0, 12, n),
        "h": rng.integers(0, 5, n),
        "w": rng.uniform(0.5, 2.0, n),
        "region": rng.choice(["north", "south", "east"], n),
    })
    d["y"] = 1.0 + 0.5 * d.x1 - 0.25 * d.x2 + 0.3 * d.treat + rng.normal(size=n)
    return d


@contextlib.contextmanager
def _no_warnings():
    """ImpactkitWarning becomes an error inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ik.ImpactkitWarning)
        yield


# ---------------------------------------------------------------------------------------------
# missing and non-finite values
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("col", ["y", "x1"])
def test_nan_rows_dropped_listwise_and_counted(df, col):
    d = df.copy()
    d.loc[[3, 17, 50], col] = np.nan
    fit = ik.ols("y ~ x1 + x2", d)
    ref = ik.ols("y ~ x1 + x2", d.drop(index=[3, 17, 50]))
    assert fit.nobs == len(df) - 3
    assert fit.nobs_missing == 3
    np.testing.assert_array_equal(fit.coef.to_numpy(), ref.coef.to_numpy())  # exact: same rows, same order
    np.testing.assert_array_equal(fit.se.to_numpy(), ref.se.to_numpy())
    assert any("3" in note and "missing" in note for note in fit.notes())


def test_nan_in_unused_column_is_ignored(df):
    d = df.copy()
    d["unused"] = np.nan
    fit = ik.ols("y ~ x1", d)
    assert fit.nobs == len(df) and fit.nobs_missing == 0


def test_nan_in_cluster_and_weights_columns_drop_rows(df):
    d = df.copy()
    d["g"] = d["g"].astype(float)
    d.loc[[1, 2], "g"] = np.nan
    fit = ik.ols("y ~ x1", d, cluster="g")
    assert fit.nobs == len(df) - 2 and fit.nobs_missing == 2


def test_na_raise(df):
    d = df.copy()
    d.loc[5, "x2"] = np.nan
    with pytest.raises(ValueError, match="x2"):
        ik.ols("y ~ x1 + x2", d, na="raise")
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", d, na="whatever")


def test_all_rows_missing(df):
    d = df.copy()
    d["y"] = np.nan
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", d)


@pytest.mark.parametrize("col", ["y", "x1"])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_values_raise_naming_the_column(df, col, value):
    d = df.copy()
    d.loc[7, col] = value
    with pytest.raises(ValueError, match=re.escape(col)):
        ik.ols("y ~ x1 + x2", d)


def test_infinite_weight_raises(df):
    d = df.copy()
    d.loc[0, "w"] = np.inf
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", d, weights="w")


# ---------------------------------------------------------------------------------------------
# sizes
# ---------------------------------------------------------------------------------------------
def test_empty_data(df):
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", df.iloc[0:0])


def test_one_observation(df):
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", df.iloc[0:1])
    with pytest.raises(ValueError):
        ik.ols("y ~ 1", df.iloc[0:1])  # intercept only: n = k = 1, no residual df


def test_observations_equal_to_parameters(df):
    with pytest.raises(ValueError):
        ik.ols("y ~ x1 + x2", df.iloc[0:3], vcov="iid")


def test_smallest_valid_fit(df):
    fit = ik.ols("y ~ x1", df.iloc[0:3], vcov="iid")
    assert fit.nobs == 3 and fit.df_resid == 1
    assert np.all(np.isfinite(fit.se.to_numpy()))


def test_not_a_dataframe(df):
    with pytest.raises(TypeError):
        ik.ols("y ~ x1", df.to_dict())


def test_formula_without_tilde(df):
    with pytest.raises(ValueError):
        ik.ols("y x1", df)


# ---------------------------------------------------------------------------------------------
# names and types
# ---------------------------------------------------------------------------------------------
def test_unknown_column_in_formula(df):
    with pytest.raises(ValueError, match="nonexistent"):
        ik.ols("y ~ x1 + nonexistent", df)


def test_unknown_outcome(df):
    with pytest.raises(ValueError, match="income"):
        ik.ols("income ~ x1", df)


def test_unknown_weights_and_cluster_columns(df):
    with pytest.raises(ValueError, match="wt_missing"):
        ik.ols("y ~ x1", df, weights="wt_missing")
    with pytest.raises(ValueError, match="village_missing"):
        ik.ols("y ~ x1", df, cluster="village_missing")
    with pytest.raises(ValueError, match="other_missing"):
        ik.ols("y ~ x1", df, cluster=["g", "other_missing"])


def test_non_numeric_outcome(df):
    with pytest.raises((TypeError, ValueError)):
        ik.ols("region ~ x1", df)


def test_boolean_outcome_is_numeric(df):
    d = df.copy()
    d["pos"] = d.y > 1
    fit = ik.ols("pos ~ x1", d)
    ref = ik.ols("pos_f ~ x1", d.assign(pos_f=d.pos.astype(float)))
    np.testing.assert_array_equal(fit.coef.to_numpy(), ref.coef.to_numpy())


def test_weights_array_length_mismatch(df):
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", df, weights=np.ones(len(df) - 1))


def test_weights_array_equals_weights_column(df):
    a = ik.ols("y ~ x1", df, weights="w")
    b = ik.ols("y ~ x1", df, weights=df["w"].to_numpy())
    np.testing.assert_array_equal(a.coef.to_numpy(), b.coef.to_numpy())
    np.testing.assert_array_equal(a.se.to_numpy(), b.se.to_numpy())


def test_cluster_array_length_mismatch(df):
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", df, cluster=np.arange(len(df) - 1))


def test_unknown_vcov_and_inconsistent_cluster(df):
    with pytest.raises(ValueError, match="HC7"):
        ik.ols("y ~ x1", df, vcov="HC7")
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", df, vcov="CR1")  # no cluster
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", df, vcov="HC1", cluster="g")


# ---------------------------------------------------------------------------------------------
# clusters and weights
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("vcov", ["CR0", "CR1", "CR2", "CR3"])
def test_single_cluster(df, vcov):
    d = df.assign(one=1)
    with pytest.raises(ValueError, match="cluster"):
        ik.ols("y ~ x1", d, vcov=vcov, cluster="one")


def test_single_cluster_in_one_dimension_of_multiway(df):
    d = df.assign(one=1)
    with pytest.raises(ValueError, match="cluster"):
        ik.ols("y ~ x1", d, vcov="CR1", cluster=["g", "one"])


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_non_positive_weights(df, bad):
    d = df.copy()
    d.loc[4, "w"] = bad
    with pytest.raises(ValueError, match="weight"):
        ik.ols("y ~ x1", d, weights="w")


def test_nan_weights(df):
    """Issue 2: 'weights ≤ 0 or NaN: a clear ValueError'. A NaN weight is bad input, not a missing
    value to drop silently (a weight is a design choice, not a measured variable)."""
    w = df["w"].to_numpy().copy()
    w[4] = np.nan
    with pytest.raises(ValueError, match="weight"):
        ik.ols("y ~ x1", df, weights=w)
    with pytest.raises(ValueError, match="weight"):
        ik.ols("y ~ x1", df.assign(w=w), weights="w")


def test_non_numeric_weights(df):
    with pytest.raises((TypeError, ValueError)):
        ik.ols("y ~ x1", df, weights="region")


def test_probability_weights_need_robust_vcov(df):
    with pytest.raises(ValueError):
        ik.ols("y ~ x1", df, weights="w", weight_type="probability", vcov="iid")
    fit_p = ik.ols("y ~ x1", df, weights="w", weight_type="probability", vcov="HC1")
    fit_a = ik.ols("y ~ x1", df, weights="w", vcov="HC1")
    np.testing.assert_allclose(fit_p.coef.to_numpy(), fit_a.coef.to_numpy(), rtol=1e-14, atol=0)


def test_hc2_hc3_leverage_one(df):
    """An observation that alone determines a coefficient has leverage 1: HC2/HC3 are undefined."""
    d = df.copy()
    d["only_one"] = 0.0
    d.loc[10, "only_one"] = 1.0
    for vcov in ("HC2", "HC3"):
        with pytest.raises(ValueError, match="leverage"):
            ik.ols("y ~ x1 + only_one", d, vcov=vcov)
    assert np.isfinite(ik.ols("y ~ x1 + only_one", d, vcov="HC1").se["x1"])


# ---------------------------------------------------------------------------------------------
# collinearity, rank, degenerate designs
# ---------------------------------------------------------------------------------------------
def test_collinear_duplicate_column(df):
    d = df.assign(x1_copy=df.x1 * 2.0 + 0.0)
    with pytest.warns(ik.ImpactkitWarning, match="x1_copy"):
        fit = ik.ols("y ~ x1 + x2 + x1_copy", d)
    ref = ik.ols("y ~ x1 + x2", df)
    assert fit.collinear == ["x1_copy"]
    assert list(fit.coef.index) == ["Intercept", "x1", "x2"]
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(fit.se.to_numpy(), ref.se.to_numpy(), rtol=1e-12, atol=0)
    assert fit.df_resid == ref.df_resid  # a dropped column does not use a degree of freedom
    assert any("x1_copy" in note for note in fit.notes())


def test_collinear_linear_combination_and_dummy_trap(df):
    d = df.assign(combo=df.x1 - 3 * df.x2,
                  north=(df.region == "north").astype(float),
                  south=(df.region == "south").astype(float),
                  east=(df.region == "east").astype(float))
    with pytest.warns(ik.ImpactkitWarning) as rec:
        fit = ik.ols("y ~ x1 + x2 + combo + north + south + east", d)
    msg = " ".join(str(r.message) for r in rec)
    assert "combo" in msg and "east" in msg
    assert set(fit.collinear) == {"combo", "east"}  # the later column of each collinear set, as R's lm
    ref = ik.ols("y ~ x1 + x2 + north + south", d)
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10, atol=1e-12)


def test_constant_outcome(df):
    d = df.assign(y=3.25)
    for vcov, cluster in [("iid", None), ("HC1", None), ("HC3", None), ("CR1", "g"), ("CR2", "g")]:
        fit = ik.ols("y ~ x1 + treat", d, vcov=vcov, cluster=cluster)
        np.testing.assert_allclose(fit.coef["Intercept"], 3.25, rtol=1e-14)
        np.testing.assert_allclose(fit.coef[["x1", "treat"]].to_numpy(), 0.0, atol=1e-14)
        np.testing.assert_allclose(fit.se.to_numpy(), 0.0, atol=1e-14)
        assert fit.rss == pytest.approx(0.0, abs=1e-24)


def test_rank_zero_design(df):
    d = df.assign(zero=0.0)
    with pytest.raises(ValueError, match="rank"):
        ik.ols("y ~ 0 + zero", d)


def test_all_treated(df):
    d = df.assign(treat=1.0)
    with pytest.warns(ik.ImpactkitWarning, match="treat"):
        fit = ik.ols("y ~ treat + x1", d)
    assert "treat" in fit.collinear
    ref = ik.ols("y ~ x1", d)
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-12)


def test_none_treated(df):
    d = df.assign(treat=0.0)
    with pytest.warns(ik.ImpactkitWarning, match="treat"):
        fit = ik.ols("y ~ treat + x1", d)
    assert fit.collinear == ["treat"]


def test_only_intercept(df):
    fit = ik.ols("y ~ 1", df, vcov="iid")
    np.testing.assert_allclose(fit.coef["Intercept"], df.y.mean(), rtol=1e-14)
    np.testing.assert_allclose(fit.se["Intercept"], df.y.std(ddof=1) / np.sqrt(len(df)), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# magnitudes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e12, 1e-12, 2.0 ** 40, 2.0 ** -40])
@pytest.mark.parametrize("vcov,cluster", [("iid", None), ("HC1", None), ("HC3", None), ("CR1", "g"), ("CR2", "g")])
def test_outcome_scaling(df, scale, vcov, cluster):
    """y → c·y scales coefficients and SEs by c and leaves t, p and df unchanged (rel 1e-12;
    exact for powers of two, where every operation of the algorithm scales exactly)."""
    base = ik.ols("y ~ x1 + x2 + treat", df, vcov=vcov, cluster=cluster)
    fit = ik.ols("y ~ x1 + x2 + treat", df.assign(y=df.y * scale), vcov=vcov, cluster=cluster)
    np.testing.assert_allclose(fit.coef.to_numpy(), base.coef.to_numpy() * scale, rtol=1e-12, atol=0)
    np.testing.assert_allclose(fit.se.to_numpy(), base.se.to_numpy() * scale, rtol=1e-12, atol=0)
    np.testing.assert_allclose(fit.tstat.to_numpy(), base.tstat.to_numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(fit.df_inference.to_numpy(), base.df_inference.to_numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(fit.r2, base.r2, rtol=1e-12)
    if np.log2(scale) == round(np.log2(scale)):
        np.testing.assert_array_equal(fit.coef.to_numpy(), base.coef.to_numpy() * scale)
        np.testing.assert_array_equal(fit.se.to_numpy(), base.se.to_numpy() * scale)


@pytest.mark.parametrize("scale", [1e12, 1e-12, 2.0 ** 40, 2.0 ** -40])
def test_regressor_scaling(df, scale):
    """x1 → c·x1 scales its coefficient and SE by 1/c; nothing else changes (rel 1e-12)."""
    base = ik.ols("y ~ x1 + x2", df, vcov="HC1")
    with _no_warnings():  # a rescaled column is not collinear
        fit = ik.ols("y ~ x1 + x2", df.assign(x1=df.x1 * scale), vcov="HC1")
    expected = base.coef.to_numpy() * np.array([1.0, 1.0 / scale, 1.0])
    np.testing.assert_allclose(fit.coef.to_numpy(), expected, rtol=1e-12, atol=0)
    expected_se = base.se.to_numpy() * np.array([1.0, 1.0 / scale, 1.0])
    np.testing.assert_allclose(fit.se.to_numpy(), expected_se, rtol=1e-12, atol=0)
    np.testing.assert_allclose(fit.tstat.to_numpy(), base.tstat.to_numpy(), rtol=1e-12, atol=0)


def test_huge_and_tiny_columns_together(df):
    """Columns 24 orders of magnitude apart are not collinear and are estimated to full accuracy."""
    d = df.assign(big=df.x1 * 1e12, small=df.x2 * 1e-12)
    with _no_warnings():
        fit = ik.ols("y ~ big + small + treat", d, vcov="HC1")
    base = ik.ols("y ~ x1 + x2 + treat", df, vcov="HC1")
    np.testing.assert_allclose(fit.coef.to_numpy() * np.array([1, 1e12, 1e-12, 1]), base.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(fit.se.to_numpy() * np.array([1, 1e12, 1e-12, 1]), base.se.to_numpy(), rtol=1e-12)


def test_large_offset_in_outcome(df):
    """y + 1e9: slopes unchanged to rel 1e-6 (the offset costs ~9 of 16 digits in y itself)."""
    base = ik.ols("y ~ x1 + x2", df, vcov="iid")
    fit = ik.ols("y ~ x1 + x2", df.assign(y=df.y + 1e9), vcov="iid")
    np.testing.assert_allclose(fit.coef[["x1", "x2"]].to_numpy(), base.coef[["x1", "x2"]].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.coef["Intercept"] - 1e9, base.coef["Intercept"], rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# the caller's data are never modified
# ---------------------------------------------------------------------------------------------
def test_dataframe_not_modified(df):
    d = df.copy()
    d["g"] = d["g"].astype(float)
    d.loc[[2, 9], "x1"] = np.nan
    d.loc[4, "g"] = np.nan
    d["region"] = d["region"].astype("category")
    d = d.set_index(pd.Index(np.arange(len(d))[::-1] * 3, name="row"))
    snapshot = copy.deepcopy(d)
    calls = [
        dict(formula="y ~ x1 + x2 + C(region)", kwargs={}),
        dict(formula="y ~ x1 + x2", kwargs=dict(weights="w", vcov="HC3")),
        dict(formula="y ~ x1 * treat + np.log(w)", kwargs=dict(cluster="g", vcov="CR2")),
        dict(formula="y ~ x1", kwargs=dict(cluster=["g", "h"])),
        dict(formula="y ~ x1 + x2 | h", kwargs=dict(cluster="g")),
    ]
    for c in calls:
        fit = ik.ols(c["formula"], d, **c["kwargs"])
        fit.summary()
        fit.tidy()
        fit.with_vcov("HC1")
        pd.testing.assert_frame_equal(d, snapshot, check_exact=True)
        assert d.index.equals(snapshot.index) and d.index.name == "row"
    arr_w = d["w"].to_numpy().copy()
    w_in = d["w"].to_numpy()
    ik.ols("y ~ x1", d, weights=w_in)
    np.testing.assert_array_equal(w_in, arr_w)


def test_residuals_keep_the_callers_index(df):
    d = df.set_index(pd.Index([f"r{i}" for i in range(len(df))]))
    d.loc["r5", "x1"] = np.nan
    fit = ik.ols("y ~ x1", d)
    assert "r5" not in fit.residuals.index
    assert list(fit.residuals.index) == [i for i in d.index if i != "r5"]
