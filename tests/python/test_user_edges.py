"""What a new user hit in the core (issue 13), one test (or more) per finding.

Each test failed before its fix. Tolerances: refits of the same data in another row order agree to
1e-12 relative (the arithmetic differs only in summation order); predictions equal fitted values to
1e-10 absolute (fixed effects: 1e-6, the projection tolerance); the overall F equals statsmodels' robust
Wald F to 1e-8 relative.
"""
from __future__ import annotations

import math
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REL = 1e-12
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def df():
    rng = np.random.default_rng(13)
    n = 40
    d = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "g": np.repeat(np.arange(8), 5),
                      "w": rng.uniform(0.5, 2.0, n), "z": rng.normal(size=n)})
    d["d"] = d.z + 0.5 * rng.normal(size=n)
    d["y"] = 1 + d.x1 + 0.5 * d.d + rng.normal(size=n)
    d["b"] = (d.y + rng.normal(size=n) > 1.5).astype(int)
    d["c"] = rng.poisson(np.exp(0.3 + 0.2 * d.x1))
    d["expo"] = rng.uniform(0.5, 3.0, n)
    d.index = pd.Index([f"r{i}" for i in range(n)])  # labels, not positions
    return d


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ik.ImpactkitWarning)
        return f(*a, **k)


FITTERS = [
    ("ols", lambda d, **k: ik.ols("y ~ x1 + x2", d, **k)),
    ("iv", lambda d, **k: ik.iv("y ~ x1 | d ~ z", d, **k)),
    ("logit", lambda d, **k: ik.logit("b ~ x1 + x2", d, **k)),
    ("probit", lambda d, **k: ik.probit("b ~ x1 + x2", d, **k)),
    ("poisson", lambda d, **k: ik.poisson("c ~ x1 + x2", d, **k)),
]


# ---- 1. a pandas Series is aligned by index label, an array by position ----------------------------
@pytest.mark.parametrize("name,fit", FITTERS, ids=[f[0] for f in FITTERS])
def test_series_weights_and_cluster_align_by_label(df, name, fit):
    perm = np.random.default_rng(1).permutation(len(df))
    w, g = df["w"], df["g"]
    ref = fit(df, weights=w.to_numpy(), cluster=g.to_numpy())
    shuffled = fit(df, weights=w.iloc[perm], cluster=g.iloc[perm].rename("g"))
    np.testing.assert_allclose(shuffled.coef.to_numpy(), ref.coef.to_numpy(), rtol=REL)
    np.testing.assert_allclose(shuffled.se.to_numpy(), ref.se.to_numpy(), rtol=1e-10)
    # a numpy array stays positional: the permuted array is a different weighting
    other = fit(df, weights=w.to_numpy()[perm])
    assert not np.allclose(other.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-6)
    # a Series that lacks some of the data's labels is refused, naming the argument
    with pytest.raises(ValueError, match="weights"):
        fit(df, weights=w.iloc[:-3])
    with pytest.raises(ValueError, match="cluster"):
        fit(df, cluster=g.reset_index(drop=True))


def test_series_offset_and_exposure_align_by_label(df):
    perm = np.random.default_rng(2).permutation(len(df))
    ref = ik.poisson("c ~ x1", df, exposure=df["expo"].to_numpy())
    shuffled = ik.poisson("c ~ x1", df, exposure=df["expo"].iloc[perm])
    np.testing.assert_allclose(shuffled.coef.to_numpy(), ref.coef.to_numpy(), rtol=REL)
    off = ik.poisson("c ~ x1", df, offset=np.log(df["expo"]).iloc[perm])
    np.testing.assert_allclose(off.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="exposure"):
        ik.poisson("c ~ x1", df, exposure=df["expo"].iloc[:10])


def test_iv_weights_series_on_a_labelled_index(df):
    """iv works on a positional copy of the data; the Series must still be matched by label."""
    perm = np.random.default_rng(3).permutation(len(df))
    a = ik.iv("y ~ x1 | d ~ z", df, weights=df["w"])
    b = ik.iv("y ~ x1 | d ~ z", df, weights=df["w"].iloc[perm])
    np.testing.assert_allclose(b.coef.to_numpy(), a.coef.to_numpy(), rtol=REL)
    c = b.with_vcov("HC1")  # the call is replayed with the original arguments
    np.testing.assert_allclose(c.coef.to_numpy(), a.coef.to_numpy(), rtol=REL)


# ---- 2. exceptions that leaked ---------------------------------------------------------------------
def test_duplicate_column_names(df):
    d = pd.concat([df, df[["x1"]]], axis=1)
    with pytest.raises(ValueError, match="several columns named 'x1'"):
        ik.ols("y ~ x1", d)
    with pytest.raises(ValueError, match="'x1'"):
        ik.logit("b ~ x1", d)
    ik.ols("y ~ x2", d)  # a duplicated column the model does not use is harmless


def test_formula_without_outcome(df):
    for f in ("~ x1", " ~ x1 + x2"):
        with pytest.raises(ValueError, match="no outcome"):
            ik.ols(f, df)
    with pytest.raises(ValueError, match="no outcome"):
        ik.iv("~ x1 | d ~ z", df)
    with pytest.raises(ValueError, match="no outcome"):
        ik.poisson("~ x1", df)


def test_probit_huge_weight_is_a_clear_error(df):
    w = np.ones(len(df))
    w[int(np.flatnonzero(df["b"].to_numpy() == 1)[0])] = 1e300
    with pytest.raises(ik.InvalidInputError, match="weights"):
        ik.probit("b ~ x1", df, weights=w)
    with pytest.raises(ik.InvalidInputError, match="weights"):
        ik.logit("b ~ x1", df, weights=w)
    w2 = np.full(len(df), 1e307)
    with pytest.raises(ik.InvalidInputError, match="sum to infinity"):
        ik.probit("b ~ x1", df, weights=w2)


def test_poisson_offset_with_duplicate_index_labels(df):
    d = df.copy()
    d.index = [0] * len(d)
    ref = ik.poisson("c ~ x1", df.reset_index(drop=True), exposure="expo")
    for kw in (dict(exposure="expo"), dict(exposure=df["expo"].to_numpy()), dict(offset=np.log(df["expo"].to_numpy()))):
        fit = ik.poisson("c ~ x1", d, **kw)
        np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10)
        assert fit.nobs == len(d)
    # with a missing exposure the row is dropped and counted
    e = df["expo"].to_numpy().copy()
    e[4] = np.nan
    fit = ik.poisson("c ~ x1", d, exposure=e)
    assert fit.nobs == len(d) - 1 and fit.nobs_missing == 1


@pytest.mark.parametrize("call", [
    lambda d: ik.ols("y ~ x1 + Intercept", d),
    lambda d: ik.iv("y ~ Intercept | d ~ z", d),
    lambda d: ik.logit("b ~ x1 + Intercept", d),
    lambda d: ik.poisson("c ~ Intercept", d),
], ids=["ols", "iv", "logit", "poisson"])
def test_a_column_named_intercept_is_refused(df, call):
    with pytest.raises(ValueError, match="named 'Intercept'.*rename"):
        call(df.assign(Intercept=np.arange(len(df), dtype=float)))


# ---- 3. silently accepted ----------------------------------------------------------------------------
def test_empty_right_hand_side(df):
    for call in (lambda: ik.ols("y ~", df), lambda: ik.ols("y ~ | g", df), lambda: ik.logit("b ~  ", df),
                 lambda: ik.iv("y ~ | d ~ z", df)):
        with pytest.raises(ValueError, match=re.escape("formula has no right-hand side") + ".*'y ~ 1'"):
            call()
    assert list(ik.ols("y ~ 1", df).coef.index) == ["Intercept"]


def test_set_num_threads_checks_its_argument():
    before = ik.get_num_threads()
    try:
        for bad in (-3, 0):
            with pytest.raises(ValueError, match="at least 1"):
                ik.set_num_threads(bad)
        with pytest.raises(ValueError, match="hardware threads"):
            ik.set_num_threads(10**6)
        with pytest.raises(TypeError):
            ik.set_num_threads(2.0)
        ik.set_num_threads(1)
        assert ik.get_num_threads() == 1
        ik.set_num_threads(None)  # the default: all cores
    finally:
        ik.set_num_threads(before)


def test_iv_refuses_an_empty_fixed_effect_part(df):
    with pytest.raises(ValueError) as ols_err:
        ik.ols("y ~ x1 |", df)
    with pytest.raises(ValueError) as iv_err:
        ik.iv("y ~ x1 | | d ~ z", df)
    tail = "the part after '|' names no fixed effect"
    assert str(ols_err.value).endswith(tail) and str(iv_err.value).endswith(tail)


@pytest.mark.parametrize("call", [
    lambda d: ik.ols("k ~ x1", d),
    lambda d: ik.ols("k ~ x1 | g", d),
    lambda d: ik.iv("k ~ x1 | d ~ z", d),
    lambda d: ik.poisson("k ~ x1", d),
], ids=["ols", "ols_fe", "iv", "poisson"])
def test_constant_outcome_warns(df, call):
    with pytest.warns(ik.ImpactkitWarning, match="outcome is constant"):
        call(df.assign(k=2.0))


def test_constant_binary_outcome_is_refused(df):
    with pytest.raises(ValueError, match="needs both outcomes"):
        ik.logit("k ~ x1", df.assign(k=1))


# ---- 4. unclear messages -----------------------------------------------------------------------------
def test_datetime_column(df):
    d = df.assign(day=pd.date_range("2020-01-01", periods=len(df)), gap=pd.to_timedelta(np.arange(len(df)), "D"))
    with pytest.raises(ValueError, match=r"column 'day' has dtype datetime64.*\.dt\.year"):
        ik.ols("y ~ x1 + day", d)
    with pytest.raises(ValueError, match=r"column 'gap' has dtype timedelta64.*\.dt\.days"):
        ik.ols("y ~ gap", d)


def test_object_column_with_numbers(df):
    o = df["x2"].astype(object)
    o.iloc[3] = "n/a"
    d = df.assign(o=o)
    with pytest.raises(ValueError, match=r"column 'o' has dtype object but 39 of its 40 values are numbers.*'n/a'"
                                         r".*pd\.to_numeric"):
        ik.ols("y ~ x1 + o", d)
    ids = df.assign(hh=[f"hh{i}" for i in range(len(df))])
    with pytest.raises(ValueError, match="column 'hh' is non-numeric with 40 distinct values"):
        ik.ols("y ~ x1 + hh", ids)
    # explicit factors and genuine categories with few levels still work
    ik.ols("y ~ x1 + C(g)", df.assign(g=df["g"].astype(str)))
    ik.ols("y ~ x1 + region", df.assign(region=np.where(df["x2"] > 0, "north", "south")))


def test_wrong_length_and_shape_name_the_argument(df):
    with pytest.raises(ValueError, match="^weights has 39 rows but data has 40$"):
        ik.ols("y ~ x1", df, weights=np.ones(39))
    with pytest.raises(ValueError, match=r"cluster must be one-dimensional.*\(40, 2\).*list of columns"):
        ik.ols("y ~ x1", df, cluster=np.ones((40, 2)))
    with pytest.raises(ValueError, match="exposure has 12 rows but data has 40"):
        ik.poisson("c ~ x1", df, exposure=np.ones(12))


def test_conf_int_level_type(df):
    fit = ik.ols("y ~ x1", df)
    with pytest.raises(TypeError, match="level"):
        fit.conf_int("0.9")
    with pytest.raises(TypeError, match="level"):
        fit.tidy(level="95%")


def test_iteration_caps_are_checked_in_python(df):
    with pytest.raises(ValueError, match=r"fe_max_iter must be in \[1, 2147483647\]"):
        ik.ols("y ~ x1 | g", df, fe_max_iter=2**40)
    with pytest.raises(ValueError, match="fe_max_iter"):
        ik.iv("y ~ x1 | g | d ~ z", df, fe_max_iter=0)
    with pytest.raises(ValueError, match="max_iter"):
        ik.logit("b ~ x1", df, max_iter=2**40)
    with pytest.raises(TypeError, match="fe_tol"):
        ik.ols("y ~ x1 | g", df, fe_tol="1e-8")


def test_wald_test_messages(df):
    fit = ik.ols("y ~ x1 + x2", df)
    with pytest.raises(ValueError, match="hypothesis value '1e999'.*not finite"):
        fit.wald_test("x1 = 1e999")
    with pytest.raises(ValueError, match="not finite"):
        fit.wald_test((np.array([[0.0, 1.0, 0.0]]), np.array([np.inf])))
    with pytest.raises(ValueError, match=r"unknown coefficient 'x3' \(did you mean 'x[12]'\?\); the coefficients are: "
                                         r"Intercept, x1, x2"):
        fit.wald_test("x3 = 0")


def test_separation_error_names_terms(df):
    d = df.assign(s=df["b"].astype(float))
    with pytest.raises(ValueError, match="regressors involved: .*s") as err:
        ik.logit("b ~ x1 + s", d, separation="raise")
    assert "columns of X" not in str(err.value)


def test_convergence_error_is_a_value_error_with_readable_tol(df):
    assert issubclass(ik.ConvergenceError, ValueError)
    assert issubclass(ik.ConvergenceError, RuntimeError)  # as before
    with pytest.raises(ValueError, match=r"tol 1e-10\b") as err:
        ik.logit("b ~ x1 + x2", df, max_iter=1)
    assert isinstance(err.value, ik.ConvergenceError)
    assert "0.000000" not in str(err.value)


# ---- 5. pyfixest / fixest habits -----------------------------------------------------------------------
@pytest.mark.parametrize("formula,what", [
    ("y ~ i(g)", "i()"), ("y ~ i(g, x1, ref=1)", "i()"), ("y ~ csw0(x1, x2)", "csw0()"), ("y ~ sw(x1, x2)", "sw()"),
    ("y ~ csw(x1, x2)", "csw()"), ("y + x2 ~ x1", "several outcomes"), ("c(y, x2) ~ x1", "several outcomes"),
])
def test_fixest_syntax_gets_a_clear_message(df, formula, what):
    with pytest.raises(ValueError, match=re.escape(what) + ".*not supported yet") as err:
        ik.ols(formula, df)
    assert "unknown column" not in str(err.value)


def test_fixest_syntax_in_iv_and_glm(df):
    with pytest.raises(ValueError, match="not supported yet"):
        ik.iv("y ~ i(g) | d ~ z", df)
    with pytest.raises(ValueError, match="not supported yet"):
        ik.logit("b ~ csw0(x1, x2)", df)


def test_fitted_values_and_predict_without_fixed_effects(df):
    d = df.assign(grp=np.where(df["x2"] > 0, "a", "b"))
    d.loc[d.index[5], "x1"] = np.nan
    fit = ik.ols("y ~ x1 + C(grp)", d, weights="w")
    fv = fit.fitted_values
    assert fv.index.equals(fit.residuals.index)
    np.testing.assert_allclose(fv + fit.residuals, d.loc[fv.index, "y"], rtol=0, atol=1e-12)
    pred = fit.predict(d)
    assert pred.index.equals(d.index) and np.isnan(pred.iloc[5])
    np.testing.assert_allclose(pred.loc[fv.index], fv, rtol=0, atol=1e-10)
    pd.testing.assert_series_equal(fit.predict(), fv)
    # new data through the same factor coding: one row per level
    new = pd.DataFrame({"x1": [0.0, 0.0], "grp": ["a", "b"]}, index=["p", "q"])
    b = fit.coef
    np.testing.assert_allclose(fit.predict(new).to_numpy(), [b["Intercept"], b["Intercept"] + b["C(grp)[T.b]"]],
                               rtol=1e-14)


def test_predict_with_fixed_effects(df):
    fit = ik.ols("y ~ x1 + x2 | g", df, cluster="g")
    fv = fit.fitted_values
    np.testing.assert_allclose(fit.predict(df).loc[fv.index], fv, rtol=0, atol=1e-6)
    new = df.head(3).assign(g=[0, 99, 1])
    with pytest.warns(ik.ImpactkitWarning, match="not seen in the fit"):
        p = fit.predict(new)
    assert np.isnan(p.iloc[1]) and np.isfinite(p.iloc[[0, 2]]).all()
    with pytest.raises(ValueError, match="fixed-effect column"):
        fit.predict(df[["x1", "x2"]])


def test_predict_iv_and_glm(df):
    fit = ik.iv("y ~ x1 | d ~ z", df)
    fv = fit.fitted_values
    np.testing.assert_allclose(fit.predict(df).loc[fv.index], fv, rtol=0, atol=1e-10)
    first = fit.first_stage_results["d"]
    np.testing.assert_allclose(first.fitted_values + first.residuals, df["d"], rtol=0, atol=1e-12)
    d = df.copy()
    d.index = [0] * len(d)  # duplicate labels: predictions stay one per row
    pr = ik.probit("b ~ x1", d)
    out = pr.predict(d)
    assert len(out) == len(d)
    np.testing.assert_allclose(out.to_numpy(), pr.fitted_values.to_numpy(), rtol=1e-12)


def test_overall_f_test_matches_statsmodels(df):
    sm = pytest.importorskip("statsmodels.api")
    X = sm.add_constant(df[["x1", "x2"]])
    for kw, smkw in [(dict(vcov="HC1"), dict(cov_type="HC1")),
                     (dict(cluster="g"), dict(cov_type="cluster", cov_kwds={"groups": df["g"].to_numpy()}))]:
        fit = ik.ols("y ~ x1 + x2", df, **kw)
        ref = sm.OLS(df["y"], X).fit(**smkw)
        f = fit.f_test
        assert f.df_num == 2 and f.df_denom == pytest.approx(float(ref.df_resid_inference if kw.get("cluster") else ref.df_resid))
        assert f.statistic == pytest.approx(float(ref.fvalue), rel=1e-8)
        assert f.p_value == pytest.approx(float(ref.f_pvalue), rel=1e-6)
        stats = dict(fit.fit_stats())
        assert f"Wald F(2, {f.df_denom:g}), slopes = 0" in stats
        assert f"Wald F(2, {f.df_denom:g}), slopes = 0" in str(fit.summary())
    assert ik.ols("y ~ 1", df).f_test is None


def test_typos_list_what_exists(df):
    with pytest.raises(ValueError, match="cluster column 'gg' is not in the data; available columns: x1, x2, g"):
        ik.ols("y ~ x1", df, cluster="gg")
    with pytest.raises(ValueError, match="weights column 'ww' is not in the data; available columns"):
        ik.ols("y ~ x1", df, weights="ww")
    with pytest.raises(ValueError, match="fixed effect 'gg' is not a column of the data; available columns"):
        ik.ols("y ~ x1 | gg", df)


def test_fixed_effect_counts_are_stated_consistently():
    rng = np.random.default_rng(0)
    n = 600
    d = pd.DataFrame({"id": np.repeat(np.arange(120), 5), "t": np.tile(np.arange(5), 120)})
    d["x"] = rng.normal(size=n)
    d["y"] = d.x + rng.normal(size=n)
    fit = ik.ols("y ~ x | id + t", d, cluster="id")
    text = " ".join(fit.notes())
    assert fit.k_fe == 124
    assert "k includes 5 of the 124 absorbed fixed-effect coefficients (the 119 nested in the clusters are not counted)" in text
    assert "Absorbed fixed effects: id, t (124 coefficients, all counted in the residual df)" in text
    assert fit.df_resid == n - 1 - 124
    assert "k counts" not in text and "counted in n-k" not in text
    hc = ik.ols("y ~ x | id + t", d)
    assert "k includes the 124 absorbed fixed-effect coefficients" in hc.vcov_convention
    b = (d.x + rng.normal(size=n) > 0).astype(int)
    glm = _quiet(ik.logit, "b ~ x | t", d.assign(b=b), cluster="t")
    assert "k counts" not in glm.vcov_convention and "counted in n-k" not in " ".join(glm.notes())


@pytest.mark.parametrize("obj", [
    ik.ols, ik.iv, ik.logit, ik.probit, ik.poisson,
    ik.RegressionResult.summary, ik.RegressionResult.tidy, ik.RegressionResult.conf_int, ik.RegressionResult.predict,
])
def test_numpy_style_docstrings(obj):
    doc = obj.__doc__ or ""
    for section in ("Parameters", "Returns", "Examples"):
        if section == "Parameters" and obj is ik.RegressionResult.summary:
            continue  # no parameters
        assert re.search(rf"\n\s*{section}\n\s*-{{{len(section)}}}\n", doc), f"{obj.__qualname__}: no {section} section"


# ---- 6. missing cluster values (verify) ------------------------------------------------------------
def test_missing_cluster_values_are_dropped_and_counted(df):
    d = df.assign(gm=df["g"].astype(float))
    d.loc[d.index[[2, 7, 11]], "gm"] = np.nan
    for fit in (ik.ols("y ~ x1", d, cluster="gm"), ik.iv("y ~ x1 | d ~ z", d, cluster="gm"),
                ik.logit("b ~ x1", d, cluster="gm")):
        assert fit.nobs == len(d) - 3 and fit.nobs_missing == 3
    arr = d["gm"].to_numpy()
    assert ik.ols("y ~ x1", d, cluster=arr).nobs_missing == 3


# ---- 7. impactkit reproduce and its reports --------------------------------------------------------
def test_reproduce_says_which_figures_failed_and_why(tmp_path, capsys):
    from impactkit.cli import main

    code = main(["reproduce", "--out", str(tmp_path / "a"), "--study", "card_krueger"])
    err = capsys.readouterr().err
    assert code == 1
    line = next(ln for ln in err.splitlines() if "Difference-in-differences, all stores (NJ - PA change)" in ln)
    assert "published 2.76, computed 2.75" in line and "tolerance ±0.005" in line and "documented deviation" in line
    assert "--allow-documented" in err
    assert main(["reproduce", "--out", str(tmp_path / "b"), "--study", "card_krueger", "--allow-documented"]) == 0


def test_report_sources_and_superscript():
    from impactkit import replication

    report = replication.run()
    html_text = report.to_html()
    assert "10<sup>−decimals</sup>" in html_text and "10^" not in html_text
    assert "<th>Source</th>" in html_text
    for study, f in report.figures():
        assert f.format_source()
        if study.key == "card_krueger":
            assert f.source.startswith("Table 3")


# ---- 8. install documentation ----------------------------------------------------------------------
def test_install_requirements_are_documented():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    install = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    for needle in ("Eigen ≥ 3.4", "Boost ≥ 1.74", "C++17", "impactkit[plot]" if "impactkit[plot]" in install else ".[plot]",
                   "Jupyter"):
        assert needle in install, needle
    cmake = open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8").read()
    assert "impactkit needs Eigen >= 3.4" in cmake and "impactkit needs Boost >= 1.74" in cmake
    assert "impactkit needs a C++17 compiler" in cmake
    pyproject = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    description = re.search(r'^description = "(.*)"$', pyproject, re.M).group(1)
    assert "targeting" not in description and "sustainability" not in description
