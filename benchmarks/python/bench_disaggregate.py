"""ik.disaggregate at scale: 10 outcomes × 20 groups × 4 rounds, against one numpy pass over the used columns.

    .venv/bin/python benchmarks/python/bench_disaggregate.py [--rows 1e7] [--repeat 3]

Data (seed 1): person-rounds with a round column (4 values), a group column (20 values, int) and 10
float64 outcomes (five 0/1 indicators and five continuous). impactkit computes, per group and
indicator, baseline and endline means with intervals, the change and relative change with intervals,
the gap to the reference group and Holm-adjusted p-values (repeated cross-sections: iid moments).
The floor is one numpy pass over the 12 used columns (a sum of each), the bandwidth lower bound for
any method that reads the data once. Target: within 5× of it.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import impactkit as ik
from _timing import timed


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {"round": rng.integers(0, 4, n), "group": rng.integers(0, 20, n)}
    for k in range(5):
        cols[f"ind{k}"] = (rng.random(n) < 0.3 + 0.05 * k).astype(np.float64)
        cols[f"val{k}"] = rng.normal(10 + k, 2, n)
    return pd.DataFrame(cols)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=float, nargs="+", default=[1e6, 1e7])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    for n in (int(r) for r in a.rows):
        df = make_data(n)
        outcomes = [c for c in df.columns if c not in ("round", "group")]
        used = [df[c].to_numpy() for c in ["round", "group"] + outcomes]
        t_floor, _ = timed(lambda: [u.sum() for u in used], a.repeat)
        t_ik, res = timed(lambda: ik.disaggregate(df, outcomes=outcomes, by="group", period="round", baseline=0, endline=3,
                                                  overall=False), a.repeat)
        assert len(res.table()) == 10 * 20
        print(f"n={n:>9,}  numpy pass over 12 columns {t_floor * 1e3:8.1f} ms   ik.disaggregate {t_ik * 1e3:8.1f} ms   "
              f"ratio {t_ik / t_floor:5.1f}x (target <= 5x)")


if __name__ == "__main__":
    main()
