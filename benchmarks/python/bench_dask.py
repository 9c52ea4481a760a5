"""A registry on Dask: the same targeting metrics, FGT and survey means in memory and on 16 partitions of a
local cluster (two worker processes, one thread each), time and agreement.

    .venv/bin/python benchmarks/python/bench_dask.py [--n 1e7] [--partitions 16] [--repeat 2] [--replicates 0]

Data as bench_targeting.py: 50 strata, 2,000 PSUs (40 per stratum), sampling weights, log-normal welfare
with a PSU effect, beneficiaries, benefit amounts, five groups. The dask frame is persisted on the workers
first (its construction is not timed), so the timings compare the estimators, not data loading. Printed:
seconds in memory, seconds on Dask, their ratio, and the largest relative difference of estimates and
standard errors (target ≤ 1e-10). The in-memory call runs on the client's threads (impactkit's OpenMP);
on Dask each worker reduces its partitions to accumulators that are merged in a tree. With --replicates R > 0
(e.g. --n 2e5 --partitions 3 --replicates 20) a Gini under a bootstrap replicate design with R replicate weight
columns is added: every weight set re-estimates the Gini, on one global sort shared by all weight sets.
"""
from __future__ import annotations

import argparse

import numpy as np

from _timing import timed
from bench_targeting import make_data


def max_rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    m = np.isfinite(b) & (np.abs(b) > 0)
    return float(np.max(np.abs(a[m] - b[m]) / np.abs(b[m]))) if m.any() else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--replicates", type=int, default=0)
    a = ap.parse_args()
    import dask.dataframe as dd
    import distributed

    import impactkit as ik

    n = int(a.n)
    df = make_data(n)
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                       memory_limit="8GB")
    client = distributed.Client(cluster)
    try:
        ddf = dd.from_pandas(df, npartitions=a.partitions, sort=False).persist()
        distributed.wait(ddf)
        spec = dict(weights="w", strata="stratum", psu="psu", nest=False)
        print(f"{n:,} rows, 50 strata, 2,000 PSUs, {a.partitions} partitions on 2 worker processes")
        print(f"{'call':44s} {'memory s':>9s} {'dask s':>9s} {'dask/mem':>9s} {'max rel diff (est, se)':>24s}")
        cases = [
            ("targeting, fixed line, by 5 groups",
             lambda d, des: ik.targeting(d, welfare="welfare", beneficiary="B", target=ik.poverty_line(15.0), benefit="benefit",
                                         design=des, by="group")),
            ("targeting, relative line 0.6 (exact median)",
             lambda d, des: ik.targeting(d, welfare="welfare", beneficiary="B", target=ik.relative_line(0.6), benefit="benefit",
                                         design=des)),
            ("fgt(alpha=1), fixed line, by 5 groups",
             lambda d, des: ik.fgt(d, "welfare", line=15.0, alpha=1, design=des, by="group")),
            ("SurveyDesign.mean(welfare, benefit) by group",
             lambda d, des: des.mean(["welfare", "benefit"], by="group")),
            ("gini (global sort by welfare on Dask)",
             lambda d, des: ik.gini(d, "welfare", design=des)),
        ]
        cases = [(name, f, spec) for name, f in cases]
        if a.replicates:  # bootstrap replicate weights: the full weight times Poisson(1) counts
            rng = np.random.default_rng(7)
            names = [f"rep{r}" for r in range(a.replicates)]
            df = df.assign(**{c: df["w"].to_numpy() * rng.poisson(1.0, n) for c in names})
            ddf = dd.from_pandas(df, npartitions=a.partitions, sort=False).persist()
            distributed.wait(ddf)
            cases.append((f"gini, bootstrap design, {a.replicates} replicates", lambda d, des: ik.gini(d, "welfare", design=des),
                          dict(weights="w", replicate_weights=names, replicate_type="bootstrap")))
        for name, f, des in cases:
            mem = ik.SurveyDesign(df, **des)
            t_mem, r_mem = timed(lambda: f(df, mem), a.repeat)
            t_dask, r_dask = timed(lambda: f(ddf, ik.SurveyDesign(ddf, **des)), a.repeat)
            d_est, d_se = max_rel(r_dask.params, r_mem.params), max_rel(r_dask.se, r_mem.se)
            print(f"{name:44s} {t_mem:9.2f} {t_dask:9.2f} {t_dask / t_mem:9.2f} {d_est:12.1e},{d_se:10.1e}")
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
