"""ik.fgt, ik.watts and ik.gini against R and the published worked examples.

References
- tests/reference/r/inequality/inequality_reference.json, written by make_inequality_reference.R
  next to it (R 4.2, survey, laeken):
  * FGT(0, 1, 2) and Watts with a fixed line: svymean / svyby(svymean) of the per-row terms (exact
    linearisation) on the targeting reference data, stratified cluster design with FPC, line 20;
  * FGT with the relative line 0.6 × weighted median: an independent R implementation of the
    linearisation (Osier 2009; convey's bandwidth and Gaussian density), SE by svytotal;
  * Gini on laeken's eusilc: laeken::gini point estimates (overall and by region), and the Langel &
    Tillé (2013) linearised variable's svytotal SE under svydesign(ids=~db030, strata=~db040,
    weights=~rb050).
- Haughton & Khandker (2009), Handbook on Poverty and Inequality (../shared/data/README.md): incomes
  100, 110, 150, 160, line 125: headcount 0.5, poverty gap 0.08, FGT2 0.0136, Watts 0.08774; incomes
  10 … 90: Gini 0.32727 (published to the digits shown).
Tolerances: estimates rel 1e-12 (laeken: 1e-12), SEs rel 1e-9, published figures to their digits.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "r" / "inequality" / "inequality_reference.json").read_text())
DATA = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "r" / "targeting" / "targeting_data.csv")


def _design(data=DATA):
    return ik.SurveyDesign(data, weights="w", strata="stratum", psu="psu", fpc="fpc", nest=True)


@pytest.mark.parametrize("name", ["fgt0", "fgt1", "fgt2", "watts"])
def test_fixed_line_against_r_svymean(name):
    ref = REF[f"{name}_fixed"]
    if name == "watts":
        run = lambda by: ik.watts(DATA, "welfare", line=20, design=_design(), by=by)  # noqa: E731
    else:
        run = lambda by: ik.fgt(DATA, "welfare", line=20, alpha=int(name[-1]), design=_design(), by=by)  # noqa: E731
    r = run(None)
    np.testing.assert_allclose(r.coef.to_numpy(), [ref["estimate"]], rtol=1e-12)
    np.testing.assert_allclose(r.se.to_numpy(), [ref["se"]], rtol=1e-10)
    assert float(r.df_inference.iloc[0]) == ref["df"]
    rb = run("sex")
    np.testing.assert_allclose(rb.coef.to_numpy(), ref["by_sex_estimate"], rtol=1e-12)
    np.testing.assert_allclose(rb.se.to_numpy(), ref["by_sex_se"], rtol=1e-10)
    assert list(rb.tidy()["sex"]) == ["F", "M"]


@pytest.mark.parametrize("alpha", [0, 1, 2])
def test_relative_line_against_r_linearisation(alpha):
    ref = REF[f"fgt{alpha}_relative"]
    r = ik.fgt(DATA, "welfare", line=ik.relative_line(0.6), alpha=alpha, design=_design())
    assert r.line == pytest.approx(ref["line"], rel=1e-15)
    assert r.bandwidth == pytest.approx(ref["bandwidth"], rel=1e-12)
    assert r.coef.iloc[0] == pytest.approx(ref["estimate"], rel=1e-12)
    assert r.se.iloc[0] == pytest.approx(ref["se"], rel=1e-9)


@pytest.mark.parametrize("name", ["theil", "mld", "atkinson_0.5", "atkinson_1", "atkinson_2"])
def test_smooth_indices_against_r_svycontrast(name):
    ref = REF[name]
    if name.startswith("atkinson"):
        eps = float(name.split("_")[1])
        run = lambda by: ik.atkinson(DATA, "welfare", epsilon=eps, design=_design(), by=by)  # noqa: E731
    else:
        run = lambda by: getattr(ik, name)(DATA, "welfare", design=_design(), by=by)  # noqa: E731
    r = run(None)
    assert r.coef.iloc[0] == pytest.approx(ref["estimate"], rel=1e-12)
    assert r.se.iloc[0] == pytest.approx(ref["se"], rel=1e-10)
    rb = run("sex")
    np.testing.assert_allclose(rb.coef.to_numpy(), ref["by_sex_estimate"], rtol=1e-12)
    np.testing.assert_allclose(rb.se.to_numpy(), ref["by_sex_se"], rtol=1e-10)


def test_arpr_eusilc_against_laeken():
    """laeken::arpr(eqIncome, weights = rb050): the rate and the threshold (point estimates)."""
    ref = REF["arpr_eusilc"]
    e = ik.datasets.load("eusilc")
    r = ik.arpr(e, "eqIncome", design=ik.SurveyDesign(e, weights="rb050", strata="db040", psu="db030"))
    assert r.coef.iloc[0] == pytest.approx(ref["rate"], rel=1e-12)
    assert r.line == pytest.approx(ref["threshold"], rel=1e-14)
    assert 0 < r.se.iloc[0] < 0.02


def test_arpt_against_laeken_and_r_linearisation():
    """The threshold: laeken::arpr's threshold on eusilc (point), and on the targeting data the SE of the
    independent R linearisation (tests/reference/r/targeting, case estimated_relative_line, 'line')."""
    e = ik.datasets.load("eusilc")
    t = ik.arpt(e, "eqIncome", weights="rb050")
    assert t.coef.iloc[0] == pytest.approx(REF["arpr_eusilc"]["threshold"], rel=1e-14)
    tref = json.loads((Path(__file__).resolve().parents[1] / "reference" / "r" / "targeting" / "targeting_reference.json").read_text())
    case = tref["estimated_relative_line"]
    r = ik.arpt(DATA, "welfare", design=_design())
    k = case["names"].index("line")
    assert r.coef.iloc[0] == pytest.approx(case["estimate"][k], rel=1e-15)
    assert r.se.iloc[0] == pytest.approx(case["se"][k], rel=1e-9)
    assert float(r.df_inference.iloc[0]) == case["df"]


def test_gini_eusilc_against_laeken_and_linearisation():
    ref = REF["gini_eusilc"]
    e = ik.datasets.load("eusilc")
    d = ik.SurveyDesign(e, weights="rb050", strata="db040", psu="db030")
    r = ik.gini(e, "eqIncome", design=d)
    assert r.coef.iloc[0] == pytest.approx(ref["laeken"], rel=1e-12)
    assert r.se.iloc[0] == pytest.approx(ref["se"], rel=1e-9)
    rb = ik.gini(e, "eqIncome", design=d, by="db040")
    assert list(rb.tidy()["db040"]) == ref["by_region_names"]
    laeken = dict(zip(ref["regions"], ref["laeken_by_region"]))
    np.testing.assert_allclose(rb.coef.to_numpy(), [laeken[k] for k in ref["by_region_names"]], rtol=1e-12)
    np.testing.assert_allclose(rb.se.to_numpy(), ref["by_region_se"], rtol=1e-9)


def test_haughton_khandker_examples():
    d = pd.DataFrame({"y": [100.0, 110, 150, 160]})
    assert ik.fgt(d, "y", line=125, alpha=0).coef.iloc[0] == pytest.approx(0.5, abs=1e-15)
    assert round(ik.fgt(d, "y", line=125, alpha=1).coef.iloc[0], 2) == 0.08
    assert round(ik.fgt(d, "y", line=125, alpha=2).coef.iloc[0], 4) == 0.0136
    assert round(ik.watts(d, "y", line=125).coef.iloc[0], 5) == 0.08774
    g = pd.DataFrame({"y": [10.0, 15, 20, 25, 40, 20, 30, 35, 45, 90]})
    r = ik.gini(g, "y")
    assert round(r.coef.iloc[0], 5) == 0.32727
    assert r.coef.iloc[0] == pytest.approx(REF["gini_haughton_khandker"]["laeken"], rel=1e-13)


def test_gini_ties_do_not_depend_on_row_order():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"y": rng.integers(0, 6, 400).astype(float), "w": rng.uniform(0.5, 3, 400)})
    a = ik.gini(d, "y", weights="w")
    b = ik.gini(d.iloc[rng.permutation(400)], "y", weights="w")
    assert a.coef.iloc[0] == pytest.approx(b.coef.iloc[0], rel=1e-13)
    assert a.se.iloc[0] == pytest.approx(b.se.iloc[0], rel=1e-12)


def test_gini_se_covers_sampling_variability():
    """Simulation check (not a reference): over 300 samples of 1,000 from a log-normal population, the
    mean linearised SE of the Gini is within 10% of the Monte Carlo SD."""
    rng = np.random.default_rng(11)
    pop = np.exp(rng.normal(3, 0.8, 100_000))
    est, se = [], []
    for _ in range(300):
        r = ik.gini(pd.DataFrame({"y": rng.choice(pop, 1000)}), "y")
        est.append(r.coef.iloc[0])
        se.append(r.se.iloc[0])
    assert np.mean(se) / np.std(est, ddof=1) == pytest.approx(1.0, abs=0.10)


def test_bad_input():
    d = pd.DataFrame({"y": [1.0, -2.0, 3.0, 4.0]})
    with pytest.raises(ik.InvalidInputError, match="welfare ≥ 0"):
        ik.gini(d, "y")
    with pytest.raises(ik.InvalidInputError, match="positive welfare below the line"):
        ik.watts(d, "y", line=5)
    with pytest.raises(ik.InvalidInputError, match="alpha"):
        ik.fgt(d, "y", line=5, alpha=-1)
    with pytest.raises(TypeError, match="line must be"):
        ik.fgt(d, "y", line="5")
    with pytest.raises(ik.InvalidInputError, match="missing or infinite"):
        ik.fgt(pd.DataFrame({"y": [1.0, np.nan]}), "y", line=5)
    with pytest.raises(ik.InvalidInputError, match="unknown column"):
        ik.gini(d, "x")
    with pytest.raises(ik.InvalidInputError, match="welfare > 0"):
        ik.mld(pd.DataFrame({"y": [1.0, 0.0, 3.0]}), "y")
    with pytest.raises(ik.InvalidInputError, match="epsilon"):
        ik.atkinson(d, "y", epsilon=0)
    with pytest.raises(ik.InvalidInputError, match="must be positive"):
        ik.fgt(pd.DataFrame({"y": [1.0, 2.0]}), "y", line=0)
    before = DATA.copy()
    ik.fgt(DATA, "welfare", line=ik.relative_line(), design=_design(), by="sex")
    pd.testing.assert_frame_equal(DATA, before)


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e150])
def test_scale_invariance_at_extreme_magnitudes(scale):
    """Gini, FGT with an estimated line and the targeting metrics do not depend on the unit of welfare:
    the same estimates and SEs (rel 1e-12; the line and its SE scale exactly) at 1e±300."""
    rng = np.random.default_rng(5)
    y = np.exp(rng.normal(3, 1, 500))
    B = (rng.random(500) < 0.3).astype(float)
    base = pd.DataFrame({"y": y, "B": B})
    big = base.assign(y=y * scale)
    for f in (lambda d: ik.gini(d, "y"), lambda d: ik.fgt(d, "y", line=ik.relative_line(), alpha=1),
              lambda d: ik.fgt(d, "y", line=ik.bottom(0.3), alpha=2)):
        a, b = f(base), f(big)
        np.testing.assert_allclose(b.coef.to_numpy(), a.coef.to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(b.se.to_numpy(), a.se.to_numpy(), rtol=1e-10)
    a = ik.targeting(base, welfare="y", beneficiary="B", target=ik.relative_line(), incidence=None)
    if scale in (1e300, 1e-300):  # the line's variance (welfare units²) cannot be a double: NaN with a warning
        with pytest.warns(ik.ImpactkitWarning, match="variance of the estimated line"):
            b = ik.targeting(big, welfare="y", beneficiary="B", target=ik.relative_line(), incidence=None)
        assert np.isnan(b.se["line"])
    else:
        b = ik.targeting(big, welfare="y", beneficiary="B", target=ik.relative_line(), incidence=None)
    rest = [m for m in a.coef.index if m != "line"]
    np.testing.assert_allclose(b.coef[rest].to_numpy(), a.coef[rest].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.se[rest].to_numpy(), a.se[rest].to_numpy(), rtol=1e-10)
    assert b.coef["line"] / scale == pytest.approx(a.coef["line"], rel=1e-14)
    if scale == 1e150:
        assert b.se["line"] / scale == pytest.approx(a.se["line"], rel=1e-10)


@pytest.mark.parametrize("kind", ["continuous_weighted", "unit_weights_exact_ties", "integer_welfare"])
def test_large_input_quantiles_follow_laeken_rule(kind):
    """From 2^18 rows the quantiles come from sample brackets and one pass (welfare_line.cpp); they must equal
    laeken's rule computed here from a full sort (with the exact-tie mean when a share hits p exactly)."""
    rng = np.random.default_rng(4)
    n = 300_000
    y = np.exp(rng.normal(3, 1, n)) if kind != "integer_welfare" else rng.integers(0, 50, n).astype(float)
    w = rng.uniform(0.5, 2, n) if kind == "continuous_weighted" else np.ones(n)
    df = pd.DataFrame({"y": y, "w": w})

    def laeken(p):
        o = np.argsort(y, kind="stable")
        ys, cs = y[o], np.cumsum(w[o])
        share = cs / cs[-1]
        j = int(np.argmax(share >= p))
        return 0.5 * (ys[j] + ys[j + 1]) if share[j] == p and j + 1 < n else ys[j]

    for p in (0.2, 0.5, 0.9):
        r = ik.fgt(df, "y", line=ik.bottom(p), weights="w")
        assert r.line == pytest.approx(laeken(p), rel=1e-15), p
    t = ik.arpt(df, "y", weights="w")
    assert t.coef.iloc[0] == pytest.approx(0.6 * laeken(0.5), rel=1e-15)
