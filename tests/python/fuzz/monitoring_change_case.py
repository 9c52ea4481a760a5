"""One randomised case for the results-framework tools (run in a subprocess by tests/python/test_monitoring_change_fuzz.py):
ik.change, ik.disaggregate, ik.ResultsFramework.evaluate and ik.panel_monitoring on random small panels — few or one
member per group, empty rounds, NaN/inf outcomes, constant and 0/1 outcomes, huge offsets, a missing group label, random
kinds, intervals, adjustments and (sometimes) a survey design. Every call must return finite-or-NaN numbers that are
consistent (conf_low <= estimate <= conf_high where finite, p-values and probabilities in [0, 1], adjusted p >= raw p)
or raise InvalidInputError / TypeError / ValueError; the caller's data must be unchanged. Exits 0 unless a check fails."""
import sys
import warnings

import numpy as np
import pandas as pd

import impactkit as ik

warnings.simplefilter("ignore", ik.ImpactkitWarning)
seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
n_units = int(rng.choice([1, 2, 3, 8, 40, 300]))
rounds = int(rng.choice([1, 2, 3]))
rows = []
for u in range(n_units):
    for r in range(rounds):
        if r > 0 and rng.random() < 0.2:
            break
        rows.append((u, r))
df = pd.DataFrame(rows, columns=["id", "t"])
n = len(df)
df["g"] = rng.choice(["a", "b", "c"][: int(rng.integers(1, 4))], n)
df["psu"] = df["id"] % max(2, n_units // 3)
df["w"] = rng.uniform(0.5, 3, n)
kind = rng.choice(["normal", "binary", "constant", "offset"])
df["y"] = {"normal": rng.normal(size=n), "binary": (rng.random(n) < 0.5).astype(float), "constant": np.full(n, 2.0),
           "offset": 1e9 + rng.normal(size=n)}[kind]
if rng.random() < 0.25:
    df.loc[rng.integers(n), "y"] = rng.choice([np.nan, np.inf])
if rng.random() < 0.1:
    df["g"] = df["g"].where(df.index > 0)
before = df.copy()
bad = (ik.InvalidInputError, TypeError, ValueError)


def check_interval(est, lo, hi, what):
    est, lo, hi = (np.asarray(v, dtype=float) for v in (est, lo, hi))
    fin = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    tol = 1e-9 * (1 + np.abs(est[fin]))
    assert (lo[fin] <= est[fin] + tol).all() and (est[fin] <= hi[fin] + tol).all(), (what, est, lo, hi)


def probability(p, what):
    p = np.asarray(p, dtype=float)
    assert ((p[np.isfinite(p)] >= 0) & (p[np.isfinite(p)] <= 1)).all(), (what, p)


design = None
if rng.random() < 0.3:
    try:
        design = ik.SurveyDesign(df, weights="w", psu="psu", lonely_psu="adjust")
    except bad as e:
        print("design refused:", type(e).__name__, str(e)[:90])

for _ in range(3):
    k = str(rng.choice(["absolute", "relative"]))
    iv = "fieller" if k == "relative" and rng.random() < 0.5 else "delta"
    unit = "id" if design is None and rng.random() < 0.4 else None
    try:
        res = ik.change(df, outcome="y", period="t", baseline=0, endline=int(rng.integers(1, 3)), unit_id=unit,
                        by="g" if rng.random() < 0.6 else None, design=design, kind=k, interval=iv)
        tab = res.table()
        check_interval(tab["change"], tab["conf_low"], tab["conf_high"], "change")
        probability(tab["p_value"], "change p")
        print("change", k, iv, tab.shape)
    except bad as e:
        print("change refused:", type(e).__name__, str(e)[:90])

try:
    d = ik.disaggregate(df, outcomes="y", by="g", period="t" if rounds > 1 else None, design=design,
                        adjust=str(rng.choice(["holm", "bonferroni", "bh", "none"])))
    t = d.table()
    check_interval(t["endline"], t["endline_low"], t["endline_high"], "endline")
    probability(t["gap_p_adjusted"], "gap p adj")
    fam = t["gap_p"].notna() & t["gap_p_adjusted"].notna()
    assert (t.loc[fam, "gap_p_adjusted"] >= t.loc[fam, "gap_p"] - 1e-15).all()
    d.to_markdown(), d.to_html(), d.to_latex()
    print("disaggregate", t.shape)
except bad as e:
    print("disaggregate refused:", type(e).__name__, str(e)[:90])

try:
    b = float(rng.normal())
    rf = ik.ResultsFramework([dict(id="x", name="y", direction="increase", baseline=b, target=b + abs(rng.normal()) * rng.choice([0, 1]),
                                   baseline_period=0, target_period=2, column="y")])
    ev = rf.evaluate(df, period="t", by="g", design=design).table()
    check_interval(ev["estimate"], ev["conf_low"], ev["conf_high"], "actual")
    probability(ev["probability_met"], "P(met)")
    assert set(ev["status"]) <= {"on track", "at risk", "off track", "no data"}
    print("framework", ev.shape)
except bad as e:
    print("framework refused:", type(e).__name__, str(e)[:90])

try:
    pm = ik.panel_monitoring(df, unit_id="id", period="t", by="g", graduation={"column": "y", "threshold": 0.0})
    check_interval(pm.retention["retention"], pm.retention["conf_low"], pm.retention["conf_high"], "retention")
    probability(pm.attrition_tests["p_value"], "attrition p")
    print("panel", pm.retention.shape)
except bad as e:
    print("panel refused:", type(e).__name__, str(e)[:90])

pd.testing.assert_frame_equal(df, before)
