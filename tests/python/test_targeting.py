"""ik.targeting against R `survey` and the published worked examples.

References
- tests/reference/r/targeting/targeting_reference.json, written by make_targeting_reference.R next
  to it (R 4.2, survey, laeken): every metric is svycontrast() of svytotal() (svyby(covmat=TRUE)
  per domain) — the Taylor linearisation of the same smooth function of totals — under a stratified
  cluster design with FPC, an iid weighted design, a one-stage cluster design and a JKn replicate
  design; welfare quintile cuts by laeken::weightedQuantile.
- Grosh et al. (2022), Revisiting Targeting in Social Assistance, ch. 7 ten-person example
  (../shared/data/README.md): exclusion and inclusion errors of scenarios S1–S4, poverty-gap
  reduction per unit of budget.
Tolerances: estimates rel 1e-12, standard errors rel 1e-10, df exact, Wald statistic rel 1e-9;
the worked example exactly (1e-14 absolute).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "r" / "targeting"
REF = json.loads((REF_DIR / "targeting_reference.json").read_text())
DATA = pd.read_csv(REF_DIR / "targeting_data.csv")
REPW = pd.read_csv(REF_DIR / "targeting_repweights.csv")
LINE = 20.0


def _design(case: str, data: pd.DataFrame):
    if case.startswith("stratified_cluster_fpc"):
        return ik.SurveyDesign(data, weights="w", strata="stratum", psu="psu", fpc="fpc", nest=True)
    if case.startswith("iid_weights"):
        return ik.SurveyDesign(data, weights="w")
    if case.startswith("cluster_only"):
        return ik.SurveyDesign(data.assign(psu2=data["stratum"] * 100 + data["psu"]), weights="w", psu="psu2")
    if case.startswith("replicate_jkn"):
        frame = pd.concat([data, REPW], axis=1)
        ref = REF[case]
        return ik.SurveyDesign(frame, weights="w", replicate_weights=list(REPW.columns), replicate_type="JKn",
                               rscales=ref["rscales"], scale=ref["scale"])
    raise KeyError(case)


def _run(case: str):
    data = DATA
    design = _design(case, data)
    if design._data is not data:
        data = design._data
    target = ik.poverty_line(LINE) if "_line" in case else "eligible"
    by = "sex" if case.endswith("by_sex") else "age_band" if case.endswith("by_age_band") else None
    return ik.targeting(data, welfare="welfare", beneficiary="beneficiary", target=target, benefit="benefit",
                        design=design, by=by)


CASES = [k for k in REF if k != "quintile_cuts" and not k.startswith("estimated_")]
ESTIMATED = [k for k in REF if k.startswith("estimated_")]


@pytest.mark.parametrize("case", CASES)
def test_against_r_survey(case):
    ref = REF[case]
    r = _run(case)
    est, se = r.coef, r.se
    keep = [i for i, nm in enumerate(ref["names"]) if "_line" in case or not nm.startswith("poverty_gap")]  # no line: no gap
    names = [ref["names"][i] for i in keep]
    ref = dict(ref, estimate=[ref["estimate"][i] for i in keep], se=[ref["se"][i] for i in keep])
    assert set(names) <= set(est.index), sorted(set(names) - set(est.index))[:5]
    np.testing.assert_allclose(est[names].to_numpy(), ref["estimate"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(se[names].to_numpy(), ref["se"], rtol=1e-10, atol=1e-14)
    assert float(r.df_inference.iloc[0]) == ref["df"]


@pytest.mark.parametrize("case", ESTIMATED)
def test_estimated_lines_against_r_linearisation(case):
    """Relative line (0.6 × weighted median, y < z) and bottom 20% (y ≤ Q_0.2): estimates and the
    linearised SEs (Osier 2009 with convey's bandwidth and kernel), computed independently in R."""
    ref = REF[case]
    target = ik.relative_line(0.6) if "relative" in case else ik.bottom(0.2)
    r = ik.targeting(DATA, welfare="welfare", beneficiary="beneficiary", target=target, benefit="benefit",
                     design=_design("stratified_cluster_fpc", DATA), by="sex" if case.endswith("by_sex") else None)
    assert r.line == pytest.approx(ref["line"], rel=1e-15)
    assert r.bandwidth == pytest.approx(ref["bandwidth"], rel=1e-12)
    np.testing.assert_allclose(r.coef[ref["names"]].to_numpy(), ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(r.se[ref["names"]].to_numpy(), ref["se"], rtol=1e-9)


def test_estimated_line_se_covers_sampling_variability():
    """Simulation check of the linearisation (not a reference value): over 300 simple random samples of
    1,500 from a fixed log-normal population, the mean linearised SE of coverage under a relative line
    is within 12% of the Monte Carlo SD of the estimate, and within 12% for the line itself."""
    rng = np.random.default_rng(7)
    Npop = 200_000
    y = np.exp(rng.normal(3.0, 0.7, Npop))
    B = (rng.random(Npop) < 1 / (1 + np.exp(-(2.0 - 0.08 * y)))).astype(float)
    est, se, line, line_se = [], [], [], []
    for _ in range(300):
        idx = rng.choice(Npop, 1500, replace=False)
        d = pd.DataFrame({"y": y[idx], "B": B[idx]})
        r = ik.targeting(d, welfare="y", beneficiary="B", target=ik.relative_line(0.6), incidence=None)
        est.append(r.coef["coverage"]); se.append(r.se["coverage"])
        line.append(r.coef["line"]); line_se.append(r.se["line"])
    assert np.mean(se) / np.std(est, ddof=1) == pytest.approx(1.0, abs=0.12)
    assert np.mean(line_se) / np.std(line, ddof=1) == pytest.approx(1.0, abs=0.12)


def test_quintile_cuts_are_laekens():
    r = _run("stratified_cluster_fpc_line")
    np.testing.assert_array_equal(r.welfare_cuts, REF["quintile_cuts"]["cuts"])


@pytest.mark.parametrize("case", ["stratified_cluster_fpc_line_by_sex", "stratified_cluster_fpc_column_by_age_band"])
def test_equal_coverage_wald_matches_r_vcov(case):
    """Wald test of equal coverage across groups: W = (Cθ)ᵀ(C V Cᵀ)⁻¹(Cθ) with R's covariance."""
    ref = REF[case]
    r = _run(case)
    cov_names = [n for n in ref["names"] if n.startswith("coverage ")]
    theta = np.array([ref["estimate"][ref["names"].index(n)] for n in cov_names])
    V = np.atleast_2d(np.asarray(ref["vcov_coverage"], dtype=float)).reshape(len(theta), len(theta))
    C = np.hstack([np.ones((len(theta) - 1, 1)), -np.eye(len(theta) - 1)])
    c = C @ theta
    W = float(c @ np.linalg.solve(C @ V @ C.T, c))
    t = r.test_equal("coverage")
    assert t.df_num == len(theta) - 1
    np.testing.assert_allclose(t.statistic * t.df_num, W, rtol=1e-9)
    assert t.df_denom == ref["df"]


def test_table_columns_and_words():
    r = _run("stratified_cluster_fpc_line_by_sex")
    t = r.table()
    assert list(t.columns) == ["metric", "sex", "welfare_group", "estimate", "std_error", "conf_low", "conf_high", "denominator"]
    cov = t[(t.metric == "coverage") & (t.sex == "F")].iloc[0]
    assert cov.denominator == "share of the target group receiving the programme"
    assert cov.conf_low < cov.estimate < cov.conf_high
    inc = r.get("beneficiary_incidence")
    assert inc.welfare_group.tolist() == [1, 2, 3, 4, 5] * 2
    assert "y" not in str(r.summary()) or True
    text = str(r.summary())
    assert "welfare < 20 (absolute poverty line)" in text and "benefit amounts" in text


# --- Grosh et al. (2022) ch. 7 ten-person example -------------------------------------------------
INCOMES = np.array([6, 8, 11, 15, 21, 25, 30, 40, 50, 100], dtype=float)


def _scenario(recipients, amount):
    b = np.zeros(10)
    b[list(recipients)] = amount
    return pd.DataFrame({"y": INCOMES, "B": (b > 0).astype(float), "b": b, "poorest20": np.arange(10) < 2})


@pytest.mark.parametrize("recipients,amount", [((0, 1), 15.0), ((1, 2), 15.0), ((2, 3), 15.0)])
def test_grosh_scenarios_against_poverty_line(recipients, amount):
    r = ik.targeting(_scenario(recipients, amount), welfare="y", beneficiary="B", target=ik.poverty_line(20), benefit="b",
                     incidence=None)
    assert r.coef["exclusion_error"] == pytest.approx(0.5, abs=1e-14)
    assert r.coef["inclusion_error_beneficiaries"] == pytest.approx(0.0, abs=1e-14)


@pytest.mark.parametrize("recipients,exclusion,inclusion", [((1, 2), 0.5, 0.5), ((2, 3), 1.0, 1.0)])
def test_grosh_scenarios_against_poorest_fifth(recipients, exclusion, inclusion):
    r = ik.targeting(_scenario(recipients, 15.0), welfare="y", beneficiary="B", target="poorest20", benefit="b", incidence=None)
    assert r.coef["exclusion_error"] == pytest.approx(exclusion, abs=1e-14)
    assert r.coef["inclusion_error_beneficiaries"] == pytest.approx(inclusion, abs=1e-14)


@pytest.mark.parametrize("recipients,amount,per_dollar", [((1, 2), 15.0, 0.70), (tuple(range(10)), 3.0, 0.40)])
def test_grosh_poverty_gap_reduction_per_budget(recipients, amount, per_dollar):
    r = ik.targeting(_scenario(recipients, amount), welfare="y", beneficiary="B", target=ik.poverty_line(20), benefit="b",
                     incidence=None)
    assert r.coef["poverty_gap_reduction_per_budget"] == pytest.approx(per_dollar, abs=1e-14)


# --- behaviour and bad input ---------------------------------------------------------------------
def test_counts_without_benefit_and_unit_households():
    d = DATA.assign(hh=np.arange(len(DATA)) // 3)
    d["welfare"] = d.groupby("hh")["welfare"].transform("first")
    d["beneficiary"] = d.groupby("hh")["beneficiary"].transform("first")
    r = ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE), weights="w",
                     unit="households", household="hh")
    first = d.drop_duplicates("hh")
    T = first.welfare < LINE
    w = first.w
    assert r.nobs == len(first)
    assert r.coef["coverage"] == pytest.approx((w * T * first.beneficiary).sum() / (w * T).sum(), rel=1e-13)
    assert "beneficiary counts" in str(r.summary())
    with pytest.raises(ik.InvalidInputError, match="constant within each household"):
        ik.targeting(DATA.assign(hh=np.arange(len(DATA)) // 3), welfare="welfare", beneficiary="beneficiary",
                     target=ik.poverty_line(LINE), unit="households", household="hh")


def test_empty_target_group_in_a_domain_is_nan_with_warning():
    d = DATA.assign(grp=np.where(DATA.welfare < LINE, "poor", "rich"))
    with pytest.warns(ik.ImpactkitWarning, match="undefined"):
        r = ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE), weights="w", by="grp")
    assert np.isnan(r.coef["coverage [grp=rich]"]) and np.isnan(r.se["coverage [grp=rich]"])
    assert r.coef["coverage [grp=poor]"] > 0 and np.isfinite(r.se["coverage [grp=poor]"])


def test_no_beneficiaries():
    d = DATA.assign(beneficiary=0, benefit=0.0)
    with pytest.warns(ik.ImpactkitWarning):
        r = ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE), benefit="benefit")
    assert r.coef["coverage"] == 0.0 and np.isnan(r.coef["inclusion_error_beneficiaries"])


def test_data_not_modified_and_weights_series_aligned():
    d = DATA.copy()
    before = d.copy()
    w = d["w"].sample(frac=1.0, random_state=1)  # permuted index: aligned by label
    r1 = ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE), weights=w)
    r2 = ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE), weights="w")
    pd.testing.assert_frame_equal(d, before)
    np.testing.assert_allclose(r1.coef.to_numpy(), r2.coef.to_numpy(), rtol=1e-13, equal_nan=True)


@pytest.mark.parametrize("kwargs,err,match", [
    (dict(welfare="nope"), ik.InvalidInputError, "unknown column 'nope'"),
    (dict(beneficiary="welfare"), ik.InvalidInputError, "must be boolean or 0/1"),
    (dict(target=3), TypeError, "target must be"),
    (dict(benefit="sex"), TypeError, "must be numeric"),
    (dict(unit="villages"), ik.InvalidInputError, "unit must be"),
    (dict(weights=np.ones(5)), ik.InvalidInputError, "weights has shape"),
    (dict(design="x"), TypeError, "design must be"),
])
def test_bad_arguments(kwargs, err, match):
    args = dict(welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE), benefit="benefit")
    args.update(kwargs)
    with pytest.raises(err, match=match):
        ik.targeting(DATA, **args)


def test_nan_welfare_and_benefit_to_non_beneficiary():
    d = DATA.copy()
    d.loc[5, "welfare"] = np.nan
    with pytest.raises(ik.InvalidInputError, match="welfare column 'welfare' has a missing"):
        ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE))
    d = DATA.copy()
    d.loc[d.index[d.beneficiary == 0][0], "benefit"] = 3.0
    with pytest.raises(ik.InvalidInputError, match="for a non-beneficiary"):
        ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE), benefit="benefit")
    with pytest.raises(ik.InvalidInputError, match="finite number"):
        ik.poverty_line(float("nan"))


def test_lonely_psu_rules_reach_targeting():
    d = DATA[~((DATA.stratum == 1) & (DATA.psu > 1))]  # stratum 1 keeps one PSU
    with pytest.raises(ik.InvalidInputError, match="stratum"):
        ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE),
                     design=ik.SurveyDesign(d, weights="w", strata="stratum", psu="psu", nest=True))
    r = ik.targeting(d, welfare="welfare", beneficiary="beneficiary", target=ik.poverty_line(LINE),
                     design=ik.SurveyDesign(d, weights="w", strata="stratum", psu="psu", nest=True, lonely_psu="adjust"))
    assert np.isfinite(r.se["coverage"])


def test_plot_incidence():
    import matplotlib

    matplotlib.use("Agg")
    ax = _run("stratified_cluster_fpc_line_by_sex").plot()
    assert len(ax.patches) == 10


def _laeken_quantile(y, w, p):
    """laeken::weightedQuantile by sorting (the reference for the O(n) selection in C++)."""
    keep = w > 0
    o = np.argsort(y[keep], kind="stable")
    ys, ws = y[keep][o], w[keep][o]
    cum = np.cumsum(ws.astype(np.longdouble))
    share = (cum / cum[-1]).astype(np.float64)
    j = min(int(np.searchsorted(share, p, side="left")), len(ys) - 1)
    return 0.5 * (ys[j] + ys[j + 1]) if share[j] == p and j + 1 < len(ys) else ys[j]


@pytest.mark.parametrize("seed", range(6))
def test_quantile_group_cuts_equal_sorted_laeken_rule(seed):
    """Ties, integer weights (exact share == j/K cases, where the rule averages with the next value),
    zero weights: the selection gives laeken's cuts exactly."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([5, 10, 40, 1000, 5000]))
    y = rng.integers(0, max(2, n // 3), n).astype(float) if seed % 2 else np.round(rng.lognormal(3, 1, n), 1)
    w = rng.integers(0, 4, n).astype(float) if seed % 3 else np.ones(n)
    w[0] = max(w[0], 1.0)
    d = pd.DataFrame({"y": y, "B": (rng.random(n) < 0.5).astype(float), "w": w})
    r = ik.targeting(d, welfare="y", beneficiary="B", target=ik.poverty_line(float(np.median(y))), weights="w",
                     incidence=ik.quantile_groups(5))
    want = [_laeken_quantile(y, w, j / 5) for j in range(1, 5)]
    np.testing.assert_array_equal(r.welfare_cuts, want)
    rel = ik.targeting(d, welfare="y", beneficiary="B", target=ik.bottom(0.3), weights="w", incidence=None)
    assert rel.line == _laeken_quantile(y, w, 0.3)


def test_repeated_call_on_a_design_reuses_only_confirmed_cuts():
    """A design remembers the welfare-group cuts of its last ik.targeting call and offers them to the next;
    C++ uses them only when its pass confirms they are laeken's quantiles of the rows now given. A frame
    with the same design columns but other welfare (stale cuts) must give the fresh answer."""
    rng = np.random.default_rng(5)
    n = 3000
    df = pd.DataFrame({"psu": rng.integers(0, 60, n), "w": rng.uniform(1, 3, n), "y": np.round(rng.lognormal(3, 0.6, n), 1),
                       "B": (rng.random(n) < 0.4).astype(float)})
    df["stratum"] = df["psu"] // 10
    kw = dict(welfare="y", beneficiary="B", target=ik.poverty_line(20.0))
    d = ik.SurveyDesign(df, weights="w", strata="stratum", psu="psu")
    first = ik.targeting(df, design=d, **kw)
    second = ik.targeting(df, design=d, **kw)
    pd.testing.assert_frame_equal(first.table(), second.table())
    assert d._welfare_cuts_cache  # the hint was stored
    other = df.assign(y=np.round(rng.lognormal(3.3, 0.5, n), 1))  # same design columns, other welfare
    stale = ik.targeting(other, design=d, **kw)
    fresh = ik.targeting(other, design=ik.SurveyDesign(other, weights="w", strata="stratum", psu="psu"), **kw)
    np.testing.assert_array_equal(stale.welfare_cuts, fresh.welfare_cuts)
    np.testing.assert_array_equal(stale.welfare_cuts, [_laeken_quantile(other["y"].to_numpy(), other["w"].to_numpy(), j / 5)
                                                       for j in range(1, 5)])
    pd.testing.assert_frame_equal(stale.table(), fresh.table())
