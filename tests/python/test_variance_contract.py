"""The variance contract from Python: EstimateResult.from_influence and with_vcov without refitting.

References:
- R survey's svyratio (tests/reference/r/survey/survey_reference.json, produced by
  make_survey_reference.R): a ratio of weighted means built by hand from its influence values
  ψ_i = w_i (y_i − R̂ x_i)/Σ w x must give R's SE under an iid design (svydesign(ids=~1), no FPC), a
  one-stage cluster design without FPC (svydesign(ids=~dnum): G/(G−1), our "CR1_G") and a stratified
  design with FPC. Tolerance: rel 1e-10.
- with_vcov without refit must equal a fresh fit with that variance (rel 1e-12: the same C++ sandwich,
  summed in another order).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "r" / "survey"
REF = {c["id"]: c for c in json.loads((REF_DIR / "survey_reference.json").read_text())["cases"]}


def _ratio_influence(df, w):
    y, x = df.api00.to_numpy(float), df.api99.to_numpy(float)
    r = np.sum(w * y) / np.sum(w * x)
    return r, w * (y - r * x) / np.sum(w * x)


@pytest.mark.parametrize("case, csv, design", [
    ("apisrs_nofpc/ratio/api00_api99", "apisrs.csv", lambda df: "iid"),
    ("apiclus1_nofpc/ratio/api00_api99", "apiclus1.csv", lambda df: ("CR1_G", df.dnum)),
    ("apistrat_fpc/ratio/api00_api99", "apistrat.csv", lambda df: ik.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")),
], ids=["iid", "cluster", "survey"])
def test_ratio_from_influence_equals_svyratio(case, csv, design):
    df = pd.read_csv(REF_DIR / csv)
    ref = REF[case]
    r, psi = _ratio_influence(df, df.pw.to_numpy(float))
    res = ik.EstimateResult.from_influence(pd.Series([r], index=["api00/api99"]), psi, design(df), n_params=1)
    np.testing.assert_allclose(res.coef.iloc[0], ref["estimate"][0], rtol=1e-12)
    np.testing.assert_allclose(res.se.iloc[0], ref["se"][0], rtol=1e-10)
    assert res.df_inference.iloc[0] == pytest.approx(ref["df"] if case != "apiclus1_nofpc/ratio/api00_api99" else 14)
    assert res.conventions["kind"] in ("iid", "cluster", "survey")
    assert res.conventions["description"] == res.vcov_convention
    tidy = res.tidy()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


def test_from_influence_design_counts_and_rules():
    df = pd.read_csv(REF_DIR / "apistrat.csv")
    d = ik.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    _, psi = _ratio_influence(df, df.pw.to_numpy(float))
    c = ik.EstimateResult.from_influence([1.0], psi, d).conventions
    assert (c["n_strata"], c["n_psu"], c["df_rule"], c["factor_rule"]) == (3, 200, "#PSU-#strata", "(1-f_h)*n_h/(n_h-1)")
    ml = ik.EstimateResult.from_influence([1.0], psi, "stata_ml").conventions
    assert ml["factor_rule"] == "n/(n-1)" and ml["factor"] == pytest.approx(200 / 199)
    with pytest.raises(ValueError, match="psi has 2 columns"):
        ik.EstimateResult.from_influence([1.0], np.ones((5, 2)), "HC1")
    with pytest.raises(ValueError, match="non-finite"):
        ik.EstimateResult.from_influence([1.0], np.array([1.0, np.nan, 2.0]), "HC1")
    with pytest.raises(ValueError, match="unknown variance design"):
        ik.EstimateResult.from_influence([1.0], psi, "HC7")


@pytest.fixture(scope="module")
def thornton():
    return ik.datasets.load("thornton_hiv")


@pytest.mark.parametrize("start, target", [
    (dict(), dict(cluster="villnum")),
    (dict(cluster="villnum"), dict(vcov="HC1")),
    (dict(cluster="villnum"), dict(vcov="HC0")),
    (dict(cluster="villnum"), dict(vcov="CR0")),
    (dict(), dict(vcov={"CRV1": "villnum"})),
    (dict(weights="age"), dict(cluster="villnum")),
])
def test_with_vcov_without_refit_equals_a_fresh_fit(thornton, start, target):
    df = thornton.dropna(subset=["got", "any", "age", "distvct", "villnum"])
    fit = ik.ols("got ~ any + age + distvct", df, **start)
    fast = fit.with_vcov(**target)
    kw = dict(start, **target)
    v = kw.get("vcov")
    if isinstance(v, dict) or (isinstance(v, str) and not v.upper().startswith("CR")):
        kw.pop("cluster", None)  # a non-cluster variance (or the dict form, which names its cluster)
    ref = ik.ols("got ~ any + age + distvct", df, **kw)
    np.testing.assert_array_equal(fast.coef.to_numpy(), ref.coef.to_numpy())
    np.testing.assert_allclose(fast.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(fast.df_inference.to_numpy(), ref.df_inference.to_numpy())
    assert fast.vcov_convention == ref.vcov_convention
    assert fast.n_clusters == ref.n_clusters
    assert fit._variance_without_refit(target.get("vcov"), target.get("cluster"), None) is not None


def test_with_vcov_keeps_the_estimation_sample(thornton):
    """Missing cluster values drop rows at fit time; with_vcov('HC3') must not bring them back (issue 13 §4)."""
    fit = ik.ols("got ~ any + age + distvct", thornton, cluster="villnum")
    for v in ("HC3", "HC1", "iid", "CR2"):
        other = fit.with_vcov(v, cluster="villnum" if v == "CR2" else None)
        assert other.nobs == fit.nobs
        np.testing.assert_array_equal(other.coef.to_numpy(), fit.coef.to_numpy())
    g = ik.logit("got ~ any + age", thornton, cluster="villnum")
    assert g.with_vcov("HC1").nobs == g.nobs
    np.testing.assert_array_equal(g.with_vcov("HC1").coef.to_numpy(), g.coef.to_numpy())
    # a new cluster variable with missing values on the sample is an error, never a silent new sample
    df = thornton.assign(newc=thornton.villnum.where(thornton.index % 7 != 0))
    fit2 = ik.ols("got ~ any + age + distvct", df)
    with pytest.raises(ValueError, match="never changes the sample"):
        fit2.with_vcov(cluster="newc")


def test_with_vcov_on_a_design_fit():
    df = pd.read_csv(REF_DIR / "apistrat.csv")
    d = ik.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    fit = ik.ols("api00 ~ ell + meals", df, design=d)
    assert fit.with_vcov() is fit
    hc1 = fit.with_vcov("HC1")
    ref = ik.ols("api00 ~ ell + meals", df, weights="pw", weight_type="probability", vcov="HC1")
    np.testing.assert_allclose(hc1.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("family", ["logit", "probit", "poisson"])
@pytest.mark.parametrize("ssc", [None, "stata"])
def test_glm_with_vcov_without_refit_equals_a_fresh_fit(thornton, family, ssc):
    df = thornton.dropna(subset=["got", "any", "age", "villnum"])
    fit = getattr(ik, family)("got ~ any + age", df, ssc=ssc)
    fast = fit.with_vcov(cluster="villnum")
    assert fit._scores_parts is not None
    ref = getattr(ik, family)("got ~ any + age", df, cluster="villnum", ssc=ssc)
    np.testing.assert_array_equal(fast.coef.to_numpy(), ref.coef.to_numpy())
    np.testing.assert_allclose(fast.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-12)
    assert np.isinf(fast.df_inference).all()
    assert fast.vcov_convention == ref.vcov_convention
    back = fast.with_vcov("HC1")
    ref1 = getattr(ik, family)("got ~ any + age", df, vcov="HC1", ssc=ssc)
    np.testing.assert_allclose(back.vcov.to_numpy(), ref1.vcov.to_numpy(), rtol=1e-12)
    assert back.vcov_convention == ref1.vcov_convention
