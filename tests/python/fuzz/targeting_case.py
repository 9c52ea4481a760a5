"""One randomised bad-input case for ik.targeting and the poverty and inequality indices (run in a subprocess by
tests/python/test_targeting_fuzz.py): every call must return (estimates finite or NaN, standard errors
finite, NaN or +inf never negative) or raise InvalidInputError / TypeError / ValueError, and the
caller's data must be unchanged. Prints one line per call; exits 0 unless a check fails."""
import sys
import warnings

import numpy as np
import pandas as pd

import impactkit as ik

seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
n = int(rng.choice([1, 2, 3, 7, 60, 400]))
kind = rng.choice(["lognormal", "ties", "zeros", "negative", "huge", "tiny", "offset"])
y = {"lognormal": np.exp(rng.normal(3, 1, n)), "ties": rng.integers(0, 4, n).astype(float), "zeros": np.zeros(n),
     "negative": rng.normal(0, 5, n), "huge": np.exp(rng.normal(3, 1, n)) * 1e300, "tiny": np.exp(rng.normal(3, 1, n)) * 1e-300,
     "offset": 1e9 + rng.normal(0, 1, n)}[kind]
if rng.random() < 0.2:
    y[rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf])
B = (rng.random(n) < rng.choice([0.0, 0.3, 1.0])).astype(float)
if rng.random() < 0.1:
    B[rng.integers(n)] = 2.0
b = B * rng.uniform(0, 10, n)
w = rng.choice([None, "w"])
weights = rng.uniform(0, 3, n) * (rng.random(n) < rng.choice([1.0, 0.7, 0.0]))
if rng.random() < 0.1:
    weights[rng.integers(n)] = np.nan
data = pd.DataFrame({"y": y, "B": B, "b": b, "w": weights, "T": (rng.random(n) < 0.4),
                     "g": rng.choice(["a", "b", "c"], n), "s": rng.integers(0, 3, n), "p": rng.integers(0, 4, n)})
before = data.copy()
design = None
if rng.random() < 0.4:
    try:
        design = ik.SurveyDesign(data, weights="w", strata="s", psu="p", nest=True,
                                 lonely_psu=str(rng.choice(["fail", "remove", "certainty", "average", "adjust"])))
    except (ik.InvalidInputError, TypeError, ValueError) as e:
        print("design refused:", type(e).__name__, str(e)[:80])
by = rng.choice([None, "g"])
target = [ik.poverty_line(float(np.nanmedian(y)) if np.isfinite(np.nanmedian(y)) else 1.0), ik.relative_line(0.6), ik.bottom(0.2), "T"][rng.integers(4)]
line = target if not isinstance(target, str) else 10.0
calls = {
    "targeting": lambda: ik.targeting(data, welfare="y", beneficiary="B", target=target, benefit=str(rng.choice(["b", "B"])) if rng.random() < 0.7 else None,
                                      design=design, weights=None if design is not None else w, by=by),
    "fgt": lambda: ik.fgt(data, "y", line=line, alpha=int(rng.integers(3)), design=design, weights=None if design is not None else w, by=by),
    "watts": lambda: ik.watts(data, "y", line=line, design=design, weights=None if design is not None else w, by=by),
    "gini": lambda: ik.gini(data, "y", design=design, weights=None if design is not None else w, by=by),
    "theil": lambda: ik.theil(data, "y", design=design, weights=None if design is not None else w, by=by),
    "mld": lambda: ik.mld(data, "y", design=design, weights=None if design is not None else w, by=by),
    "gini_convey": lambda: ik.gini(data, "y", design=design, weights=None if design is not None else w, by=by, convention="convey"),
    "sen": lambda: ik.sen(data, "y", line=line, design=design, weights=None if design is not None else w, by=by),
    "lorenz": lambda: ik.lorenz(data, "y", points=[0.2, 0.5, 1.0], generalized=bool(rng.random() < 0.5), design=design,
                                weights=None if design is not None else w, by=by),
    "quantile_shares": lambda: ik.quantile_shares(data, "y", groups=int(rng.choice([2, 5])), design=design,
                                                  weights=None if design is not None else w, by=by),
    "qsr": lambda: ik.qsr(data, "y", design=design, weights=None if design is not None else w, by=by),
    "concentration_index": lambda: ik.concentration_index(data, str(rng.choice(["b", "B"])), rank_by="y",
                                                          kind=str(rng.choice(["standard", "generalized", "erreygers", "wagstaff"])),
                                                          bounds=None if rng.random() < 0.5 else (0, 10), design=design,
                                                          weights=None if design is not None else w, by=by),
    "kakwani": lambda: ik.kakwani(data, "b", income="y", design=design, weights=None if design is not None else w, by=by),
    "atkinson": lambda: ik.atkinson(data, "y", epsilon=float(rng.choice([0.5, 1.0, 2.0])), design=design,
                                    weights=None if design is not None else w, by=by),
}
bad = 0
for name, call in calls.items():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = call()
        est, se = r.coef.to_numpy(), r.se.to_numpy()
        ok = np.all(np.isfinite(est) | np.isnan(est)) and not np.any(se < 0)
        print(name, "ok" if ok else "BAD RESULT", est[:3], se[:3])
        bad += not ok
    except (ik.InvalidInputError, TypeError, ValueError) as e:
        print(name, "refused:", type(e).__name__, str(e)[:100])
        if not str(e):
            print(name, "BAD: empty message")
            bad += 1
if not data.equals(before):
    print("BAD: the data were modified")
    bad += 1
sys.exit(1 if bad else 0)
