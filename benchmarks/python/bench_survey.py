"""Complex-survey estimates: impactkit beside `svy` (PyPI) on the same generated data, in one run.

    .venv/bin/python benchmarks/python/bench_survey.py [--n 1e6] [--repeat 3] [--no-svy]

Design: 50 strata, 2,000 PSUs (40 per stratum), sampling weights, no FPC. Estimates: mean, proportion
(binary outcome), ratio, 5 domain means, and the svyglm-equivalent OLS with design SEs.
Prints, per case, the median wall time of impactkit and svy and their ratio, and for the repeated
estimates on a built design the ratio to one numpy pass over the estimate's columns (a weighted sum
w·y, the floor for any design estimate). Agreement of estimates and SEs is checked (rel 1e-8).
`svy` is timed from the DataFrame (`Sample` construction included) like impactkit (design included).
"""
from __future__ import annotations

import argparse
import numpy as np
import pandas as pd

from _timing import timed


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, 2000, n)
    stratum = psu // 40
    u = rng.normal(size=2000)[psu]
    x = rng.gamma(2.0, 1.0, n) + 1
    y = 2 + 0.5 * x + u + rng.normal(size=n)
    return pd.DataFrame({"stratum": stratum, "psu": psu, "w": rng.uniform(1, 5, n), "y": y, "x": x,
                         "b": (y > 3).astype(np.float64), "region": rng.integers(0, 5, n)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-svy", action="store_true")
    a = ap.parse_args()
    n = int(a.n)
    import impactkit as ik

    df = make_data(n)
    w, y = df.w.to_numpy(), df.y.to_numpy()
    t_pass, _ = timed(lambda: w @ y, max(5, a.repeat))
    print(f"n = {n:,}, 50 strata, 2,000 PSUs; one numpy pass w @ y: {t_pass * 1e3:.1f} ms")

    d = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    cases = {
        "mean": lambda d: d.mean("y"),
        "proportion": lambda d: d.mean("b"),
        "ratio": lambda d: d.ratio("y", "x"),
        "5 domain means": lambda d: d.mean("y", by="region"),
    }
    ik_results = {}
    print(f"\n{'case':<18}{'impactkit (built design)':>26}{'/ numpy pass':>14}")
    for name, f in cases.items():
        t, r = timed(lambda: f(d), a.repeat)
        ik_results[name] = r
        print(f"{name:<18}{t * 1e3:>23.1f} ms{t / t_pass:>13.1f}x")

    def ik_all():
        dd = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
        return [f(dd) for f in cases.values()]

    t_ik_all, _ = timed(ik_all, a.repeat)
    t_ik_ols, fit = timed(lambda: ik.ols("y ~ x", df, design=ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu")), a.repeat)
    print(f"\nfrom the DataFrame (design construction included):")
    print(f"  impactkit: 4 estimates {t_ik_all:.3f} s; svyglm-equivalent OLS {t_ik_ols:.3f} s")

    if a.no_svy:
        return
    try:
        import polars as pl
        import svy
    except ImportError:
        print("  svy not installed: see tests/python/test_survey_svy_live.py for the install line")
        return
    pdf = pl.from_pandas(df) if hasattr(pl, "from_pandas") else pl.DataFrame({c: df[c].to_numpy() for c in df.columns})

    def svy_all():
        s = svy.Sample(pdf, svy.Design(stratum="stratum", psu="psu", wgt="w"))
        e = s.estimation
        return [e.mean("y"), e.mean("b"), e.ratio("y", "x"), e.mean("y", by="region")]

    t_svy_all, svy_out = timed(svy_all, a.repeat)
    print(f"  svy:       4 estimates {t_svy_all:.3f} s  -> impactkit {t_svy_all / t_ik_all:.1f}x faster")
    # agreement
    for (name, r), e in zip(ik_results.items(), svy_out):
        t = pd.DataFrame(e.to_polars().to_dict(as_series=False))
        est_col = [c for c in t.columns if c.lower() in ("est", "estimate", "mean", "ratio")][0]
        se_col = [c for c in t.columns if c.lower() in ("se", "stderror", "std_error")][0]
        ok_est = np.allclose(np.sort(r.coef.to_numpy()), np.sort(t[est_col].to_numpy(dtype=float)), rtol=1e-8)
        ok_se = np.allclose(np.sort(r.se.to_numpy()), np.sort(t[se_col].to_numpy(dtype=float)), rtol=1e-8)
        print(f"  agreement {name:<16} estimate {'ok' if ok_est else 'DIFFERS'}, SE {'ok' if ok_se else 'DIFFERS'}")


if __name__ == "__main__":
    main()
