"""with_vcov without refitting, against refitting, in one run.

    .venv/bin/python benchmarks/python/bench_variance.py [--n 1e7] [--k 10] [--repeat 3]

OLS y ~ x1 + ... + xk on n rows, HC1, then CR1 on 1,000 clusters: `fit.with_vcov(cluster="g")` (the
sandwich from the kept design matrix, residuals and bread; no refit) against a fresh
`ik.ols(..., cluster="g")` (formula, design matrix, fit and variance again). Prints medians and the
ratio, and checks the two variances agree (rel 1e-10). The same for y ~ x1 + x2 + x3 | id + yr
(n/10 id levels, 20 yr levels; the fit keeps its within-transformed design), HC1 -> CR1 on g, and
for IV y ~ x1 + x2 | d ~ z1 + z2 (every variance-dependent diagnostic recomputed; impactkit::iv_with_vcov).
"""
from __future__ import annotations

import argparse
import numpy as np
import pandas as pd

from _timing import timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    n, k = int(a.n), a.k
    import impactkit as ik

    rng = np.random.default_rng(1)
    cols = {f"x{j}": rng.normal(size=n) for j in range(1, k + 1)}
    df = pd.DataFrame(cols)
    df["g"] = rng.integers(0, 1000, n)
    df["y"] = 1 + df["x1"] + rng.normal(size=n)
    formula = "y ~ " + " + ".join(cols)
    fit = ik.ols(formula, df)
    t_fast, fast = timed(lambda: fit.with_vcov(cluster="g"), a.repeat)
    t_refit, ref = timed(lambda: ik.ols(formula, df, cluster="g"), a.repeat)
    agree = np.allclose(fast.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-10)
    print(f"n = {n:,}, k = {k}: with_vcov HC1 -> CR1 {t_fast:.3f} s; refit {t_refit:.3f} s; "
          f"ratio {t_refit / t_fast:.1f}x; variances agree: {agree}")

    df["id"] = rng.integers(0, max(n // 10, 2), n)
    df["yr"] = rng.integers(0, 20, n)
    fe_formula = "y ~ x1 + x2 + x3 | id + yr"
    fit = ik.ols(fe_formula, df)
    t_fast, fast = timed(lambda: fit.with_vcov(cluster="g"), a.repeat)
    t_refit, ref = timed(lambda: ik.ols(fe_formula, df, cluster="g"), a.repeat)
    agree = np.allclose(fast.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-10)
    print(f"n = {n:,}, {fe_formula}: with_vcov HC1 -> CR1 {t_fast:.3f} s; refit {t_refit:.3f} s; "
          f"ratio {t_refit / t_fast:.1f}x; variances agree: {agree}")

    df["z1"], df["z2"] = rng.normal(size=n), rng.normal(size=n)
    df["d"] = df["z1"] + 0.5 * df["z2"] + rng.normal(size=n)
    iv_formula = "y ~ x1 + x2 | d ~ z1 + z2"
    fit = ik.iv(iv_formula, df)
    t_fast, fast = timed(lambda: fit.with_vcov(cluster="g"), a.repeat)
    t_refit, ref = timed(lambda: ik.iv(iv_formula, df, cluster="g"), a.repeat)
    agree = np.allclose(fast.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-10) and \
        np.isclose(fast.kp_f, ref.kp_f, rtol=1e-10)
    print(f"n = {n:,}, IV {iv_formula}: with_vcov HC1 -> CR1 {t_fast:.3f} s; refit {t_refit:.3f} s; "
          f"ratio {t_refit / t_fast:.1f}x; variances and KP F agree: {agree}")


if __name__ == "__main__":
    main()
