"""Quantile regression (the PMT's method="quantile"): impactkit beside statsmodels QuantReg and R quantreg.

    .venv/bin/python benchmarks/python/bench_pmt.py [--n 1e5 1e6] [--p 30] [--tau 0.3] [--repeat 1]
                                                   [--statsmodels-max 1e5] [--no-r]

Data: n rows, p columns (an intercept and p − 1 standard normal regressors), y = Xβ + t₃ noise, weights
uniform(0.5, 2) for the weighted impactkit fit. Times (median of --repeat, data generation excluded):
  impactkit  ik._core.quantile_regression (Frisch–Newton, exact vertex), unweighted and weighted, and
             ik.quantreg from a DataFrame with the kernel SEs;
  statsmodels QuantReg(y, X).fit(q=tau) (IRLS, unweighted; up to --statsmodels-max rows);
  R quantreg rq(method = "fnb") (and "pfn" with preprocessing) when Rscript and quantreg are installed,
  timed inside R (system.time) on the same data written to a temporary binary file.
Prints the times, the ratios peer / impactkit and the largest coefficient difference.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np
import pandas as pd

from _timing import timed


def make_data(n: int, p: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))]))
    y = X @ rng.normal(size=p) + rng.standard_t(3, n)
    return X, y, rng.uniform(0.5, 2.0, n)


def time_r(X, y, tau, methods=("fnb", "pfn")):
    """{method: (seconds, coefficients)} timed in R, or {} when R/quantreg are unavailable."""
    if shutil.which("Rscript") is None:
        return {}
    out = {}
    with tempfile.TemporaryDirectory() as d:
        X.ravel(order="F").astype("<f8").tofile(os.path.join(d, "X.bin"))
        y.astype("<f8").tofile(os.path.join(d, "y.bin"))
        for m in methods:
            script = f"""
suppressPackageStartupMessages(library(quantreg))
n <- {len(y)}; p <- {X.shape[1]}
X <- matrix(readBin("{d}/X.bin", "double", n * p, size = 8, endian = "little"), n, p)
y <- readBin("{d}/y.bin", "double", n, size = 8, endian = "little")
t <- system.time(f <- rq.fit(X, y, tau = {tau}, method = "{m}"))[["elapsed"]]
cat(t, coef(f), "\\n")
"""
            r = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=3600)
            if r.returncode != 0:
                return out
            vals = [float(v) for v in r.stdout.split()]
            out[m] = (vals[0], np.array(vals[1:]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, nargs="+", default=[1e5, 1e6])
    ap.add_argument("--p", type=int, default=30)
    ap.add_argument("--tau", type=float, default=0.3)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--statsmodels-max", type=float, default=1e5)
    ap.add_argument("--no-r", action="store_true")
    a = ap.parse_args()
    import impactkit as ik

    print(f"impactkit threads: {ik.get_num_threads()}; p = {a.p}, tau = {a.tau}")
    for n in map(int, a.n):
        X, y, w = make_data(n, a.p)
        none = np.empty(0)
        t_ik, fit = timed(lambda: ik._core.quantile_regression(X, y, none, a.tau, 1e-12, 200, True), a.repeat)
        b = np.asarray(fit["coef"])
        t_w, fw = timed(lambda: ik._core.quantile_regression(X, y, w, a.tau, 1e-12, 200, True), a.repeat)
        df = pd.DataFrame(X[:, 1:], columns=[f"x{j}" for j in range(1, a.p)]).assign(y=y)
        formula = "y ~ " + " + ".join(f"x{j}" for j in range(1, a.p))
        t_df, _ = timed(lambda: ik.quantreg(formula, df, quantile=a.tau), a.repeat)
        print(f"\nn = {n:,}: impactkit {t_ik:.2f} s ({fit['iterations']} iterations, vertex {fit['vertex']}); "
              f"weighted {t_w:.2f} s; ik.quantreg from a DataFrame with kernel SEs {t_df:.2f} s")
        if n <= a.statsmodels_max:
            try:
                import statsmodels.api as sm

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t_sm, s = timed(lambda: sm.QuantReg(y, X).fit(q=a.tau, max_iter=5000), a.repeat)
                print(f"  statsmodels QuantReg {t_sm:.2f} s  ratio {t_sm / t_ik:.1f}x   max |Δcoef| {np.abs(s.params - b).max():.2e}")
            except ImportError:
                print("  statsmodels not installed")
        if not a.no_r:
            for m, (t_r, coef) in time_r(X, y, a.tau).items():
                print(f"  R quantreg rq.fit({m}) {t_r:.2f} s  ratio {t_r / t_ik:.1f}x   max |Δcoef| {np.abs(coef - b).max():.2e}")


if __name__ == "__main__":
    main()
