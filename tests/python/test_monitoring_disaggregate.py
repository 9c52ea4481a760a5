"""ik.disaggregate: every number against a reference.

- round means and intervals: statsmodels DescrStatsW.tconfint_mean (1e-10);
- change per group: ik.change for the same group (itself checked against statsmodels and R survey);
- gap to the reference group: statsmodels Welch t (iid) and R survey svycontrast (design; stored in
  tests/reference/r/monitoring/change_reference.json), 1e-10;
- adjusted p-values: statsmodels multipletests (holm, bonferroni, fdr_bh), 1e-12.
"""
import json
import pathlib

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = pathlib.Path(__file__).resolve().parents[1] / "reference" / "r" / "monitoring"
REF = json.loads((REF_DIR / "change_reference.json").read_text())
PANEL = pd.read_csv(REF_DIR / "change_panel.csv")


def _data(seed=11, n=900):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"round": rng.choice([0, 1, 2], n), "sex": rng.choice(["F", "M"], n),
                       "area": rng.choice(["rural", "urban", "peri"], n)})
    df["school"] = (rng.random(n) < 0.5 + 0.1 * df["round"] - 0.1 * (df["area"] == "rural")).astype(float)
    df["income"] = rng.lognormal(1 + 0.1 * df["round"], 0.5)
    return df


def test_rounds_change_and_gap_match_peers():
    sm = pytest.importorskip("statsmodels.stats.weightstats")
    df = _data()
    res = ik.disaggregate(df, outcomes=["school", "income"], by=["sex", "area"], period="round", baseline=0, endline=2,
                          reference={"area": "urban"})
    tab = res.table()
    assert len(tab) == 2 * (1 + 2 + 3)
    for _, row in tab.iterrows():
        rows = df if row.dimension == "all" else df[df[row.dimension] == row.group]
        y0 = rows.loc[rows["round"] == 0, row.indicator].to_numpy()
        y1 = rows.loc[rows["round"] == 2, row.indicator].to_numpy()
        lo, hi = sm.DescrStatsW(y1).tconfint_mean()
        np.testing.assert_allclose([row.endline, row.endline_low, row.endline_high], [y1.mean(), lo, hi], rtol=1e-10)
        lo, hi = sm.DescrStatsW(y0).tconfint_mean()
        np.testing.assert_allclose([row.baseline_low, row.baseline_high], [lo, hi], rtol=1e-10)
        ch = ik.change(rows, outcome=row.indicator, period="round", baseline=0, endline=2).table().iloc[0]
        np.testing.assert_allclose([row.change, row.change_low, row.change_high, row.change_p],
                                   [ch.change, ch.conf_low, ch.conf_high, ch.p_value], rtol=1e-12)
        rel = ik.change(rows, outcome=row.indicator, period="round", baseline=0, endline=2, kind="relative").table().iloc[0]
        np.testing.assert_allclose([row.relative_change, row.relative_low, row.relative_high],
                                   [rel.change, rel.conf_low, rel.conf_high], rtol=1e-12)
        if row.dimension != "all" and not row.reference:
            refg = "urban" if row.dimension == "area" else "F"
            yr = df.loc[(df[row.dimension] == refg) & (df["round"] == 2), row.indicator].to_numpy()
            cm = sm.CompareMeans(sm.DescrStatsW(y1), sm.DescrStatsW(yr))
            t, p, _ = cm.ttest_ind(usevar="unequal")
            lo, hi = cm.tconfint_diff(usevar="unequal")
            np.testing.assert_allclose([row.gap, row.gap_p, row.gap_low, row.gap_high], [y1.mean() - yr.mean(), p, lo, hi],
                                       rtol=1e-9)
    assert tab.loc[(tab.dimension == "sex") & (tab.group == "F"), "reference"].all()
    assert tab.loc[tab.reference, "gap"].eq(0).all() and tab.loc[tab.reference, "gap_p"].isna().all()


@pytest.mark.parametrize("method, sm_name", [("holm", "holm"), ("bonferroni", "bonferroni"), ("bh", "fdr_bh")])
def test_adjusted_pvalues_match_statsmodels_multipletests(method, sm_name):
    mt = pytest.importorskip("statsmodels.stats.multitest")
    df = _data(seed=4)
    res = ik.disaggregate(df, outcomes=["school", "income"], by=["sex", "area"], period="round", adjust=method)
    tab = res.table()
    fam = tab[tab.dimension != "all"]
    np.testing.assert_allclose(fam["change_p_adjusted"], mt.multipletests(fam["change_p"], method=sm_name)[1], rtol=1e-12)
    gfam = fam[~fam.reference]
    np.testing.assert_allclose(gfam["gap_p_adjusted"], mt.multipletests(gfam["gap_p"], method=sm_name)[1], rtol=1e-12)
    p = np.random.default_rng(1).random(40) ** 3
    np.testing.assert_allclose(ik.adjust_pvalues(p, method), mt.multipletests(p, method=sm_name)[1], rtol=1e-12)


def test_design_gap_and_change_match_r_survey():
    d = REF["design"]
    des = ik.SurveyDesign(PANEL, weights=d["weights"], strata=d["strata"], psu=d["psu"], nest=d["nest"])
    for g in REF["gaps"]:
        res = ik.disaggregate(PANEL, outcomes=g["outcome"], by="sex", period="round", baseline=0, endline=g["round"],
                              design=des, reference={"sex": "M"})
        row = res.table().query("group == 'F'").iloc[0]
        np.testing.assert_allclose([row.gap, row.gap_se], [g["gap_F_minus_M"], g["se"]], rtol=1e-10)
    case = next(c for c in REF["cases"] if c["name"] == "income_sex_0_2")
    res = ik.disaggregate(PANEL, outcomes="income", by="sex", period="round", baseline=0, endline=2, design=des).table()
    sub = res[res.dimension == "sex"].set_index("group")
    np.testing.assert_allclose(sub.loc[case["groups"], "change"], case["absolute"], rtol=1e-10)
    np.testing.assert_allclose(sub.loc[case["groups"], "relative_se"], case["relative_se"], rtol=1e-10)
    # one round, no period: the gap of domain means of that round's rows
    one = ik.disaggregate(PANEL, outcomes="income", by="sex", design=des)
    est = des.mean("income", by="sex")
    np.testing.assert_allclose(one.table().query("dimension == 'sex'")["endline"], est.coef.to_numpy(), rtol=1e-12)


def test_renderings_and_data_unchanged():
    df = _data()
    before = df.copy()
    res = ik.disaggregate(df, outcomes={"school": "School attendance", "income": "Income"}, by="sex", period="round")
    pd.testing.assert_frame_equal(df, before)
    md = res.to_markdown()
    assert "| Indicator | Group |" in md and "School attendance" in md and "Holm" in md
    html = res.to_html()
    assert html.count("<tr") == 1 + 2 * 3 + len(res.notes()) + 1
    assert "\\toprule" in res.to_latex()
    frame = res.to_dataframe()
    assert list(frame.columns[:2]) == ["Indicator", "Group"] and len(frame) == 6
    assert "reference" in frame["Gap to reference"].tolist()
    lev = ik.disaggregate(df, outcomes="income", by="area")
    assert "Estimate" in lev.to_dataframe().columns and "change" not in lev.table().columns


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(outcomes=[]), ValueError, "outcomes is empty"),
    (dict(by=[]), ValueError, "by is empty"),
    (dict(outcomes="nope"), ValueError, "unknown column 'nope'"),
    (dict(by="nope"), ValueError, "unknown column 'nope'"),
    (dict(adjust="sidak"), ValueError, "adjust must be one of"),
    (dict(reference={"area": "x"}), ValueError, "not one of the by columns"),
    (dict(reference={"sex": "X"}), ValueError, "reference level 'X' is not a level"),
    (dict(baseline=0), ValueError, "need period="),
    (dict(period="round", baseline=7), ValueError, "no rows have round == 7"),
    (dict(outcomes="sex"), TypeError, "must be numeric"),
    (dict(level=0), ValueError, "level must be in"),
])
def test_bad_input_grid(kwargs, exc, msg):
    args = dict(outcomes="school", by="sex")
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        ik.disaggregate(_data(), **args)


@pytest.mark.parametrize("period", [None, "round"])
def test_infinite_outcome_refused_with_its_row(period):
    df = _data().set_index(pd.RangeIndex(100, 1000))
    row = df.index[df["round"] == 1][3]  # a round the table does not compare: still refused, as ik.change does
    df.loc[row, "income"] = -np.inf
    with pytest.raises(ValueError, match=f"outcome column 'income' has an infinite value at row {row}"):
        ik.disaggregate(df, outcomes=["school", "income"], by="sex", period=period, **(dict(baseline=0, endline=2) if period else {}))


def test_missing_outcomes_skipped_per_column():
    """A NaN leaves only its own column's cell; the moments equal pandas' on the complete values."""
    df = _data(seed=5)
    df.loc[df.index[::7], "income"] = np.nan
    tab = ik.disaggregate(df, outcomes=["school", "income"], by="area", period="round", baseline=0, endline=2).table()
    for _, r in tab[tab.dimension == "area"].iterrows():
        y = df.loc[(df.area == r.group) & (df["round"] == 2), r.indicator].dropna()
        np.testing.assert_allclose([r.endline, r.endline_se, r.n_endline], [y.mean(), y.std() / np.sqrt(len(y)), len(y)], rtol=1e-12)
    assert any("income: " in n and "missing outcome" in n for n in ik.disaggregate(
        df, outcomes=["school", "income"], by="area", period="round", baseline=0, endline=2).notes())
