#!/usr/bin/env python
"""Time impactkit's OLS against its Python peers on the same generated data (DESIGN.md §7).

For each n: one data set (intercept + k-1 standard-normal regressors, a 1000-level cluster id, an
outcome with a cluster shock) is generated once; then every method is run --repeat times and the
best wall-clock time is kept, for a heteroskedasticity-robust (HC1) and a cluster-robust (CR1)
variance:

  impactkit (formula)  ik.ols("y ~ x1 + ... ", df, vcov="HC1" | cluster="cid")
  impactkit (arrays)   impactkit._core.ols(X, y, vcov=_core.make_vcov_spec(...))   (no formula / pandas work)
  statsmodels          sm.OLS(y, X).fit(cov_type="HC1" | "cluster")
  linearmodels         linearmodels.OLS(y, X).fit(cov_type="robust" | "clustered", debiased=True)
  pyfixest             pf.feols("y ~ x1 + ...", df, vcov="hetero" | {"CRV1": "cid"})
  numpy lower bound    X.sum() over the same n×k float64 matrix (one read pass)

All conventions coincide (HC1 n/(n-k); CR1 G/(G-1)(n-1)/(n-k)), so coefficients and standard errors
must agree; the largest relative difference to impactkit (formula path) is printed. A missing peer
is skipped with a message. Ratios are peer time / impactkit time (> 1: impactkit faster).

  .venv/bin/python benchmarks/python/compare_peers.py                 # n = 10^6, ~1 min on 2 cores
  .venv/bin/python benchmarks/python/compare_peers.py --sizes 1e5 1e6 1e7 --repeat 2 --json out.json

HDFE case (--hdfe N, issue 3's speed bar): y ~ x1 + x2 + x3 | id + yr with id at N/10 levels and yr
at 20, CR1 clustered on id, data generated once as a pandas DataFrame; timed from the in-memory data
frame to the clustered result for impactkit, pyfixest (fixef_rm="singleton", the same singleton
rule) and R fixest when `Rscript` with fixest is installed (data handed over through a temporary
CSV whose reading is not timed; fixef.rm = "singleton"). Also prints peak resident memory.

  .venv/bin/python benchmarks/python/compare_peers.py --hdfe 1e7 --repeat 1
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from importlib import metadata


def _parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=float, default=1e6, help="number of rows (default 1e6); ignored if --sizes is given")
    p.add_argument("--sizes", type=float, nargs="+", help="several n, e.g. --sizes 1e5 1e6 1e7")
    p.add_argument("--k", type=int, default=10, help="columns of X including the intercept (default 10)")
    p.add_argument("--clusters", type=int, default=1000, help="levels of the cluster id (default 1000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per method; the best is reported (default 3)")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--threads", type=int, default=0,
                   help="threads for impactkit, BLAS and numba (sets OMP/OPENBLAS/MKL/NUMBA env vars; 0: defaults)")
    p.add_argument("--only", nargs="+", metavar="METHOD",
                   help="run only these methods: impactkit, impactkit-arrays, statsmodels, linearmodels, pyfixest, numpy")
    p.add_argument("--tol", type=float, default=1e-6, help="max relative difference counted as agreement (default 1e-6)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any peer disagrees beyond --tol")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    p.add_argument("--hdfe", type=float, metavar="N",
                   help="run only the HDFE case with N rows (fixed effects N/10 and 20 levels, CR1 on the first)")
    return p.parse_args(argv)


ARGS = _parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.threads > 0:  # must precede the numpy import
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def make_data(n: int, k: int, n_clusters: int, seed: int):
    """DataFrame (y, x1..x{k-1}, cid) plus the same data as arrays (X Fortran-ordered with a ones column)."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, k), dtype=np.float64, order="F")
    X[:, 0] = 1.0
    X[:, 1:] = rng.standard_normal((n, k - 1))
    cid = rng.integers(0, n_clusters, size=n).astype(np.int32)
    beta = 0.1 * np.arange(1, k + 1)
    shock = 0.5 * rng.standard_normal(n_clusters)
    y = X @ beta + shock[cid] + rng.standard_normal(n)
    names = [f"x{j}" for j in range(1, k)]
    df = pd.DataFrame({"y": y, **{name: X[:, j + 1] for j, name in enumerate(names)}, "cid": cid})
    return df, X, y, cid, names


def best_time(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        out = None  # the previous result is not kept alive (peak memory is that of one fit)
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


# --- methods: each returns {"HC1": callable -> (coef, se), "CR1": ...} or raises ImportError ---------------

def m_impactkit(df, X, y, cid, names):
    import impactkit as ik
    formula = "y ~ " + " + ".join(names)

    def run(**kw):
        fit = ik.ols(formula, df, **kw)
        return fit.coef.to_numpy(), fit.se.to_numpy()
    return {"HC1": lambda: run(vcov="HC1"), "CR1": lambda: run(cluster="cid", vcov="CR1")}


def m_impactkit_arrays(df, X, y, cid, names):
    from impactkit import _core
    if not hasattr(_core, "ols"):
        raise ImportError("impactkit._core has no array-level ols")
    clusters = np.asfortranarray(cid.reshape(-1, 1))

    def run(**kw):
        r = _core.ols(X, y, vcov=_core.make_vcov_spec(**kw))
        return np.asarray(r.coef), np.asarray(r.se)
    return {"HC1": lambda: run(vcov="HC1"), "CR1": lambda: run(vcov="CR1", clusters=clusters)}


def m_statsmodels(df, X, y, cid, names):
    import statsmodels.api as sm

    def run(**kw):
        res = sm.OLS(y, X).fit(**kw)
        return np.asarray(res.params), np.asarray(res.bse)
    return {"HC1": lambda: run(cov_type="HC1"),
            "CR1": lambda: run(cov_type="cluster", cov_kwds={"groups": cid})}


def m_linearmodels(df, X, y, cid, names):
    from linearmodels import OLS

    def run(**kw):
        res = OLS(y, X).fit(debiased=True, **kw)
        return np.asarray(res.params), np.asarray(res.std_errors)
    return {"HC1": lambda: run(cov_type="robust"),
            "CR1": lambda: run(cov_type="clustered", clusters=cid)}


def m_pyfixest(df, X, y, cid, names):
    import warnings
    import pyfixest as pf
    formula = "y ~ " + " + ".join(names)

    def run(vcov):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols(formula, data=df, vcov=vcov)
        return fit.coef().to_numpy(), fit.se().to_numpy()
    return {"HC1": lambda: run("hetero"), "CR1": lambda: run({"CRV1": "cid"})}


METHODS = [
    # key, label, distribution for the version, factory
    ("impactkit", "impactkit (formula)", "impactkit", m_impactkit),
    ("impactkit-arrays", "impactkit (arrays)", "impactkit", m_impactkit_arrays),
    ("statsmodels", "statsmodels OLS", "statsmodels", m_statsmodels),
    ("linearmodels", "linearmodels OLS", "linearmodels", m_linearmodels),
    ("pyfixest", "pyfixest feols", "pyfixest", m_pyfixest),
]


def rel_diff(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def run_size(n, args, selected, warm):
    df, X, y, cid, names = make_data(n, args.k, args.clusters, args.seed)
    rows, ref = [], {}
    for key, label, dist, factory in METHODS:
        if key not in selected:
            continue
        try:
            fns = factory(df, X, y, cid, names)
        except ImportError as e:
            if n == warm["first_n"]:
                print(f"  skipped {label}: not installed ({e})")
            continue
        if key not in warm["done"]:  # first call: imports, numba JIT etc. on a small slice, not timed
            try:
                small = factory(*make_data(2000, args.k, 50, args.seed)) if n > 2000 else fns
                for f in small.values():
                    f()
            except Exception as e:  # noqa: BLE001 - report and carry on
                print(f"  {label}: warm-up failed: {type(e).__name__}: {e}")
            warm["done"].add(key)
        for vc, fn in fns.items():
            try:
                t, (coef, se) = best_time(fn, args.repeat)
            except Exception as e:  # noqa: BLE001
                print(f"  {label} {vc}: failed: {type(e).__name__}: {e}")
                rows.append(dict(n=n, method=key, label=label, vcov=vc, seconds=None, error=f"{type(e).__name__}: {e}"))
                continue
            row = dict(n=n, method=key, label=label, version=_version(dist), vcov=vc, seconds=t)
            if key == "impactkit":
                ref[vc] = (coef, se)
            if vc in ref:
                row["max_rel_diff_coef"] = rel_diff(coef, ref[vc][0])
                row["max_rel_diff_se"] = rel_diff(se, ref[vc][1])
            rows.append(row)
            print(f"  {label:<22} {vc}: {t:8.4f} s", flush=True)
    if "numpy" in selected:
        t, _ = best_time(lambda: X.sum(), max(args.repeat, 5))
        rows.append(dict(n=n, method="numpy", label="numpy X.sum() (1 pass)", version=np.__version__, vcov="-", seconds=t))
        print(f"  {'numpy X.sum() (1 pass)':<22}  -  : {t:8.4f} s", flush=True)

    # ratios: peer / impactkit for the same vcov (and to the array path)
    base = {(r["method"], r["vcov"]): r["seconds"] for r in rows if r.get("seconds")}
    for r in rows:
        if not r.get("seconds"):
            continue
        for ref_key, col in (("impactkit", "ratio_vs_impactkit"), ("impactkit-arrays", "ratio_vs_impactkit_arrays")):
            ref_t = base.get((ref_key, r["vcov"])) if r["vcov"] != "-" else None
            if r["vcov"] == "-":  # the lower bound: how far impactkit is from one read pass
                ref_t = base.get((ref_key, "HC1"))
            if ref_t:
                r[col] = r["seconds"] / ref_t
    return rows


def print_table(rows, args):
    def fmt(x, spec):
        width = int(spec.rstrip("r").split(".")[0])
        if not isinstance(x, (int, float)):
            return "-".rjust(width)
        if spec.endswith("r"):  # ratio: 2 decimals, or 2 significant digits when small
            return (f"{x:.2f}" if x >= 0.1 else f"{x:.1e}").rjust(width)
        return format(x, spec)
    n = rows[0]["n"] if rows else 0
    print(f"\nn = {n:,}, k = {args.k}, {args.clusters} clusters, best of {args.repeat}"
          f" (ratio = time / impactkit time, same vcov; > 1 means impactkit is faster)")
    head = f"  {'method':<24}{'vcov':<6}{'seconds':>10}{'ratio':>9}{'ratio(arr)':>12}{'rel.diff b':>12}{'rel.diff se':>12}"
    print(head)
    print("  " + "-" * (len(head) - 2))
    for r in rows:
        if r.get("seconds") is None:
            print(f"  {r['label']:<24}{r['vcov']:<6}{'failed':>10}")
            continue
        print(f"  {r['label']:<24}{r['vcov']:<6}{fmt(r['seconds'], '10.4f')}{fmt(r.get('ratio_vs_impactkit'), '9r')}"
              f"{fmt(r.get('ratio_vs_impactkit_arrays'), '12r')}{fmt(r.get('max_rel_diff_coef'), '12.1e')}"
              f"{fmt(r.get('max_rel_diff_se'), '12.1e')}")
    lb = next((r["seconds"] for r in rows if r["method"] == "numpy" and r.get("seconds")), None)
    if lb:
        ik_t = {(r["method"], r["vcov"]): r["seconds"] for r in rows if r.get("seconds")}
        parts = [f"{lab} {vc} {ik_t[(m, vc)] / lb:.0f}x" for m, lab in (("impactkit", "formula"), ("impactkit-arrays", "arrays"))
                 for vc in ("HC1", "CR1") if (m, vc) in ik_t]
        print("  numpy row: ratio = one read pass / impactkit HC1. impactkit in read passes: " + ", ".join(parts))


def _peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_hdfe(n: int, args) -> int:
    """impactkit vs pyfixest vs R fixest on y ~ x1 + x2 + x3 | id + yr, CR1 on id."""
    import shutil
    import subprocess
    import tempfile

    rng = np.random.default_rng(args.seed)
    g1 = max(n // 10, 2)
    idv = rng.integers(0, g1, n)
    yr = rng.integers(0, 20, n)
    X = rng.standard_normal((n, 3))
    df = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2], "id": idv, "yr": yr})
    df["y"] = X @ np.array([1.0, -0.5, 0.25]) + rng.standard_normal(g1)[idv] + 0.1 * yr + rng.standard_normal(n)
    del X
    input_mb = df.memory_usage(index=False).sum() / 2**20
    fml = "y ~ x1 + x2 + x3 | id + yr"
    print(f"compare_peers HDFE: n = {n:,}, fixed effects {g1:,} + 20 levels, CR1 on id, best of {args.repeat}; "
          f"input columns {input_mb:,.0f} MB")
    rows = []
    import impactkit as ik
    ik.ols(fml, df.head(min(n, 100_000)), cluster="id")  # warm-up (imports, first-touch)
    rss0 = _peak_rss_mb()
    t_ik, fit = best_time(lambda: ik.ols(fml, df, cluster="id"), args.repeat)
    rss_ik = _peak_rss_mb() - rss0
    rows.append(("impactkit", t_ik, fit.coef.to_numpy(), fit.se.to_numpy()))
    print(f"  impactkit  {t_ik:8.2f} s   peak memory growth {rss_ik:,.0f} MB ({rss_ik / input_mb:.2f}x the input columns)")
    try:
        import pyfixest as pf
        t_pf, m = best_time(lambda: pf.feols(fml, df, vcov={"CRV1": "id"}, fixef_rm="singleton"), args.repeat)
        rows.append(("pyfixest", t_pf, m.coef().to_numpy(), m.se().to_numpy()))
        print(f"  pyfixest   {t_pf:8.2f} s")
    except ImportError:
        print("  pyfixest   skipped: not installed")
    rscript = shutil.which("Rscript")
    has_fixest = rscript and subprocess.run([rscript, "-e", "library(fixest)"], capture_output=True).returncode == 0
    if not has_fixest:
        print("  R fixest   skipped: " + ("Rscript not found" if not rscript else "R package fixest not installed"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "hdfe.csv")
            df.to_csv(path, index=False)
            code = (f"library(fixest); d <- data.table::fread('{path}'); setFixest_nthreads(2); best <- Inf; "
                    f"for (r in 1:{args.repeat}) {{ t <- system.time(m <- feols({fml}, d, cluster = ~id, "
                    "fixef.rm = 'singleton'))[['elapsed']]; best <- min(best, t) }; "
                    "cat(best, coef(m), se(m), sep = ' ')")
            out = subprocess.run([rscript, "-e", code], capture_output=True, text=True)
            if out.returncode != 0:
                print("  R fixest   failed: " + out.stderr.strip().splitlines()[-1])
            else:
                vals = [float(v) for v in out.stdout.split()]
                rows.append(("R fixest", vals[0], np.array(vals[1:4]), np.array(vals[4:7])))
                print(f"  R fixest   {vals[0]:8.2f} s")
    print("\n  method       time (s)  ratio to impactkit  max rel diff coef  max rel diff se")
    worst = 0.0
    for name, t, b, se in rows:
        dc, ds = rel_diff(b, rows[0][2]), rel_diff(se, rows[0][3])
        worst = max(worst, dc, ds)
        print(f"  {name:<11} {t:9.2f}  {t / t_ik:18.2f}  {dc:17.2e}  {ds:15.2e}")
    if args.json:
        import json
        with open(args.json, "w") as fh:
            json.dump({"case": "hdfe", "n": n, "input_mb": input_mb, "impactkit_peak_growth_mb": rss_ik,
                       "results": [dict(method=r[0], seconds=r[1]) for r in rows]}, fh, indent=2)
    return 1 if (args.strict and worst > args.tol) else 0


def main(args=None):
    args = args or ARGS or _parse_args()
    if args.hdfe:
        return run_hdfe(int(args.hdfe), args)
    if args.k < 2:
        sys.exit("--k must be at least 2 (intercept + one regressor)")
    sizes = [int(s) for s in (args.sizes or [args.n])]
    selected = set(args.only) if args.only else {m[0] for m in METHODS} | {"numpy"}
    unknown = selected - ({m[0] for m in METHODS} | {"numpy"})
    if unknown:
        sys.exit(f"unknown --only method(s): {sorted(unknown)}")
    try:
        import impactkit as ik
        if args.threads > 0:
            ik.set_num_threads(args.threads)
        ik_threads = ik.get_num_threads()
    except ImportError:
        ik_threads = None
    meta = dict(python=platform.python_version(), machine=platform.machine(), cpus=os.cpu_count(),
                impactkit_threads=ik_threads, k=args.k, clusters=args.clusters, repeat=args.repeat,
                seed=args.seed, numpy=np.__version__, pandas=pd.__version__,
                versions={m[0]: _version(m[2]) for m in METHODS})
    print(f"compare_peers: sizes {sizes}, k = {args.k}, {args.clusters} clusters, best of {args.repeat}, "
          f"{os.cpu_count()} CPUs, impactkit threads {ik_threads}")
    all_rows, warm, disagree = [], {"done": set(), "first_n": sizes[0]}, []
    for n in sizes:
        print(f"\n-- n = {n:,}")
        rows = run_size(n, args, selected, warm)
        print_table(rows, args)
        all_rows += rows
        for r in rows:
            d = max(r.get("max_rel_diff_coef", 0.0), r.get("max_rel_diff_se", 0.0))
            if d > args.tol:
                disagree.append(f"{r['label']} {r['vcov']} n={n}: max rel diff {d:.2e}")
    if disagree:
        print("\nDISAGREEMENT beyond --tol {:.0e}:\n  ".format(args.tol) + "\n  ".join(disagree))
    else:
        print(f"\nall peers agree with impactkit to within {args.tol:.0e} (coefficients and standard errors)")
    if args.json:
        import json
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "results": all_rows}, fh, indent=2)
        print(f"wrote {args.json}")
    return 1 if (disagree and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
