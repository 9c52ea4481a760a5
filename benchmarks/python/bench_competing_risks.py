"""Cumulative incidence (Aalen–Johansen, two causes, cmprsk variance) on 10⁶–10⁷ rows against R cmprsk::cuminc
(via Rscript, timed inside R on the same data written to CSV) and lifelines' AalenJohansenFitter (one cause,
variance off: lifelines' variance is far slower), in the same run; prints seconds and ratios.

    .venv/bin/python benchmarks/python/bench_competing_risks.py [--sizes 1000000 10000000] [--peer-max 1000000]

Against cmprsk the times are in days (integers up to 3650, as programme records: many ties); against
lifelines they are continuous (lifelines jitters tied times), so each peer gets the data it handles.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from _timing import timed  # noqa: E402

import impactkit as ik  # noqa: E402


def data(n: int, seed: int = 1, days: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close, takeover, cens = rng.exponential(2000, n), rng.exponential(4000, n), rng.uniform(0, 3650, n)
    t = np.minimum(np.minimum(close, takeover), cens)
    e = np.where(cens <= np.minimum(close, takeover), 0, np.where(close < takeover, 1, 2))
    return pd.DataFrame({"time": np.ceil(t) if days else t, "event": e, "g": rng.integers(0, 2, n)})


def r_cuminc(d: pd.DataFrame):
    if not shutil.which("Rscript"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        d.to_csv(path, index=False)
        code = (f"suppressMessages(library(cmprsk)); d <- read.csv('{path}'); "
                "t0 <- proc.time()[['elapsed']]; f <- cuminc(d$time, d$event); cat(proc.time()[['elapsed']] - t0)")
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True)
        return float(out.stdout) if out.returncode == 0 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--peer-max", type=int, default=1_000_000, help="largest size the peers are run on")
    args = ap.parse_args()
    print(f"{'rows':>10} {'ik days s':>10} {'cmprsk s':>9} {'ratio':>7} {'ik cont. s':>11} {'lifelines s':>12} {'ratio':>7}")
    fmt = lambda x, w: f"{x:{w}.3f}" if x is not None else f"{'-':>{w}}"  # noqa: E731
    ratio = lambda x, y: f"{x / y:7.1f}" if x is not None else f"{'-':>7}"  # noqa: E731
    for n in args.sizes:
        d = data(n)
        t_days, _ = timed(lambda: ik.cumulative_incidence(d, time="time", event="event"), 3)
        r_s = r_cuminc(d) if n <= args.peer_max else None
        dc = data(n, days=False)
        t_cont, res = timed(lambda: ik.cumulative_incidence(dc, time="time", event="event"), 3)
        l_s = None
        if n <= args.peer_max:
            try:
                import lifelines

                def life():
                    return lifelines.AalenJohansenFitter(calculate_variance=False).fit(dc["time"], dc["event"], event_of_interest=1)
                l_s, ajf = timed(life, 1)
                lt = ajf.cumulative_density_.index.to_numpy(dtype=float)
                got = res.cif_at(lt)
                got = got[got["cause"] == 1]["incidence"].to_numpy()
                assert np.allclose(got, ajf.cumulative_density_.iloc[:, 0].to_numpy(), atol=1e-10), "lifelines differs"
            except ImportError:
                pass
        print(f"{n:>10} {t_days:10.3f} {fmt(r_s, 9)} {ratio(r_s, t_days)} {t_cont:11.3f} {fmt(l_s, 12)} {ratio(l_s, t_cont)}")


if __name__ == "__main__":
    main()
