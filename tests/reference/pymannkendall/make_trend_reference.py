"""Stored pymannkendall 1.4.3 / scipy results for the C++ trend tests (tests/cpp/monitoring/trend_tests_test.cpp).

    .venv/bin/python tests/reference/pymannkendall/make_trend_reference.py

Writes trend_series.csv (columns: the series, written with 17 significant digits) and trend_reference.csv
(one row per series × method: s, var_s, z, p, tau, slope, intercept from pymannkendall; for method "sens"
the slope, intercept and the 95% interval of scipy.stats.theilslopes in columns z (low) and p (high)).
"""
from pathlib import Path

import numpy as np
import pymannkendall as mk
from scipy import stats

here = Path(__file__).resolve().parent
rng = np.random.default_rng(20261201)
n = 2400  # more than 2^21 pairwise slopes: the C++ selection path, and n·lags > 4e6: the FFT autocorrelations
e = np.zeros(n)
u = rng.normal(size=n)
for i in range(1, n):
    e[i] = 0.5 * e[i - 1] + u[i]
series = {"ar1_trend": 0.0003 * np.arange(n) + e, "ties": np.round(rng.normal(size=n) + 0.00005 * np.arange(n), 1)}
peers = {"original": mk.original_test, "hamed_rao": mk.hamed_rao_modification_test,
         "yue_wang": mk.yue_wang_modification_test, "prewhitening": mk.pre_whitening_modification_test,
         "trend_free_prewhitening": mk.trend_free_pre_whitening_modification_test,
         "seasonal": lambda x: mk.seasonal_test(x, period=12)}
with open(here / "trend_series.csv", "w") as f:
    f.write(",".join(series) + "\n")
    for i in range(n):
        f.write(",".join(f"{series[k][i]:.17g}" for k in series) + "\n")
with open(here / "trend_reference.csv", "w") as f:
    f.write("series,method,s,var_s,z,p,tau,slope,intercept\n")
    for name, x in series.items():
        for method, fn in peers.items():
            r = fn(x)
            f.write(f"{name},{method},{int(r.s)},{r.var_s:.17g},{r.z:.17g},{r.p:.17g},{r.Tau:.17g},"
                    f"{r.slope:.17g},{r.intercept:.17g}\n")
        t = stats.theilslopes(x, np.arange(n), alpha=0.95)
        f.write(f"{name},sens,0,0,{t.low_slope:.17g},{t.high_slope:.17g},0,{t.slope:.17g},{t.intercept:.17g}\n")
