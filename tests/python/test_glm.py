"""ik.logit / ik.probit / ik.poisson against peers run live, separation, dropped groups, errors.

Peers (each skipped with the reason when not installed):
- statsmodels discrete models Logit / Probit / Poisson, fitted by Newton with tol 1e-14 so that their
  own convergence does not limit the comparison; GLM (Binomial/Poisson) for prior weights and for the
  expected-information probit.
- pyfixest fepois (one and two absorbed fixed effects, vcov "hetero" and CRV1) and feglm logit, with
  tight iteration tolerances (iwls_tol 1e-14, fixef_tol 1e-13).

Tolerances (every assertion): coefficients rel 1e-8, standard errors rel 1e-6, log-likelihoods rel 1e-10.
Run with ``-s`` to see the largest relative difference of every comparison.

Conventions matched explicitly, never by loosening a tolerance:
- statsmodels "nonrobust" = impactkit vcov="iid" (inverse observed information; for logit and Poisson
  the observed and expected information coincide; statsmodels Probit uses the observed Hessian, GLM
  with a probit link the expected one = impactkit information="expected").
- statsmodels discrete models have no HC1..HC3 of their own: every "HCx" there is HC0 (White, no
  factor). impactkit HC0 is compared with it; impactkit HC1 = HC0·n/(n−k) (fixest/pyfixest "hetero").
- statsmodels "cluster" multiplies by G/(G−1)·(N−1)/(N−K) = impactkit CR1.
- pyfixest fepois/feglm: "hetero" = N/(N−k−k_fe) (impactkit HC1 counting absorbed fixed effects);
  CRV1 = G/(G−1)·(N−1)/(N−k−k_fe_nonnested) (impactkit CR1; fixed effects nested in the cluster are
  not counted). pyfixest takes its bread from the last IRLS step, impactkit at the estimate; with
  iwls_tol 1e-14 the difference is far below the tolerance.
"""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit import _core
from impactkit import glm as G

COEF_RTOL = 1e-8
SE_RTOL = 1e-6
LL_RTOL = 1e-10

_PACKAGE_DATA = Path(__file__).resolve().parents[2] / "python" / "impactkit" / "datasets" / "data"
_SHARED = Path("/work/shared/data")
_FILES = {"thornton_hiv": "thornton_hiv.csv", "cattaneo2": "cattaneo2.csv"}


def load(name: str) -> pd.DataFrame:
    try:
        loader = getattr(importlib.import_module("impactkit.datasets"), "load", None)
    except ImportError:
        loader = None
    if loader is not None:
        try:
            return loader(name)
        except Exception:  # the datasets module may be under construction
            pass
    for base in (_PACKAGE_DATA, _SHARED):
        path = base / _FILES[name]
        if path.exists():
            return pd.read_csv(path)
    pytest.skip(f"dataset {name} not found")


def assert_rel(actual, expected, rtol, what):
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shapes {a.shape} vs {e.shape}"
    rel = np.max(np.abs(a - e) / np.abs(e)) if a.size else 0.0
    print(f"{what}: max rel diff {rel:.2e} (tol {rtol:g})")  # shown with -s
    assert rel <= rtol, f"{what}: max relative difference {rel:.3g} > {rtol:g}\n{a}\n{e}"


def _sm():
    return pytest.importorskip("statsmodels.api", reason="statsmodels not installed")


def _pf():
    return pytest.importorskip("pyfixest", reason="pyfixest not installed")


def _sm_fit(model, **kw):
    return model.fit(method="newton", tol=1e-14, maxiter=200, disp=0, **kw)


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cattaneo():
    return load("cattaneo2")


@pytest.fixture(scope="module")
def thornton():
    df = load("thornton_hiv")
    return df.dropna(subset=["got", "any", "age", "villnum"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def count_panel():
    """Poisson panel (fixed seed): 60 firms × 10 years, two regressors, firms 3 and 7 with y ≡ 0."""
    rng = np.random.default_rng(20240601)
    n_firm, n_year, per = 60, 10, 4
    firm = np.repeat(np.arange(n_firm), n_year * per)
    year = np.tile(np.repeat(np.arange(n_year), per), n_firm)
    n = len(firm)
    x1, x2 = rng.normal(size=n), rng.uniform(size=n)
    a, b = rng.normal(scale=0.6, size=n_firm), rng.normal(scale=0.3, size=n_year)
    y = rng.poisson(np.exp(0.2 + 0.4 * x1 - 0.7 * x2 + a[firm] + b[year])).astype(float)
    y[np.isin(firm, [3, 7])] = 0.0
    region = firm // 6
    return pd.DataFrame(dict(y=y, x1=x1, x2=x2, firm=firm, year=year, region=region))


@pytest.fixture(scope="module")
def binary_panel():
    """Logit panel (fixed seed): 40 villages, no village with a constant outcome."""
    rng = np.random.default_rng(7)
    village = np.repeat(np.arange(40), 50)
    n = len(village)
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.4, size=n).astype(float)
    a = rng.normal(scale=0.5, size=40)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-0.3 + 0.8 * x1 - 0.5 * x2 + a[village])))).astype(float)
    wave = np.tile(np.arange(5), n // 5)
    return pd.DataFrame(dict(y=y, x1=x1, x2=x2, village=village, wave=wave))


# ---------------------------------------------------------------------------------------------
# statsmodels: probit (the teffects treatment model), logit, Poisson
# ---------------------------------------------------------------------------------------------
PROBIT = "mbsmoke ~ mmarried + mage + fbaby + medu"


def _sm_design(df, y, xs):
    X = np.column_stack([np.ones(len(df))] + [df[x].to_numpy(dtype=float) for x in xs])
    return df[y].to_numpy(dtype=float), X


def test_probit_vs_statsmodels(cattaneo):
    sm = _sm()
    y, X = _sm_design(cattaneo, "mbsmoke", ["mmarried", "mage", "fbaby", "medu"])
    n, k = X.shape
    ref = _sm_fit(sm.Probit(y, X))
    fit = G.probit(PROBIT, cattaneo, vcov="iid")
    assert_rel(fit.coef, ref.params, COEF_RTOL, "probit coef")
    assert_rel(fit.se, ref.bse, SE_RTOL, "probit iid se")
    assert_rel(fit.loglik, ref.llf, LL_RTOL, "probit loglik")
    p = y.mean()  # intercept-only model in closed form
    ll0 = len(y) * (p * np.log(p) + (1 - p) * np.log(1 - p))
    assert_rel(fit.loglik_null, ll0, 1e-12, "probit null loglik (closed form)")
    assert_rel(fit.pseudo_r2, 1 - ref.llf / ll0, 1e-10, "probit pseudo R2")
    assert np.all(np.isinf(fit.df_inference))
    assert_rel(fit.pvalues, ref.pvalues, 1e-6, "probit p-values (normal)")
    hc0 = _sm_fit(sm.Probit(y, X), cov_type="HC0")
    assert_rel(G.probit(PROBIT, cattaneo, vcov="HC0").se, hc0.bse, SE_RTOL, "probit HC0 se")
    assert_rel(G.probit(PROBIT, cattaneo).se, hc0.bse * np.sqrt(n / (n - k)), SE_RTOL, "probit HC1 = HC0 n/(n-k)")
    cl = _sm_fit(sm.Probit(y, X), cov_type="cluster", cov_kwds={"groups": cattaneo["mage"].to_numpy()})
    assert_rel(G.probit(PROBIT, cattaneo, cluster="mage").se, cl.bse, SE_RTOL, "probit CR1 se")


def test_probit_expected_information_vs_glm(cattaneo):
    sm = _sm()
    y, X = _sm_design(cattaneo, "mbsmoke", ["mmarried", "mage", "fbaby", "medu"])
    # GLM's IRLS (Fisher scoring, linear convergence for probit) is started at the Newton MLE so that its
    # own stopping rule does not limit the comparison; its bse is the inverse expected information
    mle = _sm_fit(sm.Probit(y, X)).params
    ref = sm.GLM(y, X, family=sm.families.Binomial(link=sm.families.links.Probit())).fit(
        start_params=mle, tol=1e-14, maxiter=200)
    fit = G.probit(PROBIT, cattaneo, vcov="iid", information="expected")
    assert_rel(fit.coef, ref.params, COEF_RTOL, "probit coef (GLM)")
    assert_rel(fit.se, ref.bse, SE_RTOL, "probit expected-information se")
    assert_rel(fit.deviance, ref.deviance, LL_RTOL, "probit deviance")
    assert_rel(fit.null_deviance, ref.null_deviance, 1e-9, "probit null deviance")
    observed = G.probit(PROBIT, cattaneo, vcov="iid")
    assert np.max(np.abs(observed.se / fit.se - 1)) > 1e-6  # the two conventions do differ for probit


def test_logit_vs_statsmodels(thornton):
    sm = _sm()
    y, X = _sm_design(thornton, "got", ["any", "age"])
    ref = _sm_fit(sm.Logit(y, X))
    fit = G.logit("got ~ any + age", thornton, vcov="iid")
    assert_rel(fit.coef, ref.params, COEF_RTOL, "logit coef")
    assert_rel(fit.se, ref.bse, SE_RTOL, "logit iid se")
    assert_rel(fit.loglik, ref.llf, LL_RTOL, "logit loglik")
    p = y.mean()
    ll0 = len(y) * (p * np.log(p) + (1 - p) * np.log(1 - p))
    assert_rel(fit.loglik_null, ll0, 1e-12, "logit null loglik (closed form)")
    assert_rel(fit.pseudo_r2, 1 - ref.llf / ll0, 1e-10, "logit pseudo R2")
    hc0 = _sm_fit(sm.Logit(y, X), cov_type="HC0")
    assert_rel(G.logit("got ~ any + age", thornton, vcov="HC0").se, hc0.bse, SE_RTOL, "logit HC0 se")
    cl = _sm_fit(sm.Logit(y, X), cov_type="cluster", cov_kwds={"groups": thornton["villnum"].to_numpy()})
    fit_cl = G.logit("got ~ any + age", thornton, cluster="villnum")
    assert fit_cl.vcov_type == "CR1" and fit_cl.n_clusters == {"villnum": thornton["villnum"].nunique()}
    assert_rel(fit_cl.se, cl.bse, SE_RTOL, "logit CR1 se")
    # two-way with each term's own G (statsmodels' rule)
    agegrp = (thornton["age"] // 10).to_numpy()
    groups = np.column_stack([thornton["villnum"].to_numpy(), agegrp]).astype(int)
    cl2 = _sm_fit(sm.Logit(y, X), cov_type="cluster", cov_kwds={"groups": groups})
    df = thornton.assign(agegrp=agegrp)
    fit2 = G.logit("got ~ any + age", df, cluster=["villnum", "agegrp"], ssc=ik.SSC(cluster_df="conventional"))
    assert_rel(fit2.se, cl2.bse, SE_RTOL, "logit two-way CR1 se")


def test_logit_stata_ml_convention(thornton):
    # Stata logit, vce(robust): n/(n-1); vce(cluster): G/(G-1) only
    base = G.logit("got ~ any + age", thornton, vcov="HC0")
    n = base.nobs
    assert_rel(G.logit("got ~ any + age", thornton, ssc="stata").se, base.se * np.sqrt(n / (n - 1)), 1e-12, "stata HC1")
    cr0 = G.logit("got ~ any + age", thornton, vcov="CR0", cluster="villnum")
    g = cr0.n_clusters["villnum"]
    stata = G.logit("got ~ any + age", thornton, cluster="villnum", ssc="stata")
    assert_rel(stata.se, cr0.se * np.sqrt(g / (g - 1)), 1e-12, "stata CR1")


def test_poisson_vs_statsmodels(cattaneo):
    sm = _sm()
    xs = ["mmarried", "mage", "fbaby", "medu"]
    y, X = _sm_design(cattaneo, "nprenatal", xs)
    n, k = X.shape
    formula = "nprenatal ~ mmarried + mage + fbaby + medu"
    ref = _sm_fit(sm.Poisson(y, X))
    fit = G.poisson(formula, cattaneo, vcov="iid")
    assert_rel(fit.coef, ref.params, COEF_RTOL, "poisson coef")
    assert_rel(fit.se, ref.bse, SE_RTOL, "poisson iid se")
    assert_rel(fit.loglik, ref.llf, LL_RTOL, "poisson loglik")
    assert_rel(fit.loglik_null, ref.llnull, 1e-9, "poisson null loglik")
    hc0 = _sm_fit(sm.Poisson(y, X), cov_type="HC0")
    assert_rel(G.poisson(formula, cattaneo, vcov="HC0").se, hc0.bse, SE_RTOL, "poisson HC0 se")
    assert_rel(G.poisson(formula, cattaneo).se, hc0.bse * np.sqrt(n / (n - k)), SE_RTOL, "poisson HC1")
    cl = _sm_fit(sm.Poisson(y, X), cov_type="cluster", cov_kwds={"groups": cattaneo["mage"].to_numpy()})
    assert_rel(G.poisson(formula, cattaneo, cluster="mage").se, cl.bse, SE_RTOL, "poisson CR1 se")
    glm = sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=200)
    assert_rel(fit.deviance, glm.deviance, LL_RTOL, "poisson deviance")
    assert_rel(fit.null_deviance, glm.null_deviance, 1e-9, "poisson null deviance")


def test_poisson_offset_and_exposure_vs_statsmodels(cattaneo):
    sm = _sm()
    df = cattaneo.assign(expo=1.0 + cattaneo["fage"].clip(lower=0) / 10.0)
    y, X = _sm_design(df, "nprenatal", ["mmarried", "medu"])
    off = np.log(df["expo"].to_numpy())
    ref = _sm_fit(sm.Poisson(y, X, offset=off))
    fit = G.poisson("nprenatal ~ mmarried + medu", df, exposure="expo", vcov="iid")
    assert_rel(fit.coef, ref.params, COEF_RTOL, "poisson exposure coef")
    assert_rel(fit.se, ref.bse, SE_RTOL, "poisson exposure se")
    assert_rel(fit.loglik, ref.llf, LL_RTOL, "poisson exposure loglik")
    fit2 = G.poisson("nprenatal ~ mmarried + medu", df.assign(lo=off), offset="lo", vcov="iid")
    assert_rel(fit2.coef, fit.coef, 1e-12, "offset = log exposure")
    pred = fit.predict(df.head(20))
    assert_rel(pred, fit.fitted_values.loc[df.index[:20]], 1e-12, "predict with the fit's exposure")


def test_logit_prior_weights_vs_glm(thornton):
    sm = _sm()
    y, X = _sm_design(thornton, "got", ["any", "age"])
    w = 1.0 + thornton["distvct"].fillna(0).to_numpy() / 2.0
    df = thornton.assign(w=w)
    ref = sm.GLM(y, X, family=sm.families.Binomial(), var_weights=w).fit(tol=1e-14, maxiter=200)
    fit = G.logit("got ~ any + age", df, weights="w", vcov="iid")
    assert_rel(fit.coef, ref.params, COEF_RTOL, "weighted logit coef")
    assert_rel(fit.se, ref.bse, SE_RTOL, "weighted logit iid se")
    assert_rel(fit.loglik, ref.llf, LL_RTOL, "weighted logit loglik")
    hc0 = sm.GLM(y, X, family=sm.families.Binomial(), var_weights=w).fit(tol=1e-14, maxiter=200, cov_type="HC0")
    assert_rel(G.logit("got ~ any + age", df, weights="w", vcov="HC0").se, hc0.bse, SE_RTOL, "weighted logit HC0 se")


# ---------------------------------------------------------------------------------------------
# pyfixest: fepois with one and two fixed effects, feglm logit
# ---------------------------------------------------------------------------------------------
_PF_TIGHT = dict(iwls_tol=1e-14, iwls_maxiter=200, fixef_tol=1e-13)


@pytest.mark.parametrize("fe", ["firm", "firm + year"])
@pytest.mark.parametrize("vcov", ["hetero", "CRV1"])
def test_fepois_vs_pyfixest(count_panel, fe, vcov):
    pf = _pf()
    fml = f"y ~ x1 + x2 | {fe}"
    pvcov = "hetero" if vcov == "hetero" else {"CRV1": "firm"}
    ref = _quiet(pf.fepois, fml, count_panel, vcov=pvcov, **_PF_TIGHT)
    with pytest.warns(ik.ImpactkitWarning, match="all-zero outcome"):
        fit = G.poisson(fml, count_panel, cluster="firm" if vcov == "CRV1" else None, fe_tol=1e-13)
    assert fit.nobs == ref._N
    assert fit.n_fe_dropped == 2 * 40  # firms 3 and 7 (all y = 0)
    assert_rel(fit.coef, ref.coef().to_numpy(), COEF_RTOL, f"fepois coef | {fe}")
    assert_rel(fit.se, ref.se().to_numpy(), SE_RTOL, f"fepois {vcov} se | {fe}")
    assert_rel(fit.loglik, ref._loglik, LL_RTOL, "fepois loglik")
    assert_rel(fit.pseudo_r2, ref._pseudo_r2, 1e-9, "fepois pseudo R2")
    assert_rel(fit.deviance, ref.deviance, 1e-9, "fepois deviance")


@pytest.mark.parametrize("fixef_k", ["full", "none"])
def test_fepois_fixef_k_vs_pyfixest(count_panel, fixef_k):
    # CRV1 on firm with firm fixed effects (nested): how the absorbed levels count in k
    pf = _pf()
    ref = _quiet(pf.fepois, "y ~ x1 + x2 | firm + year", count_panel, vcov={"CRV1": "firm"},
                 ssc=pf.ssc(k_fixef=fixef_k), **_PF_TIGHT)
    fit = _quiet(G.poisson, "y ~ x1 + x2 | firm + year", count_panel, cluster="firm",
                 ssc=ik.SSC(fixef_k=fixef_k), fe_tol=1e-13)
    assert_rel(fit.se, ref.se().to_numpy(), SE_RTOL, f"fepois CRV1 se, fixef_k={fixef_k}")


def test_fepois_cluster_not_nested_and_weights(count_panel):
    pf = _pf()
    df = count_panel.assign(w=1.0 + (count_panel["year"] % 3) / 2.0)
    ref = _quiet(pf.fepois, "y ~ x1 + x2 | firm + year", df, vcov={"CRV1": "year"}, weights="w", **_PF_TIGHT)
    fit = _quiet(G.poisson, "y ~ x1 + x2 | firm + year", df, cluster="year", weights="w", fe_tol=1e-13)
    assert fit.nobs == ref._N
    assert_rel(fit.coef, ref.coef().to_numpy(), COEF_RTOL, "weighted fepois coef")
    assert_rel(fit.se, ref.se().to_numpy(), SE_RTOL, "weighted fepois CRV1(year) se")


def test_feglm_logit_vs_pyfixest(binary_panel):
    pf = _pf()
    for vcov, kw in (("hetero", {}), ({"CRV1": "village"}, {"cluster": "village"})):
        ref = _quiet(pf.feglm, "y ~ x1 + x2 | village", binary_panel, family="logit", vcov=vcov, **_PF_TIGHT)
        fit = G.logit("y ~ x1 + x2 | village", binary_panel, fe_tol=1e-13, **kw)
        assert fit.nobs == ref._N
        assert_rel(fit.coef, ref.coef().to_numpy(), COEF_RTOL, "feglm logit coef")
        assert_rel(fit.se, ref.se().to_numpy(), SE_RTOL, f"feglm logit {vcov} se")


def test_fixed_effects_equal_dummies(count_panel):
    # absorbing year = year dummies in the design (same coefficients and HC0 variance)
    df = count_panel[~count_panel["firm"].isin([3, 7])]
    a = G.poisson("y ~ x1 + x2 | year", df, vcov="HC0", fe_tol=1e-13)
    b = G.poisson("y ~ x1 + x2 + C(year)", df, vcov="HC0")
    assert_rel(a.coef, b.coef[["x1", "x2"]], COEF_RTOL, "FE vs dummies coef")
    assert_rel(a.se, b.se[["x1", "x2"]], SE_RTOL, "FE vs dummies HC0 se")
    assert_rel(a.loglik, b.loglik, LL_RTOL, "FE vs dummies loglik")
    # fixed effects on the link scale reproduce the linear predictor
    fe = a.fixef()["year"]
    eta = df.loc[a.linear_predictor.index, ["x1", "x2"]].to_numpy() @ a.coef.to_numpy() + \
        fe.reindex(df.loc[a.linear_predictor.index, "year"]).to_numpy()
    assert_rel(eta, a.linear_predictor, 1e-9, "fixef reproduce eta")
    pred = a.predict(df.head(30))
    assert_rel(pred, a.fitted_values.loc[df.index[:30]], 1e-9, "predict with fixed effects")


# ---------------------------------------------------------------------------------------------
# separation and dropped groups
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def separated_binary():
    """y = 1 whenever d = 1 (quasi-complete separation by d): the 40 rows with d = 1 are separated."""
    rng = np.random.default_rng(11)
    n = 500
    x = rng.normal(size=n)
    d = (np.arange(n) < 40).astype(float)
    y = np.where(d > 0, 1.0, (rng.uniform(size=n) < 1 / (1 + np.exp(-0.5 * x))).astype(float))
    return pd.DataFrame(dict(y=y, x=x, d=d))


@pytest.mark.parametrize("fitter", [G.logit, G.probit])
def test_quasi_separation_detected_and_dropped(separated_binary, fitter):
    df = separated_binary
    with pytest.warns(ik.ImpactkitWarning, match="40 separated"):
        fit = fitter("y ~ x + d", df)
    assert fit.n_separated == 40
    assert list(fit.separated) == list(df.index[:40])
    assert fit.separating_terms == ["d"]
    assert "d" in fit.collinear  # constant on the rows left
    rest = df.iloc[40:]
    ref = fitter("y ~ x", rest)
    assert_rel(fit.coef, ref.coef, COEF_RTOL, "separated rows dropped = fit on the rest")
    assert_rel(fit.se, ref.se, SE_RTOL, "separated rows dropped = fit on the rest (se)")
    assert any("separated" in n for n in fit.notes())


def test_separation_raise_and_complete_separation(separated_binary):
    with pytest.raises(ik.InvalidInputError, match="40 of 500 observations are separated"):
        G.logit("y ~ x + d", separated_binary, separation="raise")
    df = separated_binary.assign(yc=(separated_binary["x"] > 0).astype(float))
    with pytest.raises(ik.InvalidInputError, match="complete separation"):
        G.logit("yc ~ x", df)
    with pytest.raises(ik.InvalidInputError, match="complete separation"):
        G.probit("yc ~ x", df)


def test_separation_never_reports_boundary(separated_binary):
    with pytest.warns(ik.ImpactkitWarning, match="boundary"):
        fit = G.logit("y ~ x + d", separated_binary, check_separation="never")
    assert fit.n_separated == 0 and fit.n_boundary == 40 and not fit.separation_checked
    assert fit.coef["d"] > 15  # diverging coefficient: reported, never silent


def test_poisson_separation_by_regressor():
    sm = _sm()
    rng = np.random.default_rng(5)
    n = 600
    x = rng.normal(size=n)
    z = np.where(np.arange(n) % 5 == 0, rng.uniform(0.1, 1.0, size=n), 0.0)  # z > 0 only where y = 0
    y = np.where(z > 0, 0.0, rng.poisson(np.exp(0.5 + 0.3 * x))).astype(float)
    df = pd.DataFrame(dict(y=y, x=x, z=z))
    with pytest.warns(ik.ImpactkitWarning, match="120 separated"):
        fit = G.poisson("y ~ x + z", df, vcov="iid")
    assert fit.n_separated == 120 and fit.separating_terms == ["z"] and fit.collinear == ["z"]
    keep = z == 0
    ref = _sm_fit(sm.Poisson(y[keep], np.column_stack([np.ones(keep.sum()), x[keep]])))
    assert_rel(fit.coef, ref.params, COEF_RTOL, "poisson separation: coef on the rest")
    assert_rel(fit.se, ref.bse, SE_RTOL, "poisson separation: se on the rest")


def test_poisson_separation_with_fixed_effects(count_panel):
    df = count_panel[~count_panel["firm"].isin([3, 7])].copy()
    sep = (df["firm"] % 9 == 0) & (df["year"] == 2)  # a dummy that is 1 only on rows with y = 0
    df["y"] = np.where(sep, 0.0, df["y"])
    df["s"] = sep.astype(float)
    with pytest.warns(ik.ImpactkitWarning, match="separated"):
        fit = G.poisson("y ~ x1 + x2 + s | firm + year", df, fe_tol=1e-13)
    assert fit.n_separated == int(sep.sum()) and fit.separating_terms == ["s"]
    ref = G.poisson("y ~ x1 + x2 | firm + year", df[~sep], fe_tol=1e-13)
    assert_rel(fit.coef, ref.coef, COEF_RTOL, "FE separation: coef on the rest")


def test_constant_outcome_groups_dropped_binary(binary_panel):
    df = binary_panel.copy()
    df.loc[df["village"] == 5, "y"] = 1.0
    df.loc[df["village"] == 9, "y"] = 0.0
    with pytest.warns(ik.ImpactkitWarning, match="100 row"):
        fit = G.logit("y ~ x1 + x2 | village", df, fe_tol=1e-13)
    assert fit.n_fe_dropped == 100 and fit.nobs == len(df) - 100
    assert fit.fe_sizes == {"village": 38}
    ref = G.logit("y ~ x1 + x2 | village", df[~df["village"].isin([5, 9])], fe_tol=1e-13)
    assert_rel(fit.coef, ref.coef, COEF_RTOL, "constant groups dropped")


def test_no_separation_always_check(thornton):
    a = G.logit("got ~ any + age", thornton, check_separation="always")
    b = G.logit("got ~ any + age", thornton)
    assert a.separation_checked and a.n_separated == 0
    assert_rel(a.coef, b.coef, 0, "check does not change the fit")


# ---------------------------------------------------------------------------------------------
# input errors
# ---------------------------------------------------------------------------------------------
def test_missing_values_dropped_or_raised(thornton):
    raw = load("thornton_hiv")
    fit = G.logit("got ~ any + age", raw)
    assert fit.nobs_missing == len(raw) - len(raw.dropna(subset=["got", "any", "age"]))
    with pytest.raises(ik.InvalidInputError, match="missing"):
        G.logit("got ~ any + age", raw, na="raise")


def test_input_errors(thornton, cattaneo):
    with pytest.raises(ik.InvalidInputError, match="unknown column"):
        G.logit("got ~ any + nosuch", thornton)
    with pytest.raises(ik.InvalidInputError, match="must be 0 or 1"):
        G.logit("age ~ any", thornton)
    with pytest.raises(ik.InvalidInputError, match="must be 0 or 1"):
        G.probit("nprenatal ~ mage", cattaneo)
    with pytest.raises(ik.InvalidInputError, match="non-negative"):
        G.poisson("x1 ~ x2", pd.DataFrame(dict(x1=[-1.0, 2, 3, 1], x2=[0.0, 1, 2, 3])))
    with pytest.raises(ik.InvalidInputError, match="both outcomes"):
        G.logit("y ~ x", pd.DataFrame(dict(y=[1.0] * 5, x=[0.0, 1, 2, 3, 4])))
    with pytest.raises(ik.InvalidInputError, match="not available"):
        G.logit("got ~ any + age", thornton, vcov="HC3")
    with pytest.raises(ik.InvalidInputError, match="cluster"):
        G.logit("got ~ any + age", thornton, vcov="CR1")
    with pytest.raises(TypeError):
        G.logit("got ~ any + age", thornton, offset="age")  # no offset for binary models
    with pytest.raises(ik.InvalidInputError, match="poisson only"):
        G._fit("logit", "got ~ any + age", thornton, offset="age")
    with pytest.raises(ik.InvalidInputError, match="information"):
        G.logit("got ~ any + age", thornton, information="fisher")
    with pytest.raises(ik.InvalidInputError, match="infinite"):
        G.logit("y ~ x", pd.DataFrame(dict(y=[0.0, 1, 0, 1], x=[0.0, np.inf, 1, 2])))
    with pytest.raises(ik.ConvergenceError):
        G.probit(PROBIT, cattaneo, max_iter=1)


# ---------------------------------------------------------------------------------------------
# results object, parity with the C++ core
# ---------------------------------------------------------------------------------------------
def test_results_object(thornton):
    fit = G.logit("got ~ any + age", thornton, cluster="villnum")
    assert fit.title == "Logit" and fit.depvar == "got"
    text = str(fit.summary())
    assert "Pseudo R² (McFadden)" in text and "z (normal) reference" in text
    tidy = fit.tidy()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    other = fit.with_vcov("HC0")
    assert other.vcov_type == "HC0" and fit.vcov_type == "CR1"
    assert_rel(other.coef, fit.coef, 0, "with_vcov keeps the estimate")
    p = fit.predict(thornton.head(10))
    assert_rel(p, fit.fitted_values.loc[thornton.index[:10]], 1e-12, "predict = fitted on the sample")
    link = fit.predict(thornton.head(10), type="link")
    assert_rel(1 / (1 + np.exp(-link)), p, 1e-12, "link and response predictions")
    assert_rel(fit.resid_response, thornton["got"] - fit.fitted_values, 1e-12, "response residuals")
    w = fit.wald_test("any = 0")
    assert_rel(w.statistic, (fit.coef["any"] / fit.se["any"]) ** 2, 1e-10, "Wald = z^2")


def test_python_and_core_parity(cattaneo):
    y, X = _sm_design(cattaneo, "mbsmoke", ["mmarried", "mage", "fbaby", "medu"])
    core = _core.glm(np.asfortranarray(X), y, "probit", vcov=_core.make_vcov_spec("HC1"))
    fit = G.probit(PROBIT, cattaneo)
    assert_rel(fit.coef, np.asarray(core.coef), 0, "parity coef")
    assert_rel(fit.se, np.asarray(core.se), 0, "parity se")
    assert core.family == "probit" and "Probit" in core.describe()
