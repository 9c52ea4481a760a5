"""ik.kaplan_meier and ik.logrank against R survival (stored) and lifelines (live).

References
- tests/reference/r/survival/survival_reference.json, written by make_survival_reference.R next to it
  (R 4.2, survival 3.5) on R's NCCTG lung data (lung.csv): survfit curves (times, at risk, events,
  censored, survival, std.err of log S, limits) under conf.type "log-log", "log" and "plain";
  quantile(fit, c(.25, .5, .75)) with limits; summary(fit, rmean = 365) restricted means and SEs;
  weighted (robust = FALSE: Greenwood on weighted counts) and left-truncated (Surv(entry, time, event))
  curves; survdiff chi-squares, observed, expected and variances (rho 0, 0.5, 1; 2 and 4 groups;
  stratified).
- lifelines (PyPI) KaplanMeierFitter and logrank_test, run live.
Tolerances: rel 1e-10 (R prints more digits than it computes with beyond that).
R's limits are NA where S = 1 for log-log; ours are [1, 1] there (compared where R has a value).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

BASE = Path(__file__).resolve().parents[1] / "reference" / "r" / "survival"
REF = json.loads((BASE / "survival_reference.json").read_text())
LUNG = pd.read_csv(BASE / "lung.csv")


def _compare_curve(tab: pd.DataFrame, ref: dict):
    np.testing.assert_allclose(tab["time"], ref["time"], rtol=0)
    np.testing.assert_allclose(tab["at_risk"], ref["n_risk"], rtol=1e-12)
    np.testing.assert_allclose(tab["events"], ref["n_event"], rtol=1e-12)
    np.testing.assert_allclose(tab["censored"], ref["n_censor"], rtol=1e-12)
    np.testing.assert_allclose(tab["survival"], ref["surv"], rtol=1e-12)
    se_log = np.asarray(ref["std_err"], dtype=float)
    ok = np.isfinite(se_log)
    np.testing.assert_allclose((tab["std_error"] / tab["survival"]).to_numpy()[ok], se_log[ok], rtol=1e-10)
    for ours, theirs in [("conf_low", "lower"), ("conf_high", "upper")]:
        r = np.asarray(ref[theirs], dtype=float)
        ok = np.isfinite(r)
        np.testing.assert_allclose(tab[ours].to_numpy()[ok], r[ok], rtol=1e-10)


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_kaplan_meier_equals_r_survfit(conf_type):
    ref = REF[f"km_sex_{conf_type}"]
    km = ik.kaplan_meier(LUNG, time="time", event="event", by="sex", conf_type=conf_type)
    tab = km.table()
    assert list(tab.columns[:2]) == ["sex", "time"]
    _compare_curve(tab, ref)
    np.testing.assert_array_equal(tab["sex"].map({1: 1, 2: 2}), np.asarray(ref["stratum"]))
    q = REF[f"quantiles_sex_{conf_type}"]
    got = pd.concat([km.quantile(p) for p in q["probs"]]).sort_values(["sex", "quantile"])
    want = lambda key: np.asarray(q[key], dtype=float).reshape(2, 3, order="F").ravel()  # R: sex × probs
    for ours, theirs in [("estimate", "quantile"), ("conf_low", "lower"), ("conf_high", "upper")]:
        np.testing.assert_allclose(got[ours].to_numpy(), want(theirs), rtol=1e-12, equal_nan=True)


def test_rmst_equals_r():
    km = ik.kaplan_meier(LUNG, time="time", event="event", by="sex")
    r = km.rmst(365)
    np.testing.assert_allclose(r["estimate"], REF["rmst_365"]["rmean"], rtol=1e-10)
    np.testing.assert_allclose(r["std_error"], REF["rmst_365"]["se"], rtol=1e-10)
    d = km.rmst_difference(365)
    assert d["estimate"].iloc[0] == pytest.approx(r["estimate"].iloc[1] - r["estimate"].iloc[0], rel=1e-14)
    assert 0 < d["p_value"].iloc[0] < 1


def test_weighted_and_left_truncated_curves_equal_r():
    _compare_curve(ik.kaplan_meier(LUNG, time="time", event="event", weights="w").table(), REF["km_weighted"])
    _compare_curve(ik.kaplan_meier(LUNG, time="time", event="event", entry="entry").table(), REF["km_entry"])


@pytest.mark.parametrize("case,kwargs", [
    ("logrank_sex", dict(group="sex")),
    ("fh1_sex", dict(group="sex", rho=1.0)),
    ("logrank_ecog", dict(group="ecog")),
    ("logrank_sex_strata_ecog", dict(group="sex", strata="ecog")),
    ("fh05_sex_strata_ecog", dict(group="sex", strata="ecog", rho=0.5)),
])
def test_logrank_equals_r_survdiff(case, kwargs):
    ref = REF[case]
    t = ik.logrank(LUNG, time="time", event="event", **kwargs)
    assert t.statistic == pytest.approx(ref["chisq"], rel=1e-10)
    np.testing.assert_allclose(t.observed, ref["obs"], rtol=1e-12)
    np.testing.assert_allclose(t.expected, ref["exp"], rtol=1e-10)
    G = len(t.observed)
    np.testing.assert_allclose(t.variance, np.asarray(ref["var"]).reshape(G, G), rtol=1e-10, atol=1e-12)
    assert t.df == G - 1 and 0 <= t.p_value <= 1


def test_against_lifelines_live():
    lifelines = pytest.importorskip("lifelines")
    from lifelines.statistics import logrank_test

    kmf = lifelines.KaplanMeierFitter().fit(LUNG["time"], LUNG["event"], weights=LUNG["w"])
    ours = ik.kaplan_meier(LUNG, time="time", event="event", weights="w").table()
    sf = kmf.survival_function_.iloc[:, 0]
    np.testing.assert_allclose(ours["survival"], sf.loc[ours["time"]].to_numpy(), rtol=1e-12)
    ci = kmf.confidence_interval_  # exponential Greenwood ("log-log")
    np.testing.assert_allclose(ours["conf_low"], ci.iloc[:, 0].loc[ours["time"]].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours["conf_high"], ci.iloc[:, 1].loc[ours["time"]].to_numpy(), rtol=1e-9)
    a, b = LUNG[LUNG.sex == 1], LUNG[LUNG.sex == 2]
    lr = logrank_test(a["time"], b["time"], a["event"], b["event"])
    assert ik.logrank(LUNG, time="time", event="event", group="sex").statistic == pytest.approx(lr.test_statistic, rel=1e-10)


def test_worked_example_and_helpers():
    # five services: closed at 1, 3 (censored), 4, 4, 6 (censored): S = 4/5, 4/5, 4/5·(1 − 2/3) = 4/15
    d = pd.DataFrame({"t": [1.0, 3, 4, 4, 6], "closed": [1, 0, 1, 1, 0]})
    km = ik.kaplan_meier(d, time="t", event="closed")
    tab = km.table()
    np.testing.assert_allclose(tab["survival"], [0.8, 0.8, 4 / 15, 4 / 15], rtol=1e-15)
    np.testing.assert_allclose(tab["at_risk"], [5, 4, 3, 1])
    s = km.survival_at([0.5, 1, 3.9, 10])
    np.testing.assert_allclose(s["survival"], [1, 0.8, 0.8, 4 / 15], rtol=1e-15)
    assert km.median()["estimate"].iloc[0] == 4.0
    # RMST to 5: 1·1 + 0.8·(4 − 1) + (4/15)·(5 − 4)
    assert km.rmst(5)["estimate"].iloc[0] == pytest.approx(1 + 0.8 * 3 + 4 / 15, rel=1e-15)
    assert "median" in km.summary() and "<p>" in km._repr_html_()
    import matplotlib

    matplotlib.use("Agg")
    ax = ik.kaplan_meier(LUNG, time="time", event="event", by="sex").plot()
    assert len(ax.lines) >= 2


def test_bad_inputs():
    d = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [1, 0, 1, 1], "g": ["a", "a", "b", "b"], "en": [0.0, 2.5, 0, 0], "x": list("abcd"),
                      "w": [1.0, -1, 1, 1]})
    bad = [
        (lambda: ik.kaplan_meier(d, time="nope", event="e"), "nope"),
        (lambda: ik.kaplan_meier(d, time="t", event="t"), "0/1"),
        (lambda: ik.kaplan_meier(d, time="x", event="e"), "numeric"),
        (lambda: ik.kaplan_meier(d, time="t", event="e", entry="en"), "entry must be before"),
        (lambda: ik.kaplan_meier(d, time="t", event="e", weights="w"), "non-negative"),
        (lambda: ik.kaplan_meier(d, time="t", event="e", conf_type="arcsine"), "conf_type"),
        (lambda: ik.kaplan_meier(d, time="t", event="e", level=1.5), "level"),
        (lambda: ik.kaplan_meier(d.iloc[:0], time="t", event="e"), "no rows"),
        (lambda: ik.kaplan_meier(d, time="t", event="e").quantile(1.0), "quantile"),
        (lambda: ik.kaplan_meier(d, time="t", event="e").rmst(float("nan")), "tau"),
        (lambda: ik.kaplan_meier(d, time="t", event="e").rmst_difference(3), "two groups"),
        (lambda: ik.logrank(d.assign(g="a"), time="t", event="e", group="g"), "single level"),
        (lambda: ik.logrank(d, time="t", event="e", group="g", rho=-1), "rho"),
        (lambda: ik.kaplan_meier(d.assign(t=[1.0, np.nan, 3, 4]), time="t", event="e"), "missing"),
    ]
    for call, words in bad:
        with pytest.raises((ValueError, TypeError), match=words):
            call()
    before = d.copy()
    ik.kaplan_meier(d, time="t", event="e", by="g").table()
    pd.testing.assert_frame_equal(d, before)
    # everyone has an event at once: S drops to 0, its limits are NaN (R: NA), no crash
    z = pd.DataFrame({"t": [2.0, 2.0], "e": [1, 1]})
    tab = ik.kaplan_meier(z, time="t", event="e").table()
    assert tab["survival"].iloc[0] == 0 and np.isnan(tab["conf_low"].iloc[0])


def _r_matrix(flat):
    a = np.asarray(flat, dtype=float)
    k = int(round(np.sqrt(a.size)))
    return a.reshape(k, k, order="F")


@pytest.mark.parametrize("case,formula,kwargs", [
    ("cox_efron", "age + sex + C(ecog)", {}),
    ("cox_breslow", "age + sex + C(ecog)", dict(ties="breslow")),
    ("cox_strata", "age + sex", dict(strata="ecog")),
    ("cox_weights", "age + sex", dict(weights="w")),
    ("cox_entry", "age + sex", dict(entry="entry")),
    ("cox_cluster", "age + sex", dict(cluster="cl")),
    ("cox_cluster_breslow_weights", "age + sex", dict(cluster="cl", weights="w", ties="breslow", entry="entry")),
    ("cox_robust_efron_weights", "age + sex + C(ecog)", dict(weights="w", robust=True)),
])
def test_coxph_equals_r(case, formula, kwargs):
    """R coxph (stored): coefficients to 1e-7 relative (R stops Newton–Raphson at a relative change in the
    log-likelihood of 1e-9; we iterate to 1e-13), variances 1e-6, log-likelihoods and score test 1e-9."""
    ref = REF[case]
    fit = ik.coxph(formula, LUNG, time="time", event="event", **kwargs)
    np.testing.assert_allclose(fit.coef, ref["coef"], rtol=1e-7)
    np.testing.assert_allclose(fit.vcov, _r_matrix(ref["var"]), rtol=1e-6, atol=1e-12)
    if ref.get("naive_var") is not None:
        np.testing.assert_allclose(fit.model_vcov, _r_matrix(ref["naive_var"]), rtol=1e-6, atol=1e-12)
    assert fit.loglik_null == pytest.approx(ref["loglik"][0], rel=1e-12)
    assert fit.loglik == pytest.approx(ref["loglik"][1], rel=1e-10)
    assert fit.score_test == pytest.approx(ref["score"], rel=1e-9)
    assert fit.n_events == ref["n_events"]
    hr = fit.hazard_ratios()
    np.testing.assert_allclose(hr["hazard_ratio"], np.exp(ref["coef"]), rtol=1e-7)
    t = fit.tests()
    assert t.statistic.iloc[0] == pytest.approx(2 * (ref["loglik"][1] - ref["loglik"][0]), rel=1e-8)


def test_coxph_against_lifelines_and_bad_input():
    lifelines = pytest.importorskip("lifelines")
    df = LUNG[["time", "event", "age", "sex"]]
    cph = lifelines.CoxPHFitter().fit(df, duration_col="time", event_col="event")  # Efron ties
    fit = ik.coxph("age + sex", LUNG, time="time", event="event")
    # lifelines stops Newton–Raphson earlier (its default tolerance): agreement to 1e-5 relative
    np.testing.assert_allclose(fit.coef, cph.params_[["age", "sex"]].to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(fit.se, cph.standard_errors_[["age", "sex"]].to_numpy(), rtol=1e-5)
    assert "Cox" in str(fit.summary())
    bad = [
        (lambda: ik.coxph("age", LUNG, time="time", event="event", ties="exact"), "ties"),
        (lambda: ik.coxph("", LUNG, time="time", event="event"), "no covariates"),
        (lambda: ik.coxph("nope", LUNG, time="time", event="event"), "nope"),
        (lambda: ik.coxph("age", LUNG, time="time", event="event", cluster="nope"), "nope"),
        (lambda: ik.coxph("age + age2", LUNG.assign(age2=LUNG.age * 2), time="time", event="event"), "singular"),
        (lambda: ik.coxph("age", LUNG.assign(event=0), time="time", event="event"), "singular"),
        (lambda: ik.coxph(3, LUNG, time="time", event="event"), "string"),
    ]
    for call, words in bad:
        with pytest.raises((ValueError, TypeError), match=words):
            call()


def test_edge_case_grid():
    """DESIGN.md §6 grid for the survival estimators: no events, every event at one time, a group with one
    member. Expected values by hand (and R survfit's conventions: S = 0 has NaN SE and limits)."""
    import warnings

    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5], "e": [0, 0, 0, 0, 0], "g": ["a", "a", "a", "a", "b"], "x": [1.0, 2, 3, 4, 5]})
    none = ik.kaplan_meier(d, time="t", event="e")
    assert (none.table()["survival"] == 1).all() and np.isnan(none.median()["estimate"].iloc[0])
    with pytest.raises(ValueError, match="no events|singular"):
        ik.coxph("x", d, time="t", event="e")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # S = 0 must not leak numpy's invalid-value warning
        one = ik.kaplan_meier(d.assign(e=1), time="t", event="e", by="g").table()
    b = one[one["g"] == "b"].iloc[0]
    assert b["survival"] == 0 and b["at_risk"] == 1 and np.isnan(b["std_error"]) and np.isnan(b["conf_low"])
    a = one[one["g"] == "a"]
    np.testing.assert_allclose(a["survival"], [0.75, 0.5, 0.25, 0.0], rtol=1e-15)
    # Greenwood: SE(S(1)) = S √(d/(n(n−d))) = 0.75 √(1/12)
    assert a["std_error"].iloc[0] == pytest.approx(0.75 * np.sqrt(1 / 12), rel=1e-14)
    # every event at one time: one step to 0; Efron's partial likelihood exp(Σ η) / (Σ e^η)^n peaks at β = 0
    tied = d.assign(e=1, t=2.0)
    assert ik.kaplan_meier(tied, time="t", event="e").table()["survival"].tolist() == [0.0]
    assert abs(ik.coxph("x", tied, time="t", event="e").coef["x"]) < 1e-10
