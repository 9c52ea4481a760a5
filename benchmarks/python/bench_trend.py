"""Mann–Kendall tests and the Theil–Sen slope: impactkit beside pymannkendall (PyPI), same data, same run.

    .venv/bin/python benchmarks/python/bench_trend.py [--sizes 1e4 1e5] [--alone 1e7] [--repeat 3]

Data: a weak linear trend plus AR(1) noise rounded to 0.01 (so there are ties), seed 1.
(1) At each size: every Mann–Kendall variant (with its Theil–Sen slope) and sens_slope, impactkit vs
    pymannkendall, with the ratio and a check that S, Var(S), z, p, slope agree (rel 1e-10). pymannkendall
    materialises the n(n−1)/2 slopes (8 bytes each): above --peer-max-slopes-gb of them it cannot run the
    full test on this machine, and only its S statistic (the O(n²) sign loop, __mk_score) is timed against
    impactkit's whole original test — say so in the output.
(2) At --alone points: impactkit alone (original test with slope; Sen's interval; Hamed–Rao with all lags).
Target: at least 100× faster than pymannkendall at 1e4 and 1e5.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import impactkit as ik
from _timing import timed

VARIANTS = {
    "original": "original_test",
    "hamed_rao": "hamed_rao_modification_test",
    "yue_wang": "yue_wang_modification_test",
    "prewhitening": "pre_whitening_modification_test",
    "trend_free_prewhitening": "trend_free_pre_whitening_modification_test",
}


def make_series(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n)
    # AR(1) by a cheap recursion in blocks of numpy work: e_t = 0.5 e_{t-1} + u_t
    from scipy.signal import lfilter

    ar = lfilter([1.0], [1.0, -0.5], e)
    return np.round(1e-5 * np.arange(n) + ar, 2)


def bench_size(n: int, repeat: int, peer_max_gb: float) -> None:
    x = make_series(n)
    try:
        import pymannkendall as mk
    except ImportError:
        mk = None
    slopes_gb = n * (n - 1) / 2 * 8 / 1e9
    full_peer = mk is not None and slopes_gb <= peer_max_gb
    print(f"\n== n = {n:,} ({slopes_gb:.1f} GB of pairwise slopes if materialised)")
    print(f"{'call':<34}{'impactkit s':>12}{'peer s':>12}{'ratio':>10}  agreement")
    for method, peer_name in VARIANTS.items():
        t_ik, r = timed(lambda: ik.mann_kendall(x, method=method), repeat)
        if full_peer:
            t_pk, ref = timed(lambda: getattr(mk, peer_name)(x), 1)
            agree = all(abs(a - b) <= 1e-10 * max(1, abs(b)) for a, b in
                        [(r.s, ref.s), (r.var_s, ref.var_s), (r.z, ref.z), (r.p_value, ref.p), (r.slope, ref.slope)])
            print(f"{'mann_kendall ' + method:<34}{t_ik:>12.4f}{t_pk:>12.3f}{t_pk / t_ik:>9.0f}x  {'same' if agree else 'DIFFERENT'}")
        else:
            print(f"{'mann_kendall ' + method:<34}{t_ik:>12.4f}{'-':>12}{'-':>10}")
    t_ik, sen = timed(lambda: ik.sens_slope(x), repeat)
    if full_peer:
        t_pk, ref = timed(lambda: mk.sens_slope(x), 1)
        same = abs(sen.slope - ref.slope) <= 1e-10 * max(1, abs(ref.slope))
        print(f"{'sens_slope (+ Sen interval)':<34}{t_ik:>12.4f}{t_pk:>12.3f}{t_pk / t_ik:>9.0f}x  {'same' if same else 'DIFFERENT'}")
    else:
        print(f"{'sens_slope (+ Sen interval)':<34}{t_ik:>12.4f}{'-':>12}{'-':>10}")
    if mk is not None and not full_peer:
        score = getattr(mk.pymannkendall, "__mk_score")
        t_ik, r = timed(lambda: ik.mann_kendall(x), repeat)
        t_pk, s = timed(lambda: score(x, n), 1)
        print(f"{'original vs peer S loop only':<34}{t_ik:>12.4f}{t_pk:>12.3f}{t_pk / t_ik:>9.0f}x  "
              f"{'same S' if int(s) == r.s else 'DIFFERENT S'}  (peer's full test needs {slopes_gb:.0f} GB: not run)")


def bench_alone(n: int) -> None:
    x = make_series(n)
    print(f"\n== n = {n:,}, impactkit alone")
    for label, f in [("mann_kendall original (+ slope)", lambda: ik.mann_kendall(x)),
                     ("sens_slope (+ Sen interval)", lambda: ik.sens_slope(x)),
                     ("mann_kendall hamed_rao, all lags", lambda: ik.mann_kendall(x, method="hamed_rao")),
                     ("ik._core kendall_s (S only)", lambda: ik._core.monitoring.kendall_s(x))]:
        t0 = time.perf_counter()
        f()
        print(f"{label:<34}{time.perf_counter() - t0:>12.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="*", default=[1e4, 1e5])
    ap.add_argument("--alone", type=float, nargs="*", default=[1e7])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peer-max-slopes-gb", type=float, default=4.0)
    a = ap.parse_args()
    for n in a.sizes:
        bench_size(int(n), a.repeat, a.peer_max_slopes_gb)
    for n in a.alone:
        bench_alone(int(n))


if __name__ == "__main__":
    main()
