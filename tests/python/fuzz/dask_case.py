"""One randomised case for the Dask paths (run in a subprocess by tests/python/test_dask_fuzz.py): the data
of tests/python/fuzz/targeting_case.py (NaN/inf, ties, huge/tiny/offset welfare, zero/NaN weights,
invalid indicators, lonely PSUs under every rule) split into 1–6 random partitions (some empty or one row)
on dask's synchronous scheduler. Every call must either refuse on both paths (ValueError / TypeError with a
message) or give the in-memory numbers (relative 1e-9; NaN where in memory NaN); a corrupted accumulator
state must be refused; the caller's data unchanged. Exits 0 unless a check fails."""
import pickle
import sys
import warnings

import numpy as np
import pandas as pd

import dask
import dask.dataframe as dd

import impactkit as ik
from impactkit import _core

dask.config.set(scheduler="synchronous")
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
weights = rng.uniform(0, 3, n) * (rng.random(n) < rng.choice([1.0, 0.7, 0.0]))
if rng.random() < 0.1:
    weights[rng.integers(n)] = np.nan
data = pd.DataFrame({"y": y, "B": B, "b": b, "w": weights, "T": (rng.random(n) < 0.4),
                     "g": rng.choice(["a", "b", "c"], n), "s": rng.integers(0, 3, n), "p": rng.integers(0, 4, n),
                     "p2": rng.integers(0, 3, n), "hh": rng.integers(0, max(1, n // 2), n) if rng.random() < 0.5 else np.arange(n)})
data["f1"] = 10.0  # stage-1 population per stratum, stage-2 per PSU (multistage designs)
data["f2"] = 5.0
for r in range(3):
    data[f"r{r}"] = np.abs(weights) * rng.uniform(0.5, 1.5, n) if rng.random() < 0.95 else -1.0
before = data.copy()
cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(0, 6))))
pieces = [data.iloc[a:c] for a, c in zip(np.r_[0, cuts], np.r_[cuts, n])]
ddf = dd.from_delayed([dask.delayed(p.copy)() for p in pieces], meta=data.iloc[:0], verify_meta=False)

spec = None
if rng.random() < 0.5:
    spec = dict(weights="w", strata="s", psu="p", nest=True, lonely_psu=str(rng.choice(["fail", "remove", "certainty", "average", "adjust"])))
    if rng.random() < 0.3:  # multistage with an FPC at every stage
        spec.update(psu=["p", "p2"], fpc=["f1", "f2"])
w = rng.choice([None, "w"])
by = rng.choice([None, "g"])
target = [ik.poverty_line(float(np.nanmedian(y)) if np.isfinite(np.nanmedian(y)) else 1.0), ik.relative_line(0.6), ik.bottom(0.2), "T"][rng.integers(4)]
line = target if not isinstance(target, str) else 10.0
alpha = int(rng.integers(3))
benefit = str(rng.choice(["b", "B"])) if rng.random() < 0.7 else None
epsilon = float(rng.choice([0.5, 1.0, 2.0]))


def design_kw(frame):
    if spec is None:
        return dict(weights=w)
    return dict(design=ik.SurveyDesign(frame, **spec))


calls = {
    "targeting": lambda f: ik.targeting(f, welfare="y", beneficiary="B", target=target, benefit=benefit, by=by, **design_kw(f)),
    "fgt": lambda f: ik.fgt(f, "y", line=line, alpha=alpha, by=by, **design_kw(f)),
    "gini": lambda f: ik.gini(f, "y", by=by, **design_kw(f)),
    "mean": lambda f: (ik.SurveyDesign(f, **spec) if spec else ik.SurveyDesign(f, weights="w")).mean("y", by=by),
    "households": lambda f: ik.targeting(f, welfare="y", beneficiary="B", target=target, by=by, unit="households", household="hh",
                                         **design_kw(f)),
    "theil": lambda f: ik.theil(f, "y", by=by, **design_kw(f)),
    "atkinson": lambda f: ik.atkinson(f, "y", epsilon=epsilon, by=by, **design_kw(f)),
    "lorenz": lambda f: ik.lorenz(f, "y", points=[0.2, 0.5, 1.0], by=by, **design_kw(f)),
    "qsr": lambda f: ik.qsr(f, "y", by=by, **design_kw(f)),
    "concentration": lambda f: ik.concentration_index(f, "b", rank_by="y", by=by, **design_kw(f)),
    "sen": lambda f: ik.sen(f, "y", line=line, by=by, **design_kw(f)),
    "quantile": lambda f: (ik.SurveyDesign(f, **spec) if spec else ik.SurveyDesign(f, weights="w")).quantile("y", [0.25, 0.5], by=by),
    "replicate": lambda f: ik.SurveyDesign(f, weights="w", replicate_weights=["r0", "r1", "r2"], replicate_type="bootstrap").mean("y", by=by),
}
bad = 0
for name, call in calls.items():
    outcome = []
    for frame in (data, ddf):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = call(frame)
            outcome.append((r.coef.to_numpy(), r.vcov.to_numpy()))
        except (ik.InvalidInputError, TypeError, ValueError) as e:
            if not str(e):
                print(name, "BAD: empty message")
                bad += 1
            outcome.append(str(e)[:90])
    mem, dsk = outcome
    if isinstance(mem, str) or isinstance(dsk, str):
        same = isinstance(mem, str) and isinstance(dsk, str)
        print(name, "both refused" if same else "BAD: one path refused", mem if isinstance(mem, str) else "", "|", dsk if isinstance(dsk, str) else "")
        bad += not same
        continue
    ok = True
    # welfare ~1e9 + N(0, 1) gives G ~ 1e-10: the in-memory Gini (long double, uncentred) keeps ~7 digits there,
    # the Dask path (centred) ~15 (checked against exact rational arithmetic); compare those loosely
    # (the same holds for every index on such data: a mean's variance, Lorenz ordinates ≈ p, and Theil / Atkinson
    # values ~1e-19, below the resolution of their double sums: compared to 1e-12 absolute)
    rtol = 1e-5 if kind == "offset" else 1e-9
    atol = 1e-12 if (kind == "offset" and name in ("theil", "atkinson")) else 0.0
    # floors at double resolution: estimates 1e-15 of max(1, |θ|) (an index exactly 0 in memory, ~1e-17 summed
    # in another order), (co)variances 1e-26 of max(1, θ²) (a Lorenz L(1) has zero variance in memory)
    est = mem[0][np.isfinite(mem[0])]
    est_scale = min(1e150, max(1.0, float(np.max(np.abs(est))))) if est.size else 1.0
    for a, c, floor in zip(dsk, mem, (1e-15 * est_scale, 1e-26 * est_scale ** 2)):
        ok &= a.shape == c.shape and np.array_equal(np.isnan(a), np.isnan(c))
        m = np.isfinite(c)
        scale = np.max(np.abs(c[m])) if m.any() else 1.0
        ok &= bool(np.all(np.abs(a[m] - c[m]) <= rtol * np.abs(c[m]) + 1e-2 * rtol * scale + atol + floor))
    diff = [float(np.nanmax(np.abs(a - c))) if a.shape == c.shape and a.size else np.nan for a, c in zip(dsk, mem)]
    print(name, "equal" if ok else "BAD: differ", mem[0][:3], dsk[0][:3], "max |diff| (estimates, vcov):", diff)
    bad += not ok

# a corrupted accumulator state is refused, never read out of bounds
acc = _core.variance.DesignAccumulator(1, 1, False, False)
acc.update_columns(strata=None, psu=np.arange(3, dtype=np.int64), fpc=None, columns=[np.ones(3)], weights=None, domain=None, with_weights=False)
state = list(acc.__getstate__())
k = int(rng.integers(5, 11))
state[k] = np.zeros(int(rng.integers(0, 6)), dtype=np.int64 if k < 9 else np.float64) if k < 10 else np.zeros((2, 3))
try:
    _core.variance.DesignAccumulator.__new__(_core.variance.DesignAccumulator).__setstate__(tuple(state))
    restored = pickle.loads(pickle.dumps(acc))
    print("state", k, "accepted (consistent)", restored.rows)
except (ik.InvalidInputError, TypeError, ValueError) as e:
    print("state", k, "refused:", str(e)[:80])

if not data.equals(before):
    print("BAD: the data were modified")
    bad += 1
sys.exit(1 if bad else 0)
