"""CoxResult.concordance(), ik.concordance against R survival (stored) and a brute-force O(n²) count.

References
- tests/reference/r/survival/cox_checks_reference.json, written by make_cox_checks_reference.R next to
  it (R 4.2, survival 3.5.3) on lung.csv: coxph(...)$concordance (pair counts, C, std) and
  concordance(fit)$cvar for Efron, strata, weights, (entry, exit] rows and clusters; concordance() of a
  plain score (age, ties everywhere) with reverse FALSE / TRUE, strata + weights + cluster, entry.
Tolerances: C and the pair counts 1e-10 (relative), the standard errors and cvar 1e-8 (relative).
Convention: R's, as stated in ConcordanceResult — comparable pairs are an event against rows still at
risk (censored rows at their own exit time count), pairs of events at one time are tied.y.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

BASE = Path(__file__).resolve().parents[1] / "reference" / "r" / "survival"
REF = json.loads((BASE / "cox_checks_reference.json").read_text())
LUNG = pd.read_csv(BASE / "lung.csv")
COUNTS = ["concordant", "discordant", "tied_x", "tied_y", "tied_xy"]


def _check(res, ref, se_key):
    counts = np.asarray(ref["counts"], dtype=float).reshape(5, -1).sum(axis=1)  # R: strata x 5 (column-major) when stratified
    np.testing.assert_allclose([res.counts[k] for k in COUNTS], counts, rtol=1e-10)
    assert res.estimate == pytest.approx(ref["concordance"], rel=1e-10)
    se = ref["std"] if se_key == "std" else np.sqrt(ref["var"])
    assert res.std_error == pytest.approx(se, rel=1e-8)
    assert res.cox_variance == pytest.approx(ref["cvar"], rel=1e-8)


@pytest.mark.parametrize("case, kwargs", [
    ("conc_cox_efron", dict(formula="age + sex + C(ecog)")),
    ("conc_cox_strata", dict(formula="age + sex", strata="ecog")),
    ("conc_cox_weights", dict(formula="age + sex", weights="w")),
    ("conc_cox_entry", dict(formula="age + sex", entry="entry")),
    ("conc_cox_cluster", dict(formula="age + sex", cluster="cl")),
])
def test_cox_concordance_equals_r_coxph(case, kwargs):
    f = kwargs.pop("formula")
    fit = ik.coxph(f, LUNG, time="time", event="event", **kwargs)
    _check(fit.concordance(), REF[case], "std")
    assert "Concordance" in fit.summary().as_text()


@pytest.mark.parametrize("case, kwargs", [
    ("conc_age", dict(score="age", higher="time")),
    ("conc_age_reverse", dict(score="age")),
    ("conc_ecog_strata_weights_cluster", dict(score="ecog", strata="sex", weights="w", cluster="cl")),
    ("conc_age_entry", dict(score="age", entry="entry")),
])
def test_concordance_equals_r_concordance(case, kwargs):
    _check(ik.concordance(LUNG, time="time", event="event", **kwargs), REF[case], "var")


def _brute_force(t, e, x, w):
    """O(n²) pair counts in the risk orientation (the definition in ConcordanceResult)."""
    c = dict.fromkeys(COUNTS, 0.0)
    n = len(t)
    for i in range(n):
        if e[i] != 1:
            continue
        for j in range(n):
            if j == i:
                continue
            ww = w[i] * w[j]
            if t[j] > t[i] or (t[j] == t[i] and e[j] == 0):
                key = "concordant" if x[i] > x[j] else "discordant" if x[i] < x[j] else "tied_x"
                c[key] += ww
            elif t[j] == t[i] and e[j] == 1 and j > i:
                c["tied_xy" if x[i] == x[j] else "tied_y"] += ww
    return c


@pytest.mark.parametrize("seed", range(4))
def test_concordance_counts_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 60
    d = pd.DataFrame({"t": rng.integers(1, 12, n).astype(float), "e": (rng.random(n) < 0.6).astype(float),
                      "x": rng.integers(0, 5, n).astype(float), "w": rng.integers(1, 4, n).astype(float)})
    res = ik.concordance(d, time="t", event="e", score="x", weights="w")
    want = _brute_force(d.t.to_numpy(), d.e.to_numpy(), d.x.to_numpy(), d.w.to_numpy())
    for k in COUNTS:
        assert res.counts[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12), k
    cc = want["concordant"] + want["tied_x"] / 2
    assert res.estimate == pytest.approx(cc / (want["concordant"] + want["discordant"] + want["tied_x"]), rel=1e-12)


def test_concordance_is_invariant_to_row_order_and_monotone_score_maps():
    d = LUNG.assign(age3=LUNG.age ** 3)
    a = ik.concordance(d, time="time", event="event", score="age")
    b = ik.concordance(d.iloc[::-1], time="time", event="event", score="age3")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-14)
    assert a.std_error == pytest.approx(b.std_error, rel=1e-12)
    assert a.tidy().term.tolist() == ["concordance"]


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(score="nope"), ValueError, "nope"),
    (dict(score="grp"), TypeError, "numeric"),
    (dict(score="xnan"), ValueError, "missing or infinite"),
    (dict(score="xinf"), ValueError, "missing or infinite"),
    (dict(score="x", higher="up"), ValueError, "higher"),
    (dict(score="x", weights="wneg"), ValueError, "positive"),
    (dict(score="x", cluster="nope"), ValueError, "cluster"),
    (dict(score="x", strata="nope"), ValueError, "nope"),
    (dict(score="x", entry="late"), ValueError, "entry"),
])
def test_concordance_bad_input(kwargs, err, match):
    d = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [1.0, 0, 1, 1], "x": [0.1, 0.5, 0.2, 0.3], "grp": list("abab"),
                      "xnan": [0.1, np.nan, 0.2, 0.3], "xinf": [0.1, np.inf, 0.2, 0.3], "wneg": [1.0, -1, 1, 1], "late": [0, 5.0, 0, 0]})
    before = d.copy()
    with pytest.raises(err, match=match):
        ik.concordance(d, time="t", event="e", **kwargs)
    pd.testing.assert_frame_equal(d, before)


@pytest.mark.parametrize("t, e", [([1.0, 2, 3], [0.0, 0, 0]), ([1.0, 1, 1], [1.0, 1, 1]), ([5.0], [1.0])])
def test_concordance_without_comparable_pairs_is_refused(t, e):
    d = pd.DataFrame({"t": t, "e": e, "x": np.arange(len(t), dtype=float)})
    with pytest.raises(ValueError, match="no comparable pair"):
        ik.concordance(d, time="t", event="e", score="x")
    with pytest.raises(TypeError, match="DataFrame"):
        ik.concordance(d.to_numpy(), time="t", event="e", score="x")
    with pytest.raises(ValueError, match="no rows"):
        ik.concordance(d.iloc[:0], time="t", event="e", score="x")


# --- check_ph: R cox.zph ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case, formula, kwargs, transform", [
    ("zph_efron_km", "age + sex + C(ecog)", {}, "km"),
    ("zph_efron_rank", "age + sex + C(ecog)", {}, "rank"),
    ("zph_efron_identity", "age + sex + C(ecog)", {}, "identity"),
    ("zph_breslow", "age + sex + C(ecog)", dict(ties="breslow"), "km"),
    ("zph_strata", "age + sex", dict(strata="ecog"), "km"),
    ("zph_weights", "age + sex", dict(weights="w"), "km"),
    ("zph_entry", "age + sex", dict(entry="entry"), "km"),
])
def test_check_ph_equals_r_cox_zph(case, formula, kwargs, transform):
    """chisq and p to 1e-6 (relative), df exactly; scaled residuals, x and var to 1e-6. Events tied on time
    are compared after sorting within the time (R's order among tied events differs by data kind)."""
    ref = REF[case]
    fit = ik.coxph(formula, LUNG, time="time", event="event", **kwargs)
    z = fit.check_ph(transform=transform)
    tab = z.table()
    assert len(tab) == len(ref["term"]) and tab.term.iloc[-1] == "GLOBAL"
    np.testing.assert_allclose(tab.chisq, ref["chisq"], rtol=1e-6)
    np.testing.assert_array_equal(tab.df, ref["df"])
    np.testing.assert_allclose(tab.p_value, ref["p"], rtol=1e-6)
    y = np.asarray(ref["y"], dtype=float).reshape(ref["n_y"], -1, order="F")
    np.testing.assert_allclose(z.time, ref["time"], rtol=0)
    np.testing.assert_allclose(z.x, ref["x"], rtol=1e-9)
    ours, theirs = z.residuals.to_numpy(), y
    # events of a stratum where no covariate varies (one subject) carry no information: NaN here; R leaves
    # them unscaled (its residual 0 plus β̂) — compared as such, then set aside
    odd = np.isnan(ours).all(axis=1)
    if odd.any():  # (single-column terms in that case)
        np.testing.assert_allclose(theirs[odd], np.broadcast_to(fit.coef.to_numpy(), theirs[odd].shape), rtol=1e-6)
    key = lambda t, m: np.lexsort(tuple(np.round(m[:, j], 8) for j in range(m.shape[1] - 1, -1, -1)) + (t,))
    ours, theirs, t_ours, t_ref = ours[~odd], theirs[~odd], z.time[~odd], np.asarray(ref["time"])[~odd]
    np.testing.assert_allclose(ours[key(t_ours, ours)], theirs[key(t_ref, theirs)], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(z.var, np.asarray(ref["var"]).reshape(z.var.shape), rtol=1e-6)
    assert "GLOBAL" in str(z)


def test_check_ph_plot_and_bad_input():
    import matplotlib

    matplotlib.use("Agg")
    fit = ik.coxph("age + sex + C(ecog)", LUNG, time="time", event="event")
    z = fit.check_ph()
    ax = z.plot("sex")
    assert len(ax.lines) == 3 and ax.get_ylabel() == "Beta(t) for sex"
    z.plot("C(ecog)")
    with pytest.raises(ValueError, match="unknown term"):
        z.plot("nope")
    with pytest.raises(ValueError, match="transform"):
        fit.check_ph(transform="log10")


def test_check_ph_detects_non_proportional_hazards():
    """A covariate whose effect reverses over time is flagged (p < 0.001); a proportional one is not
    (p > 0.01) on the same simulated data (seeded)."""
    rng = np.random.default_rng(3)
    n = 3000
    x, z = rng.integers(0, 2, n), rng.normal(size=n)
    # hazard exp(0.5 z) always; x doubles the hazard before t = 1 and halves it after
    e1 = rng.exponential(1 / (np.exp(0.5 * z) * np.where(x == 1, 2.0, 1.0)))
    late = e1 > 1
    e2 = 1 + rng.exponential(1 / (np.exp(0.5 * z) * np.where(x == 1, 0.5, 1.0)))
    t = np.where(late, e2, e1)
    c = rng.exponential(3, n)
    d = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(float), "x": x, "z": z})
    tab = ik.coxph("x + z", d, time="t", event="e").check_ph().table().set_index("term")
    assert tab.loc["x", "p_value"] < 1e-3
    assert tab.loc["z", "p_value"] > 0.01
