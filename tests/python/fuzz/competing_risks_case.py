"""One randomised bad-input case for ik.cumulative_incidence, ik.gray_test and ik.finegray (run in a subprocess by
tests/python/test_competing_risks_fuzz.py): every call must return (incidence in [0, 1], summing over causes
to at most 1, standard errors never negative or NaN, a chi-square ≥ 0 or NaN) or raise InvalidInputError /
TypeError / ValueError with a message, and the caller's data must be unchanged. Exits 0 unless a check fails."""
import sys

import numpy as np
import pandas as pd

import impactkit as ik
from runner import run_calls

seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
n = int(rng.choice([1, 2, 3, 8, 50, 300]))
kind = rng.choice(["exp", "ties", "huge", "tiny", "offset", "negative"])
t = {"exp": rng.exponential(5, n), "ties": rng.integers(0, 4, n).astype(float), "huge": rng.exponential(1, n) * 1e300,
     "tiny": rng.exponential(1, n) * 1e-300, "offset": 1e9 + rng.exponential(1, n), "negative": rng.normal(0, 3, n)}[kind]
if rng.random() < 0.15:
    t[rng.integers(n)] = rng.choice([np.nan, np.inf])
e = rng.choice([0, 1, 2, 3], n, p=rng.dirichlet(np.ones(4))).astype(float)
if rng.random() < 0.1:
    e[rng.integers(n)] = rng.choice([np.nan, np.inf, 2.5])
data = pd.DataFrame({"t": t, "e": e, "g": rng.choice(["a", "b", "c"], n), "s": rng.integers(0, 2, n),
                     "x": rng.normal(0, 1, n) * rng.choice([1.0, 1e-200, 1e200])})
before = data.copy()
calls = {
    "cumulative_incidence": lambda: ik.cumulative_incidence(data, time="t", event="e", by=rng.choice([None, "g"]),
                                                            conf_type=str(rng.choice(["log-log", "log", "plain"]))),
    "gray_test": lambda: ik.gray_test(data, time="t", event="e", group="g", strata="s" if rng.random() < 0.5 else None,
                                      rho=float(rng.choice([0.0, 1.0]))),
    "finegray": lambda: ik.finegray("x", data, time="t", event="e", cause=float(rng.choice([1.0, 2.0])),
                                    cengroup="g" if rng.random() < 0.5 else None),
}


def check(name, r):
    if name == "cumulative_incidence":
        tab = r.table()
        F, se = tab["incidence"].to_numpy(), tab["std_error"].to_numpy()
        keys = [c for c in ("g", "time") if c in tab.columns]
        total = tab.groupby(keys)["incidence"].sum().to_numpy()
        r.cif_at([0.0, 1.0])
        return (np.all((F >= 0) & (F <= 1 + 1e-12)) and np.all(se >= 0) and np.all(total <= 1 + 1e-12)
                and not np.isnan(tab[["conf_low", "conf_high"]].to_numpy()[F < 1]).any())
    if name == "finegray":
        return np.all(np.isfinite(r.coef)) and np.all(np.asarray(r.se) >= 0)
    s = r.table()["statistic"].to_numpy()
    return np.all(np.isnan(s) | (s >= -1e-9))


sys.exit(1 if run_calls(calls, check, data, before) else 0)
