"""ik.change: design-based change against R survey (stored), iid cases against statsmodels (live).

References:
- tests/reference/r/monitoring/change_reference.json, written by make_change_reference.R beside it
  (svyby(covmat=TRUE) + svycontrast; relative change by the delta method). Tolerance 1e-10 relative.
- statsmodels ttest_ind(usevar="unequal") (Welch) for repeated cross-sections and ttest_rel /
  DescrStatsW for the paired panel: estimate, SE, df, p-value and interval to 1e-10.
"""
import json
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = pathlib.Path(__file__).resolve().parents[1] / "reference" / "r" / "monitoring"
REF = json.loads((REF_DIR / "change_reference.json").read_text())
PANEL = pd.read_csv(REF_DIR / "change_panel.csv")


def _design():
    d = REF["design"]
    return ik.SurveyDesign(PANEL, weights=d["weights"], strata=d["strata"], psu=d["psu"], nest=d["nest"])


def _label(row, by):
    return ".".join(str(row[b]) for b in by) if by else "all"


@pytest.mark.parametrize("case", REF["cases"], ids=[c["name"] for c in REF["cases"]])
@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_design_change_matches_r_survey(case, kind):
    des = _design()
    by = list(case["by"]) or None
    res = ik.change(PANEL, outcome=case["outcome"], period="round", baseline=case["baseline"], endline=case["endline"],
                    by=by, design=des, kind=kind)
    tab = res.table()
    labels = [_label(r, case["by"]) for _, r in tab.iterrows()]
    order = [labels.index(g) for g in case["groups"]]
    est = tab["change"].to_numpy()[order]
    se = tab["std_error"].to_numpy()[order]
    np.testing.assert_allclose(est, case[kind], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(se, case[f"{kind}_se"], rtol=1e-10, atol=1e-13)
    assert (tab["df"] == case["df"]).all()


def test_design_change_covariance_between_groups_is_the_contrast_of_domain_covariances():
    des = _design()
    res = ik.change(PANEL, outcome="income", period="round", baseline=0, endline=2, by="sex", design=des)
    dom = des.mean("income", by=["sex", "round"])
    V = dom.vcov.to_numpy()
    names = list(dom.coef.index)
    i = {(s, r): names.index(f"income [sex={s}, round={r}]") for s in "FM" for r in (0, 2)}
    L = np.zeros((2, len(names)))
    for g, s in enumerate("FM"):
        L[g, i[(s, 2)]], L[g, i[(s, 0)]] = 1, -1
    np.testing.assert_allclose(res.vcov.to_numpy(), L @ V @ L.T, rtol=1e-12, atol=1e-15)


def _cross_sections(seed=3):
    rng = np.random.default_rng(seed)
    n = 400
    df = pd.DataFrame({"round": rng.choice(["b", "e"], n), "g": rng.choice(["x", "y", "z"], n)})
    df["y"] = rng.normal(10, 2, n) + (df["round"] == "e") * 0.7 + (df["g"] == "y") * 1.0
    return df


def test_independent_change_matches_statsmodels_welch():
    sm = pytest.importorskip("statsmodels.stats.weightstats")
    df = _cross_sections()
    res = ik.change(df, outcome="y", period="round", baseline="b", endline="e", by="g")
    tab = res.table()
    for _, row in tab.iterrows():
        y1 = df.loc[(df.g == row.g) & (df["round"] == "e"), "y"].to_numpy()
        y0 = df.loc[(df.g == row.g) & (df["round"] == "b"), "y"].to_numpy()
        cm = sm.CompareMeans(sm.DescrStatsW(y1), sm.DescrStatsW(y0))
        t, p, dfw = cm.ttest_ind(usevar="unequal")
        lo, hi = cm.tconfint_diff(usevar="unequal")
        np.testing.assert_allclose(row.change, y1.mean() - y0.mean(), rtol=1e-12)
        np.testing.assert_allclose(row.change / row.std_error, t, rtol=1e-10)
        np.testing.assert_allclose(row.df, dfw, rtol=1e-10)
        np.testing.assert_allclose(row.p_value, p, rtol=1e-9)
        np.testing.assert_allclose([row.conf_low, row.conf_high], [lo, hi], rtol=1e-10)


def _panel(seed=5, n=150):
    rng = np.random.default_rng(seed)
    base = rng.normal(0.4, 0.1, n)
    df = pd.DataFrame({"id": np.tile(np.arange(n), 2), "t": np.repeat([2020, 2023], n),
                       "sex": np.tile(rng.choice(["F", "M"], n), 2)})
    df["y"] = np.concatenate([base, base + 0.05 + rng.normal(0, 0.08, n)])
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)  # rows in any order


def test_paired_change_matches_statsmodels_ttest_rel():
    sm = pytest.importorskip("statsmodels.stats.weightstats")
    df = _panel()
    res = ik.change(df, outcome="y", period="t", baseline=2020, endline=2023, unit_id="id", by="sex")
    tab = res.table()
    for _, row in tab.iterrows():
        sub = df[df.sex == row.sex].pivot(index="id", columns="t", values="y")
        d = sub[2023].to_numpy() - sub[2020].to_numpy()
        ds = sm.DescrStatsW(d)
        t, p, dfp = ds.ttest_mean(0)
        lo, hi = ds.tconfint_mean()
        np.testing.assert_allclose(row.change, d.mean(), rtol=1e-12)
        np.testing.assert_allclose(row.change / row.std_error, t, rtol=1e-10)
        assert row.df == dfp
        np.testing.assert_allclose(row.p_value, p, rtol=1e-9)
        np.testing.assert_allclose([row.conf_low, row.conf_high], [lo, hi], rtol=1e-10)
        assert row.n_baseline == row.n_endline == len(d)


def test_paired_drops_units_seen_once_and_says_so():
    df = _panel()
    df = df.drop(df.index[(df["t"] == 2023) & (df["id"] < 10)])
    res = ik.change(df, outcome="y", period="t", baseline=2020, endline=2023, unit_id="id")
    assert res.table()["n_baseline"].iloc[0] == 140
    assert any("10 unit-round(s) without a partner" in n for n in res.notes())


def test_relative_change_delta_and_fieller():
    df = _panel()
    res = ik.change(df, outcome="y", period="t", baseline=2020, endline=2023, unit_id="id", kind="relative")
    wide = df.pivot(index="id", columns="t", values="y")
    y0, y1 = wide[2020].to_numpy(), wide[2023].to_numpy()
    n = len(y0)
    R = y1.mean() / y0.mean()
    C = np.cov(np.vstack([y0, y1])) / n  # ddof 1
    var = (C[1, 1] - 2 * R * C[0, 1] + R * R * C[0, 0]) / y0.mean() ** 2
    np.testing.assert_allclose(res.coef.iloc[0], R - 1, rtol=1e-12)
    np.testing.assert_allclose(res.se.iloc[0] ** 2, var, rtol=1e-10)
    fie = ik.change(df, outcome="y", period="t", baseline=2020, endline=2023, unit_id="id", kind="relative",
                    interval="fieller")
    lo, hi = fie.conf_int().iloc[0]
    from scipy import stats

    tq = stats.t.ppf(0.975, n - 1)
    for bound in (lo + 1, hi + 1):  # at a Fieller bound the t statistic of y1 - R y0 equals the t quantile
        d = y1 - bound * y0
        np.testing.assert_allclose(abs(d.mean()) / (d.std(ddof=1) / np.sqrt(n)), tq, rtol=1e-9)
    assert lo < fie.coef.iloc[0] < hi


def test_fieller_unbounded_when_baseline_not_distinguishable_from_zero():
    df = pd.DataFrame({"t": [0] * 4 + [1] * 4, "y": [-1.0, 1.0, 0.5, -0.4, 2.0, 3.0, 2.5, 2.2]})
    res = ik.change(df, outcome="y", period="t", baseline=0, endline=1, kind="relative", interval="fieller")
    lo, hi = res.conf_int().iloc[0]
    assert lo == -np.inf and hi == np.inf


def test_data_not_modified_and_summary_renders():
    df = _panel()
    before = df.copy()
    res = ik.change(df, outcome="y", period="t", baseline=2020, endline=2023, unit_id="id", by="sex")
    pd.testing.assert_frame_equal(df, before)
    s = res.summary()
    assert "change" in str(s) and "<table" in s.as_html()
    assert list(res.tidy().columns[:1]) == ["sex"]


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(outcome="nope"), ValueError, "unknown column 'nope'"),
    (dict(period="nope"), ValueError, "unknown column 'nope'"),
    (dict(baseline=1999), ValueError, "no rows have t == 1999"),
    (dict(endline=2020), ValueError, "same period"),
    (dict(kind="ratio"), ValueError, "kind must be"),
    (dict(interval="fieller"), ValueError, "Fieller interval is for kind='relative'"),
    (dict(by="y2"), ValueError, "by column 'y2' has missing values"),
    (dict(outcome="s"), TypeError, "must be numeric"),
    (dict(outcome="inf"), ValueError, "infinite value"),
    (dict(level=1.5), ValueError, "level must be in"),
    (dict(unit_id="dup"), ValueError, "more than one row in one round"),
    (dict(design="x"), TypeError, "design must be an ik.SurveyDesign"),
])
def test_bad_input_grid(kwargs, exc, msg):
    df = _panel()
    df["y2"] = df["y"].where(df.index > 3)
    df["s"] = "a"
    df["inf"] = np.where(df.index == 7, np.inf, 1.0)
    df["dup"] = 1
    args = dict(outcome="y", period="t", baseline=2020, endline=2023)
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        ik.change(df, **args)


def test_edge_cases_one_member_group_all_successes_and_missing_outcomes():
    df = pd.DataFrame({"t": [0, 0, 0, 1, 1, 1, 1], "g": ["a", "a", "b", "a", "a", "b", "b"],
                       "y": [1.0, 1.0, 0.0, 1.0, 1.0, 1.0, np.nan]})
    with pytest.warns(ik.ImpactkitWarning, match="fewer than 2 observations"):
        res = ik.change(df, outcome="y", period="t", baseline=0, endline=1, by="g")
    tab = res.table()
    assert tab.loc[0, "change"] == 0 and tab.loc[0, "std_error"] == 0  # all successes in both rounds
    assert np.isnan(tab.loc[1, "std_error"]) and tab.loc[1, "change"] == 1.0
    assert any("1 row(s) with a missing outcome" in n for n in res.notes())
    with pytest.raises(TypeError):
        ik.change([1, 2], outcome="y", period="t", baseline=0, endline=1)
    with pytest.raises(ValueError, match="no rows"):
        ik.change(df.iloc[:0], outcome="y", period="t", baseline=0, endline=1)


def test_design_refuses_data_other_than_its_own_and_unit_id():
    des = _design()
    with pytest.raises(ValueError, match="the DataFrame the design was built on"):
        ik.change(PANEL.iloc[:100], outcome="income", period="round", baseline=0, endline=2, design=des)
    with pytest.raises(ValueError, match="leave unit_id unset"):
        ik.change(PANEL, outcome="income", period="round", baseline=0, endline=2, design=des, unit_id="hh")


def test_missing_outcomes_are_outside_the_domains_as_r_subset():
    """school_attendance is NaN without school-age children: R subset(design, !is.na(y)) + svyby, 1e-10."""
    mo = REF["missing_outcome"]
    mp = ik.datasets.load("monitoring_panel")
    des = ik.SurveyDesign(mp, weights="weight", strata="district", psu="village", nest=True)
    res = ik.change(mp, outcome="school_attendance", period="round", baseline=0, endline=3, by="head_sex", design=des)
    tab = res.table().set_index("head_sex")
    for g in ("F", "M"):
        np.testing.assert_allclose([tab.loc[g, "change"], tab.loc[g, "std_error"]],
                                   [mo["change_by_sex"][g]["change"], mo["change_by_sex"][g]["se"]], rtol=1e-10)
    assert (tab["df"] == mo["df"]).all()
    assert any("outside the domains" in n for n in res.notes())
    rf = ik.ResultsFramework(ik.datasets.monitoring.monitoring_framework().iloc[:1])
    ev = rf.evaluate(mp, period="round", design=des).table()
    np.testing.assert_allclose(ev["estimate"], mo["round_mean"], rtol=1e-10)
    np.testing.assert_allclose(ev["std_error"], mo["round_se"], rtol=1e-10)
