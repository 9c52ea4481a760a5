"""One randomised bad-input case for ik.kaplan_meier, ik.logrank, ik.concordance, CoxResult.check_ph,
ik.discrete_hazard and ik.effect_persistence (run in a subprocess by
tests/python/test_survival_fuzz.py): every call must return (survival in [0, 1] or NaN limits, standard
errors never negative, a chi-square ≥ 0 or NaN) or raise InvalidInputError / TypeError / ValueError, and
the caller's data must be unchanged. Exits 0 unless a check fails."""
import sys
import warnings

import numpy as np
import pandas as pd

import impactkit as ik

seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
n = int(rng.choice([1, 2, 3, 8, 50, 300]))
kind = rng.choice(["exp", "ties", "huge", "tiny", "offset", "negative"])
t = {"exp": rng.exponential(5, n), "ties": rng.integers(1, 4, n).astype(float), "huge": rng.exponential(1, n) * 1e300,
     "tiny": rng.exponential(1, n) * 1e-300, "offset": 1e9 + rng.exponential(1, n), "negative": rng.normal(0, 3, n)}[kind]
if rng.random() < 0.15:
    t[rng.integers(n)] = rng.choice([np.nan, np.inf])
e = (rng.random(n) < rng.choice([0.0, 0.5, 1.0])).astype(float)
if rng.random() < 0.1:
    e[rng.integers(n)] = 2.0
w = rng.integers(0, 3, n).astype(float)
entry = t - rng.uniform(0, 2, n) * np.abs(t) * (rng.random(n) < 0.5)
x = rng.normal(size=n) if rng.random() < 0.7 else rng.integers(0, 2, n).astype(float)
if rng.random() < 0.1:
    x[rng.integers(n)] = rng.choice([np.nan, np.inf])
rounds = np.ceil(np.abs(np.nan_to_num(t, nan=1.0, posinf=1.0)) % 6) + (rng.random(n) < 0.05) * rng.choice([-1.0, 0.5])
data = pd.DataFrame({"t": t, "e": e, "w": w, "entry": entry, "g": rng.choice(["a", "b", "c"], n), "s": rng.integers(0, 2, n), "x": x,
                     "rounds": rounds})
before = data.copy()
calls = {
    "kaplan_meier": lambda: ik.kaplan_meier(data, time="t", event="e", by=rng.choice([None, "g"]),
                                            weights="w" if rng.random() < 0.3 else None,
                                            entry="entry" if rng.random() < 0.3 else None,
                                            conf_type=str(rng.choice(["log-log", "log", "plain"]))),
    "logrank": lambda: ik.logrank(data, time="t", event="e", group="g", strata="s" if rng.random() < 0.5 else None,
                                  rho=float(rng.choice([0.0, 1.0]))),
    "concordance": lambda: ik.concordance(data, time="t", event="e", score="x", higher=str(rng.choice(["risk", "time"])),
                                          weights="w" if rng.random() < 0.3 else None, strata="s" if rng.random() < 0.3 else None,
                                          entry="entry" if rng.random() < 0.3 else None, cluster="g" if rng.random() < 0.3 else None),
    "check_ph": lambda: ik.coxph("x + s", data, time="t", event="e", ties=str(rng.choice(["efron", "breslow"])),
                                 entry="entry" if rng.random() < 0.3 else None).check_ph(str(rng.choice(["km", "rank", "identity"]))),
    "discrete_hazard": lambda: ik.discrete_hazard(data.assign(unit=np.arange(n)), id="unit", time="rounds", event="e", formula="x",
                                                  link=str(rng.choice(["logit", "cloglog"]))),
    "effect_persistence": lambda: ik.effect_persistence(data.assign(treat=(data.g == "a").astype(int)), outcome="t", treatment="treat",
                                                        round="s", method=str(rng.choice(["exponential", "ratio"]))),
}
bad = 0
for name, call in calls.items():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = call()
        if name == "kaplan_meier":
            tab = r.table()
            S = tab["survival"].to_numpy()
            ok = np.all((S >= 0) & (S <= 1)) and not np.any(tab["std_error"].to_numpy() < 0)
            r.median()
            if len(tab):
                r.rmst(float(tab["time"].max()) if np.isfinite(tab["time"].max()) and tab["time"].max() > 0 else 1.0)
        elif name == "concordance":
            ok = 0 <= r.estimate <= 1 and not (r.std_error < 0)
        elif name == "check_ph":
            tab = r.table()
            ok = bool(np.all((tab.chisq.to_numpy() >= -1e-8) | np.isnan(tab.chisq.to_numpy())))
        elif name in ("discrete_hazard", "effect_persistence"):
            est = r.coef if name == "discrete_hazard" else r.effects.coef
            ok = bool(np.isfinite(est).all())
        else:
            ok = np.isnan(r.statistic) or r.statistic >= -1e-9
        print(name, "ok" if ok else "BAD RESULT")
        bad += not ok
    except (ik.InvalidInputError, TypeError, ValueError) as ex:
        print(name, "refused:", type(ex).__name__, str(ex)[:100])
        if not str(ex):
            print(name, "BAD: empty message")
            bad += 1
if not data.equals(before):
    print("BAD: the data were modified")
    bad += 1
sys.exit(1 if bad else 0)
