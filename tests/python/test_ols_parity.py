"""Python API and C++ core give the same numbers on the same data (DESIGN.md §6 parity test).

The formula layer (ik.ols) must hand the C++ core exactly the design the core would see when called
directly; results must agree bit for bit. Also: thread count does not change any result.
"""
import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit import _core


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(20261123)
    n = 3000
    df = pd.DataFrame({
        "village": rng.integers(0, 60, n),
        "round": rng.integers(0, 4, n),
        "treat": rng.integers(0, 2, n).astype(float),
        "x1": rng.normal(size=n),
        "w": rng.uniform(0.5, 2.0, n),
    })
    df["y"] = 1.0 + 0.3 * df.treat + 0.5 * df.x1 + rng.normal(size=n) + rng.normal(size=60)[df.village]
    return df


@pytest.mark.parametrize("vcov", ["iid", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1", "CR2", "CR3"])
@pytest.mark.parametrize("weighted", [False, True])
def test_formula_path_equals_core(panel, vcov, weighted):
    cluster = "village" if vcov.startswith("CR") else None
    fit = ik.ols("y ~ treat + x1", panel, vcov=vcov, cluster=cluster, weights="w" if weighted else None)
    X = np.asfortranarray(np.column_stack([np.ones(len(panel)), panel.treat, panel.x1]))
    codes = np.asfortranarray(pd.factorize(panel.village)[0].astype(np.int32)[:, None]) if cluster else None
    core = _core.ols(X, panel.y.to_numpy(), panel.w.to_numpy() if weighted else None, _core.make_vcov_spec(vcov, codes))
    np.testing.assert_array_equal(fit.coef.to_numpy(), core.coef)
    np.testing.assert_array_equal(fit.vcov.to_numpy(), core.vcov)
    np.testing.assert_array_equal(fit.df_inference.to_numpy(), core.df_inference)
    np.testing.assert_array_equal(fit.pvalues.to_numpy(), core.p_values)


@pytest.mark.parametrize("vcov,cluster", [("HC1", None), ("HC3", None), ("CR1", ["village", "round"]), ("CR2", "village")])
def test_results_identical_for_any_thread_count(vcov, cluster):
    # large enough that the kernels actually split work across threads
    rng = np.random.default_rng(7)
    n = 120_000
    df = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    df["g"] = rng.integers(0, 500, n)
    df["h"] = rng.integers(0, 7, n)
    df["village"], df["round"] = df.g, df.h
    df["y"] = df.a - df.b + rng.normal(size=n)
    before = ik.get_num_threads()
    try:
        ik.set_num_threads(1)
        one = ik.ols("y ~ a + b + c + d", df, vcov=vcov, cluster=cluster)
        ik.set_num_threads(2)
        two = ik.ols("y ~ a + b + c + d", df, vcov=vcov, cluster=cluster)
    finally:
        ik.set_num_threads(before)
    np.testing.assert_array_equal(one.coef.to_numpy(), two.coef.to_numpy())
    np.testing.assert_array_equal(one.vcov.to_numpy(), two.vcov.to_numpy())


def test_core_rejects_bad_arrays():
    X = np.asfortranarray(np.ones((5, 2)))
    with pytest.raises(ValueError, match="rows"):
        _core.ols(X, np.ones(4))
    with pytest.raises(ik.InvalidInputError, match="non-finite"):
        _core.ols(X, np.array([1.0, np.nan, 2, 3, 4]))
    with pytest.raises(ValueError, match="positive"):
        _core.ols(X, np.arange(5.0), np.array([1.0, 1, 0, 1, 1]))
    with pytest.raises(ValueError, match="cluster"):
        _core.ols(X, np.arange(5.0), None, _core.make_vcov_spec("CR1", np.zeros((5, 1), dtype=np.int32)))


@pytest.mark.parametrize("cluster", ["village", ["village", "round"]])
def test_cluster_on_fixed_effect_by_name_equals_labels(panel, cluster):
    # cluster='village' with village absorbed goes through the fixed-effect codes (nothing passed or
    # compared); the same grouping passed as an array takes the general label path: same numbers
    names = [cluster] if isinstance(cluster, str) else cluster
    by_name = ik.ols("y ~ treat + x1 | village + round", panel, cluster=cluster)
    arrays = [panel[c].to_numpy() * 3 + 1 for c in names]
    by_array = ik.ols("y ~ treat + x1 | village + round", panel, cluster=arrays if len(arrays) > 1 else arrays[0])
    np.testing.assert_allclose(by_name.coef.to_numpy(), by_array.coef.to_numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(by_name.se.to_numpy(), by_array.se.to_numpy(), rtol=1e-14)
    assert list(by_name.n_clusters.values()) == list(by_array.n_clusters.values())
