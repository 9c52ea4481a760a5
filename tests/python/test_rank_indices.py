"""ik.lorenz, ik.quantile_shares, ik.qsr, ik.sen, ik.concentration_index, ik.kakwani and
ik.gini(convention="convey") against R, published formulas and worked examples.

References
- tests/reference/r/inequality/rank_indices_reference.json, written by make_rank_indices_reference.R next
  to it (R 4.2, survey 4.1, laeken) on laeken's eusilc under svydesign(ids=~db030, strata=~db040,
  weights=~rb050):
  * laeken::qsr point estimates (overall and by region) and laeken::gini of the poor (Sen);
  * the concentration index from the "convenient regression" of Kakwani, Wagstaff & van Doorslaer
    (1997) (lm of 2 var(R) h/μ on the fractional rank), an independent route to the point estimate;
  * standard errors: the linearised variables written out in plain R from the published formulas
    (Kovačević & Binder 1997 partial totals; Langel & Tillé 2013 / KWvD 1997 rank indices; convey's
    svygini contrast), SE by svytotal on the design.
- Kakwani, Wagstaff & van Doorslaer (1997, J. Econometrics 77, eq. 14): the iid variance of the
  concentration index, var(C) = (1/n)[(1/n) Σ a_i² − (1 + C)²]; a simple random sample's design variance
  is that times n/(n − 1) exactly (tested to 1e-12).
- Haughton & Khandker (2009): incomes 100, 110, 150, 160, line 125: H = 0.5, I = 0.16, Gini of the poor
  1/42, so Sen = 0.5·(0.16 + 0.84/42) = 0.09; incomes 10 … 90: Lorenz ordinates are the cumulative shares.
- Monte Carlo: the linearised SEs against the spread of the estimates over repeated simple random samples.
Tolerances: estimates rel 1e-12, SEs rel 1e-9 (R's arithmetic order differs), Monte Carlo 15%.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactkit as ik

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "r" / "inequality" / "rank_indices_reference.json").read_text())
E = ik.datasets.load("eusilc")
REGIONS = sorted(E["db040"].unique())


def _matrix(flat):
    """A square matrix from R's column-major flattening (json_writer.R)."""
    a = np.asarray(flat, dtype=float)
    k = int(round(np.sqrt(a.size)))
    return a.reshape(k, k, order="F")


def _design(data=E):
    return ik.SurveyDesign(data, weights="rb050", strata="db040", psu="db030")


def test_lorenz_and_generalized_lorenz_against_r():
    for gen, key in [(False, "lorenz"), (True, "generalized_lorenz")]:
        ref = REF[key]
        r = ik.lorenz(E, "eqIncome", points=ref["p"], generalized=gen, design=_design())
        np.testing.assert_allclose(r.coef, ref["estimate"], rtol=1e-12)
        # L(1) = 1 exactly with zero variance (R's is ~1e-18 of rounding)
        se = r.se.to_numpy()
        np.testing.assert_allclose(se[:-1] if not gen else se, ref["se"][:-1] if not gen else ref["se"], rtol=1e-9)
        if not gen:
            assert se[-1] < 1e-12
        np.testing.assert_allclose(r.vcov.to_numpy()[:-1, :-1], _matrix(ref["vcov"])[:-1, :-1], rtol=1e-8, atol=1e-16)
        t = r.tidy()
        assert list(t["p"]) == ref["p"] and r.conventions["df"] == ref["df"]


def test_lorenz_by_region_on_full_design():
    ref = REF["lorenz_by_region"]
    r = ik.lorenz(E, "eqIncome", points=ref["p"], design=_design(), by="db040")
    assert list(r.tidy()["db040"]) == [g for g in ref["regions"] for _ in ref["p"]]
    np.testing.assert_allclose(r.coef, ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(r.se, ref["se"], rtol=1e-9)


def test_quintile_shares_against_r():
    ref = REF["quintile_shares"]
    r = ik.quantile_shares(E, "eqIncome", design=_design())
    np.testing.assert_allclose(r.coef, ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(r.se, ref["se"], rtol=1e-9)
    np.testing.assert_allclose(r.vcov, _matrix(ref["vcov"]), rtol=1e-8, atol=1e-16)
    assert r.coef.sum() == pytest.approx(1.0, abs=1e-14)
    assert list(r.tidy()["p_high"]) == [0.2, 0.4, 0.6, 0.8, 1.0]
    # cuts= gives the same groups; the ratio of the last and first share is S80/S20 up to the split of
    # the household at each quintile (Eurostat's QSR counts whole tie runs)
    c = ik.quantile_shares(E, "eqIncome", cuts=[0.2, 0.4, 0.6, 0.8], design=_design())
    np.testing.assert_array_equal(c.coef.to_numpy(), r.coef.to_numpy())
    assert r.coef.iloc[-1] / r.coef.iloc[0] == pytest.approx(REF["qsr"]["laeken"], rel=1e-3)


def test_qsr_against_laeken_and_linearisation():
    ref = REF["qsr"]
    r = ik.qsr(E, "eqIncome", design=_design())
    assert r.coef.iloc[0] == pytest.approx(ref["laeken"], rel=1e-12)
    assert r.se.iloc[0] == pytest.approx(ref["se"], rel=1e-9)
    b = ik.qsr(E, "eqIncome", design=_design(), by="db040")
    assert list(b.tidy()["db040"]) == ref["regions"]
    np.testing.assert_allclose(b.coef, ref["laeken_by_region"], rtol=1e-12)
    np.testing.assert_allclose(b.se, ref["by_region_se"], rtol=1e-9)
    s = ik.qsr(E, "eqIncome", lower=0.1, upper=0.9, design=_design())
    assert s.coef.iloc[0] == pytest.approx(ref["s90_s10"], rel=1e-12)
    assert s.se.iloc[0] == pytest.approx(ref["s90_s10_se"], rel=1e-9)
    # weights= alone gives laeken's point estimate too
    assert ik.qsr(E, "eqIncome", weights="rb050").coef.iloc[0] == pytest.approx(ref["laeken"], rel=1e-12)


def test_concentration_index_against_r_and_convenient_regression():
    ref = REF["concentration_hy070n"]
    r = ik.concentration_index(E, "hy070n", rank_by="eqIncome", design=_design())
    assert r.coef.iloc[0] == pytest.approx(ref["estimate"], rel=1e-12)
    assert r.coef.iloc[0] == pytest.approx(ref["convenient_regression"], rel=1e-12)
    assert r.se.iloc[0] == pytest.approx(ref["se"], rel=1e-9)
    g = ik.concentration_index(E, "hy070n", rank_by="eqIncome", kind="generalized", design=_design())
    assert g.coef.iloc[0] == pytest.approx(ref["generalized"], rel=1e-12)
    assert g.se.iloc[0] == pytest.approx(ref["generalized_se"], rel=1e-9)
    b = ik.concentration_index(E, "hy070n", rank_by="eqIncome", design=_design(), by="db040")
    np.testing.assert_allclose(b.coef, REF["concentration_by_region"]["estimate"], rtol=1e-12)
    np.testing.assert_allclose(b.se, REF["concentration_by_region"]["se"], rtol=1e-9)


def test_concentration_index_of_a_binary_outcome():
    ref = REF["concentration_binary"]
    e = E.assign(receives=(E["hy070n"] > 0).astype(float))
    for kind, est, se in [("standard", "estimate", "se"), ("erreygers", "erreygers", "erreygers_se"), ("wagstaff", "wagstaff", "wagstaff_se")]:
        r = ik.concentration_index(e, "receives", rank_by="eqIncome", kind=kind, design=_design(e))  # bounds (0, 1) by default
        assert r.coef.iloc[0] == pytest.approx(ref[est], rel=1e-12), kind
        assert r.se.iloc[0] == pytest.approx(ref[se], rel=1e-9), kind
    r = ik.concentration_index(e, "receives", rank_by="eqIncome", kind="wagstaff", bounds=(0, 1), design=_design(e))
    assert r.coef.iloc[0] == pytest.approx(ref["wagstaff"], rel=1e-12)


def test_kakwani_and_convey_gini_and_sen_against_r():
    ref = REF["kakwani_hy070n"]
    k = ik.kakwani(E, "hy070n", income="eqIncome", design=_design())
    assert k.coef.iloc[0] == pytest.approx(ref["estimate"], rel=1e-12)
    assert k.se.iloc[0] == pytest.approx(ref["se"], rel=1e-9)
    g = ik.gini(E, "eqIncome", design=_design())
    c = ik.concentration_index(E, "hy070n", rank_by="eqIncome", design=_design())
    assert k.coef.iloc[0] == pytest.approx(c.coef.iloc[0] - g.coef.iloc[0], rel=1e-13)
    assert g.coef.iloc[0] == pytest.approx(ref["laeken_gini"], rel=1e-12)
    cg = ik.gini(E, "eqIncome", design=_design(), convention="convey")
    assert cg.coef.iloc[0] == pytest.approx(REF["gini_convey"]["estimate"], rel=1e-12)
    assert cg.se.iloc[0] == pytest.approx(REF["gini_convey"]["se"], rel=1e-9)
    s = ik.sen(E, "eqIncome", line=REF["sen"]["line"], design=_design())
    assert s.coef.iloc[0] == pytest.approx(REF["sen"]["estimate"], rel=1e-12)
    assert s.se.iloc[0] == pytest.approx(REF["sen"]["se"], rel=1e-9)
    assert REF["sen"]["gini_poor"] == pytest.approx(REF["sen"]["laeken_gini_poor"], rel=1e-12)


@pytest.mark.parametrize("case,line,by", [("sen_relative", ik.relative_line(0.6), None), ("sen_bottom", ik.bottom(0.2), None),
                                          ("sen_relative_by_region", ik.relative_line(0.6), "db040")])
def test_sen_with_estimated_lines(case, line, by):
    """Sen with a relative line (0.6 × weighted median, y < z) or the bottom 20% (y ≤ Q_0.2): the line's estimation
    enters the SE as ∂S/∂z · IF(z) (plain-R linearisation in make_rank_indices_reference.R; bandwidth and
    density as for FGT). Estimates to 1e-12, line exact (laeken's quantile), SEs and covariances to 1e-9."""
    ref = REF[case]
    s = ik.sen(E, "eqIncome", line=line, design=_design(), by=by)
    est = np.atleast_1d(ref["estimate"])
    np.testing.assert_allclose(s.coef.to_numpy(), est, rtol=1e-12)
    np.testing.assert_allclose(s.se.to_numpy(), np.atleast_1d(ref["se"]), rtol=1e-9)
    V = np.asarray(ref["vcov"], dtype=float).reshape(len(est), len(est))  # symmetric: storage order does not matter
    np.testing.assert_allclose(s.vcov.to_numpy(), V, rtol=1e-9, atol=1e-9 * np.max(np.abs(V)))
    assert s.line == pytest.approx(ref["line"], rel=1e-15)
    assert s.bandwidth == pytest.approx(ref["bandwidth"], rel=1e-12)
    fixed = ik.sen(E, "eqIncome", line=ik.poverty_line(s.line, strict=line.strict if hasattr(line, "strict") else False),
                   design=_design(), by=by)
    np.testing.assert_allclose(fixed.coef.to_numpy(), s.coef.to_numpy(), rtol=1e-14)  # same index; only the SE differs
    assert not np.allclose(fixed.se.to_numpy(), s.se.to_numpy(), rtol=1e-3)


def test_sen_line_derivative_matches_finite_differences():
    """The ∂S/∂z used for an estimated line (poverty.cpp, make_rank_indices_reference.R):
    f̂(z)·(1 − 2 Σ_poor w y midN / (z P²)) + (1 − G_p)·m/z², checked against central differences of the
    fixed-line index on a large smooth sample (400,000 log-normal rows; step ±5% of z; tolerance 1%)."""
    rng = np.random.default_rng(3)
    y, w = np.exp(rng.normal(3, 0.6, 400_000)), rng.uniform(1, 3, 400_000)
    df = pd.DataFrame({"y": y, "w": w})
    z = 15.0
    N = w.sum()
    h = np.sqrt(np.sum(w * (y - np.average(y, weights=w)) ** 2) / N) / N ** 0.2
    poor = y < z
    o = np.argsort(y[poor])
    ys, ws = y[poor][o], w[poor][o]
    P, m = ws.sum(), np.sum(ws * ys) / N
    mid = np.cumsum(ws) - ws / 2
    gp = 2 * np.sum(ws * ys * mid) / (P * np.sum(ws * ys)) - 1
    f = np.sum(w * np.exp(-0.5 * ((z - y) / h) ** 2)) / (np.sqrt(2 * np.pi) * h * N)
    analytic = f * (1 - 2 * np.sum(ws * ys * mid) / (z * P * P)) + (1 - gp) * m / z ** 2
    sen = [float(ik.sen(df, "y", line=v, weights="w").coef.iloc[0]) for v in (0.95 * z, 1.05 * z)]
    assert (sen[1] - sen[0]) / (0.1 * z) == pytest.approx(analytic, rel=0.01)


def test_worked_examples():
    hk = pd.DataFrame({"y": [100.0, 110, 150, 160]})
    assert ik.sen(hk, "y", line=125).coef.iloc[0] == pytest.approx(0.09, rel=1e-14)
    # Sen = H [I + (1 − I) G_p]: the Gini among the poor is ik.gini on the poor alone
    gp = ik.gini(hk[hk.y < 125], "y").coef.iloc[0]
    assert gp == pytest.approx(1 / 42, rel=1e-14)
    inc = pd.DataFrame({"y": [10.0, 15, 20, 25, 40, 20, 30, 35, 45, 90]})
    L = ik.lorenz(inc, "y", points=np.arange(1, 11) / 10)
    s = np.sort(inc.y.to_numpy())
    np.testing.assert_allclose(L.coef, np.cumsum(s) / s.sum(), rtol=1e-14)
    GL = ik.lorenz(inc, "y", points=[0.5, 1.0], generalized=True)
    np.testing.assert_allclose(GL.coef, [s[:5].sum() / 10, s.mean()], rtol=1e-14)
    # unit weights: convey's Gini equals Eurostat's (0.32727, published); the concentration index of y ranked by y is the Gini
    a = ik.gini(inc, "y").coef.iloc[0]
    assert round(a, 5) == 0.32727
    assert ik.gini(inc, "y", convention="convey").coef.iloc[0] == pytest.approx(a, rel=1e-14)
    assert ik.concentration_index(inc, "y", rank_by="y").coef.iloc[0] == pytest.approx(a, rel=1e-14)
    # a transfer that is the same for everyone has C = 0; an all-to-the-poorest one C = −(1 − 1/n)
    inc["flat"] = 1.0
    inc["poorest"] = (inc.y == inc.y.min()).astype(float)
    assert ik.concentration_index(inc, "flat", rank_by="y").coef.iloc[0] == pytest.approx(0.0, abs=1e-15)
    assert ik.concentration_index(inc, "poorest", rank_by="y").coef.iloc[0] == pytest.approx(-0.9, rel=1e-14)


def test_concentration_variance_equals_kakwani_wagstaff_van_doorslaer_formula():
    rng = np.random.default_rng(3)
    n = 500
    y = np.exp(rng.normal(8, 0.8, n))
    h = rng.poisson(2 + 3 * (y < np.median(y)), n).astype(float)
    r = ik.concentration_index(pd.DataFrame({"y": y, "h": h}), "h", rank_by="y")
    o = np.argsort(y, kind="stable")
    hs = h[o]
    mu = hs.mean()
    R = (np.arange(1, n + 1) - 0.5) / n
    C = 2 * np.mean(hs * R) / mu - 1
    q = np.r_[0.0, np.cumsum(hs) / hs.sum()]
    a = hs / mu * (2 * R - 1 - C) + 2 - q[:-1] - q[1:]
    var_kwvd = (np.mean(a ** 2) - (1 + C) ** 2) / n
    assert r.coef.iloc[0] == pytest.approx(C, rel=1e-12)
    assert r.se.iloc[0] ** 2 == pytest.approx(var_kwvd * n / (n - 1), rel=1e-10)


@pytest.mark.parametrize("index", ["lorenz", "qsr", "concentration", "kakwani", "sen", "gini_convey"])
def test_linearised_se_against_monte_carlo(index):
    rng = np.random.default_rng(11)
    N = 200_000
    pop_y = np.exp(rng.normal(9, 0.7, N))
    pop_h = rng.gamma(2, 1 + 2 * (pop_y < np.quantile(pop_y, 0.3)), N)
    n, reps = 1500, 300

    def stat(df):
        w = {"weights": "w"}
        if index == "lorenz":
            return ik.lorenz(df, "y", points=[0.3], **w)
        if index == "qsr":
            return ik.qsr(df, "y", **w)
        if index == "concentration":
            return ik.concentration_index(df, "h", rank_by="y", **w)
        if index == "kakwani":
            return ik.kakwani(df, "h", income="y", **w)
        if index == "sen":
            return ik.sen(df, "y", line=6000.0, **w)
        return ik.gini(df, "y", convention="convey", **w)

    est, se = [], []
    for _ in range(reps):
        idx = rng.integers(0, N, n)
        df = pd.DataFrame({"y": pop_y[idx], "h": pop_h[idx], "w": np.full(n, N / n)})
        r = stat(df)
        est.append(r.coef.iloc[0])
        se.append(r.se.iloc[0])
    assert np.mean(se) == pytest.approx(np.std(est, ddof=1), rel=0.15)


def test_no_answer_depends_on_row_order_and_scale():
    rng = np.random.default_rng(5)
    n = 300
    d = pd.DataFrame({"y": rng.integers(1, 20, n).astype(float), "h": rng.integers(0, 3, n).astype(float),
                      "w": rng.uniform(0.5, 3, n), "g": rng.choice(["a", "b"], n)})
    p = d.sample(frac=1.0, random_state=1)
    calls = [lambda x: ik.lorenz(x, "y", points=[0.2, 0.5, 1], weights="w", by="g"),
             lambda x: ik.quantile_shares(x, "y", weights="w", by="g"),
             lambda x: ik.qsr(x, "y", weights="w", by="g"),
             lambda x: ik.concentration_index(x, "h", rank_by="y", weights="w", by="g"),
             lambda x: ik.kakwani(x, "h", income="y", weights="w", by="g"),
             lambda x: ik.sen(x, "y", line=8, weights="w", by="g"),
             lambda x: ik.gini(x, "y", weights="w", by="g", convention="convey")]
    for call in calls:
        a, b = call(d), call(p)
        np.testing.assert_allclose(a.coef, b.coef, rtol=1e-13)
        np.testing.assert_allclose(a.se, b.se, rtol=1e-10)
    # scale-free indices (welfare × 1e6): equal estimates and SEs
    s = d.assign(y=d.y * 1e6)
    for f in [lambda x: ik.lorenz(x, "y", points=[0.2, 0.5], weights="w"), lambda x: ik.qsr(x, "y", weights="w"),
              lambda x: ik.concentration_index(x, "h", rank_by="y", weights="w")]:
        np.testing.assert_allclose(f(d).coef, f(s).coef, rtol=1e-12)
        np.testing.assert_allclose(f(d).se, f(s).se, rtol=1e-9)


def test_results_objects_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    r = ik.lorenz(E, "eqIncome", weights="rb050", by="rb090")
    t = r.tidy()
    assert {"rb090", "p", "term", "estimate", "std_error", "conf_low", "conf_high"} <= set(t.columns)
    assert len(t) == 2 * 20 and t["p"].iloc[-1] == 1.0
    assert "Lorenz" in str(r.summary()) and "<table" in r._repr_html_()
    ax = r.plot()
    assert len(ax.lines) >= 3
    q = ik.quantile_shares(E, "eqIncome", groups=10, weights="rb050")
    assert len(q.coef) == 10 and q.tidy()["p_low"].iloc[0] == 0.0


def test_bad_inputs():
    d = pd.DataFrame({"y": [1.0, 2, 3, 4], "h": [0.0, 1, 0, 1], "neg": [-1.0, 2, 3, 4], "w": [1.0, 1, 1, 1], "s": list("abcd")})
    bad = [
        (lambda: ik.lorenz(d, "y", points=[0.5, 0.2]), "increase"),
        (lambda: ik.lorenz(d, "y", points=[0.0, 0.5]), "increase"),
        (lambda: ik.lorenz(d, "y", points="x"), "numbers"),
        (lambda: ik.quantile_shares(d, "y", groups=1), "groups"),
        (lambda: ik.quantile_shares(d, "y", cuts=[0.5, 1.0]), "cuts"),
        (lambda: ik.qsr(d, "y", lower=0.8, upper=0.2), "lower < upper"),
        (lambda: ik.qsr(d, "y", lower=float("nan")), "finite"),
        (lambda: ik.sen(d.assign(y=2.0), "y", line=ik.relative_line(0.6)), "constant over the analysis rows"),
        (lambda: ik.sen(d, "y", line=0), "positive"),
        (lambda: ik.sen(d, "neg", line=3), "welfare ≥ 0"),
        (lambda: ik.concentration_index(d, "h", rank_by="nope"), "nope"),
        (lambda: ik.concentration_index(d, "y", rank_by="y", kind="erreygers"), "bounds"),
        (lambda: ik.concentration_index(d, "y", rank_by="y", kind="wagstaff", bounds=(0, 2)), "outside its bounds"),
        (lambda: ik.concentration_index(d, "h", rank_by="y", kind="nonsense"), "kind"),
        (lambda: ik.concentration_index(d, "h", rank_by="y", kind="erreygers", bounds=(1, 0)), "a < b"),
        (lambda: ik.kakwani(d, "h", income="neg"), "income ≥ 0"),
        (lambda: ik.gini(d, "y", convention="stata"), "convention"),
        (lambda: ik.concentration_index(d, "s", rank_by="y"), "numeric"),
    ]
    for call, words in bad:
        with pytest.raises((ValueError, TypeError), match=words):
            call()
    with pytest.raises(TypeError, match="pair"):
        ik.concentration_index(d, "h", rank_by="y", kind="erreygers", bounds=3)
    # undefined groups: NaN with a warning, other groups intact
    z = pd.DataFrame({"y": [0.0, 0.0, 1.0, 5.0], "g": ["a", "a", "b", "b"], "h": [0.0, 0.0, 1.0, 2.0]})
    with pytest.warns(ik.ImpactkitWarning, match="undefined"):
        r = ik.qsr(z, "y", by="g")
    assert np.isnan(r.coef.iloc[0]) and np.isfinite(r.coef.iloc[1])
    with pytest.warns(ik.ImpactkitWarning, match="undefined"):
        r = ik.concentration_index(z, "h", rank_by="y", by="g")
    assert np.isnan(r.coef.iloc[0]) and np.isfinite(r.coef.iloc[1])
    with pytest.warns(ik.ImpactkitWarning, match="undefined"):
        r = ik.lorenz(z, "y", points=[0.5], by="g")
    # no poor: Sen is 0 with zero variance
    r = ik.sen(d, "y", line=0.5)
    assert r.coef.iloc[0] == 0 and r.se.iloc[0] == 0
    # data unchanged
    before = d.copy()
    ik.kakwani(d, "h", income="y")
    pd.testing.assert_frame_equal(d, before)


def test_replicate_designs_against_r_with_replicates():
    """Each index re-estimated under every JKn replicate, as survey::withReplicates (R) with laeken's or the
    plain-R index functions (make_rank_indices_reference.R), on the targeting reference data."""
    base = Path(__file__).resolve().parents[1] / "reference" / "r" / "targeting"
    data = pd.read_csv(base / "targeting_data.csv")
    repw = pd.read_csv(base / "targeting_repweights.csv")
    frame = pd.concat([data, repw], axis=1)
    spec = REF["replicate_design"]
    d = ik.SurveyDesign(frame, weights="w", replicate_weights=list(repw.columns), replicate_type="JKn",
                        rscales=spec["rscales"], scale=spec["scale"])
    checks = {
        "replicate_gini": ik.gini(frame, "welfare", design=d),
        "replicate_qsr": ik.qsr(frame, "welfare", design=d),
        "replicate_arpr": ik.arpr(frame, "welfare", design=d),
        "replicate_arpt": ik.arpt(frame, "welfare", design=d),
        "replicate_fgt1": ik.fgt(frame, "welfare", line=20, alpha=1, design=d),
        "replicate_lorenz": ik.lorenz(frame, "welfare", points=[0.2, 0.5], design=d),
        "replicate_concentration": ik.concentration_index(frame, "benefit", rank_by="welfare", design=d),
        "replicate_sen": ik.sen(frame, "welfare", line=20, design=d),
    }
    for key, r in checks.items():
        ref = REF[key]
        np.testing.assert_allclose(r.coef, np.atleast_1d(ref["estimate"]), rtol=1e-12, err_msg=key)
        np.testing.assert_allclose(r.se, np.atleast_1d(ref["se"]), rtol=1e-9, err_msg=key)
        assert r.conventions["kind"] == "replicate", key
    # by group: each group's index re-estimated per replicate (domains on the full design)
    g = ik.gini(frame, "welfare", design=d, by="sex")
    assert g.se.notna().all() and len(g.coef) == 2


def test_rank_indices_keep_accuracy_far_from_zero():
    """Welfare 1e9 + N(0, 1): the Gini (~5e-10) and the concentration index against exact rational arithmetic
    of the same formulas (fractions), to 1e-9 relative — sums in deviations from the mean, no cancellation."""
    from fractions import Fraction

    rng = np.random.default_rng(8)
    n = 60
    y = 1e9 + rng.normal(0, 1, n)
    w = rng.uniform(0.5, 2, n)
    h = rng.uniform(0, 1, n)
    d = pd.DataFrame({"y": y, "w": w, "h": h})

    def exact_concentration(values):
        o = np.argsort(y, kind="stable")
        N = sum(Fraction(float(x)) for x in w)
        T = sum(Fraction(float(w[i])) * Fraction(float(values[i])) for i in range(n))
        C, num = Fraction(0), Fraction(0)
        for i in o:
            wi = Fraction(float(w[i]))
            num += 2 * wi * Fraction(float(values[i])) * (C + wi / 2)
            C += wi
        return float(num / (N * T) - 1)

    assert ik.gini(d, "y", weights="w").coef.iloc[0] == pytest.approx(exact_concentration(y), rel=1e-9)
    assert ik.concentration_index(d, "h", rank_by="y", weights="w").coef.iloc[0] == pytest.approx(exact_concentration(h), rel=1e-12)
    # the SE is that of the same data shifted to mean 0 + 10 (scale-free index of deviations): finite and positive
    assert 0 < ik.gini(d, "y", weights="w").se.iloc[0] < 1e-8
