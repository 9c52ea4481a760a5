"""One randomised bad-input case for ik.mann_kendall and ik.sens_slope (run in a subprocess by
tests/python/test_monitoring_fuzz.py): short, tied, constant, huge/tiny/offset series, NaN/inf cells, random
methods, periods, lags and levels. Every call must return finite statistics (p in [0, 1], S equal to the direct
sum of signs, conf_low <= slope <= conf_high) or raise InvalidInputError / TypeError / ValueError, and the
caller's data must be unchanged. Prints one line per call; exits 0 unless a check fails."""
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

assert np.array_equal(x, before, equal_nan=True), "the caller's data changed"
