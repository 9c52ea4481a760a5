"""Control charts, run rules, LQAS and survey sample sizes.

References:
- p chart: Montgomery, Introduction to Statistical Quality Control (6th ed., Example 7.1, Table 7.1: frozen orange
  juice cans, 30 samples of n = 50). Published: trial limits p̄ = 0.2313, UCL = 0.4102, LCL = 0.0524 with samples 15
  and 23 above the UCL; after dropping them, revised p̄ = 0.2150, UCL = 0.3893, LCL = 0.0407. Checked to the 4
  printed decimals (abs 5e-5), and the centre lines exactly as 347/1500 and 301/1400. (The table was typed from the
  book; the search tool did not find an online copy. The two centre lines are hand-checkable sums.)
- c, u, np, XmR and Laney p′ limits: the textbook formulas written independently in numpy here (1e-12).
- Run rules: sequences built to trip each Nelson (1984) rule at a known point.
- LQAS: the table in PMC3013262, Table 1 (source Grant & Leavenworth 1988): n = 8, 12, 14, 19, 28 with 80% / 50%
  thresholds; the probabilities to abs 0.01 (the table's 2nd decimal is sometimes truncated, sometimes rounded:
  0.2749 printed 0.28, 0.8182 printed 0.81) and the starred (optimal) rules. One entry is off by more: n = 8, d = 2,
  b printed 0.83, but P(more than 2 of 8 fail | 50%) = 1 − 37/256 = 0.8555 exactly; we test the exact value there.
- Sample sizes: statsmodels samplesize_confint_proportion and samplesize_proportions_2indep_onetail (rel 1e-12; the
  latter is Fleiss et al. 2003 eq. 4.14 without continuity correction), and that formula by hand with a design effect.
"""
import numpy as np
import pandas as pd
import pytest

import impactkit as ik
from impactkit import _core

MONTGOMERY_7_1 = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13,
                  9, 6]


def test_p_chart_montgomery_example_7_1():
    d = np.array(MONTGOMERY_7_1, dtype=float)
    ch = ik.control_chart(pd.DataFrame({"d": d, "n": 50}), kind="p", values="d", sizes="n")
    assert ch.centre_estimate == pytest.approx(347 / 1500, abs=1e-15)
    t = ch.tidy()
    assert t["centre"].iloc[0] == pytest.approx(0.2313, abs=5e-5)
    assert t["upper"].iloc[0] == pytest.approx(0.4102, abs=5e-5)
    assert t["lower"].iloc[0] == pytest.approx(0.0524, abs=5e-5)
    beyond = [i + 1 for i, r in enumerate(t["rules"]) if "1" in r.split(",")]
    assert beyond == [15, 23]
    revised = ik.control_chart(pd.DataFrame({"d": d, "n": 50}), kind="p", values="d", sizes="n", revise=1)
    assert revised.centre_estimate == pytest.approx(301 / 1400, abs=1e-15)
    r = revised.tidy()
    assert (r["centre"].iloc[0], r["upper"].iloc[0], r["lower"].iloc[0]) == pytest.approx((0.2150, 0.3893, 0.0407), abs=5e-5)
    assert list(np.flatnonzero(r["excluded"]) + 1) == [15, 23]
    # revising until nothing is outside also drops sample 21 (0.40 > 0.3893), which Montgomery keeps
    full = ik.control_chart(d, kind="p", sizes=np.full(30, 50.0), revise=True)
    assert list(np.flatnonzero(full.tidy()["excluded"]) + 1) == [15, 21, 23] and full.revisions == 2


def test_np_c_u_xmr_laney_limits_by_formula():
    rng = np.random.default_rng(4)
    n = rng.integers(80, 120, 25).astype(float)
    d = rng.binomial(n.astype(int), 0.1).astype(float)
    pbar = d.sum() / n.sum()
    t = ik.control_chart(d, kind="np", sizes=n).tidy()
    np.testing.assert_allclose(t["centre"], n * pbar, rtol=1e-12)
    np.testing.assert_allclose(t["upper"], n * pbar + 3 * np.sqrt(n * pbar * (1 - pbar)), rtol=1e-12)
    c = rng.poisson(6, 25).astype(float)
    t = ik.control_chart(c, kind="c").tidy()
    np.testing.assert_allclose(t["upper"], c.mean() + 3 * np.sqrt(c.mean()), rtol=1e-12)
    np.testing.assert_allclose(t["lower"], max(0, c.mean() - 3 * np.sqrt(c.mean())), rtol=1e-12, atol=1e-15)
    units = rng.uniform(1, 3, 25)
    ubar = c.sum() / units.sum()
    t = ik.control_chart(c, kind="u", sizes=units).tidy()
    np.testing.assert_allclose(t["statistic"], c / units, rtol=1e-15)
    np.testing.assert_allclose(t["upper"], ubar + 3 * np.sqrt(ubar / units), rtol=1e-12)
    x = rng.normal(10, 2, 30)
    mr = np.abs(np.diff(x[:20])).mean()
    ch = ik.control_chart(x, kind="xmr", phase1=(0, 20))
    t = ch.tidy()
    assert ch.mean_moving_range == pytest.approx(mr, rel=1e-12)
    np.testing.assert_allclose(t["upper"], x[:20].mean() + 3 * mr / 1.128, rtol=1e-12)
    np.testing.assert_allclose(t["lower"], x[:20].mean() - 3 * mr / 1.128, rtol=1e-12)
    # Laney p' (2002): z_i = (p_i - pbar)/sigma_i, sigma_z = mean |diff z| / 1.128, limits pbar ± 3 sigma_i sigma_z
    big = rng.integers(2000, 5000, 25).astype(float)
    dd = rng.binomial(big.astype(int), rng.uniform(0.08, 0.12, 25)).astype(float)
    pb = dd.sum() / big.sum()
    s = np.sqrt(pb * (1 - pb) / big)
    sz = np.abs(np.diff((dd / big - pb) / s)).mean() / 1.128
    ch = ik.control_chart(dd, kind="laney_p", sizes=big)
    assert ch.sigma_z == pytest.approx(sz, rel=1e-12)
    np.testing.assert_allclose(ch.tidy()["upper"], pb + 3 * s * sz, rtol=1e-12)


def _flags(z, rules="nelson"):
    v = np.asarray(_core.monitoring.run_rule_violations(np.asarray(z, dtype=float), rules))
    return {r: list(np.flatnonzero(v >> (r - 1) & 1)) for r in range(1, 9)}


def test_run_rules_fire_where_built():
    f = _flags([0.5] * 9)  # nine on one side, all within 1 sigma
    assert f[2] == [8] and f[1] == [] and f[8] == []
    assert _flags([0.5] * 8, "western_electric")[2] == [7]
    assert _flags([-0.5] * 8)[2] == []
    assert _flags([-0.9, -0.6, -0.3, 0.1, 0.2, 0.3])[3] == [5]  # six increasing
    alt = [0.2 * (-1) ** i for i in range(14)]
    f = _flags(alt)
    assert f[4] == [13]
    assert _flags([0.0, 2.5, 0.5, 2.1])[5] == [3]  # two of three beyond 2 sigma, the second completes it
    assert _flags([1.5, 0.0, 1.2, 1.1, 1.3])[6] == [4]
    assert _flags([0.1, -0.1] * 7 + [0.1])[7] == [14]
    assert _flags([1.5, -1.5] * 4)[8] == [7]
    assert _flags([3.5, -3.2, 0.0])[1] == [0, 1]
    assert all(v == [] for v in _flags([0.3, -2.5, 0.4, 2.2, -0.4], "none").values())


def test_chart_results_render_and_violations_table():
    d = np.array(MONTGOMERY_7_1, dtype=float)
    ch = ik.control_chart(d, kind="p", sizes=np.full(30, 50.0))
    v = ch.violations
    assert list(v.columns) == ["sample", "rule", "description"] and set(v["sample"][v["rule"] == 1]) == {14, 22}
    assert "Montgomery" in str(ch.summary()) and "<table>" in ch._repr_html_()
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    assert ch.plot() is not None


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ik.control_chart([], kind="c"), ValueError, "at least one sample"),
    (lambda: ik.control_chart([1.0, 2.0], kind="p"), ValueError, "needs sizes"),
    (lambda: ik.control_chart([1.0, 2.0], kind="p", sizes=[5.0]), ValueError, "2 samples"),
    (lambda: ik.control_chart([6.0, 2.0], kind="p", sizes=[5.0, 5.0]), ValueError, "exceeds its sample size"),
    (lambda: ik.control_chart([1.0, -2.0], kind="c"), ValueError, "counts must be >= 0"),
    (lambda: ik.control_chart([1.0, np.nan], kind="c"), ValueError, "NaN"),
    (lambda: ik.control_chart([1.0, 2.0], kind="p", sizes=[5.0, 0.0]), ValueError, "sizes must be positive"),
    (lambda: ik.control_chart([1.0, 2.0, 3.0], kind="xmr", phase1=(0, 1)), ValueError, "two consecutive"),
    (lambda: ik.control_chart([1.0, 2.0, 3.0], kind="c", phase1=(2, 9)), ValueError, "phase 1"),
    (lambda: ik.control_chart([1.0, 2.0, 3.0], kind="c", phase1=3), TypeError, "pair"),
    (lambda: ik.control_chart([1.0, 2.0], kind="x"), ValueError, "kind must be one of"),
    (lambda: ik.control_chart([1.0, 2.0], kind="c", rules="strict"), ValueError, "rules must be"),
    (lambda: ik.control_chart([1.0, 2.0], kind="c", revise=-1), TypeError, "revise"),
    (lambda: ik.control_chart(pd.DataFrame({"a": [1.0]}), kind="c", values="b"), ValueError, "unknown column 'b'"),
    (lambda: ik.control_chart(pd.DataFrame({"a": [1.0, 2.0]}), kind="p", values="a",
                              sizes=pd.Series([3.0, 3.0], index=[5, 6])), ValueError, "indexed unlike"),
])
def test_chart_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_chart_one_sample_and_constant():
    one = ik.control_chart([4.0], kind="c")
    assert one.tidy()["upper"].iloc[0] == pytest.approx(4 + 3 * 2.0)
    flat = ik.control_chart(np.full(12, 3.0), kind="xmr")  # MR-bar 0: zero-width limits, nothing flagged
    assert not flat.tidy()["out_of_control"].any()
    zero = ik.control_chart(np.zeros(5), kind="p", sizes=np.full(5, 10.0))  # p-bar 0
    assert not zero.tidy()["out_of_control"].any()


# PMC3013262 Table 1 (80% vs 50%): n -> {failures allowed d: (a, b)}, and the starred d
PUBLISHED_LQAS = {
    8: ({0: (0.17, 1.0), 1: (0.50, 0.96), 2: (0.79, 0.83), 3: (0.94, 0.64)}, 2),
    12: ({0: (0.07, 1.0), 1: (0.28, 1.0), 2: (0.56, 0.98), 3: (0.80, 0.93), 4: (0.93, 0.81), 5: (0.98, 0.61)}, 4),
    14: ({0: (0.04, 1.0), 1: (0.20, 1.0), 2: (0.45, 0.99), 3: (0.70, 0.97), 4: (0.87, 0.91), 5: (0.96, 0.79)}, 4),
    19: ({0: (0.01, 1.0), 1: (0.08, 1.0), 2: (0.24, 1.0), 3: (0.46, 1.0), 4: (0.67, 0.99), 5: (0.84, 0.97),
          6: (0.93, 0.92), 7: (0.98, 0.82)}, 6),
    28: ({5: (0.50, 1.0), 6: (0.68, 1.0), 7: (0.81, 0.99), 8: (0.91, 0.98), 9: (0.96, 0.96), 10: (0.99, 0.90)}, 9),
}


@pytest.mark.parametrize("n", sorted(PUBLISHED_LQAS))
def test_lqas_matches_published_table(n):
    rows, star = PUBLISHED_LQAS[n]
    for failures, (a, b) in rows.items():
        r = ik.lqas_rule(n, 0.8, 0.5, rule=n - failures)  # reached when successes >= n - failures
        assert 1 - r.alpha == pytest.approx(a, abs=0.01), (n, failures)
        if (n, failures) == (8, 2):  # printed 0.83: an erratum (see the module docstring)
            assert 1 - r.beta == pytest.approx(1 - 37 / 256, abs=1e-14)
        else:
            assert 1 - r.beta == pytest.approx(b, abs=0.01), (n, failures)
    assert ik.lqas_rule(n, 0.8, 0.5).rule == n - star


def test_lqas_table_classify_and_edges():
    table = ik.lqas_table(19)
    assert list(table["upper"]) == pytest.approx(list(np.arange(0.10, 0.951, 0.05)))
    row = table[np.isclose(table["upper"], 0.8)].iloc[0]
    assert row["rule"] == 13 and row["both_risks_at_most_10pct"]
    assert (np.diff(table["rule"]) >= 0).all()
    areas = ik.lqas_rule(19, 0.8, 0.5).classify(pd.Series([12, 13, 19, 0], index=["north", "south", "east", "west"]))
    assert list(areas["classification"]) == ["not reached", "reached", "reached", "not reached"]
    assert list(areas["area"]) == ["north", "south", "east", "west"]
    with pytest.raises(ValueError, match="whole numbers in 0..n"):
        ik.lqas_rule(19, 0.8, 0.5).classify([20])
    with pytest.raises(ValueError, match="lower must be below upper"):
        ik.lqas_rule(19, 0.5, 0.8)
    with pytest.raises(ValueError, match="n must be >= 1"):
        ik.lqas_rule(0, 0.8, 0.5)
    with pytest.raises(TypeError, match="n must be an integer"):
        ik.lqas_rule(19.0, 0.8, 0.5)


def test_sample_size_proportion_against_statsmodels_and_formula():
    smp = pytest.importorskip("statsmodels.stats.proportion")
    st = pytest.importorskip("scipy.stats")
    for p, e, level in [(0.5, 0.05, 0.95), (0.3, 0.03, 0.9), (0.1, 0.02, 0.99)]:
        s = ik.sample_size_proportion(p, margin=e, level=level)
        assert s.n_unrounded == pytest.approx(smp.samplesize_confint_proportion(p, e, alpha=1 - level), rel=1e-12)
        assert s.n == int(np.ceil(s.n_unrounded))
    assert ik.sample_size_proportion(0.5, margin=0.05).n == 385
    assert ik.sample_size_proportion(0.5, margin=0.05, deff=2).n == 769
    fpc = ik.sample_size_proportion(0.5, margin=0.05, population=1000)
    n0 = 0.25 * st.norm.ppf(0.975) ** 2 / 0.0025
    assert fpc.n_unrounded == pytest.approx(n0 / (1 + (n0 - 1) / 1000), rel=1e-12)
    # change 0.40 -> 0.50, two-sided 5%, power 80%, deff 2 (Fleiss et al. 2003 eq. 4.14 without continuity correction)
    za, zb = st.norm.ppf(0.975), st.norm.ppf(0.8)
    by_hand = 2 * (za * np.sqrt(2 * 0.45 * 0.55) + zb * np.sqrt(0.4 * 0.6 + 0.5 * 0.5)) ** 2 / 0.1 ** 2
    c = ik.sample_size_proportion(0.4, p2=0.5, deff=2)
    assert c.n_unrounded == pytest.approx(by_hand, rel=1e-12) and c.n == int(np.ceil(by_hand))
    for p1, p2, power, alpha in [(0.4, 0.5, 0.8, 0.05), (0.2, 0.1, 0.9, 0.01), (0.65, 0.8, 0.8, 0.1)]:
        sm = smp.samplesize_proportions_2indep_onetail(p2 - p1, p1, power, alpha=alpha)  # same formula, deff 1
        assert ik.sample_size_proportion(p1, p2=p2, power=power, alpha=alpha).n_unrounded == pytest.approx(sm, rel=1e-12)
    assert ik.sample_size_proportion(0.4, p2=0.5, deff=2, response_rate=0.8).n_unrounded == pytest.approx(by_hand / 0.8)
    with pytest.raises(ValueError, match="exactly one of margin"):
        ik.sample_size_proportion(0.4)
    with pytest.raises(ValueError, match="p1 and p2 must differ"):
        ik.sample_size_proportion(0.4, p2=0.4)
    with pytest.raises(ValueError, match="margin must lie in"):
        ik.sample_size_proportion(0.4, margin=0)
