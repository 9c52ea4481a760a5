"""ik.panel_monitoring: retention with Wilson intervals (statsmodels proportion_confint, 1e-12), Pearson
chi-square (scipy chi2_contingency without correction, 1e-10), retention probabilities from the shared
logit (statsmodels Logit, 1e-6), balanced / reweighted means (numpy by definition, 1e-12), graduation."""
import pathlib

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = pathlib.Path(__file__).resolve().parents[1] / "reference" / "r" / "monitoring"
PANEL = pd.read_csv(REF_DIR / "change_panel.csv")


def _pm(**kw):
    args = dict(unit_id="hh", period="round", by="sex", covariates="income + rural", outcomes=["income", "school"],
                graduation=dict(column="income", threshold=4.0))
    args.update(kw)
    return ik.panel_monitoring(PANEL, **args)


def test_retention_and_chi2_match_statsmodels_and_scipy():
    smp = pytest.importorskip("statsmodels.stats.proportion")
    from scipy.stats import chi2_contingency

    pm = _pm()
    base = PANEL[PANEL["round"] == 0].set_index("hh")
    for _, r in pm.retention.iterrows():
        units = base.index if r.dimension == "all" else base.index[base["sex"] == r.group]
        later = set(PANEL.loc[PANEL["round"] == r.period, "hh"])
        k = sum(u in later for u in units)
        assert (r.n_baseline, r.n_retained) == (len(units), k)
        lo, hi = smp.proportion_confint(k, len(units), method="wilson")
        np.testing.assert_allclose([r.conf_low, r.conf_high], [lo, hi], rtol=1e-12)
    for _, t in pm.attrition_tests[pm.attrition_tests.test.str.contains("chi2")].iterrows():
        later = set(PANEL.loc[PANEL["round"] == t.period, "hh"])
        kept = base.index.isin(list(later))
        table = pd.crosstab(base["sex"], kept).to_numpy()
        stat, p, dof, _ = chi2_contingency(table, correction=False)
        np.testing.assert_allclose([t.statistic, t.p_value], [stat, p], rtol=1e-10)
        assert t.df == dof


def test_retention_weights_are_inverse_logit_probabilities():
    sm = pytest.importorskip("statsmodels.api")
    pm = _pm()
    base = PANEL[PANEL["round"] == 0].reset_index(drop=True)
    for p in (1, 2):
        kept = base["hh"].isin(PANEL.loc[PANEL["round"] == p, "hh"]).astype(float)
        X = sm.add_constant(base[["income", "rural"]].astype(float))
        phat = pd.Series(sm.Logit(kept, X).fit(disp=0, tol=1e-12).predict(X).to_numpy(), index=base["hh"])
        rows = PANEL.index[PANEL["round"] == p]
        np.testing.assert_allclose(pm.weights[rows].to_numpy(), 1 / phat.reindex(PANEL.loc[rows, "hh"]).to_numpy(), rtol=1e-6)
    assert (pm.weights[PANEL["round"] == 0] == 1).all()


def test_balanced_and_reweighted_indicators_by_definition():
    pm = _pm()
    ind = pm.indicators
    n_rounds = PANEL.groupby("hh")["round"].transform("size")
    for _, r in ind.iterrows():
        sel = PANEL["round"] == r.period
        if r["sample"] == "balanced":
            sel &= n_rounds == 3
        y = PANEL.loc[sel, r.outcome].to_numpy(dtype=float)
        w = pm.weights[sel].to_numpy() if r["sample"] == "ipw" else np.ones(len(y))
        np.testing.assert_allclose(r.estimate, np.average(y, weights=w), rtol=1e-12)
        assert r.n == len(y)
    g = pm.graduation.query("dimension == 'all'")
    for _, r in g.iterrows():
        y = PANEL.loc[(PANEL["round"] == r.period) & PANEL["hh"].isin(PANEL.loc[PANEL["round"] == 0, "hh"]), "income"]
        assert r.graduated == (y >= 4.0).sum() and r.n == len(y)


def test_data_unchanged_and_without_options():
    before = PANEL.copy()
    pm = ik.panel_monitoring(PANEL, unit_id="hh", period="round")
    pd.testing.assert_frame_equal(PANEL, before)
    assert pm.weights is None and pm.indicators is None and pm.graduation is None
    assert "retention at period 2" in repr(pm)


@pytest.mark.parametrize("mutate, kwargs, msg", [
    (lambda d: pd.concat([d, d.iloc[:1]]), {}, "more than one row in one period"),
    (lambda d: d[d["round"] == 0], {}, "single period"),
    (lambda d: d.assign(hh=d["hh"].where(d.index > 0)), {}, "unit_id column 'hh' has missing values"),
    (lambda d: d, dict(graduation={"column": "income"}), "graduation must be a dict"),
    (lambda d: d, dict(graduation={"column": "income", "threshold": 1, "direction": ">"}), "direction must be"),
    (lambda d: d.assign(income=d["income"].where(d.index > 5)), dict(outcomes="income"), "has missing values"),
    (lambda d: d, dict(by="nope"), "unknown column 'nope'"),
])
def test_bad_input_grid(mutate, kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        ik.panel_monitoring(mutate(PANEL.copy()), unit_id="hh", period="round", **kwargs)
