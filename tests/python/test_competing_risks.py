"""ik.cumulative_incidence and ik.gray_test against R cmprsk and R survival (stored), lifelines (live).

References
- tests/reference/r/survival/competing_risks_reference.json, written by make_competing_risks_reference.R
  next to it (R 4.2, cmprsk 2.2, survival 3.5) on R survival's mgus2 data (mgus2_cr.csv: time to
  progression or death, event 0 censored / 1 progression / 2 death, months, many ties):
  cuminc curves (est and var at every step corner) overall, by sex and by age group; cuminc(...)$Tests
  by sex, by age group stratified by diagnosis period, and with rho = 1; survfit multi-state
  Aalen-Johansen pstate and std.err by sex.
- lifelines (PyPI) AalenJohansenFitter, run live (estimates).
Conventions: the variance is cmprsk's delta-method estimator (compared to rel 1e-10); survfit's std.err is
the infinitesimal-jackknife variance, a different estimator (stored, not compared: on these data it differs
from cmprsk's by 0.1% early to several-fold in the sparse tail), so survfit is matched on the estimates only
(abs 1e-12). Fine-Gray: cmprsk::crr coefficients, robust variance and log-likelihood.
Gray's test: statistic rel 1e-8, p-value abs 1e-10.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

BASE = Path(__file__).resolve().parents[1] / "reference" / "r" / "survival"
REF = json.loads((BASE / "competing_risks_reference.json").read_text())
MGUS = pd.read_csv(BASE / "mgus2_cr.csv")


def _last_per_time(curve):
    """cmprsk's step corners (t, F before), (t, F after): the value at each time is the last one."""
    t, est, var = (np.asarray(curve[k], dtype=float) for k in ("time", "est", "var"))
    last = np.r_[t[1:] != t[:-1], True]
    return t[last], est[last], var[last]


def _check_curves(res, curves, by=None):
    for name, curve in curves.items():
        group, cause = name.rsplit(" ", 1)
        t, est, var = _last_per_time(curve)
        got = res.cif_at(t)
        got = got[got["cause"] == int(cause)]
        if by is not None:
            got = got[got[by] == group]
        assert len(got) == len(t), name
        np.testing.assert_allclose(got["incidence"].to_numpy(), est, rtol=1e-10, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(got["std_error"].to_numpy() ** 2, var, rtol=1e-10, atol=1e-16, err_msg=name)


def test_cuminc_overall():
    res = ik.cumulative_incidence(MGUS, time="time", event="event")
    assert res.causes == [1, 2]
    _check_curves(res, REF["cuminc_all"]["curves"])


@pytest.mark.parametrize("case, by", [("cuminc_sex", "sex"), ("cuminc_age_strata", "agegroup")])
def test_cuminc_by_group(case, by):
    res = ik.cumulative_incidence(MGUS, time="time", event="event", by=by)
    _check_curves(res, REF[case]["curves"], by=by)


@pytest.mark.parametrize("case, group, strata, rho", [("cuminc_sex", "sex", None, 0.0), ("cuminc_age_strata", "agegroup", "period", 0.0),
                                                      ("cuminc_age_rho1", "agegroup", None, 1.0)])
def test_gray_test_equals_cmprsk(case, group, strata, rho):
    ref = REF[case]["tests"]
    tab = ik.gray_test(MGUS, time="time", event="event", group=group, strata=strata, rho=rho).table()
    assert tab["cause"].tolist() == [1, 2]
    np.testing.assert_allclose(tab["statistic"].to_numpy(), ref["stat"], rtol=1e-8)
    np.testing.assert_allclose(tab["p_value"].to_numpy(), ref["pv"], rtol=0, atol=1e-10)
    assert tab["df"].tolist() == [int(x) for x in ref["df"]]


def test_survfit_aalen_johansen_estimates():
    ref = REF["survfit_sex"]
    res = ik.cumulative_incidence(MGUS, time="time", event="event", by="sex")
    strata, t = np.asarray(ref["strata"]), np.asarray(ref["time"], dtype=float)
    P = np.asarray(ref["pstate"], dtype=float).reshape(2, -1).T  # R matrices are stored column-major, flattened
    for s, sex in enumerate(["F", "M"]):
        rows = strata == s + 1
        for c, cause in enumerate([1, 2]):
            got = res.cif_at(t[rows])
            got = got[(got["sex"] == sex) & (got["cause"] == cause)]
            np.testing.assert_allclose(got["incidence"].to_numpy(), P[rows, c], rtol=0, atol=1e-12)


def test_lifelines_aalen_johansen_live():
    """lifelines jitters tied times, so the live comparison uses continuous times (no ties)."""
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(7)
    n = 400
    a, b, c = rng.exponential(3, n), rng.exponential(5, n), rng.uniform(0, 6, n)
    d = pd.DataFrame({"time": np.minimum(np.minimum(a, b), c), "event": np.where(c < np.minimum(a, b), 0, np.where(a < b, 1, 2))})
    res = ik.cumulative_incidence(d, time="time", event="event", cause=1)
    ajf = lifelines.AalenJohansenFitter(calculate_variance=False)
    ajf.fit(d["time"], d["event"], event_of_interest=1)
    lt = ajf.cumulative_density_.index.to_numpy(dtype=float)
    got = res.cif_at(lt)
    np.testing.assert_allclose(got["incidence"].to_numpy(), ajf.cumulative_density_.iloc[:, 0].to_numpy(), rtol=0, atol=1e-12)


def test_table_and_intervals():
    res = ik.cumulative_incidence(MGUS, time="time", event="event", by="sex", cause=2, conf_type="log-log", level=0.9)
    tab = res.table()
    assert list(tab.columns) == ["sex", "cause", "time", "at_risk", "events", "competing", "censored", "incidence", "std_error",
                                 "conf_low", "conf_high"]
    assert set(tab["cause"]) == {2}
    # counts: at risk falls by the rows leaving at each time
    f = tab[tab["sex"] == "F"]
    leaving = f["events"] + f["competing"] + f["censored"]
    np.testing.assert_allclose(f["at_risk"].to_numpy()[1:], (f["at_risk"] - leaving).to_numpy()[:-1])
    assert f["at_risk"].iloc[0] == (MGUS["sex"] == "F").sum()
    # log-log interval: F^exp(±z se/(F log F)), z for 90%
    z = 1.6448536269514722
    F, se = tab["incidence"].to_numpy(), tab["std_error"].to_numpy()
    pos = (F > 0) & (F < 1)
    s = z * se[pos] / (F[pos] * np.log(F[pos]))
    np.testing.assert_allclose(tab["conf_low"].to_numpy()[pos], F[pos] ** np.exp(-s), rtol=1e-12)
    np.testing.assert_allclose(tab["conf_high"].to_numpy()[pos], F[pos] ** np.exp(s), rtol=1e-12)
    assert (tab["conf_low"][~pos] == 0).all()
    for ct in ("log", "plain"):
        t2 = ik.cumulative_incidence(MGUS, time="time", event="event", conf_type=ct).table()
        assert ((t2["conf_low"] <= t2["incidence"] + 1e-15) & (t2["conf_high"] >= t2["incidence"] - 1e-15)).all()
        assert ((t2["conf_low"] >= 0) & (t2["conf_high"] <= 1)).all()


def test_labels_censoring_code_and_rendering():
    d = MGUS.assign(outcome=MGUS["event"].map({0: "open", 1: "closed", 2: "taken over"}))
    res = ik.cumulative_incidence(d, time="time", event="outcome", censored="open", by="sex")
    ref = ik.cumulative_incidence(MGUS, time="time", event="event", by="sex")
    assert res.causes == ["closed", "taken over"]
    np.testing.assert_array_equal(res.table()["incidence"].to_numpy(), ref.table()["incidence"].to_numpy())
    assert "cmprsk" in res.summary() and "2 group(s)" in repr(res) and "<p>" in res._repr_html_()
    g = ik.gray_test(d, time="time", event="outcome", censored="open", group="sex", cause="taken over")
    assert g.table()["cause"].tolist() == ["taken over"]
    assert "chi2" in g.summary() and "<table" in g._repr_html_()
    import matplotlib
    matplotlib.use("Agg")
    ax = res.plot()
    assert len(ax.get_lines()) == 4


@pytest.mark.parametrize("case, cause", [("crr_cause1", 1), ("crr_cause2", 2)])
def test_finegray_equals_crr(case, cause):
    """Coefficients and crr's robust SEs (with the censoring-distribution term) to rel 1e-6 (crr stops its
    Newton iterations at a gradient tolerance of 1e-6)."""
    ref = REF[case]
    d = MGUS.assign(male=(MGUS["sex"] == "M").astype(float))
    fit = ik.finegray("age + male + hgb", d, time="time", event="event", cause=cause)
    np.testing.assert_allclose(fit.coef.to_numpy(), ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(fit.se.to_numpy(), ref["se"], rtol=1e-6)
    if "var" in ref:
        np.testing.assert_allclose(fit.vcov.to_numpy(), np.asarray(ref["var"]).reshape(3, 3), rtol=1e-6, atol=1e-14)
        np.testing.assert_allclose(fit.loglik, ref["loglik"], rtol=1e-9)
    hr = fit.hazard_ratios()
    np.testing.assert_allclose(hr["hazard_ratio"], np.exp(ref["coef"]), rtol=1e-6)
    assert "crr" in fit.vcov_convention and fit.cause == cause


@pytest.mark.parametrize("case, cause", [("crr_cause1_cengroup_period", 1), ("crr_cause2_cengroup_agegroup", 2)])
def test_finegray_cengroup_equals_crr(case, cause):
    """cengroup= (the censoring distribution estimated within each group, crr's cengroup): coefficients, robust
    SEs and covariance to rel 1e-6 (crr's gradient tolerance), the log pseudo-likelihood to 1e-9."""
    ref = REF[case]
    d = MGUS.assign(male=(MGUS["sex"] == "M").astype(float))
    fit = ik.finegray("age + male + hgb", d, time="time", event="event", cause=cause, cengroup=ref["cengroup"])
    np.testing.assert_allclose(fit.coef.to_numpy(), ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(fit.se.to_numpy(), ref["se"], rtol=1e-6)
    np.testing.assert_allclose(fit.vcov.to_numpy(), np.asarray(ref["var"]).reshape(3, 3), rtol=1e-6, atol=1e-14)
    np.testing.assert_allclose(fit.loglik, ref["loglik"], rtol=1e-9)
    assert fit.cengroup == ref["cengroup"] and ref["cengroup"] in fit.vcov_convention
    # a single censoring group is the plain fit
    one = ik.finegray("age + male + hgb", d.assign(all_one="x"), time="time", event="event", cause=cause, cengroup="all_one")
    plain = ik.finegray("age + male + hgb", d, time="time", event="event", cause=cause)
    np.testing.assert_allclose(one.coef.to_numpy(), plain.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(one.se.to_numpy(), plain.se.to_numpy(), rtol=1e-12)


def test_finegray_without_competing_events_is_breslow_cox():
    d = MGUS.assign(male=(MGUS["sex"] == "M").astype(float), e1=(MGUS["event"] == 1).astype(int))
    fg = ik.finegray("age + male", d, time="time", event="e1", cause=1)
    cx = ik.coxph("age + male", d, time="time", event="e1", ties="breslow", robust=True)
    np.testing.assert_allclose(fg.coef.to_numpy(), cx.coef.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(fg.se.to_numpy(), cx.se.to_numpy(), rtol=1e-9)
