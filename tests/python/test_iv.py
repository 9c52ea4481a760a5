"""ik.iv (two-stage least squares) against peers run live, hand computations and an edge-case grid.

Peers (each skipped, with the reason, when it is not installed):
- linearmodels IV2SLS / IVGMM: coefficients and SEs for "unadjusted", "robust" and "clustered" (one- and
  two-way), ``debiased=True`` and ``False``, with and without weights; ``first_stage.diagnostics``
  (f.stat, partial.rsquared, rsquared), ``first_stage.cragg_donald_f``, ``first_stage.kleibergen_paap_f``,
  ``sargan``, and IVGMM's ``j_stat`` (two-step efficient GMM, the Hansen J of ivreg2 with robust/cluster).
  Models with fixed effects are compared with the dummy-variable model (``C(fe)`` dummies as exogenous
  regressors), which has the same n − k.
- pyfixest feols IV ("y ~ x | fe | d ~ z"), vcov "hetero" and CRV1: coefficients, SEs, the first-stage
  F (``_f_stat_1st_stage``) and the effective F (``IV_Diag()`` → ``_eff_F``).
- R estimatr ``iv_robust`` (via Rscript): classical, HC0–HC3, CR0, CR2 and "stata" (= CR1) SEs; its
  HC2/HC3/CR2 use the leverage of the second-stage design [X, D̂], as impactkit does.

Small-sample conventions matched (never by loosening a tolerance):
- linearmodels ``debiased=True``: unadjusted s² = e'e/(n−k) (= iid), robust n/(n−k) (= HC1), clustered
  G/(G−1)·(n−1)/(n−k) (= CR1; two-way: each term its own G → ``ik.SSC(cluster_df="conventional")``);
  ``debiased=False``: robust = HC0, clustered = CR0.
- linearmodels ``diagnostics["f.stat"]`` is W/q for "unadjusted" but the Wald statistic W itself for the
  robust kinds; impactkit's partial F is always W/q, so the robust f.stat is compared with q·F.
- Fixed effects nested in the cluster variable (Thornton villages, clustered by village): linearmodels'
  dummies count every level in n − k, which is ``ik.SSC(fixef_k="full")``; impactkit's default (nested
  fixed effects not counted, as fixest/pyfixest/reghdfe) is checked by its exact ratio to "full".
- Kleibergen–Paap F: linearmodels ≥ 7.1 ``kleibergen_paap_f`` (ivreg2's definition, cited in iv.hpp);
  not defined for iid (impactkit reports the Cragg–Donald F there) nor for two-way clustering in
  linearmodels.
- Effective F: pyfixest partials nothing out of the instruments (Q_zz = Z'Z of the raw, FE-demeaned
  instruments) while Montiel Olea–Pflueger use Z̃ = M_X Z; they coincide for one instrument or when the
  only exogenous regressors are absorbed fixed effects, and only those cases are compared with pyfixest.
  The other case is checked against a numpy hand computation.
- estimatr: weighted CR2 is not compared — estimatr follows clubSandwich's weighted CR2 (inverse_var =
  FALSE), impactkit's linear_model_vcov uses the CR2 of the √w-transformed model (the same difference
  exists for ik.ols; see the report).

Tolerances (every assertion): coefficients rel 1e-8, standard errors rel 1e-6, test statistics (F, R²,
Sargan, J) rel 1e-6. Run with ``-s`` to print the largest relative differences per peer.
"""
from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit import _core
from impactkit.iv import IVResult, iv

COEF_RTOL = 1e-8
SE_RTOL = 1e-6
STAT_RTOL = 1e-6

_SHARED = Path("/work/shared/data")
_PACKAGE_DATA = Path(__file__).resolve().parents[2] / "python" / "impactkit" / "datasets" / "data"


def load(name: str, file: str) -> pd.DataFrame:
    try:
        loader = getattr(importlib.import_module("impactkit.datasets"), "load", None)
    except ImportError:
        loader = None
    if loader is not None:
        return loader(name)
    for base in (_PACKAGE_DATA, _SHARED):
        if (base / file).exists():
            return pd.read_csv(base / file)
    pytest.skip(f"dataset {name} not found")


def thornton(villages: int = 0) -> pd.DataFrame:
    """Thornton (2008) Malawi data. For the numerical comparison only: the amount of the incentive
    (tinc) is instrumented by the randomised any-incentive dummy (and, to over-identify, the distance
    to the results centre); village (villnum) fixed effects and clusters."""
    df = load("thornton_hiv", "thornton_hiv.csv")
    df = df.dropna(subset=["got", "tinc", "any", "age", "distvct", "villnum"]).reset_index(drop=True)
    df["villnum"] = df["villnum"].astype(int)
    if villages:
        df = df[df["villnum"].isin(sorted(df["villnum"].unique())[:villages])].reset_index(drop=True)
    df["w"] = 1.0 + df["distvct"] / 2.0  # deterministic positive weights
    return df


def simulated(seed: int = 20240603, n: int = 600) -> pd.DataFrame:
    """Two endogenous regressors (d1, d2), three instruments (z1–z3) and an irrelevant one (z_weak),
    one exogenous regressor (x1), 40 clusters (g) with cluster-correlated errors and instruments,
    15 fixed-effect levels (fe), heteroskedastic errors and positive weights (w)."""
    rng = np.random.default_rng(seed)
    G = 40
    g = rng.integers(0, G, n)
    fe = rng.integers(0, 15, n)
    x1 = rng.normal(size=n)
    z = rng.normal(size=(n, 3)) + 0.3 * rng.normal(size=G)[g][:, None]
    u = rng.normal(size=n) * (1 + 0.5 * np.abs(x1)) + 0.5 * rng.normal(size=G)[g]
    d1 = 0.8 * z[:, 0] + 0.4 * z[:, 1] + 0.2 * z[:, 2] + 0.5 * x1 + 0.6 * u + rng.normal(size=n) + 0.1 * fe
    d2 = 0.3 * z[:, 0] - 0.5 * z[:, 1] + 0.7 * z[:, 2] - 0.2 * x1 + 0.4 * u + rng.normal(size=n)
    y = 1 + 0.5 * x1 + 1.0 * d1 - 0.7 * d2 + u + 0.2 * fe
    return pd.DataFrame(dict(y=y, x1=x1, d1=d1, d2=d2, z1=z[:, 0], z2=z[:, 1], z3=z[:, 2],
                             z_weak=rng.normal(size=n), g=g, g2=rng.integers(0, 12, n), fe=fe,
                             w=rng.uniform(0.5, 2.0, n)))


# (name, data, exogenous, endogenous, instruments, fe, cluster, weights)
CASES = {
    "sim_overid_2endog": lambda: (simulated(), ["x1"], ["d1", "d2"], ["z1", "z2", "z3"], None, "g", None),
    "sim_overid_2endog_wls": lambda: (simulated(), ["x1"], ["d1", "d2"], ["z1", "z2", "z3"], None, "g", "w"),
    "sim_overid_1endog": lambda: (simulated(), ["x1"], ["d1"], ["z1", "z2", "z3"], None, "g", None),
    "sim_fe": lambda: (simulated(), ["x1"], ["d1", "d2"], ["z1", "z2", "z3"], "fe", "g", None),
    "sim_fe_wls": lambda: (simulated(), ["x1"], ["d1"], ["z1", "z2"], "fe", "g", "w"),
    "thornton_just": lambda: (thornton(), ["age", "distvct"], ["tinc"], ["any"], None, "villnum", None),
    "thornton_overid_wls": lambda: (thornton(), ["age"], ["tinc"], ["any", "distvct"], None, "villnum", "w"),
    # the first 40 villages: linearmodels' dummy-variable reference takes ~20 s per fit with all 119
    "thornton_fe": lambda: (thornton(villages=40), ["age"], ["tinc"], ["any", "distvct"], "villnum", "villnum", None),
}


def formula(c) -> str:
    _, x, d, z, fe, _, _ = c
    mid = f" | {fe}" if fe else ""
    return f"y ~ {' + '.join(x)}{mid} | {' + '.join(d)} ~ {' + '.join(z)}"


def with_y(c):
    data = c[0].copy()
    if "y" not in data.columns:
        data["y"] = data["got"]
    return (data,) + tuple(c[1:])


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    return request.param, with_y(CASES[request.param]())


MAXREL: dict = {}


def _rel(ours, theirs) -> float:
    ours, theirs = np.atleast_1d(np.asarray(ours, dtype=float)), np.atleast_1d(np.asarray(theirs, dtype=float))
    if (np.isnan(ours) != np.isnan(theirs)).any():
        return float("inf")
    ok = ~np.isnan(theirs)
    if not ok.any():
        return 0.0
    scale = np.where(theirs[ok] == 0, 1.0, np.abs(theirs[ok]))
    return float(np.max(np.abs(ours[ok] - theirs[ok]) / scale))


def check(peer, quantity, ours, theirs, rtol, label):
    rel = _rel(ours, theirs)
    MAXREL[(peer, quantity)] = max(MAXREL.get((peer, quantity), 0.0), rel)
    assert rel <= rtol, f"{label}: {quantity} differs from {peer} by rel {rel:.3g} > {rtol:g}\n ours {ours}\n {peer} {theirs}"


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if MAXREL:
        print("\nik.iv: largest relative differences")
        for (peer, q), v in sorted(MAXREL.items()):
            print(f"  {peer:14s} {q:22s} {v:.2e}")


def need(module: str):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    return importlib.import_module(module)


# ---------------------------------------------------------------------------------------------
# linearmodels
# ---------------------------------------------------------------------------------------------
def lm_arrays(c):
    data, x, d, z, fe, _, w = c
    exog = data[x].astype(float).copy()
    if fe:  # dummy-variable model: one dummy per level, no separate constant
        exog = pd.concat([exog, pd.get_dummies(data[fe], prefix="fe", dtype=float)], axis=1)
    else:
        exog.insert(0, "Intercept", 1.0)
    return data["y"], exog, data[d].astype(float), data[z].astype(float), (data[w] if w else None)


def lm_within(c):
    """y, x, d, z minus their (weighted) means within the fixed-effect groups (one-way: exact)."""
    data, x, d, z, fe, _, w = c
    wts = data[w].to_numpy() if w else np.ones(len(data))
    cols = ["y"] + x + d + z
    num = data[cols].mul(wts, axis=0).groupby(data[fe]).transform("sum")
    den = pd.Series(wts, index=data.index).groupby(data[fe]).transform("sum")
    within = data[cols] - num.div(den, axis=0)
    return within["y"], within[x], within[d], within[z]


LM_KINDS = [  # (linearmodels cov_type, debiased, impactkit vcov)
    ("unadjusted", True, "iid"),
    ("robust", True, "HC1"),
    ("robust", False, "HC0"),
    ("clustered", True, "CR1"),
    ("clustered", False, "CR0"),
]


@pytest.mark.parametrize("cov_type,debiased,kind", LM_KINDS)
def test_linearmodels_iv2sls(case, cov_type, debiased, kind):
    lmiv = need("linearmodels.iv")
    name, c = case
    data, x, d, z, fe, cl, w = c
    y, exog, endog, instr, weights = lm_arrays(c)
    kw = {"clusters": data[cl]} if cov_type == "clustered" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lmiv.IV2SLS(y, exog, endog, instr, weights=weights).fit(cov_type=cov_type, debiased=debiased, **kw)
        fs = ref.first_stage
        diag = fs.diagnostics
    # Fixed effects nested in the cluster variable: impactkit's default (as fixest, pyfixest, reghdfe)
    # does not count them in n − k; linearmodels' dummies do, which is ssc fixef_k="full".
    nested = bool(fe) and fe == cl and cov_type == "clustered"
    fit = iv(formula(c), data, vcov=kind, cluster=cl if kind.startswith("CR") else None, weights=w,
             ssc=ik.SSC(fixef_k="full") if nested else None)
    label = f"{name} {kind}"
    terms = list(fit.coef.index)
    check("linearmodels", "coef", fit.coef.to_numpy(), ref.params[terms].to_numpy(), COEF_RTOL, label)
    check("linearmodels", "se", fit.se.to_numpy(), ref.std_errors[terms].to_numpy(), SE_RTOL, label)
    q = len(z)
    f_ours = fit.first_stage["f_stat"].to_numpy() * (1 if cov_type == "unadjusted" else q)
    check("linearmodels", "first-stage F", f_ours, diag.loc[d, "f.stat"].astype(float).to_numpy(), STAT_RTOL, label)
    if cov_type == "unadjusted":  # F(q, n − k) in both; robust kinds: linearmodels uses chi²(q), impactkit F(q, df)
        check("linearmodels", "first-stage F p", fit.first_stage["f_p_value"].to_numpy(),
              diag.loc[d, "f.pval"].astype(float).to_numpy(), STAT_RTOL, label)
    check("linearmodels", "partial R2", fit.first_stage["partial_r2"].to_numpy(),
          diag.loc[d, "partial.rsquared"].astype(float).to_numpy(), STAT_RTOL, label)
    if not fe:  # with dummies linearmodels' first-stage R² is uncentred (no explicit constant)
        check("linearmodels", "first-stage R2", fit.first_stage["r2"].to_numpy(),
              diag.loc[d, "rsquared"].astype(float).to_numpy(), STAT_RTOL, label)
    check("linearmodels", "Cragg-Donald F", fit.cragg_donald_f, fs.cragg_donald_f, STAT_RTOL, label)
    if cov_type != "unadjusted":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kp = fs.kleibergen_paap_f
        check("linearmodels", "Kleibergen-Paap F", fit.kp_f, kp, STAT_RTOL, label)
    else:
        assert np.isnan(fit.kp_f)
    if q > len(d):
        check("linearmodels", "Sargan", fit.sargan.statistic, ref.sargan.stat, STAT_RTOL, label)
        check("linearmodels", "Sargan p", fit.sargan.p_value, ref.sargan.pval, STAT_RTOL, label)
        assert fit.sargan.df == ref.sargan.df == q - len(d)
        if cov_type == "unadjusted":
            assert fit.overid == fit.sargan and np.isnan(fit.hansen_j.statistic)
        else:
            wt = "robust" if cov_type == "robust" else "clustered"
            # With fixed effects the J reference is IVGMM on the within-transformed data: in the
            # dummy-variable model a village whose residuals are all 0 (Thornton village 22) makes the
            # moment covariance singular, while J only depends on the partialled-out instruments.
            gy, gx, gd, gz = lm_within(c) if fe else (y, exog, endog, instr)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gmm = lmiv.IVGMM(gy, gx, gd, gz, weights=weights, weight_type=wt, **kw).fit(cov_type=cov_type, **kw)
            check("linearmodels", "Hansen J", fit.hansen_j.statistic, gmm.j_stat.stat, STAT_RTOL, label)
            check("linearmodels", "Hansen J p", fit.hansen_j.p_value, gmm.j_stat.pval, STAT_RTOL, label)
            assert fit.overid == fit.hansen_j
    else:
        assert np.isnan(fit.overid.statistic) and fit.overid.df == 0


def test_nested_fixed_effects_not_counted_by_default():
    """FE nested in the cluster variable: k_fe counts one level (fixest/reghdfe), so the CR1 factor and
    the first-stage / rk F's n − k differ from fixef_k="full" by exactly (n − k − (G − 1))/(n − k)."""
    c = with_y(CASES["thornton_fe"]())
    data = c[0]
    a = iv(formula(c), data, cluster="villnum")
    b = iv(formula(c), data, cluster="villnum", ssc=ik.SSC(fixef_k="full"))
    n, G = a.nobs, data["villnum"].nunique()
    k2, k1 = len(a.coef) + 1, 1 + 2 + 1
    check("nested", "se", a.se.to_numpy(), b.se.to_numpy() * np.sqrt((n - k2 - (G - 1)) / (n - k2)), 1e-12, "CR1")
    check("nested", "first-stage F", a.first_stage_f.to_numpy(), b.first_stage_f.to_numpy() * (n - k1) / (n - k1 - (G - 1)),
          1e-12, "CR1")
    check("nested", "KP F", a.kp_f, b.kp_f * (n - k1) / (n - k1 - (G - 1)), 1e-12, "CR1")


def test_linearmodels_twoway_cluster():
    lmiv = need("linearmodels.iv")
    c = with_y(CASES["sim_overid_2endog"]())
    data = c[0]
    y, exog, endog, instr, _ = lm_arrays(c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lmiv.IV2SLS(y, exog, endog, instr).fit(cov_type="clustered", clusters=data[["g", "g2"]], debiased=True)
    fit = iv(formula(c), data, cluster=["g", "g2"], ssc=ik.SSC(cluster_df="conventional"))
    terms = list(fit.coef.index)
    check("linearmodels", "coef", fit.coef.to_numpy(), ref.params[terms].to_numpy(), COEF_RTOL, "two-way")
    check("linearmodels", "se", fit.se.to_numpy(), ref.std_errors[terms].to_numpy(), SE_RTOL, "two-way CR1 conventional")
    assert fit.n_clusters == {"g": 40, "g2": 12}
    assert np.isfinite(fit.kp_f) and np.isfinite(fit.hansen_j.statistic)


# ---------------------------------------------------------------------------------------------
# pyfixest
# ---------------------------------------------------------------------------------------------
PF_CASES = [  # (formula, data, weights, effective F comparable with pyfixest)
    ("y ~ x1 | fe | d1 ~ z1", "sim", None, True),
    ("y ~ x1 | fe | d1 ~ z1 + z2", "sim", None, False),
    ("y ~ 1 | fe | d1 ~ z1 + z2 + z3", "sim", None, True),
    ("y ~ x1 | fe | d1 ~ z1 + z2", "sim", "w", False),
    ("y ~ x1 | d1 ~ z1", "sim", "w", True),
    ("got ~ age | villnum | tinc ~ any", "thornton", None, True),
    ("got ~ 1 | villnum | tinc ~ any + distvct", "thornton", None, True),
    ("got ~ age + distvct | tinc ~ any", "thornton", None, True),
]


@pytest.mark.parametrize("vc", ["hetero", "CRV1", "iid"])
@pytest.mark.parametrize("fml,dataset,weights,eff_comparable", PF_CASES)
def test_pyfixest_feiv(fml, dataset, weights, eff_comparable, vc):
    pf = need("pyfixest")
    data = simulated() if dataset == "sim" else thornton()
    cl = "g" if dataset == "sim" else "villnum"
    pvc = {"CRV1": cl} if vc == "CRV1" else vc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols(fml, data, vcov=pvc, weights=weights)
        ref.first_stage()
        ref.IV_Diag()
    kind = {"hetero": "HC1", "CRV1": "CR1", "iid": "iid"}[vc]
    fit = iv(fml, data, vcov=kind, cluster=cl if vc == "CRV1" else None, weights=weights)
    label = f"{fml} [{vc}, weights={weights}]"
    coef, se = ref.coef(), ref.se()
    terms = list(coef.index)
    assert sorted(terms) == sorted(fit.coef.index)
    check("pyfixest", "coef", fit.coef[terms].to_numpy(), coef.to_numpy(), COEF_RTOL, label)
    check("pyfixest", "se", fit.se[terms].to_numpy(), se.to_numpy(), SE_RTOL, label)
    check("pyfixest", "first-stage F", fit.first_stage_f.iloc[0], ref._f_stat_1st_stage, STAT_RTOL, label)
    if eff_comparable:
        check("pyfixest", "effective F", fit.effective_f, ref._eff_F, STAT_RTOL, label)
    assert fit.nobs == ref._N


# ---------------------------------------------------------------------------------------------
# R estimatr iv_robust
# ---------------------------------------------------------------------------------------------
_R_SCRIPT = r"""
suppressMessages(library(estimatr))
df <- read.csv(commandArgs(TRUE)[1])
run <- function(tag, f) cat(tag, sprintf("%.17g", c(coef(f), f$std.error)), "\n")
for (se in c("classical", "HC0", "HC1", "HC2", "HC3"))
  run(se, iv_robust(y ~ x1 + d1 + d2 | x1 + z1 + z2 + z3, data = df, se_type = se))
for (se in c("CR0", "CR2", "stata"))
  run(se, iv_robust(y ~ x1 + d1 + d2 | x1 + z1 + z2 + z3, data = df, se_type = se, clusters = g))
run("wHC2", iv_robust(y ~ x1 + d1 + d2 | x1 + z1 + z2 + z3, data = df, se_type = "HC2", weights = w))
run("wHC3", iv_robust(y ~ x1 + d1 + d2 | x1 + z1 + z2 + z3, data = df, se_type = "HC3", weights = w))
"""


def test_estimatr_iv_robust(tmp_path):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed")
    probe = subprocess.run(["Rscript", "-e", "library(estimatr)"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("R package estimatr is not installed")
    data = simulated()
    path = tmp_path / "sim.csv"
    data.to_csv(path, index=False, float_format="%.17g")
    script = tmp_path / "iv.R"
    script.write_text(_R_SCRIPT)
    out = subprocess.run(["Rscript", str(script), str(path)], capture_output=True, text=True, check=True).stdout
    ref = {line.split()[0]: np.array(line.split()[1:], dtype=float) for line in out.strip().splitlines()}
    kinds = {"classical": ("iid", None), "HC0": ("HC0", None), "HC1": ("HC1", None), "HC2": ("HC2", None),
             "HC3": ("HC3", None), "CR0": ("CR0", None), "CR2": ("CR2", None), "stata": ("CR1", None),
             "wHC2": ("HC2", "w"), "wHC3": ("HC3", "w")}
    for tag, (kind, w) in kinds.items():
        fit = iv("y ~ x1 | d1 + d2 ~ z1 + z2 + z3", data, vcov=kind, weights=w,
                 cluster="g" if kind.startswith("CR") else None)
        k = len(fit.coef)
        check("estimatr", "coef", fit.coef.to_numpy(), ref[tag][:k], COEF_RTOL, tag)
        check("estimatr", "se", fit.se.to_numpy(), ref[tag][k:], SE_RTOL, tag)


# ---------------------------------------------------------------------------------------------
# hand computations
# ---------------------------------------------------------------------------------------------
def _partial(A, X, w):
    sw = np.sqrt(w)[:, None]
    if X.shape[1] == 0:
        return A
    coef = np.linalg.lstsq(sw * X, sw * A, rcond=None)[0]
    return A - X @ coef


def test_textbook_2sls_and_sargan():
    """b = (W'P_Z W)⁻¹ W'P_Z y, iid V = s²(W'P_Z W)⁻¹ with s² = e'e/(n−k), Sargan = n·R²ᵤ(e on Z)."""
    data = simulated()
    n = len(data)
    X = np.column_stack([np.ones(n), data.x1])
    W = np.column_stack([X, data[["d1", "d2"]]])
    Zf = np.column_stack([X, data[["z1", "z2", "z3"]]])
    P = Zf @ np.linalg.solve(Zf.T @ Zf, Zf.T)
    A = W.T @ P @ W
    b = np.linalg.solve(A, W.T @ P @ data.y.to_numpy())
    e = data.y.to_numpy() - W @ b
    s2 = e @ e / (n - W.shape[1])
    fit = iv("y ~ x1 | d1 + d2 ~ z1 + z2 + z3", data, vcov="iid")
    check("hand", "coef", fit.coef.to_numpy(), b, COEF_RTOL, "textbook 2SLS")
    check("hand", "se", fit.se.to_numpy(), np.sqrt(np.diag(s2 * np.linalg.inv(A))), SE_RTOL, "textbook 2SLS")
    assert np.max(np.abs(fit.residuals.to_numpy() - e)) <= 1e-10 * np.max(np.abs(e))  # e = y − [X, D]b, actual D
    sargan = n * (e @ P @ e) / (e @ e)
    check("hand", "Sargan", fit.sargan.statistic, sargan, STAT_RTOL, "Sargan")


def test_kp_f_equals_robust_first_stage_f_with_one_endogenous():
    """With one endogenous regressor the rk Wald statistic is the robust Wald test of the first stage;
    ivreg2's scaling makes F_KP equal to the HC1 / CR1 partial first-stage F."""
    data = simulated()
    for kw in (dict(vcov="HC1"), dict(cluster="g")):
        fit = iv("y ~ x1 | d1 ~ z1 + z2 + z3", data, **kw)
        check("hand", "KP F (kd=1)", fit.kp_f, fit.first_stage_f.iloc[0], 1e-10, str(kw))
    fit = iv("y ~ x1 | d1 ~ z1 + z2 + z3", data, vcov="iid")
    check("hand", "CD F (kd=1)", fit.cragg_donald_f, fit.first_stage_f.iloc[0], 1e-10, "iid")


def test_kp_f_hand_two_endogenous():
    """numpy implementation of the rk Wald F (Kleibergen–Paap 2006; ranktest; formulas in iv.hpp)."""
    data = simulated()
    n = len(data)
    X = np.column_stack([np.ones(n), data.x1])
    Zt = _partial(data[["z1", "z2", "z3"]].to_numpy(), X, np.ones(n))
    Dt = _partial(data[["d1", "d2"]].to_numpy(), X, np.ones(n))
    kz, kd = 3, 2
    pi = np.linalg.lstsq(Zt, Dt, rcond=None)[0]
    V = Dt - Zt @ pi
    Qzz, Qxx, Qzx = Zt.T @ Zt / n, Dt.T @ Dt / n, Zt.T @ Dt / n
    irz = np.linalg.inv(np.linalg.cholesky(Qzz).T)
    irx = np.linalg.inv(np.linalg.cholesky(Qxx).T)
    theta = irz.T @ Qzx @ irx
    U, s, Vt = np.linalg.svd(theta)
    left, right = U[:, kd - 1:], Vt.T[:, kd - 1:]
    scores = np.column_stack([V[:, [j]] * Zt for j in range(kd)])
    for clustered in (False, True):
        if clustered:
            sums = pd.DataFrame(scores).groupby(data.g.to_numpy()).sum().to_numpy()
            shat = sums.T @ sums / n
        else:
            shat = scores.T @ scores / n
        T = np.kron(irx.T, irz.T)
        sel = np.kron(right.T, left.T)
        lam = sel @ theta.ravel(order="F")
        om = sel @ T @ shat @ T.T @ sel.T
        rk = n * lam @ np.linalg.solve(om, lam)
        dof = n - kz - X.shape[1]
        M = data.g.nunique()
        F = rk * (dof * (M - 1) / M / (n - 1) if clustered else dof / n) / kz
        fit = iv("y ~ x1 | d1 + d2 ~ z1 + z2 + z3", data, cluster="g" if clustered else None)
        check("hand", "Kleibergen-Paap F", fit.kp_f, F, STAT_RTOL, f"clustered={clustered}")


def test_effective_f_hand_partialled_instruments():
    """F_eff = π'(Z̃'WZ̃)π / tr(V_π Z̃'WZ̃) with Z̃ = M_X Z and the HC1 first-stage variance (Montiel
    Olea–Pflueger 2013), where pyfixest (which does not partial X out of Z) differs."""
    data = simulated()
    n = len(data)
    w = data.w.to_numpy()
    X = np.column_stack([np.ones(n), data.x1])
    Z = data[["z1", "z2"]].to_numpy()
    Zf = np.column_stack([X, Z])
    sw = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(sw * Zf, sw[:, 0] * data.d1.to_numpy(), rcond=None)[0]
    v = data.d1.to_numpy() - Zf @ coef
    B = np.linalg.inv(Zf.T @ (w[:, None] * Zf))
    meat = (Zf * (w * v)[:, None]).T @ (Zf * (w * v)[:, None])
    Vc = n / (n - Zf.shape[1]) * B @ meat @ B
    Vpi = Vc[2:, 2:]
    Zt = _partial(Z, X, w)
    S = Zt.T @ (w[:, None] * Zt)
    pi = coef[2:]
    F = pi @ S @ pi / np.trace(Vpi @ S)
    fit = iv("y ~ x1 | d1 ~ z1 + z2", data, weights="w")
    check("hand", "effective F", fit.effective_f, F, STAT_RTOL, "weighted, kz=2")
    fit_iid = iv("y ~ x1 | d1 ~ z1 + z2", data, weights="w", vcov="iid")
    check("hand", "effective F (iid→HC1)", fit_iid.effective_f, F, STAT_RTOL, "iid model uses HC1")


def test_first_stage_is_ols():
    """Each first stage is ik.ols of the endogenous regressor on exogenous regressors and instruments."""
    data = simulated()
    for kw in (dict(vcov="HC1"), dict(cluster="g"), dict(vcov="iid", weights="w")):
        fit = iv("y ~ x1 | fe | d1 + d2 ~ z1 + z2 + z3", data, **kw)
        for d in ("d1", "d2"):
            ols = ik.ols(f"{d} ~ x1 + z1 + z2 + z3 | fe", data, **kw)
            fs = fit.first_stage_results[d]
            check("ik.ols", "first-stage coef", fs.coef.to_numpy(), ols.coef.to_numpy(), 1e-10, d)
            check("ik.ols", "first-stage se", fs.se.to_numpy(), ols.se.to_numpy(), 1e-10, d)
            check("ik.ols", "first-stage R2", fs.r2, ols.r2, 1e-10, d)
            check("ik.ols", "first-stage within R2", fs.r2_within, ols.r2_within, 1e-10, d)
            W = ols.wald_test("z1 = 0, z2 = 0, z3 = 0")
            check("ik.ols", "partial F", fit.first_stage.loc[d, "f_stat"], W.statistic, 1e-10, d)
            check("ik.ols", "partial F p", fit.first_stage.loc[d, "f_p_value"], W.p_value, 1e-8, d)


def test_fixed_effects_equal_dummies():
    data = simulated()
    for kw in (dict(vcov="HC1"), dict(cluster="g"), dict(vcov="iid", weights="w")):
        a = iv("y ~ x1 | fe | d1 + d2 ~ z1 + z2 + z3", data, **kw)
        b = iv("y ~ x1 + C(fe) | d1 + d2 ~ z1 + z2 + z3", data, **kw)
        check("dummies", "coef", a.coef.to_numpy(), b.coef[a.coef.index].to_numpy(), COEF_RTOL, str(kw))
        check("dummies", "se", a.se.to_numpy(), b.se[a.coef.index].to_numpy(), SE_RTOL, str(kw))
        for attr in ("cragg_donald_f", "kp_f"):
            check("dummies", attr, getattr(a, attr), getattr(b, attr), STAT_RTOL, str(kw))
        check("dummies", "overid", a.overid.statistic, b.overid.statistic, STAT_RTOL, str(kw))
        check("dummies", "first-stage F", a.first_stage_f.to_numpy(), b.first_stage_f.to_numpy(), STAT_RTOL, str(kw))
        check("dummies", "r2", a.r2, b.r2, 1e-9, str(kw))


def test_python_and_cpp_agree():
    data = simulated()
    n = len(data)
    X = np.asfortranarray(np.column_stack([np.ones(n), data.x1]))
    D = np.asfortranarray(data[["d1", "d2"]].to_numpy())
    Z = np.asfortranarray(data[["z1", "z2", "z3"]].to_numpy())
    core = _core.iv_2sls(X, D, Z, data.y.to_numpy(), vcov=_core.make_vcov_spec("CR1", clusters=data[["g"]].to_numpy(np.int32)))
    fit = iv("y ~ x1 | d1 + d2 ~ z1 + z2 + z3", data, cluster="g")
    assert np.array_equal(np.asarray(core.fit.coef), fit.coef.to_numpy())
    assert np.array_equal(np.asarray(core.fit.vcov), fit.vcov.to_numpy())
    assert core.kleibergen_paap_f == fit.kp_f and core.hansen_j.statistic == fit.hansen_j.statistic
    assert "Two-stage least squares on 600 observations" in core.describe()


# ---------------------------------------------------------------------------------------------
# results object
# ---------------------------------------------------------------------------------------------
def test_result_api():
    data = simulated()
    data.index = pd.Index([f"r{i}" for i in range(len(data))])
    fit = iv("y ~ x1 | fe | d1 ~ z1 + z2", data, cluster="g")
    assert isinstance(fit, IVResult) and isinstance(fit, ik.RegressionResult)
    assert list(fit.coef.index) == ["x1", "d1"]
    assert fit.endogenous == ["d1"] and fit.instruments == ["z1", "z2"] and fit.exogenous == ["x1"]
    assert list(fit.tidy().columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    assert list(fit.first_stage.columns) == ["r2", "partial_r2", "f_stat", "f_p_value", "f_df_num", "f_df_denom"]
    assert fit.first_stage.loc["d1", "f_df_denom"] == 39  # CR1: G − 1
    t = fit.first_stage_tidy()
    assert list(t["term"]) == ["x1", "z1", "z2"] and set(t["endogenous"]) == {"d1"}
    assert fit.residuals.index[0] == "r0" and len(fit.residuals) == fit.nobs
    labels = dict(fit.fit_stats())
    assert "First-stage F (d1)" in labels and "Kleibergen-Paap F" in labels and "Effective F" in labels
    assert "Hansen J (df 1)" in labels
    text = str(fit.summary())
    assert "IV (2SLS)" in text and "Kleibergen-Paap" in text and "excluded instruments: z1, z2" in text
    assert "<table" in fit._repr_html_()
    other = fit.with_vcov("HC1")
    fresh = iv("y ~ x1 | fe | d1 ~ z1 + z2", data, vcov="HC1")
    assert np.array_equal(other.se.to_numpy(), fresh.se.to_numpy()) and other.vcov_type == "HC1"
    assert fit.vcov_type == "CR1"  # unchanged
    # fixed effects of the IV model: y − X b − D b − α reproduces the residuals exactly
    fe = fit.fixef()["fe"]
    used = fit.residuals.index
    rebuilt = (data.loc[used, "y"] - fit.coef["x1"] * data.loc[used, "x1"] - fit.coef["d1"] * data.loc[used, "d1"]
               - fe.reindex(data.loc[used, "fe"]).to_numpy())
    np.testing.assert_allclose(rebuilt.to_numpy(), fit.residuals.to_numpy(), rtol=0, atol=1e-9)
    etable = pytest.importorskip("impactkit.etable")
    tab = etable.etable([fit, ik.ols("y ~ x1 + d1 | fe", data, cluster="g")])
    assert "d1" in tab.to_markdown()
    assert repr(fit).startswith("<IVResult IV (2SLS)")


def test_exactly_identified_has_no_overid_test():
    fit = iv("y ~ x1 | d1 ~ z1", simulated())
    assert fit.overid.df == 0 and np.isnan(fit.overid.statistic) and np.isnan(fit.overid.p_value)
    assert not any(k.startswith(("Sargan", "Hansen")) for k, _ in fit.fit_stats())


def test_duplicate_index_labels():
    data = simulated()
    data.index = np.repeat(np.arange(len(data) // 2), 2)
    fit = iv("y ~ x1 | d1 ~ z1 + z2", data)
    ref = iv("y ~ x1 | d1 ~ z1 + z2", data.reset_index(drop=True))
    assert fit.nobs == len(data)
    assert np.array_equal(fit.coef.to_numpy(), ref.coef.to_numpy())


# ---------------------------------------------------------------------------------------------
# edge cases
# ---------------------------------------------------------------------------------------------
def test_under_identified():
    data = simulated()
    with pytest.raises(ik.InvalidInputError, match=r"under-identified: 2 endogenous regressor\(s\).*only 1 excluded"):
        iv("y ~ x1 | d1 + d2 ~ z1", data)
    n = len(data)
    with pytest.raises(ValueError, match=r"under-identified: 2 endogenous regressor\(s\) but only 1 excluded instrument"):
        _core.iv_2sls(np.ones((n, 1), order="F"), np.asfortranarray(data[["d1", "d2"]].to_numpy()),
                      np.asfortranarray(data[["z1"]].to_numpy()), data.y.to_numpy())


def test_instrument_collinear_with_exogenous():
    data = simulated()
    data["zc"] = 2 * data.x1 + 1
    with pytest.raises(ik.InvalidInputError, match="excluded instrument 'zc' is collinear with the exogenous"):
        iv("y ~ x1 | d1 ~ z1 + zc", data)
    data["zfe"] = data.fe * 0.5  # constant within fixed-effect groups: absorbed
    with pytest.raises(ik.InvalidInputError, match="excluded instrument 'zfe' is collinear"):
        iv("y ~ x1 | fe | d1 ~ z1 + zfe", data)
    data["z1b"] = data.z1 * 3
    with pytest.raises(ik.InvalidInputError, match="excluded instrument 'z1b'"):
        iv("y ~ x1 | d1 ~ z1 + z1b", data)


def test_endogenous_not_identified():
    data = simulated()
    data["x1b"] = data.x1  # an "endogenous" copy of an exogenous regressor: D̂ collinear with X
    with pytest.raises(ik.InvalidInputError, match="endogenous regressor 'x1b' is not identified"):
        iv("y ~ x1 | x1b ~ z1", data)


def test_overlapping_parts():
    data = simulated()
    with pytest.raises(ik.InvalidInputError, match="both as exogenous regressor and as endogenous"):
        iv("y ~ x1 + d1 | d1 ~ z1", data)
    with pytest.raises(ik.InvalidInputError, match="both as exogenous regressor and as instrument"):
        iv("y ~ x1 + z1 | d1 ~ z1 + z2", data)


def test_weak_and_irrelevant_instrument():
    data = simulated()
    fit = iv("y ~ x1 | d1 ~ z_weak", data)
    f = fit.first_stage_f["d1"]
    assert np.isfinite(f) and f < 10 and fit.first_stage.loc["d1", "f_p_value"] > 0.01
    assert np.isfinite(fit.coef["d1"]) and np.isfinite(fit.se["d1"])
    assert fit.effective_f == pytest.approx(f, rel=1e-10)  # one instrument: effective F = robust F
    assert any("Weak instruments" in n for n in fit.notes())
    strong = iv("y ~ x1 | d1 ~ z1", data)
    assert not any("Weak instruments" in n for n in strong.notes())


def test_missing_values():
    data = simulated()
    dirty = data.copy()
    dirty.loc[3, "y"] = np.nan
    dirty.loc[5, "d1"] = np.nan
    dirty.loc[7, "z2"] = np.nan
    dirty.loc[9, "x1"] = np.nan
    dirty.loc[11, "g"] = np.nan
    dirty.loc[13, "fe"] = np.nan
    fit = iv("y ~ x1 | fe | d1 ~ z1 + z2", dirty, cluster="g", weights="w")
    clean = iv("y ~ x1 | fe | d1 ~ z1 + z2", dirty.drop(index=[3, 5, 7, 9, 11, 13]), cluster="g", weights="w")
    assert fit.nobs_missing == 6 and fit.nobs == len(data) - 6
    assert np.array_equal(fit.coef.to_numpy(), clean.coef.to_numpy())
    assert np.array_equal(fit.se.to_numpy(), clean.se.to_numpy())
    assert any("6 row(s) with missing values" in n for n in fit.notes())
    dirty.loc[15, "w"] = np.nan  # missing weights are an error, as in ik.ols
    with pytest.raises(ik.InvalidInputError, match="weights have 1 missing value"):
        iv("y ~ x1 | fe | d1 ~ z1 + z2", dirty, cluster="g", weights="w")
    with pytest.raises(ik.InvalidInputError, match="na='raise'"):
        iv("y ~ x1 | d1 ~ z1 + z2", dirty, na="raise")
    inf = data.copy()
    inf.loc[0, "z1"] = np.inf
    with pytest.raises(ik.InvalidInputError, match="infinite"):
        iv("y ~ x1 | d1 ~ z1 + z2", inf)


@pytest.mark.parametrize("fml,kw,pattern", [
    ("y ~ x1 + nope | d1 ~ z1", {}, "unknown column 'nope'"),
    ("y ~ x1 | nope ~ z1", {}, "unknown column 'nope'"),
    ("y ~ x1 | d1 ~ z1 + nope", {}, "unknown column 'nope'"),
    ("y ~ x1 | nope | d1 ~ z1", {}, "fixed effect 'nope' is not a column"),
    ("y ~ x1 | d1 ~ z1", {"cluster": "nope"}, "cluster column 'nope'"),
    ("y ~ x1 | d1 ~ z1", {"weights": "nope"}, "weights column 'nope'"),
    ("y ~ x1 | fe", {}, "no instrumental-variables part"),
    ("y ~ x1", {}, "no instrumental-variables part"),
    ("y ~ x1 | fe | g2 | d1 ~ z1", {}, "at most two"),
    ("y ~ x1 | d1 ~ ", {}, "no excluded instrument"),
    ("y ~ x1 | ~ z1", {}, "no endogenous regressor"),
    ("x1 | d1 ~ z1", {}, "no '~'"),
    ("y ~ x1 | a ~ b | d1 ~ z1", {}, "cannot contain '~'"),
    ("y ~ x1 | d1 ~ z1", {"vcov": "HC7"}, "unknown vcov"),
    ("y ~ x1 | d1 ~ z1", {"vcov": "HC1", "cluster": "g"}, "not cluster-robust"),
    ("y ~ x1 | d1 ~ z1", {"weights": "w", "weight_type": "probability", "vcov": "iid"}, "probability weights"),
    ("y ~ x1 | fe | d1 ~ z1", {"vcov": "HC2"}, "HC2 needs the leverage"),
])
def test_invalid_input(fml, kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        iv(fml, simulated(), **kw)


def test_not_a_dataframe():
    with pytest.raises(TypeError):
        iv("y ~ x1 | d1 ~ z1", simulated().to_dict())
    with pytest.raises(TypeError):
        iv(3, simulated())
