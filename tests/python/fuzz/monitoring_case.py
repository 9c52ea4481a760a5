"""One randomised bad-input case for the monitoring tools (run in a subprocess by tests/python/test_monitoring_fuzz.py):
ik.mann_kendall and ik.sens_slope on short, tied, constant, huge/tiny/offset series with NaN/inf cells and random
methods, periods, lags and levels; ik.proportion / ik.rate on random (sometimes invalid) counts; ik.control_chart of
every kind on the same counts; ik.lqas_rule and classify. Every call must return finite results (p in [0, 1], S equal
to the direct sum of signs, conf_low <= slope <= conf_high, intervals containing the estimate, limits around the
centre) or raise InvalidInputError / TypeError / ValueError, and the caller's data must be unchanged. Prints one
line per call; exits 0 unless a check fails."""
import sys

import numpy as np

import impactkit as ik

seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
n = int(rng.choice([0, 1, 2, 3, 5, 13, 60, 700, 2500]))
kind = rng.choice(["normal", "ties", "constant", "huge", "tiny", "offset", "trend"])
x = {"normal": rng.normal(size=n), "ties": rng.integers(0, 3, n).astype(float), "constant": np.full(n, 4.0),
     "huge": rng.normal(size=n) * 1e300, "tiny": rng.normal(size=n) * 1e-300, "offset": 1e9 + rng.normal(size=n),
     "trend": np.arange(n) * rng.normal() + rng.normal(size=n)}[kind]
if n and rng.random() < 0.2:
    x[rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf])
before = x.copy()
ok_errors = (ik.InvalidInputError, TypeError, ValueError)

for _ in range(4):
    method = str(rng.choice(["original", "hamed_rao", "yue_wang", "prewhitening", "trend_free_prewhitening", "seasonal"]))
    period = int(rng.choice([2, 3, 12])) if method == "seasonal" or rng.random() < 0.1 else None
    lag = int(rng.choice([1, 2, 5])) if method in ("hamed_rao", "yue_wang") and rng.random() < 0.5 else None
    try:
        r = ik.mann_kendall(x, method=method, period=period, lag=lag, alpha=float(rng.choice([0.01, 0.05, 0.2])))
    except ok_errors as e:
        print(method, "refused:", type(e).__name__, str(e)[:90])
        continue
    assert np.isfinite([r.var_s, r.z, r.p_value, r.tau, r.slope, r.intercept]).all(), r
    assert 0 <= r.p_value <= 1 and -1 <= r.tau <= 1 and r.var_s >= 0, r
    if method == "original" and n <= 3000:
        d = np.sign(x[None, :] - x[:, None])
        assert r.s == int(np.triu(d, 1).sum()), (r.s, int(np.triu(d, 1).sum()))
    print(method, r)

try:
    s = ik.sens_slope(x, level=float(rng.choice([0.5, 0.9, 0.99])), period=int(rng.choice([2, 4])) if rng.random() < 0.3 else None)
    assert np.isfinite([s.slope, s.conf_low, s.conf_high, s.intercept]).all(), s
    assert s.conf_low <= s.slope <= s.conf_high, s
    print("sens", s)
except ok_errors as e:
    print("sens refused:", type(e).__name__, str(e)[:90])

k = int(rng.choice([0, 1, 2, 5, 30]))
trials = rng.integers(1, 60, k).astype(float) * rng.choice([1.0, 1e6])
succ = np.floor(trials * rng.uniform(0, 1, k))
if k and rng.random() < 0.3:
    succ[rng.integers(k)] = rng.choice([np.nan, -1.0, 1e9, np.inf])
if k and rng.random() < 0.2:
    trials[rng.integers(k)] = rng.choice([0.0, -3.0, np.nan])
c0, t0 = succ.copy(), trials.copy()
for method in ["wilson", "clopper_pearson", "jeffreys", "agresti_coull", "normal"]:
    try:
        r = ik.proportion(succ, trials, method=method, level=float(rng.choice([0.5, 0.95, 0.999])))
        lo, hi, est = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (r.conf_low, r.conf_high, r.estimate))
        assert np.isfinite(lo).all() and np.isfinite(hi).all() and (lo >= 0).all() and (hi <= 1).all(), r
        if method != "jeffreys":  # statsmodels' Jeffreys has no boundary fix: at 0 or n it excludes the estimate
            assert (lo <= est + 1e-12).all() and (est <= hi + 1e-12).all(), (method, lo, est, hi)
        print(method, "ok")
    except ok_errors as e:
        print(method, "refused:", type(e).__name__, str(e)[:90])
try:
    r = ik.rate(succ, trials, per=float(rng.choice([1.0, 1000.0])))
    assert (np.asarray(r.conf_low) <= np.asarray(r.estimate)).all() and (np.asarray(r.estimate) <= np.asarray(r.conf_high)).all()
    print("rate ok")
except ok_errors as e:
    print("rate refused:", type(e).__name__, str(e)[:90])
for kind in ["p", "np", "c", "u", "xmr", "laney_p"]:
    try:
        phase1 = None if rng.random() < 0.5 else (int(rng.integers(0, 3)), int(rng.integers(1, 40)))
        ch = ik.control_chart(succ, kind=kind, sizes=trials, phase1=phase1, revise=bool(rng.random() < 0.5),
                              rules=str(rng.choice(["nelson", "western_electric", "none"])))
        t = ch.tidy()
        assert np.isfinite(t[["statistic", "centre", "lower", "upper"]].to_numpy()).all(), t
        assert (t["lower"] <= t["centre"] + 1e-12).all() and (t["centre"] <= t["upper"] + 1e-12).all(), t
        print(kind, "chart ok")
    except ok_errors as e:
        print(kind, "chart refused:", type(e).__name__, str(e)[:90])
try:
    n_l = int(rng.choice([0, 1, 5, 19, 50]))
    up = float(rng.uniform(-0.1, 1.1))
    rule = ik.lqas_rule(n_l, up, up - float(rng.uniform(-0.1, 0.5)))
    assert 0 <= rule.alpha <= 1 and 0 <= rule.beta <= 1 and 0 <= rule.rule <= n_l
    print(rule, rule.classify(rng.integers(0, n_l + 1, 4)).shape)
except ok_errors as e:
    print("lqas refused:", type(e).__name__, str(e)[:90])
assert np.array_equal(succ, c0, equal_nan=True) and np.array_equal(trials, t0, equal_nan=True), "counts changed"
assert np.array_equal(x, before, equal_nan=True), "the caller's data changed"
