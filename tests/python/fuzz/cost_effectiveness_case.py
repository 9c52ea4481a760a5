"""One randomised bad-input case for ik.cea (frontier, CEAC / EVPI, ICER intervals), ik.financial_indicators
and ik.vulnerability (run in a subprocess by tests/python/test_cost_effectiveness_fuzz.py): NaN/inf, equal costs or
effects, one strategy or draw, huge/tiny magnitudes, negative or zero revenue, duplicated years. Every call must
return a valid result (statuses ND/ED/D with the frontier's ICERs increasing, probabilities in [0, 1] summing
to 1, EVPI ≥ 0) or raise InvalidInputError / TypeError / ValueError with a message; the data are unchanged."""
import sys

import numpy as np
import pandas as pd

import impactkit as ik
from runner import run_calls

seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
k = int(rng.choice([1, 2, 3, 6]))
n_draw = int(rng.choice([1, 2, 20]))
scale = float(rng.choice([1.0, 1e-200, 1e200, 1e6]))
cost = rng.choice([rng.normal(1000, 300, (n_draw, k)), np.round(rng.normal(3, 1, (n_draw, k)))]) * scale
effect = rng.choice([rng.normal(5, 1, (n_draw, k)), np.round(rng.normal(2, 1, (n_draw, k)))])
if rng.random() < 0.2:
    effect[:, :] = effect[0, 0]  # equal effects everywhere
if rng.random() < 0.15:
    cost[rng.integers(n_draw), rng.integers(k)] = rng.choice([np.nan, np.inf])
strategies = [f"s{j}" for j in range(k)]
draws = pd.DataFrame({"draw": np.repeat(np.arange(n_draw), k), "strategy": np.tile(strategies, n_draw),
                      "cost": cost.reshape(-1), "effect": effect.reshape(-1)})
if rng.random() < 0.1 and len(draws) > 1:
    draws = draws.iloc[1:]
n_org, n_year = 5, 6
panel = pd.DataFrame({"org": np.repeat(np.arange(n_org), n_year), "year": np.tile(2000 + np.arange(n_year), n_org).astype(float),
                      "s1": rng.choice([rng.uniform(0, 100, 30), np.zeros(30)]),
                      "s2": rng.uniform(-5 if rng.random() < 0.2 else 0, 100, 30),
                      "x": rng.uniform(0, 150, 30), "na": rng.normal(20, 30, 30), "adm": rng.uniform(0, 20, 30)})
if rng.random() < 0.15:
    panel = pd.concat([panel, panel.iloc[[3]]])
if rng.random() < 0.3:
    panel = panel.sample(frac=rng.uniform(0.1, 1), random_state=seed)
if rng.random() < 0.2:
    panel.loc[rng.integers(30), "x"] = rng.choice([np.nan, np.inf])
before = (draws.copy(), panel.copy())


def check_cea():
    r = ik.cea(draws, cost="cost", effect="effect", strategy="strategy", draw="draw" if n_draw > 1 else None)
    t = r.table()
    ok = set(t["status"]) <= {"ND", "ED", "D"}
    fr = t[t["status"] == "ND"]["icer"].to_numpy()[1:]
    ok &= bool(np.all(np.diff(fr) >= -1e-9 * np.abs(fr[1:]))) if len(fr) > 1 else True
    if n_draw > 1:
        c = r.ceac([0.0, 100.0 * scale, 1e4 * scale])
        s = c.groupby("wtp")["probability"].sum().to_numpy()
        ok &= bool(np.all((c["probability"] >= 0) & (c["probability"] <= 1)) and np.allclose(s, 1))
        ok &= bool(np.all(r.evpi([0.0, 100.0]).evpi >= 0))
        if k > 1:
            for m in ("bootstrap", "fieller"):
                out = r.icer_interval("s1", "s0", method=m, replicates=50, seed=seed)
                lo, hi = out["conf_low"], out["conf_high"]
                ok &= bool(np.isnan(lo) or lo <= hi)
    return ok


def check_financial():
    ind = ik.financial_indicators(panel, org="org", year="year", revenue_sources=["s1", "s2"], expenses="x",
                                  net_assets="na", admin_expenses="adm")
    r = ik.vulnerability(ind, org="org")
    c = r.flags["count"].to_numpy()
    return bool(np.all((c >= 0) & (c <= 4)))


bad = run_calls({"cea": check_cea, "financial": check_financial}, lambda name, ok: ok, (draws, panel), before)
sys.exit(1 if bad else 0)
