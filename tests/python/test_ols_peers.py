"""ik.ols against peer software run live on shipped data (DESIGN.md §6, peer references).

Peers: statsmodels (OLS/WLS: nonrobust, HC0–HC3, cluster one- and two-way, cluster-crv3),
linearmodels (IV2SLS without endogenous regressors = OLS/WLS: unadjusted, robust, clustered one- and
two-way, with and without ``debiased``) and pyfixest (feols: iid, hetero, HC2, HC3, CRV1 one- and
two-way, CRV3). Each peer is skipped (with the reason) when it is not installed.

Tolerances (every assertion; see ``compare``): coefficients rel 1e-9, standard errors rel 1e-8,
variance matrix 2e-8 of sqrt(V_ii V_jj), p-values rel 1e-7 (absolute floor 1e-14), confidence limits
1e-8 of (|b| + half-width) — p-values and intervals only where the peer's reference distribution
(t with which df, or normal) is the same as impactkit's.

Small-sample conventions are matched explicitly, never by loosening a tolerance:
- statsmodels "cluster" multiplies every term by G/(G−1)·(N−1)/(N−K) with each term's own G, also in
  the two-way (Cameron–Gelbach–Miller) sum → ik.SSC(cluster_df="conventional"); its t df is
  min(G)−1 (df_correction=True), as impactkit's. statsmodels "cluster-crv3" with
  use_correction=False is the jackknife around the full-sample estimate = impactkit CR3.
- linearmodels debiased=True: unadjusted s² = RSS/(n−k), robust n/(n−k) (= HC1), clustered
  G/(G−1)·(n−1)/(n−k) with each term's own G (two-way: conventional); debiased=False: HC0 / CR0.
  linearmodels uses t(n−k) also for clustered covariances (impactkit: t(G−1)), so clustered p-values
  and intervals are not compared.
- pyfixest: iid, "hetero" (= HC1), CRV1 with G/(G−1)·(n−1)/(n−k) and G = min over dimensions
  (impactkit's default rule); its HC2/HC3/CRV3 apply its small-sample factor on top of the
  leverage/jackknife adjustment, so they are compared with ``ssc(k_adj=False, G_adj=False)``.

- Two-way variances that are not positive semi-definite (lalonde educ × agegrp, cattaneo2 mage ×
  medu) have NaN standard errors in every package (impactkit also warns); compared as NaN = NaN, and
  the full variance matrices are compared as well.
- CR3 is also checked against its definition, an explicit QR leave-one-cluster-out jackknife.
  pyfixest's CRV3 on lalonde is accurate to ~1e-8 only (xfail, see PYFIXEST_CRV3_INACCURATE).

Run with ``-s`` to see the largest relative differences per peer.
"""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

COEF_RTOL = 1e-9
SE_RTOL = 1e-8
P_RTOL = 1e-7
P_ATOL = 1e-14
VCOV_RTOL = 2e-8
CI_RTOL = 1e-8

_SHARED = Path("/work/shared/data")
_PACKAGE_DATA = Path(__file__).resolve().parents[2] / "python" / "impactkit" / "datasets" / "data"
_FILES = {"lalonde": "lalonde_nsw_dw.csv", "thornton_hiv": "thornton_hiv.csv", "card_krueger": "card_krueger.csv",
          "cattaneo2": "cattaneo2.csv"}


def load(name: str) -> pd.DataFrame:
    """A shipped dataset: ik.datasets.load when it exists, else the CSV shipped with the package or shared."""
    try:  # the datasets module may not exist yet (or be a bare data directory)
        loader = getattr(importlib.import_module("impactkit.datasets"), "load", None)
    except ImportError:
        loader = None
    if loader is not None:
        return loader(name)
    for base in (_PACKAGE_DATA, _SHARED):
        path = base / _FILES[name]
        if path.exists():
            return pd.read_csv(path)
    pytest.skip(f"dataset {name} not found (ik.datasets, {_PACKAGE_DATA}, {_SHARED})")


# ---------------------------------------------------------------------------------------------
# Cases: (data, formula terms, one-way cluster, two-way clusters, weights)
# ---------------------------------------------------------------------------------------------
def _lalonde():
    df = load("lalonde").copy()
    df["agegrp"] = (df["age"] // 5).astype(int)  # deterministic second cluster dimension
    return dict(data=df, y="re78", x=["treat", "age", "educ", "black", "hisp", "married", "nodegr", "re74", "re75"],
                cluster="educ", cluster2=["educ", "agegrp"], weights=None)


def _thornton(weighted: bool):
    df = load("thornton_hiv").copy()
    df = df.dropna(subset=["got", "any", "age", "distvct", "villnum"]).reset_index(drop=True)
    df["villnum"] = df["villnum"].astype(int)
    df["agegrp"] = (df["age"] // 10).astype(int)
    if weighted:
        df["w"] = 1.0 + df["distvct"] / 2.0  # deterministic positive weights
    return dict(data=df, y="got", x=["any", "age", "distvct"], cluster="villnum", cluster2=["villnum", "agegrp"],
                weights="w" if weighted else None)


def _card_krueger():
    df = load("card_krueger").copy()
    df = df.dropna(subset=["fte"]).reset_index(drop=True)
    df["chain"] = (df["bk"] * 1 + df["kfc"] * 2 + df["roys"] * 3 + df["wendys"] * 4).astype(int)
    return dict(data=df, y="fte", x=["nj", "d", "d_nj", "kfc", "roys", "wendys", "co_owned"], cluster="id",
                cluster2=["id", "chain"], weights=None)


def _cattaneo2():
    df = load("cattaneo2").copy()
    df["w"] = 1.0 + df["mage"] / 10.0  # deterministic positive weights
    return dict(data=df, y="bweight", x=["mbsmoke", "mmarried", "mage", "fbaby", "medu", "prenatal1"],
                cluster="mage", cluster2=["mage", "medu"], weights="w")


CASES = {
    "lalonde": _lalonde,
    "thornton": lambda: _thornton(False),
    "thornton_wls": lambda: _thornton(True),
    "card_krueger": _card_krueger,
    "cattaneo2_wls": _cattaneo2,
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    c = CASES[request.param]()
    c["name"] = request.param
    c["formula"] = f"{c['y']} ~ " + " + ".join(c["x"])
    c["terms"] = ["Intercept"] + c["x"]
    return c


def arrays(c):
    d = c["data"]
    y = d[c["y"]].to_numpy(dtype=float)
    X = np.column_stack([np.ones(len(d))] + [d[v].to_numpy(dtype=float) for v in c["x"]])
    w = d[c["weights"]].to_numpy(dtype=float) if c["weights"] else None
    return y, X, w


def codes(c, cols):
    return np.column_stack([pd.factorize(c["data"][v])[0] for v in cols]) if len(cols) > 1 else \
        pd.factorize(c["data"][cols[0]])[0]


def ik_fit(c, vcov, cluster=None, ssc=None):
    return ik.ols(c["formula"], c["data"], weights=c["weights"], vcov=vcov, cluster=cluster, ssc=ssc)


# ---------------------------------------------------------------------------------------------
# comparison with a record of the largest relative differences
# ---------------------------------------------------------------------------------------------
MAXREL: dict = {}


def _rel(ours, theirs, scale=None) -> float:
    """max |ours − theirs| / scale (scale defaults to |theirs|, 1 where theirs == 0); NaN must match NaN."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    nan_o, nan_t = np.isnan(ours), np.isnan(theirs)
    if (nan_o != nan_t).any():
        return float("inf")
    ok = ~nan_t
    if not ok.any():
        return 0.0
    if scale is None:
        scale = np.where(theirs == 0, 1.0, np.abs(theirs))
    scale = np.broadcast_to(np.asarray(scale, dtype=float), theirs.shape)
    return float(np.max(np.abs(ours[ok] - theirs[ok]) / scale[ok]))


def check(peer: str, quantity: str, ours, theirs, rtol: float, label: str, scale=None, atol: float = 0.0):
    ours_a, theirs_a = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    if atol:  # differences below atol count as zero
        close = np.abs(ours_a - theirs_a) <= atol
        ours_a = np.where(close, theirs_a, ours_a)
    rel = _rel(ours_a, theirs_a, scale)
    key = (peer, quantity)
    MAXREL[key] = max(MAXREL.get(key, 0.0), rel)
    assert rel <= rtol, (f"{label}: {quantity} differs from {peer} by rel {rel:.3g} > {rtol:g}\n"
                         f" ours  {np.asarray(ours)}\n {peer} {np.asarray(theirs)}")


def compare(peer, label, fit, coef, se, pvalues=None, ci=None, vcov=None):
    """coef rel 1e-9; se rel 1e-8 (NaN, from a negative multiway variance, must be NaN in both);
    vcov: |ΔV_ij| ≤ 2e-8·sqrt(V_ii V_jj) (what SE rel 1e-8 implies); p-values rel 1e-7 with an absolute
    floor of 1e-14 (pyfixest computes p = 2(1 − F(|t|)), whose absolute error is ~1e-16);
    interval limits b ± q·se: |Δ| ≤ 1e-8·(|b| + q·se), the error SE rel 1e-8 implies (a relative test
    on the limit itself would be ill-conditioned where b and q·se nearly cancel)."""
    assert list(fit.coef.index) == list(coef.index), (list(fit.coef.index), list(coef.index))
    check(peer, "coef", fit.coef.to_numpy(), np.asarray(coef), COEF_RTOL, label)
    check(peer, "se", fit.se.to_numpy(), np.asarray(se), SE_RTOL, label)
    if vcov is not None:
        v = np.asarray(vcov, dtype=float)
        d = np.sqrt(np.abs(np.diag(v)))
        check(peer, "vcov", fit.vcov.to_numpy(), v, VCOV_RTOL, label, scale=np.outer(d, d))
    if pvalues is not None:
        check(peer, "p-value", fit.pvalues.to_numpy(), np.asarray(pvalues), P_RTOL, label, atol=P_ATOL)
    if ci is not None:
        ours = fit.conf_int(0.95)[["conf_low", "conf_high"]].to_numpy()
        theirs = np.asarray(ci, dtype=float)
        b = fit.coef.to_numpy()[:, None]
        halfwidth = np.abs(theirs[:, 1:2] - theirs[:, 0:1]) / 2
        check(peer, "conf_int", ours, theirs, CI_RTOL, label, scale=np.abs(b) + halfwidth)


# ---------------------------------------------------------------------------------------------
# statsmodels
# ---------------------------------------------------------------------------------------------
def _sm_model(c):
    sm = pytest.importorskip("statsmodels.api")
    y, X, w = arrays(c)
    X = pd.DataFrame(X, columns=c["terms"])
    return sm.WLS(y, X, weights=w) if w is not None else sm.OLS(y, X)


@pytest.mark.parametrize("vcov", ["iid", "HC0", "HC1", "HC2", "HC3"])
def test_statsmodels_iid_and_hc(case, vcov):
    model = _sm_model(case)
    res = model.fit() if vcov == "iid" else model.fit(cov_type=vcov, use_t=True)
    fit = ik_fit(case, vcov)
    label = f"{case['name']} {vcov}"
    compare("statsmodels", label, fit, res.params, res.bse, res.pvalues, res.conf_int(), res.cov_params())
    assert fit.nobs == int(res.nobs)
    assert fit.df_resid == pytest.approx(res.df_resid, rel=0, abs=0)
    check("statsmodels", "r2", [fit.r2], [res.rsquared], 1e-10, label)
    check("statsmodels", "sigma", [fit.sigma], [np.sqrt(res.scale)], 1e-10, label)


@pytest.mark.parametrize("vcov", ["CR0", "CR1"])
def test_statsmodels_cluster_oneway(case, vcov):
    model = _sm_model(case)
    g = codes(case, [case["cluster"]])
    res = model.fit(cov_type="cluster", cov_kwds={"groups": g, "use_correction": vcov == "CR1"}, use_t=True)
    fit = ik_fit(case, vcov, cluster=case["cluster"])
    compare("statsmodels", f"{case['name']} {vcov} by {case['cluster']}", fit, res.params, res.bse, res.pvalues, res.conf_int(),
            res.cov_params())
    assert fit.n_clusters == {case["cluster"]: len(np.unique(g))}


def test_statsmodels_cluster_twoway(case):
    model = _sm_model(case)
    g = codes(case, case["cluster2"])
    res = model.fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    fit = ik_fit(case, "CR1", cluster=case["cluster2"], ssc=ik.SSC(cluster_df="conventional"))
    compare("statsmodels", f"{case['name']} CR1 two-way {case['cluster2']}", fit, res.params, res.bse, res.pvalues,
            res.conf_int(), res.cov_params())


def test_statsmodels_cluster_crv3(case):
    model = _sm_model(case)
    g = codes(case, [case["cluster"]])
    try:
        res = model.fit(cov_type="cluster-crv3", cov_kwds={"groups": g, "use_correction": False}, use_t=True)
    except ValueError as exc:  # older statsmodels: no cluster-crv3
        pytest.skip(f"statsmodels has no cluster-crv3: {exc}")
    fit = ik_fit(case, "CR3", cluster=case["cluster"])
    compare("statsmodels", f"{case['name']} CR3 by {case['cluster']}", fit, res.params, res.bse, res.pvalues, res.conf_int(),
            res.cov_params())


# ---------------------------------------------------------------------------------------------
# linearmodels
# ---------------------------------------------------------------------------------------------
def _lm_fit(c, **kwargs):
    iv = pytest.importorskip("linearmodels.iv")
    y, X, w = arrays(c)
    X = pd.DataFrame(X, columns=c["terms"])
    model = iv.IV2SLS(pd.Series(y, name=c["y"]), X, None, None, weights=w)
    return model.fit(**kwargs)


@pytest.mark.parametrize("cov_type,debiased,vcov", [
    ("unadjusted", True, "iid"),
    ("robust", False, "HC0"),
    ("robust", True, "HC1"),
])
def test_linearmodels_unadjusted_and_robust(case, cov_type, debiased, vcov):
    res = _lm_fit(case, cov_type=cov_type, debiased=debiased)
    fit = ik_fit(case, vcov)
    # p-values/intervals: linearmodels uses t(n−k) when debiased, else normal (impactkit: t(n−k))
    p, ci = (res.pvalues, res.conf_int()) if debiased else (None, None)
    compare("linearmodels", f"{case['name']} {cov_type} debiased={debiased}", fit, res.params, res.std_errors, p, ci, res.cov)


@pytest.mark.parametrize("debiased,vcov", [(False, "CR0"), (True, "CR1")])
def test_linearmodels_clustered_oneway(case, debiased, vcov):
    g = pd.DataFrame({"g": codes(case, [case["cluster"]])})
    res = _lm_fit(case, cov_type="clustered", clusters=g, debiased=debiased)
    fit = ik_fit(case, vcov, cluster=case["cluster"])
    # not compared: linearmodels' clustered p-values use t(n−k) (debiased) or normal; impactkit t(G−1)
    compare("linearmodels", f"{case['name']} clustered debiased={debiased}", fit, res.params, res.std_errors,
            vcov=res.cov)


def test_linearmodels_clustered_twoway(case):
    g = pd.DataFrame(codes(case, case["cluster2"]), columns=["g1", "g2"])
    res = _lm_fit(case, cov_type="clustered", clusters=g, debiased=True)
    fit = ik_fit(case, "CR1", cluster=case["cluster2"], ssc=ik.SSC(cluster_df="conventional"))
    compare("linearmodels", f"{case['name']} clustered two-way", fit, res.params, res.std_errors, vcov=res.cov)


# ---------------------------------------------------------------------------------------------
# pyfixest
# ---------------------------------------------------------------------------------------------
def _pf_fit(c, vcov, ssc=None):
    pf = pytest.importorskip("pyfixest")
    kwargs = {"vcov": vcov}
    if c["weights"]:
        kwargs["weights"] = c["weights"]
    if ssc is not None:
        kwargs["ssc"] = pf.ssc(**ssc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(c["formula"], data=c["data"], **kwargs)


def _pf_compare(c, res, fit, label, peer="pyfixest"):
    ci = res.confint()
    compare(peer, label, fit, res.coef(), res.se(), res.pvalue(), ci.to_numpy(), res._vcov)


@pytest.mark.parametrize("pf_vcov,vcov", [("iid", "iid"), ("hetero", "HC1")])
def test_pyfixest_iid_hetero(case, pf_vcov, vcov):
    res = _pf_fit(case, pf_vcov)
    _pf_compare(case, res, ik_fit(case, vcov), f"{case['name']} {pf_vcov}")


@pytest.mark.parametrize("vcov", ["HC2", "HC3"])
def test_pyfixest_hc2_hc3_without_ssc(case, vcov):
    res = _pf_fit(case, vcov, ssc=dict(k_adj=False, G_adj=False))
    _pf_compare(case, res, ik_fit(case, vcov), f"{case['name']} {vcov}")


def test_pyfixest_crv1_oneway(case):
    res = _pf_fit(case, {"CRV1": case["cluster"]})
    fit = ik_fit(case, "CR1", cluster=case["cluster"])
    _pf_compare(case, res, fit, f"{case['name']} CRV1 {case['cluster']}")


def test_pyfixest_crv1_twoway_min_rule(case):
    res = _pf_fit(case, {"CRV1": "+".join(case["cluster2"])})
    fit = ik_fit(case, "CR1", cluster=case["cluster2"])  # default ssc: G = min over dimensions, as fixest
    _pf_compare(case, res, fit, f"{case['name']} CRV1 {'+'.join(case['cluster2'])}")
    fit_fixest = ik_fit(case, "CR1", cluster=case["cluster2"], ssc="fixest")
    np.testing.assert_array_equal(fit_fixest.se.to_numpy(), fit.se.to_numpy())


# pyfixest's CRV3 solves leave-one-cluster-out normal equations (X'X − X_g'X_g)b = …; on lalonde
# (earnings in dollars next to dummies, cond(X'X) ≈ 5e9) that is accurate to ~8e-9 only (SE), 2.2e-8
# (vcov). statsmodels' cluster-crv3 and the explicit QR jackknife (test_cr3_equals_explicit_jackknife)
# agree with impactkit to ~3e-12 on the same case, so the miss is pyfixest's, not impactkit's.
PYFIXEST_CRV3_INACCURATE = {"lalonde"}


def test_pyfixest_crv3_without_ssc(case, request):
    if case["name"] in PYFIXEST_CRV3_INACCURATE:
        request.applymarker(pytest.mark.xfail(reason="pyfixest CRV3 normal-equation jackknife accurate to ~1e-8 "
                                              "here; statsmodels and the explicit jackknife agree to 3e-12",
                                              strict=False))
    res = _pf_fit(case, {"CRV3": case["cluster"]}, ssc=dict(k_adj=False, G_adj=False))
    fit = ik_fit(case, "CR3", cluster=case["cluster"])
    peer = "pyfixest (xfail)" if case["name"] in PYFIXEST_CRV3_INACCURATE else "pyfixest"
    _pf_compare(case, res, fit, f"{case['name']} CRV3 {case['cluster']}", peer)


# ---------------------------------------------------------------------------------------------
# CR3 by its definition: Σ_g (b₋g − b)(b₋g − b)ᵀ, each b₋g a QR least-squares fit without cluster g
# ---------------------------------------------------------------------------------------------
def test_cr3_equals_explicit_jackknife(case):
    y, X, w = arrays(case)
    g = codes(case, [case["cluster"]])
    sw = np.sqrt(w) if w is not None else np.ones(len(y))
    Xs, ys = X * sw[:, None], y * sw
    b = np.linalg.lstsq(Xs, ys, rcond=None)[0]
    V = np.zeros((X.shape[1], X.shape[1]))
    for k in np.unique(g):
        keep = g != k
        d = np.linalg.lstsq(Xs[keep], ys[keep], rcond=None)[0] - b
        V += np.outer(d, d)
    fit = ik_fit(case, "CR3", cluster=case["cluster"])
    se = pd.Series(np.sqrt(np.diag(V)), index=case["terms"])
    compare("explicit jackknife", f"{case['name']} CR3 by {case['cluster']}", fit, pd.Series(b, index=case["terms"]), se,
            vcov=V)


# ---------------------------------------------------------------------------------------------
# missing values handled the same way as dropping them first
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("vcov,cluster", [("HC1", None), ("CR1", "villnum")])
def test_listwise_deletion_equals_prior_dropna(vcov, cluster):
    raw = load("thornton_hiv")
    used = ["got", "any", "age", "distvct"] + ([cluster] if cluster else [])
    clean = raw.dropna(subset=used)
    a = ik.ols("got ~ any + age + distvct", raw, vcov=vcov, cluster=cluster)
    b = ik.ols("got ~ any + age + distvct", clean, vcov=vcov, cluster=cluster)
    assert a.nobs == len(clean) and a.nobs_missing == len(raw) - len(clean)
    np.testing.assert_array_equal(a.coef.to_numpy(), b.coef.to_numpy())
    np.testing.assert_array_equal(a.se.to_numpy(), b.se.to_numpy())


def test_zz_report_largest_differences():
    """Prints the largest relative difference per (peer, quantity) over the tests above (-s)."""
    if not MAXREL:
        pytest.skip("no peer comparison ran in this session")
    lines = ["largest relative difference impactkit vs peer:"]
    for (peer, q), v in sorted(MAXREL.items()):
        lines.append(f"  {peer:<19} {q:<9} {v:.2e}")
    print("\n" + "\n".join(lines))
