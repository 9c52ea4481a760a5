"""ik.ResultsFramework: actuals against statsmodels (iid) and ik.SurveyDesign.mean (design; itself checked
against R survey), probabilities against scipy's t distribution, progress/achievement by their definitions
(1e-12), the status rule, rendering and the edge-case grid."""
import json
import pathlib

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = pathlib.Path(__file__).resolve().parents[1] / "reference" / "r" / "monitoring"
PANEL = pd.read_csv(REF_DIR / "change_panel.csv")

INDICATORS = [
    dict(id="1.1", name="School attendance", direction="increase", baseline=0.55, target=0.8, baseline_period=0,
         target_period=2, column="school", unit="share"),
    dict(id="1.2", name="Household income", direction="increase", baseline=3.5, target=4.5, baseline_period=0,
         target_period=3, column="income"),
    dict(id="2.1", name="Clinic stock-outs", direction="decrease", baseline=12, target=4),
]


def _eval(**kw):
    rf = ik.ResultsFramework(INDICATORS)
    actuals = pd.DataFrame({"id": ["2.1", "2.1"], "period": [1, 2], "value": [9.0, 5.0], "se": [1.5, 0.8]})
    return rf.evaluate(PANEL, period="round", actuals=actuals, **kw)


def test_iid_actuals_match_statsmodels_and_probabilities_scipy():
    sm = pytest.importorskip("statsmodels.stats.weightstats")
    from scipy import stats

    tab = _eval(by="sex").table()
    for _, r in tab[tab.id != "2.1"].iterrows():
        col = "school" if r.id == "1.1" else "income"
        sel = PANEL["round"] == r.period
        if r.dimension == "sex":
            sel &= PANEL["sex"] == r.group
        y = PANEL.loc[sel, col].to_numpy(dtype=float)
        d = sm.DescrStatsW(y)
        lo, hi = d.tconfint_mean()
        np.testing.assert_allclose([r.estimate, r.std_error, r.conf_low, r.conf_high], [y.mean(), d.std_mean, lo, hi], rtol=1e-10)
        ind = next(i for i in INDICATORS if i["id"] == r.id)
        frac = min(1.0, max(0.0, (r.period - ind["baseline_period"]) / (ind["target_period"] - ind["baseline_period"])))
        m = ind["baseline"] + frac * (ind["target"] - ind["baseline"])
        np.testing.assert_allclose(r.milestone, m, rtol=1e-12)
        np.testing.assert_allclose(r.probability_met, stats.t.sf((m - y.mean()) / d.std_mean, len(y) - 1), rtol=1e-9)
        np.testing.assert_allclose(r.progress, (y.mean() - ind["baseline"]) / (ind["target"] - ind["baseline"]), rtol=1e-12)
        np.testing.assert_allclose([r.achievement_low, r.achievement_high], [lo / ind["target"], hi / ind["target"]], rtol=1e-12)
        expected = "on track" if r.probability_met >= 0.8 else ("off track" if r.probability_met < 0.2 else "at risk")
        assert r.status == expected


def test_supplied_values_decrease_direction_and_normal_reference():
    from scipy import stats

    tab = _eval().table()
    r = tab[(tab.id == "2.1") & (tab.period == 2)].iloc[0]
    assert r.milestone == 4  # no baseline period: judged against the target
    np.testing.assert_allclose(r.probability_met, stats.norm.cdf((4 - 5.0) / 0.8), rtol=1e-9)
    np.testing.assert_allclose([r.conf_low, r.conf_high], [5 - stats.norm.ppf(0.975) * 0.8, 5 + stats.norm.ppf(0.975) * 0.8])
    np.testing.assert_allclose(r.progress, (5 - 12) / (4 - 12))


def test_design_actuals_equal_survey_domain_means():
    des = ik.SurveyDesign(PANEL, weights="weight", strata="stratum", psu="village", nest=True)
    rf = ik.ResultsFramework(INDICATORS[:2])
    tab = rf.evaluate(PANEL, period="round", by="rural", design=des).table()
    est = des.mean(["school", "income"], by=["rural", "round"])
    t = est.tidy()
    for _, r in tab[tab.dimension == "rural"].iterrows():
        col = "school" if r.id == "1.1" else "income"
        row = t[(t.term == col) & (t["rural"] == r.group) & (t["round"] == r.period)].iloc[0]
        np.testing.assert_allclose([r.estimate, r.std_error, r.conf_low, r.conf_high],
                                   [row.estimate, row.std_error, row.conf_low, row.conf_high], rtol=1e-12)
        assert r.df == des.df


def test_status_rule_is_configurable_and_described():
    strict = ik.StatusRule(on_track=0.95, off_track=0.5, trajectory="target")
    tab = _eval(rule=strict).table()
    assert (tab["milestone"] == tab["target"]).all()
    p = tab["probability_met"]
    assert ((p >= 0.95) == (tab.status == "on track")).all() and ((p < 0.5) == (tab.status == "off track")).all()
    assert "0.95" in strict.describe()
    with pytest.raises(ValueError, match="off_track <= on_track"):
        ik.StatusRule(on_track=0.3, off_track=0.6)


def test_renderings_plot_and_edge_cases():
    ev = _eval(by="sex")
    html = ev.to_html()
    assert "border-left:6px solid" in html and "School attendance" in html
    assert "| ID | Indicator |" in ev.to_markdown() and "\\toprule" in ev.to_latex()
    import matplotlib

    matplotlib.use("Agg")
    ax = ev.plot()
    assert len(ax.patches) == 3
    axes = ev.plot(kind="trend")
    assert len(axes) == 3
    # target equal to baseline: progress undefined; all successes: probability from the exact value
    df = pd.DataFrame({"t": [1, 1, 2, 2], "y": [1.0, 1.0, 1.0, 1.0]})
    rf = ik.ResultsFramework([dict(id="a", name="flat", direction="increase", baseline=1.0, target=1.0, column="y")])
    tab = rf.evaluate(df, period="t").table()
    assert tab["progress"].isna().all() and (tab["status"] == "on track").all()


@pytest.mark.parametrize("indicators, msg", [
    ([], "no indicators"),
    ([dict(id="a", name="x", direction="up", baseline=0, target=1)], "direction 'up'"),
    ([dict(id="a", name="x", direction="increase", baseline=0)], "lacks column"),
    ([dict(id="a", name="x", direction="increase", baseline=1, target=0)], "wrong side"),
    ([dict(id="a", name="x", direction="increase", baseline=np.nan, target=1)], "missing or non-numeric baseline"),
    ([dict(id="a", name="x", direction="increase", baseline=0, target=1)] * 2, "appears twice"),
])
def test_bad_indicator_tables(indicators, msg):
    with pytest.raises(ValueError, match=msg):
        ik.ResultsFramework(indicators)


def test_bad_evaluate_arguments():
    rf = ik.ResultsFramework(INDICATORS)
    with pytest.raises(ValueError, match="pass their values in actuals"):
        rf.evaluate(PANEL, period="round")
    with pytest.raises(ValueError, match="unknown column 'when'"):
        rf.evaluate(PANEL, period="when", actuals=pd.DataFrame({"id": [], "period": [], "value": [], "se": []}))
    with pytest.raises(ValueError, match="actuals lacks column"):
        rf.evaluate(PANEL, period="round", actuals=pd.DataFrame({"id": ["2.1"]}))
    with pytest.raises(TypeError):
        ik.ResultsFramework("nope")
    with pytest.raises(ValueError, match="kind must be"):
        _eval().plot(kind="pie")


def test_period_without_data_gives_no_data_status():
    rf = ik.ResultsFramework(INDICATORS[2:])
    ev = rf.evaluate(period="round", actuals=pd.DataFrame({"id": ["2.1", "2.1"], "period": [1, 2], "value": [9.0, np.nan],
                                                           "se": [1.5, np.nan]}))
    tab = ev.table().set_index("period")
    assert tab.loc[2, "status"] == "no data" and np.isnan(tab.loc[2, "probability_met"])
    assert tab.loc[1, "status"] in ("on track", "at risk", "off track")
    assert "no data" in str(ev.summary())


def test_statistic_column_is_checked():
    ind = [dict(INDICATORS[0], statistic="proportion"), dict(INDICATORS[1], statistic="mean")]
    ev = ik.ResultsFramework(ind).evaluate(PANEL, period="round").table()
    assert ev["id"].nunique() == 2
    with pytest.raises(ValueError, match="has values other than 0 and 1"):
        ik.ResultsFramework([dict(INDICATORS[1], statistic="proportion")]).evaluate(PANEL, period="round")
    with pytest.raises(ValueError, match="use 'mean' or 'proportion'"):
        ik.ResultsFramework([dict(INDICATORS[1], statistic="median")])
