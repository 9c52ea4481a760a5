"""ik.change / ik.disaggregate / rf.evaluate on replicate-weight designs, against R ``survey`` stored values.

tests/reference/r/monitoring/make_change_reference.R (section "Replicate-weight designs") builds JK1, JKn,
BRR, Fay (rho 0.3) and bootstrap replicate designs on change_panel.csv (the combined replicate weights are
change_repweights.csv) and stores svyby(~y, ~sex + round, rdes, svymean, covmat=TRUE) contrasts: the
absolute change (svycontrast, linear), the relative change endline/baseline − 1 (delta method on
vcov(svyby)), the gap F − M at endline, and df = degf(rdes) (rank of the replicate weights − 1).
Tolerance 1e-8 relative (the replicate weights are stored to 12 significant digits and read back by both).
Convention: R's svrepdesign(combined.weights=TRUE, mse=FALSE) variance scale · Σ_r rscale_r (θ_r − θ̄)².
"""
import json
import pathlib

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = pathlib.Path(__file__).resolve().parents[1] / "reference" / "r" / "monitoring"
REF = json.loads((REF_DIR / "change_replicate_reference.json").read_text())
PANEL = pd.concat([pd.read_csv(REF_DIR / "change_panel.csv"), pd.read_csv(REF_DIR / "change_repweights.csv")], axis=1)
DESIGNS = sorted(REF["designs"])


def _design(name, data=PANEL):
    py = REF["designs"][name]["python"]
    kw = dict(replicate_type=py["replicate_type"], scale=py["scale"])
    if py["replicate_type"] == "JKn":
        kw["rscales"] = py["rscales"]
    if py["replicate_type"] == "Fay":
        kw = dict(replicate_type="Fay", fay_rho=py["fay_rho"])  # R's default scale 1/(R (1 − rho)²)
    if py["replicate_type"] == "BRR":
        kw = dict(replicate_type="BRR")  # R's default scale 1/R
    return ik.SurveyDesign(data, weights="weight", replicate_weights=list(py["columns"]), **kw)


@pytest.mark.parametrize("name", DESIGNS)
@pytest.mark.parametrize("case", ["income_sex_0_2", "school_sex_0_1"])
def test_change_by_group_matches_r_svrepdesign(name, case):
    ref = REF["designs"][name][case]
    des = _design(name)
    for kind in ("absolute", "relative"):
        res = ik.change(PANEL, outcome=ref["outcome"], period="round", baseline=ref["baseline"], endline=ref["endline"],
                        by="sex", design=des, kind=kind)
        tab = res.table().set_index("sex").loc[ref["groups"]]
        np.testing.assert_allclose(tab["change"], ref[kind], rtol=1e-8)
        np.testing.assert_allclose(tab["std_error"], ref[f"{kind}_se"], rtol=1e-8)
        np.testing.assert_allclose(tab["baseline"], ref["baseline_means"], rtol=1e-10)
        np.testing.assert_allclose(tab["baseline_se"], ref["baseline_se"], rtol=1e-8)
        assert (tab["df"] == REF["designs"][name]["degf"]).all()
        lo, hi = res.conf_int().to_numpy().T
        from scipy import stats

        t = stats.t.ppf(0.975, REF["designs"][name]["degf"])
        np.testing.assert_allclose(lo, np.asarray(ref[kind]) - t * np.asarray(ref[f"{kind}_se"]), rtol=1e-8)
        np.testing.assert_allclose(hi, np.asarray(ref[kind]) + t * np.asarray(ref[f"{kind}_se"]), rtol=1e-8)


@pytest.mark.parametrize("name", DESIGNS)
def test_disaggregate_change_and_gap_match_r_svrepdesign(name):
    ref = REF["designs"][name]["income_sex_0_2"]
    res = ik.disaggregate(PANEL, outcomes="income", by="sex", period="round", baseline=0, endline=2, design=_design(name),
                          reference={"sex": "M"})
    tab = res.table()
    sub = tab[tab.dimension == "sex"].set_index("group").loc[ref["groups"]]
    np.testing.assert_allclose(sub["change"], ref["absolute"], rtol=1e-8)
    np.testing.assert_allclose(sub["change_se"], ref["absolute_se"], rtol=1e-8)
    np.testing.assert_allclose(sub["relative_se"], ref["relative_se"], rtol=1e-8)
    np.testing.assert_allclose([sub.loc["F", "gap"], sub.loc["F", "gap_se"]], [ref["gap_F_minus_M"], ref["gap_se"]], rtol=1e-8)
    assert (sub["change_df"] == REF["designs"][name]["degf"]).all()
    overall = REF["designs"][name]["school_all_1_2"]
    one = ik.change(PANEL, outcome="school", period="round", baseline=1, endline=2, design=_design(name)).table().iloc[0]
    np.testing.assert_allclose([one["change"], one["std_error"]], [overall["absolute"], overall["absolute_se"]], rtol=1e-8)


def test_results_framework_actuals_use_the_replicate_variance():
    """rf.evaluate's design actuals per period × group are the replicate-design domain means: R svyby's
    baseline means and SEs (round 0, by sex) and df = degf(rdes)."""
    ref = REF["designs"]["jkn"]["income_sex_0_2"]
    ind = pd.DataFrame({"id": ["inc"], "name": ["Income"], "unit": [""], "direction": ["increase"], "baseline": [3.5],
                        "target": [4.5], "target_period": [2], "column": ["income"], "statistic": ["mean"]})
    t = ik.ResultsFramework(ind).evaluate(PANEL, period="round", by="sex", design=_design("jkn")).table()
    t = t[(t["dimension"] == "sex") & (t["period"] == 0)].set_index("group").loc[ref["groups"]]
    np.testing.assert_allclose(t["estimate"], ref["baseline_means"], rtol=1e-10)
    np.testing.assert_allclose(t["std_error"], ref["baseline_se"], rtol=1e-8)
    assert (t["df"] == REF["designs"]["jkn"]["degf"]).all()


def test_replicate_design_bad_input():
    des = _design("jk1")
    with pytest.raises(ValueError, match="data must be the DataFrame the design was built on"):
        ik.change(PANEL.iloc[::-1], outcome="income", period="round", baseline=0, endline=2, design=des)
    with pytest.raises(ValueError, match="data must be the DataFrame the design was built on"):
        ik.disaggregate(PANEL.iloc[:100], outcomes="income", by="sex", period="round", design=des)
    with pytest.raises(ValueError, match="leave unit_id unset"):
        ik.change(PANEL, outcome="income", period="round", baseline=0, endline=2, design=des, unit_id="hh")
    with pytest.raises(TypeError, match="design must be an ik.SurveyDesign"):
        ik.disaggregate(PANEL, outcomes="income", by="sex", period="round", design="jk1")
    bad = PANEL.copy()
    bad.loc[3, "jk1_02"] = np.nan
    with pytest.raises(ValueError):
        _design("jk1", bad)
    inf = PANEL.copy()
    inf.loc[5, "income"] = np.inf
    with pytest.raises(ValueError, match="infinite value at row 5"):
        ik.change(inf, outcome="income", period="round", baseline=0, endline=2, design=_design("jk1", inf))
    before = PANEL.copy()
    ik.disaggregate(PANEL, outcomes=["income", "school"], by="sex", period="round", design=des)
    pd.testing.assert_frame_equal(PANEL, before)
