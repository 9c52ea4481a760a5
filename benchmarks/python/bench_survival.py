"""Kaplan–Meier, log-rank and Cox: impactkit beside lifelines (PyPI), same data, same run.

    .venv/bin/python benchmarks/python/bench_survival.py [--n-km 1e7] [--n-cox 1e6] [--peer-km 1e7] [--peer-cox 1e6]
        [--n-cr 1e6] [--peer-cr 1e5] [--repeat 3]

Data (seed 1): exponential event times with a 5-covariate log-linear hazard, rounded to whole days
(10⁷ rows → ~3.6·10³ distinct times: many ties), independent exponential censoring (~30%), two groups.
(1) Kaplan–Meier and log-rank at --n-km with impactkit alone, and both libraries at --peer-km (the largest
    size lifelines runs in about a minute here); ratios at the shared size, with a check that S(t) and the
    χ² agree (rel 1e-10).
(2) Cox (Efron ties, 5 covariates) at --n-cox alone and both at --peer-cox; lifelines' CoxPHFitter uses
    Efron ties too; coefficients must agree to 1e-5 (lifelines stops earlier).
(3) Cumulative incidence (Aalen–Johansen, two causes, cmprsk's variance) at --n-cr alone and both at --peer-cr
    against lifelines' AalenJohansenFitter (with its variance). Continuous times: lifelines jitters tied times,
    so the data have none; the incidence of cause 1 must agree to 1e-10.
Targets (issue 16): ≥ 20× lifelines for KM / log-rank, ≥ 10× for Cox.
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

import impactkit as ik
from _timing import timed


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    beta = np.array([0.5, -0.3, 0.2, 0.0, 0.1])
    t = rng.exponential(365 / np.exp(X @ beta))
    c = rng.exponential(365 * 2.5, n)
    d = pd.DataFrame(X, columns=[f"x{j}" for j in range(1, 6)])
    d["time"] = np.maximum(np.round(np.minimum(t, c)), 1.0)
    d["event"] = (t <= c).astype(float)
    d["group"] = rng.integers(0, 2, n)
    return d


def km_lr(d):
    km = ik.kaplan_meier(d, time="time", event="event", by="group")
    lr = ik.logrank(d, time="time", event="event", group="group")
    return km, lr


def lifelines_km_lr(d):
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    fits = []
    for g in (0, 1):
        s = d[d.group == g]
        fits.append(KaplanMeierFitter().fit(s.time, s.event))
    a, b = d[d.group == 0], d[d.group == 1]
    return fits, logrank_test(a.time, b.time, a.event, b.event)


def cox(d):
    return ik.coxph("x1 + x2 + x3 + x4 + x5", d, time="time", event="event")


def lifelines_cox(d):
    from lifelines import CoxPHFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxPHFitter().fit(d[["time", "event", "x1", "x2", "x3", "x4", "x5"]], "time", "event")


def make_cr_data(n: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t1, t2, c = rng.exponential(3.0, n), rng.exponential(5.0, n), rng.exponential(8.0, n)
    t = np.minimum(np.minimum(t1, t2), c)
    return pd.DataFrame({"time": t, "status": np.where(t == c, 0, np.where(t == t1, 1, 2))})


def cif(d):
    return ik.cumulative_incidence(d, time="time", event="status")


def lifelines_cif(d):
    from lifelines import AalenJohansenFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AalenJohansenFitter().fit(d.time, d.status, event_of_interest=1)


def same_cif(ours, theirs):
    tab = ours.table()
    f = tab[tab.cause == 1].set_index("time").incidence
    ll = theirs.cumulative_density_.iloc[:, 0]
    assert np.allclose(f.to_numpy(), ll.reindex(f.index).to_numpy(), rtol=1e-10, atol=1e-12), "incidence differs from lifelines"
    return "same F_1(t), rel 1e-10"


def same_km_lr(ours, theirs):
    (km, lr), (fits, llr) = ours, theirs
    tab = km.table()
    for g, f in enumerate(fits):
        s = tab[tab.group == g].set_index("time").survival
        assert np.allclose(s.to_numpy(), f.survival_function_.iloc[:, 0].reindex(s.index).to_numpy(), rtol=1e-10), "KM differs"
    assert np.isclose(lr.statistic, llr.test_statistic, rtol=1e-10), "log-rank differs from lifelines"
    return "same S(t) and chi2, rel 1e-10"


def same_cox(fit, llf):
    diff = np.max(np.abs(fit.coef.to_numpy() - llf.params_.to_numpy()))
    assert diff < 1e-5, f"Cox coefficients differ from lifelines by {diff:.2e}"
    return f"coefficients within {diff:.1e}"


def compare(ours, theirs, same, n_alone, n_peer, repeat, have_peer, make=make_data):
    """impactkit alone at n_alone; both at n_peer with the ratio and the agreement check."""
    d = make(n_alone)
    t_ik, _ = timed(lambda: ours(d), repeat)
    print(f"impactkit  n={n_alone:.0e}: {t_ik:8.3f} s  ({d.time.nunique()} distinct times)")
    if have_peer:
        p = make(n_peer)
        t_ik, mine = timed(lambda: ours(p), repeat)
        t_ll, peer = timed(lambda: theirs(p), 1)
        print(f"at n={n_peer:.0e}: impactkit {t_ik:.3f} s, lifelines {t_ll:.3f} s -> {t_ll / t_ik:.1f}x ({same(mine, peer)})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-km", type=float, default=1e7)
    ap.add_argument("--n-cox", type=float, default=1e6)
    ap.add_argument("--peer-km", type=float, default=1e7)
    ap.add_argument("--peer-cox", type=float, default=1e6)
    ap.add_argument("--n-cr", type=float, default=1e6)
    ap.add_argument("--peer-cr", type=float, default=1e5)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    try:
        import lifelines  # noqa: F401
        have_peer = True
    except ImportError:
        have_peer = False
        print("lifelines is not installed: impactkit alone")

    print("== Kaplan–Meier + log-rank ==")
    compare(km_lr, lifelines_km_lr, same_km_lr, int(a.n_km), int(a.peer_km), a.repeat, have_peer)
    print("== Cox (Efron, 5 covariates, tied days) ==")
    compare(cox, lifelines_cox, same_cox, int(a.n_cox), int(a.peer_cox), a.repeat, have_peer)
    print("== cumulative incidence (Aalen–Johansen, 2 causes, continuous times) ==")
    compare(cif, lifelines_cif, same_cif, int(a.n_cr), int(a.peer_cr), a.repeat, have_peer, make_cr_data)
    d = make_data(int(a.n_cox))
    d["lp"] = d[["x1", "x2", "x3", "x4", "x5"]].to_numpy() @ np.array([0.5, -0.3, 0.2, 0.0, 0.1])
    t_c, c = timed(lambda: ik.concordance(d, time="time", event="event", score="lp"), a.repeat)
    print(f"concordance (O(n log n), true risk score) n={len(d):.0e}: {t_c:.3f} s, C = {c.estimate:.4f}")


if __name__ == "__main__":
    main()
