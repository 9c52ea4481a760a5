"""One randomised bad-input case for ik.quantreg and ik.pmt (score, cutoff, evaluate), run in a subprocess
by tests/python/test_pmt_fuzz.py: every call must return finite (or NaN where undefined) numbers or raise
InvalidInputError / TypeError / ValueError (ConvergenceError is a ValueError), and the caller's data must
be unchanged. Prints one line per call; exits 0 unless a check fails."""
import sys
import warnings

import numpy as np
import pandas as pd

import impactkit as ik

seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
n = int(rng.choice([1, 2, 4, 9, 40, 300]))
kind = rng.choice(["lognormal", "ties", "huge", "tiny", "offset", "zeros"])
base = {"lognormal": np.exp(rng.normal(6, 1, n)), "ties": rng.integers(1, 4, n).astype(float) * 100,
        "huge": np.exp(rng.normal(6, 1, n)) * 1e250, "tiny": np.exp(rng.normal(6, 1, n)) * 1e-250,
        "offset": 1e9 + rng.normal(0, 1, n), "zeros": np.zeros(n)}[kind]
if rng.random() < 0.2:
    base[rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf, -1.0])
rooms = rng.integers(1, 5, n).astype(float)
if rng.random() < 0.15:
    rooms[:] = 2.0  # constant regressor: collinear with the intercept
if rng.random() < 0.1:
    rooms[rng.integers(n)] = rng.choice([np.nan, np.inf])
w = rng.uniform(0, 3, n) * (rng.random(n) < rng.choice([1.0, 0.9]))
if rng.random() < 0.1:
    w[rng.integers(n)] = np.nan
data = pd.DataFrame({"cons": base, "rooms": rooms, "x": rng.normal(size=n), "roof": rng.choice(["a", "b", "c"], n),
                     "v": rng.integers(0, 5, n), "w": w})
before = data.copy()
method = str(rng.choice(["ols", "quantile", "logit"]))
line = float(np.nanquantile(base[np.isfinite(base)], 0.3)) if np.isfinite(base).any() else 1.0
if rng.random() < 0.1:
    line = float(rng.choice([0.0, -1.0, np.nan]))
weights = rng.choice([None, "w"])
formula = str(rng.choice(["np.log(cons) ~ rooms + x + C(roof)", "cons ~ rooms + x", "np.log(cons) ~ x"]))
kw = {"quantile": float(rng.choice([0.2, 0.5, 0.9]))} if method == "quantile" else {}
if method == "logit":
    kw["target"] = ik.poverty_line(line) if np.isfinite(line) else ik.poverty_line(1.0)
bad = 0
OK = (ik.InvalidInputError, TypeError, ValueError)


def check(name, f):
    global bad
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = f()
        print(name, "ok")
        return out
    except OK as e:
        print(name, "refused:", type(e).__name__, str(e)[:100])
    except Exception as e:  # anything else is a failure
        print(name, "UNEXPECTED", type(e).__name__, e)
        bad += 1
    return None


q = check("quantreg", lambda: ik.quantreg(formula, data, quantile=float(rng.uniform(0.05, 0.95)), weights=weights))
if q is not None:
    if not (np.all(np.isfinite(q.coef)) and np.all(np.isfinite(q.se) | np.isnan(q.se))):
        print("quantreg: non-finite estimate", q.coef.to_numpy())
        bad += 1
p = check("pmt", lambda: ik.pmt(formula, data, method=method, weights=weights, **kw))
if p is not None:
    s = check("score", lambda: p.score(data.sample(frac=1.0, random_state=seed)))
    check("cutoff", lambda: p.cutoff(coverage=float(rng.uniform(0.05, 0.95))))
    ev = check("evaluate", lambda: p.evaluate(data, line=line, folds=int(rng.choice([2, 3, 5])),
                                              groups=rng.choice([None, "v"]), seed=seed))
    if ev is not None:
        e = ev.errors[["exclusion_error", "inclusion_error_beneficiaries", "inclusion_error_nontarget"]].to_numpy()
        if np.any((e < 0) | (e > 1)):
            print("evaluate: error rate outside [0, 1]")
            bad += 1
        if not (np.isnan(ev.auc) or 0 <= ev.auc <= 1):
            print("evaluate: AUC outside [0, 1]")
            bad += 1
if not data.equals(before):
    print("data modified")
    bad += 1
sys.exit(1 if bad else 0)
