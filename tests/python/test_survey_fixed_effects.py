"""ik.ols(..., design=) with absorbed fixed effects against stored R `survey` values.

Reference: tests/reference/r/survey/survey_fe_reference.json, written by
tests/reference/r/survey/make_survey_fe_reference.R (R survey's svyglm with the fixed effects as
factor dummies; gaussian family) from the CSV files of that folder. By Frisch–Waugh–Lovell the
slopes and their linearised SEs equal the dummy model's.

Tolerances: slopes and SEs rel 1e-10 (R solves the dummy model by QR, impactkit demeans to fe_tol,
set to 1e-14 here); df exact.
df convention: by default (ssc fixef_k="nonnested") a fixed-effect dimension nested in the primary
sampling units counts one level in k of #PSU − #strata − k + 1 (df_nonnested); with
ssc=ik.SSC(fixef_k="full") k counts every absorbed level as svyglm counts the dummies (df_svyglm,
on cases without singleton levels, which impactkit drops and svyglm keeps as zero-score dummies).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "r" / "survey"
REF = json.loads((REF_DIR / "survey_fe_reference.json").read_text())
CASES = REF["cases"]
RTOL = 1e-10


@lru_cache(maxsize=None)
def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name)


def _fit(case, **kw):
    spec = REF["designs"][case["design"]]
    data = _data(spec["file"]).copy()
    design = ik.SurveyDesign(data, **spec["python"])
    return ik.ols(case["formula"], data, design=design, fe_tol=1e-14, **kw), data, design


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_svyglm_with_dummies(case):
    fit, data, _ = _fit(case)
    terms = case["terms"]
    np.testing.assert_allclose(fit.coef[terms].to_numpy(), case["estimate"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(fit.se[terms].to_numpy(), case["se"], rtol=RTOL, atol=0)
    assert fit.nobs + fit.n_singletons == case["nobs_used"]  # complete rows with positive weight
    assert fit.n_singletons == case["n_singletons"]
    df = fit.conventions["df"]
    assert df == case["df_nonnested"], (df, case["df_nonnested"])
    assert fit.conventions["df_rule"].startswith("#PSU")
    assert fit.vcov_type == "survey"


@pytest.mark.parametrize("case", [c for c in CASES if c["n_singletons"] == 0], ids=lambda c: c["id"])
def test_full_count_gives_svyglm_df(case):
    fit, _, _ = _fit(case, ssc=ik.SSC(fixef_k="full"))
    assert fit.conventions["df"] == case["df_svyglm"]
    np.testing.assert_allclose(fit.se[case["terms"]].to_numpy(), case["se"], rtol=RTOL, atol=0)


def test_absorbed_equals_dummies_in_impactkit():
    """The same model with C(fe) regressors (no absorption) gives the same slopes and SEs."""
    case = next(c for c in CASES if c["id"].startswith("apistrat_clus") and "awards" in c["id"])
    fit, data, design = _fit(case)
    dummies = ik.ols("api00 ~ ell + meals + C(stype) + C(awards)", data, design=design)
    for t in case["terms"]:
        assert fit.coef[t] == pytest.approx(dummies.coef[t], rel=1e-11)
        assert fit.se[t] == pytest.approx(dummies.se[t], rel=1e-10)


def test_nested_note_in_convention():
    case = next(c for c in CASES if c["id"].startswith("apiclus1_fpc") and c["id"].endswith("/dnum"))
    fit, _, _ = _fit(case)
    assert "nested in the primary sampling units" in fit.vcov_convention


def test_domain_rows_keep_design_psus():
    """Rows missing a regressor leave the fit but their PSUs stay in the design (R's domain rule):
    fitting on the complete rows of the data with the full design gives the same SEs."""
    case = next(c for c in CASES if c["id"].startswith("apiclus2_nofpc"))
    fit, data, design = _fit(case)
    assert fit.nobs_missing == 6
    sub = data[data["enroll"].notna()]
    again = ik.ols(case["formula"], sub, design=design, fe_tol=1e-14)
    np.testing.assert_allclose(again.se.to_numpy(), fit.se.to_numpy(), rtol=1e-12)


def test_caller_data_unchanged_and_weights_refused():
    case = CASES[0]
    spec = REF["designs"][case["design"]]
    data = _data(spec["file"]).copy()
    before = data.copy()
    design = ik.SurveyDesign(data, **spec["python"])
    ik.ols(case["formula"], data, design=design)
    pd.testing.assert_frame_equal(data, before)
    with pytest.raises(ValueError, match="either weights= or design="):
        ik.ols(case["formula"], data, design=design, weights="pw")
    with pytest.raises(ValueError, match="leave vcov and cluster unset"):
        ik.ols(case["formula"], data, design=design, cluster="dnum")
