"""Cost-effectiveness from probabilistic draws: impactkit (C++) beside the plain numpy computation an analyst
would write (the formulas of dampack's ceac / calc_evpi, vectorised over draws), same data, same run.

    .venv/bin/python benchmarks/python/bench_cost_effectiveness.py [--draws 1e5 1e6] [--strategies 5] [--lambdas 200]

(1) CEAC + EVPI over a λ grid: ik.cea(...).ceac / .evpi (one C++ pass over draws per λ, threads over λ) vs
    numpy (NMB matrix per λ, argmax, means); agreement of the probabilities and EVPI is checked (1e-10).
(2) ICER paired bootstrap (2000 replicates): ik.cea(...).icer_interval(...) vs a numpy bootstrap drawing an
    index matrix per replicate (the same computation, different random numbers: only the timing is compared).
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import impactkit as ik
from _timing import timed


def make_draws(n: int, k: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    C = rng.normal(1000, 200, (n, k)) + np.arange(k) * 150
    E = rng.normal(1, 0.3, (n, k)) + np.arange(k) * 0.05
    return C, E


def numpy_ceac_evpi(C, E, lambdas):
    k = C.shape[1]
    P = np.empty((len(lambdas), k))
    evpi = np.empty(len(lambdas))
    for l, lam in enumerate(lambdas):
        nmb = lam * E - C
        best = nmb.argmax(axis=1)
        P[l] = np.bincount(best, minlength=k) / len(C)
        evpi[l] = nmb.max(axis=1).mean() - nmb.mean(axis=0).max()
    return P, evpi


def numpy_bootstrap(dc, de, B, seed=1):
    rng = np.random.default_rng(seed)
    n = len(dc)
    out = np.empty(B)
    for b in range(B):
        i = rng.integers(0, n, n)
        out[b] = dc[i].sum() / de[i].sum()
    return np.percentile(out, [2.5, 97.5])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", nargs="+", type=float, default=[1e5, 1e6])
    ap.add_argument("--strategies", type=int, default=5)
    ap.add_argument("--lambdas", type=int, default=200)
    ap.add_argument("--replicates", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"threads: {ik.get_num_threads()}")
    for nf in a.draws:
        n = int(nf)
        C, E = make_draws(n, a.strategies)
        names = [f"s{j}" for j in range(a.strategies)]
        df = pd.DataFrame({"draw": np.repeat(np.arange(n), a.strategies), "strategy": np.tile(names, n),
                           "cost": C.reshape(-1), "effect": E.reshape(-1)})
        res = ik.cea(df, cost="cost", effect="effect", strategy="strategy", draw="draw")
        lambdas = np.linspace(0, 10000, a.lambdas)
        t_ik, _ = timed(lambda: (res.ceac(lambdas), res.evpi(lambdas)), a.repeat)
        t_np, (P, ev) = timed(lambda: numpy_ceac_evpi(C, E, lambdas), 1)
        mine = res.ceac(lambdas).pivot(index="wtp", columns="strategy", values="probability")[names].to_numpy()
        same = np.allclose(mine, P, atol=1e-12) and np.allclose(res.evpi(lambdas)["evpi"], ev, rtol=1e-10, atol=1e-9)
        print(f"n = {n:,} draws x {a.strategies} strategies, {a.lambdas} lambdas")
        print(f"  CEAC+EVPI   impactkit {t_ik:8.3f} s   numpy {t_np:8.3f} s   ratio {t_np / t_ik:6.1f}x   {'same' if same else 'DIFFERENT'}")
        dc, de = C[:, 1] - C[:, 0], E[:, 1] - E[:, 0]
        B = a.replicates if n <= 1e5 else max(200, a.replicates // 10)
        t_ik, _ = timed(lambda: res.icer_interval("s1", "s0", replicates=B, seed=1), a.repeat)
        t_np, _ = timed(lambda: numpy_bootstrap(dc, de, B), 1)
        print(f"  bootstrap B={B}  impactkit {t_ik:8.3f} s   numpy {t_np:8.3f} s   ratio {t_np / t_ik:6.1f}x")


if __name__ == "__main__":
    main()
