"""Design effects under replicate-weight designs (JK1, bootstrap, BRR, Fay) against R survey.

Reference: tests/reference/r/survey/survey_repdeff_reference.json, written by
tests/reference/r/survey/make_survey_repdeff_reference.R (svymean / svytotal(..., deff=TRUE) and
svyby(..., svymean, deff=TRUE) on svrepdesign objects); the designs' Python arguments are those of
survey_reference.json under the same names.
Convention (R svymean.svyrep.design): deff = V_rep / (svyvar/n·(N − n)/N), ×N² for a total, n = all
rows of the (domain) design, N = Σ full-sample weights.
Tolerances: estimates and SEs rel 1e-10, deff rel 1e-10.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "r" / "survey"
REF = json.loads((REF_DIR / "survey_repdeff_reference.json").read_text())
DESIGNS = json.loads((REF_DIR / "survey_reference.json").read_text())["designs"]
RTOL = 1e-10


@pytest.mark.parametrize("case", REF["cases"], ids=[c["id"] for c in REF["cases"]])
def test_replicate_deff(case):
    spec = DESIGNS[case["design"]]
    data = pd.read_csv(REF_DIR / spec["data"])
    design = ik.SurveyDesign(data, **spec["python"])
    est = getattr(design, case["estimator"])(case["variable"], by=case["by"])
    if case["by"] is not None:  # order the domains as R
        tidy = est.tidy()
        order = [int(np.flatnonzero(tidy[case["by"]].astype(str).to_numpy() == d)[0]) for d in case["domains"]]
    else:
        order = list(range(len(case["terms"])))
    np.testing.assert_allclose(est.coef.to_numpy()[order], case["estimate"], rtol=RTOL)
    np.testing.assert_allclose(est.se.to_numpy()[order], case["se"], rtol=RTOL)
    np.testing.assert_allclose(est.deff.to_numpy()[order], case["deff"], rtol=RTOL)
